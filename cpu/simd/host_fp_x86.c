/*
 * cpu/simd/host_fp_x86.c — host_fp.h implemented with the host's own SSE
 * instructions (x86-64 hosts only; needs SSE4.1 on the host for ROUND*).
 *
 * Each call loads the guest's rounding control, FTZ and DAZ into the host
 * MXCSR with every exception masked, executes the same instruction the guest
 * asked for, reads the raised flags back and restores the host MXCSR. The
 * result is therefore the masked response of real hardware, bit for bit.
 *
 * HOST-SPECIFIC: other hosts need a soft-float implementation of host_fp.h
 * (IEEE 754 with x86 NaN rules, DAZ/FTZ, tininess after rounding); until it
 * exists the build stops here with #error.
 */
/* Rows of macro invocations (instruction tables) that clang-format cannot
 * lay out stably: the file is kept as written. */
/* clang-format off */
#if defined(__x86_64__)

#include <stdbool.h>

#include "cpu/simd/host_fp.h"

typedef long long v2di __attribute__((vector_size(16)));

#define MX_KEEP 0xe040u  /* RC (14:13), FTZ (15), DAZ (6) */
#define MX_MASKALL 0x1f80u
#define MX_OE 0x08u
#define MX_UE 0x10u
#define MX_PE 0x20u

static inline uint32_t host_begin(uint32_t guest)
{
	uint32_t old, m = (guest & MX_KEEP) | MX_MASKALL;
	__asm__ volatile("stmxcsr %0" : "=m"(old));
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
	return old;
}

static inline uint32_t host_end(uint32_t old)
{
	uint32_t now;
	__asm__ volatile("stmxcsr %0" : "=m"(now));
	__asm__ volatile("ldmxcsr %0" : : "m"(old));
	return now & 0x3f;
}

#define OP2(ins) __asm__ volatile(ins " %1, %0" : "+x"(dv) : "x"(sv))
#define OPI(ins, i) __asm__ volatile(ins " $" #i ", %1, %0" : "+x"(dv) : "x"(sv))
#define G4(base, ps, ss, pd, sd)   \
	case (base):               \
		OP2(ps);           \
		break;             \
	case (base) + 1:           \
		OP2(ss);           \
		break;             \
	case (base) + 2:           \
		OP2(pd);           \
		break;             \
	case (base) + 3:           \
		OP2(sd);           \
		break;
#define C1(ins, i) \
	case i:    \
		OPI(ins, i); \
		break;
#define C8(ins)                                                                          \
	switch (imm & 7) {                                                               \
		C1(ins, 0) C1(ins, 1) C1(ins, 2) C1(ins, 3) C1(ins, 4) C1(ins, 5) C1(ins, 6) \
		C1(ins, 7)                                                               \
	}
#define C16(ins)                                                                         \
	switch (imm & 15) {                                                              \
		C1(ins, 0) C1(ins, 1) C1(ins, 2) C1(ins, 3) C1(ins, 4) C1(ins, 5) C1(ins, 6) \
		C1(ins, 7) C1(ins, 8) C1(ins, 9) C1(ins, 10) C1(ins, 11) C1(ins, 12)     \
		C1(ins, 13) C1(ins, 14) C1(ins, 15)                                      \
	}

static bool unbounded_flags(int op, const union xmm *d, const union xmm *s, uint32_t mx,
			    uint32_t *out);

