/*
 * cpu/msr.h — MSR helpers beyond the msr_read/msr_write contract in
 * cpu/cpuid.h (implemented in cpu/msr.c).
 */
#ifndef NESTBOX_CPU_MSR_H
#define NESTBOX_CPU_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"

/* Model-dependent MSR reset values (IA32_MISC_ENABLE, MCG_CAP, MTRRcap, the
 * TSC, ...). cpu_reset() calls it after its own MSR initialisation; INIT
 * (init_only) keeps MSRs, as the SDM says (Vol. 3 Table 10-1). */
void msr_reset(struct cpu *cpu, bool init_only);

/* Is v canonical for this CPU's linear-address width (48, or 57 with LA57
 * support)? WRMSR of base/entry-point MSRs and INVPCID check it. */
static inline bool cpu_canonical(const struct cpu *cpu, uint64_t v)
{
	unsigned bits = (cpu->model && model_has(cpu->model, FEAT_LA57)) ? 57 : 48;
	int64_t s = (int64_t)(v << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == v;
}

#endif
