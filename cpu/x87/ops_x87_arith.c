/*
 * cpu/x87/ops_x87_arith.c — x87 basic arithmetic and comparisons:
 * FADD/FMUL/FSUB/FSUBR/FDIV/FDIVR (D8, DC, DE register and memory forms,
 * FIxxx via DA/DE memory forms), FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP,
 * FICOM/FICOMP, FCOMI/FCOMIP/FUCOMI/FUCOMIP, FTST, FXAM
 * (SDM Vol. 2 instruction pages; Vol. 1 §8.3.5-8.3.6).
 *
 * The register forms map ModRM.reg to the operation the same way in D8, DC
 * and DE: reg 4 computes ST(0) - ST(i) and reg 5 ST(i) - ST(0) whichever
 * register is the destination (the SDM names DC E0+i "FSUBR ST(i), ST(0)").
 */
#include "cpu/access.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/x87/x87.h"

static const uint8_t arith_op[8] = { F80_ADD, F80_MUL,  F80_ADD, F80_ADD,
				     F80_SUB, F80_SUBR, F80_DIV, F80_DIVR };

/* Condition codes of a comparison (C1 = 0), then the pops. With an
 * unmasked IE/DE the codes (or RFLAGS) are still written but nothing is
 * popped (what the hardware does, though the SDM leaves the codes unset). */
static void cmp_commit(struct cpu *cpu, uint16_t sw, int pops, bool eflags)
{
	bool ok = x87_exc(cpu, sw, false);

	if (eflags) {
		/* FCOMI: ZF = C3, PF = C2, CF = C0; OF, SF, AF cleared. */
		uint64_t f = (sw & FSW_C3 ? F_ZF : 0) | (sw & FSW_C2 ? F_PF : 0) |
			     (sw & FSW_C0 ? F_CF : 0);
		flags_set(cpu, f, F_ARITH);
	} else {
		x87_set_cc(cpu, FSW_C0 | FSW_C2 | FSW_C3, sw);
	}
	if (!ok)
		return;
	while (pops--)
		x87_pop(cpu);
}

/* Stack underflow of a comparison (§8.5.1.1): "unordered", written even
 * when IE is unmasked (observed); pops only when masked. */
static void cmp_underflow(struct cpu *cpu, int pops, bool eflags)
{
	bool masked = x87_stack_fault(cpu, false);

	if (eflags)
		flags_set(cpu, F_ZF | F_PF | F_CF, F_ARITH);
	else
		x87_set_cc(cpu, FSW_C0 | FSW_C2 | FSW_C3, FSW_C0 | FSW_C2 | FSW_C3);
	if (!masked)
		return;
	while (pops--)
		x87_pop(cpu);
}

/* D8 / DA / DC / DE with a memory operand (m32real, m32int, m64real,
 * m16int): ST(0) = ST(0) op m, or a comparison with m. */
static void op_arith_mem(struct cpu *cpu, const struct insn *in)
{
	static const uint8_t msize[4] = { 4, 4, 8, 2 };
	int form = (in->op >> 1) & 3, reg = in->reg & 7;
	uint64_t ea, m;
	f80 r;
	uint16_t sw;

	x87_begin(cpu);
	ea = insn_ea(cpu, in);
	m = cpu_rd(cpu, in->seg, ea, msize[form]);
	x87_note_mem(cpu, in, ea);
	if (x87_empty(cpu, 0)) {
		if (reg == 2 || reg == 3)
			cmp_underflow(cpu, reg - 2, false);
		else if (x87_stack_fault(cpu, false))
			x87_write(cpu, 0, &x87_indefinite);
		return;
	}
	sw = f80_op_mem(form, reg, cpu->fpu.fcw, x87_st(cpu, 0), &m, &r);
	if (reg == 2 || reg == 3)
		cmp_commit(cpu, sw, reg - 2, false);
	else if (x87_exc(cpu, sw, false))
		x87_write(cpu, 0, &r);
}

/* Register forms: dst = ST(0) (D8) or ST(i) (DC, DE); DE pops. */
static inline void arith_reg(struct cpu *cpu, const struct insn *in, bool to_sti, bool pop)
{
	unsigned i = in->rm & 7, d = to_sti ? i : 0;
	f80 r;
	uint16_t sw;

	x87_begin(cpu);
	x87_note(cpu, in);
	if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
		if (!x87_stack_fault(cpu, false))
			return;
		x87_write(cpu, d, &x87_indefinite);
	} else {
		sw = f80_op2(arith_op[in->reg & 7], cpu->fpu.fcw, x87_st(cpu, 0), x87_st(cpu, i),
			     &r);
		if (!x87_exc(cpu, sw, false))
			return;
		x87_write(cpu, d, &r);
	}
	if (pop)
		x87_pop(cpu);
}

