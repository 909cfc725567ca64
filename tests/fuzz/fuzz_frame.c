/*
 * libFuzzer target for core/frame: parse arbitrary bytes; whenever the
 * frame is well formed (FR_OK or a soft reason), build it again and parse
 * the result, which must give the same reason and the same struct.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct arp_frame *a, const struct arp_frame *b)
{
	return mac_eq(&a->eth_dst, &b->eth_dst) && mac_eq(&a->eth_src, &b->eth_src) &&
	       a->vlan == b->vlan && a->op == b->op && mac_eq(&a->sha, &b->sha) &&
	       a->spa == b->spa && mac_eq(&a->tha, &b->tha) && a->tpa == b->tpa;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arp_frame f, g;
	uint8_t buf[FRAME_MAX_LEN];

	enum frame_reason r = frame_parse(data, size, &f);
	if ((unsigned)r >= FR__COUNT)
		abort();
	if (frame_reason_name(r) == NULL)
		abort();
	if (r != FR_OK && r < FR_SOFT_FIRST)
		return 0;
	if (f.vlan > 0x0fff || (f.op != ARP_OP_REQUEST && f.op != ARP_OP_REPLY))
		abort();

	size_t n = frame_build(&f, buf, sizeof(buf));
	if (n != (f.vlan ? 64u : 60u))
		abort();
	if (frame_build(&f, buf, n - 1) != 0)
		abort();
	memset(&g, 0, sizeof(g));
	if (frame_parse(buf, n, &g) != r)
		abort();
	if (!same(&f, &g))
		abort();
	/* the padding is zero */
	for (size_t i = (f.vlan ? 46u : 42u); i < n; i++)
		if (buf[i] != 0)
			abort();
	return 0;
}
