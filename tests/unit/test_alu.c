/*
 * tests/unit/test_alu.c — unit tests of the integer ALU and bit-manipulation
 * handlers (cpu/ops_alu*.c, cpu/ops_bit*.c) on hand-checked values: every
 * form of ADD..CMP, TEST, INC/DEC, NOT/NEG, MUL/DIV with #DE, shifts and
 * rotates, SHLD/SHRD, XADD/CMPXCHG/CMPXCHG8B/16B, BT*, BSF/BSR/TZCNT/LZCNT/
 * POPCNT (with and without the features), ADX, CRC32, MOVBE, BSWAP, BMI1/2.
 * The random comparison against the host CPU is test_alu_host.c.
 */
#include "test_alu.h"

/* ---------------- ADD..CMP in every form ---------------- */

static uint64_t ref_alu(int op, uint64_t a, uint64_t b, int cin, uint64_t m)
{
	switch (op) {
	case 0:
		return (a + b) & m;
	case 1:
		return a | b;
	case 2:
		return (a + b + (uint64_t)cin) & m;
	case 3:
		return (a - b - (uint64_t)cin) & m;
	case 4:
		return a & b;
	case 5:
		return (a - b) & m;
	case 6:
		return a ^ b;
	default:
		return a; /* CMP: no write */
	}
}

#define M32 0xffffffffull

START_TEST(t_alu_forms)
{
	const uint64_t A = 0xfedcba9876543210ull, B = 0x0123456789abcdefull;

	mode_long64();
	for (int op = 0; op < 8; op++) {
		for (int cin = 0; cin < 2; cin++) {
			uint16_t base = (uint16_t)(op * 8);
			struct insn in;

			/* 01: Ev,Gv 32-bit register: zero-extends (except CMP). */
			c->gpr[R_BX] = A;
			c->gpr[R_SI] = B;
			set_fl(cin ? F_CF : 0);
			in = mkr(base + 1, 4, R_SI, R_BX);
			ck_assert_int_eq(run(&in), -1);
			ck_assert_uint_eq(c->gpr[R_BX],
					  op == 7 ? A : ref_alu(op, A & M32, B & M32, cin, M32));
			/* 03: Gv,Ev 64-bit. */
			c->gpr[R_BX] = A;
			set_fl(cin ? F_CF : 0);
			in = mkr(base + 3, 8, R_BX, R_SI);
			run(&in);
			ck_assert_uint_eq(c->gpr[R_BX], ref_alu(op, A, B, cin, ~0ull));
			/* 00: Eb,Gb with AH as destination, CH as source. */
			c->gpr[R_AX] = 0x1234;
			c->gpr[R_CX] = 0x5600;
			set_fl(cin ? F_CF : 0);
			in = mkr(base + 0, 4, 5 /* CH */, 4 /* AH */);
			run(&in);
			ck_assert_uint_eq(c->gpr[R_AX],
					  ref_alu(op, 0x12, 0x56, cin, 0xff) << 8 | 0x34);
			/* 02 with REX: SPL <- SPL op DIL. */
			c->gpr[R_SP] = 0x1180;
			c->gpr[R_DI] = 0x2290;
			set_fl(cin ? F_CF : 0);
			in = mkr(base + 2, 4, R_SP, R_DI);
			in.pfx |= PFX_REX;
			run(&in);
			ck_assert_uint_eq(c->gpr[R_SP],
					  0x1100 | ref_alu(op, 0x80, 0x90, cin, 0xff));
			/* 05: AX, Iw (16-bit keeps the upper bits). */
			c->gpr[R_AX] = 0xaaaa0000ffffull;
			set_fl(cin ? F_CF : 0);
			in = mk(base + 5, 2);
			in.imm = 0x0001;
			run(&in);
			ck_assert_uint_eq(c->gpr[R_AX],
					  0xaaaa00000000ull | ref_alu(op, 0xffff, 1, cin, 0xffff));
			/* 04: AL, Ib */
			c->gpr[R_AX] = 0x77;
			in = mk(base + 4, 4);
			in.imm = 0x99;
			set_fl(cin ? F_CF : 0);
			run(&in);
			ck_assert_uint_eq(c->gpr[R_AX], ref_alu(op, 0x77, 0x99, cin, 0xff));
			/* 83 /op: Ev, Ib sign-extended (decoder gives imm = -2). */
			c->gpr[R_DX] = 5;
			set_fl(cin ? F_CF : 0);
			in = mkr(0x83, 8, op, R_DX);
			in.imm = (uint64_t)-2;
			run(&in);
			ck_assert_uint_eq(c->gpr[R_DX],
					  op == 7 ? 5 : ref_alu(op, 5, (uint64_t)-2, cin, ~0ull));
			/* 81 /op with a memory destination, 16-bit. */
			c->gpr[R_BX] = 0x2000;
			wrm(0x2010, 0xbeef8001, 4);
			set_fl(cin ? F_CF : 0);
			in = mkm(0x81, 2, op, R_BX, 0x10);
			in.imm = 0x8001;
			ck_assert_int_eq(run(&in), -1);
			ck_assert_uint_eq(rdm(0x2010, 4),
					  0xbeef0000 | ref_alu(op, 0x8001, 0x8001, cin, 0xffff));
			/* 80 and 82 /op, memory byte. */
			wrm(0x2020, 0x40, 1);
			set_fl(cin ? F_CF : 0);
			in = mkm(0x82, 4, op, R_BX, 0x20);
			in.imm = 0xc0;
			run(&in);
			ck_assert_uint_eq(rdm(0x2020, 1),
					  op == 7 ? 0x40 : ref_alu(op, 0x40, 0xc0, cin, 0xff));
		}
	}
}
END_TEST

