/*
 * cpu/simd/ops_sse_mov.c — SSE/SSE2/SSE3 floating-point data movement that
 * needs no arithmetic: MOVUPS/UPD/APS/APD/SS/SD, MOVLPS/HPS/LPD/HPD,
 * MOVHLPS/MOVLHPS, MOVMSKPS/PD, MOVNTPS/PD, MOVSLDUP/MOVSHDUP/MOVDDUP,
 * ANDPS..XORPD, SHUFPS/PD, UNPCKL/H PS/PD. Registered from
 * ops_simd_fp_register() (ops_simd_fp.c). SDM Vol. 2 instruction pages.
 */
#include "cpu/simd/simd.h"

/* ---- full-register moves (0F 10/11, 28/29, 2B) ---- */
static void h_movu_load(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, false);
	c->fpu.xmm[in->reg] = s;
}
static void h_mova_load(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, true);
	c->fpu.xmm[in->reg] = s;
}
static void h_movu_store(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	if (in->mod == 3)
		c->fpu.xmm[in->rm] = c->fpu.xmm[in->reg];
	else
		xmm_store_mem(c, in, &c->fpu.xmm[in->reg], false);
}
static void h_mova_store(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	if (in->mod == 3)
		c->fpu.xmm[in->rm] = c->fpu.xmm[in->reg];
	else
		xmm_store_mem(c, in, &c->fpu.xmm[in->reg], true);
}

/* MOVSS/MOVSD load: register form merges the low element, memory form
 * zeroes the rest of the register. */
static void h_movss_load(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	if (in->mod == 3) {
		c->fpu.xmm[in->reg].d[0] = c->fpu.xmm[in->rm].d[0];
	} else {
		uint32_t v = cpu_rd32(c, in->seg, insn_ea(c, in));
		union xmm *d = &c->fpu.xmm[in->reg];
		d->q[0] = v;
		d->q[1] = 0;
	}
}
static void h_movsd_load(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	if (in->mod == 3) {
		c->fpu.xmm[in->reg].q[0] = c->fpu.xmm[in->rm].q[0];
	} else {
		uint64_t v = cpu_rd64(c, in->seg, insn_ea(c, in));
		union xmm *d = &c->fpu.xmm[in->reg];
		d->q[0] = v;
		d->q[1] = 0;
	}
}
static void h_movss_store(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	uint32_t v = c->fpu.xmm[in->reg].d[0];
	if (in->mod == 3)
		c->fpu.xmm[in->rm].d[0] = v;
	else
		cpu_wr32(c, in->seg, insn_ea(c, in), v);
}
static void h_movsd_store(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	uint64_t v = c->fpu.xmm[in->reg].q[0];
	if (in->mod == 3)
		c->fpu.xmm[in->rm].q[0] = v;
	else
		cpu_wr64(c, in->seg, insn_ea(c, in), v);
}

/* ---- half moves (0F 12/13/16/17) ---- */
/* 0F 12 mem: MOVLPS xmm, m64; 66 0F 12: MOVLPD (memory only). */
static void h_movlp_load(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	uint64_t v = cpu_rd64(c, in->seg, insn_ea(c, in));
	c->fpu.xmm[in->reg].q[0] = v;
}
/* 0F 12 reg: MOVHLPS xmm1, xmm2: low of xmm1 = high of xmm2. */
static void h_movhlps(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	c->fpu.xmm[in->reg].q[0] = c->fpu.xmm[in->rm].q[1];
}
/* 0F 16 mem: MOVHPS xmm, m64; 66 0F 16: MOVHPD. */
static void h_movhp_load(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	uint64_t v = cpu_rd64(c, in->seg, insn_ea(c, in));
	c->fpu.xmm[in->reg].q[1] = v;
}
/* 0F 16 reg: MOVLHPS xmm1, xmm2: high of xmm1 = low of xmm2. */
static void h_movlhps(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	c->fpu.xmm[in->reg].q[1] = c->fpu.xmm[in->rm].q[0];
}
/* 0F 13 / 66 0F 13: MOVLPS/MOVLPD m64, xmm; 0F 17 / 66 0F 17: MOVHPS/MOVHPD. */
static void h_movlp_store(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	cpu_wr64(c, in->seg, insn_ea(c, in), c->fpu.xmm[in->reg].q[0]);
}
static void h_movhp_store(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	cpu_wr64(c, in->seg, insn_ea(c, in), c->fpu.xmm[in->reg].q[1]);
}

