/*
 * vmx/vmx_exit.c — VMX non-root operation and VM exits (Intel SDM Vol. 3C
 * ch. 26 and 28): the virt_ops nestbox's CPU core calls in guest mode
 * (cpu/virt.h), the one "does L1 want this exit?" decision per intercept
 * reason, the exit information (reason, qualification, instruction length
 * and information, interruption and IDT-vectoring information), the
 * guest-state save (§28.3), the host-state load (§28.5) and the MSR lists.
 *
 *   vmx_compile_icpt   controls → cpu->icpt bits (at VM entry)
 *   vmx_intercept      one switch by reason: return (no exit, possibly
 *                      with an adjusted value: CR read shadows, masked CR
 *                      writes) or vmx_vmexit (never returns)
 *   vmx_pending        preemption timer, interrupt and NMI windows (PEND_VIRT)
 *
 * Virtual NMIs: with NMI exiting every real NMI exits, so the guest's NMI
 * blocking (cpu->nmi_blocked: set by an injected NMI, cleared by IRET in
 * cpu/iret.c) is exactly the virtual-NMI blocking of §25.3.
 *   vmx_vmexit         save guest, record exit info, load host, unwind
 */
#include <stdio.h>

#include "cpu/access.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/tsc.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "vmx/vmx_state.h"
#include "vmx/vmx_tlb.h"

uint64_t vmx_preempt_now(const struct cpu *cpu)
{
	return cpu_tsc_raw(cpu) >> VMX_PREEMPT_RATE;
}

/* The timer reached zero by the vCPU's clock: the loop's pending work
 * (vmx_pending) takes the exit. A guest in the HLT state is woken for it;
 * the exit still reports the HLT activity state (§28.3.4), hence hlt_wake. */
static void preempt_fire(void *opaque)
{
	struct cpu *cpu = opaque;
	struct vmx_state *s = vmx_st(cpu);
	if (!s || !cpu->guest_mode || !s->preempt_on)
		return;
	cpu->pending |= PEND_VIRT;
	if (cpu->halted == 1 || cpu->halted == 3) {
		s->hlt_wake = cpu->halted;
		cpu->halted = 0;
	}
}

void vmx_preempt_arm(struct cpu *cpu, struct vmx_state *s)
{
	if (s->preempt_val == 0 || !cpu->machine) {
		/* Zero exits before the first guest instruction (§26.7.4);
		 * without a machine (unit tests) the loop polls. */
		cpu->pending |= PEND_VIRT;
		return;
	}
	if (!s->ptimer_ready) {
		vtimer_init(&s->ptimer, preempt_fire, cpu);
		vtimer_set_owner(&s->ptimer, cpu);
		s->ptimer_ready = true;
	}
	/* First clock value whose TSC has counted preempt_val timer ticks:
	 * TSC = ns * hz / 1e9 (cpu/tsc.h), so ns = ceil(TSC * 1e9 / hz). */
	unsigned __int128 tsc = (unsigned __int128)(s->preempt_start + s->preempt_val)
				<< VMX_PREEMPT_RATE;
	uint64_t hz = cpu->model->tsc_hz ? cpu->model->tsc_hz : 1000000000ull;
	unsigned __int128 ns = (tsc * 1000000000ull + hz - 1) / hz;
	vtimer_arm(cpu->machine, &s->ptimer, ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns);
}

void vmx_preempt_cancel(struct cpu *cpu, struct vmx_state *s)
{
	if (s->ptimer_ready && cpu->machine)
		vtimer_cancel(cpu->machine, &s->ptimer);
	s->hlt_wake = 0;
}

/* ---- controls → intercept bits ---- */

uint64_t vmx_compile_icpt(const struct vmcs *v)
{
	uint32_t p = v->proc_controls, p2 = vmx_sec_ctls(v), pin = v->pin_controls;
	/* Unconditional exits, and reasons whose decision needs the VMCS
	 * (bitmaps, masks, #UD for disabled instructions, injection). */
	uint64_t b = ICPT_BIT(ICPT_CPUID) | ICPT_BIT(ICPT_INVD) | ICPT_BIT(ICPT_XSETBV) |
		     ICPT_BIT(ICPT_VMX_INSN) | ICPT_BIT(ICPT_VMCALL) | ICPT_BIT(ICPT_TRIPLE_FAULT) |
		     ICPT_BIT(ICPT_GETSEC) | ICPT_BIT(ICPT_CR_READ) | ICPT_BIT(ICPT_CR_WRITE) |
		     ICPT_BIT(ICPT_CLTS) | ICPT_BIT(ICPT_LMSW) | ICPT_BIT(ICPT_RDMSR) |
		     ICPT_BIT(ICPT_WRMSR) | ICPT_BIT(ICPT_EXCEPTION) | ICPT_BIT(ICPT_INTN) |
		     ICPT_BIT(ICPT_RDTSCP) | ICPT_BIT(ICPT_INVPCID) | ICPT_BIT(ICPT_INIT) |
		     ICPT_BIT(ICPT_RDPID) | ICPT_BIT(ICPT_SIPI);
	if (p & PROC_HLT)
		b |= ICPT_BIT(ICPT_HLT);
	if (p & PROC_INVLPG)
		b |= ICPT_BIT(ICPT_INVLPG);
	if (p & PROC_MWAIT)
		b |= ICPT_BIT(ICPT_MWAIT);
	if (p & PROC_RDPMC)
		b |= ICPT_BIT(ICPT_RDPMC);
	if (p & PROC_RDTSC)
		b |= ICPT_BIT(ICPT_RDTSC);
	if (p & PROC_MOV_DR)
		b |= ICPT_BIT(ICPT_DR);
	if (p & (PROC_UNCOND_IO | PROC_IO_BITMAPS))
		b |= ICPT_BIT(ICPT_IO);
	if (p & PROC_MONITOR)
		b |= ICPT_BIT(ICPT_MONITOR);
	if ((p & PROC_PAUSE) || (p2 & PROC2_PLE))
		b |= ICPT_BIT(ICPT_PAUSE);
	if (p2 & PROC2_DESC)
		b |= ICPT_BIT(ICPT_DESC);
	if (p2 & PROC2_WBINVD)
		b |= ICPT_BIT(ICPT_WBINVD);
	if (p2 & PROC2_RDRAND)
		b |= ICPT_BIT(ICPT_RDRAND);
	if (p2 & PROC2_RDSEED)
		b |= ICPT_BIT(ICPT_RDSEED);
	if ((v->exception_bitmap & (1u << EXC_DB)) || (p & PROC_MTF))
		b |= ICPT_BIT(ICPT_DB_TRAP);
	if (pin & PIN_EXTINT)
		b |= ICPT_BIT(ICPT_EXTINT);
	if (pin & PIN_NMI)
		b |= ICPT_BIT(ICPT_NMI);
	return b;
}

