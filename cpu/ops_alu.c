/*
 * cpu/ops_alu.c — two-operand integer arithmetic and logic: ADD, OR, ADC, SBB,
 * AND, SUB, XOR, CMP (opcodes 00-3D, groups 80-83), TEST (84, 85, A8, A9,
 * F6/F7 /0 /1), INC/DEC (FE/FF /0 /1, 40-4F), NOT/NEG (F6/F7 /2 /3), and
 * ops_alu_register(), which also registers the shift, multiply/divide and
 * exchange-and-add / compare-exchange files (ops_alu_*.c).
 *
 * Every form gets its own handler (register and memory destination apart),
 * generated from one inline body with the operation as a constant, so the
 * hot path has no switch on the operation and no test of ModRM.mod.
 * Memory read-modify-write forms compute the address once, write memory and
 * only then set the flags (a faulting write commits nothing).
 */
#include "cpu/ops_alu.h"

/* The operand bodies must inline into every generated handler: an
 * out-of-line copy costs a call per memory-operand instruction. */
#define ALU_INLINE static inline __attribute__((always_inline))

enum alu_op {
	A_ADD,
	A_OR,
	A_ADC,
	A_SBB,
	A_AND,
	A_SUB,
	A_XOR,
	A_CMP,
	A_TEST
};

static inline uint64_t alu_calc(enum alu_op op, uint64_t a, uint64_t b, uint64_t cin, uint64_t m)
{
	switch (op) {
	case A_ADD:
		return (a + b) & m;
	case A_ADC:
		return (a + b + cin) & m;
	case A_SBB:
		return (a - b - cin) & m;
	case A_SUB:
	case A_CMP:
		return (a - b) & m;
	case A_OR:
		return a | b;
	case A_AND:
	case A_TEST:
		return a & b;
	default:
		return a ^ b;
	}
}

static inline uint32_t alu_kind(enum alu_op op)
{
	switch (op) {
	case A_ADD:
		return CC_ADD;
	case A_ADC:
		return CC_ADC;
	case A_SBB:
		return CC_SBB;
	case A_SUB:
	case A_CMP:
		return CC_SUB;
	default:
		return CC_LOGIC;
	}
}

static inline bool alu_writes(enum alu_op op)
{
	return op != A_CMP && op != A_TEST;
}

static inline uint64_t alu_cin(const struct cpu *c, enum alu_op op)
{
	return op == A_ADC || op == A_SBB ? flags_cf(c) : 0;
}

/* Record the lazy flags. CC_LOGIC reads only res (cpu/flags.h), so the
 * logic operations skip storing the operands. */
ALU_INLINE void alu_flags(struct cpu *c, enum alu_op op, unsigned size, uint64_t res, uint64_t a,
			  uint64_t b)
{
	if (alu_kind(op) == CC_LOGIC) {
		c->lf.op = CC_OP(CC_LOGIC, size);
		c->lf.res = res;
	} else {
		lf_set(c, CC_OP(alu_kind(op), size), res, a, b);
	}
}

/* Destination is general-purpose register r (ModRM.rm with mod 3, ModRM.reg,
 * or rAX); b is the already-fetched source. */
ALU_INLINE void alu_to_reg(struct cpu *c, const struct insn *in, enum alu_op op, int r,
			   unsigned size, uint64_t b)
{
	uint64_t a = gpr_rd(c, in, r, size);
	uint64_t res = alu_calc(op, a, b, alu_cin(c, op), alu_mask(size));

	if (alu_writes(op))
		gpr_wr(c, in, r, size, res);
	alu_flags(c, op, size, res, a, b);
}

/* Destination is the memory operand. */
ALU_INLINE void alu_to_mem(struct cpu *c, const struct insn *in, enum alu_op op, unsigned size,
			   uint64_t b)
{
	uint64_t ea = insn_ea(c, in);
	uint64_t a = cpu_rd(c, in->seg, ea, size);
	uint64_t res = alu_calc(op, a, b, alu_cin(c, op), alu_mask(size));

	if (alu_writes(op))
		cpu_wr(c, in->seg, ea, size, res);
	alu_flags(c, op, size, res, a, b);
}

ALU_INLINE uint64_t mem_src(struct cpu *c, const struct insn *in, unsigned size)
{
	return cpu_rd(c, in->seg, insn_ea(c, in), size);
}

/* Handlers with r/m (or rAX) as destination: Eb,Gb  Ev,Gv  AL,Ib  rAX,Iz
 * Eb,Ib (80, 82)  Ev,Iz / Ev,Ib (81, 83: the decoder sign-extends imm). */
