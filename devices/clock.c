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

uint64_t clock_run_timers(struct machine *m)
{
	uint64_t now = clock_now(m);
	while (m->timers && m->timers->deadline <= now) {
		struct vtimer *t = m->timers;
		m->timers = t->next;
		t->next = NULL;
		t->armed = false;
		t->cb(t->opaque);
	}
	return m->timers ? m->timers->deadline : UINT64_MAX;
}
