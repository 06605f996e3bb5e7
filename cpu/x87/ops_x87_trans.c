/*
 * cpu/x87/ops_x87_trans.c — x87 instructions computed on ST(0)/ST(1) beyond
 * the four basic operations: FSQRT, FRNDINT, F2XM1, FSIN, FCOS, FPTAN,
 * FSINCOS, FXTRACT, FPREM, FPREM1, FSCALE, FPATAN, FYL2X, FYL2XP1 (SDM Vol. 1
 * §8.3.7-8.3.10). Results and condition codes come bit-exact from f80.h.
 *
 * The instructions that report "incomplete / out of range" in C2 (FSIN,
 * FCOS, FPTAN, FSINCOS, FPREM, FPREM1) clear it on every other outcome,
 * stack faults and unmasked exceptions included (as hardware does).
 */
#include "cpu/access.h"
#include "cpu/cpuid.h"
#include "cpu/x87/x87.h"

/* ST(0) = op(ST(0)): FSQRT, FRNDINT, F2XM1 (C1 only), FSIN, FCOS (C2 = out
 * of range, ST(0) unchanged). */
static void unary(struct cpu *cpu, const struct insn *in, enum f80_op1 op)
{
	f80 r;
	uint16_t sw;

	x87_begin(cpu);
	x87_note(cpu, in);
	if (op == F80_SIN || op == F80_COS)
		x87_set_cc(cpu, FSW_C2, 0); /* cleared on every other outcome */
	if (x87_empty(cpu, 0)) {
		if (x87_stack_fault(cpu, false))
			x87_write(cpu, 0, &x87_indefinite);
		return;
	}
	sw = f80_op1(op, cpu->fpu.fcw, x87_st(cpu, 0), &r);
	if (!x87_exc(cpu, sw, false))
		return;
	if (op == F80_SIN || op == F80_COS)
		x87_set_cc(cpu, FSW_C2, sw);
	x87_write(cpu, 0, &r);
}

static void op_fsqrt(struct cpu *cpu, const struct insn *in)
{
	unary(cpu, in, F80_SQRT);
}
static void op_frndint(struct cpu *cpu, const struct insn *in)
{
	unary(cpu, in, F80_RNDINT);
}
static void op_f2xm1(struct cpu *cpu, const struct insn *in)
{
	unary(cpu, in, F80_F2XM1);
}
static void op_fsin(struct cpu *cpu, const struct insn *in)
{
	unary(cpu, in, F80_SIN);
}
static void op_fcos(struct cpu *cpu, const struct insn *in)
{
	unary(cpu, in, F80_COS);
}

/* FPTAN, FSINCOS, FXTRACT: ST(0) = r1, then push r0 (unless FPTAN/FSINCOS
 * found the operand out of range: C2 = 1, nothing changes). */
static void unary2(struct cpu *cpu, const struct insn *in, enum f80_op1x2 op)
{
	f80 r0, r1;
	uint16_t sw;
	int n;

	x87_begin(cpu);
	x87_note(cpu, in);
	if (op != F80_XTRACT)
		x87_set_cc(cpu, FSW_C2, 0);
	if (x87_empty(cpu, 0) || x87_full(cpu)) {
		/* Masked stack fault: both results are the indefinite. */
		if (!x87_stack_fault(cpu, !x87_empty(cpu, 0)))
			return;
		x87_write(cpu, 0, &x87_indefinite);
		x87_push(cpu, &x87_indefinite);
		return;
	}
	sw = f80_op1x2(op, cpu->fpu.fcw, x87_st(cpu, 0), &r0, &r1, &n);
	if (!x87_exc(cpu, sw, false))
		return;
	if (op != F80_XTRACT)
		x87_set_cc(cpu, FSW_C2, sw);
	x87_write(cpu, 0, &r1);
	if (n == 2)
		x87_push(cpu, &r0);
}

