/*
 * svm/svm_ops.c — the SVM side of cpu/virt.h: which icpt bits a VMCB's
 * intercept vectors ask for (compiled at VMRUN), the one intercept
 * decision per reason (APM Vol. 2 §15.7-15.15 and Appendix C for the exit
 * codes and EXITINFO formats), and the guest-mode pending work (virtual
 * interrupts, V_IRQ / VINTR, §15.21.4; virtual NMI, §15.21.5), the pause
 * filter (§15.14.4) and the physical interrupt mask (GIF, vGIF,
 * V_INTR_MASKING).
 *
 * With decode assists (FEAT_DECODEASSISTS, §15.33) EXITINFO1 of MOV CRx/
 * DRx, INTn and INVLPG/INVLPGA exits carries the decoded operand, and #PF
 * exits the instruction bytes (svm_assist.c); nRIP is stored at every exit
 * (svm/svm_exit.c).
 */
#include <stdio.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/insn.h"
#include "cpu/seg.h"
#include "cpu/virt.h"
#include "mmu/mmu.h"
#include "svm/svm_state.h"

uint64_t svm_icpt_bits(const struct vmcb_control *c)
{
	/* VMRUN is always intercepted (the checks require it). */
	uint64_t b = ICPT_BIT(ICPT_SVM_INSN);
	uint32_t m1 = c->icpt_misc1, m2 = c->icpt_misc2;

	if (c->icpt_cr & 0xffff)
		b |= ICPT_BIT(ICPT_CR_READ);
	/* With V_INTR_MASKING the host's IF masks physical interrupts, not
	 * the guest's: the loop must ask (ICPT_EXTINT) even without the
	 * INTR intercept. */
	if (c->int_ctl & INTCTL_V_INTR_MASKING)
		b |= ICPT_BIT(ICPT_EXTINT);
	if ((c->icpt_cr & 0x10000) || (m1 & ICPT1_CR0_SEL))
		b |= ICPT_BIT(ICPT_CR_WRITE) | ICPT_BIT(ICPT_CLTS) | ICPT_BIT(ICPT_LMSW);
	if (c->icpt_cr & 0xfffe0000)
		b |= ICPT_BIT(ICPT_CR_WRITE);
	/* With V_INTR_MASKING the guest's CR8 is V_TPR (§15.21.1). */
	if (c->int_ctl & INTCTL_V_INTR_MASKING)
		b |= ICPT_BIT(ICPT_CR_READ) | ICPT_BIT(ICPT_CR_WRITE);
	if (c->icpt_dr)
		b |= ICPT_BIT(ICPT_DR);
	if (c->icpt_exc || (m2 & ICPT2_ICEBP))
		b |= ICPT_BIT(ICPT_EXCEPTION);
	static const struct {
		uint32_t bit;
		uint8_t reason;
	} m1map[] = {
		{ ICPT1_INTR, ICPT_EXTINT },
		{ ICPT1_NMI, ICPT_NMI },
		{ ICPT1_SMI, ICPT_SMI },
		{ ICPT1_INIT, ICPT_INIT },
		{ ICPT1_RDTSC, ICPT_RDTSC },
		{ ICPT1_RDPMC, ICPT_RDPMC },
		{ ICPT1_PUSHF, ICPT_PUSHF },
		{ ICPT1_POPF, ICPT_POPF },
		{ ICPT1_CPUID, ICPT_CPUID },
		{ ICPT1_RSM, ICPT_RSM },
		{ ICPT1_IRET, ICPT_IRET },
		{ ICPT1_INTN, ICPT_INTN },
		{ ICPT1_INVD, ICPT_INVD },
		{ ICPT1_PAUSE, ICPT_PAUSE },
		{ ICPT1_HLT, ICPT_HLT },
		{ ICPT1_INVLPG, ICPT_INVLPG },
		{ ICPT1_IOIO, ICPT_IO },
		{ ICPT1_MSR, ICPT_RDMSR },
		{ ICPT1_MSR, ICPT_WRMSR },
		{ ICPT1_TASKSW, ICPT_TASK_SWITCH },
		{ ICPT1_SHUTDOWN, ICPT_TRIPLE_FAULT },
		{ ICPT1_FERR, ICPT_FERR_FREEZE },
		{ ICPT1_IDTR_READ | ICPT1_GDTR_READ | ICPT1_LDTR_READ | ICPT1_TR_READ |
			  ICPT1_IDTR_WRITE | ICPT1_GDTR_WRITE | ICPT1_LDTR_WRITE | ICPT1_TR_WRITE,
		  ICPT_DESC },
	};
	for (unsigned i = 0; i < sizeof(m1map) / sizeof(m1map[0]); i++)
		if (m1 & m1map[i].bit)
			b |= ICPT_BIT(m1map[i].reason);
	if (m2 & ICPT2_RDTSCP)
		b |= ICPT_BIT(ICPT_RDTSCP);
	if (m2 & ICPT2_WBINVD)
		b |= ICPT_BIT(ICPT_WBINVD);
	if (m2 & ICPT2_MONITOR)
		b |= ICPT_BIT(ICPT_MONITOR);
	if (m2 & (ICPT2_MWAIT | ICPT2_MWAIT_ARMED))
		b |= ICPT_BIT(ICPT_MWAIT);
	if (m2 & ICPT2_XSETBV)
		b |= ICPT_BIT(ICPT_XSETBV);
	if (c->icpt_misc3 & ICPT3_INVPCID)
		b |= ICPT_BIT(ICPT_INVPCID);
	return b;
}

