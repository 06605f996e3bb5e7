/*
 * tests/diff/diff_gen_fault.c — the "fault" family: a few ordinary integer
 * instructions followed by one construct that must raise an exception, so
 * that vector, error code, faulting RIP and the precise (nothing committed)
 * state are compared: #DE (division by zero, quotient overflow, AAM 0),
 * #UD (UD2, LOCK on a register form, an opcode invalid in 64-bit mode),
 * #GP (misaligned MOVAPS, non-canonical address), #PF (unmapped read or
 * write, a REP string instruction running off the end of the mapped area),
 * #XM (unmasked SSE divide by zero), #MF (unmasked x87 divide by zero, raised
 * by the next FWAIT), #OF (INTO) and #BR (BOUND) in compatibility mode.
 * The native trap number comes from the signal's ucontext (REG_TRAPNO).
 */
#include <stdio.h>

#include "tests/diff/diff_gen.h"

#define UNMAPPED (AREA_VA + 0x200000u) /* first byte after the test area */

static void glue(struct gen *g, const struct ins *in)
{
	g->glue = true;
	emit(g, in, "");
	g->glue = false;
}

static void glue_mov32(struct gen *g, int reg, uint32_t v)
{
	struct ins in = { .op = 0xb8, .oprm = 1, .rm = (uint8_t)reg, .immsz = 4, .imm = v };
	glue(g, &in);
}

/* A GPR other than rAX and rDX. */
static int pick_other(struct gen *g)
{
	int r;
	do
		r = pick_gpr(g);
	while (r == R_AX || r == R_DX);
	return r;
}

static bool fault_div(struct gen *g, bool overflow)
{
	int sz = 4 << rndn(g, g->mode == 64 ? 2 : 1);
	int r = pick_other(g);
	char name[40];
	snprintf(name, sizeof(name), "%s r%d (fault)", overflow ? "idiv" : "div", sz * 8);
	if (form_excluded(name))
		return false;
	if (!overflow) {
		struct ins z = { .op = 0x31, .modrm = 1, .reg = (uint8_t)r, .rm = (uint8_t)r };
		glue(g, &z);
	} else {
		struct ins a = { .op = 0xb8,
				 .oprm = 1,
				 .rm = R_AX,
				 .w = sz == 8,
				 .immsz = (uint8_t)sz,
				 .imm = 1ull << (8 * sz - 1) };
		glue(g, &a);
		struct ins ext = { .op = 0x99, .w = sz == 8 };
		glue(g, &ext);
		struct ins m1 = { .op = 0xc7,
				  .modrm = 1,
				  .rm = (uint8_t)r,
				  .w = sz == 8,
				  .immsz = 4,
				  .imm = 0xffffffffu };
		glue(g, &m1);
	}
	struct ins d = {
		.op = 0xf7, .modrm = 1, .reg = overflow ? 7 : 6, .rm = (uint8_t)r, .w = sz == 8
	};
	return emit(g, &d, name);
}

static bool fault_sse(struct gen *g)
{
	int n = g->mode == 64 ? 16 : 8;
	int x1 = (int)rndn(g, (unsigned)n), x2 = (int)rndn(g, (unsigned)n);
	if (x1 == x2 || ((g->xmm_dead >> x1) & 1) || form_excluded("divss (unmasked #XM)"))
		return false;
	int r = pick_gpr(g);
	glue_mov32(g, r, 1 + rndn(g, 1000));
	struct ins cv = {
		.rep = 0xf3, .map = 1, .op = 0x2a, .modrm = 1, .reg = (uint8_t)x1, .rm = (uint8_t)r
	};
	glue(g, &cv);
	struct ins z = { .map = 1, .op = 0x57, .modrm = 1, .reg = (uint8_t)x2, .rm = (uint8_t)x2 };
	glue(g, &z);
	int8_t disp = pick_disp(g, 4, 4);
	struct ins mv = { .op = 0xc7,
			  .modrm = 1,
			  .mem = 1,
			  .disp = disp,
			  .immsz = 4,
			  .imm = (uint32_t)rndn(g, 4) << 13 };
	glue(g, &mv);
	struct ins ld = { .map = 1, .op = 0xae, .modrm = 1, .reg = 2, .mem = 1, .disp = disp };
	glue(g, &ld);
	struct ins dv = {
		.rep = 0xf3, .map = 1, .op = 0x5e, .modrm = 1, .reg = (uint8_t)x1, .rm = (uint8_t)x2
	};
	return emit(g, &dv, "divss (unmasked #XM)");
}

