/*
 * devices/clock.c — virtual time and the timer queue (see clock.h).
 */
#include "devices/clock.h"

#include "cpu/cpu.h"
#include "devices/machine.h"

uint64_t clock_now(const struct machine *m)
{
	return cpu_clock_ns(m->cpu[m->current_cpu]);
}

void vtimer_init(struct vtimer *t, void (*cb)(void *opaque), void *opaque)
{
	t->cb = cb;
	t->opaque = opaque;
	t->next = NULL;
	t->armed = false;
	t->deadline = 0;
	t->owner = NULL;
}

void vtimer_set_owner(struct vtimer *t, const struct cpu *owner)
{
	t->owner = owner;
}

void vtimer_cancel(struct machine *m, struct vtimer *t)
{
	if (!t->armed)
		return;
	for (struct vtimer **pp = &m->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

void vtimer_arm(struct machine *m, struct vtimer *t, uint64_t deadline)
{
	vtimer_cancel(m, t);
	t->deadline = deadline;
	struct vtimer **pp = &m->timers;
	while (*pp && (*pp)->deadline <= deadline)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->armed = true;
	/* The running vCPU must notice a deadline earlier than its budget. */
	if (m->ncpus)
		m->cpu[m->current_cpu]->pending |= PEND_EXIT;
}

/* Unlink and return the first timer due by its own clock, or NULL. The
 * queue is in deadline order, so the walk stops at the first deadline no
 * vCPU clock has reached. */
static struct vtimer *take_due(struct machine *m, uint64_t now, uint64_t latest)
{
	for (struct vtimer **pp = &m->timers; *pp && (*pp)->deadline <= latest; pp = &(*pp)->next) {
		struct vtimer *t = *pp;
		if (t->deadline <= (t->owner ? cpu_clock_ns(t->owner) : now)) {
			*pp = t->next;
			t->next = NULL;
			t->armed = false;
			return t;
		}
	}
	return NULL;
}

uint64_t clock_run_timers(struct machine *m)
{
	uint64_t now = clock_now(m), latest = now;
	for (int i = 0; i < m->ncpus; i++)
		if (cpu_clock_ns(m->cpu[i]) > latest)
			latest = cpu_clock_ns(m->cpu[i]);
	for (struct vtimer *t; (t = take_due(m, now, latest));)
		t->cb(t->opaque);
	return m->timers ? m->timers->deadline : UINT64_MAX;
}