uint32_t hfp_vec(int op, union xmm *d, const union xmm *s, unsigned imm, uint32_t mxcsr)
{
	union xmm d0 = *d;
	v2di dv, sv;
	__builtin_memcpy(&dv, d, 16);
	__builtin_memcpy(&sv, s, 16);
	uint32_t old = host_begin(mxcsr);
	switch (op) {
	G4(HFP_ADD, "addps", "addss", "addpd", "addsd")
	G4(HFP_SUB, "subps", "subss", "subpd", "subsd")
	G4(HFP_MUL, "mulps", "mulss", "mulpd", "mulsd")
	G4(HFP_DIV, "divps", "divss", "divpd", "divsd")
	G4(HFP_MIN, "minps", "minss", "minpd", "minsd")
	G4(HFP_MAX, "maxps", "maxss", "maxpd", "maxsd")
	G4(HFP_SQRT, "sqrtps", "sqrtss", "sqrtpd", "sqrtsd")
	case HFP_CMP + HFP_PS:
		C8("cmpps");
		break;
	case HFP_CMP + HFP_SS:
		C8("cmpss");
		break;
	case HFP_CMP + HFP_PD:
		C8("cmppd");
		break;
	case HFP_CMP + HFP_SD:
		C8("cmpsd");
		break;
	case HFP_ROUND + HFP_PS:
		C16("roundps");
		break;
	case HFP_ROUND + HFP_SS:
		C16("roundss");
		break;
	case HFP_ROUND + HFP_PD:
		C16("roundpd");
		break;
	case HFP_ROUND + HFP_SD:
		C16("roundsd");
		break;
	case HFP_ADDSUBPS:
		OP2("addsubps");
		break;
	case HFP_ADDSUBPD:
		OP2("addsubpd");
		break;
	case HFP_HADDPS:
		OP2("haddps");
		break;
	case HFP_HADDPD:
		OP2("haddpd");
		break;
	case HFP_HSUBPS:
		OP2("hsubps");
		break;
	case HFP_HSUBPD:
		OP2("hsubpd");
		break;
	case HFP_CVTPS2PD:
		OP2("cvtps2pd");
		break;
	case HFP_CVTPD2PS:
		OP2("cvtpd2ps");
		break;
	case HFP_CVTSS2SD:
		OP2("cvtss2sd");
		break;
	case HFP_CVTSD2SS:
		OP2("cvtsd2ss");
		break;
	case HFP_CVTDQ2PS:
		OP2("cvtdq2ps");
		break;
	case HFP_CVTPS2DQ:
		OP2("cvtps2dq");
		break;
	case HFP_CVTTPS2DQ:
		OP2("cvttps2dq");
		break;
	case HFP_CVTDQ2PD:
		OP2("cvtdq2pd");
		break;
	case HFP_CVTPD2DQ:
		OP2("cvtpd2dq");
		break;
	case HFP_CVTTPD2DQ:
		OP2("cvttpd2dq");
		break;
	default:
		break;
	}
	uint32_t fl = host_end(old);
	__builtin_memcpy(d, &dv, 16);
	/* Slow path: an unmasked OE/UE was raised (and no unmasked IE/DE/ZE,
	 * which would suppress post-computation flags anyway). */
	uint32_t unm = fl & ~(mxcsr >> 7) & 0x3f;
	if (__builtin_expect((unm & (MX_OE | MX_UE)) && !(unm & 7), 0)) {
		uint32_t fixed;
		if (unbounded_flags(op, &d0, s, mxcsr, &fixed))
			fl = fixed;
	}
	return fl;
}

/*
 * Unmasked overflow/underflow (SDM Vol. 1 §11.5.2.4/5): hardware then rounds
 * the significand with an unbounded exponent and sets PE only if that
 * rounding was inexact, whereas the masked response (infinity/MAX, denormal)
 * is what the run above flagged. For the element-wise ADD/SUB/MUL/DIV family
 * and CVT(P/S)D2(P/S)S, recompute PE per element: the x87 unit with precision
 * control 24/53 bits and the guest's RC rounds exactly that way (its 15-bit
 * exponent never overflows here).
 */
enum { EOP_ADD, EOP_SUB, EOP_MUL, EOP_DIV, EOP_CVT };

/* One asm block per case so the compiler never sees a live x87 stack. */
#define X87_SEQ(ld, opins, A, B)                                                  \
	__asm__ volatile("fnclex\n\tfldcw %1\n\t" ld " %2\n\t" ld " %3\n\t" opins    \
			 "\n\tfnstsw %0\n\tfstp %%st(0)\n\tfstp %%st(0)\n\tfnclex"      \
			 : "=m"(sw) : "m"(cw), "m"(B), "m"(A) : "st", "st(1)")
#define X87_OPS(ld, A, B)                                                         \
	switch (eop) {                                                            \
	case EOP_ADD:                                                             \
		X87_SEQ(ld, "fadd %%st(1), %%st", A, B);                          \
		break;                                                            \
	case EOP_SUB:                                                             \
		X87_SEQ(ld, "fsub %%st(1), %%st", A, B);                          \
		break;                                                            \
	case EOP_MUL:                                                             \
		X87_SEQ(ld, "fmul %%st(1), %%st", A, B);                          \
		break;                                                            \
	case EOP_DIV:                                                             \
		X87_SEQ(ld, "fdiv %%st(1), %%st", A, B);                          \
		break;                                                            \
	default: /* a * 1.0 rounds a to the precision control */                  \
		X87_SEQ(ld, "fld1\n\tfmulp", A, B);                       \
	}

