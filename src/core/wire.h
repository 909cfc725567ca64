/*
 * wire: the codec of every datagram between arpha nodes, and its
 * authentication. Pure: the caller owns every buffer; the only library is
 * libsodium's AEAD (the caller runs sodium_init() once before any call).
 *
 * A datagram (all integers big-endian):
 *
 *    0  'A' 'H'          magic
 *    2  version (1)      WIRE_VERSION
 *    3  flags (1)        WIRE_F_ENCRYPTED, other bits zero
 *    4  sender (4)       node ID
 *    8  epoch (8)        the sender's start: new at every start, increasing
 *   16  seq (8)          per (sender, epoch), +1 for every datagram, from 1
 *   24  length (2)       payload bytes
 *   26  reserved (2)     zero
 *   28  payload          TLVs (below); ciphertext when encrypted
 *   28+length  tag (16)  XChaCha20-Poly1305: the header is additional data;
 *                        with encryption off the payload is too, so every
 *                        byte is authenticated either way
 *
 * Nonce: sender(4) epoch(8) seq(8) zero(4). It never repeats under one key
 * while (sender, epoch, seq) does not, which the epoch rule guarantees.
 *
 * The payload is a sequence of TLVs: type (1), length (2), value.
 *
 * Version 2 (version 1 carried one state blob, without a channel): a
 * TLV_STATE is one channel's slot of the sender's soft state. A node of
 * one version refuses the other's datagrams as WR_BAD_VERSION.
 */
#ifndef ARPHA_CORE_WIRE_H
#define ARPHA_CORE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION	   2
#define WIRE_F_ENCRYPTED   0x01
#define WIRE_HDR_LEN	   28
#define WIRE_TAG_LEN	   16
#define WIRE_KEY_LEN	   32
#define WIRE_MAX_DATAGRAM  1472 /* 1500 - IPv4 20 - UDP 8 */
#define WIRE_MAX_PAYLOAD   (WIRE_MAX_DATAGRAM - WIRE_HDR_LEN - WIRE_TAG_LEN)
#define WIRE_MAX_PEERS	   64	/* nodes a receiver keeps replay state for */
#define WIRE_REPLAY_WINDOW 1024 /* sequence numbers tracked: the highest seen and those below */

struct wire_key {
	uint8_t k[WIRE_KEY_LEN];
};

/* ---- sending ---- */

struct wire_sender {
	uint32_t node_id;
	uint64_t epoch;
	uint64_t next_seq; /* starts at 1 */
	bool encrypt;
	struct wire_key key;
};

void wire_sender_init(struct wire_sender *s, uint32_t node_id, uint64_t epoch,
		      const struct wire_key *key, bool encrypt);

/*
 * Seal len payload bytes into a datagram in buf (cap bytes), taking the
 * next sequence number. Returns the datagram's length, or 0 (nothing
 * consumed) when len > WIRE_MAX_PAYLOAD or cap is too small.
 */
size_t wire_seal(struct wire_sender *s, const uint8_t *payload, size_t len, uint8_t *buf,
		 size_t cap);

/* ---- receiving ---- */

enum wire_reason {
	WR_OK = 0,
	WR_TRUNCATED, /* shorter than header + tag, or than its length says */
	WR_BAD_MAGIC,
	WR_BAD_VERSION,	   /* unknown version */
	WR_BAD_FLAGS,	   /* unknown flag bits, or reserved not zero */
	WR_OVERSIZED,	   /* longer than WIRE_MAX_DATAGRAM, or length > WIRE_MAX_PAYLOAD */
	WR_TRAILING,	   /* bytes after the tag */
	WR_BAD_AUTH,	   /* wrong key, or altered on the way */
	WR_OWN,		   /* our own node ID: looped back, or a forger's guess */
	WR_OLD_EPOCH,	   /* an epoch older than the sender's current one */
	WR_REPLAY,	   /* a sequence number already seen, or behind the window */
	WR_TOO_MANY_PEERS, /* more than WIRE_MAX_PEERS senders */
	WR__COUNT
};

