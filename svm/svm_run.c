/*
 * svm/svm_run.c — VMRUN (AMD APM Vol. 2 §15.5): read the VMCB (honouring
 * the VMCB clean bits, §15.15), make the consistency checks (§15.5.1; a
 * failure is #VMEXIT with VMEXIT_INVALID), save the host state to the host
 * save area at VM_HSAVE_PA, load the guest state, apply TSC_OFFSET and
 * TSC_RATIO, G_PAT, LBR virtualization, vNMI and the interrupt controls,
 * set GIF, inject EVENTINJ (§15.20) and start the guest.
 *
 * The host save area's format is implementation specific (§15.30.4): we
 * store the host state in the VMCB state-save layout at offset 400h of the
 * VM_HSAVE_PA page, in the fields VMRUN loads only. The soft TLB is tagged
 * by ASID (cpu/tlb_sets.c): VMRUN and #VMEXIT switch between the host's and
 * the guest's sets, and TLB_CONTROL flushes what it names.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/ops_sys.h"
#include "cpu/virt.h"
#include "mmu/mmu.h"
#include "mmu/tlb.h"
#include "svm/svm_state.h"

/* RFLAGS bits that exist (the rest are reserved and read as 0, bit 1 as 1). */
#define RFLAGS_VALID 0x3f7fd5ull

/* EFER bits a guest may hold: SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE. */
#define EFER_VALID 0xfd01ull

/* A PAT value with only the memory types 0, 1, 4-7 in its eight fields. */
static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xff;
		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

/* The consistency checks of APM Vol. 2 §15.5.1 ("Canonicalization and
 * Consistency Checks"); the name of the failing check, or NULL. */
