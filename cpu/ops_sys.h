/*
 * cpu/ops_sys.h — glue between the system-instruction files (ops_sys.c,
 * ops_sys_cr.c, ops_sys_io.c) and the control-register writers other code
 * needs (task switch CR3 load, VMX/SVM state load, tests).
 */
#ifndef NESTBOX_CPU_OPS_SYS_H
#define NESTBOX_CPU_OPS_SYS_H

#include <stdint.h>

#include "cpu/cpu.h"

/* Sub-registration, called by ops_sys_register(). */
void ops_sys_cr_register(void);
void ops_sys_io_register(void);

/* MOV to CRn semantics (Intel SDM Vol. 2B "MOV—Move to/from Control
 * Registers", Vol. 3 §2.5, §4.1.1, §4.4.1, §4.10.1): validity checks raise
 * #GP(0) before anything changes; then the register is written, long mode
 * activated/deactivated, PAE PDPTEs loaded, the TLB flushed as needed,
 * cpu_update_mode() called and PEND_MODE raised. v is the operand as the
 * instruction supplies it (64-bit in 64-bit mode, zero-extended 32-bit
 * otherwise). No CPL check (the callers do that). */
void sys_write_cr0(struct cpu *cpu, uint64_t v);
void sys_write_cr3(struct cpu *cpu, uint64_t v);
void sys_write_cr4(struct cpu *cpu, uint64_t v);
void sys_write_cr8(struct cpu *cpu, uint64_t v);

/* CR4 bits this model allows (the others are reserved: #GP)... */
uint64_t sys_cr4_model_mask(const struct cpu *cpu);
/* ... and of those, the ones the current mode allows (an SVM guest has no
 * CR4.VMXE: virt_ops.cr4_deny). */
uint64_t sys_cr4_valid_mask(const struct cpu *cpu);

/* #GP(0) unless CPL = 0 (V86 mode runs at CPL 3). */
static inline void sys_need_cpl0(struct cpu *cpu)
{
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
}

#endif
