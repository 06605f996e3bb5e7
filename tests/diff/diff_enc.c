/*
 * tests/diff/diff_enc.c — the generator's instruction encoder (legacy
 * prefixes, REX, VEX3, escape bytes, ModRM with a register or a
 * [base + disp8] memory operand, immediates), the form-name registry and
 * the operand pickers shared by the family generators.
 */
#include <stdio.h>
#include <string.h>

#include "tests/diff/diff_gen.h"

uint64_t rnd(struct gen *g)
{
	/* xorshift64* */
	uint64_t x = g->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	g->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint64_t rnd_val(struct gen *g, int size)
{
	uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
	uint64_t sign = 1ull << (8 * size - 1);
	switch (rndn(g, 10)) {
	case 0:
		return rndn(g, 4) & mask;
	case 1:
		return (mask - rndn(g, 3)) & mask;
	case 2:
		return (sign + rndn(g, 3) - 1) & mask;
	case 3:
		return rndn(g, 256) & mask;
	case 4:
		return (rnd(g) >> rndn(g, 64)) & mask;
	default:
		return rnd(g) & mask;
	}
}

/* Form names are interned so a sequence stores a small id per instruction.
 * The table is private to this (single-threaded) test program. */
#define MAX_FORMS 4096
static char form_names[MAX_FORMS][40];
static int nforms;

static int intern(const char *name)
{
	for (int i = 0; i < nforms; i++)
		if (!strcmp(form_names[i], name))
			return i;
	if (nforms == MAX_FORMS)
		return MAX_FORMS - 1;
	snprintf(form_names[nforms], sizeof(form_names[0]), "%s", name);
	return nforms++;
}

const char *diff_form_name(int form)
{
	return form >= 0 && form < nforms ? form_names[form] : "?";
}

bool gen_room(const struct gen *g)
{
	return g->s->ninsn < MAX_INSN - 8 && g->s->len < MAX_CODE - 120;
}

static bool need_rex8(int r)
{
	return r >= 4 && r < 16;
}

void note_flags(struct gen *g)
{
	struct seq *s = g->s;
	if (s->ninsn) {
		s->undef_after[s->ninsn - 1] = (uint16_t)g->fundef;
		s->fswu_after[s->ninsn - 1] = g->fswundef;
	}
}

/* Index registers the SIB addressing variant may clobber: none of them is
 * an implicit operand whose value the generator relies on (CL counts, rAX and
 * rDX of divisions, rDI of MASKMOV*). */
static int pick_index(struct gen *g, const struct ins *in, bool no_rex)
{
	static const int r64[] = {
		R_BX, R_R12, R_SI, R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14
	};
	static const int r32[] = { R_BX, R_SI };
	for (int t = 0; t < 8; t++) {
		int r = g->mode == 64 ? r64[rndn(g, 10)] : r32[rndn(g, 2)];
		if ((in->modrm && r == in->reg) || (in->vex && r == in->vvvv))
			continue;
		if (no_rex && r >= 8)
			continue;
		if (in->maskmov_rdi && r == R_DI)
			continue;
		return r;
	}
	return -1;
}

/* Addressing variants of a [base + disp] data operand (all reach the same
 * byte): [base+disp8], [base+disp32], [base+index*scale+disp8] (index set by
 * glue), RIP-relative (64-bit) or [disp32] (compat), [disp32] through a SIB
 * without base and index, and a SIB with base and no index. */
enum {
	AM_D8,
	AM_D32,
	AM_SIB,
	AM_RIP,
	AM_ABS,
	AM_SIBB
};

bool emit(struct gen *g, const struct ins *in, const char *name)
{
	struct seq *s = g->s;
	if (!g->glue && form_excluded(name))
		return false;
	if (s->ninsn >= MAX_INSN - 2 || s->len > MAX_CODE - 48)
		return false;
	int base = g->mode == 64 ? R_R15 : R_BP;
	int am = AM_D8, idx = -1, scale = 0;
	/* AH..BH operands forbid any REX, even an otherwise ignored one */
	bool legacy8 = (in->byte_reg && in->reg >= 16) || (in->byte_rm && !in->mem && in->rm >= 16);
	int32_t disp = in->disp;
	uint32_t abs = (uint32_t)(DATA_BASE + (uint32_t)(int32_t)in->disp);
	if (in->mem && !g->glue && g->force_abs) {
		abs = g->force_abs;
		g->force_abs = 0;
		am = rndn(g, 2) ? AM_ABS : AM_RIP;
	} else if (in->mem && !g->glue && rndn(g, 2)) {
		am = 1 + (int)rndn(g, 5);
		if (am == AM_SIB) {
			idx = pick_index(g, in, legacy8);
			scale = (int)rndn(g, 4);
			int k = (int)rndn(g, (unsigned)((in->disp + 128) >> scale) + 1);
			if (idx < 0) {
				am = AM_D8;
			} else {
				struct ins mv = { .op = 0xb8,
						  .oprm = 1,
						  .rm = (uint8_t)idx,
						  .immsz = 4,
						  .imm = (uint32_t)k };
				g->glue = true;
				emit(g, &mv, "");
				g->glue = false;
				disp = in->disp - (k << scale);
			}
		}
	}
	uint8_t b[40];
	int n = 0;
	int reg = in->reg, rm = in->mem ? base : in->rm;
	bool rex_r = reg >= 8 && reg < 16;
	bool rex_b = rm >= 8 && rm < 16, rex_x = false;
	if (in->mem && (am == AM_RIP || am == AM_ABS))
		rex_b = g->mode == 64 && !legacy8 && rndn(g, 2); /* ignored: no base */
	if (am == AM_SIB)
		rex_x = idx >= 8;
	bool rex = in->w || rex_r || rex_b || rex_x;
	if (in->byte_reg && need_rex8(reg) && in->modrm)
		rex = true;
	if (in->byte_rm && !in->mem && need_rex8(rm))
		rex = true;
	/* Prefix noise on compared instructions: a redundant segment override
	 * (flat segments; FS/GS are not flat natively), an address-size override
	 * (all addresses are below 4 GiB; not for moffs, whose length it
	 * changes) and, in 64-bit mode, a REX that a following legacy prefix
	 * makes ineffective (SDM Vol. 2 §2.2.1). */
	if (!g->glue) {
		bool moffs = in->map == 0 && !in->vex && (in->op & 0xfc) == 0xa0;
		if (g->mode == 64 && !in->vex && rndn(g, 32) == 0) {
			b[n++] = (uint8_t)(0x40 | rndn(g, 16));
			b[n++] = 0x3e;
		}
		if (rndn(g, 10) == 0) {
			static const uint8_t seg64[4] = { 0x26, 0x2e, 0x36, 0x3e };
			static const uint8_t seg32[3] = { 0x26, 0x36, 0x3e };
			b[n++] = g->mode == 64 ? seg64[rndn(g, 4)] : seg32[rndn(g, 3)];
		}
		if (g->mode == 64 && !moffs && rndn(g, 16) == 0)
			b[n++] = 0x67;
	}
	bool lock = in->lock;
	if (!g->glue && g->force_lock) { /* fault family: LOCK on anything */
		lock = true;
		g->force_lock = false;
	}
	if (lock)
		b[n++] = 0xf0;
	/* an ignored REP/REPNE on a one-byte-map instruction other than the
	 * string instructions (SDM Vol. 2 §2.1.1: reserved, ignored) */
	if (!g->glue && !in->rep && !in->vex && in->map == 0 &&
	    !(in->op >= 0xa4 && in->op <= 0xaf) && !(in->op >= 0x6c && in->op <= 0x6f) &&
	    !((in->op == 0xe0 || in->op == 0xe1) &&
	      form_excluded("f2/f3 prefix on loope/loopne")) &&
	    rndn(g, 24) == 0)
		b[n++] = rndn(g, 2) ? 0xf2 : 0xf3;
	if (in->p66)
		b[n++] = 0x66;
	if (in->rep)
		b[n++] = in->rep;
	if (in->vex) {
		b[n++] = 0xc4;
		b[n++] = (uint8_t)((!rex_r) << 7 | (!rex_x) << 6 | (!rex_b) << 5 | in->map);
		b[n++] = (uint8_t)(in->w << 7 | (~in->vvvv & 15) << 3 | in->vl << 2 | in->vpp);
	} else {
		if (rex && g->mode == 64)
			b[n++] = (uint8_t)(0x40 | in->w << 3 | rex_r << 2 | rex_x << 1 | rex_b);
		if (in->map >= 1)
			b[n++] = 0x0f;
		if (in->map == 2)
			b[n++] = 0x38;
		if (in->map == 3)
			b[n++] = 0x3a;
	}
	/* AH..BH (16-19) encode as 4-7 without REX */
	if (reg >= 16)
		reg -= 12;
	if (rm >= 16)
		rm -= 12;
	if (in->oprm) {
		b[n++] = (uint8_t)(in->op | (rm & 7));
	} else {
		b[n++] = in->op;
	}
	int rip_at = -1;
	if (in->modrm && !in->mem) {
		b[n++] = (uint8_t)(3 << 6 | (reg & 7) << 3 | (rm & 7));
	} else if (in->modrm) {
		uint8_t r3 = (uint8_t)((reg & 7) << 3);
		int32_t d32 = disp;
		switch (am) {
		case AM_D8:
			b[n++] = (uint8_t)(1 << 6 | r3 | (base & 7));
			b[n++] = (uint8_t)disp;
			break;
		case AM_D32:
			b[n++] = (uint8_t)(2 << 6 | r3 | (base & 7));
			memcpy(b + n, &d32, 4);
			n += 4;
			break;
		case AM_SIB:
			b[n++] = (uint8_t)(1 << 6 | r3 | 4);
			b[n++] = (uint8_t)(scale << 6 | (idx & 7) << 3 | (base & 7));
			b[n++] = (uint8_t)disp;
			break;
		case AM_RIP: /* 64-bit: RIP-relative, patched below; compat: [disp32] */
			b[n++] = (uint8_t)(r3 | 5);
			rip_at = g->mode == 64 ? n : -1;
			memcpy(b + n, &abs, 4);
			n += 4;
			break;
		case AM_ABS:
			b[n++] = (uint8_t)(r3 | 4);
			b[n++] = (uint8_t)(rndn(g, 4) << 6 | 4 << 3 | 5);
			memcpy(b + n, &abs, 4);
			n += 4;
			break;
		default: /* AM_SIBB */
			b[n++] = (uint8_t)(1 << 6 | r3 | 4);
			b[n++] = (uint8_t)(rndn(g, 4) << 6 | 4 << 3 | (base & 7));
			b[n++] = (uint8_t)disp;
			break;
		}
	}
	for (int i = 0; i < in->immsz; i++)
		b[n++] = (uint8_t)(in->imm >> (8 * i));
	if (rip_at >= 0) {
		/* relative to the end of the instruction, immediate included */
		uint32_t rel = abs - (CODE_VA + (uint32_t)s->len + (uint32_t)n);
		memcpy(b + rip_at, &rel, 4);
	}
	s->off[s->ninsn] = (uint16_t)s->len;
	s->form[s->ninsn] = (uint16_t)intern(g->glue ? "(glue)" : name);
	s->counted[s->ninsn] = !g->glue;
	s->tail[s->ninsn] = g->glue && g->tail;
	s->ninsn++;
	note_flags(g);
	memcpy(s->code + s->len, b, (size_t)n);
	s->len += n;
	return true;
}

uint32_t cc_reads(int cc)
{
	switch (cc >> 1) {
	case 0:
		return F_OF;
	case 1:
		return F_CF;
	case 2:
		return F_ZF;
	case 3:
		return F_CF | F_ZF;
	case 4:
		return F_SF;
	case 5:
		return F_PF;
	case 6:
		return F_SF | F_OF;
	default:
		return F_ZF | F_SF | F_OF;
	}
}

int pick_gpr(struct gen *g)
{
	if (g->frame) { /* between ENTER and LEAVE: RBP is the frame pointer */
		static const int r[] = { 0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
		return r[rndn(g, 13)];
	}
	static const int r64[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
	static const int r32[] = { 0, 1, 2, 3, 6, 7 };
	if (g->mode == 64)
		return r64[rndn(g, 14)];
	return r32[rndn(g, 6)];
}

void pick_gpr8_pair(struct gen *g, int *a, int *b, bool need_legacy)
{
	static const int legacy[] = { 0, 1, 2, 3, 16, 17, 18, 19 };
	static const int rexset[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
	if (g->mode == 32 || need_legacy || rndn(g, 3) == 0) {
		*a = legacy[rndn(g, 8)];
		*b = legacy[rndn(g, 8)];
	} else {
		*a = rexset[rndn(g, 14)];
		*b = rexset[rndn(g, 14)];
		if (g->frame && (*a == R_BP || *b == R_BP))
			*a = *b = R_BX;
	}
}

int8_t pick_disp(struct gen *g, int size, int align)
{
	int slots = (256 - size) / align + 1;
	return (int8_t)((int)rndn(g, (unsigned)slots) * align - 128);
}

const char *opname(char kind, int size)
{
	static const char *const names[3][5] = {
		{ "r8", "r16", "r32", "r64", "r128" },
		{ "m8", "m16", "m32", "m64", "m128" },
		{ "i8", "i16", "i32", "i64", "i128" },
	};
	int k = kind == 'r' ? 0 : kind == 'm' ? 1 : 2;
	int s = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : 4;
	return names[k][s];
}
