/*
 * tests/unit/test_svm_vmcb.c — the SVM pieces below the instructions: the
 * VMCB layout (APM Vol. 2 Appendix B) and attribute packing, the icpt bits
 * compiled from the intercept vectors, the I/O and MSR permission maps
 * with their EXITINFO1 formats, and the nested-paging translation with its
 * NPF exit information. Intercepts that exit leave through cpu_unwind, so
 * each call runs under a setjmp acting as the execution loop.
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/insn.h"
#include "devices/machine.h"
#include "mmu/mmu.h"
#include "svm/svm_state.h"

#define VMCB_PA  0x100000
#define HSAVE_PA 0x101000
#define IOPM_PA  0x104000
#define MSRPM_PA 0x108000
#define NPT_PML4 0x110000
#define NPT_PDPT 0x111000
#define NPT_PD   0x112000
#define NPT_PT   0x113000

static struct machine *m;
static struct cpu *c;

static void w64(uint64_t a, uint64_t v)
{
	phys_write(m->mmu, a, 8, v);
}
static uint64_t r64(uint64_t a)
{
	return phys_read(m->mmu, a, 8);
}

/* A vCPU "in an SVM guest" without going through VMRUN: the VMCB cached
 * in the state, host paging (4-level, for NPT) and HSAVE set. */
static void setup(void)
{
	struct machine_config cfg = { .ram_size = 16 << 20, .ncpus = 1, .cpu_model = "amd" };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	c = m->cpu[0];
	model_set(m->model, FEAT_SVM, true);
	struct svm_state *st = svm_state_get(c);
	ck_assert_ptr_nonnull(st);
	memset(&st->vmcb, 0, sizeof(st->vmcb));
	st->vmcb_pa = VMCB_PA;
	st->vmcb.c.iopm_base = IOPM_PA;
	st->vmcb.c.msrpm_base = MSRPM_PA;
	st->vmcb.c.icpt_misc1 = ICPT1_IOIO | ICPT1_MSR;
	st->vmcb.c.icpt_misc2 = ICPT2_VMRUN;
	c->msr.vm_hsave_pa = HSAVE_PA;
	/* Host state in HSAVE: 64-bit code so the exit leaves a sane vCPU. */
	w64(HSAVE_PA + offsetof(struct vmcb, s.cr0), CR0_PE | CR0_PG);
	w64(HSAVE_PA + offsetof(struct vmcb, s.rip), 0x1234);
	c->guest_mode = true;
	c->virt = &svm_virt_ops;
	c->icpt = svm_icpt_bits(&st->vmcb.c);
	c->ip_start = 0x5000;
	c->rip = 0x5002;
}

static void teardown(void)
{
	c->exc_jmp = NULL;
	svm_free(c);
	machine_free(m);
}

/* Run the intercept; true if it performed a #VMEXIT. */
static bool icpt(enum icpt_reason r, struct icpt_info *info)
{
	jmp_buf jb;
	c->exc_jmp = &jb;
	if (setjmp(jb)) {
		c->exc_jmp = NULL;
		ck_assert_int_eq(c->exc_vector, -1); /* cpu_unwind, not a fault */
		return true;
	}
	c->virt->intercept(c, r, info);
	c->exc_jmp = NULL;
	return false;
}

START_TEST(test_layout)
{
	ck_assert_uint_eq(sizeof(struct vmcb), 4096);
	ck_assert_uint_eq(offsetof(struct vmcb, c.exitcode), 0x70);
	ck_assert_uint_eq(offsetof(struct vmcb, c.nrip), 0xc8);
	ck_assert_uint_eq(offsetof(struct vmcb, s.cs), 0x410);
	ck_assert_uint_eq(offsetof(struct vmcb, s.efer), 0x4d0);
	ck_assert_uint_eq(offsetof(struct vmcb, s.rip), 0x578);
	ck_assert_uint_eq(offsetof(struct vmcb, s.rax), 0x5f8);
	ck_assert_uint_eq(offsetof(struct vmcb, s.cr2), 0x640);
	/* 64-bit code: type B, S, P, L → 29Bh; flat data with G, D/B → C93h. */
	uint32_t code = 0xb | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L;
	ck_assert_uint_eq(vmcb_attr_pack(code), 0x29b);
	ck_assert_uint_eq(vmcb_attr_unpack(0x29b), code);
	ck_assert_uint_eq(vmcb_attr_pack(0x3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G),
			  0xc93);
	/* A null segment is stored not present and comes back unusable. */
	struct seg s = { .sel = 0, .attr = SEG_ATTR_UNUSABLE | SEG_ATTR_P | 3 };
	struct vmcb_seg v;
	svm_seg_to_vmcb(&s, &v);
	ck_assert_uint_eq(v.attrib & 0x80, 0);
	svm_seg_from_vmcb(&v, &s, false);
	ck_assert(s.attr & SEG_ATTR_UNUSABLE);
}
END_TEST