/* ---- instruction information (§28.2.5, Tables 28-8 .. 28-15) ----
 *
 *   bits 1:0   scaling          bits 9:7   address size (0 16, 1 32, 2 64)
 *   bits 6:3   reg1 (register operand)     bit 10 1 = register operand
 *   bit 11     operand size (descriptor tables: 0 16-bit, 1 32-bit)
 *   bits 17:15 segment          bits 21:18 index, bit 22 index invalid
 *   bits 26:23 base, bit 27 base invalid  bits 31:28 reg2 / identity
 */
static uint32_t insn_info(const struct insn *in, uint32_t top)
{
	uint32_t ii = in->scale & 3;
	ii |= (uint32_t)(in->asz == 2 ? 0 : in->asz == 4 ? 1 : 2) << 7;
	if (in->mod == 3) {
		ii |= 1u << 10;
		ii |= (uint32_t)(in->rm & 15) << 3;
	}
	ii |= (uint32_t)(in->osz == 2 ? 0 : 1) << 11;
	ii |= (uint32_t)(in->seg & 7) << 15;
	if (in->index == R_NONE || in->mod == 3)
		ii |= 1u << 22;
	else
		ii |= (uint32_t)(in->index & 15) << 18;
	if (in->base == R_NONE || in->base == BASE_RIP || in->mod == 3)
		ii |= 1u << 27;
	else
		ii |= (uint32_t)(in->base & 15) << 23;
	return ii | top;
}

/* ---- guest-state save (§28.3) ---- */

static void store_seg(const struct seg *s, uint16_t *sel, uint64_t *base, uint32_t *limit,
		      uint32_t *ar)
{
	*sel = s->sel;
	*base = s->base;
	*limit = s->limit;
	*ar = s->attr & 0x1f0ff;
}

static void save_guest(struct cpu *cpu, struct vmx_state *s, uint64_t rip)
{
	struct vmcs *v = &s->cur;
	v->guest_cr0 = cpu->cr0;
	v->guest_cr3 = cpu->cr3;
	v->guest_cr4 = cpu->cr4;
	if (v->exit_controls & EXITC_SAVE_DEBUG) {
		v->guest_dr7 = cpu->dr[7];
		v->guest_debugctl = cpu->msr.debugctl;
	}
	v->guest_sysenter_cs = (uint32_t)cpu->msr.sysenter_cs;
	v->guest_sysenter_esp = cpu->msr.sysenter_esp;
	v->guest_sysenter_eip = cpu->msr.sysenter_eip;
	if (v->exit_controls & EXITC_SAVE_PAT)
		v->guest_pat = cpu->msr.pat;
	if (v->exit_controls & EXITC_SAVE_EFER)
		v->guest_efer = cpu->msr.efer;
	/* "IA-32e mode guest" reflects EFER.LMA (IA32_VMX_MISC[5]). */
	v->entry_controls = (v->entry_controls & ~ENTRYC_IA32E) |
			    ((cpu->msr.efer & EFER_LMA) ? ENTRYC_IA32E : 0);

	uint64_t *base = &v->guest_es_base;
	uint32_t *limit = &v->guest_es_limit, *ar = &v->guest_es_ar;
	uint16_t *sel = &v->guest_es_sel;
	for (int i = 0; i < S_NSEG; i++)
		store_seg(&cpu->seg[i], &sel[i], &base[i], &limit[i], &ar[i]);
	store_seg(&cpu->ldtr, &v->guest_ldtr_sel, &v->guest_ldtr_base, &v->guest_ldtr_limit,
		  &v->guest_ldtr_ar);
	store_seg(&cpu->tr, &v->guest_tr_sel, &v->guest_tr_base, &v->guest_tr_limit,
		  &v->guest_tr_ar);
	v->guest_gdtr_base = cpu->gdtr.base;
	v->guest_gdtr_limit = cpu->gdtr.limit;
	v->guest_idtr_base = cpu->idtr.base;
	v->guest_idtr_limit = cpu->idtr.limit;

	v->guest_rsp = cpu->gpr[R_SP];
	v->guest_rip = rip;
	v->guest_rflags = flags_get(cpu);
	if ((vmx_sec_ctls(v) & PROC2_EPT) && (cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE) &&
	    !(cpu->msr.efer & EFER_LMA))
		for (int i = 0; i < 4; i++)
			v->guest_pdpte[i] = cpu->pdpte[i];

	/* Active 0, HLT 1, shutdown 2 (cpu->halted 3), wait-for-SIPI 3
	 * (cpu->halted 2). */
	static const uint8_t act_of[4] = { 0, 1, 3, 2 };
	v->guest_activity_state = act_of[cpu->halted & 3];
	uint32_t is = 0;
	if (cpu->shadow & SHADOW_STI)
		is |= 1;
	if (cpu->shadow & SHADOW_MOVSS)
		is |= 2;
	if (cpu->nmi_blocked)
		is |= 8;
	v->guest_interruptibility = is;
	v->guest_pending_dbg = s->exit_pending_dbg;
	s->exit_pending_dbg = 0;
	if (s->preempt_on && (v->exit_controls & EXITC_SAVE_PREEMPT)) {
		uint64_t el = vmx_preempt_now(cpu) - s->preempt_start;
		v->preemption_timer_value =
			el >= s->preempt_val ? 0 : (uint32_t)(s->preempt_val - el);
	}
}

