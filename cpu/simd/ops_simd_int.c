/*
 * cpu/simd/ops_simd_int.c — MMX and SSE2 integer instructions (0F 60-7F,
 * 0F C3-C5, 0F D1-FF): arithmetic, compares, logic, pack/unpack, shifts,
 * shuffles, moves, non-temporal stores, masked moves. Owns
 * ops_simd_int_register(), which also registers the SSSE3/SSE4.1
 * (ops_sse41_int.c), SSE4.2 string (ops_sse42_str.c) and AES/PCLMUL
 * (ops_aes.c) tables.
 *
 * One element-wise engine (vbin) serves every two-operand form: with no
 * mandatory prefix the operands are MMX registers (64 bits), with 66 they are
 * XMM registers (128 bits, aligned memory). Each operation is a small function
 * over n bytes, inlined into its handler. SDM Vol. 2 instruction pages, Vol. 2
 * Appendix A opcode maps.
 */
/* Rows of macro invocations (instruction tables) that clang-format cannot
 * lay out stably: the file is kept as written. */
/* clang-format off */
#include "cpu/simd/simd.h"

/* Element-wise operation: for each element, d = expr(a = d elem, b = s elem). */
#define EW(name, field, expr)                                                   \
	static inline void op_##name(union xmm *d, const union xmm *s, int n)   \
	{                                                                       \
		for (int i = 0; i < n / (int)sizeof(d->field[0]); i++) {        \
			__typeof__(d->field[0]) a = d->field[i], b = s->field[i]; \
			d->field[i] = (__typeof__(d->field[0]))(expr);          \
		}                                                               \
	}

EW(paddb, b, a + b)
EW(paddw, w, a + b)
EW(paddd, d, a + b)
EW(paddq, q, a + b)
EW(psubb, b, a - b)
EW(psubw, w, a - b)
EW(psubd, d, a - b)
EW(psubq, q, a - b)
EW(paddsb, sb, sat_s8(a + b))
EW(paddsw, sw, sat_s16(a + b))
EW(paddusb, b, sat_u8(a + b))
EW(paddusw, w, sat_u16(a + b))
EW(psubsb, sb, sat_s8(a - b))
EW(psubsw, sw, sat_s16(a - b))
EW(psubusb, b, sat_u8(a - b))
EW(psubusw, w, sat_u16(a - b))
EW(pcmpeqb, b, a == b ? 0xff : 0)
EW(pcmpeqw, w, a == b ? 0xffff : 0)
EW(pcmpeqd, d, a == b ? 0xffffffffu : 0)
EW(pcmpgtb, sb, a > b ? -1 : 0)
EW(pcmpgtw, sw, a > b ? -1 : 0)
EW(pcmpgtd, sd, a > b ? -1 : 0)
EW(pand, q, a & b)
EW(pandn, q, ~a & b)
EW(por, q, a | b)
EW(pxor, q, a ^ b)
EW(pmullw, w, (uint32_t)a * b)
EW(pmulhw, sw, ((int32_t)a * b) >> 16)
EW(pmulhuw, w, ((uint32_t)a * b) >> 16)
EW(pavgb, b, ((unsigned)a + b + 1) >> 1)
EW(pavgw, w, ((unsigned)a + b + 1) >> 1)
EW(pminub, b, a < b ? a : b)
EW(pmaxub, b, a > b ? a : b)
EW(pminsw, sw, a < b ? a : b)
EW(pmaxsw, sw, a > b ? a : b)

static inline void op_pmuludq(union xmm *d, const union xmm *s, int n)
{
	for (int i = 0; i < n / 8; i++)
		d->q[i] = (uint64_t)d->d[2 * i] * s->d[2 * i];
}

static inline void op_pmaddwd(union xmm *d, const union xmm *s, int n)
{
	for (int i = 0; i < n / 4; i++) {
		int64_t v = (int32_t)d->sw[2 * i] * s->sw[2 * i] +
			    (int64_t)((int32_t)d->sw[2 * i + 1] * s->sw[2 * i + 1]);
		d->d[i] = (uint32_t)v;
	}
}

