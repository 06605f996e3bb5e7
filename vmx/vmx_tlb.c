/*
 * vmx/vmx_tlb.c — the soft TLB under VMX (SDM Vol. 3C §29.4): linear and
 * combined mappings are tagged by VPID (and, for combined mappings, by the
 * EPTP's EP4TA), so a guest with "enable VPID" keeps its translations, and
 * L1 its own, across VM entries and exits (cpu/tlb_sets.c).
 *
 * Without VPID, guest and host share VPID 0000H and every VM entry and exit
 * invalidates its mappings (§29.4.3.3): both sets are flushed. The set of a
 * guest is also told apart by its APIC-access address, because accesses to
 * that page are never cached and a new address must not meet old entries.
 */
#include "vmx/vmx_tlb.h"

#include "cpu/cpu.h"
#include "mmu/tlb.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_state.h"

static void flush_vpid0(struct cpu *cpu)
{
	cpu_tlb_flush_tagged(cpu, 0, TLB_ANY, TLB_ANY, TLB_ANY);
	cpu_tlb_flush_tagged(cpu, 1, 0, TLB_ANY, TLB_ANY);
}

static struct tlb_tag guest_tag(const struct vmcs *v)
{
	uint32_t p2 = vmx_sec_ctls(v);
	struct tlb_tag tag = { .guest = 1 };
	if (p2 & PROC2_VPID)
		tag.id = v->vpid;
	if (p2 & PROC2_EPT)
		tag.root = v->ept_pointer;
	if (p2 & PROC2_APIC_ACCESS)
		tag.aux = v->apic_access_addr;
	return tag;
}

void vmx_tlb_enter(struct cpu *cpu, const struct vmcs *v)
{
	struct tlb_tag tag = guest_tag(v);
	if (!tag.id)
		flush_vpid0(cpu);
	cpu_tlb_select(cpu, &tag);
}

void vmx_eptp_changed(struct cpu *cpu)
{
	struct tlb_tag tag = guest_tag(&vmx_st(cpu)->cur);
	cpu_tlb_leave(cpu);
	cpu_tlb_select(cpu, &tag);
}

void vmx_tlb_exit(struct cpu *cpu, const struct vmcs *v)
{
	static const struct tlb_tag host = { 0 };
	if (!(vmx_sec_ctls(v) & PROC2_VPID))
		flush_vpid0(cpu);
	cpu_tlb_select(cpu, &host);
}

void vmx_tlb_invept(struct cpu *cpu, uint64_t type, uint64_t eptp)
{
	/* Guest-physical and combined mappings of one EP4TA, or of all. */
	cpu_tlb_flush_tagged(cpu, 1, TLB_ANY, type == 1 ? eptp : TLB_ANY, TLB_ANY);
}

void vmx_tlb_invvpid(struct cpu *cpu, uint64_t type, uint16_t vpid, uint64_t lin)
{
	switch (type) {
	case 0:
		cpu_tlb_flush_tagged(cpu, 1, vpid, TLB_ANY, lin);
		break;
	case 1:
	case 3: /* global translations are not kept apart: flush them too */
		cpu_tlb_flush_tagged(cpu, 1, vpid, TLB_ANY, TLB_ANY);
		break;
	default: /* all contexts: every VPID but 0000H */
		for (int i = 0; i < TLB_NSETS; i++)
			if (cpu->tlbs[i].tag.used && cpu->tlbs[i].tag.guest && cpu->tlbs[i].tag.id)
				cpu_tlb_flush_tagged(cpu, 1, cpu->tlbs[i].tag.id, TLB_ANY, TLB_ANY);
		break;
	}
}
