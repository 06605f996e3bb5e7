/*
 * cpu/x87/ops_x87_load.c — x87 data transfer: FLD/FST/FSTP (m32, m64, m80,
 * ST(i) and the undocumented FSTP1/FSTP8/FSTP9 aliases), FILD, FIST/FISTP,
 * FISTTP (SSE3), FBLD/FBSTP, FXCH (with its FXCH4/FXCH7 aliases), FCMOVcc,
 * the constants FLD1..FLDZ, FCHS and FABS (SDM Vol. 1 §8.3.3-8.3.4).
 *
 * Stores compute the value and decide whether it is written before touching
 * any state, then write memory (which may fault), then commit flags and pop,
 * so a faulting store changes nothing.
 */
#include "cpu/access.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/x87/x87.h"

/* Would a store with flags sw be written (no unmasked IE/DE/ZE/OE/UE)? */
static inline bool store_ok(const struct cpu *cpu, uint16_t sw)
{
	return !(sw & ~cpu->fpu.fcw & (FSW_IE | FSW_DE | FSW_ZE | FSW_OE | FSW_UE));
}

/* Push v (flags sw of the conversion that produced it). */
static void push_value(struct cpu *cpu, const f80 *v, uint16_t sw)
{
	if (x87_full(cpu)) {
		if (x87_stack_fault(cpu, true))
			x87_push(cpu, &x87_indefinite);
		return;
	}
	/* A denormal m32/m64 source is loaded even with DE unmasked (observed
	 * on hardware): only IE stops the load. */
	if (x87_exc(cpu, sw & ~FSW_DE, false)) {
		cpu->fpu.fsw |= sw & FSW_DE;
		x87_update_es(cpu);
		x87_push(cpu, v);
	}
}

/* D9 /0, DD /0: FLD m32real / m64real. */
static void op_fld_mfp(struct cpu *cpu, const struct insn *in)
{
	int size = in->op == 0xd9 ? 4 : 8;
	uint64_t ea, m;
	f80 v;
	uint16_t sw;

	x87_begin(cpu);
	ea = insn_ea(cpu, in);
	m = cpu_rd(cpu, in->seg, ea, (unsigned)size);
	x87_note_mem(cpu, in, ea);
	sw = f80_from_float(cpu->fpu.fcw, &m, size, &v);
	push_value(cpu, &v, sw);
}

/* DB /5: FLD m80real (no conversion, no exception). */
static void op_fld_m80(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea;
	f80 v;

	x87_begin(cpu);
	ea = insn_ea(cpu, in);
	cpu_rdn(cpu, in->seg, ea, &v, 10);
	x87_note_mem(cpu, in, ea);
	push_value(cpu, &v, 0);
}

/* DF /0 m16int, DB /0 m32int, DF /5 m64int: FILD (exact). */
static void op_fild(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->op == 0xdb ? 4 : (in->reg & 7) == 5 ? 8 : 2;
	uint64_t ea, m;
	int64_t iv;
	f80 v;

	x87_begin(cpu);
	ea = insn_ea(cpu, in);
	m = cpu_rd(cpu, in->seg, ea, size);
	x87_note_mem(cpu, in, ea);
	iv = size == 2 ? (int16_t)m : size == 4 ? (int32_t)m : (int64_t)m;
	f80_from_int(iv, &v);
	push_value(cpu, &v, 0);
}

/* DF /4: FBLD m80bcd. */
static void op_fbld(struct cpu *cpu, const struct insn *in)
{
	uint8_t m[10];
	uint64_t ea;
	f80 v;

	x87_begin(cpu);
	ea = insn_ea(cpu, in);
	cpu_rdn(cpu, in->seg, ea, m, 10);
	x87_note_mem(cpu, in, ea);
	f80_from_bcd(m, &v);
	push_value(cpu, &v, 0);
}

/* D9 C0+i: FLD ST(i). */
static void op_fld_sti(struct cpu *cpu, const struct insn *in)
{
	unsigned i = in->rm & 7;
	f80 v;

	x87_begin(cpu);
	x87_note(cpu, in);
	/* An empty source is an underflow (C1 = 0) even when the push would
	 * also overflow: the source is read first (as the hardware reports). */
	if (x87_empty(cpu, i)) {
		if (x87_stack_fault(cpu, false))
			x87_push(cpu, &x87_indefinite);
		return;
	}
	if (x87_full(cpu)) {
		if (x87_stack_fault(cpu, true))
			x87_push(cpu, &x87_indefinite);
		return;
	}
	v = *x87_st(cpu, i);
	x87_set_cc(cpu, FSW_C1, 0);
	x87_push(cpu, &v);
}

