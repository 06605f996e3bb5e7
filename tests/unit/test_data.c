/*
 * tests/unit/test_data.c — unit tests of the data-movement, string and BCD
 * handlers (cpu/ops_data.c, cpu/ops_string.c, cpu/ops_bcd.c).
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
void (*volatile force_link)(void) = ops_data_register;

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
}

static void teardown(void)
{
	cpu_free(c);
	mmu_free(mmu);
}

/* An instruction without ModRM (or register in the opcode's low bits). */
static struct insn mk(uint16_t op, unsigned osz)
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
	return in;
}

/* ModRM register form: reg, rm. */
static struct insn mkr(uint16_t op, unsigned osz, int reg, int rm)
{
	struct insn in = mk(op, osz);
	in.has_modrm = 1;
	in.mod = 3;
	in.reg = (uint8_t)reg;
	in.rm = (uint8_t)rm;
	in.modrm = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
	in.len = 2;
	return in;
}

/* ModRM memory form [base + disp]. */
static struct insn mkm(uint16_t op, unsigned osz, int reg, int base, int32_t disp)
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

/* Look up the handler and run it; returns the exception vector or -1. */
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

/* Run a REP instruction to completion (it restarts itself per chunk). */
static int run_rep(struct insn *in)
{
	int v, n = 0;
	do
		v = run(in);
	while (v < 0 && c->rip == c->ip_start && ++n < 1000);
	return v;
}

static uint32_t rd32(uint32_t a)
{
	uint32_t v;
	memcpy(&v, ram + a, 4);
	return v;
}

/* ---------------- MOV family ---------------- */

START_TEST(t_mov_forms)
{
	c->gpr[R_CX] = 0xffffffff00000000ull;
	c->gpr[R_DX] = 0x1122334455667788ull;
	struct insn in = mkr(0x089, 4, R_DX, R_CX); /* mov ecx, edx */
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_CX], 0x55667788u); /* zero-extended */

	/* mov [ebx+8], edx ; mov eax, [ebx+8] */
	c->gpr[R_BX] = 0x2000;
	in = mkm(0x089, 4, R_DX, R_BX, 8);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(rd32(0x2008), 0x55667788u);
	in = mkm(0x08b, 2, R_AX, R_BX, 8);
	c->gpr[R_AX] = 0xaaaaaaaa;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX], 0xaaaa7788u);

	/* mov ah, 0x5a (B4) and mov spl, 0x5a (REX B4) */
	in = mk(0x0b4, 4);
	in.rm = 4;
	in.imm = 0x5a;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xaaaa5a88u);
	in.pfx = PFX_REX;
	c->gpr[R_SP] = 0x1000;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SP], 0x105au);

	/* mov r9, imm64 */
	mode_long64();
	in = mk(0x0b9, 8);
	in.rm = R_R9;
	in.imm = 0x8877665544332211ull;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_R9], 0x8877665544332211ull);

	/* mov byte [rbx+1], 0xfe (C6 /0) */
	in = mkm(0x0c6, 4, 0, R_BX, 1);
	in.imm = (uint64_t)-2;
	run(&in);
	ck_assert_uint_eq(ram[0x2001], 0xfe);
	/* mov qword [rbx], -2 (C7 /0, REX.W): sign-extended imm32 */
	in = mkm(0x0c7, 8, 0, R_BX, 0x10);
	in.imm = (uint64_t)-2;
	run(&in);
	ck_assert_uint_eq(rd32(0x2010), 0xfffffffeu);
	ck_assert_uint_eq(rd32(0x2014), 0xffffffffu);
}
END_TEST