/* One bit of a permission map in (host-)physical memory. */
static bool map_bit(struct cpu *cpu, uint64_t base, uint64_t bit)
{
	uint8_t byte = (uint8_t)phys_read(cpu->mmu, (base & ~0xfffull) + bit / 8, 1);
	return (byte >> (bit % 8)) & 1;
}

/* I/O permission map (§15.10.1): one bit per port; a multi-byte access
 * exits if the bit of any byte it touches is set. */
static bool iopm_hit(struct cpu *cpu, uint64_t base, unsigned port, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		if (map_bit(cpu, base, port + i))
			return true;
	return false;
}

/* MSR permission map (§15.11): three 2 KiB ranges of two bits per MSR
 * (read, write); MSRs outside them always exit. */
static bool msrpm_hit(struct cpu *cpu, uint64_t base, uint32_t msr, bool write)
{
	uint64_t off;
	if (msr <= 0x1fff)
		off = 0;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		off = 0x800;
	else if (msr >= 0xc0010000u && msr <= 0xc0011fffu)
		off = 0x1000;
	else
		return true;
	return map_bit(cpu, base, off * 8 + (uint64_t)(msr & 0x1fff) * 2 + write);
}

static uint64_t ioio_info(const struct cpu *cpu, const struct icpt_info *info)
{
	uint64_t v = (uint64_t)(info->index & 0xffff) << IOIO_PORT_SHIFT;
	v |= info->in ? IOIO_IN : 0;
	v |= info->string ? IOIO_STR : 0;
	v |= info->rep ? IOIO_REP : 0;
	v |= info->size == 1 ? IOIO_SZ8 : info->size == 2 ? IOIO_SZ16 : IOIO_SZ32;
	unsigned asz = info->insn ? info->insn->asz : 8;
	v |= asz == 2 ? IOIO_A16 : asz == 4 ? IOIO_A32 : IOIO_A64;
	if (info->string && info->insn)
		v |= (uint64_t)(info->in ? S_ES : info->insn->seg) << IOIO_SEG_SHIFT;
	(void)cpu;
	return v;
}

/* Descriptor-table instruction → exit code (ICPT_DESC index: 0 SGDT/SLDT,
 * 1 SIDT/STR, 2 LGDT/LLDT, 3 LIDT/LTR, | 4 for the LDTR/TR group). */
