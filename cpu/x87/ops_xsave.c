/*
 * cpu/x87/ops_xsave.c — the XSAVE feature set for state components x87
 * (bit 0), SSE (bit 1) and, with protection keys, PKRU (bit 9): XSAVE,
 * XSAVEOPT, XRSTOR (0F AE /4 /6 /5) and XSAVEC (0F C7 /4), with their REX.W
 * "64" forms (SDM Vol. 1 ch. 13). XSAVES/XRSTORS are not advertised and not
 * registered.
 *
 * Layout: legacy region = the FXSAVE image (bytes 0-511), then the 64-byte
 * header at 512: XSTATE_BV (8 bytes), XCOMP_BV (8 bytes), 48 reserved. PKRU
 * (8 bytes: the register, then 4 reserved bytes) is at its CPUID.(0Dh,9)
 * offset 2688 in the standard format; in the compacted format it follows
 * the header (576), since no component 2-8 exists (§13.4.3).
 *
 * XINUSE is reported as 1 for every component at all times (allowed: the
 * processor may always consider a component in use, §13.6), so XSAVEOPT
 * behaves as XSAVE and the init optimisation is never taken on save.
 */
#include <string.h>

#include "cpu/access.h"
#include "cpu/cpuid.h"
#include "cpu/x87/x87.h"

#define XSTATE_SUPPORTED (XCR0_X87 | XCR0_SSE | XCR0_PKRU)
#define XCOMP_COMPACT    (1ull << 63)
#define PKRU_STD_OFF     2688u
#define PKRU_COMPACT_OFF 576u

static inline uint64_t rd64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, 8);
	return v;
}

/* #UD unless CR4.OSXSAVE, #NM if CR0.TS, #GP(0) unless 64-byte aligned
 * (XSAVE page, Protected Mode Exceptions). Returns the offset. */
static uint64_t xs_prologue(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea;

	if (!(cpu->cr4 & CR4_OSXSAVE))
		cpu_ud(cpu);
	if (cpu->cr0 & CR0_TS)
		cpu_exception(cpu, EXC_NM, NO_ERRCODE);
	ea = insn_ea(cpu, in);
	if (x87_lin(cpu, in->seg, ea) & 63)
		cpu_gp(cpu, 0);
	return ea;
}

static inline uint64_t xs_rfbm(const struct cpu *cpu)
{
	uint64_t edx_eax = (uint64_t)(uint32_t)cpu->gpr[R_DX] << 32 | (uint32_t)cpu->gpr[R_AX];

	return cpu->xcr0 & edx_eax & XSTATE_SUPPORTED;
}

static inline bool xs_fmt64(const struct cpu *cpu, const struct insn *in)
{
	return cpu->mode == MODE_LONG64 && (in->pfx & PFX_REXW);
}

static void xsave_common(struct cpu *cpu, const struct insn *in, bool compact)
{
	uint64_t ea = xs_prologue(cpu, in), rfbm = xs_rfbm(cpu), hdr[2];
	unsigned nxmm = cpu->mode == MODE_LONG64 ? 16 : 8;
	uint8_t img[512];

	uint64_t pkru_off = compact ? PKRU_COMPACT_OFF : PKRU_STD_OFF;
	cpu_probe_write(cpu, in->seg, ea, 512 + 64);
	if (rfbm & XCR0_PKRU)
		cpu_probe_write(cpu, in->seg, ea + pkru_off, 8);
	x87_fxsave_image(cpu, img, xs_fmt64(cpu, in), rfbm & 1, rfbm & 2, (int)nxmm);
	/* x87: bytes 0-23 and 32-159; SSE: MXCSR(_MASK) 24-31 and the XMMs. */
	if ((rfbm & 3) == 3) {
		cpu_wrn(cpu, in->seg, ea, img, 160 + 16 * nxmm);
	} else if (rfbm & 1) {
		cpu_wrn(cpu, in->seg, ea, img, 24);
		cpu_wrn(cpu, in->seg, ea + 32, img + 32, 128);
	} else if (rfbm & 2) {
		cpu_wrn(cpu, in->seg, ea + 24, img + 24, 8);
		cpu_wrn(cpu, in->seg, ea + 160, img + 160, 16 * nxmm);
	}
	if (rfbm & XCR0_PKRU)
		cpu_wr64(cpu, in->seg, ea + pkru_off, cpu->pkru);
	if (compact) {
		/* §13.10: XSTATE_BV = XINUSE & RFBM, XCOMP_BV = RFBM | bit 63. */
		hdr[0] = rfbm;
		hdr[1] = rfbm | XCOMP_COMPACT;
		cpu_wrn(cpu, in->seg, ea + 512, hdr, 16);
	} else {
		/* §13.7: only XSTATE_BV[i] for i in RFBM is written. */
		hdr[0] = cpu_rd64(cpu, in->seg, ea + 512) | rfbm;
		cpu_wr64(cpu, in->seg, ea + 512, hdr[0]);
	}
}

