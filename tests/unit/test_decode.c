/*
 * tests/unit/test_decode.c — unit tests of the instruction decoder
 * (cpu/decode.c, cpu/decode_attr.c) and the handler registry (cpu/optab.c).
 *
 * A table of representative encodings in 16-, 32- and 64-bit code is decoded
 * and the fields the handlers rely on are checked (length, operand and
 * address size, segment, base/index/scale/displacement, immediates, REX and
 * VEX fields, mandatory-prefix class). Registry tests register their own
 * entries before optab_init() (first registration wins), then check the
 * match rules, the feature check and the LOCK rules of the binding step.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/decode.h"
#include "cpu/insn.h"

#define X 0x7fffffff /* "don't check" marker */

struct dcase {
	int bits;
	const char *hex; /* instruction bytes; decoded with 16 bytes available */
	int len;         /* expected result (length or DEC_*) */
	int osz, asz, seg, base, index, scale;
	long long disp, imm;
	int imm2, mp, reg, rm, mod;
};

/* Row: bits, bytes, result, then osz asz seg base index scale disp imm imm2
 * mp reg rm mod (X = not checked); N = check the result only. */
#define C(b, h, l, ...)              \
	{                            \
		b, h, l, __VA_ARGS__ \
	}
#define N X, X, X, X, X, X, X, X, X, X, X, X, X

