/*
 * cpu/ops_stack.c — stack instructions: PUSH/POP r (50-5F), PUSH imm (68,
 * 6A), PUSH r/m (FF /6), POP r/m (8F /0), PUSHA/POPA (60/61, 16/32-bit modes
 * only: the decoder rejects them in 64-bit mode), PUSHF/POPF (9C/9D), ENTER
 * (C8) and LEAVE (C9). PUSH/POP of segment registers belong to the
 * protected-mode family.
 *
 * Operand sizes come from the decoder (in->osz); in 64-bit mode stack_osz()
 * forces 8 (2 with a 66 prefix). The stack width (SP/ESP/RSP) comes from
 * cpu_stack_width(). Every handler reads and writes memory before it moves
 * rSP or changes a register, so a fault commits nothing.
 */
#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/ops_int.h"
#include "cpu/virt.h"

/* ---- PUSH / POP ---- */

/* 50+r: PUSH r (PUSH rSP pushes the value before the decrement). */
static void op_push_r(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = stack_osz(cpu, in);
	cpu_push_fast(cpu, osz, reg_get(cpu, in->rm, (int)osz));
}

/* 58+r, 8F /0 mod=3: POP r (POP rSP leaves the popped value in rSP). */
static void op_pop_r(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = stack_osz(cpu, in);
	uint64_t v = cpu_pop_fast(cpu, osz);
	reg_set(cpu, in->rm, (int)osz, v);
}

/* 68 / 6A: PUSH imm (imm8/imm32 already sign-extended) */
static void op_push_imm(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = stack_osz(cpu, in);
	cpu_push_fast(cpu, osz, in->imm & size_mask(osz));
}

/* FF /6: PUSH r/m (the operand is read with the old rSP) */
static void op_push_rm(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = stack_osz(cpu, in);
	cpu_push_fast(cpu, osz, rm_read(cpu, in, osz));
}

/* 8F /0 with memory: POP r/m. SDM POP: "If the ESP register is used as a base
 * register for addressing a destination operand in memory, the POP
 * instruction computes the effective address of the operand after it
 * increments the ESP register." The value is peeked, the memory written, and
 * only then rSP released, so a fault on the write commits nothing. */
static void op_pop_rm(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = stack_osz(cpu, in);
	uint64_t v = cpu_stack_peek(cpu, osz, 0);
	uint64_t ea;
	if (in->base == R_SP) {
		uint64_t old = cpu->gpr[R_SP];
		cpu_stack_adjust(cpu, osz);
		ea = insn_ea(cpu, in);
		cpu->gpr[R_SP] = old;
	} else {
		ea = insn_ea(cpu, in);
	}
	cpu_wr(cpu, in->seg, ea, osz, v);
	cpu_stack_adjust(cpu, osz);
}

/* ---- PUSHA / POPA ---- */

/* 60: PUSHA/PUSHAD: AX, CX, DX, BX, original SP, BP, SI, DI. */
static void op_pusha(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = in->osz, sw = cpu_stack_width(cpu);
	uint64_t smask = size_mask(sw), sp = cpu->gpr[R_SP] & smask;
	if (sp >= 8u * osz)
		cpu_probe_write(cpu, S_SS, sp - 8u * osz, 8u * osz);
	for (int r = R_AX; r <= R_DI; r++)
		cpu_wr(cpu, S_SS, (sp - (uint64_t)(r + 1) * osz) & smask, osz,
		       reg_get(cpu, r, osz));
	cpu_stack_adjust(cpu, -8 * (int64_t)osz);
}

/* 61: POPA/POPAD: DI, SI, BP, (SP skipped), BX, DX, CX, AX. */
static void op_popa(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = in->osz;
	uint64_t v[8];
	for (int k = 0; k < 8; k++)
		v[k] = cpu_stack_peek(cpu, osz, (uint64_t)k * osz);
	for (int k = 0; k < 8; k++)
		if (R_DI - k != R_SP)
			reg_set(cpu, R_DI - k, osz, v[k]);
	cpu_stack_adjust(cpu, 8 * (int64_t)osz);
}

/* ---- PUSHF / POPF (SDM Vol. 2B PUSHF, POPF; Vol. 3 §20.3 for VME) ---- */

