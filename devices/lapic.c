/*
 * devices/lapic.c — local APIC per vCPU (Intel SDM Vol. 3 ch. 11): xAPIC MMIO
 * and x2APIC MSR register files, interrupt acceptance (IRR/ISR/TMR, TPR/PPR),
 * EOI with broadcast to the IOAPIC, LVT (timer, LINT0/1, error, thermal,
 * perf), the APIC timer (one-shot, periodic, TSC deadline), IPIs through the
 * ICR and INIT/SIPI. See lapic.h for the wiring a board does.
 *
 * Register layout (xAPIC MMIO offset; x2APIC MSR = 800h + offset / 16):
 *   020 ID        030 version   080 TPR   090 APR   0A0 PPR   0B0 EOI
 *   0C0 RRD       0D0 LDR       0E0 DFR   0F0 SVR   100-170 ISR
 *   180-1F0 TMR   200-270 IRR   280 ESR   300/310 ICR   320 LVT timer
 *   330 thermal   340 perf      350 LINT0 360 LINT1 370 error
 *   380 initial count  390 current count  3E0 divide config  3F0 SELF IPI (x2)
 */
#include "devices/lapic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/tsc.h"
#include "devices/clock.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

#define BASE_BSP  (1ull << 8)
#define BASE_EXTD (1ull << 10)
#define BASE_EN   (1ull << 11)

/* LVT indices (in register order from 320h). */
enum {
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PERF,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR,
	LVT_N
};

#define LVT_MASKED     (1u << 16)
#define LVT_LEVEL      (1u << 15)
#define LVT_REMOTE_IRR (1u << 14)
#define LVT_DM(v)      (((v) >> 8) & 7)
#define TIMER_MODE(v)  (((v) >> 17) & 3)
enum {
	TM_ONESHOT,
	TM_PERIODIC,
	TM_DEADLINE
};

#define SVR_ENABLE       (1u << 8)
#define SVR_EOI_SUPPRESS (1u << 12)

/* ESR bits (SDM §11.5.3). */
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG  (1u << 7)

/* Version: 14h (integrated APIC), max LVT entry 5, EOI-broadcast
 * suppression supported (bit 24, SDM §11.8.5). */
#define APIC_VERSION (0x14u | 5u << 16 | 1u << 24)

#define MAX_REGIONS 4

struct lapic {
	struct cpu *cpu;
	struct lapic_sys *sys;
	uint32_t id;  /* xAPIC ID (8 bits); x2APIC ID is cpu->index */
	uint32_t tpr; /* TPR[7:4] mirrors CR8 */
	uint32_t ldr, dfr, svr;
	uint32_t esr, esr_pending;
	uint32_t icr_lo, icr_hi;
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t lvt[LVT_N];
	uint32_t timer_icr, dcr;
	uint64_t timer_start; /* ns: when the current count was timer_icr */
	/* The one-shot count reached 0: TMCCT stays 0, also across a switch
	 * to periodic mode, until TMICT is written. */
	bool timer_zero;
	uint64_t tsc_deadline;
	struct vtimer timer;
	bool lint[2];
	uint8_t sipi_vector;
};

struct lapic_sys {
	struct machine *m;
	int (*extint_ack)(void *opaque);
	void *extint_opaque;
	void (*eoi)(void *opaque, int vector);
	void *eoi_opaque;
	bool smi_logged;
	int nregions;
	struct region {
		struct lapic_sys *s;
		uint64_t base;
	} region[MAX_REGIONS];
	struct lapic apic[MAX_CPUS];
};

static inline bool hw_enabled(const struct lapic *l)
{
	return l->cpu->msr.apic_base & BASE_EN;
}
static inline bool x2apic(const struct lapic *l)
{
	return (l->cpu->msr.apic_base & (BASE_EN | BASE_EXTD)) == (BASE_EN | BASE_EXTD);
}
static inline bool sw_enabled(const struct lapic *l)
{
	return l->svr & SVR_ENABLE;
}

/* ---- 256-bit vectors ---- */

static inline void vset(uint32_t *v, int n)
{
	v[n >> 5] |= 1u << (n & 31);
}
static inline void vclr(uint32_t *v, int n)
{
	v[n >> 5] &= ~(1u << (n & 31));
}
static inline bool vtst(const uint32_t *v, int n)
{
	return v[n >> 5] >> (n & 31) & 1;
}

/* Highest set bit or -1. */
static int vhigh(const uint32_t *v)
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

/* ---- priorities (SDM §11.8.3.1) ---- */