START_TEST(t_mov_moffs)
{
	/* A1 with 16-bit address size: only the low 16 bits of the offset. */
	memcpy(ram + 0x2345, "\x11\x22\x33\x44", 4);
	struct insn in = mk(0x0a1, 4);
	in.asz = 2;
	in.imm = 0x12345;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX], 0x44332211u);
	/* A2: mov [moffs], al */
	in = mk(0x0a2, 4);
	in.imm = 0x3000;
	c->gpr[R_AX] = 0x99;
	run(&in);
	ck_assert_uint_eq(ram[0x3000], 0x99);
	/* A0 beyond a small DS limit: #GP, AL unchanged */
	c->seg[S_DS].limit = 0xfff;
	in = mk(0x0a0, 4);
	in.imm = 0x3000;
	c->gpr[R_AX] = 0x55;
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->gpr[R_AX], 0x55);
}
END_TEST

START_TEST(t_movzx_movsx)
{
	c->gpr[R_BX] = 0x80f0;
	struct insn in = mkr(0x1b6, 4, R_AX, R_BX); /* movzx eax, bl */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xf0);
	in = mkr(0x1be, 4, R_AX, R_BX); /* movsx eax, bl */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xfffffff0u);
	in = mkr(0x1bf, 2, R_AX, R_BX); /* movsx ax, bx */
	c->gpr[R_AX] = 0x12340000;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x123480f0u);
	mode_long64();
	in = mkr(0x1bf, 8, R_AX, R_BX); /* movsx rax, bx */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xffffffffffff80f0ull);
	c->gpr[R_BX] = 0x80000000;
	in = mkr(0x063, 8, R_CX, R_BX); /* movsxd rcx, ebx */
	in.pfx = PFX_REX | PFX_REXW;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_CX], 0xffffffff80000000ull);
}
END_TEST

START_TEST(t_lea)
{
	/* 32-bit: lea eax, [ebx + esi*4 + 0x10] */
	c->gpr[R_BX] = 0x1000;
	c->gpr[R_SI] = 3;
	struct insn in = mkm(0x08d, 4, R_AX, R_BX, 0x10);
	in.index = R_SI;
	in.scale = 2;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x101cu);
	/* operand size 16 < address size 32: truncated to AX */
	c->gpr[R_AX] = 0xdead0000;
	c->gpr[R_BX] = 0x12345678;
	in = mkm(0x08d, 2, R_AX, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xdead5678u);
	/* address size 16 < operand size 32: wraps at 64K, zero-extended */
	c->gpr[R_BX] = 0xfff0;
	in = mkm(0x08d, 4, R_AX, R_BX, 0x20);
	in.asz = 2;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x10u);
	/* 64-bit: address size 32 (67) zero-extends into RAX */
	mode_long64();
	c->gpr[R_BX] = 0xfffffff0;
	in = mkm(0x08d, 8, R_AX, R_BX, 0x20);
	in.asz = 4;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x10u);
	/* RIP-relative uses the next instruction's address */
	c->rip = 0x5000;
	in = mkm(0x08d, 8, R_AX, R_BX, 0x100);
	in.base = BASE_RIP;
	in.len = 7;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x5107u);
	/* mod = 3 has no handler (#UD) */
	in = mkr(0x08d, 4, R_AX, R_BX);
	ck_assert_ptr_null(optab_find(&in));
}
END_TEST

START_TEST(t_xchg)
{
	c->gpr[R_AX] = 1;
	c->gpr[R_BX] = 0x2000;
	memcpy(ram + 0x2000, "\x78\x56\x34\x12", 4);
	struct insn in = mkm(0x087, 4, R_AX, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x12345678u);
	ck_assert_uint_eq(rd32(0x2000), 1);
	ck_assert(in.flags & OPF_LOCKABLE);
	/* a faulting xchg changes neither side */
	c->seg[S_DS].limit = 0x1fff;
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->gpr[R_AX], 0x12345678u);

	/* 90 in 64-bit mode is NOP: EAX's upper half survives */
	mode_long64();
	c->gpr[R_AX] = 0xffffffff00000001ull;
	in = mk(0x090, 4);
	in.rm = R_AX;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xffffffff00000001ull);
	/* 41 90: xchg r8d, eax zero-extends both */
	c->gpr[R_R8] = 0xaaaaaaaa00000002ull;
	in.rm = R_R8;
	in.pfx = PFX_REX;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 2);
	ck_assert_uint_eq(c->gpr[R_R8], 1);
}
END_TEST

