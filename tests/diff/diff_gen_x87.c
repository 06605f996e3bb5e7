/*
 * tests/diff/diff_gen_x87.c — generator for x87 instructions and the initial
 * x87 stack: loads and stores of every memory format, arithmetic in all
 * operand forms, compares (FCOM*, FUCOM*, FCOMI*, FTST, FXAM), FCMOVcc,
 * constants, FXCH, FCHS/FABS, FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM/FPREM1,
 * the transcendentals, FINCSTP/FDECSTP/FFREE, and control/status word
 * instructions.
 *
 * Condition codes: each form states which of C0-C3 it defines and which it
 * leaves undefined (SDM Vol. 2 "FPU Flags Affected"); FNSTSW, which reads
 * them, is only emitted when all four are defined. All exceptions stay
 * masked (FLDCW only loads control words with every mask set), so stack
 * overflow/underflow and invalid operands produce their masked responses.
 */
#include <stdio.h>
#include <string.h>

#include "tests/diff/diff_gen.h"

#define C0   0x0100
#define C1   0x0200
#define C2   0x0400
#define C3   0x4000
#define CALL (C0 | C1 | C2 | C3)

static void fsw_write(struct gen *g, uint16_t def, uint16_t undef)
{
	g->fswundef = (uint16_t)((g->fswundef & ~(def | undef)) | undef);
	note_flags(g);
}

/* An f80 value: double-derived, special, or random around 1.0. */
static void rnd_f80(struct gen *g, uint64_t *mant, uint16_t *sexp)
{
	uint16_t sign = (uint16_t)(rndn(g, 2) << 15);
	switch (rndn(g, 8)) {
	case 0: { /* specials */
		static const uint64_t m[] = {
			0, 0x8000000000000000ull, 0xc000000000000000ull, 0xa000000000000000ull,
			1, 0x8000000000000000ull
		};
		static const uint16_t e[] = { 0, 0x7fff, 0x7fff, 0x7fff, 0, 0x3fff };
		int k = (int)rndn(g, 6);
		*mant = m[k];
		*sexp = (uint16_t)(sign | e[k]);
		return;
	}
	case 1:
	case 2: { /* small integers and fractions (exact as doubles) */
		double d = (double)((int)rndn(g, 2001) - 1000) / (double)(1 + rndn(g, 8));
		if (d == 0) {
			*mant = 0;
			*sexp = sign;
			return;
		}
		uint64_t u;
		memcpy(&u, &d, 8);
		int e = (int)(u >> 52 & 0x7ff);
		*mant = 1ull << 63 | (u & 0xfffffffffffffull) << 11;
		*sexp = (uint16_t)((u >> 63) << 15 | (e - 1023 + 16383));
		return;
	}
	case 3: /* large / small exponents */
		*mant = 1ull << 63 | rnd(g);
		*sexp = (uint16_t)(sign | (rndn(g, 2) ? 16383 + 60 + rndn(g, 8)
						      : 16383 - 70 - rndn(g, 8)));
		return;
	default: /* around 1 */
		*mant = 1ull << 63 | rnd(g);
		*sexp = (uint16_t)(sign | (16383 - 4 + rndn(g, 8)));
		return;
	}
}

void gen_x87_init(struct gen *g, struct dstate *st)
{
	uint8_t *fx = st->fx;
	unsigned top = rndn(g, 8);
	unsigned depth = rndn(g, 4) ? 2 + rndn(g, 5) : rndn(g, 9);
	uint16_t fsw;
	memcpy(&fsw, fx + FX_FSW, 2);
	fsw = (uint16_t)((fsw & 0x3f) | top << 11); /* keep the sticky flags */
	memcpy(fx + FX_FSW, &fsw, 2);
	uint8_t tags = 0;
	for (unsigned i = 0; i < 8; i++) {
		uint64_t mant;
		uint16_t sexp;
		rnd_f80(g, &mant, &sexp);
		memcpy(fx + FX_ST + 16 * i, &mant, 8);
		memcpy(fx + FX_ST + 16 * i + 8, &sexp, 2);
		if (i < depth)
			tags |= (uint8_t)(1u << ((top + i) & 7));
	}
	fx[FX_FTW] = tags;
}