static const struct dcase cases[] = {
	/* ---- 64-bit ---- */
	C(64, "4889d8", 3, 8, 8, X, X, X, X, X, X, X, X, 3, 0, 3), /* mov rax,rbx */
	C(64, "4c8b442408", 5, 8, 8, S_SS, R_SP, R_NONE, 0, 8, X, X, X, 8, X, 1),
	C(64, "8b0578563412", 6, 4, 8, S_DS, BASE_RIP, R_NONE, 0, 0x12345678, X, X, X, 0, X, 0),
	C(64, "678b0578563412", 7, 4, 4, S_DS, BASE_RIP, R_NONE, 0, 0x12345678, X, X, X, X, X, 0),
	C(64, "428b042500100000", 8, 4, 8, S_DS, R_NONE, R_R12, 0, 0x1000, X, X, X, X, X, 0),
	C(64, "8b042500100000", 7, 4, 8, S_DS, R_NONE, R_NONE, 0, 0x1000, X, X, X, X, X, 0),
	C(64, "418b4500", 4, 4, 8, S_DS, R_R13, R_NONE, 0, 0, X, X, X, X, X, 1), /* r13: DS */
	C(64, "8b45f8", 3, 4, 8, S_SS, R_BP, R_NONE, 0, -8, X, X, X, X, X, 1),
	C(64, "648b45f8", 4, 4, 8, S_FS, R_BP, X, X, -8, X, X, X, X, X, X),
	C(64, "2e8b00", 3, 4, 8, S_DS, R_AX, X, X, X, X, X, X, X, X, X), /* CS: null prefix */
	C(64, "8b04c8", 3, 4, 8, S_DS, R_AX, R_CX, 3, 0, X, X, X, X, X, X),
	C(64, "66b83412", 4, 2, 8, X, X, X, X, X, 0x1234, X, X, X, 0, X),
	C(64, "49b88877665544332211", 10, 8, 8, X, X, X, X, X, 0x1122334455667788ll, X, X, X, 8, X),
	C(64, "b8ffffffff", 5, 4, X, X, X, X, X, X, -1, X, X, X, X, X),
	C(64, "50", 1, 8, X, X, X, X, X, X, X, X, X, X, 0, X), /* push: d64 */
	C(64, "6650", 2, 2, X, X, X, X, X, X, X, X, X, X, X, X),
	C(64, "4150", 2, 8, X, X, X, X, X, X, X, X, X, X, 8, X),
	C(64, "6ae0", 2, 8, X, X, X, X, X, X, -32, X, X, X, X, X),
	C(64, "66e800000000", 6, 8, X, X, X, X, X, X, 0, X, X, X, X, X), /* f64: 66 ignored */
	C(64, "66eb10", 3, 8, X, X, X, X, X, X, 0x10, X, X, X, X, X),
	C(64, "ff10", 2, 8, X, X, X, X, X, X, X, X, X, 2, X, 0),   /* call [rax]: f64 */
	C(64, "66ff20", 3, 8, X, X, X, X, X, X, X, X, X, 4, X, 0), /* jmp [rax]: f64 */
	C(64, "ff30", 2, 8, X, X, X, X, X, X, X, X, X, 6, X, 0),   /* push [rax]: d64 */
	C(64, "66ff30", 3, 2, X, X, X, X, X, X, X, X, X, 6, X, 0),
	C(64, "ff18", 2, 4, X, X, X, X, X, X, X, X, X, 3, X, 0),   /* call far m16:32 */
	C(64, "48ff18", 3, 8, X, X, X, X, X, X, X, X, X, 3, X, 0), /* call far m16:64 */
	C(64, "0f05", 2, N),
	C(64, "a18877665544332211", 9, X, 8, S_DS, R_NONE, R_NONE, X, X, 0x1122334455667788ll, X, X,
	  X, X, 0),
	C(64, "67a178563412", 6, X, 4, X, R_NONE, X, X, X, 0x12345678, X, X, X, X, 0),
	C(64, "06", DEC_UD, N), /* push es */
	C(64, "d6", DEC_UD, N), /* salc */
	C(64, "c4", DEC_MORE, N),
	C(64, "4863d8", 3, 8, X, X, X, X, X, X, X, X, X, 3, 0, 3),   /* movsxd */
	C(64, "486689d8", 4, 2, X, X, X, X, X, X, X, X, X, X, X, X), /* REX not last */
	C(64, "66f30f1000", 5, X, X, X, X, X, X, X, X, X, MP_F3, X, X, X),
	C(64, "f3660f1000", 5, X, X, X, X, X, X, X, X, X, MP_F3, X, X, X), /* F3 over 66 */
	C(64, "f2f30f1000", 5, X, X, X, X, X, X, X, X, X, MP_F3, X, X, X), /* last wins */
	C(64, "660f1000", 4, X, X, X, X, X, X, X, X, X, MP_66, X, X, X),
	C(64, "f30f5000", DEC_UD, N), /* blank cell */
	C(64, "c5f877", 3, N),        /* vzeroupper */
	C(64, "c4e2791800", 5, X, X, S_DS, R_AX, X, X, X, X, X, MP_66, X, X, 0),
	C(64, "c44179d4c8", 5, X, X, X, X, X, X, X, X, X, MP_66, 9, 8, 3), /* R, B */
	C(64, "66c5f877", DEC_UD, N),                                      /* 66 before VEX */
	C(64, "62f1fd485800", 6, N),                                       /* EVEX length */
	C(64, "8fe878cc0000", 6, N),                                       /* XOP length */
	C(64, "0f20c0", 3, 8, X, X, X, X, X, X, X, X, X, 0, 0, 3),         /* mov rax, cr0 */
	C(64, "0f2000", 3, X, X, X, X, X, X, X, X, X, X, 0, 0, 3),         /* mod ignored */
	C(64, "0f01f8", 3, N),                                             /* swapgs */
	C(64, "0f0fc1b4", 4, N),                                           /* 3DNow! PFMUL */
	C(64, "0f0fc100", DEC_UD, N),                                      /* bad suffix */
	C(64, "8dc0", DEC_UD, N),                                          /* lea reg */
	C(64, "fff8", DEC_UD, N),                                          /* ff /7 */
	C(64, "8ef8", DEC_UD, N),                                          /* sreg 7 */
	C(64, "f00100", 3, N),                                             /* lock add */
	C(64, "f001c0", DEC_UD, N),                                        /* lock reg */
	C(64, "f090", DEC_UD, N),                                          /* lock nop */
	C(64, "f03900", DEC_UD, N),                                        /* lock cmp */
	C(64, "f00fc70e", 4, N),                                           /* cmpxchg8b */
	C(64, "666666666666666666666666666690", 15, N),
	C(64, "66666666666666666666666666666690", DEC_TOOLONG, N),
	C(64, "666666666666666666666666666605", DEC_TOOLONG, N),
	/* ---- 32-bit ---- */
	C(32, "8b048d10000000", 7, 4, 4, S_DS, R_NONE, R_CX, 2, 0x10, X, X, X, 0, X, 0),
	C(32, "8b0578563412", 6, 4, 4, S_DS, R_NONE, R_NONE, X, 0x12345678, X, X, X, X, X, 0),
	C(32, "8b442404", 4, 4, 4, S_SS, R_SP, R_NONE, X, 4, X, X, X, X, X, 1),
	C(32, "3e8b442404", 5, 4, 4, S_DS, R_SP, X, X, 4, X, X, X, X, X, X),
	C(32, "668b00", 3, 2, 4, X, X, X, X, X, X, X, X, X, X, X),
	C(32, "678b00", 3, 4, 2, S_DS, R_BX, R_SI, X, X, X, X, X, X, X, X),
	C(32, "48", 1, 4, X, X, X, X, X, X, X, X, X, X, 0, X), /* dec eax */
	C(32, "6200", 2, N),                                   /* bound */
	C(32, "62c0", DEC_UD, N),                              /* EVEX, map 0 */
	C(32, "9a78563412cdab", 7, X, X, X, X, X, X, X, 0x12345678, 0xabcd, X, X, X, X),
	C(32, "f60012", 3, X, X, X, X, X, X, X, 0x12, X, X, X, X, X), /* test */
	C(32, "f610", 2, N),                                          /* not */
	C(32, "f70078563412", 6, N),
	C(32, "66f7003412", 5, N),
	C(32, "d6", 1, N),                                                 /* salc */
	C(32, "c406", 2, N),                                               /* les [esi] */
	C(32, "c4e2791800", 5, N),                                         /* VEX */
	C(32, "f20f38f1c0", 5, X, X, X, X, X, X, X, X, X, MP_F2, X, X, X), /* crc32 */
	C(32, "0f38f1c0", DEC_UD, N),                                      /* movbe reg */
	C(32, "c8100001", 4, X, X, X, X, X, X, X, 0x10, 1, X, X, X, X),    /* enter */
	C(32, "660f7800ffff", DEC_UD, N),                                  /* extrq mem */
	C(32, "660f78c00102", 6, X, X, X, X, X, X, X, 1, 2, X, X, X, X),   /* extrq */
	/* ---- 16-bit ---- */
	C(16, "8b00", 2, 2, 2, S_DS, R_BX, R_SI, 0, 0, X, X, X, 0, X, 0),
	C(16, "8b46fe", 3, 2, 2, S_SS, R_BP, R_NONE, X, -2, X, X, X, 0, X, 1),
	C(16, "8b063412", 4, 2, 2, S_DS, R_NONE, R_NONE, X, 0x1234, X, X, X, X, X, 0),
	C(16, "8b870080", 4, 2, 2, S_DS, R_BX, R_NONE, X, -32768, X, X, X, X, X, 2),
	C(16, "8b4205", 3, 2, 2, S_SS, R_BP, R_SI, X, 5, X, X, X, X, X, X),
	C(16, "8b04", 2, 2, 2, S_DS, R_SI, R_NONE, X, X, X, X, X, X, X, X),
	C(16, "668b00", 3, 4, 2, X, X, X, X, X, X, X, X, X, X, X),
	C(16, "678b0424", 4, 2, 4, S_SS, R_SP, R_NONE, X, X, X, X, X, X, X, X),
	C(16, "ea001000f0", 5, X, X, X, X, X, X, X, 0x1000, 0xf000, X, X, X, X),
	C(16, "66ea78563412aaaa", 8, X, X, X, X, X, X, X, 0x12345678, 0xaaaa, X, X, X, X),
	C(16, "a13412", 3, X, 2, S_DS, R_NONE, X, X, X, 0x1234, X, X, X, X, 0),
	C(16, "e80010", 3, 2, X, X, X, X, X, X, 0x1000, X, X, X, X, X),
	C(16, "66e800000100", 6, 4, X, X, X, X, X, X, 0x10000, X, X, X, X, X),
	C(16, "c5f877", 3, N),   /* VEX (mod=11) */
	C(16, "c5063412", 4, N), /* lds */
	C(16, "b83412", 3, 2, X, X, X, X, X, X, 0x1234, X, X, X, X, X),
	C(16, "2e8b00", 3, X, X, S_CS, X, X, X, X, X, X, X, X, X, X),
	C(16, "f0fe07", 3, N), /* lock inc [bx] */
	C(16, "f0fec0", DEC_UD, N),
};

