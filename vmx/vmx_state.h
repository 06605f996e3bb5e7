/*
 * vmx/vmx_state.h — the per-vCPU VMX state (cpu->vmx) and the capability
 * set, shared by the files of vmx/ (not by the rest of nestbox: that uses
 * vmx/vmx.h).
 *
 *   VMX operation   in_vmx (root: in_vmx && !cpu->guest_mode)
 *   VMXON pointer   vmxon_ptr (SDM Vol. 3C §24.11.5)
 *   current VMCS    cur_ptr (VMCS_PTR_INVALID when none) and its cached
 *                   copy cur, written back to guest memory by VMCLEAR or
 *                   when VMPTRLD makes another VMCS current (§25.11.1
 *                   allows the processor to keep VMCS data anywhere until
 *                   VMCLEAR; writing it back earlier is always permitted)
 */
#ifndef NESTBOX_VMX_VMX_STATE_H
#define NESTBOX_VMX_VMX_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/virt.h"
#include "devices/clock.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

#define VMCS_PTR_INVALID (~0ull)

/* Our VMCS revision identifier (IA32_VMX_BASIC[30:0]): any value with
 * bit 31 clear; "NBOX"-ish so a dump is recognisable. */
#define VMX_REVISION_ID 0x4e42u

#define VMX_NCAP (MSR_IA32_VMX_LAST - MSR_IA32_VMX_FIRST + 1)

/* Upper bound on the rows of the VMCS field table (checked by a test). */
#define VMCS_MAX_FIELDS 256

/* The capability MSR values of a vCPU (vmx/vmx_caps.c). present has bit
 * (idx - 480h) set for each MSR that exists; field_ok has bit i set when
 * row i of vmcs_fields[] exists with these capabilities (computed once, so
 * VMREAD/VMWRITE test one bit). */
struct vmx_caps {
	uint64_t msr[VMX_NCAP];
	uint32_t present;
	uint64_t field_ok[VMCS_MAX_FIELDS / 64];
};

/* VM-instruction error numbers (SDM Vol. 3C §31.4, Table 31-1). */
enum vmx_insn_error {
	VMXERR_VMCALL_IN_ROOT = 1,
	VMXERR_VMCLEAR_BAD_ADDR = 2,
	VMXERR_VMCLEAR_VMXON_PTR = 3,
	VMXERR_VMLAUNCH_NOT_CLEAR = 4,
	VMXERR_VMRESUME_NOT_LAUNCHED = 5,
	VMXERR_VMRESUME_AFTER_VMXOFF = 6,
	VMXERR_ENTRY_BAD_CONTROLS = 7,
	VMXERR_ENTRY_BAD_HOST_STATE = 8,
	VMXERR_VMPTRLD_BAD_ADDR = 9,
	VMXERR_VMPTRLD_VMXON_PTR = 10,
	VMXERR_VMPTRLD_BAD_REVISION = 11,
	VMXERR_UNSUPPORTED_FIELD = 12,
	VMXERR_VMWRITE_READONLY = 13,
	VMXERR_VMXON_IN_ROOT = 15,
	VMXERR_ENTRY_BAD_EXEC_VMCS = 16,
	VMXERR_ENTRY_EXEC_NOT_LAUNCHED = 17,
	VMXERR_ENTRY_EXEC_NOT_VMXON = 18,
	VMXERR_VMCALL_NOT_CLEAR = 19,
	VMXERR_VMCALL_BAD_EXIT_CONTROLS = 20,
	VMXERR_VMCALL_BAD_MSEG_REV = 22,
	VMXERR_VMXOFF_DUAL_MONITOR = 23,
	VMXERR_VMCALL_BAD_SMM_FEATURES = 24,
	VMXERR_ENTRY_BAD_EXEC_CONTROLS = 25,
	VMXERR_ENTRY_MOVSS_BLOCKING = 26,
	VMXERR_INVEPT_INVVPID_OPERAND = 28,
};

