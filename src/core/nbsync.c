/* nbsync: see nbsync.h for the message format. */
#include "nbsync.h"

#include "be.h"

#include <errno.h>
#include <string.h>

static const char *const reason_names[NBS__COUNT] = {
    [NBS_SHORT] = "short",	   [NBS_TYPE] = "type",
    [NBS_VERSION] = "version",	   [NBS_KIND] = "kind",
    [NBS_TRUNCATED] = "truncated", [NBS_COUNT] = "count",
    [NBS_STRING] = "string",	   [NBS_MAC] = "mac",
    [NBS_FIELD] = "field",
};

const char *nbsync_reason_name(unsigned why)
{
	return why < NBS__COUNT ? reason_names[why] : "?";
}

static bool hdr_ok(const struct nbsync_hdr *h)
{
	if (h->kind == NBSYNC_UPDATE)
		return !h->last && h->generation == 0 && h->part == 0;
	if (h->kind == NBSYNC_REQUEST)
		return !h->last && h->generation != 0 && h->part == 0;
	return h->kind == NBSYNC_FULL && h->generation != 0;
}

/* ---- encoding ---- */

size_t nbsync_rec_size(const struct nbt_record *r)
{
	return 1 + strnlen(r->iface, NBT_IFNAMSIZ) + MAC_LEN + 1 + 4 + 16 + 1 + 1 +
	       4 * (size_t)(r->n_ip4 <= NBT_MAX_IP4 ? r->n_ip4 : NBT_MAX_IP4) + 9 +
	       strnlen(r->vendor, sizeof(r->vendor)) +
	       strnlen(r->dhcp.hostname, sizeof(r->dhcp.hostname)) +
	       strnlen(r->dhcp.fqdn, sizeof(r->dhcp.fqdn)) +
	       strnlen(r->dhcp.vendor_class, sizeof(r->dhcp.vendor_class)) +
	       (r->dhcp.prl_len <= NBT_PRL_MAX ? r->dhcp.prl_len : NBT_PRL_MAX) +
	       (r->dhcp.client_id_len <= NBT_CLIENT_ID_MAX ? r->dhcp.client_id_len
							   : NBT_CLIENT_ID_MAX) +
	       strnlen(r->type, sizeof(r->type)) + strnlen(r->os, sizeof(r->os)) +
	       strnlen(r->brand, sizeof(r->brand));
}

size_t nbsync_begin(const struct nbsync_hdr *h, uint8_t *buf, size_t cap)
{
	if (cap < NBSYNC_HDR || !hdr_ok(h))
		return 0;
	buf[0] = NBSYNC_TYPE;
	buf[1] = NBSYNC_VERSION;
	buf[2] = h->kind;
	buf[3] = h->last ? NBSYNC_F_LAST : 0;
	put32(buf + 4, h->generation);
	put16(buf + 8, h->part);
	put16(buf + 10, 0);
	return NBSYNC_HDR;
}

void nbsync_set_last(uint8_t *buf, size_t len, bool last)
{
	if (len >= NBSYNC_HDR && buf[2] == NBSYNC_FULL)
		buf[3] = last ? NBSYNC_F_LAST : 0;
}

static uint8_t *put_bytes(uint8_t *p, const void *s, size_t l)
{
	*p++ = (uint8_t)l;
	memcpy(p, s, l);
	return p + l;
}

static uint8_t *put_str(uint8_t *p, const char *s, size_t size)
{
	return put_bytes(p, s, strnlen(s, size));
}

static uint64_t ago(uint64_t t, uint64_t now)
{
	return t < now ? now - t : 0;
}