static bool x87_emit(struct gen *g, const struct ins *in, const char *name, uint16_t def,
		     uint16_t undef)
{
	if (!emit(g, in, name))
		return false;
	fsw_write(g, def, undef);
	return true;
}

/* Register form: opcode byte op, ModRM = base + i. */
static bool reg_form(struct gen *g, uint8_t op, uint8_t modrm_base, const char *mn, uint16_t def,
		     uint16_t undef)
{
	int i = (int)rndn(g, 8);
	struct ins in = { .op = op, .immsz = 1, .imm = (uint8_t)(modrm_base + i) };
	char name[40];
	snprintf(name, sizeof(name), "%s st(i)", mn);
	return x87_emit(g, &in, name, def, undef);
}

/* Memory form: opcode op, /digit, operand size. */
static bool mem_form(struct gen *g, uint8_t op, int digit, int size, const char *mn, uint16_t def,
		     uint16_t undef)
{
	struct ins in = { .op = op, .modrm = 1, .reg = (uint8_t)digit, .mem = 1 };
	in.disp = pick_disp(g, size, size >= 8 ? 8 : size);
	char name[40];
	snprintf(name, sizeof(name), "%s m%d", mn, size * 8);
	return x87_emit(g, &in, name, def, undef);
}

static bool fixed(struct gen *g, uint8_t op, uint8_t op2, const char *mn, uint16_t def,
		  uint16_t undef)
{
	struct ins in = { .op = op, .immsz = 1, .imm = op2 };
	return x87_emit(g, &in, mn, def, undef);
}

#define RC1 C1, (C0 | C2 | C3) /* C1 defined (rounding / stack fault), rest undefined */

static bool gen_arith(struct gen *g)
{
	static const char *const mn[8] = { "fadd", "fmul",  "fcom", "fcomp",
					   "fsub", "fsubr", "fdiv", "fdivr" };
	int k = (int)rndn(g, 8);
	bool cmp = k == 2 || k == 3;
	uint16_t def = cmp ? CALL : C1, undef = cmp ? 0 : (C0 | C2 | C3);
	char name[40];
	switch (rndn(g, 6)) {
	case 0:
		return reg_form(g, 0xd8, (uint8_t)(0xc0 + 8 * k), mn[k], def, undef);
	case 1:
		if (cmp)
			return false;
		return reg_form(g, 0xdc, (uint8_t)(0xc0 + 8 * k), mn[k], def, undef);
	case 2:
		if (cmp)
			return fixed(g, 0xde, 0xd9, "fcompp", CALL, 0);
		snprintf(name, sizeof(name), "%sp", mn[k]);
		return reg_form(g, 0xde, (uint8_t)(0xc0 + 8 * k), name, def, undef);
	case 3:
		return mem_form(g, 0xd8, k, 4, mn[k], def, undef);
	case 4:
		return mem_form(g, 0xdc, k, 8, mn[k], def, undef);
	default:
		snprintf(name, sizeof(name), "fi%s", mn[k] + 1);
		if (rndn(g, 2))
			return mem_form(g, 0xda, k, 4, name, def, undef);
		return mem_form(g, 0xde, k, 2, name, def, undef);
	}
}

/* FBLD from a valid packed-BCD image written just before, or FBSTP. */
static bool gen_bcd80(struct gen *g)
{
	if (rndn(g, 2))
		return mem_form(g, 0xdf, 6, 10, "fbstp", RC1);
	if (form_excluded("fbld m80"))
		return false;
	int8_t disp = pick_disp(g, 10, 2);
	uint8_t d[10];
	for (int i = 0; i < 9; i++)
		d[i] = (uint8_t)(rndn(g, 10) | rndn(g, 10) << 4);
	if (rndn(g, 2))
		for (int i = 0; i < 9; i++)
			d[i] = i < 3 ? d[i] : 0;
	d[9] = rndn(g, 2) ? 0x80 : 0;
	g->glue = true;
	for (int i = 0; i < 10; i += 2) {
		struct ins mv = { .op = 0xc7,
				  .p66 = 1,
				  .modrm = 1,
				  .mem = 1,
				  .disp = (int8_t)(disp + i),
				  .immsz = 2,
				  .imm = (uint32_t)(d[i] | d[i + 1] << 8) };
		emit(g, &mv, "");
	}
	g->glue = false;
	struct ins in = { .op = 0xdf, .modrm = 1, .reg = 4, .mem = 1, .disp = disp };
	return x87_emit(g, &in, "fbld m80", RC1);
}

