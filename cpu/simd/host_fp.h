/*
 * cpu/simd/host_fp.h — the small interface between the SSE floating-point
 * handlers (ops_simd_fp.c) and the code that actually computes IEEE results.
 *
 * Every function runs one operation under a guest MXCSR value (rounding
 * control, FTZ, DAZ honoured; the result is always the MASKED response) and
 * returns the exception flags hardware reports (MXCSR bits 5:0). The caller
 * decides about unmasked exceptions (fp_raise in simd.h) and commits the
 * result. The only flag that depends on the mask bits is PE next to an
 * unmasked OE/UE (rounding with an unbounded exponent, SDM Vol. 1 §11.5.2.4),
 * which hfp_vec reports as hardware does; an exact tiny result under an
 * unmasked UE is left to the caller (simd.h users: tiny_exact).
 *
 * Implementations: host_fp_x86.c runs the very same SSE instruction on an
 * x86-64 host, which is bit-exact by construction. Other hosts (AArch64)
 * need a soft-float implementation of this interface; it does not exist yet.
 */
#ifndef NESTBOX_CPU_SIMD_HOST_FP_H
#define NESTBOX_CPU_SIMD_HOST_FP_H

#include <stdint.h>

#include "cpu/cpu.h"

/* Two-operand vector operations: d = op(d, s[, imm]), exactly like the SSE
 * instruction "op xmm_d, xmm_s" (scalar forms keep d's upper elements). */
enum hfp_op {
	/* groups of four: PS, SS, PD, SD */
	HFP_ADD,
	HFP_SUB = HFP_ADD + 4,
	HFP_MUL = HFP_SUB + 4,
	HFP_DIV = HFP_MUL + 4,
	HFP_MIN = HFP_DIV + 4,
	HFP_MAX = HFP_MIN + 4,
	HFP_SQRT = HFP_MAX + 4,
	HFP_CMP = HFP_SQRT + 4,  /* imm 0-7 */
	HFP_ROUND = HFP_CMP + 4, /* imm 0-15 */
	HFP_ADDSUBPS = HFP_ROUND + 4,
	HFP_ADDSUBPD,
	HFP_HADDPS,
	HFP_HADDPD,
	HFP_HSUBPS,
	HFP_HSUBPD,
	HFP_CVTPS2PD,
	HFP_CVTPD2PS,
	HFP_CVTSS2SD,
	HFP_CVTSD2SS,
	HFP_CVTDQ2PS,
	HFP_CVTPS2DQ,
	HFP_CVTTPS2DQ,
	HFP_CVTDQ2PD,
	HFP_CVTPD2DQ,
	HFP_CVTTPD2DQ,
	HFP_NOPS
};
/* Offsets inside a group of four. */
enum {
	HFP_PS = 0,
	HFP_SS = 1,
	HFP_PD = 2,
	HFP_SD = 3
};

uint32_t hfp_vec(int op, union xmm *d, const union xmm *s, unsigned imm, uint32_t mxcsr);

/* (U)COMISS/(U)COMISD of a's and b's low elements. kind: bit 0 = signalling
 * (COMIS*), bit 1 = double. *zpc gets ZF/PF/CF in RFLAGS bit positions. */
uint32_t hfp_comi(int kind, const union xmm *a, const union xmm *b, uint32_t mxcsr, uint32_t *zpc);

/* CVT(T)SS2SI / CVT(T)SD2SI of s's low element. kind: bit 0 = truncate,
 * bit 1 = double source, bit 2 = 64-bit result. */
uint32_t hfp_cvt2si(int kind, const union xmm *s, uint32_t mxcsr, uint64_t *out);

/* CVTSI2SS / CVTSI2SD into d's low element. kind: bit 1 = double result,
 * bit 2 = 64-bit integer source. */
uint32_t hfp_cvtsi(int kind, union xmm *d, uint64_t v, uint32_t mxcsr);

#endif
