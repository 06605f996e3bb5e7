/*
 * cpu/x87/mmx_state.h — the MMX <-> x87 interaction, for the MMX handlers
 * (SDM Vol. 1 §9.5 and Table 9-2). MMX register i is the significand of
 * physical x87 register i (cpu->fpu.fpr[i].mant), not ST(i).
 *
 * Every MMX instruction except EMMS: x87_mmx_check() first (#UD if CR0.EM,
 * #NM if CR0.TS, then a pending unmasked x87 exception: #MF, or with
 * CR0.NE = 0 FERR# and the freeze), then
 * x87_mmx_enter() (TOP = 0, all tags valid), and writes of an MMX register
 * go through x87_mmx_write() (the exponent/sign field becomes all ones).
 * EMMS (0F 77, cpu/x87/ops_fxsave.c) tags every register empty.
 */
#ifndef NESTBOX_CPU_X87_MMX_STATE_H
#define NESTBOX_CPU_X87_MMX_STATE_H

#include <stdint.h>

#include "cpu/cpu.h"

/* TOP = 0 and every tag valid (00): done by each MMX instruction. */
void x87_mmx_enter(struct cpu *cpu);

/* A pending unmasked x87 exception (FSW.ES) at a waiting instruction: #MF
 * with CR0.NE = 1, the FERR#/IGNNE# protocol with NE = 0 (x87_core.c). */
void x87_pending(struct cpu *cpu);

/* Fault checks every MMX instruction makes before anything else. */
static inline void x87_mmx_check(struct cpu *cpu)
{
	if (cpu->cr0 & CR0_EM)
		cpu_ud(cpu);
	if (cpu->cr0 & CR0_TS)
		cpu_exception(cpu, EXC_NM, NO_ERRCODE);
	if (__builtin_expect((cpu->fpu.fsw & 0x0080) != 0, 0)) /* FSW.ES */
		x87_pending(cpu);
}

static inline uint64_t x87_mmx_read(const struct cpu *cpu, int i)
{
	return cpu->fpu.fpr[i & 7].mant;
}

/* Writing MMi sets bits 79:64 of physical register i to all ones. */
static inline void x87_mmx_write(struct cpu *cpu, int i, uint64_t v)
{
	cpu->fpu.fpr[i & 7].mant = v;
	cpu->fpu.fpr[i & 7].sexp = 0xffff;
}

#endif
