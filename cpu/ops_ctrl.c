/*
 * cpu/ops_ctrl.c — near control transfers: Jcc (70-7F, 0F 80-8F), JMP (EB,
 * E9, FF /4), CALL (E8, FF /2), RET (C3, C2 iw), LOOP/LOOPE/LOOPNE/JrCXZ
 * (E0-E3). Far transfers, INT and IRET belong to the protected-mode family.
 *
 * ops_ctrl_register() also registers the stack family (ops_stack.c).
 *
 * Operand size of near branches (SDM Vol. 1 §3.6, Vol. 2 JMP/CALL/RET):
 *  - 16/32-bit code: in->osz; the new IP is truncated to 16 or 32 bits.
 *  - 64-bit mode: 64 bits. Intel ignores a 66 prefix; AMD honours it and
 *    truncates the target to 16 bits (and pushes/pops 16 bits) — APM Vol. 3
 *    "Near branches in 64-bit mode". We follow cpu->model->vendor whenever
 *    the decoder reports osz 2 (today it forces 8 for the f64 opcodes, i.e.
 *    Intel behaviour for Jcc/JMP/CALL rel and RET, since the AMD form also
 *    changes the immediate size; FF /2 and FF /4 get the vendor rule here).
 * Target checks, raised before anything is committed (#GP(0)):
 *  - outside 64-bit mode, target > CS.limit;
 *  - in 64-bit mode, a non-canonical target (48 bits, 57 with CR4.LA57).
 */
/* Rows of macro invocations (instruction tables) that clang-format cannot
 * lay out stably: the file is kept as written. */
/* clang-format off */
#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/ops_int.h"

/* Effective operand size of a near branch / near stack transfer. */
static inline unsigned near_osz(const struct cpu *cpu, const struct insn *in)
{
	if (cpu->mode != MODE_LONG64)
		return in->osz;
	if (in->osz == 2 && cpu->model && cpu->model->vendor == VENDOR_AMD)
		return 2;
	return 8;
}

static inline bool is_canonical(const struct cpu *cpu, uint64_t v)
{
	unsigned bits = (cpu->cr4 & CR4_LA57) ? 57 : 48;
	unsigned sh = 64 - bits;
	return (uint64_t)((int64_t)(v << sh) >> sh) == v;
}

/* Truncate a branch target to the operand size and check it; returns the
 * value to store in rip. Faults without side effects. */
static inline uint64_t branch_target(struct cpu *cpu, uint64_t t, unsigned osz)
{
	if (osz == 2)
		t &= 0xffff;
	else if (osz == 4)
		t &= 0xffffffffu;
	if (cpu->mode == MODE_LONG64) {
		if (!is_canonical(cpu, t))
			cpu_gp(cpu, 0);
	} else if (t > cpu->seg[S_CS].limit) {
		cpu_gp(cpu, 0);
	}
	return t;
}

/* ---- Jcc / JMP ---- */

/* 70-7F, 0F 80-8F: Jcc rel8/rel16/rel32 (cc is the low nibble). One handler
 * per condition so that cond_eval_const folds the condition. */
#define JCC(cc)                                                                          \
	static void op_jcc_##cc(struct cpu *cpu, const struct insn *in)                  \
	{                                                                                \
		if (cond_eval_const(cpu, cc))                                            \
			cpu->rip = branch_target(cpu, cpu->rip + in->imm, near_osz(cpu, in)); \
	}
JCC(0) JCC(1) JCC(2) JCC(3) JCC(4) JCC(5) JCC(6) JCC(7)
JCC(8) JCC(9) JCC(10) JCC(11) JCC(12) JCC(13) JCC(14) JCC(15)
#undef JCC

static void (*const jcc_fn[16])(struct cpu *, const struct insn *) = {
	op_jcc_0, op_jcc_1, op_jcc_2,  op_jcc_3,  op_jcc_4,  op_jcc_5,  op_jcc_6,  op_jcc_7,
	op_jcc_8, op_jcc_9, op_jcc_10, op_jcc_11, op_jcc_12, op_jcc_13, op_jcc_14, op_jcc_15,
};

/* EB, E9: JMP rel */
static void op_jmp_rel(struct cpu *cpu, const struct insn *in)
{
	cpu->rip = branch_target(cpu, cpu->rip + in->imm, near_osz(cpu, in));
}

/* FF /4: JMP r/m (absolute) */
static void op_jmp_rm(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = near_osz(cpu, in);
	cpu->rip = branch_target(cpu, rm_read(cpu, in, osz), osz);
}

/* ---- CALL / RET ---- */

/* E8: CALL rel. The target is checked before the return address is pushed
 * (SDM CALL: #GP(0) "if the target offset is beyond the code segment
 * limit"), and cpu_push writes before it moves rSP, so a fault commits
 * nothing. */
static void op_call_rel(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = near_osz(cpu, in);
	uint64_t t = branch_target(cpu, cpu->rip + in->imm, osz);
	cpu_push_fast(cpu, osz, cpu->rip & size_mask(osz));
	cpu->rip = t;
}

/* FF /2: CALL r/m. The operand is read before rSP changes (CALL [rSP] uses
 * the old rSP). */
static void op_call_rm(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = near_osz(cpu, in);
	uint64_t t = branch_target(cpu, rm_read(cpu, in, osz), osz);
	cpu_push_fast(cpu, osz, cpu->rip & size_mask(osz));
	cpu->rip = t;
}

