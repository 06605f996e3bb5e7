/*
 * cpu/simd/ops_simd_fp.c — SSE/SSE2/SSE3/SSE4.1 floating-point arithmetic:
 * ADD/SUB/MUL/DIV/MIN/MAX/SQRT (PS/SS/PD/SD), RCP/RSQRT (PS/SS), CMPcc,
 * (U)COMIS*, every conversion (incl. the MMX forms), ADDSUB/HADD/HSUB,
 * ROUND*, DPPS/DPPD. Owns ops_simd_fp_register(), which also registers the
 * moves/shuffles/logic table of ops_sse_mov.c.
 *
 * IEEE results come from host_fp.h (computed under the guest MXCSR with all
 * exceptions masked); this file does the operand fetch, the MXCSR exception
 * rules (fp_raise, SDM Vol. 1 11.5) and the commit, so a faulting
 * instruction changes nothing but the MXCSR flags.
 */
#include <math.h>

#include "cpu/simd/host_fp.h"
#include "cpu/simd/simd.h"

/* Operand shapes. */
enum {
	K_PS,
	K_SS,
	K_PD,
	K_SD
};

/* Load the source of a PS/PD (aligned m128) or SS/SD (m32/m64) form. */
SIMD_INLINE void fp_src(struct cpu *c, const struct insn *in, union xmm *s, int kind)
{
	if (kind == K_SS)
		xmm_src_low(c, in, s, 4);
	else if (kind == K_SD)
		xmm_src_low(c, in, s, 8);
	else
		xmm_src(c, in, s, true);
}

/*
 * Host MXCSR for an operation: FTZ only acts while underflow is masked (SDM
 * Vol. 1 10.2.3.3), so drop it when the guest unmasked UE.
 */
static inline uint32_t host_mxcsr(uint32_t mx)
{
	if (!(mx & (MXCSR_UE << MXCSR_MASK_SHIFT)))
		mx &= ~(uint32_t)MXCSR_FTZ;
	return mx;
}

/*
 * With underflow unmasked, an exact tiny result also raises UE (SDM Vol. 1
 * 11.5.2.5), which the masked host run does not report: an exact tiny result
 * is a nonzero denormal in the destination. cnt elements of size e (4/8).
 */
static uint32_t tiny_exact(const union xmm *r, int e, int cnt, uint32_t mx)
{
	if (mx & (MXCSR_UE << MXCSR_MASK_SHIFT))
		return 0;
	for (int i = 0; i < cnt; i++) {
		if (e == 4) {
			uint32_t v = r->d[i] & 0x7fffffffu;
			if (v && v < 0x00800000u)
				return MXCSR_UE;
		} else {
			uint64_t v = r->q[i] & 0x7fffffffffffffffull;
			if (v && v < 0x0010000000000000ull)
				return MXCSR_UE;
		}
	}
	return 0;
}

static inline int kind_elems(int kind, int *e)
{
	*e = (kind == K_PS || kind == K_SS) ? 4 : 8;
	return kind == K_PS ? 4 : kind == K_PD ? 2 : 1;
}

/*
 * The engine: dst = hop(dst, src[, imm]). ufk: shape (K_*) of the result if
 * the operation can underflow, else -1.
 */
SIMD_INLINE void fp_op(struct cpu *c, const struct insn *in, int hop, int kind, int ufk)
{
	sse_check(c);
	union xmm s, d;
	fp_src(c, in, &s, kind);
	d = c->fpu.xmm[in->reg];
	uint32_t mx = c->fpu.mxcsr;
	uint32_t fl = hfp_vec(hop, &d, &s, (unsigned)in->imm, host_mxcsr(mx));
	if (ufk >= 0 && !(fl & MXCSR_UE)) {
		int e, cnt = kind_elems(ufk, &e);
		fl |= tiny_exact(&d, e, cnt, mx);
	}
	fp_raise(c, fl);
	c->fpu.xmm[in->reg] = d;
}

