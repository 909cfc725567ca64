/*
 * cluster: one node's cluster messaging. wire authenticates and orders the
 * datagrams, member tracks who is up, rbcast makes broadcasts reliable;
 * this file only routes between them and packs what they want to send
 * into datagrams.
 *
 * Routing of an authenticated datagram's TLVs:
 *  - HEARTBEAT: member_on_heartbeat, then rbcast_on_next_seq (a heartbeat
 *    says how far the sender's broadcasts went, which reveals a lost tail);
 *  - RB_DATA: rbcast_on_data, origin = the sender, in the sender's epoch;
 *  - RB_NAK: rbcast_on_nak when it names us as the origin (NAKs riding on
 *    a heartbeat reach everybody; the others ignore them);
 *  - RB_GONE: rbcast_on_gone when the origin it names is the sender;
 *  - STATE: a CA_STATE for its channel, unless wire_get_state or the
 *    datagram's rules (each channel once, WIRE_STATE_SLOTS at most) refuse
 *    it: then a count in state_drops, by reason;
 *  - unknown types are skipped (a newer peer may send more).
 *
 * Messages of nodes that are not (yet) UP in member still go to rbcast:
 * data may overtake the first heartbeat that lists us. Their DELIVERs are
 * passed up as well, in order: the layer above decides what a message of
 * a node it does not consider up is worth (it ignores it until CA_NODE_UP,
 * and a new node triggers a resync there anyway). Dropping them here would
 * lose them for good, since rbcast delivers each message once.
 *
 * Packing: within one call, TLVs bound for the same destination share a
 * datagram while they fit; the datagrams are sealed when the call ends.
 * A heartbeat carries the state slots set (right after it: the slots'
 * WIRE_STATE_ROOM keeps them in its datagram) and the NAKs due at the
 * same tick, to everyone.
 */
#include "cluster.h"

#include "array.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Destinations open at once within one call; more are flushed early. */
#define PACK_SLOTS 8

struct pack {
	uint8_t type; /* CA_SEND_ALL or CA_SEND_TO */
	uint8_t path;
	bool urgent; /* a heartbeat or a state in it (cluster_action.urgent) */
	uint32_t node;
	struct tlv_writer w;
	uint8_t buf[WIRE_MAX_PAYLOAD];
};

/* One channel of our soft state; chan 0: the slot is free. */
struct state_slot {
	uint8_t chan;
	size_t len;
	uint8_t data[WIRE_STATE_MAX];
};

struct cluster {
	struct cluster_params p;
	struct wire_sender tx;
	struct wire_receiver *rx;
	struct member *m;
	struct rbcast *rb;
	struct rb_actions rba;
	struct member_events mev;
	struct cluster_stats stats;
	struct srcwatch *sw;
	struct actions logs; /* srcwatch's lines, before they become CA_LOG */
	struct pack pack[PACK_SLOTS];
	size_t npack;
	uint32_t last_sender; /* of the last datagram authenticated; 0: refused */
	uint64_t hb_rb_next;  /* rbcast_next_seq at the last heartbeat */
	struct cluster_peer_stats peers[WIRE_MAX_PEERS];
	size_t npeers;
	uint8_t plain[WIRE_MAX_PAYLOAD];
	struct state_slot state[CLUSTER_STATE_SLOTS];
};

void cluster_actions_init(struct cluster_actions *a)
{
	memset(a, 0, sizeof(*a));
}