static inline void op_psadbw(union xmm *d, const union xmm *s, int n)
{
	for (int h = 0; h < n / 8; h++) {
		unsigned sum = 0;
		for (int i = 0; i < 8; i++) {
			int x = d->b[h * 8 + i] - s->b[h * 8 + i];
			sum += (unsigned)(x < 0 ? -x : x);
		}
		d->q[h] = sum;
	}
}

/* ---- pack / unpack (result built in a temporary) ---- */
static inline void op_packsswb(union xmm *d, const union xmm *s, int n)
{
	union xmm t;
	for (int i = 0; i < n / 2; i++) {
		t.sb[i] = sat_s8(d->sw[i]);
		t.sb[n / 2 + i] = sat_s8(s->sw[i]);
	}
	memcpy(d, &t, (size_t)n);
}
static inline void op_packuswb(union xmm *d, const union xmm *s, int n)
{
	union xmm t;
	for (int i = 0; i < n / 2; i++) {
		t.b[i] = sat_u8(d->sw[i]);
		t.b[n / 2 + i] = sat_u8(s->sw[i]);
	}
	memcpy(d, &t, (size_t)n);
}
static inline void op_packssdw(union xmm *d, const union xmm *s, int n)
{
	union xmm t;
	for (int i = 0; i < n / 4; i++) {
		t.sw[i] = sat_s16(d->sd[i]);
		t.sw[n / 4 + i] = sat_s16(s->sd[i]);
	}
	memcpy(d, &t, (size_t)n);
}

/* Interleave elements of size e from the low (hi=0) or high half. */
SIMD_INLINE void unpck(union xmm *d, const union xmm *s, int n, int e, int hi)
{
	union xmm t = { .q = { 0, 0 } };
	int half = n / 2, cnt = half / e, off = hi ? half : 0;
	for (int i = 0; i < cnt; i++) {
		memcpy(&t.b[2 * i * e], &d->b[off + i * e], (size_t)e);
		memcpy(&t.b[(2 * i + 1) * e], &s->b[off + i * e], (size_t)e);
	}
	memcpy(d, &t, (size_t)n);
}
static inline void op_punpcklbw(union xmm *d, const union xmm *s, int n) { unpck(d, s, n, 1, 0); }
static inline void op_punpcklwd(union xmm *d, const union xmm *s, int n) { unpck(d, s, n, 2, 0); }
static inline void op_punpckldq(union xmm *d, const union xmm *s, int n) { unpck(d, s, n, 4, 0); }
static inline void op_punpcklqdq(union xmm *d, const union xmm *s, int n) { unpck(d, s, n, 8, 0); }
static inline void op_punpckhbw(union xmm *d, const union xmm *s, int n) { unpck(d, s, n, 1, 1); }
static inline void op_punpckhwd(union xmm *d, const union xmm *s, int n) { unpck(d, s, n, 2, 1); }
static inline void op_punpckhdq(union xmm *d, const union xmm *s, int n) { unpck(d, s, n, 4, 1); }
static inline void op_punpckhqdq(union xmm *d, const union xmm *s, int n) { unpck(d, s, n, 8, 1); }

/* ---- shifts: kind 0 = logical right, 1 = arithmetic right, 2 = left ---- */
SIMD_INLINE void vshift(union xmm *d, uint64_t cnt, int kind, int e, int n)
{
	int bits = e * 8;
	if (cnt >= (uint64_t)bits) {
		if (kind != 1) {
			memset(d, 0, (size_t)n);
			return;
		}
		cnt = (uint64_t)bits - 1;
	}
	unsigned k = (unsigned)cnt;
	for (int i = 0; i < n / e; i++) {
		switch (e) {
		case 2:
			d->w[i] = kind == 0 ? (uint16_t)(d->w[i] >> k)
				: kind == 1 ? (uint16_t)(d->sw[i] >> k)
					    : (uint16_t)(d->w[i] << k);
			break;
		case 4:
			d->d[i] = kind == 0 ? d->d[i] >> k
				: kind == 1 ? (uint32_t)(d->sd[i] >> k)
					    : d->d[i] << k;
			break;
		default:
			d->q[i] = kind == 0 ? d->q[i] >> k : d->q[i] << k;
		}
	}
}

/* Shift by the count in the source operand (64 bits; XMM: low quadword of
 * an aligned m128). */
