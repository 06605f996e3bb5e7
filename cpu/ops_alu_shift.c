/*
 * cpu/ops_alu_shift.c — shifts and rotates: group 2 (C0, C1, D0, D1, D2, D3
 * /0 ROL, /1 ROR, /2 RCL, /3 RCR, /4 SHL, /5 SHR, /6 SAL (= SHL), /7 SAR) and
 * the double shifts SHLD/SHRD (0F A4, A5, AC, AD).
 *
 * SDM Vol. 2 "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR", "SHLD", "SHRD":
 *  - the count is masked to 5 bits (6 with a 64-bit operand); a masked count
 *    of 0 changes no flag and no operand (a 32-bit register operand is still
 *    written, i.e. zero-extended to 64 bits, as hardware does);
 *  - RCL/RCR rotate through CF, so 8/16-bit counts are taken mod 9/17;
 *  - rotates change only CF and OF.
 * Undefined flags (count > 1 for OF, AF, SHLD/SHRD with count > operand size):
 *  - ROL/RCL OF = MSB(res) ^ CF, ROR/RCR OF = MSB(res) ^ next bit (Intel);
 *  - SHLD OF = MSB(res) ^ CF, SHRD OF = MSB(res) ^ MSB(dest); AF = 0;
 *  - 16-bit SHLD/SHRD with count 17..31 shift the 48-bit dest:src:dest
 *    (the Intel result; AMD differs, the differential tests mask it).
 */
#include "cpu/ops_alu.h"

enum shift_op {
	S_ROL,
	S_ROR,
	S_RCL,
	S_RCR,
	S_SHL,
	S_SHR,
	S_SAL,
	S_SAR
};

static inline unsigned count_mask(unsigned size)
{
	return size == 8 ? 63 : 31;
}

