/*
 * tests/unit/test_simd_fp.c — unit tests of the SSE floating-point handlers
 * of cpu/simd/: results and MXCSR flags against the host CPU running the same
 * instruction under the same MXCSR (random rounding/FTZ/DAZ, special
 * operands), (U)COMIS* flags, integer conversions incl. REX.W and MMX forms,
 * the RCP/RSQRT error bound, and unmasked exceptions (#XM / #UD, nothing
 * committed).
 */
/* Rows of macro invocations (instruction tables) that clang-format cannot
 * lay out stably: the file is kept as written. */
/* clang-format off */
#define _GNU_SOURCE /* ucontext_t MXCSR for the SIGFPE-based reference */
#include <signal.h>
#include <ucontext.h>

#include "simd_test.h"

/* ---------------- floating point ---------------- */

static uint32_t rnd_f32(void)
{
	static const uint32_t sp[] = {
		0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff,
		0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0xff812345,
		0x3f800000, 0xbf800000, 0x4f000000, 0xcf000000, 0x5f000000, 0x4effffff,
		0x3f000000, 0x3fc00000, 0x40200000, 0x00c00000, 0x0d800000, 0x72800000,
	};
	unsigned r = (unsigned)rnd() % 8;
	if (r < 3)
		return sp[rnd() % (sizeof(sp) / sizeof(sp[0]))];
	if (r < 5) /* moderate exponents: ordinary arithmetic */
		return (uint32_t)(rnd() & 0x807fffffu) | (uint32_t)(110 + rnd() % 40) << 23;
	if (r < 6) /* near under/overflow */
		return (uint32_t)(rnd() & 0x807fffffu) |
		       (uint32_t)(rnd() % 2 ? rnd() % 8 : 250 + rnd() % 5) << 23;
	return (uint32_t)rnd();
}
static uint64_t rnd_f64(void)
{
	static const uint64_t sp[] = {
		0, 0x8000000000000000ull, 1, 0x800fffffffffffffull, 0x0010000000000000ull,
		0x7fefffffffffffffull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
		0x7ff8000000000000ull, 0xfff8000000000001ull, 0x7ff0000000000001ull,
		0x3ff0000000000000ull, 0xbff0000000000000ull, 0x41e0000000000000ull,
		0xc1e0000000000000ull, 0x43e0000000000000ull, 0x3fe0000000000000ull,
		0x3ff8000000000000ull, 0x36a0000000000000ull, 0x47f0000000000000ull,
	};
	unsigned r = (unsigned)rnd() % 8;
	if (r < 3)
		return sp[rnd() % (sizeof(sp) / sizeof(sp[0]))];
	if (r < 5)
		return (rnd() & 0x800fffffffffffffull) | (uint64_t)(1000 + rnd() % 48) << 52;
	if (r < 6)
		return (rnd() & 0x800fffffffffffffull) |
		       (uint64_t)(rnd() % 2 ? rnd() % 8 : 2040 + rnd() % 7) << 52;
	return rnd();
}
/* ty: 0 floats, 1 doubles, 2 int32 */
static void rnd_fp(union xmm *v, int ty)
{
	for (int i = 0; i < 4; i++)
		v->d[i] = ty == 0 ? rnd_f32() : ty == 2 ? (uint32_t)rnd_f32() ^ (uint32_t)rnd() : 0;
	if (ty == 1)
		for (int i = 0; i < 2; i++)
			v->q[i] = rnd_f64();
	if (ty == 2 && rnd() % 2)
		v->d[rnd() % 4] = (uint32_t)(rnd() % 2000) - 1000;
}

static uint32_t rnd_mxcsr(void)
{
	uint32_t mx = 0x1f80 | (uint32_t)(rnd() % 4) << 13;
	if (rnd() % 3 == 0)
		mx |= 0x8000;
	if (rnd() % 3 == 0)
		mx |= 0x40;
	return mx;
}

