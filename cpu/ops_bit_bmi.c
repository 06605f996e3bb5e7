/*
 * cpu/ops_bit_bmi.c — VEX-encoded general-purpose bit manipulation:
 * BMI1 (ANDN, BEXTR, BLSI, BLSMSK, BLSR) and BMI2 (BZHI, MULX, PDEP, PEXT,
 * RORX, SARX, SHLX, SHRX), SDM Vol. 2 and Vol. 1 §5.1.16.
 *
 * Operands: ModRM.reg (in->reg), VEX.vvvv (in->vvvv) and ModRM.rm; the size
 * is 32 bits, or 64 with VEX.W in 64-bit mode. VEX.L = 1 is #UD.
 * Undefined flags: AF = 0 and PF from the result.
 */
#include "cpu/cpuid.h"
#include "cpu/ops_alu.h"

static inline unsigned bmi_size(struct cpu *c, const struct insn *in)
{
	if (in->vexl)
		cpu_ud(c);
	return vex_gpr_size(c, in);
}

/* ANDN r, vvvv, r/m: ~vvvv & r/m. SF, ZF from the result, CF = OF = 0. */
static void andn(struct cpu *c, const struct insn *in)
{
	unsigned size = bmi_size(c, in);
	uint64_t b = rm_read(c, in, size);
	uint64_t r = ~reg_get(c, in->vvvv, (int)size) & b;

	reg_set(c, in->reg, (int)size, r);
	lf_set(c, CC_OP(CC_LOGIC, size), r, 0, 0);
}

/* BEXTR r, r/m, vvvv: start = vvvv[7:0], length = vvvv[15:8]. ZF from the
 * result, CF = OF = 0. */
static void bextr(struct cpu *c, const struct insn *in)
{
	unsigned size = bmi_size(c, in), bits = size * 8;
	uint64_t s = rm_read(c, in, size), ctl = reg_get(c, in->vvvv, (int)size);
	unsigned start = ctl & 0xff, len = (ctl >> 8) & 0xff;
	uint64_t r = start < bits ? s >> start : 0;

	if (len < bits)
		r &= (1ull << len) - 1;
	reg_set(c, in->reg, (int)size, r);
	lf_set(c, CC_OP(CC_LOGIC, size), r, 0, 0);
}

/* Group 17 (0F38 F3 /1-/3): destination vvvv, source r/m; OF = 0,
 * SF/ZF from the result. */
enum blsx {
	BLSR,
	BLSMSK,
	BLSI
};

static inline void blsx_do(struct cpu *c, const struct insn *in, enum blsx op)
{
	unsigned size = bmi_size(c, in);
	uint64_t s = rm_read(c, in, size), r;
	bool cf;

	switch (op) {
	case BLSR: /* reset lowest set bit; CF = source was 0 */
		r = (s - 1) & s;
		cf = s == 0;
		break;
	case BLSMSK: /* mask up to lowest set bit; CF = source was 0 */
		r = ((s - 1) ^ s) & alu_mask(size);
		cf = s == 0;
		break;
	default: /* BLSI: isolate lowest set bit; CF = source was not 0 */
		r = (0 - s) & s;
		cf = s != 0;
		break;
	}
	reg_set(c, in->vvvv, (int)size, r);
	lf_set_eflags(c, alu_szp(r, size) | (cf ? F_CF : 0));
}

static void blsr(struct cpu *c, const struct insn *in)
{
	blsx_do(c, in, BLSR);
}

static void blsmsk(struct cpu *c, const struct insn *in)
{
	blsx_do(c, in, BLSMSK);
}

static void blsi(struct cpu *c, const struct insn *in)
{
	blsx_do(c, in, BLSI);
}

/* BZHI r, r/m, vvvv: clear bits from index vvvv[7:0] up; CF = index beyond
 * the operand; SF/ZF from the result, OF = 0. */
static void bzhi(struct cpu *c, const struct insn *in)
{
	unsigned size = bmi_size(c, in), bits = size * 8;
	uint64_t s = rm_read(c, in, size);
	unsigned n = (unsigned)reg_get(c, in->vvvv, (int)size) & 0xff;
	uint64_t r = n < bits ? s & ((1ull << n) - 1) : s;

	reg_set(c, in->reg, (int)size, r);
	lf_set_eflags(c, alu_szp(r, size) | (n > bits - 1 ? F_CF : 0));
}

/* PDEP r, vvvv, r/m: deposit the low bits of vvvv at the set bits of the
 * mask r/m. PEXT: gather the bits of vvvv selected by the mask into the low
 * bits. No flags. */
static void pdep(struct cpu *c, const struct insn *in)
{
	unsigned size = bmi_size(c, in);
	uint64_t mask = rm_read(c, in, size), s = reg_get(c, in->vvvv, (int)size), r = 0;

	for (uint64_t k = 1; mask; k <<= 1) {
		uint64_t low = mask & (0 - mask);

		if (s & k)
			r |= low;
		mask ^= low;
	}
	reg_set(c, in->reg, (int)size, r);
}