static int hexbytes(const char *h, uint8_t *b, int max)
{
	int n = 0;
	for (; h[0] && h[1] && n < max; h += 2) {
		char t[3] = { h[0], h[1], 0 };
		b[n++] = (uint8_t)strtoul(t, NULL, 16);
	}
	return n;
}

#define CHECK_FIELD(f, want)                                                                  \
	do {                                                                                  \
		if ((long long)(want) != X)                                                   \
			ck_assert_msg((long long)(f) == (long long)(want),                    \
				      "%d-bit %s: " #f " = %lld, want %lld", t->bits, t->hex, \
				      (long long)(f), (long long)(want));                     \
	} while (0)

START_TEST(t_cases)
{
	const struct dcase *t = &cases[_i];
	uint8_t b[32];
	int n = hexbytes(t->hex, b, 32);
	/* Pad with bytes that would lengthen a mis-decoded instruction. If a
	 * case expects DEC_MORE, only give the bytes of the string. */
	memset(b + n, 0x90, sizeof(b) - (size_t)n);
	struct insn in;
	int avail = t->len == DEC_MORE ? n : 16;
	int r = decode_bytes(b, (unsigned)avail, t->bits, NULL, &in);
	ck_assert_msg(r == t->len, "%d-bit %s: decode_bytes = %d, want %d", t->bits, t->hex, r,
		      t->len);
	if (r <= 0)
		return;
	ck_assert_int_eq(in.len, r);
	ck_assert_ptr_nonnull(in.fn);
	CHECK_FIELD(in.osz, t->osz);
	CHECK_FIELD(in.asz, t->asz);
	CHECK_FIELD(in.seg, t->seg);
	CHECK_FIELD(in.base, t->base);
	CHECK_FIELD(in.index, t->index);
	CHECK_FIELD(in.scale, t->scale);
	CHECK_FIELD(in.disp, t->disp);
	CHECK_FIELD((long long)in.imm, t->imm);
	CHECK_FIELD(in.imm2, t->imm2);
	CHECK_FIELD(in.mp, t->mp);
	CHECK_FIELD(in.reg, t->reg);
	CHECK_FIELD(in.rm, t->rm);
	CHECK_FIELD(in.mod, t->mod);
}
END_TEST

