/*
 * cpu/simd/ops_sse41_int.c — SSSE3 (0F 38 00-1E and 0F 3A 0F PALIGNR, MMX
 * and XMM forms) and the SSE4.1 integer instructions (66 0F 38 10-41,
 * 66 0F 3A 0C-22, 42), plus SSE4.2 PCMPGTQ. The SSE4.1 variable and
 * immediate blends of packed floats (BLENDPS/PD, BLENDVPS/PD) are plain bit
 * selects and live here with PBLENDW/PBLENDVB.
 * SDM Vol. 2 instruction pages; Vol. 2 Appendix A, Tables.
 */
/* Rows of macro invocations (instruction tables) that clang-format cannot
 * lay out stably: the file is kept as written. */
/* clang-format off */
#include "cpu/simd/simd.h"

/* ---- SSSE3 ---- */

static inline void op_pshufb(union xmm *d, const union xmm *s, int n)
{
	union xmm t;
	for (int i = 0; i < n; i++)
		t.b[i] = (s->b[i] & 0x80) ? 0 : d->b[s->b[i] & (n - 1)];
	memcpy(d, &t, (size_t)n);
}

/* Horizontal pair operation on 16-bit (e=2) or 32-bit elements: the low half
 * of the result from dst pairs, the high half from src pairs. kind: 0 add,
 * 1 sub, 2 add saturated, 3 sub saturated. */
SIMD_INLINE void hpair(union xmm *d, const union xmm *s, int n, int e, int kind)
{
	union xmm t;
	int pairs = n / e / 2;
	for (int i = 0; i < pairs; i++) {
		if (e == 2) {
			int a0 = d->sw[2 * i], a1 = d->sw[2 * i + 1];
			int b0 = s->sw[2 * i], b1 = s->sw[2 * i + 1];
			int ra = kind & 1 ? a0 - a1 : a0 + a1, rb = kind & 1 ? b0 - b1 : b0 + b1;
			t.sw[i] = kind & 2 ? sat_s16(ra) : (int16_t)ra;
			t.sw[pairs + i] = kind & 2 ? sat_s16(rb) : (int16_t)rb;
		} else {
			uint32_t a0 = d->d[2 * i], a1 = d->d[2 * i + 1];
			uint32_t b0 = s->d[2 * i], b1 = s->d[2 * i + 1];
			t.d[i] = kind & 1 ? a0 - a1 : a0 + a1;
			t.d[pairs + i] = kind & 1 ? b0 - b1 : b0 + b1;
		}
	}
	memcpy(d, &t, (size_t)n);
}
static inline void op_phaddw(union xmm *d, const union xmm *s, int n) { hpair(d, s, n, 2, 0); }
static inline void op_phaddd(union xmm *d, const union xmm *s, int n) { hpair(d, s, n, 4, 0); }
static inline void op_phaddsw(union xmm *d, const union xmm *s, int n) { hpair(d, s, n, 2, 2); }
static inline void op_phsubw(union xmm *d, const union xmm *s, int n) { hpair(d, s, n, 2, 1); }
static inline void op_phsubd(union xmm *d, const union xmm *s, int n) { hpair(d, s, n, 4, 1); }
static inline void op_phsubsw(union xmm *d, const union xmm *s, int n) { hpair(d, s, n, 2, 3); }

static inline void op_pmaddubsw(union xmm *d, const union xmm *s, int n)
{
	for (int i = 0; i < n / 2; i++)
		d->sw[i] = sat_s16(d->b[2 * i] * s->sb[2 * i] + d->b[2 * i + 1] * s->sb[2 * i + 1]);
}

#define EW(name, field, expr)                                                   \
	static inline void op_##name(union xmm *d, const union xmm *s, int n)   \
	{                                                                       \
		for (int i = 0; i < n / (int)sizeof(d->field[0]); i++) {        \
			__typeof__(d->field[0]) a = d->field[i], b = s->field[i]; \
			(void)a;                                                \
			d->field[i] = (__typeof__(d->field[0]))(expr);          \
		}                                                               \
	}