/* MSR-store (exit) list (§28.4). */
static void store_msr_list(struct cpu *cpu, uint64_t addr, uint32_t count)
{
	for (uint32_t i = 0; i < count && i < VMX_MSR_LIST_MAX; i++) {
		uint64_t e = addr + (uint64_t)i * 16, val = 0;
		uint32_t idx = (uint32_t)phys_read(cpu->mmu, e, 4);
		if (!msr_read(cpu, idx, &val))
			fprintf(stderr,
				"nestbox: warning: vmx: VMX abort: MSR-store list entry %u\n", i);
		phys_write(cpu->mmu, e + 8, 8, val);
	}
}

/* ---- host-state load (§28.5) ---- */

static void host_seg(struct seg *s, uint16_t sel, uint64_t base, bool cs, bool host64)
{
	s->sel = sel;
	s->base = base;
	s->limit = 0xffffffffu;
	if (cs) {
		s->attr = 11 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_G |
			  (host64 ? SEG_ATTR_L : SEG_ATTR_DB);
	} else if (sel == 0) {
		s->attr = SEG_ATTR_UNUSABLE;
	} else {
		s->attr = 3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G;
	}
}

void vmx_load_host(struct cpu *cpu, struct vmx_state *s)
{
	struct vmcs *v = &s->cur;
	bool host64 = v->exit_controls & EXITC_HOST64;

	cpu->cr0 = v->host_cr0 | CR0_ET;
	cpu->cr3 = v->host_cr3;
	cpu->cr4 = v->host_cr4;
	cpu->dr[7] = 0x400;
	cpu->msr.debugctl = 0;
	cpu->msr.sysenter_cs = v->host_sysenter_cs;
	cpu->msr.sysenter_esp = v->host_sysenter_esp;
	cpu->msr.sysenter_eip = v->host_sysenter_eip;
	if (v->exit_controls & EXITC_LOAD_PAT)
		cpu->msr.pat = v->host_pat;
	if (v->exit_controls & EXITC_LOAD_EFER)
		cpu->msr.efer = v->host_efer;
	else if (host64)
		cpu->msr.efer |= EFER_LMA | EFER_LME;
	else
		cpu->msr.efer &= ~(EFER_LMA | EFER_LME);

	host_seg(&cpu->seg[S_CS], v->host_cs_sel, 0, true, host64);
	host_seg(&cpu->seg[S_SS], v->host_ss_sel, 0, false, host64);
	host_seg(&cpu->seg[S_DS], v->host_ds_sel, 0, false, host64);
	host_seg(&cpu->seg[S_ES], v->host_es_sel, 0, false, host64);
	host_seg(&cpu->seg[S_FS], v->host_fs_sel, v->host_fs_base, false, host64);
	host_seg(&cpu->seg[S_GS], v->host_gs_sel, v->host_gs_base, false, host64);
	/* SS stays usable in 64-bit mode with a null selector (§28.5.2). */
	if (v->host_ss_sel == 0)
		cpu->seg[S_SS].attr = SEG_ATTR_UNUSABLE | 3 | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G;
	cpu->tr = (struct seg){ .sel = v->host_tr_sel,
				.base = v->host_tr_base,
				.limit = 0x67,
				.attr = 11 | SEG_ATTR_P };
	cpu->ldtr = (struct seg){ .attr = SEG_ATTR_UNUSABLE };
	cpu->gdtr.base = v->host_gdtr_base;
	cpu->gdtr.limit = 0xffff;
	cpu->idtr.base = v->host_idtr_base;
	cpu->idtr.limit = 0xffff;

	cpu->gpr[R_SP] = v->host_rsp;
	cpu->rip = v->host_rip;
	flags_set(cpu, F_FIXED1, ~0ull);
	cpu->cpl = 0;
	cpu->shadow = 0;
	cpu->halted = 0;
	cpu->pdpte_valid = false;
	if ((cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE) && !host64) {
		struct paging_regs pr = {
			.cr0 = cpu->cr0, .cr3 = cpu->cr3, .cr4 = cpu->cr4, .efer = cpu->msr.efer
		};
		if (!mmu_load_pdptes(cpu->mmu, &pr, NULL))
			fprintf(stderr, "nestbox: warning: vmx: VMX abort: host PDPTEs\n");
		for (int i = 0; i < 4; i++)
			cpu->pdpte[i] = pr.pdpte[i];
		cpu->pdpte_valid = pr.pdpte_valid;
	}
	/* VM-exit MSR-load list (§28.6); a failure is a VMX abort, which we
	 * only log. */
	for (uint32_t i = 0; i < v->exit_msr_load_count && i < VMX_MSR_LIST_MAX; i++) {
		uint64_t e = v->exit_msr_load_addr + (uint64_t)i * 16;
		uint32_t idx = (uint32_t)phys_read(cpu->mmu, e, 4);
		if (!msr_write(cpu, idx, phys_read(cpu->mmu, e + 8, 8)))
			fprintf(stderr,
				"nestbox: warning: vmx: VMX abort: MSR-load list entry %u\n", i);
	}

	cpu->guest_mode = false;
	cpu->icpt = 0;
	cpu->virt_tsc_offset = 0;
	cpu->virt_tsc_ratio = 0;
	cpu->virt_tsc_frac = 0;
	s->preempt_on = false;
	vmx_preempt_cancel(cpu, s);
	s->injecting = false;
	cpu->pending &= ~PEND_VIRT;
	vmx_tlb_exit(cpu, v);
	cpu_update_mode(cpu);
	cpu->pending |= PEND_MODE;
}