/* D9 E8-EE: FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ. */
static void op_fldconst(struct cpu *cpu, const struct insn *in)
{
	f80 v;

	x87_begin(cpu);
	x87_note(cpu, in);
	f80_const(cpu->fpu.fcw, in->rm & 7, &v);
	push_value(cpu, &v, 0);
}

/* Commit a memory store whose bytes were written (or not, per ok). */
static inline void store_commit(struct cpu *cpu, bool empty, uint16_t sw, bool ok, bool pop)
{
	if (empty)
		x87_stack_fault(cpu, false);
	else
		x87_exc(cpu, sw, true);
	if (ok && pop)
		x87_pop(cpu);
}

/* D9 /2 /3, DD /2 /3: FST/FSTP m32real / m64real. */
static void op_fst_mfp(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->op == 0xd9 ? 4 : 8;
	bool empty, ok;
	uint64_t ea, m = 0;
	uint16_t sw;

	x87_begin(cpu);
	ea = insn_ea(cpu, in);
	empty = x87_empty(cpu, 0);
	if (empty) {
		f80_to_float(cpu->fpu.fcw, &x87_indefinite, &m, (int)size);
		sw = 0;
		ok = x87_im(cpu);
	} else {
		sw = f80_to_float(cpu->fpu.fcw, x87_st(cpu, 0), &m, (int)size);
		ok = store_ok(cpu, sw);
	}
	if (ok)
		cpu_wr(cpu, in->seg, ea, size, m);
	x87_note_mem(cpu, in, ea);
	store_commit(cpu, empty, sw, ok, (in->reg & 7) == 3);
}

/* DB /7: FSTP m80real. */
static void op_fstp_m80(struct cpu *cpu, const struct insn *in)
{
	bool empty;
	uint64_t ea;

	x87_begin(cpu);
	ea = insn_ea(cpu, in);
	empty = x87_empty(cpu, 0);
	if (empty && !x87_im(cpu)) {
		x87_note_mem(cpu, in, ea);
		x87_stack_fault(cpu, false);
		return;
	}
	cpu_wrn(cpu, in->seg, ea, empty ? &x87_indefinite : x87_st(cpu, 0), 10);
	x87_note_mem(cpu, in, ea);
	store_commit(cpu, empty, 0, true, true);
}

/* FIST/FISTP: DF /2 /3 m16, DB /2 /3 m32, DF /7 m64; FISTTP: DF /1 m16,
 * DB /1 m32, DD /1 m64 (always pops, truncates). */
static void op_fist(struct cpu *cpu, const struct insn *in)
{
	unsigned reg = in->reg & 7, size;
	bool tt = reg == 1, pop = reg != 2, empty, ok;
	uint64_t ea, m = 0;
	uint16_t sw;

	if (in->op == 0xdd)
		size = 8;
	else if (in->op == 0xdb)
		size = 4;
	else
		size = reg == 7 ? 8 : 2;
	x87_begin(cpu);
	ea = insn_ea(cpu, in);
	empty = x87_empty(cpu, 0);
	if (empty) {
		f80_to_int(cpu->fpu.fcw, &x87_indefinite, &m, (int)size, tt);
		sw = 0;
		ok = x87_im(cpu);
	} else {
		sw = f80_to_int(cpu->fpu.fcw, x87_st(cpu, 0), &m, (int)size, tt);
		ok = store_ok(cpu, sw);
	}
	if (ok)
		cpu_wr(cpu, in->seg, ea, size, m);
	x87_note_mem(cpu, in, ea);
	store_commit(cpu, empty, sw, ok, pop);
}