static uint32_t get_tpr(struct lapic *l)
{
	/* MOV CR8 writes TPR[7:4] through cpu->cr8 and clears TPR[3:0]. */
	if ((l->tpr >> 4) != (l->cpu->cr8 & 0xf))
		l->tpr = (uint32_t)(l->cpu->cr8 & 0xf) << 4;
	return l->tpr;
}

static uint32_t get_ppr(struct lapic *l)
{
	uint32_t tpr = get_tpr(l);
	int isrv = vhigh(l->isr);
	uint32_t isrc = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (tpr & 0xf0) >= isrc ? tpr : isrc;
}

static uint32_t get_apr(struct lapic *l)
{
	uint32_t tpr = get_tpr(l);
	int irrv = vhigh(l->irr), isrv = vhigh(l->isr);
	uint32_t m = (uint32_t)(irrv > isrv ? irrv : isrv);
	if (irrv < 0 && isrv < 0)
		m = 0;
	return (tpr & 0xf0) >= (m & 0xf0) ? tpr : (m & 0xf0);
}

/* ---- interrupt acceptance ---- */

/* Is the 8259 reaching this vCPU through LINT0 (virtual wire) or, with the
 * APIC globally disabled, through the INTR pin (SDM §11.4.3)? */
static bool extint_active(const struct lapic *l)
{
	if (!l->lint[0])
		return false;
	if (!hw_enabled(l))
		return true;
	uint32_t v = l->lvt[LVT_LINT0];
	return !(v & LVT_MASKED) && LVT_DM(v) == APIC_DM_EXTINT;
}

static bool lapic_irq_pending(struct cpu *cpu)
{
	struct lapic *l = cpu->apic;
	if (cpu->halted == LAPIC_WAIT_SIPI)
		return false;
	if (extint_active(l))
		return true;
	if (!hw_enabled(l))
		return false;
	int v = vhigh(l->irr);
	return v >= 0 && ((uint32_t)v & 0xf0) > (get_ppr(l) & 0xf0);
}

static void kick(struct lapic *l)
{
	if (lapic_irq_pending(l->cpu))
		l->cpu->pending |= PEND_IRQ;
}

static int lapic_irq_ack(struct cpu *cpu)
{
	struct lapic *l = cpu->apic;
	if (cpu->halted == LAPIC_WAIT_SIPI)
		return -1;
	if (extint_active(l)) {
		/* ExtINT bypasses IRR/ISR and priorities: the PIC supplies the
		 * vector in the INTA cycle (SDM §11.6.1). */
		struct lapic_sys *s = l->sys;
		return s->extint_ack ? s->extint_ack(s->extint_opaque) : -1;
	}
	if (!hw_enabled(l))
		return -1;
	int v = vhigh(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (get_ppr(l) & 0xf0))
		return -1;
	vclr(l->irr, v);
	vset(l->isr, v);
	return v;
}

static void set_error(struct lapic *l, uint32_t bit);

/* Accept a fixed/lowest-priority interrupt into IRR (SDM §11.5.5: vectors
 * 0-15 are illegal). */
static void accept_irq(struct lapic *l, int vec, bool level)
{
	if (!hw_enabled(l))
		return;
	if (vec < 16) {
		set_error(l, ESR_RECV_ILLEGAL);
		return;
	}
	vset(l->irr, vec);
	if (level)
		vset(l->tmr, vec);
	else
		vclr(l->tmr, vec);
	kick(l);
}

static void raise_nmi(struct lapic *l)
{
	if (l->cpu->halted == LAPIC_WAIT_SIPI)
		return; /* NMI is blocked while waiting for SIPI */
	l->cpu->pending |= PEND_NMI;
}

/* There is no system-management mode: the CPU drops an SMI unless an SVM
 * guest intercepts it (cpu/exec.c), so it is raised all the same. */
static void log_smi(struct lapic *l)
{
	if (!l->sys->smi_logged)
		fprintf(stderr, "nestbox: warning: lapic: SMI not supported, ignored\n");
	l->sys->smi_logged = true;
	l->cpu->pending |= PEND_SMI;
}

/* Deliver through a local vector table entry (SDM §11.5.1). */
static void lvt_fire(struct lapic *l, int idx)
{
	uint32_t v = l->lvt[idx];
	if (v & LVT_MASKED)
		return;
	switch (LVT_DM(v)) {
	case APIC_DM_FIXED:
		accept_irq(l, v & 0xff, (idx == LVT_LINT0 || idx == LVT_LINT1) && (v & LVT_LEVEL));
		break;
	case APIC_DM_NMI:
		raise_nmi(l);
		break;
	case APIC_DM_SMI:
		log_smi(l);
		break;
	case APIC_DM_EXTINT:
		kick(l);
		break;
	case APIC_DM_INIT:
		l->cpu->pending |= PEND_INIT;
		break;
	default:
		break;
	}
}

