/*
 * vmx/vmx_tlb.h — VPID and EPTP tagging of the soft TLB for VMX: which set
 * a VM entry or exit makes active, and what INVEPT / INVVPID flush
 * (vmx/vmx_tlb.c, over cpu/tlb_sets.c).
 */
#ifndef NESTBOX_VMX_TLB_H
#define NESTBOX_VMX_TLB_H

#include <stdint.h>

struct cpu;
struct vmcs;

/* VM entry, guest state loaded: the guest's set (VPID, EPTP). */
void vmx_tlb_enter(struct cpu *cpu, const struct vmcs *v);
/* VM exit or failed entry, host state loaded: the host's set. */
void vmx_tlb_exit(struct cpu *cpu, const struct vmcs *v);
/* The EPT pointer of the running guest changed without a VM transition
 * (VMFUNC EPTP switching): the set of (VPID, new EPTP) becomes active; the
 * old EPTP's combined mappings stay in their own set (§29.4.2). */
void vmx_eptp_changed(struct cpu *cpu);
/* INVEPT: type 1 single context (eptp), type 2 all contexts. */
void vmx_tlb_invept(struct cpu *cpu, uint64_t type, uint64_t eptp);
/* INVVPID: type 0 one address, 1 single context, 2 all contexts, 3 single
 * context retaining globals. */
void vmx_tlb_invvpid(struct cpu *cpu, uint64_t type, uint16_t vpid, uint64_t lin);

#endif
