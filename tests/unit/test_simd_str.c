/*
 * tests/unit/test_simd_str.c — unit tests of SSE4.2 PCMPxSTRx (every imm8
 * mode of all four instructions against the host CPU, REX.W lengths) and of
 * AES-NI (FIPS-197 Appendix C.1 through AESKEYGENASSIST, AESENC(LAST),
 * AESIMC, AESDEC(LAST)). Harness: simd_test.h.
 */
/* Rows of macro invocations (instruction tables) that clang-format cannot
 * lay out stably: the file is kept as written. */
/* clang-format off */
#include "simd_test.h"

/* ---------------- PCMPxSTRx ---------------- */

#define R8(X, b) \
	X((b) + 0) X((b) + 1) X((b) + 2) X((b) + 3) X((b) + 4) X((b) + 5) X((b) + 6) X((b) + 7)
#define R128(X) R8(X, 0) R8(X, 8) R8(X, 16) R8(X, 24) R8(X, 32) R8(X, 40) R8(X, 48) R8(X, 56) \
	R8(X, 64) R8(X, 72) R8(X, 80) R8(X, 88) R8(X, 96) R8(X, 104) R8(X, 112) R8(X, 120)

struct pres {
	uint32_t ecx;
	union xmm x0;
	uint32_t flags; /* CF ZF SF OF */
};

#define FL(cf, zf, sf, of) ((cf ? F_CF : 0) | (zf ? F_ZF : 0) | (sf ? F_SF : 0) | (of ? F_OF : 0))
#define P_ESTRI(i)                                                                         \
	case i:                                                                            \
		__asm__("pcmpestri %[im], %[b], %[a]"                                      \
			: "=c"(ecx), "=@ccc"(cf), "=@ccz"(zf), "=@ccs"(sf), "=@cco"(of)    \
			: [a] "x"(av), [b] "x"(bv), "a"(la), "d"(lb), [im] "i"(i));        \
		break;
#define P_ISTRI(i)                                                                         \
	case i:                                                                            \
		__asm__("pcmpistri %[im], %[b], %[a]"                                      \
			: "=c"(ecx), "=@ccc"(cf), "=@ccz"(zf), "=@ccs"(sf), "=@cco"(of)    \
			: [a] "x"(av), [b] "x"(bv), [im] "i"(i));                          \
		break;
#define P_ESTRM(i)                                                                         \
	case i:                                                                            \
		__asm__("pcmpestrm %[im], %[b], %[a]"                                      \
			: "=Yz"(x0), "=@ccc"(cf), "=@ccz"(zf), "=@ccs"(sf), "=@cco"(of)    \
			: [a] "x"(av), [b] "x"(bv), "a"(la), "d"(lb), [im] "i"(i));        \
		break;
#define P_ISTRM(i)                                                                         \
	case i:                                                                            \
		__asm__("pcmpistrm %[im], %[b], %[a]"                                      \
			: "=Yz"(x0), "=@ccc"(cf), "=@ccz"(zf), "=@ccs"(sf), "=@cco"(of)    \
			: [a] "x"(av), [b] "x"(bv), [im] "i"(i));                          \
		break;

static struct pres host_pcmp(int which, unsigned imm, const union xmm *a, const union xmm *b,
			     int32_t la, int32_t lb)
{
	v2di av, bv, x0 = { 0, 0 };
	memcpy(&av, a, 16);
	memcpy(&bv, b, 16);
	uint32_t ecx = 0;
	uint8_t cf = 0, zf = 0, sf = 0, of = 0;
	switch (which) {
	case 0:
		switch (imm) { R128(P_ESTRI) }
		break;
	case 1:
		switch (imm) { R128(P_ISTRI) }
		break;
	case 2:
		switch (imm) { R128(P_ESTRM) }
		break;
	default:
		switch (imm) { R128(P_ISTRM) }
	}
	struct pres r;
	r.ecx = ecx;
	memcpy(&r.x0, &x0, 16);
	r.flags = FL(cf, zf, sf, of);
	return r;
}

static void rnd_str(union xmm *v)
{
	/* small alphabet so that matches and ranges happen; some zeros */
	for (int i = 0; i < 16; i++) {
		unsigned r = (unsigned)rnd() % 16;
		v->b[i] = r == 0 ? 0 : r < 12 ? (uint8_t)('a' + r % 5) : (uint8_t)rnd();
	}
	if (rnd() % 4 == 0)
		v->b[rnd() % 16] = 0;
}

