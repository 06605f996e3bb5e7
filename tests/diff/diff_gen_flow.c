/*
 * tests/diff/diff_gen_flow.c — generator for control transfers and the
 * stack: Jcc (rel8/rel32) and JMP over a flag-neutral instruction, LOOP /
 * LOOPE / LOOPNE / JrCXZ, CALL / RET / JMP in a small forward-only pattern,
 * PUSH / POP of registers, immediates and memory, PUSHF / POPF, and reads of
 * RSP. The stack lives inside the data area (STACK_TOP), so everything pushed
 * is compared; the generator tracks RSP to stay inside [STR_AREA, DATA_SIZE).
 * All branches go forward, so a sequence still runs straight to its end.
 */
#include <stdio.h>

#include "tests/diff/diff_gen.h"

static void patch8(struct gen *g, int pos, int target)
{
	g->s->code[pos] = (uint8_t)(target - (pos + 1));
}

static void patch32(struct gen *g, int pos, int target)
{
	uint32_t d = (uint32_t)(target - (pos + 4));
	for (int i = 0; i < 4; i++)
		g->s->code[pos + i] = (uint8_t)(d >> (8 * i));
}

/* A short flag-neutral instruction (the one a branch may skip): NOT r32. */
static void emit_skippable(struct gen *g)
{
	struct ins in = { .op = 0xf7, .modrm = 1, .reg = 2, .rm = (uint8_t)pick_gpr(g) };
	g->glue = true;
	g->tail = true; /* a prefix must not end in front of a branch target */
	emit(g, &in, "");
	g->tail = false;
	g->glue = false;
}

static bool gen_jcc(struct gen *g)
{
	char name[40];
	int k = (int)rndn(g, 4);
	int cc = (int)rndn(g, 16);
	if (k < 2 && !flags_ok(g, cc_reads(cc)))
		return false;
	struct ins in = { 0 };
	int dsz;
	switch (k) {
	case 0:
		in.op = (uint8_t)(0x70 + cc), in.immsz = 1, dsz = 1;
		snprintf(name, sizeof(name), "jcc%d rel8", cc);
		break;
	case 1:
		in.map = 1, in.op = (uint8_t)(0x80 + cc), in.immsz = 4, dsz = 4;
		snprintf(name, sizeof(name), "jcc%d rel32", cc);
		break;
	case 2:
		in.op = 0xeb, in.immsz = 1, dsz = 1;
		snprintf(name, sizeof(name), "jmp rel8");
		break;
	default:
		in.op = 0xe9, in.immsz = 4, dsz = 4;
		snprintf(name, sizeof(name), "jmp rel32");
		break;
	}
	if (!emit(g, &in, name))
		return false;
	int pos = g->s->len - dsz;
	emit_skippable(g);
	if (dsz == 1)
		patch8(g, pos, g->s->len);
	else
		patch32(g, pos, g->s->len);
	return true;
}

static bool gen_loop(struct gen *g)
{
	static const char *const mn[4] = { "loopne", "loope", "loop", "jrcxz" };
	int k = (int)rndn(g, 4);
	if (k < 2 && !flags_ok(g, F_ZF))
		return false;
	if (form_excluded(mn[k]))
		return false;
	if (rndn(g, 2)) {
		struct ins mv = {
			.op = 0xb8, .oprm = 1, .rm = R_CX, .immsz = 4, .imm = rndn(g, 3)
		};
		g->glue = true;
		emit(g, &mv, "");
		g->glue = false;
	}
	struct ins in = { .op = (uint8_t)(0xe0 + k), .immsz = 1 };
	if (!emit(g, &in, mn[k]))
		return false;
	int pos = g->s->len - 1;
	emit_skippable(g);
	patch8(g, pos, g->s->len);
	return true;
}

/* call L1; X: jmp L2; L1: not r; ret (to X); L2: */
static bool gen_call(struct gen *g)
{
	int w = g->mode == 64 ? 8 : 4;
	if (g->sp - w < STR_AREA + 8 || form_excluded("call rel32") || form_excluded("ret"))
		return false;
	struct ins call = { .op = 0xe8, .immsz = 4 };
	if (!emit(g, &call, "call rel32"))
		return false;
	int cpos = g->s->len - 4;
	struct ins jmp = { .op = 0xeb, .immsz = 1 };
	g->glue = true;
	g->tail = true;
	emit(g, &jmp, "");
	g->tail = false;
	g->glue = false;
	int jpos = g->s->len - 1;
	patch32(g, cpos, g->s->len);
	emit_skippable(g);
	/* RET or RET imm16, which also releases n bytes of the caller's stack */
	int n = rndn(g, 2) ? 0 : 2 << rndn(g, 4);
	if (g->sp + n > DATA_SIZE - 8)
		n = 0;
	struct ins ret = { .op = n ? 0xc2 : 0xc3,
			   .immsz = (uint8_t)(n ? 2 : 0),
			   .imm = (uint64_t)n };
	emit(g, &ret, n ? "ret i16" : "ret");
	g->sp += n;
	patch8(g, jpos, g->s->len);
	return true;
}