#define ALU_RM_FORMS(name, OP)                                               \
	static void name##_EbGb_r(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		alu_to_reg(c, in, OP, in->rm, 1, gpr_rd(c, in, in->reg, 1)); \
	}                                                                    \
	static void name##_EbGb_m(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		alu_to_mem(c, in, OP, 1, gpr_rd(c, in, in->reg, 1));         \
	}                                                                    \
	static void name##_EvGv_r(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		unsigned s = ev_size(in);                                    \
		alu_to_reg(c, in, OP, in->rm, s, gpr_rd(c, in, in->reg, s)); \
	}                                                                    \
	static void name##_EvGv_m(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		unsigned s = ev_size(in);                                    \
		alu_to_mem(c, in, OP, s, gpr_rd(c, in, in->reg, s));         \
	}                                                                    \
	static void name##_ALIb(struct cpu *c, const struct insn *in)        \
	{                                                                    \
		alu_to_reg(c, in, OP, R_AX, 1, in->imm & 0xff);              \
	}                                                                    \
	static void name##_AXIz(struct cpu *c, const struct insn *in)        \
	{                                                                    \
		unsigned s = ev_size(in);                                    \
		alu_to_reg(c, in, OP, R_AX, s, in->imm &alu_mask(s));        \
	}                                                                    \
	static void name##_EbIb_r(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		alu_to_reg(c, in, OP, in->rm, 1, in->imm & 0xff);            \
	}                                                                    \
	static void name##_EbIb_m(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		alu_to_mem(c, in, OP, 1, in->imm & 0xff);                    \
	}                                                                    \
	static void name##_EvIz_r(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		unsigned s = ev_size(in);                                    \
		alu_to_reg(c, in, OP, in->rm, s, in->imm &alu_mask(s));      \
	}                                                                    \
	static void name##_EvIz_m(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		unsigned s = ev_size(in);                                    \
		alu_to_mem(c, in, OP, s, in->imm &alu_mask(s));              \
	}

/* Handlers with ModRM.reg as destination: Gb,Eb  Gv,Ev. */
#define ALU_REG_FORMS(name, OP)                                              \
	static void name##_GbEb_r(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		alu_to_reg(c, in, OP, in->reg, 1, gpr_rd(c, in, in->rm, 1)); \
	}                                                                    \
	static void name##_GbEb_m(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		alu_to_reg(c, in, OP, in->reg, 1, mem_src(c, in, 1));        \
	}                                                                    \
	static void name##_GvEv_r(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		unsigned s = ev_size(in);                                    \
		alu_to_reg(c, in, OP, in->reg, s, gpr_rd(c, in, in->rm, s)); \
	}                                                                    \
	static void name##_GvEv_m(struct cpu *c, const struct insn *in)      \
	{                                                                    \
		unsigned s = ev_size(in);                                    \
		alu_to_reg(c, in, OP, in->reg, s, mem_src(c, in, s));        \
	}

#define ALU_ALL_FORMS(name, OP) ALU_RM_FORMS(name, OP) ALU_REG_FORMS(name, OP)

ALU_ALL_FORMS(add, A_ADD)
ALU_ALL_FORMS(or, A_OR)
ALU_ALL_FORMS(adc, A_ADC)
ALU_ALL_FORMS(sbb, A_SBB)
ALU_ALL_FORMS(and, A_AND)
ALU_ALL_FORMS(sub, A_SUB)
ALU_ALL_FORMS(xor, A_XOR)
ALU_ALL_FORMS(cmp, A_CMP)
ALU_RM_FORMS(test, A_TEST)

/* ---- INC / DEC: CF is preserved (SDM INC/DEC), so it is recorded in src2. ---- */

static inline uint64_t incdec_calc(struct cpu *c, bool dec, unsigned size, uint64_t a, uint64_t *cf)
{
	*cf = flags_cf(c);
	return (dec ? a - 1 : a + 1) & alu_mask(size);
}

static inline void incdec_reg(struct cpu *c, const struct insn *in, bool dec, int r, unsigned size)
{
	uint64_t cf, a = gpr_rd(c, in, r, size);
	uint64_t res = incdec_calc(c, dec, size, a, &cf);

	gpr_wr(c, in, r, size, res);
	lf_set(c, CC_OP(dec ? CC_DEC : CC_INC, size), res, a, cf);
}