EW(psignb, sb, b < 0 ? -a : b == 0 ? 0 : a)
EW(psignw, sw, b < 0 ? -a : b == 0 ? 0 : a)
EW(psignd, sd, b < 0 ? -(int64_t)a : b == 0 ? 0 : a)
EW(pmulhrsw, sw, ((((int32_t)a * b) >> 14) + 1) >> 1)
EW(pabsb, sb, b < 0 ? -b : b)
EW(pabsw, sw, b < 0 ? -b : b)
EW(pabsd, sd, b < 0 ? -(int64_t)b : b)
/* SSE4.1 / 4.2 element-wise */
EW(pminsb, sb, a < b ? a : b)
EW(pminsd, sd, a < b ? a : b)
EW(pminuw, w, a < b ? a : b)
EW(pminud, d, a < b ? a : b)
EW(pmaxsb, sb, a > b ? a : b)
EW(pmaxsd, sd, a > b ? a : b)
EW(pmaxuw, w, a > b ? a : b)
EW(pmaxud, d, a > b ? a : b)
EW(pmulld, d, (uint64_t)a * b)
EW(pcmpeqq, q, a == b ? ~0ull : 0)
EW(pcmpgtq, sq, a > b ? -1 : 0)

static inline void op_pmuldq(union xmm *d, const union xmm *s, int n)
{
	d->sq[0] = (int64_t)d->sd[0] * s->sd[0];
	d->sq[1] = (int64_t)d->sd[2] * s->sd[2];
}
static inline void op_packusdw(union xmm *d, const union xmm *s, int n)
{
	union xmm t;
	for (int i = 0; i < 4; i++) {
		t.w[i] = sat_u16(d->sd[i] < 0 ? 0 : d->sd[i] > 65535 ? 65535 : d->sd[i]);
		t.w[4 + i] = sat_u16(s->sd[i] < 0 ? 0 : s->sd[i] > 65535 ? 65535 : s->sd[i]);
	}
	*d = t;
}
static inline void op_phminposuw(union xmm *d, const union xmm *s, int n)
{
	unsigned m = s->w[0], idx = 0;
	for (unsigned i = 1; i < 8; i++)
		if (s->w[i] < m) {
			m = s->w[i];
			idx = i;
		}
	d->q[0] = m | idx << 16;
	d->q[1] = 0;
}

#define BIN(name) \
	static void h_##name(struct cpu *c, const struct insn *in) { vbin(c, in, op_##name, 8); }
BIN(pshufb) BIN(phaddw) BIN(phaddd) BIN(phaddsw) BIN(phsubw) BIN(phsubd) BIN(phsubsw)
BIN(pmaddubsw) BIN(psignb) BIN(psignw) BIN(psignd) BIN(pmulhrsw) BIN(pabsb) BIN(pabsw)
BIN(pabsd) BIN(pminsb) BIN(pminsd) BIN(pminuw) BIN(pminud) BIN(pmaxsb) BIN(pmaxsd)
BIN(pmaxuw) BIN(pmaxud) BIN(pmulld) BIN(pcmpeqq) BIN(pcmpgtq) BIN(pmuldq) BIN(packusdw)
BIN(phminposuw)

/* PALIGNR: (dst:src) >> imm8 bytes, low n bytes kept. */
static void h_palignr(struct cpu *c, const struct insn *in)
{
	unsigned k = (unsigned)(in->imm & 0xff);
	uint8_t cat[32] = { 0 };
	if (in->mp == MP_NONE) {
		mmx_check(c);
		uint64_t s = mmx_src(c, in), d = mmx_get(c, in->reg);
		memcpy(cat, &s, 8);
		memcpy(cat + 8, &d, 8);
		uint64_t r = 0;
		for (unsigned i = 0; i < 8; i++)
			if (i + k < 16)
				r |= (uint64_t)cat[i + k] << (8 * i);
		mmx_enter(c);
		mmx_set(c, in->reg, r);
	} else {
		sse_check(c);
		union xmm s, t;
		xmm_src(c, in, &s, true);
		memcpy(cat, &s, 16);
		memcpy(cat + 16, &c->fpu.xmm[in->reg], 16);
		for (unsigned i = 0; i < 16; i++)
			t.b[i] = i + k < 32 ? cat[i + k] : 0;
		c->fpu.xmm[in->reg] = t;
	}
}