static const char *vmcb_check(const struct cpu *cpu, const struct vmcb *v)
{
	const struct vmcb_save *s = &v->s;
	const struct vmcb_control *c = &v->c;
	unsigned pa_bits = cpu->model->phys_addr_bits;
	bool lme_pg = (s->efer & EFER_LME) && (s->cr0 & CR0_PG);

	if (!(s->efer & EFER_SVME))
		return "EFER.SVME = 0";
	if (s->efer & ~EFER_VALID)
		return "EFER reserved bits";
	if (!(s->cr0 & CR0_CD) && (s->cr0 & CR0_NW))
		return "CR0.CD = 0 and CR0.NW = 1";
	if (s->cr0 >> 32)
		return "CR0[63:32] not zero";
	/* Exactly the bits MOV to CR4 accepts on this model (PKE, LA57...)
	 * in an SVM guest (svm_virt_ops.cr4_deny: no VMXE, even on a model
	 * that also has VMX; nestbox does not nest VMX in SVM guests). */
	if (s->cr4 & ~(sys_cr4_model_mask(cpu) & ~svm_virt_ops.cr4_deny))
		return "CR4 reserved bits";
	if ((s->dr6 >> 32) || (s->dr7 >> 32))
		return "DR6/DR7[63:32] not zero";
	if (lme_pg && !(s->cr4 & CR4_PAE))
		return "EFER.LME and CR0.PG with CR4.PAE = 0";
	if (lme_pg && !(s->cr0 & CR0_PE))
		return "EFER.LME and CR0.PG with CR0.PE = 0";
	if (lme_pg && (s->cs.attrib & 0x200) && (s->cs.attrib & 0x400))
		return "long mode with CS.L and CS.D";
	/* CR3 bits at and above MAXPHYADDR are MBZ in every paging mode. */
	if (s->cr3 >> pa_bits)
		return "CR3 reserved bits";
	if (!(c->icpt_misc2 & ICPT2_VMRUN))
		return "VMRUN intercept clear";
	/* vNMI needs the NMI intercept: real NMIs must not reach the guest. */
	if ((c->int_ctl & INTCTL_V_NMI_ENABLE) && model_has(cpu->model, FEAT_VNMI) &&
	    !(c->icpt_misc1 & ICPT1_NMI))
		return "V_NMI_ENABLE without the NMI intercept";
	if (c->asid == 0)
		return "ASID 0";
	/* A map that extends to MAXPHYADDR is illegal (§15.10.1, §15.11;
	 * bits 11:0 of the bases are ignored). The IOPM's extent is the
	 * 8K + 1 bytes its bits use (port FFFFh plus the 3 bytes a 4-byte
	 * access spills into), the MSRPM's is 8K. */
	if ((c->iopm_base & ~0xfffull) + SVM_IOPM_USED >= (1ull << pa_bits) ||
	    (c->msrpm_base & ~0xfffull) + SVM_MSRPM_SIZE >= (1ull << pa_bits))
		return "IOPM/MSRPM beyond MAXPHYADDR";
	/* Nested paging (§15.25.3-4): host paging on, N_CR3 within
	 * MAXPHYADDR, a valid G_PAT. */
	if ((c->np_ctl & 1) && model_has(cpu->model, FEAT_NPT)) {
		if (!(cpu->cr0 & CR0_PG))
			return "NP_ENABLE with host paging off";
		if (c->n_cr3 >> pa_bits)
			return "N_CR3 reserved bits";
		if (!pat_valid(s->g_pat))
			return "G_PAT invalid";
	}
	/* Without nested paging VMRUN loads a PAE guest's PDPTEs from its
	 * CR3 (host-physical then): one present with a reserved bit set is an
	 * illegal state (§15.5.1). With nested paging they are read through
	 * the NPT when used, like any guest table. */
	bool npt = (c->np_ctl & 1) && model_has(cpu->model, FEAT_NPT);
	if (!npt && (s->cr0 & CR0_PG) && (s->cr4 & CR4_PAE) && !(s->efer & EFER_LME)) {
		uint64_t pdpte[4];
		uint64_t rsvd = 0x1e6ull | ~((1ull << pa_bits) - 1);
		phys_read_buf(cpu->mmu, s->cr3 & 0xffffffe0ull, pdpte, sizeof(pdpte));
		for (int i = 0; i < 4; i++)
			if ((pdpte[i] & 1) && (pdpte[i] & rsvd))
				return "PAE PDPTE reserved bits";
	}
	if (c->eventinj & EVT_V) {
		unsigned type = (unsigned)((c->eventinj & EVT_TYPE_MASK) >> EVT_TYPE_SHIFT);
		unsigned vec = (unsigned)(c->eventinj & EVT_VECTOR);
		if (type != EVT_INTR && type != EVT_NMI && type != EVT_EXC && type != EVT_SOFT)
			return "EVENTINJ type";
		if (type == EVT_EXC && (vec > 31 || vec == EXC_NMI))
			return "EVENTINJ exception vector";
	}
	return NULL;
}

/* Host state that #VMEXIT restores (§15.5.1: ES, CS, SS, DS, GDTR, IDTR,
 * EFER, CR0, CR3, CR4, RFLAGS, RIP, RSP, RAX). RIP is the instruction after
 * VMRUN. */
