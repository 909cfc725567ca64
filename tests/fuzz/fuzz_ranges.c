/*
 * Fuzz the decoder of the responsible ranges' state (core/ranges), alone
 * and fed to an instance of 1024 buckets with a clock that moves on and
 * nodes that come and go; what decodes must encode back the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/ranges.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ranges_state st;
	if (ranges_decode(data, size, 1024, &st) == RGR_OK) {
		uint8_t out[RANGES_STATE_MAX];
		size_t len = ranges_encode(&st, out, sizeof(out));
		if (len != size || memcmp(out, data, size) != 0)
			__builtin_trap();
	}
	struct ranges_params p = {.self_id = 7,
				  .incarnation = 1,
				  .buckets = 1024,
				  .weight = 1,
				  .interval_ms = 20,
				  .dead_count = 3};
	struct ranges *r = ranges_new(&p, 1000);
	if (!r)
		return 0;
	struct ranges_actions a;
	ranges_actions_init(&a);
	/* the input: records of node (1), what (1), length (2), state bytes */
	uint64_t now = 1000;
	size_t off = 0;
	while (off + 4 <= size) {
		uint32_t node = data[off] & 15;
		uint8_t what = data[off + 1];
		size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
		off += 4;
		if (len > size - off)
			len = size - off;
		switch (what & 3) {
		case 0:
			(void)ranges_on_state(r, node, data + off, len, now, &a);
			break;
		case 1:
			ranges_node_up(r, node, now, &a);
			break;
		case 2:
			ranges_node_down(r, node, now, &a);
			break;
		default:
			ranges_set_link(r, what & 4, now, &a);
			break;
		}
		now += what >> 3;
		ranges_tick(r, now, &a);
		uint8_t buf[RANGES_STATE_MAX];
		(void)ranges_state_blob(r, buf, sizeof(buf));
		struct ranges_view v;
		ranges_view(r, &v);
		ranges_actions_reset(&a);
		off += len;
	}
	ranges_actions_free(&a);
	ranges_free(r);
	return 0;
}