START_TEST(t_cmov_setcc)
{
	mode_long64();
	c->gpr[R_AX] = 0xffffffff12345678ull;
	c->gpr[R_BX] = 0x1111111122222222ull;
	lf_set(c, CC_OP(CC_SUB, 4), 0, 5, 5);       /* ZF = 1 */
	struct insn in = mkr(0x145, 4, R_AX, R_BX); /* cmovne eax, ebx: false */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x12345678u); /* upper half cleared */
	in = mkr(0x144, 4, R_AX, R_BX);               /* cmove: true */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x22222222u);
	c->gpr[R_AX] = 0xffffffff12345678ull;
	in = mkr(0x145, 2, R_AX, R_BX); /* 16-bit false: untouched */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xffffffff12345678ull);
	in = mkr(0x145, 8, R_AX, R_BX); /* 64-bit false: untouched */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xffffffff12345678ull);

	/* setcc: sete bl, setne [rbx] */
	in = mkr(0x194, 4, 0, R_BX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_BX], 0x1111111122222201ull);
	c->gpr[R_BX] = 0x3000;
	ram[0x3000] = 0x77;
	in = mkm(0x195, 4, 0, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(ram[0x3000], 0);

	/* CMOV with a false condition still reads (and faults on) memory */
	mode_flat32();
	c->seg[S_DS].limit = 0xfff;
	c->gpr[R_AX] = 7;
	in = mkm(0x145, 4, R_AX, R_BX, 0);
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->gpr[R_AX], 7);
}
END_TEST

START_TEST(t_convert)
{
	c->gpr[R_AX] = 0x12345680;
	struct insn in = mk(0x098, 2); /* cbw */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x1234ff80u);
	in = mk(0x098, 4); /* cwde */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xffffff80u);
	in = mk(0x099, 4); /* cdq */
	c->gpr[R_DX] = 5;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DX], 0xffffffffu);
	in = mk(0x099, 2); /* cwd: positive AX */
	c->gpr[R_AX] = 0x7fff;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DX], 0xffff0000u);
	mode_long64();
	c->gpr[R_AX] = 0x80000000;
	in = mk(0x098, 8); /* cdqe */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xffffffff80000000ull);
	in = mk(0x099, 8); /* cqo */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DX], ~0ull);
}
END_TEST

START_TEST(t_flag_ops)
{
	lf_set(c, CC_OP(CC_SUB, 1), 0x80, 0x00, 0x80); /* SF=1, CF=1 */
	struct insn in = mk(0x09f, 4);                 /* lahf */
	run(&in);
	uint8_t ah = (uint8_t)(c->gpr[R_AX] >> 8);
	ck_assert_uint_eq(ah & (F_SF | F_CF | F_FIXED1), F_SF | F_CF | F_FIXED1);
	ck_assert_uint_eq(ah & F_ZF, 0);
	c->gpr[R_AX] = (uint64_t)(F_ZF | F_PF) << 8;
	in = mk(0x09e, 4); /* sahf */
	run(&in);
	ck_assert_uint_eq(flags_arith(c) & ~(uint32_t)F_OF, F_ZF | F_PF);
	in = mk(0x0f9, 4); /* stc */
	run(&in);
	ck_assert(flags_cf(c));
	in = mk(0x0f5, 4); /* cmc */
	run(&in);
	ck_assert(!flags_cf(c));
	ck_assert_uint_eq(flags_arith(c) & (F_ZF | F_PF), F_ZF | F_PF);
	in = mk(0x0fd, 4); /* std */
	run(&in);
	ck_assert(c->rflags & F_DF);
	in = mk(0x0fc, 4); /* cld */
	run(&in);
	ck_assert(!(c->rflags & F_DF));

	/* LAHF in 64-bit mode needs LAHF_LM */
	struct cpu_model m;
	memset(&m, 0, sizeof(m));
	c->model = &m;
	mode_long64();
	in = mk(0x09f, 4);
	ck_assert_int_eq(run(&in), EXC_UD);
	model_set(&m, FEAT_LAHF_LM, true);
	ck_assert_int_eq(run(&in), -1);
	c->model = NULL;
}
END_TEST

