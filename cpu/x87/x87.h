/*
 * cpu/x87/x87.h — private API of the x87 family (the files of cpu/x87/): register
 * stack access, tags, entry checks (#NM, pending #MF), FIP/FDP/FOP
 * bookkeeping and the commit rules for exception flags (SDM Vol. 1 ch. 8).
 *
 * Stack model: physical registers fpu.fpr[0..7]; ST(i) is fpr[(TOP+i) & 7]
 * with TOP in FSW bits 13:11; ftw keeps the full 2-bit tag of each physical
 * register (00 valid, 01 zero, 10 special, 11 empty), always consistent with
 * the register contents (FLDENV/FRSTOR/FXRSTOR recompute non-empty tags).
 */
#ifndef NESTBOX_CPU_X87_X87_H
#define NESTBOX_CPU_X87_X87_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "cpu/x87/f80.h"

/* Status word (SDM Vol. 1 Figure 8-4). */
#define FSW_IE  0x0001
#define FSW_DE  0x0002
#define FSW_ZE  0x0004
#define FSW_OE  0x0008
#define FSW_UE  0x0010
#define FSW_PE  0x0020
#define FSW_SF  0x0040
#define FSW_ES  0x0080
#define FSW_C0  0x0100
#define FSW_C1  0x0200
#define FSW_C2  0x0400
#define FSW_TOP 0x3800
#define FSW_C3  0x4000
#define FSW_B   0x8000
#define FSW_EXC 0x003f
#define FSW_CC  (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* Control word (Figure 8-6): masks in 5:0, PC 9:8, RC 11:10. */
#define FCW_MASKS 0x003f
#define FCW_INIT  0x037f

#define TAG_VALID   0u
#define TAG_ZERO    1u
#define TAG_SPECIAL 2u
#define TAG_EMPTY   3u

/* The QNaN floating-point indefinite (SDM Vol. 1 Table 4-3). */
static const f80 x87_indefinite = { 0xc000000000000000ull, 0xffff };

static inline unsigned x87_top(const struct cpu *c)
{
	return (c->fpu.fsw >> 11) & 7;
}
static inline void x87_set_top(struct cpu *c, unsigned top)
{
	c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~FSW_TOP) | (top & 7) << 11);
}
static inline unsigned x87_phys(const struct cpu *c, unsigned i)
{
	return (x87_top(c) + i) & 7;
}
static inline unsigned x87_tag(const struct cpu *c, unsigned phys)
{
	return (c->fpu.ftw >> (2 * phys)) & 3;
}
static inline void x87_set_tag(struct cpu *c, unsigned phys, unsigned tag)
{
	c->fpu.ftw = (uint16_t)((c->fpu.ftw & ~(3u << (2 * phys))) | tag << (2 * phys));
}
static inline bool x87_empty(const struct cpu *c, unsigned i)
{
	return x87_tag(c, x87_phys(c, i)) == TAG_EMPTY;
}
static inline f80 *x87_st(struct cpu *c, unsigned i)
{
	return &c->fpu.fpr[x87_phys(c, i)];
}

/* Tag a value would get (SDM Vol. 1 §8.1.7): zero, valid (normal with the
 * integer bit set), or special (NaN, infinity, denormal, unsupported). */
static inline unsigned f80_tag(const f80 *v)
{
	unsigned e = v->sexp & 0x7fff;

	if (e == 0)
		return v->mant == 0 ? TAG_ZERO : TAG_SPECIAL;
	if (e == 0x7fff || !(v->mant >> 63))
		return TAG_SPECIAL;
	return TAG_VALID;
}

/* ST(i) = v. */
static inline void x87_write(struct cpu *c, unsigned i, const f80 *v)
{
	unsigned p = x87_phys(c, i);

	c->fpu.fpr[p] = *v;
	x87_set_tag(c, p, f80_tag(v));
}
static inline void x87_pop(struct cpu *c)
{
	x87_set_tag(c, x87_top(c), TAG_EMPTY);
	x87_set_top(c, x87_top(c) + 1);
}
static inline void x87_push(struct cpu *c, const f80 *v)
{
	x87_set_top(c, x87_top(c) - 1);
	x87_write(c, 0, v);
}
/* Would a push overflow (ST(7) in use)? */
static inline bool x87_full(const struct cpu *c)
{
	return x87_tag(c, (x87_top(c) + 7) & 7) != TAG_EMPTY;
}
static inline void x87_set_cc(struct cpu *c, uint16_t mask, uint16_t v)
{
	c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~mask) | (v & mask));
}
static inline bool x87_im(const struct cpu *c)
{
	return c->fpu.fcw & FSW_IE;
}
/* What a load of the control word keeps: bits 15:13 read as 0 and bit 6 as
 * 1 (FSTCW after FLDCW 0000h / FFFFh on hardware gives 0040h / 1F7Fh). */
static inline uint16_t x87_fcw_norm(uint32_t v)
{
	return (uint16_t)((v & 0x1f3f) | 0x0040);
}
/* ---- FERR# (x87_core.c) ---- */

/* Drive FERR# from FSW.ES (asserted only while CR0.NE = 0) through the
 * board's cpu->ferr hook. */