START_TEST(test_icpt_bits)
{
	struct vmcb_control k;
	memset(&k, 0, sizeof(k));
	uint64_t b = svm_icpt_bits(&k);
	ck_assert_uint_eq(b, ICPT_BIT(ICPT_SVM_INSN)); /* VMRUN is always intercepted */
	k.icpt_misc1 = ICPT1_CPUID | ICPT1_MSR | ICPT1_INTR;
	k.icpt_cr = 1u << 19; /* CR3 write */
	k.icpt_exc = 1u << 14;
	b = svm_icpt_bits(&k);
	ck_assert(b & ICPT_BIT(ICPT_CPUID));
	ck_assert(b & ICPT_BIT(ICPT_RDMSR));
	ck_assert(b & ICPT_BIT(ICPT_WRMSR));
	ck_assert(b & ICPT_BIT(ICPT_EXTINT));
	ck_assert(b & ICPT_BIT(ICPT_CR_WRITE));
	ck_assert(b & ICPT_BIT(ICPT_EXCEPTION));
	ck_assert(!(b & ICPT_BIT(ICPT_CR_READ)));
	ck_assert(!(b & ICPT_BIT(ICPT_HLT)));
	ck_assert(!(b & ICPT_BIT(ICPT_IO)));
}
END_TEST

START_TEST(test_iopm)
{
	phys_write(m->mmu, IOPM_PA + 0x3f8 / 8, 1, 1u << (0x3f8 % 8));
	/* Port 3F7h, 2 bytes: touches 3F8h, whose bit is set. */
	struct icpt_info io = { .index = 0x3f7, .size = 2, .in = true };
	ck_assert(icpt(ICPT_IO, &io));
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitcode)), SVM_EXIT_IOIO);
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitinfo1)),
			  0x3f7u << 16 | IOIO_SZ16 | IOIO_A64 | IOIO_IN);
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitinfo2)), 0x5002);
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, s.rip)), 0x5000);
	ck_assert(!c->guest_mode);
	ck_assert_uint_eq(c->rip, 0x1234);
	teardown();
	setup();
	struct icpt_info io2 = { .index = 0x3f6, .size = 2, .in = false };
	ck_assert(!icpt(ICPT_IO, &io2)); /* 3F6h-3F7h: clear */
}
END_TEST

START_TEST(test_msrpm)
{
	/* Write bit of C001_0117h: 1000h + (117h * 2 + 1) / 8, bit 7. */
	phys_write(m->mmu, MSRPM_PA + 0x1000 + 0x117 * 2 / 8, 1, 1u << 7);
	struct icpt_info rd = { .index = 0xc0010117 };
	ck_assert(!icpt(ICPT_RDMSR, &rd));
	struct icpt_info wr = { .index = 0xc0010117 };
	ck_assert(icpt(ICPT_WRMSR, &wr));
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitcode)), SVM_EXIT_MSR);
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitinfo1)), 1);
	teardown();
	setup();
	/* MSRs outside the three ranges always exit. */
	struct icpt_info out = { .index = 0x40000000 };
	ck_assert(icpt(ICPT_RDMSR, &out));
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitinfo1)), 0);
}
END_TEST