START_TEST(t_xlat_nop_ud)
{
	c->gpr[R_BX] = 0x4000;
	c->gpr[R_AX] = 0xabcd0010;
	ram[0x4010] = 0x42;
	struct insn in = mk(0x0d7, 4);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xabcd0042u);

	in = mkm(0x11f, 4, 0, R_BX, 0); /* nop dword [ebx] */
	c->seg[S_DS].limit = 0;
	ck_assert_int_eq(run(&in), -1);
	in = mkm(0x118, 4, 1, R_BX, 0x1000000); /* prefetcht0: never faults */
	ck_assert_int_eq(run(&in), -1);
	in = mk(0x10b, 4); /* ud2 */
	ck_assert_int_eq(run(&in), EXC_UD);
	in = mkr(0x1b9, 4, 0, 0); /* ud1 */
	ck_assert_int_eq(run(&in), EXC_UD);
	in = mkr(0x1ff, 4, 0, 0); /* ud0 */
	ck_assert_int_eq(run(&in), EXC_UD);
}
END_TEST

/* ---------------- BCD ---------------- */

static uint32_t arith(void)
{
	return flags_arith(c);
}

#define DEF_FLAGS (F_CF | F_AF | F_ZF | F_SF | F_PF)

START_TEST(t_daa_das)
{
	/* SDM DAA example: AL=AEh (after ADD 79h+35h), flags 0 -> 14h, CF AF PF */
	c->gpr[R_AX] = 0xae;
	flags_set(c, 0, F_ARITH);
	struct insn in = mk(0x027, 4);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x14);
	ck_assert_uint_eq(arith() & DEF_FLAGS, F_CF | F_AF | F_PF);
	/* SDM: AL=2Eh -> 34h, AF PF (CF clear) */
	c->gpr[R_AX] = 0x2e;
	flags_set(c, 0, F_ARITH);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x34);
	ck_assert_uint_eq(arith() & DEF_FLAGS, F_AF);
	/* 99h + 1 = 9Ah -> 00h with CF, ZF */
	c->gpr[R_AX] = 0x9a;
	flags_set(c, 0, F_ARITH);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x00);
	ck_assert_uint_eq(arith() & DEF_FLAGS, F_CF | F_AF | F_ZF | F_PF);

	/* SDM DAS example: AL=EEh, flags SZAPC=10111 (after SUB 35h-47h) -> 88h */
	c->gpr[R_AX] = 0xee;
	flags_set(c, F_SF | F_AF | F_PF | F_CF, F_ARITH);
	in = mk(0x02f, 4);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x88);
	ck_assert_uint_eq(arith() & DEF_FLAGS, F_SF | F_AF | F_PF | F_CF);
	/* no adjustment: 45h stays, flags clear but PF (45h has 3 bits: odd) */
	c->gpr[R_AX] = 0x45;
	flags_set(c, 0, F_ARITH);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x45);
	ck_assert_uint_eq(arith() & DEF_FLAGS, 0);
}
END_TEST