/* Stable lower_snake name ("bad_auth", "replay", ...). */
const char *wire_reason_name(enum wire_reason r);

struct wire_msg {
	uint32_t sender;
	uint64_t epoch;
	uint64_t seq;
	bool encrypted;
	size_t len; /* payload bytes written to the caller's plain buffer */
};

struct wire_receiver;

/* NULL on ENOMEM. */
struct wire_receiver *wire_receiver_new(uint32_t self_id, const struct wire_key *key);

/*
 * The keys a datagram may be sealed with: key, and next (NULL: none), the
 * key a cluster moves to (KeyFile= with two keys). A datagram is opened
 * with key first, then with next.
 */
void wire_receiver_set_keys(struct wire_receiver *r, const struct wire_key *key,
			    const struct wire_key *next);
/* Datagrams opened with the next key so far. */
uint64_t wire_receiver_next_key_opens(const struct wire_receiver *r);
void wire_receiver_free(struct wire_receiver *r);

/*
 * Check and open a datagram: header, then the tag (so nothing forged can
 * touch the replay state), then the sender's epoch and replay window. On
 * WR_OK *out is filled and the payload is in plain (cap must be at least
 * WIRE_MAX_PAYLOAD); on any other reason nothing in r changed. On WR_OWN
 * (authentic, with our node ID) out's sender, epoch and seq are filled too,
 * len 0: an epoch other than ours means a second node with our ID.
 * A newer epoch from a sender means it restarted: its window starts anew.
 */
enum wire_reason wire_open(struct wire_receiver *r, const uint8_t *buf, size_t len,
			   struct wire_msg *out, uint8_t *plain, size_t cap);

/* ---- payload TLVs ---- */

enum tlv_type {
	TLV_HEARTBEAT = 1, /* struct wire_heartbeat */
	TLV_RB_DATA = 2,   /* struct wire_rb_data: a reliable-broadcast message */
	TLV_RB_NAK = 3,	   /* struct wire_rb_nak: please send these again */
	TLV_RB_GONE = 4,   /* struct wire_rb_gone: those are no longer held */
	TLV_STATE = 5,	   /* struct wire_state: one channel of the sender's soft state */
};

struct tlv_writer {
	uint8_t *buf;
	size_t cap, len;
	bool overflow; /* set when something did not fit; len is unchanged then */
};

struct tlv {
	uint8_t type;
	uint16_t len;
	const uint8_t *v;
};

void tlv_writer_init(struct tlv_writer *w, uint8_t *buf, size_t cap);
/*
 * Iterate the TLVs of a payload: start with *off = 0. Returns 1 with *t
 * filled, 0 at the end, -1 when the rest is malformed (a length past the
 * end). Unknown types are returned too; the caller skips them.
 */
int tlv_next(const uint8_t *p, size_t len, size_t *off, struct tlv *t);

/*
 * Heartbeat: sent every HeartbeatInterval. value: interval_ms (4),
 * rb_next (8), n (2), n x node ID (4).
 */
struct wire_heartbeat {
	uint32_t interval_ms; /* the sender's heartbeat interval */
	uint64_t rb_next;     /* the next reliable-broadcast seq the sender will use */
	uint16_t n_known;     /* nodes the sender hears, itself excluded */
	uint32_t known[WIRE_MAX_PEERS];
};

/* value: seq (8), data. */
struct wire_rb_data {
	uint64_t seq;
	const uint8_t *data; /* points into the payload */
	size_t len;
};

/* value: origin (4), first (8), last (8): resend origin's first..last. */
struct wire_rb_nak {
	uint32_t origin;
	uint64_t first, last;
};

/* value: origin (4), oldest (8): origin holds nothing older than oldest. */
struct wire_rb_gone {
	uint32_t origin;
	uint64_t oldest;
};

