/*
 * syscheck: the configuration against the system as it is now, for what
 * the pure parser cannot know: whether devices exist, and the networks the
 * interfaces are connected to. Run by `arphad -n` and at start.
 */
#ifndef ARPHA_OS_SYSCHECK_H
#define ARPHA_OS_SYSCHECK_H

#include <stdbool.h>

#include "core/config.h"
#include "os/netlink.h"

/* One finding, about the setting at line of the file; error false: a warning. */
typedef void syscheck_emit(bool error, int line, const char *msg, void *arg);

/*
 * Check cfg with the rtnetlink socket nl:
 * - warnings: an [Interface] Device=, a TrackInterface= or the [Cluster]
 *   Interface= that does not exist now;
 * - errors: a [ProxyARP] Network= that overlaps the connected network of
 *   an interface it is proxied on (arphad would answer for the hosts that
 *   live on that link).
 * Each finding goes to emit. Returns the number of errors.
 */
int syscheck_config(const struct config *cfg, struct nl *nl, syscheck_emit *emit, void *arg);

#endif
