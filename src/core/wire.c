/*
 * wire: the datagram codec and its authentication (see wire.h for the
 * layout). Every integer is read and written big-endian with explicit
 * shifts; nothing is cast onto the buffers.
 *
 * Choices the header leaves open:
 * - seq 0 is never sent (wire_seal starts at 1), so an authentic datagram
 *   carrying it is refused as WR_REPLAY, before any peer slot is taken:
 *   it is "behind" every window.
 * - The replay window of a sender holds its highest seq and the
 *   WIRE_REPLAY_WINDOW seqs ending there (bit i is seq highest - i, bit 0
 *   the highest itself), so seq <= highest - WIRE_REPLAY_WINDOW is refused.
 * - wire_open refuses a payload longer than the caller's cap as
 *   WR_OVERSIZED (a cap of WIRE_MAX_PAYLOAD never does), and leaves no
 *   plaintext of a refused datagram in plain.
 * - wire_seal also returns 0 when the sender's sequence numbers are spent
 *   (next_seq wrapped to 0): the nonce must not repeat.
 * - wire_put_* refuse a value no datagram could carry (a heartbeat with
 *   n_known > WIRE_MAX_PEERS, data longer than WIRE_RB_MAX_DATA, a state
 *   on channel 0 or past WIRE_STATE_MAX) with -1 and do not set overflow:
 *   a fresh writer would not help.
 */
#include "core/wire.h"

#include "be.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_LEN    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define WINDOW_WORDS (WIRE_REPLAY_WINDOW / 64)

_Static_assert(NONCE_LEN == 24, "XChaCha20 nonce is 24 bytes");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == WIRE_TAG_LEN, "tag length");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == WIRE_KEY_LEN, "key length");
_Static_assert(WIRE_REPLAY_WINDOW % 64 == 0, "window is whole words");

#define HB_FIXED   14 /* interval_ms (4), rb_next (8), n (2) */
#define STATE_CHAN 1  /* the channel byte before a state's data */

_Static_assert(WIRE_HEARTBEAT_MAX_TLV == 3 + HB_FIXED + 4 * WIRE_MAX_PEERS, "largest heartbeat");
_Static_assert(WIRE_STATE_TLV_LEN(WIRE_STATE_MAX) <= WIRE_STATE_ROOM,
	       "the largest state fits one datagram beside the largest heartbeat");
#define NAK_LEN	   20
#define GONE_LEN   12
#define DATA_FIXED 8

/* ---- byte order ---- */

/* sender(4) epoch(8) seq(8) zero(4) */
static void make_nonce(uint8_t nonce[NONCE_LEN], uint32_t sender, uint64_t epoch, uint64_t seq)
{
	put32(nonce, sender);
	put64(nonce + 4, epoch);
	put64(nonce + 12, seq);
	put32(nonce + 20, 0);
}

/* ---- sending ---- */

void wire_sender_init(struct wire_sender *s, uint32_t node_id, uint64_t epoch,
		      const struct wire_key *key, bool encrypt)
{
	memset(s, 0, sizeof(*s));
	s->node_id = node_id;
	s->epoch = epoch;
	s->next_seq = 1;
	s->encrypt = encrypt;
	s->key = *key;
}

size_t wire_seal(struct wire_sender *s, const uint8_t *payload, size_t len, uint8_t *buf,
		 size_t cap)
{
	uint8_t nonce[NONCE_LEN];
	size_t total = WIRE_HDR_LEN + len + WIRE_TAG_LEN;
	uint64_t seq = s->next_seq;

	if (len > WIRE_MAX_PAYLOAD || cap < total || seq == 0)
		return 0;

	buf[0] = 'A';
	buf[1] = 'H';
	buf[2] = WIRE_VERSION;
	buf[3] = s->encrypt ? WIRE_F_ENCRYPTED : 0;
	put32(buf + 4, s->node_id);
	put64(buf + 8, s->epoch);
	put64(buf + 16, seq);
	put16(buf + 24, (uint16_t)len);
	put16(buf + 26, 0);
	make_nonce(nonce, s->node_id, s->epoch, seq);

	uint8_t *body = buf + WIRE_HDR_LEN, *tag = body + len;
	if (s->encrypt) {
		/* an empty payload has no bytes to read: give libsodium a real pointer */
		const uint8_t *m = len ? payload : body;
		crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
		    body, tag, NULL, m, len, buf, WIRE_HDR_LEN, NULL, nonce, s->key.k);
	} else {
		uint8_t none = 0;
		if (len)
			memmove(body, payload, len);
		crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
		    &none, tag, NULL, &none, 0, buf, WIRE_HDR_LEN + len, NULL, nonce, s->key.k);
	}
	sodium_memzero(nonce, sizeof(nonce));
	s->next_seq = seq + 1;
	return total;
}

