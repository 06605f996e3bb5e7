/*
 * cpu/x87/ops_fxsave.c — x87/SSE state instructions of group 0F AE except
 * the XSAVE family (ops_xsave.c): FXSAVE/FXRSTOR (/0 /1, SDM Vol. 1 §10.5.1
 * Table 10-2/10-3/10-4), LDMXCSR/STMXCSR (/2 /3), LFENCE/MFENCE/SFENCE
 * (/5 /6 /7 register forms), CLFLUSH (/7 mem) and CLFLUSHOPT (66 /7 mem);
 * EMMS (0F 77); the FXSAVE image shared with XSAVE; x87_mmx_enter; and
 * ops_x87_state_register().
 *
 * Only the MP_NONE (and 66 for CLFLUSHOPT) forms are registered: F3 0F AE
 * /0-/3 with mod 3 (RDFSBASE..WRGSBASE) belong to another family.
 *
 * FXSAVE image (offsets in bytes):
 *   0 FCW   2 FSW   4 abridged FTW (bit i = physical Ri not empty)   6 FOP
 *   8 FIP[31:0]  12 FCS  |  REX.W form: 8 FIP[63:0]
 *  16 FDP[31:0]  20 FDS  |  REX.W form: 16 FDP[63:0]
 *  24 MXCSR  28 MXCSR_MASK   32+16i ST(i) (10 bytes + 6 zero bytes)
 * 160+16i XMMi (i < 8, or < 16 in 64-bit mode); 416-511 untouched.
 */
#include <string.h>

#include "cpu/access.h"
#include "cpu/cpuid.h"
#include "cpu/x87/mmx_state.h"
#include "cpu/x87/x87.h"

void x87_fxsave_image(const struct cpu *c, uint8_t *img, bool fmt64, bool x87, bool sse, int nxmm)
{
	const struct fpu_state *f = &c->fpu;

	if (x87) {
		uint8_t abridged = 0;
		uint32_t v32;

		for (unsigned p = 0; p < 8; p++)
			if (x87_tag(c, p) != TAG_EMPTY)
				abridged |= (uint8_t)(1u << p);
		memcpy(img + 0, &f->fcw, 2);
		memcpy(img + 2, &f->fsw, 2);
		img[4] = abridged;
		img[5] = 0;
		if (c->model && c->model->vendor == VENDOR_AMD && !(f->fsw & FSW_ES)) {
			/* AMD saves FOP/FIP/FDP only with an exception pending
			 * (APM Vol. 5 FXSAVE; what AMD hosts store). */
			memset(img + 6, 0, 18);
		} else if (fmt64) {
			memcpy(img + 6, &f->fop, 2);
			memcpy(img + 8, &f->fip, 8);
			memcpy(img + 16, &f->fdp, 8);
		} else {
			memcpy(img + 6, &f->fop, 2);
			v32 = (uint32_t)f->fip;
			memcpy(img + 8, &v32, 4);
			memcpy(img + 12, &f->fcs, 2);
			memset(img + 14, 0, 2);
			v32 = (uint32_t)f->fdp;
			memcpy(img + 16, &v32, 4);
			memcpy(img + 20, &f->fds, 2);
			memset(img + 22, 0, 2);
		}
		for (unsigned i = 0; i < 8; i++) {
			memcpy(img + 32 + 16 * i, &f->fpr[x87_phys(c, i)], 10);
			memset(img + 42 + 16 * i, 0, 6);
		}
	}
	if (sse) {
		uint32_t mask = MXCSR_MASK_VALUE;

		memcpy(img + 24, &f->mxcsr, 4);
		memcpy(img + 28, &mask, 4);
		memcpy(img + 160, f->xmm, 16 * (size_t)nxmm);
	}
}

