/*
 * tests/unit/test_simd.c — unit tests of the MMX/SSE integer side of
 * cpu/simd/: every handler's result is compared with the host CPU executing
 * the same instruction through inline asm, over random and special operands,
 * incl. alignment #GP, CR0/CR4 checks, the MMX/x87 state switch, memory forms and
 * decoding through the real decoder. Floating point: test_simd_fp.c;
 * PCMPxSTRx and AES: test_simd_str.c.
 *
 * Each test builds a vCPU on the heap over 1 MiB of RAM (64-bit mode, no
 * paging), hand-builds a struct insn, looks the handler up in the registry
 * (optab_find) and runs it, catching faults via exc_jmp.
 */
/* Rows of macro invocations (instruction tables) that clang-format cannot
 * lay out stably: the file is kept as written. */
/* clang-format off */

#include "simd_test.h"

#include "cpu/decode.h"

/* ---------------- host references ---------------- */

typedef void (*hm_fn)(uint64_t *d, const uint64_t *s);

#define HX(nm, ins)                                                           \
	static void hx_##nm(union xmm *d, const union xmm *s)                 \
	{                                                                     \
		v2di a, b;                                                    \
		memcpy(&a, d, 16);                                            \
		memcpy(&b, s, 16);                                            \
		__asm__ volatile(ins " %1, %0" : "+x"(a) : "x"(b));           \
		memcpy(d, &a, 16);                                            \
	}
