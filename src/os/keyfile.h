/*
 * keyfile: the cluster's pre-shared key on disk: 64 hex digits (32 bytes)
 * and a newline, in a file only root may read. A cluster key file may hold
 * a second key on the next line: the key the cluster moves to (accepted
 * too, never sent with), for a rotation with no gap (cluster_set_keys).
 */
#ifndef ARPHA_OS_KEYFILE_H
#define ARPHA_OS_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/wire.h"

/*
 * Load the key at path. Refused, with a message in err saying what to do:
 * a file group or others may read or write, a file not owned by root (when
 * we run as root), a symbolic link, or anything but 64 hex digits. 0 or -1.
 */
int keyfile_load(const char *path, struct wire_key *key, struct wire_key *next, bool *has_next,
		 char *err, size_t errlen);
/* The same for the key of flush requests ([Flush] KeyFile=); messages say "flush key". */
int keyfile_load_flush(const char *path, struct wire_key *key, char *err, size_t errlen);

/* `arpha keygen [FILE]`: write a new random key (mode 0600). Exit status. */
int keyfile_generate(const char *path);

#endif
