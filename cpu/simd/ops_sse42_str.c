/*
 * cpu/simd/ops_sse42_str.c — SSE4.2 string compares PCMPESTRI, PCMPESTRM,
 * PCMPISTRI, PCMPISTRM (66 0F 3A 60-63), every imm8 mode.
 *
 * Model (SDM Vol. 2 section 4.1 "Instructions that use 128-bit SIMD string
 * processing"): imm8[1:0] element format (ub, uw, sb, sw), imm8[3:2]
 * aggregation (equal any, ranges, equal each, equal ordered), imm8[5:4]
 * polarity, imm8[6] index/mask output selection. Operand A is xmm1 (ModRM.reg),
 * operand B is xmm2/m128 (unaligned memory allowed). Lengths are explicit
 * (|rAX|, |rDX| saturated to the element count) or implicit (first zero
 * element). Invalid elements override the comparison results as in SDM
 * Table 4-7.
 */
#include "cpu/simd/simd.h"

static inline int64_t elem(const union xmm *v, int i, unsigned fmt)
{
	switch (fmt) {
	case 0:
		return v->b[i];
	case 1:
		return v->w[i];
	case 2:
		return v->sb[i];
	default:
		return v->sw[i];
	}
}

static int implicit_len(const union xmm *v, unsigned fmt, int n)
{
	for (int i = 0; i < n; i++)
		if (elem(v, i, fmt) == 0)
			return i;
	return n;
}

static int explicit_len(const struct cpu *c, int r, bool w, int n)
{
	int64_t v = w ? (int64_t)c->gpr[r] : (int64_t)(int32_t)c->gpr[r];
	/* |v| saturated to n; |INT64_MIN| also saturates */
	if (v < 0)
		return v < -(int64_t)n ? n : (int)-v;
	return v > n ? n : (int)v;
}

/* IntRes2 of the comparison (bit j = result for element j of operand B). */
static unsigned pcmpstr_core(const union xmm *a, const union xmm *b, int la, int lb, unsigned imm,
			     int n)
{
	unsigned fmt = imm & 3, agg = (imm >> 2) & 3, pol = (imm >> 4) & 3;
	int64_t ea[16], eb[16];
	for (int i = 0; i < n; i++) {
		ea[i] = elem(a, i, fmt);
		eb[i] = elem(b, i, fmt);
	}
	unsigned res = 0;
	switch (agg) {
	case 0: /* equal any: B[j] equals some valid A[i] */
		for (int j = 0; j < lb; j++)
			for (int i = 0; i < la; i++)
				if (eb[j] == ea[i]) {
					res |= 1u << j;
					break;
				}
		break;
	case 1: /* ranges: A[i] <= B[j] <= A[i+1] for some valid pair */
		for (int j = 0; j < lb; j++)
			for (int i = 0; i + 1 < la; i += 2)
				if (eb[j] >= ea[i] && eb[j] <= ea[i + 1]) {
					res |= 1u << j;
					break;
				}
		break;
	case 2: /* equal each: both invalid -> true, one invalid -> false */
		for (int j = 0; j < n; j++) {
			bool va = j < la, vb = j < lb, r;
			if (va && vb)
				r = ea[j] == eb[j];
			else
				r = !va && !vb;
			res |= (unsigned)r << j;
		}
		break;
	default: /* equal ordered: substring A occurs in B at position j */
		for (int j = 0; j < n; j++) {
			bool r = true;
			for (int k = 0; k < n - j && r; k++) {
				if (k >= la)
					break; /* A invalid: true */
				if (j + k >= lb)
					r = false; /* A valid, B invalid */
				else
					r = ea[k] == eb[j + k];
			}
			res |= (unsigned)r << j;
		}
	}
	unsigned all = (1u << n) - 1;
	switch (pol) {
	case 1:
		res ^= all;
		break;
	case 3:
		res ^= (1u << lb) - 1;
		break;
	default:
		break;
	}
	return res & all;
}

/* Common body: compute, then write ECX (index) or XMM0 (mask) and flags. */
static void pcmpstr(struct cpu *c, const struct insn *in, bool explicit_len_form, bool index)
{
	sse_check(c);
	union xmm b;
	xmm_src(c, in, &b, false);
	const union xmm *a = &c->fpu.xmm[in->reg];
	unsigned imm = (unsigned)in->imm & 0xff;
	int n = (imm & 1) ? 8 : 16;
	int la, lb;
	if (explicit_len_form) {
		bool w = (in->pfx & PFX_REXW) != 0;
		la = explicit_len(c, R_AX, w, n);
		lb = explicit_len(c, R_DX, w, n);
	} else {
		la = implicit_len(a, imm & 3, n);
		lb = implicit_len(&b, imm & 3, n);
	}
	unsigned res = pcmpstr_core(a, &b, la, lb, imm, n);
	if (index) {
		uint32_t idx;
		if (!res)
			idx = (uint32_t)n;
		else if (imm & 0x40)
			idx = 31u - (uint32_t)__builtin_clz(res);
		else
			idx = (uint32_t)__builtin_ctz(res);
		c->gpr[R_CX] = idx;
	} else {
		union xmm m = { .q = { 0, 0 } };
		if (!(imm & 0x40))
			m.q[0] = res;
		else
			for (int i = 0; i < n; i++)
				if (res >> i & 1) {
					if (n == 16)
						m.b[i] = 0xff;
					else
						m.w[i] = 0xffff;
				}
		c->fpu.xmm[0] = m;
	}
	uint32_t f = 0;
	if (res)
		f |= F_CF;
	if (lb < n)
		f |= F_ZF;
	if (la < n)
		f |= F_SF;
	if (res & 1)
		f |= F_OF;
	flags_set(c, f, F_ARITH);
}

static void h_pcmpestrm(struct cpu *c, const struct insn *in)
{
	pcmpstr(c, in, true, false);
}
static void h_pcmpestri(struct cpu *c, const struct insn *in)
{
	pcmpstr(c, in, true, true);
}
static void h_pcmpistrm(struct cpu *c, const struct insn *in)
{
	pcmpstr(c, in, false, false);
}
static void h_pcmpistri(struct cpu *c, const struct insn *in)
{
	pcmpstr(c, in, false, true);
}

#define E3A(o, fn, nm)                                                                        \
	{                                                                                     \
		(uint16_t)(0x300 | (o)), MP_66, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, \
			FEAT_SSE42, fn, nm                                                    \
	}
static const struct optab_entry str_tab[] = {
	E3A(0x60, h_pcmpestrm, "pcmpestrm"),
	E3A(0x61, h_pcmpestri, "pcmpestri"),
	E3A(0x62, h_pcmpistrm, "pcmpistrm"),
	E3A(0x63, h_pcmpistri, "pcmpistri"),
};

void simd_str_register(void)
{
	optab_add_many(str_tab, NELEM(str_tab));
}