static void set_error(struct lapic *l, uint32_t bit)
{
	bool first = !(l->esr_pending & bit);
	l->esr_pending |= bit;
	if (first)
		lvt_fire(l, LVT_ERROR);
}

void lapic_lint_set(void *opaque, int n, int level)
{
	struct lapic_sys *s = opaque;
	int ci = n >> 1, pin = n & 1;
	if (ci >= s->m->ncpus)
		return;
	struct lapic *l = &s->apic[ci];
	bool old = l->lint[pin];
	l->lint[pin] = level != 0;
	if (!hw_enabled(l)) {
		/* Disabled APIC: LINT0 is INTR, LINT1 is NMI (SDM §11.4.3). */
		if (pin == 0)
			kick(l);
		else if (level && !old)
			raise_nmi(l);
		return;
	}
	uint32_t v = l->lvt[LVT_LINT0 + pin];
	if (LVT_DM(v) == APIC_DM_EXTINT) {
		kick(l);
		return;
	}
	if (LVT_DM(v) == APIC_DM_FIXED && (v & LVT_LEVEL)) {
		/* Level-triggered LINT: remote IRR blocks re-delivery until
		 * EOI (SDM §11.5.1). */
		if (level && !(v & LVT_REMOTE_IRR) && !(v & LVT_MASKED)) {
			l->lvt[LVT_LINT0 + pin] |= LVT_REMOTE_IRR;
			lvt_fire(l, LVT_LINT0 + pin);
		}
		return;
	}
	if (level && !old)
		lvt_fire(l, LVT_LINT0 + pin);
}

/* ---- EOI (SDM §11.8.5) ---- */

static void do_eoi(struct lapic *l)
{
	int v = vhigh(l->isr);
	if (v < 0)
		return;
	vclr(l->isr, v);
	/* TMR keeps the trigger mode of the last acceptance of v. */
	if (vtst(l->tmr, v)) {
		for (int p = LVT_LINT0; p <= LVT_LINT1; p++) {
			uint32_t *e = &l->lvt[p];
			if ((*e & LVT_REMOTE_IRR) && (*e & 0xff) == (uint32_t)v) {
				*e &= ~LVT_REMOTE_IRR;
				if (l->lint[p - LVT_LINT0] && !(*e & LVT_MASKED)) {
					*e |= LVT_REMOTE_IRR;
					lvt_fire(l, p);
				}
			}
		}
		if (!(l->svr & SVR_EOI_SUPPRESS) && l->sys->eoi)
			l->sys->eoi(l->sys->eoi_opaque, v);
	}
	kick(l);
}

/* ---- timer (SDM §11.5.4) ---- */

static uint64_t tick_ns(const struct lapic *l)
{
	unsigned d = (l->dcr & 3) | ((l->dcr >> 1) & 4);
	return (uint64_t)LAPIC_BUS_NS << (d == 7 ? 0 : d + 1);
}

static uint64_t now_ns(const struct lapic *l)
{
	return cpu_clock_ns(l->cpu);
}

static uint32_t current_count(const struct lapic *l)
{
	if (!l->timer_icr || l->timer_zero || TIMER_MODE(l->lvt[LVT_TIMER]) == TM_DEADLINE)
		return 0;
	uint64_t now = now_ns(l);
	uint64_t ticks = now > l->timer_start ? (now - l->timer_start) / tick_ns(l) : 0;
	if (TIMER_MODE(l->lvt[LVT_TIMER]) == TM_PERIODIC)
		return l->timer_icr - (uint32_t)(ticks % l->timer_icr);
	return ticks >= l->timer_icr ? 0 : l->timer_icr - (uint32_t)ticks;
}

static void timer_arm_count(struct lapic *l)
{
	struct machine *m = l->sys->m;
	if (!l->timer_icr) {
		vtimer_cancel(m, &l->timer);
		return;
	}
	vtimer_arm(m, &l->timer, l->timer_start + (uint64_t)l->timer_icr * tick_ns(l));
}

/* TSC value -> ns of this vCPU's virtual clock (rounded up). */
static uint64_t tsc_to_ns(const struct lapic *l, uint64_t tsc)
{
	const struct cpu *c = l->cpu;
	uint64_t hz = c->model ? c->model->tsc_hz : 1000000000ull;
	uint64_t raw = tsc - c->msr.tsc_offset;
	if (!hz || hz == 1000000000ull)
		return raw;
	return (uint64_t)(((unsigned __int128)raw * 1000000000ull + hz - 1) / hz);
}