/* Was a (op) b, rounded to 24 (or 53) bits under MXCSR.RC with an unbounded
 * exponent, inexact? st(0) = a, st(1) = b. */
static bool x87_inexact(int eop, bool dbl, uint64_t a, uint64_t b, uint32_t mx)
{
	/* precision control: 53 bits for double results, 24 for single (CVT
	 * rounds a double operand to single) */
	bool p53 = dbl && eop != EOP_CVT;
	uint16_t old, sw = 0, cw = (uint16_t)(0x003f | (p53 ? 0x0200 : 0) | ((mx >> 13) & 3) << 10);
	__asm__ volatile("fnstcw %0" : "=m"(old));
	if (dbl) {
		X87_OPS("fldl", a, b)
	} else {
		uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b;
		X87_OPS("flds", a32, b32)
	}
	__asm__ volatile("fldcw %0" : : "m"(old));
	return sw & 0x20;
}

static inline uint64_t daz(uint64_t v, bool dbl, uint32_t mx)
{
	if (!(mx & 0x40))
		return v;
	if (dbl)
		return (v & 0x7ff0000000000000ull) ? v : v & 0x8000000000000000ull;
	return (v & 0x7f800000u) ? v : v & 0x80000000u;
}

/* Flags of one element computed alone (scalar SS/SD form), with PE fixed
 * for an unmasked OE/UE. */
static uint32_t elem_flags(int eop, bool dbl, uint64_t a, uint64_t b, uint32_t mx)
{
	static const int sop[4] = { HFP_ADD, HFP_SUB, HFP_MUL, HFP_DIV };
	union xmm x = { .q = { a, 0 } }, y = { .q = { b, 0 } };
	int op = eop == EOP_CVT ? HFP_CVTSD2SS : sop[eop] + (dbl ? HFP_SD : HFP_SS);
	uint32_t fl = hfp_vec(op, &x, eop == EOP_CVT ? &x : &y, 0, mx | 0x1f80);
	uint32_t unm = ~(mx >> 7) & (MX_OE | MX_UE);
	if (fl & unm) {
		fl &= ~(uint32_t)MX_PE;
		bool ad = dbl || eop == EOP_CVT; /* a is a double */
		if (x87_inexact(eop, ad, daz(a, ad, mx), daz(b, ad, mx), mx))
			fl |= MX_PE;
	}
	return fl;
}

/* Recompute the flags of op element by element; false if op is not one of
 * the element-wise operations handled here. */
static bool unbounded_flags(int op, const union xmm *d, const union xmm *s, uint32_t mx,
			    uint32_t *out)
{
	uint32_t fl = 0;
	if (op < HFP_MIN) {
		int eop = op / 4, shape = op % 4;
		bool dbl = shape >= HFP_PD;
		int n = shape == HFP_PS ? 4 : shape == HFP_PD ? 2 : 1;
		for (int i = 0; i < n; i++)
			fl |= dbl ? elem_flags(eop, true, d->q[i], s->q[i], mx)
				  : elem_flags(eop, false, d->d[i], s->d[i], mx);
	} else if (op == HFP_ADDSUBPS || op == HFP_ADDSUBPD) {
		bool dbl = op == HFP_ADDSUBPD;
		for (int i = 0; i < (dbl ? 2 : 4); i++)
			fl |= elem_flags(i & 1 ? EOP_ADD : EOP_SUB, dbl, dbl ? d->q[i] : d->d[i],
					 dbl ? s->q[i] : s->d[i], mx);
	} else if (op >= HFP_HADDPS && op <= HFP_HSUBPD) {
		bool dbl = op == HFP_HADDPD || op == HFP_HSUBPD;
		int eop = op >= HFP_HSUBPS ? EOP_SUB : EOP_ADD;
		const union xmm *src[2] = { d, s };
		for (int k = 0; k < 2; k++)
			for (int i = 0; i < (dbl ? 1 : 2); i++)
				fl |= dbl ? elem_flags(eop, true, src[k]->q[0], src[k]->q[1], mx)
					  : elem_flags(eop, false, src[k]->d[2 * i],
						       src[k]->d[2 * i + 1], mx);
	} else if (op == HFP_CVTPD2PS || op == HFP_CVTSD2SS) {
		for (int i = 0; i < (op == HFP_CVTPD2PS ? 2 : 1); i++)
			fl |= elem_flags(EOP_CVT, false, s->q[i], 0, mx);
	} else {
		return false;
	}
	*out = fl;
	return true;
}