struct vmx_state {
	bool in_vmx;
	uint64_t vmxon_ptr;
	uint64_t cur_ptr;
	bool entry_warned;    /* "VM entry not implemented" logged once */
	struct vmx_caps caps; /* computed at allocation (the model is fixed) */
	struct vmcs cur;      /* cached copy of the current VMCS */
	/* --- non-root operation (vmx/vmx_entry.c, vmx/vmx_exit.c) --- */
	bool injecting;         /* delivering the VM-entry injected event: its
				   delivery is not subject to the exception bitmap */
	bool preempt_on;        /* VMX-preemption timer armed */
	uint64_t preempt_start; /* TSC >> rate at VM entry */
	uint64_t preempt_val;   /* timer value loaded at VM entry */
	/* The timer's deadline as a virtual-time timer (devices/clock.h), so
	 * that it fires while the guest is in the HLT state and the clock
	 * jumps; ptimer_ready once initialised. hlt_wake: the timer woke the
	 * guest from HLT or shutdown (the cpu->halted value), the exit it
	 * causes still saves that activity state. */
	struct vtimer ptimer;
	bool ptimer_ready;
	uint8_t hlt_wake;
	/* EPT violation details kept by vmx/ept.c for the exit */
	uint64_t ept_qual;
	/* Monitor trap flag: the position at the last check; an instruction
	 * retired (or an event was delivered) when it changed. mtf_force: a
	 * "pending MTF VM exit" was injected (type 7). */
	uint64_t mtf_icount, mtf_rip;
	bool mtf_force;
	/* APIC virtualization (vmx/vmx_apic.c): pending APIC-write emulation
	 * (offset, or APIC_WRITE_TPR_ONLY | 80H for TPR virtualization alone),
	 * 0 when none. */
	unsigned apic_write;
	/* A #DB from the pending debug exceptions of a VM entry is being
	 * delivered: an exit for it restores DR6 and reports these bits. */
	bool db_entry;
	uint64_t db_entry_dr6, db_entry_qual;
	/* B3:B0 pending at VM entry under MOV-SS blocking, handed to the
	 * core's deferred debug traps at the first instruction boundary. */
	uint8_t movss_dbg;
	/* Pending debug exceptions the next VM exit saves (a #DB trap held
	 * back by an MTF exit). */
	uint64_t exit_pending_dbg;
	/* PAUSE-loop exiting (§26.1.3): TSC of the last PAUSE at CPL 0 and of
	 * the first PAUSE of the current loop; ple_valid is false until the
	 * first PAUSE at CPL 0 after VM entry. */
	bool ple_valid;
	uint64_t ple_last, ple_first;
};
#define APIC_WRITE_TPR_ONLY 0x1000u

/* ---- control bits (SDM Vol. 3C §25.6-25.8) ---- */
#define PIN_EXTINT  (1u << 0)
#define PIN_NMI     (1u << 3)
#define PIN_VNMI    (1u << 5)
#define PIN_PREEMPT (1u << 6)
#define PIN_POSTED  (1u << 7)

#define PROC_INTR_WINDOW (1u << 2)
#define PROC_TSC_OFFSET  (1u << 3)
#define PROC_HLT         (1u << 7)
#define PROC_INVLPG      (1u << 9)
#define PROC_MWAIT       (1u << 10)
#define PROC_RDPMC       (1u << 11)
#define PROC_RDTSC       (1u << 12)
#define PROC_CR3_LOAD    (1u << 15)
#define PROC_CR3_STORE   (1u << 16)
#define PROC_CR8_LOAD    (1u << 19)
#define PROC_CR8_STORE   (1u << 20)
#define PROC_TPR_SHADOW  (1u << 21)
#define PROC_NMI_WINDOW  (1u << 22)
#define PROC_MOV_DR      (1u << 23)
#define PROC_UNCOND_IO   (1u << 24)
#define PROC_IO_BITMAPS  (1u << 25)
#define PROC_MTF         (1u << 27)
#define PROC_MSR_BITMAPS (1u << 28)
#define PROC_MONITOR     (1u << 29)
#define PROC_PAUSE       (1u << 30)
#define PROC_SECONDARY   (1u << 31)

