/*
 * tests/diff/diff_gen_int.c — generator for the general-purpose integer
 * instructions: ALU, MOV/XCHG/LEA/extensions, INC/DEC/NEG/NOT, MUL/IMUL,
 * DIV/IDIV (with set-up glue that makes them safe), shifts and rotates,
 * SHLD/SHRD, BT*, bit scans and counts, SETcc/CMOVcc, XADD/CMPXCHG*, BSWAP,
 * MOVBE, CRC32 and the flag instructions.
 *
 * Every form states which arithmetic flags it reads, defines and leaves
 * undefined (Intel SDM Vol. 2 "Flags Affected" of each instruction); a flag
 * reader is only emitted when the flags it reads are defined.
 */
#include <stdio.h>
#include <string.h>

#include "tests/diff/diff_gen.h"

#define ALL_FLAGS F_ARITH
#define LOGIC_DEF (F_CF | F_OF | F_SF | F_ZF | F_PF)

static int pick_size(struct gen *g, bool allow8)
{
	int n = g->mode == 64 ? 4 : 3;
	int sz = 1 << rndn(g, (unsigned)n);
	if (!allow8 && sz == 1)
		sz = 4;
	return sz;
}

static void set_size(struct ins *in, int sz)
{
	in->p66 = sz == 2;
	in->w = sz == 8;
}

/* Fill reg and r/m (register or memory) of a two-operand form of size sz.
 * Returns true if r/m is memory. */
static bool pick_reg_rm(struct gen *g, struct ins *in, int sz, int mem_pct, int align)
{
	bool mem = (int)rndn(g, 100) < mem_pct;
	if (sz == 1) {
		int a, b;
		pick_gpr8_pair(g, &a, &b, false);
		in->reg = (uint8_t)a;
		in->rm = (uint8_t)b;
		in->byte_reg = in->byte_rm = 1;
	} else {
		in->reg = (uint8_t)pick_gpr(g);
		in->rm = (uint8_t)pick_gpr(g);
	}
	in->modrm = 1;
	in->mem = mem;
	if (mem)
		in->disp = pick_disp(g, sz, align);
	return mem;
}

/* A writable GPR that needs no REX (for forms using AH..BH). */
static int low_gpr(struct gen *g)
{
	static const int r[] = { 0, 1, 2, 3, 6, 7 };
	return r[rndn(g, 6)];
}

static void glue_begin(struct gen *g)
{
	g->glue = true;
}

static void glue_end(struct gen *g)
{
	g->glue = false;
}

/* mov cl, imm8 */
static void glue_mov_cl(struct gen *g, uint8_t v)
{
	struct ins in = { .op = 0xb1, .immsz = 1, .imm = v };
	glue_begin(g);
	emit(g, &in, "");
	glue_end(g);
}

static bool lock_ok(struct gen *g, const struct ins *in)
{
	return in->mem && rndn(g, 4) == 0;
}

static char *fmt2(char *buf, const char *mn, const char *a, const char *b)
{
	snprintf(buf, 40, "%s %s,%s", mn, a, b);
	return buf;
}

static bool gen_alu(struct gen *g)
{
	static const char *const mn[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };
	char name[40];
	int n = (int)rndn(g, 8);
	if ((n == 2 || n == 3) && !flags_ok(g, F_CF))
		n = 0;
	int sz = pick_size(g, true);
	struct ins in = { 0 };
	set_size(&in, sz);
	int form = (int)rndn(g, 5);
	if (form == 3 && sz == 1)
		form = 2;
	bool mem = pick_reg_rm(g, &in, sz, 35, 1);
	const char *rmn = opname(mem ? 'm' : 'r', sz);
	int isz = sz == 8 ? 4 : sz;
	switch (form) {
	case 0:
		in.op = (uint8_t)(n * 8 + (sz > 1));
		fmt2(name, mn[n], rmn, opname('r', sz));
		break;
	case 1:
		in.op = (uint8_t)(n * 8 + 2 + (sz > 1));
		fmt2(name, mn[n], opname('r', sz), rmn);
		break;
	case 2:
	case 3:
		in.op = form == 3 ? 0x83 : sz == 1 ? 0x80 : 0x81;
		in.reg = (uint8_t)n;
		in.byte_reg = 0;
		in.immsz = (uint8_t)(form == 3 ? 1 : isz);
		in.imm = rnd_val(g, in.immsz);
		fmt2(name, mn[n], rmn, opname('i', in.immsz));
		break;
	default:
		in.modrm = 0;
		in.mem = 0;
		in.byte_rm = in.byte_reg = 0;
		in.op = (uint8_t)(n * 8 + 4 + (sz > 1));
		in.immsz = (uint8_t)isz;
		in.imm = rnd_val(g, isz);
		fmt2(name, mn[n], sz == 1 ? "al" : "eax", opname('i', isz));
		break;
	}
	if (n != 7 && form != 1 && lock_ok(g, &in))
		in.lock = 1;
	if (!emit(g, &in, name))
		return false;
	if (n == 1 || n == 4 || n == 6)
		flags_write(g, LOGIC_DEF, F_AF);
	else
		flags_write(g, ALL_FLAGS, 0);
	return true;
}