void x87_ferr_sync(struct cpu *c);
/* After anything that may change ES from old_fsw's: FERR# follows. P6 and
 * later and AMD assert it at the end of the instruction that raised the
 * unmasked exception (SDM Vol. 3 "Architecture Compatibility", "Assertion
 * of the FERR# Pin"; APM Vol. 1 "x87 Floating-Point Exceptions", "FERR#
 * and IGNNE# Signals"), and it drops when ES is cleared (FNCLEX, FNINIT,
 * FLDCW/FLDENV/FRSTOR/FXRSTOR/XRSTOR). */
static inline void x87_ferr_update(struct cpu *c, uint16_t old_fsw)
{
	if (__builtin_expect(((old_fsw ^ c->fpu.fsw) & FSW_ES) != 0, 0))
		x87_ferr_sync(c);
}

/* ES and B follow the unmasked pending flags (after FLDCW, FLDENV, ...). */
static inline void x87_update_es(struct cpu *c)
{
	uint16_t old = c->fpu.fsw;

	if (c->fpu.fsw & ~c->fpu.fcw & FSW_EXC)
		c->fpu.fsw |= FSW_ES | FSW_B;
	else
		c->fpu.fsw &= (uint16_t) ~(FSW_ES | FSW_B);
	x87_ferr_update(c, old);
}

/* ---- entry checks (SDM Vol. 3 Table 2-2; Vol. 1 §8.6) ---- */

/* CR0.EM or CR0.TS: #NM before anything else. */
static inline void x87_check_nm(struct cpu *c)
{
	if (__builtin_expect(c->cr0 & (CR0_EM | CR0_TS), 0))
		cpu_exception(c, EXC_NM, NO_ERRCODE);
}
/* A waiting instruction first meets a pending unmasked exception (FSW.ES):
 * #MF with CR0.NE = 1; with NE = 0 the FERR#/IGNNE# protocol (x87_core.c:
 * proceed under IGNNE#, else the SVM FERR_FREEZE exit or a freeze until an
 * interrupt). Also used by MMX instructions (cpu/x87/mmx_state.h). */
void x87_pending(struct cpu *c);
static inline void x87_check_mf(struct cpu *c)
{
	if (__builtin_expect((c->fpu.fsw & FSW_ES) != 0, 0))
		x87_pending(c);
}
static inline void x87_begin(struct cpu *c)
{
	x87_check_nm(c);
	x87_check_mf(c);
}
/* Non-control instructions record FCS:FIP and FOP (SDM Vol. 1 §8.1.8-8.1.9);
 * those with a memory operand record FDS:FDP too. */
static inline void x87_note(struct cpu *c, const struct insn *in)
{
	c->fpu.fip = c->ip_start;
	c->fpu.fcs = c->seg[S_CS].sel;
	c->fpu.fop = (uint16_t)((in->op & 7) << 8 | in->modrm);
}
static inline void x87_note_mem(struct cpu *c, const struct insn *in, uint64_t ea)
{
	x87_note(c, in);
	c->fpu.fdp = ea;
	c->fpu.fds = c->seg[in->seg].sel;
}

/* ---- exception commit (x87_core.c) ---- */

/* Record the flags sw of an operation. Returns false when the result must
 * be discarded: an unmasked IE, DE or ZE leaves destination and TOP alone
 * (§8.5.1-8.5.3); with store_mem also an unmasked OE or UE (memory
 * destinations are not written, §8.5.4-8.5.5). Sets C1 from sw when the
 * result is kept. */
bool x87_exc(struct cpu *c, uint16_t sw, bool store_mem);
/* Stack fault (§8.5.1.1): IE|SF, C1 = 1 for overflow, 0 for underflow.
 * Returns true if masked (the caller then produces the indefinite). */
bool x87_stack_fault(struct cpu *c, bool overflow);

/* Register an x87 opcode table (ops_x87_*.c). */
void x87_register_arith(void);
void x87_register_load(void);
void x87_register_trans(void);
void x87_register_ctrl(void);
void x87_register_xsave(void);

/* FINIT state (also the XRSTOR init of component 0). */
void x87_init_state(struct cpu *c);

/* FXSAVE image (SDM Vol. 1 Table 10-2), shared by FXSAVE/XSAVE. fmt64 = the
 * REX.W format (64-bit FIP/FDP); nxmm = XMM registers saved (0, 8 or 16).
 * x87 = write the x87 part (bytes 0-23, 32-159), sse = MXCSR (24-31) and
 * the XMM registers. Bytes not written are left as they were in img. */
void x87_fxsave_image(const struct cpu *c, uint8_t *img, bool fmt64, bool x87, bool sse, int nxmm);
/* Load from an image; mxcsr must have been validated by the caller. */
void x87_fxrstor_x87(struct cpu *c, const uint8_t *img, bool fmt64);
void x87_fxrstor_sse(struct cpu *c, const uint8_t *img, int nxmm, bool mxcsr);

/* MXCSR bits that may be set (MXCSR_MASK, DAZ supported). */
#define MXCSR_MASK_VALUE 0x0000ffffu

/* Linear address of seg:off for alignment checks (64-bit mode ignores the
 * bases of CS/DS/ES/SS). */
static inline uint64_t x87_lin(const struct cpu *c, int seg, uint64_t off)
{
	if (c->mode == MODE_LONG64 && seg < S_FS)
		return off;
	return c->seg[seg].base + off;
}

#endif