START_TEST(t_alu_flags)
{
	struct insn in;

	/* cmp eax, ebx with eax < ebx signed and unsigned. */
	c->gpr[R_AX] = 1;
	c->gpr[R_BX] = 2;
	in = mkr(0x39, 4, R_BX, R_AX);
	run(&in);
	ck_assert_uint_eq(fl(), F_CF | F_SF | F_PF | F_AF);
	ck_assert(cond_eval(c, 0x2) && cond_eval(c, 0xc) && !cond_eval(c, 0x4));
	/* add al, 0x80 twice: 0x80 + 0x80 = 0 with CF OF ZF PF */
	c->gpr[R_AX] = 0x80;
	in = mk(0x04, 4);
	in.imm = 0x80;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0);
	ck_assert_uint_eq(fl(), F_CF | F_OF | F_ZF | F_PF);
	/* adc with carry in: 0xffffffff + 0 + 1 */
	c->gpr[R_AX] = 0xffffffff;
	in = mk(0x15, 4);
	in.imm = 0;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0);
	ck_assert_uint_eq(fl(), F_CF | F_ZF | F_PF | F_AF);
	/* sbb with borrow in: 0 - 0 - 1 */
	in = mk(0x1d, 4);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xffffffff);
	ck_assert_uint_eq(fl(), F_CF | F_SF | F_PF | F_AF);
	/* xor clears CF/OF/AF */
	in = mkr(0x31, 4, R_AX, R_AX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0);
	ck_assert_uint_eq(fl(), F_ZF | F_PF);
}
END_TEST

/* A read-modify-write whose write faults commits nothing (memory, flags,
 * registers): a read-only data segment gives #GP on the write. */
START_TEST(t_alu_precise_fault)
{
	struct insn in;

	c->gpr[R_BX] = 0x3000;
	c->gpr[R_CX] = 0x11;
	wrm(0x3000, 0x22, 4);
	set_fl(F_ZF);
	set_seg(S_DS, 0xc091, 0xffffffffu); /* read-only data */
	in = mkm(0x01, 4, R_CX, R_BX, 0);   /* add [ebx], ecx */
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(rdm(0x3000, 4), 0x22);
	ck_assert_uint_eq(fl(), F_ZF);
	/* cmp [ebx], ecx only reads: fine. */
	in = mkm(0x39, 4, R_CX, R_BX, 0);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(fl(), F_PF); /* 0x22 - 0x11 = 0x11 */
}
END_TEST

START_TEST(t_alu_lockable)
{
	struct insn in = mkm(0x01, 4, R_CX, R_BX, 0);
	const struct optab_entry *e = optab_find(&in);

	ck_assert(e && (e->flags & OPF_LOCKABLE));
	in = mkr(0x01, 4, R_CX, R_BX);
	e = optab_find(&in);
	ck_assert(e && !(e->flags & OPF_LOCKABLE));
	in = mkm(0x39, 4, R_CX, R_BX, 0); /* CMP never takes LOCK */
	e = optab_find(&in);
	ck_assert(e && !(e->flags & OPF_LOCKABLE));
	in = mkm(0x03, 4, R_CX, R_BX, 0); /* register destination */
	e = optab_find(&in);
	ck_assert(e && !(e->flags & OPF_LOCKABLE));
	in = mkm(0xf7, 4, 3, R_BX, 0); /* NEG m */
	e = optab_find(&in);
	ck_assert(e && (e->flags & OPF_LOCKABLE));
	in = mkm(0x1c7, 4, 1, R_BX, 0); /* CMPXCHG8B */
	e = optab_find(&in);
	ck_assert(e && (e->flags & OPF_LOCKABLE));
	in = mkm(0x1ab, 4, 1, R_BX, 0); /* BTS m, r */
	e = optab_find(&in);
	ck_assert(e && (e->flags & OPF_LOCKABLE));
	in = mkm(0x1a3, 4, 1, R_BX, 0); /* BT m, r */
	e = optab_find(&in);
	ck_assert(e && !(e->flags & OPF_LOCKABLE));
}
END_TEST

/* ---------------- TEST, INC/DEC, NOT/NEG ---------------- */

