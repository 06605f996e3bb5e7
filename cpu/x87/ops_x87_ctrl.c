/*
 * cpu/x87/ops_x87_ctrl.c — x87 control instructions: FNINIT, FNCLEX,
 * FLDCW, FNSTCW, FNSTSW (m16 and AX), FNSTENV/FLDENV, FNSAVE/FRSTOR in the
 * four environment layouts (16/32-bit, real/protected: SDM Vol. 1 Figures
 * 8-9 to 8-12), FWAIT, FINCSTP, FDECSTP, FFREE, FFREEP, FNOP and the
 * 8087/287 leftovers FENI/FDISI/FSETPM (no-ops since the 387).
 *
 * Waiting forms (FINIT, FSTSW, ...) are the decoder's 9B FWAIT followed by
 * the non-waiting instruction, exactly as the hardware encodes them. The
 * FN* instructions do not check for a pending #MF (§8.6); all ESC opcodes
 * take #NM when CR0.EM or CR0.TS is set.
 */
#include <string.h>

#include "cpu/access.h"
#include "cpu/cpuid.h"
#include "cpu/x87/x87.h"

static void op_fninit(struct cpu *cpu, const struct insn *in)
{
	x87_check_nm(cpu);
	x87_init_state(cpu);
}

static void op_fnclex(struct cpu *cpu, const struct insn *in)
{
	uint16_t old = cpu->fpu.fsw;

	x87_check_nm(cpu);
	cpu->fpu.fsw &= (uint16_t) ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
	x87_ferr_update(cpu, old);
}

/* DB E0 FENI, E1 FDISI, E4 FSETPM; D9 D0 FNOP. */
/* FFREE, FFREEP, FCMOVcc, and FNOP when ST(0) is in use, clear C1
 * (observed; the SDM leaves it undefined). */
static void op_fnop(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu);
	x87_note(cpu, in);
	if (!x87_empty(cpu, 0))
		x87_set_cc(cpu, FSW_C1, 0);
}
static void op_legacy_nop(struct cpu *cpu, const struct insn *in)
{
	x87_check_nm(cpu);
}

static void op_fldcw(struct cpu *cpu, const struct insn *in)
{
	uint16_t v;

	x87_begin(cpu);
	v = cpu_rd16(cpu, in->seg, insn_ea(cpu, in));
	cpu->fpu.fcw = x87_fcw_norm(v);
	x87_update_es(cpu);
}

static void op_fnstcw(struct cpu *cpu, const struct insn *in)
{
	x87_check_nm(cpu);
	cpu_wr16(cpu, in->seg, insn_ea(cpu, in), cpu->fpu.fcw);
}

static void op_fnstsw_m(struct cpu *cpu, const struct insn *in)
{
	x87_check_nm(cpu);
	cpu_wr16(cpu, in->seg, insn_ea(cpu, in), cpu->fpu.fsw);
}

/* DF E0: FNSTSW AX. */
static void op_fnstsw_ax(struct cpu *cpu, const struct insn *in)
{
	x87_check_nm(cpu);
	reg16_set(cpu, R_AX, cpu->fpu.fsw);
}

/* 9B: FWAIT. #NM only if CR0.MP and CR0.TS (SDM Vol. 3 Table 2-2). */
static void op_fwait(struct cpu *cpu, const struct insn *in)
{
	if ((cpu->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		cpu_exception(cpu, EXC_NM, NO_ERRCODE);
	x87_check_mf(cpu);
}

static void op_fincstp(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu);
	x87_set_top(cpu, x87_top(cpu) + ((in->rm & 7) == 7 ? 1 : 7));
	x87_set_cc(cpu, FSW_C1, 0);
}

/* DD C0+i FFREE, DF C0+i FFREEP (undocumented: free then pop). */
static void op_ffree(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu);
	x87_note(cpu, in);
	x87_set_tag(cpu, x87_phys(cpu, in->rm & 7), TAG_EMPTY);
	x87_set_cc(cpu, FSW_C1, 0);
	if (in->op == 0xdf)
		x87_pop(cpu);
}

/* ---- environment images ---- */

/* Full tag word from the register contents (FSTENV/FSAVE report the real
 * classes even though only "empty" is tracked by some hardware). */
static uint16_t full_tags(const struct cpu *cpu)
{
	uint16_t t = 0;

	for (unsigned p = 0; p < 8; p++) {
		unsigned tag = x87_tag(cpu, p);

		if (tag != TAG_EMPTY)
			tag = f80_tag(&cpu->fpu.fpr[p]);
		t |= (uint16_t)(tag << (2 * p));
	}
	return t;
}

