/*
 * cpu/x87/f80.h — operations on the 80-bit extended-precision format, the
 * only place that knows how x87 results are computed.
 *
 * Every operation takes the guest's control word (precision control, rounding
 * control and, where it matters, the OE/UE/PE masks) and returns the status
 * word the operation produced: exception flags IE DE ZE OE UE PE (bits 5:0)
 * and the condition codes C0-C3 (bits 8, 9, 10, 14). Callers in cpu/x87/
 * decide what is committed to the guest (masked/unmasked responses, stack
 * faults, tags, TOP).
 *
 * Host implementation (f80.c): x86-64 only. It runs the same x87 instruction
 * on the host FPU with the guest's control word, so results, condition codes
 * and flags are bit-exact by construction (including pseudo-denormals,
 * unnormals, NaN propagation and the transcendentals' exact bits). IM, DM and
 * ZM are always forced on for the host (the guest layer suppresses the result
 * when the guest has them unmasked, SDM Vol. 1 §8.5.1-8.5.3); OM/UM/PM follow
 * the guest, so unmasked overflow/underflow produce the re-biased result and
 * the "tiny regardless of inexact" underflow condition of §8.5.4-8.5.5.
 *
 * FUTURE WORK: a portable soft-float implementation of this interface for
 * non-x86 hosts (AArch64). Until then other hosts fail at compile time.
 */
#ifndef NESTBOX_CPU_X87_F80_H
#define NESTBOX_CPU_X87_F80_H

#include <stdint.h>

#include "cpu/cpu.h"

/* struct fpreg {mant; sexp} has exactly the little-endian m80 layout in its
 * first ten bytes, so it is passed to the host FPU as is. */
typedef struct fpreg f80;

/* Status-word bits produced by the operations (same as the FSW layout). */
#define F80_IE  0x0001
#define F80_DE  0x0002
#define F80_ZE  0x0004
#define F80_OE  0x0008
#define F80_UE  0x0010
#define F80_PE  0x0020
#define F80_C0  0x0100
#define F80_C1  0x0200
#define F80_C2  0x0400
#define F80_C3  0x4000
#define F80_EXC 0x003f
#define F80_CC  (F80_C0 | F80_C1 | F80_C2 | F80_C3)

/* Two-operand operations whose result replaces the first operand
 * (x = ST(0)-like operand, y = second operand): r = x op y. */
enum f80_op2 {
	F80_ADD,
	F80_SUB,
	F80_MUL,
	F80_DIV,
	F80_SUBR,
	F80_DIVR,  /* r = y - x, r = y / x (FSUBR/FDIVR register forms) */
	F80_PREM,  /* FPREM: r = x rem y (truncating), C0 C1 C3 quotient, C2 partial */
	F80_PREM1, /* FPREM1: IEEE remainder */
	F80_SCALE, /* FSCALE: r = x * 2^trunc(y) */
	F80_ATAN,  /* FPATAN: r = atan(y / x) with y = ST(1), x = ST(0) */
	F80_YL2X,  /* FYL2X: r = y * log2(x) */
	F80_YL2XP1 /* FYL2XP1: r = y * log2(x + 1) */
};
uint16_t f80_op2(enum f80_op2 op, uint16_t cw, const f80 *x, const f80 *y, f80 *r);

/* Arithmetic with a memory operand, as D8/DA/DC/DE /reg with mod != 3:
 * form 0 = m32 real (D8), 1 = m32 integer (DA), 2 = m64 real (DC),
 * 3 = m16 integer (DE), i.e. (opcode >> 1) & 3; reg = ModRM.reg (0 FADD,
 * 1 FMUL, 2/3 FCOM (r = x), 4 FSUB, 5 FSUBR, 6 FDIV, 7 FDIVR). r = x op m. */
uint16_t f80_op_mem(int form, int reg, uint16_t cw, const f80 *x, const void *m, f80 *r);

/* One-operand operations: r = op(x). FSIN/FCOS leave r = x and set C2 when
 * |x| >= 2^63. */
enum f80_op1 {
	F80_SQRT,
	F80_RNDINT,
	F80_F2XM1,
	F80_SIN,
	F80_COS
};
uint16_t f80_op1(enum f80_op1 op, uint16_t cw, const f80 *x, f80 *r);

/* Operations that may push a second result: FPTAN (r0 = 1.0 pushed,
 * r1 = tan x), FSINCOS (r0 = cos, r1 = sin), FXTRACT (r0 = significand,
 * r1 = exponent). *n receives the number of results the host produced: 2, or
 * 1 when FPTAN/FSINCOS found the operand out of range (C2 set, r1 = x). */
enum f80_op1x2 {
	F80_PTAN,
	F80_SINCOS,
	F80_XTRACT
};
uint16_t f80_op1x2(enum f80_op1x2 op, uint16_t cw, const f80 *x, f80 *r0, f80 *r1, int *n);

/* Comparisons: C0 C2 C3 as FCOM/FUCOM/FTST/FXAM set them. */
enum f80_cmp {
	F80_COM,
	F80_UCOM
};
uint16_t f80_cmp(enum f80_cmp op, uint16_t cw, const f80 *x, const f80 *y);
uint16_t f80_tst(uint16_t cw, const f80 *x);
uint16_t f80_xam(const f80 *x);

/* Loads from memory formats (exact except for flags: SNaN and denormal
 * m32/m64 operands raise IE/DE). size = 4 or 8 for floats; 2, 4 or 8 for
 * integers; FBLD takes the 10-byte packed BCD. */
uint16_t f80_from_float(uint16_t cw, const void *m, int size, f80 *r);
void f80_from_int(int64_t v, f80 *r);
void f80_from_bcd(const void *m, f80 *r);

/* Stores to memory formats: m receives the bytes the host produced (only
 * meaningful if the caller decides to commit). FIST/FISTTP/FBSTP results of
 * invalid operations are the integer/BCD indefinite. */
uint16_t f80_to_float(uint16_t cw, const f80 *x, void *m, int size);
uint16_t f80_to_int(uint16_t cw, const f80 *x, void *m, int size, int truncate);
uint16_t f80_to_bcd(uint16_t cw, const f80 *x, void *m);

/* Constants (D9 E8-EE order: 1, L2T, L2E, PI, LG2, LN2, Z), rounded under
 * cw's rounding control as the hardware does. */
void f80_const(uint16_t cw, int which, f80 *r);

#endif