static void op_d8_reg(struct cpu *cpu, const struct insn *in)
{
	arith_reg(cpu, in, false, false);
}
static void op_dc_reg(struct cpu *cpu, const struct insn *in)
{
	arith_reg(cpu, in, true, false);
}
static void op_de_reg(struct cpu *cpu, const struct insn *in)
{
	arith_reg(cpu, in, true, true);
}

/* Compare ST(0) with ST(i). */
static inline void com_reg(struct cpu *cpu, const struct insn *in, unsigned i, enum f80_cmp kind,
			   int pops, bool eflags)
{
	x87_begin(cpu);
	x87_note(cpu, in);
	if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
		cmp_underflow(cpu, pops, eflags);
		return;
	}
	cmp_commit(cpu, f80_cmp(kind, cpu->fpu.fcw, x87_st(cpu, 0), x87_st(cpu, i)), pops, eflags);
}

static void op_fcom(struct cpu *cpu, const struct insn *in)
{
	com_reg(cpu, in, in->rm & 7, F80_COM, 0, false);
}
static void op_fcomp(struct cpu *cpu, const struct insn *in)
{
	com_reg(cpu, in, in->rm & 7, F80_COM, 1, false);
}
static void op_fcompp(struct cpu *cpu, const struct insn *in)
{
	com_reg(cpu, in, 1, F80_COM, 2, false);
}
static void op_fucom(struct cpu *cpu, const struct insn *in)
{
	com_reg(cpu, in, in->rm & 7, F80_UCOM, 0, false);
}
static void op_fucomp(struct cpu *cpu, const struct insn *in)
{
	com_reg(cpu, in, in->rm & 7, F80_UCOM, 1, false);
}
static void op_fucompp(struct cpu *cpu, const struct insn *in)
{
	com_reg(cpu, in, 1, F80_UCOM, 2, false);
}
static void op_fcomi(struct cpu *cpu, const struct insn *in)
{
	com_reg(cpu, in, in->rm & 7, F80_COM, 0, true);
}
static void op_fcomip(struct cpu *cpu, const struct insn *in)
{
	com_reg(cpu, in, in->rm & 7, F80_COM, 1, true);
}
static void op_fucomi(struct cpu *cpu, const struct insn *in)
{
	com_reg(cpu, in, in->rm & 7, F80_UCOM, 0, true);
}
static void op_fucomip(struct cpu *cpu, const struct insn *in)
{
	com_reg(cpu, in, in->rm & 7, F80_UCOM, 1, true);
}

/* D9 E4 FTST: compare ST(0) with 0.0. */
static void op_ftst(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu);
	x87_note(cpu, in);
	if (x87_empty(cpu, 0)) {
		cmp_underflow(cpu, 0, false);
		return;
	}
	cmp_commit(cpu, f80_tst(cpu->fpu.fcw, x87_st(cpu, 0)), 0, false);
}

/* D9 E5 FXAM: classify ST(0); C1 = sign; empty is C3=1 C2=0 C0=1. */
static void op_fxam(struct cpu *cpu, const struct insn *in)
{
	const f80 *v;
	uint16_t cc;

	x87_begin(cpu);
	x87_note(cpu, in);
	v = x87_st(cpu, 0);
	if (x87_empty(cpu, 0))
		cc = FSW_C3 | FSW_C0 | (v->sexp & 0x8000 ? FSW_C1 : 0);
	else
		cc = f80_xam(v) & FSW_CC;
	x87_set_cc(cpu, FSW_CC, cc);
}

#define ANYW OPT_ANY
#define M(opb, r, fn, nm)                                                           \
	{                                                                           \
		opb, OPT_ANY, r, OPT_ANY, OPT_MOD_MEM, 0, ANYW, 0, FEAT_FPU, fn, nm \
	}
#define R(opb, r, fn, nm)                                                           \
	{                                                                           \
		opb, OPT_ANY, r, OPT_ANY, OPT_MOD_REG, 0, ANYW, 0, FEAT_FPU, fn, nm \
	}
#define RF(opb, r, fn, nm, f)                                                \
	{                                                                    \
		opb, OPT_ANY, r, OPT_ANY, OPT_MOD_REG, 0, ANYW, 0, f, fn, nm \
	}
#define R1(opb, r, rm, fn, nm)                                                 \
	{                                                                      \
		opb, OPT_ANY, r, rm, OPT_MOD_REG, 0, ANYW, 0, FEAT_FPU, fn, nm \
	}

