/*
 * Fuzz the parser of what other nodes send the failover layer: VIP
 * adverts (core/vip, fed to an instance with two groups, with a clock
 * that moves on). The neighbours they share are core/nbsync's (fuzz_nbsync).
 */
#include <stddef.h>
#include <stdint.h>

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
	return 0;
}
