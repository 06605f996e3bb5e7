/*
 * devices/board_bare.c — the "bare" board: RAM from address 0, debugcon on
 * port 0xe9 and, when configured, isa-debug-exit. It runs the CPU's own
 * test guests and the differential tests; it has no interrupt controller,
 * timer or firmware (the "pc" board has those).
 */
#include <stdlib.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "devices/debug_ports.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

struct bare_board {
	struct debugcon con;
};

struct machine *machine_new_bare(const struct machine_config *cfg)
{
	struct machine *m = machine_alloc(cfg);
	if (!m)
		return NULL;
	struct bare_board *b = calloc(1, sizeof(*b));
	if (!b) {
		machine_free(m);
		return NULL;
	}
	m->board = b;
	/* No local APIC on this board: don't advertise one (CPUID must only
	 * promise what the machine has). */
	model_set(m->model, FEAT_APIC, false);
	model_set(m->model, FEAT_X2APIC, false);
	model_set(m->model, FEAT_TSC_DEADLINE, false);
	for (int i = 0; i < m->ncpus; i++)
		m->cpu[i]->msr.apic_base &= ~(1ull << 11); /* APIC globally disabled */
	mmu_map_ram(m->mmu, 0, cfg->ram_size, 0);
	debugcon_init(m, &b->con, 0xe9, cfg->debugcon);
	b->con.tee = cfg->console_tee;
	b->con.tee_opaque =
		cfg->debugcon_tee_opaque ? cfg->debugcon_tee_opaque : cfg->console_opaque;
	if (cfg->debug_exit_size)
		debug_exit_init(m, cfg->debug_exit_base, cfg->debug_exit_size);
	return m;
}