static void save_host(struct cpu *cpu, uint64_t hsave)
{
	struct vmcb_save h;
	memset(&h, 0, sizeof(h));
	svm_seg_to_vmcb(&cpu->seg[S_ES], &h.es);
	svm_seg_to_vmcb(&cpu->seg[S_CS], &h.cs);
	svm_seg_to_vmcb(&cpu->seg[S_SS], &h.ss);
	svm_seg_to_vmcb(&cpu->seg[S_DS], &h.ds);
	h.gdtr.base = cpu->gdtr.base;
	h.gdtr.limit = cpu->gdtr.limit;
	h.idtr.base = cpu->idtr.base;
	h.idtr.limit = cpu->idtr.limit;
	h.cpl = cpu->cpl;
	h.efer = cpu->msr.efer;
	h.cr0 = cpu->cr0;
	h.cr3 = cpu->cr3;
	h.cr4 = cpu->cr4;
	/* RF: VMRUN completes at #VMEXIT, which clears it like any
	 * instruction's completion. */
	h.rflags = flags_get(cpu) & ~(uint64_t)F_RF;
	h.rip = cpu->rip;
	h.rsp = cpu->gpr[R_SP];
	h.rax = cpu->gpr[R_AX];
	/* Only the fields VMRUN owns: the rest of the page is software's.
	 * KVM keeps its host FS/GS/TR/LDTR and syscall MSRs there (VMSAVE to
	 * the VM_HSAVE_PA page before VMRUN, VMLOAD after #VMEXIT). */
	static const struct {
		uint16_t off, len;
	} parts[] = {
		{ offsetof(struct vmcb_save, es), 4 * sizeof(struct vmcb_seg) },
		{ offsetof(struct vmcb_save, gdtr), sizeof(struct vmcb_seg) },
		{ offsetof(struct vmcb_save, idtr), sizeof(struct vmcb_seg) },
		{ offsetof(struct vmcb_save, cpl), 1 },
		{ offsetof(struct vmcb_save, efer), 8 },
		{ offsetof(struct vmcb_save, cr4), 3 * 8 },
		{ offsetof(struct vmcb_save, rflags), 2 * 8 },
		{ offsetof(struct vmcb_save, rsp), 8 },
		{ offsetof(struct vmcb_save, rax), 8 },
	};
	for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		phys_write_buf(cpu->mmu, hsave + offsetof(struct vmcb, s) + parts[i].off,
			       (const uint8_t *)&h + parts[i].off, parts[i].len);
}

static void load_guest(struct cpu *cpu, const struct vmcb_save *s)
{
	svm_seg_from_vmcb(&s->es, &cpu->seg[S_ES], false);
	svm_seg_from_vmcb(&s->cs, &cpu->seg[S_CS], true);
	svm_seg_from_vmcb(&s->ss, &cpu->seg[S_SS], false);
	svm_seg_from_vmcb(&s->ds, &cpu->seg[S_DS], false);
	cpu->gdtr.base = s->gdtr.base;
	cpu->gdtr.limit = s->gdtr.limit;
	cpu->idtr.base = s->idtr.base;
	cpu->idtr.limit = s->idtr.limit;
	/* EFER.LMA follows LME and CR0.PG (the checks guarantee PE). */
	uint64_t efer = s->efer & ~EFER_LMA;
	if ((efer & EFER_LME) && (s->cr0 & CR0_PG))
		efer |= EFER_LMA;
	cpu->msr.efer = efer;
	cpu->cr0 = s->cr0 | CR0_ET;
	cpu->cr2 = s->cr2;
	cpu->cr3 = s->cr3;
	cpu->cr4 = s->cr4;
	cpu->pdpte_valid = false; /* PAE: the walker reads the PDPTEs at CR3 */
	cpu->dr[6] = s->dr6;
	cpu->dr[7] = s->dr7;
	flags_set(cpu, (s->rflags & RFLAGS_VALID) | F_FIXED1, ~0ull);
	cpu->rip = s->rip;
	cpu->gpr[R_SP] = s->rsp;
	cpu->gpr[R_AX] = s->rax;
	/* CPL: VMCB.CPL, except real mode (0) and virtual-8086 mode (3). */
	if (!(cpu->cr0 & CR0_PE))
		cpu->cpl = 0;
	else if (cpu->rflags & F_VM)
		cpu->cpl = 3;
	else
		cpu->cpl = s->cpl & 3;
}

void svm_lbr_get(const struct cpu *cpu, uint64_t r[5])
{
	r[0] = cpu->msr.debugctl;
	r[1] = cpu->msr.lbr_from;
	r[2] = cpu->msr.lbr_to;
	r[3] = cpu->msr.ler_from;
	r[4] = cpu->msr.ler_to;
}

void svm_lbr_set(struct cpu *cpu, const uint64_t r[5])
{
	cpu->msr.debugctl = r[0] & 3; /* LBR, BTF: the bits nestbox keeps */
	cpu->msr.lbr_from = r[1];
	cpu->msr.lbr_to = r[2];
	cpu->msr.ler_from = r[3];
	cpu->msr.ler_to = r[4];
}

