/*
 * Fuzz the parsers of what other nodes send the failover layer: VIP
 * adverts (core/vip, fed to an instance with two groups, with a clock
 * that moves on) and shared neighbour lists (core/nbshare).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/nbshare.h"
#include "core/vip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vip_group_conf g[2] = {
	    {.name = "outside", .priority = 100, .preempt = true},
	    {.name = "fw", .priority = 50, .preempt = false, .preempt_delay_ms = 30}};
	struct vip_params p = {.self_id = 7, .interval_ms = 20};
	struct vip *v = vip_new(&p, g, 2, 1000);
	if (!v)
		return 0;
	/* the input: records of node (1), length (1), advert bytes */
	uint64_t now = 1000;
	size_t off = 0;
	struct vip_out o;
	while (off + 2 <= size) {
		uint32_t node = data[off];
		size_t len = data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		(void)vip_on_advert(v, node, data + off, len, now, &o);
		now += node & 31;
		vip_tick(v, now, &o);
		uint8_t buf[512];
		(void)vip_advert(v, buf, sizeof(buf));
		off += len;
	}
	vip_free(v);

	char iface[NBSHARE_IFNAMSIZ];
	struct nb_entry e[200];
	size_t n;
	if (nbshare_decode(data, size, iface, e, 200, &n) == 0) {
		uint8_t out[2048];
		size_t len = nbshare_encode(iface, e, n, out, sizeof(out));
		if (len != size || memcmp(out, data, size) != 0)
			__builtin_trap(); /* what decodes must encode back the same */
	}
	return 0;
}
