/*
 * vmx/vmx_entry.c — VM entry (Intel SDM Vol. 3C ch. 27): the order of
 * VMLAUNCH/VMRESUME after their launch-state checks, the guest-state load
 * (§27.3.2), the VM-entry MSR-load list (§27.4), event injection (§27.6)
 * and the switch of the vCPU into non-root operation (cpu->guest_mode,
 * cpu->virt = vmx_virt_ops, cpu->icpt compiled from the controls).
 *
 *   controls checks   fail → VMfailValid(7)      (vmx/vmx_entry_checks.c)
 *   host-state checks fail → VMfailValid(8)
 *   guest-state checks fail → exit reason 33 | bit 31, host state loaded
 *   guest state load, PDPTEs (no EPT) fail → reason 33, qualification 2
 *   MSR-load list     fail → exit reason 34 | bit 31, qual = entry (1-based)
 *   launch state := launched, event injection, cpu_unwind() into the guest
 *
 * The VMCS lives in vmx_state.cur; guest state is the vCPU itself while
 * guest_mode is set and is written back by the VM exit (vmx/vmx_exit.c).
 */
#include <stdio.h>

#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/tsc.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "vmx/vmx_state.h"
#include "vmx/vmx_tlb.h"

/* Load one segment register from the guest-state area (hidden part in the
 * access-rights format, which is cpu.h's struct seg attr). */
static void load_seg(struct seg *s, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	s->sel = sel;
	s->base = base;
	s->limit = limit;
	s->attr = ar & 0x1f0ff;
}

/* §27.4: the VM-entry MSR-load list. Returns 0 or the failing entry's
 * number (1-based). */
static uint32_t load_msr_list(struct cpu *cpu, uint64_t addr, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		if (i == VMX_MSR_LIST_MAX)
			return i + 1;
		uint64_t e = addr + (uint64_t)i * 16;
		uint32_t idx = (uint32_t)phys_read(cpu->mmu, e, 4);
		uint32_t rsvd = (uint32_t)phys_read(cpu->mmu, e + 4, 4);
		uint64_t val = phys_read(cpu->mmu, e + 8, 8);
		/* FS/GS base, x2APIC MSRs, SMM monitor control and reserved
		 * bits are refused (§27.4). */
		if (rsvd || idx == 0xc0000100 || idx == 0xc0000101 || idx == 0x9b ||
		    (idx >> 8) == 8)
			return i + 1;
		if (!msr_write(cpu, idx, val))
			return i + 1;
	}
	return 0;
}

/* §27.3.2: load the guest state of the VMCS into the vCPU. Returns false
 * when PAE PDPTEs (paging without EPT) cannot be loaded. */