void x87_fxrstor_x87(struct cpu *c, const uint8_t *img, bool fmt64)
{
	struct fpu_state *f = &c->fpu;
	uint16_t old = f->fsw; /* for FERR# */
	uint16_t v16;
	uint32_t v32;

	memcpy(&v16, img, 2);
	f->fcw = x87_fcw_norm(v16);
	memcpy(&f->fsw, img + 2, 2);
	memcpy(&v16, img + 6, 2);
	f->fop = v16 & 0x7ff;
	if (fmt64) {
		memcpy(&f->fip, img + 8, 8);
		memcpy(&f->fdp, img + 16, 8);
		f->fcs = f->fds = 0;
	} else {
		memcpy(&v32, img + 8, 4);
		f->fip = v32;
		memcpy(&f->fcs, img + 12, 2);
		memcpy(&v32, img + 16, 4);
		f->fdp = v32;
		memcpy(&f->fds, img + 20, 2);
	}
	for (unsigned i = 0; i < 8; i++) {
		struct fpreg *r = &f->fpr[x87_phys(c, i)];

		memcpy(&r->mant, img + 32 + 16 * i, 8);
		memcpy(&r->sexp, img + 40 + 16 * i, 2);
	}
	/* Abridged tags: 0 = empty, 1 = the class of the register contents. */
	f->ftw = 0;
	for (unsigned p = 0; p < 8; p++)
		x87_set_tag(c, p, (img[4] >> p) & 1 ? f80_tag(&f->fpr[p]) : TAG_EMPTY);
	x87_update_es(c);
	x87_ferr_update(c, old);
}

void x87_fxrstor_sse(struct cpu *c, const uint8_t *img, int nxmm, bool mxcsr)
{
	if (mxcsr)
		memcpy(&c->fpu.mxcsr, img + 24, 4);
	memcpy(c->fpu.xmm, img + 160, 16 * (size_t)nxmm);
}

void x87_mmx_enter(struct cpu *cpu)
{
	cpu->fpu.fsw &= (uint16_t)~FSW_TOP;
	cpu->fpu.ftw = 0;
}

/* 16-byte alignment of the linear address, then #NM (SDM FXSAVE page:
 * #NM if CR0.TS or CR0.EM; #GP(0) if misaligned). */
static uint64_t fx_prologue(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea;

	x87_check_nm(cpu);
	ea = insn_ea(cpu, in);
	if (x87_lin(cpu, in->seg, ea) & 15)
		cpu_gp(cpu, 0);
	return ea;
}

static inline bool fmt64(const struct cpu *cpu, const struct insn *in)
{
	return cpu->mode == MODE_LONG64 && (in->pfx & PFX_REXW);
}

/* 0F AE /0: FXSAVE (FXSAVE64 with REX.W). */
static void op_fxsave(struct cpu *cpu, const struct insn *in)
{
	uint8_t img[512];
	uint64_t ea = fx_prologue(cpu, in);
	int nxmm = cpu->mode == MODE_LONG64 ? 16 : 8;

	/* AMD fast FXSAVE/FXRSTOR: EFER.FFXSR skips the XMM registers at
	 * CPL 0 in 64-bit mode (APM Vol. 2 §3.1.7). */
	if ((cpu->msr.efer & EFER_FFXSR) && cpu->mode == MODE_LONG64 && cpu->cpl == 0)
		nxmm = 0;
	cpu_probe_write(cpu, in->seg, ea, 512);
	x87_fxsave_image(cpu, img, fmt64(cpu, in), true, true, nxmm);
	cpu_wrn(cpu, in->seg, ea, img, 160 + 16 * (unsigned)nxmm);
}

/* 0F AE /1: FXRSTOR (FXRSTOR64 with REX.W). */
static void op_fxrstor(struct cpu *cpu, const struct insn *in)
{
	uint8_t img[512];
	uint64_t ea = fx_prologue(cpu, in);
	int nxmm = cpu->mode == MODE_LONG64 ? 16 : 8;
	uint32_t mxcsr;

	if ((cpu->msr.efer & EFER_FFXSR) && cpu->mode == MODE_LONG64 && cpu->cpl == 0)
		nxmm = 0;
	cpu_rdn(cpu, in->seg, ea, img, 512);
	memcpy(&mxcsr, img + 24, 4);
	if (mxcsr & ~MXCSR_MASK_VALUE)
		cpu_gp(cpu, 0);
	x87_fxrstor_x87(cpu, img, fmt64(cpu, in));
	x87_fxrstor_sse(cpu, img, nxmm, true);
}

