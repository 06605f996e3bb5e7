/*
 * cpu/iret.c — IRET / IRETD / IRETQ (opcode CF) in every mode: real mode,
 * V86 (IOPL = 3 or the CR4.VME rules), protected mode (same privilege, outer
 * privilege with stack switch, return to V86, task return through the TSS
 * back link when NT = 1) and IA-32e mode (IRETQ always pops SS:RSP in 64-bit
 * mode; returns to compatibility mode). SDM Vol. 2 "IRET/IRETD/IRETQ",
 * Vol. 3 §6.14.3, §20.3; AMD APM Vol. 2 §8.9.
 *
 * Every value is read with cpu_stack_peek and every check is done before
 * anything is committed. IRET ends NMI blocking in every mode.
 */
#include "cpu/access.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/ops_prot.h"
#include "cpu/seg.h"
#include "cpu/virt.h"

/* RFLAGS bits any IRET may write (outside real mode). */
#define IRET_BASE_MASK (F_ARITH | F_TF | F_DF | F_NT | F_RF | F_AC | F_ID)

static inline bool canonical(const struct cpu *cpu, uint64_t a)
{
	unsigned bits = (cpu->cr4 & CR4_LA57) ? 57 : 48;
	int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == a;
}

static uint64_t size_mask(unsigned w)
{
	return w == 8 ? ~0ull : (1ull << (8 * w)) - 1;
}

static void iret_real(struct cpu *cpu, unsigned w)
{
	uint64_t ip = cpu_stack_peek(cpu, w, 0);
	uint16_t cs = (uint16_t)cpu_stack_peek(cpu, w, w);
	uint64_t fl = cpu_stack_peek(cpu, w, 2 * w);
	if (ip > cpu->seg[S_CS].limit)
		cpu_gp(cpu, 0);
	/* 32-bit: VM, VIF and VIP are kept (mask 257FD5h); 16-bit: low word. */
	uint64_t mask = w == 4 ? 0x257fd5u : 0x7fd5u;
	cpu_stack_adjust(cpu, 3 * w);
	flags_set(cpu, fl, mask);
	seg_set_real(cpu, S_CS, cs);
	cpu->rip = ip;
}

/* SDM Vol. 3 §20.3.1.1 / §20.4.4 (VME). */
static void iret_v86(struct cpu *cpu, unsigned w)
{
	unsigned iopl = (cpu->rflags & F_IOPL) >> F_IOPL_SHIFT;
	uint64_t ip = cpu_stack_peek(cpu, w, 0);
	uint16_t cs = (uint16_t)cpu_stack_peek(cpu, w, w);
	uint64_t fl = cpu_stack_peek(cpu, w, 2 * w);
	uint64_t mask;
	if (iopl == 3) {
		/* VM, IOPL, VIP and VIF are not in the mask. */
		mask = IRET_BASE_MASK | F_IF;
		if (w == 2)
			mask &= 0xffff;
	} else if ((cpu->cr4 & CR4_VME) && w == 2) {
		/* IF goes to VIF; IOPL and IF are unchanged. */
		if (((cpu->rflags & F_VIP) && (fl & F_IF)) || (fl & F_TF))
			cpu_gp(cpu, 0);
		mask = IRET_BASE_MASK & 0xffff;
		fl = (fl & 0xffff) | ((fl & F_IF) ? F_VIF : 0);
		mask |= F_VIF;
	} else {
		cpu_gp(cpu, 0);
	}
	if (ip > 0xffff)
		cpu_gp(cpu, 0);
	cpu_stack_adjust(cpu, 3 * w);
	flags_set(cpu, fl, mask);
	seg_set_v86(cpu, S_CS, cs);
	cpu->rip = ip;
}

/* NT = 1 outside IA-32e mode: return to the task named by the back link
 * (SDM Vol. 2 IRET, "TASK-RETURN"). */
static void iret_task(struct cpu *cpu)
{
	uint16_t sel = (uint16_t)lin_rd(cpu, (uint32_t)cpu->tr.base, 2, ACC_READ | ACC_SYS);
	uint64_t d;
	if ((sel & 4) || !seg_read_desc(cpu, sel, &d, NULL))
		cpu_exception(cpu, EXC_TS, sel & 0xfffc);
	uint32_t a = desc_attr(d);
	if (attr_is_seg(a) || (attr_type(a) != SYS_TSS16_BUSY && attr_type(a) != SYS_TSS32_BUSY))
		cpu_exception(cpu, EXC_TS, sel & 0xfffc);
	task_switch(cpu, sel, d, TASK_IRET, 0, NO_ERRCODE);
}

/* 32-bit IRET at CPL 0 with VM = 1 in the popped EFLAGS (SDM Vol. 2 IRET,
 * "RETURN-TO-VIRTUAL-8086-MODE"). */