void cluster_actions_free(struct cluster_actions *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void cluster_actions_reset(struct cluster_actions *a)
{
	a->n = 0;
}

static struct cluster_action *push(struct cluster_actions *a, enum cluster_action_type type,
				   uint32_t node)
{
	struct cluster_action *act =
	    array_append((void **)&a->v, &a->n, &a->cap, sizeof(*a->v), 8, 0, &a->dropped);
	if (!act)
		return NULL;
	act->type = (uint8_t)type;
	act->level = 0;
	act->chan = 0;
	act->urgent = false;
	act->node = node;
	act->len = 0;
	return act;
}

struct cluster *cluster_new(const struct cluster_params *p)
{
	if (!p->node_id || !p->interval_ms || !p->dead_count || !p->send_buffer) {
		errno = EINVAL;
		return NULL;
	}
	struct cluster *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->p = *p;
	wire_sender_init(&c->tx, p->node_id, p->epoch, &p->key, p->encrypt);
	struct member_params mp = {.self_id = p->node_id,
				   .interval_ms = p->interval_ms,
				   .dead_count = p->dead_count,
				   .n_paths = p->n_paths};
	/*
	 * NAK again after half a heartbeat interval without progress: a NAK
	 * and its answer take well under a millisecond on a LAN, so this
	 * only matters when one of them was lost.
	 */
	struct rbcast_params rp = {.self_id = p->node_id,
				   .send_buffer = p->send_buffer,
				   .nak_interval_ms = p->interval_ms / 2 ? p->interval_ms / 2 : 1};
	c->rx = wire_receiver_new(p->node_id, &p->key);
	if (c->rx && p->has_next_key)
		wire_receiver_set_keys(c->rx, &p->key, &p->next_key);
	c->m = member_new(&mp);
	c->rb = rbcast_new(&rp);
	rb_actions_init(&c->rba);
	struct srcwatch_params sp = {
	    .dead_ms = p->interval_ms * p->dead_count, .peers = p->peers, .n_peers = p->n_peers};
	c->sw = srcwatch_new(&sp);
	c->p.peers = NULL;
	actions_init(&c->logs);
	if (!c->rx || !c->m || !c->rb || !c->sw) {
		cluster_free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->hb_rb_next = rbcast_next_seq(c->rb); /* the first heartbeat tells, unless we sent */
	return c;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	wire_receiver_free(c->rx);
	member_free(c->m);
	rbcast_free(c->rb);
	rb_actions_free(&c->rba);
	srcwatch_free(c->sw);
	actions_free(&c->logs);
	explicit_bzero(&c->tx.key, sizeof(c->tx.key));
	explicit_bzero(&c->p.key, sizeof(c->p.key));
	explicit_bzero(&c->p.next_key, sizeof(c->p.next_key));
	free(c);
}

void cluster_set_keys(struct cluster *c, const struct wire_key *key, const struct wire_key *next)
{
	c->tx.key = *key;
	c->p.key = *key;
	c->p.has_next_key = next != NULL;
	if (next)
		c->p.next_key = *next;
	else
		explicit_bzero(&c->p.next_key, sizeof(c->p.next_key));
	wire_receiver_set_keys(c->rx, key, next);
}

/* ---- packing TLVs into datagrams ---- */

static void pack_flush(struct cluster *c, struct pack *pk, struct cluster_actions *out)
{
	if (pk->w.len == 0)
		return;
	struct cluster_action *act = push(out, pk->type, pk->node);
	if (act) {
		act->path = pk->path;
		act->urgent = pk->urgent;
		size_t n = wire_seal(&c->tx, pk->buf, pk->w.len, act->data, sizeof(act->data));
		if (n) {
			act->len = (uint16_t)n;
			c->stats.tx_datagrams++;
			c->stats.path_tx[pk->path]++;
		} else {
			out->n--; /* cannot happen: the writer's cap is WIRE_MAX_PAYLOAD */
		}
	}
	tlv_writer_init(&pk->w, pk->buf, sizeof(pk->buf));
	pk->urgent = false;
}

static void pack_flush_all(struct cluster *c, struct cluster_actions *out)
{
	for (size_t i = 0; i < c->npack; i++)
		pack_flush(c, &c->pack[i], out);
	c->npack = 0;
}

static struct pack *pack_get(struct cluster *c, enum cluster_action_type type, uint32_t node,
			     unsigned path, struct cluster_actions *out)
{
	for (size_t i = 0; i < c->npack; i++) {
		struct pack *pk = &c->pack[i];
		if (pk->type == type && pk->path == path &&
		    (type == CA_SEND_ALL || pk->node == node))
			return pk;
	}
	if (c->npack == PACK_SLOTS)
		pack_flush_all(c, out);
	struct pack *pk = &c->pack[c->npack++];
	pk->type = (uint8_t)type;
	pk->path = (uint8_t)path;
	pk->node = type == CA_SEND_ALL ? 0 : node;
	pk->urgent = false;
	tlv_writer_init(&pk->w, pk->buf, sizeof(pk->buf));
	return pk;
}

enum tlv_kind { K_HB, K_DATA, K_NAK, K_GONE, K_STATE };

struct tlv_any {
	enum tlv_kind kind;
	union {
		const struct wire_heartbeat *hb;
		const struct wire_rb_data *d;
		const struct wire_rb_nak *nak;
		const struct wire_rb_gone *gone;
		const struct wire_state *state;
	} u;
};

static int put_any(struct tlv_writer *w, const struct tlv_any *t)
{
	switch (t->kind) {
	case K_HB:
		return wire_put_heartbeat(w, t->u.hb);
	case K_DATA:
		return wire_put_rb_data(w, t->u.d);
	case K_NAK:
		return wire_put_rb_nak(w, t->u.nak);
	case K_GONE:
		return wire_put_rb_gone(w, t->u.gone);
	case K_STATE:
		return wire_put_state(w, t->u.state);
	}
	return -1;
}

/* Where a TLV goes: to all or to node, on path, or on every path (path < 0). */
struct dest {
	uint8_t type; /* CA_SEND_ALL or CA_SEND_TO */
	uint32_t node;
	int path;
};

/* To every peer: on the best path (see cluster.h). */
static struct dest to_all(const struct cluster *c)
{
	return (struct dest){CA_SEND_ALL, 0, member_best_path(c->m)};
}

/* To node alone: on the lowest path it is heard on, or on every path. */
static struct dest to_node(const struct cluster *c, uint32_t node)
{
	return (struct dest){CA_SEND_TO, node, member_path_to(c->m, node)};
}

/* Append a TLV for d; a full datagram is sealed and a new one begun. */
static void pack_put(struct cluster *c, struct dest d, const struct tlv_any *t,
		     struct cluster_actions *out)
{
	unsigned n = member_n_paths(c->m);
	for (unsigned p = d.path < 0 ? 0 : (unsigned)d.path; p < n; p++) {
		struct pack *pk = pack_get(c, d.type, d.node, p, out);
		if (put_any(&pk->w, t) != 0) {
			pack_flush(c, pk, out);
			(void)put_any(&pk->w, t); /* every TLV fits an empty datagram */
		}
		pk->urgent |= t->kind == K_HB || t->kind == K_STATE;
		if (d.path >= 0)
			break;
	}
}

/* Every slot of our state set, into the datagram bound for d. */
static void put_states(struct cluster *c, struct dest d, struct cluster_actions *out)
{
	for (size_t i = 0; i < CLUSTER_STATE_SLOTS; i++) {
		const struct state_slot *sl = &c->state[i];
		if (!sl->chan)
			continue;
		struct wire_state ws = {.chan = sl->chan, .data = sl->data, .len = sl->len};
		struct tlv_any t = {.kind = K_STATE, .u.state = &ws};
		pack_put(c, d, &t, out);
		c->stats.states_sent++;
	}
}

/* ---- translating the layers' outputs ---- */

static void on_member_events(struct cluster *c, struct cluster_actions *out)
{
	for (size_t i = 0; i < c->mev.n; i++) {
		const struct member_ev *e = &c->mev.v[i];
		switch (e->type) {
		case ME_NODE_UP:
			push(out, CA_NODE_UP, e->node);
			break;
		case ME_NODE_DOWN:
			rbcast_peer_down(c->rb, e->node);
			push(out, CA_NODE_DOWN, e->node);
			break;
		case ME_OWN_DOWN:
			push(out, CA_OWN_DOWN, c->p.node_id);
			break;
		case ME_OWN_UP:
			push(out, CA_OWN_UP, c->p.node_id);
			break;
		case ME_PATH_DOWN:
		case ME_PATH_UP:
		case ME_OWN_PATH_DOWN:
		case ME_OWN_PATH_UP: {
			static const uint8_t type[] = {[ME_PATH_DOWN] = CA_PATH_DOWN,
						       [ME_PATH_UP] = CA_PATH_UP,
						       [ME_OWN_PATH_DOWN] = CA_OWN_PATH_DOWN,
						       [ME_OWN_PATH_UP] = CA_OWN_PATH_UP};
			struct cluster_action *a = push(out, type[e->type], e->node);
			if (a)
				a->path = e->path;
			if (e->type == ME_PATH_DOWN && e->path < CLUSTER_MAX_PATHS)
				c->stats.path_downs[e->path]++;
			break;
		}
		}
	}
	c->mev.n = 0;
}

/*
 * Turn rbcast's actions into cluster actions and TLVs; naks_to_all puts
 * NAKs into the datagram going to everyone (the heartbeat's).
 */
/* The counters of node, made on first use; a scratch slot when the table is full. */
static struct cluster_peer_stats *peer(struct cluster *c, uint32_t node)
{
	static const struct cluster_peer_stats zero;
	for (size_t i = 0; i < c->npeers; i++)
		if (c->peers[i].node == node)
			return &c->peers[i];
	if (c->npeers < WIRE_MAX_PEERS) {
		struct cluster_peer_stats *p = &c->peers[c->npeers++];
		*p = zero;
		p->node = node;
		return p;
	}
	return NULL;
}

#define PEER_COUNT(c, node, field)                                                                 \
	do {                                                                                       \
		struct cluster_peer_stats *ps_ = peer((c), (node));                                \
		if (ps_)                                                                           \
			ps_->field++;                                                              \
	} while (0)

static void on_rb_actions(struct cluster *c, bool naks_to_all, struct cluster_actions *out)
{
	for (size_t i = 0; i < c->rba.n; i++) {
		const struct rb_action *a = &c->rba.v[i];
		struct cluster_action *act;
		struct tlv_any t;
		switch (a->type) {
		case RBA_SEND_DATA: {
			struct wire_rb_data d = {.seq = a->seq, .data = a->data, .len = a->len};
			t.kind = K_DATA;
			t.u.d = &d;
			pack_put(c, to_all(c), &t, out);
			if (a->resent)
				c->stats.data_resent++;
			else
				c->stats.data_sent++;
			break;
		}
		case RBA_SEND_NAK: {
			struct wire_rb_nak n = {
			    .origin = a->node, .first = a->first, .last = a->last};
			t.kind = K_NAK;
			t.u.nak = &n;
			pack_put(c, naks_to_all ? to_all(c) : to_node(c, a->node), &t, out);
			c->stats.naks_sent++;
			PEER_COUNT(c, a->node, naks_to);
			break;
		}
		case RBA_SEND_GONE: {
			struct wire_rb_gone g = {.origin = c->p.node_id, .oldest = a->oldest};
			t.kind = K_GONE;
			t.u.gone = &g;
			pack_put(c, to_node(c, a->node), &t, out);
			c->stats.gones_sent++;
			break;
		}
		case RBA_DELIVER:
			if (a->len > sizeof(act->data))
				break; /* cannot happen: data fits a datagram */
			PEER_COUNT(c, a->node, delivered);
			act = push(out, CA_DELIVER, a->node);
			if (act) {
				memcpy(act->data, a->data, a->len);
				act->len = (uint16_t)a->len;
			}
			break;
		case RBA_OUT_OF_SYNC:
			PEER_COUNT(c, a->node, out_of_sync);
			push(out, CA_OUT_OF_SYNC, a->node);
			break;
		}
	}
	out->dropped += c->rba.dropped;
	rb_actions_reset(&c->rba);
	c->rba.dropped = 0;
}

/* ---- input ---- */

/* The channels of state one datagram carried so far. */
struct states_seen {
	size_t n;
	uint8_t chan[WIRE_STATE_SLOTS];
};

/* The datagram's rules for its state TLVs: each channel once, so many at most. */
static enum wire_state_reason state_admit(struct states_seen *seen, uint8_t chan)
{
	for (size_t i = 0; i < seen->n; i++)
		if (seen->chan[i] == chan)
			return WS_DUPLICATE;
	if (seen->n == WIRE_STATE_SLOTS)
		return WS_TOO_MANY;
	seen->chan[seen->n++] = chan;
	return WS_OK;
}

static void on_tlv(struct cluster *c, const struct wire_msg *msg, const struct tlv *t,
		   unsigned path, struct states_seen *seen, uint64_t now,
		   struct cluster_actions *out)
{
	switch (t->type) {
	case TLV_HEARTBEAT: {
		struct wire_heartbeat hb;
		if (wire_get_heartbeat(t, &hb) < 0) {
			c->stats.malformed_payload++;
			return;
		}
		c->stats.heartbeats_received++;
		(void)member_on_heartbeat(c->m, msg->sender, path, &hb, now, &c->mev);
		on_member_events(c, out);
		rbcast_on_next_seq(c->rb, msg->sender, msg->epoch, hb.rb_next, now, &c->rba);
		break;
	}
	case TLV_RB_DATA: {
		struct wire_rb_data d;
		if (wire_get_rb_data(t, &d) < 0) {
			c->stats.malformed_payload++;
			return;
		}
		PEER_COUNT(c, msg->sender, messages);
		rbcast_on_data(c->rb, msg->sender, msg->epoch, d.seq, d.data, d.len, now, &c->rba);
		break;
	}
	case TLV_RB_NAK: {
		struct wire_rb_nak n;
		if (wire_get_rb_nak(t, &n) < 0) {
			c->stats.malformed_payload++;
			return;
		}
		if (n.origin != c->p.node_id)
			return; /* to another origin, on a heartbeat */
		c->stats.naks_received++;
		PEER_COUNT(c, msg->sender, naks_from);
		size_t before = c->rba.n;
		rbcast_on_nak(c->rb, msg->sender, n.first, n.last, now, &c->rba);
		struct cluster_peer_stats *ps = peer(c, msg->sender);
		for (size_t i = before; ps && i < c->rba.n; i++)
			ps->resent_for += c->rba.v[i].type == RBA_SEND_DATA && c->rba.v[i].resent;
		break;
	}
	case TLV_RB_GONE: {
		struct wire_rb_gone g;
		if (wire_get_rb_gone(t, &g) < 0) {
			c->stats.malformed_payload++;
			return;
		}
		if (g.origin != msg->sender)
			return; /* only the origin speaks for its buffer */
		rbcast_on_gone(c->rb, g.origin, msg->epoch, g.oldest, now, &c->rba);
		break;
	}
	case TLV_STATE: {
		struct wire_state st;
		enum wire_state_reason why = wire_get_state(t, &st);
		if (why == WS_OK)
			why = state_admit(seen, st.chan);
		if (why != WS_OK) {
			c->stats.state_drops[why < WS__COUNT ? why : WS_NO_CHANNEL]++;
			return;
		}
		c->stats.states_received++;
		struct cluster_action *a = push(out, CA_STATE, msg->sender);
		if (a) {
			a->chan = st.chan;
			memcpy(a->data, st.data, st.len); /* len <= WIRE_STATE_MAX */
			a->len = (uint16_t)st.len;
		}
		return;
	}
	default:
		return;
	}
	on_rb_actions(c, false, out);
}

/* srcwatch's log lines as CA_LOG actions. */
static void on_logs(struct cluster *c, struct cluster_actions *out)
{
	for (size_t i = 0; i < c->logs.n; i++) {
		const struct action *a = &c->logs.v[i];
		if (a->type != ACT_LOG)
			continue;
		size_t n = strnlen(a->u.log.text, sizeof(a->u.log.text));
		struct cluster_action *act = push(out, CA_LOG, 0);
		if (!act)
			continue;
		act->level = a->u.log.level;
		memcpy(act->data, a->u.log.text, n);
		act->data[n] = 0;
		act->len = (uint16_t)n;
	}
	out->dropped += c->logs.dropped;
	c->logs.dropped = 0;
	actions_reset(&c->logs);
}

/*
 * A refused datagram from from (0: unknown). Our own node ID is our own
 * datagram come back when it carries our epoch (a Peers= entry naming us,
 * multicast loopback, a replay), and a second node with our ID otherwise.
 */
static void refused(struct cluster *c, enum wire_reason r, const struct wire_msg *msg,
		    uint32_t from, uint64_t now, struct cluster_actions *out)
{
	c->stats.drops[r]++;
	bool foreign = r == WR_OWN && msg->epoch != c->p.epoch;
	if (foreign)
		c->stats.own_node_id++;
	if (!from)
		return;
	if (r == WR_OWN && !foreign) {
		srcwatch_self(c->sw, from);
		return;
	}
	srcwatch_refused(c->sw, from, r, r == WR_OWN ? msg->sender : 0, now, &c->logs);
	on_logs(c, out);
}

void cluster_input(struct cluster *c, const uint8_t *buf, size_t len, uint64_t now,
		   struct cluster_actions *out)
{
	cluster_input_from(c, buf, len, 0, now, out);
}

void cluster_input_from(struct cluster *c, const uint8_t *buf, size_t len, uint32_t from,
			uint64_t now, struct cluster_actions *out)
{
	cluster_input_path(c, buf, len, from, 0, now, out);
}

void cluster_input_path(struct cluster *c, const uint8_t *buf, size_t len, uint32_t from,
			unsigned path, uint64_t now, struct cluster_actions *out)
{
	if (path >= member_n_paths(c->m))
		path = 0;
	struct wire_msg msg;
	memset(&msg, 0, sizeof(msg));
	c->stats.rx_datagrams++;
	c->last_sender = 0;
	enum wire_reason r = wire_open(c->rx, buf, len, &msg, c->plain, sizeof(c->plain));
	if (r != WR_OK) {
		refused(c, r < WR__COUNT ? r : WR_TRUNCATED, &msg, from, now, out);
		return;
	}
	c->last_sender = msg.sender;
	c->stats.path_rx[path]++;
	if (from)
		srcwatch_heard(c->sw, from, now);
	PEER_COUNT(c, msg.sender, datagrams);
	size_t off = 0;
	struct tlv t;
	struct states_seen seen = {.n = 0};
	int rc;
	while ((rc = tlv_next(c->plain, msg.len, &off, &t)) > 0)
		on_tlv(c, &msg, &t, path, &seen, now, out);
	if (rc < 0)
		c->stats.malformed_payload++;
	pack_flush_all(c, out);
}

int cluster_broadcast(struct cluster *c, const uint8_t *data, size_t len, uint64_t now,
		      struct cluster_actions *out)
{
	if (len > WIRE_RB_MAX_DATA) {
		errno = EMSGSIZE;
		return -1;
	}
	int rc = rbcast_send(c->rb, data, len, now, &c->rba);
	int saved = errno;
	on_rb_actions(c, false, out);
	pack_flush_all(c, out);
	errno = saved;
	return rc;
}

void cluster_tick(struct cluster *c, uint64_t now, struct cluster_actions *out)
{
	member_tick(c->m, now, &c->mev);
	on_member_events(c, out);

	bool hb_due = member_heartbeat_due(c->m, now);
	if (hb_due) {
		struct wire_heartbeat hb;
		memset(&hb, 0, sizeof(hb));
		member_fill_heartbeat(c->m, &hb);
		/*
		 * How far our broadcasts went, only when none went out since the
		 * last heartbeat: this one travels apart from them and may
		 * overtake them (cluster.h), and the receivers would ask for
		 * data still on its way. 0: not said. A lost tail is then found
		 * one heartbeat later; a hole in a stream by the data after it.
		 */
		uint64_t next = rbcast_next_seq(c->rb);
		hb.rb_next = next == c->hb_rb_next ? next : 0;
		c->hb_rb_next = next;
		struct tlv_any t = {.kind = K_HB, .u.hb = &hb};
		struct dest every = {CA_SEND_ALL, 0, -1};
		pack_put(c, every, &t, out);
		c->stats.heartbeats_sent++;
		put_states(c, every, out);
	}
	rbcast_tick(c->rb, now, &c->rba);
	on_rb_actions(c, hb_due, out);
	pack_flush_all(c, out);
	srcwatch_tick(c->sw, now, &c->logs);
	on_logs(c, out);
}

uint64_t cluster_next_deadline(const struct cluster *c)
{
	uint64_t m = member_next_deadline(c->m);
	uint64_t r = rbcast_next_deadline(c->rb);
	uint64_t w = srcwatch_next_deadline(c->sw);
	if (r < m)
		m = r;
	return w < m ? w : m;
}

int cluster_set_state(struct cluster *c, uint8_t chan, const uint8_t *data, size_t len)
{
	if (chan == 0) {
		errno = EINVAL;
		return -1;
	}
	if (len > WIRE_STATE_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	struct state_slot *slot = NULL, *free_slot = NULL;
	size_t others = 0; /* TLV bytes of the other channels */
	for (size_t i = 0; i < CLUSTER_STATE_SLOTS; i++) {
		struct state_slot *sl = &c->state[i];
		if (sl->chan == chan)
			slot = sl;
		else if (sl->chan)
			others += WIRE_STATE_TLV_LEN(sl->len);
		else if (!free_slot)
			free_slot = sl;
	}
	if (len == 0) {
		if (slot) {
			slot->chan = 0;
			slot->len = 0;
		}
		return 0;
	}
	if (others + WIRE_STATE_TLV_LEN(len) > WIRE_STATE_ROOM) {
		errno = EMSGSIZE;
		return -1;
	}
	if (!slot)
		slot = free_slot;
	if (!slot) {
		errno = ENOSPC;
		return -1;
	}
	memmove(slot->data, data, len);
	slot->chan = chan;
	slot->len = len;
	return 0;
}

void cluster_push_state(struct cluster *c, uint32_t node, struct cluster_actions *out)
{
	put_states(c, node ? to_node(c, node) : to_all(c), out);
	pack_flush_all(c, out);
}

void cluster_set_link(struct cluster *c, bool up, uint64_t now, struct cluster_actions *out)
{
	cluster_set_path_link(c, 0, up, now, out);
}

void cluster_set_path_link(struct cluster *c, unsigned path, bool up, uint64_t now,
			   struct cluster_actions *out)
{
	member_set_link(c->m, path, up, now, &c->mev);
	on_member_events(c, out);
}

uint32_t cluster_last_sender(const struct cluster *c)
{
	return c->last_sender;
}

const struct cluster_stats *cluster_stats(const struct cluster *c)
{
	return &c->stats;
}

size_t cluster_peer_stats(const struct cluster *c, struct cluster_peer_stats *out, size_t cap)
{
	for (size_t i = 0; i < c->npeers && i < cap; i++)
		out[i] = c->peers[i];
	return c->npeers;
}

const struct rb_stats *cluster_rb_stats(const struct cluster *c)
{
	return rbcast_stats(c->rb);
}

const struct member *cluster_member(const struct cluster *c)
{
	return c->m;
}

uint32_t cluster_node_id(const struct cluster *c)
{
	return c->p.node_id;
}

const struct srcwatch *cluster_srcwatch(const struct cluster *c)
{
	return c->sw;
}