static void timer_cb(void *opaque)
{
	struct lapic *l = opaque;
	uint32_t lvt = l->lvt[LVT_TIMER];
	switch (TIMER_MODE(lvt)) {
	case TM_DEADLINE:
		if (!l->tsc_deadline)
			return;
		l->tsc_deadline = 0;
		break;
	case TM_PERIODIC:
		if (!l->timer_icr || l->timer_zero)
			return;
		{
			uint64_t period = (uint64_t)l->timer_icr * tick_ns(l);
			uint64_t now = now_ns(l);
			l->timer_start += period;
			/* Missed periods coalesce into one interrupt. */
			if (l->timer_start + period <= now)
				l->timer_start += (now - l->timer_start) / period * period;
			timer_arm_count(l);
		}
		break;
	default:
		if (!l->timer_icr || l->timer_zero)
			return;
		l->timer_zero = true;
		break;
	}
	lvt_fire(l, LVT_TIMER);
}

static void write_tsc_deadline(struct lapic *l, uint64_t v)
{
	/* Writes are ignored unless the timer is in TSC-deadline mode
	 * (SDM §11.5.4.1); 0 disarms. */
	if (TIMER_MODE(l->lvt[LVT_TIMER]) != TM_DEADLINE)
		return;
	l->tsc_deadline = v;
	if (!v) {
		vtimer_cancel(l->sys->m, &l->timer);
		return;
	}
	uint64_t ns = v <= cpu_tsc(l->cpu) ? now_ns(l) : tsc_to_ns(l, v);
	vtimer_arm(l->sys->m, &l->timer, ns);
}

static void write_lvt_timer(struct lapic *l, uint32_t v)
{
	uint32_t old = l->lvt[LVT_TIMER];
	uint32_t cur = current_count(l); /* under the old mode */
	l->lvt[LVT_TIMER] = v;
	if ((TIMER_MODE(old) == TM_DEADLINE) != (TIMER_MODE(v) == TM_DEADLINE)) {
		/* Switching to or from TSC-deadline mode disarms the timer. */
		vtimer_cancel(l->sys->m, &l->timer);
		l->timer_icr = 0;
		l->tsc_deadline = 0;
	} else if (TIMER_MODE(old) != TIMER_MODE(v) && l->timer_icr && !l->timer_zero) {
		/* One-shot <-> periodic: the count goes on from where it is
		 * (no reload); an expired one-shot count stays at 0. */
		if (!cur) {
			l->timer_zero = true;
			vtimer_cancel(l->sys->m, &l->timer);
		} else {
			l->timer_start = now_ns(l) - (uint64_t)(l->timer_icr - cur) * tick_ns(l);
			timer_arm_count(l);
		}
	}
}

/* ---- reset ---- */

static void lapic_reset(struct lapic *l, bool power_on)
{
	vtimer_cancel(l->sys->m, &l->timer);
	if (power_on)
		l->id = (uint32_t)l->cpu->index;
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	for (int i = 0; i < LVT_N; i++)
		l->lvt[i] = LVT_MASKED;
	/* Firmware puts the BSP in virtual-wire mode (LINT0 ExtINT, LINT1 NMI);
	 * starting there lets the PIC reach the BSP before firmware runs. */
	if (power_on && (l->cpu->msr.apic_base & BASE_BSP)) {
		l->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
		l->lvt[LVT_LINT1] = APIC_DM_NMI << 8;
	}
	l->timer_icr = 0;
	l->timer_start = 0;
	l->timer_zero = false;
	l->dcr = 0;
	l->tsc_deadline = 0;
}

/* Power-on: every LAPIC reset; application processors wait for SIPI
 * (SDM §8.4.1), only the BSP runs the firmware. */
static void power_on(struct lapic *l)
{
	lapic_reset(l, true);
	if (!(l->cpu->msr.apic_base & BASE_BSP))
		l->cpu->halted = LAPIC_WAIT_SIPI;
}

void lapic_reset_all(struct lapic_sys *s)
{
	for (int i = 0; i < s->m->ncpus; i++)
		power_on(&s->apic[i]);
}

