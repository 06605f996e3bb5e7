/*
 * tests/unit/test_pause_yield.c — PAUSE on a machine with several vCPUs
 * gives up the rest of the vCPU's turn (cpu/ops_data.c): its clock moves to
 * the end of the run slice as if it had spun there, so a spin-wait loop
 * costs few host instructions while virtual time advances normally; on a
 * one-vCPU machine PAUSE is a plain one-instruction hint. Only a spin loop
 * yields: three PAUSEs in a row used as a delay keep the turn, a fourth
 * close behind them gives it up.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

/* Real-mode code at 0x1000 on every vCPU. */
static struct machine *code_machine(int ncpus, const uint8_t *code, size_t n)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = ncpus };
	struct machine *g = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(g);
	memcpy(mmu_ram(g->mmu) + 0x1000, code, n);
	for (int k = 0; k < ncpus; k++) {
		struct cpu *c = g->cpu[k];
		for (int i = 0; i < S_NSEG; i++)
			c->seg[i] = (struct seg){ .base = 0, .limit = 0xffff, .attr = 0x93 };
		c->seg[S_CS].attr = 0x9b;
		c->rip = 0x1000;
		c->halted = 0;
		cpu_update_mode(c);
	}
	return g;
}

/* "pause; jmp pause" on every vCPU. */
static struct machine *spin_machine(int ncpus)
{
	static const uint8_t loop[] = { 0xf3, 0x90, 0xeb, 0xfc }; /* pause; jmp -4 */
	return code_machine(ncpus, loop, sizeof(loop));
}

/* npause PAUSEs in a row, then 150 LOOP iterations (more than the spin gap
 * of 128 instructions), over and over. */
static struct machine *delay_machine(int npause)
{
	uint8_t code[32];
	size_t n = 0;
	for (int i = 0; i < npause; i++) {
		code[n++] = 0xf3;
		code[n++] = 0x90;
	}
	static const uint8_t tail[] = { 0xb9, 150, 0, 0xe2, 0xfe }; /* mov cx,150; loop $ */
	memcpy(code + n, tail, sizeof(tail));
	n += sizeof(tail);
	code[n] = 0xeb; /* jmp back to the first PAUSE */
	code[n + 1] = (uint8_t) - (int)(n + 2);
	return code_machine(2, code, n + 2);
}

START_TEST(pause_delay_keeps_turn)
{
	/* Three PAUSEs: never a spin loop, no time skipped. */
	struct machine *g = delay_machine(3);
	for (int i = 0; i < 20; i++)
		machine_run(g, 10000);
	ck_assert_int_le(g->cpu[0]->clock_offset, 1000);
	machine_free(g);
	/* Four: the fourth yields the turn in every iteration. */
	g = delay_machine(4);
	for (int i = 0; i < 20; i++)
		machine_run(g, 10000);
	ck_assert_int_gt(g->cpu[0]->clock_offset, 100000);
	machine_free(g);
}
END_TEST

START_TEST(pause_yields_turn)
{
	struct machine *g = spin_machine(2);
	/* Give the machine many rounds' worth of instructions: PAUSE makes
	 * every turn end after one loop iteration, so virtual time runs far
	 * ahead of the instruction count. */
	for (int i = 0; i < 50; i++)
		machine_run(g, 10000);
	uint64_t insns = g->cpu[0]->icount + g->cpu[1]->icount;
	uint64_t t0 = cpu_clock_ns(g->cpu[0]), t1 = cpu_clock_ns(g->cpu[1]);
	ck_assert_uint_gt(t0, 100 * insns);
	/* Both vCPUs still advance in lock-step (within one round, 20 us). */
	ck_assert_uint_lt(t0 > t1 ? t0 - t1 : t1 - t0, 100000);
	machine_free(g);
}
END_TEST

START_TEST(pause_single_vcpu)
{
	struct machine *g = spin_machine(1);
	machine_run(g, 100000);
	struct cpu *c = g->cpu[0];
	/* One vCPU: one ns per instruction, no jump. */
	ck_assert_uint_le(cpu_clock_ns(c) - (uint64_t)c->clock_offset, c->icount);
	ck_assert_int_le(c->clock_offset, 1000);
	machine_free(g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pause_yield");
	TCase *tc = tcase_create("pause_yield");
	tcase_add_test(tc, pause_yields_turn);
	tcase_add_test(tc, pause_single_vcpu);
	tcase_add_test(tc, pause_delay_keeps_turn);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