uint32_t hfp_comi(int kind, const union xmm *a, const union xmm *b, uint32_t mxcsr,
		  uint32_t *zpc)
{
	v2di av, bv;
	__builtin_memcpy(&av, a, 16);
	__builtin_memcpy(&bv, b, 16);
	uint8_t z, p, cf;
	uint32_t old = host_begin(mxcsr);
	switch (kind & 3) {
	case 0:
		__asm__ volatile("ucomiss %4, %3" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf)
				 : "x"(av), "x"(bv));
		break;
	case 1:
		__asm__ volatile("comiss %4, %3" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf)
				 : "x"(av), "x"(bv));
		break;
	case 2:
		__asm__ volatile("ucomisd %4, %3" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf)
				 : "x"(av), "x"(bv));
		break;
	default:
		__asm__ volatile("comisd %4, %3" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf)
				 : "x"(av), "x"(bv));
	}
	uint32_t fl = host_end(old);
	*zpc = (z ? F_ZF : 0) | (p ? F_PF : 0) | (cf ? F_CF : 0);
	return fl;
}

uint32_t hfp_cvt2si(int kind, const union xmm *s, uint32_t mxcsr, uint64_t *out)
{
	v2di sv;
	__builtin_memcpy(&sv, s, 16);
	uint32_t r32 = 0;
	uint64_t r64 = 0;
	uint32_t old = host_begin(mxcsr);
	switch (kind & 7) {
	case 0:
		__asm__ volatile("cvtss2si %1, %0" : "=r"(r32) : "x"(sv));
		break;
	case 1:
		__asm__ volatile("cvttss2si %1, %0" : "=r"(r32) : "x"(sv));
		break;
	case 2:
		__asm__ volatile("cvtsd2si %1, %0" : "=r"(r32) : "x"(sv));
		break;
	case 3:
		__asm__ volatile("cvttsd2si %1, %0" : "=r"(r32) : "x"(sv));
		break;
	case 4:
		__asm__ volatile("cvtss2si %1, %0" : "=r"(r64) : "x"(sv));
		break;
	case 5:
		__asm__ volatile("cvttss2si %1, %0" : "=r"(r64) : "x"(sv));
		break;
	case 6:
		__asm__ volatile("cvtsd2si %1, %0" : "=r"(r64) : "x"(sv));
		break;
	default:
		__asm__ volatile("cvttsd2si %1, %0" : "=r"(r64) : "x"(sv));
	}
	uint32_t fl = host_end(old);
	*out = (kind & 4) ? r64 : r32;
	return fl;
}

uint32_t hfp_cvtsi(int kind, union xmm *d, uint64_t v, uint32_t mxcsr)
{
	v2di dv;
	__builtin_memcpy(&dv, d, 16);
	uint32_t v32 = (uint32_t)v;
	uint32_t old = host_begin(mxcsr);
	switch (kind & 6) {
	case 0:
		__asm__ volatile("cvtsi2ssl %1, %0" : "+x"(dv) : "r"(v32));
		break;
	case 2:
		__asm__ volatile("cvtsi2sdl %1, %0" : "+x"(dv) : "r"(v32));
		break;
	case 4:
		__asm__ volatile("cvtsi2ssq %1, %0" : "+x"(dv) : "r"(v));
		break;
	default:
		__asm__ volatile("cvtsi2sdq %1, %0" : "+x"(dv) : "r"(v));
	}
	uint32_t fl = host_end(old);
	__builtin_memcpy(d, &dv, 16);
	return fl;
}

#else
#error "cpu/simd/host_fp_x86.c: non-x86-64 host: SSE floating point needs a soft-float host_fp.h"
#endif