static bool gen_data(struct gen *g)
{
	char name[40];
	struct ins in = { 0 };
	int sz = pick_size(g, true);
	set_size(&in, sz);
	int isz = sz == 8 ? 4 : sz;
	bool mem;
	switch (rndn(g, 15)) {
	case 14: { /* hints and no-ops: prefetch, clflush(opt), fences, pause, nop r/m, movnti */
		static const char *const mn[8] = { "prefetch", "prefetchw", "clflush", "clflushopt",
						   "fence",    "pause",     "nop r/m", "movnti" };
		int k = (int)rndn(g, 8);
		if (k == 1 && !model_has(g->model, FEAT_PREFETCHW))
			return false;
		if ((k == 2 || k == 3) && !model_has(g->model, FEAT_CLFSH))
			return false;
		if (k == 3 && !model_has(g->model, FEAT_CLFLUSHOPT))
			return false;
		if (k == 7 && sz < 4)
			sz = 4;
		set_size(&in, k == 6 || k == 7 ? sz : 4);
		pick_reg_rm(g, &in, sz, k == 6 ? 50 : 100, 1);
		in.map = 1;
		switch (k) {
		case 0:
			in.op = 0x18, in.reg = (uint8_t)rndn(g, 4);
			break;
		case 1:
			in.op = 0x0d, in.reg = 1;
			break;
		case 2:
		case 3:
			in.op = 0xae, in.reg = 7, in.p66 = k == 3;
			break;
		case 4: /* lfence / mfence / sfence */
			in.op = 0xae, in.mem = 0, in.reg = (uint8_t)(5 + rndn(g, 3)), in.rm = 0;
			break;
		case 5:
			in = (struct ins){ .rep = 0xf3, .op = 0x90 };
			break;
		case 6:
			in.op = 0x1f, in.reg = 0;
			break;
		default:
			in.op = 0xc3;
			break;
		}
		return emit(g, &in, mn[k]);
	}
	case 12: { /* mov al/eax <-> moffs */
		bool store = rndn(g, 2);
		in.op = (uint8_t)(0xa0 + 2 * store + (sz > 1));
		in.immsz = g->mode == 64 ? 8 : 4;
		in.imm = DATA_VA + rndn(g, (unsigned)(DATA_SIZE - sz + 1));
		return emit(g, &in,
			    store ? fmt2(name, "mov", "moffs", opname('r', sz))
				  : fmt2(name, "mov", opname('r', sz), "moffs"));
	}
	case 13: { /* xlat: [rBX + AL] */
		struct ins x = { .op = 0xd7 };
		if (form_excluded("xlat"))
			return false;
		struct ins mv = {
			.op = 0xb8, .oprm = 1, .rm = R_BX, .immsz = 4, .imm = DATA_VA + rndn(g, 256)
		};
		glue_begin(g);
		emit(g, &mv, "");
		glue_end(g);
		return emit(g, &x, "xlat");
	}
	case 0: /* test r/m, r */
		mem = pick_reg_rm(g, &in, sz, 30, 1);
		in.op = (uint8_t)(0x84 + (sz > 1));
		if (!emit(g, &in, fmt2(name, "test", opname(mem ? 'm' : 'r', sz), opname('r', sz))))
			return false;
		flags_write(g, LOGIC_DEF, F_AF);
		return true;
	case 1: /* test r/m, imm */
		mem = pick_reg_rm(g, &in, sz, 30, 1);
		in.byte_reg = 0;
		in.reg = 0;
		in.op = (uint8_t)(0xf6 + (sz > 1));
		in.immsz = (uint8_t)isz;
		in.imm = rnd_val(g, isz);
		if (!emit(g, &in,
			  fmt2(name, "test", opname(mem ? 'm' : 'r', sz), opname('i', isz))))
			return false;
		flags_write(g, LOGIC_DEF, F_AF);
		return true;
	case 2: /* mov r/m, r and mov r, r/m */
		mem = pick_reg_rm(g, &in, sz, 40, 1);
		if (rndn(g, 2)) {
			in.op = (uint8_t)(0x88 + (sz > 1));
			fmt2(name, "mov", opname(mem ? 'm' : 'r', sz), opname('r', sz));
		} else {
			in.op = (uint8_t)(0x8a + (sz > 1));
			fmt2(name, "mov", opname('r', sz), opname(mem ? 'm' : 'r', sz));
		}
		return emit(g, &in, name);
	case 3: /* mov r/m, imm  /  mov r, imm (B0/B8) */
		mem = pick_reg_rm(g, &in, sz, 40, 1);
		if (rndn(g, 2)) {
			in.byte_reg = 0;
			in.reg = 0;
			in.op = (uint8_t)(0xc6 + (sz > 1));
			in.immsz = (uint8_t)isz;
			in.imm = rnd_val(g, isz);
			return emit(
				g, &in,
				fmt2(name, "mov", opname(mem ? 'm' : 'r', sz), opname('i', isz)));
		}
		in.modrm = in.mem = 0;
		in.oprm = 1;
		in.op = sz == 1 ? 0xb0 : 0xb8;
		in.immsz = (uint8_t)sz;
		in.imm = rnd_val(g, sz);
		return emit(g, &in, fmt2(name, "mov", "r(o)", opname('i', sz)));
	case 4: /* xchg */
		if (rndn(g, 3) == 0 && sz > 1) {
			in.oprm = 1;
			in.op = 0x90;
			in.rm = (uint8_t)pick_gpr(g);
			if (in.rm == 0)
				in.rm = 1;
			return emit(g, &in, fmt2(name, "xchg", "eax", opname('r', sz)));
		}
		mem = pick_reg_rm(g, &in, sz, 40, 1);
		in.op = (uint8_t)(0x86 + (sz > 1));
		return emit(g, &in,
			    fmt2(name, "xchg", opname(mem ? 'm' : 'r', sz), opname('r', sz)));
	case 5: /* lea */
		if (sz == 1)
			sz = 4;
		set_size(&in, sz);
		pick_reg_rm(g, &in, sz, 100, 1);
		in.op = 0x8d;
		return emit(g, &in, fmt2(name, "lea", opname('r', sz), "m"));
	case 6: /* movzx / movsx from 8 or 16 */
	case 7: {
		bool from16 = rndn(g, 2);
		if (sz == 1 || (from16 && sz == 2))
			sz = 4;
		set_size(&in, sz);
		bool sx = rndn(g, 2);
		in.modrm = 1;
		in.map = 1;
		in.op = (uint8_t)((sx ? 0xbe : 0xb6) + from16);
		in.reg = (uint8_t)pick_gpr(g);
		in.mem = rndn(g, 3) == 0;
		if (in.mem) {
			in.disp = pick_disp(g, from16 ? 2 : 1, 1);
		} else if (from16) {
			in.rm = (uint8_t)pick_gpr(g);
		} else {
			int a, b;
			pick_gpr8_pair(g, &a, &b, false);
			bool rex = sz == 8 || in.reg >= 8;
			if (b >= 16 && rex)
				b -= 16;
			in.rm = (uint8_t)b;
			in.byte_rm = 1;
			if (b >= 16)
				in.reg = (uint8_t)low_gpr(g);
		}
		snprintf(name, 40, "%s %s,%s", sx ? "movsx" : "movzx", opname('r', sz),
			 opname(in.mem ? 'm' : 'r', from16 ? 2 : 1));
		return emit(g, &in, name);
	}
	case 8: /* movsxd */
		if (g->mode != 64)
			return false;
		set_size(&in, 8);
		mem = pick_reg_rm(g, &in, 8, 30, 1);
		in.op = 0x63;
		return emit(g, &in, fmt2(name, "movsxd", "r64", mem ? "m32" : "r32"));
	case 9: /* cbw/cwde/cdqe, cwd/cdq/cqo */
		if (sz == 1)
			sz = 2;
		set_size(&in, sz);
		in.op = rndn(g, 2) ? 0x98 : 0x99;
		return emit(g, &in,
			    fmt2(name, in.op == 0x98 ? "cbw" : "cwd", opname('r', sz), "-"));
	case 10: /* bswap */
		if (sz < 4)
			sz = 4;
		set_size(&in, sz);
		in.map = 1;
		in.op = 0xc8;
		in.oprm = 1;
		in.rm = (uint8_t)pick_gpr(g);
		return emit(g, &in, fmt2(name, "bswap", opname('r', sz), "-"));
	default: { /* flag instructions */
		static const uint8_t op[] = { 0xf8, 0xf9, 0xf5, 0xfc, 0xfd, 0x9f, 0x9e };
		static const char *const mn[] = {
			"clc", "stc", "cmc", "cld", "std", "lahf", "sahf"
		};
		int k = (int)rndn(g, 7);
		if (k >= 5 && g->mode == 64 && !model_has(g->model, FEAT_LAHF_LM))
			return false;
		if (k == 2 && !flags_ok(g, F_CF))
			return false;
		if (k == 5 && !flags_ok(g, F_SF | F_ZF | F_AF | F_PF | F_CF))
			return false;
		struct ins f = { .op = op[k] };
		if (!emit(g, &f, fmt2(name, mn[k], "-", "-")))
			return false;
		if (k <= 2)
			flags_write(g, F_CF, 0);
		if (k == 3 || k == 4)
			g->df = k == 4;
		if (k == 6)
			flags_write(g, F_SF | F_ZF | F_AF | F_PF | F_CF, 0);
		return true;
	}
	}
}

