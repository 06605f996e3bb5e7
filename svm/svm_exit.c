/*
 * svm/svm_exit.c — #VMEXIT (AMD APM Vol. 2 §15.6): store the guest state
 * and the exit information (EXITCODE, EXITINFO1/2, EXITINTINFO, nRIP) in
 * the VMCB (only those fields: the intercepts and the rest stay as
 * software wrote them), reload the host state VMRUN saved at VM_HSAVE_PA,
 * clear GIF, and give a host that ran VMRUN with TF its #DB.
 *
 * The guest's RIP is cpu->ip_start: the intercepted instruction for
 * instruction intercepts, the faulting instruction for exceptions, the
 * next instruction to run for interrupts (the loop sets ip_start = rip
 * before it delivers an event). nRIP (§15.7.1) is cpu->rip, the
 * instruction after an intercepted one.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/debug.h"
#include "cpu/flags.h"
#include "cpu/virt.h"
#include "mmu/mmu.h"
#include "mmu/tlb.h"
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

/* The VMCB fields #VMEXIT writes (§15.6): the guest state VMRUN loaded
 * and the exit information; the rest of the VMCB (intercepts, maps, the
 * VMLOAD/VMSAVE state...) stays as software left it in memory. */
static void write_back(struct cpu *cpu, const struct svm_state *st)
{
	static const struct {
		uint16_t off, len;
	} parts[] = {
		{ offsetof(struct vmcb, c.int_ctl), 0x70 - 0x60 + 0x20 }, /* to EXITINTINFO */
		{ offsetof(struct vmcb, c.eventinj), 8 },
		{ offsetof(struct vmcb, c.nrip), 0xe0 - 0xc8 }, /* nRIP, instruction bytes */
		{ offsetof(struct vmcb, s.es), 4 * sizeof(struct vmcb_seg) },
		{ offsetof(struct vmcb, s.gdtr), sizeof(struct vmcb_seg) },
		{ offsetof(struct vmcb, s.idtr), sizeof(struct vmcb_seg) },
		{ offsetof(struct vmcb, s.cpl), 1 },
		{ offsetof(struct vmcb, s.efer), 8 },
		{ offsetof(struct vmcb, s.cr4), 7 * 8 }, /* CR4, CR3, CR0, DR7, DR6, RFLAGS, RIP */
		{ offsetof(struct vmcb, s.rsp), 8 },
		{ offsetof(struct vmcb, s.rax), 8 },
		{ offsetof(struct vmcb, s.cr2), 8 },
	};
	const uint8_t *v = (const uint8_t *)&st->vmcb;
	for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		phys_write_buf(cpu->mmu, st->vmcb_pa + parts[i].off, v + parts[i].off,
			       parts[i].len);
	if (st->npt)
		phys_write_buf(cpu->mmu, st->vmcb_pa + offsetof(struct vmcb, s.g_pat),
			       &st->vmcb.s.g_pat, 8);
	if (st->lbrv)
		phys_write_buf(cpu->mmu, st->vmcb_pa + offsetof(struct vmcb, s.lbr), st->vmcb.s.lbr,
			       sizeof(st->vmcb.s.lbr));
}

/* An event of cpu->event in the EXITINTINFO format (§15.7.2), 0 if none. */
static uint64_t exitintinfo_of(const struct cpu_event *e)
{
	if (!e->valid)
		return 0;
	unsigned type;
	switch (e->kind) {
	case EV_EXTINT:
		type = EVT_INTR;
		break;
	case EV_NMI:
		type = EVT_NMI;
		break;
	case EV_SOFTINT:
		type = EVT_SOFT;
		break;
	default: /* exceptions, INT3/INTO, INT1 */
		type = EVT_EXC;
		break;
	}
	uint64_t v = EVT_V | (uint64_t)type << EVT_TYPE_SHIFT | (uint64_t)(e->vector & 0xff);
	if (type == EVT_EXC && e->errcode != NO_ERRCODE)
		v |= EVT_EV | (uint64_t)e->errcode << EVT_ERR_SHIFT;
	return v;
}

/* The host's soft-TLB set (ASID 0), kept across the guest's run. */
static void svm_tlb_host(struct cpu *cpu)
{
	static const struct tlb_tag host = { 0 };
	cpu_tlb_select(cpu, &host);
}

_Noreturn void svm_vmexit(struct cpu *cpu, uint64_t code, uint64_t info1, uint64_t info2)
{
	struct svm_state *st = svm_st(cpu);
	struct vmcb *v = &st->vmcb;

	cpu_tlb_leave(cpu); /* the guest's ASID keeps its TLB set */
	save_guest(cpu, &v->s);
	v->c.int_state = cpu->shadow ? INTSTATE_SHADOW : 0;
	if (st->vnmi) {
		/* The guest's NMI blocking goes back to V_NMI_MASK. */
		v->c.int_ctl &= ~INTCTL_V_NMI_MASK;
		if (cpu->nmi_blocked)
			v->c.int_ctl |= INTCTL_V_NMI_MASK;
		cpu->nmi_blocked = st->host_nmi_blocked;
		st->vnmi = false;
	}
	if (cpu->rflags & F_IF)
		v->c.int_state |= 2; /* GUEST_INTERRUPT_MASK (§15.21.1) */
	if (st->lbrv) {
		svm_lbr_get(cpu, v->s.lbr);
		svm_lbr_set(cpu, st->host_lbr);
	}
	v->c.exitcode = code;
	v->c.exitinfo1 = info1;
	v->c.exitinfo2 = info2;
	/* EXITINTINFO: the event whose delivery the exit interrupted. */
	v->c.exitintinfo =
		st->cur_event ? st->cur_event
			      : exitintinfo_of(st->event_exit ? &cpu->event_prev : &cpu->event);
	st->event_exit = false;
	v->c.nrip = cpu->rip;
	v->c.eventinj &= ~EVT_V;
	if (st->npt) {
		v->s.g_pat = cpu->msr.pat;
		cpu->msr.pat = st->host_pat;
	}
	st->vls = false;
	write_back(cpu, st);
	st->lbrv = false;
	st->cache_valid = true; /* st->vmcb is the clean-bits cache now */
	st->cache_pa = st->vmcb_pa;

	struct vmcb_save h;
	phys_read_buf(cpu->mmu, cpu->msr.vm_hsave_pa + offsetof(struct vmcb, s), &h, sizeof(h));
	cpu->virt_tsc_offset = 0;
	cpu->virt_tsc_ratio = 0;
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
	svm_tlb_host(cpu);
	cpu_update_mode(cpu);
	cpu->pending |= PEND_MODE;
	if (st->host_tf)
		svm_single_step_trap(cpu);
	cpu_unwind(cpu);
}

void svm_single_step_trap(struct cpu *cpu)
{
	/* Delivered now, on the state just loaded (a fault in its delivery
	 * goes through the loop's exception path like any other). */
	cpu->dr[6] = (cpu->dr[6] & ~DR6_B_MASK) | DR6_BS;
	cpu->ip_start = cpu->rip;
	cpu_deliver_event(cpu, EXC_DB, EV_EXCEPTION, NO_ERRCODE);
}