/* LDMXCSR/STMXCSR: #UD if CR0.EM or !CR4.OSFXSR, #NM if CR0.TS. */
static void mxcsr_check(struct cpu *cpu)
{
	if ((cpu->cr0 & CR0_EM) || !(cpu->cr4 & CR4_OSFXSR))
		cpu_ud(cpu);
	if (cpu->cr0 & CR0_TS)
		cpu_exception(cpu, EXC_NM, NO_ERRCODE);
}

static void op_ldmxcsr(struct cpu *cpu, const struct insn *in)
{
	uint32_t v;

	mxcsr_check(cpu);
	v = cpu_rd32(cpu, in->seg, insn_ea(cpu, in));
	if (v & ~MXCSR_MASK_VALUE)
		cpu_gp(cpu, 0);
	cpu->fpu.mxcsr = v;
}

static void op_stmxcsr(struct cpu *cpu, const struct insn *in)
{
	mxcsr_check(cpu);
	cpu_wr32(cpu, in->seg, insn_ea(cpu, in), cpu->fpu.mxcsr);
}

/* LFENCE/MFENCE/SFENCE: the interpreter executes in order already. */
static void op_fence(struct cpu *cpu, const struct insn *in) {}

/* CLFLUSH/CLFLUSHOPT: there are no caches; fault like a byte read. */
static void op_clflush(struct cpu *cpu, const struct insn *in)
{
	(void)cpu_rd8(cpu, in->seg, insn_ea(cpu, in));
}

/* 0F 77 EMMS: #UD if CR0.EM, #NM if CR0.TS, pending #MF; all tags empty. */
static void op_emms(struct cpu *cpu, const struct insn *in)
{
	if (cpu->cr0 & CR0_EM)
		cpu_ud(cpu);
	if (cpu->cr0 & CR0_TS)
		cpu_exception(cpu, EXC_NM, NO_ERRCODE);
	x87_check_mf(cpu);
	cpu->fpu.ftw = 0xffff;
}

#define AE(r, mp, mod, fn, nm, f)                                    \
	{                                                            \
		0x1ae, mp, r, OPT_ANY, mod, 0, OPT_ANY, 0, f, fn, nm \
	}

static const struct optab_entry x87_state_tab[] = {
	AE(0, MP_NONE, OPT_MOD_MEM, op_fxsave, "fxsave", FEAT_FXSR),
	AE(1, MP_NONE, OPT_MOD_MEM, op_fxrstor, "fxrstor", FEAT_FXSR),
	AE(2, MP_NONE, OPT_MOD_MEM, op_ldmxcsr, "ldmxcsr", FEAT_SSE),
	AE(3, MP_NONE, OPT_MOD_MEM, op_stmxcsr, "stmxcsr", FEAT_SSE),
	AE(5, MP_NONE, OPT_MOD_REG, op_fence, "lfence", FEAT_SSE2),
	AE(6, MP_NONE, OPT_MOD_REG, op_fence, "mfence", FEAT_SSE2),
	AE(7, MP_NONE, OPT_MOD_REG, op_fence, "sfence", FEAT_SSE),
	AE(7, MP_NONE, OPT_MOD_MEM, op_clflush, "clflush", FEAT_CLFSH),
	AE(7, MP_66, OPT_MOD_MEM, op_clflush, "clflushopt", FEAT_CLFLUSHOPT),
	{ 0x177, MP_NONE, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, FEAT_MMX, op_emms, "emms" },
};

void ops_x87_state_register(void)
{
	optab_add_many(x87_state_tab, (int)(sizeof(x87_state_tab) / sizeof(x87_state_tab[0])));
	x87_register_xsave();
}