SIMD_INLINE void shift_reg(struct cpu *c, const struct insn *in, int kind, int e)
{
	if (in->mp == MP_NONE) {
		mmx_check(c);
		uint64_t cnt = mmx_src(c, in);
		union xmm d;
		d.q[0] = mmx_get(c, in->reg);
		vshift(&d, cnt, kind, e, 8);
		mmx_enter(c);
		mmx_set(c, in->reg, d.q[0]);
	} else {
		sse_check(c);
		union xmm s;
		xmm_src(c, in, &s, true);
		vshift(&c->fpu.xmm[in->reg], s.q[0], kind, e, 16);
	}
}

/* Shift by imm8 (groups 0F 71/72/73, register in ModRM.rm). */
SIMD_INLINE void shift_imm(struct cpu *c, const struct insn *in, int kind, int e)
{
	uint64_t cnt = in->imm & 0xff;
	if (in->mp == MP_NONE) {
		mmx_check(c);
		union xmm d;
		d.q[0] = mmx_get(c, in->rm);
		vshift(&d, cnt, kind, e, 8);
		mmx_enter(c);
		mmx_set(c, in->rm, d.q[0]);
	} else {
		sse_check(c);
		vshift(&c->fpu.xmm[in->rm], cnt, kind, e, 16);
	}
}

#define SHR(name, kind, e)                                                              \
	static void h_##name(struct cpu *c, const struct insn *in) { shift_reg(c, in, kind, e); } \
	static void h_##name##_i(struct cpu *c, const struct insn *in) { shift_imm(c, in, kind, e); }
SHR(psrlw, 0, 2)
SHR(psrld, 0, 4)
SHR(psrlq, 0, 8)
SHR(psraw, 1, 2)
SHR(psrad, 1, 4)
SHR(psllw, 2, 2)
SHR(pslld, 2, 4)
SHR(psllq, 2, 8)

/* PSRLDQ / PSLLDQ xmm, imm8: byte shifts of the whole register. */
static void h_psrldq(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	unsigned k = (unsigned)(in->imm & 0xff);
	union xmm *d = &c->fpu.xmm[in->rm], t = { .q = { 0, 0 } };
	for (unsigned i = 0; i + k < 16; i++)
		t.b[i] = d->b[i + k];
	*d = t;
}
static void h_pslldq(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	unsigned k = (unsigned)(in->imm & 0xff);
	union xmm *d = &c->fpu.xmm[in->rm], t = { .q = { 0, 0 } };
	for (unsigned i = k; i < 16; i++)
		t.b[i] = d->b[i - k];
	*d = t;
}

/* Handlers of the element-wise forms. */
#define BIN(name) \
	static void h_##name(struct cpu *c, const struct insn *in) { vbin(c, in, op_##name, 8); }
#define BINL(name) \
	static void h_##name(struct cpu *c, const struct insn *in) { vbin(c, in, op_##name, 4); }
BIN(paddb) BIN(paddw) BIN(paddd) BIN(paddq) BIN(psubb) BIN(psubw) BIN(psubd) BIN(psubq)
BIN(paddsb) BIN(paddsw) BIN(paddusb) BIN(paddusw) BIN(psubsb) BIN(psubsw) BIN(psubusb)
BIN(psubusw) BIN(pcmpeqb) BIN(pcmpeqw) BIN(pcmpeqd) BIN(pcmpgtb) BIN(pcmpgtw) BIN(pcmpgtd)
BIN(pand) BIN(pandn) BIN(por) BIN(pxor) BIN(pmullw) BIN(pmulhw) BIN(pmulhuw) BIN(pavgb)
BIN(pavgw) BIN(pminub) BIN(pmaxub) BIN(pminsw) BIN(pmaxsw) BIN(pmuludq) BIN(pmaddwd)
BIN(psadbw) BIN(packsswb) BIN(packuswb) BIN(packssdw)
BINL(punpcklbw) BINL(punpcklwd) BINL(punpckldq)
BIN(punpckhbw) BIN(punpckhwd) BIN(punpckhdq) BIN(punpcklqdq) BIN(punpckhqdq)

