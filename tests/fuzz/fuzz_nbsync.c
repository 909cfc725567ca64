/*
 * libFuzzer target for core/nbsync and core/nbtable.
 *
 * The input as one message (an update, a dump's part or a request for a
 * dump). What nbsync_decode accepts must encode back
 * to the same bytes (the format has one encoding; decoded at now =
 * UINT64_MAX no time is clamped), every record must be valid, and every
 * record merges into a small table (Size=4) without a refusal other than
 * ENOSPC; the table must then hold what it says it holds. A refusal must
 * name a known reason.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/nbsync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_table(const struct nbtable *t, uint64_t now)
{
	size_t cur = 0, n = 0;
	const struct nbt_record *e;
	while ((e = nbt_next(t, &cur))) {
		if (!nbt_record_valid(e) || nbt_find(t, e->iface, &e->mac) != e ||
		    e->last_seen > now)
			abort();
		n++;
	}
	if (n != nbt_count(t) || n > 4 || nbt_counters(t)->entries != n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nbt_record out[NBSYNC_MAX_RECORDS];
	static uint8_t buf[WIRE_RB_MAX_DATA + NBSYNC_REC_MAX];
	struct nbsync_hdr h;
	enum nbsync_reason why = NBS__COUNT;
	if (nbsync_decode(data, size, UINT64_MAX, &h, out, NBSYNC_MAX_RECORDS, &why) < 0) {
		if (why >= NBS__COUNT || !strcmp(nbsync_reason_name(why), "?"))
			abort();
		return 0;
	}
	if (h.count > NBSYNC_MAX_RECORDS ||
	    (h.kind != NBSYNC_UPDATE && h.kind != NBSYNC_FULL && h.kind != NBSYNC_REQUEST))
		abort();
	if (h.kind == NBSYNC_REQUEST) { /* no record, a node asked; the same bytes back */
		if (h.count != 0 || h.generation == 0 ||
		    nbsync_begin(&h, buf, sizeof(buf)) != size || memcmp(buf, data, size) != 0)
			abort();
		return 0;
	}
	for (size_t i = 0; i < h.count; i++)
		if (!nbt_record_valid(&out[i]))
			abort();
	/* the same bytes back */
	size_t used;
	size_t len = nbsync_encode(&h, out, h.count, UINT64_MAX, buf, sizeof(buf), &used);
	if (used != h.count || len != size || memcmp(buf, data, size) != 0)
		abort();

	/* into a small table, at a receiver's now taken from the message */
	struct nbt_params p;
	nbt_params_default(&p);
	p.size = 4;
	p.active_timeout_ms = 1000;
	p.self_id = 5;
	struct nbtable *t = nbt_new(&p);
	if (!t)
		return 0;
	uint64_t now = h.generation;
	if (nbsync_decode(data, size, now, &h, out, NBSYNC_MAX_RECORDS, &why) < 0)
		abort(); /* the same message at another now */
	for (size_t i = 0; i < h.count; i++) {
		if (nbt_merge(t, &out[i], 1 + (uint32_t)(i % 3), now) < 0 && errno != ENOSPC &&
		    errno != ENOMEM)
			abort();
		check_table(t, now);
	}
	/* local sightings and identifications on top */
	for (size_t i = 0; i < h.count; i++) {
		const struct nbt_record *e =
		    nbt_seen(t, out[i].iface, &out[i].mac, out[i].ip4[0], now + i, NBT_SRC_ARP);
		if (!e) {
			if (errno != ENOMEM)
				abort();
			continue;
		}
		if (nbt_set_device(t, e, out[i].type, out[i].os, out[i].brand, out[i].confidence) <
			0 ||
		    nbt_set_vendor(t, e, out[i].vendor) < 0)
			abort();
		struct nbt_dhcp d = out[i].dhcp;
		if (!nbt_set_dhcp(t, e->iface, &e->mac, &d, now + i) && errno != ENOMEM)
			abort();
		check_table(t, now + i);
	}
	/* a table of ours encodes and decodes */
	size_t cur = 0;
	struct nbsync_hdr full = {.kind = NBSYNC_FULL, .generation = 1, .last = true};
	len = nbsync_begin(&full, buf, WIRE_RB_MAX_DATA);
	const struct nbt_record *e;
	while ((e = nbt_next(t, &cur)))
		if (nbsync_add(buf, WIRE_RB_MAX_DATA, &len, e, now + h.count) < 0)
			abort();
	if (nbsync_decode(buf, len, now, &h, out, NBSYNC_MAX_RECORDS, &why) < 0)
		abort();
	nbt_free(t);
	return 0;
}