#define HXI(nm, ins, imm)                                                     \
	static void hx_##nm(union xmm *d, const union xmm *s)                 \
	{                                                                     \
		v2di a, b;                                                    \
		memcpy(&a, d, 16);                                            \
		memcpy(&b, s, 16);                                            \
		__asm__ volatile(ins " $" #imm ", %1, %0" : "+x"(a) : "x"(b)); \
		memcpy(d, &a, 16);                                            \
	}
#define HM(nm, ins)                                                           \
	static void hm_##nm(uint64_t *d, const uint64_t *s)                   \
	{                                                                     \
		v2si a, b;                                                    \
		memcpy(&a, d, 8);                                             \
		memcpy(&b, s, 8);                                             \
		__asm__ volatile(ins " %1, %0" : "+y"(a) : "y"(b));           \
		memcpy(d, &a, 8);                                             \
	}

/* Integer ops available as both MMX and XMM (X-macro: op, mnemonic, mmx). */
#define INT_OPS(X)                                                                   \
	X(0x160, punpcklbw) X(0x161, punpcklwd) X(0x162, punpckldq) X(0x163, packsswb)   \
	X(0x164, pcmpgtb) X(0x165, pcmpgtw) X(0x166, pcmpgtd) X(0x167, packuswb)         \
	X(0x168, punpckhbw) X(0x169, punpckhwd) X(0x16a, punpckhdq) X(0x16b, packssdw)   \
	X(0x174, pcmpeqb) X(0x175, pcmpeqw) X(0x176, pcmpeqd) X(0x1d1, psrlw)            \
	X(0x1d2, psrld) X(0x1d3, psrlq) X(0x1d4, paddq) X(0x1d5, pmullw)                 \
	X(0x1d8, psubusb) X(0x1d9, psubusw) X(0x1da, pminub) X(0x1db, pand)              \
	X(0x1dc, paddusb) X(0x1dd, paddusw) X(0x1de, pmaxub) X(0x1df, pandn)             \
	X(0x1e0, pavgb) X(0x1e1, psraw) X(0x1e2, psrad) X(0x1e3, pavgw)                  \
	X(0x1e4, pmulhuw) X(0x1e5, pmulhw) X(0x1e8, psubsb) X(0x1e9, psubsw)             \
	X(0x1ea, pminsw) X(0x1eb, por) X(0x1ec, paddsb) X(0x1ed, paddsw)                 \
	X(0x1ee, pmaxsw) X(0x1ef, pxor) X(0x1f1, psllw) X(0x1f2, pslld)                  \
	X(0x1f3, psllq) X(0x1f4, pmuludq) X(0x1f5, pmaddwd) X(0x1f6, psadbw)             \
	X(0x1f8, psubb) X(0x1f9, psubw) X(0x1fa, psubd) X(0x1fb, psubq)                  \
	X(0x1fc, paddb) X(0x1fd, paddw) X(0x1fe, paddd)                                  \
	X(0x200, pshufb) X(0x201, phaddw) X(0x202, phaddd) X(0x203, phaddsw)             \
	X(0x204, pmaddubsw) X(0x205, phsubw) X(0x206, phsubd) X(0x207, phsubsw)          \
	X(0x208, psignb) X(0x209, psignw) X(0x20a, psignd) X(0x20b, pmulhrsw)            \
	X(0x21c, pabsb) X(0x21d, pabsw) X(0x21e, pabsd)

/* XMM-only integer ops. */
#define XMM_OPS(X)                                                                   \
	X(0x16c, punpcklqdq) X(0x16d, punpckhqdq) X(0x220, pmovsxbw) X(0x221, pmovsxbd)  \
	X(0x222, pmovsxbq) X(0x223, pmovsxwd) X(0x224, pmovsxwq) X(0x225, pmovsxdq)      \
	X(0x228, pmuldq) X(0x229, pcmpeqq) X(0x22b, packusdw) X(0x230, pmovzxbw)         \
	X(0x231, pmovzxbd) X(0x232, pmovzxbq) X(0x233, pmovzxwd) X(0x234, pmovzxwq)      \
	X(0x235, pmovzxdq) X(0x237, pcmpgtq) X(0x238, pminsb) X(0x239, pminsd)           \
	X(0x23a, pminuw) X(0x23b, pminud) X(0x23c, pmaxsb) X(0x23d, pmaxsd)              \
	X(0x23e, pmaxuw) X(0x23f, pmaxud) X(0x240, pmulld) X(0x241, phminposuw)          \
	X(0x2db, aesimc) X(0x2dc, aesenc) X(0x2dd, aesenclast) X(0x2de, aesdec)          \
	X(0x2df, aesdeclast)

#define DEF_HX(op, nm) HX(nm, #nm)
#define DEF_HM(op, nm) HM(nm, #nm)
INT_OPS(DEF_HX)
INT_OPS(DEF_HM)
XMM_OPS(DEF_HX)

struct xcase {
	uint16_t op;
	uint8_t mp;
	const char *name;
	hx_fn h;
};
struct mcase {
	uint16_t op;
	const char *name;
	hm_fn h;
};
#define ROW_X(op, nm) { op, MP_66, #nm, hx_##nm },
#define ROW_M(op, nm) { op, #nm, hm_##nm },
static const struct xcase xint_cases[] = { INT_OPS(ROW_X) XMM_OPS(ROW_X) };
static const struct mcase mint_cases[] = { INT_OPS(ROW_M) };

/* Compare one XMM binary case over random operands (reg-reg form). */
static void check_xcase(const struct xcase *k, int iters)
{
	for (int it = 0; it < iters; it++) {
		union xmm d, s, want;
		rnd_int(&d);
		rnd_int(&s);
		want = d;
		k->h(&want, &s);
		c->fpu.xmm[1] = d;
		c->fpu.xmm[10] = s;
		struct insn in = src_form(k->op, k->mp, 1, 10, &s, 16, it & 1);
		ck_assert_int_eq(run(&in), -1);
		xeq(&c->fpu.xmm[1], &want, k->name, it);
	}
}

START_TEST(t_int_xmm)
{
	for (int i = 0; i < (int)(sizeof(xint_cases) / sizeof(xint_cases[0])); i++)
		check_xcase(&xint_cases[i], ITER);
}
END_TEST

START_TEST(t_int_mmx)
{
	for (int i = 0; i < (int)(sizeof(mint_cases) / sizeof(mint_cases[0])); i++) {
		const struct mcase *k = &mint_cases[i];
		for (int it = 0; it < ITER; it++) {
			union xmm d, s;
			rnd_int(&d);
			rnd_int(&s);
			uint64_t want = d.q[0];
			k->h(&want, &s.q[0]);
			__asm__ volatile("emms");
			c->fpu.fpr[3].mant = d.q[0];
			c->fpu.fpr[3].sexp = 0;
			c->fpu.fpr[6].mant = s.q[0];
			c->fpu.fsw = 0x2800; /* TOP = 5 */
			c->fpu.ftw = 0xffff;
			struct insn in = src_form(k->op, MP_NONE, 3, 6, &s, 8, it & 1);
			ck_assert_int_eq(run(&in), -1);
			ck_assert_msg(c->fpu.fpr[3].mant == want, "%s mmx (iter %d): %llx want %llx",
				      k->name, it, (unsigned long long)c->fpu.fpr[3].mant,
				      (unsigned long long)want);
			ck_assert_uint_eq(c->fpu.fpr[3].sexp, 0xffff);
			ck_assert_uint_eq(c->fpu.fsw & 0x3800, 0);
			ck_assert_uint_eq(c->fpu.ftw, 0);
		}
	}
}
END_TEST

/* ---------------- immediate forms ---------------- */

HXI(pshufd_1b, "pshufd", 0x1b)
HXI(pshufd_e4, "pshufd", 0xe4)
HXI(pshufhw_93, "pshufhw", 0x93)
HXI(pshuflw_4e, "pshuflw", 0x4e)
HXI(palignr_0, "palignr", 0)
HXI(palignr_5, "palignr", 5)
HXI(palignr_17, "palignr", 17)
HXI(palignr_40, "palignr", 40)
HXI(pblendw_a5, "pblendw", 0xa5)
HXI(blendps_6, "blendps", 6)
HXI(blendpd_2, "blendpd", 2)
HXI(mpsadbw_0, "mpsadbw", 0)
HXI(mpsadbw_7, "mpsadbw", 7)
HXI(mpsadbw_5, "mpsadbw", 5)
HXI(pclmul_00, "pclmulqdq", 0x00)
HXI(pclmul_01, "pclmulqdq", 0x01)
HXI(pclmul_10, "pclmulqdq", 0x10)
HXI(pclmul_11, "pclmulqdq", 0x11)
HXI(keygen_01, "aeskeygenassist", 0x01)
HXI(keygen_36, "aeskeygenassist", 0x36)
HXI(insertps_4d, "insertps", 0x4d)
HXI(insertps_f0, "insertps", 0xf0)
HXI(shufps_b1, "shufps", 0xb1)
HXI(shufpd_1, "shufpd", 1)
HXI(shufpd_2, "shufpd", 2)
HX(unpcklps, "unpcklps")
HX(unpckhps, "unpckhps")
HX(unpcklpd, "unpcklpd")
HX(unpckhpd, "unpckhpd")
HX(andps, "andps")
HX(andnps, "andnps")
HX(orpd, "orpd")
HX(xorpd, "xorpd")
HX(movss, "movss")
HX(movsd, "movsd")
HX(movhlps, "movhlps")
HX(movlhps, "movlhps")
HX(movsldup, "movsldup")
HX(movshdup, "movshdup")
HX(movddup, "movddup")

struct icase {
	uint16_t op;
	uint8_t mp;
	uint8_t imm;
	const char *name;
	hx_fn h;
};
static const struct icase imm_cases[] = {
	{ 0x170, MP_66, 0x1b, "pshufd", hx_pshufd_1b },
	{ 0x170, MP_66, 0xe4, "pshufd", hx_pshufd_e4 },
	{ 0x170, MP_F3, 0x93, "pshufhw", hx_pshufhw_93 },
	{ 0x170, MP_F2, 0x4e, "pshuflw", hx_pshuflw_4e },
	{ 0x30f, MP_66, 0, "palignr", hx_palignr_0 },
	{ 0x30f, MP_66, 5, "palignr", hx_palignr_5 },
	{ 0x30f, MP_66, 17, "palignr", hx_palignr_17 },
	{ 0x30f, MP_66, 40, "palignr", hx_palignr_40 },
	{ 0x30e, MP_66, 0xa5, "pblendw", hx_pblendw_a5 },
	{ 0x30c, MP_66, 6, "blendps", hx_blendps_6 },
	{ 0x30d, MP_66, 2, "blendpd", hx_blendpd_2 },
	{ 0x342, MP_66, 0, "mpsadbw", hx_mpsadbw_0 },
	{ 0x342, MP_66, 7, "mpsadbw", hx_mpsadbw_7 },
	{ 0x342, MP_66, 5, "mpsadbw", hx_mpsadbw_5 },
	{ 0x344, MP_66, 0x00, "pclmulqdq", hx_pclmul_00 },
	{ 0x344, MP_66, 0x01, "pclmulqdq", hx_pclmul_01 },
	{ 0x344, MP_66, 0x10, "pclmulqdq", hx_pclmul_10 },
	{ 0x344, MP_66, 0x11, "pclmulqdq", hx_pclmul_11 },
	{ 0x3df, MP_66, 0x01, "aeskeygenassist", hx_keygen_01 },
	{ 0x3df, MP_66, 0x36, "aeskeygenassist", hx_keygen_36 },
	{ 0x321, MP_66, 0x4d, "insertps", hx_insertps_4d },
	{ 0x321, MP_66, 0xf0, "insertps", hx_insertps_f0 },
	{ 0x1c6, MP_NONE, 0xb1, "shufps", hx_shufps_b1 },
	{ 0x1c6, MP_66, 1, "shufpd", hx_shufpd_1 },
	{ 0x1c6, MP_66, 2, "shufpd", hx_shufpd_2 },
	{ 0x114, MP_NONE, 0, "unpcklps", hx_unpcklps },
	{ 0x115, MP_NONE, 0, "unpckhps", hx_unpckhps },
	{ 0x114, MP_66, 0, "unpcklpd", hx_unpcklpd },
	{ 0x115, MP_66, 0, "unpckhpd", hx_unpckhpd },
	{ 0x154, MP_NONE, 0, "andps", hx_andps },
	{ 0x155, MP_NONE, 0, "andnps", hx_andnps },
	{ 0x156, MP_66, 0, "orpd", hx_orpd },
	{ 0x157, MP_66, 0, "xorpd", hx_xorpd },
	{ 0x110, MP_F3, 0, "movss", hx_movss },
	{ 0x110, MP_F2, 0, "movsd", hx_movsd },
	{ 0x112, MP_NONE, 0, "movhlps", hx_movhlps },
	{ 0x116, MP_NONE, 0, "movlhps", hx_movlhps },
	{ 0x112, MP_F3, 0, "movsldup", hx_movsldup },
	{ 0x116, MP_F3, 0, "movshdup", hx_movshdup },
	{ 0x112, MP_F2, 0, "movddup", hx_movddup },
};

START_TEST(t_imm_and_moves)
{
	for (int i = 0; i < (int)(sizeof(imm_cases) / sizeof(imm_cases[0])); i++) {
		const struct icase *k = &imm_cases[i];
		for (int it = 0; it < ITER; it++) {
			union xmm d, s, want;
			rnd_int(&d);
			rnd_int(&s);
			want = d;
			k->h(&want, &s);
			c->fpu.xmm[2] = d;
			c->fpu.xmm[9] = s;
			struct insn in = mkr(k->op, k->mp, 2, 9);
			in.imm = k->imm;
			ck_assert_int_eq(run(&in), -1);
			xeq(&c->fpu.xmm[2], &want, k->name, it);
		}
	}
}
END_TEST

/* Shifts by immediate (groups 0F 71-73): host reference with a fixed count. */
#define HSI(nm, ins, n)                                                       \
	static void hs_##nm##_##n(union xmm *d)                               \
	{                                                                     \
		v2di a;                                                       \
		memcpy(&a, d, 16);                                            \
		__asm__ volatile(ins " $" #n ", %0" : "+x"(a));               \
		memcpy(d, &a, 16);                                            \
	}
#define HSI_ALL(nm, ins) HSI(nm, ins, 0) HSI(nm, ins, 1) HSI(nm, ins, 7) HSI(nm, ins, 15) \
	HSI(nm, ins, 16) HSI(nm, ins, 31) HSI(nm, ins, 33) HSI(nm, ins, 63) HSI(nm, ins, 64) \
	HSI(nm, ins, 200)
HSI_ALL(psrlw, "psrlw")
HSI_ALL(psraw, "psraw")
HSI_ALL(psllw, "psllw")
HSI_ALL(psrld, "psrld")
HSI_ALL(psrad, "psrad")
HSI_ALL(pslld, "pslld")
HSI_ALL(psrlq, "psrlq")
HSI_ALL(psllq, "psllq")
HSI_ALL(psrldq, "psrldq")
HSI_ALL(pslldq, "pslldq")

struct scase {
	uint16_t op;
	uint8_t grp;
	const char *name;
	void (*h[10])(union xmm *);
};
#define SROW(op, g, nm)                                                              \
	{ op, g, #nm, { hs_##nm##_0, hs_##nm##_1, hs_##nm##_7, hs_##nm##_15, hs_##nm##_16, \
			hs_##nm##_31, hs_##nm##_33, hs_##nm##_63, hs_##nm##_64, hs_##nm##_200 } }
static const struct scase shift_cases[] = {
	SROW(0x171, 2, psrlw), SROW(0x171, 4, psraw), SROW(0x171, 6, psllw),
	SROW(0x172, 2, psrld), SROW(0x172, 4, psrad), SROW(0x172, 6, pslld),
	SROW(0x173, 2, psrlq), SROW(0x173, 6, psllq), SROW(0x173, 3, psrldq),
	SROW(0x173, 7, pslldq),
};
static const uint8_t shift_counts[10] = { 0, 1, 7, 15, 16, 31, 33, 63, 64, 200 };

START_TEST(t_shift_imm)
{
	for (int i = 0; i < (int)(sizeof(shift_cases) / sizeof(shift_cases[0])); i++) {
		const struct scase *k = &shift_cases[i];
		for (int n = 0; n < 10; n++)
			for (int it = 0; it < 20; it++) {
				union xmm d, want;
				rnd_int(&d);
				want = d;
				k->h[n](&want);
				c->fpu.xmm[12] = d;
				struct insn in = mkr(k->op, MP_66, k->grp, 12);
				in.imm = shift_counts[n];
				ck_assert_int_eq(run(&in), -1);
				xeq(&c->fpu.xmm[12], &want, k->name, n);
				/* MMX form (no byte shifts) */
				if (k->grp == 3 || k->grp == 7)
					continue;
				uint64_t m = d.q[0];
				c->fpu.fpr[5].mant = m;
				in = mkr(k->op, MP_NONE, k->grp, 5);
				in.imm = shift_counts[n];
				ck_assert_int_eq(run(&in), -1);
				/* MMX result = same shift of the low quadword, except
				 * that the host XMM reference for q shifts works per
				 * quadword anyway. */
				ck_assert_msg(c->fpu.fpr[5].mant == want.q[0], "%s mmx count %d",
					      k->name, shift_counts[n]);
			}
	}
}
END_TEST

/* ---------------- SSE4.1 odds and ends ---------------- */

START_TEST(t_sse41_misc)
{
	for (int it = 0; it < ITER; it++) {
		union xmm d, s, m, want;
		rnd_int(&d);
		rnd_int(&s);
		rnd_int(&m);
		/* PBLENDVB / BLENDVPS / BLENDVPD with XMM0 as the mask */
		static const struct {
			uint16_t op;
			const char *ins;
		} bv[] = { { 0x210, "pblendvb" }, { 0x214, "blendvps" }, { 0x215, "blendvpd" } };
		for (int k = 0; k < 3; k++) {
			v2di a, b, z;
			memcpy(&a, &d, 16);
			memcpy(&b, &s, 16);
			memcpy(&z, &m, 16);
			if (k == 0)
				__asm__("pblendvb %2, %1, %0" : "+x"(a) : "x"(b), "Yz"(z));
			else if (k == 1)
				__asm__("blendvps %2, %1, %0" : "+x"(a) : "x"(b), "Yz"(z));
			else
				__asm__("blendvpd %2, %1, %0" : "+x"(a) : "x"(b), "Yz"(z));
			memcpy(&want, &a, 16);
			c->fpu.xmm[0] = m;
			c->fpu.xmm[4] = d;
			c->fpu.xmm[5] = s;
			struct insn in = mkr(bv[k].op, MP_66, 4, 5);
			ck_assert_int_eq(run(&in), -1);
			xeq(&c->fpu.xmm[4], &want, bv[k].ins, it);
		}
		/* PTEST flags */
		if (it & 1)
			s.q[0] &= ~d.q[0], s.q[1] &= ~d.q[1];
		if (it & 2)
			s.q[0] &= d.q[0], s.q[1] &= d.q[1];
		v2di a, b;
		memcpy(&a, &d, 16);
		memcpy(&b, &s, 16);
		uint8_t zf, cf;
		__asm__("ptest %3, %2" : "=@ccz"(zf), "=@ccc"(cf) : "x"(a), "x"(b));
		c->fpu.xmm[4] = d;
		c->fpu.xmm[5] = s;
		struct insn in = mkr(0x217, MP_66, 4, 5);
		ck_assert_int_eq(run(&in), -1);
		uint64_t f = flags_get(c);
		ck_assert_uint_eq(!!(f & F_ZF), zf);
		ck_assert_uint_eq(!!(f & F_CF), cf);
		ck_assert_uint_eq(f & (F_OF | F_SF | F_AF | F_PF), 0);

		/* PEXTRB/W/D/Q, EXTRACTPS to a register; PINSRB/D/Q from one */
		unsigned idx = (unsigned)rnd();
		c->fpu.xmm[7] = d;
		in = mkr(0x314, MP_66, 7, R_SI);
		in.imm = idx & 0xff;
		c->gpr[R_SI] = ~0ull;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->gpr[R_SI], d.b[idx & 15]);
		in = mkr(0x316, MP_66, 7, R_SI);
		in.imm = idx & 0xff;
		in.pfx = PFX_REX | PFX_REXW;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->gpr[R_SI], d.q[idx & 1]);
		in.pfx = 0;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->gpr[R_SI], d.d[idx & 3]);
		in = mkr(0x1c5, MP_66, R_DI, 7); /* PEXTRW r, xmm, imm */
		in.imm = idx & 0xff;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->gpr[R_DI], d.w[idx & 7]);
		c->gpr[R_AX] = s.q[0];
		want = d;
		want.b[idx & 15] = (uint8_t)s.q[0];
		in = mkr(0x320, MP_66, 7, R_AX);
		in.imm = idx & 0xff;
		ck_assert_int_eq(run(&in), -1);
		xeq(&c->fpu.xmm[7], &want, "pinsrb", it);
		want.d[(idx >> 4) & 3] = (uint32_t)s.q[0];
		in = mkr(0x322, MP_66, 7, R_AX);
		in.imm = (idx >> 4) & 0xff;
		ck_assert_int_eq(run(&in), -1);
		xeq(&c->fpu.xmm[7], &want, "pinsrd", it);
		want.w[idx & 7] = (uint16_t)s.q[0];
		in = mkr(0x1c4, MP_66, 7, R_AX);
		in.imm = idx & 0xff;
		ck_assert_int_eq(run(&in), -1);
		xeq(&c->fpu.xmm[7], &want, "pinsrw", it);
		/* PMOVMSKB / MOVMSKPS / MOVMSKPD */
		uint32_t mk;
		memcpy(&a, &d, 16);
		__asm__("pmovmskb %1, %0" : "=r"(mk) : "x"(a));
		c->fpu.xmm[3] = d;
		in = mkr(0x1d7, MP_66, R_CX, 3);
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->gpr[R_CX], mk);
		__asm__("movmskps %1, %0" : "=r"(mk) : "x"(a));
		in = mkr(0x150, MP_NONE, R_CX, 3);
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->gpr[R_CX], mk);
		__asm__("movmskpd %1, %0" : "=r"(mk) : "x"(a));
		in = mkr(0x150, MP_66, R_CX, 3);
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->gpr[R_CX], mk);
	}
}
END_TEST