static const struct {
	uint32_t bit;
	uint16_t exit;
} desc_map[8] = {
	{ ICPT1_GDTR_READ, SVM_EXIT_GDTR_READ },   { ICPT1_IDTR_READ, SVM_EXIT_IDTR_READ },
	{ ICPT1_GDTR_WRITE, SVM_EXIT_GDTR_WRITE }, { ICPT1_IDTR_WRITE, SVM_EXIT_IDTR_WRITE },
	{ ICPT1_LDTR_READ, SVM_EXIT_LDTR_READ },   { ICPT1_TR_READ, SVM_EXIT_TR_READ },
	{ ICPT1_LDTR_WRITE, SVM_EXIT_LDTR_WRITE }, { ICPT1_TR_WRITE, SVM_EXIT_TR_WRITE },
};

/* Instruction intercepts of vector 3 / 4 that need no operand. */
static void simple(struct cpu *cpu, uint32_t vec, uint32_t bit, uint64_t code)
{
	if (vec & bit)
		svm_vmexit(cpu, code, 0, 0);
}

static inline bool decode_assists(const struct cpu *cpu)
{
	return model_has(cpu->model, FEAT_DECODEASSISTS);
}

/* EXITINFO1 of a MOV CRx/DRx exit with decode assists: bit 63 = MOV (not
 * LMSW/CLTS/SMSW, for CRs), bits 3:0 = the general register. */
static uint64_t mov_info(const struct cpu *cpu, const struct icpt_info *info, bool is_mov)
{
	if (!decode_assists(cpu) || !is_mov)
		return 0;
	return 1ull << 63 | (info->reg & 15);
}

/* The intercept of the event being delivered (exception, interrupt, NMI,
 * INTn): EXITINTINFO is what that event interrupted (svm_exit.c). */
static _Noreturn void event_vmexit(struct cpu *cpu, uint64_t code, uint64_t i1, uint64_t i2)
{
	svm_st(cpu)->event_exit = true;
	svm_vmexit(cpu, code, i1, i2);
}

/* Cycles the vCPU ran: its executed instructions at the TSC rate (1 ns
 * each), not its clock, which a PAUSE on a multi-vCPU machine moves to
 * the end of the round (cpu/ops_data.c) as if it had spun there. */
static uint64_t pause_cycles(const struct cpu *cpu)
{
	return (uint64_t)((unsigned __int128)cpu->icount * cpu->model->tsc_hz / 1000000000ull);
}

/* PAUSE with the PAUSE intercept (§15.14.4): with the pause filter the
 * intercept fires at the PAUSE_FILTER_COUNT-th PAUSE (every PAUSE when the
 * count is 0); with the threshold, a PAUSE more than PAUSE_FILTER_THRESH
 * cycles after the previous one reloads the count first. */
static void pause_intercept(struct cpu *cpu, struct svm_state *st)
{
	const struct vmcb_control *c = &st->vmcb.c;
	if (!(c->icpt_misc1 & ICPT1_PAUSE))
		return;
	if (model_has(cpu->model, FEAT_PAUSEFILTER) && c->pause_count) {
		uint64_t now = pause_cycles(cpu);
		if (model_has(cpu->model, FEAT_PFTHRESHOLD) && c->pause_thresh &&
		    now - st->pause_last > c->pause_thresh)
			st->pause_left = c->pause_count;
		st->pause_last = now;
		if (st->pause_left > 1) {
			st->pause_left--;
			return;
		}
		st->pause_left = c->pause_count;
	}
	svm_vmexit(cpu, SVM_EXIT_PAUSE, 0, 0);
}

/* virt_ops.extint_open: GIF, then the host's IF with V_INTR_MASKING or
 * the guest's without (§15.17, §15.21.1). */