START_TEST(t_aaa_aas)
{
	/* '9' + '5' = 6Eh: AAA -> AX = 0104h, AF CF */
	c->gpr[R_AX] = 0x006e;
	flags_set(c, 0, F_ARITH);
	struct insn in = mk(0x037, 4);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x0104);
	ck_assert_uint_eq(arith() & (F_AF | F_CF), F_AF | F_CF);
	/* no adjust: AL=33h -> 03h, AF=CF=0, AH kept */
	c->gpr[R_AX] = 0x0533;
	flags_set(c, F_CF, F_ARITH);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x0503);
	ck_assert_uint_eq(arith() & (F_AF | F_CF), 0);
	/* AL=FAh: AX + 106h carries from AL into AH (486+ behaviour) */
	c->gpr[R_AX] = 0x00fa;
	flags_set(c, 0, F_ARITH);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x0200);

	/* undefined flags as an AMD host produces them (word ADD AX + 106h) */
	c->gpr[R_AX] = 0x007a;
	flags_set(c, 0, F_ARITH);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x0100);
	ck_assert_uint_eq(arith(), F_CF | F_AF);

	/* '3' - '5' = FEh with AF: AAS -> AX = FF08h, AF CF */
	c->gpr[R_AX] = 0x00fe;
	flags_set(c, F_AF | F_CF, F_ARITH);
	in = mk(0x03f, 4);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xff08);
	ck_assert_uint_eq(arith() & (F_AF | F_CF), F_AF | F_CF);
	/* AAS of 06h with AF: AX = FF00h; SF/PF from the word FF00h (AMD host) */
	c->gpr[R_AX] = 0x0006;
	flags_set(c, F_AF, F_ARITH);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xff00);
	ck_assert_uint_eq(arith(), F_CF | F_PF | F_AF | F_SF);
}
END_TEST

START_TEST(t_aam_aad)
{
	c->gpr[R_AX] = 0x1234004f; /* 79 */
	struct insn in = mk(0x0d4, 4);
	in.imm = 10;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x12340709u);
	ck_assert_uint_eq(arith() & (F_ZF | F_SF | F_PF | F_CF), F_PF); /* 09h: even parity */
	in.imm = 0;
	ck_assert_int_eq(run(&in), EXC_DE);
	ck_assert_uint_eq(c->gpr[R_AX], 0x12340709u);
	/* AAM 16: splits nibbles */
	c->gpr[R_AX] = 0xa0;
	in.imm = 16;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x0a00);
	ck_assert_uint_eq(arith() & (F_ZF | F_PF), F_ZF | F_PF);

	/* AAD 10: AX=0709h -> 4Fh */
	c->gpr[R_AX] = 0x0709;
	in = mk(0x0d5, 4);
	in.imm = 10;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x4f);
	ck_assert_uint_eq(arith() & (F_ZF | F_SF), 0);
	/* AAD's undefined AF/CF/OF follow the byte ADD 06h + 0Ah (AMD host) */
	c->gpr[R_AX] = 0x0106;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x10);
	ck_assert_uint_eq(arith(), F_AF);
	/* AAD with a result >= 80h sets SF */
	c->gpr[R_AX] = 0x0d00;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x82);
	ck_assert_uint_eq(arith() & F_SF, F_SF);
}
END_TEST

/* ---------------- strings ---------------- */

static struct insn mks(uint16_t op, unsigned osz, uint16_t pfx)
{
	struct insn in = mk(op, osz);
	in.pfx = pfx;
	return in;
}

