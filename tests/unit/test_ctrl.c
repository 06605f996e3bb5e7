/*
 * tests/unit/test_ctrl.c — unit tests of near control transfers and stack
 * instructions (cpu/ops_ctrl.c, cpu/ops_stack.c).
 *
 * Each test builds a vCPU on the heap over 1 MiB of RAM (no paging), puts it
 * in the mode it needs, hand-builds a struct insn, looks the handler up in
 * the registry (optab_find) and runs it, catching faults via exc_jmp.
 */
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

#define RAM (1u << 20)

static struct mmu *mmu;
static struct cpu *c;
static uint8_t *ram;

static void set_seg(int s, uint32_t attr, uint32_t limit)
{
	c->seg[s].base = 0;
	c->seg[s].limit = limit;
	c->seg[s].attr = attr;
	c->seg[s].sel = 0x10;
}

/* Flat 32-bit protected mode, CPL 0, no paging. */
static void mode_flat32(void)
{
	c->cr0 = CR0_PE | CR0_ET;
	for (int s = 0; s < S_NSEG; s++)
		set_seg(s, 0xc093, 0xffffffffu);
	set_seg(S_CS, 0xc09b, 0xffffffffu);
	c->rflags = F_FIXED1;
	cpu_update_mode(c);
	c->cpl = 0;
}

/* Real mode with zero-based 64K segments. */
static void mode_real(void)
{
	c->cr0 = CR0_ET;
	for (int s = 0; s < S_NSEG; s++)
		set_seg(s, 0x93, 0xffff);
	set_seg(S_CS, 0x9b, 0xffff);
	c->rflags = F_FIXED1;
	cpu_update_mode(c);
}

/* 64-bit mode without paging: the access layer maps linear = physical. */
static void mode_long64(void)
{
	mode_flat32();
	c->msr.efer = EFER_LME | EFER_LMA;
	c->seg[S_CS].attr = 0xa09b;
	c->mode = MODE_LONG64;
}

/* optab.c calls the family registrations through weak references, which do
 * not pull objects out of a static library: reference ours strongly. */
void (*volatile force_link)(void) = ops_ctrl_register;

static void setup(void)
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
	c->gpr[R_SP] = 0x8000;
}

static void teardown(void)
{
	cpu_free(c);
	mmu_free(mmu);
}

static struct insn mk(uint16_t op, unsigned osz, unsigned len)
{
	struct insn in;
	memset(&in, 0, sizeof(in));
	in.op = op;
	in.osz = (uint8_t)osz;
	in.asz = c->mode == MODE_LONG64 ? 8 : c->mode == MODE_REAL ? 2 : 4;
	in.seg = S_DS;
	in.mod = 3;
	in.base = in.index = R_NONE;
	in.len = (uint8_t)len;
	return in;
}

static struct insn mkr(uint16_t op, unsigned osz, int reg, int rm)
{
	struct insn in = mk(op, osz, 2);
	in.has_modrm = 1;
	in.reg = (uint8_t)reg;
	in.rm = (uint8_t)rm;
	in.modrm = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
	return in;
}

static struct insn mkm(uint16_t op, unsigned osz, int reg, int base, int32_t disp)
{
	struct insn in = mkr(op, osz, reg, 0);
	in.mod = 2;
	in.modrm = (uint8_t)(0x80 | (reg & 7) << 3 | (base & 7));
	in.base = (uint8_t)base;
	in.rm = (uint8_t)base;
	in.disp = disp;
	in.seg = base == R_SP || base == R_BP ? S_SS : S_DS;
	in.len = 6;
	return in;
}

static int run(struct insn *in)
{
	const struct optab_entry *e = optab_find(in);
	ck_assert_msg(e != NULL, "no handler for op %#x", in->op);
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

static uint32_t rd32(uint32_t a)
{
	uint32_t v;
	memcpy(&v, ram + a, 4);
	return v;
}

static uint16_t rd16(uint32_t a)
{
	uint16_t v;
	memcpy(&v, ram + a, 2);
	return v;
}

static void wr32(uint32_t a, uint32_t v)
{
	memcpy(ram + a, &v, 4);
}

/* ---------------- branches ---------------- */

START_TEST(t_jcc)
{
	lf_set(c, CC_OP(CC_SUB, 4), 0, 3, 3); /* ZF=1 */
	struct insn in = mk(0x074, 4, 2);     /* je -0x10 */
	in.imm = (uint64_t)-0x10;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x1002 - 0x10);
	c->rip = 0x1000;
	in.op = 0x075; /* jne: not taken */
	run(&in);
	ck_assert_uint_eq(c->rip, 0x1002);
	c->rip = 0x1000;
	in = mk(0x184, 4, 6); /* je rel32 */
	in.imm = 0x100;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x1106);
	ck_assert(!(in.flags & OPF_ENDS_BLOCK));

	/* beyond CS.limit: #GP(0), rip stays at the instruction */
	c->seg[S_CS].limit = 0x10ff;
	c->rip = 0x1000;
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0);
	ck_assert_uint_eq(c->rip, 0x1000);
}
END_TEST

