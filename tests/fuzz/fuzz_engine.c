/*
 * libFuzzer target for the whole frame path: the first bytes pick a policy,
 * the rest is a sequence of frames (incoming, outgoing, other host) and
 * queries of our own, with time passing between them. Every frame the
 * engine sends must parse, and nothing it installs may be a group MAC
 * unless the policy accepts it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arp_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pick(const struct arp_setting_desc *d, uint8_t b)
{
	uint8_t allowed[AV__COUNT];
	size_t n = 0;
	for (int v = 0; v < AV__COUNT; v++)
		if (d->allowed & AVM(v))
			allowed[n++] = (uint8_t)v;
	return allowed[b % n];
}

/*
 * A query of our own (arp_engine_note_query): the target from the first
 * bytes (mostly on the interface's network), sent to the MAC in the next
 * six or broadcast. It may only evict, and fail as its header says.
 */
static void note_query(struct arp_engine *e, const uint8_t *d, size_t len, uint64_t now,
		       struct actions *out)
{
	if (len < 4)
		return;
	uint32_t ip = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	if (d[0] < 0xc0)
		ip = 0xc6120000 | d[3]; /* 198.18.0.x */
	struct mac to;
	if (len >= 10)
		memcpy(to.a, d + 4, MAC_LEN);
	size_t before = out->n;
	errno = 0;
	int rc = arp_engine_note_query(e, 1, ip, len >= 10 ? &to : NULL, now, out);
	if (rc == -1 && errno != EINVAL && errno != ENOSPC && errno != ENOMEM)
		abort();
	for (size_t k = before; k < out->n; k++)
		if (out->v[k].type != ACT_NEIGH_DEL)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	size_t i = 0;
	for (const struct arp_setting_desc *d = arp_settings; d->name; d++) {
		if (!d->is_enum || i >= size)
			continue;
		*((uint8_t *)&p + d->offset) = pick(d, data[i++]);
	}
	p.cache_size = 64;
	p.hash_size = 16;
	p.expire_s = 2;
	p.expire_unknown_s = 1;
	if (i < size)
		p.rate_limit = data[i++] % 4 == 0 ? 5 : 0;

	struct arp_engine *e = arp_engine_new(&p);
	if (!e)
		return 0;
	struct actions out;
	actions_init(&out);
	const struct mac m = {{0x02, 0, 0, 0, 0, 1}};
	const struct mac pub = {{0x02, 0, 0, 0, 0, 2}};
	arp_engine_iface_add(e, 1, "fz", &m, false);
	struct ip4_prefix a = {0xc6120001, 24}; /* 198.18.0.1/24 */
	arp_engine_iface_set_addrs(e, 1, &a, 1);
	arp_engine_add_entry(e, 1, 0xc6120014, ARP_STATIC, &pub, &out);
	arp_engine_add_entry(e, 1, 0xc612001e, ARP_XPUBLISH, &pub, &out);
	struct ip4_prefix net = {0xc6120500, 24};
	arp_engine_add_proxy(e, 1, &net);

	uint64_t now = 1000;
	while (i + 2 <= size) {
		uint8_t ctl = data[i];
		size_t len = data[i + 1] % 72;
		i += 2;
		if (len > size - i)
			len = size - i;
		now += (uint64_t)(ctl >> 3) * 97;
		actions_reset(&out);
		enum arp_rx_dir dir = (ctl & 1) ? ARP_RX_OUT : ARP_RX_IN;
		if (!(ctl & 1) && (ctl & 6) == 6)
			dir = ARP_RX_IN_OTHERHOST;
		if ((ctl & 7) == 7)
			note_query(e, data + i, len, now, &out);
		else
			arp_engine_input(e, 1, data + i, len, dir, now, &out);
		i += len;
		arp_engine_tick(e, now, &out);
		if (ctl & 0x80)
			arp_engine_flush(e, 0, now, &out);
		for (size_t k = 0; k < out.n; k++) {
			struct arp_frame f;
			if (out.v[k].type == ACT_SEND &&
			    frame_parse(out.v[k].u.frame.buf, out.v[k].u.frame.len, &f) != FR_OK)
				abort();
			if (out.v[k].type == ACT_NEIGH_SET) {
				const struct mac *mm = &out.v[k].u.neigh.mac;
				if (mac_is_multicast(mm) && arp_value_drops(p.multicast))
					abort();
				if (mac_is_broadcast(mm) && arp_value_drops(p.broadcast))
					abort();
			}
		}
	}
	actions_free(&out);
	arp_engine_free(e);
	return 0;
}