START_TEST(t_rep_movs)
{
	for (int i = 0; i < 16; i++)
		ram[0x2000 + i] = (uint8_t)(i + 1);
	c->gpr[R_SI] = 0x2000;
	c->gpr[R_DI] = 0x3000;
	c->gpr[R_CX] = 4;
	struct insn in = mks(0x0a5, 4, PFX_REP); /* rep movsd */
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_CX], 0);
	ck_assert_uint_eq(c->gpr[R_SI], 0x2010);
	ck_assert_uint_eq(c->gpr[R_DI], 0x3010);
	ck_assert_int_eq(memcmp(ram + 0x2000, ram + 0x3000, 16), 0);
	ck_assert_uint_eq(c->rip, c->ip_start + 1);

	/* backwards, byte, F2 acting as REP */
	c->rflags |= F_DF;
	c->gpr[R_SI] = 0x2003;
	c->gpr[R_DI] = 0x4003;
	c->gpr[R_CX] = 4;
	in = mks(0x0a4, 4, PFX_REPNE);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SI], 0x1fff);
	ck_assert_uint_eq(c->gpr[R_DI], 0x3fff);
	ck_assert_int_eq(memcmp(ram + 0x2000, ram + 0x4000, 4), 0);
	c->rflags &= ~(uint64_t)F_DF;

	/* 16-bit address size: SI/DI wrap at 64K, upper halves kept; CX count */
	c->gpr[R_SI] = 0xabcdfffe;
	c->gpr[R_DI] = 0x00015000;
	c->gpr[R_CX] = 0x77770003;
	in = mks(0x0a4, 4, PFX_REP);
	in.asz = 2;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SI], 0xabcd0001u);
	ck_assert_uint_eq(c->gpr[R_DI], 0x00015003u);
	ck_assert_uint_eq(c->gpr[R_CX], 0x77770000u);
	ck_assert_uint_eq(ram[0x5002], ram[0x0000]);

	/* segment override on the source */
	c->seg[S_FS].base = 0x100;
	ram[0x2100] = 0xee;
	c->gpr[R_SI] = 0x2000;
	c->gpr[R_DI] = 0x6000;
	in = mks(0x0a4, 4, 0);
	in.seg = S_FS;
	run(&in);
	ck_assert_uint_eq(ram[0x6000], 0xee);
}
END_TEST

START_TEST(t_rep_fault_precise)
{
	/* DS limit ends inside the run: #GP at iteration 3 with 3 done */
	c->seg[S_DS].limit = 0x2002;
	c->gpr[R_SI] = 0x2000;
	c->gpr[R_DI] = 0x3000;
	c->gpr[R_CX] = 10;
	struct insn in = mks(0x0a4, 4, PFX_REP);
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->gpr[R_CX], 7);
	ck_assert_uint_eq(c->gpr[R_SI], 0x2003);
	ck_assert_uint_eq(c->gpr[R_DI], 0x3003);
	ck_assert_uint_eq(c->rip, c->ip_start);
}
END_TEST

START_TEST(t_rep_chunk)
{
	/* a long REP STOSB does at most a chunk per call and restarts itself */
	c->gpr[R_DI] = 0x10000;
	c->gpr[R_CX] = 20000;
	c->gpr[R_AX] = 0x5a;
	struct insn in = mks(0x0aa, 4, PFX_REP);
	int calls = 0;
	do {
		ck_assert_int_eq(run(&in), -1);
		calls++;
	} while (c->rip == c->ip_start && calls < 100);
	ck_assert_int_gt(calls, 1);
	ck_assert_uint_eq(c->gpr[R_CX], 0);
	ck_assert_uint_eq(c->gpr[R_DI], 0x10000 + 20000);
	ck_assert_uint_eq(ram[0x10000], 0x5a);
	ck_assert_uint_eq(ram[0x10000 + 19999], 0x5a);
	ck_assert_uint_eq(ram[0x10000 + 20000], 0);
	/* with TF set, one iteration per execution (single-step traps each) */
	c->rflags |= F_TF;
	c->gpr[R_CX] = 3;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_CX], 2);
	ck_assert_uint_eq(c->rip, c->ip_start);
	c->rflags &= ~(uint64_t)F_TF;
	c->rip += 1;
	c->gpr[R_CX] = 0;
	/* REP with rCX = 0 does nothing */
	c->gpr[R_DI] = 0x9000;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 0x9000);
	ck_assert_uint_eq(ram[0x9000], 0);
}
END_TEST