START_TEST(t_jmp_trunc)
{
	/* real mode: IP wraps at 64K */
	mode_real();
	c->rip = 0xfff0;
	struct insn in = mk(0x0eb, 2, 2);
	in.imm = 0x20;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x12);
	ck_assert(in.flags & OPF_ENDS_BLOCK);
	/* 32-bit code with 66: target truncated to 16 bits */
	mode_flat32();
	c->rip = 0x12345;
	in = mk(0x0e9, 2, 4);
	in.imm = 0x10;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x2359);
	/* 32-bit wrap */
	c->rip = 0xfffffff0u;
	in = mk(0x0e9, 4, 5);
	in.imm = 0x20;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x15);
	/* jmp ecx */
	c->gpr[R_CX] = 0xffff123456789abcull;
	in = mkr(0x0ff, 4, 4, R_CX);
	run(&in);
	ck_assert_uint_eq(c->rip, 0x56789abcu);
}
END_TEST

START_TEST(t_jmp64)
{
	mode_long64();
	c->gpr[R_AX] = 0x00007ffffffff000ull;
	struct insn in = mkr(0x0ff, 8, 4, R_AX); /* jmp rax */
	run(&in);
	ck_assert_uint_eq(c->rip, 0x00007ffffffff000ull);
	c->rip = 0x1000;
	c->gpr[R_AX] = 0x0000800000000000ull; /* non-canonical */
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->rip, 0x1000);
	c->cr4 |= CR4_LA57; /* canonical with 57-bit addresses */
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->rip, 0x0000800000000000ull);
	c->cr4 = 0;

	/* 66 prefix: Intel ignores it, AMD truncates to 16 bits */
	struct cpu_model m;
	memset(&m, 0, sizeof(m));
	m.vendor = VENDOR_INTEL;
	c->model = &m;
	c->rip = 0x123456;
	in = mk(0x0eb, 2, 3);
	in.imm = 0x10;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x123469);
	m.vendor = VENDOR_AMD;
	c->rip = 0x123456;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x3469);
	c->model = NULL;
}
END_TEST

START_TEST(t_call_ret)
{
	c->rip = 0x1000;
	struct insn in = mk(0x0e8, 4, 5);
	in.imm = 0x200;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x1205);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7ffc);
	ck_assert_uint_eq(rd32(0x7ffc), 0x1005);
	ck_assert(in.flags & OPF_ENDS_BLOCK);

	/* ret 8 */
	in = mk(0x0c2, 4, 3);
	in.imm = 8;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x1005);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8008);

	/* call to a target beyond CS.limit pushes nothing */
	c->seg[S_CS].limit = 0x1fff;
	c->gpr[R_SP] = 0x8000;
	wr32(0x7ffc, 0xdeadbeef);
	c->rip = 0x1000;
	in = mk(0x0e8, 4, 5);
	in.imm = 0x2000;
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000);
	ck_assert_uint_eq(rd32(0x7ffc), 0xdeadbeef);

	/* ret to a bad target: rSP not released */
	wr32(0x8000, 0x3000);
	in = mk(0x0c3, 4, 1);
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000);
	c->seg[S_CS].limit = 0xffffffffu;

	/* call [esp]: the operand is read with the old esp */
	wr32(0x8000, 0x4444);
	in = mkm(0x0ff, 4, 2, R_SP, 0);
	c->rip = 0x1000;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x4444);
	ck_assert_uint_eq(rd32(0x7ffc), 0x1006);

	/* 16-bit call in real mode pushes IP */
	mode_real();
	c->gpr[R_SP] = 0x9000;
	c->rip = 0x100;
	in = mk(0x0e8, 2, 3);
	in.imm = (uint64_t)-0x200; /* wraps */
	run(&in);
	ck_assert_uint_eq(c->rip, 0xff03);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8ffe);
	ck_assert_uint_eq(rd16(0x8ffe), 0x103);
}
END_TEST