/* DF /6: FBSTP m80bcd. */
static void op_fbstp(struct cpu *cpu, const struct insn *in)
{
	uint8_t m[10];
	bool empty, ok;
	uint64_t ea;
	uint16_t sw;

	x87_begin(cpu);
	ea = insn_ea(cpu, in);
	empty = x87_empty(cpu, 0);
	if (empty) {
		f80_to_bcd(cpu->fpu.fcw, &x87_indefinite, m);
		sw = 0;
		ok = x87_im(cpu);
	} else {
		sw = f80_to_bcd(cpu->fpu.fcw, x87_st(cpu, 0), m);
		ok = store_ok(cpu, sw);
	}
	if (ok)
		cpu_wrn(cpu, in->seg, ea, m, 10);
	x87_note_mem(cpu, in, ea);
	store_commit(cpu, empty, sw, ok, true);
}

/* DD D0+i FST ST(i); DD D8+i FSTP ST(i) and aliases D9 D8+i, DF D0+i,
 * DF D8+i. */
static void op_fst_sti(struct cpu *cpu, const struct insn *in)
{
	bool pop = !(in->op == 0xdd && (in->reg & 7) == 2);
	unsigned i = in->rm & 7;

	x87_begin(cpu);
	x87_note(cpu, in);
	if (x87_empty(cpu, 0)) {
		if (!x87_stack_fault(cpu, false))
			return;
		x87_write(cpu, i, &x87_indefinite);
	} else {
		f80 v = *x87_st(cpu, 0);

		x87_set_cc(cpu, FSW_C1, 0);
		x87_write(cpu, i, &v);
	}
	if (pop)
		x87_pop(cpu);
}

/* D9 C8+i FXCH (aliases DD C8+i, DF C8+i). */
static void op_fxch(struct cpu *cpu, const struct insn *in)
{
	unsigned i = in->rm & 7;
	f80 a, b;

	x87_begin(cpu);
	x87_note(cpu, in);
	if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
		if (!x87_stack_fault(cpu, false))
			return;
		if (x87_empty(cpu, 0))
			x87_write(cpu, 0, &x87_indefinite);
		if (x87_empty(cpu, i))
			x87_write(cpu, i, &x87_indefinite);
	} else {
		x87_set_cc(cpu, FSW_C1, 0);
	}
	a = *x87_st(cpu, 0);
	b = *x87_st(cpu, i);
	x87_write(cpu, 0, &b);
	x87_write(cpu, i, &a);
}

/* DA C0-DF FCMOVB/E/BE/U, DB C0-DF FCMOVNB/NE/NBE/NU. */
static void op_fcmov(struct cpu *cpu, const struct insn *in)
{
	static const uint8_t cc[4] = { 0x2, 0x4, 0x6, 0xa }; /* B, E, BE, P */
	unsigned i = in->rm & 7;

	x87_begin(cpu);
	x87_note(cpu, in);
	if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
		if (x87_stack_fault(cpu, false))
			x87_write(cpu, 0, &x87_indefinite);
		return;
	}
	x87_set_cc(cpu, FSW_C1, 0); /* observed, see op_fnop */
	if (cond_eval(cpu, cc[in->reg & 3] ^ (in->op == 0xdb))) {
		f80 v = *x87_st(cpu, i);

		x87_write(cpu, 0, &v);
	}
}

/* D9 E0 FCHS, D9 E1 FABS: sign bit only, never an arithmetic exception. */
static void op_fchs_fabs(struct cpu *cpu, const struct insn *in)
{
	f80 *v;

	x87_begin(cpu);
	x87_note(cpu, in);
	if (x87_empty(cpu, 0)) {
		if (x87_stack_fault(cpu, false))
			x87_write(cpu, 0, &x87_indefinite);
		return;
	}
	v = x87_st(cpu, 0);
	if (in->rm & 1)
		v->sexp &= 0x7fff;
	else
		v->sexp ^= 0x8000;
	x87_set_cc(cpu, FSW_C1, 0);
}

#define M(opb, r, fn, nm, f)                                                    \
	{                                                                       \
		opb, OPT_ANY, r, OPT_ANY, OPT_MOD_MEM, 0, OPT_ANY, 0, f, fn, nm \
	}
#define R(opb, r, fn, nm, f)                                                    \
	{                                                                       \
		opb, OPT_ANY, r, OPT_ANY, OPT_MOD_REG, 0, OPT_ANY, 0, f, fn, nm \
	}