/* ---- SSE4.1: blends ---- */
/* Variable blends take the mask from XMM0's element sign bits. */
SIMD_INLINE void blendv(struct cpu *c, const struct insn *in, int e)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, true);
	union xmm *d = &c->fpu.xmm[in->reg];
	const union xmm *m = &c->fpu.xmm[0];
	for (int i = 0; i < 16; i += e)
		if (m->b[i + e - 1] & 0x80)
			memcpy(&d->b[i], &s.b[i], (size_t)e);
}
static void h_pblendvb(struct cpu *c, const struct insn *in) { blendv(c, in, 1); }
static void h_blendvps(struct cpu *c, const struct insn *in) { blendv(c, in, 4); }
static void h_blendvpd(struct cpu *c, const struct insn *in) { blendv(c, in, 8); }

/* Immediate blends: bit i of imm8 selects src element i. */
SIMD_INLINE void blendi(struct cpu *c, const struct insn *in, int e)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, true);
	union xmm *d = &c->fpu.xmm[in->reg];
	unsigned imm = (unsigned)in->imm;
	for (int i = 0; i < 16 / e; i++)
		if (imm >> i & 1)
			memcpy(&d->b[i * e], &s.b[i * e], (size_t)e);
}
static void h_pblendw(struct cpu *c, const struct insn *in) { blendi(c, in, 2); }
static void h_blendps(struct cpu *c, const struct insn *in) { blendi(c, in, 4); }
static void h_blendpd(struct cpu *c, const struct insn *in) { blendi(c, in, 8); }

/* PTEST: ZF = (dst AND src) == 0, CF = (NOT dst AND src) == 0, AF/OF/PF/SF = 0. */
static void h_ptest(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, true);
	const union xmm *d = &c->fpu.xmm[in->reg];
	uint32_t f = 0;
	if (((d->q[0] & s.q[0]) | (d->q[1] & s.q[1])) == 0)
		f |= F_ZF;
	if (((~d->q[0] & s.q[0]) | (~d->q[1] & s.q[1])) == 0)
		f |= F_CF;
	flags_set(c, f, F_ARITH);
}

/* ---- PMOVSX / PMOVZX: widen the low elements of the source ---- */
SIMD_INLINE void pmovx(struct cpu *c, const struct insn *in, int se, int de, bool sign)
{
	sse_check(c);
	union xmm s, t;
	int cnt = 16 / de;
	xmm_src_low(c, in, &s, (unsigned)(cnt * se));
	for (int i = 0; i < cnt; i++) {
		int64_t v;
		switch (se) {
		case 1:
			v = sign ? s.sb[i] : s.b[i];
			break;
		case 2:
			v = sign ? s.sw[i] : s.w[i];
			break;
		default:
			v = sign ? s.sd[i] : (int64_t)s.d[i];
		}
		switch (de) {
		case 2:
			t.w[i] = (uint16_t)v;
			break;
		case 4:
			t.d[i] = (uint32_t)v;
			break;
		default:
			t.q[i] = (uint64_t)v;
		}
	}
	c->fpu.xmm[in->reg] = t;
}
#define PMOVX(nm, se, de)                                                                 \
	static void h_pmovsx##nm(struct cpu *c, const struct insn *in) { pmovx(c, in, se, de, 1); } \
	static void h_pmovzx##nm(struct cpu *c, const struct insn *in) { pmovx(c, in, se, de, 0); }
PMOVX(bw, 1, 2)
PMOVX(bd, 1, 4)
PMOVX(bq, 1, 8)
PMOVX(wd, 2, 4)
PMOVX(wq, 2, 8)
PMOVX(dq, 4, 8)

/* MOVNTDQA xmm, m128 (aligned load). */
static void h_movntdqa(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_load_mem(c, in, &s, true);
	c->fpu.xmm[in->reg] = s;
}

/* ---- extract / insert (0F 3A 14-17, 20-22) ---- */
/* Destination r/m: a register gets the value zero-extended to 64 bits, memory
 * gets size bytes. The XMM source is ModRM.reg. */