static bool gen_ldst(struct gen *g)
{
	bool sse3 = model_has(g->model, FEAT_SSE3);
	switch (rndn(g, 20)) {
	case 0:
		return mem_form(g, 0xd9, 0, 4, "fld", RC1);
	case 1:
		return mem_form(g, 0xdd, 0, 8, "fld", RC1);
	case 2:
		return mem_form(g, 0xdb, 5, 10, "fld", RC1);
	case 3:
		return mem_form(g, 0xdf, 0, 2, "fild", RC1);
	case 4:
		return mem_form(g, 0xdb, 0, 4, "fild", RC1);
	case 5:
		return mem_form(g, 0xdf, 5, 8, "fild", RC1);
	case 6:
		return reg_form(g, 0xd9, 0xc0, "fld", RC1);
	case 7:
		return mem_form(g, 0xd9, 2 + (int)rndn(g, 2), 4, "fst(p)", RC1);
	case 8:
		return mem_form(g, 0xdd, 2 + (int)rndn(g, 2), 8, "fst(p)", RC1);
	case 9:
		return mem_form(g, 0xdb, 7, 10, "fstp", RC1);
	case 10:
		return reg_form(g, 0xdd, (uint8_t)(rndn(g, 2) ? 0xd0 : 0xd8), "fst(p)", RC1);
	case 11:
		return mem_form(g, 0xdf, 2 + (int)rndn(g, 2), 2, "fist(p)", RC1);
	case 12:
		return mem_form(g, 0xdb, 2 + (int)rndn(g, 2), 4, "fist(p)", RC1);
	case 13:
		return mem_form(g, 0xdf, 7, 8, "fistp", RC1);
	case 14:
		if (!sse3)
			return false;
		switch (rndn(g, 3)) {
		case 0:
			return mem_form(g, 0xdf, 1, 2, "fisttp", RC1);
		case 1:
			return mem_form(g, 0xdb, 1, 4, "fisttp", RC1);
		default:
			return mem_form(g, 0xdd, 1, 8, "fisttp", RC1);
		}
	case 15:
	case 16: {
		static const char *const mn[7] = { "fld1",   "fldl2t", "fldl2e", "fldpi",
						   "fldlg2", "fldln2", "fldz" };
		int k = (int)rndn(g, 7);
		return fixed(g, 0xd9, (uint8_t)(0xe8 + k), mn[k], RC1);
	}
	case 17:
		return reg_form(g, 0xd9, 0xc8, "fxch", RC1);
	case 18:
		return gen_bcd80(g);
	default:
		return reg_form(g, 0xdd, 0xc0, "ffree", 0, CALL);
	}
}