void lapic_do_init_sipi(struct cpu *cpu)
{
	struct lapic *l = cpu->apic;
	if (cpu->pending & PEND_INIT) {
		cpu->pending &= ~(PEND_INIT | PEND_IRQ | PEND_NMI);
		cpu_reset(cpu, true);
		if (l)
			lapic_reset(l, false); /* INIT keeps the APIC ID (SDM §11.4.7.3) */
		/* The BSP restarts at the reset vector; APs wait for SIPI
		 * (SDM §8.4.1). */
		if (!(cpu->msr.apic_base & BASE_BSP))
			cpu->halted = LAPIC_WAIT_SIPI;
	}
	if (cpu->pending & PEND_SIPI) {
		cpu->pending &= ~PEND_SIPI;
		if (cpu->halted == LAPIC_WAIT_SIPI && l) {
			/* SDM §8.4.4.1: start in real mode at VV00:0000. */
			struct seg *cs = &cpu->seg[S_CS];
			cs->sel = (uint16_t)(l->sipi_vector << 8);
			cs->base = (uint64_t)l->sipi_vector << 12;
			cpu->rip = 0;
			cpu->ip_start = 0;
			cpu->halted = 0;
			cpu_update_mode(cpu);
			cpu->pending |= PEND_MODE;
		}
	}
}

/* ---- destinations (SDM §11.6.2) ---- */

static bool match_dest(struct lapic *l, uint32_t dest, int dest_mode)
{
	if (!hw_enabled(l))
		return false;
	if (x2apic(l)) {
		if (dest == 0xffffffffu)
			return true;
		if (!dest_mode)
			return dest == (uint32_t)l->cpu->index;
		uint32_t id = (uint32_t)l->cpu->index;
		uint32_t ldr = (id >> 4) << 16 | 1u << (id & 15);
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!dest_mode)
		return dest == (l->id & 0xff);
	uint32_t ld = l->ldr >> 24;
	if ((l->dfr >> 28) == 0xf)
		return (dest & ld) != 0;                      /* flat model */
	return (dest >> 4) == (ld >> 4) && (dest & ld & 0xf); /* cluster model */
}

static void deliver_one(struct lapic *l, int dm, int vec, bool level)
{
	switch (dm) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		accept_irq(l, vec, level);
		break;
	case APIC_DM_NMI:
		raise_nmi(l);
		break;
	case APIC_DM_SMI:
		log_smi(l);
		break;
	case APIC_DM_INIT:
		l->cpu->pending |= PEND_INIT;
		break;
	case APIC_DM_SIPI:
		l->sipi_vector = (uint8_t)vec;
		l->cpu->sipi_vector = (uint8_t)vec;
		l->cpu->pending |= PEND_SIPI;
		break;
	case APIC_DM_EXTINT:
		kick(l);
		break;
	default:
		break;
	}
}

/* Deliver to every LAPIC in mask (bit i = vCPU i); lowest priority picks
 * the lowest TPR, ties to the lowest vCPU number (deterministic). */
static void deliver_mask(struct machine *m, uint64_t mask, int dm, int vec, bool level)
{
	if (dm == APIC_DM_LOWEST && mask) {
		int best = -1;
		uint32_t bp = 0;
		for (int i = 0; i < m->ncpus; i++) {
			if (!(mask >> i & 1))
				continue;
			uint32_t p = get_tpr(m->cpu[i]->apic) & 0xf0;
			if (best < 0 || p < bp) {
				best = i;
				bp = p;
			}
		}
		mask = 1ull << best;
	}
	for (int i = 0; i < m->ncpus; i++)
		if (mask >> i & 1)
			deliver_one(m->cpu[i]->apic, dm, vec, level);
}

void lapic_deliver(struct machine *m, uint32_t dest, int dest_mode, int delivery_mode, int vector,
		   bool level)
{
	uint64_t mask = 0;
	for (int i = 0; i < m->ncpus; i++) {
		struct lapic *l = m->cpu[i]->apic;
		if (l && match_dest(l, dest, dest_mode))
			mask |= 1ull << i;
	}
	deliver_mask(m, mask, delivery_mode, vector & 0xff, level);
}

void lapic_msi(struct machine *m, uint64_t addr, uint32_t data)
{
	if ((addr >> 20) != 0xfee)
		return;
	lapic_deliver(m, (uint32_t)(addr >> 12) & 0xff, (int)(addr >> 2) & 1, (int)(data >> 8) & 7,
		      (int)(data & 0xff), (data >> 15) & 1);
}

/* Send the IPI described by the ICR (SDM §11.6.1). Delivery is immediate,
 * so the delivery-status bit always reads idle. */