START_TEST(t_rep_bulk)
{
	/* long forward copy across pages, dword elements, unaligned start */
	for (int i = 0; i < 0x3000; i++)
		ram[0x20000 + i] = (uint8_t)(i * 7 + 3);
	c->gpr[R_SI] = 0x20002;
	c->gpr[R_DI] = 0x40ffe;
	c->gpr[R_CX] = 0x900;
	struct insn in = mks(0x0a5, 4, PFX_REP);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_CX], 0);
	ck_assert_uint_eq(c->gpr[R_SI], 0x20002 + 0x2400);
	ck_assert_uint_eq(c->gpr[R_DI], 0x40ffe + 0x2400);
	ck_assert_int_eq(memcmp(ram + 0x20002, ram + 0x40ffe, 0x2400), 0);
	ck_assert_uint_eq(ram[0x40ffd], 0);
	ck_assert_uint_eq(ram[0x40ffe + 0x2400], 0);

	/* backward copy across pages */
	c->rflags |= F_DF;
	c->gpr[R_SI] = 0x20000 + 0x2ffe;
	c->gpr[R_DI] = 0x60000 + 0x2ffe;
	c->gpr[R_CX] = 0x1800;
	in = mks(0x0a5, 2, PFX_REP);
	run_rep(&in);
	ck_assert_uint_eq(c->gpr[R_CX], 0);
	ck_assert_uint_eq(c->gpr[R_SI], 0x1fffe);
	ck_assert_int_eq(memcmp(ram + 0x20000, ram + 0x60000, 0x3000), 0);
	c->rflags &= ~(uint64_t)F_DF;

	/* overlapping forward MOVSB replicates a pattern, as element order does */
	memcpy(ram + 0x70000, "ab", 2);
	c->gpr[R_SI] = 0x70000;
	c->gpr[R_DI] = 0x70002;
	c->gpr[R_CX] = 100;
	in = mks(0x0a4, 4, PFX_REP);
	run(&in);
	for (int i = 0; i < 102; i++)
		ck_assert_uint_eq(ram[0x70000 + i], "ab"[i & 1]);

	/* rep stosq in 64-bit mode */
	mode_long64();
	c->gpr[R_AX] = 0x0102030405060708ull;
	c->gpr[R_DI] = 0x80008;
	c->gpr[R_CX] = 0x400;
	in = mks(0x0ab, 8, PFX_REP);
	in.asz = 8;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 0x80008 + 0x2000);
	for (int i = 0; i < 0x400; i++) {
		uint64_t q;
		memcpy(&q, ram + 0x80008 + 8 * i, 8);
		ck_assert_uint_eq(q, 0x0102030405060708ull);
	}
	ck_assert_uint_eq(ram[0x80007], 0);
	ck_assert_uint_eq(ram[0x82008], 0);
}
END_TEST

/* 32-bit paging with 4K pages identity-mapping the first 1 MiB except one
 * not-present page. */
static void paging_with_hole(uint32_t hole)
{
	uint32_t pd = 0xf0000, pt = 0xf1000;
	memset(ram + pd, 0, 0x2000);
	uint32_t pde = pt | 7;
	memcpy(ram + pd, &pde, 4);
	for (uint32_t p = 0; p < 256; p++) {
		uint32_t pte = p << 12 | 7;
		if (p << 12 == hole)
			pte = 0;
		memcpy(ram + pt + 4 * p, &pte, 4);
	}
	c->cr3 = pd;
	c->cr0 |= CR0_PG;
	cpu_update_mode(c);
	cpu_tlb_flush_all(c);
}