/* Deliver EVENTINJ in the guest (§15.20). The injected event itself is
 * not subject to the intercepts (its reason is masked while it is
 * delivered); a fault during its delivery is an ordinary guest exception
 * (which may be intercepted, with EXITINTINFO = the injected event). */
static void inject_event(struct cpu *cpu, struct svm_state *st, uint64_t ev)
{
	/* volatile: read again after a longjmp back into this frame. */
	volatile int vec = (int)(ev & EVT_VECTOR);
	unsigned type = (unsigned)((ev & EVT_TYPE_MASK) >> EVT_TYPE_SHIFT);
	uint32_t err = (ev & EVT_EV) ? (uint32_t)(ev >> EVT_ERR_SHIFT) : NO_ERRCODE;
	volatile enum event_kind kind;
	enum icpt_reason r;

	switch (type) {
	case EVT_NMI:
		vec = EXC_NMI;
		kind = EV_NMI;
		r = ICPT_NMI;
		cpu->nmi_blocked = 1;
		break;
	case EVT_EXC:
		kind = EV_EXCEPTION;
		r = ICPT_EXCEPTION;
		break;
	case EVT_SOFT:
		kind = EV_SOFTINT;
		r = ICPT_INTN;
		break;
	default:
		kind = EV_EXTINT;
		r = ICPT_EXTINT;
		break;
	}
	jmp_buf jb;
	jmp_buf *saved = cpu->exc_jmp;
	uint64_t icpt = cpu->icpt;
	st->cur_event = ev & (EVT_VECTOR | EVT_TYPE_MASK | EVT_EV | EVT_V | (0xffffffffull << 32));
	cpu->ip_start = cpu->rip;
	cpu->halted = 0;
	cpu->icpt &= ~ICPT_BIT(r);
	cpu->exc_jmp = &jb;
	if (setjmp(jb)) {
		cpu->exc_jmp = saved;
		/* Delivery caused a #VMEXIT (NPF, or an intercepted fault): the
		 * host's state is loaded, its icpt (0) included; the guest's
		 * bits must not come back. */
		if (cpu->exc_vector < 0)
			cpu_unwind(cpu);
		cpu->icpt = icpt;
		/* A fault while delivering: the loop delivers it (with the
		 * #DF rules when the injected event was an exception). */
		cpu->delivering = kind == EV_EXCEPTION ? vec : -1;
		cpu_exception(cpu, cpu->exc_vector, cpu->exc_errcode);
	}
	cpu_deliver_event(cpu, vec, kind, err);
	cpu->exc_jmp = saved;
	cpu->icpt = icpt;
	st->cur_event = 0;
}

/* The VMCB fields each clean bit covers (§15.15.3), as byte ranges. */
static const struct {
	uint8_t bit;
	uint16_t off, len;
} clean_map[] = {
	{ CLEAN_I, offsetof(struct vmcb, c.icpt_cr), 6 * 4 },
	{ CLEAN_I, offsetof(struct vmcb, c.pause_thresh), 4 },
	{ CLEAN_I, offsetof(struct vmcb, c.tsc_offset), 8 },
	{ CLEAN_IOPM, offsetof(struct vmcb, c.iopm_base), 16 },
	{ CLEAN_ASID, offsetof(struct vmcb, c.asid), 4 },
	{ CLEAN_TPR, offsetof(struct vmcb, c.int_ctl), 8 },
	{ CLEAN_NP, offsetof(struct vmcb, c.np_ctl), 8 },
	{ CLEAN_NP, offsetof(struct vmcb, c.n_cr3), 8 },
	{ CLEAN_NP, offsetof(struct vmcb, s.g_pat), 8 },
	{ CLEAN_CRX, offsetof(struct vmcb, s.efer), 8 },
	{ CLEAN_CRX, offsetof(struct vmcb, s.cr4), 3 * 8 },
	{ CLEAN_DRX, offsetof(struct vmcb, s.dr7), 2 * 8 },
	{ CLEAN_DT, offsetof(struct vmcb, s.gdtr), sizeof(struct vmcb_seg) },
	{ CLEAN_DT, offsetof(struct vmcb, s.idtr), sizeof(struct vmcb_seg) },
	{ CLEAN_SEG, offsetof(struct vmcb, s.es), 4 * sizeof(struct vmcb_seg) },
	{ CLEAN_SEG, offsetof(struct vmcb, s.cpl), 1 },
	{ CLEAN_CR2, offsetof(struct vmcb, s.cr2), 8 },
	{ CLEAN_LBR, offsetof(struct vmcb, s.lbr), 5 * 8 },
};