static inline unsigned iopl_of(const struct cpu *cpu)
{
	return (unsigned)(cpu->rflags >> F_IOPL_SHIFT) & 3;
}

/* 9C: the pushed image has VM and RF clear. In V86 mode with IOPL < 3 only
 * the 16-bit form with CR4.VME is allowed; it pushes VIF in the IF position
 * and IOPL as 3. */
static void op_pushf(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = stack_osz(cpu, in);
	uint64_t f = flags_get(cpu) & ~(uint64_t)(F_VM | F_RF);
	if (cpu->mode == MODE_V86 && iopl_of(cpu) < 3) {
		if (!(cpu->cr4 & CR4_VME) || osz != 2)
			cpu_gp(cpu, 0);
		f = (f & ~(uint64_t)F_IF) | ((f & F_VIF) ? F_IF : 0) | F_IOPL;
	}
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_PUSHF, &info); /* SVM PUSHF intercept */
	cpu_push(cpu, osz, f & size_mask(osz));
}

/* Bits POPF may ever write (reserved bits, VM, VIF, VIP excluded; RF is
 * handled separately: cleared by 32/64-bit POPF). */
#define POPF_BITS \
	(F_CF | F_PF | F_AF | F_ZF | F_SF | F_TF | F_IF | F_DF | F_OF | F_IOPL | F_NT | F_AC | F_ID)

/* 9D: POPF. IOPL changes only at CPL 0, IF only when CPL <= IOPL; VM, VIP and
 * VIF are never changed (except VIF through the VME path); a 16-bit POPF
 * leaves bits 31:16 alone. */
static void op_popf(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = stack_osz(cpu, in);
	/* The V86 IOPL #GP comes before the SVM POPF intercept, which comes
	 * before the stack read. */
	if (cpu->mode == MODE_V86 && iopl_of(cpu) < 3 && (!(cpu->cr4 & CR4_VME) || osz != 2))
		cpu_gp(cpu, 0);
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_POPF, &info);
	uint64_t v = cpu_stack_peek(cpu, osz, 0);
	uint64_t old = flags_get(cpu);
	uint64_t mask = POPF_BITS;
	bool vif_path = false;

	if (cpu->mode == MODE_V86) {
		if (iopl_of(cpu) == 3) {
			mask &= ~(uint64_t)F_IOPL;
		} else if ((cpu->cr4 & CR4_VME) && osz == 2) {
			/* SDM POPF, V86 with VME: #GP(0) if the popped image sets TF,
			 * or sets IF while VIP is pending. */
			if ((v & F_TF) || ((v & F_IF) && (cpu->rflags & F_VIP)))
				cpu_gp(cpu, 0);
			mask &= ~(uint64_t)(F_IOPL | F_IF);
			vif_path = true;
		} else {
			cpu_gp(cpu, 0);
		}
	} else {
		if (cpu->cpl > 0)
			mask &= ~(uint64_t)F_IOPL;
		if (cpu->cpl > iopl_of(cpu))
			mask &= ~(uint64_t)F_IF;
	}
	if (osz == 2)
		mask &= 0xffff;
	else
		mask |= F_RF; /* written as 0: 32/64-bit POPF clears RF */

	cpu_stack_adjust(cpu, osz);
	flags_set(cpu, v & ~(uint64_t)F_RF, mask);
	if (vif_path)
		cpu->rflags = (cpu->rflags & ~(uint64_t)F_VIF) | ((v & F_IF) ? F_VIF : 0);

	uint64_t now = cpu->rflags;
	if ((now & F_IF) && !(old & F_IF))
		cpu->pending |= PEND_IRQ; /* interrupts may be deliverable now */
	if ((now ^ old) & (F_TF | F_AC | F_VIF))
		cpu->pending |= PEND_MODE;
}

/* ---- ENTER / LEAVE (SDM Vol. 2A ENTER, LEAVE) ---- */

/* C8 iw ib: ENTER alloc, level. Pushes rBP, level-1 frame pointers copied
 * from the enclosing frame, and the new frame pointer; then rBP = frame and
 * rSP -= alloc. All reads happen first and the pushed range is probed, so a
 * fault leaves registers unchanged. */