/* 0F AE /4 XSAVE, 0F AE /6 XSAVEOPT. */
static void op_xsave(struct cpu *cpu, const struct insn *in)
{
	xsave_common(cpu, in, false);
}

/* 0F C7 /4 XSAVEC. */
static void op_xsavec(struct cpu *cpu, const struct insn *in)
{
	xsave_common(cpu, in, true);
}

/* 0F AE /5 XRSTOR (§13.8). Every check and read precedes any change. */
static void op_xrstor(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea = xs_prologue(cpu, in), rfbm = xs_rfbm(cpu), xstate_bv, xcomp_bv;
	unsigned nxmm = cpu->mode == MODE_LONG64 ? 16 : 8;
	uint8_t hdr[64], img[512];
	uint32_t mxcsr = 0x1f80;
	bool compact;

	cpu_rdn(cpu, in->seg, ea + 512, hdr, 64);
	xstate_bv = rd64(hdr);
	xcomp_bv = rd64(hdr + 8);
	compact = xcomp_bv & XCOMP_COMPACT;
	if (compact) {
		/* §13.8.1: compacted form needs XSAVEC support, XCOMP_BV within
		 * XCR0 | IA32_XSS, XSTATE_BV within XCOMP_BV, bytes 63:16 zero. */
		uint64_t comp = xcomp_bv & ~XCOMP_COMPACT;
		bool has_xsavec = !cpu->model || model_has(cpu->model, FEAT_XSAVEC);

		if (!has_xsavec || (comp & ~(cpu->xcr0 | cpu->msr.xss)) || (xstate_bv & ~comp))
			cpu_gp(cpu, 0);
		for (int i = 16; i < 64; i++)
			if (hdr[i])
				cpu_gp(cpu, 0);
	} else {
		/* Standard form: XSTATE_BV within XCR0, bytes 23:8 zero. */
		if (xstate_bv & ~cpu->xcr0)
			cpu_gp(cpu, 0);
		for (int i = 8; i < 24; i++)
			if (hdr[i])
				cpu_gp(cpu, 0);
	}
	cpu_rdn(cpu, in->seg, ea, img, 512);
	/* PKRU: from memory when XSTATE_BV[9], else its initial value 0. */
	uint32_t pkru = 0;
	if ((rfbm & XCR0_PKRU) && (xstate_bv & XCR0_PKRU))
		pkru = cpu_rd32(cpu, in->seg, ea + (compact ? PKRU_COMPACT_OFF : PKRU_STD_OFF));
	/* MXCSR: the standard form loads it whenever RFBM[1] (even with
	 * XSTATE_BV[1] = 0); the compacted form only with XSTATE_BV[1] = 1
	 * and initialises it otherwise. */
	if ((rfbm & 2) && (!compact || (xstate_bv & 2))) {
		memcpy(&mxcsr, img + 24, 4);
		if (mxcsr & ~MXCSR_MASK_VALUE)
			cpu_gp(cpu, 0);
	}
	if (rfbm & 1) {
		if (xstate_bv & 1) {
			x87_fxrstor_x87(cpu, img, xs_fmt64(cpu, in));
		} else {
			x87_init_state(cpu);
			memset(cpu->fpu.fpr, 0, sizeof(cpu->fpu.fpr));
		}
	}
	if (rfbm & 2) {
		if (xstate_bv & 2)
			x87_fxrstor_sse(cpu, img, (int)nxmm, false);
		else
			memset(cpu->fpu.xmm, 0, 16 * (size_t)nxmm);
		cpu->fpu.mxcsr = mxcsr;
	}
	if (rfbm & XCR0_PKRU)
		cpu_set_pkru(cpu, pkru);
}

#define MEMX(opc, r, fn, nm, f)                                                 \
	{                                                                       \
		opc, MP_NONE, r, OPT_ANY, OPT_MOD_MEM, 0, OPT_ANY, 0, f, fn, nm \
	}

static const struct optab_entry x87_xsave_tab[] = {
	MEMX(0x1ae, 4, op_xsave, "xsave", FEAT_XSAVE),
	MEMX(0x1ae, 5, op_xrstor, "xrstor", FEAT_XSAVE),
	MEMX(0x1ae, 6, op_xsave, "xsaveopt", FEAT_XSAVEOPT),
	MEMX(0x1c7, 4, op_xsavec, "xsavec", FEAT_XSAVEC),
};

void x87_register_xsave(void)
{
	optab_add_many(x87_xsave_tab, (int)(sizeof(x87_xsave_tab) / sizeof(x87_xsave_tab[0])));
}
