/*
 * devices/machine.c — machine life cycle and the run loop shared by boards.
 */
#include "devices/machine.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/bcache.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/virt.h"
#include "devices/clock.h"
#include "devices/ioport.h"
#include "mmu/mmu.h"

/* Instructions a vCPU runs before the next one gets its turn. */
#define SLICE 20000

void machine_request_exit(struct machine *m, int code)
{
	if (!m->exit_requested) {
		m->exit_requested = true;
		m->exit_code = code;
	}
	for (int i = 0; i < m->ncpus; i++)
		if (m->cpu[i])
			m->cpu[i]->pending |= PEND_EXIT;
}

void machine_set_a20(struct machine *m, bool enabled)
{
	uint64_t mask = enabled ? ~0ull : ~(1ull << 20);
	for (int i = 0; i < m->ncpus; i++) {
		struct cpu *c = m->cpu[i];
		if (!c || c->a20_mask == mask)
			continue;
		c->a20_mask = mask;
		/* Cached translations and decoded blocks were made through the
		 * old mask (SDM Vol. 3 §21.33.2: A20M# masks physical bit 20). */
		cpu_tlb_flush_every(c);
		cpu_flush_code(c);
	}
}

void machine_request_reset(struct machine *m)
{
	m->reset_requested = true;
	machine_request_exit(m, 0);
}

static void code_write_hook(void *opaque, uint64_t page)
{
	struct machine *m = opaque;
	bcache_invalidate_page(m->bcache, page);
}

/* The physical map changed (BAR move, ROM/RAM switch): soft TLBs hold host
 * pointers and decoded blocks hold code of the old mapping, so drop both. */
static void map_change_hook(void *opaque, uint64_t gpa, uint64_t size)
{
	struct machine *m = opaque;
	for (int i = 0; i < m->ncpus; i++)
		if (m->cpu[i])
			cpu_tlb_flush_every(m->cpu[i]);
	if (m->bcache)
		bcache_flush(m->bcache);
}

/* Common part of every board: address space, I/O space, CPU model, vCPUs. */
struct machine *machine_alloc(const struct machine_config *cfg)
{
	char err[200];
	struct machine *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *cfg;
	if (m->cfg.ncpus <= 0)
		m->cfg.ncpus = 1;
	if (m->cfg.ncpus > MAX_CPUS) {
		fprintf(stderr, "nestbox: -smp %d: at most %d vCPUs are supported\n", m->cfg.ncpus,
			MAX_CPUS);
		free(m);
		return NULL;
	}
	m->model = calloc(1, sizeof(*m->model));
	if (!m->model ||
	    !cpu_model_parse(cfg->cpu_model ? cfg->cpu_model : "max", m->model, err, sizeof(err))) {
		if (m->model)
			fprintf(stderr, "nestbox: -cpu: %s\n", err);
		free(m->model);
		free(m);
		return NULL;
	}
	m->mmu = mmu_new(cfg->ram_size);
	m->io = ioport_new();
	m->bcache = bcache_new(m);
	if (!m->mmu || !m->io || !m->bcache) {
		machine_free(m);
		return NULL;
	}
	mmu_set_code_write_hook(m->mmu, code_write_hook, m);
	mmu_set_map_change_hook(m->mmu, map_change_hook, m);
	/* Page-table bits at or above the model's MAXPHYADDR are reserved. */
	mmu_set_maxphyaddr(m->mmu, m->model->phys_addr_bits);
	m->ncpus = m->cfg.ncpus;
	for (int i = 0; i < m->ncpus; i++) {
		m->cpu[i] = cpu_new(m, m->mmu, m->model, i);
		if (!m->cpu[i]) {
			machine_free(m);
			return NULL;
		}
		m->cpu[i]->bcache = m->bcache;
	}
	return m;
}

void machine_free(struct machine *m)
{
	if (!m)
		return;
	if (m->board_free)
		m->board_free(m);
	for (int i = 0; i < m->ncpus; i++)
		cpu_free(m->cpu[i]);
	bcache_free(m->bcache);
	ioport_free(m->io);
	mmu_free(m->mmu);
	free(m->board);
	free(m->model);
	free(m);
}

/* Could a halted vCPU be woken by what is pending for it? */
static bool can_wake(const struct cpu *c)
{
	if (c->pending & PEND_INIT)
		return true;
	if (c->halted == 2)
		return (c->pending & PEND_SIPI) != 0;
	if ((c->pending & PEND_NMI) && (!c->nmi_blocked || (c->icpt & ICPT_BIT(ICPT_NMI))))
		return true;
	if (c->halted == 3) /* shutdown: only NMI and INIT */
		return false;
	return (c->pending & PEND_IRQ) && cpu_extint_open(c) && c->irq_pending &&
	       c->irq_pending((struct cpu *)c);
}