START_TEST(t_rep_page_fault)
{
	paging_with_hole(0x30000);
	/* source runs into the hole after 0x100 bytes */
	c->gpr[R_SI] = 0x2ff00;
	c->gpr[R_DI] = 0x50000;
	c->gpr[R_CX] = 0x200;
	struct insn in = mks(0x0a4, 4, PFX_REP);
	ck_assert_int_eq(run(&in), EXC_PF);
	/* The faulting address; CR2 itself is written when the #PF is delivered. */
	ck_assert_uint_eq(c->pf_addr, 0x30000);
	ck_assert_uint_eq(c->gpr[R_CX], 0x100);
	ck_assert_uint_eq(c->gpr[R_SI], 0x30000);
	ck_assert_uint_eq(c->gpr[R_DI], 0x50100);
	ck_assert_int_eq(memcmp(ram + 0x2ff00, ram + 0x50000, 0x100), 0);
	/* destination runs into the hole: rep stosd */
	c->gpr[R_DI] = 0x2fff8;
	c->gpr[R_CX] = 10;
	in = mks(0x0ab, 4, PFX_REP);
	ck_assert_int_eq(run(&in), EXC_PF);
	ck_assert_uint_eq(c->gpr[R_CX], 8);
	ck_assert_uint_eq(c->gpr[R_DI], 0x30000);
}
END_TEST

START_TEST(t_cmps_scas_lods)
{
	memcpy(ram + 0x2000, "abcdefgh", 8);
	memcpy(ram + 0x3000, "abcdXfgh", 8);
	c->gpr[R_SI] = 0x2000;
	c->gpr[R_DI] = 0x3000;
	c->gpr[R_CX] = 8;
	struct insn in = mks(0x0a6, 4, PFX_REP); /* repe cmpsb */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_CX], 3); /* stopped after the 5th byte */
	ck_assert_uint_eq(c->gpr[R_SI], 0x2005);
	ck_assert_uint_eq(c->gpr[R_DI], 0x3005);
	ck_assert(!cond_eval(c, 4)); /* ZF = 0 */
	ck_assert(!cond_eval(c, 2)); /* 'e' (65h) > 'X' (58h): no borrow */

	/* repne scasb: find 'f' */
	c->gpr[R_DI] = 0x2000;
	c->gpr[R_CX] = 8;
	c->gpr[R_AX] = 'f';
	in = mks(0x0ae, 4, PFX_REPNE);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 0x2006);
	ck_assert_uint_eq(c->gpr[R_CX], 2);
	ck_assert(cond_eval(c, 4)); /* ZF = 1 */

	/* scasd without rep sets flags as CMP eAX, [edi] */
	c->gpr[R_AX] = 1;
	c->gpr[R_DI] = 0x5000;
	memcpy(ram + 0x5000, "\x02\x00\x00\x00", 4);
	in = mks(0x0af, 4, 0);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 0x5004);
	ck_assert(flags_cf(c));
	ck_assert(cond_eval(c, 8)); /* SF */

	/* lodsw backwards */
	c->rflags |= F_DF;
	c->gpr[R_SI] = 0x2002;
	c->gpr[R_AX] = 0xffff0000;
	in = mks(0x0ad, 2, 0);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xffff6463u);
	ck_assert_uint_eq(c->gpr[R_SI], 0x2000);
}
END_TEST

static Suite *data_suite(void)
{
	Suite *s = suite_create("data");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, t_mov_forms);
	tcase_add_test(t, t_mov_moffs);
	tcase_add_test(t, t_movzx_movsx);
	tcase_add_test(t, t_lea);
	tcase_add_test(t, t_xchg);
	tcase_add_test(t, t_cmov_setcc);
	tcase_add_test(t, t_convert);
	tcase_add_test(t, t_flag_ops);
	tcase_add_test(t, t_xlat_nop_ud);
	tcase_add_test(t, t_daa_das);
	tcase_add_test(t, t_aaa_aas);
	tcase_add_test(t, t_aam_aad);
	tcase_add_test(t, t_rep_movs);
	tcase_add_test(t, t_rep_fault_precise);
	tcase_add_test(t, t_rep_chunk);
	tcase_add_test(t, t_rep_bulk);
	tcase_add_test(t, t_rep_page_fault);
	tcase_add_test(t, t_cmps_scas_lods);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(data_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