#define PROC2_APIC_ACCESS (1u << 0)
#define PROC2_EPT         (1u << 1)
#define PROC2_DESC        (1u << 2)
#define PROC2_RDTSCP      (1u << 3)
#define PROC2_X2APIC      (1u << 4)
#define PROC2_VPID        (1u << 5)
#define PROC2_WBINVD      (1u << 6)
#define PROC2_UG          (1u << 7)
#define PROC2_APIC_REG    (1u << 8)
#define PROC2_VID         (1u << 9)
#define PROC2_RDRAND      (1u << 11)
#define PROC2_INVPCID     (1u << 12)
#define PROC2_SHADOW_VMCS (1u << 14)
#define PROC2_PLE         (1u << 10)
#define PROC2_VMFUNC      (1u << 13)
#define PROC2_RDSEED      (1u << 16)
#define PROC2_PML         (1u << 17)
#define PROC2_EPT_VE      (1u << 18)
#define PROC2_TSC_SCALING (1u << 25)

/* The secondary processor-based controls in effect: 0 unless "activate
 * secondary controls" is set (SDM Vol. 3C §25.6.2). */
static inline uint32_t vmx_sec_ctls(const struct vmcs *v)
{
	return (v->proc_controls & PROC_SECONDARY) ? v->proc_controls2 : 0;
}

/* VM-function controls (§25.6.14) and the PML log (§29.3.6). */
#define VMFUNC_EPTP_SWITCH 1ull
#define PML_ENTRIES        512u
#define EPTP_LIST_ENTRIES  512u

#define EXITC_SAVE_DEBUG   (1u << 2)
#define EXITC_HOST64       (1u << 9)
#define EXITC_ACK_INTR     (1u << 15)
#define EXITC_SAVE_PAT     (1u << 18)
#define EXITC_LOAD_PAT     (1u << 19)
#define EXITC_SAVE_EFER    (1u << 20)
#define EXITC_LOAD_EFER    (1u << 21)
#define EXITC_SAVE_PREEMPT (1u << 22)

#define ENTRYC_LOAD_DEBUG (1u << 2)
#define ENTRYC_IA32E      (1u << 9)
#define ENTRYC_SMM        (1u << 10)
#define ENTRYC_DUAL       (1u << 11)
#define ENTRYC_LOAD_PAT   (1u << 14)
#define ENTRYC_LOAD_EFER  (1u << 15)

/* Interruption-information format (§25.8.3, §26.9.2): vector 7:0, type
 * 10:8, error code valid 11, NMI unblocking due to IRET 12, valid 31. */
#define INTR_INFO_VALID   (1u << 31)
#define INTR_INFO_ERRCODE (1u << 11)
enum {
	INTR_TYPE_EXTINT = 0,
	INTR_TYPE_NMI = 2,
	INTR_TYPE_HW_EXC = 3,
	INTR_TYPE_SOFT_INT = 4,
	INTR_TYPE_PRIV_SW_EXC = 5,
	INTR_TYPE_SOFT_EXC = 6,
	INTR_TYPE_OTHER = 7
};

/* VMX-preemption timer rate X (IA32_VMX_MISC[4:0]): the timer counts down
 * each time bit X of the TSC changes (SDM Vol. 3C §26.5.1). 0: every TSC
 * cycle, so even a guest that runs a few instructions sees it move. */
#define VMX_PREEMPT_RATE 0u

/* MSR lists: IA32_VMX_MISC[27:25] = 0 recommends at most 512 entries;
 * longer lists fail (entry: reason 34 at entry 513; exit: VMX abort),
 * so a guest cannot make one entry loop for billions of entries. */
#define VMX_MSR_LIST_MAX 512u

