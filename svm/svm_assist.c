/*
 * svm/svm_assist.c — decode assists (AMD APM Vol. 2 §15.33): on a #PF
 * intercept or a nested page fault the processor stores in the VMCB the
 * instruction bytes at the guest's CS:RIP (INSN_LEN at 0D0h, up to 15
 * bytes at 0D1h), so the hypervisor need not walk the guest's page tables
 * to emulate the instruction. The other decode assists (EXITINFO1 of
 * MOV CRx/DRx, INTn, INVLPG/INVLPGA) are formed where the intercepts are
 * decided (svm_ops.c).
 *
 * The bytes are read like an instruction fetch (guest paging, then the
 * NPT), but without faulting and without setting A/D bits: the fetch
 * stops at the first byte that does not translate, or at the CS limit
 * outside 64-bit mode, and INSN_LEN says how many it got (0 when the
 * fault was on the fetch itself).
 */
#include <string.h>

#include "cpu/cpu.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "svm/svm_state.h"

/* The NPT as a stage 2 that refuses instead of exiting. */
static int npt_probe(void *opaque, uint64_t gpa, uint64_t lin, bool is_walk, unsigned walk_acc,
		     uint64_t *hpa)
{
	struct cpu *cpu = opaque;
	struct walk_result r;
	(void)lin;
	(void)is_walk;
	(void)walk_acc;
	if (mmu_walk(cpu->mmu, &svm_st(cpu)->npt_regs, gpa, WALK_USER | WALK_NO_AD, NULL, &r) !=
	    WALK_OK)
		return 1;
	*hpa = r.gpa;
	return 0;
}

/* Host-physical address of the code byte at linear address lin, or false. */
static bool code_hpa(struct cpu *cpu, uint64_t lin, uint64_t *hpa)
{
	struct svm_state *st = svm_st(cpu);
	struct paging_regs pr = { .cr0 = cpu->cr0,
				  .cr3 = cpu->cr3,
				  .cr4 = cpu->cr4,
				  .efer = cpu->msr.efer,
				  .pdpte_valid = cpu->pdpte_valid,
				  .pkru = cpu->pkru,
				  .pkrs = (uint32_t)cpu->msr.pkrs,
				  .amd = true };
	memcpy(pr.pdpte, cpu->pdpte, sizeof(pr.pdpte));
	struct stage2 s2 = { npt_probe, cpu };
	struct walk_result r;
	unsigned acc = WALK_FETCH | WALK_NO_AD | (cpu->cpl == 3 ? WALK_USER : 0);
	if (mmu_walk(cpu->mmu, &pr, lin, acc, st->npt ? &s2 : NULL, &r) != WALK_OK)
		return false;
	*hpa = r.hpa;
	return true;
}

void svm_fetch_insn_bytes(struct cpu *cpu, uint64_t ip, struct vmcb_control *c)
{
	unsigned n = 15;
	const struct seg *cs = &cpu->seg[S_CS];
	bool mode64 = cpu->mode == MODE_LONG64;

	if (!mode64) {
		ip &= 0xffffffffull;
		if (ip > cs->limit)
			n = 0;
		else if (cs->limit - ip + 1 < n)
			n = (unsigned)(cs->limit - ip + 1);
	}
	unsigned got = 0;
	while (got < n) {
		uint64_t lin = mode64 ? ip + got : (uint32_t)(cs->base + ip + got);
		uint64_t hpa;
		if (!code_hpa(cpu, lin, &hpa))
			break;
		unsigned k = 0x1000 - (unsigned)(lin & 0xfff);
		if (k > n - got)
			k = n - got;
		phys_read_buf(cpu->mmu, hpa, c->insn_bytes + got, k);
		got += k;
	}
	memset(c->insn_bytes + got, 0, sizeof(c->insn_bytes) - got);
	c->insn_len = (uint8_t)got;
}