START_TEST(test_npt)
{
	struct svm_state *st = svm_st(c);
	/* Host 4-level tables: 0-2M with 4K pages at NPT_PT, page 300000h
	 * through a 2M page mapped to 600000h. */
	w64(NPT_PML4, NPT_PDPT | 7);
	w64(NPT_PDPT, NPT_PD | 7);
	w64(NPT_PD, NPT_PT | 7);
	w64(NPT_PD + 8, 0x600000 | 0x87);
	for (int i = 0; i < 512; i++)
		w64(NPT_PT + 8 * i, ((uint64_t)i << 12) | 7);
	w64(NPT_PT + 8 * 0x50, 0x50000 | 5); /* read-only */
	w64(NPT_PT + 8 * 0x60, 0);           /* not present */
	st->npt = true;
	st->npt_regs = (struct paging_regs){
		.cr0 = CR0_PE | CR0_PG, .cr3 = NPT_PML4, .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA
	};
	c->virt = &svm_virt_ops_npt;
	uint64_t hpa = 0;
	ck_assert_int_eq(svm_npt_xlate(c, 0x3123, 0, false, 0, &hpa), 0);
	ck_assert_uint_eq(hpa, 0x3123);
	ck_assert_int_eq(svm_npt_xlate(c, 0x212345, 0, false, WALK_WRITE, &hpa), 0);
	ck_assert_uint_eq(hpa, 0x612345);
	ck_assert(r64(NPT_PD + 8) & 0x40); /* D set by the write */

	jmp_buf jb;
	c->exc_jmp = &jb;
	if (!setjmp(jb)) {
		svm_npt_xlate(c, 0x50008, 0, false, WALK_WRITE, &hpa);
		ck_abort_msg("write to a read-only nested page did not exit");
	}
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitcode)), SVM_EXIT_NPF);
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitinfo1)),
			  NPF_FINAL | PFEC_P | PFEC_W | PFEC_U);
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitinfo2)), 0x50008);

	teardown();
	setup();
	st = svm_st(c);
	st->npt = true;
	st->npt_regs = (struct paging_regs){
		.cr0 = CR0_PE | CR0_PG, .cr3 = NPT_PML4, .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA
	};
	c->exc_jmp = &jb;
	if (!setjmp(jb)) {
		svm_npt_xlate(c, 0x60010, 0, true, 0, &hpa);
		ck_abort_msg("guest-table read through a missing nested page did not exit");
	}
	uint64_t i1 = r64(VMCB_PA + offsetof(struct vmcb, c.exitinfo1));
	ck_assert_uint_eq(i1 & (NPF_FINAL | NPF_WALK | PFEC_P | PFEC_U), NPF_WALK | PFEC_U);
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitinfo2)), 0x60010);
	c->exc_jmp = NULL;
}
END_TEST

/* A legacy 32-bit host (no PAE): nested tables in 32-bit format. */
START_TEST(test_npt_legacy32)
{
	struct svm_state *st = svm_st(c);
	phys_write(m->mmu, NPT_PD, 4, NPT_PT | 7);
	phys_write(m->mmu, NPT_PD + 4, 4, 0x800000 | 0x87); /* 4M page: 400000h → 800000h */
	for (int i = 0; i < 1024; i++)
		phys_write(m->mmu, NPT_PT + 4 * i, 4, ((uint32_t)i << 12) | 7);
	phys_write(m->mmu, NPT_PT + 4 * 0x70, 4, 0x70000 | 3); /* supervisor only */
	st->npt = true;
	st->npt_regs =
		(struct paging_regs){ .cr0 = CR0_PE | CR0_PG, .cr3 = NPT_PD, .cr4 = CR4_PSE };
	uint64_t hpa = 0;
	ck_assert_int_eq(svm_npt_xlate(c, 0x9abc, 0, false, 0, &hpa), 0);
	ck_assert_uint_eq(hpa, 0x9abc);
	ck_assert_int_eq(svm_npt_xlate(c, 0x401234, 0, false, WALK_FETCH, &hpa), 0);
	ck_assert_uint_eq(hpa, 0x801234);
	/* Nested accesses are user accesses: a U/S = 0 page faults. */
	jmp_buf jb;
	c->exc_jmp = &jb;
	if (!setjmp(jb)) {
		svm_npt_xlate(c, 0x70004, 0, false, WALK_FETCH, &hpa);
		ck_abort_msg("user access to a supervisor nested page did not exit");
	}
	c->exc_jmp = NULL;
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitinfo1)),
			  NPF_FINAL | PFEC_P | PFEC_U);
	ck_assert_uint_eq(r64(VMCB_PA + offsetof(struct vmcb, c.exitinfo2)), 0x70004);
}
END_TEST

static Suite *svm_suite(void)
{
	Suite *s = suite_create("svm_vmcb");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_icpt_bits);
	tcase_add_test(tc, test_iopm);
	tcase_add_test(tc, test_msrpm);
	tcase_add_test(tc, test_npt);
	tcase_add_test(tc, test_npt_legacy32);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(svm_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