static const struct optab_entry x87_arith_tab[] = {
	M(0xd8, 0, op_arith_mem, "fadd"),
	M(0xd8, 1, op_arith_mem, "fmul"),
	M(0xd8, 2, op_arith_mem, "fcom"),
	M(0xd8, 3, op_arith_mem, "fcomp"),
	M(0xd8, 4, op_arith_mem, "fsub"),
	M(0xd8, 5, op_arith_mem, "fsubr"),
	M(0xd8, 6, op_arith_mem, "fdiv"),
	M(0xd8, 7, op_arith_mem, "fdivr"),
	M(0xdc, 0, op_arith_mem, "fadd"),
	M(0xdc, 1, op_arith_mem, "fmul"),
	M(0xdc, 2, op_arith_mem, "fcom"),
	M(0xdc, 3, op_arith_mem, "fcomp"),
	M(0xdc, 4, op_arith_mem, "fsub"),
	M(0xdc, 5, op_arith_mem, "fsubr"),
	M(0xdc, 6, op_arith_mem, "fdiv"),
	M(0xdc, 7, op_arith_mem, "fdivr"),
	M(0xda, 0, op_arith_mem, "fiadd"),
	M(0xda, 1, op_arith_mem, "fimul"),
	M(0xda, 2, op_arith_mem, "ficom"),
	M(0xda, 3, op_arith_mem, "ficomp"),
	M(0xda, 4, op_arith_mem, "fisub"),
	M(0xda, 5, op_arith_mem, "fisubr"),
	M(0xda, 6, op_arith_mem, "fidiv"),
	M(0xda, 7, op_arith_mem, "fidivr"),
	M(0xde, 0, op_arith_mem, "fiadd"),
	M(0xde, 1, op_arith_mem, "fimul"),
	M(0xde, 2, op_arith_mem, "ficom"),
	M(0xde, 3, op_arith_mem, "ficomp"),
	M(0xde, 4, op_arith_mem, "fisub"),
	M(0xde, 5, op_arith_mem, "fisubr"),
	M(0xde, 6, op_arith_mem, "fidiv"),
	M(0xde, 7, op_arith_mem, "fidivr"),

	R(0xd8, 0, op_d8_reg, "fadd"),
	R(0xd8, 1, op_d8_reg, "fmul"),
	R(0xd8, 2, op_fcom, "fcom"),
	R(0xd8, 3, op_fcomp, "fcomp"),
	R(0xd8, 4, op_d8_reg, "fsub"),
	R(0xd8, 5, op_d8_reg, "fsubr"),
	R(0xd8, 6, op_d8_reg, "fdiv"),
	R(0xd8, 7, op_d8_reg, "fdivr"),
	R(0xdc, 0, op_dc_reg, "fadd"),
	R(0xdc, 1, op_dc_reg, "fmul"),
	R(0xdc, 2, op_fcom, "fcom"),
	R(0xdc, 3, op_fcomp, "fcomp"), /* aliases */
	R(0xdc, 4, op_dc_reg, "fsubr"),
	R(0xdc, 5, op_dc_reg, "fsub"),
	R(0xdc, 6, op_dc_reg, "fdivr"),
	R(0xdc, 7, op_dc_reg, "fdiv"),
	R(0xde, 0, op_de_reg, "faddp"),
	R(0xde, 1, op_de_reg, "fmulp"),
	R(0xde, 2, op_fcomp, "fcomp"), /* alias */
	R1(0xde, 3, 1, op_fcompp, "fcompp"),
	R(0xde, 4, op_de_reg, "fsubrp"),
	R(0xde, 5, op_de_reg, "fsubp"),
	R(0xde, 6, op_de_reg, "fdivrp"),
	R(0xde, 7, op_de_reg, "fdivp"),
	R(0xdd, 4, op_fucom, "fucom"),
	R(0xdd, 5, op_fucomp, "fucomp"),
	R1(0xda, 5, 1, op_fucompp, "fucompp"),
	RF(0xdb, 5, op_fucomi, "fucomi", FEAT_CMOV),
	RF(0xdb, 6, op_fcomi, "fcomi", FEAT_CMOV),
	RF(0xdf, 5, op_fucomip, "fucomip", FEAT_CMOV),
	RF(0xdf, 6, op_fcomip, "fcomip", FEAT_CMOV),
	R1(0xd9, 4, 4, op_ftst, "ftst"),
	R1(0xd9, 4, 5, op_fxam, "fxam"),
};

void x87_register_arith(void)
{
	optab_add_many(x87_arith_tab, (int)(sizeof(x87_arith_tab) / sizeof(x87_arith_tab[0])));
}