/* PS/SS/PD/SD handlers of one operation; uf: 1 = results may underflow. */
#define ARITH1(name, sfx, base, K, uf)                                  \
	static void h_##name##sfx(struct cpu *c, const struct insn *in) \
	{                                                               \
		fp_op(c, in, base + HFP_##K, K_##K, uf ? K_##K : -1);   \
	}
#define ARITH4(name, base, uf)         \
	ARITH1(name, ps, base, PS, uf) \
	ARITH1(name, ss, base, SS, uf) ARITH1(name, pd, base, PD, uf) ARITH1(name, sd, base, SD, uf)
ARITH4(add, HFP_ADD, 1)
ARITH4(sub, HFP_SUB, 1)
ARITH4(mul, HFP_MUL, 1)
ARITH4(div, HFP_DIV, 1)
ARITH4(min, HFP_MIN, 0)
ARITH4(max, HFP_MAX, 0)
ARITH4(sqrt, HFP_SQRT, 0)
ARITH4(cmp, HFP_CMP, 0)
ARITH4(round, HFP_ROUND, 0)

#define OP1(name, hop, kind, ufk)                                  \
	static void h_##name(struct cpu *c, const struct insn *in) \
	{                                                          \
		fp_op(c, in, hop, kind, ufk);                      \
	}
OP1(addsubps, HFP_ADDSUBPS, K_PS, K_PS)
OP1(addsubpd, HFP_ADDSUBPD, K_PD, K_PD)
OP1(haddps, HFP_HADDPS, K_PS, K_PS)
OP1(haddpd, HFP_HADDPD, K_PD, K_PD)
OP1(hsubps, HFP_HSUBPS, K_PS, K_PS)
OP1(hsubpd, HFP_HSUBPD, K_PD, K_PD)
OP1(cvtpd2ps, HFP_CVTPD2PS, K_PD, K_PS) /* m128 */
OP1(cvtss2sd, HFP_CVTSS2SD, K_SS, -1)   /* m32 */
OP1(cvtsd2ss, HFP_CVTSD2SS, K_SD, K_SS) /* m64 */
OP1(cvtdq2ps, HFP_CVTDQ2PS, K_PS, -1)
OP1(cvtps2dq, HFP_CVTPS2DQ, K_PS, -1)
OP1(cvttps2dq, HFP_CVTTPS2DQ, K_PS, -1)
OP1(cvtpd2dq, HFP_CVTPD2DQ, K_PD, -1)
OP1(cvttpd2dq, HFP_CVTTPD2DQ, K_PD, -1)
OP1(cvtps2pd, HFP_CVTPS2PD, K_SD, -1) /* m64: two floats */
OP1(cvtdq2pd, HFP_CVTDQ2PD, K_SD, -1) /* m64: two int32 */

/* ---- RCPPS/RCPSS/RSQRTPS/RSQRTSS ----
 * The SDM only bounds the error (|rel err| <= 1.5 * 2^-12) and Intel and AMD
 * tables differ; nestbox returns the correctly rounded value, which satisfies
 * the bound. Differential tests must mask these results. Denormal inputs act
 * as zero and tiny results flush to zero; no MXCSR flags are raised. */
static uint32_t rcp1(uint32_t x)
{
	uint32_t sign = x & 0x80000000u, mag = x & 0x7fffffffu;
	if (mag > 0x7f800000u)
		return x | 0x00400000u; /* NaN: quieted */
	if (mag < 0x00800000u)
		return sign | 0x7f800000u; /* zero/denormal: infinity */
	if (mag == 0x7f800000u)
		return sign;
	float f;
	memcpy(&f, &x, 4);
	float r = (float)(1.0 / (double)f);
	uint32_t rb;
	memcpy(&rb, &r, 4);
	if ((rb & 0x7fffffffu) < 0x00800000u)
		rb &= 0x80000000u;
	return rb;
}
static uint32_t rsqrt1(uint32_t x)
{
	uint32_t sign = x & 0x80000000u, mag = x & 0x7fffffffu;
	if (mag > 0x7f800000u)
		return x | 0x00400000u;
	if (mag < 0x00800000u)
		return sign | 0x7f800000u;
	if (sign)
		return 0xffc00000u; /* negative: default NaN */
	if (mag == 0x7f800000u)
		return 0;
	float f;
	memcpy(&f, &x, 4);
	float r = (float)(1.0 / sqrt((double)f));
	uint32_t rb;
	memcpy(&rb, &r, 4);
	return rb;
}
SIMD_INLINE void rcp_op(struct cpu *c, const struct insn *in, int kind, bool sq)
{
	sse_check(c);
	union xmm s;
	fp_src(c, in, &s, kind);
	union xmm *d = &c->fpu.xmm[in->reg];
	int cnt = kind == K_PS ? 4 : 1;
	for (int i = 0; i < cnt; i++)
		d->d[i] = sq ? rsqrt1(s.d[i]) : rcp1(s.d[i]);
}
static void h_rcpps(struct cpu *c, const struct insn *in)
{
	rcp_op(c, in, K_PS, false);
}
static void h_rcpss(struct cpu *c, const struct insn *in)
{
	rcp_op(c, in, K_SS, false);
}
static void h_rsqrtps(struct cpu *c, const struct insn *in)
{
	rcp_op(c, in, K_PS, true);
}
static void h_rsqrtss(struct cpu *c, const struct insn *in)
{
	rcp_op(c, in, K_SS, true);
}

/* ---- (U)COMISS / (U)COMISD: ZF/PF/CF, OF/SF/AF cleared ---- */
SIMD_INLINE void comi(struct cpu *c, const struct insn *in, int kind)
{
	sse_check(c);
	union xmm s;
	xmm_src_low(c, in, &s, (kind & 2) ? 8 : 4);
	uint32_t zpc;
	uint32_t fl = hfp_comi(kind, &c->fpu.xmm[in->reg], &s, c->fpu.mxcsr, &zpc);
	fp_raise(c, fl);
	flags_set(c, zpc, F_ARITH);
}
static void h_ucomiss(struct cpu *c, const struct insn *in)
{
	comi(c, in, 0);
}
static void h_comiss(struct cpu *c, const struct insn *in)
{
	comi(c, in, 1);
}
static void h_ucomisd(struct cpu *c, const struct insn *in)
{
	comi(c, in, 2);
}
static void h_comisd(struct cpu *c, const struct insn *in)
{
	comi(c, in, 3);
}

/* ---- scalar <-> integer ---- */
/* CVT(T)SS2SI / CVT(T)SD2SI r32/r64, xmm/m32/m64. kind bits as hfp_cvt2si. */
SIMD_INLINE void cvt2si(struct cpu *c, const struct insn *in, int kind)
{
	sse_check(c);
	union xmm s;
	xmm_src_low(c, in, &s, (kind & 2) ? 8 : 4);
	if (in->pfx & PFX_REXW)
		kind |= 4;
	uint64_t r;
	uint32_t fl = hfp_cvt2si(kind, &s, c->fpu.mxcsr, &r);
	fp_raise(c, fl);
	c->gpr[in->reg] = r; /* r32 results are zero-extended */
}
static void h_cvtss2si(struct cpu *c, const struct insn *in)
{
	cvt2si(c, in, 0);
}
static void h_cvttss2si(struct cpu *c, const struct insn *in)
{
	cvt2si(c, in, 1);
}
static void h_cvtsd2si(struct cpu *c, const struct insn *in)
{
	cvt2si(c, in, 2);
}
static void h_cvttsd2si(struct cpu *c, const struct insn *in)
{
	cvt2si(c, in, 3);
}

/* CVTSI2SS / CVTSI2SD xmm, r/m32/64. */
SIMD_INLINE void cvtsi(struct cpu *c, const struct insn *in, int kind)
{
	sse_check(c);
	bool w = (in->pfx & PFX_REXW) != 0;
	uint64_t v = rm_read(c, in, w ? 8 : 4);
	union xmm d = c->fpu.xmm[in->reg];
	uint32_t fl = hfp_cvtsi(kind | (w ? 4 : 0), &d, v, c->fpu.mxcsr);
	fp_raise(c, fl);
	c->fpu.xmm[in->reg] = d;
}
static void h_cvtsi2ss(struct cpu *c, const struct insn *in)
{
	cvtsi(c, in, 0);
}
static void h_cvtsi2sd(struct cpu *c, const struct insn *in)
{
	cvtsi(c, in, 2);
}

/* ---- conversions with MMX operands ---- */
/* CVTPI2PS xmm, mm/m64: two int32 to the low two floats (MXCSR rounding);
 * CVTPI2PD xmm, mm/m64: exact. A register source switches to MMX state. */
SIMD_INLINE void cvtpi2p(struct cpu *c, const struct insn *in, bool pd)
{
	sse_mmx_check(c);
	union xmm s = { .q = { mmx_src(c, in), 0 } };
	union xmm d = c->fpu.xmm[in->reg], t = d;
	uint32_t fl = hfp_vec(pd ? HFP_CVTDQ2PD : HFP_CVTDQ2PS, &t, &s, 0, c->fpu.mxcsr);
	fp_raise(c, fl);
	if (pd)
		d = t;
	else
		d.q[0] = t.q[0];
	if (in->mod == 3)
		mmx_enter(c);
	c->fpu.xmm[in->reg] = d;
}
static void h_cvtpi2ps(struct cpu *c, const struct insn *in)
{
	cvtpi2p(c, in, false);
}
static void h_cvtpi2pd(struct cpu *c, const struct insn *in)
{
	cvtpi2p(c, in, true);
}

/* CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128. Only the two
 * converted source elements are seen by the host (upper ones zeroed, which
 * convert without flags). */
SIMD_INLINE void cvtp2pi(struct cpu *c, const struct insn *in, int hop, bool pd)
{
	sse_mmx_check(c);
	union xmm s, t = { .q = { 0, 0 } };
	if (pd) {
		xmm_src(c, in, &s, true);
	} else {
		xmm_src_low(c, in, &s, 8);
		s.q[1] = 0;
	}
	uint32_t fl = hfp_vec(hop, &t, &s, 0, c->fpu.mxcsr);
	fp_raise(c, fl);
	mmx_enter(c);
	mmx_set(c, in->reg, t.q[0]);
}
#define P2PI(name, hop, pd)                                        \
	static void h_##name(struct cpu *c, const struct insn *in) \
	{                                                          \
		cvtp2pi(c, in, hop, pd);                           \
	}
P2PI(cvtps2pi, HFP_CVTPS2DQ, false)
P2PI(cvttps2pi, HFP_CVTTPS2DQ, false)
P2PI(cvtpd2pi, HFP_CVTPD2DQ, true)
P2PI(cvttpd2pi, HFP_CVTTPD2DQ, true)

/* ---- DPPS / DPPD (SDM Vol. 2 "DPPS": products of the elements selected by
 * imm8[7:4] (others +0.0), summed pairwise, stored where imm8[3:0] says).
 * Built from host scalar MUL/ADD so rounding and flags match each step. */
static uint32_t sc(int hop, union xmm *a, const union xmm *b, uint32_t mx)
{
	return hfp_vec(hop, a, b, 0, mx);
}
static void h_dpps(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, true);
	const union xmm *d = &c->fpu.xmm[in->reg];
	unsigned imm = (unsigned)in->imm & 0xff;
	uint32_t mx = c->fpu.mxcsr, hmx = host_mxcsr(mx), fl = 0;
	union xmm p[4];
	for (int i = 0; i < 4; i++) {
		p[i].q[0] = p[i].q[1] = 0; /* +0.0 */
		if (imm >> (4 + i) & 1) {
			union xmm b = { .q = { 0, 0 } };
			p[i].d[0] = d->d[i];
			b.d[0] = s.d[i];
			fl |= sc(HFP_MUL + HFP_SS, &p[i], &b, hmx);
			fl |= tiny_exact(&p[i], 4, 1, mx);
		}
	}
	/* Hardware checks unmasked exceptions after each stage: products, the
	 * two pair sums, the final sum (MXCSR keeps earlier stages' flags). */
	fp_raise(c, fl);
	fl = sc(HFP_ADD + HFP_SS, &p[0], &p[1], hmx) | sc(HFP_ADD + HFP_SS, &p[2], &p[3], hmx);
	fl |= tiny_exact(&p[0], 4, 1, mx) | tiny_exact(&p[2], 4, 1, mx);
	fp_raise(c, fl);
	fl = sc(HFP_ADD + HFP_SS, &p[0], &p[2], hmx);
	fl |= tiny_exact(&p[0], 4, 1, mx);
	fp_raise(c, fl);
	union xmm r;
	for (int i = 0; i < 4; i++)
		r.d[i] = (imm >> i & 1) ? p[0].d[0] : 0;
	c->fpu.xmm[in->reg] = r;
}
static void h_dppd(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, true);
	const union xmm *d = &c->fpu.xmm[in->reg];
	unsigned imm = (unsigned)in->imm & 0xff;
	uint32_t mx = c->fpu.mxcsr, hmx = host_mxcsr(mx), fl = 0;
	union xmm p[2];
	for (int i = 0; i < 2; i++) {
		p[i].q[0] = p[i].q[1] = 0;
		if (imm >> (4 + i) & 1) {
			union xmm b = { .q = { s.q[i], 0 } };
			p[i].q[0] = d->q[i];
			fl |= sc(HFP_MUL + HFP_SD, &p[i], &b, hmx);
			fl |= tiny_exact(&p[i], 8, 1, mx);
		}
	}
	fp_raise(c, fl); /* per stage, as DPPS */
	fl = sc(HFP_ADD + HFP_SD, &p[0], &p[1], hmx);
	fl |= tiny_exact(&p[0], 8, 1, mx);
	fp_raise(c, fl);
	union xmm r;
	for (int i = 0; i < 2; i++)
		r.q[i] = (imm >> i & 1) ? p[0].q[0] : 0;
	c->fpu.xmm[in->reg] = r;
}