static void send_ipi(struct lapic *l, uint32_t lo, uint32_t dest)
{
	struct machine *m = l->sys->m;
	int vec = lo & 0xff, dm = (lo >> 8) & 7, dmode = (lo >> 11) & 1;
	int shorthand = (lo >> 18) & 3;
	bool level = (lo >> 15) & 1, assert = (lo >> 14) & 1;
	if (dm == APIC_DM_INIT && level && !assert)
		return; /* INIT level de-assert: only resyncs arbitration IDs */
	if ((dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST) && vec < 16) {
		set_error(l, ESR_SEND_ILLEGAL);
		return;
	}
	uint64_t self = 1ull << l->cpu->index;
	uint64_t all = m->ncpus >= 64 ? ~0ull : (1ull << m->ncpus) - 1;
	uint64_t mask;
	switch (shorthand) {
	case 1:
		mask = self;
		break;
	case 2:
		mask = all;
		break;
	case 3:
		mask = all & ~self;
		break;
	default:
		mask = 0;
		for (int i = 0; i < m->ncpus; i++)
			if (match_dest(m->cpu[i]->apic, dest, dmode))
				mask |= 1ull << i;
	}
	/* Fixed IPIs are edge-triggered; only the IOAPIC sends level ones. */
	deliver_mask(m, mask, dm, vec, false);
}

/* ---- register file ---- */

static uint32_t reg_read(struct lapic *l, unsigned off)
{
	unsigned r = off >> 4;
	if (r >= 0x10 && r < 0x18)
		return l->isr[r - 0x10];
	if (r >= 0x18 && r < 0x20)
		return l->tmr[r - 0x18];
	if (r >= 0x20 && r < 0x28)
		return l->irr[r - 0x20];
	if (r >= 0x32 && r <= 0x37)
		return l->lvt[r - 0x32];
	switch (r) {
	case 0x02:
		return x2apic(l) ? (uint32_t)l->cpu->index : l->id << 24;
	case 0x03:
		return APIC_VERSION;
	case 0x08:
		return get_tpr(l);
	case 0x09:
		return get_apr(l);
	case 0x0a:
		return get_ppr(l);
	case 0x0d:
		if (x2apic(l)) {
			uint32_t id = (uint32_t)l->cpu->index;
			return (id >> 4) << 16 | 1u << (id & 15);
		}
		return l->ldr;
	case 0x0e:
		return l->dfr;
	case 0x0f:
		return l->svr;
	case 0x28:
		return l->esr;
	case 0x30:
		return l->icr_lo & ~(1u << 12);
	case 0x31:
		return l->icr_hi;
	case 0x38:
		return l->timer_icr;
	case 0x39:
		return current_count(l);
	case 0x3e:
		return l->dcr;
	default:
		return 0;
	}
}

/* Writable bits of each LVT entry (timer, thermal, perf, LINT0, LINT1,
 * error): vector, delivery mode, polarity, trigger, mask, timer mode. */
static const uint32_t lvt_wmask[LVT_N] = { 0x700ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff };

static void write_lvt(struct lapic *l, int idx, uint32_t v)
{
	v &= lvt_wmask[idx];
	if (!sw_enabled(l))
		v |= LVT_MASKED; /* SDM §11.4.7.2 */
	if (idx == LVT_TIMER) {
		write_lvt_timer(l, v);
		return;
	}
	/* Remote IRR and delivery status are read-only. */
	l->lvt[idx] = v | (l->lvt[idx] & LVT_REMOTE_IRR);
	if (idx == LVT_LINT0 || idx == LVT_LINT1)
		kick(l);
}

static void reg_write(struct lapic *l, unsigned off, uint32_t v)
{
	unsigned r = off >> 4;
	if (r >= 0x32 && r <= 0x37) {
		write_lvt(l, r - 0x32, v);
		return;
	}
	switch (r) {
	case 0x02:
		l->id = v >> 24;
		break;
	case 0x08:
		l->tpr = v & 0xff;
		l->cpu->cr8 = (v >> 4) & 0xf;
		kick(l);
		break;
	case 0x0b:
		do_eoi(l);
		break;
	case 0x0d:
		l->ldr = v & 0xff000000u;
		break;
	case 0x0e:
		l->dfr = v | 0x0fffffffu;
		break;
	case 0x0f:
		l->svr = v & 0x13ff;
		if (!(v & SVR_ENABLE))
			for (int i = 0; i < LVT_N; i++)
				l->lvt[i] |= LVT_MASKED;
		kick(l);
		break;
	case 0x28:
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case 0x30:
		l->icr_lo = v & 0x000ccfff;
		send_ipi(l, l->icr_lo, l->icr_hi >> 24);
		break;
	case 0x31:
		l->icr_hi = v & 0xff000000u;
		break;
	case 0x38:
		if (TIMER_MODE(l->lvt[LVT_TIMER]) == TM_DEADLINE)
			break; /* ignored in TSC-deadline mode */
		l->timer_icr = v;
		l->timer_start = now_ns(l);
		l->timer_zero = false;
		timer_arm_count(l);
		break;
	case 0x3e: {
		/* Keep the current count continuous across a divider change. */
		uint32_t cur = current_count(l);
		l->dcr = v & 0xb;
		if (l->timer_icr && cur) {
			l->timer_start = now_ns(l) - (uint64_t)(l->timer_icr - cur) * tick_ns(l);
			timer_arm_count(l);
		}
		break;
	}
	default:
		break;
	}
}