static void op_enter(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = stack_osz(cpu, in), sw = cpu_stack_width(cpu);
	uint64_t smask = size_mask(sw), omask = size_mask(osz);
	uint64_t alloc = in->imm & 0xffff;
	unsigned level = in->imm2 & 31;
	uint64_t sp = cpu->gpr[R_SP] & smask;
	uint64_t bp = cpu->gpr[R_BP];
	uint64_t frame = (sp - osz) & smask;
	uint64_t vals[33];
	unsigned n = 0;

	vals[n++] = bp & omask;
	if (level > 0) {
		for (unsigned i = 1; i < level; i++)
			vals[n++] = cpu_rd(cpu, S_SS, (bp - (uint64_t)i * osz) & smask, osz);
		vals[n++] = frame & omask;
	}
	uint64_t total = (uint64_t)n * osz;
	uint64_t new_sp = (sp - total - alloc) & smask;
	/* SDM ENTER: #SS(0) if the final rSP is outside the stack segment (or
	 * non-canonical); a segmentation check only, nothing is accessed there. */
	if (alloc)
		seg_lin(cpu, S_SS, new_sp, 1, ACC_WRITE);
	if (sp >= total)
		cpu_probe_write(cpu, S_SS, sp - total, (unsigned)total);
	for (unsigned k = 0; k < n; k++)
		cpu_wr(cpu, S_SS, (sp - (uint64_t)(k + 1) * osz) & smask, osz, vals[k]);

	if (sw == 8)
		cpu->gpr[R_BP] = frame;
	else
		reg_set(cpu, R_BP, osz, frame);
	reg_set(cpu, R_SP, sw, new_sp);
}

/* C9: LEAVE: rSP = rBP (stack width), then rBP = pop (operand size). */
static void op_leave(struct cpu *cpu, const struct insn *in)
{
	unsigned osz = stack_osz(cpu, in), sw = cpu_stack_width(cpu);
	uint64_t bp = cpu->gpr[R_BP] & size_mask(sw);
	uint64_t v = cpu_rd(cpu, S_SS, bp, osz);
	reg_set(cpu, R_SP, sw, bp + osz);
	reg_set(cpu, R_BP, osz, v);
}

/* clang-format off */
#define E(o, r, md, fl, f, n) {(o), OPT_ANY, (r), OPT_ANY, (md), 0, OPT_ANY, (fl), 0, (f), (n)}
#define A OPT_ANY

static const struct optab_entry stack_ops[] = {
	E(0x068, A, OPT_MOD_ANY, 0, op_push_imm, "push"),
	E(0x06a, A, OPT_MOD_ANY, 0, op_push_imm, "push"),
	E(0x0ff, 6, OPT_MOD_ANY, 0, op_push_rm, "push"),
	E(0x08f, 0, OPT_MOD_REG, 0, op_pop_r, "pop"),
	E(0x08f, 0, OPT_MOD_MEM, 0, op_pop_rm, "pop"),
	E(0x060, A, OPT_MOD_ANY, 0, op_pusha, "pusha"),
	E(0x061, A, OPT_MOD_ANY, 0, op_popa, "popa"),
	E(0x09c, A, OPT_MOD_ANY, 0, op_pushf, "pushf"),
	/* POPF may change TF/IF/AC: end the block so the loop re-checks. */
	E(0x09d, A, OPT_MOD_ANY, OPF_ENDS_BLOCK, op_popf, "popf"),
	E(0x0c8, A, OPT_MOD_ANY, 0, op_enter, "enter"),
	E(0x0c9, A, OPT_MOD_ANY, 0, op_leave, "leave"),
};

#undef E
#undef A
/* clang-format on */

void ops_stack_register(void)
{
	optab_add_many(stack_ops, (int)(sizeof(stack_ops) / sizeof(stack_ops[0])));
	struct optab_entry e = {
		.mp = OPT_ANY, .reg = OPT_ANY, .rm = OPT_ANY, .w = OPT_ANY, .fn = NULL, .name = NULL
	};
	for (int i = 0; i < 8; i++) {
		e.op = (uint16_t)(0x050 + i);
		e.fn = op_push_r;
		e.name = "push";
		optab_add(&e);
		e.op = (uint16_t)(0x058 + i);
		e.fn = op_pop_r;
		e.name = "pop";
		optab_add(&e);
	}
}