static bool svm_extint_open(const struct cpu *cpu)
{
	const struct svm_state *st = svm_st(cpu);
	if (!st->gif)
		return false;
	/* vGIF = 0 holds what would go to the guest, not the INTR exit. */
	if (svm_vgif(cpu) && !(st->vmcb.c.int_ctl & INTCTL_VGIF) &&
	    !(st->vmcb.c.icpt_misc1 & ICPT1_INTR))
		return false;
	if (st->vmcb.c.int_ctl & INTCTL_V_INTR_MASKING)
		return st->host_if;
	return (cpu->rflags & F_IF) != 0;
}

static void svm_intercept(struct cpu *cpu, enum icpt_reason r, struct icpt_info *info)
{
	struct svm_state *st = svm_st(cpu);
	const struct vmcb_control *c = &st->vmcb.c;
	uint32_t m1 = c->icpt_misc1, m2 = c->icpt_misc2;

	switch (r) {
	case ICPT_CPUID:
		return simple(cpu, m1, ICPT1_CPUID, SVM_EXIT_CPUID);
	case ICPT_HLT:
		return simple(cpu, m1, ICPT1_HLT, SVM_EXIT_HLT);
	case ICPT_INVD:
		return simple(cpu, m1, ICPT1_INVD, SVM_EXIT_INVD);
	case ICPT_PAUSE:
		return pause_intercept(cpu, st);
	case ICPT_RDTSC:
		return simple(cpu, m1, ICPT1_RDTSC, SVM_EXIT_RDTSC);
	case ICPT_RDPMC:
		return simple(cpu, m1, ICPT1_RDPMC, SVM_EXIT_RDPMC);
	case ICPT_RSM:
		return simple(cpu, m1, ICPT1_RSM, SVM_EXIT_RSM);
	case ICPT_PUSHF:
		return simple(cpu, m1, ICPT1_PUSHF, SVM_EXIT_PUSHF);
	case ICPT_POPF:
		return simple(cpu, m1, ICPT1_POPF, SVM_EXIT_POPF);
	case ICPT_IRET:
		return simple(cpu, m1, ICPT1_IRET, SVM_EXIT_IRET);
	case ICPT_RDTSCP:
		return simple(cpu, m2, ICPT2_RDTSCP, SVM_EXIT_RDTSCP);
	case ICPT_WBINVD:
		return simple(cpu, m2, ICPT2_WBINVD, SVM_EXIT_WBINVD);
	case ICPT_MONITOR:
		return simple(cpu, m2, ICPT2_MONITOR, SVM_EXIT_MONITOR);
	case ICPT_MWAIT:
		/* MWAIT exits unconditionally, or with the monitor armed
		 * (info->value, §15.14.6); the unconditional one first. */
		simple(cpu, m2, ICPT2_MWAIT, SVM_EXIT_MWAIT);
		if (info->value)
			simple(cpu, m2, ICPT2_MWAIT_ARMED, SVM_EXIT_MWAIT_COND);
		return;
	case ICPT_XSETBV:
		return simple(cpu, m2, ICPT2_XSETBV, SVM_EXIT_XSETBV);
	case ICPT_INVPCID:
		return simple(cpu, c->icpt_misc3, ICPT3_INVPCID, SVM_EXIT_INVPCID);
	case ICPT_INVLPG:
		if (m1 & ICPT1_INVLPG)
			svm_vmexit(cpu, SVM_EXIT_INVLPG, decode_assists(cpu) ? info->lin : 0, 0);
		return;
	case ICPT_SVM_INSN: {
		/* index = the exit code of the instruction. */
		static const struct {
			uint16_t exit;
			uint8_t word; /* 1 = vector 3, 2 = vector 4 */
			uint32_t bit;
		} m[] = {
			{ SVM_EXIT_VMRUN, 2, ICPT2_VMRUN },
			{ SVM_EXIT_VMMCALL, 2, ICPT2_VMMCALL },
			{ SVM_EXIT_VMLOAD, 2, ICPT2_VMLOAD },
			{ SVM_EXIT_VMSAVE, 2, ICPT2_VMSAVE },
			{ SVM_EXIT_STGI, 2, ICPT2_STGI },
			{ SVM_EXIT_CLGI, 2, ICPT2_CLGI },
			{ SVM_EXIT_SKINIT, 2, ICPT2_SKINIT },
			{ SVM_EXIT_INVLPGA, 1, ICPT1_INVLPGA },
		};
		for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			if (m[i].exit != info->index)
				continue;
			if (!((m[i].word == 1 ? m1 : m2) & m[i].bit))
				return;
			/* INVLPGA: EXITINFO1 = the linear address (rAX). */
			uint64_t i1 = 0;
			if (m[i].exit == SVM_EXIT_INVLPGA && decode_assists(cpu))
				i1 = info->lin;
			svm_vmexit(cpu, m[i].exit, i1, 0);
		}
		return;
	}
	case ICPT_CR_READ: {
		/* SMSW (index 0x100) is a CR0 read on AMD (APM Vol. 3 SMSW). */
		unsigned cr = info->index == 0x100 ? 0 : info->index & 15;
		if (c->icpt_cr & (1u << cr))
			svm_vmexit(cpu, SVM_EXIT_CR0_READ + cr,
				   mov_info(cpu, info, info->index != 0x100), 0);
		if (cr == 8 && info->index != 0x100 && (c->int_ctl & INTCTL_V_INTR_MASKING))
			info->value = c->int_ctl & 0xf;
		return;
	}
	case ICPT_CR_WRITE: {
		unsigned cr = info->index & 15;
		if (c->icpt_cr & (0x10000u << cr))
			svm_vmexit(cpu, SVM_EXIT_CR0_WRITE + cr, mov_info(cpu, info, true), 0);
		if (cr == 8 && (c->int_ctl & INTCTL_V_INTR_MASKING)) {
			/* The write goes to V_TPR only; the real TPR keeps its
			 * value. A lower V_TPR may unblock V_IRQ. */
			st->vmcb.c.int_ctl = (c->int_ctl & ~INTCTL_V_TPR) | (info->value & 0xf);
			info->value = cpu->cr8;
			if (c->int_ctl & INTCTL_V_IRQ)
				cpu->pending |= PEND_VIRT;
			return;
		}
		/* Selective CR0 write (§15.9.1): a change of a bit other than
		 * TS and MP. */
		if (cr == 0 && (m1 & ICPT1_CR0_SEL) &&
		    ((info->value ^ cpu->cr0) & ~(CR0_TS | CR0_MP)))
			svm_vmexit(cpu, SVM_EXIT_CR0_SEL_WRITE, mov_info(cpu, info, true), 0);
		return;
	}
	case ICPT_CLTS:
		if (c->icpt_cr & 0x10000u)
			svm_vmexit(cpu, SVM_EXIT_CR0_WRITE, 0, 0);
		return;
	case ICPT_LMSW:
		if (c->icpt_cr & 0x10000u)
			svm_vmexit(cpu, SVM_EXIT_CR0_WRITE, 0, 0);
		/* The selective intercept takes LMSW whatever it writes
		 * (APM Vol. 2 §15.9.1: LMSW counts as a non-selective write). */
		if (m1 & ICPT1_CR0_SEL)
			svm_vmexit(cpu, SVM_EXIT_CR0_SEL_WRITE, 0, 0);
		return;
	case ICPT_DR: {
		unsigned dr = info->index & 15;
		if (c->icpt_dr & ((info->in ? 1u : 0x10000u) << dr))
			svm_vmexit(cpu, (info->in ? SVM_EXIT_DR0_READ : SVM_EXIT_DR0_WRITE) + dr,
				   decode_assists(cpu) ? info->reg & 15 : 0, 0);
		return;
	}
	case ICPT_DESC: {
		unsigned i = info->index & 7;
		if (m1 & desc_map[i].bit)
			svm_vmexit(cpu, desc_map[i].exit, 0, 0);
		return;
	}
	case ICPT_IO:
		if ((m1 & ICPT1_IOIO) &&
		    iopm_hit(cpu, c->iopm_base, info->index & 0xffff, info->size))
			svm_vmexit(cpu, SVM_EXIT_IOIO, ioio_info(cpu, info), cpu->rip);
		return;
	case ICPT_RDMSR:
	case ICPT_WRMSR: {
		bool wr = r == ICPT_WRMSR;
		if ((m1 & ICPT1_MSR) && msrpm_hit(cpu, c->msrpm_base, info->index, wr))
			svm_vmexit(cpu, SVM_EXIT_MSR, wr, 0);
		return;
	}
	case ICPT_TASK_SWITCH: {
		/* EXITINFO1 = the new TSS selector; EXITINFO2 = bit 36 IRET,
		 * bit 38 JMP, bit 44 + bits 31:0 the error code of the event
		 * delivered through a task gate (§15.14.2). */
		if (!(m1 & ICPT1_TASKSW))
			return;
		uint64_t i2 = 0;
		if (info->value == TASK_IRET)
			i2 |= 1ull << 36;
		else if (info->value == TASK_JMP)
			i2 |= 1ull << 38;
		if (info->errcode != NO_ERRCODE)
			i2 |= 1ull << 44 | info->errcode;
		svm_vmexit(cpu, SVM_EXIT_TASK_SWITCH, info->index & 0xffff, i2);
	}
	case ICPT_TRIPLE_FAULT:
		return simple(cpu, m1, ICPT1_SHUTDOWN, SVM_EXIT_SHUTDOWN);
	case ICPT_FERR_FREEZE:
		/* A waiting x87/MMX instruction with an error pending, CR0.NE = 0
		 * and IGNNE# inactive would freeze (cpu/x87/x87_core.c): exit with
		 * RIP at the instruction, which has not run. */
		return simple(cpu, m1, ICPT1_FERR, SVM_EXIT_FERR_FREEZE);
	case ICPT_INIT:
		return simple(cpu, m1, ICPT1_INIT, SVM_EXIT_INIT);
	case ICPT_SMI:
		return simple(cpu, m1, ICPT1_SMI, SVM_EXIT_SMI);
	case ICPT_EXCEPTION: {
		unsigned vec = info->index & 31;
		if (info->event_kind == EV_PRIVSW) {
			/* INT1 (ICEBP): its own intercept (§15.12). */
			if (m2 & ICPT2_ICEBP)
				event_vmexit(cpu, SVM_EXIT_ICEBP, 0, 0);
		}
		if (!(c->icpt_exc & (1u << vec)))
			return;
		uint64_t i1 = info->errcode == NO_ERRCODE ? 0 : info->errcode;
		/* #PF: EXITINFO2 is the faulting address (CR2 is written only
		 * when the #PF is delivered, §15.12), and with decode assists
		 * the instruction bytes. */
		uint64_t i2 = 0;
		if (vec == EXC_PF) {
			i2 = cpu->pf_addr;
			if (decode_assists(cpu))
				svm_fetch_insn_bytes(cpu, cpu->ip_start, &st->vmcb.c);
		}
		event_vmexit(cpu, SVM_EXIT_EXC0 + vec, i1, i2);
	}
	case ICPT_EXTINT: {
		if (info->index != 0xffffffffu)
			return; /* an acknowledged (or injected) vector is delivered */
		/* A pending physical interrupt (the loop asks before the
		 * controller is acknowledged): masked by the host's IF with
		 * V_INTR_MASKING, else by the guest's (§15.21.1); if taken,
		 * the INTR intercept exits, else it goes through the guest's
		 * IDT, whatever the guest's IF with V_INTR_MASKING. */
		if (!svm_extint_open(cpu))
			return;
		if (m1 & ICPT1_INTR)
			event_vmexit(cpu, SVM_EXIT_INTR, 0, 0);
		int vec = cpu->irq_ack ? cpu->irq_ack(cpu) : -1;
		if (vec >= 0)
			cpu_deliver_event(cpu, vec, EV_EXTINT, NO_ERRCODE);
		return;
	}
	case ICPT_NMI:
		if (st->vnmi_delivery) {
			st->vnmi_delivery = false;
			return;
		}
		if (m1 & ICPT1_NMI) {
			/* The NMI stays pending for the host (taken after STGI). */
			cpu->nmi_blocked = 0;
			cpu->pending |= PEND_NMI;
			event_vmexit(cpu, SVM_EXIT_NMI, 0, 0);
		}
		return;
	case ICPT_INTN:
		/* Decode assists: EXITINFO1 = the vector. */
		if (m1 & ICPT1_INTN)
			event_vmexit(cpu, SVM_EXIT_SWINT,
				     decode_assists(cpu) ? info->index & 0xff : 0, 0);
		return;
	default:
		/* VMX-only reasons (windows, preemption timer, ...). */
		return;
	}
}

