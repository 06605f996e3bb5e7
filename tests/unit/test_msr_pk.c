/*
 * tests/unit/test_msr_pk.c — MSR and register rules added for kvm-unit-tests
 * parity: machine-check bank registers that keep what software writes
 * (MCi_CTL all-0/all-1, MCi_STATUS 0 only, MCi_ADDR/MISC any value),
 * IA32_PKRS (PKS only, bits 63:32 reserved, a change flushes the soft TLB),
 * CR4.PKE/PKS validity per model, XCR0 bit 9 (PKRU) and CPUID leaves 7 and
 * 0Dh for protection keys.
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/msr.h"
#include "cpu/msr_index.h"
#include "cpu/ops_sys.h"
#include "mmu/mmu.h"
#include "mmu/tlb.h"

static struct cpu_model model;
static struct cpu *cpu;
static struct mmu *mmu;
static jmp_buf jb;

#define FAULTS(stmt)                            \
	({                                      \
		volatile int vec_ = -1;         \
		cpu->exc_jmp = &jb;             \
		if (setjmp(jb) == 0) {          \
			stmt;                   \
		} else {                        \
			vec_ = cpu->exc_vector; \
		}                               \
		cpu->exc_jmp = NULL;            \
		vec_;                           \
	})

static void mk(const char *spec)
{
	char err[128];
	if (cpu)
		cpu_free(cpu);
	ck_assert_msg(cpu_model_parse(spec, &model, err, sizeof(err)), "%s", err);
	if (!mmu) {
		mmu = mmu_new(1 << 20);
		ck_assert_ptr_nonnull(mmu);
		mmu_map_ram(mmu, 0, 1 << 20, 0);
	}
	cpu = cpu_new(NULL, mmu, &model, 0);
	ck_assert_ptr_nonnull(cpu);
	msr_reset(cpu, false);
}

static void teardown(void)
{
	cpu_free(cpu);
	cpu = NULL;
	mmu_free(mmu);
	mmu = NULL;
}

static uint64_t rd(uint32_t idx)
{
	uint64_t v = 0xdeadbeef;
	ck_assert_msg(msr_read(cpu, idx, &v), "rdmsr %#x failed", idx);
	return v;
}

START_TEST(mc_banks)
{
	mk("intel");
	for (unsigned b = 0; b < MC_NBANKS; b++) {
		uint32_t ctl = MSR_IA32_MC0_CTL + 4 * b;
		ck_assert_uint_eq(rd(ctl), ~0ull); /* reset: all error types on */
		ck_assert(msr_write(cpu, ctl, 0));
		ck_assert_uint_eq(rd(ctl), 0);
		ck_assert(msr_write(cpu, ctl, ~0ull & ~(1ull << 10)));
		ck_assert_uint_eq(rd(ctl), ~0ull & ~(1ull << 10));
		ck_assert(!msr_write(cpu, ctl, 0xaaaaaaaaaaaaaaaaull));
		ck_assert(msr_write(cpu, ctl + 1, 0));
		ck_assert(!msr_write(cpu, ctl + 1, 1));
		ck_assert_uint_eq(rd(ctl + 1), 0);
		ck_assert(msr_write(cpu, ctl + 2, ~0ull));
		ck_assert_uint_eq(rd(ctl + 2), ~0ull);
		ck_assert(msr_write(cpu, ctl + 3, 0xaaaaaaaaaaaaaaaaull));
		ck_assert_uint_eq(rd(ctl + 3), 0xaaaaaaaaaaaaaaaaull);
	}
	uint64_t v;
	ck_assert(!msr_read(cpu, MSR_IA32_MC0_CTL + 4 * MC_NBANKS, &v));
	/* INIT keeps the banks, RESET restores them. */
	msr_reset(cpu, true);
	ck_assert_uint_eq(rd(MSR_IA32_MC0_CTL + 3), 0xaaaaaaaaaaaaaaaaull);
}
END_TEST

START_TEST(pkrs_msr)
{
	uint64_t v;
	mk("intel");
	ck_assert(!msr_read(cpu, MSR_IA32_PKRS, &v)); /* no PKS on the Intel model */
	ck_assert(!msr_write(cpu, MSR_IA32_PKRS, 0));
	mk("max");
	ck_assert_uint_eq(rd(MSR_IA32_PKRS), 0);
	ck_assert(!msr_write(cpu, MSR_IA32_PKRS, 1ull << 32));
	uint64_t gen = cpu->tlb->gen;
	ck_assert(msr_write(cpu, MSR_IA32_PKRS, 0x30));
	ck_assert_uint_eq(rd(MSR_IA32_PKRS), 0x30);
	ck_assert_uint_ne(cpu->tlb->gen, gen); /* cached rights dropped */
	gen = cpu->tlb->gen;
	ck_assert(msr_write(cpu, MSR_IA32_PKRS, 0x30));
	ck_assert_uint_eq(cpu->tlb->gen, gen); /* same value: no flush */
	cpu_set_pkru(cpu, 4);
	ck_assert_uint_ne(cpu->tlb->gen, gen);
	ck_assert_uint_eq(cpu->pkru, 4);
}
END_TEST

START_TEST(cr4_and_cpuid)
{
	uint32_t r[4];
	mk("intel");
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_PKE)), EXC_GP);
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_PKS)), EXC_GP);
	cpuid_query(cpu, 7, 0, r);
	ck_assert(!(r[2] & (1u << 3)) && !(r[2] & (1u << 31)));
	cpuid_query(cpu, 0xd, 0, r);
	ck_assert_uint_eq(r[0], 3);
	ck_assert_uint_eq(r[2], 576);

	mk("amd");
	cpuid_query(cpu, 7, 0, r);
	ck_assert(r[2] & (1u << 3));     /* Zen 3: PKU */
	ck_assert(!(r[2] & (1u << 31))); /* no PKS */

	mk("max");
	cpuid_query(cpu, 7, 0, r);
	ck_assert(r[2] & (1u << 3) && r[2] & (1u << 31));
	ck_assert(!(r[2] & (1u << 4))); /* OSPKE follows CR4.PKE */
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_PKE | CR4_PKS)), -1);
	cpuid_query(cpu, 7, 0, r);
	ck_assert(r[2] & (1u << 4));
	cpuid_query(cpu, 0xd, 0, r);
	ck_assert_uint_eq(r[0], 0x203);
	ck_assert_uint_eq(r[1], 576); /* XCR0 = x87 only */
	ck_assert_uint_eq(r[2], 2696);
	cpuid_query(cpu, 0xd, 9, r);
	ck_assert_uint_eq(r[0], 8);
	ck_assert_uint_eq(r[1], 2688);
	cpuid_query(cpu, 0xd, 8, r);
	ck_assert_uint_eq(r[0] | r[1], 0);
	ck_assert_uint_eq(model_xcr0_supported(&model), 0x203);
	mk("max,-pku");
	ck_assert_uint_eq(model_xcr0_supported(&model), 0x3);
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_PKE)), EXC_GP);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("msr_pk");
	TCase *tc = tcase_create("msr_pk");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, mc_banks);
	tcase_add_test(tc, pkrs_msr);
	tcase_add_test(tc, cr4_and_cpuid);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