/* ---- shuffles ---- */
static void h_pshufw(struct cpu *c, const struct insn *in)
{
	mmx_check(c);
	union xmm s, t;
	s.q[0] = mmx_src(c, in);
	unsigned imm = (unsigned)in->imm;
	for (int i = 0; i < 4; i++)
		t.w[i] = s.w[(imm >> (2 * i)) & 3];
	mmx_enter(c);
	mmx_set(c, in->reg, t.q[0]);
}
static void h_pshufd(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s, t;
	xmm_src(c, in, &s, true);
	unsigned imm = (unsigned)in->imm;
	for (int i = 0; i < 4; i++)
		t.d[i] = s.d[(imm >> (2 * i)) & 3];
	c->fpu.xmm[in->reg] = t;
}
static void h_pshufhw(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s, t;
	xmm_src(c, in, &s, true);
	unsigned imm = (unsigned)in->imm;
	t.q[0] = s.q[0];
	for (int i = 0; i < 4; i++)
		t.w[4 + i] = s.w[4 + ((imm >> (2 * i)) & 3)];
	c->fpu.xmm[in->reg] = t;
}
static void h_pshuflw(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s, t;
	xmm_src(c, in, &s, true);
	unsigned imm = (unsigned)in->imm;
	t.q[1] = s.q[1];
	for (int i = 0; i < 4; i++)
		t.w[i] = s.w[(imm >> (2 * i)) & 3];
	c->fpu.xmm[in->reg] = t;
}

/* ---- PINSRW / PEXTRW / PMOVMSKB ---- */
static void h_pinsrw(struct cpu *c, const struct insn *in)
{
	if (in->mp == MP_NONE) {
		mmx_check(c);
		uint16_t v = (uint16_t)rm_read(c, in, 2);
		union xmm d;
		d.q[0] = mmx_get(c, in->reg);
		d.w[in->imm & 3] = v;
		mmx_enter(c);
		mmx_set(c, in->reg, d.q[0]);
	} else {
		sse_check(c);
		uint16_t v = (uint16_t)rm_read(c, in, 2);
		c->fpu.xmm[in->reg].w[in->imm & 7] = v;
	}
}
static void h_pextrw(struct cpu *c, const struct insn *in)
{
	uint16_t v;
	if (in->mp == MP_NONE) {
		mmx_check(c);
		union xmm s;
		s.q[0] = mmx_get(c, in->rm);
		v = s.w[in->imm & 3];
		mmx_enter(c);
	} else {
		sse_check(c);
		v = c->fpu.xmm[in->rm].w[in->imm & 7];
	}
	c->gpr[in->reg] = v; /* zero-extended to r32/r64 */
}
static void h_pmovmskb(struct cpu *c, const struct insn *in)
{
	uint32_t m = 0;
	if (in->mp == MP_NONE) {
		mmx_check(c);
		union xmm s;
		s.q[0] = mmx_get(c, in->rm);
		for (int i = 0; i < 8; i++)
			m |= (uint32_t)(s.b[i] >> 7) << i;
		mmx_enter(c);
	} else {
		sse_check(c);
		const union xmm *s = &c->fpu.xmm[in->rm];
		for (int i = 0; i < 16; i++)
			m |= (uint32_t)(s->b[i] >> 7) << i;
	}
	c->gpr[in->reg] = m;
}

