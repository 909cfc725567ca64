/*
 * argv: a command line split into words as a POSIX shell splits a simple
 * command, without running a shell and without expanding anything. Pure.
 *
 * Blanks (space, tab) separate words. '...' keeps every character up to
 * the next ' literally. "..." keeps every character but a backslash before
 * " \ $ ` (which then stands for that character) and before a newline
 * (which then vanishes). Outside quotes a backslash keeps the next
 * character, whatever it is. Quoted empty strings ('' or "") are words.
 *
 * Characters that would make a shell do more than split words are refused
 * unless quoted, since no shell runs the command: | & ; < > ( ) $ ` and
 * the pattern characters * ? [, and # or ~ at the start of a word.
 */
#ifndef ARPHA_CORE_ARGV_H
#define ARPHA_CORE_ARGV_H

#include <stddef.h>

/*
 * Split s into words. The words are written to buf (buflen bytes; the
 * length of s plus one always suffices), a pointer to each into argv, at
 * most maxargs of them, then a NULL (argv holds maxargs + 1 pointers).
 * Returns the number of words (0 for an empty or blank s), or -1 with a
 * message saying what is wrong and what was expected in err (errlen bytes).
 */
int argv_split(const char *s, char *buf, size_t buflen, char **argv, size_t maxargs, char *err,
	       size_t errlen);

#endif
