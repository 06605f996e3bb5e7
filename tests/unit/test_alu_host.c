/*
 * tests/unit/test_alu_host.c — differential tests of the ALU and bit
 * handlers against the host CPU (x86-64 hosts only; elsewhere the suite is
 * empty): random operands through the handler and through the same
 * instruction on the host, results and the flags the SDM defines compared
 * (plus BSF/BSR's undefined flags, where we follow Intel and AMD).
 */
#include "test_alu.h"

/* ---------------- differential against the host CPU ---------------- */
#if defined(__x86_64__)

static uint64_t rnd64(void)
{
	uint64_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 16 ^ (uint64_t)(rand() & 0xffff);
	switch (rand() & 7) {
	case 0:
		return v & 0xff;
	case 1:
		return ~(v & 3);
	case 2:
		return v & 0xffffffff;
	default:
		return v;
	}
}

/* Host: "mn %cl, %reg" / "mn %src, %dst" with flags preset; 64-bit
 * operands; red zone skipped. */
#define HOST(asmstr, ...)                                                          \
	__asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[fi]\n\tpopf\n\t" asmstr \
			 "\n\tpushf\n\tpop %[fo]\n\tlea 128(%%rsp), %%rsp" __VA_ARGS__)

/* Operand-list pieces: host flags out (hf) and flags in (fin). */
#define FO [fo] "=&r"(hf)
#define FI [fi] "r"(fin)
/* The flags BMI1/BMI2 define. */
#define DEF4 (F_ZF | F_CF | F_OF | F_SF)

static uint64_t host_rot(int r, int size, uint64_t a, uint8_t n, uint64_t fin, uint64_t *fo)
{
	/* r selects the group-2 operation; size 1/2/4/8. */
#define ROT1(mn, sfx, mod) \
	HOST(mn sfx " %%cl, %" mod "[a]", : [a] "+r"(a), [fo] "=&r"(*fo) : "c"(n), FI : "cc")
#define ROTS(sfx, mod)                 \
	switch (r) {                   \
	case 0:                        \
		ROT1("rol", sfx, mod); \
		break;                 \
	case 1:                        \
		ROT1("ror", sfx, mod); \
		break;                 \
	case 2:                        \
		ROT1("rcl", sfx, mod); \
		break;                 \
	case 3:                        \
		ROT1("rcr", sfx, mod); \
		break;                 \
	case 4:                        \
		ROT1("shl", sfx, mod); \
		break;                 \
	case 5:                        \
		ROT1("shr", sfx, mod); \
		break;                 \
	case 6:                        \
		ROT1("sal", sfx, mod); \
		break;                 \
	default:                       \
		ROT1("sar", sfx, mod); \
		break;                 \
	}
	switch (size) {
	case 1:
		ROTS("b", "b");
		break;
	case 2:
		ROTS("w", "w");
		break;
	case 4:
		ROTS("l", "k");
		break;
	default:
		ROTS("q", "q");
		break;
	}
	return a;
}

START_TEST(t_host_rotates)
{
	static const int sizes[4] = { 1, 2, 4, 8 };

	mode_long64();
	srand(4242);
	for (int i = 0; i < 20000; i++) {
		int size = sizes[i & 3], r = (i >> 2) & 7;
		uint64_t m = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
		uint64_t a = rnd64(), fin = F_FIXED1 | ((uint64_t)rand() & F_ARITH), hf;
		uint8_t n = (uint8_t)(rand() & 0x7f);
		uint64_t hr = host_rot(r, size, a, n, fin, &hf) & m;
		uint32_t ef;
		uint64_t er = sh(r, (unsigned)size, a, n, (uint32_t)fin & F_ARITH, &ef) & m;
		unsigned masked = n & (size == 8 ? 63 : 31);
		/* OF is defined only for count 1; shifts also define SF/ZF/PF
		 * but not AF, and SHL/SHR leave CF undefined for counts of
		 * the operand width or more. */
		uint32_t def = masked == 1 ? (F_CF | F_OF) : F_CF;

		if (r >= 4 && masked) {
			def |= F_SF | F_ZF | F_PF;
			if (r != 7 && masked >= (unsigned)size * 8)
				def &= ~F_CF;
		} else if (r >= 4) {
			def = F_ARITH;
		}

		ck_assert_msg(er == hr, "rot /%d size %d a %#llx n %u: %#llx host %#llx", r, size,
			      (unsigned long long)a, n, (unsigned long long)er,
			      (unsigned long long)hr);
		ck_assert_msg((ef & def) == (hf & def),
			      "rot /%d size %d a %#llx n %u: f %#x host %#x", r, size,
			      (unsigned long long)a, n, ef, (unsigned)hf);
		/* rotates change nothing else */
		if (r < 4)
			ck_assert_uint_eq(ef & ~(F_CF | F_OF), fin & F_ARITH & ~(F_CF | F_OF));
	}
}
END_TEST

