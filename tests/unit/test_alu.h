/*
 * tests/unit/test_alu.h — harness shared by test_alu.c and test_alu_host.c
 * (one executable each): a vCPU on the heap over 1 MiB of RAM (flat 32-bit
 * protected mode or 64-bit mode, no paging), hand-built struct insn in
 * register, memory and VEX forms, and run(), which looks the handler up in
 * the registry (optab_find, so the tables are tested too) and runs it,
 * catching faults through exc_jmp.
 */
#ifndef NESTBOX_TESTS_UNIT_TEST_ALU_H
#define NESTBOX_TESTS_UNIT_TEST_ALU_H

#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "mmu/mmu.h"

#define RAM   (1u << 20)
#define ARITH F_ARITH

static struct mmu *mmu;
static struct cpu *c;
static uint8_t *ram;

static inline void set_seg(int s, uint32_t attr, uint32_t limit)
{
	c->seg[s].base = 0;
	c->seg[s].limit = limit;
	c->seg[s].attr = attr;
	c->seg[s].sel = 0x10;
}

static inline void mode_flat32(void)
{
	c->cr0 = CR0_PE | CR0_ET;
	for (int s = 0; s < S_NSEG; s++)
		set_seg(s, 0xc093, 0xffffffffu);
	set_seg(S_CS, 0xc09b, 0xffffffffu);
	c->rflags = F_FIXED1;
	c->msr.efer = 0;
	cpu_update_mode(c);
	c->cpl = 0;
}

static inline void mode_long64(void)
{
	mode_flat32();
	c->msr.efer = EFER_LME | EFER_LMA;
	c->seg[S_CS].attr = 0xa09b;
	cpu_update_mode(c);
	ck_assert_int_eq(c->mode, MODE_LONG64);
}

/* optab.c reaches the family registrations through weak references, which
 * do not pull members out of a static library: reference them here. */
void (*volatile alu_force_link[2])(void) = { ops_alu_register, ops_bit_register };

static inline void setup(void)
{
	optab_init();
	mmu = mmu_new(RAM);
	ck_assert_ptr_nonnull(mmu);
	mmu_map_ram(mmu, 0, RAM, 0);
	ram = mmu_ram(mmu);
	c = cpu_new(NULL, mmu, NULL, 0);
	ck_assert_ptr_nonnull(c);
	mode_flat32();
	c->rip = 0x1000;
}

static inline void teardown(void)
{
	cpu_free(c);
	mmu_free(mmu);
}

static inline struct insn mk(uint16_t op, unsigned osz)
{
	struct insn in;

	memset(&in, 0, sizeof(in));
	in.op = op;
	in.osz = (uint8_t)osz;
	in.asz = c->mode == MODE_LONG64 ? 8 : 4;
	in.seg = S_DS;
	in.mod = 3;
	in.base = in.index = R_NONE;
	in.len = 1;
	if (osz == 8)
		in.pfx |= PFX_REX | PFX_REXW;
	return in;
}

/* Register form: ModRM.reg = reg, ModRM.rm = rm. */
static inline struct insn mkr(uint16_t op, unsigned osz, int reg, int rm)
{
	struct insn in = mk(op, osz);

	in.has_modrm = 1;
	in.reg = (uint8_t)reg;
	in.rm = (uint8_t)rm;
	in.modrm = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
	in.len = 2;
	return in;
}

/* Memory form [base + disp]. */
static inline struct insn mkm(uint16_t op, unsigned osz, int reg, int base, int32_t disp)
{
	struct insn in = mkr(op, osz, reg, 0);

	in.mod = 2;
	in.modrm = (uint8_t)(0x80 | (reg & 7) << 3 | (base & 7));
	in.base = (uint8_t)base;
	in.rm = (uint8_t)base;
	in.disp = disp;
	in.len = 6;
	return in;
}

/* VEX register form: reg, vvvv, rm; mp from VEX.pp. */
static inline struct insn mkv(uint16_t op, int mp, unsigned w, int reg, int vvvv, int rm)
{
	struct insn in = mkr(op, c->mode == MODE_LONG64 && w ? 8 : 4, reg, rm);

	in.pfx = PFX_VEX;
	in.mp = (uint8_t)mp;
	in.vexw = (uint8_t)w;
	in.vvvv = (uint8_t)vvvv;
	return in;
}

static inline int run(struct insn *in)
{
	const struct optab_entry *e = optab_find(in);

	ck_assert_msg(e != NULL, "no handler for op %#x /%d", in->op, in->reg & 7);
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

static inline uint64_t rdm(uint32_t a, unsigned n)
{
	uint64_t v = 0;

	memcpy(&v, ram + a, n);
	return v;
}

static inline void wrm(uint32_t a, uint64_t v, unsigned n)
{
	memcpy(ram + a, &v, n);
}

static inline uint32_t fl(void)
{
	return flags_arith(c);
}

static inline void set_fl(uint32_t f)
{
	flags_set(c, f, F_ARITH);
}

/* Group 2 by CL on DX (RDX): r = ModRM.reg operation. */
static inline uint64_t sh(int r, unsigned osz, uint64_t v, unsigned cnt, uint32_t fin,
			  uint32_t *fout)
{
	struct insn in = mkr(osz == 1 ? 0xd2 : 0xd3, osz == 1 ? 4 : osz, r, R_DX);

	c->gpr[R_DX] = v;
	c->gpr[R_CX] = cnt;
	set_fl(fin);
	ck_assert_int_eq(run(&in), -1);
	*fout = fl();
	return c->gpr[R_DX];
}

#endif