/* The largest data a TLV_RB_DATA can carry in one datagram. */
#define WIRE_RB_MAX_DATA (WIRE_MAX_PAYLOAD - 3 - 8)

/*
 * Append one TLV; 0, or -1 with nothing appended: with w->overflow set
 * when it did not fit, without when it never could (n_known past
 * WIRE_MAX_PEERS, data past WIRE_RB_MAX_DATA).
 */
int wire_put_heartbeat(struct tlv_writer *w, const struct wire_heartbeat *hb);
int wire_put_rb_data(struct tlv_writer *w, const struct wire_rb_data *d);
int wire_put_rb_nak(struct tlv_writer *w, const struct wire_rb_nak *n);
int wire_put_rb_gone(struct tlv_writer *w, const struct wire_rb_gone *g);

/*
 * State: one channel's slot of the soft state the layer above repeats in
 * every heartbeat and may push at once; not reliable, the latest counts.
 * value: chan (1, != 0), data (opaque here, at most WIRE_STATE_MAX bytes).
 *
 * A datagram carries at most WIRE_STATE_SLOTS state TLVs, each channel at
 * most once. A sender keeps its slots together within WIRE_STATE_ROOM
 * bytes of TLVs (WIRE_STATE_TLV_LEN each), so all of them fit one datagram
 * beside the largest heartbeat.
 */
struct wire_state {
	uint8_t chan;	     /* the channel, e.g. 'V' for VIP adverts; never 0 */
	const uint8_t *data; /* points into the payload */
	size_t len;
};

#define WIRE_STATE_MAX		1024 /* data bytes of one channel */
#define WIRE_STATE_SLOTS	4    /* state TLVs in one datagram */
#define WIRE_STATE_TLV_LEN(len) (3 + 1 + (size_t)(len))
#define WIRE_HEARTBEAT_MAX_TLV	(3 + 14 + 4 * WIRE_MAX_PEERS)
#define WIRE_STATE_ROOM		(WIRE_MAX_PAYLOAD - WIRE_HEARTBEAT_MAX_TLV)

/* Why a state TLV was refused (the receiver counts each by reason). */
enum wire_state_reason {
	WS_OK = 0,
	WS_NO_CHANNEL,	/* an empty value: not even the channel byte */
	WS_BAD_CHANNEL, /* channel 0 */
	WS_OVERSIZED,	/* data longer than WIRE_STATE_MAX */
	WS_DUPLICATE,	/* a channel already carried in the same datagram */
	WS_TOO_MANY,	/* more than WIRE_STATE_SLOTS in one datagram */
	WS__COUNT
};

/* Stable lower_snake name ("no_channel", "duplicate", ...). */
const char *wire_state_reason_name(enum wire_state_reason r);

/*
 * Append one channel's state; 0, or -1 with nothing appended: overflow set
 * when it did not fit, not set when it never could (chan 0, len past
 * WIRE_STATE_MAX).
 */
int wire_put_state(struct tlv_writer *w, const struct wire_state *s);

/*
 * Decode a TLV_STATE: WS_OK with *s filled, or WS_NO_CHANNEL,
 * WS_BAD_CHANNEL, WS_OVERSIZED (the reasons one TLV shows; WS_DUPLICATE
 * and WS_TOO_MANY are the receiver's to tell, datagram by datagram).
 * WS__COUNT when t is not a TLV_STATE at all.
 */
enum wire_state_reason wire_get_state(const struct tlv *t, struct wire_state *s);

/* Decode one TLV's value of the matching type; 0, or -1 if malformed. */
int wire_get_heartbeat(const struct tlv *t, struct wire_heartbeat *hb);
int wire_get_rb_data(const struct tlv *t, struct wire_rb_data *d);
int wire_get_rb_nak(const struct tlv *t, struct wire_rb_nak *n);
int wire_get_rb_gone(const struct tlv *t, struct wire_rb_gone *g);

#endif