/* ---- receiving ---- */

struct peer {
	uint32_t id;
	uint64_t epoch;
	uint64_t highest;	     /* the highest seq accepted in epoch */
	uint64_t seen[WINDOW_WORDS]; /* bit i: seq highest - i was accepted */
};

struct wire_receiver {
	uint32_t self_id;
	struct wire_key key;
	struct wire_key next; /* with has_next: the key the cluster moves to */
	bool has_next;
	uint64_t next_opens;
	size_t n_peers;
	struct peer peers[WIRE_MAX_PEERS];
};

static const char *const reason_names[WR__COUNT] = {
    [WR_OK] = "ok",
    [WR_TRUNCATED] = "truncated",
    [WR_BAD_MAGIC] = "bad_magic",
    [WR_BAD_VERSION] = "bad_version",
    [WR_BAD_FLAGS] = "bad_flags",
    [WR_OVERSIZED] = "oversized",
    [WR_TRAILING] = "trailing",
    [WR_BAD_AUTH] = "bad_auth",
    [WR_OWN] = "own",
    [WR_OLD_EPOCH] = "old_epoch",
    [WR_REPLAY] = "replay",
    [WR_TOO_MANY_PEERS] = "too_many_peers",
};

const char *wire_reason_name(enum wire_reason r)
{
	if ((unsigned)r >= WR__COUNT)
		return "unknown";
	return reason_names[r];
}

struct wire_receiver *wire_receiver_new(uint32_t self_id, const struct wire_key *key)
{
	struct wire_receiver *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->self_id = self_id;
	r->key = *key;
	return r;
}

void wire_receiver_set_keys(struct wire_receiver *r, const struct wire_key *key,
			    const struct wire_key *next)
{
	r->key = *key;
	r->has_next = next != NULL;
	if (next)
		r->next = *next;
	else
		sodium_memzero(&r->next, sizeof(r->next));
}

uint64_t wire_receiver_next_key_opens(const struct wire_receiver *r)
{
	return r->next_opens;
}

void wire_receiver_free(struct wire_receiver *r)
{
	if (r == NULL)
		return;
	sodium_memzero(r, sizeof(*r));
	free(r);
}

static bool seen_test(const struct peer *p, uint64_t d)
{
	return (p->seen[d / 64] >> (d % 64)) & 1;
}

static void seen_set(struct peer *p, uint64_t d)
{
	p->seen[d / 64] |= (uint64_t)1 << (d % 64);
}

static void window_reset(struct peer *p, uint64_t seq)
{
	memset(p->seen, 0, sizeof(p->seen));
	p->highest = seq;
	seen_set(p, 0);
}

/* seq > p->highest: slide the window up so bit 0 is seq. */
static void window_advance(struct peer *p, uint64_t seq)
{
	uint64_t shift = seq - p->highest;

	if (shift >= WIRE_REPLAY_WINDOW) {
		window_reset(p, seq);
		return;
	}
	size_t ws = (size_t)(shift / 64);
	unsigned bs = (unsigned)(shift % 64);
	for (size_t k = WINDOW_WORDS; k-- > 0;) {
		uint64_t v = 0;
		if (k >= ws) {
			v = p->seen[k - ws] << bs;
			if (bs != 0 && k > ws)
				v |= p->seen[k - ws - 1] >> (64 - bs);
		}
		p->seen[k] = v;
	}
	p->highest = seq;
	seen_set(p, 0);
}

/* Header checks, before any cryptography. */
static enum wire_reason check_header(const uint8_t *buf, size_t len)
{
	if (len > WIRE_MAX_DATAGRAM)
		return WR_OVERSIZED;
	if (len < WIRE_HDR_LEN + WIRE_TAG_LEN)
		return WR_TRUNCATED;
	if (buf[0] != 'A' || buf[1] != 'H')
		return WR_BAD_MAGIC;
	if (buf[2] != WIRE_VERSION)
		return WR_BAD_VERSION;
	if ((buf[3] & ~WIRE_F_ENCRYPTED) != 0 || get16(buf + 26) != 0)
		return WR_BAD_FLAGS;
	size_t plen = get16(buf + 24);
	if (plen > WIRE_MAX_PAYLOAD)
		return WR_OVERSIZED;
	if (len < WIRE_HDR_LEN + plen + WIRE_TAG_LEN)
		return WR_TRUNCATED;
	if (len > WIRE_HDR_LEN + plen + WIRE_TAG_LEN)
		return WR_TRAILING;
	return WR_OK;
}

/*
 * An authentic datagram from sender: own ID, seq 0, the peers table, the
 * epoch and the replay window. r changes only when it returns WR_OK.
 */
