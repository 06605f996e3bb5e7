/*
 * svm/svm_state.h — the per-vCPU SVM state (cpu->svm) and the functions the
 * files of svm/ share (not the rest of nestbox: that uses svm/svm.h).
 *
 *   svm_insn.c  the instructions, state life cycle, VMLOAD/VMSAVE
 *   svm_run.c   VMRUN: checks, host save area, guest state load, EVENTINJ
 *   svm_exit.c  #VMEXIT: guest state to the VMCB, host state back
 *   svm_ops.c   struct virt_ops: intercept decisions, virtual interrupts
 *   npt.c       nested paging (virt->stage2)
 */
#ifndef NESTBOX_SVM_SVM_STATE_H
#define NESTBOX_SVM_SVM_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/virt.h"
#include "mmu/walk.h"
#include "svm/svm.h"
#include "svm/vmcb.h"

struct svm_state {
	bool gif;
	/* --- valid while cpu->guest_mode (between VMRUN and #VMEXIT) --- */
	uint64_t vmcb_pa;            /* rAX of the VMRUN */
	struct vmcb vmcb;            /* the guest's VMCB as read by VMRUN */
	bool npt;                    /* nested paging on */
	struct paging_regs npt_regs; /* host paging format, cr3 = N_CR3 */
	bool host_if;                /* host RFLAGS.IF (V_INTR_MASKING) */
	/* Event being delivered on the guest's behalf (EXITINTINFO format,
	 * 0 = none): an injected event or an exception in delivery. */
	uint64_t cur_event;
	bool warned_invalid; /* VMEXIT_INVALID reason logged once */
};

static inline struct svm_state *svm_st(const struct cpu *cpu)
{
	return (struct svm_state *)cpu->svm;
}

/* cpu->svm, allocated on first use (NULL only on allocation failure, after
 * a message). */
struct svm_state *svm_state_get(struct cpu *cpu);

/* svm_run.c: the VMRUN instruction after its #UD/#GP/intercept checks;
 * never returns (the guest starts, or VMEXIT_INVALID). */
_Noreturn void svm_vmrun(struct cpu *cpu, uint64_t vmcb_pa);

/* svm_exit.c: #VMEXIT with the given code and information, then leave the
 * current instruction (cpu_unwind). The guest's RIP is cpu->ip_start (the
 * intercepted instruction or the interrupted one), nRIP is cpu->rip. */
_Noreturn void svm_vmexit(struct cpu *cpu, uint64_t code, uint64_t info1, uint64_t info2);

/* svm_ops.c: the SVM operations, and the icpt bits a VMCB's intercept
 * vectors ask for. */
extern const struct virt_ops svm_virt_ops, svm_virt_ops_npt;
uint64_t svm_icpt_bits(const struct vmcb_control *c);

/* npt.c: the virt->stage2 of an SVM guest with NP_ENABLE. */
int svm_npt_xlate(void *opaque, uint64_t gpa, uint64_t lin, bool is_walk, unsigned walk_acc,
		  uint64_t *hpa);

/* svm_insn.c: segment register <-> VMCB segment. */
void svm_seg_to_vmcb(const struct seg *s, struct vmcb_seg *v);
void svm_seg_from_vmcb(const struct vmcb_seg *v, struct seg *s, bool is_cs);

#endif
