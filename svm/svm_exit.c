/*
 * svm/svm_exit.c — #VMEXIT (AMD APM Vol. 2 §15.6): store the guest state
 * and the exit information (EXITCODE, EXITINFO1/2, EXITINTINFO, nRIP) in
 * the VMCB, reload the host state VMRUN saved at VM_HSAVE_PA, clear GIF.
 *
 * The guest's RIP is cpu->ip_start: the intercepted instruction for
 * instruction intercepts, the faulting instruction for exceptions, the
 * next instruction to run for interrupts (the loop sets ip_start = rip
 * before it delivers an event). nRIP (§15.7.1) is cpu->rip, the
 * instruction after an intercepted one.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/virt.h"
#include "mmu/mmu.h"
#include "svm/svm_state.h"

static void save_guest(struct cpu *cpu, struct vmcb_save *s)
{
	svm_seg_to_vmcb(&cpu->seg[S_ES], &s->es);
	svm_seg_to_vmcb(&cpu->seg[S_CS], &s->cs);
	svm_seg_to_vmcb(&cpu->seg[S_SS], &s->ss);
	svm_seg_to_vmcb(&cpu->seg[S_DS], &s->ds);
	s->gdtr.base = cpu->gdtr.base;
	s->gdtr.limit = cpu->gdtr.limit;
	s->idtr.base = cpu->idtr.base;
	s->idtr.limit = cpu->idtr.limit;
	s->cpl = cpu->cpl;
	s->efer = cpu->msr.efer;
	s->cr0 = cpu->cr0;
	s->cr2 = cpu->cr2;
	s->cr3 = cpu->cr3;
	s->cr4 = cpu->cr4;
	s->dr6 = cpu->dr[6];
	s->dr7 = cpu->dr[7];
	s->rflags = flags_get(cpu);
	s->rip = cpu->ip_start;
	s->rsp = cpu->gpr[R_SP];
	s->rax = cpu->gpr[R_AX];
}

static void load_host(struct cpu *cpu, const struct vmcb_save *h)
{
	svm_seg_from_vmcb(&h->es, &cpu->seg[S_ES], false);
	svm_seg_from_vmcb(&h->cs, &cpu->seg[S_CS], true);
	svm_seg_from_vmcb(&h->ss, &cpu->seg[S_SS], false);
	svm_seg_from_vmcb(&h->ds, &cpu->seg[S_DS], false);
	cpu->gdtr.base = h->gdtr.base;
	cpu->gdtr.limit = h->gdtr.limit;
	cpu->idtr.base = h->idtr.base;
	cpu->idtr.limit = h->idtr.limit;
	cpu->msr.efer = h->efer;
	cpu->cr0 = h->cr0 | CR0_PE; /* §15.6: CR0.PE is set */
	cpu->cr3 = h->cr3;
	cpu->cr4 = h->cr4;
	cpu->pdpte_valid = false;
	/* RFLAGS from the save area; the host's IF is as it was at VMRUN. */
	flags_set(cpu, h->rflags | F_FIXED1, ~0ull);
	cpu->rip = h->rip;
	cpu->gpr[R_SP] = h->rsp;
	cpu->gpr[R_AX] = h->rax;
	cpu->dr[7] = 0x400; /* §15.6: DR7 is reset, breakpoints off */
	cpu->cpl = 0;
}

_Noreturn void svm_vmexit(struct cpu *cpu, uint64_t code, uint64_t info1, uint64_t info2)
{
	struct svm_state *st = svm_st(cpu);
	struct vmcb *v = &st->vmcb;

	save_guest(cpu, &v->s);
	v->c.int_state = cpu->shadow ? INTSTATE_SHADOW : 0;
	if (cpu->rflags & F_IF)
		v->c.int_state |= 2; /* GUEST_INTERRUPT_MASK (§15.21.1) */
	v->c.exitcode = code;
	v->c.exitinfo1 = info1;
	v->c.exitinfo2 = info2;
	v->c.exitintinfo = st->cur_event;
	v->c.nrip = cpu->rip;
	v->c.eventinj &= ~EVT_V;
	phys_write_buf(cpu->mmu, st->vmcb_pa, v, sizeof(*v));

	struct vmcb_save h;
	phys_read_buf(cpu->mmu, cpu->msr.vm_hsave_pa + offsetof(struct vmcb, s), &h, sizeof(h));
	cpu->msr.tsc_offset -= v->c.tsc_offset;
	cpu->guest_mode = false;
	cpu->icpt = 0;
	cpu->virt = NULL;
	cpu->pending &= ~PEND_VIRT;
	st->npt = false;
	st->cur_event = 0;
	st->gif = false;
	load_host(cpu, &h);
	cpu->shadow = 0;
	cpu->halted = 0;
	cpu->delivering = -1;
	cpu_tlb_flush_all(cpu);
	cpu_update_mode(cpu);
	cpu->pending |= PEND_MODE;
	cpu_unwind(cpu);
}
