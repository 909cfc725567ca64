/*
 * show: the engine's state as people read it (aligned tables) or as
 * scripts read it (JSON).
 */
#ifndef ARPHA_OS_SHOW_H
#define ARPHA_OS_SHOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arp_engine.h"
#include "os/util.h"

/* `arpha arp show [IFACE]`; iface NULL for every interface. */
void show_arp(struct sbuf *b, struct arp_engine *e, const char *iface, bool json, uint64_t now);
/* `arpha stats`. */
void show_stats(struct sbuf *b, struct arp_engine *e, bool json);

#endif