SIMD_INLINE void extract(struct cpu *c, const struct insn *in, unsigned size, unsigned idx)
{
	sse_check(c);
	const union xmm *s = &c->fpu.xmm[in->reg];
	uint64_t v;
	switch (size) {
	case 1:
		v = s->b[idx & 15];
		break;
	case 2:
		v = s->w[idx & 7];
		break;
	case 4:
		v = s->d[idx & 3];
		break;
	default:
		v = s->q[idx & 1];
	}
	if (in->mod == 3)
		c->gpr[in->rm] = v;
	else
		cpu_wr(c, in->seg, insn_ea(c, in), size, v);
}
static void h_pextrb(struct cpu *c, const struct insn *in)
{
	extract(c, in, 1, (unsigned)in->imm);
}
static void h_pextrw_m(struct cpu *c, const struct insn *in)
{
	extract(c, in, 2, (unsigned)in->imm);
}
static void h_pextrdq(struct cpu *c, const struct insn *in)
{
	extract(c, in, (in->pfx & PFX_REXW) ? 8 : 4, (unsigned)in->imm);
}
static void h_extractps(struct cpu *c, const struct insn *in)
{
	extract(c, in, 4, (unsigned)in->imm);
}

/* Source r/m: register = low bytes of the GPR, memory = size bytes. */
SIMD_INLINE uint64_t ins_src(struct cpu *c, const struct insn *in, unsigned size)
{
	if (in->mod == 3)
		return c->gpr[in->rm];
	return cpu_rd(c, in->seg, insn_ea(c, in), size);
}
static void h_pinsrb(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	uint8_t v = (uint8_t)ins_src(c, in, 1);
	c->fpu.xmm[in->reg].b[in->imm & 15] = v;
}
static void h_pinsrdq(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	if (in->pfx & PFX_REXW) {
		uint64_t v = ins_src(c, in, 8);
		c->fpu.xmm[in->reg].q[in->imm & 1] = v;
	} else {
		uint32_t v = (uint32_t)ins_src(c, in, 4);
		c->fpu.xmm[in->reg].d[in->imm & 3] = v;
	}
}
/* INSERTPS: imm8[7:6] source element (register form), [5:4] destination
 * element, [3:0] elements to zero. */
static void h_insertps(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	unsigned imm = (unsigned)in->imm & 0xff;
	uint32_t v;
	if (in->mod == 3)
		v = c->fpu.xmm[in->rm].d[imm >> 6];
	else
		v = cpu_rd32(c, in->seg, insn_ea(c, in));
	union xmm *d = &c->fpu.xmm[in->reg];
	d->d[(imm >> 4) & 3] = v;
	for (int i = 0; i < 4; i++)
		if (imm >> i & 1)
			d->d[i] = 0;
}

/* MPSADBW: eight sums of absolute differences of a sliding 4-byte window of
 * dst (offset imm8[2]*4) against a 4-byte block of src (offset imm8[1:0]*4). */
static void h_mpsadbw(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s, t;
	xmm_src(c, in, &s, true);
	const union xmm *d = &c->fpu.xmm[in->reg];
	unsigned imm = (unsigned)in->imm;
	unsigned doff = (imm >> 2 & 1) * 4, soff = (imm & 3) * 4;
	for (unsigned i = 0; i < 8; i++) {
		unsigned sum = 0;
		for (unsigned j = 0; j < 4; j++) {
			int x = d->b[doff + i + j] - s.b[soff + j];
			sum += (unsigned)(x < 0 ? -x : x);
		}
		t.w[i] = (uint16_t)sum;
	}
	c->fpu.xmm[in->reg] = t;
}

#define E38(o, p, f, fn, nm) \
	{ (uint16_t)(0x200 | (o)), p, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, f, fn, nm }
#define E3A(o, p, f, fn, nm) \
	{ (uint16_t)(0x300 | (o)), p, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, f, fn, nm }
#define S3(o, fn, nm) E38(o, MP_NONE, FEAT_SSSE3, fn, nm), E38(o, MP_66, FEAT_SSSE3, fn, nm)
#define S41(o, fn, nm) E38(o, MP_66, FEAT_SSE41, fn, nm)