/* Basic exit reasons (Appendix C). */
enum vmx_exit_reason {
	EXIT_REASON_EXCEPTION_NMI = 0,
	EXIT_REASON_EXTINT = 1,
	EXIT_REASON_TRIPLE_FAULT = 2,
	EXIT_REASON_INIT = 3,
	EXIT_REASON_SIPI = 4,
	EXIT_REASON_INTR_WINDOW = 7,
	EXIT_REASON_NMI_WINDOW = 8,
	EXIT_REASON_TASK_SWITCH = 9,
	EXIT_REASON_CPUID = 10,
	EXIT_REASON_GETSEC = 11,
	EXIT_REASON_HLT = 12,
	EXIT_REASON_INVD = 13,
	EXIT_REASON_INVLPG = 14,
	EXIT_REASON_RDPMC = 15,
	EXIT_REASON_RDTSC = 16,
	EXIT_REASON_RSM = 17,
	EXIT_REASON_VMCALL = 18,
	EXIT_REASON_CR = 28,
	EXIT_REASON_DR = 29,
	EXIT_REASON_IO = 30,
	EXIT_REASON_RDMSR = 31,
	EXIT_REASON_WRMSR = 32,
	EXIT_REASON_BAD_GUEST = 33,
	EXIT_REASON_BAD_MSR_LOAD = 34,
	EXIT_REASON_MWAIT = 36,
	EXIT_REASON_MTF = 37,
	EXIT_REASON_MONITOR = 39,
	EXIT_REASON_PAUSE = 40,
	EXIT_REASON_MCE_ENTRY = 41,
	EXIT_REASON_TPR = 43,
	EXIT_REASON_APIC_ACCESS = 44,
	EXIT_REASON_VIRT_EOI = 45,
	EXIT_REASON_GDTR_IDTR = 46,
	EXIT_REASON_LDTR_TR = 47,
	EXIT_REASON_EPT_VIOLATION = 48,
	EXIT_REASON_EPT_MISCONFIG = 49,
	EXIT_REASON_INVEPT = 50,
	EXIT_REASON_RDTSCP = 51,
	EXIT_REASON_PREEMPT = 52,
	EXIT_REASON_INVVPID = 53,
	EXIT_REASON_WBINVD = 54,
	EXIT_REASON_XSETBV = 55,
	EXIT_REASON_APIC_WRITE = 56,
	EXIT_REASON_INVPCID = 58,
	EXIT_REASON_RDRAND = 57,
	EXIT_REASON_VMFUNC = 59,
	EXIT_REASON_RDSEED = 61,
	EXIT_REASON_PML_FULL = 62
};
#define EXIT_REASON_ENTRY_FAIL (1u << 31)

/* ---- vmx/vmx_entry_checks.c (SDM Vol. 3C §27.2-27.4) ---- */

/* Each returns 0 when the group passes; a failure logs the failing
 * expression and the section. Guest-state checks return the exit
 * qualification + 1 of the failure (so 1 = qualification 0). */
int vmx_check_controls(const struct cpu *cpu, const struct vmx_caps *c, const struct vmcs *v);
int vmx_check_host(const struct cpu *cpu, const struct vmx_caps *c, const struct vmcs *v);
int vmx_check_guest(const struct cpu *cpu, const struct vmx_caps *c, const struct vmcs *v);

/* ---- vmx/vmx_entry.c ---- */

/* VMLAUNCH / VMRESUME after the launch-state checks: returns the
 * VM-instruction error of a VMfailValid, or enters the guest (or takes a
 * VM-entry failure exit) and does not return. */
enum vmx_insn_error vmx_vmentry(struct cpu *cpu, struct vmx_state *s, bool launch);

/* ---- vmx/vmx_exit.c ---- */

extern const struct virt_ops vmx_virt_ops, vmx_virt_ops_ept;
/* Perform a VM exit with this reason (bit 31 may be set for entry
 * failures) and qualification; never returns. guest_rip is what the
 * guest-state area's RIP gets. */
_Noreturn void vmx_vmexit(struct cpu *cpu, uint32_t reason, uint64_t qual, uint64_t guest_rip);
/* Load the host state and leave guest mode (also used by the VM-entry
 * failure path, which saves no guest state). */