static inline bool env_real(const struct cpu *cpu)
{
	return cpu->mode == MODE_REAL || cpu->mode == MODE_V86;
}

static inline void put16(uint8_t *b, uint16_t v)
{
	memcpy(b, &v, 2);
}
static inline void put32(uint8_t *b, uint32_t v)
{
	memcpy(b, &v, 4);
}
static inline uint16_t get16(const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return v;
}
static inline uint32_t get32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return v;
}

/* Build the environment; returns its size (14 or 28). Reserved upper halves
 * read as FFFFh as the hardware stores them. */
static unsigned env_build(const struct cpu *cpu, uint8_t *b, bool o32)
{
	const struct fpu_state *f = &cpu->fpu;
	uint16_t tw = full_tags(cpu);
	bool real = env_real(cpu);
	uint32_t ip = (uint32_t)f->fip, dp = (uint32_t)f->fdp;

	if (real) {
		/* Real/V86: 20-bit (32-bit form: 32-bit) linear pointers. */
		ip += (uint32_t)f->fcs << 4;
		dp += (uint32_t)f->fds << 4;
	}
	if (o32) {
		put32(b + 0, 0xffff0000u | f->fcw);
		put32(b + 4, 0xffff0000u | f->fsw);
		put32(b + 8, 0xffff0000u | tw);
		if (real) {
			put32(b + 12, 0xffff0000u | (ip & 0xffff));
			put32(b + 16, (ip >> 16) << 12 | (f->fop & 0x7ff));
			put32(b + 20, 0xffff0000u | (dp & 0xffff));
			put32(b + 24, (dp >> 16) << 12);
		} else {
			put32(b + 12, ip);
			put32(b + 16, (uint32_t)(f->fop & 0x7ff) << 16 | f->fcs);
			put32(b + 20, dp);
			put32(b + 24, 0xffff0000u | f->fds);
		}
		return 28;
	}
	put16(b + 0, f->fcw);
	put16(b + 2, f->fsw);
	put16(b + 4, tw);
	if (real) {
		put16(b + 6, (uint16_t)ip);
		put16(b + 8, (uint16_t)((ip >> 16 & 0xf) << 12 | (f->fop & 0x7ff)));
		put16(b + 10, (uint16_t)dp);
		put16(b + 12, (uint16_t)((dp >> 16 & 0xf) << 12));
	} else {
		put16(b + 6, (uint16_t)ip);
		put16(b + 8, f->fcs);
		put16(b + 10, (uint16_t)dp);
		put16(b + 12, f->fds);
	}
	return 14;
}

static void env_load(struct cpu *cpu, const uint8_t *b, bool o32)
{
	struct fpu_state *f = &cpu->fpu;
	bool real = env_real(cpu);
	uint16_t old = f->fsw; /* for FERR# */
	uint16_t tw;

	if (o32) {
		f->fcw = x87_fcw_norm(get32(b));
		f->fsw = get16(b + 4);
		tw = get16(b + 8);
		if (real) {
			f->fip = (get32(b + 12) & 0xffff) | (get32(b + 16) >> 12 & 0xffff) << 16;
			f->fop = get32(b + 16) & 0x7ff;
			f->fdp = (get32(b + 20) & 0xffff) | (get32(b + 24) >> 12 & 0xffff) << 16;
			f->fcs = f->fds = 0;
		} else {
			f->fip = get32(b + 12);
			f->fcs = get16(b + 16);
			f->fop = get16(b + 18) & 0x7ff;
			f->fdp = get32(b + 20);
			f->fds = get16(b + 24);
		}
	} else {
		f->fcw = x87_fcw_norm(get16(b));
		f->fsw = get16(b + 2);
		tw = get16(b + 4);
		if (real) {
			f->fip = get16(b + 6) | (uint32_t)(get16(b + 8) >> 12) << 16;
			f->fop = get16(b + 8) & 0x7ff;
			f->fdp = get16(b + 10) | (uint32_t)(get16(b + 12) >> 12) << 16;
			f->fcs = f->fds = 0;
		} else {
			f->fip = get16(b + 6);
			f->fcs = get16(b + 8);
			f->fdp = get16(b + 10);
			f->fds = get16(b + 12);
		}
	}
	/* Only "empty" is taken from the image; other tags follow the data. */
	f->ftw = 0;
	for (unsigned p = 0; p < 8; p++)
		x87_set_tag(cpu, p,
			    ((tw >> (2 * p)) & 3) == TAG_EMPTY ? TAG_EMPTY : f80_tag(&f->fpr[p]));
	x87_update_es(cpu);
	x87_ferr_update(cpu, old);
}