static bool fault_x87(struct gen *g)
{
	if (form_excluded("fwait (#MF)"))
		return false;
	struct ins init = { .op = 0xdb, .immsz = 1, .imm = 0xe3 };
	glue(g, &init);
	int8_t disp = pick_disp(g, 2, 2);
	struct ins mv = {
		.op = 0xc7, .p66 = 1, .modrm = 1, .mem = 1, .disp = disp, .immsz = 2, .imm = 0x037b
	};
	glue(g, &mv);
	struct ins cw = { .op = 0xd9, .modrm = 1, .reg = 5, .mem = 1, .disp = disp };
	glue(g, &cw);
	struct ins one = { .op = 0xd9, .immsz = 1, .imm = 0xe8 };
	glue(g, &one);
	struct ins zero = { .op = 0xd9, .immsz = 1, .imm = 0xee };
	glue(g, &zero);
	struct ins div = { .op = 0xde, .immsz = 1, .imm = 0xf9 }; /* fdivp st(1), st */
	if (!emit(g, &div, "fdivp (unmasked ZE)"))
		return false;
	struct ins w = { .op = 0x9b };
	return emit(g, &w, "fwait (#MF)");
}

static bool fault_string(struct gen *g)
{
	static const uint8_t op[3] = { 0xa4, 0xaa, 0xa6 };
	static const char *const mn[3] = { "rep movs (#PF)", "rep stos (#PF)", "repe cmps (#PF)" };
	int k = (int)rndn(g, 3);
	int sz = 1 << rndn(g, g->mode == 64 ? 4 : 3);
	if (g->df || form_excluded(mn[k]))
		return false;
	unsigned before = 1 + rndn(g, 24);
	/* RDI (and for CMPS RSI) runs into the unmapped page after the area */
	glue_mov32(g, R_DI, UNMAPPED - before);
	/* CMPS compares the bytes with themselves, so REPE keeps going */
	glue_mov32(g, R_SI, k == 2 ? UNMAPPED - before : DATA_VA + STR_AREA);
	glue_mov32(g, R_CX, 40 + rndn(g, 20));
	struct ins in = {
		.op = (uint8_t)(op[k] + (sz > 1)), .rep = 0xf3, .p66 = sz == 2, .w = sz == 8
	};
	return emit(g, &in, mn[k]);
}