START_TEST(t_pcmpstr)
{
	static const uint16_t ops[4] = { 0x361, 0x363, 0x360, 0x362 };
	for (int which = 0; which < 4; which++)
		for (unsigned imm = 0; imm < 128; imm++)
			for (int it = 0; it < 40; it++) {
				union xmm a, b;
				rnd_str(&a);
				rnd_str(&b);
				int32_t la = (int32_t)(rnd() % 41) - 20, lb = (int32_t)(rnd() % 41) - 20;
				if (it == 0)
					la = INT32_MIN;
				struct pres want = host_pcmp(which, imm, &a, &b, la, lb);
				c->fpu.xmm[6] = a;
				c->fpu.xmm[11] = b;
				c->fpu.xmm[0].q[0] = c->fpu.xmm[0].q[1] = 0x5555;
				c->gpr[R_AX] = (uint32_t)la | 0xdead00000000ull;
				c->gpr[R_DX] = (uint32_t)lb;
				c->gpr[R_CX] = ~0ull;
				struct insn in = mkr(ops[which], MP_66, 6, 11);
				in.imm = imm;
				ck_assert_int_eq(run(&in), -1);
				uint32_t fl = (uint32_t)flags_get(c);
				ck_assert_msg((fl & (F_CF | F_ZF | F_SF | F_OF)) == want.flags &&
						      !(fl & (F_AF | F_PF)),
					      "pcmpstr %d imm %#x flags %#x want %#x", which, imm,
					      fl & F_ARITH, want.flags);
				if (which < 2)
					ck_assert_msg(c->gpr[R_CX] == want.ecx,
						      "pcmpstr %d imm %#x ecx %llu want %u", which, imm,
						      (unsigned long long)c->gpr[R_CX], want.ecx);
				else
					xeq(&c->fpu.xmm[0], &want.x0, "pcmpstrm", (int)imm);
			}
	/* REX.W: 64-bit lengths (RAX = 2^32 + 5 saturates to 16 only with W). */
	union xmm a = { .q = { 0x6867666564636261ull, 0x706f6e6d6c6b6a69ull } };
	c->fpu.xmm[1] = a;
	c->fpu.xmm[2] = a;
	c->gpr[R_AX] = 0x100000005ull;
	c->gpr[R_DX] = 16;
	struct insn in = mkr(0x361, MP_66, 1, 2);
	in.imm = 0x08; /* equal each, unsigned bytes, negative polarity off */
	in.pfx = PFX_REX | PFX_REXW;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_CX], 0);
	ck_assert_uint_eq(flags_get(c) & F_SF, 0);
	in.pfx = 0;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_ne(flags_get(c) & F_SF, 0); /* |EAX| = 5 < 16 */
}
END_TEST

/* ---------------- AES (FIPS-197 Appendix C.1) ---------------- */

static void hexv(union xmm *v, const char *hex)
{
	for (int i = 0; i < 16; i++) {
		unsigned x;
		sscanf(hex + 2 * i, "%2x", &x);
		v->b[i] = (uint8_t)x;
	}
}

START_TEST(t_aes_fips197)
{
	static const uint8_t rcon[10] = { 1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36 };
	union xmm key, pt, ct, rk[11];
	hexv(&key, "000102030405060708090a0b0c0d0e0f");
	hexv(&pt, "00112233445566778899aabbccddeeff");
	hexv(&ct, "69c4e0d86a7b0430d8cdb78070b4c55a");
	/* key expansion with AESKEYGENASSIST (Intel's AES-NI white paper) */
	rk[0] = key;
	for (int r = 1; r <= 10; r++) {
		c->fpu.xmm[2] = rk[r - 1];
		struct insn in = mkr(0x3df, MP_66, 1, 2);
		in.imm = rcon[r - 1];
		ck_assert_int_eq(run(&in), -1);
		uint32_t t = c->fpu.xmm[1].d[3];
		union xmm k = rk[r - 1];
		k.d[0] ^= t;
		k.d[1] ^= k.d[0];
		k.d[2] ^= k.d[1];
		k.d[3] ^= k.d[2];
		rk[r] = k;
	}
	union xmm last;
	hexv(&last, "13111d7fe3944a17f307a78b4d2b30c5");
	xeq(&rk[10], &last, "key schedule round 10", 10);
	/* encrypt */
	c->fpu.xmm[3] = pt;
	c->fpu.xmm[3].q[0] ^= rk[0].q[0];
	c->fpu.xmm[3].q[1] ^= rk[0].q[1];
	for (int r = 1; r <= 10; r++) {
		c->fpu.xmm[4] = rk[r];
		struct insn in = mkr(r == 10 ? 0x2dd : 0x2dc, MP_66, 3, 4);
		ck_assert_int_eq(run(&in), -1);
	}
	xeq(&c->fpu.xmm[3], &ct, "aes-128 encrypt", 0);
	/* decrypt with the equivalent inverse cipher (AESIMC'd round keys) */
	c->fpu.xmm[3].q[0] ^= rk[10].q[0];
	c->fpu.xmm[3].q[1] ^= rk[10].q[1];
	for (int r = 9; r >= 0; r--) {
		union xmm k = rk[r];
		if (r) {
			c->fpu.xmm[5] = rk[r];
			struct insn in = mkr(0x2db, MP_66, 6, 5);
			ck_assert_int_eq(run(&in), -1);
			k = c->fpu.xmm[6];
		}
		c->fpu.xmm[4] = k;
		struct insn in = mkr(r == 0 ? 0x2df : 0x2de, MP_66, 3, 4);
		ck_assert_int_eq(run(&in), -1);
	}
	xeq(&c->fpu.xmm[3], &pt, "aes-128 decrypt", 0);
}
END_TEST

static Suite *simd_str_suite(void)
{
	Suite *s = suite_create("simd_str");
	TCase *t = tcase_create("core");
	tcase_set_timeout(t, 60);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, t_pcmpstr);
	tcase_add_test(t, t_aes_fips197);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(simd_str_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
