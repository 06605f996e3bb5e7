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
#include "cpu/cpuid.h"
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
	bool host_tf;                /* host RFLAGS.TF: #DB trap after #VMEXIT */
	/* LBR virtualization (VIRT_EXT bit 0, §15.23): the guest has its own
	 * DEBUGCTL and branch records; the host's wait here. */
	bool lbrv;
	uint64_t host_lbr[5]; /* DEBUGCTL, LBR from/to, last exception from/to */
	/* The injected event (EVENTINJ, EXITINTINFO format) while VMRUN
	 * delivers it, else 0: an exit during its delivery reports it. Other
	 * events in delivery come from cpu->event (svm_exit.c). */
	uint64_t cur_event;
	/* The exit is the intercept of the event in delivery itself
	 * (exception, interrupt, NMI, INTn): EXITINTINFO is the event that
	 * event interrupted (cpu->event_prev), not the event. */
	bool event_exit;
	/* Pause filter (§15.14.4): PAUSEs left before the intercept fires,
	 * and when the last PAUSE ran (svm_ops.c pause_cycles). */
	uint16_t pause_left;
	uint64_t pause_last;
	bool warned_invalid; /* VMEXIT_INVALID reason logged once */
	/* VMCB clean bits (§15.15): st->vmcb as the last #VMEXIT wrote it to
	 * cache_pa is the cached state a later VMRUN of the same VMCB may use
	 * for the groups marked clean. */
	bool cache_valid;
	uint64_t cache_pa;
	/* VMSAVE/VMLOAD virtualization (VIRT_EXT bit 1, §15.33.1): the guest's
	 * VMLOAD/VMSAVE address is guest-physical (translated by the NPT). */
	bool vls;
	uint64_t host_pat; /* the host's PAT while a nested-paging guest has G_PAT */
	/* Virtual NMI (int_ctl V_NMI_ENABLE, §15.21.5): the guest's NMI
	 * blocking is V_NMI_MASK; the host's waits here. */
	bool vnmi;
	bool vnmi_delivery; /* the NMI being delivered is the virtual one */
	bool host_nmi_blocked;
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

/* vGIF (int_ctl V_GIF_ENABLE, §15.33.2) on: the guest's STGI/CLGI set and
 * clear V_GIF, which masks its virtual interrupts. */
static inline bool svm_vgif(const struct cpu *cpu)
{
	const struct svm_state *st = svm_st(cpu);
	return cpu->guest_mode && (st->vmcb.c.int_ctl & INTCTL_VGIF_ENABLE) &&
	       model_has(cpu->model, FEAT_VGIF);
}

/* svm_run.c / svm_exit.c: the LBR state (DEBUGCTL and MSRs 1DBh-1DEh) to
 * and from a VMCB save area, or the host copy. */
void svm_lbr_get(const struct cpu *cpu, uint64_t r[5]);
void svm_lbr_set(struct cpu *cpu, const uint64_t r[5]);

/* svm_exit.c: the single-step #DB trap the host takes after a VMRUN run
 * with RFLAGS.TF (at #VMEXIT or VMEXIT_INVALID). */
void svm_single_step_trap(struct cpu *cpu);

/* svm_assist.c: decode assists (§15.33): the guest instruction bytes at
 * CS:ip into the VMCB (INSN_LEN, INSN_BYTES) for #PF and NPF exits, read
 * through the guest's paging and the NPT without faulting. */
void svm_fetch_insn_bytes(struct cpu *cpu, uint64_t ip, struct vmcb_control *c);

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
