/*
 * cpu/ops_prot.h — handlers of the protected-mode family defined outside
 * cpu/ops_prot.c (far transfers in cpu/ops_far.c, IRET in cpu/iret.c), so
 * ops_prot_register() can list them in its table. Private to the family.
 */
#ifndef NESTBOX_CPU_OPS_PROT_H
#define NESTBOX_CPU_OPS_PROT_H

#include "cpu/cpu.h"
#include "cpu/insn.h"

void op_jmp_far_ptr(struct cpu *cpu, const struct insn *in);  /* EA */
void op_call_far_ptr(struct cpu *cpu, const struct insn *in); /* 9A */
void op_jmp_far_mem(struct cpu *cpu, const struct insn *in);  /* FF /5 */
void op_call_far_mem(struct cpu *cpu, const struct insn *in); /* FF /3 */
void op_retf(struct cpu *cpu, const struct insn *in);         /* CB */
void op_retf_imm(struct cpu *cpu, const struct insn *in);     /* CA iw */
void op_iret(struct cpu *cpu, const struct insn *in);         /* CF */

#endif