/* 64-bit: ENTER size, level with RBP pointing into the data area (the nested
 * levels copy frame pointers from [rBP - 8i]), a few instructions, LEAVE.
 * Compatibility mode: PUSHA, a few instructions, POPA (EBP, the base
 * register, comes back unchanged). */
static bool gen_frame(struct gen *g)
{
	if (g->mode == 32) {
		bool o16 = rndn(g, 4) == 0;
		int size = o16 ? 16 : 32;
		if (g->sp - size < STR_AREA + 8 || form_excluded("pusha") || form_excluded("popa"))
			return false;
		struct ins pa = { .op = 0x60, .p66 = o16 };
		if (!emit(g, &pa, "pusha"))
			return false;
		for (int i = (int)rndn(g, 4); i > 0 && gen_room(g); i--)
			gen_int(g);
		struct ins po = { .op = 0x61, .p66 = o16 };
		return emit(g, &po, "popa");
	}
	int level = rndn(g, 2) ? 0 : (int)rndn(g, 4);
	int size = 8 * (int)rndn(g, 4);
	int need = 8 + 8 * level + size;
	if (g->sp - need < STR_AREA + 8 || form_excluded("enter") || form_excluded("leave"))
		return false;
	struct ins mv = {
		.op = 0xb8, .oprm = 1, .rm = R_BP, .immsz = 4, .imm = DATA_VA + 64 + 8 * rndn(g, 20)
	};
	g->glue = true;
	emit(g, &mv, "");
	g->glue = false;
	struct ins en = { .op = 0xc8, .immsz = 3, .imm = (uint64_t)size | (uint64_t)level << 16 };
	if (!emit(g, &en, "enter"))
		return false;
	g->frame = true;
	for (int i = (int)rndn(g, 3); i > 0 && gen_room(g); i--)
		gen_int(g);
	g->frame = false;
	struct ins lv = { .op = 0xc9 };
	return emit(g, &lv, "leave");
}

static bool gen_stack(struct gen *g)
{
	char name[40];
	int w = g->mode == 64 ? 8 : 4;
	int k = (int)rndn(g, 9);
	bool o16 = rndn(g, 6) == 0;
	int sz = o16 ? 2 : w;
	bool push = k < 4 || k == 7;
	if (push ? g->sp - sz < STR_AREA + 8 : g->sp + sz > DATA_SIZE - 8)
		return false;
	struct ins in = { .p66 = o16 };
	switch (k) {
	case 0: /* push r */
	case 4: /* pop r */
		in.op = k ? 0x58 : 0x50;
		in.oprm = 1;
		in.rm = (uint8_t)pick_gpr(g);
		snprintf(name, sizeof(name), "%s %s", k ? "pop" : "push", opname('r', sz));
		break;
	case 1: /* push imm8 / imm */
		in.op = rndn(g, 2) ? 0x6a : 0x68;
		in.immsz = in.op == 0x6a ? 1 : o16 ? 2 : 4;
		in.imm = rnd_val(g, in.immsz);
		snprintf(name, sizeof(name), "push%d %s", sz * 8, opname('i', in.immsz));
		break;
	case 2: /* push m */
	case 5: /* pop m */
		in.op = k == 2 ? 0xff : 0x8f;
		in.modrm = 1;
		in.reg = k == 2 ? 6 : 0;
		in.mem = 1;
		in.disp = pick_disp(g, sz, 1);
		snprintf(name, sizeof(name), "%s %s", k == 2 ? "push" : "pop", opname('m', sz));
		break;
	case 3: /* pushf */
		if (!flags_ok(g, F_ARITH))
			return false;
		in.op = 0x9c;
		snprintf(name, sizeof(name), "pushf%d", sz * 8);
		break;
	case 6: { /* mov r, rsp */
		struct ins mv = { .op = 0x89,
				  .modrm = 1,
				  .reg = R_SP,
				  .rm = (uint8_t)pick_gpr(g),
				  .w = g->mode == 64 };
		return emit(g, &mv, "mov r,rsp");
	}
	default: { /* push imm32 (glue); popf */
		if (o16 || g->sp - w < STR_AREA + 8 || form_excluded("popf"))
			return false;
		uint32_t v = 0x202 | ((uint32_t)rnd(g) & F_ARITH);
		bool df = rndn(g, 4) == 0;
		if (df)
			v |= F_DF;
		struct ins p = { .op = 0x68, .immsz = 4, .imm = v };
		g->glue = true;
		emit(g, &p, "");
		g->glue = false;
		struct ins f = { .op = 0x9d };
		if (!emit(g, &f, "popf"))
			return false;
		g->df = df;
		flags_write(g, F_ARITH, 0);
		return true;
	}
	}
	if (!emit(g, &in, name))
		return false;
	g->sp += push ? -sz : sz;
	return true;
}

bool gen_flow(struct gen *g)
{
	switch (rndn(g, 9)) {
	case 8:
		return gen_frame(g);
	case 0:
	case 1:
		return gen_jcc(g);
	case 2:
		return gen_loop(g);
	case 3:
		return gen_call(g);
	default:
		return gen_stack(g);
	}
}
