/*
 * tests/unit/test_tlb.c — soft-TLB and decoded-block invalidation, driven
 * through real guest code on a bare machine in 64-bit mode:
 *   - INVLPG makes a changed PTE visible; a stale translation may be used
 *     before it (the architecture allows it) and is after a CR3 write gone;
 *   - self-modifying code: a store into the block being executed, and into
 *     another cached block, takes effect at the next instruction fetch;
 *   - a code page written by a device (phys_write, i.e. DMA) is re-decoded;
 *   - a large-page mapping is dropped by INVLPG of any address inside it;
 *   - the set's record of large pages: INVLPG outside them drops one slot,
 *     inside one (or once more than TLB_NLARGE are held) the whole set.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "devices/machine.h"
#include "mmu/mmu.h"
#include "mmu/tlb.h"

#define PML4   0x10000
#define PDPT   0x11000
#define PD     0x12000
#define PT     0x13000
#define CODE   0x20000 /* identity mapped through PT */
#define DATA_A 0x30000
#define DATA_B 0x31000
#define WIN    0x40000 /* linear page whose PTE the tests retarget */

static struct machine *m;
static struct cpu *c;

static void w64(uint64_t a, uint64_t v)
{
	phys_write(m->mmu, a, 8, v);
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 16 << 20, .ncpus = 1, .cpu_model = "max" };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	c = m->cpu[0];
	/* PML4[0] → PDPT; PDPT[0] → PD; PD[0] → PT (4K pages for 0-2M),
	 * PD[1] → 2M page at 2M. */
	w64(PML4, PDPT | 3);
	w64(PDPT, PD | 3);
	w64(PD, PT | 3);
	w64(PD + 8, 0x200000 | 0x83);
	for (int i = 0; i < 512; i++)
		w64(PT + 8 * i, (uint64_t)i << 12 | 3);
	w64(PT + 8 * (WIN >> 12), DATA_A | 3);
	phys_write(m->mmu, DATA_A, 8, 0xaaaa);
	phys_write(m->mmu, DATA_B, 8, 0xbbbb);
	c->cr3 = PML4;
	c->cr4 = CR4_PAE;
	c->msr.efer = EFER_LME | EFER_LMA;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET;
	c->seg[S_CS].attr = 0xa09b; /* 64-bit code */
	c->seg[S_CS].base = 0;
	c->seg[S_CS].limit = 0xffffffff;
	for (int s = 0; s < S_NSEG; s++)
		if (s != S_CS)
			c->seg[s] = (struct seg){ 0, 0xffffffff, 0xc093, 0x10 };
	c->cpl = 0;
	c->rflags = F_FIXED1;
	cpu_update_mode(c);
	cpu_tlb_flush_all(c);
}

static void teardown(void)
{
	machine_free(m);
}

/* Run code at CODE until HLT. */
static void run(const uint8_t *code, size_t n)
{
	phys_write_buf(m->mmu, CODE, code, n);
	c->rip = CODE;
	c->halted = 0;
	enum cpu_stop s = cpu_run(c, 100000);
	ck_assert_int_eq(s, STOP_HALT);
}

START_TEST(t_invlpg)
{
	/* mov rax,[WIN]; mov [PT+WIN/4096*8], DATA_B|3 (via rbx); invlpg [WIN];
	 * mov rcx,[WIN]; hlt */
	static const uint8_t code[] = {
		0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x04, 0x00, /* mov rax,[0x40000] */
		0x48, 0xc7, 0xc2, 0x03, 0x10, 0x03, 0x00,       /* mov rdx,0x31003 */
		0x48, 0x89, 0x14, 0x25, 0x00, 0x32, 0x01, 0x00, /* mov [0x13200],rdx */
		0x0f, 0x01, 0x3c, 0x25, 0x00, 0x00, 0x04, 0x00, /* invlpg [0x40000] */
		0x48, 0x8b, 0x0c, 0x25, 0x00, 0x00, 0x04, 0x00, /* mov rcx,[0x40000] */
		0xf4,                                           /* hlt */
	};
	run(code, sizeof(code));
	ck_assert_uint_eq(c->gpr[R_AX], 0xaaaa);
	ck_assert_uint_eq(c->gpr[R_CX], 0xbbbb);
}
END_TEST

