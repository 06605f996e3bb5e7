/*
 * tests/diff/diff_gen.c — builds one test sequence: picks the family, makes
 * the random initial state (GPRs, RFLAGS, FXSAVE image, data area), calls
 * the family generator until the sequence is full, and records which flags
 * and FSW bits are left undefined at the end.
 */
#include <string.h>

#include "tests/diff/diff_gen.h"

const char *const diff_family_name[FAM_NFAM] = {
	"int", "bmi", "str",  "bcd",  "flow",  "fault", "smc",   "seg", "x87",
	"mmx", "sse", "sse2", "sse3", "ssse3", "sse41", "sse42", "aes",
};

bool gen_family_ok(int fam, int mode, const struct cpu_model *m)
{
	switch (fam) {
	case FAM_BMI:
		return model_has(m, FEAT_BMI1) || model_has(m, FEAT_BMI2) || model_has(m, FEAT_ADX);
	case FAM_BCD:
		return mode == 32;
	case FAM_X87:
		return model_has(m, FEAT_FPU);
	case FAM_MMX:
		return model_has(m, FEAT_MMX);
	case FAM_SSE:
		return model_has(m, FEAT_SSE);
	case FAM_SSE2:
		return model_has(m, FEAT_SSE2);
	case FAM_SSE3:
		return model_has(m, FEAT_SSE3);
	case FAM_SSSE3:
		return model_has(m, FEAT_SSSE3);
	case FAM_SSE41:
		return model_has(m, FEAT_SSE41);
	case FAM_SSE42:
		return model_has(m, FEAT_SSE42);
	case FAM_AES:
		return model_has(m, FEAT_AES) || model_has(m, FEAT_PCLMULQDQ);
	default:
		return true;
	}
}

uint32_t rnd_f32bits(struct gen *g)
{
	static const uint32_t special[] = {
		0,           0x80000000u, 0x3f800000u, 0xbf800000u, 0x7f800000u, 0xff800000u,
		0x7fc00000u, 0xffc00000u, 0x7fa00000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu,
		0x4b000000u, 0x3f000000u, 0x4f000000u, 0xcf000000u,
	};
	switch (rndn(g, 6)) {
	case 0:
		return special[rndn(g, 16)];
	case 1:
	case 2: { /* a modest integer value */
		float f = (float)((int)rndn(g, 2001) - 1000) / (float)(1 + rndn(g, 8));
		uint32_t u;
		memcpy(&u, &f, 4);
		return u;
	}
	case 3: /* exponent near 1.0 */
		return (uint32_t)((rndn(g, 2) << 31) | (120u + rndn(g, 16)) << 23 |
				  (rnd(g) & 0x7fffff));
	default:
		return (uint32_t)rnd(g);
	}
}

uint64_t rnd_f64bits(struct gen *g)
{
	static const uint64_t special[] = {
		0,
		1ull << 63,
		0x3ff0000000000000ull,
		0xbff0000000000000ull,
		0x7ff0000000000000ull,
		0xfff0000000000000ull,
		0x7ff8000000000000ull,
		0x7ff4000000000000ull,
		1,
		0x000fffffffffffffull,
		0x7fefffffffffffffull,
		0x4330000000000000ull,
		0x3fe0000000000000ull,
		0x43e0000000000000ull,
		0xc3e0000000000000ull,
		0x41e0000000000000ull,
	};
	switch (rndn(g, 6)) {
	case 0:
		return special[rndn(g, 16)];
	case 1:
	case 2: {
		double d = (double)((int)rndn(g, 2001) - 1000) / (double)(1 + rndn(g, 8));
		uint64_t u;
		memcpy(&u, &d, 8);
		return u;
	}
	case 3:
		return (uint64_t)rndn(g, 2) << 63 | (uint64_t)(1016u + rndn(g, 16)) << 52 |
		       (rnd(g) & 0xfffffffffffffull);
	default:
		return rnd(g);
	}
}

static void fill_xmm(struct gen *g, uint8_t *x)
{
	switch (rndn(g, 4)) {
	case 0:
		for (int i = 0; i < 4; i++) {
			uint32_t v = rnd_f32bits(g);
			memcpy(x + 4 * i, &v, 4);
		}
		break;
	case 1:
		for (int i = 0; i < 2; i++) {
			uint64_t v = rnd_f64bits(g);
			memcpy(x + 8 * i, &v, 8);
		}
		break;
	case 2: /* small lanes, for string compares and saturation */
		for (int i = 0; i < 16; i++)
			x[i] = (uint8_t)(rndn(g, 4) ? 'a' + rndn(g, 6) : rndn(g, 256));
		break;
	default:
		for (int i = 0; i < 2; i++) {
			uint64_t v = rnd(g);
			memcpy(x + 8 * i, &v, 8);
		}
	}
}