static bool gen_unary(struct gen *g)
{
	char name[40];
	static const char *const mn[4] = { "inc", "dec", "not", "neg" };
	int k = (int)rndn(g, 4);
	int sz = pick_size(g, true);
	struct ins in = { 0 };
	set_size(&in, sz);
	if (g->mode == 32 && sz > 1 && k < 2 && rndn(g, 3) == 0) {
		in.op = (uint8_t)(0x40 + 8 * k);
		in.oprm = 1;
		in.rm = (uint8_t)pick_gpr(g);
		if (!emit(g, &in, fmt2(name, mn[k], opname('r', sz), "(o)")))
			return false;
	} else {
		bool mem = pick_reg_rm(g, &in, sz, 35, 1);
		in.byte_reg = 0;
		in.reg = (uint8_t)(k < 2 ? k : k);
		in.op = (uint8_t)(k < 2 ? 0xfe + (sz > 1) : 0xf6 + (sz > 1));
		if (lock_ok(g, &in))
			in.lock = 1;
		if (!emit(g, &in, fmt2(name, mn[k], opname(mem ? 'm' : 'r', sz), "-")))
			return false;
	}
	if (k < 2)
		flags_write(g, F_OF | F_SF | F_ZF | F_AF | F_PF, 0);
	else if (k == 3)
		flags_write(g, ALL_FLAGS, 0);
	return true;
}