static bool fault_misc(struct gen *g)
{
	switch (rndn(g, 8)) {
	case 0: {
		struct ins in = { .map = 1, .op = 0x0b };
		return emit(g, &in, "ud2");
	}
	case 1: { /* lock add r, r */
		struct ins in = { .lock = 1,
				  .op = 0x01,
				  .modrm = 1,
				  .reg = (uint8_t)pick_gpr(g),
				  .rm = (uint8_t)pick_gpr(g) };
		return emit(g, &in, "lock add r,r (#UD)");
	}
	case 2: { /* movaps from a misaligned address */
		struct ins in = { .map = 1,
				  .op = 0x28,
				  .modrm = 1,
				  .reg = (uint8_t)rndn(g, 8),
				  .mem = 1,
				  .disp = (int8_t)(pick_disp(g, 24, 8) + 4) };
		return emit(g, &in, "movaps misaligned (#GP)");
	}
	case 3: { /* read or write of an unmapped page */
		bool store = rndn(g, 2);
		struct ins in = { .op = store ? 0xa3 : 0xa1,
				  .immsz = g->mode == 64 ? 8 : 4,
				  .imm = UNMAPPED + rndn(g, 4096) };
		return emit(g, &in, store ? "mov moffs,eax (#PF)" : "mov eax,moffs (#PF)");
	}
	case 4:
		if (g->mode == 64) { /* non-canonical address */
			struct ins in = { .op = 0xa1,
					  .immsz = 8,
					  .imm = 0x0000800000000000ull << rndn(g, 2) };
			return emit(g, &in, "mov eax,moffs (non-canonical #GP)");
		} else { /* into with OF = 1 */
			struct ins a = { .op = 0xb0, .immsz = 1, .imm = 0x7f }; /* mov al, 7f */
			glue(g, &a);
			struct ins add = { .op = 0x04, .immsz = 1, .imm = 1 }; /* add al, 1 */
			glue(g, &add);
			flags_write(g, F_ARITH, 0);
			struct ins in = { .op = 0xce };
			return emit(g, &in, "into (#OF)");
		}
	case 5:
		if (g->mode == 64) { /* daa is invalid in 64-bit mode */
			struct ins in = { .op = 0x27 };
			return emit(g, &in, "daa in 64-bit mode (#UD)");
		} else { /* bound r32 outside [lo, hi] */
			int8_t disp = pick_disp(g, 8, 4);
			int r = pick_gpr(g);
			struct ins lo = { .op = 0xc7,
					  .modrm = 1,
					  .mem = 1,
					  .disp = disp,
					  .immsz = 4,
					  .imm = 100 };
			glue(g, &lo);
			lo.disp = (int8_t)(disp + 4);
			lo.imm = 200;
			glue(g, &lo);
			glue_mov32(g, r, rndn(g, 2) ? 50 : 300);
			struct ins in = {
				.op = 0x62, .modrm = 1, .reg = (uint8_t)r, .mem = 1, .disp = disp
			};
			return emit(g, &in, "bound (#BR)");
		}
	case 6: {
		if (g->mode != 32)
			return fault_div(g, false);
		struct ins in = { .op = 0xd4, .immsz = 1, .imm = 0 };
		return emit(g, &in, "aam 0 (#DE)");
	}
	default:
		return fault_div(g, true);
	}
}

/* The next integer instruction with a memory operand gets the read-only page:
 * reads see zeros, every write (also the no-op writes of read-modify-write
 * instructions: CMPXCHG that fails, BTS of a set bit, ...) must raise #PF. */
static bool fault_ro(struct gen *g)
{
	for (int t = 0; t < 16; t++) {
		/* +-64 bytes of margin: BT* register offsets stay in the page */
		g->force_abs = RO_VA + 64 + 16 * rndn(g, 248);
		gen_int(g);
		if (!g->force_abs)
			return true;
	}
	g->force_abs = 0;
	return false;
}

/* LOCK on the next instruction, whatever it is: #UD unless it is a lockable
 * read-modify-write with a memory destination (SDM Vol. 2 LOCK). */
static bool fault_lock(struct gen *g)
{
	for (int t = 0; t < 16; t++) {
		g->force_lock = true;
		switch (rndn(g, 4)) {
		case 0:
			gen_x87(g);
			break;
		case 1:
			gen_simd(g, FAM_SSE2);
			break;
		default:
			gen_int(g);
			break;
		}
		if (!g->force_lock)
			return true;
	}
	g->force_lock = false;
	return false;
}

bool gen_fault(struct gen *g)
{
	if (g->s->ninsn < 3 + (int)rndn(g, 6))
		return gen_int(g);
	bool ok;
	switch (rndn(g, 10)) {
	case 0:
		ok = fault_div(g, false);
		break;
	case 8:
	case 9:
		ok = fault_lock(g);
		break;
	case 6:
	case 7:
		ok = fault_ro(g);
		break;
	case 1:
		ok = model_has(g->model, FEAT_SSE) && fault_sse(g);
		break;
	case 2:
		ok = fault_x87(g);
		break;
	case 3:
		ok = fault_string(g);
		break;
	default:
		ok = fault_misc(g);
		break;
	}
	if (ok)
		g->done = true;
	return ok;
}