static inline void incdec_mem(struct cpu *c, const struct insn *in, bool dec, unsigned size)
{
	uint64_t ea = insn_ea(c, in);
	uint64_t cf, a = cpu_rd(c, in->seg, ea, size);
	uint64_t res = incdec_calc(c, dec, size, a, &cf);

	cpu_wr(c, in->seg, ea, size, res);
	lf_set(c, CC_OP(dec ? CC_DEC : CC_INC, size), res, a, cf);
}

static void inc_Eb_r(struct cpu *c, const struct insn *in)
{
	incdec_reg(c, in, false, in->rm, 1);
}

static void inc_Eb_m(struct cpu *c, const struct insn *in)
{
	incdec_mem(c, in, false, 1);
}

static void inc_Ev_r(struct cpu *c, const struct insn *in)
{
	incdec_reg(c, in, false, in->rm, in->osz);
}

static void inc_Ev_m(struct cpu *c, const struct insn *in)
{
	incdec_mem(c, in, false, in->osz);
}

static void dec_Eb_r(struct cpu *c, const struct insn *in)
{
	incdec_reg(c, in, true, in->rm, 1);
}

static void dec_Eb_m(struct cpu *c, const struct insn *in)
{
	incdec_mem(c, in, true, 1);
}

static void dec_Ev_r(struct cpu *c, const struct insn *in)
{
	incdec_reg(c, in, true, in->rm, in->osz);
}

static void dec_Ev_m(struct cpu *c, const struct insn *in)
{
	incdec_mem(c, in, true, in->osz);
}

/* ---- NOT (no flags) / NEG (flags of 0 - x: CF = x != 0) ---- */

static inline void notneg_reg(struct cpu *c, const struct insn *in, bool neg, unsigned size)
{
	uint64_t a = gpr_rd(c, in, in->rm, size);
	uint64_t res = (neg ? 0 - a : ~a) & alu_mask(size);

	gpr_wr(c, in, in->rm, size, res);
	if (neg)
		lf_set(c, CC_OP(CC_SUB, size), res, 0, a);
}

static inline void notneg_mem(struct cpu *c, const struct insn *in, bool neg, unsigned size)
{
	uint64_t ea = insn_ea(c, in);
	uint64_t a = cpu_rd(c, in->seg, ea, size);
	uint64_t res = (neg ? 0 - a : ~a) & alu_mask(size);

	cpu_wr(c, in->seg, ea, size, res);
	if (neg)
		lf_set(c, CC_OP(CC_SUB, size), res, 0, a);
}

static void not_Eb_r(struct cpu *c, const struct insn *in)
{
	notneg_reg(c, in, false, 1);
}

static void not_Eb_m(struct cpu *c, const struct insn *in)
{
	notneg_mem(c, in, false, 1);
}

static void not_Ev_r(struct cpu *c, const struct insn *in)
{
	notneg_reg(c, in, false, in->osz);
}

static void not_Ev_m(struct cpu *c, const struct insn *in)
{
	notneg_mem(c, in, false, in->osz);
}

static void neg_Eb_r(struct cpu *c, const struct insn *in)
{
	notneg_reg(c, in, true, 1);
}

static void neg_Eb_m(struct cpu *c, const struct insn *in)
{
	notneg_mem(c, in, true, 1);
}

static void neg_Ev_r(struct cpu *c, const struct insn *in)
{
	notneg_reg(c, in, true, in->osz);
}

static void neg_Ev_m(struct cpu *c, const struct insn *in)
{
	notneg_mem(c, in, true, in->osz);
}

/* ---- registration ---- */

#define L   OPF_LOCKABLE
#define ANY OPT_ANY
/* A ModRM form as two entries: register operand, memory operand. LOCK is
 * allowed only on the memory form (SDM Vol. 2 LOCK: #UD otherwise). */