_Noreturn void vmx_vmexit(struct cpu *cpu, uint32_t reason, uint64_t qual, uint64_t rip)
{
	struct vmx_state *s = vmx_st(cpu);
	struct vmcs *v = &s->cur;

	cpu_tlb_leave(cpu); /* the guest's TLB set keeps its entries */
	v->exit_reason = reason;
	v->exit_qualification = qual;
	/* An exit during the delivery of an exception: IDT-vectoring info
	 * (§28.2.4). cpu->delivering is the exception being delivered. */
	v->idt_vectoring_info = 0;
	if (cpu->delivering >= 0 && reason != EXIT_REASON_EXCEPTION_NMI &&
	    reason != EXIT_REASON_TRIPLE_FAULT) {
		unsigned vec = (unsigned)cpu->delivering;
		v->idt_vectoring_info = INTR_INFO_VALID | vec |
					(vec == EXC_NMI ? INTR_TYPE_NMI : INTR_TYPE_HW_EXC) << 8;
		if (cpu->exc_errcode != NO_ERRCODE && vec != EXC_NMI) {
			v->idt_vectoring_info |= INTR_INFO_ERRCODE;
			v->idt_vectoring_errcode = cpu->exc_errcode;
		}
	}
	v->entry_intr_info &= ~INTR_INFO_VALID;
	if (s->hlt_wake)
		cpu->halted = s->hlt_wake; /* woken only to take this exit */
	save_guest(cpu, s, rip);
	/* IA32_TSC is stored without the TSC offset and scaling (§28.4). */
	cpu->virt_tsc_offset = 0;
	cpu->virt_tsc_ratio = 0;
	store_msr_list(cpu, v->exit_msr_store_addr, v->exit_msr_store_count);
	vmx_load_host(cpu, s);
	cpu->nmi_blocked = 0;
	cpu_unwind(cpu);
}

/* Exit for an instruction: RIP = the instruction, its length recorded. */
_Noreturn static void insn_exit(struct cpu *cpu, const struct icpt_info *info, uint32_t reason,
				uint64_t qual, uint32_t ii)
{
	struct vmcs *v = &vmx_st(cpu)->cur;
	v->exit_insn_len = info->insn ? info->insn->len : (uint32_t)(cpu->rip - cpu->ip_start);
	v->exit_insn_info = ii;
	v->exit_intr_info = 0;
	vmx_vmexit(cpu, reason, qual, cpu->ip_start);
}

/* ---- the decision ---- */

static bool io_exits(struct cpu *cpu, const struct vmcs *v, uint32_t port, unsigned size)
{
	if (!(v->proc_controls & PROC_IO_BITMAPS))
		return v->proc_controls & PROC_UNCOND_IO;
	for (unsigned i = 0; i < size; i++) {
		uint32_t p = port + i;
		if (p > 0xffff)
			return true; /* wraps around: exits (§26.1.3) */
		uint64_t bm = p < 0x8000 ? v->io_bitmap_a : v->io_bitmap_b;
		uint32_t q = p & 0x7fff;
		if ((phys_read(cpu->mmu, bm + q / 8, 1) >> (q % 8)) & 1)
			return true;
	}
	return false;
}

static bool msr_exits(struct cpu *cpu, const struct vmcs *v, uint32_t idx, bool write)
{
	if (!(v->proc_controls & PROC_MSR_BITMAPS))
		return true;
	uint64_t off;
	if (idx <= 0x1fff)
		off = 0;
	else if (idx >= 0xc0000000 && idx <= 0xc0001fff)
		off = 1024;
	else
		return true;
	if (write)
		off += 2048;
	uint32_t b = idx & 0x1fff;
	return (phys_read(cpu->mmu, v->msr_bitmap + off + b / 8, 1) >> (b % 8)) & 1;
}

/* MOV to CR0/CR4 in non-root operation (§26.1.3, §26.3): exits when a
 * bit the hypervisor owns (mask) would differ from the read shadow;
 * otherwise the owned bits keep their current values. */