/* ---------------- checks, alignment, memory forms ---------------- */

START_TEST(t_checks)
{
	struct insn in = mkr(0x1fe, MP_66, 1, 2); /* paddd xmm1, xmm2 */
	c->cr0 |= CR0_TS;
	ck_assert_int_eq(run(&in), EXC_NM);
	c->cr0 &= ~CR0_TS;
	c->cr0 |= CR0_EM;
	ck_assert_int_eq(run(&in), EXC_UD);
	c->cr0 &= ~CR0_EM;
	c->cr4 &= ~CR4_OSFXSR;
	ck_assert_int_eq(run(&in), EXC_UD);
	/* MMX does not need OSFXSR */
	struct insn mm = mkr(0x1fe, MP_NONE, 1, 2);
	ck_assert_int_eq(run(&mm), -1);
	c->cr4 |= CR4_OSFXSR;
	ck_assert_int_eq(run(&in), -1);
	/* MMX: #NM with TS, #MF with a pending x87 exception */
	c->cr0 |= CR0_TS;
	ck_assert_int_eq(run(&mm), EXC_NM);
	c->cr0 &= ~CR0_TS;
	c->fpu.fsw = 0x0081;
	ck_assert_int_eq(run(&mm), EXC_MF);
	c->fpu.fsw = 0;
	ck_assert_int_eq(run(&mm), -1);
}
END_TEST

