/*
 * cpu/ops_alu_muldiv.c — multiplication and division: MUL/IMUL/DIV/IDIV
 * (F6/F7 /4-/7) and the two- and three-operand IMUL (0F AF, 69, 6B).
 *
 * SDM Vol. 2 "MUL", "IMUL", "DIV", "IDIV":
 *  - MUL/IMUL set CF = OF = "the upper half is significant"; SF, ZF, AF, PF
 *    are undefined: we give SF/ZF/PF of the low result and AF = 0 (Intel;
 *    the lazy kind CC_MUL encodes exactly that).
 *  - DIV/IDIV raise #DE for a zero divisor and for a quotient that does not
 *    fit the destination, before changing anything. All six flags are
 *    undefined after a division: we leave them unchanged.
 */
#include "cpu/ops_alu.h"

/* ---- one-operand MUL / IMUL: rDX:rAX = rAX * r/m ---- */

static inline void mul_done(struct cpu *c, unsigned size, uint64_t lo, bool of)
{
	lf_set(c, CC_OP(CC_MUL, size), lo, of, 0);
}

static void mul_Eb(struct cpu *c, const struct insn *in)
{
	uint32_t r = (uint32_t)(uint8_t)c->gpr[R_AX] * (uint8_t)rm_read(c, in, 1);

	reg16_set(c, R_AX, (uint16_t)r);
	mul_done(c, 1, r & 0xff, r >> 8);
}

static void imul_Eb(struct cpu *c, const struct insn *in)
{
	int32_t r = (int32_t)(int8_t)c->gpr[R_AX] * (int8_t)rm_read(c, in, 1);

	reg16_set(c, R_AX, (uint16_t)r);
	mul_done(c, 1, (uint8_t)r, r != (int8_t)r);
}

static void mul_Ev(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz;
	uint64_t b = rm_read(c, in, size), a = reg_get(c, R_AX, (int)size), lo, hi;

	switch (size) {
	case 2: {
		uint32_t r = (uint32_t)a * (uint32_t)b;

		lo = (uint16_t)r;
		hi = r >> 16;
		break;
	}
	case 4: {
		uint64_t r = a * b;

		lo = (uint32_t)r;
		hi = r >> 32;
		break;
	}
	default: {
		unsigned __int128 r = (unsigned __int128)a * b;

		lo = (uint64_t)r;
		hi = (uint64_t)(r >> 64);
		break;
	}
	}
	reg_set(c, R_AX, (int)size, lo);
	reg_set(c, R_DX, (int)size, hi);
	mul_done(c, size, lo, hi != 0);
}

static void imul_Ev(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz;
	uint64_t b = rm_read(c, in, size), a = reg_get(c, R_AX, (int)size), lo, hi;
	bool of;

	switch (size) {
	case 2: {
		int32_t r = (int32_t)(int16_t)a * (int16_t)b;

		lo = (uint16_t)r;
		hi = (uint16_t)((uint32_t)r >> 16);
		of = r != (int16_t)r;
		break;
	}
	case 4: {
		int64_t r = (int64_t)(int32_t)a * (int32_t)b;

		lo = (uint32_t)r;
		hi = (uint32_t)((uint64_t)r >> 32);
		of = r != (int32_t)r;
		break;
	}
	default: {
		__int128 r = (__int128)(int64_t)a * (int64_t)b;

		lo = (uint64_t)r;
		hi = (uint64_t)((unsigned __int128)r >> 64);
		of = r != (int64_t)lo;
		break;
	}
	}
	reg_set(c, R_AX, (int)size, lo);
	reg_set(c, R_DX, (int)size, hi);
	mul_done(c, size, lo, of);
}

/* ---- IMUL r, r/m [, imm]: truncated signed product ---- */

static inline uint64_t imul_trunc(unsigned size, uint64_t a, uint64_t b, bool *of)
{
	switch (size) {
	case 2: {
		int32_t r = (int32_t)(int16_t)a * (int16_t)b;

		*of = r != (int16_t)r;
		return (uint16_t)r;
	}
	case 4: {
		int64_t r = (int64_t)(int32_t)a * (int32_t)b;

		*of = r != (int32_t)r;
		return (uint32_t)r;
	}
	default: {
		int64_t r;

		*of = __builtin_mul_overflow((int64_t)a, (int64_t)b, &r);
		return (uint64_t)r;
	}
	}
}

static inline void imul_to_reg(struct cpu *c, const struct insn *in, uint64_t a, uint64_t b)
{
	unsigned size = in->osz;
	bool of;
	uint64_t r = imul_trunc(size, a, b, &of);

	reg_set(c, in->reg, (int)size, r);
	mul_done(c, size, r, of);
}

static void imul_GvEv(struct cpu *c, const struct insn *in)
{
	uint64_t b = rm_read(c, in, in->osz);

	imul_to_reg(c, in, reg_get(c, in->reg, in->osz), b);
}