static void cr_masked_write(struct cpu *cpu, struct icpt_info *info, uint64_t mask, uint64_t shadow,
			    uint64_t cur, uint32_t qual)
{
	if ((info->value ^ shadow) & mask)
		insn_exit(cpu, info, EXIT_REASON_CR, qual, 0);
	info->value = (info->value & ~mask) | (cur & mask);
}

static void cr_access(struct cpu *cpu, enum icpt_reason r, struct icpt_info *info,
		      const struct vmcs *v)
{
	uint32_t cr = info->index, gpr = (uint32_t)(info->reg & 15) << 8;
	switch (r) {
	case ICPT_CR_READ:
		if (cr == 0 || cr == 0x100)
			info->value = (info->value & ~v->cr0_guest_host_mask) |
				      (v->cr0_read_shadow & v->cr0_guest_host_mask);
		else if (cr == 4)
			info->value = (info->value & ~v->cr4_guest_host_mask) |
				      (v->cr4_read_shadow & v->cr4_guest_host_mask);
		else if ((cr == 3 && (v->proc_controls & PROC_CR3_STORE)) ||
			 (cr == 8 && (v->proc_controls & PROC_CR8_STORE)))
			insn_exit(cpu, info, EXIT_REASON_CR, cr | 1u << 4 | gpr, 0);
		else if (cr == 8 && (v->proc_controls & PROC_TPR_SHADOW))
			vmx_apic_cr8(cpu, info, false);
		return;
	case ICPT_CR_WRITE:
		if (cr == 0) {
			cr_masked_write(cpu, info, v->cr0_guest_host_mask, v->cr0_read_shadow,
					cpu->cr0, gpr);
		} else if (cr == 4) {
			cr_masked_write(cpu, info, v->cr4_guest_host_mask, v->cr4_read_shadow,
					cpu->cr4, 4 | gpr);
		} else if (cr == 3 && (v->proc_controls & PROC_CR3_LOAD)) {
			for (uint32_t i = 0; i < v->cr3_target_count && i < 4; i++)
				if (v->cr3_target[i] == info->value)
					return;
			insn_exit(cpu, info, EXIT_REASON_CR, 3 | gpr, 0);
		} else if (cr == 8 && (v->proc_controls & PROC_CR8_LOAD)) {
			insn_exit(cpu, info, EXIT_REASON_CR, 8 | gpr, 0);
		} else if (cr == 8 && (v->proc_controls & PROC_TPR_SHADOW)) {
			vmx_apic_cr8(cpu, info, true);
		}
		return;
	case ICPT_CLTS:
		if (v->cr0_guest_host_mask & CR0_TS) {
			if (v->cr0_read_shadow & CR0_TS)
				insn_exit(cpu, info, EXIT_REASON_CR, 2u << 4, 0);
			info->value = 0; /* owned TS is not changed */
		}
		return;
	default: { /* ICPT_LMSW */
		uint64_t m = v->cr0_guest_host_mask & 0xf, sh = v->cr0_read_shadow;
		uint64_t src = info->value & 0xffff;
		bool ex = (m & CR0_PE) && !(sh & CR0_PE) && (src & CR0_PE);
		ex |= ((src ^ sh) & m & 0xe) != 0;
		if (ex) {
			uint32_t q = 3u << 4 | (uint32_t)src << 16;
			if (info->insn && info->insn->mod != 3) {
				q |= 1u << 6;
				vmx_st(cpu)->cur.guest_linear_addr = info->lin;
			} else {
				q |= gpr;
			}
			insn_exit(cpu, info, EXIT_REASON_CR, q, 0);
		}
		info->value = (src & ~m) | (cpu->cr0 & m);
		return;
	}
	}
}

