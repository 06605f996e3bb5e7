/*
 * svm/npt.c — nested paging (AMD APM Vol. 2 §15.25): the second stage of
 * an SVM guest with NP_ENABLE, installed as virt->stage2 (cpu/virt.h).
 *
 * The nested page tables have the host's format, fixed at VMRUN (the
 * host's CR0/CR4/EFER paging mode, §15.25.3) with N_CR3 as the root, so
 * the walk is mmu_walk over host-physical memory. Every nested access is a
 * user access (§15.25.5); accesses to the guest's own page tables count
 * as user writes (so the nested tables' D bits and R/W rights apply to
 * them, as KVM's nested MMU also models it).
 *
 * A failed translation is #VMEXIT(NPF, 400h) (§15.25.6):
 *   EXITINFO1  the #PF-style error code (P, RW, US=1, RSVD, ID) of the
 *              nested walk | bit 32 when translating the final guest-
 *              physical address | bit 33 when translating a guest page-
 *              table access
 *   EXITINFO2  the faulting guest-physical address
 * The exit is performed here (svm_vmexit unwinds): the caller never sees
 * a nonzero return.
 */
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "mmu/walk.h"
#include "svm/svm_state.h"

int svm_npt_xlate(void *opaque, uint64_t gpa, uint64_t lin, bool is_walk, unsigned walk_acc,
		  uint64_t *hpa)
{
	struct cpu *cpu = opaque;
	struct svm_state *st = svm_st(cpu);
	struct walk_result r;
	unsigned acc = WALK_USER | (is_walk ? WALK_WRITE : (walk_acc & (WALK_WRITE | WALK_FETCH)));
	(void)lin;

	if (mmu_walk(cpu->mmu, &st->npt_regs, gpa, acc, NULL, &r) == WALK_OK) {
		*hpa = r.gpa;
		return 0;
	}
	uint64_t info1 = (r.pfec & 0xffffffffull) | (is_walk ? NPF_WALK : NPF_FINAL);
	/* An NPF while an event is being delivered reports it in EXITINTINFO
	 * (svm_exit.c; the host then re-injects it). Decode assists: the
	 * bytes of the instruction at the guest's RIP. */
	if (model_has(cpu->model, FEAT_DECODEASSISTS))
		svm_fetch_insn_bytes(cpu, cpu->ip_start, &st->vmcb.c);
	svm_vmexit(cpu, SVM_EXIT_NPF, info1, gpa);
}