/* ---- SSE3 duplicates ---- */
static void h_movsldup(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s, t;
	xmm_src(c, in, &s, true);
	t.d[0] = t.d[1] = s.d[0];
	t.d[2] = t.d[3] = s.d[2];
	c->fpu.xmm[in->reg] = t;
}
static void h_movshdup(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s, t;
	xmm_src(c, in, &s, true);
	t.d[0] = t.d[1] = s.d[1];
	t.d[2] = t.d[3] = s.d[3];
	c->fpu.xmm[in->reg] = t;
}
/* MOVDDUP xmm, xmm/m64 (memory: 8 bytes, no alignment). */
static void h_movddup(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src_low(c, in, &s, 8);
	c->fpu.xmm[in->reg].q[0] = s.q[0];
	c->fpu.xmm[in->reg].q[1] = s.q[0];
}

/* ---- MOVMSKPS / MOVMSKPD r32, xmm ---- */
static void h_movmskps(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	const union xmm *s = &c->fpu.xmm[in->rm];
	uint32_t m = 0;
	for (int i = 0; i < 4; i++)
		m |= (s->d[i] >> 31) << i;
	c->gpr[in->reg] = m;
}
static void h_movmskpd(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	const union xmm *s = &c->fpu.xmm[in->rm];
	c->gpr[in->reg] = (s->q[0] >> 63) | (s->q[1] >> 63) << 1;
}

/* ---- logic (0F 54-57, both PS and PD: the same bit operation) ---- */
SIMD_INLINE void logic(struct cpu *c, const struct insn *in, int op)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, true);
	union xmm *d = &c->fpu.xmm[in->reg];
	for (int i = 0; i < 2; i++)
		switch (op) {
		case 0:
			d->q[i] &= s.q[i];
			break;
		case 1:
			d->q[i] = ~d->q[i] & s.q[i];
			break;
		case 2:
			d->q[i] |= s.q[i];
			break;
		default:
			d->q[i] ^= s.q[i];
		}
}
static void h_andp(struct cpu *c, const struct insn *in)
{
	logic(c, in, 0);
}
static void h_andnp(struct cpu *c, const struct insn *in)
{
	logic(c, in, 1);
}
static void h_orp(struct cpu *c, const struct insn *in)
{
	logic(c, in, 2);
}
static void h_xorp(struct cpu *c, const struct insn *in)
{
	logic(c, in, 3);
}

/* ---- shuffles and unpacks ---- */
static void h_shufps(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s, t;
	xmm_src(c, in, &s, true);
	const union xmm *d = &c->fpu.xmm[in->reg];
	unsigned imm = (unsigned)in->imm;
	t.d[0] = d->d[imm & 3];
	t.d[1] = d->d[(imm >> 2) & 3];
	t.d[2] = s.d[(imm >> 4) & 3];
	t.d[3] = s.d[(imm >> 6) & 3];
	c->fpu.xmm[in->reg] = t;
}
static void h_shufpd(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s, t;
	xmm_src(c, in, &s, true);
	const union xmm *d = &c->fpu.xmm[in->reg];
	t.q[0] = d->q[in->imm & 1];
	t.q[1] = s.q[(in->imm >> 1) & 1];
	c->fpu.xmm[in->reg] = t;
}
static void h_unpcklps(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s, t;
	xmm_src(c, in, &s, true);
	const union xmm *d = &c->fpu.xmm[in->reg];
	t.d[0] = d->d[0];
	t.d[1] = s.d[0];
	t.d[2] = d->d[1];
	t.d[3] = s.d[1];
	c->fpu.xmm[in->reg] = t;
}
static void h_unpckhps(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s, t;
	xmm_src(c, in, &s, true);
	const union xmm *d = &c->fpu.xmm[in->reg];
	t.d[0] = d->d[2];
	t.d[1] = s.d[2];
	t.d[2] = d->d[3];
	t.d[3] = s.d[3];
	c->fpu.xmm[in->reg] = t;
}
static void h_unpcklpd(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, true);
	c->fpu.xmm[in->reg].q[1] = s.q[0];
}
static void h_unpckhpd(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, true);
	union xmm *d = &c->fpu.xmm[in->reg];
	d->q[0] = d->q[1];
	d->q[1] = s.q[1];
}