/* REX and VEX details that do not fit the table. */
START_TEST(t_rex_vex_fields)
{
	struct insn in;
	/* 4d 01 c8: add r8, r9 (REX.W R B) */
	ck_assert_int_eq(decode_bytes((const uint8_t *)"\x4d\x01\xc8", 3, 64, NULL, &in), 3);
	ck_assert(in.pfx & PFX_REX);
	ck_assert(in.pfx & PFX_REXW);
	ck_assert_int_eq(in.reg, 9);
	ck_assert_int_eq(in.rm, 8);
	ck_assert_int_eq(in.op, 0x001);
	/* 40 88 e0: mov al, spl needs PFX_REX without REX.W */
	ck_assert_int_eq(decode_bytes((const uint8_t *)"\x40\x88\xe0", 3, 64, NULL, &in), 3);
	ck_assert(in.pfx & PFX_REX);
	ck_assert(!(in.pfx & PFX_REXW));
	ck_assert_int_eq(in.osz, 4);
	/* c4 62 ed f7 c1: VEX.L1.66.0F38.W1 F7 (SHLX form), R set, vvvv = 2 */
	uint8_t v[] = { 0xc4, 0x62, 0xed, 0xf7, 0xc1, 0x90, 0x90, 0x90 };
	ck_assert_int_eq(decode_bytes(v, sizeof(v), 64, NULL, &in), 5);
	ck_assert(in.pfx & PFX_VEX);
	ck_assert_int_eq(in.op, 0x2f7);
	ck_assert_int_eq(in.mp, MP_66);
	ck_assert_int_eq(in.vexw, 1);
	ck_assert_int_eq(in.vexl, 1);
	ck_assert_int_eq(in.vvvv, 2); /* ~1101 */
	ck_assert_int_eq(in.reg, 8);  /* VEX.R */
	ck_assert_int_eq(in.rm, 1);
	ck_assert_int_eq(in.osz, 8);
	/* in 32-bit code VEX.W does not give a 64-bit operand size */
	uint8_t v32[] = { 0xc4, 0xe2, 0xed, 0xf7, 0xc1, 0x90, 0x90, 0x90 };
	ck_assert_int_eq(decode_bytes(v32, sizeof(v32), 32, NULL, &in), 5);
	ck_assert_int_eq(in.vvvv, 2);
	ck_assert_int_eq(in.osz, 4);
	/* C5: vmovaps xmm1, [rax] (VEX.128.0F 28) */
	ck_assert_int_eq(decode_bytes((const uint8_t *)"\xc5\xf8\x28\x08", 4, 64, NULL, &in), 4);
	ck_assert_int_eq(in.op, 0x128);
	ck_assert_int_eq(in.mp, MP_NONE);
	ck_assert_int_eq(in.vvvv, 0);
	ck_assert_int_eq(in.reg, 1);
	/* DEC_MORE when the ModRM is missing, DEC_TOOLONG beats it past 15 */
	ck_assert_int_eq(decode_bytes((const uint8_t *)"\x8b", 1, 32, NULL, &in), DEC_MORE);
	ck_assert_int_eq(decode_bytes((const uint8_t *)"", 0, 32, NULL, &in), DEC_MORE);
}
END_TEST