START_TEST(t_test_incdec_notneg)
{
	struct insn in;

	c->gpr[R_AX] = 0x80;
	c->gpr[R_BX] = 0x80;
	in = mkr(0x84, 4, R_BX, R_AX);
	run(&in);
	ck_assert_uint_eq(fl(), F_SF);
	ck_assert_uint_eq(c->gpr[R_AX], 0x80);
	for (int r = 0; r < 2; r++) { /* F7 /0 and its alias /1 */
		in = mkr(0xf7, 4, r, R_AX);
		in.imm = 0x7f;
		run(&in);
		ck_assert_uint_eq(fl(), F_ZF | F_PF);
	}
	in = mk(0xa9, 2);
	in.imm = 0x80;
	run(&in);
	ck_assert_uint_eq(fl(), 0);

	/* INC keeps CF; 0x7fffffff + 1 overflows. */
	set_fl(F_CF);
	c->gpr[R_DX] = 0x7fffffff;
	in = mk(0x42, 4);
	in.rm = R_DX;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DX], 0x80000000);
	ck_assert_uint_eq(fl(), F_CF | F_OF | F_SF | F_AF | F_PF);
	/* DEC byte in memory: 0 -> 0xff, CF preserved clear */
	set_fl(0);
	c->gpr[R_BX] = 0x2000;
	wrm(0x2000, 0x00, 1);
	in = mkm(0xfe, 4, 1, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(rdm(0x2000, 1), 0xff);
	ck_assert_uint_eq(fl(), F_SF | F_PF | F_AF);
	/* FF /0 16-bit register */
	c->gpr[R_SI] = 0x1234ffff;
	in = mkr(0xff, 2, 0, R_SI);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SI], 0x12340000);
	ck_assert_uint_eq(fl(), F_ZF | F_PF | F_AF);

	/* NOT: no flags */
	set_fl(F_OF);
	c->gpr[R_CX] = 0xff00ff00;
	in = mkr(0xf7, 4, 2, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_CX], 0x00ff00ff);
	ck_assert_uint_eq(fl(), F_OF);
	/* NEG: CF = (x != 0); NEG 0x80 overflows */
	c->gpr[R_CX] = 0x80;
	in = mkr(0xf6, 4, 3, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_CX], 0x80);
	ck_assert_uint_eq(fl(), F_CF | F_OF | F_SF);
	c->gpr[R_CX] = 0;
	in = mkr(0xf7, 4, 3, R_CX);
	run(&in);
	ck_assert_uint_eq(fl(), F_ZF | F_PF);
}
END_TEST

/* ---------------- MUL / IMUL / DIV / IDIV ---------------- */

START_TEST(t_muldiv)
{
	struct insn in;

	mode_long64();
	/* mul bl: 0x80 * 2 = 0x100 -> CF OF */
	c->gpr[R_AX] = 0xffff0080;
	c->gpr[R_BX] = 2;
	in = mkr(0xf6, 4, 4, R_BX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xffff0100);
	ck_assert(fl() & F_CF && fl() & F_OF);
	/* imul bl: -128 * 2 = -256 overflow; -1 * 2 = -2 no overflow */
	c->gpr[R_AX] = 0xff;
	in = mkr(0xf6, 4, 5, R_BX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xfffe);
	ck_assert(!(fl() & (F_CF | F_OF)));
	/* mul rbx 64-bit */
	c->gpr[R_AX] = 0xffffffffffffffffull;
	c->gpr[R_BX] = 0xffffffffffffffffull;
	in = mkr(0xf7, 8, 4, R_BX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 1);
	ck_assert_uint_eq(c->gpr[R_DX], 0xfffffffffffffffeull);
	ck_assert(fl() & F_CF);
	/* imul rbx: -1 * -1 = 1 */
	c->gpr[R_AX] = (uint64_t)-1;
	in = mkr(0xf7, 8, 5, R_BX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 1);
	ck_assert_uint_eq(c->gpr[R_DX], 0);
	ck_assert(!(fl() & F_CF));
	/* mul ecx 32-bit zero-extends both halves */
	c->gpr[R_AX] = 0xdead000080000000ull;
	c->gpr[R_DX] = 0xdead000000000000ull;
	c->gpr[R_CX] = 4;
	in = mkr(0xf7, 4, 4, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0);
	ck_assert_uint_eq(c->gpr[R_DX], 2);
	/* imul r, r/m, imm: 69 and 6B; 16-bit overflow */
	c->gpr[R_SI] = 0x4000;
	in = mkr(0x6b, 2, R_DI, R_SI);
	in.imm = 2;
	c->gpr[R_DI] = 0x11110000;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 0x11118000);
	ck_assert(fl() & F_OF);
	in = mkr(0x69, 4, R_DI, R_SI);
	in.imm = (uint64_t)-3;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], (uint32_t)(-3 * 0x4000));
	ck_assert(!(fl() & F_OF));
	/* imul r64, r/m64 (0F AF) overflow */
	c->gpr[R_DI] = 0x4000000000000000ull;
	c->gpr[R_SI] = 2;
	in = mkr(0x1af, 8, R_DI, R_SI);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 0x8000000000000000ull);
	ck_assert(fl() & F_CF && fl() & F_OF);

	/* div: 8-bit */
	c->gpr[R_AX] = 1000;
	c->gpr[R_BX] = 7;
	in = mkr(0xf6, 4, 6, R_BX);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX], (1000 % 7) << 8 | 1000 / 7);
	/* quotient overflow: 0x1000 / 2 */
	c->gpr[R_AX] = 0x1000;
	c->gpr[R_BX] = 2;
	ck_assert_int_eq(run(&in), EXC_DE);
	ck_assert_uint_eq(c->gpr[R_AX], 0x1000);
	/* divide by zero, 64-bit */
	c->gpr[R_BX] = 0;
	in = mkr(0xf7, 8, 6, R_BX);
	ck_assert_int_eq(run(&in), EXC_DE);
	/* 128/64 */
	c->gpr[R_DX] = 1;
	c->gpr[R_AX] = 5;
	c->gpr[R_BX] = 3;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX], 0x5555555555555557ull);
	ck_assert_uint_eq(c->gpr[R_DX], 0);
	c->gpr[R_DX] = 3;
	c->gpr[R_AX] = 0;
	ck_assert_int_eq(run(&in), EXC_DE);
	/* idiv 32-bit: -7 / 2 = -3 rem -1 */
	c->gpr[R_DX] = 0xffffffff;
	c->gpr[R_AX] = (uint32_t)-7;
	c->gpr[R_BX] = 2;
	in = mkr(0xf7, 4, 7, R_BX);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX], (uint32_t)-3);
	ck_assert_uint_eq(c->gpr[R_DX], (uint32_t)-1);
	/* INT32_MIN / -1 -> #DE */
	c->gpr[R_DX] = 0xffffffff;
	c->gpr[R_AX] = 0x80000000;
	c->gpr[R_BX] = 0xffffffff;
	ck_assert_int_eq(run(&in), EXC_DE);
	/* INT64_MIN / -1 -> #DE; INT64_MIN / 1 fine */
	c->gpr[R_DX] = (uint64_t)-1;
	c->gpr[R_AX] = 0x8000000000000000ull;
	c->gpr[R_BX] = (uint64_t)-1;
	in = mkr(0xf7, 8, 7, R_BX);
	ck_assert_int_eq(run(&in), EXC_DE);
	c->gpr[R_BX] = 1;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX], 0x8000000000000000ull);
	ck_assert_uint_eq(c->gpr[R_DX], 0);
	/* idiv 128/64 with negative dividend and remainder */
	c->gpr[R_DX] = (uint64_t)-1;
	c->gpr[R_AX] = (uint64_t)-100;
	c->gpr[R_BX] = 7;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX], (uint64_t)-14);
	ck_assert_uint_eq(c->gpr[R_DX], (uint64_t)-2);
	/* idiv 8-bit: -128 quotient allowed, 128 is not */
	c->gpr[R_AX] = (uint16_t)-256;
	c->gpr[R_BX] = 2;
	in = mkr(0xf6, 4, 7, R_BX);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX] & 0xffff, 0x0080);
	c->gpr[R_AX] = 256;
	ck_assert_int_eq(run(&in), EXC_DE);
	/* idiv 16-bit */
	c->gpr[R_DX] = 0xffff;
	c->gpr[R_AX] = 0x0000; /* -65536 */
	c->gpr[R_BX] = 0xfffe; /* -2 -> 32768: overflow */
	in = mkr(0xf7, 2, 7, R_BX);
	ck_assert_int_eq(run(&in), EXC_DE);
	c->gpr[R_BX] = 4;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX], (uint16_t)-16384);
}
END_TEST