/* Exception, NMI or external interrupt met during delivery (cpu_deliver_event). */
static void event_icpt(struct cpu *cpu, struct vmx_state *s, enum icpt_reason r,
		       struct icpt_info *info)
{
	struct vmcs *v = &s->cur;
	unsigned vec = info->index;
	/* DR6 bits the core wrote for this #DB (cpu/debug.h dbg_fault_dr6):
	 * taken whether or not it exits, so none is left for a later #DB. */
	uint32_t db_new = 0;
	if (vec == EXC_DB && r == ICPT_EXCEPTION) {
		db_new = cpu->dbg_dr6_new;
		cpu->dbg_dr6_new = 0;
	}
	if (s->injecting) { /* the injected event itself (§27.6) */
		s->injecting = false;
		return;
	}
	uint32_t type;
	uint64_t rip = cpu->rip, qual = 0;
	switch (r) {
	case ICPT_INTN:
		return; /* INT n never exits in VMX */
	case ICPT_NMI:
		type = INTR_TYPE_NMI;
		cpu->nmi_blocked = 0; /* the NMI is not taken by the guest */
		break;
	case ICPT_EXTINT: {
		/* From the loop's pending check (index ~0: not acknowledged
		 * yet) or from delivery. */
		v->exit_intr_info = 0;
		if (v->exit_controls & EXITC_ACK_INTR) {
			int got = info->index == 0xffffffffu
					  ? (cpu->irq_ack ? cpu->irq_ack(cpu) : -1)
					  : (int)info->index;
			/* Posted-interrupt notification: processed, no exit
			 * (§30.6; the controls require acknowledge on exit). */
			if (got >= 0 && vmx_apic_posted(cpu, (unsigned)got))
				return;
			if (got >= 0)
				v->exit_intr_info = INTR_INFO_VALID | (uint32_t)got;
			else if (info->index == 0xffffffffu)
				return; /* withdrawn before the acknowledge */
		}
		v->exit_insn_len = 0;
		vmx_vmexit(cpu, EXIT_REASON_EXTINT, 0, cpu->rip);
	}
	default: /* ICPT_EXCEPTION */
		if (vec >= 32 || !((v->exception_bitmap >> vec) & 1)) {
			if (vec != EXC_PF)
				return;
		}
		if (vec == EXC_PF) {
			bool bit = (v->exception_bitmap >> EXC_PF) & 1;
			bool match = (info->errcode & v->pf_errcode_mask) == v->pf_errcode_match;
			if (bit != match)
				return;
			qual = cpu->pf_addr; /* CR2 is not written (§28.1) */
		}
		/* A #DB exit reports its debug conditions in the qualification
		 * (§28.2.1, Table 28-1: B3-B0, BD, BS; BT has no bit) and leaves
		 * DR6 as it was before the exception (§28.1). */
		if (vec == EXC_DB && s->db_entry) {
			qual = s->db_entry_qual;
			cpu->dr[6] = s->db_entry_dr6;
			s->db_entry = false;
		} else if (vec == EXC_DB && db_new) {
			qual = db_new & 0x600f;
			cpu->dr[6] = cpu->dbg_dr6_before;
			/* General detect cleared DR7.GD for the handler, which
			 * is not entered (§17.2.4): it stays set. */
			if (db_new & (1u << 13))
				cpu->dr[7] |= 1u << 13;
		} else if (vec == EXC_DB) {
			qual = cpu->dr[6] & 0x600f; /* INT1: its B bits (cpu/debug.h) */
		}
		type = info->event_kind == EV_SOFTEXC  ? INTR_TYPE_SOFT_EXC
		       : info->event_kind == EV_PRIVSW ? INTR_TYPE_PRIV_SW_EXC
						       : INTR_TYPE_HW_EXC;
		break;
	}
	v->exit_intr_info = INTR_INFO_VALID | vec | type << 8;
	if (info->errcode != NO_ERRCODE && type == INTR_TYPE_HW_EXC) {
		v->exit_intr_info |= INTR_INFO_ERRCODE;
		v->exit_intr_errcode = info->errcode;
	}
	if (type == INTR_TYPE_SOFT_EXC || type == INTR_TYPE_PRIV_SW_EXC) {
		v->exit_insn_len = (uint32_t)(cpu->rip - cpu->ip_start);
		rip = cpu->ip_start;
	}
	/* The exception is the event being delivered: no IDT vectoring. */
	cpu->delivering = -1;
	vmx_vmexit(cpu, EXIT_REASON_EXCEPTION_NMI, qual, rip);
}

/* PAUSE-loop exiting (§26.1.3), for a PAUSE without "PAUSE exiting": only
 * at CPL 0. A PAUSE more than PLE_Gap TSC cycles after the previous one at
 * CPL 0 (or the first after VM entry) starts a loop; a PAUSE more than
 * PLE_Window cycles after the start of its loop exits. */
static bool pause_loop_exits(struct cpu *cpu, struct vmx_state *s)
{
	const struct vmcs *v = &s->cur;
	if (!(vmx_sec_ctls(v) & PROC2_PLE) || cpu->cpl != 0)
		return false;
	uint64_t now = cpu_tsc_raw(cpu);
	bool first = !s->ple_valid || now - s->ple_last > v->ple_gap;
	s->ple_valid = true;
	s->ple_last = now;
	if (first) {
		s->ple_first = now;
		return false;
	}
	return now - s->ple_first > v->ple_window;
}