int nbsync_add(uint8_t *buf, size_t cap, size_t *len, const struct nbt_record *r, uint64_t now)
{
	if (!nbt_record_valid(r)) {
		errno = EINVAL;
		return -1;
	}
	size_t need = nbsync_rec_size(r);
	if (*len < NBSYNC_HDR || *len > cap || cap - *len < need)
		return 0;
	uint16_t count = get16(buf + 10);
	if (count == UINT16_MAX)
		return 0;
	uint8_t *p = buf + *len;
	p = put_str(p, r->iface, sizeof(r->iface));
	memcpy(p, r->mac.a, MAC_LEN);
	p += MAC_LEN;
	*p++ = r->sources;
	put32(p, r->node);
	put64(p + 4, ago(r->last_seen, now));
	put64(p + 12, ago(r->first_seen, now));
	p += 20;
	*p++ = r->confidence;
	*p++ = r->n_ip4;
	for (unsigned i = 0; i < r->n_ip4; i++, p += 4)
		put32(p, r->ip4[i]);
	p = put_str(p, r->vendor, sizeof(r->vendor));
	p = put_str(p, r->dhcp.hostname, sizeof(r->dhcp.hostname));
	p = put_str(p, r->dhcp.fqdn, sizeof(r->dhcp.fqdn));
	p = put_str(p, r->dhcp.vendor_class, sizeof(r->dhcp.vendor_class));
	p = put_bytes(p, r->dhcp.prl, r->dhcp.prl_len);
	p = put_bytes(p, r->dhcp.client_id, r->dhcp.client_id_len);
	p = put_str(p, r->type, sizeof(r->type));
	p = put_str(p, r->os, sizeof(r->os));
	p = put_str(p, r->brand, sizeof(r->brand));
	*len = (size_t)(p - buf);
	put16(buf + 10, (uint16_t)(count + 1));
	return 1;
}

size_t nbsync_encode(const struct nbsync_hdr *h, const struct nbt_record *r, size_t n, uint64_t now,
		     uint8_t *buf, size_t cap, size_t *used)
{
	*used = 0;
	if (!hdr_ok(h)) {
		errno = EINVAL;
		return 0;
	}
	size_t len = nbsync_begin(h, buf, cap);
	if (len == 0) {
		errno = ENOSPC;
		return 0;
	}
	size_t i = 0;
	for (; i < n; i++) {
		int rc = nbsync_add(buf, cap, &len, &r[i], now);
		if (rc <= 0)
			break;
	}
	*used = i;
	if (i < n)
		nbsync_set_last(buf, len, false);
	if (i == 0 && (n > 0 || h->kind == NBSYNC_UPDATE)) {
		if (n == 0 || !nbt_record_valid(&r[0])) {
			errno = EINVAL;
			return 0;
		}
		errno = ENOSPC;
		return 0;
	}
	return len;
}

/* ---- decoding ---- */

struct rd {
	const uint8_t *p, *end;
};

static bool take(struct rd *d, void *out, size_t n)
{
	if ((size_t)(d->end - d->p) < n)
		return false;
	memcpy(out, d->p, n);
	d->p += n;
	return true;
}

