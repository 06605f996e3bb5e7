/*
 * cpu/tsc.h — the time-stamp counter as a function of the virtual clock.
 *
 * For now the virtual clock is the instruction count: one retired
 * instruction = 1 ns. The TSC ticks at the model's advertised rate
 * (model->tsc_hz, CPUID leaves 15h/16h), so
 *
 *     TSC = icount * tsc_hz / 1e9 + msr.tsc_offset
 *
 * WRMSR IA32_TSC / IA32_TSC_ADJUST move tsc_offset (cpu/msr.c). In guest
 * mode the hypervisor's offset (cpu->virt_tsc_offset) is added too. When the
 * clock becomes a separate virtual-time source, only cpu_tsc_raw changes.
 */
#ifndef NESTBOX_CPU_TSC_H
#define NESTBOX_CPU_TSC_H

#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"

/* Clock-derived TSC value before the offset. */
static inline uint64_t cpu_tsc_raw(const struct cpu *cpu)
{
	uint64_t hz = cpu->model ? cpu->model->tsc_hz : 1000000000ull;
	if (hz == 1000000000ull)
		return cpu_clock_ns(cpu);
	if (hz % 1000000000ull == 0)
		return cpu_clock_ns(cpu) * (hz / 1000000000ull);
	return (uint64_t)((unsigned __int128)cpu_clock_ns(cpu) * hz / 1000000000ull);
}

/* The TSC of the hypervisor (outside guest mode: the TSC). */
static inline uint64_t cpu_tsc_host(const struct cpu *cpu)
{
	return cpu_tsc_raw(cpu) + cpu->msr.tsc_offset;
}

/* The guest-visible TSC (RDTSC, RDMSR 10h): in guest mode the
 * hypervisor's TSC scaled by the TSC ratio (SVM) or multiplier (VMX), plus
 * its offset. */
static inline uint64_t cpu_tsc(const struct cpu *cpu)
{
	uint64_t t = cpu_tsc_host(cpu);
	if (__builtin_expect((cpu->virt_tsc_ratio | cpu->virt_tsc_frac) != 0, 0)) {
		unsigned frac = cpu->virt_tsc_frac ? cpu->virt_tsc_frac : 32;
		t = (uint64_t)(((unsigned __int128)t * cpu->virt_tsc_ratio) >> frac);
	}
	return t + cpu->virt_tsc_offset;
}

#endif