/* ---- MOVD / MOVQ ---- */
static inline unsigned movd_size(const struct insn *in)
{
	return (in->pfx & PFX_REXW) ? 8 : 4;
}
/* 0F 6E: MOVD/MOVQ mm, r/m32/64 */
static void h_movd_mm_rm(struct cpu *c, const struct insn *in)
{
	mmx_check(c);
	uint64_t v = rm_read(c, in, movd_size(in));
	mmx_enter(c);
	mmx_set(c, in->reg, v);
}
/* 66 0F 6E: MOVD/MOVQ xmm, r/m32/64 (zero-extends to 128 bits) */
static void h_movd_xmm_rm(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	uint64_t v = rm_read(c, in, movd_size(in));
	c->fpu.xmm[in->reg].q[0] = v;
	c->fpu.xmm[in->reg].q[1] = 0;
}
/* 0F 7E: MOVD/MOVQ r/m32/64, mm */
static void h_movd_rm_mm(struct cpu *c, const struct insn *in)
{
	mmx_check(c);
	rm_write(c, in, movd_size(in), mmx_get(c, in->reg));
	mmx_enter(c);
}
/* 66 0F 7E: MOVD/MOVQ r/m32/64, xmm */
static void h_movd_rm_xmm(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	rm_write(c, in, movd_size(in), c->fpu.xmm[in->reg].q[0]);
}
/* F3 0F 7E: MOVQ xmm, xmm/m64 */
static void h_movq_xmm_load(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src_low(c, in, &s, 8);
	c->fpu.xmm[in->reg].q[0] = s.q[0];
	c->fpu.xmm[in->reg].q[1] = 0;
}
/* 66 0F D6: MOVQ xmm/m64, xmm */
static void h_movq_xmm_store(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	uint64_t v = c->fpu.xmm[in->reg].q[0];
	if (in->mod == 3) {
		c->fpu.xmm[in->rm].q[0] = v;
		c->fpu.xmm[in->rm].q[1] = 0;
	} else {
		cpu_wr64(c, in->seg, insn_ea(c, in), v);
	}
}
/* F3 0F D6: MOVQ2DQ xmm, mm */
static void h_movq2dq(struct cpu *c, const struct insn *in)
{
	sse_mmx_check(c);
	c->fpu.xmm[in->reg].q[0] = mmx_get(c, in->rm);
	c->fpu.xmm[in->reg].q[1] = 0;
	mmx_enter(c);
}
/* F2 0F D6: MOVDQ2Q mm, xmm */
static void h_movdq2q(struct cpu *c, const struct insn *in)
{
	sse_mmx_check(c);
	uint64_t v = c->fpu.xmm[in->rm].q[0];
	mmx_enter(c);
	mmx_set(c, in->reg, v);
}
/* 0F 6F: MOVQ mm, mm/m64 */
static void h_movq_mm_load(struct cpu *c, const struct insn *in)
{
	mmx_check(c);
	uint64_t v = mmx_src(c, in);
	mmx_enter(c);
	mmx_set(c, in->reg, v);
}
/* 0F 7F: MOVQ mm/m64, mm; 0F E7: MOVNTQ m64, mm */
static void h_movq_mm_store(struct cpu *c, const struct insn *in)
{
	mmx_check(c);
	uint64_t v = mmx_get(c, in->reg);
	if (in->mod == 3) {
		mmx_enter(c);
		mmx_set(c, in->rm, v);
	} else {
		cpu_wr64(c, in->seg, insn_ea(c, in), v);
		mmx_enter(c);
	}
}
/* 66 0F 6F / F3 0F 6F: MOVDQA / MOVDQU load; F2 0F F0 LDDQU */
static void h_movdqa_load(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, true);
	c->fpu.xmm[in->reg] = s;
}
static void h_movdqu_load(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	union xmm s;
	xmm_src(c, in, &s, false);
	c->fpu.xmm[in->reg] = s;
}
/* 66 0F 7F / F3 0F 7F: MOVDQA / MOVDQU store; 66 0F E7 MOVNTDQ */
static void h_movdqa_store(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	if (in->mod == 3)
		c->fpu.xmm[in->rm] = c->fpu.xmm[in->reg];
	else
		xmm_store_mem(c, in, &c->fpu.xmm[in->reg], true);
}
static void h_movdqu_store(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	if (in->mod == 3)
		c->fpu.xmm[in->rm] = c->fpu.xmm[in->reg];
	else
		xmm_store_mem(c, in, &c->fpu.xmm[in->reg], false);
}
/* 0F C3: MOVNTI m32/m64, r32/r64 (an ordinary GPR store to an emulator) */
static void h_movnti(struct cpu *c, const struct insn *in)
{
	unsigned sz = (in->pfx & PFX_REXW) ? 8 : 4;
	cpu_wr(c, in->seg, insn_ea(c, in), sz, reg_get(c, in->reg, (int)sz));
}

/*
 * MASKMOVQ / MASKMOVDQU: store the bytes of reg selected by the sign bits of
 * rm to DS:rDI (segment overridable). Faults are checked for the whole
 * operand first so nothing is written if any part faults; with an all-zero
 * mask nothing is accessed (the SDM leaves exceptions then model-specific).
 */
