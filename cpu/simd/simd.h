/*
 * cpu/simd/simd.h — private helpers of the MMX/SSE family (cpu/simd/ files):
 * the availability checks every MMX/SSE instruction starts with, MMX register
 * access (aliasing the x87 registers), XMM operand loads/stores with the
 * legacy-SSE alignment rule, and MXCSR exception delivery.
 *
 * Not a contract header: only files in cpu/simd/ include it.
 */
#ifndef NESTBOX_CPU_SIMD_SIMD_H
#define NESTBOX_CPU_SIMD_SIMD_H

#include <string.h>

#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/x87/mmx_state.h"

#define SIMD_INLINE static inline __attribute__((always_inline))

/* MXCSR bits (SDM Vol. 1 10.2.3). */
#define MXCSR_IE         0x0001
#define MXCSR_DE         0x0002
#define MXCSR_ZE         0x0004
#define MXCSR_OE         0x0008
#define MXCSR_UE         0x0010
#define MXCSR_PE         0x0020
#define MXCSR_FLAGS      0x003f
#define MXCSR_DAZ        0x0040
#define MXCSR_MASKS      0x1f80
#define MXCSR_MASK_SHIFT 7
#define MXCSR_RC_SHIFT   13
#define MXCSR_FTZ        0x8000

/* x87 status word: ES (exception summary) bit. */
#define FSW_ES 0x0080

/*
 * SSE/SSE2/SSE3/SSSE3/SSE4 availability (SDM Vol. 2 Table 2-20 / 22-x "Type"
 * exception classes): #UD if CR0.EM=1 or CR4.OSFXSR=0, then #NM if CR0.TS=1.
 */
SIMD_INLINE void sse_check(struct cpu *c)
{
	if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
		cpu_ud(c);
	if (c->cr0 & CR0_TS)
		cpu_exception(c, EXC_NM, NO_ERRCODE);
}

/* MMX instructions: #UD if CR0.EM, #NM if CR0.TS, #MF if an unmasked x87
 * exception is pending (x87 worker's cpu/x87/mmx_state.h, SDM Vol. 1 9.5). */
SIMD_INLINE void mmx_check(struct cpu *c)
{
	x87_mmx_check(c);
}

/* SSE instructions with an MMX operand (CVTPI2PS, MOVQ2DQ...): the SSE checks,
 * then the pending x87 exception (#MF). */
SIMD_INLINE void sse_mmx_check(struct cpu *c)
{
	sse_check(c);
	if (__builtin_expect((c->fpu.fsw & FSW_ES) != 0, 0))
		x87_pending(c); /* #MF, or with CR0.NE = 0 FERR#/IGNNE# */
}

/* Executing an MMX instruction puts the x87 unit in MMX state: TOP = 0 and
 * every tag valid (SDM Vol. 1 9.5.1). Done after the instruction's last
 * possible fault, so a faulting instruction leaves the x87 state alone. */
SIMD_INLINE void mmx_enter(struct cpu *c)
{
	x87_mmx_enter(c);
}

/* MMX register i is the significand of physical x87 register i; writing it
 * sets the exponent field to all ones (SDM Vol. 1 9.5.1). */
SIMD_INLINE uint64_t mmx_get(const struct cpu *c, int i)
{
	return x87_mmx_read(c, i);
}
SIMD_INLINE void mmx_set(struct cpu *c, int i, uint64_t v)
{
	x87_mmx_write(c, i, v);
}

/* MMX r/m source operand (64 bits; memory needs no alignment). */
SIMD_INLINE uint64_t mmx_src(struct cpu *c, const struct insn *in)
{
	if (in->mod == 3)
		return mmx_get(c, in->rm);
	return cpu_rd64(c, in->seg, insn_ea(c, in));
}

/*
 * Load a 16-byte memory operand. Legacy-SSE m128 operands must be 16-byte
 * aligned (linear address) unless the instruction is an unaligned form
 * (MOVUPS, MOVDQU, LDDQU, PCMPxSTRx, ...): #GP(0), also for SS-based operands
 * (SDM Vol. 2 §2.5, exception classes 1 and 4 vs 4UA).
 */
SIMD_INLINE void xmm_load_mem(struct cpu *c, const struct insn *in, union xmm *v, bool aligned)
{
	uint64_t ea = insn_ea(c, in);
	if (aligned) {
		uint64_t lin = seg_lin(c, in->seg, ea, 16, ACC_READ);
		if (lin & 15)
			cpu_gp(c, 0);
		lin_rdn(c, lin, v, 16, ACC_READ);
	} else {
		cpu_rdn(c, in->seg, ea, v, 16);
	}
}

