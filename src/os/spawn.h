/*
 * spawn: running a program (the NotifyScript) from arphad so that it gets
 * nothing of arphad but what it needs: only stdin (/dev/null), stdout and
 * stderr, default scheduling, default signal handling, a process group of
 * its own (so a timeout ends everything it started); and the descriptors of
 * arphad kept from every program it runs, above all the netlink socket
 * that owns the nftables guard table (a process holding it keeps the
 * kernel's ARP input switched off after arphad is gone).
 */
#ifndef ARPHA_OS_SPAWN_H
#define ARPHA_OS_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/*
 * At start, before anything is opened: close every descriptor above
 * stderr that arphad inherited, and open /dev/null on any of 0, 1, 2 that
 * is closed (so no socket of ours becomes someone's stdout).
 */
void spawn_close_inherited(void);

/*
 * Mark every open descriptor above stderr close-on-exec, also those a
 * library opened without O_CLOEXEC (libnftables' netlink socket).
 * 0, or -1 with errno.
 */
int spawn_cloexec_all(void);

/*
 * Whether path is safe for root to run, as keepalived's script security
 * judges it: it exists, is a regular executable file owned by root and
 * not writable by group or others, and every directory above it (as
 * written and after symbolic links are resolved) is owned by root and not
 * writable by group or others (a sticky directory such as /tmp is not
 * safe either). 0, or -1 with what is wrong and how to fix it in err.
 */
int spawn_check(const char *path, char *err, size_t errlen);

/*
 * Start argv[0] (an absolute path; no shell, no PATH search) with argv and
 * arphad's environment: stdin /dev/null, stdout and stderr as arphad's,
 * every other descriptor closed, SCHED_OTHER, every signal at its default
 * and none blocked, in a new process group whose id is the child's pid.
 * Returns the pid, or -1 with errno (the program could not be run).
 */
pid_t spawn_run(char *const argv[]);

/* SIGKILL to the process group of a child spawn_run started. 0 or -1/errno. */
int spawn_kill_group(pid_t pid);

#endif