static void op_fptan(struct cpu *cpu, const struct insn *in)
{
	unary2(cpu, in, F80_PTAN);
}
static void op_fsincos(struct cpu *cpu, const struct insn *in)
{
	unary2(cpu, in, F80_SINCOS);
}
static void op_fxtract(struct cpu *cpu, const struct insn *in)
{
	unary2(cpu, in, F80_XTRACT);
}

/* Two operands ST(0), ST(1). FPREM/FPREM1/FSCALE replace ST(0); FPATAN,
 * FYL2X, FYL2XP1 replace ST(1) and pop. */
static void binary(struct cpu *cpu, const struct insn *in, enum f80_op2 op)
{
	bool pop = op == F80_ATAN || op == F80_YL2X || op == F80_YL2XP1;
	unsigned d = pop ? 1 : 0;
	f80 r;
	uint16_t sw;

	x87_begin(cpu);
	x87_note(cpu, in);
	if (op == F80_PREM || op == F80_PREM1)
		x87_set_cc(cpu, FSW_C2, 0);
	if (x87_empty(cpu, 0) || x87_empty(cpu, 1)) {
		if (!x87_stack_fault(cpu, false))
			return;
		x87_write(cpu, d, &x87_indefinite);
	} else {
		sw = f80_op2(op, cpu->fpu.fcw, x87_st(cpu, 0), x87_st(cpu, 1), &r);
		if (!x87_exc(cpu, sw, false))
			return;
		/* FPREM/FPREM1: quotient bits C0 C3 C1 and C2 = incomplete;
		 * a NaN result (invalid operands) writes only C1 = C2 = 0. */
		if ((op == F80_PREM || op == F80_PREM1))
			x87_set_cc(cpu,
				   (r.sexp & 0x7fff) == 0x7fff && (r.mant << 1) ? FSW_C1 | FSW_C2
										: FSW_CC,
				   sw);
		x87_write(cpu, d, &r);
	}
	if (pop)
		x87_pop(cpu);
}

static void op_fprem(struct cpu *cpu, const struct insn *in)
{
	binary(cpu, in, F80_PREM);
}
static void op_fprem1(struct cpu *cpu, const struct insn *in)
{
	binary(cpu, in, F80_PREM1);
}
static void op_fscale(struct cpu *cpu, const struct insn *in)
{
	binary(cpu, in, F80_SCALE);
}
static void op_fpatan(struct cpu *cpu, const struct insn *in)
{
	binary(cpu, in, F80_ATAN);
}
static void op_fyl2x(struct cpu *cpu, const struct insn *in)
{
	binary(cpu, in, F80_YL2X);
}
static void op_fyl2xp1(struct cpu *cpu, const struct insn *in)
{
	binary(cpu, in, F80_YL2XP1);
}

#define R1(r, rm, fn, nm)                                                          \
	{                                                                          \
		0xd9, OPT_ANY, r, rm, OPT_MOD_REG, 0, OPT_ANY, 0, FEAT_FPU, fn, nm \
	}

static const struct optab_entry x87_trans_tab[] = {
	R1(6, 0, op_f2xm1, "f2xm1"),     R1(6, 1, op_fyl2x, "fyl2x"),
	R1(6, 2, op_fptan, "fptan"),     R1(6, 3, op_fpatan, "fpatan"),
	R1(6, 4, op_fxtract, "fxtract"), R1(6, 5, op_fprem1, "fprem1"),
	R1(7, 0, op_fprem, "fprem"),     R1(7, 1, op_fyl2xp1, "fyl2xp1"),
	R1(7, 2, op_fsqrt, "fsqrt"),     R1(7, 3, op_fsincos, "fsincos"),
	R1(7, 4, op_frndint, "frndint"), R1(7, 5, op_fscale, "fscale"),
	R1(7, 6, op_fsin, "fsin"),       R1(7, 7, op_fcos, "fcos"),
};

void x87_register_trans(void)
{
	optab_add_many(x87_trans_tab, (int)(sizeof(x87_trans_tab) / sizeof(x87_trans_tab[0])));
}