/* ---------------- shifts and rotates ---------------- */

START_TEST(t_shifts)
{
	uint32_t f;

	mode_long64();
	/* count 0: flags and value untouched; 32-bit register zero-extended */
	ck_assert_uint_eq(sh(4, 4, 0xffffffff12345678ull, 0, F_OF | F_CF, &f), 0x12345678);
	ck_assert_uint_eq(f, F_OF | F_CF);
	ck_assert_uint_eq(sh(4, 2, 0xffffffff12345678ull, 32, F_SF, &f), 0xffffffff12345678ull);
	ck_assert_uint_eq(f, F_SF);
	/* 32-bit count masked to 5 bits: 33 -> 1 */
	ck_assert_uint_eq(sh(4, 4, 0x80000001, 33, 0, &f), 2);
	ck_assert_uint_eq(f, F_CF | F_OF);
	/* 64-bit count 63 */
	ck_assert_uint_eq(sh(5, 8, 0x8000000000000000ull, 63, 0, &f), 1);
	ck_assert_uint_eq(f & F_CF, 0);
	/* SAR byte by 9: all sign bits, CF = sign */
	ck_assert_uint_eq(sh(7, 1, 0x80, 9, 0, &f), 0xff);
	ck_assert_uint_eq(f, F_CF | F_SF | F_PF);
	/* SHL byte by 8: result 0, CF = bit 0 */
	ck_assert_uint_eq(sh(4, 1, 0x01, 8, 0, &f), 0);
	ck_assert_uint_eq(f & (F_CF | F_ZF), F_CF | F_ZF);
	/* /6 behaves as SHL */
	ck_assert_uint_eq(sh(6, 4, 0x40000000, 1, 0, &f), 0x80000000);
	ck_assert_uint_eq(f, F_OF | F_SF | F_PF);
	/* ROL/ROR keep SF/ZF/PF/AF */
	ck_assert_uint_eq(sh(0, 1, 0x81, 1, F_ZF | F_AF, &f), 0x03);
	ck_assert_uint_eq(f, F_ZF | F_AF | F_CF | F_OF);
	ck_assert_uint_eq(sh(1, 4, 0x1, 1, 0, &f), 0x80000000);
	ck_assert_uint_eq(f, F_CF | F_OF);
	ck_assert_uint_eq(sh(0, 1, 0x81, 8, 0, &f), 0x81); /* rotate by 8: CF = LSB */
	ck_assert_uint_eq(f & F_CF, F_CF);
	ck_assert_uint_eq(sh(1, 8, 0x1, 4, 0, &f), 0x1000000000000000ull);
	/* RCL byte: count mod 9 */
	ck_assert_uint_eq(sh(2, 1, 0x80, 1, 0, &f), 0x00);
	ck_assert_uint_eq(f, F_CF | F_OF);
	ck_assert_uint_eq(sh(2, 1, 0x80, 9, F_CF, &f), 0x80); /* 9 mod 9 = 0 */
	ck_assert_uint_eq(f & F_CF, F_CF);
	ck_assert_uint_eq(sh(2, 1, 0x01, 8, F_CF, &f), 0x80); /* = RCR 1 */
	ck_assert_uint_eq(f & F_CF, F_CF);
	/* RCR word: count mod 17 */
	ck_assert_uint_eq(sh(3, 2, 0x0001, 18, F_CF, &f), 0x8000); /* 18 mod 17 = 1 */
	ck_assert_uint_eq(f & (F_CF | F_OF), F_CF | F_OF);
	/* RCL/RCR 64-bit */
	ck_assert_uint_eq(sh(2, 8, 0x8000000000000000ull, 1, F_CF, &f), 1);
	ck_assert_uint_eq(f & F_CF, F_CF);
	ck_assert_uint_eq(sh(3, 8, 1, 63, F_CF, &f), 6);
	ck_assert_uint_eq(f & F_CF, 0);
	ck_assert_uint_eq(sh(3, 8, 3, 1, 0, &f), 1);
	ck_assert_uint_eq(f & (F_CF | F_OF), F_CF);

	/* C0/C1 imm and D0/D1 by one, memory */
	struct insn in;

	c->gpr[R_BX] = 0x2000;
	wrm(0x2000, 0x8001, 2);
	in = mkm(0xc1, 2, 5, R_BX, 0);
	in.imm = 4;
	run(&in);
	ck_assert_uint_eq(rdm(0x2000, 2), 0x0800);
	in = mkm(0xd0, 4, 4, R_BX, 1);
	run(&in);
	ck_assert_uint_eq(rdm(0x2001, 1), 0x10);

	/* SHLD/SHRD */
	c->gpr[R_AX] = 0x12345678;
	c->gpr[R_DX] = 0x9abcdef0;
	in = mkr(0x1a4, 4, R_DX, R_AX);
	in.imm = 8;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x3456789a);
	ck_assert_uint_eq(fl() & F_CF, 0);
	in = mkr(0x1ac, 4, R_DX, R_AX);
	in.imm = 4;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x03456789);
	ck_assert_uint_eq(fl() & F_CF, F_CF);
	c->gpr[R_AX] = 0x1234;
	c->gpr[R_DX] = 0xabcd;
	c->gpr[R_CX] = 4;
	in = mkr(0x1a5, 2, R_DX, R_AX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x234a);
	c->gpr[R_AX] = 0x1234;
	c->gpr[R_CX] = 20; /* beyond 16: Intel's dest:src:dest */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xbcd1);
	c->gpr[R_AX] = 0xffffffff00000001ull;
	c->gpr[R_DX] = 0x8000000000000000ull;
	c->gpr[R_CX] = 1;
	in = mkr(0x1ad, 8, R_DX, R_AX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x7fffffff80000000ull);
	ck_assert_uint_eq(fl() & (F_CF | F_OF), F_CF | F_OF);
	c->gpr[R_CX] = 0; /* count 0: nothing */
	set_fl(F_ZF);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x7fffffff80000000ull);
	ck_assert_uint_eq(fl(), F_ZF);
}
END_TEST