SIMD_INLINE void xmm_store_mem(struct cpu *c, const struct insn *in, const union xmm *v,
			       bool aligned)
{
	uint64_t ea = insn_ea(c, in);
	if (aligned) {
		uint64_t lin = seg_lin(c, in->seg, ea, 16, ACC_WRITE);
		if (lin & 15)
			cpu_gp(c, 0);
		lin_wrn(c, lin, v, 16, ACC_WRITE);
	} else {
		cpu_wrn(c, in->seg, ea, v, 16);
	}
}

/* Full 128-bit r/m source (register or memory). */
SIMD_INLINE void xmm_src(struct cpu *c, const struct insn *in, union xmm *v, bool aligned)
{
	if (in->mod == 3)
		*v = c->fpu.xmm[in->rm];
	else
		xmm_load_mem(c, in, v, aligned);
}

/* r/m source of which only the low n bytes are used (scalar forms, PMOVSX,
 * UNPCKL of MMX ...): memory reads exactly n bytes, unaligned; the rest of *v
 * is zero for memory operands. */
SIMD_INLINE void xmm_src_low(struct cpu *c, const struct insn *in, union xmm *v, unsigned n)
{
	if (in->mod == 3) {
		*v = c->fpu.xmm[in->rm];
		return;
	}
	v->q[0] = v->q[1] = 0;
	uint64_t ea = insn_ea(c, in);
	if (n <= 8)
		v->q[0] = cpu_rd(c, in->seg, ea, n);
	else
		cpu_rdn(c, in->seg, ea, v, n);
}

/*
 * Deliver SIMD floating-point exceptions (SDM Vol. 1 11.5.1/11.5.2): fl holds
 * the flags the operation raised with every exception masked. If any raised
 * flag is unmasked, nothing is committed: if an unmasked pre-computation
 * exception (IE, DE, ZE) is among them only pre-computation flags are
 * recorded, otherwise all; then #XM (CR4.OSXMMEXCPT=1) or #UD. Returns only
 * when the result may be committed (after ORing the flags into MXCSR).
 */
SIMD_INLINE void fp_raise(struct cpu *c, uint32_t fl)
{
	uint32_t mx = c->fpu.mxcsr;
	uint32_t unmasked = fl & ~(mx >> MXCSR_MASK_SHIFT) & MXCSR_FLAGS;
	if (__builtin_expect(unmasked != 0, 0)) {
		if (unmasked & (MXCSR_IE | MXCSR_DE | MXCSR_ZE))
			fl &= MXCSR_IE | MXCSR_DE | MXCSR_ZE;
		c->fpu.mxcsr = mx | fl;
		if (c->cr4 & CR4_OSXMMEXCPT)
			cpu_exception(c, EXC_XM, NO_ERRCODE);
		cpu_ud(c);
	}
	c->fpu.mxcsr = mx | fl;
}

typedef void (*vop_fn)(union xmm *d, const union xmm *s, int n);

/* The element-wise engine of the integer forms: dst = op(dst, src). MP_NONE
 * selects MMX operands, 66 XMM. mmx_msz: bytes read for an MMX memory source
 * (4 for the low unpacks, 8 otherwise). */
SIMD_INLINE void vbin(struct cpu *c, const struct insn *in, vop_fn f, unsigned mmx_msz)
{
	if (in->mp == MP_NONE) {
		mmx_check(c);
		union xmm d, s;
		if (in->mod == 3)
			s.q[0] = mmx_get(c, in->rm);
		else
			s.q[0] = cpu_rd(c, in->seg, insn_ea(c, in), mmx_msz);
		d.q[0] = mmx_get(c, in->reg);
		f(&d, &s, 8);
		mmx_enter(c);
		mmx_set(c, in->reg, d.q[0]);
	} else {
		sse_check(c);
		union xmm s;
		xmm_src(c, in, &s, true);
		f(&c->fpu.xmm[in->reg], &s, 16);
	}
}

/* ---- saturation ---- */
static inline int8_t sat_s8(int v)
{
	return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}
static inline uint8_t sat_u8(int v)
{
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}
static inline int16_t sat_s16(int v)
{
	return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}
static inline uint16_t sat_u16(int v)
{
	return (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
}

/* Registration of the sub-families (each in its own file). */
void simd_ssse3_sse41_register(void);
void simd_str_register(void);
void simd_aes_register(void);
void simd_fp_mov_register(void);

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

#endif