static void maskmov(struct cpu *c, const struct insn *in, const union xmm *v, const union xmm *m,
		    unsigned n)
{
	uint64_t off = c->gpr[R_DI];
	if (in->asz == 4)
		off = (uint32_t)off;
	else if (in->asz == 2)
		off = (uint16_t)off;
	unsigned any = 0;
	for (unsigned i = 0; i < n; i++)
		any |= m->b[i] & 0x80;
	if (!any)
		return;
	cpu_probe_write(c, in->seg, off, n);
	for (unsigned i = 0; i < n; i++)
		if (m->b[i] & 0x80)
			cpu_wr8(c, in->seg, off + i, v->b[i]);
}
static void h_maskmovq(struct cpu *c, const struct insn *in)
{
	mmx_check(c);
	union xmm v, m;
	v.q[0] = mmx_get(c, in->reg);
	m.q[0] = mmx_get(c, in->rm);
	maskmov(c, in, &v, &m, 8);
	mmx_enter(c);
}
static void h_maskmovdqu(struct cpu *c, const struct insn *in)
{
	sse_check(c);
	maskmov(c, in, &c->fpu.xmm[in->reg], &c->fpu.xmm[in->rm], 16);
}

/* ---- registration ---- */
#define ENTM(o, p, md, f, fn, nm) \
	{ (uint16_t)(0x100 | (o)), p, OPT_ANY, OPT_ANY, md, 0, OPT_ANY, 0, f, fn, nm }
#define ENT(o, p, f, fn, nm) ENTM(o, p, OPT_MOD_ANY, f, fn, nm)
/* MMX form (feature mf) and SSE2 XMM form of one handler. */
#define MX(o, mf, fn, nm) ENT(o, MP_NONE, mf, fn, nm), ENT(o, MP_66, FEAT_SSE2, fn, nm)
#define GRP(o, r, p, f, fn, nm) \
	{ (uint16_t)(0x100 | (o)), p, r, OPT_ANY, OPT_MOD_REG, 0, OPT_ANY, 0, f, fn, nm }