/* ---------------- XADD / CMPXCHG / CMPXCHG8B / 16B ---------------- */

START_TEST(t_atomic)
{
	struct insn in;

	mode_long64();
	/* xadd [rbx], ecx */
	c->gpr[R_BX] = 0x2000;
	wrm(0x2000, 5, 4);
	c->gpr[R_CX] = 0xffffffff00000003ull;
	in = mkm(0x1c1, 4, R_CX, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(rdm(0x2000, 4), 8);
	ck_assert_uint_eq(c->gpr[R_CX], 5);
	/* xadd eax, eax: the sum wins */
	c->gpr[R_AX] = 7;
	in = mkr(0x1c1, 4, R_AX, R_AX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 14);

	/* cmpxchg [rbx], ecx success and failure */
	wrm(0x2000, 0x10, 4);
	c->gpr[R_AX] = 0xaaaaaaaa00000010ull;
	c->gpr[R_CX] = 0x99;
	in = mkm(0x1b1, 4, R_CX, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(rdm(0x2000, 4), 0x99);
	ck_assert(fl() & F_ZF);
	ck_assert_uint_eq(c->gpr[R_AX], 0xaaaaaaaa00000010ull); /* untouched */
	run(&in);
	ck_assert_uint_eq(rdm(0x2000, 4), 0x99);
	ck_assert(!(fl() & F_ZF));
	ck_assert_uint_eq(c->gpr[R_AX], 0x99); /* zero-extended */
	ck_assert(fl() & F_CF);                /* 0x10 - 0x99 borrows */
	/* failure still writes memory: a read-only segment faults (legacy) */
	/* register form: success writes dest, failure leaves dest */
	c->gpr[R_DX] = 0xbbbbbbbb00000001ull;
	c->gpr[R_AX] = 2;
	in = mkr(0x1b1, 4, R_CX, R_DX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DX], 0xbbbbbbbb00000001ull);
	ck_assert_uint_eq(c->gpr[R_AX], 1);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DX], 0x99);
	/* byte form with AH destination (no REX) */
	mode_flat32();
	c->gpr[R_AX] = 0x3412;
	c->gpr[R_CX] = 0x55;
	in = mkr(0x1b0, 4, R_CX, 4 /* AH */);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x3434); /* AL = AH on failure */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x5534);

	/* cmpxchg8b */
	c->gpr[R_BX] = 0x2000;
	wrm(0x2000, 0x1111111122222222ull, 8);
	c->gpr[R_DX] = 0x11111111;
	c->gpr[R_AX] = 0x22222222;
	c->gpr[R_CX] = 0x33333333;
	in = mkm(0x1c7, 4, 1, R_BX, 0);
	set_fl(F_CF);
	run(&in);
	ck_assert_uint_eq(rdm(0x2000, 8), 0x3333333300002000ull);
	ck_assert_uint_eq(fl(), F_CF | F_ZF);
	run(&in);
	ck_assert_uint_eq(fl(), F_CF);
	ck_assert_uint_eq(c->gpr[R_DX], 0x33333333);
	ck_assert_uint_eq(c->gpr[R_AX], 0x00002000);

	/* cmpxchg16b: alignment, success, failure */
	mode_long64();
	in = mkm(0x1c7, 8, 1, R_BX, 8);
	ck_assert_int_eq(run(&in), EXC_GP);
	in = mkm(0x1c7, 8, 1, R_BX, 0x10);
	wrm(0x2010, 1, 8);
	wrm(0x2018, 2, 8);
	c->gpr[R_AX] = 1;
	c->gpr[R_DX] = 2;
	c->gpr[R_BX] = 0x2000;
	c->gpr[R_CX] = 4;
	run(&in);
	ck_assert(fl() & F_ZF);
	ck_assert_uint_eq(rdm(0x2010, 8), 0x2000);
	ck_assert_uint_eq(rdm(0x2018, 8), 4);
	run(&in);
	ck_assert(!(fl() & F_ZF));
	ck_assert_uint_eq(c->gpr[R_AX], 0x2000);
	ck_assert_uint_eq(c->gpr[R_DX], 4);
}
END_TEST