#define E_RM(opc, r, fn, lock, nm)                                         \
	{ opc, ANY, r, ANY, OPT_MOD_REG, 0, ANY, 0, 0, fn##_r, nm },       \
	{                                                                  \
		opc, ANY, r, ANY, OPT_MOD_MEM, 0, ANY, lock, 0, fn##_m, nm \
	}
#define E_NOMODRM(opc, fn, nm)                                        \
	{                                                             \
		opc, ANY, ANY, ANY, OPT_MOD_ANY, 0, ANY, 0, 0, fn, nm \
	}

/* Opcodes base+0..5 and the /grp entry of 80-83 for one operation. */
#define ALU_ENTRIES(base, grp, name, lock, nm)                                                    \
	E_RM(base + 0, ANY, name##_EbGb, lock, nm), E_RM(base + 1, ANY, name##_EvGv, lock, nm),   \
		E_RM(base + 2, ANY, name##_GbEb, 0, nm), E_RM(base + 3, ANY, name##_GvEv, 0, nm), \
		E_NOMODRM(base + 4, name##_ALIb, nm), E_NOMODRM(base + 5, name##_AXIz, nm),       \
		E_RM(0x80, grp, name##_EbIb, lock, nm), E_RM(0x81, grp, name##_EvIz, lock, nm),   \
		E_RM(0x82, grp, name##_EbIb, lock, nm), E_RM(0x83, grp, name##_EvIz, lock, nm)

static const struct optab_entry alu_tab[] = {
	ALU_ENTRIES(0x00, 0, add, L, "add"),
	ALU_ENTRIES(0x08, 1, or, L, "or"),
	ALU_ENTRIES(0x10, 2, adc, L, "adc"),
	ALU_ENTRIES(0x18, 3, sbb, L, "sbb"),
	ALU_ENTRIES(0x20, 4, and, L, "and"),
	ALU_ENTRIES(0x28, 5, sub, L, "sub"),
	ALU_ENTRIES(0x30, 6, xor, L, "xor"),
	ALU_ENTRIES(0x38, 7, cmp, 0, "cmp"),

	E_RM(0x84, ANY, test_EbGb, 0, "test"),
	E_RM(0x85, ANY, test_EvGv, 0, "test"),
	E_NOMODRM(0xa8, test_ALIb, "test"),
	E_NOMODRM(0xa9, test_AXIz, "test"),
	/* F6/F7 /1 is an undocumented alias of /0 on Intel and AMD. */
	E_RM(0xf6, 0, test_EbIb, 0, "test"),
	E_RM(0xf6, 1, test_EbIb, 0, "test"),
	E_RM(0xf7, 0, test_EvIz, 0, "test"),
	E_RM(0xf7, 1, test_EvIz, 0, "test"),
	E_RM(0xf6, 2, not_Eb, L, "not"),
	E_RM(0xf7, 2, not_Ev, L, "not"),
	E_RM(0xf6, 3, neg_Eb, L, "neg"),
	E_RM(0xf7, 3, neg_Ev, L, "neg"),

	E_RM(0xfe, 0, inc_Eb, L, "inc"),
	E_RM(0xfe, 1, dec_Eb, L, "dec"),
	E_RM(0xff, 0, inc_Ev, L, "inc"),
	E_RM(0xff, 1, dec_Ev, L, "dec"),
};

/* 40+r INC / 48+r DEC (not in 64-bit mode, where they are REX prefixes: the
 * decoder never dispatches them there). in->rm is the register number. */
static void inc_Zv(struct cpu *c, const struct insn *in)
{
	incdec_reg(c, in, false, in->rm, in->osz);
}

static void dec_Zv(struct cpu *c, const struct insn *in)
{
	incdec_reg(c, in, true, in->rm, in->osz);
}

static const struct optab_entry incdec_tab[] = {
	E_NOMODRM(0x40, inc_Zv, "inc"), E_NOMODRM(0x41, inc_Zv, "inc"),
	E_NOMODRM(0x42, inc_Zv, "inc"), E_NOMODRM(0x43, inc_Zv, "inc"),
	E_NOMODRM(0x44, inc_Zv, "inc"), E_NOMODRM(0x45, inc_Zv, "inc"),
	E_NOMODRM(0x46, inc_Zv, "inc"), E_NOMODRM(0x47, inc_Zv, "inc"),
	E_NOMODRM(0x48, dec_Zv, "dec"), E_NOMODRM(0x49, dec_Zv, "dec"),
	E_NOMODRM(0x4a, dec_Zv, "dec"), E_NOMODRM(0x4b, dec_Zv, "dec"),
	E_NOMODRM(0x4c, dec_Zv, "dec"), E_NOMODRM(0x4d, dec_Zv, "dec"),
	E_NOMODRM(0x4e, dec_Zv, "dec"), E_NOMODRM(0x4f, dec_Zv, "dec"),
};

void ops_alu_register(void)
{
	optab_add_many(alu_tab, (int)(sizeof(alu_tab) / sizeof(alu_tab[0])));
	optab_add_many(incdec_tab, (int)(sizeof(incdec_tab) / sizeof(incdec_tab[0])));
	ops_alu_shift_register();
	ops_alu_muldiv_register();
	ops_alu_atomic_register();
}