/* Run host reference h under MXCSR mx; returns the raised flags. */
static uint32_t host_fp(hx_fn h, union xmm *d, const union xmm *s, uint32_t mx)
{
	uint32_t old, now;
	__asm__ volatile("stmxcsr %0" : "=m"(old));
	__asm__ volatile("ldmxcsr %0" : : "m"(mx));
	h(d, s);
	__asm__ volatile("stmxcsr %0" : "=m"(now));
	__asm__ volatile("ldmxcsr %0" : : "m"(old));
	return now & 0x3f;
}

#define FP4(X, op, nm) X(op, MP_NONE, nm##ps, 0, 0) X(op, MP_F3, nm##ss, 0, 0) \
	X(op, MP_66, nm##pd, 1, 0) X(op, MP_F2, nm##sd, 1, 0)
#define CMP8(X, mp, nm, ty) X(0x1c2, mp, nm##_0, ty, 0) X(0x1c2, mp, nm##_1, ty, 1) \
	X(0x1c2, mp, nm##_2, ty, 2) X(0x1c2, mp, nm##_3, ty, 3) X(0x1c2, mp, nm##_4, ty, 4) \
	X(0x1c2, mp, nm##_5, ty, 5) X(0x1c2, mp, nm##_6, ty, 6) X(0x1c2, mp, nm##_7, ty, 7)
#define RND6(X, op, nm, ty) X(op, MP_66, nm##_0, ty, 0) X(op, MP_66, nm##_1, ty, 1) \
	X(op, MP_66, nm##_2, ty, 2) X(op, MP_66, nm##_3, ty, 3) X(op, MP_66, nm##_4, ty, 4) \
	X(op, MP_66, nm##_8, ty, 8) X(op, MP_66, nm##_11, ty, 11)
/* X(op, mp, name, operand type, imm) */
#define FP_OPS(X)                                                                          \
	FP4(X, 0x158, add) FP4(X, 0x15c, sub) FP4(X, 0x159, mul) FP4(X, 0x15e, div)        \
	FP4(X, 0x15d, min) FP4(X, 0x15f, max) FP4(X, 0x151, sqrt)                          \
	CMP8(X, MP_NONE, cmpps, 0) CMP8(X, MP_F3, cmpss, 0) CMP8(X, MP_66, cmppd, 1)       \
	CMP8(X, MP_F2, cmpsd, 1)                                                           \
	RND6(X, 0x308, roundps, 0) RND6(X, 0x309, roundpd, 1) RND6(X, 0x30a, roundss, 0)   \
	RND6(X, 0x30b, roundsd, 1)                                                         \
	X(0x1d0, MP_F2, addsubps, 0, 0) X(0x1d0, MP_66, addsubpd, 1, 0)                    \
	X(0x17c, MP_F2, haddps, 0, 0) X(0x17c, MP_66, haddpd, 1, 0)                        \
	X(0x17d, MP_F2, hsubps, 0, 0) X(0x17d, MP_66, hsubpd, 1, 0)                        \
	X(0x15a, MP_NONE, cvtps2pd, 0, 0) X(0x15a, MP_66, cvtpd2ps, 1, 0)                  \
	X(0x15a, MP_F3, cvtss2sd, 0, 0) X(0x15a, MP_F2, cvtsd2ss, 1, 0)                    \
	X(0x15b, MP_NONE, cvtdq2ps, 2, 0) X(0x15b, MP_66, cvtps2dq, 0, 0)                  \
	X(0x15b, MP_F3, cvttps2dq, 0, 0) X(0x1e6, MP_66, cvttpd2dq, 1, 0)                  \
	X(0x1e6, MP_F3, cvtdq2pd, 2, 0) X(0x1e6, MP_F2, cvtpd2dq, 1, 0)                    \
	X(0x340, MP_66, dpps_ff, 0, 0xff) X(0x340, MP_66, dpps_31, 0, 0x31)                \
	X(0x340, MP_66, dpps_b6, 0, 0xb6) X(0x341, MP_66, dppd_33, 1, 0x33)                \
	X(0x341, MP_66, dppd_12, 1, 0x12) X(0x341, MP_66, dppd_31, 1, 0x31)

static const char *mnem(const char *n, char *buf)
{
	/* name up to '_' (imm suffix) */
	size_t k = strcspn(n, "_");
	memcpy(buf, n, k);
	buf[k] = 0;
	return buf;
}
/* The asm text needs the mnemonic literally: generate with stringification. */
#define DEF_FP(op, mp, nm, ty, imm) static void hf_##nm(union xmm *d, const union xmm *s);
FP_OPS(DEF_FP)
#undef DEF_FP
#define FP_BODY_NOIMM(nm, ins)                                                       \
	static void hf_##nm(union xmm *d, const union xmm *s)                          \
	{                                                                              \
		v2di a, b;                                                             \
		memcpy(&a, d, 16);                                                     \
		memcpy(&b, s, 16);                                                     \
		__asm__ volatile(ins " %1, %0" : "+x"(a) : "x"(b));                    \
		memcpy(d, &a, 16);                                                     \
	}
#define FP_BODY_IMM(nm, ins, imm)                                                    \
	static void hf_##nm(union xmm *d, const union xmm *s)                          \
	{                                                                              \
		v2di a, b;                                                             \
		memcpy(&a, d, 16);                                                     \
		memcpy(&b, s, 16);                                                     \
		__asm__ volatile(ins " %2, %1, %0" : "+x"(a) : "x"(b), "i"(imm));      \
		memcpy(d, &a, 16);                                                     \
	}
#define B4(nm) FP_BODY_NOIMM(nm##ps, #nm "ps") FP_BODY_NOIMM(nm##ss, #nm "ss") \
	FP_BODY_NOIMM(nm##pd, #nm "pd") FP_BODY_NOIMM(nm##sd, #nm "sd")
B4(add) B4(sub) B4(mul) B4(div) B4(min) B4(max) B4(sqrt)
#define BC8(nm) FP_BODY_IMM(nm##_0, #nm, 0) FP_BODY_IMM(nm##_1, #nm, 1) \
	FP_BODY_IMM(nm##_2, #nm, 2) FP_BODY_IMM(nm##_3, #nm, 3) FP_BODY_IMM(nm##_4, #nm, 4) \
	FP_BODY_IMM(nm##_5, #nm, 5) FP_BODY_IMM(nm##_6, #nm, 6) FP_BODY_IMM(nm##_7, #nm, 7)
BC8(cmpps) BC8(cmpss) BC8(cmppd) BC8(cmpsd)
#define BR6(nm) FP_BODY_IMM(nm##_0, #nm, 0) FP_BODY_IMM(nm##_1, #nm, 1) \
	FP_BODY_IMM(nm##_2, #nm, 2) FP_BODY_IMM(nm##_3, #nm, 3) FP_BODY_IMM(nm##_4, #nm, 4) \
	FP_BODY_IMM(nm##_8, #nm, 8) FP_BODY_IMM(nm##_11, #nm, 11)
BR6(roundps) BR6(roundpd) BR6(roundss) BR6(roundsd)
FP_BODY_NOIMM(addsubps, "addsubps") FP_BODY_NOIMM(addsubpd, "addsubpd")
FP_BODY_NOIMM(haddps, "haddps") FP_BODY_NOIMM(haddpd, "haddpd")
FP_BODY_NOIMM(hsubps, "hsubps") FP_BODY_NOIMM(hsubpd, "hsubpd")
FP_BODY_NOIMM(cvtps2pd, "cvtps2pd") FP_BODY_NOIMM(cvtpd2ps, "cvtpd2ps")
FP_BODY_NOIMM(cvtss2sd, "cvtss2sd") FP_BODY_NOIMM(cvtsd2ss, "cvtsd2ss")
FP_BODY_NOIMM(cvtdq2ps, "cvtdq2ps") FP_BODY_NOIMM(cvtps2dq, "cvtps2dq")
FP_BODY_NOIMM(cvttps2dq, "cvttps2dq") FP_BODY_NOIMM(cvttpd2dq, "cvttpd2dq")
FP_BODY_NOIMM(cvtdq2pd, "cvtdq2pd") FP_BODY_NOIMM(cvtpd2dq, "cvtpd2dq")
FP_BODY_IMM(dpps_ff, "dpps", 0xff) FP_BODY_IMM(dpps_31, "dpps", 0x31)
FP_BODY_IMM(dpps_b6, "dpps", 0xb6) FP_BODY_IMM(dppd_33, "dppd", 0x33)
FP_BODY_IMM(dppd_12, "dppd", 0x12) FP_BODY_IMM(dppd_31, "dppd", 0x31)

struct fcase {
	uint16_t op;
	uint8_t mp, ty, imm;
	const char *name;
	hx_fn h;
};
#define ROW_F(op, mp, nm, ty, imm) { op, mp, ty, imm, #nm, hf_##nm },
static const struct fcase fp_cases[] = { FP_OPS(ROW_F) };

START_TEST(t_fp_vs_host)
{
	char buf[32];
	for (int i = 0; i < (int)(sizeof(fp_cases) / sizeof(fp_cases[0])); i++) {
		const struct fcase *k = &fp_cases[i];
		for (int it = 0; it < 2 * ITER; it++) {
			union xmm d, s, want;
			rnd_fp(&d, k->ty);
			rnd_fp(&s, k->ty);
			if (it % 5 == 0)
				s = d; /* equal operands for compares / subtraction */
			uint32_t mx = rnd_mxcsr();
			want = d;
			uint32_t wfl = host_fp(k->h, &want, &s, mx);
			c->fpu.xmm[8] = d;
			c->fpu.xmm[13] = s;
			c->fpu.mxcsr = mx;
			struct insn in = src_form(k->op, k->mp, 8, 13, &s, 16, it & 1);
			in.imm = k->imm;
			ck_assert_int_eq(run(&in), -1);
			xeq(&c->fpu.xmm[8], &want, mnem(k->name, buf), it);
			ck_assert_msg(c->fpu.mxcsr == (mx | wfl), "%s mxcsr %#x want %#x",
				      k->name, c->fpu.mxcsr, mx | wfl);
		}
	}
}
END_TEST

/*
 * Unmasked exceptions against the host: the host runs the instruction with
 * the same unmasked bits and a SIGFPE handler records the MXCSR at the fault.
 * A host fault must be an #XM in nestbox with the same MXCSR and nothing
 * committed; otherwise results and flags must match.
 */
static sigjmp_buf fpe_jb;
static volatile uint32_t fpe_mxcsr;
static void fpe_handler(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ctx;
	fpe_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
	siglongjmp(fpe_jb, 1);
}

/* Returns true if the host trapped (*mx_out = MXCSR at the trap). */
static bool host_fp_trap(hx_fn h, union xmm *d, const union xmm *s, uint32_t mx,
			 uint32_t *mx_out)
{
	uint32_t old;
	__asm__ volatile("stmxcsr %0" : "=m"(old));
	if (sigsetjmp(fpe_jb, 1)) {
		__asm__ volatile("ldmxcsr %0" : : "m"(old));
		*mx_out = fpe_mxcsr;
		return true;
	}
	__asm__ volatile("ldmxcsr %0" : : "m"(mx));
	h(d, s);
	__asm__ volatile("stmxcsr %0" : "=m"(*mx_out));
	__asm__ volatile("ldmxcsr %0" : : "m"(old));
	return false;
}

START_TEST(t_fp_unmasked_vs_host)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fpe_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGFPE, &sa, NULL);
	int traps = 0;
	for (int i = 0; i < (int)(sizeof(fp_cases) / sizeof(fp_cases[0])); i++) {
		const struct fcase *k = &fp_cases[i];
		for (int it = 0; it < ITER; it++) {
			union xmm d, s, want;
			rnd_fp(&d, k->ty);
			rnd_fp(&s, k->ty);
			uint32_t mx = rnd_mxcsr() & ~((uint32_t)(rnd() & 0x3f) << 7);
			want = d;
			uint32_t hmx;
			bool trap = host_fp_trap(k->h, &want, &s, mx, &hmx);
			c->fpu.xmm[8] = d;
			c->fpu.xmm[13] = s;
			c->fpu.mxcsr = mx;
			struct insn in = src_form(k->op, k->mp, 8, 13, &s, 16, it & 1);
			in.imm = k->imm;
			int v = run(&in);
			if (trap) {
				traps++;
				ck_assert_msg(v == EXC_XM, "%s: host trapped (mxcsr %#x), got %d",
					      k->name, hmx, v);
				xeq(&c->fpu.xmm[8], &d, k->name, it);
			} else {
				ck_assert_msg(v == -1, "%s: host did not trap, got %d (mxcsr %#x)",
					      k->name, v, c->fpu.mxcsr);
				xeq(&c->fpu.xmm[8], &want, k->name, it);
			}
			ck_assert_msg(c->fpu.mxcsr == hmx,
				      "%s (iter %d, in %#x): mxcsr %#x want %#x; d %016llx:%016llx "
				      "s %016llx:%016llx",
				      k->name, it, mx, c->fpu.mxcsr, hmx, (unsigned long long)d.q[1],
				      (unsigned long long)d.q[0], (unsigned long long)s.q[1],
				      (unsigned long long)s.q[0]);
		}
	}
	ck_assert_int_gt(traps, 100);
}
END_TEST

/* (U)COMIS*, CVT(T)S*2SI, CVTSI2S* against the host. */
START_TEST(t_fp_scalar_int)
{
	for (int it = 0; it < 4 * ITER; it++) {
		union xmm a, b;
		rnd_fp(&a, it & 1);
		rnd_fp(&b, it & 1);
		if (it % 7 == 0)
			b = a;
		uint32_t mx = rnd_mxcsr(), old, now;
		v2di av, bv;
		memcpy(&av, &a, 16);
		memcpy(&bv, &b, 16);
		/* comis */
		for (int k = 0; k < 2; k++) {
			uint8_t z, p, cf;
			__asm__ volatile("stmxcsr %0" : "=m"(old));
			__asm__ volatile("ldmxcsr %0" : : "m"(mx));
			if (it & 1) {
				if (k)
					__asm__ volatile("comisd %4, %3" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf) : "x"(av), "x"(bv));
				else
					__asm__ volatile("ucomisd %4, %3" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf) : "x"(av), "x"(bv));
			} else {
				if (k)
					__asm__ volatile("comiss %4, %3" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf) : "x"(av), "x"(bv));
				else
					__asm__ volatile("ucomiss %4, %3" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf) : "x"(av), "x"(bv));
			}
			__asm__ volatile("stmxcsr %0" : "=m"(now));
			__asm__ volatile("ldmxcsr %0" : : "m"(old));
			c->fpu.xmm[1] = a;
			c->fpu.xmm[2] = b;
			c->fpu.mxcsr = mx;
			flags_set(c, F_OF | F_SF | F_AF, F_ARITH);
			struct insn in = mkr(k ? 0x12f : 0x12e, (it & 1) ? MP_66 : MP_NONE, 1, 2);
			ck_assert_int_eq(run(&in), -1);
			uint64_t f = flags_get(c);
			ck_assert_uint_eq(f & F_ARITH, (z ? F_ZF : 0) | (p ? F_PF : 0) | (cf ? F_CF : 0));
			ck_assert_uint_eq(c->fpu.mxcsr, mx | (now & 0x3f));
		}
		/* cvt(t)s[sd]2si, 32 and 64 bit */
		for (int k = 0; k < 4; k++) {
			uint64_t r = 0;
			bool t = k & 1, w = k & 2, dbl = it & 1;
			__asm__ volatile("stmxcsr %0" : "=m"(old));
			__asm__ volatile("ldmxcsr %0" : : "m"(mx));
			uint32_t r32;
			switch ((dbl << 2) | (w << 1) | t) {
			case 0: __asm__ volatile("cvtss2si %1, %0" : "=r"(r32) : "x"(av)); r = r32; break;
			case 1: __asm__ volatile("cvttss2si %1, %0" : "=r"(r32) : "x"(av)); r = r32; break;
			case 2: __asm__ volatile("cvtss2si %1, %0" : "=r"(r) : "x"(av)); break;
			case 3: __asm__ volatile("cvttss2si %1, %0" : "=r"(r) : "x"(av)); break;
			case 4: __asm__ volatile("cvtsd2si %1, %0" : "=r"(r32) : "x"(av)); r = r32; break;
			case 5: __asm__ volatile("cvttsd2si %1, %0" : "=r"(r32) : "x"(av)); r = r32; break;
			case 6: __asm__ volatile("cvtsd2si %1, %0" : "=r"(r) : "x"(av)); break;
			default: __asm__ volatile("cvttsd2si %1, %0" : "=r"(r) : "x"(av)); break;
			}
			__asm__ volatile("stmxcsr %0" : "=m"(now));
			__asm__ volatile("ldmxcsr %0" : : "m"(old));
			c->fpu.xmm[1] = a;
			c->fpu.mxcsr = mx;
			c->gpr[R_R9] = 0x1234567812345678ull;
			struct insn in = mkr(t ? 0x12c : 0x12d, dbl ? MP_F2 : MP_F3, R_R9, 1);
			if (w)
				in.pfx = PFX_REX | PFX_REXW;
			ck_assert_int_eq(run(&in), -1);
			ck_assert_msg(c->gpr[R_R9] == r, "cvt2si k=%d dbl=%d got %llx want %llx", k,
				      dbl, (unsigned long long)c->gpr[R_R9], (unsigned long long)r);
			ck_assert_uint_eq(c->fpu.mxcsr, mx | (now & 0x3f));
		}
		/* cvtsi2ss/sd, 32 and 64 bit */
		for (int k = 0; k < 4; k++) {
			uint64_t v = rnd();
			if (it & 2)
				v = (uint64_t)(int64_t)(int32_t)v;
			bool w = k & 2, dbl = k & 1;
			v2di dv;
			memcpy(&dv, &b, 16);
			uint32_t v32 = (uint32_t)v;
			__asm__ volatile("stmxcsr %0" : "=m"(old));
			__asm__ volatile("ldmxcsr %0" : : "m"(mx));
			switch (k) {
			case 0: __asm__ volatile("cvtsi2ssl %1, %0" : "+x"(dv) : "r"(v32)); break;
			case 1: __asm__ volatile("cvtsi2sdl %1, %0" : "+x"(dv) : "r"(v32)); break;
			case 2: __asm__ volatile("cvtsi2ssq %1, %0" : "+x"(dv) : "r"(v)); break;
			default: __asm__ volatile("cvtsi2sdq %1, %0" : "+x"(dv) : "r"(v)); break;
			}
			__asm__ volatile("stmxcsr %0" : "=m"(now));
			__asm__ volatile("ldmxcsr %0" : : "m"(old));
			union xmm want;
			memcpy(&want, &dv, 16);
			c->fpu.xmm[3] = b;
			c->fpu.mxcsr = mx;
			c->gpr[R_R10] = v;
			struct insn in = mkr(0x12a, dbl ? MP_F2 : MP_F3, 3, R_R10);
			if (w)
				in.pfx = PFX_REX | PFX_REXW;
			ck_assert_int_eq(run(&in), -1);
			xeq(&c->fpu.xmm[3], &want, "cvtsi2s*", k);
			ck_assert_uint_eq(c->fpu.mxcsr, mx | (now & 0x3f));
		}
	}
}
END_TEST

/* Conversions with MMX operands. */
START_TEST(t_fp_mmx_cvt)
{
	for (int it = 0; it < ITER; it++) {
		union xmm a, d;
		rnd_fp(&a, it & 1);
		rnd_fp(&d, 0);
		uint64_t mi = rnd();
		uint32_t mx = rnd_mxcsr(), old, now;
		v2di av, dv;
		v2si m, mr;
		memcpy(&av, &a, 16);
		memcpy(&dv, &d, 16);
		memcpy(&m, &mi, 8);
		/* CVTPI2PS / CVTPI2PD xmm, mm */
		v2di r1 = dv, r2 = dv;
		__asm__ volatile("stmxcsr %0" : "=m"(old));
		__asm__ volatile("ldmxcsr %0" : : "m"(mx));
		__asm__ volatile("cvtpi2ps %1, %0" : "+x"(r1) : "y"(m));
		__asm__ volatile("stmxcsr %0" : "=m"(now));
		__asm__ volatile("cvtpi2pd %1, %0" : "+x"(r2) : "y"(m));
		if (it & 1)
			__asm__ volatile("cvtpd2pi %1, %0" : "=y"(mr) : "x"(av));
		else
			__asm__ volatile("cvtps2pi %1, %0" : "=y"(mr) : "x"(av));
		__asm__ volatile("emms");
		__asm__ volatile("ldmxcsr %0" : : "m"(old));
		union xmm w1, w2;
		memcpy(&w1, &r1, 16);
		memcpy(&w2, &r2, 16);
		c->fpu.mxcsr = mx;
		c->fpu.xmm[4] = d;
		c->fpu.fpr[2].mant = mi;
		struct insn in = mkr(0x12a, MP_NONE, 4, 2);
		ck_assert_int_eq(run(&in), -1);
		xeq(&c->fpu.xmm[4], &w1, "cvtpi2ps", it);
		ck_assert_uint_eq(c->fpu.mxcsr, mx | (now & 0x3f));
		c->fpu.xmm[4] = d;
		in = mkr(0x12a, MP_66, 4, 2);
		ck_assert_int_eq(run(&in), -1);
		xeq(&c->fpu.xmm[4], &w2, "cvtpi2pd", it);
		c->fpu.xmm[5] = a;
		c->fpu.mxcsr = mx;
		in = mkr(0x12d, (it & 1) ? MP_66 : MP_NONE, 1, 5);
		ck_assert_int_eq(run(&in), -1);
		uint64_t want;
		memcpy(&want, &mr, 8);
		ck_assert_msg(c->fpu.fpr[1].mant == want, "cvtp%c2pi %llx want %llx",
			      (it & 1) ? 'd' : 's', (unsigned long long)c->fpu.fpr[1].mant,
			      (unsigned long long)want);
		ck_assert_uint_eq(c->fpu.ftw, 0);
	}
}
END_TEST

/* RCP/RSQRT: within the SDM's 1.5 * 2^-12 relative error bound. */
START_TEST(t_rcp_rsqrt)
{
	for (int it = 0; it < 4 * ITER; it++) {
		float x = (float)((double)(rnd() % 1000000 + 1) / 1000.0);
		if (it & 1)
			x = -x;
		union xmm s = { .f = { x, 4.0f, 0.0f, -0.0f } };
		c->fpu.xmm[2] = s;
		struct insn in = mkr(0x153, MP_NONE, 1, 2);
		ck_assert_int_eq(run(&in), -1);
		double r = c->fpu.xmm[1].f[0], ex = 1.0 / x;
		ck_assert(fabs(r - ex) <= fabs(ex) * 1.5 / 4096);
		ck_assert(c->fpu.xmm[1].f[1] == 0.25f);
		ck_assert_uint_eq(c->fpu.xmm[1].d[2], 0x7f800000u);
		ck_assert_uint_eq(c->fpu.xmm[1].d[3], 0xff800000u);
		s.f[0] = x < 0 ? -x : x;
		c->fpu.xmm[2] = s;
		in = mkr(0x152, MP_NONE, 1, 2);
		ck_assert_int_eq(run(&in), -1);
		r = c->fpu.xmm[1].f[0];
		ex = 1.0 / sqrt(s.f[0]);
		ck_assert(fabs(r - ex) <= ex * 1.5 / 4096);
		ck_assert(c->fpu.xmm[1].f[1] == 0.5f);
	}
	c->fpu.xmm[2].d[0] = 0xbf800000u; /* rsqrt(-1) = default NaN */
	struct insn in = mkr(0x152, MP_F3, 1, 2);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.xmm[1].d[0], 0xffc00000u);
	ck_assert_uint_eq(c->fpu.mxcsr, 0x1f80);
}
END_TEST

/* Unmasked exceptions: #XM (or #UD without OSXMMEXCPT), nothing committed. */
START_TEST(t_fp_unmasked)
{
	union xmm d = { .f = { -1.0f, 4.0f, 9.0f, 16.0f } };
	c->fpu.xmm[1] = d;
	c->fpu.xmm[2] = d;
	c->fpu.xmm[3].q[0] = c->fpu.xmm[3].q[1] = 0;
	c->fpu.mxcsr = 0x1f80 & ~0x80u; /* IE unmasked */
	struct insn in = mkr(0x151, MP_NONE, 3, 2); /* sqrtps xmm3, xmm2 */
	ck_assert_int_eq(run(&in), EXC_XM);
	ck_assert_uint_eq(c->fpu.xmm[3].q[0], 0);
	ck_assert_uint_eq(c->fpu.mxcsr, (0x1f80 & ~0x80u) | 1);
	c->cr4 &= ~CR4_OSXMMEXCPT;
	c->fpu.mxcsr = 0x1f80 & ~0x80u;
	ck_assert_int_eq(run(&in), EXC_UD);
	c->cr4 |= CR4_OSXMMEXCPT;
	/* masked IE: default NaN, flag set, results committed */
	c->fpu.mxcsr = 0x1f80;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.xmm[3].d[0], 0xffc00000u);
	ck_assert(c->fpu.xmm[3].f[3] == 4.0f);
	ck_assert_uint_eq(c->fpu.mxcsr, 0x1f81);
	/* divide by zero unmasked, precision masked: only ZE recorded */
	union xmm one = { .f = { 1.0f, 1.0f, 1.0f, 1.0f } };
	union xmm den = { .f = { 0.0f, 3.0f, 1.0f, 1.0f } };
	c->fpu.xmm[4] = one;
	c->fpu.xmm[5] = den;
	c->fpu.mxcsr = 0x1f80 & ~0x200u;
	in = mkr(0x15e, MP_NONE, 4, 5);
	ck_assert_int_eq(run(&in), EXC_XM);
	ck_assert_uint_eq(c->fpu.mxcsr, (0x1f80 & ~0x200u) | 4);
	xeq(&c->fpu.xmm[4], &one, "divps unchanged", 0);
	/* precision unmasked: 1/3 raises #XM with PE */
	den.f[0] = 3.0f;
	c->fpu.xmm[5] = den;
	c->fpu.mxcsr = 0x1f80 & ~0x1000u;
	ck_assert_int_eq(run(&in), EXC_XM);
	ck_assert_uint_eq(c->fpu.mxcsr & 0x3f, 0x20);
	/* underflow unmasked: exact tiny result still raises UE */
	union xmm tiny = { .d = { 0x00000004u, 0, 0, 0 } };
	union xmm half = { .f = { 0.5f, 0, 0, 0 } };
	c->fpu.xmm[6] = tiny;
	c->fpu.xmm[7] = half;
	c->fpu.mxcsr = 0x1f80 & ~0x800u;
	in = mkr(0x159, MP_F3, 6, 7); /* mulss: denormal * 0.5 exact */
	ck_assert_int_eq(run(&in), EXC_XM);
	ck_assert_uint_eq(c->fpu.mxcsr & 0x10, 0x10);
	c->fpu.mxcsr = 0x1f80;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.xmm[6].d[0], 2);
	/* COMISS with QNaN and IE unmasked: #XM, flags untouched */
	union xmm qn = { .d = { 0x7fc00000u, 0, 0, 0 } };
	c->fpu.xmm[1] = qn;
	flags_set(c, F_CF, F_ARITH);
	c->fpu.mxcsr = 0x1f00;
	in = mkr(0x12f, MP_NONE, 1, 1);
	ck_assert_int_eq(run(&in), EXC_XM);
	ck_assert_uint_eq(flags_get(c) & F_ARITH, F_CF);
	in = mkr(0x12e, MP_NONE, 1, 1); /* UCOMISS: QNaN does not signal */
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(flags_get(c) & F_ARITH, F_ZF | F_PF | F_CF);
}
END_TEST

static Suite *simd_fp_suite(void)
{
	Suite *s = suite_create("simd_fp");
	TCase *t = tcase_create("core");
	tcase_set_timeout(t, 60);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, t_fp_vs_host);
	tcase_add_test(t, t_fp_unmasked_vs_host);
	tcase_add_test(t, t_fp_scalar_int);
	tcase_add_test(t, t_fp_mmx_cvt);
	tcase_add_test(t, t_rcp_rsqrt);
	tcase_add_test(t, t_fp_unmasked);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(simd_fp_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