START_TEST(t_memory_forms)
{
	for (int i = 0; i < 64; i++)
		ram[0x3000 + i] = (uint8_t)(i * 7 + 1);
	c->gpr[R_BX] = 0x3000;
	union xmm m0, m8;
	memcpy(&m0, ram + 0x3000, 16);
	memcpy(&m8, ram + 0x3008, 16);
	/* MOVAPS aligned ok, misaligned #GP(0); MOVUPS misaligned ok */
	struct insn in = mkm(0x128, MP_NONE, 1, 0);
	ck_assert_int_eq(run(&in), -1);
	xeq(&c->fpu.xmm[1], &m0, "movaps load", 0);
	in = mkm(0x128, MP_NONE, 1, 8);
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0);
	in = mkm(0x110, MP_NONE, 1, 8);
	ck_assert_int_eq(run(&in), -1);
	xeq(&c->fpu.xmm[1], &m8, "movups load", 0);
	/* PADDB xmm, m128 misaligned: #GP; MMX form: fine */
	in = mkm(0x1fc, MP_66, 1, 8);
	ck_assert_int_eq(run(&in), EXC_GP);
	in = mkm(0x1fc, MP_NONE, 1, 8);
	ck_assert_int_eq(run(&in), -1);
	/* scalar forms: misaligned fine; MOVSS load zeroes the upper part */
	c->fpu.xmm[2].q[0] = c->fpu.xmm[2].q[1] = ~0ull;
	in = mkm(0x110, MP_F3, 2, 3);
	ck_assert_int_eq(run(&in), -1);
	uint32_t v;
	memcpy(&v, ram + 0x3003, 4);
	ck_assert_uint_eq(c->fpu.xmm[2].d[0], v);
	ck_assert_uint_eq(c->fpu.xmm[2].d[1], 0);
	ck_assert_uint_eq(c->fpu.xmm[2].q[1], 0);
	in = mkm(0x158, MP_F2, 2, 5); /* addsd xmm2, [rbx+5] */
	ck_assert_int_eq(run(&in), -1);
	/* MOVDQA store misaligned #GP and memory unchanged; MOVDQU store ok */
	c->fpu.xmm[3].q[0] = 0x1111111111111111ull;
	c->fpu.xmm[3].q[1] = 0x2222222222222222ull;
	in = mkm(0x17f, MP_66, 3, 0x24);
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(ram[0x3024], (uint8_t)(0x24 * 7 + 1));
	in = mkm(0x17f, MP_F3, 3, 0x24);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(ram[0x3024], 0x11);
	ck_assert_uint_eq(ram[0x3033], 0x22);
	/* MOVD/MOVQ: xmm <- m32 zero-extends, r/m64 <- xmm with REX.W */
	in = mkm(0x16e, MP_66, 4, 0);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.xmm[4].q[0], m0.d[0]);
	ck_assert_uint_eq(c->fpu.xmm[4].q[1], 0);
	c->fpu.xmm[4].q[0] = 0xabcdef0123456789ull;
	in = mkr(0x17e, MP_66, 4, R_R11);
	in.pfx = PFX_REX | PFX_REXW;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_R11], 0xabcdef0123456789ull);
	in.pfx = 0;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_R11], 0x23456789u);
	/* MOVQ m64, xmm (66 0F D6) and MOVQ xmm, m64 (F3 0F 7E) */
	in = mkm(0x1d6, MP_66, 4, 0x40);
	ck_assert_int_eq(run(&in), -1);
	uint64_t q;
	memcpy(&q, ram + 0x3040, 8);
	ck_assert_uint_eq(q, 0xabcdef0123456789ull);
	c->fpu.xmm[5].q[1] = 7;
	in = mkm(0x17e, MP_F3, 5, 0x40);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.xmm[5].q[0], q);
	ck_assert_uint_eq(c->fpu.xmm[5].q[1], 0);
	/* MOVHPS load / MOVLPS store */
	in = mkm(0x116, MP_NONE, 5, 0);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.xmm[5].q[1], m0.q[0]);
	ck_assert_uint_eq(c->fpu.xmm[5].q[0], q);
	in = mkm(0x113, MP_NONE, 5, 0x38);
	ck_assert_int_eq(run(&in), -1);
	memcpy(&q, ram + 0x3038, 8);
	ck_assert_uint_eq(q, c->fpu.xmm[5].q[0]);
	/* MASKMOVDQU: bytes with mask bit 7 set go to DS:RDI */
	c->gpr[R_DI] = 0x3100;
	memset(ram + 0x3100, 0xee, 16);
	for (int i = 0; i < 16; i++) {
		c->fpu.xmm[6].b[i] = (uint8_t)i;
		c->fpu.xmm[7].b[i] = (i & 1) ? 0x80 : 0x7f;
	}
	in = mkr(0x1f7, MP_66, 6, 7);
	ck_assert_int_eq(run(&in), -1);
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(ram[0x3100 + i], (i & 1) ? i : 0xee);
	/* PINSRW from memory, PEXTRB to memory */
	in = mkm(0x1c4, MP_66, 6, 0);
	in.imm = 3;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.xmm[6].w[3], m0.w[0]);
	in = mkm(0x314, MP_66, 6, 0x50);
	in.imm = 5;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(ram[0x3050], 5);
	/* PMOVZXBD xmm, m32 (unaligned) */
	in = mkm(0x231, MP_66, 8, 1);
	ck_assert_int_eq(run(&in), -1);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(c->fpu.xmm[8].d[i], ram[0x3001 + i]);
	/* PCMPISTRI with an unaligned memory operand is allowed */
	in = mkm(0x363, MP_66, 8, 1);
	ck_assert_int_eq(run(&in), -1);
	/* Alignment is checked on the linear address: 32-bit code with a
	 * DS base of 8 makes an aligned offset misaligned and vice versa. */
	c->msr.efer = 0;
	set_seg(S_CS, 0xc09b);
	cpu_update_mode(c);
	c->mode = MODE_PROT;
	c->seg[S_DS].base = 8;
	in = mkm(0x128, MP_NONE, 1, 0);
	in.asz = 4;
	ck_assert_int_eq(run(&in), EXC_GP);
	in = mkm(0x128, MP_NONE, 1, 8);
	in.asz = 4;
	ck_assert_int_eq(run(&in), -1);
	xeq(&c->fpu.xmm[1], (const union xmm *)(ram + 0x3010), "movaps ds.base", 0);
	c->seg[S_DS].base = 0;
	c->msr.efer = EFER_LME | EFER_LMA;
	set_seg(S_CS, 0xa09b);
	cpu_update_mode(c);
	c->mode = MODE_LONG64;
	/* MOVNTI m32, r32 */
	c->gpr[R_DX] = 0x55667788;
	in = mkm(0x1c3, MP_NONE, R_DX, 0x60);
	ck_assert_int_eq(run(&in), -1);
	memcpy(&v, ram + 0x3060, 4);
	ck_assert_uint_eq(v, 0x55667788u);
}
END_TEST