START_TEST(t_loop)
{
	/* 16-bit address size: only CX counts; upper ECX survives */
	c->gpr[R_CX] = 0x12340001;
	struct insn in = mk(0x0e2, 4, 2);
	in.asz = 2;
	in.imm = (uint64_t)-2;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_CX], 0x12340000u);
	ck_assert_uint_eq(c->rip, 0x1002); /* CX became 0: not taken */
	c->rip = 0x1000;
	run(&in); /* CX = 0 -> FFFF: taken */
	ck_assert_uint_eq(c->gpr[R_CX], 0x1234ffffu);
	ck_assert_uint_eq(c->rip, 0x1000);

	/* loope: taken only while ZF = 1 */
	c->gpr[R_CX] = 5;
	lf_set(c, CC_OP(CC_SUB, 4), 1, 2, 1); /* ZF=0 */
	in = mk(0x0e1, 4, 2);
	in.imm = 0x10;
	c->rip = 0x1000;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x1002);
	ck_assert_uint_eq(c->gpr[R_CX], 4);
	in.op = 0x0e0; /* loopne */
	c->rip = 0x1000;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x1012);
	ck_assert_uint_eq(c->gpr[R_CX], 3);

	/* a #GP on the target leaves ECX unchanged */
	c->seg[S_CS].limit = 0x1008;
	in.op = 0x0e2;
	c->rip = 0x1000;
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->gpr[R_CX], 3);
	c->seg[S_CS].limit = 0xffffffffu;

	/* jecxz / jcxz */
	in = mk(0x0e3, 4, 2);
	in.imm = 0x40;
	c->gpr[R_CX] = 0x10000;
	c->rip = 0x1000;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x1002);
	in.asz = 2; /* jcxz: CX = 0 */
	c->rip = 0x1000;
	run(&in);
	ck_assert_uint_eq(c->rip, 0x1042);
}
END_TEST

/* ---------------- stack ---------------- */

START_TEST(t_push_pop)
{
	struct insn in = mk(0x054, 4, 1); /* push esp */
	in.rm = R_SP;
	run(&in);
	ck_assert_uint_eq(rd32(0x7ffc), 0x8000);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7ffc);
	in = mk(0x05c, 4, 1); /* pop esp */
	in.rm = R_SP;
	wr32(0x7ffc, 0x6000);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0x6000);

	/* push imm8 sign-extended */
	in = mk(0x06a, 4, 2);
	in.imm = (uint64_t)-3;
	run(&in);
	ck_assert_uint_eq(rd32(0x5ffc), 0xfffffffdu);
	/* push word [ebx] */
	c->gpr[R_BX] = 0x3000;
	memcpy(ram + 0x3000, "\x34\x12", 2);
	in = mkm(0x0ff, 2, 6, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0x5ffa);
	ck_assert_uint_eq(rd16(0x5ffa), 0x1234);

	/* pop [esp+4]: the address uses esp after the increment */
	c->gpr[R_SP] = 0x7000;
	wr32(0x7000, 0xcafe);
	in = mkm(0x08f, 4, 0, R_SP, 4);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7004);
	ck_assert_uint_eq(rd32(0x7008), 0xcafe);
	/* pop to a faulting address: esp unchanged */
	c->seg[S_DS].limit = 0xfff;
	c->gpr[R_BX] = 0x2000;
	in = mkm(0x08f, 4, 0, R_BX, 0);
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7004);
	/* pop ecx through 8F /0 register form */
	in = mkr(0x08f, 4, 0, R_CX);
	wr32(0x7004, 77);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_CX], 77);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7008);

	/* 16-bit stack (SS.B = 0): SP wraps, upper ESP kept */
	c->seg[S_SS].attr = 0x93;
	c->gpr[R_SP] = 0xabcd0000;
	in = mk(0x050, 2, 1);
	in.rm = R_AX;
	c->gpr[R_AX] = 0x5555;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0xabcdfffeu);
	ck_assert_uint_eq(rd16(0xfffe), 0x5555);
}
END_TEST

