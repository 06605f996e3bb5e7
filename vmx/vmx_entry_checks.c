/*
 * vmx/vmx_entry_checks.c — the checks VMLAUNCH/VMRESUME make before they
 * load anything (Intel SDM Vol. 3C §27.2 controls and host state, §27.3.1
 * guest state), one small function per group of the manual.
 *
 * Every check is written CC(condition-that-fails, "section"): a failure is
 * logged with the expression and the section (the style of KVM's CC()) when
 * NESTBOX_VMX_TRACE is set in the environment, and makes the group fail. Callers (vmx/vmx_entry.c)
 * turn the outcome into the architectural result: controls     VMfailValid(7) vmx_check_controls()
 * != 0 host state   VMfailValid(8)           vmx_check_host() != 0 guest state  exit reason 33 |
 * bit 31  vmx_check_guest() = qualification + 1 Checks are complete for what the capability MSRs
 * (vmx/vmx_caps.c) advertise; a control that is never allowed-1 is rejected by the generic
 * allowed-0/allowed-1 test and needs no check of its own.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cpu/cpuid.h"
#include "mmu/mmu.h"
#include "vmx/vmx_state.h"

#define CC(cond, sec) ((cond) ? cc_fail(#cond, sec) : 0)

/* A failed check is architectural (the guest sees VMfail or an entry
 * failure), not an emulator problem: it is logged only when the
 * environment variable NESTBOX_VMX_TRACE is set, so test suites that treat
 * stderr output as a VMM failure (kvm-unit-tests) stay clean. */
static int cc_fail(const char *expr, const char *sec)
{
	if (getenv("NESTBOX_VMX_TRACE"))
		fprintf(stderr, "nestbox: vmx: VM-entry check failed: %s (SDM Vol. 3C %s)\n", expr,
			sec);
	return 1;
}

/* ---- helpers ---- */

static inline bool ctl_ok(uint32_t v, uint64_t msr)
{
	uint32_t must1 = (uint32_t)msr, may1 = (uint32_t)(msr >> 32);
	return (v & must1) == must1 && (v & ~may1) == 0;
}

static inline bool canon48(const struct cpu *cpu, uint64_t a)
{
	unsigned bits = model_has(cpu->model, FEAT_LA57) ? 57 : 48;
	int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == a;
}

static inline bool paddr_ok(const struct cpu *cpu, uint64_t pa)
{
	return (pa >> cpu->model->phys_addr_bits) == 0;
}

static inline bool page_addr_ok(const struct cpu *cpu, uint64_t pa)
{
	return (pa & 0xfff) == 0 && paddr_ok(cpu, pa);
}

/* An MSR list: 16-byte aligned, last byte within the physical-address
 * width (§27.2.1.2). */
static inline bool msr_list_ok(const struct cpu *cpu, uint64_t addr, uint32_t count)
{
	if (!count)
		return true;
	return (addr & 15) == 0 && paddr_ok(cpu, addr + (uint64_t)count * 16 - 1);
}

static inline bool cr_fixed(uint64_t v, const struct vmx_caps *c, uint32_t fixed0_msr,
			    uint64_t ignore)
{
	uint64_t f0 = vmx_caps_get(c, fixed0_msr) & ~ignore, f1 = vmx_caps_get(c, fixed0_msr + 1);
	return (v & f0) == f0 && (v & ~f1) == 0;
}

