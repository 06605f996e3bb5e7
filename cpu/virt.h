/*
 * cpu/virt.h — the one mechanism VMX (vmx/) and SVM (svm/) share to take
 * control of a vCPU running a guest (design brief §4).
 *
 * While a vCPU is in VMX non-root operation or in an SVM guest
 * (cpu->guest_mode), cpu->virt points at the architecture's operations and
 * cpu->icpt holds one bit per intercept reason that the current controls
 * (compiled at VM entry / VMRUN) may turn into an exit. The interpreter asks
 * in exactly these places, never elsewhere:
 *
 *   instruction handlers of exiting classes   VIRT_ICPT(cpu, reason, &info)
 *   event delivery (cpu_deliver_event)        ICPT_EXCEPTION / EXTINT / NMI ...
 *   the execution loop's pending work         windows, preemption timer
 *   the access layer's page walk              virt->stage2 (EPT / NPT)
 *
 * The check order inside a handler follows the SDM: #UD and mode checks,
 * then CPL/IOPL #GP, then the intercept, then memory operands and faults.
 * virt->intercept decides with the architecture's bitmaps and masks; it
 * either returns (the instruction goes on; it may have adjusted info, e.g.
 * a CR read shadow) or performs the VM exit and leaves the instruction
 * through cpu_unwind(), like a fault but with nothing to deliver.
 *
 * An intercept reason is never 0-valued by accident: 0 is ICPT_NONE (a
 * lesson from QEMU, where SVM exit code 0 is a real exit, READ_CR0).
 */
#ifndef NESTBOX_CPU_VIRT_H
#define NESTBOX_CPU_VIRT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

enum icpt_reason {
	ICPT_NONE = 0,
	/* instructions */
	ICPT_CPUID,
	ICPT_HLT,
	ICPT_INVD,
	ICPT_INVLPG,
	ICPT_INVPCID,
	ICPT_RDPMC,
	ICPT_RDTSC,
	ICPT_RDTSCP,
	ICPT_RSM,
	ICPT_VMCALL,
	ICPT_VMX_INSN,
	ICPT_SVM_INSN,
	ICPT_CR_READ,
	ICPT_CR_WRITE,
	ICPT_CLTS,
	ICPT_LMSW,
	ICPT_DR,
	ICPT_IO,
	ICPT_RDMSR,
	ICPT_WRMSR,
	ICPT_MWAIT,
	ICPT_MONITOR,
	ICPT_PAUSE,
	ICPT_WBINVD,
	ICPT_XSETBV,
	ICPT_RDRAND,
	ICPT_RDSEED,
	ICPT_DESC,
	ICPT_PUSHF,
	ICPT_POPF,
	ICPT_IRET,
	ICPT_INTN,
	ICPT_TASK_SWITCH,
	ICPT_GETSEC,
	ICPT_XSAVES,
	ICPT_RDPID,
	/* events */
	ICPT_EXCEPTION,
	ICPT_EXTINT,
	ICPT_NMI,
	ICPT_INIT,
	ICPT_SIPI,
	ICPT_SMI,
	ICPT_INTR_WINDOW,
	ICPT_NMI_WINDOW,
	ICPT_TRIPLE_FAULT,
	ICPT_PREEMPT_TIMER,
	ICPT_DB_TRAP,     /* a #DB trap after an instruction (single-step, data
			     breakpoints): index = its DR6 bits, before DR6 is written */
	ICPT_FERR_FREEZE, /* a waiting x87/MMX instruction would freeze on a pending
			     error with CR0.NE = 0 and IGNNE# inactive (SVM only) */
	ICPT_COUNT
};
#define ICPT_BIT(r) (1ull << (r))

/* What the intercept needs to know (fields used per reason). */
struct icpt_info {
	const struct insn *insn; /* the instruction (instruction reasons) */
	uint64_t value;          /* CR/DR/MSR value written, or read result to adjust;
				    task switch: enum task_reason (cpu/seg.h);
				    MWAIT: the monitor is armed */
	uint32_t index;          /* CR/DR number, MSR index, I/O port, INT vector,
				    exception vector, VMX/SVM instruction opcode */
	uint32_t errcode;        /* exception error code (or NO_ERRCODE); task
				    switch: error code of the event through a gate */
	uint8_t reg;             /* general register operand (MOV CR/DR) */
	uint8_t size;            /* I/O size */
	bool in, string, rep;    /* I/O direction and kind */
	uint64_t lin;            /* linear address (INVLPG, descriptor tables) */
	int event_kind;          /* enum event_kind for event reasons */
};

struct virt_ops {
	/* Decide an intercept; perform the exit (never returns) or return. */
	void (*intercept)(struct cpu *cpu, enum icpt_reason r, struct icpt_info *info);
	/* Second-stage translation (EPT / NPT) for the page walker and for
	 * paging-off guest-physical accesses; NULL when not enabled. Same
	 * contract as struct stage2 in mmu/walk.h. */
	int (*stage2)(void *opaque, uint64_t gpa, uint64_t lin, bool is_walk, unsigned walk_acc,
		      uint64_t *hpa);
	/* Pending work of the guest mode (interrupt/NMI windows, preemption
	 * timer, virtual interrupts), called by the loop at block boundaries
	 * while cpu->pending has PEND_VIRT. */
	void (*pending)(struct cpu *cpu);
	/* VMX APIC-access page (SDM Vol. 3C §30.4); NULL when not used. Is
	 * the (host-)physical address pa of an access of kind ACC_* on it?
	 * Then the access layer caches no translation for the page and sends
	 * every access to apic_access, which returns the value read or
	 * performs the exit (an instruction fetch exits in apic_page). */
	bool (*apic_page)(struct cpu *cpu, uint64_t pa, int kind);
	uint64_t (*apic_access)(struct cpu *cpu, uint64_t pa, unsigned size, bool write,
				uint64_t val);
	/* While cpu->icpt has ICPT_EXTINT: would a pending external
	 * interrupt be taken or exit now, as far as the interrupt flags go
	 * (SVM: GIF, and V_INTR_MASKING makes the host's IF the mask)? The
	 * machine asks it to wake a halted vCPU. NULL: RFLAGS.IF. */
	bool (*extint_open)(const struct cpu *cpu);
	/* CR4 bits this guest mode may not set although the model has them:
	 * an SVM guest has no VMX (CR4.VMXE), even on a model given both. */
	uint64_t cr4_deny;
};

/* The interrupt-flag test for external interrupts: RFLAGS.IF unless
 * a guest's controls say otherwise (virt_ops.extint_open). */
static inline bool cpu_extint_open(const struct cpu *cpu)
{
	if (__builtin_expect(!(cpu->icpt & ICPT_BIT(ICPT_EXTINT)), 1) || !cpu->virt->extint_open)
		return (cpu->rflags & F_IF) != 0;
	return cpu->virt->extint_open(cpu);
}

/* The check every exiting instruction class makes (one AND when no
 * guest runs). */
#define VIRT_ICPT(cpu, reason, info)                                            \
	do {                                                                    \
		if (__builtin_expect(((cpu)->icpt & ICPT_BIT(reason)) != 0, 0)) \
			(cpu)->virt->intercept((cpu), (reason), (info));        \
	} while (0)

/* Abandon the current instruction after a VM exit (or VMRUN / VM entry)
 * replaced the vCPU's state: back to the execution loop, nothing delivered,
 * RIP as the new state says. Never returns. */
_Noreturn void cpu_unwind(struct cpu *cpu);

#endif