/* MMX forms with immediates or GPR operands, and the MMX <-> XMM moves. */
START_TEST(t_mmx_misc)
{
	for (int it = 0; it < ITER; it++) {
		union xmm a, b, x;
		rnd_int(&a);
		rnd_int(&b);
		rnd_int(&x);
		v2si ma, mb, r1, r2, r3;
		memcpy(&ma, &a.q[0], 8);
		memcpy(&mb, &b.q[0], 8);
		r1 = ma;
		r2 = ma;
		r3 = ma;
		uint32_t g = (uint32_t)rnd(), ex, msk;
		__asm__("pshufw $0x9c, %1, %0" : "=y"(r1) : "y"(mb));
		__asm__("palignr $3, %1, %0" : "+y"(r2) : "y"(mb));
		__asm__("pinsrw $2, %1, %0" : "+y"(r3) : "r"(g));
		__asm__("pextrw $3, %1, %0" : "=r"(ex) : "y"(mb));
		__asm__("pmovmskb %1, %0" : "=r"(msk) : "y"(mb));
		__asm__ volatile("emms");
		uint64_t w1, w2, w3;
		memcpy(&w1, &r1, 8);
		memcpy(&w2, &r2, 8);
		memcpy(&w3, &r3, 8);
		c->fpu.fpr[0].mant = a.q[0];
		c->fpu.fpr[7].mant = b.q[0];
		struct insn in = mkr(0x170, MP_NONE, 0, 7);
		in.imm = 0x9c;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.fpr[0].mant, w1);
		c->fpu.fpr[0].mant = a.q[0];
		in = mkr(0x30f, MP_NONE, 0, 7);
		in.imm = 3;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.fpr[0].mant, w2);
		c->fpu.fpr[0].mant = a.q[0];
		c->gpr[R_R12] = g;
		in = mkr(0x1c4, MP_NONE, 0, R_R12);
		in.imm = 2;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.fpr[0].mant, w3);
		in = mkr(0x1c5, MP_NONE, R_R13, 7);
		in.imm = 3;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->gpr[R_R13], ex);
		in = mkr(0x1d7, MP_NONE, R_R13, 7);
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->gpr[R_R13], msk);
		/* MOVD mm, r32 / MOVQ mm, r64 / MOVD r32, mm */
		c->gpr[R_AX] = x.q[0];
		in = mkr(0x16e, MP_NONE, 4, R_AX);
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.fpr[4].mant, x.d[0]);
		in.pfx = PFX_REX | PFX_REXW;
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.fpr[4].mant, x.q[0]);
		in = mkr(0x17e, MP_NONE, 7, R_DX);
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->gpr[R_DX], b.d[0]);
		/* MOVQ2DQ xmm, mm; MOVDQ2Q mm, xmm; MOVQ mm, mm */
		c->fpu.xmm[9] = x;
		in = mkr(0x1d6, MP_F3, 9, 7);
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.xmm[9].q[0], b.q[0]);
		ck_assert_uint_eq(c->fpu.xmm[9].q[1], 0);
		c->fpu.xmm[10] = x;
		in = mkr(0x1d6, MP_F2, 1, 10);
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.fpr[1].mant, x.q[0]);
		in = mkr(0x16f, MP_NONE, 2, 1);
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.fpr[2].mant, x.q[0]);
		in = mkr(0x17f, MP_NONE, 1, 3); /* movq mm3, mm1 (store form) */
		ck_assert_int_eq(run(&in), -1);
		ck_assert_uint_eq(c->fpu.fpr[3].mant, x.q[0]);
		ck_assert_uint_eq(c->fpu.fpr[3].sexp, 0xffff);
	}
	/* MASKMOVQ */
	c->gpr[R_DI] = 0x4000;
	memset(ram + 0x4000, 0xcc, 8);
	c->fpu.fpr[1].mant = 0x0807060504030201ull;
	c->fpu.fpr[2].mant = 0x8000800000808000ull;
	struct insn in = mkr(0x1f7, MP_NONE, 1, 2);
	ck_assert_int_eq(run(&in), -1);
	static const uint8_t want[8] = { 0xcc, 0x02, 0x03, 0xcc, 0xcc, 0x06, 0xcc, 0x08 };
	ck_assert_mem_eq(ram + 0x4000, want, 8);
}
END_TEST