/* Registers that exist (xAPIC view): anything else sets ESR bit 7. */
static bool reg_valid(unsigned r)
{
	return r == 0x02 || r == 0x03 || (r >= 0x08 && r <= 0x0f) || (r >= 0x10 && r <= 0x28) ||
	       r == 0x30 || r == 0x31 || (r >= 0x32 && r <= 0x39) || r == 0x3e;
}

/* ---- xAPIC MMIO ---- */

static struct lapic *mmio_apic(struct region *rg)
{
	struct machine *m = rg->s->m;
	struct cpu *c = m->cpu[m->current_cpu];
	struct lapic *l = c->apic;
	if (!l || !hw_enabled(l) || x2apic(l) || (c->msr.apic_base & ~0xfffull) != rg->base)
		return NULL;
	return l;
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct lapic *l = mmio_apic(opaque);
	/* The APIC globally disabled or in x2APIC mode does not decode its
	 * MMIO page (SDM Vol. 3A §11.4.3: as if there were no on-chip APIC;
	 * §11.12.1.2: x2APIC mode behaves like the disabled state). Nothing
	 * else claims the cycle, so the read ends like any unclaimed bus read
	 * (PCI master abort): all ones. */
	if (!l)
		return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
	unsigned r = (unsigned)(off & 0xff0) >> 4;
	if (!reg_valid(r)) {
		set_error(l, ESR_ILLEGAL_REG);
		return 0;
	}
	uint64_t v = reg_read(l, (unsigned)off & 0xff0) >> ((off & 3) * 8);
	return size >= 4 ? v : v & ((1ull << (size * 8)) - 1);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct lapic *l = mmio_apic(opaque);
	if (!l || (off & 0xf))
		return;
	unsigned r = (unsigned)(off & 0xff0) >> 4;
	if (!reg_valid(r)) {
		set_error(l, ESR_ILLEGAL_REG);
		return;
	}
	reg_write(l, (unsigned)off & 0xff0, (uint32_t)val);
}

static const struct mmio_ops lapic_mmio_ops = { mmio_read, mmio_write };

static void map_base(struct lapic_sys *s, uint64_t base)
{
	for (int i = 0; i < s->nregions; i++)
		if (s->region[i].base == base)
			return;
	if (s->nregions == MAX_REGIONS) {
		fprintf(stderr,
			"nestbox: warning: lapic: too many APIC base addresses, 0x%llx ignored\n",
			(unsigned long long)base);
		return;
	}
	struct region *rg = &s->region[s->nregions++];
	rg->s = s;
	rg->base = base;
	mmu_map_mmio(s->m->mmu, base, 0x1000, &lapic_mmio_ops, rg, "lapic");
}

/* ---- x2APIC MSRs (SDM §11.12.1) ---- */

static bool lapic_msr_read(struct cpu *cpu, uint32_t idx, uint64_t *val)
{
	struct lapic *l = cpu->apic;
	if (idx == 0x6e0) {
		*val = TIMER_MODE(l->lvt[LVT_TIMER]) == TM_DEADLINE ? l->tsc_deadline : 0;
		return true;
	}
	if (!x2apic(l))
		return false;
	unsigned r = idx - 0x800;
	/* Not readable in x2APIC mode: EOI, SELF IPI, DFR, ICR high, APR, RRD. */
	if (!reg_valid(r) || r == 0x0b || r == 0x0e || r == 0x31 || r == 0x09 || r == 0x0c)
		return false;
	if (r == 0x30) {
		*val = (uint64_t)l->icr_hi << 32 | (l->icr_lo & ~(1u << 12));
		return true;
	}
	*val = reg_read(l, r << 4);
	return true;
}