START_TEST(t_host_shxd_muldiv_bits)
{
	mode_long64();
	srand(99);
	for (int i = 0; i < 20000; i++) {
		uint64_t a = rnd64(), b = rnd64(), fin = F_FIXED1, hf, hr = a, hd = 0, ha;
		uint8_t n = (uint8_t)(1 + rand() % 63);
		struct insn in;
		int size = (i & 1) ? 8 : 4;

		/* SHLD/SHRD 32/64: result, CF, SF/ZF/PF; OF when n == 1 */
		c->gpr[R_AX] = a;
		c->gpr[R_DX] = b;
		c->gpr[R_CX] = n;
		in = mkr((i & 2) ? 0x1ad : 0x1a5, (unsigned)size, R_DX, R_AX);
		run(&in);
		if (size == 8) {
			if (i & 2)
				HOST("shrdq %%cl, %[b], %[a]",
				     : [a] "+r"(hr), FO
				     : [b] "r"(b), "c"(n), FI
				     : "cc");
			else
				HOST("shldq %%cl, %[b], %[a]",
				     : [a] "+r"(hr), FO
				     : [b] "r"(b), "c"(n), FI
				     : "cc");
		} else {
			if (n >= 32)
				continue;
			if (i & 2)
				HOST("shrdl %%cl, %k[b], %k[a]",
				     : [a] "+r"(hr), FO
				     : [b] "r"(b), "c"(n), FI
				     : "cc");
			else
				HOST("shldl %%cl, %k[b], %k[a]",
				     : [a] "+r"(hr), FO
				     : [b] "r"(b), "c"(n), FI
				     : "cc");
		}
		uint32_t def = F_CF | F_SF | F_ZF | F_PF | (n == 1 ? F_OF : 0);
		ck_assert_uint_eq(c->gpr[R_AX], hr);
		ck_assert_msg((fl() & def) == (hf & def),
			      "shxd %d n %u a %#llx b %#llx: %#x host %#x", i & 2, n,
			      (unsigned long long)a, (unsigned long long)b, fl(), (unsigned)hf);

		/* MUL/IMUL one-operand 64: results and CF/OF */
		c->gpr[R_AX] = a;
		c->gpr[R_BX] = b;
		in = mkr(0xf7, 8, (i & 2) ? 5 : 4, R_BX);
		run(&in);
		ha = a;
		if (i & 2)
			HOST("imulq %[b]", : "+a"(ha), "=d"(hd), FO : [b] "r"(b), FI : "cc");
		else
			HOST("mulq %[b]", : "+a"(ha), "=d"(hd), FO : [b] "r"(b), FI : "cc");
		ck_assert_uint_eq(c->gpr[R_AX], ha);
		ck_assert_uint_eq(c->gpr[R_DX], hd);
		ck_assert_uint_eq(fl() & (F_CF | F_OF), hf & (F_CF | F_OF));

		/* BSF/BSR/POPCNT/LZCNT/TZCNT 64 and PDEP/PEXT/BEXTR/BZHI 64 */
		uint64_t hv, ev;
		/* BSF/BSR, zero source included (destination unchanged); all
		 * flags match AMD (see cpu/ops_bit.c for the choice). */
		if (rand() & 1)
			b = 0;
		hv = 0x1234;
		c->gpr[R_DI] = hv;
		c->gpr[R_SI] = b;
		in = mkr((i & 2) ? 0x1bd : 0x1bc, 8, R_DI, R_SI);
		run(&in);
		if (i & 2)
			HOST("bsrq %[b], %[a]", : [a] "+r"(hv), FO : [b] "r"(b), FI : "cc");
		else
			HOST("bsfq %[b], %[a]", : [a] "+r"(hv), FO : [b] "r"(b), FI : "cc");
		ck_assert_uint_eq(c->gpr[R_DI], hv);
		ck_assert_uint_eq(fl(), hf & F_ARITH);
		c->gpr[R_SI] = b;
		in = mkr((i & 2) ? 0x1bd : 0x1bc, 8, R_DI, R_SI);
		in.mp = MP_F3;
		run(&in);
		if (i & 2)
			HOST("lzcntq %[b], %[a]", : [a] "=&r"(hv), FO : [b] "r"(b), FI : "cc");
		else
			HOST("tzcntq %[b], %[a]", : [a] "=&r"(hv), FO : [b] "r"(b), FI : "cc");
		ck_assert_uint_eq(c->gpr[R_DI], hv);
		ck_assert_uint_eq(fl() & (F_CF | F_ZF), hf & (F_CF | F_ZF));
		in = mkr(0x1b8, 8, R_DI, R_SI);
		in.mp = MP_F3;
		run(&in);
		HOST("popcntq %[b], %[a]", : [a] "=&r"(hv), FO : [b] "r"(b), FI : "cc");
		ck_assert_uint_eq(c->gpr[R_DI], hv);
		ck_assert_uint_eq(fl(), hf & F_ARITH);

		c->gpr[R_CX] = a;
		c->gpr[R_DX] = b;
		in = mkv(0x2f5, (i & 2) ? MP_F2 : MP_F3, 1, R_AX, R_DX, R_CX);
		run(&in);
		if (i & 2)
			__asm__("pdep %2, %1, %0" : "=r"(ev) : "r"(b), "r"(a));
		else
			__asm__("pext %2, %1, %0" : "=r"(ev) : "r"(b), "r"(a));
		ck_assert_uint_eq(c->gpr[R_AX], ev);
		uint64_t ctl = (uint64_t)(rand() & 0x7f7f);
		c->gpr[R_DX] = ctl;
		in = mkv(0x2f7, MP_NONE, 1, R_AX, R_DX, R_CX);
		run(&in);
		HOST("bextr %[c], %[s], %[d]",
		     : [d] "=&r"(ev), FO
		     : [s] "r"(a), [c] "r"(ctl), FI
		     : "cc");
		ck_assert_uint_eq(c->gpr[R_AX], ev);
		ck_assert_uint_eq(fl() & (F_ZF | F_CF | F_OF), hf & (F_ZF | F_CF | F_OF));
		in = mkv(0x2f5, MP_NONE, 1, R_AX, R_DX, R_CX);
		run(&in);
		HOST("bzhi %[c], %[s], %[d]",
		     : [d] "=&r"(ev), FO
		     : [s] "r"(a), [c] "r"(ctl), FI
		     : "cc");
		ck_assert_uint_eq(c->gpr[R_AX], ev);
		ck_assert_uint_eq(fl() & DEF4, hf & DEF4);
		/* BLSI/BLSMSK/BLSR: defined CF, ZF, SF, OF */
		int grp = 1 + rand() % 3;
		in = mkv(0x2f3, MP_NONE, 1, grp, R_AX, R_CX);
		run(&in);
		switch (grp) {
		case 1:
			HOST("blsr %[s], %[d]", : [d] "=&r"(ev), FO : [s] "r"(a), FI : "cc");
			break;
		case 2:
			HOST("blsmsk %[s], %[d]", : [d] "=&r"(ev), FO : [s] "r"(a), FI : "cc");
			break;
		default:
			HOST("blsi %[s], %[d]", : [d] "=&r"(ev), FO : [s] "r"(a), FI : "cc");
			break;
		}
		ck_assert_uint_eq(c->gpr[R_AX], ev);
		ck_assert_msg((fl() & DEF4) == (hf & DEF4), "bls /%d %#llx: %#x host %#x", grp,
			      (unsigned long long)a, fl(), (unsigned)hf);

		/* DIV 64 when it cannot fault */
		if (b && (a >> 32) < b) {
			c->gpr[R_DX] = a >> 32;
			c->gpr[R_AX] = a;
			c->gpr[R_BX] = b;
			in = mkr(0xf7, 8, 6, R_BX);
			ck_assert_int_eq(run(&in), -1);
			unsigned __int128 n128 = (unsigned __int128)(a >> 32) << 64 | a;

			ck_assert_uint_eq(c->gpr[R_AX], (uint64_t)(n128 / b));
		}
	}
}
END_TEST