static void iret_to_v86(struct cpu *cpu, uint64_t ip, uint16_t cs, uint64_t fl)
{
	uint32_t sp = (uint32_t)cpu_stack_peek(cpu, 4, 12);
	uint16_t ss = (uint16_t)cpu_stack_peek(cpu, 4, 16);
	uint16_t es = (uint16_t)cpu_stack_peek(cpu, 4, 20);
	uint16_t ds = (uint16_t)cpu_stack_peek(cpu, 4, 24);
	uint16_t fs = (uint16_t)cpu_stack_peek(cpu, 4, 28);
	uint16_t gs = (uint16_t)cpu_stack_peek(cpu, 4, 32);
	if (ip > 0xffff)
		cpu_gp(cpu, 0);
	/* All of EFLAGS is taken, VM included. */
	flags_set(cpu, fl, ~0ull);
	seg_set_v86(cpu, S_ES, es);
	seg_set_v86(cpu, S_DS, ds);
	seg_set_v86(cpu, S_FS, fs);
	seg_set_v86(cpu, S_GS, gs);
	seg_set_v86(cpu, S_SS, ss);
	seg_set_v86(cpu, S_CS, cs);
	cpu->gpr[R_SP] = sp;
	cpu->rip = ip & 0xffff;
	cpu_update_mode(cpu); /* CPL 3, MODE_V86 */
}

static void iret_prot(struct cpu *cpu, unsigned w)
{
	bool lma = cpu->msr.efer & EFER_LMA;
	bool mode64 = cpu->mode == MODE_LONG64;
	unsigned old_cpl = cpu->cpl;
	unsigned iopl = (cpu->rflags & F_IOPL) >> F_IOPL_SHIFT;

	if (cpu->rflags & F_NT) {
		if (lma)
			cpu_gp(cpu, 0);
		iret_task(cpu);
		return;
	}
	uint64_t ip = cpu_stack_peek(cpu, w, 0);
	uint16_t csel = (uint16_t)cpu_stack_peek(cpu, w, w);
	uint64_t fl = cpu_stack_peek(cpu, w, 2 * w);

	if (!lma && w == 4 && (fl & F_VM) && old_cpl == 0) {
		iret_to_v86(cpu, ip, csel, fl);
		return;
	}

	struct seg cs;
	seg_check_ret_cs(cpu, csel, &cs);
	unsigned new_cpl = csel & 3;
	bool to64 = lma && (cs.attr & SEG_ATTR_L);
	bool outer = new_cpl > old_cpl;
	struct seg ss;
	uint64_t sp = 0;
	/* 64-bit mode always pops SS:RSP; otherwise only on a privilege change. */
	bool pop_ss = outer || mode64;
	if (pop_ss) {
		sp = cpu_stack_peek(cpu, w, 3 * w);
		uint16_t ssel = (uint16_t)cpu_stack_peek(cpu, w, 4 * w);
		/* A null SS is allowed when returning to 64-bit code at CPL < 3. */
		if (!(ssel & 0xfffc) && (!to64 || new_cpl == 3))
			cpu_gp(cpu, 0);
		seg_check_stack(cpu, ssel, new_cpl, EXC_GP, 0, to64, &ss);
	}
	if (to64) {
		if (!canonical(cpu, ip))
			cpu_gp(cpu, 0);
	} else {
		ip &= size_mask(w);
		if (ip > cs.limit)
			cpu_gp(cpu, 0);
	}

	/* Commit. Flag permission uses the CPL before the return. */
	uint64_t mask = IRET_BASE_MASK;
	if (old_cpl <= iopl)
		mask |= F_IF;
	if (old_cpl == 0)
		mask |= F_IOPL | F_VIF | F_VIP;
	if (w == 2)
		mask &= 0xffff;
	flags_set(cpu, fl, mask);
	if (pop_ss) {
		cpu->seg[S_SS] = ss;
		if (w == 2)
			reg16_set(cpu, R_SP, (uint16_t)sp);
		else if (w == 4)
			cpu->gpr[R_SP] = (uint32_t)sp;
		else
			cpu->gpr[R_SP] = sp;
	} else {
		cpu_stack_adjust(cpu, 3 * w);
	}
	cpu_set_cs_rip(cpu, &cs, ip);
	if (outer)
		seg_null_outer(cpu);
}

/* CF: IRET (osz 2), IRETD (4), IRETQ (REX.W, 8). */
void op_iret(struct cpu *cpu, const struct insn *in)
{
	unsigned w = in->osz;
	/* V86 with IOPL < 3 (and no VME 16-bit path) faults before the SVM
	 * IRET intercept. */
	if (cpu->mode == MODE_V86 && ((cpu->rflags >> F_IOPL_SHIFT) & 3) < 3 &&
	    (!(cpu->cr4 & CR4_VME) || w != 2))
		cpu_gp(cpu, 0);
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_IRET, &info);
	switch (cpu->mode) {
	case MODE_REAL:
		iret_real(cpu, w);
		break;
	case MODE_V86:
		iret_v86(cpu, w);
		break;
	default:
		iret_prot(cpu, w);
		break;
	}
	cpu->nmi_blocked = 0;
}