static bool gen_misc(struct gen *g)
{
	switch (rndn(g, 24)) {
	case 0:
		return fixed(g, 0xd9, 0xe0, "fchs", RC1);
	case 1:
		return fixed(g, 0xd9, 0xe1, "fabs", RC1);
	case 2:
		return fixed(g, 0xd9, 0xe4, "ftst", CALL, 0);
	case 3:
		return fixed(g, 0xd9, 0xe5, "fxam", CALL, 0);
	case 4:
		return fixed(g, 0xd9, 0xf8, "fprem", CALL, 0);
	case 5:
		return fixed(g, 0xd9, 0xf5, "fprem1", CALL, 0);
	case 6:
		return fixed(g, 0xd9, 0xfc, "frndint", RC1);
	case 7:
		return fixed(g, 0xd9, 0xfd, "fscale", RC1);
	case 8:
		return fixed(g, 0xd9, 0xf4, "fxtract", RC1);
	case 9:
		return fixed(g, 0xd9, 0xfa, "fsqrt", RC1);
	case 10:
		return fixed(g, 0xd9, 0xf0, "f2xm1", RC1);
	case 11:
		return fixed(g, 0xd9, 0xf1, "fyl2x", RC1);
	case 12:
		return fixed(g, 0xd9, 0xf9, "fyl2xp1", RC1);
	case 13:
		return fixed(g, 0xd9, 0xf3, "fpatan", RC1);
	case 14:
		return fixed(g, 0xd9, 0xf2, "fptan", C1 | C2, C0 | C3);
	case 15:
		return fixed(g, 0xd9, 0xfe, "fsin", C1 | C2, C0 | C3);
	case 16:
		return fixed(g, 0xd9, 0xff, "fcos", C1 | C2, C0 | C3);
	case 17:
		return fixed(g, 0xd9, 0xfb, "fsincos", C1 | C2, C0 | C3);
	case 18:
		return fixed(g, 0xd9, rndn(g, 2) ? 0xf6 : 0xf7, "fdec/incstp", RC1);
	case 19: { /* fucom, fucomp, fucompp */
		int k = (int)rndn(g, 3);
		if (k == 2)
			return fixed(g, 0xda, 0xe9, "fucompp", CALL, 0);
		return reg_form(g, 0xdd, (uint8_t)(0xe0 + 8 * k), k ? "fucomp" : "fucom", CALL, 0);
	}
	case 20:
	case 21: { /* fcomi, fucomi, fcomip, fucomip: C0/C2/C3 unchanged; C1 is only
		    * specified for a stack underflow (hardware leaves it alone otherwise,
		    * nestbox clears it), so it is not compared */
		static const uint8_t op[4] = { 0xdb, 0xdb, 0xdf, 0xdf };
		static const uint8_t base[4] = { 0xf0, 0xe8, 0xf0, 0xe8 };
		static const char *const mn[4] = { "fcomi", "fucomi", "fcomip", "fucomip" };
		int k = (int)rndn(g, 4);
		if (!model_has(g->model, FEAT_CMOV)) /* FCOMI and FCMOV: CPUID.CMOV */
			return false;
		if (!reg_form(g, op[k], base[k], mn[k], 0, C1))
			return false;
		flags_write(g, F_ARITH, 0);
		return true;
	}
	default: { /* fcmovcc: reads CF, ZF, PF */
		static const char *const mn[8] = { "fcmovb",  "fcmove",  "fcmovbe",  "fcmovu",
						   "fcmovnb", "fcmovne", "fcmovnbe", "fcmovnu" };
		static const uint32_t rd[4] = { F_CF, F_ZF, F_CF | F_ZF, F_PF };
		int k = (int)rndn(g, 8);
		if (!model_has(g->model, FEAT_CMOV) || !flags_ok(g, rd[k & 3]))
			return false;
		/* C1: "set to 0 if stack underflow occurred" says nothing of the
		 * other case (hardware keeps it), so C1 is not compared either */
		return reg_form(g, k < 4 ? 0xda : 0xdb, (uint8_t)(0xc0 + 8 * (k & 3)), mn[k], 0,
				CALL);
	}
	}
}

/* Zero data bytes [lo, hi) with word/dword stores (glue) and leave them out
 * of the comparison of prefixes: FIP/FDP/FOP images, which AMD and Intel
 * save differently and the comparison ignores (SDM Vol. 1 §8.1.8-8.1.10). */