/* Virtual interrupts (§15.21.4): V_IRQ is taken when the guest's IF is
 * set, there is no interrupt shadow and V_INTR_PRIO is above V_TPR (or
 * V_IGN_TPR); the VINTR intercept exits instead of delivering. */
static void svm_pending(struct cpu *cpu)
{
	struct svm_state *st = svm_st(cpu);
	struct vmcb_control *c = &st->vmcb.c;
	/* A virtual NMI (§15.21.5) first: taken when the guest's NMIs are
	 * not blocked (V_NMI_MASK, kept in cpu->nmi_blocked while the guest
	 * runs) and no interrupt shadow; its delivery sets the blocking,
	 * which the guest's IRET clears. */
	if (st->vnmi && (c->int_ctl & INTCTL_V_NMI) && !cpu->nmi_blocked && !cpu->shadow &&
	    !(svm_vgif(cpu) && !(c->int_ctl & INTCTL_VGIF))) {
		c->int_ctl &= ~INTCTL_V_NMI;
		cpu->ip_start = cpu->rip;
		cpu->halted = 0;
		cpu->nmi_blocked = 1;
		st->vnmi_delivery = true; /* virtual: not for the NMI intercept */
		cpu_deliver_event(cpu, EXC_NMI, EV_NMI, NO_ERRCODE);
		st->vnmi_delivery = false;
		return;
	}
	if (!(c->int_ctl & INTCTL_V_IRQ)) {
		if (!(st->vnmi && (c->int_ctl & INTCTL_V_NMI)))
			cpu->pending &= ~PEND_VIRT;
		return;
	}
	if (cpu->shadow || !(cpu->rflags & F_IF))
		return;
	/* vGIF = 0 masks virtual interrupts (§15.33.2). */
	if (svm_vgif(cpu) && !(c->int_ctl & INTCTL_VGIF))
		return;
	unsigned prio = (c->int_ctl >> INTCTL_V_PRIO_SHIFT) & 0xf;
	if (!(c->int_ctl & INTCTL_V_IGN_TPR) && prio <= (c->int_ctl & 0xf))
		return;
	cpu->ip_start = cpu->rip;
	cpu->halted = 0;
	if (c->icpt_misc1 & ICPT1_VINTR)
		svm_vmexit(cpu, SVM_EXIT_VINTR, 0, 0);
	c->int_ctl &= ~INTCTL_V_IRQ;
	cpu->pending &= ~PEND_VIRT;
	cpu_deliver_event(cpu, (int)(c->int_vector & 0xff), EV_EXTINT, NO_ERRCODE);
}

/* Without nested paging guest-physical is host-physical: no stage2. */
const struct virt_ops svm_virt_ops = {
	.intercept = svm_intercept,
	.stage2 = NULL,
	.pending = svm_pending,
	.extint_open = svm_extint_open,
	.cr4_deny = CR4_VMXE,
};

const struct virt_ops svm_virt_ops_npt = {
	.intercept = svm_intercept,
	.stage2 = svm_npt_xlate,
	.pending = svm_pending,
	.extint_open = svm_extint_open,
	.cr4_deny = CR4_VMXE,
};