/* INVLPG of a page that holds code the vCPU has run: the next jump there
 * runs the code of the new mapping (the jump cache forgets the page). */
START_TEST(t_invlpg_code)
{
	static const uint8_t ret1[] = { 0xb8, 1, 0, 0, 0, 0xc3 }; /* mov eax,1; ret */
	static const uint8_t ret2[] = { 0xb8, 2, 0, 0, 0, 0xc3 }; /* mov eax,2; ret */
	phys_write_buf(m->mmu, DATA_A, ret1, sizeof(ret1));
	phys_write_buf(m->mmu, DATA_B, ret2, sizeof(ret2));
	static const uint8_t code[] = {
		0x48, 0xc7, 0xc4, 0x00, 0x80, 0x00, 0x00,       /* mov rsp,0x8000 */
		0x48, 0xc7, 0xc3, 0x00, 0x00, 0x04, 0x00,       /* mov rbx,0x40000 */
		0xff, 0xd3,                                     /* call rbx */
		0x48, 0x89, 0xc1,                               /* mov rcx,rax */
		0x48, 0xc7, 0xc2, 0x03, 0x10, 0x03, 0x00,       /* mov rdx,0x31003 */
		0x48, 0x89, 0x14, 0x25, 0x00, 0x32, 0x01, 0x00, /* mov [0x13200],rdx */
		0x0f, 0x01, 0x3c, 0x25, 0x00, 0x00, 0x04, 0x00, /* invlpg [0x40000] */
		0xff, 0xd3,                                     /* call rbx */
		0xf4,                                           /* hlt */
	};
	run(code, sizeof(code));
	ck_assert_uint_eq(c->gpr[R_CX], 1);
	ck_assert_uint_eq(c->gpr[R_AX], 2);
}
END_TEST

START_TEST(t_cr3_flush)
{
	/* Read through WIN, retarget the PTE, reload CR3, read again. */
	static const uint8_t code[] = {
		0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x04, 0x00, /* mov rax,[0x40000] */
		0x48, 0xc7, 0xc2, 0x03, 0x10, 0x03, 0x00,       /* mov rdx,0x31003 */
		0x48, 0x89, 0x14, 0x25, 0x00, 0x32, 0x01, 0x00, /* mov [0x13200],rdx */
		0x0f, 0x20, 0xdb,                               /* mov rbx,cr3 */
		0x0f, 0x22, 0xdb,                               /* mov cr3,rbx */
		0x48, 0x8b, 0x0c, 0x25, 0x00, 0x00, 0x04, 0x00, /* mov rcx,[0x40000] */
		0xf4,
	};
	run(code, sizeof(code));
	ck_assert_uint_eq(c->gpr[R_AX], 0xaaaa);
	ck_assert_uint_eq(c->gpr[R_CX], 0xbbbb);
}
END_TEST

START_TEST(t_smc_same_block)
{
	/* mov byte [rip+X], 0x42 turns the later "mov al,0x11" into
	 * "mov al,0x42" inside the same straight-line block. */
	static const uint8_t code[] = {
		0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x42, /* mov byte [rip+1],0x42 */
		0x90,                                     /* nop */
		0xb0, 0x11,                               /* mov al,0x11 (imm patched) */
		0xf4,
	};
	/* The displacement is relative to the next instruction (offset 7):
	 * rip+1 = offset 8 is "mov al" (b0); its immediate is offset 9. */
	uint8_t patched[sizeof(code)];
	memcpy(patched, code, sizeof(code));
	patched[2] = 0x02;
	/* Decode the page once first so the block is cached. */
	c->gpr[R_AX] = 0;
	run(patched, sizeof(patched));
	ck_assert_uint_eq(c->gpr[R_AX] & 0xff, 0x42);
	/* Run the same bytes again: the cached block must have been dropped,
	 * and the (already patched) immediate is still 0x42. */
	phys_write(m->mmu, CODE + 9, 1, 0x11);
	c->gpr[R_AX] = 0;
	c->rip = CODE;
	c->halted = 0;
	ck_assert_int_eq(cpu_run(c, 1000), STOP_HALT);
	ck_assert_uint_eq(c->gpr[R_AX] & 0xff, 0x42);
}
END_TEST