/* C3 / C2 iw: RET [imm16]. The return address is read and checked before
 * rSP is released. */
static void op_ret(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = near_osz(cpu, in);
	uint64_t t = branch_target(cpu, cpu_stack_peek_fast(cpu, osz, 0), osz);
	int64_t release = (int64_t)osz;
	if (in->op == 0x0c2)
		release += (int64_t)(in->imm & 0xffff);
	cpu_stack_adjust_fast(cpu, release);
	cpu->rip = t;
}

/* ---- LOOP family ----
 * The count register width is the address size (CX/ECX/RCX); the target is
 * formed with the operand size like any near branch. rCX is written only
 * after the target passed its checks. */

static void op_loop(struct cpu *cpu, const struct insn *in)
{
	unsigned asz = in->asz;
	uint64_t cnt = (cpu->gpr[R_CX] - 1) & size_mask(asz);
	bool take = cnt != 0;
	if (in->op == 0x0e1) /* LOOPE: also ZF = 1 */
		take = take && cond_eval(cpu, 0x4);
	else if (in->op == 0x0e0) /* LOOPNE: also ZF = 0 */
		take = take && cond_eval(cpu, 0x5);
	uint64_t t = take ? branch_target(cpu, cpu->rip + in->imm, near_osz(cpu, in)) : 0;
	reg_set(cpu, R_CX, (int)asz, cnt);
	if (take)
		cpu->rip = t;
}

/* E3: JCXZ / JECXZ / JRCXZ (width from the address size) */
static void op_jrcxz(struct cpu *cpu, const struct insn *in)
{
	if ((cpu->gpr[R_CX] & size_mask(in->asz)) == 0)
		cpu->rip = branch_target(cpu, cpu->rip + in->imm, near_osz(cpu, in));
}

/* clang-format off */
#define E(o, r, fl, f, n) {(o), OPT_ANY, (r), OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, (fl), 0, (f), (n)}

static const struct optab_entry ctrl_ops[] = {
	E(0x0eb, OPT_ANY, OPF_ENDS_BLOCK, op_jmp_rel, "jmp"),
	E(0x0e9, OPT_ANY, OPF_ENDS_BLOCK, op_jmp_rel, "jmp"),
	E(0x0ff, 4, OPF_ENDS_BLOCK, op_jmp_rm, "jmp"),
	E(0x0e8, OPT_ANY, OPF_ENDS_BLOCK, op_call_rel, "call"),
	E(0x0ff, 2, OPF_ENDS_BLOCK, op_call_rm, "call"),
	E(0x0c3, OPT_ANY, OPF_ENDS_BLOCK, op_ret, "ret"),
	E(0x0c2, OPT_ANY, OPF_ENDS_BLOCK, op_ret, "ret"),
	E(0x0e0, OPT_ANY, 0, op_loop, "loopne"),
	E(0x0e1, OPT_ANY, 0, op_loop, "loope"),
	E(0x0e2, OPT_ANY, 0, op_loop, "loop"),
	E(0x0e3, OPT_ANY, 0, op_jrcxz, "jrcxz"),
};

#undef E
/* clang-format on */

/* 62 /r: BOUND r16/32, m16&16/m32&32 (16/32-bit modes; 62 is EVEX in
 * 64-bit mode). #BR, a fault, when the signed index lies outside the signed
 * [lower, upper] pair in memory (SDM Vol. 2A BOUND). */
static void op_bound(struct cpu *cpu, const struct insn *in)
{
	if (in->mod == 3)
		cpu_ud(cpu);
	unsigned osz = in->osz == 2 ? 2 : 4;
	uint64_t ea = insn_ea(cpu, in);
	uint64_t lo = cpu_rd(cpu, in->seg, ea, osz);
	uint64_t hi =
		cpu_rd(cpu, in->seg, (ea + osz) & (in->asz == 2 ? 0xffff : 0xffffffffull), osz);
	int64_t idx, l, h;
	if (osz == 2) {
		idx = (int16_t)reg_get(cpu, in->reg, 2);
		l = (int16_t)lo;
		h = (int16_t)hi;
	} else {
		idx = (int32_t)reg_get(cpu, in->reg, 4);
		l = (int32_t)lo;
		h = (int32_t)hi;
	}
	if (idx < l || idx > h)
		cpu_exception(cpu, EXC_BR, NO_ERRCODE);
}

void ops_ctrl_register(void)
{
	static const struct optab_entry bound = { .op = 0x062,
						  .mp = OPT_ANY,
						  .reg = OPT_ANY,
						  .rm = OPT_ANY,
						  .mod = OPT_MOD_MEM,
						  .w = OPT_ANY,
						  .fn = op_bound,
						  .name = "bound" };
	optab_add(&bound);
	optab_add_many(ctrl_ops, (int)(sizeof(ctrl_ops) / sizeof(ctrl_ops[0])));
	struct optab_entry e = {
		.mp = OPT_ANY, .reg = OPT_ANY, .rm = OPT_ANY, .w = OPT_ANY, .name = "jcc"
	};
	for (int cc = 0; cc < 16; cc++) {
		e.fn = jcc_fn[cc];
		e.op = (uint16_t)(0x070 + cc);
		optab_add(&e);
		e.op = (uint16_t)(0x180 + cc);
		optab_add(&e);
	}
	ops_stack_register();
}