/* 69 (Iz) and 6B (Ib): the decoder has sign-extended the immediate. */
static void imul_GvEvI(struct cpu *c, const struct insn *in)
{
	imul_to_reg(c, in, rm_read(c, in, in->osz), in->imm);
}

/* ---- DIV / IDIV: rDX:rAX / r/m -> quotient rAX, remainder rDX ---- */

static _Noreturn void div_fault(struct cpu *c)
{
	cpu_exception(c, EXC_DE, NO_ERRCODE);
}

static void div_Eb(struct cpu *c, const struct insn *in)
{
	unsigned d = (uint8_t)rm_read(c, in, 1), n = (uint16_t)c->gpr[R_AX], q;

	if (d == 0 || (q = n / d) > 0xff)
		div_fault(c);
	reg16_set(c, R_AX, (uint16_t)((n % d) << 8 | q));
}

static void idiv_Eb(struct cpu *c, const struct insn *in)
{
	int d = (int8_t)rm_read(c, in, 1), n = (int16_t)c->gpr[R_AX], q;

	if (d == 0)
		div_fault(c);
	q = n / d;
	if (q < -128 || q > 127)
		div_fault(c);
	reg16_set(c, R_AX, (uint16_t)((uint8_t)(n % d) << 8 | (uint8_t)q));
}

static void div_Ev(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz;
	uint64_t d = rm_read(c, in, size), lo = reg_get(c, R_AX, (int)size);
	uint64_t hi = reg_get(c, R_DX, (int)size), q, r;

	/* The quotient fits iff the high half is below the divisor. */
	if (d == 0 || hi >= d)
		div_fault(c);
	if (size == 8) {
		unsigned __int128 n = (unsigned __int128)hi << 64 | lo;

		q = (uint64_t)(n / d);
		r = (uint64_t)(n % d);
	} else {
		uint64_t n = hi << (size * 8) | lo;

		q = n / d;
		r = n % d;
	}
	reg_set(c, R_AX, (int)size, q);
	reg_set(c, R_DX, (int)size, r);
}

static void idiv_Ev(struct cpu *c, const struct insn *in)
{
	unsigned size = in->osz;
	int64_t d = (int64_t)alu_sext(rm_read(c, in, size), size), q, r;
	uint64_t lo = reg_get(c, R_AX, (int)size), hi = reg_get(c, R_DX, (int)size);

	if (d == 0)
		div_fault(c);
	if (size == 8) {
		/* 128/64: divide magnitudes so that no C operation overflows. */
		unsigned __int128 n = (unsigned __int128)hi << 64 | lo;
		bool nneg = hi >> 63, dneg = d < 0;
		unsigned __int128 un = nneg ? -n : n;
		uint64_t ud = dneg ? 0 - (uint64_t)d : (uint64_t)d;
		unsigned __int128 uq = un / ud;
		uint64_t ur = (uint64_t)(un % ud);

		if (nneg != dneg) {
			if (uq > (unsigned __int128)1 << 63)
				div_fault(c);
			q = (int64_t)(0 - (uint64_t)uq);
		} else {
			if (uq > (uint64_t)INT64_MAX)
				div_fault(c);
			q = (int64_t)uq;
		}
		r = nneg ? (int64_t)(0 - ur) : (int64_t)ur;
	} else {
		/* 32/16 and 64/32: the dividend fits int64; only INT64_MIN / -1
		 * could overflow in C and that quotient is out of range anyway. */
		int64_t n = (int64_t)alu_sext(hi << (size * 8) | lo, size * 2);
		int64_t lim = (int64_t)1 << (size * 8 - 1);

		if (d == -1 && n == INT64_MIN)
			div_fault(c);
		q = n / d;
		r = n % d;
		if (q < -lim || q >= lim)
			div_fault(c);
	}
	reg_set(c, R_AX, (int)size, (uint64_t)q);
	reg_set(c, R_DX, (int)size, (uint64_t)r);
}

#define ANY OPT_ANY
#define E(opc, r, fn, nm)                                           \
	{                                                           \
		opc, ANY, r, ANY, OPT_MOD_ANY, 0, ANY, 0, 0, fn, nm \
	}

static const struct optab_entry muldiv_tab[] = {
	E(0xf6, 4, mul_Eb, "mul"),        E(0xf6, 5, imul_Eb, "imul"),
	E(0xf6, 6, div_Eb, "div"),        E(0xf6, 7, idiv_Eb, "idiv"),
	E(0xf7, 4, mul_Ev, "mul"),        E(0xf7, 5, imul_Ev, "imul"),
	E(0xf7, 6, div_Ev, "div"),        E(0xf7, 7, idiv_Ev, "idiv"),
	E(0x1af, ANY, imul_GvEv, "imul"), E(0x69, ANY, imul_GvEvI, "imul"),
	E(0x6b, ANY, imul_GvEvI, "imul"),
};

void ops_alu_muldiv_register(void)
{
	optab_add_many(muldiv_tab, (int)(sizeof(muldiv_tab) / sizeof(muldiv_tab[0])));
}