/* ---------------- BT family, scans, counts ---------------- */

START_TEST(t_bt)
{
	struct insn in;

	/* bt eax, 35 (imm masked to 3) */
	c->gpr[R_AX] = 8;
	set_fl(F_ZF | F_SF);
	in = mkr(0x1ba, 4, 4, R_AX);
	in.imm = 35;
	run(&in);
	ck_assert_uint_eq(fl(), F_CF | F_ZF | F_SF); /* ZF etc. unchanged */
	/* bts/btr/btc register */
	c->gpr[R_CX] = 0;
	in = mkr(0x1ab, 4, R_CX, R_AX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 9);
	ck_assert_uint_eq(fl() & F_CF, 0);
	c->gpr[R_CX] = 3;
	in = mkr(0x1b3, 4, R_CX, R_AX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 1);
	ck_assert_uint_eq(fl() & F_CF, F_CF);
	in = mkr(0x1bb, 2, R_CX, R_AX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 9);
	/* memory with a register offset beyond the operand: bit 100 of [ebx] */
	c->gpr[R_BX] = 0x2000;
	memset(ram + 0x1ff0, 0, 0x40);
	c->gpr[R_CX] = 100;
	in = mkm(0x1ab, 4, R_CX, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(ram[0x2000 + 12], 0x10);
	/* negative offset: bit -1 is bit 7 of the byte below, bit 31 of the dword */
	c->gpr[R_CX] = (uint32_t)-1;
	run(&in);
	ck_assert_uint_eq(ram[0x1fff], 0x80);
	/* 16-bit operand: -17 -> word at ea-4, bit 15 */
	c->gpr[R_CX] = (uint16_t)-17;
	in = mkm(0x1ab, 2, R_CX, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(rdm(0x1ffc, 2), 0x8000);
	/* bt m, imm: no displacement by the immediate */
	in = mkm(0x1ba, 4, 4, R_BX, 12);
	in.imm = 36; /* masked to 4 */
	run(&in);
	ck_assert_uint_eq(fl() & F_CF, F_CF);
	/* 64-bit mode, offset -64 with a 64-bit operand */
	mode_long64();
	c->gpr[R_CX] = (uint64_t)-64;
	in = mkm(0x1ab, 8, R_CX, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(ram[0x1ff8], 0x01);
}
END_TEST

START_TEST(t_scan_count)
{
	struct insn in;
	struct cpu_model none;

	mode_long64();
	/* bsf/bsr */
	c->gpr[R_SI] = 0x00f0;
	c->gpr[R_DI] = 0x5555555555555555ull;
	in = mkr(0x1bc, 8, R_DI, R_SI);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 4);
	ck_assert(!(fl() & F_ZF));
	in = mkr(0x1bd, 4, R_DI, R_SI);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 7);
	/* zero source: ZF, destination unchanged (all 64 bits) */
	c->gpr[R_SI] = 0;
	c->gpr[R_DI] = 0x5555555555555555ull;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 0x5555555555555555ull);
	ck_assert(fl() & F_ZF);
	/* tzcnt / lzcnt / popcnt (model NULL = every feature) */
	c->gpr[R_SI] = 0;
	in = mkr(0x1bc, 2, R_DI, R_SI);
	in.mp = MP_F3;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 0x5555555555550010ull);
	ck_assert_uint_eq(fl(), F_CF);
	c->gpr[R_SI] = 0x0000000100000000ull;
	in = mkr(0x1bd, 8, R_DI, R_SI);
	in.mp = MP_F3;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 31);
	ck_assert_uint_eq(fl(), 0);
	c->gpr[R_SI] = 0x80000000;
	in = mkr(0x1bd, 4, R_DI, R_SI);
	in.mp = MP_F3;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 0);
	ck_assert_uint_eq(fl(), F_ZF);
	in = mkr(0x1b8, 8, R_DI, R_SI);
	in.mp = MP_F3;
	c->gpr[R_SI] = 0xf0f0f0f0f0f0f0f0ull;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 32);
	ck_assert_uint_eq(fl(), 0);
	c->gpr[R_SI] = 0;
	run(&in);
	ck_assert_uint_eq(fl(), F_ZF);
	/* without BMI1/ABM, F3 0F BC/BD are BSF/BSR */
	memset(&none, 0, sizeof(none));
	c->model = &none;
	c->gpr[R_SI] = 0x100;
	in = mkr(0x1bd, 4, R_DI, R_SI);
	in.mp = MP_F3;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 8);
	in = mkr(0x1bc, 4, R_DI, R_SI);
	in.mp = MP_F3;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 8);
	c->model = NULL;
	/* bswap */
	c->gpr[R_R9] = 0x0102030405060708ull;
	in = mk(0x1c9, 8);
	in.rm = R_R9;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_R9], 0x0807060504030201ull);
	in.osz = 4;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_R9], 0x01020304);
	in.osz = 2;
	c->gpr[R_R9] = 0x11223344;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_R9], 0x11220000);
}
END_TEST