void vmx_load_host(struct cpu *cpu, struct vmx_state *s);
/* Compile the controls into cpu->icpt bits. */
uint64_t vmx_compile_icpt(const struct vmcs *v);
/* The TSC value the timer counts in (shifted by the MISC rate). */
uint64_t vmx_preempt_now(const struct cpu *cpu);
/* Arm (at VM entry) / cancel (VM exit, reset) the preemption timer's
 * virtual-time deadline. */
void vmx_preempt_arm(struct cpu *cpu, struct vmx_state *s);
void vmx_preempt_cancel(struct cpu *cpu, struct vmx_state *s);

/* ---- vmx/vmx_apic.c (SDM Vol. 3C ch. 30) ---- */

/* After the guest state is loaded: TPR threshold / virtual interrupts. */
void vmx_apic_entry(struct cpu *cpu, struct vmx_state *s);
/* The queued trap-like work of the previous instruction (s->apic_write
 * taken out): APIC-write emulation or TPR virtualization; may exit. */
void vmx_apic_write_done(struct cpu *cpu, struct vmx_state *s, unsigned w);
/* Virtual-interrupt delivery at an instruction boundary. True while a
 * recognized virtual interrupt waits (PEND_VIRT must stay set). */
bool vmx_apic_pending(struct cpu *cpu, struct vmx_state *s);
/* MOV from / to CR8 with "use TPR shadow" (no CR8 exiting). A write
 * completes the instruction itself (cpu_unwind). */
void vmx_apic_cr8(struct cpu *cpu, struct icpt_info *info, bool write);
/* RDMSR / WRMSR of 800H-8FFH that the MSR bitmap lets through: completes
 * a virtualized access (cpu_unwind) or returns (normal access). */
void vmx_apic_msr(struct cpu *cpu, bool write, struct icpt_info *info);
/* virt_ops.apic_page / apic_access (cpu/virt.h). */
bool vmx_apic_page(struct cpu *cpu, uint64_t pa, int kind);
uint64_t vmx_apic_access(struct cpu *cpu, uint64_t pa, unsigned size, bool write, uint64_t val);
/* An acknowledged external interrupt: the posted-interrupt notification
 * (processed, true) or not (false). */
bool vmx_apic_posted(struct cpu *cpu, unsigned vec);

/* ---- vmx/ept.c ---- */

int vmx_ept_xlate(void *opaque, uint64_t gpa, uint64_t lin, bool is_walk, unsigned walk_acc,
		  uint64_t *hpa);
/* EPTP checks of VM entry (§27.2.1.1), shared with INVEPT and VMFUNC. */
bool vmx_eptp_valid(const struct cpu *cpu, const struct vmx_caps *c, uint64_t eptp);

static inline struct vmx_state *vmx_st(const struct cpu *cpu)
{
	return (struct vmx_state *)cpu->vmx;
}

/* ---- vmx/vmx_caps.c ---- */

/* Compute the capability MSRs of this vCPU's model. */
void vmx_caps_compute(const struct cpu *cpu, struct vmx_caps *out);
/* Is the capability a field depends on reported (enum vmx_need)? */
bool vmx_caps_need(const struct vmx_caps *c, unsigned need);

/* Allowed-1 settings (high half) of a control MSR, 0 if absent. */
static inline uint32_t vmx_caps_allowed1(const struct vmx_caps *c, uint32_t msr)
{
	unsigned i = msr - MSR_IA32_VMX_FIRST;
	return (c->present >> i) & 1 ? (uint32_t)(c->msr[i] >> 32) : 0;
}
static inline uint64_t vmx_caps_get(const struct vmx_caps *c, uint32_t msr)
{
	unsigned i = msr - MSR_IA32_VMX_FIRST;
	return (c->present >> i) & 1 ? c->msr[i] : 0;
}

/* The caps of a vCPU: the cached copy in VMX operation, else computed into
 * *tmp. */
const struct vmx_caps *vmx_caps_of(const struct cpu *cpu, struct vmx_caps *tmp);

#endif