static const struct optab_entry int_tab[] = {
	MX(0x60, FEAT_MMX, h_punpcklbw, "punpcklbw"),
	MX(0x61, FEAT_MMX, h_punpcklwd, "punpcklwd"),
	MX(0x62, FEAT_MMX, h_punpckldq, "punpckldq"),
	MX(0x63, FEAT_MMX, h_packsswb, "packsswb"),
	MX(0x64, FEAT_MMX, h_pcmpgtb, "pcmpgtb"),
	MX(0x65, FEAT_MMX, h_pcmpgtw, "pcmpgtw"),
	MX(0x66, FEAT_MMX, h_pcmpgtd, "pcmpgtd"),
	MX(0x67, FEAT_MMX, h_packuswb, "packuswb"),
	MX(0x68, FEAT_MMX, h_punpckhbw, "punpckhbw"),
	MX(0x69, FEAT_MMX, h_punpckhwd, "punpckhwd"),
	MX(0x6a, FEAT_MMX, h_punpckhdq, "punpckhdq"),
	MX(0x6b, FEAT_MMX, h_packssdw, "packssdw"),
	ENT(0x6c, MP_66, FEAT_SSE2, h_punpcklqdq, "punpcklqdq"),
	ENT(0x6d, MP_66, FEAT_SSE2, h_punpckhqdq, "punpckhqdq"),
	ENT(0x6e, MP_NONE, FEAT_MMX, h_movd_mm_rm, "movd"),
	ENT(0x6e, MP_66, FEAT_SSE2, h_movd_xmm_rm, "movd"),
	ENT(0x6f, MP_NONE, FEAT_MMX, h_movq_mm_load, "movq"),
	ENT(0x6f, MP_66, FEAT_SSE2, h_movdqa_load, "movdqa"),
	ENT(0x6f, MP_F3, FEAT_SSE2, h_movdqu_load, "movdqu"),
	ENT(0x70, MP_NONE, FEAT_SSE, h_pshufw, "pshufw"),
	ENT(0x70, MP_66, FEAT_SSE2, h_pshufd, "pshufd"),
	ENT(0x70, MP_F3, FEAT_SSE2, h_pshufhw, "pshufhw"),
	ENT(0x70, MP_F2, FEAT_SSE2, h_pshuflw, "pshuflw"),
	GRP(0x71, 2, MP_NONE, FEAT_MMX, h_psrlw_i, "psrlw"),
	GRP(0x71, 4, MP_NONE, FEAT_MMX, h_psraw_i, "psraw"),
	GRP(0x71, 6, MP_NONE, FEAT_MMX, h_psllw_i, "psllw"),
	GRP(0x71, 2, MP_66, FEAT_SSE2, h_psrlw_i, "psrlw"),
	GRP(0x71, 4, MP_66, FEAT_SSE2, h_psraw_i, "psraw"),
	GRP(0x71, 6, MP_66, FEAT_SSE2, h_psllw_i, "psllw"),
	GRP(0x72, 2, MP_NONE, FEAT_MMX, h_psrld_i, "psrld"),
	GRP(0x72, 4, MP_NONE, FEAT_MMX, h_psrad_i, "psrad"),
	GRP(0x72, 6, MP_NONE, FEAT_MMX, h_pslld_i, "pslld"),
	GRP(0x72, 2, MP_66, FEAT_SSE2, h_psrld_i, "psrld"),
	GRP(0x72, 4, MP_66, FEAT_SSE2, h_psrad_i, "psrad"),
	GRP(0x72, 6, MP_66, FEAT_SSE2, h_pslld_i, "pslld"),
	GRP(0x73, 2, MP_NONE, FEAT_MMX, h_psrlq_i, "psrlq"),
	GRP(0x73, 6, MP_NONE, FEAT_MMX, h_psllq_i, "psllq"),
	GRP(0x73, 2, MP_66, FEAT_SSE2, h_psrlq_i, "psrlq"),
	GRP(0x73, 3, MP_66, FEAT_SSE2, h_psrldq, "psrldq"),
	GRP(0x73, 6, MP_66, FEAT_SSE2, h_psllq_i, "psllq"),
	GRP(0x73, 7, MP_66, FEAT_SSE2, h_pslldq, "pslldq"),
	MX(0x74, FEAT_MMX, h_pcmpeqb, "pcmpeqb"),
	MX(0x75, FEAT_MMX, h_pcmpeqw, "pcmpeqw"),
	MX(0x76, FEAT_MMX, h_pcmpeqd, "pcmpeqd"),
	ENT(0x7e, MP_NONE, FEAT_MMX, h_movd_rm_mm, "movd"),
	ENT(0x7e, MP_66, FEAT_SSE2, h_movd_rm_xmm, "movd"),
	ENT(0x7e, MP_F3, FEAT_SSE2, h_movq_xmm_load, "movq"),
	ENT(0x7f, MP_NONE, FEAT_MMX, h_movq_mm_store, "movq"),
	ENT(0x7f, MP_66, FEAT_SSE2, h_movdqa_store, "movdqa"),
	ENT(0x7f, MP_F3, FEAT_SSE2, h_movdqu_store, "movdqu"),
	ENTM(0xc3, MP_NONE, OPT_MOD_MEM, FEAT_SSE2, h_movnti, "movnti"),
	ENT(0xc4, MP_NONE, FEAT_SSE, h_pinsrw, "pinsrw"),
	ENT(0xc4, MP_66, FEAT_SSE2, h_pinsrw, "pinsrw"),
	ENTM(0xc5, MP_NONE, OPT_MOD_REG, FEAT_SSE, h_pextrw, "pextrw"),
	ENTM(0xc5, MP_66, OPT_MOD_REG, FEAT_SSE2, h_pextrw, "pextrw"),
	MX(0xd1, FEAT_MMX, h_psrlw, "psrlw"),
	MX(0xd2, FEAT_MMX, h_psrld, "psrld"),
	MX(0xd3, FEAT_MMX, h_psrlq, "psrlq"),
	MX(0xd4, FEAT_SSE2, h_paddq, "paddq"),
	MX(0xd5, FEAT_MMX, h_pmullw, "pmullw"),
	ENT(0xd6, MP_66, FEAT_SSE2, h_movq_xmm_store, "movq"),
	ENTM(0xd6, MP_F3, OPT_MOD_REG, FEAT_SSE2, h_movq2dq, "movq2dq"),
	ENTM(0xd6, MP_F2, OPT_MOD_REG, FEAT_SSE2, h_movdq2q, "movdq2q"),
	ENTM(0xd7, MP_NONE, OPT_MOD_REG, FEAT_SSE, h_pmovmskb, "pmovmskb"),
	ENTM(0xd7, MP_66, OPT_MOD_REG, FEAT_SSE2, h_pmovmskb, "pmovmskb"),
	MX(0xd8, FEAT_MMX, h_psubusb, "psubusb"),
	MX(0xd9, FEAT_MMX, h_psubusw, "psubusw"),
	MX(0xda, FEAT_SSE, h_pminub, "pminub"),
	MX(0xdb, FEAT_MMX, h_pand, "pand"),
	MX(0xdc, FEAT_MMX, h_paddusb, "paddusb"),
	MX(0xdd, FEAT_MMX, h_paddusw, "paddusw"),
	MX(0xde, FEAT_SSE, h_pmaxub, "pmaxub"),
	MX(0xdf, FEAT_MMX, h_pandn, "pandn"),
	MX(0xe0, FEAT_SSE, h_pavgb, "pavgb"),
	MX(0xe1, FEAT_MMX, h_psraw, "psraw"),
	MX(0xe2, FEAT_MMX, h_psrad, "psrad"),
	MX(0xe3, FEAT_SSE, h_pavgw, "pavgw"),
	MX(0xe4, FEAT_SSE, h_pmulhuw, "pmulhuw"),
	MX(0xe5, FEAT_MMX, h_pmulhw, "pmulhw"),
	ENTM(0xe7, MP_NONE, OPT_MOD_MEM, FEAT_SSE, h_movq_mm_store, "movntq"),
	ENTM(0xe7, MP_66, OPT_MOD_MEM, FEAT_SSE2, h_movdqa_store, "movntdq"),
	MX(0xe8, FEAT_MMX, h_psubsb, "psubsb"),
	MX(0xe9, FEAT_MMX, h_psubsw, "psubsw"),
	MX(0xea, FEAT_SSE, h_pminsw, "pminsw"),
	MX(0xeb, FEAT_MMX, h_por, "por"),
	MX(0xec, FEAT_MMX, h_paddsb, "paddsb"),
	MX(0xed, FEAT_MMX, h_paddsw, "paddsw"),
	MX(0xee, FEAT_SSE, h_pmaxsw, "pmaxsw"),
	MX(0xef, FEAT_MMX, h_pxor, "pxor"),
	ENTM(0xf0, MP_F2, OPT_MOD_MEM, FEAT_SSE3, h_movdqu_load, "lddqu"),
	MX(0xf1, FEAT_MMX, h_psllw, "psllw"),
	MX(0xf2, FEAT_MMX, h_pslld, "pslld"),
	MX(0xf3, FEAT_MMX, h_psllq, "psllq"),
	MX(0xf4, FEAT_SSE2, h_pmuludq, "pmuludq"),
	MX(0xf5, FEAT_MMX, h_pmaddwd, "pmaddwd"),
	MX(0xf6, FEAT_SSE, h_psadbw, "psadbw"),
	ENTM(0xf7, MP_NONE, OPT_MOD_REG, FEAT_SSE, h_maskmovq, "maskmovq"),
	ENTM(0xf7, MP_66, OPT_MOD_REG, FEAT_SSE2, h_maskmovdqu, "maskmovdqu"),
	MX(0xf8, FEAT_MMX, h_psubb, "psubb"),
	MX(0xf9, FEAT_MMX, h_psubw, "psubw"),
	MX(0xfa, FEAT_MMX, h_psubd, "psubd"),
	MX(0xfb, FEAT_SSE2, h_psubq, "psubq"),
	MX(0xfc, FEAT_MMX, h_paddb, "paddb"),
	MX(0xfd, FEAT_MMX, h_paddw, "paddw"),
	MX(0xfe, FEAT_MMX, h_paddd, "paddd"),
};

void ops_simd_int_register(void)
{
	optab_add_many(int_tab, NELEM(int_tab));
	simd_ssse3_sse41_register();
	simd_str_register();
	simd_aes_register();
}