/* MUL/IMUL/DIV/IDIV (F6/F7) and IMUL 0F AF for every size: the handler's
 * results and CF/OF against the host; division only where the emulator
 * does not raise #DE, and #DE exactly where the quotient does not fit. */
START_TEST(t_host_muldiv_sizes)
{
	static const int sizes[4] = { 1, 2, 4, 8 };

	mode_long64();
	srand(31337);
	for (int i = 0; i < 40000; i++) {
		int size = sizes[i & 3], r = 4 + ((i >> 2) & 3);
		uint64_t m = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
		uint64_t a = rnd64(), d = rnd64(), b = rnd64() & m, fin = F_FIXED1, hf;
		uint64_t ha, hd;
		struct insn in;
		int exc;

		if (r >= 6 && (rand() & 1))
			d = (d & 0xff) ? 0 : (uint64_t)-1; /* small high halves */
		ha = a;
		hd = d;
		c->gpr[R_AX] = a;
		c->gpr[R_DX] = d;
		c->gpr[R_BX] = b;
		in = mkr(size == 1 ? 0xf6 : 0xf7, size == 1 ? 4 : (unsigned)size, r, R_BX);
		exc = run(&in);
		if (r >= 6) {
			/* Expected fault from the arithmetic itself. */
			unsigned __int128 un;
			__int128 sn;
			bool fault;
			int bits = size * 8;

			if (size == 1) {
				un = (uint16_t)a;
				sn = (int16_t)a;
			} else {
				un = ((unsigned __int128)(d & m) << bits) | (a & m);
				sn = (__int128)(un << (128 - 2 * bits)) >> (128 - 2 * bits);
			}
			if (b == 0) {
				fault = true;
			} else if (r == 6) {
				fault = un / b > m;
			} else {
				__int128 sb = (int64_t)(b << (64 - bits)) >> (64 - bits);
				__int128 q = (sb == -1) ? -sn : sn / sb;
				__int128 lim = (__int128)1 << (bits - 1);

				fault = q < -lim || q >= lim;
			}
			ck_assert_int_eq(exc, fault ? EXC_DE : -1);
			if (fault)
				continue;
		} else {
			ck_assert_int_eq(exc, -1);
		}
#define HM(mn, sfx, mod) \
	HOST(mn sfx " %" mod "[b]", : "+a"(ha), "+d"(hd), FO : [b] "q"(b), FI : "cc")
#define HMS(mn)                   \
	switch (size) {           \
	case 1:                   \
		HM(mn, "b", "b"); \
		break;            \
	case 2:                   \
		HM(mn, "w", "w"); \
		break;            \
	case 4:                   \
		HM(mn, "l", "k"); \
		break;            \
	default:                  \
		HM(mn, "q", "q"); \
		break;            \
	}
		switch (r) {
		case 4:
			HMS("mul");
			break;
		case 5:
			HMS("imul");
			break;
		case 6:
			HMS("div");
			break;
		default:
			HMS("idiv");
			break;
		}
		ck_assert_msg(c->gpr[R_AX] == ha && c->gpr[R_DX] == hd,
			      "/%d size %d a %#llx d %#llx b %#llx", r, size, (unsigned long long)a,
			      (unsigned long long)d, (unsigned long long)b);
		if (r < 6)
			ck_assert_uint_eq(fl() & (F_CF | F_OF), hf & (F_CF | F_OF));

		/* IMUL r, r/m (0F AF) for 16/32/64 */
		if (size > 1) {
			uint64_t hr = a;

			c->gpr[R_SI] = a;
			in = mkr(0x1af, (unsigned)size, R_SI, R_BX);
			run(&in);
			switch (size) {
			case 2:
				HOST("imulw %w[b], %w[a]",
				     : [a] "+r"(hr), FO
				     : [b] "r"(b), FI
				     : "cc");
				break;
			case 4:
				HOST("imull %k[b], %k[a]",
				     : [a] "+r"(hr), FO
				     : [b] "r"(b), FI
				     : "cc");
				break;
			default:
				HOST("imulq %[b], %[a]",
				     : [a] "+r"(hr), FO
				     : [b] "r"(b), FI
				     : "cc");
				break;
			}
			ck_assert_uint_eq(c->gpr[R_SI], hr);
			ck_assert_uint_eq(fl() & (F_CF | F_OF), hf & (F_CF | F_OF));
		}
	}
}
END_TEST
#endif

static Suite *alu_host_suite(void)
{
	Suite *s = suite_create("alu_host");
	TCase *tc = tcase_create("host");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60); /* randomised, and slow under ASan */
#if defined(__x86_64__)
	tcase_add_test(tc, t_host_rotates);
	tcase_add_test(tc, t_host_shxd_muldiv_bits);
	tcase_add_test(tc, t_host_muldiv_sizes);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(alu_host_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);

	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