static enum wire_reason admit(struct wire_receiver *r, uint32_t sender, uint64_t epoch,
			      uint64_t seq)
{
	if (sender == r->self_id)
		return WR_OWN;
	if (seq == 0)
		return WR_REPLAY;

	/* work on a copy: r changes only when the datagram is accepted */
	struct peer *slot = NULL, p;
	for (size_t i = 0; i < r->n_peers; i++) {
		if (r->peers[i].id == sender) {
			slot = &r->peers[i];
			break;
		}
	}
	if (slot != NULL) {
		p = *slot;
		if (epoch < p.epoch)
			return WR_OLD_EPOCH;
		if (epoch > p.epoch) {
			p.epoch = epoch;
			window_reset(&p, seq);
		} else if (seq > p.highest) {
			window_advance(&p, seq);
		} else {
			uint64_t d = p.highest - seq;
			if (d >= WIRE_REPLAY_WINDOW || seen_test(&p, d))
				return WR_REPLAY;
			seen_set(&p, d);
		}
	} else {
		if (r->n_peers >= WIRE_MAX_PEERS)
			return WR_TOO_MANY_PEERS;
		memset(&p, 0, sizeof(p));
		p.id = sender;
		p.epoch = epoch;
		window_reset(&p, seq);
		slot = &r->peers[r->n_peers++];
	}
	*slot = p;
	return WR_OK;
}

enum wire_reason wire_open(struct wire_receiver *r, const uint8_t *buf, size_t len,
			   struct wire_msg *out, uint8_t *plain, size_t cap)
{
	enum wire_reason why = check_header(buf, len);
	if (why != WR_OK)
		return why;

	bool encrypted = (buf[3] & WIRE_F_ENCRYPTED) != 0;
	uint32_t sender = get32(buf + 4);
	uint64_t epoch = get64(buf + 8), seq = get64(buf + 16);
	size_t plen = get16(buf + 24);
	const uint8_t *body = buf + WIRE_HDR_LEN, *tag = body + plen;
	uint8_t nonce[NONCE_LEN], none = 0;
	int bad;

	if (plen > cap)
		return WR_OVERSIZED;

	/* the tag, before anything from the header is believed: with our key, then the next */
	make_nonce(nonce, sender, epoch, seq);
	bad = 1;
	for (int k = 0; bad && k < (r->has_next ? 2 : 1); k++) {
		const uint8_t *key = k ? r->next.k : r->key.k;
		if (encrypted) {
			bad = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
			    plen ? plain : &none, NULL, plen ? body : &none, plen, tag, buf,
			    WIRE_HDR_LEN, nonce, key);
		} else {
			/* nothing to decrypt: the tag covers header and clear payload */
			bad = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
			    &none, NULL, &none, 0, tag, buf, WIRE_HDR_LEN + plen, nonce, key);
		}
		if (!bad && k)
			r->next_opens++;
	}
	if (bad)
		return WR_BAD_AUTH;

	why = admit(r, sender, epoch, seq);
	if (why != WR_OK) {
		if (encrypted && plen)
			sodium_memzero(plain, plen);
		if (why == WR_OWN) {
			/* authentic: the caller tells our own from a second node's */
			out->sender = sender;
			out->epoch = epoch;
			out->seq = seq;
			out->encrypted = encrypted;
			out->len = 0;
		}
		return why;
	}

	if (!encrypted && plen)
		memcpy(plain, body, plen);
	out->sender = sender;
	out->epoch = epoch;
	out->seq = seq;
	out->encrypted = encrypted;
	out->len = plen;
	return WR_OK;
}

/* ---- payload TLVs ---- */

void tlv_writer_init(struct tlv_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
}

int tlv_next(const uint8_t *p, size_t len, size_t *off, struct tlv *t)
{
	size_t o = *off;

	if (o == len)
		return 0;
	if (o > len || len - o < 3)
		return -1;
	uint16_t l = get16(p + o + 1);
	if (l > len - o - 3)
		return -1;
	t->type = p[o];
	t->len = l;
	t->v = p + o + 3;
	*off = o + 3 + l;
	return 1;
}

