/*
 * tests/unit/simd_test.h — shared harness of the MMX/SSE unit tests
 * (test_simd.c: integer, strings, AES, checks, memory forms; test_simd_fp.c:
 * floating point). A vCPU on the heap over 1 MiB of RAM in 64-bit mode
 * without paging; instructions are hand-built struct insn, looked up in the
 * registry (optab_find) and run with faults caught through exc_jmp.
 * Host references are inline asm (x86-64 host with SSE4.2/AES/PCLMUL).
 */
#ifndef NESTBOX_TESTS_UNIT_SIMD_TEST_H
#define NESTBOX_TESTS_UNIT_SIMD_TEST_H

#include <check.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "mmu/mmu.h"

#define RAM (1u << 20)
#ifndef ITER
#define ITER 300
#endif

typedef long long v2di __attribute__((vector_size(16)));
typedef int v2si __attribute__((vector_size(8)));

static struct mmu *mmu;
static struct cpu *c;
static uint8_t *ram;

/* optab.c calls the family registrations through weak references: reference
 * ours strongly so the static library's objects are linked. */
void (*volatile force_link_int)(void) = ops_simd_int_register;
void (*volatile force_link_fp)(void) = ops_simd_fp_register;

/* ---------------- harness ---------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static inline uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static inline void set_seg(int s, uint32_t attr)
{
	c->seg[s].base = 0;
	c->seg[s].limit = 0xffffffffu;
	c->seg[s].attr = attr;
	c->seg[s].sel = 0x10;
}

static inline void setup(void)
{
	optab_init();
	mmu = mmu_new(RAM);
	ck_assert_ptr_nonnull(mmu);
	mmu_map_ram(mmu, 0, RAM, 0);
	ram = mmu_ram(mmu);
	c = cpu_new(NULL, mmu, NULL, 0);
	ck_assert_ptr_nonnull(c);
	c->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_MP;
	c->cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_PAE;
	for (int s = 0; s < S_NSEG; s++)
		set_seg(s, 0xc093);
	set_seg(S_CS, 0xa09b);
	c->rflags = F_FIXED1;
	c->msr.efer = EFER_LME | EFER_LMA;
	cpu_update_mode(c);
	c->mode = MODE_LONG64;
	c->cpl = 0;
	c->rip = 0x1000;
	c->fpu.mxcsr = 0x1f80;
}

static inline void teardown(void)
{
	cpu_free(c);
	mmu_free(mmu);
}

static inline struct insn mkr(uint16_t op, int mp, int reg, int rm)
{
	struct insn in;
	memset(&in, 0, sizeof(in));
	in.op = op;
	in.mp = (uint8_t)mp;
	in.osz = 4;
	in.asz = 8;
	in.seg = S_DS;
	in.has_modrm = 1;
	in.mod = 3;
	in.reg = (uint8_t)reg;
	in.rm = (uint8_t)rm;
	in.modrm = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
	in.base = in.index = R_NONE;
	in.len = 4;
	return in;
}

/* [rbx + disp] */
static inline struct insn mkm(uint16_t op, int mp, int reg, int32_t disp)
{
	struct insn in = mkr(op, mp, reg, 0);
	in.mod = 2;
	in.modrm = (uint8_t)(0x80 | (reg & 7) << 3 | R_BX);
	in.base = R_BX;
	in.rm = R_BX;
	in.disp = disp;
	return in;
}

/* Look the handler up and run it; returns the exception vector or -1. */
static inline int run(struct insn *in)
{
	const struct optab_entry *e = optab_find(in);
	ck_assert_msg(e != NULL, "no handler for op %#x mp %d", in->op, in->mp);
	in->fn = e->fn;
	in->flags = e->flags;
	jmp_buf jb;
	c->exc_jmp = &jb;
	c->ip_start = c->rip;
	c->rip += in->len;
	if (setjmp(jb)) {
		c->exc_jmp = NULL;
		c->rip = c->ip_start;
		return c->exc_vector;
	}
	in->fn(c, in);
	c->exc_jmp = NULL;
	return -1;
}

/* Random vector biased towards the interesting integer values. */
static inline void rnd_int(union xmm *v)
{
	v->q[0] = rnd();
	v->q[1] = rnd();
	unsigned mode = rnd() % 4;
	if (mode == 1) {
		static const uint8_t sp[] = { 0, 0x7f, 0x80, 0xff, 1, 0xfe };
		for (int i = 0; i < 16; i++)
			if (rnd() & 1)
				v->b[i] = sp[rnd() % sizeof(sp)];
	} else if (mode == 2) {
		v->q[0] = rnd() % 80; /* small shift counts */
	}
}

static inline void xeq(const union xmm *got, const union xmm *want, const char *what, int iter)
{
	ck_assert_msg(got->q[0] == want->q[0] && got->q[1] == want->q[1],
		      "%s (iter %d): got %016llx:%016llx want %016llx:%016llx", what, iter,
		      (unsigned long long)got->q[1], (unsigned long long)got->q[0],
		      (unsigned long long)want->q[1], (unsigned long long)want->q[0]);
}

/* Source operand in register rmreg, or (mem) n bytes at the 16-byte aligned
 * address 0x6000 addressed as [rbx]. */
static inline struct insn src_form(uint16_t op, int mp, int reg, int rmreg, const void *src,
				   unsigned n, bool mem)
{
	if (!mem)
		return mkr(op, mp, reg, rmreg);
	memcpy(ram + 0x6000, src, n);
	c->gpr[R_BX] = 0x6000;
	return mkm(op, mp, reg, 0);
}

typedef void (*hx_fn)(union xmm *d, const union xmm *s);

#endif
