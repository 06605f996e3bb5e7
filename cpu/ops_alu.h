/*
 * cpu/ops_alu.h — private glue of the integer ALU and bit-manipulation
 * handler files (ops_alu*.c, ops_bit*.c): sub-registration functions and the
 * small inline operand/flag helpers they share. Not a contract header.
 */
#ifndef NESTBOX_CPU_OPS_ALU_H
#define NESTBOX_CPU_OPS_ALU_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/insn.h"

/* Called by ops_alu_register() (ops_alu.c). */
void ops_alu_shift_register(void);
void ops_alu_muldiv_register(void);
void ops_alu_atomic_register(void);
/* Called by ops_bit_register() (ops_bit.c). */
void ops_bit_bmi_register(void);

/* All-ones mask of an operand of size bytes (1, 2, 4, 8). */
static inline uint64_t alu_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Sign-extend the low size bytes of v. */
static inline uint64_t alu_sext(uint64_t v, unsigned size)
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

/* Most significant bit of an operand of size bytes, as 0/1. */
static inline unsigned alu_msb(uint64_t v, unsigned size)
{
	return (unsigned)(v >> (size * 8 - 1)) & 1;
}

/* Operand size of a non-byte form: the decoder only produces 2, 4 or 8;
 * saying so lets the compiler drop the byte-register path of gpr_rd/gpr_wr
 * from the hot handlers. */
static inline unsigned ev_size(const struct insn *in)
{
	unsigned s = in->osz;

	if (s != 2 && s != 4 && s != 8)
		__builtin_unreachable();
	return s;
}

/* General-purpose register r as an operand of size bytes (size 1 selects
 * AH..BH for 4-7 unless a REX prefix is present). */
static inline uint64_t gpr_rd(const struct cpu *c, const struct insn *in, int r, unsigned size)
{
	if (size == 1)
		return reg8_get(c, r, in->pfx & PFX_REX);
	return reg_get(c, r, (int)size);
}

/* Write register r with operand size: 8/16-bit keep the rest, 32-bit
 * zero-extends. */
static inline void gpr_wr(struct cpu *c, const struct insn *in, int r, unsigned size, uint64_t v)
{
	if (size == 1)
		reg8_set(c, r, in->pfx & PFX_REX, (uint8_t)v);
	else
		reg_set(c, r, (int)size, v);
}

/* ZF, SF, PF of a result of size bytes. */
static inline uint32_t alu_szp(uint64_t res, unsigned size)
{
	uint32_t f = __builtin_parity((unsigned)(res & 0xff)) ? 0 : F_PF;

	if ((res & alu_mask(size)) == 0)
		f |= F_ZF;
	if (alu_msb(res, size))
		f |= F_SF;
	return f;
}

/* Store fully materialised arithmetic flags into the lazy state. */
static inline void lf_set_eflags(struct cpu *c, uint32_t f)
{
	lf_set(c, CC_OP(CC_EFLAGS, 1), f & F_ARITH, 0, 0);
}

/* Operand size of a VEX-encoded GPR instruction (BMI1/BMI2): VEX.W selects
 * 64 bits in 64-bit mode only (SDM Vol. 2 §2.5.1; W is ignored elsewhere). */
static inline unsigned vex_gpr_size(const struct cpu *c, const struct insn *in)
{
	return in->vexw && c->mode == MODE_LONG64 ? 8 : 4;
}

#endif
