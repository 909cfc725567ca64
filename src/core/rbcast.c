/*
 * rbcast: reliable broadcast, NAK-based, FIFO per sender. See rbcast.h.
 *
 * Storage. The sender buffer is a ring of send_buffer slots indexed by
 * seq % send_buffer, each holding a malloc'd copy. Every origin has a hold
 * ring of the same size for early arrivals: only seqs in
 * (expected, expected + send_buffer] are held, and those are distinct
 * modulo send_buffer. A held message that is delivered leaves its ring at
 * once but its copy goes on the "to free" list, released at the start of
 * the next call, so the RBA_DELIVER pointing at it stays valid until then;
 * at most send_buffer held messages are delivered in one call, so that
 * list is allocated once, up front. A message delivered as it arrives is
 * copied to a scratch buffer (one per call at most).
 *
 * Gap bookkeeping per origin: expected is the next seq to deliver,
 * known_next is one past the highest seq the origin is known to have sent
 * (from data or a heartbeat); a gap is open while expected < known_next.
 * Every seq in [expected, asked] is held or has been NAKed, so only what
 * lies beyond asked is NAKed at once when a later seq shows it missing;
 * the whole gap is NAKed again from expected after nak_interval_ms
 * without progress (last_nak: the last NAK or delivery). A tail that
 * only a heartbeat reveals is not NAKed at once but after nak_interval_ms
 * without progress: heartbeats travel apart from the data (cluster.h)
 * and may overtake it, and a NAK for data still on its way would only
 * send it twice.
 */
#include "rbcast.h"

#include "array.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint64_t seq; /* 0: empty */
	uint8_t *data;
	size_t len;
};

struct origin {
	bool used;
	bool down; /* rbcast_peer_down: nothing held, not NAKed; reusable when full */
	uint32_t id;
	uint64_t epoch;
	uint64_t expected;   /* next seq to deliver */
	uint64_t known_next; /* the origin has sent at least up to known_next - 1 */
	uint64_t asked;	     /* [expected, asked] is held or NAKed */
	uint64_t last_nak;   /* when the gap was last NAKed from expected */
	struct slot *hold;   /* send_buffer slots by seq % send_buffer; NULL until needed */
	uint32_t n_held;
};

struct rbcast {
	struct rbcast_params p;
	struct slot *sbuf; /* send_buffer slots by seq % send_buffer */
	uint64_t next_seq;
	uint32_t n_sbuf; /* messages in sbuf: next_seq - n_sbuf .. next_seq - 1 */
	struct origin origins[WIRE_MAX_PEERS];
	uint8_t **to_free; /* send_buffer entries */
	size_t n_to_free;
	struct rb_stats st;
	uint8_t scratch[WIRE_RB_MAX_DATA];
};

/* ---- actions ---- */

void rb_actions_init(struct rb_actions *a)
{
	memset(a, 0, sizeof(*a));
}