/* ---- registry and binding ---- */

static void fn_a(struct cpu *c, const struct insn *in)
{
	(void)c;
	(void)in;
}
static void fn_b(struct cpu *c, const struct insn *in)
{
	(void)c;
	(void)in;
}
static void fn_c(struct cpu *c, const struct insn *in)
{
	(void)c;
	(void)in;
}
static void fn_lock(struct cpu *c, const struct insn *in)
{
	(void)c;
	(void)in;
}
static void fn_vex(struct cpu *c, const struct insn *in)
{
	(void)c;
	(void)in;
}

/* Registered before optab_init, so they shadow the families' rows for
 * these opcodes in this test process only. */
static const struct optab_entry test_rows[] = {
	/* FE /0 memory form before the any-mod row: first match wins */
	{ 0x0fe, OPT_ANY, 0, OPT_ANY, OPT_MOD_MEM, 0, OPT_ANY, OPF_LOCKABLE, 0, fn_a, "t.inc.m" },
	{ 0x0fe, OPT_ANY, 0, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, OPF_LOCKABLE, 0, fn_b, "t.inc" },
	/* 63: W=1 row, then any */
	{ 0x063, OPT_ANY, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, 1, 0, 0, fn_a, "t.movsxd.w" },
	{ 0x063, OPT_ANY, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, 0, fn_b, "t.63" },
	/* 0F 10 by mandatory prefix */
	{ 0x110, MP_F3, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, 0, fn_a, "t.movss" },
	{ 0x110, MP_NONE, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, 0, fn_b, "t.movups" },
	/* 0F 01 C8 (reg 1, rm 0) only */
	{ 0x101, OPT_ANY, 1, 0, OPT_MOD_REG, 0, OPT_ANY, 0, 0, fn_c, "t.monitor" },
	/* VEX-only row for 0F 77 and a legacy one */
	{ 0x177, MP_NONE, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 1, OPT_ANY, 0, 0, fn_vex, "t.vzeroupper" },
	{ 0x177, MP_NONE, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, 0, fn_a, "t.emms" },
	/* feature-gated */
	{ 0x2c8, MP_NONE, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, FEAT_SSE42, fn_a,
	  "t.sha1nexte" },
	/* LOCK: CMPXCHG lockable, XADD registered without OPF_LOCKABLE */
	{ 0x1b0, OPT_ANY, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, OPF_LOCKABLE, 0, fn_lock,
	  "t.cmpxchg" },
	{ 0x1c0, OPT_ANY, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, OPF_ENDS_BLOCK, 0, fn_c,
	  "t.xadd" },
};