/* Read the VMCB at pa into st->vmcb. With VMCB clean bits (§15.15), a
 * VMRUN of the VMCB the last #VMEXIT wrote takes the field groups marked
 * clean from that cached copy, not from memory: software that changes a
 * field must clear its clean bit (what it wrote is ignored otherwise). */
static void read_vmcb(struct cpu *cpu, struct svm_state *st, uint64_t pa)
{
	struct vmcb *v = &st->vmcb;
	bool cached =
		st->cache_valid && st->cache_pa == pa && model_has(cpu->model, FEAT_VMCBCLEAN);
	st->cache_valid = false;
	if (!cached) {
		phys_read_buf(cpu->mmu, pa, v, sizeof(*v));
		return;
	}
	uint32_t clean;
	phys_read_buf(cpu->mmu, pa + offsetof(struct vmcb, c.clean), &clean, sizeof(clean));
	if (!clean) {
		phys_read_buf(cpu->mmu, pa, v, sizeof(*v));
		return;
	}
	uint8_t old[sizeof(struct vmcb)];
	memcpy(old, v, sizeof(old));
	phys_read_buf(cpu->mmu, pa, v, sizeof(*v));
	for (unsigned i = 0; i < sizeof(clean_map) / sizeof(clean_map[0]); i++)
		if (clean & (1u << clean_map[i].bit))
			memcpy((uint8_t *)v + clean_map[i].off, old + clean_map[i].off,
			       clean_map[i].len);
}

/* The guest's soft-TLB set (cpu/tlb_sets.c): tagged by ASID and, with
 * nested paging, by N_CR3 and the host paging mode the nested walk uses.
 * TLB_CONTROL (§15.16.1): 1 flushes every ASID, 3 and 7 the guest's
 * (global entries are not kept apart, so 7 acts as 3); 0 keeps all. */
static void svm_tlb_guest(struct cpu *cpu, const struct svm_state *st)
{
	const struct vmcb *v = &st->vmcb;
	struct tlb_tag tag = { .guest = 1, .id = v->c.asid };
	if (st->npt) {
		tag.root = v->c.n_cr3;
		tag.aux = (st->npt_regs.cr4 & CR4_TLB_BITS) |
			  (st->npt_regs.efer & (EFER_NXE | EFER_LMA)) << 32;
	}
	if (v->c.tlb_control == 1)
		cpu_tlb_flush_every(cpu);
	else if (v->c.tlb_control)
		cpu_tlb_flush_tagged(cpu, 1, v->c.asid, TLB_ANY, TLB_ANY);
	cpu_tlb_select(cpu, &tag);
}