START_TEST(t_adx_crc_movbe)
{
	struct insn in;

	mode_long64();
	/* adcx: CF in and out, OF untouched */
	set_fl(F_CF | F_OF | F_ZF);
	c->gpr[R_AX] = 0xffffffffffffffffull;
	c->gpr[R_BX] = 0;
	in = mkr(0x2f6, 8, R_AX, R_BX);
	in.mp = MP_66;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0);
	ck_assert_uint_eq(fl(), F_CF | F_OF | F_ZF);
	/* adox 32-bit: OF in and out, CF untouched */
	set_fl(F_OF);
	c->gpr[R_AX] = 0xffffffff00000005ull;
	c->gpr[R_BX] = 6;
	in = mkr(0x2f6, 4, R_AX, R_BX);
	in.pfx = 0;
	in.mp = MP_F3;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 12);
	ck_assert_uint_eq(fl(), 0);

	/* crc32: CRC-32C("123456789") = 0xe3069283 with ~init/~final */
	const char *s = "123456789";
	c->gpr[R_DX] = 0xffffffff;
	in = mkr(0x2f0, 4, R_DX, R_CX);
	in.mp = MP_F2;
	for (int i = 0; i < 9; i++) {
		c->gpr[R_CX] = (uint8_t)s[i];
		run(&in);
	}
	ck_assert_uint_eq(~c->gpr[R_DX] & 0xffffffff, 0xe3069283);
	/* same through 8+1 byte chunks with REX.W (result zero-extended) */
	uint64_t q;
	memcpy(&q, s, 8);
	c->gpr[R_DX] = 0xffffffff;
	c->gpr[R_CX] = q;
	in = mkr(0x2f1, 8, R_DX, R_CX);
	in.mp = MP_F2;
	run(&in);
	in = mkr(0x2f0, 8, R_DX, R_CX);
	in.mp = MP_F2;
	c->gpr[R_CX] = '9';
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DX] ^ 0xffffffff, 0xe3069283);
	/* 16-bit source */
	c->gpr[R_DX] = 0xffffffff;
	c->gpr[R_CX] = 0x3231;
	in = mkr(0x2f1, 2, R_DX, R_CX);
	in.mp = MP_F2;
	run(&in);
	uint64_t crc16 = c->gpr[R_DX];
	c->gpr[R_DX] = 0xffffffff;
	in = mkr(0x2f0, 4, R_DX, R_CX);
	in.mp = MP_F2;
	c->gpr[R_CX] = '1';
	run(&in);
	c->gpr[R_CX] = '2';
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DX], crc16);

	/* movbe load/store */
	c->gpr[R_BX] = 0x2000;
	wrm(0x2000, 0x0102030405060708ull, 8);
	in = mkm(0x2f0, 8, R_SI, R_BX, 0);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_SI], 0x0807060504030201ull);
	c->gpr[R_SI] = 0xaabbccdd;
	in = mkm(0x2f1, 2, R_SI, R_BX, 0);
	in.mp = MP_66;
	run(&in);
	ck_assert_uint_eq(rdm(0x2000, 2), 0xddcc);
	/* register form is not MOVBE */
	in = mkr(0x2f0, 4, R_SI, R_BX);
	ck_assert_ptr_null(optab_find(&in));
}
END_TEST