/* Memory forms of the SSE4.1 extract/insert/stream loads, LDDQU, MOVNTPS. */
START_TEST(t_sse41_mem)
{
	for (int i = 0; i < 64; i++)
		ram[0x5000 + i] = (uint8_t)(0xa0 + i);
	c->gpr[R_BX] = 0x5000;
	union xmm m0, m1;
	memcpy(&m0, ram + 0x5000, 16);
	memcpy(&m1, ram + 0x5001, 16);
	struct insn in = mkm(0x22a, MP_66, 3, 0); /* movntdqa */
	ck_assert_int_eq(run(&in), -1);
	xeq(&c->fpu.xmm[3], &m0, "movntdqa", 0);
	in = mkm(0x22a, MP_66, 3, 1);
	ck_assert_int_eq(run(&in), EXC_GP);
	in = mkm(0x1f0, MP_F2, 4, 1); /* lddqu: unaligned */
	ck_assert_int_eq(run(&in), -1);
	xeq(&c->fpu.xmm[4], &m1, "lddqu", 0);
	in = mkm(0x12b, MP_NONE, 4, 8); /* movntps misaligned */
	ck_assert_int_eq(run(&in), EXC_GP);
	/* PINSRQ xmm, m64 / PEXTRQ m64 / EXTRACTPS m32 / PEXTRW m16 */
	in = mkm(0x322, MP_66, 4, 3);
	in.pfx = PFX_REX | PFX_REXW;
	in.imm = 1;
	ck_assert_int_eq(run(&in), -1);
	uint64_t q;
	memcpy(&q, ram + 0x5003, 8);
	ck_assert_uint_eq(c->fpu.xmm[4].q[1], q);
	ck_assert_uint_eq(c->fpu.xmm[4].q[0], m1.q[0]);
	in = mkm(0x316, MP_66, 4, 0x20);
	in.pfx = PFX_REX | PFX_REXW;
	in.imm = 1;
	ck_assert_int_eq(run(&in), -1);
	memcpy(&q, ram + 0x5020, 8);
	ck_assert_uint_eq(q, c->fpu.xmm[4].q[1]);
	in = mkm(0x317, MP_66, 4, 0x30);
	in.imm = 2;
	ck_assert_int_eq(run(&in), -1);
	uint32_t v;
	memcpy(&v, ram + 0x5030, 4);
	ck_assert_uint_eq(v, c->fpu.xmm[4].d[2]);
	in = mkm(0x315, MP_66, 4, 0x38);
	in.imm = 5;
	ck_assert_int_eq(run(&in), -1);
	uint16_t h;
	memcpy(&h, ram + 0x5038, 2);
	ck_assert_uint_eq(h, c->fpu.xmm[4].w[5]);
	/* EXTRACTPS to a register zero-extends */
	c->gpr[R_CX] = ~0ull;
	in = mkr(0x317, MP_66, 4, R_CX);
	in.imm = 3;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_CX], c->fpu.xmm[4].d[3]);
	/* INSERTPS xmm, m32: imm[7:6] ignored, m32 goes to imm[5:4] */
	in = mkm(0x321, MP_66, 4, 4);
	in.imm = 0xe1;
	ck_assert_int_eq(run(&in), -1);
	memcpy(&v, ram + 0x5004, 4);
	ck_assert_uint_eq(c->fpu.xmm[4].d[2], v);
	ck_assert_uint_eq(c->fpu.xmm[4].d[0], 0);
	/* CVTPI2PS xmm, m64 leaves the x87 tags alone; the register form
	 * switches to MMX state */
	c->fpu.ftw = 0xffff;
	c->fpu.fsw = 0x3800;
	in = mkm(0x12a, MP_NONE, 5, 0);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.ftw, 0xffff);
	in = mkr(0x12a, MP_NONE, 5, 1);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->fpu.ftw, 0);
	ck_assert_uint_eq(c->fpu.fsw & 0x3800, 0);
}
END_TEST