static bool load_guest(struct cpu *cpu, struct vmx_state *s)
{
	struct vmcs *v = &s->cur;
	bool ia32e = v->entry_controls & ENTRYC_IA32E;

	cpu->cr0 = v->guest_cr0 | CR0_ET;
	cpu->cr4 = v->guest_cr4;
	cpu->cr3 = v->guest_cr3;
	if (v->entry_controls & ENTRYC_LOAD_DEBUG) {
		cpu->dr[7] = v->guest_dr7 | 0x400;
		cpu->msr.debugctl = v->guest_debugctl;
	}
	cpu->msr.sysenter_cs = v->guest_sysenter_cs;
	cpu->msr.sysenter_esp = v->guest_sysenter_esp;
	cpu->msr.sysenter_eip = v->guest_sysenter_eip;
	if (v->entry_controls & ENTRYC_LOAD_PAT)
		cpu->msr.pat = v->guest_pat;
	if (v->entry_controls & ENTRYC_LOAD_EFER)
		cpu->msr.efer = v->guest_efer;
	/* EFER.LMA always follows "IA-32e mode guest"; LME too when the
	 * control does not load EFER (§27.3.2.1). */
	cpu->msr.efer = (cpu->msr.efer & ~EFER_LMA) | (ia32e ? EFER_LMA : 0);
	if (!(v->entry_controls & ENTRYC_LOAD_EFER) && (cpu->cr0 & CR0_PG))
		cpu->msr.efer = (cpu->msr.efer & ~EFER_LME) | (ia32e ? EFER_LME : 0);

	const uint64_t *base = &v->guest_es_base;
	const uint32_t *limit = &v->guest_es_limit, *ar = &v->guest_es_ar;
	const uint16_t *sel = &v->guest_es_sel;
	for (int i = 0; i < S_NSEG; i++)
		load_seg(&cpu->seg[i], sel[i], base[i], limit[i], ar[i]);
	load_seg(&cpu->ldtr, v->guest_ldtr_sel, v->guest_ldtr_base, v->guest_ldtr_limit,
		 v->guest_ldtr_ar);
	load_seg(&cpu->tr, v->guest_tr_sel, v->guest_tr_base, v->guest_tr_limit, v->guest_tr_ar);
	cpu->gdtr.base = v->guest_gdtr_base;
	cpu->gdtr.limit = v->guest_gdtr_limit;
	cpu->idtr.base = v->guest_idtr_base;
	cpu->idtr.limit = v->guest_idtr_limit;

	cpu->gpr[R_SP] = v->guest_rsp;
	cpu->rip = v->guest_rip;
	flags_set(cpu, v->guest_rflags, ~0ull);
	cpu->cpl = (v->guest_rflags & F_VM) ? 3 : (uint8_t)((v->guest_ss_ar >> 5) & 3);

	/* PDPTEs (§27.3.2.4): from the VMCS with EPT, else from CR3. */
	bool pae = (cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE) && !ia32e;
	cpu->pdpte_valid = false;
	if (pae) {
		bool ept = vmx_sec_ctls(v) & PROC2_EPT;
		if (ept) {
			for (int i = 0; i < 4; i++)
				cpu->pdpte[i] = v->guest_pdpte[i];
			cpu->pdpte_valid = true;
		} else {
			struct paging_regs pr = { .cr0 = cpu->cr0,
						  .cr3 = cpu->cr3,
						  .cr4 = cpu->cr4,
						  .efer = cpu->msr.efer };
			if (!mmu_load_pdptes(cpu->mmu, &pr, NULL))
				return false;
			for (int i = 0; i < 4; i++)
				cpu->pdpte[i] = pr.pdpte[i];
			cpu->pdpte_valid = pr.pdpte_valid;
		}
	}

	/* Activity and interruptibility state (§27.3.2.5). */
	static const uint8_t halted_of[4] = { 0, 1, 3, 2 }; /* act. state → cpu->halted */
	cpu->halted = halted_of[v->guest_activity_state & 3];
	uint32_t is = v->guest_interruptibility;
	cpu->shadow = (is & 1) ? SHADOW_STI : (is & 2) ? SHADOW_MOVSS : 0;
	cpu->nmi_blocked = (is & 8) ? 1 : 0;
	return true;
}

/* §27.6: deliver the event of the VM-entry interruption-information
 * field through the guest's IDT, as if it arose after the entry. Its
 * delivery is not subject to the exception bitmap (s->injecting), but a
 * fault during it is. */