/* Room for a TLV of vlen value bytes: its value, or NULL with overflow set. */
static uint8_t *tlv_begin(struct tlv_writer *w, uint8_t type, size_t vlen)
{
	if (vlen > UINT16_MAX || w->len > w->cap || w->cap - w->len < 3 + vlen) {
		w->overflow = true;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	p[0] = type;
	put16(p + 1, (uint16_t)vlen);
	w->len += 3 + vlen;
	return p + 3;
}

int wire_put_heartbeat(struct tlv_writer *w, const struct wire_heartbeat *hb)
{
	if (hb->n_known > WIRE_MAX_PEERS)
		return -1;
	uint8_t *v = tlv_begin(w, TLV_HEARTBEAT, HB_FIXED + 4 * (size_t)hb->n_known);
	if (v == NULL)
		return -1;
	put32(v, hb->interval_ms);
	put64(v + 4, hb->rb_next);
	put16(v + 12, hb->n_known);
	for (size_t i = 0; i < hb->n_known; i++)
		put32(v + HB_FIXED + 4 * i, hb->known[i]);
	return 0;
}

int wire_put_rb_data(struct tlv_writer *w, const struct wire_rb_data *d)
{
	if (d->len > WIRE_RB_MAX_DATA)
		return -1;
	uint8_t *v = tlv_begin(w, TLV_RB_DATA, DATA_FIXED + d->len);
	if (v == NULL)
		return -1;
	put64(v, d->seq);
	if (d->len)
		memcpy(v + DATA_FIXED, d->data, d->len);
	return 0;
}

int wire_put_rb_nak(struct tlv_writer *w, const struct wire_rb_nak *n)
{
	uint8_t *v = tlv_begin(w, TLV_RB_NAK, NAK_LEN);
	if (v == NULL)
		return -1;
	put32(v, n->origin);
	put64(v + 4, n->first);
	put64(v + 12, n->last);
	return 0;
}

int wire_put_rb_gone(struct tlv_writer *w, const struct wire_rb_gone *g)
{
	uint8_t *v = tlv_begin(w, TLV_RB_GONE, GONE_LEN);
	if (v == NULL)
		return -1;
	put32(v, g->origin);
	put64(v + 4, g->oldest);
	return 0;
}

static const char *const state_reason_names[WS__COUNT] = {
    [WS_OK] = "ok",
    [WS_NO_CHANNEL] = "no_channel",
    [WS_BAD_CHANNEL] = "bad_channel",
    [WS_OVERSIZED] = "oversized",
    [WS_DUPLICATE] = "duplicate",
    [WS_TOO_MANY] = "too_many",
};

const char *wire_state_reason_name(enum wire_state_reason r)
{
	if ((unsigned)r >= WS__COUNT)
		return "unknown";
	return state_reason_names[r];
}

int wire_put_state(struct tlv_writer *w, const struct wire_state *s)
{
	if (s->chan == 0 || s->len > WIRE_STATE_MAX)
		return -1;
	uint8_t *v = tlv_begin(w, TLV_STATE, STATE_CHAN + s->len);
	if (v == NULL)
		return -1;
	v[0] = s->chan;
	if (s->len)
		memcpy(v + STATE_CHAN, s->data, s->len);
	return 0;
}

int wire_get_heartbeat(const struct tlv *t, struct wire_heartbeat *hb)
{
	if (t->type != TLV_HEARTBEAT || t->len < HB_FIXED)
		return -1;
	uint16_t n = get16(t->v + 12);
	if (n > WIRE_MAX_PEERS || t->len != HB_FIXED + 4 * (size_t)n)
		return -1;
	memset(hb, 0, sizeof(*hb));
	hb->interval_ms = get32(t->v);
	hb->rb_next = get64(t->v + 4);
	hb->n_known = n;
	for (size_t i = 0; i < n; i++)
		hb->known[i] = get32(t->v + HB_FIXED + 4 * i);
	return 0;
}

int wire_get_rb_data(const struct tlv *t, struct wire_rb_data *d)
{
	if (t->type != TLV_RB_DATA || t->len < DATA_FIXED)
		return -1;
	d->seq = get64(t->v);
	d->data = t->v + DATA_FIXED;
	d->len = t->len - DATA_FIXED;
	return 0;
}

int wire_get_rb_nak(const struct tlv *t, struct wire_rb_nak *n)
{
	if (t->type != TLV_RB_NAK || t->len != NAK_LEN)
		return -1;
	n->origin = get32(t->v);
	n->first = get64(t->v + 4);
	n->last = get64(t->v + 12);
	return 0;
}

int wire_get_rb_gone(const struct tlv *t, struct wire_rb_gone *g)
{
	if (t->type != TLV_RB_GONE || t->len != GONE_LEN)
		return -1;
	g->origin = get32(t->v);
	g->oldest = get64(t->v + 4);
	return 0;
}

enum wire_state_reason wire_get_state(const struct tlv *t, struct wire_state *s)
{
	if (t->type != TLV_STATE)
		return WS__COUNT;
	if (t->len < STATE_CHAN)
		return WS_NO_CHANNEL;
	if (t->v[0] == 0)
		return WS_BAD_CHANNEL;
	if (t->len - STATE_CHAN > WIRE_STATE_MAX)
		return WS_OVERSIZED;
	s->chan = t->v[0];
	s->data = t->v + STATE_CHAN;
	s->len = t->len - STATE_CHAN;
	return WS_OK;
}