static void scrub(struct gen *g, int lo, int hi)
{
	g->glue = true;
	g->tail = true;
	for (int i = lo; i < hi; i += 2) {
		bool dw = i + 4 <= hi && !(i & 3);
		struct ins mv = { .op = 0xc7,
				  .p66 = !dw,
				  .modrm = 1,
				  .mem = 1,
				  .disp = (int8_t)(i - 128),
				  .immsz = (uint8_t)(dw ? 4 : 2) };
		emit(g, &mv, "");
		if (dw)
			i += 2;
	}
	g->glue = false;
	g->tail = false;
	for (int i = lo; i < hi; i++)
		g->s->dmask[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* FXSAVE/FXRSTOR, FNSTENV/FLDENV, FNSAVE/FRSTOR on the start of the data
 * area; a restore only follows a save of the same kind, and random stores in
 * between may make its image invalid (then both raise the same fault). */
static bool gen_env(struct gen *g)
{
	struct ins in = { .modrm = 1, .mem = 1, .disp = -128 };
	bool w = g->mode == 64 && rndn(g, 2);
	int k = g->saved && rndn(g, 2) ? g->saved - 1 : (int)rndn(g, 3);
	/* the saved images hold FSW: its condition codes must be defined */
	if (g->fswundef && k + 1 != g->saved)
		return false;
	if (k == 0 && !model_has(g->model, FEAT_FXSR))
		return false;
	switch (k) {
	case 0:
		in.map = 1, in.op = 0xae, in.w = w;
		if (g->saved == 1 && (g->fswundef || rndn(g, 2))) {
			in.reg = 1;
			return x87_emit(g, &in, w ? "fxrstor64 m" : "fxrstor m", CALL, 0);
		}
		in.reg = 0;
		if (!x87_emit(g, &in, w ? "fxsave64 m" : "fxsave m", 0, 0))
			return false;
		scrub(g, 6, 24);
		scrub(g, 28, 32);
		g->saved = 1;
		return true;
	case 1:
		in.op = 0xd9;
		if (g->saved == 2 && (g->fswundef || rndn(g, 2))) {
			in.reg = 4;
			return x87_emit(g, &in, "fldenv m", CALL, 0);
		}
		in.reg = 6;
		if (!x87_emit(g, &in, "fnstenv m", 0, 0))
			return false;
		scrub(g, 12, 28);
		g->saved = 2;
		return true;
	default:
		in.op = 0xdd;
		if (g->saved == 3 && (g->fswundef || rndn(g, 2))) {
			in.reg = 4;
			return x87_emit(g, &in, "frstor m", CALL, 0);
		}
		in.reg = 6;
		if (!x87_emit(g, &in, "fnsave m", CALL, 0))
			return false;
		scrub(g, 12, 28);
		g->saved = 3;
		return true;
	}
}

static bool gen_ctrl(struct gen *g)
{
	switch (rndn(g, 7)) {
	case 6:
		return gen_env(g);
	case 0:
		return mem_form(g, 0xd9, 7, 2, "fnstcw", 0, 0);
	case 1: { /* fldcw from a word written just before, every exception masked */
		struct ins mv = {
			.op = 0xc7, .p66 = 1, .modrm = 1, .reg = 0, .mem = 1, .immsz = 2
		};
		mv.disp = pick_disp(g, 2, 2);
		mv.imm = 0x037f | (uint32_t)rndn(g, 4) << 10 |
			 (uint32_t)(rndn(g, 3) ? 3 : rndn(g, 4)) << 8;
		struct ins in = { .op = 0xd9, .modrm = 1, .reg = 5, .mem = 1, .disp = mv.disp };
		if (form_excluded("fldcw m16"))
			return false;
		g->glue = true;
		emit(g, &mv, "");
		g->glue = false;
		return x87_emit(g, &in, "fldcw m16", 0, CALL);
	}
	case 2:
		if (g->fswundef)
			return false;
		if (rndn(g, 2)) {
			struct ins in = { .op = 0xdf, .immsz = 1, .imm = 0xe0 };
			return x87_emit(g, &in, "fnstsw ax", 0, CALL);
		}
		return mem_form(g, 0xdd, 7, 2, "fnstsw", 0, CALL);
	case 3:
		return fixed(g, 0xdb, 0xe2, "fnclex", 0, CALL);
	case 4:
		if (rndn(g, 4))
			return false;
		return fixed(g, 0xdb, 0xe3, "fninit", CALL, 0);
	default: {
		struct ins in = { .op = 0x9b };
		return x87_emit(g, &in, "fwait", 0, 0);
	}
	}
}

bool gen_x87(struct gen *g)
{
	if (g->saved && rndn(g, 8) == 0)
		return gen_env(g);
	switch (rndn(g, 10)) {
	case 0:
	case 1:
	case 2:
		return gen_arith(g);
	case 3:
	case 4:
	case 5:
		return gen_ldst(g);
	case 6:
	case 7:
	case 8:
		return gen_misc(g);
	default:
		return gen_ctrl(g);
	}
}
