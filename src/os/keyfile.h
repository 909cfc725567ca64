/*
 * keyfile: the cluster's pre-shared key on disk: 64 hex digits (32 bytes)
 * and a newline, in a file only root may read.
 */
#ifndef ARPHA_OS_KEYFILE_H
#define ARPHA_OS_KEYFILE_H

#include <stddef.h>

#include "core/wire.h"

/*
 * Load the key at path. Refused, with a message in err saying what to do:
 * a file group or others may read or write, a file not owned by root (when
 * we run as root), a symbolic link, or anything but 64 hex digits. 0 or -1.
 */
int keyfile_load(const char *path, struct wire_key *key, char *err, size_t errlen);
/* The same for the key of flush requests ([Flush] KeyFile=); messages say "flush key". */
int keyfile_load_flush(const char *path, struct wire_key *key, char *err, size_t errlen);

/* `arpha keygen [FILE]`: write a new random key (mode 0600). Exit status. */
int keyfile_generate(const char *path);

#endif