static void vmx_intercept(struct cpu *cpu, enum icpt_reason r, struct icpt_info *info)
{
	struct vmx_state *s = vmx_st(cpu);
	struct vmcs *v = &s->cur;
	uint32_t p = v->proc_controls, p2 = vmx_sec_ctls(v);

	switch (r) {
	case ICPT_CPUID:
		insn_exit(cpu, info, EXIT_REASON_CPUID, 0, 0);
	case ICPT_INVD:
		insn_exit(cpu, info, EXIT_REASON_INVD, 0, 0);
	case ICPT_XSETBV:
		insn_exit(cpu, info, EXIT_REASON_XSETBV, 0, 0);
	case ICPT_GETSEC:
		insn_exit(cpu, info, EXIT_REASON_GETSEC, 0, 0);
	case ICPT_VMCALL:
		insn_exit(cpu, info, EXIT_REASON_VMCALL, 0, 0);
	case ICPT_VMX_INSN: {
		const struct insn *in = info->insn;
		uint32_t ii = in ? insn_info(in, (uint32_t)(in->reg & 15) << 28) : 0;
		uint64_t qual = in && in->mod != 3 ? (uint64_t)(int64_t)in->disp : 0;
		insn_exit(cpu, info, info->index, qual, ii);
	}
	case ICPT_TRIPLE_FAULT:
		v->exit_intr_info = 0;
		vmx_vmexit(cpu, EXIT_REASON_TRIPLE_FAULT, 0, cpu->rip);
	case ICPT_INIT: /* INIT signal in non-root operation always exits */
		v->exit_intr_info = 0;
		cpu->pending &= ~PEND_INIT;
		vmx_vmexit(cpu, EXIT_REASON_INIT, 0, cpu->rip);
	case ICPT_SIPI:
		/* A SIPI exits in the wait-for-SIPI activity state, with its
		 * vector as the qualification; otherwise it is dropped (SDM
		 * Vol. 3C §26.2, §28.2.1). */
		if (cpu->halted != 2)
			return;
		v->exit_intr_info = 0;
		v->exit_insn_len = 0;
		cpu->delivering = -1;
		vmx_vmexit(cpu, EXIT_REASON_SIPI, info->index & 0xff, cpu->rip);
	case ICPT_HLT:
		insn_exit(cpu, info, EXIT_REASON_HLT, 0, 0);
	case ICPT_INVLPG:
		insn_exit(cpu, info, EXIT_REASON_INVLPG, info->lin, 0);
	case ICPT_RDPMC:
		insn_exit(cpu, info, EXIT_REASON_RDPMC, 0, 0);
	case ICPT_RDTSC:
		insn_exit(cpu, info, EXIT_REASON_RDTSC, 0, 0);
	case ICPT_RDTSCP:
		if (!(p2 & PROC2_RDTSCP))
			cpu_ud(cpu);
		if (p & PROC_RDTSC)
			insn_exit(cpu, info, EXIT_REASON_RDTSCP, 0, 0);
		return;
	case ICPT_RDPID:
		if (!(p2 & PROC2_RDTSCP))
			cpu_ud(cpu);
		return;
	case ICPT_INVPCID:
		if (!(p2 & PROC2_INVPCID))
			cpu_ud(cpu);
		if (p & PROC_INVLPG) {
			const struct insn *in = info->insn;
			insn_exit(cpu, info, EXIT_REASON_INVPCID, (uint64_t)(int64_t)in->disp,
				  insn_info(in, (uint32_t)(in->reg & 15) << 28));
		}
		return;
	case ICPT_MWAIT:
		insn_exit(cpu, info, EXIT_REASON_MWAIT, 0, 0);
	case ICPT_MONITOR:
		insn_exit(cpu, info, EXIT_REASON_MONITOR, 0, 0);
	case ICPT_PAUSE:
		if (p & PROC_PAUSE)
			insn_exit(cpu, info, EXIT_REASON_PAUSE, 0, 0);
		if (pause_loop_exits(cpu, s))
			insn_exit(cpu, info, EXIT_REASON_PAUSE, 0, 0);
		return;
	case ICPT_WBINVD:
		insn_exit(cpu, info, EXIT_REASON_WBINVD, 0, 0);
	case ICPT_RDRAND:
	case ICPT_RDSEED: {
		const struct insn *in = info->insn;
		uint32_t ii = (uint32_t)(in->rm & 15) << 3 | (uint32_t)(in->osz == 2   ? 0
									: in->osz == 4 ? 1
										       : 2)
								     << 11;
		insn_exit(cpu, info, r == ICPT_RDRAND ? EXIT_REASON_RDRAND : EXIT_REASON_RDSEED, 0,
			  ii);
	}
	case ICPT_DESC: {
		const struct insn *in = info->insn;
		bool ldt = info->index & 4;
		uint32_t ii = insn_info(in, (info->index & 3) << 28);
		if (!ldt)
			ii &= ~(1u << 10 | 15u << 3);
		uint64_t qual = in->mod != 3 ? (uint64_t)(int64_t)in->disp : 0;
		insn_exit(cpu, info, ldt ? EXIT_REASON_LDTR_TR : EXIT_REASON_GDTR_IDTR, qual, ii);
	}
	case ICPT_CR_READ:
	case ICPT_CR_WRITE:
	case ICPT_CLTS:
	case ICPT_LMSW:
		cr_access(cpu, r, info, v);
		return;
	case ICPT_DR: {
		uint64_t q = (info->index & 7) | (info->in ? 1u << 4 : 0) |
			     (uint32_t)(info->reg & 15) << 8;
		insn_exit(cpu, info, EXIT_REASON_DR, q, 0);
	}
	case ICPT_IO: {
		if (!io_exits(cpu, v, info->index, info->size))
			return;
		const struct insn *in = info->insn;
		bool imm = !info->string && (in->op & 0xf0) == 0xe0 && !(in->op & 8);
		uint64_t q = (uint64_t)(info->size - 1) | (info->in ? 1u << 3 : 0) |
			     (info->string ? 1u << 4 : 0) | (info->rep ? 1u << 5 : 0) |
			     (imm ? 1u << 6 : 0) | (uint64_t)info->index << 16;
		uint32_t ii = 0;
		if (info->string) {
			int seg = info->in ? S_ES : in->seg;
			uint64_t off = reg_get(cpu, info->in ? R_DI : R_SI, in->asz);
			v->guest_linear_addr = cpu->seg[seg].base + off;
			if (cpu->mode != MODE_LONG64)
				v->guest_linear_addr &= 0xffffffffull;
			ii = (uint32_t)(in->asz == 2   ? 0
					: in->asz == 4 ? 1
						       : 2)
				     << 7 |
			     (uint32_t)seg << 15;
		}
		insn_exit(cpu, info, EXIT_REASON_IO, q, ii);
	}
	case ICPT_RDMSR:
	case ICPT_WRMSR:
		if (msr_exits(cpu, v, info->index, r == ICPT_WRMSR))
			insn_exit(cpu, info,
				  r == ICPT_RDMSR ? EXIT_REASON_RDMSR : EXIT_REASON_WRMSR, 0, 0);
		if (p2 & PROC2_X2APIC)
			vmx_apic_msr(cpu, r == ICPT_WRMSR, info);
		return;
	case ICPT_EXCEPTION:
	case ICPT_NMI:
	case ICPT_EXTINT:
	case ICPT_INTN:
		event_icpt(cpu, s, r, info);
		return;
	case ICPT_DB_TRAP:
		/* A #DB trap after an instruction. A pending MTF exit has
		 * priority; the trap is saved as pending debug exceptions
		 * (§26.5.2, §28.3.4). Else the exception bitmap decides; the
		 * exit reports the DR6 bits and leaves DR6 unchanged (§28.1). */
		v->exit_insn_len = 0;
		cpu->delivering = -1;
		if (p & PROC_MTF) {
			s->exit_pending_dbg = info->index & 0x400f;
			if (info->index & 0xf)
				s->exit_pending_dbg |= 1u << 12; /* enabled breakpoint */
			v->exit_intr_info = 0;
			vmx_vmexit(cpu, EXIT_REASON_MTF, 0, cpu->rip);
		}
		if (v->exception_bitmap & (1u << EXC_DB)) {
			v->exit_intr_info = INTR_INFO_VALID | EXC_DB | INTR_TYPE_HW_EXC << 8;
			vmx_vmexit(cpu, EXIT_REASON_EXCEPTION_NMI, info->index & 0x600f, cpu->rip);
		}
		return;
	default:
		return;
	}
}