static bool gen_mul(struct gen *g)
{
	char name[40];
	int sz = pick_size(g, true);
	struct ins in = { 0 };
	set_size(&in, sz);
	bool mem = pick_reg_rm(g, &in, sz, 30, 1);
	const char *rmn = opname(mem ? 'm' : 'r', sz);
	int form = sz == 1 ? 0 : (int)rndn(g, 4);
	switch (form) {
	case 0:
		in.byte_reg = 0;
		in.reg = (uint8_t)(4 + rndn(g, 2));
		in.op = (uint8_t)(0xf6 + (sz > 1));
		fmt2(name, in.reg == 4 ? "mul" : "imul", rmn, "-");
		break;
	case 1:
		in.map = 1;
		in.op = 0xaf;
		fmt2(name, "imul", opname('r', sz), rmn);
		break;
	default:
		in.op = form == 2 ? 0x69 : 0x6b;
		in.immsz = form == 3 ? 1 : sz == 2 ? 2 : 4;
		in.imm = rnd_val(g, in.immsz);
		snprintf(name, 40, "imul %s,%s,%s", opname('r', sz), rmn, opname('i', in.immsz));
		break;
	}
	if (!emit(g, &in, name))
		return false;
	flags_write(g, F_CF | F_OF, F_SF | F_ZF | F_AF | F_PF);
	return true;
}

