/* nbshare: see nbshare.h. */
#include "nbshare.h"

#include "be.h"

#include <string.h>

size_t nbshare_capacity(size_t cap)
{
	return cap < NBSHARE_HDR ? 0 : (cap - NBSHARE_HDR) / NBSHARE_ENTRY;
}

size_t nbshare_encode(const char *iface, const struct nb_entry *e, size_t n, uint8_t *buf,
		      size_t cap)
{
	size_t nl = strlen(iface);
	if (nl == 0 || nl >= NBSHARE_IFNAMSIZ || n > 0xffff || n > nbshare_capacity(cap))
		return 0;
	buf[0] = NBSHARE_TYPE;
	buf[1] = 1;
	memset(buf + 2, 0, NBSHARE_IFNAMSIZ);
	memcpy(buf + 2, iface, nl);
	put16(buf + 2 + NBSHARE_IFNAMSIZ, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = buf + NBSHARE_HDR + i * NBSHARE_ENTRY;
		put32(p, e[i].ip);
		memcpy(p + 4, e[i].mac.a, MAC_LEN);
	}
	return NBSHARE_HDR + n * NBSHARE_ENTRY;
}

int nbshare_decode(const uint8_t *buf, size_t len, char iface[NBSHARE_IFNAMSIZ],
		   struct nb_entry *out, size_t cap, size_t *n)
{
	if (len < NBSHARE_HDR || buf[0] != NBSHARE_TYPE || buf[1] != 1)
		return -1;
	const uint8_t *name = buf + 2;
	size_t nl = strnlen((const char *)name, NBSHARE_IFNAMSIZ);
	if (nl == 0 || nl == NBSHARE_IFNAMSIZ)
		return -1;
	for (size_t i = nl; i < NBSHARE_IFNAMSIZ; i++)
		if (name[i] != 0)
			return -1;
	size_t cnt = get16(buf + 2 + NBSHARE_IFNAMSIZ);
	if (len != NBSHARE_HDR + cnt * NBSHARE_ENTRY || cnt > cap)
		return -1;
	for (size_t i = 0; i < cnt; i++) {
		const uint8_t *p = buf + NBSHARE_HDR + i * NBSHARE_ENTRY;
		struct nb_entry e;
		e.ip = get32(p);
		memcpy(e.mac.a, p + 4, MAC_LEN);
		if (e.ip == 0 || (e.mac.a[0] & 1))
			return -1;
		out[i] = e;
	}
	memcpy(iface, name, NBSHARE_IFNAMSIZ);
	*n = cnt;
	return 0;
}
