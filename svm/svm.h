/*
 * svm/svm.h — what the rest of nestbox calls in the AMD SVM implementation
 * (AMD APM Vol. 2 ch. 15).
 *
 * Callers: cpu/optab.c calls ops_svm_register() (declared in cpu/insn.h)
 * to register VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT and
 * INVLPGA; the execution loop must not accept interrupts or NMIs while
 * svm_gif() is false (APM Vol. 2 §15.17, the global interrupt flag); the
 * CPU core should call svm_reset() from cpu_reset() and svm_free() from
 * cpu_free(). While an SVM guest runs, cpu->virt points at the SVM
 * operations (cpu/virt.h) and cpu->svm holds struct svm_state
 * (svm/svm_state.h); cpu->svm == NULL means SVM was never used.
 */
#ifndef NESTBOX_SVM_SVM_H
#define NESTBOX_SVM_SVM_H

#include <stdbool.h>

#include "cpu/cpu.h"

/* Out-of-line part of svm_gif. */
bool svm_gif_slow(const struct cpu *cpu);

/* The global interrupt flag (APM Vol. 2 §15.17): false between CLGI (or a
 * #VMEXIT) and STGI (or VMRUN). While it is false, INTR, NMI, SMI and INIT
 * are held pending. True whenever SVM was never used. */
static inline bool svm_gif(const struct cpu *cpu)
{
	if (__builtin_expect(cpu->svm == NULL, 1))
		return true;
	return svm_gif_slow(cpu);
}

/* RESET / INIT: GIF = 1, leave any guest (RESET forgets everything). */
void svm_reset(struct cpu *cpu, bool init_only);
/* Free cpu->svm (cpu_free). */
void svm_free(struct cpu *cpu);

#endif