START_TEST(t_stack64)
{
	mode_long64();
	c->gpr[R_SP] = 0x8000;
	c->gpr[R_BX] = 0x3000;
	memcpy(ram + 0x3000, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	/* push qword [rbx], even if the decoder reports osz 4 for FF /6 */
	struct insn in = mkm(0x0ff, 4, 6, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7ff8);
	ck_assert_uint_eq(rd32(0x7ffc), 0x08070605u);
	/* 66 push word */
	in = mk(0x06a, 2, 3);
	in.imm = (uint64_t)-1;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7ff6);
	ck_assert_uint_eq(rd16(0x7ff6), 0xffff);
	/* pop r10 */
	c->gpr[R_SP] = 0x7ff8;
	in = mk(0x05a, 8, 2);
	in.rm = R_R10;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_R10], 0x0807060504030201ull);
	/* call rax pushes 8 bytes */
	c->gpr[R_AX] = 0x123456789aull;
	c->rip = 0x100000000ull;
	in = mkr(0x0ff, 4, 2, R_AX);
	run(&in);
	ck_assert_uint_eq(c->rip, 0x123456789aull);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7ff8);
	ck_assert_uint_eq(rd32(0x7ff8), 2);
	ck_assert_uint_eq(rd32(0x7ffc), 1);
	/* ret */
	in = mk(0x0c3, 8, 1);
	run(&in);
	ck_assert_uint_eq(c->rip, 0x100000002ull);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000);
	/* pushf / popf 64-bit */
	c->rflags = F_FIXED1 | F_RF;
	lf_set(c, CC_OP(CC_LOGIC, 8), 0, 0, 0);
	in = mk(0x09c, 8, 1);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7ff8);
	ck_assert_uint_eq(rd32(0x7ff8), F_FIXED1 | F_ZF | F_PF);
}
END_TEST

START_TEST(t_pusha_popa)
{
	for (int r = 0; r < 8; r++)
		c->gpr[r] = 0x100 + (unsigned)r;
	c->gpr[R_SP] = 0x8000;
	struct insn in = mk(0x060, 4, 1);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000 - 32);
	ck_assert_uint_eq(rd32(0x7ffc), 0x100);  /* EAX first */
	ck_assert_uint_eq(rd32(0x7fec), 0x8000); /* original ESP */
	ck_assert_uint_eq(rd32(0x7fe0), 0x107);  /* EDI last */
	for (int r = 0; r < 8; r++)
		if (r != R_SP)
			c->gpr[r] = 0;
	wr32(0x7fec, 0x1234); /* ignored by POPA */
	in = mk(0x061, 4, 1);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000);
	for (int r = 0; r < 8; r++)
		if (r != R_SP)
			ck_assert_uint_eq(c->gpr[r], 0x100 + (unsigned)r);
}
END_TEST

START_TEST(t_pushf_popf)
{
	c->rflags = F_FIXED1 | F_IF | F_RF | F_IOPL;
	flags_set(c, F_CF | F_ZF, F_ARITH);
	struct insn in = mk(0x09c, 4, 1);
	run(&in);
	uint32_t img = rd32(0x7ffc);
	ck_assert_uint_eq(img & F_RF, 0);
	ck_assert_uint_eq(img & (F_CF | F_ZF | F_IF | F_IOPL | F_FIXED1),
			  F_CF | F_ZF | F_IF | F_IOPL | F_FIXED1);

	/* POPF at CPL 3 with IOPL 0: IOPL, IF kept; arithmetic, DF, AC change */
	c->rflags = F_FIXED1 | F_IF | F_RF | F_VIP;
	c->cpl = 3;
	c->gpr[R_SP] = 0x7ffc;
	wr32(0x7ffc, F_IOPL | F_DF | F_SF | F_AC | F_VM);
	in = mk(0x09d, 4, 1);
	run(&in);
	uint64_t f = flags_get(c);
	ck_assert_uint_eq(f & F_IOPL, 0);
	ck_assert(f & F_IF); /* CPL > IOPL: IF unchanged */
	ck_assert(f & F_DF);
	ck_assert(f & F_SF);
	ck_assert(f & F_AC);
	ck_assert_uint_eq(f & F_VM, 0); /* VM never set by POPF */
	ck_assert(f & F_VIP);           /* VIP kept */
	ck_assert_uint_eq(f & F_RF, 0); /* RF cleared */
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000);

	/* CPL 0: IOPL and IF change; 16-bit POPF leaves bits 31:16 */
	c->cpl = 0;
	c->gpr[R_SP] = 0x7ffc;
	wr32(0x7ffc, F_IOPL);
	run(&in);
	ck_assert_uint_eq(flags_get(c) & (F_IOPL | F_IF | F_AC), F_IOPL);
	c->rflags |= F_AC;
	c->pending = 0;
	c->gpr[R_SP] = 0x7ffe;
	memcpy(ram + 0x7ffe, "\x00\x02", 2); /* IF only */
	in = mk(0x09d, 2, 1);
	run(&in);
	ck_assert_uint_eq(flags_get(c) & (F_IOPL | F_IF | F_AC), F_IF | F_AC);
	ck_assert(c->pending & PEND_IRQ);

	/* V86 with IOPL < 3 and no VME: #GP(0) for PUSHF and POPF */
	mode_real();
	c->cr0 |= CR0_PE;
	c->rflags = F_FIXED1 | F_VM;
	cpu_update_mode(c);
	ck_assert_int_eq(c->mode, MODE_V86);
	c->gpr[R_SP] = 0x8000;
	in = mk(0x09c, 2, 1);
	ck_assert_int_eq(run(&in), EXC_GP);
	in = mk(0x09d, 2, 1);
	ck_assert_int_eq(run(&in), EXC_GP);
	/* with VME: 16-bit PUSHF shows VIF as IF and IOPL 3; POPF sets VIF */
	c->cr4 |= CR4_VME;
	c->rflags |= F_VIF;
	in = mk(0x09c, 2, 1);
	run(&in);
	ck_assert_uint_eq(rd16(0x7ffe) & (F_IF | F_IOPL), F_IF | F_IOPL);
	memcpy(ram + 0x7ffe, "\x00\x00", 2);
	in = mk(0x09d, 2, 1);
	run(&in);
	ck_assert_uint_eq(c->rflags & (F_VIF | F_IF | F_VM), F_VM);
	/* POPF setting TF under VME: #GP */
	c->gpr[R_SP] = 0x7ffe;
	memcpy(ram + 0x7ffe, "\x00\x01", 2);
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7ffe);
}
END_TEST