static void inject_event(struct cpu *cpu, struct vmx_state *s)
{
	struct vmcs *v = &s->cur;
	uint32_t ii = v->entry_intr_info;
	unsigned vec = ii & 0xff, type = (ii >> 8) & 7;
	uint32_t err = (ii & INTR_INFO_ERRCODE) ? v->entry_exc_errcode : NO_ERRCODE;
	enum event_kind kind;

	v->entry_intr_info &= ~INTR_INFO_VALID; /* consumed (§27.6.1) */
	cpu->halted = 0;
	cpu->ip_start = cpu->rip;
	switch (type) {
	case INTR_TYPE_EXTINT:
		kind = EV_EXTINT;
		break;
	case INTR_TYPE_NMI:
		kind = EV_NMI;
		cpu->nmi_blocked = 1;
		break;
	case INTR_TYPE_SOFT_INT:
		kind = EV_SOFTINT;
		break;
	case INTR_TYPE_PRIV_SW_EXC:
		kind = EV_PRIVSW;
		break;
	case INTR_TYPE_SOFT_EXC:
		kind = EV_SOFTEXC;
		break;
	case INTR_TYPE_OTHER:
		/* pending MTF VM exit: taken before the first instruction,
		 * whatever the "monitor trap flag" control says (§27.6.2) */
		s->mtf_force = true;
		cpu->pending |= PEND_VIRT;
		return;
	default:
		kind = EV_EXCEPTION;
		break;
	}
	/* Software events push the address after the instruction. */
	if (kind == EV_SOFTINT || kind == EV_SOFTEXC || kind == EV_PRIVSW)
		cpu->rip += v->entry_insn_len;
	/* The flag is consumed by the first intercept call of the delivery,
	 * which exists only when the reason's bit is compiled in. */
	enum icpt_reason r = kind == EV_NMI       ? ICPT_NMI
			     : kind == EV_EXTINT  ? ICPT_EXTINT
			     : kind == EV_SOFTINT ? ICPT_INTN
						  : ICPT_EXCEPTION;
	s->injecting = (cpu->icpt & ICPT_BIT(r)) != 0;
	if (kind == EV_EXCEPTION) {
		cpu->delivering = (int)vec;
		/* An exit during the delivery reports this error code in the
		 * IDT-vectoring information (§28.2.4); without this it was a
		 * stale one, and KVM re-injected an L2 #PF with error code 0. */
		cpu->exc_errcode = err;
		/* Injecting #PF leaves CR2 as the VMM set it (§27.6.1.1). */
		if (vec == EXC_PF)
			cpu->pf_addr = cpu->cr2;
	}
	cpu_deliver_event(cpu, (int)vec, kind, err);
	cpu->delivering = -1;
	s->injecting = false;
}

/* §27.7.3: pending debug exceptions of the guest-state area (B3:B0, BS)
 * after a VM entry that injects nothing. Blocked by MOV SS they stay
 * pending for the instruction after (the core's deferred debug traps);
 * otherwise a #DB trap is delivered before the first guest instruction,
 * with DR6 updated, subject to the exception bitmap. A #DB exit leaves DR6
 * alone and reports the bits in the qualification (s->db_entry_*). */
static void pending_dbg(struct cpu *cpu, struct vmx_state *s)
{
	uint64_t pd = s->cur.guest_pending_dbg;
	unsigned bits = pd & 0x400f;
	if (!bits)
		return;
	/* Waiting for SIPI or in shutdown nothing is delivered: they stay
	 * pending and the next VM exit saves them. */
	if (cpu->halted == 2 || cpu->halted == 3) {
		s->exit_pending_dbg = pd & 0x1500full;
		return;
	}
	if (cpu->shadow & SHADOW_MOVSS) {
		/* cpu_unwind clears dbg_hits: vmx_pending hands them over. */
		s->movss_dbg = (uint8_t)(bits & 0xf);
		cpu->pending |= PEND_VIRT;
		return;
	}
	s->db_entry = true;
	s->db_entry_dr6 = cpu->dr[6];
	s->db_entry_qual = bits | (pd & (1u << 16));
	cpu->dr[6] = (cpu->dr[6] & ~0x400full) | bits;
	cpu->halted = 0;
	cpu->ip_start = cpu->rip;
	cpu->delivering = EXC_DB;
	cpu_deliver_event(cpu, EXC_DB, EV_EXCEPTION, NO_ERRCODE);
	cpu->delivering = -1;
	s->db_entry = false;
}