/* ---------------- through the real decoder ---------------- */

/* Decode bytes as 64-bit code (model m, NULL = everything) and run. */
static int run_bytes(const uint8_t *b, unsigned n, const struct cpu_model *m, struct insn *in)
{
	memset(in, 0, sizeof(*in));
	int len = decode_bytes(b, n, 64, m, in);
	ck_assert_int_eq(len, (int)n);
	jmp_buf jb;
	c->exc_jmp = &jb;
	c->ip_start = c->rip;
	c->rip += (unsigned)len;
	if (setjmp(jb)) {
		c->exc_jmp = NULL;
		c->rip = c->ip_start;
		return c->exc_vector;
	}
	in->fn(c, in);
	c->exc_jmp = NULL;
	return -1;
}

START_TEST(t_decoded)
{
	struct insn in;
	union xmm a = { .q = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull } };
	union xmm b = { .q = { 0x1716151413121110ull, 0x1f1e1d1c1b1a1918ull } };
	/* pshufd xmm0, xmm1, 0x1b */
	static const uint8_t pshufd[] = { 0x66, 0x0f, 0x70, 0xc1, 0x1b };
	c->fpu.xmm[1] = a;
	ck_assert_int_eq(run_bytes(pshufd, sizeof(pshufd), NULL, &in), -1);
	ck_assert_uint_eq(c->fpu.xmm[0].d[0], a.d[3]);
	ck_assert_uint_eq(c->fpu.xmm[0].d[3], a.d[0]);
	/* psrldq xmm0, 5 (66 0F 73 /3 ib) */
	static const uint8_t psrldq[] = { 0x66, 0x0f, 0x73, 0xd8, 0x05 };
	c->fpu.xmm[0] = a;
	ck_assert_int_eq(run_bytes(psrldq, sizeof(psrldq), NULL, &in), -1);
	ck_assert_uint_eq(c->fpu.xmm[0].b[0], 5);
	ck_assert_uint_eq(c->fpu.xmm[0].b[10], 15);
	ck_assert_uint_eq(c->fpu.xmm[0].b[11], 0);
	/* psrlw mm0, 0x83: imm8 >= 16 clears */
	static const uint8_t psrlw[] = { 0x0f, 0x71, 0xd0, 0x83 };
	c->fpu.fpr[0].mant = ~0ull;
	ck_assert_int_eq(run_bytes(psrlw, sizeof(psrlw), NULL, &in), -1);
	ck_assert_uint_eq(c->fpu.fpr[0].mant, 0);
	/* palignr xmm0, xmm1, 0x84: shift count 132 clears */
	static const uint8_t palignr[] = { 0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x84 };
	c->fpu.xmm[0] = b;
	ck_assert_int_eq(run_bytes(palignr, sizeof(palignr), NULL, &in), -1);
	ck_assert_uint_eq(c->fpu.xmm[0].q[0] | c->fpu.xmm[0].q[1], 0);
	/* palignr xmm0, xmm1, 4 */
	static const uint8_t palignr4[] = { 0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x04 };
	c->fpu.xmm[0] = b;
	ck_assert_int_eq(run_bytes(palignr4, sizeof(palignr4), NULL, &in), -1);
	ck_assert_uint_eq(c->fpu.xmm[0].b[0], 4);
	ck_assert_uint_eq(c->fpu.xmm[0].b[12], 0x10);
	/* movq rax, xmm0 (66 REX.W 0F 7E) */
	static const uint8_t movq[] = { 0x66, 0x48, 0x0f, 0x7e, 0xc0 };
	c->fpu.xmm[0] = b;
	ck_assert_int_eq(run_bytes(movq, sizeof(movq), NULL, &in), -1);
	ck_assert_uint_eq(c->gpr[R_AX], b.q[0]);
	/* pcmpistri xmm0, xmm8, 0x0c (equal ordered): "cd" in "abcdef" */
	static const uint8_t pcmpistri[] = { 0x66, 0x41, 0x0f, 0x3a, 0x63, 0xc0, 0x0c };
	memset(&c->fpu.xmm[0], 0, 16);
	memset(&c->fpu.xmm[8], 0, 16);
	memcpy(&c->fpu.xmm[0], "cd", 2);
	memcpy(&c->fpu.xmm[8], "abcdef", 6);
	ck_assert_int_eq(run_bytes(pcmpistri, sizeof(pcmpistri), NULL, &in), -1);
	ck_assert_uint_eq(c->gpr[R_CX], 2);
	/* addss xmm0, xmm1 and cmpps xmm0, xmm1, 5 (NLT) */
	static const uint8_t addss[] = { 0xf3, 0x0f, 0x58, 0xc1 };
	union xmm f = { .f = { 1.5f, 2.0f, 3.0f, 4.0f } };
	c->fpu.xmm[0] = f;
	c->fpu.xmm[1] = f;
	ck_assert_int_eq(run_bytes(addss, sizeof(addss), NULL, &in), -1);
	ck_assert(c->fpu.xmm[0].f[0] == 3.0f && c->fpu.xmm[0].f[1] == 2.0f);
	static const uint8_t cmpps[] = { 0x0f, 0xc2, 0xc1, 0x05 };
	ck_assert_int_eq(run_bytes(cmpps, sizeof(cmpps), NULL, &in), -1);
	ck_assert_uint_eq(c->fpu.xmm[0].d[0], ~0u);
	ck_assert_uint_eq(c->fpu.xmm[0].d[1], ~0u);
	/* feature gating: PCMPISTRI #UD without SSE4.2, AESENC without AES */
	struct cpu_model m;
	memset(&m, 0, sizeof(m));
	model_set(&m, FEAT_SSE, true);
	model_set(&m, FEAT_SSE2, true);
	ck_assert_int_eq(run_bytes(pcmpistri, sizeof(pcmpistri), &m, &in), EXC_UD);
	static const uint8_t aesenc[] = { 0x66, 0x0f, 0x38, 0xdc, 0xc1 };
	ck_assert_int_eq(run_bytes(aesenc, sizeof(aesenc), &m, &in), EXC_UD);
	model_set(&m, FEAT_SSE42, true);
	model_set(&m, FEAT_AES, true);
	ck_assert_int_eq(run_bytes(pcmpistri, sizeof(pcmpistri), &m, &in), -1);
	ck_assert_int_eq(run_bytes(aesenc, sizeof(aesenc), &m, &in), -1);
	/* VEX forms are not implemented: VPSHUFD must not reach our handler */
	static const uint8_t vpshufd[] = { 0xc5, 0xf9, 0x70, 0xc1, 0x1b };
	struct insn leg;
	run_bytes(pshufd, sizeof(pshufd), NULL, &leg);
	memset(&in, 0, sizeof(in));
	if (decode_bytes(vpshufd, sizeof(vpshufd), 64, NULL, &in) > 0)
		ck_assert_ptr_ne((void *)in.fn, (void *)leg.fn);
}
END_TEST

static Suite *simd_suite(void)
{
	Suite *s = suite_create("simd");
	TCase *t = tcase_create("core");
	tcase_set_timeout(t, 60);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, t_int_xmm);
	tcase_add_test(t, t_int_mmx);
	tcase_add_test(t, t_imm_and_moves);
	tcase_add_test(t, t_shift_imm);
	tcase_add_test(t, t_sse41_misc);
	tcase_add_test(t, t_checks);
	tcase_add_test(t, t_memory_forms);
	tcase_add_test(t, t_mmx_misc);
	tcase_add_test(t, t_sse41_mem);
	tcase_add_test(t, t_decoded);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(simd_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