static const struct optab_entry s41_tab[] = {
	S3(0x00, h_pshufb, "pshufb"),
	S3(0x01, h_phaddw, "phaddw"),
	S3(0x02, h_phaddd, "phaddd"),
	S3(0x03, h_phaddsw, "phaddsw"),
	S3(0x04, h_pmaddubsw, "pmaddubsw"),
	S3(0x05, h_phsubw, "phsubw"),
	S3(0x06, h_phsubd, "phsubd"),
	S3(0x07, h_phsubsw, "phsubsw"),
	S3(0x08, h_psignb, "psignb"),
	S3(0x09, h_psignw, "psignw"),
	S3(0x0a, h_psignd, "psignd"),
	S3(0x0b, h_pmulhrsw, "pmulhrsw"),
	S3(0x1c, h_pabsb, "pabsb"),
	S3(0x1d, h_pabsw, "pabsw"),
	S3(0x1e, h_pabsd, "pabsd"),
	E3A(0x0f, MP_NONE, FEAT_SSSE3, h_palignr, "palignr"),
	E3A(0x0f, MP_66, FEAT_SSSE3, h_palignr, "palignr"),
	S41(0x10, h_pblendvb, "pblendvb"),
	S41(0x14, h_blendvps, "blendvps"),
	S41(0x15, h_blendvpd, "blendvpd"),
	S41(0x17, h_ptest, "ptest"),
	S41(0x20, h_pmovsxbw, "pmovsxbw"),
	S41(0x21, h_pmovsxbd, "pmovsxbd"),
	S41(0x22, h_pmovsxbq, "pmovsxbq"),
	S41(0x23, h_pmovsxwd, "pmovsxwd"),
	S41(0x24, h_pmovsxwq, "pmovsxwq"),
	S41(0x25, h_pmovsxdq, "pmovsxdq"),
	S41(0x28, h_pmuldq, "pmuldq"),
	S41(0x29, h_pcmpeqq, "pcmpeqq"),
	{ 0x22a, MP_66, OPT_ANY, OPT_ANY, OPT_MOD_MEM, 0, OPT_ANY, 0, FEAT_SSE41, h_movntdqa,
	  "movntdqa" },
	S41(0x2b, h_packusdw, "packusdw"),
	S41(0x30, h_pmovzxbw, "pmovzxbw"),
	S41(0x31, h_pmovzxbd, "pmovzxbd"),
	S41(0x32, h_pmovzxbq, "pmovzxbq"),
	S41(0x33, h_pmovzxwd, "pmovzxwd"),
	S41(0x34, h_pmovzxwq, "pmovzxwq"),
	S41(0x35, h_pmovzxdq, "pmovzxdq"),
	E38(0x37, MP_66, FEAT_SSE42, h_pcmpgtq, "pcmpgtq"),
	S41(0x38, h_pminsb, "pminsb"),
	S41(0x39, h_pminsd, "pminsd"),
	S41(0x3a, h_pminuw, "pminuw"),
	S41(0x3b, h_pminud, "pminud"),
	S41(0x3c, h_pmaxsb, "pmaxsb"),
	S41(0x3d, h_pmaxsd, "pmaxsd"),
	S41(0x3e, h_pmaxuw, "pmaxuw"),
	S41(0x3f, h_pmaxud, "pmaxud"),
	S41(0x40, h_pmulld, "pmulld"),
	S41(0x41, h_phminposuw, "phminposuw"),
	E3A(0x0c, MP_66, FEAT_SSE41, h_blendps, "blendps"),
	E3A(0x0d, MP_66, FEAT_SSE41, h_blendpd, "blendpd"),
	E3A(0x0e, MP_66, FEAT_SSE41, h_pblendw, "pblendw"),
	E3A(0x14, MP_66, FEAT_SSE41, h_pextrb, "pextrb"),
	E3A(0x15, MP_66, FEAT_SSE41, h_pextrw_m, "pextrw"),
	E3A(0x16, MP_66, FEAT_SSE41, h_pextrdq, "pextrd"),
	E3A(0x17, MP_66, FEAT_SSE41, h_extractps, "extractps"),
	E3A(0x20, MP_66, FEAT_SSE41, h_pinsrb, "pinsrb"),
	E3A(0x21, MP_66, FEAT_SSE41, h_insertps, "insertps"),
	E3A(0x22, MP_66, FEAT_SSE41, h_pinsrdq, "pinsrd"),
	E3A(0x42, MP_66, FEAT_SSE41, h_mpsadbw, "mpsadbw"),
};

void simd_ssse3_sse41_register(void)
{
	optab_add_many(s41_tab, NELEM(s41_tab));
}