void rb_actions_free(struct rb_actions *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void rb_actions_reset(struct rb_actions *a)
{
	a->n = 0;
}

static int reserve(struct rb_actions *a, size_t more)
{
	return array_grow((void **)&a->v, &a->cap, a->n + more, sizeof(*a->v), 16);
}

static struct rb_action *push(struct rb_actions *a, enum rb_action_type type, uint32_t node)
{
	if (reserve(a, 1) < 0) {
		a->dropped++;
		return NULL;
	}
	struct rb_action *act = &a->v[a->n++];
	memset(act, 0, sizeof(*act));
	act->type = (uint8_t)type;
	act->node = node;
	return act;
}

/* ---- life ---- */

struct rbcast *rbcast_new(const struct rbcast_params *p)
{
	if (!p || p->send_buffer < 1 || p->nak_interval_ms < 1) {
		errno = EINVAL;
		return NULL;
	}
	struct rbcast *rb = calloc(1, sizeof(*rb));
	if (!rb)
		return NULL;
	rb->p = *p;
	rb->next_seq = 1;
	rb->sbuf = calloc(p->send_buffer, sizeof(*rb->sbuf));
	rb->to_free = calloc(p->send_buffer, sizeof(*rb->to_free));
	if (!rb->sbuf || !rb->to_free) {
		free(rb->sbuf);
		free(rb->to_free);
		free(rb);
		errno = ENOMEM;
		return NULL;
	}
	return rb;
}

/* Start of every call that changes rb: what the last call delivered goes. */
static void begin(struct rbcast *rb)
{
	for (size_t i = 0; i < rb->n_to_free; i++)
		free(rb->to_free[i]);
	rb->n_to_free = 0;
}

static void origin_clear(struct rbcast *rb, struct origin *o)
{
	if (o->hold) {
		for (uint32_t i = 0; i < rb->p.send_buffer; i++)
			free(o->hold[i].data);
		free(o->hold);
	}
	memset(o, 0, sizeof(*o));
}

void rbcast_free(struct rbcast *rb)
{
	if (!rb)
		return;
	begin(rb);
	for (size_t i = 0; i < WIRE_MAX_PEERS; i++)
		origin_clear(rb, &rb->origins[i]);
	for (uint32_t i = 0; i < rb->p.send_buffer; i++)
		free(rb->sbuf[i].data);
	free(rb->sbuf);
	free(rb->to_free);
	free(rb);
}

const struct rb_stats *rbcast_stats(const struct rbcast *rb)
{
	return &rb->st;
}

/* ---- sending ---- */

int rbcast_send(struct rbcast *rb, const uint8_t *data, size_t len, uint64_t now,
		struct rb_actions *out)
{
	(void)now;
	begin(rb);
	if (len > WIRE_RB_MAX_DATA) {
		errno = EMSGSIZE;
		return -1;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy || reserve(out, 1) < 0) {
		free(copy);
		errno = ENOMEM;
		return -1;
	}
	if (len)
		memcpy(copy, data, len);
	uint64_t seq = rb->next_seq++;
	struct slot *s = &rb->sbuf[seq % rb->p.send_buffer];
	if (rb->n_sbuf == rb->p.send_buffer)
		free(s->data); /* the oldest, seq - send_buffer, falls out */
	else
		rb->n_sbuf++;
	s->seq = seq;
	s->data = copy;
	s->len = len;
	rb->st.sent++;

	struct rb_action *a = push(out, RBA_SEND_DATA, rb->p.self_id);
	a->seq = seq;
	a->data = copy;
	a->len = len;
	return 0;
}

uint64_t rbcast_next_seq(const struct rbcast *rb)
{
	return rb->next_seq;
}

void rbcast_on_nak(struct rbcast *rb, uint32_t from, uint64_t first, uint64_t last, uint64_t now,
		   struct rb_actions *out)
{
	(void)now;
	begin(rb);
	rb->st.naks_received++;
	if (first == 0)
		first = 1;
	if (last >= rb->next_seq)
		last = rb->next_seq - 1; /* never sent */
	if (first > last)
		return;
	uint64_t oldest = rb->next_seq - rb->n_sbuf;
	if (first < oldest) {
		struct rb_action *a = push(out, RBA_SEND_GONE, from);
		if (a)
			a->oldest = oldest;
		rb->st.gones_sent++;
		first = oldest;
	}
	for (uint64_t seq = first; seq <= last; seq++) {
		const struct slot *s = &rb->sbuf[seq % rb->p.send_buffer];
		struct rb_action *a = push(out, RBA_SEND_DATA, rb->p.self_id);
		if (!a)
			break;
		a->resent = true;
		a->seq = seq;
		a->data = s->data;
		a->len = s->len;
		rb->st.resent++;
	}
}

/* ---- receiving ---- */

static struct origin *find(struct rbcast *rb, uint32_t id)
{
	for (size_t i = 0; i < WIRE_MAX_PEERS; i++)
		if (rb->origins[i].used && rb->origins[i].id == id)
			return &rb->origins[i];
	return NULL;
}

/*
 * The origin's state for a message of epoch: NULL when the epoch is older
 * than the one held, or when the table is full. *fresh tells the caller to
 * start delivery there (first contact or a new epoch).
 */
static struct origin *lookup(struct rbcast *rb, uint32_t id, uint64_t epoch, bool *fresh)
{
	struct origin *o = find(rb, id);
	*fresh = false;
	if (o) {
		if (epoch < o->epoch)
			return NULL;
		o->down = false;
		if (epoch == o->epoch)
			return o;
		struct slot *hold = o->hold; /* a new epoch: keep only the ring */
		if (hold) {
			for (uint32_t i = 0; i < rb->p.send_buffer; i++) {
				free(hold[i].data);
				hold[i].data = NULL;
				hold[i].seq = 0;
			}
		}
		memset(o, 0, sizeof(*o));
		o->hold = hold;
	} else {
		for (size_t i = 0; i < WIRE_MAX_PEERS && !o; i++)
			if (!rb->origins[i].used)
				o = &rb->origins[i];
		for (size_t i = 0; i < WIRE_MAX_PEERS && !o; i++)
			if (rb->origins[i].down)
				o = &rb->origins[i];
		if (!o)
			return NULL;
		origin_clear(rb, o);
	}
	o->used = true;
	o->id = id;
	o->epoch = epoch;
	*fresh = true;
	return o;
}

static void start_at(struct origin *o, uint64_t seq)
{
	o->expected = seq;
	o->known_next = seq;
	o->asked = seq - 1;
}

static struct slot *held(struct rbcast *rb, const struct origin *o, uint64_t seq)
{
	if (!o->hold)
		return NULL;
	struct slot *s = &o->hold[seq % rb->p.send_buffer];
	return s->seq == seq ? s : NULL;
}

static void deliver(struct rbcast *rb, const struct origin *o, uint64_t seq, const uint8_t *data,
		    size_t len, struct rb_actions *out)
{
	struct rb_action *a = push(out, RBA_DELIVER, o->id);
	if (a) {
		a->seq = seq;
		a->data = data;
		a->len = len;
	}
	rb->st.delivered++;
}

/* Deliver what is held from expected on, in order. */
static void deliver_held(struct rbcast *rb, struct origin *o, struct rb_actions *out)
{
	struct slot *s;
	while ((s = held(rb, o, o->expected)) != NULL) {
		rb->to_free[rb->n_to_free++] = s->data; /* freed at the next call */
		deliver(rb, o, s->seq, s->data, s->len, out);
		s->seq = 0;
		s->data = NULL;
		o->n_held--;
		o->expected++;
	}
	if (o->known_next < o->expected)
		o->known_next = o->expected;
}

/* The last seq a NAK from expected may ask for: send_buffer seqs at most. */
static uint64_t nak_limit(const struct rbcast *rb, const struct origin *o)
{
	uint64_t last = o->known_next - 1;
	uint64_t max = o->expected + (rb->p.send_buffer - 1);
	if (max < o->expected)
		max = UINT64_MAX;
	return last < max ? last : max;
}

static void send_nak(struct rbcast *rb, struct origin *o, uint64_t first, uint64_t last,
		     struct rb_actions *out)
{
	struct rb_action *a = push(out, RBA_SEND_NAK, o->id);
	if (a) {
		a->first = first;
		a->last = last;
	}
	rb->st.naks_sent++;
}

/* NAK at once what is missing up to upto and not yet asked for (one NAK at most). */
static void nak_new(struct rbcast *rb, struct origin *o, uint64_t upto, uint64_t now,
		    struct rb_actions *out)
{
	if (o->expected >= o->known_next)
		return;
	uint64_t first = o->asked + 1 > o->expected ? o->asked + 1 : o->expected;
	uint64_t last = nak_limit(rb, o);
	if (upto < last)
		last = upto;
	if (first > last)
		return;
	o->asked = last;
	while (first <= last && held(rb, o, first))
		first++;
	while (last > first && held(rb, o, last))
		last--;
	if (first > last)
		return; /* all held */
	if (first == o->expected)
		o->last_nak = now; /* a gap that was not being NAKed */
	send_nak(rb, o, first, last, out);
}

/* Keep seq (expected < seq <= expected + send_buffer); false on ENOMEM. */
static bool hold(struct rbcast *rb, struct origin *o, uint64_t seq, const uint8_t *data, size_t len)
{
	if (!o->hold) {
		o->hold = calloc(rb->p.send_buffer, sizeof(*o->hold));
		if (!o->hold)
			return false;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return false;
	if (len)
		memcpy(copy, data, len);
	struct slot *s = &o->hold[seq % rb->p.send_buffer];
	free(s->data); /* cannot hold anything: its seq would be <= expected */
	s->seq = seq;
	s->data = copy;
	s->len = len;
	o->n_held++;
	return true;
}

void rbcast_on_data(struct rbcast *rb, uint32_t origin, uint64_t epoch, uint64_t seq,
		    const uint8_t *data, size_t len, uint64_t now, struct rb_actions *out)
{
	begin(rb);
	if (seq == 0 || len > WIRE_RB_MAX_DATA || origin == rb->p.self_id)
		return;
	bool fresh;
	struct origin *o = lookup(rb, origin, epoch, &fresh);
	if (!o)
		return;
	if (fresh)
		start_at(o, seq);
	if (seq < o->expected || held(rb, o, seq)) {
		rb->st.duplicates++;
		return;
	}
	if (seq == o->expected) {
		if (len)
			memcpy(rb->scratch, data, len);
		deliver(rb, o, seq, rb->scratch, len, out);
		o->expected++;
		deliver_held(rb, o, out);
		o->last_nak = now; /* progress: what is still missing may be on its way */
		return;
	}
	if (o->known_next <= seq)
		o->known_next = seq + 1;
	if (seq - o->expected > rb->p.send_buffer || !hold(rb, o, seq, data, len))
		rb->st.early_dropped++;	   /* NAKed when the window reaches it */
	nak_new(rb, o, seq - 1, now, out); /* the hole before seq: lost, or on another path */
}

void rbcast_on_next_seq(struct rbcast *rb, uint32_t origin, uint64_t epoch, uint64_t next,
			uint64_t now, struct rb_actions *out)
{
	begin(rb);
	if (next == 0 || origin == rb->p.self_id)
		return;
	bool fresh;
	struct origin *o = lookup(rb, origin, epoch, &fresh);
	if (!o)
		return;
	if (fresh) {
		start_at(o, next);
		return;
	}
	if (next <= o->known_next)
		return;
	if (o->expected >= o->known_next)
		o->last_nak = now; /* a new gap: NAKed by rbcast_tick unless it fills meanwhile */
	o->known_next = next;
	(void)out;
}

void rbcast_on_gone(struct rbcast *rb, uint32_t origin, uint64_t epoch, uint64_t oldest,
		    uint64_t now, struct rb_actions *out)
{
	begin(rb);
	struct origin *o = find(rb, origin);
	if (!o || o->epoch != epoch)
		return;
	o->down = false;
	if (oldest <= o->expected)
		return;
	if (o->hold) {
		for (uint32_t i = 0; i < rb->p.send_buffer; i++) {
			struct slot *s = &o->hold[i];
			if (s->seq && s->seq < oldest) {
				free(s->data);
				s->data = NULL;
				s->seq = 0;
				o->n_held--;
			}
		}
	}
	push(out, RBA_OUT_OF_SYNC, o->id);
	rb->st.out_of_sync++;
	o->expected = oldest;
	if (o->known_next < oldest)
		o->known_next = oldest;
	deliver_held(rb, o, out);
	nak_new(rb, o, UINT64_MAX, now, out);
}

void rbcast_peer_down(struct rbcast *rb, uint32_t origin)
{
	begin(rb);
	struct origin *o = find(rb, origin);
	if (!o)
		return;
	if (o->hold) {
		for (uint32_t i = 0; i < rb->p.send_buffer; i++)
			free(o->hold[i].data);
		free(o->hold);
		o->hold = NULL;
	}
	o->n_held = 0;
	/* Keep the epoch and expected; forget the gap until it speaks again. */
	o->known_next = o->expected;
	o->asked = o->expected - 1;
	o->down = true;
}

void rbcast_tick(struct rbcast *rb, uint64_t now, struct rb_actions *out)
{
	begin(rb);
	for (size_t i = 0; i < WIRE_MAX_PEERS; i++) {
		struct origin *o = &rb->origins[i];
		if (!o->used || o->expected >= o->known_next ||
		    now - o->last_nak < rb->p.nak_interval_ms || now < o->last_nak)
			continue;
		uint64_t last = nak_limit(rb, o);
		if (o->asked < last)
			o->asked = last;
		while (last > o->expected && held(rb, o, last))
			last--;
		o->last_nak = now;
		send_nak(rb, o, o->expected, last, out);
	}
}

uint64_t rbcast_next_deadline(const struct rbcast *rb)
{
	uint64_t best = UINT64_MAX;
	for (size_t i = 0; i < WIRE_MAX_PEERS; i++) {
		const struct origin *o = &rb->origins[i];
		if (!o->used || o->expected >= o->known_next)
			continue;
		uint64_t t = o->last_nak + rb->p.nak_interval_ms;
		if (t < o->last_nak)
			t = UINT64_MAX;
		if (t < best)
			best = t;
	}
	return best;
}