#define R1(opb, r, rm, fn, nm)                                                    \
	{                                                                         \
		opb, OPT_ANY, r, rm, OPT_MOD_REG, 0, OPT_ANY, 0, FEAT_FPU, fn, nm \
	}

static const struct optab_entry x87_load_tab[] = {
	M(0xd9, 0, op_fld_mfp, "fld", FEAT_FPU),    M(0xd9, 2, op_fst_mfp, "fst", FEAT_FPU),
	M(0xd9, 3, op_fst_mfp, "fstp", FEAT_FPU),   M(0xdd, 0, op_fld_mfp, "fld", FEAT_FPU),
	M(0xdd, 1, op_fist, "fisttp", FEAT_SSE3),   M(0xdd, 2, op_fst_mfp, "fst", FEAT_FPU),
	M(0xdd, 3, op_fst_mfp, "fstp", FEAT_FPU),   M(0xdb, 0, op_fild, "fild", FEAT_FPU),
	M(0xdb, 1, op_fist, "fisttp", FEAT_SSE3),   M(0xdb, 2, op_fist, "fist", FEAT_FPU),
	M(0xdb, 3, op_fist, "fistp", FEAT_FPU),     M(0xdb, 5, op_fld_m80, "fld", FEAT_FPU),
	M(0xdb, 7, op_fstp_m80, "fstp", FEAT_FPU),  M(0xdf, 0, op_fild, "fild", FEAT_FPU),
	M(0xdf, 1, op_fist, "fisttp", FEAT_SSE3),   M(0xdf, 2, op_fist, "fist", FEAT_FPU),
	M(0xdf, 3, op_fist, "fistp", FEAT_FPU),     M(0xdf, 4, op_fbld, "fbld", FEAT_FPU),
	M(0xdf, 5, op_fild, "fild", FEAT_FPU),      M(0xdf, 6, op_fbstp, "fbstp", FEAT_FPU),
	M(0xdf, 7, op_fist, "fistp", FEAT_FPU),

	R(0xd9, 0, op_fld_sti, "fld", FEAT_FPU),    R(0xd9, 1, op_fxch, "fxch", FEAT_FPU),
	R(0xd9, 3, op_fst_sti, "fstp1", FEAT_FPU),  R(0xdd, 1, op_fxch, "fxch4", FEAT_FPU),
	R(0xdd, 2, op_fst_sti, "fst", FEAT_FPU),    R(0xdd, 3, op_fst_sti, "fstp", FEAT_FPU),
	R(0xdf, 1, op_fxch, "fxch7", FEAT_FPU),     R(0xdf, 2, op_fst_sti, "fstp8", FEAT_FPU),
	R(0xdf, 3, op_fst_sti, "fstp9", FEAT_FPU),  R(0xda, 0, op_fcmov, "fcmovb", FEAT_CMOV),
	R(0xda, 1, op_fcmov, "fcmove", FEAT_CMOV),  R(0xda, 2, op_fcmov, "fcmovbe", FEAT_CMOV),
	R(0xda, 3, op_fcmov, "fcmovu", FEAT_CMOV),  R(0xdb, 0, op_fcmov, "fcmovnb", FEAT_CMOV),
	R(0xdb, 1, op_fcmov, "fcmovne", FEAT_CMOV), R(0xdb, 2, op_fcmov, "fcmovnbe", FEAT_CMOV),
	R(0xdb, 3, op_fcmov, "fcmovnu", FEAT_CMOV), R1(0xd9, 4, 0, op_fchs_fabs, "fchs"),
	R1(0xd9, 4, 1, op_fchs_fabs, "fabs"),       R1(0xd9, 5, 0, op_fldconst, "fld1"),
	R1(0xd9, 5, 1, op_fldconst, "fldl2t"),      R1(0xd9, 5, 2, op_fldconst, "fldl2e"),
	R1(0xd9, 5, 3, op_fldconst, "fldpi"),       R1(0xd9, 5, 4, op_fldconst, "fldlg2"),
	R1(0xd9, 5, 5, op_fldconst, "fldln2"),      R1(0xd9, 5, 6, op_fldconst, "fldz"),
};

void x87_register_load(void)
{
	optab_add_many(x87_load_tab, (int)(sizeof(x87_load_tab) / sizeof(x87_load_tab[0])));
}
