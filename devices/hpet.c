/*
 * devices/hpet.c — HPET (IA-PC HPET 1.0a): main counter derived from virtual
 * time, three comparators with one vtimer each, legacy replacement routing.
 *
 * Register map (spec §2.3):
 *   000 capabilities/ID   010 general config   020 general int status
 *   0F0 main counter      100+20h*N timer N config/cap
 *   108+20h*N comparator  110+20h*N FSB route (not implemented: reads 0)
 * Every register is 64 bits wide and may be accessed as two dwords.
 *
 * The counter is kept as (value at t_ref, t_ref): while enabled it reads
 * value + (now - t_ref) / 10 ns, so the time a comparator matches is exact
 * and no host time is involved.
 */
#include "devices/hpet.h"

#include <stdlib.h>
#include <string.h>

#include "devices/clock.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

#define TICK_NS 10u

/* General configuration (§2.3.5). */
#define CFG_ENABLE 1u
#define CFG_LEGACY 2u

/* Timer N configuration (§2.3.8). */
#define TN_LEVEL       (1u << 1)
#define TN_INT_ENB     (1u << 2)
#define TN_PERIODIC    (1u << 3)
#define TN_PER_CAP     (1u << 4)
#define TN_SIZE_CAP    (1u << 5)
#define TN_VAL_SET     (1u << 6)
#define TN_32BIT       (1u << 8)
#define TN_ROUTE_SHIFT 9
#define TN_ROUTE_MASK  (0x1fu << TN_ROUTE_SHIFT)
#define TN_WMASK       (TN_LEVEL | TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | TN_32BIT | TN_ROUTE_MASK)
#define ROUTE_CAP      0x00f00000u /* IOAPIC pins 20-23 */

struct hpet_timer {
	struct hpet *h;
	int n;
	uint64_t config;
	uint64_t cmp;
	uint64_t period;
	bool line; /* current output level (level-triggered) */
	struct vtimer vt;
};

struct hpet {
	struct machine *m;
	uint64_t config;
	uint64_t isr;
	uint64_t counter; /* counter value at t_ref */
	uint64_t t_ref;
	struct hpet_timer t[HPET_NTIMERS];
	struct irq_line pins[HPET_NPINS];
	struct irq_line legacy[2];
	void (*legacy_changed)(void *opaque, bool on);
	void *opaque;
};

static uint64_t now(const struct hpet *h)
{
	return clock_now(h->m);
}

static uint64_t counter_now(const struct hpet *h)
{
	if (!(h->config & CFG_ENABLE))
		return h->counter;
	return h->counter + (now(h) - h->t_ref) / TICK_NS;
}