static bool gen_div(struct gen *g)
{
	char name[40];
	int sz = pick_size(g, true);
	bool sgn = rndn(g, 2);
	struct ins in = { 0 };
	set_size(&in, sz);
	bool mem = pick_reg_rm(g, &in, sz, 30, 1);
	if (!mem) {
		/* the divisor must not be rAX/rDX (or AL/AH for byte division) */
		int r = in.rm;
		bool bad = sz == 1 ? (r == 0 || r == 16) : (r == 0 || r == 2);
		if (bad)
			in.rm = sz == 1 && in.rm == 16 ? 17 : 1;
	}
	snprintf(name, 40, "%s %s", sgn ? "idiv" : "div", opname(mem ? 'm' : 'r', sz));
	if (form_excluded(name))
		return false;
	glue_begin(g);
	struct ins gl = in;
	gl.byte_reg = 0;
	gl.op = sz == 1 ? 0x80 : 0x83;
	gl.immsz = 1;
	if (sgn) {
		gl.reg = 4; /* and divisor, -2: even */
		gl.imm = 0xfe;
		emit(g, &gl, "");
		gl.reg = 1; /* or divisor, 2: nonzero, not -1 */
		gl.imm = 2;
		emit(g, &gl, "");
		struct ins ext = { .op = sz == 1 ? 0x98 : 0x99 };
		set_size(&ext, sz == 1 ? 2 : sz);
		emit(g, &ext, "");
	} else {
		gl.reg = 1;
		gl.imm = 1;
		emit(g, &gl, "");
		if (sz == 1) {
			struct ins z = {
				.map = 1, .op = 0xb6, .modrm = 1, .reg = 0, .rm = 0, .byte_rm = 1
			}; /* movzx eax, al */
			emit(g, &z, "");
		} else if (rndn(g, 2)) {
			/* rDX = divisor >> 1 < divisor: a full-width dividend */
			struct ins mv = in;
			mv.op = 0x8b;
			mv.reg = R_DX;
			emit(g, &mv, "");
			struct ins sh = { .op = 0xd1, .modrm = 1, .reg = 5, .rm = R_DX };
			set_size(&sh, sz);
			emit(g, &sh, "");
		} else {
			struct ins z = { .op = 0x31, .modrm = 1, .reg = 2, .rm = 2 };
			emit(g, &z, "");
		}
	}
	glue_end(g);
	flags_write(g, 0, ALL_FLAGS); /* the glue's own flags (AF after SHR) */
	in.byte_reg = 0;
	in.reg = (uint8_t)(sgn ? 7 : 6);
	in.op = (uint8_t)(0xf6 + (sz > 1));
	if (!emit(g, &in, name))
		return false;
	flags_write(g, 0, ALL_FLAGS);
	return true;
}

/* An interesting shift count (before masking). */
static uint8_t pick_count(struct gen *g, int bits)
{
	static const int c[] = { 0, 1, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64 };
	if (rndn(g, 4) == 0)
		return (uint8_t)rndn(g, 256);
	(void)bits;
	return (uint8_t)c[rndn(g, 16)];
}