/* D9 /6 FNSTENV: store, then mask all exceptions (SDM FSTENV page). */
static void op_fnstenv(struct cpu *cpu, const struct insn *in)
{
	uint8_t b[28];
	unsigned n;

	x87_check_nm(cpu);
	n = env_build(cpu, b, in->osz != 2);
	cpu_wrn(cpu, in->seg, insn_ea(cpu, in), b, n);
	/* Masking everything also clears ES and B (observed on hardware). */
	cpu->fpu.fcw |= FCW_MASKS;
	x87_update_es(cpu);
}

/* D9 /4 FLDENV. */
static void op_fldenv(struct cpu *cpu, const struct insn *in)
{
	uint8_t b[28];
	bool o32 = in->osz != 2;

	x87_begin(cpu);
	cpu_rdn(cpu, in->seg, insn_ea(cpu, in), b, o32 ? 28 : 14);
	env_load(cpu, b, o32);
}

/* DD /6 FNSAVE: environment, ST(0)..ST(7), then FNINIT. */
static void op_fnsave(struct cpu *cpu, const struct insn *in)
{
	uint8_t b[108];
	unsigned n;

	x87_check_nm(cpu);
	n = env_build(cpu, b, in->osz != 2);
	for (unsigned i = 0; i < 8; i++)
		memcpy(b + n + 10 * i, &cpu->fpu.fpr[x87_phys(cpu, i)], 10);
	cpu_wrn(cpu, in->seg, insn_ea(cpu, in), b, n + 80);
	x87_init_state(cpu);
}

/* DD /4 FRSTOR. */
static void op_frstor(struct cpu *cpu, const struct insn *in)
{
	uint8_t b[108];
	bool o32 = in->osz != 2;
	unsigned n = o32 ? 28 : 14, top;

	x87_begin(cpu);
	cpu_rdn(cpu, in->seg, insn_ea(cpu, in), b, n + 80);
	top = (get16(b + (o32 ? 4 : 2)) >> 11) & 7;
	for (unsigned i = 0; i < 8; i++) {
		struct fpreg *r = &cpu->fpu.fpr[(top + i) & 7];

		memcpy(&r->mant, b + n + 10 * i, 8);
		memcpy(&r->sexp, b + n + 10 * i + 8, 2);
	}
	env_load(cpu, b, o32);
}

#define M(opb, r, fn, nm)                                                              \
	{                                                                              \
		opb, OPT_ANY, r, OPT_ANY, OPT_MOD_MEM, 0, OPT_ANY, 0, FEAT_FPU, fn, nm \
	}
#define R(opb, r, fn, nm)                                                              \
	{                                                                              \
		opb, OPT_ANY, r, OPT_ANY, OPT_MOD_REG, 0, OPT_ANY, 0, FEAT_FPU, fn, nm \
	}
#define R1(opb, r, rm, fn, nm)                                                    \
	{                                                                         \
		opb, OPT_ANY, r, rm, OPT_MOD_REG, 0, OPT_ANY, 0, FEAT_FPU, fn, nm \
	}

static const struct optab_entry x87_ctrl_tab[] = {
	M(0xd9, 4, op_fldenv, "fldenv"),
	M(0xd9, 5, op_fldcw, "fldcw"),
	M(0xd9, 6, op_fnstenv, "fnstenv"),
	M(0xd9, 7, op_fnstcw, "fnstcw"),
	M(0xdd, 4, op_frstor, "frstor"),
	M(0xdd, 6, op_fnsave, "fnsave"),
	M(0xdd, 7, op_fnstsw_m, "fnstsw"),
	R1(0xd9, 2, 0, op_fnop, "fnop"),
	R1(0xd9, 6, 6, op_fincstp, "fdecstp"),
	R1(0xd9, 6, 7, op_fincstp, "fincstp"),
	R1(0xdb, 4, 0, op_legacy_nop, "feni"),
	R1(0xdb, 4, 1, op_legacy_nop, "fdisi"),
	R1(0xdb, 4, 2, op_fnclex, "fnclex"),
	R1(0xdb, 4, 3, op_fninit, "fninit"),
	R1(0xdb, 4, 4, op_legacy_nop, "fsetpm"),
	R(0xdd, 0, op_ffree, "ffree"),
	R(0xdf, 0, op_ffree, "ffreep"),
	R1(0xdf, 4, 0, op_fnstsw_ax, "fnstsw"),
	{ 0x9b, OPT_ANY, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, 0, op_fwait, "fwait" },
};

void x87_register_ctrl(void)
{
	optab_add_many(x87_ctrl_tab, (int)(sizeof(x87_ctrl_tab) / sizeof(x87_ctrl_tab[0])));
}