/* ---- pending work: preemption timer, interrupt window (§26.5, §26.7) ---- */

static void vmx_pending(struct cpu *cpu)
{
	struct vmx_state *s = vmx_st(cpu);
	struct vmcs *v = &s->cur;
	/* In the wait-for-SIPI activity state only INIT and SIPI are
	 * recognized (§26.2): nothing here until one of them exits. */
	if (cpu->halted == 2)
		return;
	/* PEND_VIRT stays set only while a control needs a look at every
	 * instruction boundary; the preemption timer sets it when it fires,
	 * APIC virtualization when it has work (vmx/vmx_apic.c). */
	if (!(v->proc_controls & (PROC_MTF | PROC_NMI_WINDOW | PROC_INTR_WINDOW)))
		cpu->pending &= ~PEND_VIRT;
	/* Trap-like APIC-write emulation / TPR virtualization of the previous
	 * instruction come first. */
	if (s->movss_dbg) {
		cpu->dbg_hits |= s->movss_dbg;
		s->movss_dbg = 0;
	}
	if (s->apic_write) {
		unsigned w = s->apic_write;
		s->apic_write = 0;
		vmx_apic_write_done(cpu, s, w);
	}
	/* Monitor trap flag (§26.5.2): after each instruction (or event
	 * delivery); highest priority of the pending exits here. The loop
	 * calls us at every instruction boundary while PEND_VIRT is set. */
	if (s->mtf_force || (v->proc_controls & PROC_MTF)) {
		if (s->mtf_force || cpu->icount != s->mtf_icount || cpu->rip != s->mtf_rip) {
			s->mtf_force = false;
			v->exit_intr_info = 0;
			v->exit_insn_len = 0;
			cpu->delivering = -1;
			vmx_vmexit(cpu, EXIT_REASON_MTF, 0, cpu->rip);
		}
	}
	if (s->preempt_on && vmx_preempt_now(cpu) - s->preempt_start >= s->preempt_val) {
		v->exit_intr_info = 0;
		v->exit_insn_len = 0;
		if (v->exit_controls & EXITC_SAVE_PREEMPT)
			v->preemption_timer_value = 0;
		s->preempt_on = false;
		cpu->delivering = -1;
		vmx_vmexit(cpu, EXIT_REASON_PREEMPT, 0, cpu->rip);
	}
	/* NMI window (§26.7.6): no virtual-NMI blocking, no MOV-SS/STI
	 * blocking; it has priority over the interrupt window. */
	if ((v->proc_controls & PROC_NMI_WINDOW) && !cpu->nmi_blocked && !cpu->shadow) {
		v->exit_intr_info = 0;
		v->exit_insn_len = 0;
		cpu->delivering = -1;
		vmx_vmexit(cpu, EXIT_REASON_NMI_WINDOW, 0, cpu->rip);
	}
	/* In shutdown only what wakes it as an NMI would exits (§25.2): not
	 * the interrupt window nor virtual interrupts. */
	if (cpu->halted == 3)
		return;
	if ((v->proc_controls & PROC_INTR_WINDOW) && (cpu->rflags & F_IF) && !cpu->shadow) {
		v->exit_intr_info = 0;
		v->exit_insn_len = 0;
		cpu->delivering = -1;
		vmx_vmexit(cpu, EXIT_REASON_INTR_WINDOW, 0, cpu->rip);
	}
	/* Virtual-interrupt delivery (§30.2.2), lowest priority. */
	if (vmx_apic_pending(cpu, s))
		cpu->pending |= PEND_VIRT;
}

const struct virt_ops vmx_virt_ops = {
	.intercept = vmx_intercept,
	.stage2 = NULL,
	.pending = vmx_pending,
	.apic_page = vmx_apic_page,
	.apic_access = vmx_apic_access,
};

/* With "enable EPT": the same plus the second stage (vmx/ept.c). */
const struct virt_ops vmx_virt_ops_ept = {
	.intercept = vmx_intercept,
	.stage2 = vmx_ept_xlate,
	.pending = vmx_pending,
	.apic_page = vmx_apic_page,
	.apic_access = vmx_apic_access,
};