static bool text_bytes(const uint8_t *s, size_t l)
{
	for (size_t i = 0; i < l; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* A string into dst (size bytes, NUL padded): 0, or the reason. */
static int get_str(struct rd *d, char *dst, size_t size, bool nonempty)
{
	uint8_t l;
	if (!take(d, &l, 1))
		return NBS_TRUNCATED;
	if ((size_t)(d->end - d->p) < l)
		return NBS_TRUNCATED;
	if (l >= size || (nonempty && l == 0) || !text_bytes(d->p, l))
		return NBS_STRING;
	memset(dst, 0, size);
	take(d, dst, l);
	return 0;
}

static int get_bytes(struct rd *d, uint8_t *dst, uint8_t *dlen, size_t max)
{
	uint8_t l;
	if (!take(d, &l, 1))
		return NBS_TRUNCATED;
	if ((size_t)(d->end - d->p) < l)
		return NBS_TRUNCATED;
	if (l > max)
		return NBS_FIELD;
	take(d, dst, l);
	*dlen = l;
	return 0;
}

static uint64_t timeline(uint64_t ms_ago, uint64_t now)
{
	return ms_ago < now ? now - ms_ago : 0;
}

static int get_rec(struct rd *d, uint64_t now, struct nbt_record *r)
{
	int rc;
	uint8_t fix[1 + 4 + 16 + 1 + 1];
	memset(r, 0, sizeof(*r));
	if ((rc = get_str(d, r->iface, sizeof(r->iface), true)))
		return rc;
	if (!take(d, r->mac.a, MAC_LEN) || !take(d, fix, sizeof(fix)))
		return NBS_TRUNCATED;
	if ((r->mac.a[0] & 1) || mac_is_zero(&r->mac))
		return NBS_MAC;
	r->sources = fix[0];
	r->node = get32(fix + 1);
	uint64_t last_ago = get64(fix + 5), first_ago = get64(fix + 13);
	r->confidence = fix[21];
	r->n_ip4 = fix[22];
	if ((r->sources & ~NBT_SRC_ALL) || r->confidence > 100 || r->n_ip4 > NBT_MAX_IP4 ||
	    first_ago < last_ago)
		return NBS_FIELD;
	r->last_seen = timeline(last_ago, now);
	r->first_seen = timeline(first_ago, now);
	for (unsigned i = 0; i < r->n_ip4; i++) {
		uint8_t a[4];
		if (!take(d, a, 4))
			return NBS_TRUNCATED;
		r->ip4[i] = get32(a);
		if (r->ip4[i] == 0)
			return NBS_FIELD;
		for (unsigned j = 0; j < i; j++)
			if (r->ip4[j] == r->ip4[i])
				return NBS_FIELD;
	}
	if ((rc = get_str(d, r->vendor, sizeof(r->vendor), false)) ||
	    (rc = get_str(d, r->dhcp.hostname, sizeof(r->dhcp.hostname), false)) ||
	    (rc = get_str(d, r->dhcp.fqdn, sizeof(r->dhcp.fqdn), false)) ||
	    (rc = get_str(d, r->dhcp.vendor_class, sizeof(r->dhcp.vendor_class), false)) ||
	    (rc = get_bytes(d, r->dhcp.prl, &r->dhcp.prl_len, NBT_PRL_MAX)) ||
	    (rc = get_bytes(d, r->dhcp.client_id, &r->dhcp.client_id_len, NBT_CLIENT_ID_MAX)) ||
	    (rc = get_str(d, r->type, sizeof(r->type), false)) ||
	    (rc = get_str(d, r->os, sizeof(r->os), false)) ||
	    (rc = get_str(d, r->brand, sizeof(r->brand), false)))
		return rc;
	return 0;
}

static int refuse(enum nbsync_reason *why, int reason)
{
	*why = (enum nbsync_reason)reason;
	return -1;
}

int nbsync_decode(const uint8_t *buf, size_t len, uint64_t now, struct nbsync_hdr *h,
		  struct nbt_record *out, size_t cap, enum nbsync_reason *why)
{
	if (len < NBSYNC_HDR)
		return refuse(why, NBS_SHORT);
	if (buf[0] != NBSYNC_TYPE)
		return refuse(why, NBS_TYPE);
	if (buf[1] != NBSYNC_VERSION)
		return refuse(why, NBS_VERSION);
	memset(h, 0, sizeof(*h));
	h->kind = buf[2];
	if (buf[3] & ~NBSYNC_F_LAST)
		return refuse(why, NBS_KIND);
	h->last = buf[3] & NBSYNC_F_LAST;
	h->generation = get32(buf + 4);
	h->part = get16(buf + 8);
	h->count = get16(buf + 10);
	if (!hdr_ok(h))
		return refuse(why, NBS_KIND);
	if (h->count > cap || (h->kind == NBSYNC_UPDATE && h->count == 0) ||
	    (h->kind == NBSYNC_REQUEST && h->count != 0))
		return refuse(why, NBS_COUNT);
	struct rd d = {buf + NBSYNC_HDR, buf + len};
	for (size_t i = 0; i < h->count; i++) {
		if (d.p == d.end)
			return refuse(why, NBS_COUNT);
		int rc = get_rec(&d, now, &out[i]);
		if (rc)
			return refuse(why, rc);
		/* every field is checked above; this one says so to the table */
		if (!nbt_record_valid(&out[i]))
			return refuse(why, NBS_FIELD);
	}
	if (d.p != d.end)
		return refuse(why, NBS_COUNT);
	return 0;
}