static void init_state(struct gen *g, struct dstate *st, int fam)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < 16; i++) {
		int sz = 1 << rndn(g, 4);
		uint64_t v = rnd_val(g, sz);
		if (rndn(g, 4) == 0)
			v = rnd(g);
		if (g->mode == 32)
			v = (uint32_t)v;
		st->gpr[i] = v;
	}
	st->gpr[R_SP] = STACK_TOP;
	st->gpr[g->mode == 64 ? R_R15 : R_BP] = DATA_BASE;
	uint64_t fl = 0x202 | (rnd(g) & F_ARITH);
	g->df = rndn(g, 4) == 0;
	if (g->df)
		fl |= F_DF;
	st->rflags = fl;

	uint8_t *fx = st->fx;
	uint16_t fcw = 0x037f | (uint16_t)(rndn(g, 4) << 10);
	if (rndn(g, 4) == 0)
		fcw = (uint16_t)((fcw & ~0x300) | rndn(g, 4) << 8);
	memcpy(fx + FX_FCW, &fcw, 2);
	if (rndn(g, 4) == 0) { /* sticky (masked) x87 exception flags */
		uint16_t fsw = (uint16_t)rndn(g, 64);
		memcpy(fx + FX_FSW, &fsw, 2);
	}
	uint32_t mxcsr = 0x1f80 | (uint32_t)rndn(g, 4) << 13;
	if (rndn(g, 4) == 0)
		mxcsr |= (uint32_t)rndn(g, 64); /* sticky exception flags */
	if (rndn(g, 4) == 0)
		mxcsr |= 1u << 15; /* FTZ */
	if (rndn(g, 4) == 0)
		mxcsr |= 1u << 6; /* DAZ */
	memcpy(fx + FX_MXCSR, &mxcsr, 4);
	for (int i = 0; i < 16; i++)
		fill_xmm(g, fx + FX_XMM + 16 * i);
	if (fam == FAM_X87 || fam == FAM_MMX)
		gen_x87_init(g, st);
	for (int i = 0; i < DATA_SIZE; i += 8) {
		uint64_t v;
		switch (rndn(g, 4)) {
		case 0:
			v = rnd_f64bits(g);
			break;
		case 1:
			v = (uint64_t)rnd_f32bits(g) << 32 | rnd_f32bits(g);
			break;
		case 2:
			v = rnd_val(g, 8);
			break;
		default:
			v = rnd(g);
		}
		memcpy(st->data + i, &v, 8);
	}
}

static int pick_family(struct gen *g)
{
	/* weights: integer families dominate, then SIMD, then x87 */
	static const int weight[FAM_NFAM] = {
		30, 6, 5, 2, 6, 3, 2, 2, 12, 6, 7, 10, 3, 5, 6, 4, 4
	};
	for (;;) {
		int total = 0;
		for (int f = 0; f < FAM_NFAM; f++)
			total += weight[f];
		int r = (int)rndn(g, (unsigned)total);
		int f = 0;
		while (r >= weight[f])
			r -= weight[f++];
		if (gen_family_ok(f, g->mode, g->model))
			return f;
	}
}

static bool gen_one(struct gen *g, int fam)
{
	switch (fam) {
	case FAM_INT:
		return gen_int(g);
	case FAM_BMI:
		return gen_bmi(g);
	case FAM_STR:
		return gen_str(g);
	case FAM_FLOW:
		return gen_flow(g);
	case FAM_FAULT:
		return gen_fault(g);
	case FAM_SMC:
		return gen_smc(g);
	case FAM_SEG:
		return rndn(g, 2) ? gen_seg(g) : gen_int(g);
	case FAM_BCD:
		return rndn(g, 2) ? gen_bcd(g) : gen_int(g);
	case FAM_X87:
		return gen_x87(g);
	default:
		return gen_simd(g, fam);
	}
}

void gen_sequence(struct seq *s, uint64_t seed, uint64_t idx, const struct gen_opts *o)
{
	struct gen g;
	memset(&g, 0, sizeof(g));
	memset(s, 0, offsetof(struct seq, init));
	g.s = s;
	uint64_t z = seed * 0x9e3779b97f4a7c15ull + idx * 0xbf58476d1ce4e5b9ull + 1;
	z = (z ^ (z >> 31)) * 0x94d049bb133111ebull;
	g.rng = z ? z : 1;
	g.mode = o->mode;
	g.model = o->model;
	g.sp = SP_INIT;
	s->mode = o->mode;
	int fam = o->fam >= 0 ? o->fam : pick_family(&g);
	s->fam = fam;
	init_state(&g, &s->init, fam);
	int target = fam == FAM_FAULT ? 64 : 4 + (int)rndn(&g, 20);
	int counted = 0, tries = 0;
	while (counted < target && gen_room(&g) && tries < 400 && !g.done) {
		tries++;
		if (gen_one(&g, fam))
			counted++;
	}
	s->flags_undef = g.fundef;
	s->fsw_undef = g.fswundef;
	s->xmm_skip = g.xmm_dead;
}
