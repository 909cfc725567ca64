/*
 * actions: the list of things a core asks the shell to do.
 */
#include "actions.h"

#include "array.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void actions_init(struct actions *a)
{
	memset(a, 0, sizeof(*a));
}

void actions_free(struct actions *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void actions_reset(struct actions *a)
{
	a->n = 0;
}

struct action *actions_push(struct actions *a, enum action_type type, uint32_t ifindex)
{
	struct action *act =
	    array_append((void **)&a->v, &a->n, &a->cap, sizeof(*a->v), 16, 0, &a->dropped);
	if (!act)
		return NULL;
	act->type = (uint8_t)type;
	act->ifindex = ifindex;
	return act;
}

void actions_log(struct actions *a, uint32_t ifindex, enum log_level level, const char *fmt, ...)
{
	struct action *act = actions_push(a, ACT_LOG, ifindex);
	if (!act)
		return;
	act->u.log.level = (uint8_t)level;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(act->u.log.text, sizeof(act->u.log.text), fmt, ap);
	va_end(ap);
}

void actions_send(struct actions *a, uint32_t ifindex, const struct arp_frame *f)
{
	struct action *act = actions_push(a, ACT_SEND, ifindex);
	if (!act)
		return;
	act->u.frame.len = (uint16_t)frame_build(f, act->u.frame.buf, sizeof(act->u.frame.buf));
	if (act->u.frame.len == 0)
		a->n--; /* cannot happen: FRAME_MAX_LEN fits every frame */
}