START_TEST(t_enter_leave)
{
	/* enter 0x10, 0 */
	c->gpr[R_BP] = 0x9999;
	struct insn in = mk(0x0c8, 4, 4);
	in.imm = 0x10;
	in.imm2 = 0;
	run(&in);
	ck_assert_uint_eq(rd32(0x7ffc), 0x9999);
	ck_assert_uint_eq(c->gpr[R_BP], 0x7ffc);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7ffc - 0x10);

	/* enter 8, 3: copies two outer frame pointers, then the new frame */
	wr32(0x7ffc - 4, 0xaaaa);
	wr32(0x7ffc - 8, 0xbbbb);
	c->gpr[R_SP] = 0x7000;
	in.imm = 8;
	in.imm2 = 3;
	run(&in);
	ck_assert_uint_eq(rd32(0x6ffc), 0x7ffc); /* old EBP */
	ck_assert_uint_eq(rd32(0x6ff8), 0xaaaa);
	ck_assert_uint_eq(rd32(0x6ff4), 0xbbbb);
	ck_assert_uint_eq(rd32(0x6ff0), 0x6ffc); /* frame pointer */
	ck_assert_uint_eq(c->gpr[R_BP], 0x6ffc);
	ck_assert_uint_eq(c->gpr[R_SP], 0x6ff0 - 8);

	/* enter whose allocation leaves the stack segment: #SS, nothing done */
	c->seg[S_SS].attr = 0xc097; /* expand-down, limit 0x5fff: valid > 0x5fff */
	c->seg[S_SS].limit = 0x5fff;
	uint64_t sp0 = c->gpr[R_SP], bp0 = c->gpr[R_BP];
	in.imm = 0x1000;
	in.imm2 = 0;
	ck_assert_int_eq(run(&in), EXC_SS);
	ck_assert_uint_eq(c->gpr[R_SP], sp0);
	ck_assert_uint_eq(c->gpr[R_BP], bp0);
	c->seg[S_SS].attr = 0xc093;
	c->seg[S_SS].limit = 0xffffffffu;
	c->gpr[R_SP] = 0x6ff0 - 8;

	/* leave */
	in = mk(0x0c9, 4, 1);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7000);
	ck_assert_uint_eq(c->gpr[R_BP], 0x7ffc);
	/* leave with a bad frame pointer: #SS/#GP, nothing changes */
	c->seg[S_SS].limit = 0x7fff;
	c->gpr[R_BP] = 0x9000;
	ck_assert_int_ne(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7000);
	ck_assert_uint_eq(c->gpr[R_BP], 0x9000);
}
END_TEST

static Suite *ctrl_suite(void)
{
	Suite *s = suite_create("ctrl");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, t_jcc);
	tcase_add_test(t, t_jmp_trunc);
	tcase_add_test(t, t_jmp64);
	tcase_add_test(t, t_call_ret);
	tcase_add_test(t, t_loop);
	tcase_add_test(t, t_push_pop);
	tcase_add_test(t, t_stack64);
	tcase_add_test(t, t_pusha_popa);
	tcase_add_test(t, t_pushf_popf);
	tcase_add_test(t, t_enter_leave);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(ctrl_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