/* Writable bits per x2APIC register; setting any other bit is #GP. */
static uint64_t x2_wmask(unsigned r)
{
	/* LVTs: the read-only delivery status (bit 12) and, in LINT0/LINT1,
	 * remote IRR (bit 14) may be written back as read (Linux masks an LVT
	 * with a read-modify-write) and are ignored, not a #GP. */
	if (r >= 0x32 && r <= 0x37)
		return lvt_wmask[r - 0x32] | 1u << 12 | (r == 0x35 || r == 0x36 ? 1u << 14 : 0);
	switch (r) {
	case 0x08:
		return 0xff;
	case 0x0f:
		return 0x13ff;
	case 0x30:
		return 0xffffffff000ccfffull;
	case 0x38:
		return 0xffffffffu;
	case 0x3e:
		return 0xb;
	case 0x3f:
		return 0xff;
	default:
		return 0; /* EOI, ESR: only 0 may be written */
	}
}

static bool lapic_msr_write(struct cpu *cpu, uint32_t idx, uint64_t val)
{
	struct lapic *l = cpu->apic;
	if (idx == 0x6e0) {
		write_tsc_deadline(l, val);
		return true;
	}
	if (!x2apic(l))
		return false;
	unsigned r = idx - 0x800;
	bool writable = r == 0x08 || r == 0x0b || r == 0x0f || r == 0x28 || r == 0x30 ||
			(r >= 0x32 && r <= 0x38) || r == 0x3e || r == 0x3f;
	if (!writable || (val & ~x2_wmask(r)))
		return false;
	switch (r) {
	case 0x30:
		l->icr_hi = (uint32_t)(val >> 32);
		l->icr_lo = (uint32_t)val;
		send_ipi(l, l->icr_lo, l->icr_hi);
		return true;
	case 0x3f:
		accept_irq(l, (int)(val & 0xff), false);
		return true;
	default:
		reg_write(l, r << 4, (uint32_t)val);
		return true;
	}
}

/* IA32_APIC_BASE changed (SDM §11.4.4, §11.12.5): disabling resets the
 * LAPIC; xAPIC -> x2APIC switches the ID/LDR view; a new base maps the
 * MMIO page there. */
static void lapic_base_changed(struct cpu *cpu, uint64_t old)
{
	struct lapic *l = cpu->apic;
	uint64_t now = cpu->msr.apic_base;
	if ((old & BASE_EN) && !(now & BASE_EN)) {
		lapic_reset(l, false);
		l->id = (uint32_t)cpu->index;
		l->svr = 0xff;
	}
	if (!(old & BASE_EXTD) && (now & BASE_EXTD))
		l->id = (uint32_t)cpu->index;
	if ((now & BASE_EN) && !(now & BASE_EXTD))
		map_base(l->sys, now & ~0xfffull & ((1ull << 52) - 1));
	kick(l);
}

/* ---- life cycle ---- */

void lapic_set_extint(struct lapic_sys *s, int (*ack)(void *opaque), void *opaque)
{
	s->extint_ack = ack;
	s->extint_opaque = opaque;
}

void lapic_set_eoi_hook(struct lapic_sys *s, void (*eoi)(void *opaque, int vector), void *opaque)
{
	s->eoi = eoi;
	s->eoi_opaque = opaque;
}

struct lapic_sys *lapic_init(struct machine *m)
{
	struct lapic_sys *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->m = m;
	for (int i = 0; i < m->ncpus; i++) {
		struct lapic *l = &s->apic[i];
		struct cpu *c = m->cpu[i];
		l->cpu = c;
		l->sys = s;
		vtimer_init(&l->timer, timer_cb, l);
		vtimer_set_owner(&l->timer, c);
		c->apic = l;
		c->irq_ack = lapic_irq_ack;
		c->irq_pending = lapic_irq_pending;
		c->apic_msr_read = lapic_msr_read;
		c->apic_msr_write = lapic_msr_write;
		c->apic_base_changed = lapic_base_changed;
		c->init_sipi = lapic_do_init_sipi;
	}
	lapic_reset_all(s);
	map_base(s, LAPIC_DEFAULT_BASE);
	return s;
}

void lapic_free(struct lapic_sys *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->m->ncpus; i++) {
		struct cpu *c = s->m->cpu[i];
		vtimer_cancel(s->m, &s->apic[i].timer);
		c->apic = NULL;
		c->irq_ack = NULL;
		c->irq_pending = NULL;
		c->apic_msr_read = NULL;
		c->apic_msr_write = NULL;
		c->apic_base_changed = NULL;
		c->init_sipi = NULL;
	}
	free(s);
}

uint32_t lapic_peek(struct lapic_sys *s, int cpu_index, unsigned off)
{
	if (cpu_index < 0 || cpu_index >= s->m->ncpus)
		return 0;
	return reg_read(&s->apic[cpu_index], off & 0xff0);
}