/* ---- registration ---- */
#define EF(o, p, f, fn, nm)                                                               \
	{                                                                                 \
		(uint16_t)(o), p, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, f, fn, nm \
	}
#define FP4(o, name)                                                         \
	EF(0x100 | (o), MP_NONE, FEAT_SSE, h_##name##ps, #name "ps"),        \
		EF(0x100 | (o), MP_F3, FEAT_SSE, h_##name##ss, #name "ss"),  \
		EF(0x100 | (o), MP_66, FEAT_SSE2, h_##name##pd, #name "pd"), \
		EF(0x100 | (o), MP_F2, FEAT_SSE2, h_##name##sd, #name "sd")

static const struct optab_entry fp_tab[] = {
	EF(0x12a, MP_NONE, FEAT_SSE, h_cvtpi2ps, "cvtpi2ps"),
	EF(0x12a, MP_66, FEAT_SSE2, h_cvtpi2pd, "cvtpi2pd"),
	EF(0x12a, MP_F3, FEAT_SSE, h_cvtsi2ss, "cvtsi2ss"),
	EF(0x12a, MP_F2, FEAT_SSE2, h_cvtsi2sd, "cvtsi2sd"),
	EF(0x12c, MP_NONE, FEAT_SSE, h_cvttps2pi, "cvttps2pi"),
	EF(0x12c, MP_66, FEAT_SSE2, h_cvttpd2pi, "cvttpd2pi"),
	EF(0x12c, MP_F3, FEAT_SSE, h_cvttss2si, "cvttss2si"),
	EF(0x12c, MP_F2, FEAT_SSE2, h_cvttsd2si, "cvttsd2si"),
	EF(0x12d, MP_NONE, FEAT_SSE, h_cvtps2pi, "cvtps2pi"),
	EF(0x12d, MP_66, FEAT_SSE2, h_cvtpd2pi, "cvtpd2pi"),
	EF(0x12d, MP_F3, FEAT_SSE, h_cvtss2si, "cvtss2si"),
	EF(0x12d, MP_F2, FEAT_SSE2, h_cvtsd2si, "cvtsd2si"),
	EF(0x12e, MP_NONE, FEAT_SSE, h_ucomiss, "ucomiss"),
	EF(0x12e, MP_66, FEAT_SSE2, h_ucomisd, "ucomisd"),
	EF(0x12f, MP_NONE, FEAT_SSE, h_comiss, "comiss"),
	EF(0x12f, MP_66, FEAT_SSE2, h_comisd, "comisd"),
	FP4(0x51, sqrt),
	EF(0x152, MP_NONE, FEAT_SSE, h_rsqrtps, "rsqrtps"),
	EF(0x152, MP_F3, FEAT_SSE, h_rsqrtss, "rsqrtss"),
	EF(0x153, MP_NONE, FEAT_SSE, h_rcpps, "rcpps"),
	EF(0x153, MP_F3, FEAT_SSE, h_rcpss, "rcpss"),
	FP4(0x58, add),
	FP4(0x59, mul),
	EF(0x15a, MP_NONE, FEAT_SSE2, h_cvtps2pd, "cvtps2pd"),
	EF(0x15a, MP_66, FEAT_SSE2, h_cvtpd2ps, "cvtpd2ps"),
	EF(0x15a, MP_F3, FEAT_SSE2, h_cvtss2sd, "cvtss2sd"),
	EF(0x15a, MP_F2, FEAT_SSE2, h_cvtsd2ss, "cvtsd2ss"),
	EF(0x15b, MP_NONE, FEAT_SSE2, h_cvtdq2ps, "cvtdq2ps"),
	EF(0x15b, MP_66, FEAT_SSE2, h_cvtps2dq, "cvtps2dq"),
	EF(0x15b, MP_F3, FEAT_SSE2, h_cvttps2dq, "cvttps2dq"),
	FP4(0x5c, sub),
	FP4(0x5d, min),
	FP4(0x5e, div),
	FP4(0x5f, max),
	EF(0x17c, MP_66, FEAT_SSE3, h_haddpd, "haddpd"),
	EF(0x17c, MP_F2, FEAT_SSE3, h_haddps, "haddps"),
	EF(0x17d, MP_66, FEAT_SSE3, h_hsubpd, "hsubpd"),
	EF(0x17d, MP_F2, FEAT_SSE3, h_hsubps, "hsubps"),
	FP4(0xc2, cmp),
	EF(0x1d0, MP_66, FEAT_SSE3, h_addsubpd, "addsubpd"),
	EF(0x1d0, MP_F2, FEAT_SSE3, h_addsubps, "addsubps"),
	EF(0x1e6, MP_66, FEAT_SSE2, h_cvttpd2dq, "cvttpd2dq"),
	EF(0x1e6, MP_F3, FEAT_SSE2, h_cvtdq2pd, "cvtdq2pd"),
	EF(0x1e6, MP_F2, FEAT_SSE2, h_cvtpd2dq, "cvtpd2dq"),
	EF(0x308, MP_66, FEAT_SSE41, h_roundps, "roundps"),
	EF(0x309, MP_66, FEAT_SSE41, h_roundpd, "roundpd"),
	EF(0x30a, MP_66, FEAT_SSE41, h_roundss, "roundss"),
	EF(0x30b, MP_66, FEAT_SSE41, h_roundsd, "roundsd"),
	EF(0x340, MP_66, FEAT_SSE41, h_dpps, "dpps"),
	EF(0x341, MP_66, FEAT_SSE41, h_dppd, "dppd"),
};

void ops_simd_fp_register(void)
{
	optab_add_many(fp_tab, NELEM(fp_tab));
	simd_fp_mov_register();
}