START_TEST(t_dma_into_code)
{
	static const uint8_t code1[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4 }; /* mov eax,1; hlt */
	run(code1, sizeof(code1));
	ck_assert_uint_eq(c->gpr[R_AX], 1);
	/* A device overwrites the immediate; the next run must see it. */
	phys_write(m->mmu, CODE + 1, 1, 7);
	c->rip = CODE;
	c->halted = 0;
	ck_assert_int_eq(cpu_run(c, 1000), STOP_HALT);
	ck_assert_uint_eq(c->gpr[R_AX], 7);
}
END_TEST

START_TEST(t_large_page_invlpg)
{
	/* Read 0x200000 (2M page → phys 2M) at two 4K offsets, remap the 2M
	 * page to phys 4M, INVLPG one address, read the other. */
	phys_write(m->mmu, 0x201000, 8, 0x1111);
	phys_write(m->mmu, 0x401000, 8, 0x2222);
	static const uint8_t code[] = {
		0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x20, 0x00, /* mov rax,[0x201000] */
		0x48, 0xc7, 0xc2, 0x83, 0x00, 0x40, 0x00,       /* mov rdx,0x400083 */
		0x48, 0x89, 0x14, 0x25, 0x08, 0x20, 0x01, 0x00, /* mov [0x12008],rdx */
		0x0f, 0x01, 0x3c, 0x25, 0x00, 0x00, 0x20, 0x00, /* invlpg [0x200000] */
		0x48, 0x8b, 0x0c, 0x25, 0x00, 0x10, 0x20, 0x00, /* mov rcx,[0x201000] */
		0xf4,
	};
	run(code, sizeof(code));
	ck_assert_uint_eq(c->gpr[R_AX], 0x1111);
	ck_assert_uint_eq(c->gpr[R_CX], 0x2222);
}
END_TEST

/* mmu/tlb.h directly: pieces of large pages and 4K pages in one set. */
START_TEST(t_large_record)
{
	static uint8_t host[4096];
	struct soft_tlb *t = calloc(1, sizeof(*t));
	ck_assert_ptr_nonnull(t);
	t->gen = 1;
	const uint64_t two_m = 2ull << 20, small = 0x7000000;
	/* Three large pages and one 4K page. */
	for (int i = 0; i < 3; i++) {
		tlb_insert(t, TLB_SUP, TLB_R, i * two_m + 0x5000, host, 0);
		tlb_note_large(t, i * two_m + 0x5000, two_m);
	}
	tlb_insert(t, TLB_SUP, TLB_R, small, host, 0);
	/* INVLPG of a 4K page outside them: only that slot. */
	tlb_flush_page(t, small);
	ck_assert_ptr_null(tlb_lookup(t, TLB_SUP, TLB_R, small));
	ck_assert_ptr_nonnull(tlb_lookup(t, TLB_SUP, TLB_R, two_m + 0x5000));
	/* INVLPG of another address inside the second large page: all of it. */
	tlb_flush_page(t, two_m + 0x1ff000);
	for (int i = 0; i < 3; i++)
		ck_assert_ptr_null(tlb_lookup(t, TLB_SUP, TLB_R, i * two_m + 0x5000));
	ck_assert_int_eq(t->nlarge, 0);
	/* More large pages than the record holds: any INVLPG empties the set. */
	for (int i = 0; i < TLB_NLARGE + 4; i++) {
		tlb_insert(t, TLB_SUP, TLB_W, i * two_m + 0x3000, host, 0);
		tlb_note_large(t, i * two_m + 0x3000, two_m);
	}
	tlb_note_large(t, 0x3000, two_m); /* again, after the overflow */
	tlb_flush_page(t, small);
	for (int i = 0; i < TLB_NLARGE + 4; i++)
		ck_assert_ptr_null(tlb_lookup(t, TLB_SUP, TLB_W, i * two_m + 0x3000));
	free(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tlb");
	TCase *tc = tcase_create("invalidation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_invlpg);
	tcase_add_test(tc, t_invlpg_code);
	tcase_add_test(tc, t_cr3_flush);
	tcase_add_test(tc, t_smc_same_block);
	tcase_add_test(tc, t_dma_into_code);
	tcase_add_test(tc, t_large_page_invlpg);
	tcase_add_test(tc, t_large_record);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