/* Materialise the flags with new CF and OF (rotates change only those). */
static inline uint32_t with_cf_of(const struct cpu *c, bool cf, bool of)
{
	return (flags_arith(c) & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | (of ? F_OF : 0);
}

/* Inlined into every handler with op and mem (ModRM.mod != 3, known from
 * the registration) constant, so each handler is straight-line code. */
static inline __attribute__((always_inline)) void shift_do(struct cpu *c, const struct insn *in,
							   enum shift_op op, unsigned size,
							   unsigned count, bool mem)
{
	unsigned bits = size * 8, n = count & count_mask(size), t;
	uint64_t m = alu_mask(size), ea = 0, a, res;
	bool cf;
	uint32_t kind = 0, f = 0;

	if (mem) {
		ea = insn_ea(c, in);
		a = cpu_rd(c, in->seg, ea, size);
	} else {
		a = gpr_rd(c, in, in->rm, size);
	}
	if (n == 0) {
		/* Nothing changes, but a memory destination is still checked for
		 * write access (read-only page, code segment), as hardware does. */
		if (mem)
			cpu_probe_write(c, in->seg, ea, size);
		else if (size == 4)
			gpr_wr(c, in, in->rm, 4, a);
		return;
	}
	switch (op) {
	case S_SHL:
	case S_SAL:
		/* n may exceed bits for 8/16-bit operands: the result is 0. */
		res = n < 64 ? (a << n) & m : 0;
		kind = CC_SHL;
		break;
	case S_SHR:
		res = a >> n;
		kind = CC_SHR;
		break;
	case S_SAR:
		res = (uint64_t)((int64_t)alu_sext(a, size) >> n) & m;
		kind = CC_SAR;
		break;
	case S_ROL:
		t = n & (bits - 1);
		res = t ? ((a << t) | (a >> (bits - t))) & m : a;
		cf = res & 1;
		f = with_cf_of(c, cf, alu_msb(res, size) ^ cf);
		break;
	case S_ROR:
		t = n & (bits - 1);
		res = t ? ((a >> t) | (a << (bits - t))) & m : a;
		f = with_cf_of(c, alu_msb(res, size), alu_msb(res, size) ^ alu_msb(res << 1, size));
		break;
	case S_RCL:
		/* Rotate the (bits+1)-bit value CF:a left by t. */
		t = size == 1 ? n % 9 : size == 2 ? n % 17 : n;
		cf = flags_cf(c);
		if (t) {
			uint64_t lo = t > 1 ? a >> (bits + 1 - t) : 0;

			res = ((a << t) | ((uint64_t)cf << (t - 1)) | lo) & m;
			cf = (a >> (bits - t)) & 1;
		} else {
			res = a;
		}
		f = with_cf_of(c, cf, alu_msb(res, size) ^ cf);
		break;
	default: /* S_RCR */
		t = size == 1 ? n % 9 : size == 2 ? n % 17 : n;
		cf = flags_cf(c);
		if (t) {
			uint64_t hi = t > 1 ? a << (bits + 1 - t) : 0;

			res = ((a >> t) | ((uint64_t)cf << (bits - t)) | hi) & m;
			cf = (a >> (t - 1)) & 1;
		} else {
			res = a;
		}
		f = with_cf_of(c, cf, alu_msb(res, size) ^ alu_msb(res << 1, size));
		break;
	}
	if (mem)
		cpu_wr(c, in->seg, ea, size, res);
	else
		gpr_wr(c, in, in->rm, size, res);
	if (kind)
		lf_set(c, CC_OP(kind, size), res, a, n);
	else
		lf_set_eflags(c, f);
}

/* One handler per (operation, count source, size class). */
#define SHIFT_FORMS_MOD(name, OP, sfx, MEM)                                           \
	static void name##_Eb1##sfx(struct cpu *c, const struct insn *in)             \
	{                                                                             \
		shift_do(c, in, OP, 1, 1, MEM);                                       \
	}                                                                             \
	static void name##_EbCL##sfx(struct cpu *c, const struct insn *in)            \
	{                                                                             \
		shift_do(c, in, OP, 1, (unsigned)c->gpr[R_CX] & 0xff, MEM);           \
	}                                                                             \
	static void name##_EbIb##sfx(struct cpu *c, const struct insn *in)            \
	{                                                                             \
		shift_do(c, in, OP, 1, (unsigned)in->imm & 0xff, MEM);                \
	}                                                                             \
	static void name##_Ev1##sfx(struct cpu *c, const struct insn *in)             \
	{                                                                             \
		shift_do(c, in, OP, ev_size(in), 1, MEM);                             \
	}                                                                             \
	static void name##_EvCL##sfx(struct cpu *c, const struct insn *in)            \
	{                                                                             \
		shift_do(c, in, OP, ev_size(in), (unsigned)c->gpr[R_CX] & 0xff, MEM); \
	}                                                                             \
	static void name##_EvIb##sfx(struct cpu *c, const struct insn *in)            \
	{                                                                             \
		shift_do(c, in, OP, ev_size(in), (unsigned)in->imm & 0xff, MEM);      \
	}
/* Register (_r) and memory (_m) destination forms. */
#define SHIFT_FORMS(name, OP)                \
	SHIFT_FORMS_MOD(name, OP, _r, false) \
	SHIFT_FORMS_MOD(name, OP, _m, true)

SHIFT_FORMS(rol, S_ROL)
SHIFT_FORMS(ror, S_ROR)
SHIFT_FORMS(rcl, S_RCL)
SHIFT_FORMS(rcr, S_RCR)
SHIFT_FORMS(shl, S_SHL)
SHIFT_FORMS(shr, S_SHR)
SHIFT_FORMS(sar, S_SAR)

/* ---- SHLD / SHRD ---- */

static inline void shxd_do(struct cpu *c, const struct insn *in, bool left, unsigned count)
{
	unsigned size = in->osz, bits = size * 8, n = count & count_mask(size);
	uint64_t m = alu_mask(size), ea = 0, a, b = gpr_rd(c, in, in->reg, size), res;
	bool mem = in->mod != 3, cf, of;

	if (mem) {
		ea = insn_ea(c, in);
		a = cpu_rd(c, in->seg, ea, size);
	} else {
		a = gpr_rd(c, in, in->rm, size);
	}
	if (n == 0) {
		/* Nothing changes, but a memory destination is still checked for
		 * write access (read-only page, code segment), as hardware does. */
		if (mem)
			cpu_probe_write(c, in->seg, ea, size);
		else if (size == 4)
			gpr_wr(c, in, in->rm, 4, a);
		return;
	}
	if (size == 2) {
		/* 48-bit dest:src:dest so that counts 17..31 behave as on Intel. */
		uint64_t t = a << 32 | b << 16 | a;

		if (left) {
			res = (t >> (32 - n)) & 0xffff;
			cf = (t >> (48 - n)) & 1;
		} else {
			res = (t >> n) & 0xffff;
			cf = (t >> (n - 1)) & 1;
		}
	} else if (left) {
		res = ((a << n) | (b >> (bits - n))) & m;
		cf = (a >> (bits - n)) & 1;
	} else {
		res = ((a >> n) | (b << (bits - n))) & m;
		cf = (a >> (n - 1)) & 1;
	}
	/* Count 1: OF = sign change (SDM); the same formulas for larger counts. */
	of = left ? alu_msb(res, size) ^ cf : alu_msb(res, size) ^ alu_msb(a, size);
	if (mem)
		cpu_wr(c, in->seg, ea, size, res);
	else
		gpr_wr(c, in, in->rm, size, res);
	lf_set_eflags(c, alu_szp(res, size) | (cf ? F_CF : 0) | (of ? F_OF : 0));
}

static void shld_Ib(struct cpu *c, const struct insn *in)
{
	shxd_do(c, in, true, (unsigned)in->imm & 0xff);
}

static void shld_CL(struct cpu *c, const struct insn *in)
{
	shxd_do(c, in, true, (unsigned)c->gpr[R_CX] & 0xff);
}

static void shrd_Ib(struct cpu *c, const struct insn *in)
{
	shxd_do(c, in, false, (unsigned)in->imm & 0xff);
}

static void shrd_CL(struct cpu *c, const struct insn *in)
{
	shxd_do(c, in, false, (unsigned)c->gpr[R_CX] & 0xff);
}

#define ANY OPT_ANY
#define E(opc, r, fn, nm)                                           \
	{                                                           \
		opc, ANY, r, ANY, OPT_MOD_ANY, 0, ANY, 0, 0, fn, nm \
	}
#define E2(opc, r, fn, nm)                                              \
	{ opc, ANY, r, ANY, OPT_MOD_REG, 0, ANY, 0, 0, fn##_r, nm },    \
	{                                                               \
		opc, ANY, r, ANY, OPT_MOD_MEM, 0, ANY, 0, 0, fn##_m, nm \
	}
#define GRP2(r, name, nm)                                                                        \
	E2(0xc0, r, name##_EbIb, nm), E2(0xc1, r, name##_EvIb, nm), E2(0xd0, r, name##_Eb1, nm), \
		E2(0xd1, r, name##_Ev1, nm), E2(0xd2, r, name##_EbCL, nm),                       \
		E2(0xd3, r, name##_EvCL, nm)

static const struct optab_entry shift_tab[] = {
	GRP2(0, rol, "rol"),
	GRP2(1, ror, "ror"),
	GRP2(2, rcl, "rcl"),
	GRP2(3, rcr, "rcr"),
	GRP2(4, shl, "shl"),
	GRP2(5, shr, "shr"),
	/* /6 is an undocumented alias of SHL on Intel and AMD. */
	GRP2(6, shl, "sal"),
	GRP2(7, sar, "sar"),
	E(0x1a4, ANY, shld_Ib, "shld"),
	E(0x1a5, ANY, shld_CL, "shld"),
	E(0x1ac, ANY, shrd_Ib, "shrd"),
	E(0x1ad, ANY, shrd_CL, "shrd"),
};

void ops_alu_shift_register(void)
{
	optab_add_many(shift_tab, (int)(sizeof(shift_tab) / sizeof(shift_tab[0])));
}