/* IA32_PAT: each of the 8 entries one of 0, 1, 4, 5, 6, 7. */
static bool pat_ok(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static inline bool efer_rsvd(const struct cpu *cpu, uint64_t efer)
{
	uint64_t ok = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	if (model_has(cpu->model, FEAT_SVM))
		ok |= EFER_SVME;
	return (efer & ~ok) != 0;
}

/* ---- §27.2.1 VM-execution, VM-exit and VM-entry control fields ---- */

/* §27.2.1.1, the APIC-virtualization controls (SDM Vol. 3C ch. 30). */
static int check_apic_controls(const struct cpu *cpu, const struct vmcs *v)
{
	uint32_t p2 = vmx_sec_ctls(v);
	int bad = 0;
	if (v->proc_controls & PROC_TPR_SHADOW) {
		bad |= CC(!page_addr_ok(cpu, v->virtual_apic_addr),
			  "27.2.1.1 virtual-APIC address");
		if (!(p2 & PROC2_VID))
			bad |= CC(v->tpr_threshold & 0xfffffff0u,
				  "27.2.1.1 TPR threshold bits 31:4");
		if (!(p2 & (PROC2_VID | PROC2_APIC_ACCESS)) &&
		    page_addr_ok(cpu, v->virtual_apic_addr)) {
			uint64_t vtpr = phys_read(cpu->mmu, v->virtual_apic_addr + 0x80, 4);
			bad |= CC((v->tpr_threshold & 0xf) > ((vtpr >> 4) & 0xf),
				  "27.2.1.1 TPR threshold above VTPR[7:4]");
		}
	} else {
		bad |= CC(p2 & (PROC2_X2APIC | PROC2_APIC_REG | PROC2_VID),
			  "27.2.1.1 APIC virtualization without use TPR shadow");
	}
	bad |= CC((p2 & PROC2_X2APIC) && (p2 & PROC2_APIC_ACCESS),
		  "27.2.1.1 virtualize x2APIC mode with virtualize APIC accesses");
	bad |= CC((p2 & PROC2_VID) && !(v->pin_controls & PIN_EXTINT),
		  "27.2.1.1 virtual-interrupt delivery needs external-interrupt exiting");
	if (v->pin_controls & PIN_POSTED) {
		bad |= CC(!(p2 & PROC2_VID), "27.2.1.1 posted interrupts need virtual-interrupt "
					     "delivery");
		bad |= CC(!(v->exit_controls & EXITC_ACK_INTR),
			  "27.2.1.1 posted interrupts need acknowledge interrupt on exit");
		bad |= CC(v->posted_intr_nv & 0xff00, "27.2.1.1 notification vector bits 15:8");
		bad |= CC((v->posted_intr_desc_addr & 0x3f) ||
				  !paddr_ok(cpu, v->posted_intr_desc_addr),
			  "27.2.1.1 posted-interrupt descriptor address");
	}
	if (p2 & PROC2_APIC_ACCESS)
		bad |= CC(!page_addr_ok(cpu, v->apic_access_addr), "27.2.1.1 APIC-access address");
	return bad;
}

static int check_exec_controls(const struct cpu *cpu, const struct vmx_caps *c,
			       const struct vmcs *v)
{
	uint32_t p2 = vmx_sec_ctls(v);
	int bad = 0;
	bad |= CC(!ctl_ok(v->pin_controls, vmx_caps_get(c, MSR_IA32_VMX_TRUE_PINBASED_CTLS)),
		  "27.2.1.1 pin-based controls");
	bad |= CC(!ctl_ok(v->proc_controls, vmx_caps_get(c, MSR_IA32_VMX_TRUE_PROCBASED_CTLS)),
		  "27.2.1.1 primary processor-based controls");
	if (v->proc_controls & PROC_SECONDARY)
		bad |= CC(!ctl_ok(p2, vmx_caps_get(c, MSR_IA32_VMX_PROCBASED_CTLS2)),
			  "27.2.1.1 secondary processor-based controls");
	bad |= CC(v->cr3_target_count > 4, "27.2.1.1 CR3-target count");
	if (v->proc_controls & PROC_IO_BITMAPS) {
		bad |= CC(!page_addr_ok(cpu, v->io_bitmap_a), "27.2.1.1 I/O bitmap A address");
		bad |= CC(!page_addr_ok(cpu, v->io_bitmap_b), "27.2.1.1 I/O bitmap B address");
	}
	if (v->proc_controls & PROC_MSR_BITMAPS)
		bad |= CC(!page_addr_ok(cpu, v->msr_bitmap), "27.2.1.1 MSR bitmap address");
	bad |= CC(!(v->pin_controls & PIN_NMI) && (v->pin_controls & PIN_VNMI),
		  "27.2.1.1 virtual NMIs need NMI exiting");
	bad |= CC(!(v->pin_controls & PIN_VNMI) && (v->proc_controls & PROC_NMI_WINDOW),
		  "27.2.1.1 NMI-window exiting needs virtual NMIs");
	if (p2 & PROC2_EPT)
		bad |= CC(!vmx_eptp_valid(cpu, c, v->ept_pointer), "27.2.1.1 EPT pointer");
	if (p2 & PROC2_VPID)
		bad |= CC(v->vpid == 0, "27.2.1.1 VPID 0");
	bad |= CC((p2 & PROC2_UG) && !(p2 & PROC2_EPT), "27.2.1.1 unrestricted guest needs EPT");
	if (p2 & PROC2_SHADOW_VMCS) {
		bad |= CC(!page_addr_ok(cpu, v->vmread_bitmap), "27.2.1.1 VMREAD-bitmap address");
		bad |= CC(!page_addr_ok(cpu, v->vmwrite_bitmap), "27.2.1.1 VMWRITE-bitmap address");
	}
	/* Page-modification logging: needs EPT; a page-aligned log. */
	if (p2 & PROC2_PML) {
		bad |= CC(!(p2 & PROC2_EPT), "27.2.1.1 enable PML needs enable EPT");
		bad |= CC(!page_addr_ok(cpu, v->pml_address), "27.2.1.1 PML address");
	}
	/* VM functions: only supported functions; EPTP switching needs EPT
	 * and a page-aligned EPTP list. */
	if (p2 & PROC2_VMFUNC) {
		bad |= CC(v->vmfunc_controls & ~vmx_caps_get(c, MSR_IA32_VMX_VMFUNC),
			  "27.2.1.1 VM-function controls");
		if (v->vmfunc_controls & VMFUNC_EPTP_SWITCH) {
			bad |= CC(!(p2 & PROC2_EPT), "27.2.1.1 EPTP switching needs enable EPT");
			bad |= CC(!page_addr_ok(cpu, v->eptp_list_addr),
				  "27.2.1.1 EPTP-list address");
		}
	}
	bad |= check_apic_controls(cpu, v);
	return bad;
}

static int check_exit_controls(const struct cpu *cpu, const struct vmx_caps *c,
			       const struct vmcs *v)
{
	int bad = 0;
	bad |= CC(!ctl_ok(v->exit_controls, vmx_caps_get(c, MSR_IA32_VMX_TRUE_EXIT_CTLS)),
		  "27.2.1.2 VM-exit controls");
	bad |= CC(!(v->pin_controls & PIN_PREEMPT) && (v->exit_controls & EXITC_SAVE_PREEMPT),
		  "27.2.1.2 save preemption timer needs the timer");
	bad |= CC(!msr_list_ok(cpu, v->exit_msr_store_addr, v->exit_msr_store_count),
		  "27.2.1.2 VM-exit MSR-store address");
	bad |= CC(!msr_list_ok(cpu, v->exit_msr_load_addr, v->exit_msr_load_count),
		  "27.2.1.2 VM-exit MSR-load address");
	return bad;
}

/* Exceptions that push an error code (§27.2.1.3). */
static inline bool exc_has_errcode(unsigned vec)
{
	return vec == EXC_DF || vec == EXC_TS || vec == EXC_NP || vec == EXC_SS || vec == EXC_GP ||
	       vec == EXC_PF || vec == EXC_AC;
}

static int check_entry_controls(const struct cpu *cpu, const struct vmx_caps *c,
				const struct vmcs *v)
{
	int bad = 0;
	bad |= CC(!ctl_ok(v->entry_controls, vmx_caps_get(c, MSR_IA32_VMX_TRUE_ENTRY_CTLS)),
		  "27.2.1.3 VM-entry controls");
	bad |= CC(v->entry_controls & (ENTRYC_SMM | ENTRYC_DUAL), "27.2.1.3 entry to SMM");
	bad |= CC(!msr_list_ok(cpu, v->entry_msr_load_addr, v->entry_msr_load_count),
		  "27.2.1.3 VM-entry MSR-load address");
	uint32_t ii = v->entry_intr_info;
	if (!(ii & INTR_INFO_VALID))
		return bad;
	unsigned vec = ii & 0xff, type = (ii >> 8) & 7;
	bool misc_len0 = vmx_caps_get(c, MSR_IA32_VMX_MISC) & (1ull << 30);
	bad |= CC(type == 1, "27.2.1.3 interruption type 1 reserved");
	/* Type 7 needs a processor that supports the 1-setting of "monitor
	 * trap flag", not the control itself. */
	bad |= CC(type == INTR_TYPE_OTHER &&
			  !(vmx_caps_allowed1(c, MSR_IA32_VMX_PROCBASED_CTLS) & PROC_MTF),
		  "27.2.1.3 type 7 needs monitor trap flag support");
	bad |= CC(type == INTR_TYPE_NMI && vec != EXC_NMI, "27.2.1.3 NMI vector 2");
	bad |= CC(type == INTR_TYPE_HW_EXC && vec > 31, "27.2.1.3 hardware exception vector");
	bad |= CC(type == INTR_TYPE_OTHER && vec != 0, "27.2.1.3 type 7 vector 0");
	bool pe = !(vmx_sec_ctls(v) & PROC2_UG) || (v->guest_cr0 & CR0_PE);
	bool want_err = type == INTR_TYPE_HW_EXC && exc_has_errcode(vec) && pe;
	bad |= CC(!!(ii & INTR_INFO_ERRCODE) != want_err, "27.2.1.3 deliver-error-code bit");
	bad |= CC(ii & 0x7ffff000u, "27.2.1.3 interruption-information reserved bits");
	if (ii & INTR_INFO_ERRCODE)
		bad |= CC(v->entry_exc_errcode & 0xffff8000u, "27.2.1.3 error code bits 31:15");
	if (type == INTR_TYPE_SOFT_INT || type == INTR_TYPE_PRIV_SW_EXC ||
	    type == INTR_TYPE_SOFT_EXC)
		bad |= CC(v->entry_insn_len > 15 || (v->entry_insn_len == 0 && !misc_len0),
			  "27.2.1.3 VM-entry instruction length");
	return bad;
}

int vmx_check_controls(const struct cpu *cpu, const struct vmx_caps *c, const struct vmcs *v)
{
	return check_exec_controls(cpu, c, v) | check_exit_controls(cpu, c, v) |
	       check_entry_controls(cpu, c, v);
}

/* ---- §27.2.2-27.2.4 host state ---- */

int vmx_check_host(const struct cpu *cpu, const struct vmx_caps *c, const struct vmcs *v)
{
	bool host64 = v->exit_controls & EXITC_HOST64;
	bool lma = cpu->msr.efer & EFER_LMA;
	int bad = 0;
	bad |= CC(!cr_fixed(v->host_cr0, c, MSR_IA32_VMX_CR0_FIXED0, 0), "27.2.2 host CR0");
	bad |= CC(!cr_fixed(v->host_cr4, c, MSR_IA32_VMX_CR4_FIXED0, 0), "27.2.2 host CR4");
	bad |= CC(!paddr_ok(cpu, v->host_cr3), "27.2.2 host CR3");
	bad |= CC(!canon48(cpu, v->host_sysenter_esp), "27.2.2 host SYSENTER_ESP");
	bad |= CC(!canon48(cpu, v->host_sysenter_eip), "27.2.2 host SYSENTER_EIP");
	if (v->exit_controls & EXITC_LOAD_PAT)
		bad |= CC(!pat_ok(v->host_pat), "27.2.2 host IA32_PAT");
	if (v->exit_controls & EXITC_LOAD_EFER) {
		bad |= CC(efer_rsvd(cpu, v->host_efer), "27.2.2 host IA32_EFER reserved bits");
		bad |= CC(!!(v->host_efer & EFER_LMA) != host64, "27.2.2 host EFER.LMA");
		bad |= CC(!!(v->host_efer & EFER_LME) != host64, "27.2.2 host EFER.LME");
	}
	/* §27.2.3 segment and descriptor-table registers */
	const uint16_t sels[] = { v->host_es_sel, v->host_cs_sel, v->host_ss_sel, v->host_ds_sel,
				  v->host_fs_sel, v->host_gs_sel, v->host_tr_sel };
	for (unsigned i = 0; i < sizeof(sels) / sizeof(sels[0]); i++)
		bad |= CC(sels[i] & 7, "27.2.3 host selector RPL/TI");
	bad |= CC(v->host_cs_sel == 0, "27.2.3 host CS selector 0");
	bad |= CC(v->host_tr_sel == 0, "27.2.3 host TR selector 0");
	bad |= CC(v->host_ss_sel == 0 && !host64, "27.2.3 host SS selector 0");
	bad |= CC(!canon48(cpu, v->host_fs_base), "27.2.3 host FS base");
	bad |= CC(!canon48(cpu, v->host_gs_base), "27.2.3 host GS base");
	bad |= CC(!canon48(cpu, v->host_gdtr_base), "27.2.3 host GDTR base");
	bad |= CC(!canon48(cpu, v->host_idtr_base), "27.2.3 host IDTR base");
	bad |= CC(!canon48(cpu, v->host_tr_base), "27.2.3 host TR base");
	/* §27.2.4 address-space size */
	if (!lma) {
		bad |= CC(host64, "27.2.4 host address-space size outside IA-32e mode");
		bad |= CC(v->entry_controls & ENTRYC_IA32E,
			  "27.2.4 IA-32e guest outside IA-32e mode");
	} else {
		bad |= CC(!host64, "27.2.4 host address-space size 0 in IA-32e mode");
	}
	if (host64) {
		bad |= CC(!(v->host_cr4 & CR4_PAE), "27.2.4 host CR4.PAE");
		bad |= CC(!canon48(cpu, v->host_rip), "27.2.4 host RIP canonical");
	} else {
		bad |= CC(v->host_cr4 & CR4_PCIDE, "27.2.4 host CR4.PCIDE");
		bad |= CC(v->host_rip >> 32, "27.2.4 host RIP bits 63:32");
	}
	return bad;
}

/* ---- §27.3.1 guest state ---- */

/* Limit / granularity consistency of a usable segment (§27.3.1.2). */
static inline bool g_ok(uint32_t limit, uint32_t ar)
{
	if ((limit & 0xfff) != 0xfff && (ar & SEG_ATTR_G))
		return false;
	if ((limit >> 20) && !(ar & SEG_ATTR_G))
		return false;
	return true;
}

static inline unsigned ar_dpl(uint32_t ar)
{
	return (ar >> 5) & 3;
}

static int check_guest_regs(const struct cpu *cpu, const struct vmx_caps *c, const struct vmcs *v)
{
	bool ia32e = v->entry_controls & ENTRYC_IA32E;
	bool ug = vmx_sec_ctls(v) & PROC2_UG;
	int bad = 0;
	/* §27.3.1.1 control registers, debug registers and MSRs */
	bad |= CC(!cr_fixed(v->guest_cr0, c, MSR_IA32_VMX_CR0_FIXED0, ug ? CR0_PE | CR0_PG : 0),
		  "27.3.1.1 guest CR0 fixed bits");
	bad |= CC((v->guest_cr0 & CR0_PG) && !(v->guest_cr0 & CR0_PE),
		  "27.3.1.1 CR0.PG without PE");
	bad |= CC(!cr_fixed(v->guest_cr4, c, MSR_IA32_VMX_CR4_FIXED0, 0),
		  "27.3.1.1 guest CR4 fixed bits");
	if (ia32e) {
		bad |= CC(!(v->guest_cr0 & CR0_PG), "27.3.1.1 IA-32e guest needs CR0.PG");
		bad |= CC(!(v->guest_cr4 & CR4_PAE), "27.3.1.1 IA-32e guest needs CR4.PAE");
	} else {
		bad |= CC(v->guest_cr4 & CR4_PCIDE, "27.3.1.1 CR4.PCIDE outside IA-32e mode");
	}
	bad |= CC(!paddr_ok(cpu, v->guest_cr3), "27.3.1.1 guest CR3");
	if (v->entry_controls & ENTRYC_LOAD_DEBUG) {
		bad |= CC(v->guest_dr7 >> 32, "27.3.1.1 guest DR7 bits 63:32");
		bad |= CC(v->guest_debugctl & ~0x1ull & ~0x2ull & ~(0x7fcull),
			  "27.3.1.1 guest IA32_DEBUGCTL reserved bits");
	}
	bad |= CC(!canon48(cpu, v->guest_sysenter_esp), "27.3.1.1 guest SYSENTER_ESP");
	bad |= CC(!canon48(cpu, v->guest_sysenter_eip), "27.3.1.1 guest SYSENTER_EIP");
	if (v->entry_controls & ENTRYC_LOAD_PAT)
		bad |= CC(!pat_ok(v->guest_pat), "27.3.1.1 guest IA32_PAT");
	if (v->entry_controls & ENTRYC_LOAD_EFER) {
		bad |= CC(efer_rsvd(cpu, v->guest_efer), "27.3.1.1 guest EFER reserved bits");
		bad |= CC(!!(v->guest_efer & EFER_LMA) != ia32e, "27.3.1.1 guest EFER.LMA");
		if (v->guest_cr0 & CR0_PG)
			bad |= CC(!!(v->guest_efer & EFER_LMA) != !!(v->guest_efer & EFER_LME),
				  "27.3.1.1 guest EFER.LME");
	}
	return bad;
}

static int check_guest_v86_seg(uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	int bad = 0;
	bad |= CC(base != (uint64_t)sel << 4, "27.3.1.2 virtual-8086 segment base");
	bad |= CC(limit != 0xffff, "27.3.1.2 virtual-8086 segment limit");
	bad |= CC(ar != 0xf3, "27.3.1.2 virtual-8086 segment access rights");
	return bad;
}

static int check_guest_segs(const struct cpu *cpu, const struct vmcs *v)
{
	bool ia32e = v->entry_controls & ENTRYC_IA32E;
	bool ug = vmx_sec_ctls(v) & PROC2_UG;
	bool v86 = v->guest_rflags & F_VM;
	int bad = 0;
	const uint32_t U = SEG_ATTR_UNUSABLE;

	bad |= CC(v->guest_tr_sel & 4, "27.3.1.2 TR.TI");
	if (!(v->guest_ldtr_ar & U))
		bad |= CC(v->guest_ldtr_sel & 4, "27.3.1.2 LDTR.TI");
	if (v86) {
		bad |= check_guest_v86_seg(v->guest_cs_sel, v->guest_cs_base, v->guest_cs_limit,
					   v->guest_cs_ar);
		bad |= check_guest_v86_seg(v->guest_ss_sel, v->guest_ss_base, v->guest_ss_limit,
					   v->guest_ss_ar);
		bad |= check_guest_v86_seg(v->guest_ds_sel, v->guest_ds_base, v->guest_ds_limit,
					   v->guest_ds_ar);
		bad |= check_guest_v86_seg(v->guest_es_sel, v->guest_es_base, v->guest_es_limit,
					   v->guest_es_ar);
		bad |= check_guest_v86_seg(v->guest_fs_sel, v->guest_fs_base, v->guest_fs_limit,
					   v->guest_fs_ar);
		bad |= check_guest_v86_seg(v->guest_gs_sel, v->guest_gs_base, v->guest_gs_limit,
					   v->guest_gs_ar);
	} else {
		if (!ug)
			bad |= CC((v->guest_ss_sel & 3) != (v->guest_cs_sel & 3),
				  "27.3.1.2 SS.RPL == CS.RPL");
		/* CS */
		uint32_t a = v->guest_cs_ar;
		unsigned t = a & 15;
		bad |= CC(!(t == 9 || t == 11 || t == 13 || t == 15 || (ug && t == 3)),
			  "27.3.1.2 CS type");
		bad |= CC(!(a & SEG_ATTR_S), "27.3.1.2 CS.S");
		bad |= CC(!(a & SEG_ATTR_P), "27.3.1.2 CS.P");
		bad |= CC(a & 0xfffe0f00u, "27.3.1.2 CS access-rights reserved bits");
		if (t == 9 || t == 11)
			bad |= CC(ar_dpl(a) != ar_dpl(v->guest_ss_ar), "27.3.1.2 CS.DPL == SS.DPL");
		if (t == 13 || t == 15)
			bad |= CC(ar_dpl(a) > ar_dpl(v->guest_ss_ar), "27.3.1.2 CS.DPL <= SS.DPL");
		if (t == 3)
			bad |= CC(ar_dpl(a) != 0, "27.3.1.2 CS.DPL 0 for type 3");
		bad |= CC(!g_ok(v->guest_cs_limit, a), "27.3.1.2 CS limit/G");
		if (ia32e && (a & SEG_ATTR_L))
			bad |= CC(a & SEG_ATTR_DB, "27.3.1.2 CS.L with CS.D");
		bad |= CC(a & U, "27.3.1.2 CS unusable");
		/* SS */
		a = v->guest_ss_ar;
		if (!(a & U)) {
			bad |= CC((a & 15) != 3 && (a & 15) != 7, "27.3.1.2 SS type");
			bad |= CC(!(a & SEG_ATTR_S), "27.3.1.2 SS.S");
			bad |= CC(!(a & SEG_ATTR_P), "27.3.1.2 SS.P");
			bad |= CC(a & 0xfffe0f00u, "27.3.1.2 SS access-rights reserved bits");
			bad |= CC(!g_ok(v->guest_ss_limit, a), "27.3.1.2 SS limit/G");
		}
		if (!ug)
			bad |= CC(ar_dpl(v->guest_ss_ar) != (v->guest_ss_sel & 3u),
				  "27.3.1.2 SS.DPL == SS.RPL");
		if (!(v->guest_cr0 & CR0_PE))
			bad |= CC(ar_dpl(v->guest_ss_ar) != 0, "27.3.1.2 SS.DPL 0 in real mode");
		/* DS ES FS GS */
		const struct {
			uint16_t sel;
			uint32_t limit, ar;
		} d[4] = { { v->guest_ds_sel, v->guest_ds_limit, v->guest_ds_ar },
			   { v->guest_es_sel, v->guest_es_limit, v->guest_es_ar },
			   { v->guest_fs_sel, v->guest_fs_limit, v->guest_fs_ar },
			   { v->guest_gs_sel, v->guest_gs_limit, v->guest_gs_ar } };
		for (int i = 0; i < 4; i++) {
			a = d[i].ar;
			if (a & U)
				continue;
			t = a & 15;
			bad |= CC(!(t & 1), "27.3.1.2 data segment accessed bit");
			bad |= CC((t & 8) && !(t & 2), "27.3.1.2 code segment readable");
			bad |= CC(!(a & SEG_ATTR_S), "27.3.1.2 data segment S");
			bad |= CC(!(a & SEG_ATTR_P), "27.3.1.2 data segment P");
			bad |= CC(a & 0xfffe0f00u, "27.3.1.2 data segment reserved bits");
			bad |= CC(!g_ok(d[i].limit, a), "27.3.1.2 data segment limit/G");
			if (!ug && t <= 11)
				bad |= CC(ar_dpl(a) < (d[i].sel & 3u),
					  "27.3.1.2 data segment DPL >= RPL");
		}
	}
	/* bases */
	bad |= CC(!canon48(cpu, v->guest_tr_base), "27.3.1.2 TR base");
	bad |= CC(!canon48(cpu, v->guest_fs_base), "27.3.1.2 FS base");
	bad |= CC(!canon48(cpu, v->guest_gs_base), "27.3.1.2 GS base");
	if (!(v->guest_ldtr_ar & U))
		bad |= CC(!canon48(cpu, v->guest_ldtr_base), "27.3.1.2 LDTR base");
	bad |= CC(v->guest_cs_base >> 32, "27.3.1.2 CS base bits 63:32");
	if (!(v->guest_ss_ar & U))
		bad |= CC(v->guest_ss_base >> 32, "27.3.1.2 SS base bits 63:32");
	if (!(v->guest_ds_ar & U))
		bad |= CC(v->guest_ds_base >> 32, "27.3.1.2 DS base bits 63:32");
	if (!(v->guest_es_ar & U))
		bad |= CC(v->guest_es_base >> 32, "27.3.1.2 ES base bits 63:32");
	/* TR */
	uint32_t a = v->guest_tr_ar;
	bad |= CC(!((a & 15) == 11 || (!ia32e && (a & 15) == 3)), "27.3.1.2 TR type");
	bad |= CC(a & SEG_ATTR_S, "27.3.1.2 TR.S");
	bad |= CC(!(a & SEG_ATTR_P), "27.3.1.2 TR.P");
	bad |= CC(a & 0xfffe0f00u, "27.3.1.2 TR reserved bits");
	bad |= CC(!g_ok(v->guest_tr_limit, a), "27.3.1.2 TR limit/G");
	bad |= CC(a & U, "27.3.1.2 TR unusable");
	/* LDTR */
	a = v->guest_ldtr_ar;
	if (!(a & U)) {
		bad |= CC((a & 15) != 2, "27.3.1.2 LDTR type");
		bad |= CC(a & SEG_ATTR_S, "27.3.1.2 LDTR.S");
		bad |= CC(!(a & SEG_ATTR_P), "27.3.1.2 LDTR.P");
		bad |= CC(a & 0xfffe0f00u, "27.3.1.2 LDTR reserved bits");
		bad |= CC(!g_ok(v->guest_ldtr_limit, a), "27.3.1.2 LDTR limit/G");
	}
	/* §27.3.1.3 descriptor-table registers */
	bad |= CC(!canon48(cpu, v->guest_gdtr_base), "27.3.1.3 GDTR base");
	bad |= CC(!canon48(cpu, v->guest_idtr_base), "27.3.1.3 IDTR base");
	bad |= CC(v->guest_gdtr_limit >> 16, "27.3.1.3 GDTR limit bits 31:16");
	bad |= CC(v->guest_idtr_limit >> 16, "27.3.1.3 IDTR limit bits 31:16");
	return bad;
}

/* §27.3.1.4 RIP and RFLAGS, §27.3.1.5 non-register state. */
static int check_guest_nonreg(const struct cpu *cpu, const struct vmx_caps *c, const struct vmcs *v)
{
	bool ia32e = v->entry_controls & ENTRYC_IA32E;
	bool cs_l = ia32e && (v->guest_cs_ar & SEG_ATTR_L);
	uint64_t fl = v->guest_rflags;
	uint32_t ii = v->entry_intr_info, is = v->guest_interruptibility;
	unsigned type = (ii >> 8) & 7, vec = ii & 0xff;
	bool inj = ii & INTR_INFO_VALID;
	int bad = 0;

	if (!cs_l)
		bad |= CC(v->guest_rip >> 32, "27.3.1.4 RIP bits 63:32");
	else
		bad |= CC(!canon48(cpu, v->guest_rip), "27.3.1.4 RIP canonical");
	bad |= CC(fl & ~0x3f7fd7ull, "27.3.1.4 RFLAGS reserved bits");
	bad |= CC(!(fl & F_FIXED1), "27.3.1.4 RFLAGS bit 1");
	if (ia32e || !(v->guest_cr0 & CR0_PE))
		bad |= CC(fl & F_VM, "27.3.1.4 RFLAGS.VM");
	if (inj && type == INTR_TYPE_EXTINT)
		bad |= CC(!(fl & F_IF), "27.3.1.4 RFLAGS.IF for external interrupt injection");

	/* activity state: active (0), HLT (1), shutdown (2) or wait-for-SIPI
	 * (3), as MISC advertises (bits 6-8) */
	uint32_t act = v->guest_activity_state;
	uint64_t misc = vmx_caps_get(c, MSR_IA32_VMX_MISC);
	bad |= CC(act > 3 || (act && !((misc >> (5 + act)) & 1)),
		  "27.3.1.5 activity state not supported");
	if (act == 1)
		bad |= CC(ar_dpl(v->guest_ss_ar) != 0, "27.3.1.5 HLT with SS.DPL != 0");
	if (act)
		bad |= CC(is & 3, "27.3.1.5 inactive with STI or MOV-SS blocking");
	if (act == 3)
		bad |= CC(inj, "27.3.1.5 event injection in the wait-for-SIPI state");
	/* In the shutdown state only an NMI or a machine check. */
	if (act == 2 && inj)
		bad |= CC(!(type == INTR_TYPE_NMI || (type == INTR_TYPE_HW_EXC && vec == EXC_MC)),
			  "27.3.1.5 event injection not allowed in the shutdown state");
	/* In the HLT state only events that wake it may be injected: external
	 * interrupts, NMIs, #DB, #MC and a pending MTF VM exit. */
	if (act == 1 && inj)
		bad |= CC(!(type == INTR_TYPE_EXTINT || type == INTR_TYPE_NMI ||
			    (type == INTR_TYPE_HW_EXC && (vec == EXC_DB || vec == EXC_MC)) ||
			    (type == INTR_TYPE_OTHER && vec == 0)),
			  "27.3.1.5 event injection not allowed in the HLT state");
	/* interruptibility state */
	bad |= CC(is & ~0x1fu, "27.3.1.5 interruptibility reserved bits");
	bad |= CC((is & 3) == 3, "27.3.1.5 STI and MOV-SS blocking");
	if (is & 1)
		bad |= CC(!(fl & F_IF), "27.3.1.5 STI blocking with IF = 0");
	bad |= CC(is & 4, "27.3.1.5 SMI blocking outside SMM");
	if (inj && type == INTR_TYPE_EXTINT)
		bad |= CC(is & 3, "27.3.1.5 external interrupt injection while blocked");
	if (inj && type == INTR_TYPE_NMI) {
		bad |= CC(is & 2, "27.3.1.5 NMI injection with MOV-SS blocking");
		bad |= CC((is & 8) && !(v->pin_controls & PIN_VNMI),
			  "27.3.1.5 NMI injection with NMI blocking");
	}
	/* pending debug exceptions: bits 3:0 B0-3, 12 enabled bp, 14 BS, 16 RTM */
	bad |= CC(v->guest_pending_dbg & ~0x1500full, "27.3.1.5 pending debug reserved bits");
	return bad;
}

int vmx_check_guest(const struct cpu *cpu, const struct vmx_caps *c, const struct vmcs *v)
{
	if (check_guest_regs(cpu, c, v) | check_guest_segs(cpu, v) | check_guest_nonreg(cpu, c, v))
		return 1; /* qualification 0 */
	/* VMCS link pointer (§27.3.1.5, qualification 4): all ones, or a
	 * page-aligned VMCS within the physical-address width, other than the
	 * current VMCS, whose revision is ours with the shadow-VMCS indicator
	 * equal to "VMCS shadowing". */
	uint64_t link = v->vmcs_link_ptr;
	if (link != ~0ull) {
		if (CC(!page_addr_ok(cpu, link), "27.3.1.5 VMCS link pointer address") ||
		    CC(cpu->vmx && link == vmx_st(cpu)->cur_ptr,
		       "27.3.1.5 VMCS link pointer is current VMCS"))
			return 4 + 1;
		uint32_t rev = (uint32_t)phys_read(cpu->mmu, link, 4);
		bool shadow = vmx_sec_ctls(v) & PROC2_SHADOW_VMCS;
		if (CC((rev & 0x7fffffffu) != VMX_REVISION_ID, "27.3.1.5 VMCS link revision") ||
		    CC(!!(rev >> 31) != shadow, "27.3.1.5 VMCS link shadow-VMCS indicator"))
			return 4 + 1;
	}
	/* PDPTEs with PAE paging outside IA-32e mode and EPT (§27.3.1.6):
	 * reserved bits in a present entry (qualification 2). Without EPT they
	 * are loaded from CR3 in the state load and checked there. */
	bool pae = (v->guest_cr0 & CR0_PG) && (v->guest_cr4 & CR4_PAE) &&
		   !(v->entry_controls & ENTRYC_IA32E);
	if (pae && (vmx_sec_ctls(v) & PROC2_EPT)) {
		for (int i = 0; i < 4; i++) {
			uint64_t e = v->guest_pdpte[i];
			uint64_t rsvd = 0x1e6ull | ~((1ull << cpu->model->phys_addr_bits) - 1);
			if ((e & 1) && CC(e & rsvd, "27.3.1.6 PDPTE reserved bits"))
				return 2 + 1;
		}
	}
	return 0;
}