static bool gen_shift(struct gen *g)
{
	static const char *const mn[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar" };
	char name[40];
	int k = (int)rndn(g, 8);
	if (k == 6)
		k = 4;
	if ((k == 2 || k == 3) && !flags_ok(g, F_CF))
		k -= 2;
	int sz = pick_size(g, true);
	int bits = 8 * sz;
	struct ins in = { 0 };
	set_size(&in, sz);
	bool mem = pick_reg_rm(g, &in, sz, 30, 1);
	in.byte_reg = 0;
	in.reg = (uint8_t)k;
	int form = (int)rndn(g, 3);
	uint8_t count;
	const char *cn;
	if (form == 0) {
		count = 1;
		in.op = (uint8_t)(0xd0 + (sz > 1));
		cn = "1";
	} else if (form == 1) {
		count = pick_count(g, bits);
		in.op = (uint8_t)(0xc0 + (sz > 1));
		in.immsz = 1;
		in.imm = count;
		cn = "i8";
	} else {
		count = pick_count(g, bits);
		in.op = (uint8_t)(0xd2 + (sz > 1));
		cn = "cl";
		if (!mem && in.rm == 1)
			in.rm = 3;
	}
	fmt2(name, mn[k], opname(mem ? 'm' : 'r', sz), cn);
	if (mem && !(count & (sz == 8 ? 63 : 31)))
		strcat(name, " count0");
	if (form_excluded(name))
		return false;
	if (form == 2)
		glue_mov_cl(g, count);
	if (!emit(g, &in, name))
		return false;
	int m = count & (sz == 8 ? 63 : 31);
	if (m == 0)
		return true;
	uint32_t of = m == 1 ? F_OF : 0, ofu = m == 1 ? 0 : F_OF;
	if (k < 4) {
		flags_write(g, F_CF | of, ofu);
	} else {
		uint32_t cf = F_CF, cfu = 0;
		if (k != 7 && m >= bits)
			cf = 0, cfu = F_CF;
		flags_write(g, cf | of | F_SF | F_ZF | F_PF, cfu | ofu | F_AF);
	}
	return true;
}

static bool gen_shld(struct gen *g)
{
	char name[40];
	int sz = 2 << rndn(g, g->mode == 64 ? 3 : 2);
	bool right = rndn(g, 2);
	bool cl = rndn(g, 2);
	struct ins in = { 0 };
	set_size(&in, sz);
	bool mem = pick_reg_rm(g, &in, sz, 30, 1);
	in.map = 1;
	in.op = (uint8_t)((right ? 0xac : 0xa4) + cl);
	uint8_t count;
	int m;
	do {
		count = pick_count(g, 8 * sz);
		m = count & (sz == 8 ? 63 : 31);
	} while (m > 8 * sz);
	if (cl) {
		if (!mem && in.rm == 1)
			in.rm = 3;
	} else {
		in.immsz = 1;
		in.imm = count;
	}
	snprintf(name, 40, "%s %s,%s,%s", right ? "shrd" : "shld", opname(mem ? 'm' : 'r', sz),
		 opname('r', sz), cl ? "cl" : "i8");
	if (mem && !m)
		strcat(name, " count0");
	if (form_excluded(name))
		return false;
	if (cl)
		glue_mov_cl(g, count);
	if (!emit(g, &in, name))
		return false;
	if (m)
		flags_write(g, F_CF | F_SF | F_ZF | F_PF | (m == 1 ? F_OF : 0),
			    F_AF | (m == 1 ? 0 : F_OF));
	return true;
}

static bool gen_bt(struct gen *g)
{
	static const char *const mn[4] = { "bt", "bts", "btr", "btc" };
	char name[40];
	int k = (int)rndn(g, 4);
	int sz = 2 << rndn(g, g->mode == 64 ? 3 : 2);
	struct ins in = { 0 };
	set_size(&in, sz);
	in.map = 1;
	int form = (int)rndn(g, 3);
	if (form == 0) {
		pick_reg_rm(g, &in, sz, 0, 1);
		in.op = (uint8_t)(0xa3 + 8 * k);
		fmt2(name, mn[k], opname('r', sz), opname('r', sz));
	} else if (form == 1) {
		/* bit string: the register offset reaches +-32 bytes around m */
		pick_reg_rm(g, &in, sz, 100, 1);
		in.disp = (int8_t)((int)rndn(g, 160) - 64);
		in.op = (uint8_t)(0xa3 + 8 * k);
		fmt2(name, mn[k], opname('m', sz), opname('r', sz));
		if (form_excluded(name))
			return false;
		struct ins mv = { .op = 0xc7,
				  .modrm = 1,
				  .rm = in.reg,
				  .w = g->mode == 64,
				  .immsz = 4,
				  .imm = (uint32_t)((int)rndn(g, 512) - 256) };
		glue_begin(g);
		emit(g, &mv, "");
		glue_end(g);
		if (k && lock_ok(g, &in))
			in.lock = 1;
	} else {
		bool mem = pick_reg_rm(g, &in, sz, 40, 1);
		in.op = 0xba;
		in.reg = (uint8_t)(4 + k);
		in.immsz = 1;
		in.imm = rndn(g, 256);
		if (k && lock_ok(g, &in))
			in.lock = 1;
		fmt2(name, mn[k], opname(mem ? 'm' : 'r', sz), "i8");
	}
	if (!emit(g, &in, name))
		return false;
	flags_write(g, F_CF, F_OF | F_SF | F_AF | F_PF);
	return true;
}

static bool gen_bitscan(struct gen *g)
{
	static const char *const mn[5] = { "bsf", "bsr", "tzcnt", "lzcnt", "popcnt" };
	static const uint8_t op[5] = { 0xbc, 0xbd, 0xbc, 0xbd, 0xb8 };
	static const unsigned feat[5] = { 0, 0, FEAT_BMI1, FEAT_ABM, FEAT_POPCNT };
	char name[40];
	int k = (int)rndn(g, 5);
	if (!model_has(g->model, feat[k]))
		return false;
	int sz = 2 << rndn(g, g->mode == 64 ? 3 : 2);
	struct ins in = { 0 };
	set_size(&in, sz);
	bool mem = pick_reg_rm(g, &in, sz, 30, 1);
	in.map = 1;
	in.op = op[k];
	in.rep = k >= 2 ? 0xf3 : 0;
	fmt2(name, mn[k], opname('r', sz), opname(mem ? 'm' : 'r', sz));
	if (form_excluded(name))
		return false;
	if (rndn(g, 6) == 0) { /* zero source */
		struct ins z = in;
		z.rep = 0;
		z.map = 0;
		z.op = 0xc7;
		z.reg = 0;
		z.immsz = sz == 2 ? 2 : 4;
		z.imm = 0;
		glue_begin(g);
		emit(g, &z, "");
		glue_end(g);
	}
	if (!emit(g, &in, name))
		return false;
	if (k < 2)
		flags_write(g, F_ZF, F_CF | F_OF | F_SF | F_AF | F_PF);
	else if (k < 4)
		flags_write(g, F_ZF | F_CF, F_OF | F_SF | F_AF | F_PF);
	else
		flags_write(g, ALL_FLAGS, 0);
	return true;
}

static bool gen_cc(struct gen *g)
{
	char name[40];
	int cc = -1;
	for (int t = 0; t < 8 && cc < 0; t++) {
		int c = (int)rndn(g, 16);
		if (flags_ok(g, cc_reads(c)))
			cc = c;
	}
	if (cc < 0)
		return false;
	struct ins in = { 0 };
	in.map = 1;
	if (rndn(g, 2)) {
		bool mem = pick_reg_rm(g, &in, 1, 30, 1);
		in.byte_reg = 0;
		in.reg = 0;
		in.op = (uint8_t)(0x90 + cc);
		snprintf(name, 40, "setcc%d %s", cc, opname(mem ? 'm' : 'r', 1));
	} else {
		if (!model_has(g->model, FEAT_CMOV))
			return false;
		int sz = 2 << rndn(g, g->mode == 64 ? 3 : 2);
		set_size(&in, sz);
		bool mem = pick_reg_rm(g, &in, sz, 30, 1);
		in.op = (uint8_t)(0x40 + cc);
		snprintf(name, 40, "cmovcc%d %s,%s", cc, opname('r', sz),
			 opname(mem ? 'm' : 'r', sz));
	}
	return emit(g, &in, name);
}

static bool gen_atomic(struct gen *g)
{
	char name[40];
	struct ins in = { 0 };
	int k = (int)rndn(g, 3);
	in.map = 1;
	if (k < 2) {
		int sz = pick_size(g, true);
		set_size(&in, sz);
		bool mem = pick_reg_rm(g, &in, sz, 50, 1);
		in.op = (uint8_t)((k ? 0xb0 : 0xc0) + (sz > 1));
		if (lock_ok(g, &in))
			in.lock = 1;
		fmt2(name, k ? "cmpxchg" : "xadd", opname(mem ? 'm' : 'r', sz), opname('r', sz));
		if (form_excluded(name))
			return false;
		if (k && rndn(g, 2)) { /* make the comparison succeed */
			struct ins mv = in;
			mv.lock = 0;
			mv.map = 0;
			mv.op = (uint8_t)(0x8a + (sz > 1));
			mv.reg = 0;
			glue_begin(g);
			emit(g, &mv, "");
			glue_end(g);
		}
		if (!emit(g, &in, name))
			return false;
		flags_write(g, ALL_FLAGS, 0);
		return true;
	}
	if (!model_has(g->model, FEAT_CX8))
		return false;
	bool b16 = g->mode == 64 && model_has(g->model, FEAT_CX16) && rndn(g, 2);
	int sz = b16 ? 16 : 8;
	in.op = 0xc7;
	in.modrm = 1;
	in.reg = 1;
	in.mem = 1;
	in.w = b16;
	in.disp = pick_disp(g, sz, sz);
	if (rndn(g, 4) == 0)
		in.lock = 1;
	snprintf(name, 40, "%s", b16 ? "cmpxchg16b m128" : "cmpxchg8b m64");
	if (form_excluded(name))
		return false;
	if (rndn(g, 2)) {
		glue_begin(g);
		for (int i = 0; i < 2; i++) {
			struct ins mv = { .op = 0x8b,
					  .modrm = 1,
					  .mem = 1,
					  .w = b16,
					  .reg = (uint8_t)(i ? 2 : 0),
					  .disp = (int8_t)(in.disp + i * sz / 2) };
			emit(g, &mv, "");
		}
		glue_end(g);
	}
	if (!emit(g, &in, name))
		return false;
	flags_write(g, F_ZF, 0);
	return true;
}

static bool gen_misc(struct gen *g)
{
	char name[40];
	struct ins in = { 0 };
	if (rndn(g, 2)) {
		if (!model_has(g->model, FEAT_MOVBE))
			return false;
		int sz = 2 << rndn(g, g->mode == 64 ? 3 : 2);
		set_size(&in, sz);
		pick_reg_rm(g, &in, sz, 100, 1);
		in.map = 2;
		bool store = rndn(g, 2);
		in.op = (uint8_t)(0xf0 + store);
		return emit(g, &in,
			    store ? fmt2(name, "movbe", opname('m', sz), opname('r', sz))
				  : fmt2(name, "movbe", opname('r', sz), opname('m', sz)));
	}
	if (!model_has(g->model, FEAT_SSE42))
		return false;
	int ssz = pick_size(g, true);
	int dsz = ssz == 8 || (g->mode == 64 && ssz == 1 && rndn(g, 2)) ? 8 : 4;
	bool mem = pick_reg_rm(g, &in, ssz, 30, 1);
	in.reg = (uint8_t)pick_gpr(g);
	in.byte_reg = 0;
	if (dsz == 8 && in.byte_rm && in.rm >= 16)
		in.rm = (uint8_t)(in.rm - 16);
	if (in.byte_rm && in.rm >= 16)
		in.reg = (uint8_t)low_gpr(g);
	in.w = dsz == 8;
	in.p66 = ssz == 2;
	in.rep = 0xf2;
	in.map = 2;
	in.op = (uint8_t)(0xf0 + (ssz > 1));
	return emit(g, &in, fmt2(name, "crc32", opname('r', dsz), opname(mem ? 'm' : 'r', ssz)));
}

bool gen_int(struct gen *g)
{
	switch (rndn(g, 16)) {
	case 0:
	case 1:
	case 2:
		return gen_alu(g);
	case 3:
	case 4:
		return gen_data(g);
	case 5:
		return gen_unary(g);
	case 6:
		return gen_mul(g);
	case 7:
		return gen_div(g);
	case 8:
	case 9:
		return gen_shift(g);
	case 10:
		return gen_shld(g);
	case 11:
		return gen_bt(g);
	case 12:
		return gen_bitscan(g);
	case 13:
		return gen_cc(g);
	case 14:
		return gen_atomic(g);
	default:
		return gen_misc(g);
	}
}