/* Leave the host: enter non-root operation with the loaded state. */
static void go_nonroot(struct cpu *cpu, struct vmx_state *s)
{
	struct vmcs *v = &s->cur;
	cpu->guest_mode = true;
	bool ept = vmx_sec_ctls(v) & PROC2_EPT;
	cpu->virt = ept ? &vmx_virt_ops_ept : &vmx_virt_ops;
	cpu->icpt = vmx_compile_icpt(v);
	/* RDTSC, RDTSCP and RDMSR IA32_TSC return the TSC plus the offset
	 * with "use TSC offsetting", scaled first by the 16.48 fixed-point
	 * multiplier with "use TSC scaling" (§26.3, §25.6.5). */
	cpu->virt_tsc_offset = (v->proc_controls & PROC_TSC_OFFSET) ? v->tsc_offset : 0;
	cpu->virt_tsc_ratio = 0;
	cpu->virt_tsc_frac = 0;
	if ((v->proc_controls & PROC_TSC_OFFSET) && (vmx_sec_ctls(v) & PROC2_TSC_SCALING)) {
		cpu->virt_tsc_frac = 48; /* set even for a multiplier of 0 */
		cpu->virt_tsc_ratio = v->tsc_multiplier;
	}
	s->ple_valid = false;
	cpu->dbg_dr6_new = 0;
	vmx_tlb_enter(cpu, v);
	cpu_update_mode(cpu);
	cpu->pending |= PEND_MODE | PEND_IRQ;
	s->mtf_icount = cpu->icount;
	s->mtf_rip = cpu->rip;
	s->mtf_force = false;
	s->hlt_wake = 0;
	if (v->proc_controls & (PROC_INTR_WINDOW | PROC_NMI_WINDOW | PROC_MTF))
		cpu->pending |= PEND_VIRT;
	vmx_apic_entry(cpu, s);
	s->preempt_on = v->pin_controls & PIN_PREEMPT;
	if (s->preempt_on) {
		s->preempt_start = vmx_preempt_now(cpu);
		s->preempt_val = v->preemption_timer_value;
		vmx_preempt_arm(cpu, s);
	}
}

enum vmx_insn_error vmx_vmentry(struct cpu *cpu, struct vmx_state *s, bool launch)
{
	struct vmcs *v = &s->cur;

	if (vmx_check_controls(cpu, &s->caps, v))
		return VMXERR_ENTRY_BAD_CONTROLS;
	if (vmx_check_host(cpu, &s->caps, v))
		return VMXERR_ENTRY_BAD_HOST_STATE;
	/* From here the entry either succeeds or fails like a VM exit that
	 * loads the host state (§27.8). The host's TLB set keeps its entries
	 * (vmx/vmx_tlb.c). */
	cpu_tlb_leave(cpu);
	v->exit_intr_info = 0;
	v->idt_vectoring_info = 0;
	int g = vmx_check_guest(cpu, &s->caps, v);
	if (g) {
		v->exit_reason = EXIT_REASON_BAD_GUEST | EXIT_REASON_ENTRY_FAIL;
		v->exit_qualification = (uint64_t)(g - 1);
		vmx_load_host(cpu, s);
		cpu_unwind(cpu);
	}
	/* The current state is the host's: RFLAGS etc. are reloaded from the
	 * host fields on the exit, nothing else needs saving. */
	if (!load_guest(cpu, s)) {
		v->exit_reason = EXIT_REASON_BAD_GUEST | EXIT_REASON_ENTRY_FAIL;
		v->exit_qualification = 2;
		vmx_load_host(cpu, s);
		cpu_unwind(cpu);
	}
	uint32_t bad = load_msr_list(cpu, v->entry_msr_load_addr, v->entry_msr_load_count);
	if (bad) {
		v->exit_reason = EXIT_REASON_BAD_MSR_LOAD | EXIT_REASON_ENTRY_FAIL;
		v->exit_qualification = bad;
		vmx_load_host(cpu, s);
		cpu_unwind(cpu);
	}
	if (launch)
		v->launch_state = VMCS_LAUNCHED;
	go_nonroot(cpu, s);
	s->db_entry = false;
	s->movss_dbg = 0;
	s->exit_pending_dbg = 0;
	if (v->entry_intr_info & INTR_INFO_VALID)
		inject_event(cpu, s);
	else
		pending_dbg(cpu, s);
	cpu_unwind(cpu);
}