static void pext(struct cpu *c, const struct insn *in)
{
	unsigned size = bmi_size(c, in);
	uint64_t mask = rm_read(c, in, size), s = reg_get(c, in->vvvv, (int)size), r = 0;

	for (uint64_t k = 1; mask; k <<= 1) {
		uint64_t low = mask & (0 - mask);

		if (s & low)
			r |= k;
		mask ^= low;
	}
	reg_set(c, in->reg, (int)size, r);
}

/* MULX hi(reg), lo(vvvv), r/m: unsigned rDX * r/m, no flags. With reg ==
 * vvvv the high half is what remains (SDM: "the high half is written last"). */
static void mulx(struct cpu *c, const struct insn *in)
{
	unsigned size = bmi_size(c, in);
	uint64_t b = rm_read(c, in, size), a = reg_get(c, R_DX, (int)size), lo, hi;

	if (size == 8) {
		unsigned __int128 p = (unsigned __int128)a * b;

		lo = (uint64_t)p;
		hi = (uint64_t)(p >> 64);
	} else {
		uint64_t p = a * b;

		lo = (uint32_t)p;
		hi = p >> 32;
	}
	reg_set(c, in->vvvv, (int)size, lo);
	reg_set(c, in->reg, (int)size, hi);
}

/* RORX r, r/m, imm8: rotate right, no flags. */
static void rorx(struct cpu *c, const struct insn *in)
{
	unsigned size = bmi_size(c, in), bits = size * 8;
	uint64_t s = rm_read(c, in, size);
	unsigned n = (unsigned)in->imm & (bits - 1);

	reg_set(c, in->reg, (int)size, n ? ((s >> n) | (s << (bits - n))) & alu_mask(size) : s);
}

/* SHLX/SHRX/SARX r, r/m, vvvv: count vvvv masked to 5/6 bits, no flags. */
enum shx {
	SHX_L,
	SHX_R,
	SHX_A
};

static inline void shx_do(struct cpu *c, const struct insn *in, enum shx op)
{
	unsigned size = bmi_size(c, in);
	uint64_t s = rm_read(c, in, size), r;
	unsigned n = (unsigned)reg_get(c, in->vvvv, (int)size) & (size * 8 - 1);

	switch (op) {
	case SHX_L:
		r = s << n;
		break;
	case SHX_R:
		r = s >> n;
		break;
	default:
		r = (uint64_t)((int64_t)alu_sext(s, size) >> n);
		break;
	}
	reg_set(c, in->reg, (int)size, r & alu_mask(size));
}

static void shlx(struct cpu *c, const struct insn *in)
{
	shx_do(c, in, SHX_L);
}

static void shrx(struct cpu *c, const struct insn *in)
{
	shx_do(c, in, SHX_R);
}

static void sarx(struct cpu *c, const struct insn *in)
{
	shx_do(c, in, SHX_A);
}

#define ANY OPT_ANY
#define V(opc, mp, r, fn, feat, nm)                                   \
	{                                                             \
		opc, mp, r, ANY, OPT_MOD_ANY, 1, ANY, 0, feat, fn, nm \
	}

static const struct optab_entry bmi_tab[] = {
	V(0x2f2, MP_NONE, ANY, andn, FEAT_BMI1, "andn"),
	V(0x2f3, MP_NONE, 1, blsr, FEAT_BMI1, "blsr"),
	V(0x2f3, MP_NONE, 2, blsmsk, FEAT_BMI1, "blsmsk"),
	V(0x2f3, MP_NONE, 3, blsi, FEAT_BMI1, "blsi"),
	V(0x2f7, MP_NONE, ANY, bextr, FEAT_BMI1, "bextr"),
	V(0x2f5, MP_NONE, ANY, bzhi, FEAT_BMI2, "bzhi"),
	V(0x2f5, MP_F3, ANY, pext, FEAT_BMI2, "pext"),
	V(0x2f5, MP_F2, ANY, pdep, FEAT_BMI2, "pdep"),
	V(0x2f6, MP_F2, ANY, mulx, FEAT_BMI2, "mulx"),
	V(0x2f7, MP_66, ANY, shlx, FEAT_BMI2, "shlx"),
	V(0x2f7, MP_F3, ANY, sarx, FEAT_BMI2, "sarx"),
	V(0x2f7, MP_F2, ANY, shrx, FEAT_BMI2, "shrx"),
	V(0x3f0, MP_F2, ANY, rorx, FEAT_BMI2, "rorx"),
};

void ops_bit_bmi_register(void)
{
	optab_add_many(bmi_tab, (int)(sizeof(bmi_tab) / sizeof(bmi_tab[0])));
}
