/*
 * vmx/vmx.h — what the rest of nestbox calls in the VMX implementation
 * (Intel SDM Vol. 3C ch. 23-26 and Appendix A).
 *
 * Callers: cpu/msr.c routes the capability MSRs IA32_VMX_BASIC ..
 * IA32_VMX_VMFUNC (480h-491h) to vmx_msr_read(); cpu/ops_sys_cr.c asks
 * vmx_cr_write_ok() before a CR0/CR4 write; cpu/optab.c calls
 * ops_vmx_register() (declared in cpu/insn.h) to register the VMX
 * instructions; the CPU core should call vmx_reset() from cpu_reset() and
 * vmx_free() from cpu_free().
 *
 * The per-vCPU state (struct vmx_state, vmx/vmx_state.h) hangs off cpu->vmx
 * and is allocated by the first VMXON; cpu->vmx == NULL means "never
 * entered VMX operation", the common case, which the inline helpers below
 * answer without a call.
 */
#ifndef NESTBOX_VMX_VMX_H
#define NESTBOX_VMX_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* Capability MSR range (SDM Vol. 4 Table 2-2, Vol. 3C App. A). */
#define MSR_IA32_VMX_BASIC               0x480
#define MSR_IA32_VMX_PINBASED_CTLS       0x481
#define MSR_IA32_VMX_PROCBASED_CTLS      0x482
#define MSR_IA32_VMX_EXIT_CTLS           0x483
#define MSR_IA32_VMX_ENTRY_CTLS          0x484
#define MSR_IA32_VMX_MISC                0x485
#define MSR_IA32_VMX_CR0_FIXED0          0x486
#define MSR_IA32_VMX_CR0_FIXED1          0x487
#define MSR_IA32_VMX_CR4_FIXED0          0x488
#define MSR_IA32_VMX_CR4_FIXED1          0x489
#define MSR_IA32_VMX_VMCS_ENUM           0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2     0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP        0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x490
#define MSR_IA32_VMX_VMFUNC              0x491
#define MSR_IA32_VMX_FIRST               MSR_IA32_VMX_BASIC
#define MSR_IA32_VMX_LAST                MSR_IA32_VMX_VMFUNC

/* RDMSR of a capability MSR (idx in 480h..491h). False when the MSR does
 * not exist on this model (no VMX, or the capability it describes is not
 * reported, e.g. PROCBASED_CTLS2 without secondary controls): the caller
 * raises #GP(0). The MSRs are read-only: WRMSR always #GPs. */
bool vmx_msr_read(const struct cpu *cpu, uint32_t idx, uint64_t *val);

/* QEMU's VMX feature names for -cpu ("vmx-ept", "vmx-mbec", ...). Looks
 * up name[0..len): 0 unknown, 1 implemented, -1 known but not implemented;
 * *group and *bit say which bit of struct cpu_model.vmx_off it is. */
int vmx_feature_lookup(const char *name, size_t len, unsigned *group, unsigned *bit);

/* Is the vCPU in VMX operation (root or non-root)? */
bool vmx_in_operation(const struct cpu *cpu);

/* Out-of-line part of vmx_cr_write_ok. */
bool vmx_cr_write_ok_slow(const struct cpu *cpu, int cr, uint64_t v);

/* May CR0 (cr = 0) or CR4 (cr = 4) become v? In VMX operation the bits
 * IA32_VMX_CRn_FIXED0 reports must be 1 and those FIXED1 does not report
 * must be 0 (SDM Vol. 3C §24.8, "MOV to CR0/CR4 ... #GP(0) if an attempt is
 * made to ... in VMX operation"); outside VMX operation always true. The
 * caller raises #GP(0) on false. */
static inline bool vmx_cr_write_ok(const struct cpu *cpu, int cr, uint64_t v)
{
	if (__builtin_expect(cpu->vmx == NULL, 1))
		return true;
	return vmx_cr_write_ok_slow(cpu, cr, v);
}

/* RESET or INIT of the vCPU. RESET (init_only = false) leaves VMX operation
 * and forgets the current VMCS (SDM Vol. 3C §24.11 note: VMX state is not
 * preserved across RESET). INIT is blocked in VMX root operation (§24.8)
 * and so changes nothing here; the loop must not deliver it there. */
void vmx_reset(struct cpu *cpu, bool init_only);

/* Free cpu->vmx (cpu_free). */
void vmx_free(struct cpu *cpu);

#endif