/* The round starts at the earliest clock among vCPUs that can run; UINT64_MAX
 * when every vCPU is halted with nothing to wake it. */
static uint64_t round_start(const struct machine *m)
{
	uint64_t t = UINT64_MAX;
	for (int i = 0; i < m->ncpus; i++) {
		const struct cpu *c = m->cpu[i];
		if ((!c->halted || can_wake(c)) && cpu_clock_ns(c) < t)
			t = cpu_clock_ns(c);
	}
	return t;
}

/* Bring a vCPU's clock forward to t (halted time passes too). */
static void catch_up(struct cpu *c, uint64_t t)
{
	if (cpu_clock_ns(c) < t)
		c->clock_offset += (int64_t)(t - cpu_clock_ns(c));
}

/*
 * Rounds of virtual time (design §3): every vCPU that can run runs until its
 * clock reaches the end of the round (SLICE ns, shortened to the next timer
 * deadline), however often it stops early; halted vCPUs' clocks advance with
 * it. So the clocks (and TSCs) stay within one round of each other — guests
 * compare TSCs across CPUs — and no vCPU's time can race ahead of another's.
 * Timers fire at every stop. An interrupt that wakes a vCPU already passed
 * over in this round (an IPI from a later vCPU) is seen when the next round
 * starts; only when no vCPU can run does virtual time jump to the next
 * deadline.
 */
enum machine_stop machine_run(struct machine *m, uint64_t max_insns)
{
	uint64_t done = 0;
	/* Rounds in a row in which no instruction ran (every vCPU halted,
	 * time jumping from timer to timer): the caller gets control back
	 * now and then to check its host-time limit. */
	unsigned idle = 0;
	for (;;) {
		uint64_t round_done = done;
		uint64_t now = round_start(m);
		if (now == UINT64_MAX) {
			/* Every vCPU is halted: jump to the next deadline, or give
			 * up if nothing can ever wake them. */
			if (m->cfg.realtime_idle) {
				/* The caller moves the clocks as host time
				 * passes; timers due by now may wake a vCPU. */
				clock_run_timers(m);
				now = round_start(m);
				if (now == UINT64_MAX)
					return MSTOP_IDLE;
			} else {
				if (!m->timers)
					return MSTOP_HALTED;
				for (int i = 0; i < m->ncpus; i++)
					catch_up(m->cpu[i], m->timers->deadline);
				now = m->timers->deadline;
			}
		}
		uint64_t round_end = now + SLICE;
		if (m->timers && m->timers->deadline < round_end)
			round_end = m->timers->deadline > now ? m->timers->deadline : now + 1;
		for (int i = 0; i < m->ncpus; i++) {
			struct cpu *c = m->cpu[i];
			m->current_cpu = i;
			for (;;) {
				clock_run_timers(m);
				if (m->reset_requested)
					return MSTOP_RESET;
				if (m->exit_requested)
					return MSTOP_EXIT;
				if ((c->halted && !can_wake(c)) || cpu_clock_ns(c) >= round_end)
					break;
				uint64_t before = c->icount;
				enum cpu_stop s = cpu_run(c, round_end - cpu_clock_ns(c));
				done += c->icount - before;
				if (m->reset_requested)
					return MSTOP_RESET;
				if (m->exit_requested)
					return MSTOP_EXIT;
				if (s == STOP_SHUTDOWN)
					return MSTOP_SHUTDOWN;
				if (c->halted)
					break;
			}
			if (c->halted)
				catch_up(c, round_end);
		}
		if (max_insns && done >= max_insns)
			return MSTOP_LIMIT;
		idle = done == round_done ? idle + 1 : 0;
		if (idle >= 4096)
			return MSTOP_LIMIT;
	}
}

static uint64_t latest_clock(const struct machine *m)
{
	uint64_t t = 0;
	for (int i = 0; i < m->ncpus; i++)
		if (cpu_clock_ns(m->cpu[i]) > t)
			t = cpu_clock_ns(m->cpu[i]);
	return t;
}

uint64_t machine_idle_gap(const struct machine *m)
{
	if (!m->timers)
		return UINT64_MAX;
	uint64_t t = latest_clock(m);
	return m->timers->deadline > t ? m->timers->deadline - t : 0;
}

void machine_idle_advance(struct machine *m, uint64_t ns)
{
	uint64_t gap = machine_idle_gap(m);
	uint64_t t = latest_clock(m) + (ns < gap ? ns : gap);
	for (int i = 0; i < m->ncpus; i++)
		catch_up(m->cpu[i], t);
}