/* ---------------- BMI1 / BMI2 ---------------- */

START_TEST(t_bmi)
{
	struct insn in;

	mode_long64();
	/* andn rax, rbx, rcx = ~rbx & rcx (64-bit) */
	c->gpr[R_BX] = 0xff00ff00ff00ff00ull;
	c->gpr[R_CX] = 0xffffffffffffffffull;
	in = mkv(0x2f2, MP_NONE, 1, R_AX, R_BX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x00ff00ff00ff00ffull);
	ck_assert_uint_eq(fl() & (F_ZF | F_SF | F_CF | F_OF), 0);
	/* VEX.L = 1 is #UD */
	in.vexl = 1;
	ck_assert_int_eq(run(&in), EXC_UD);
	/* bextr eax, ecx, edx: start 4, length 8 */
	c->gpr[R_CX] = 0x12345678;
	c->gpr[R_DX] = 0x0804;
	in = mkv(0x2f7, MP_NONE, 0, R_AX, R_DX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x67);
	c->gpr[R_DX] = 0x0040; /* start beyond: 0, ZF */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0);
	ck_assert(fl() & F_ZF);
	/* blsi / blsmsk / blsr into vvvv */
	c->gpr[R_CX] = 0xb0;
	in = mkv(0x2f3, MP_NONE, 0, 3, R_AX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x10);
	ck_assert_uint_eq(fl() & (F_CF | F_ZF), F_CF);
	in = mkv(0x2f3, MP_NONE, 0, 2, R_AX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x1f);
	ck_assert_uint_eq(fl() & F_CF, 0);
	in = mkv(0x2f3, MP_NONE, 0, 1, R_AX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xa0);
	c->gpr[R_CX] = 0;
	run(&in);
	ck_assert_uint_eq(fl() & (F_CF | F_ZF), F_CF | F_ZF);
	/* bzhi */
	c->gpr[R_CX] = 0xffffffff;
	c->gpr[R_DX] = 12;
	in = mkv(0x2f5, MP_NONE, 0, R_AX, R_DX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xfff);
	ck_assert_uint_eq(fl() & F_CF, 0);
	c->gpr[R_DX] = 40;
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xffffffff);
	ck_assert_uint_eq(fl() & F_CF, F_CF);
	/* pdep / pext */
	c->gpr[R_DX] = 0x5;    /* source */
	c->gpr[R_CX] = 0xf0f0; /* mask */
	in = mkv(0x2f5, MP_F2, 0, R_AX, R_DX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x0050);
	c->gpr[R_DX] = 0xa5c3;
	in = mkv(0x2f5, MP_F3, 0, R_AX, R_DX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xac);
	/* mulx rdi(hi), rsi(lo), rcx with rdx */
	c->gpr[R_DX] = 0xffffffffffffffffull;
	c->gpr[R_CX] = 2;
	set_fl(F_ZF);
	in = mkv(0x2f6, MP_F2, 1, R_DI, R_SI, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 1);
	ck_assert_uint_eq(c->gpr[R_SI], 0xfffffffffffffffeull);
	ck_assert_uint_eq(fl(), F_ZF);
	in = mkv(0x2f6, MP_F2, 1, R_DI, R_DI, R_CX); /* same register: high half */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_DI], 1);
	/* rorx / shlx / sarx / shrx */
	c->gpr[R_CX] = 0x80000001;
	in = mkv(0x3f0, MP_F2, 0, R_AX, 0, R_CX);
	in.imm = 33; /* masked to 1 */
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xc0000000);
	c->gpr[R_DX] = 36; /* masked to 4 */
	in = mkv(0x2f7, MP_66, 0, R_AX, R_DX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x10);
	in = mkv(0x2f7, MP_F3, 0, R_AX, R_DX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xf8000000);
	in = mkv(0x2f7, MP_F2, 0, R_AX, R_DX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0x08000000);
	/* 32-bit mode ignores VEX.W */
	mode_flat32();
	c->gpr[R_CX] = 0x80000001;
	c->gpr[R_DX] = 1;
	in = mkv(0x2f7, MP_F3, 1, R_AX, R_DX, R_CX);
	run(&in);
	ck_assert_uint_eq(c->gpr[R_AX], 0xc0000000);
}
END_TEST

static Suite *alu_suite(void)
{
	Suite *s = suite_create("alu");
	TCase *tc = tcase_create("handlers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60); /* the randomised host comparisons, under ASan */
	tcase_add_test(tc, t_alu_forms);
	tcase_add_test(tc, t_alu_flags);
	tcase_add_test(tc, t_alu_precise_fault);
	tcase_add_test(tc, t_alu_lockable);
	tcase_add_test(tc, t_test_incdec_notneg);
	tcase_add_test(tc, t_muldiv);
	tcase_add_test(tc, t_shifts);
	tcase_add_test(tc, t_atomic);
	tcase_add_test(tc, t_bt);
	tcase_add_test(tc, t_scan_count);
	tcase_add_test(tc, t_adx_crc_movbe);
	tcase_add_test(tc, t_bmi);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(alu_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);

	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