static insn_fn dec_fn(int bits, const char *hex, const struct cpu_model *m, struct insn *in)
{
	uint8_t b[32];
	int n = hexbytes(hex, b, 32);
	memset(b + n, 0x90, sizeof(b) - (size_t)n);
	int r = decode_bytes(b, 16, bits, m, in);
	ck_assert_msg(r > 0, "%s: decode_bytes = %d", hex, r);
	return in->fn;
}

START_TEST(t_registry_match)
{
	struct insn in;
	ck_assert(dec_fn(64, "fe00", NULL, &in) == fn_a);
	ck_assert(dec_fn(64, "fec0", NULL, &in) == fn_b);
	ck_assert(dec_fn(64, "41fe00", NULL, &in) == fn_a); /* REX.B: raw rm still matched */
	insn_fn f = dec_fn(64, "fe08", NULL, &in);          /* /1: not ours */
	ck_assert(f != fn_a && f != fn_b);
	ck_assert(dec_fn(64, "4863c0", NULL, &in) == fn_a);
	ck_assert(dec_fn(64, "63c0", NULL, &in) == fn_b);
	ck_assert(dec_fn(64, "f30f1000", NULL, &in) == fn_a);
	ck_assert(dec_fn(64, "660f1000", NULL, &in) != fn_a);
	ck_assert(dec_fn(64, "0f1000", NULL, &in) == fn_b);
	ck_assert(dec_fn(64, "0f01c8", NULL, &in) == fn_c);
	ck_assert(dec_fn(64, "0f01c9", NULL, &in) != fn_c);
	ck_assert(dec_fn(64, "c5f877", NULL, &in) == fn_vex);
	ck_assert(dec_fn(64, "0f77", NULL, &in) == fn_a);
	/* flags are copied from the matching row */
	dec_fn(64, "0fc000", NULL, &in);
	ck_assert_int_eq(in.flags, OPF_ENDS_BLOCK);
	ck_assert_ptr_eq(optab_find(&in)->fn, fn_c);
}
END_TEST

START_TEST(t_registry_feature)
{
	struct cpu_model m;
	memset(&m, 0, sizeof(m));
	struct insn in;
	ck_assert(dec_fn(64, "0f38c8c0", NULL, &in) == fn_a); /* NULL model: everything */
	ck_assert(dec_fn(64, "0f38c8c0", &m, &in) == op_ud);  /* feature missing */
	model_set(&m, FEAT_SSE42, true);
	ck_assert(dec_fn(64, "0f38c8c0", &m, &in) == fn_a);
}
END_TEST

START_TEST(t_lock_rules)
{
	struct insn in;
	ck_assert(dec_fn(64, "0fb000", NULL, &in) == fn_lock);
	ck_assert(dec_fn(64, "f00fb000", NULL, &in) == fn_lock); /* lockable, memory */
	ck_assert(in.pfx & PFX_LOCK);
	ck_assert(dec_fn(32, "f00fc000", NULL, &in) == op_ud); /* row lacks OPF_LOCKABLE */
	ck_assert(dec_fn(32, "0fc000", NULL, &in) == fn_c);
	uint8_t b[16] = { 0xf0, 0x0f, 0xb0, 0xc0 }; /* lock cmpxchg al, al: #UD at decode */
	ck_assert_int_eq(decode_bytes(b, 16, 64, NULL, &in), DEC_UD);
}
END_TEST

int main(void)
{
	/* Test rows first (first registration wins), then the families. */
	optab_add_many(test_rows, (int)(sizeof(test_rows) / sizeof(test_rows[0])));
	optab_init();
	optab_init(); /* idempotent */

	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, t_cases, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, t_rex_vex_fields);
	tcase_add_test(tc, t_registry_match);
	tcase_add_test(tc, t_registry_feature);
	tcase_add_test(tc, t_lock_rules);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