#define EM(o, p, md, f, fn, nm)                                                            \
	{                                                                                  \
		(uint16_t)(0x100 | (o)), p, OPT_ANY, OPT_ANY, md, 0, OPT_ANY, 0, f, fn, nm \
	}
#define EA(o, p, f, fn, nm) EM(o, p, OPT_MOD_ANY, f, fn, nm)
/* PS (SSE) and PD (SSE2) forms of one handler. */
#define PSPD(o, fn, nm) EA(o, MP_NONE, FEAT_SSE, fn, nm "ps"), EA(o, MP_66, FEAT_SSE2, fn, nm "pd")

static const struct optab_entry mov_tab[] = {
	PSPD(0x10, h_movu_load, "movu"),
	EA(0x10, MP_F3, FEAT_SSE, h_movss_load, "movss"),
	EA(0x10, MP_F2, FEAT_SSE2, h_movsd_load, "movsd"),
	PSPD(0x11, h_movu_store, "movu"),
	EA(0x11, MP_F3, FEAT_SSE, h_movss_store, "movss"),
	EA(0x11, MP_F2, FEAT_SSE2, h_movsd_store, "movsd"),
	EM(0x12, MP_NONE, OPT_MOD_MEM, FEAT_SSE, h_movlp_load, "movlps"),
	EM(0x12, MP_NONE, OPT_MOD_REG, FEAT_SSE, h_movhlps, "movhlps"),
	EM(0x12, MP_66, OPT_MOD_MEM, FEAT_SSE2, h_movlp_load, "movlpd"),
	EA(0x12, MP_F3, FEAT_SSE3, h_movsldup, "movsldup"),
	EA(0x12, MP_F2, FEAT_SSE3, h_movddup, "movddup"),
	EM(0x13, MP_NONE, OPT_MOD_MEM, FEAT_SSE, h_movlp_store, "movlps"),
	EM(0x13, MP_66, OPT_MOD_MEM, FEAT_SSE2, h_movlp_store, "movlpd"),
	EA(0x14, MP_NONE, FEAT_SSE, h_unpcklps, "unpcklps"),
	EA(0x14, MP_66, FEAT_SSE2, h_unpcklpd, "unpcklpd"),
	EA(0x15, MP_NONE, FEAT_SSE, h_unpckhps, "unpckhps"),
	EA(0x15, MP_66, FEAT_SSE2, h_unpckhpd, "unpckhpd"),
	EM(0x16, MP_NONE, OPT_MOD_MEM, FEAT_SSE, h_movhp_load, "movhps"),
	EM(0x16, MP_NONE, OPT_MOD_REG, FEAT_SSE, h_movlhps, "movlhps"),
	EM(0x16, MP_66, OPT_MOD_MEM, FEAT_SSE2, h_movhp_load, "movhpd"),
	EA(0x16, MP_F3, FEAT_SSE3, h_movshdup, "movshdup"),
	EM(0x17, MP_NONE, OPT_MOD_MEM, FEAT_SSE, h_movhp_store, "movhps"),
	EM(0x17, MP_66, OPT_MOD_MEM, FEAT_SSE2, h_movhp_store, "movhpd"),
	PSPD(0x28, h_mova_load, "mova"),
	PSPD(0x29, h_mova_store, "mova"),
	EM(0x2b, MP_NONE, OPT_MOD_MEM, FEAT_SSE, h_mova_store, "movntps"),
	EM(0x2b, MP_66, OPT_MOD_MEM, FEAT_SSE2, h_mova_store, "movntpd"),
	EM(0x50, MP_NONE, OPT_MOD_REG, FEAT_SSE, h_movmskps, "movmskps"),
	EM(0x50, MP_66, OPT_MOD_REG, FEAT_SSE2, h_movmskpd, "movmskpd"),
	PSPD(0x54, h_andp, "and"),
	PSPD(0x55, h_andnp, "andn"),
	PSPD(0x56, h_orp, "or"),
	PSPD(0x57, h_xorp, "xor"),
	EA(0xc6, MP_NONE, FEAT_SSE, h_shufps, "shufps"),
	EA(0xc6, MP_66, FEAT_SSE2, h_shufpd, "shufpd"),
};

void simd_fp_mov_register(void)
{
	optab_add_many(mov_tab, NELEM(mov_tab));
}
