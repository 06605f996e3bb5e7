/*
 * cpu/ops_int.h — private glue between the data/control handler files
 * (ops_data.c, ops_string.c, ops_bcd.c, ops_ctrl.c, ops_stack.c): their
 * sub-registration functions and a few small inline helpers they share.
 * Not a contract header: nothing outside these files includes it.
 */
#ifndef NESTBOX_CPU_OPS_INT_H
#define NESTBOX_CPU_OPS_INT_H

#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/insn.h"

/* Sub-registration: ops_data_register() calls the first two,
 * ops_ctrl_register() the third. */
void ops_string_register(void);
void ops_bcd_register(void);
void ops_stack_register(void);

/* All-ones mask of a size in bytes (1, 2, 4 or 8). */
static inline uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Sign-extend the low size bytes of v. */
static inline uint64_t sext(uint64_t v, unsigned size)
{
	switch (size) {
	case 1:
		return (uint64_t)(int64_t)(int8_t)v;
	case 2:
		return (uint64_t)(int64_t)(int16_t)v;
	case 4:
		return (uint64_t)(int64_t)(int32_t)v;
	default:
		return v;
	}
}

/* Write v to the low asz bytes of a register used as an address/count
 * (rSI, rDI, rCX): 16-bit keeps the upper bits, 32-bit zero-extends like any
 * 32-bit register write. */
static inline void reg_set_asz(struct cpu *c, int r, unsigned asz, uint64_t v)
{
	reg_set(c, r, (int)asz, v);
}

/* Operand size of a stack push/pop: in 64-bit mode 8, or 2 with a 66 prefix
 * (SDM Vol. 1 §6.2.5: 32-bit pushes do not exist there). Re-derived here so
 * the stack family does not depend on the decoder applying d64 to every
 * group member (FF /6). */
static inline unsigned stack_osz(const struct cpu *c, const struct insn *in)
{
	if (c->mode == MODE_LONG64)
		return in->osz == 2 ? 2 : 8;
	return in->osz;
}

#endif
