/*
 * tests/diff/diff_gen_bmi.c — generator for the VEX-encoded GPR instructions
 * (BMI1, BMI2), ADX, the string instructions with REP/REPE/REPNE over the
 * data area, and the BCD instructions (compatibility mode only).
 */
#include <stdio.h>

#include "tests/diff/diff_gen.h"

static void glue_mov32(struct gen *g, int reg, uint32_t v)
{
	struct ins in = { .op = 0xb8, .oprm = 1, .rm = (uint8_t)reg, .immsz = 4, .imm = v };
	g->glue = true;
	emit(g, &in, "");
	g->glue = false;
}

bool gen_bmi(struct gen *g)
{
	char name[40];
	struct ins in = { 0 };
	bool w = g->mode == 64 && rndn(g, 2);
	int sz = w ? 8 : 4;
	in.vex = 1;
	in.w = w;
	in.map = 2;
	in.modrm = 1;
	in.reg = (uint8_t)pick_gpr(g);
	in.rm = (uint8_t)pick_gpr(g);
	in.vvvv = (uint8_t)pick_gpr(g);
	in.mem = rndn(g, 4) == 0;
	if (in.mem)
		in.disp = pick_disp(g, sz, 1);
	const char *rmn = opname(in.mem ? 'm' : 'r', sz);
	const char *rn = opname('r', sz);
	int k = (int)rndn(g, 15);
	bool bmi1 = model_has(g->model, FEAT_BMI1), bmi2 = model_has(g->model, FEAT_BMI2);
	uint32_t def = 0, undef = 0;
	switch (k) {
	case 0: /* andn */
		if (!bmi1)
			return false;
		in.op = 0xf2;
		snprintf(name, 40, "andn %s,%s,%s", rn, rn, rmn);
		def = F_SF | F_ZF | F_CF | F_OF, undef = F_AF | F_PF;
		break;
	case 1: /* bextr */
		if (!bmi1)
			return false;
		in.op = 0xf7;
		snprintf(name, 40, "bextr %s,%s,%s", rn, rmn, rn);
		if (form_excluded(name))
			return false;
		if (rndn(g, 2))
			glue_mov32(g, in.vvvv, (uint32_t)(rndn(g, 72) | rndn(g, 72) << 8));
		def = F_ZF | F_CF | F_OF, undef = F_AF | F_SF | F_PF;
		break;
	case 2:
	case 3:
	case 4: { /* blsr, blsmsk, blsi */
		static const char *const mn[3] = { "blsr", "blsmsk", "blsi" };
		if (!bmi1)
			return false;
		in.op = 0xf3;
		in.reg = (uint8_t)(k - 1);
		snprintf(name, 40, "%s %s,%s", mn[k - 2], rn, rmn);
		def = F_SF | F_ZF | F_CF | F_OF, undef = F_AF | F_PF;
		break;
	}
	case 5: /* bzhi */
		if (!bmi2)
			return false;
		in.op = 0xf5;
		snprintf(name, 40, "bzhi %s,%s,%s", rn, rmn, rn);
		if (form_excluded(name))
			return false;
		if (rndn(g, 2))
			glue_mov32(g, in.vvvv, rndn(g, 2) ? rndn(g, 70) : (uint32_t)rnd(g));
		def = F_SF | F_ZF | F_CF | F_OF, undef = F_AF | F_PF;
		break;
	case 6:
	case 7: /* pdep, pext */
		if (!bmi2)
			return false;
		in.op = 0xf5;
		in.vpp = k == 6 ? 3 : 2;
		snprintf(name, 40, "%s %s,%s,%s", k == 6 ? "pdep" : "pext", rn, rn, rmn);
		break;
	case 8: /* mulx */
		if (!bmi2)
			return false;
		in.op = 0xf6;
		in.vpp = 3;
		snprintf(name, 40, "mulx %s,%s,%s", rn, rn, rmn);
		break;
	case 9: /* rorx */
		if (!bmi2)
			return false;
		in.map = 3;
		in.op = 0xf0;
		in.vpp = 3;
		in.vvvv = 0;
		in.immsz = 1;
		in.imm = rndn(g, 256);
		snprintf(name, 40, "rorx %s,%s,i8", rn, rmn);
		break;
	case 10:
	case 11:
	case 12: { /* sarx, shlx, shrx */
		static const char *const mn[3] = { "sarx", "shlx", "shrx" };
		static const uint8_t pp[3] = { 2, 1, 3 };
		if (!bmi2)
			return false;
		in.op = 0xf7;
		in.vpp = pp[k - 10];
		snprintf(name, 40, "%s %s,%s,%s", mn[k - 10], rn, rmn, rn);
		break;
	}
	default: { /* adcx, adox (legacy encoding) */
		bool ox = k == 14;
		if (!model_has(g->model, FEAT_ADX))
			return false;
		uint32_t f = ox ? F_OF : F_CF;
		if (!flags_ok(g, f))
			return false;
		in.vex = 0;
		in.vvvv = 0;
		if (ox)
			in.rep = 0xf3;
		else
			in.p66 = 1;
		in.op = 0xf6;
		snprintf(name, 40, "%s %s,%s", ox ? "adox" : "adcx", rn, rmn);
		def = f;
		break;
	}
	}
	if (!emit(g, &in, name))
		return false;
	flags_write(g, def, undef);
	return true;
}