_Noreturn void svm_vmrun(struct cpu *cpu, uint64_t vmcb_pa)
{
	struct svm_state *st = svm_st(cpu);
	struct vmcb *v = &st->vmcb;

	read_vmcb(cpu, st, vmcb_pa);
	st->vmcb_pa = vmcb_pa;
	const char *bad = vmcb_check(cpu, v);
	if (bad) {
		/* VMEXIT_INVALID: the host goes on after VMRUN with GIF = 0;
		 * only the exit fields of the VMCB change. */
		uint64_t exitf[3] = { SVM_EXIT_INVALID, 0, 0 };
		phys_write_buf(cpu->mmu, vmcb_pa + offsetof(struct vmcb, c.exitcode), exitf,
			       sizeof(exitf));
		st->gif = false;
		if (cpu->rflags & F_TF)
			svm_single_step_trap(cpu);
		/* The guest's own mistake, answered architecturally: logged
		 * (once) only with NESTBOX_SVM_TRACE, like VMX entry checks,
		 * so suites that take stderr output for a VMM failure
		 * (kvm-unit-tests) stay clean. */
		if (!st->warned_invalid && getenv("NESTBOX_SVM_TRACE")) {
			fprintf(stderr, "nestbox: svm: VMRUN: VMEXIT_INVALID (%s)\n", bad);
			st->warned_invalid = true;
		}
		cpu_unwind(cpu);
	}

	save_host(cpu, cpu->msr.vm_hsave_pa);
	/* Nested paging uses the host's paging mode at VMRUN (§15.25.3) with
	 * N_CR3 as its root. */
	/* Without FEAT_NPT (-cpu ...,-npt) NP_ENABLE is an ignored bit. */
	st->npt = (v->c.np_ctl & 1) && model_has(cpu->model, FEAT_NPT);
	st->npt_regs = (struct paging_regs){ .cr0 = cpu->cr0,
					     .cr3 = v->c.n_cr3,
					     .cr4 = cpu->cr4,
					     .efer = cpu->msr.efer,
					     .pdpte_valid = false,
					     .amd = true };
	st->pause_left = v->c.pause_count;
	st->pause_last = 0; /* the first PAUSE finds the count loaded */
	st->event_exit = false;
	st->host_if = cpu->rflags & F_IF;
	/* With TF set VMRUN is single-stepped as one instruction that ends at
	 * #VMEXIT: the host gets its #DB trap after VMRUN then. */
	st->host_tf = cpu->rflags & F_TF;
	st->cur_event = 0;

	cpu_tlb_leave(cpu); /* the host (ASID 0) keeps its TLB set */
	load_guest(cpu, &v->s);
	st->lbrv = (v->c.virt_ext & VIRTEXT_LBR) && model_has(cpu->model, FEAT_LBRV);
	if (st->lbrv) {
		svm_lbr_get(cpu, st->host_lbr);
		svm_lbr_set(cpu, v->s.lbr);
	}
	cpu->virt_tsc_offset = v->c.tsc_offset;
	/* TSC_RATIO scales the guest's TSC (§15.30.5); 1.0 needs no work. */
	cpu->virt_tsc_ratio = 0;
	if (model_has(cpu->model, FEAT_TSCRATE) && cpu->msr.tsc_ratio != 1ull << 32)
		cpu->virt_tsc_ratio = cpu->msr.tsc_ratio;
	/* With nested paging the guest's PAT is G_PAT (§15.25.8). */
	if (st->npt) {
		st->host_pat = cpu->msr.pat;
		cpu->msr.pat = v->s.g_pat;
	}
	st->vls =
		st->npt && (v->c.virt_ext & VIRTEXT_VMSAVE) && model_has(cpu->model, FEAT_VVMSAVE);
	cpu->shadow = (v->c.int_state & INTSTATE_SHADOW) ? SHADOW_STI : 0;
	cpu->halted = 0;
	cpu->delivering = -1;
	cpu->guest_mode = true;
	cpu->virt = st->npt ? &svm_virt_ops_npt : &svm_virt_ops;
	cpu->icpt = svm_icpt_bits(&v->c);
	st->gif = true;
	st->vnmi = (v->c.int_ctl & INTCTL_V_NMI_ENABLE) && model_has(cpu->model, FEAT_VNMI);
	if (st->vnmi) {
		st->host_nmi_blocked = cpu->nmi_blocked;
		cpu->nmi_blocked = (v->c.int_ctl & INTCTL_V_NMI_MASK) != 0;
	}
	if (v->c.int_ctl & INTCTL_V_IRQ || (st->vnmi && (v->c.int_ctl & INTCTL_V_NMI)))
		cpu->pending |= PEND_VIRT;
	if (cpu->irq_pending && cpu->irq_pending(cpu))
		cpu->pending |= PEND_IRQ;
	svm_tlb_guest(cpu, st);
	cpu_update_mode(cpu);
	cpu->pending |= PEND_MODE;

	uint64_t ev = v->c.eventinj;
	v->c.eventinj &= ~EVT_V;
	if (ev & EVT_V)
		inject_event(cpu, st, ev);
	cpu_unwind(cpu);
}