/* The line a timer drives now (spec §2.3.5 legacy replacement). */
static const struct irq_line *timer_line(struct hpet *h, int n)
{
	if ((h->config & CFG_LEGACY) && n < 2)
		return &h->legacy[n];
	unsigned pin = (unsigned)(h->t[n].config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT;
	if (!(ROUTE_CAP >> pin & 1))
		return NULL;
	return &h->pins[pin];
}

static void set_line(struct hpet *h, int n, bool level)
{
	struct hpet_timer *t = &h->t[n];
	if (t->line == level)
		return;
	t->line = level;
	irq_set(timer_line(h, n), level);
}

static void timer_interrupt(struct hpet *h, int n)
{
	struct hpet_timer *t = &h->t[n];
	if (t->config & TN_LEVEL) {
		h->isr |= 1ull << n;
		if (t->config & TN_INT_ENB)
			set_line(h, n, true);
	} else if (t->config & TN_INT_ENB) {
		irq_set(timer_line(h, n), 1);
		irq_set(timer_line(h, n), 0);
	}
}

/* Arm the vtimer for the next comparator match (one pass of the counter at
 * most: a 64-bit comparator behind the counter never matches again). */
static void timer_arm(struct hpet *h, int n)
{
	struct hpet_timer *t = &h->t[n];
	if (!(h->config & CFG_ENABLE)) {
		vtimer_cancel(h->m, &t->vt);
		return;
	}
	uint64_t cur = counter_now(h), ticks;
	if (t->config & TN_32BIT) {
		ticks = (uint32_t)((uint32_t)t->cmp - (uint32_t)cur);
	} else {
		if (t->cmp < cur) {
			vtimer_cancel(h->m, &t->vt);
			return;
		}
		ticks = t->cmp - cur;
	}
	/* Match time: when counter_now() reaches cur + ticks. */
	uint64_t target = cur + ticks - h->counter;
	vtimer_arm(h->m, &t->vt, h->t_ref + target * TICK_NS);
}

static void timer_cb(void *opaque)
{
	struct hpet_timer *t = opaque;
	struct hpet *h = t->h;
	if (!(h->config & CFG_ENABLE))
		return;
	timer_interrupt(h, t->n);
	uint64_t cur = counter_now(h);
	if ((t->config & TN_PERIODIC) && t->period) {
		/* Periodic: the comparator advances by the period (§2.3.9.2.2);
		 * missed periods coalesce. */
		uint64_t mask = (t->config & TN_32BIT) ? 0xffffffffull : ~0ull;
		t->cmp = (t->cmp + t->period) & mask;
		uint64_t ahead = (t->cmp - cur) & mask;
		if (ahead > (mask >> 1)) {
			uint64_t behind = (cur - t->cmp) & mask;
			uint64_t k = (behind + t->period - 1) / t->period;
			t->cmp = (t->cmp + k * t->period) & mask;
		}
		timer_arm(h, t->n);
	} else if (t->config & TN_32BIT) {
		/* A 32-bit one-shot matches again after the counter wraps. */
		vtimer_arm(h->m, &t->vt, t->vt.deadline + (1ull << 32) * TICK_NS);
	}
}

static void arm_all(struct hpet *h)
{
	for (int n = 0; n < HPET_NTIMERS; n++)
		timer_arm(h, n);
}

static uint64_t cap_id(void)
{
	/* REV_ID 1, NUM_TIM_CAP, COUNT_SIZE_CAP, LEG_RT_CAP, vendor, period. */
	return 1u | (HPET_NTIMERS - 1) << 8 | 1u << 13 | 1u << 15 | 0x8086u << 16 |
	       (uint64_t)HPET_PERIOD_FS << 32;
}

static uint64_t reg_read(struct hpet *h, unsigned off)
{
	switch (off) {
	case 0x000:
		return cap_id();
	case 0x010:
		return h->config;
	case 0x020:
		return h->isr;
	case 0x0f0:
		return counter_now(h);
	}
	if (off >= 0x100 && off < 0x100 + 0x20 * HPET_NTIMERS) {
		struct hpet_timer *t = &h->t[(off - 0x100) / 0x20];
		switch (off & 0x1f) {
		case 0x00:
			return t->config | TN_PER_CAP | TN_SIZE_CAP | (uint64_t)ROUTE_CAP << 32;
		case 0x08:
			return (t->config & TN_32BIT) ? (uint32_t)t->cmp : t->cmp;
		}
	}
	return 0;
}

static void write_config(struct hpet *h, uint64_t v)
{
	uint64_t old = h->config;
	v &= CFG_ENABLE | CFG_LEGACY;
	if ((old ^ v) & CFG_ENABLE) {
		/* Freeze or restart the counter at the current value. */
		h->counter = counter_now(h);
		h->t_ref = now(h);
	}
	/* Move level-triggered lines that are active to their new route. */
	bool lines[HPET_NTIMERS];
	for (int n = 0; n < HPET_NTIMERS; n++) {
		lines[n] = h->t[n].line;
		set_line(h, n, false);
	}
	h->config = v;
	if (((old ^ v) & CFG_LEGACY) && h->legacy_changed)
		h->legacy_changed(h->opaque, v & CFG_LEGACY);
	for (int n = 0; n < HPET_NTIMERS; n++)
		if (lines[n] && (v & CFG_ENABLE))
			set_line(h, n, true);
	arm_all(h);
}

static void write_timer(struct hpet *h, int n, unsigned reg, uint64_t v, uint64_t bytes)
{
	struct hpet_timer *t = &h->t[n];
	if (reg == 0x00) {
		bool was_line = t->line;
		set_line(h, n, false);
		t->config = (t->config & ~bytes) | (v & bytes & TN_WMASK);
		if (t->config & TN_32BIT)
			t->cmp = (uint32_t)t->cmp;
		/* A level interrupt still pending stays asserted if enabled. */
		if (was_line && (h->isr >> n & 1) && (t->config & TN_INT_ENB) &&
		    (t->config & TN_LEVEL))
			set_line(h, n, true);
		timer_arm(h, n);
		return;
	}
	if (reg != 0x08)
		return;
	uint64_t val = (t->cmp & ~bytes) | (v & bytes);
	if (t->config & TN_32BIT)
		val = (uint32_t)val;
	if (t->config & TN_PERIODIC) {
		/* With Tn_VAL_SET_CNF the write sets the accumulator; every write
		 * sets the period (§2.3.9.2.2). */
		if (t->config & TN_VAL_SET)
			t->cmp = val;
		t->period = (t->period & ~bytes) | (v & bytes);
		if (t->config & TN_32BIT)
			t->period = (uint32_t)t->period;
	} else {
		t->cmp = val;
	}
	t->config &= ~(uint64_t)TN_VAL_SET;
	timer_arm(h, n);
}

static void reg_write(struct hpet *h, unsigned off, uint64_t v, uint64_t bytes)
{
	switch (off) {
	case 0x010:
		write_config(h, (h->config & ~bytes) | (v & bytes));
		return;
	case 0x020:
		/* Write 1 to clear a level-triggered status bit. */
		h->isr &= ~(v & bytes);
		for (int n = 0; n < HPET_NTIMERS; n++)
			if (!(h->isr >> n & 1))
				set_line(h, n, false);
		return;
	case 0x0f0:
		/* Software should only write it while halted (§2.3.7). */
		h->counter = (counter_now(h) & ~bytes) | (v & bytes);
		h->t_ref = now(h);
		arm_all(h);
		return;
	}
	if (off >= 0x100 && off < 0x100 + 0x20 * HPET_NTIMERS)
		write_timer(h, (int)(off - 0x100) / 0x20, off & 0x18, v, bytes);
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	uint64_t v = reg_read(opaque, (unsigned)off & 0x3f8) >> ((off & 7) * 8);
	return size >= 8 ? v : v & ((1ull << (size * 8)) - 1);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	unsigned sh = (unsigned)(off & 7) * 8;
	uint64_t bytes = (size >= 8 ? ~0ull : (1ull << (size * 8)) - 1) << sh;
	reg_write(opaque, (unsigned)off & 0x3f8, val << sh, bytes);
}

static const struct mmio_ops hpet_ops = { mmio_read, mmio_write };

void hpet_reset(struct hpet *h)
{
	for (int n = 0; n < HPET_NTIMERS; n++) {
		vtimer_cancel(h->m, &h->t[n].vt);
		set_line(h, n, false);
		h->t[n].config = 0;
		h->t[n].cmp = ~0ull;
		h->t[n].period = 0;
	}
	bool legacy = h->config & CFG_LEGACY;
	h->config = 0;
	h->isr = 0;
	h->counter = 0;
	h->t_ref = 0;
	if (legacy && h->legacy_changed)
		h->legacy_changed(h->opaque, false);
}

struct hpet *hpet_init(struct machine *m, uint64_t base)
{
	struct hpet *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->m = m;
	for (int n = 0; n < HPET_NTIMERS; n++) {
		h->t[n].h = h;
		h->t[n].n = n;
		vtimer_init(&h->t[n].vt, timer_cb, &h->t[n]);
	}
	hpet_reset(h);
	mmu_map_mmio(m->mmu, base, 0x400, &hpet_ops, h, "hpet");
	return h;
}

void hpet_connect(struct hpet *h, const struct irq_line pins[HPET_NPINS],
		  const struct irq_line legacy[2], void (*legacy_changed)(void *opaque, bool on),
		  void *opaque)
{
	if (pins)
		memcpy(h->pins, pins, sizeof(h->pins));
	if (legacy)
		memcpy(h->legacy, legacy, sizeof(h->legacy));
	h->legacy_changed = legacy_changed;
	h->opaque = opaque;
}

void hpet_free(struct hpet *h)
{
	if (!h)
		return;
	for (int n = 0; n < HPET_NTIMERS; n++)
		vtimer_cancel(h->m, &h->t[n].vt);
	free(h);
}