bool gen_str(struct gen *g)
{
	static const char *const mn[5] = { "movs", "cmps", "stos", "lods", "scas" };
	static const uint8_t op[5] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
	char name[40];
	int k = (int)rndn(g, 5);
	int sz = 1 << rndn(g, g->mode == 64 ? 4 : 3);
	int rep = (int)rndn(g, 3); /* 0 none, 1 rep/repe, 2 repne */
	bool cmp = k == 1 || k == 4;
	if (k == 3)
		rep = 0;
	if (rep == 2 && !cmp)
		rep = 1;
	struct ins in = { .op = (uint8_t)(op[k] + (sz > 1)) };
	in.p66 = sz == 2;
	in.w = sz == 8;
	in.rep = rep == 1 ? 0xf3 : rep == 2 ? 0xf2 : 0;
	snprintf(name, 40, "%s%s %s",
		 rep == 1   ? (cmp ? "repe " : "rep ")
		 : rep == 2 ? "repne "
			    : "",
		 mn[k], opname('m', sz));
	if (form_excluded(name))
		return false;
	unsigned count = rep ? rndn(g, 17) : 1;
	/* start so that count elements stay inside [STR_AREA, DATA_SIZE) */
	unsigned span = 128;
	for (int r = 0; r < 2; r++) {
		unsigned off = STR_AREA + rndn(g, span - (unsigned)sz + 1);
		if (g->df)
			off += 128;
		glue_mov32(g, r ? R_DI : R_SI, DATA_VA + off);
	}
	if (rep)
		glue_mov32(g, R_CX, count);
	if (!emit(g, &in, name))
		return false;
	if (cmp && count)
		flags_write(g, F_ARITH, 0);
	return true;
}

bool gen_bcd(struct gen *g)
{
	static const char *const mn[6] = { "daa", "das", "aaa", "aas", "aam", "aad" };
	static const uint8_t op[6] = { 0x27, 0x2f, 0x37, 0x3f, 0xd4, 0xd5 };
	char name[40];
	if (g->mode != 32)
		return false;
	int k = (int)rndn(g, 6);
	struct ins in = { .op = op[k] };
	if (k < 2 && !flags_ok(g, F_CF | F_AF))
		return false;
	if ((k == 2 || k == 3) && !flags_ok(g, F_AF))
		return false;
	if (k >= 4) {
		in.immsz = 1;
		in.imm = rndn(g, 3) ? 10 : 1 + rndn(g, 255);
	}
	snprintf(name, 40, "%s%s", mn[k], k >= 4 ? " i8" : "");
	if (!emit(g, &in, name))
		return false;
	if (k < 2)
		flags_write(g, F_CF | F_AF | F_SF | F_ZF | F_PF, F_OF);
	else if (k < 4)
		flags_write(g, F_AF | F_CF, F_OF | F_SF | F_ZF | F_PF);
	else
		flags_write(g, F_SF | F_ZF | F_PF, F_OF | F_AF | F_CF);
	return true;
}
