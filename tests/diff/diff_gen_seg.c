/*
 * tests/diff/diff_gen_seg.c — the "seg" family: segment-register reads and
 * user-mode segment loads against Linux's user descriptors (0x23 USER32_CS,
 * 0x2b USER_DS, 0x33 USER_CS, which the nestbox run mirrors in its GDT):
 * MOV r/m, Sreg; MOV DS/ES, r/m (including null in 64-bit mode and a code
 * segment, which later writes through it turn into #GP); PUSH/POP of DS/ES and
 * PUSH CS/SS in compatibility mode; PUSH FS/GS; LAR, LSL, VERR and VERW on
 * valid, null, RPL-variant and out-of-limit selectors. FS and GS are never
 * loaded (the host uses them for thread-local storage).
 */
#include <stdio.h>

#include "tests/diff/diff_gen.h"

static void glue(struct gen *g, const struct ins *in)
{
	g->glue = true;
	emit(g, in, "");
	g->glue = false;
}

static uint16_t pick_sel(struct gen *g)
{
	static const uint16_t sel[10] = {
		0x23, 0x2b, 0x33, 0x28, 0x29, 0x2a, 0, 0x3, 0x1234, 0x7b
	};
	return sel[rndn(g, 10)];
}

static bool gen_lar(struct gen *g)
{
	static const char *const mn[4] = { "lar", "lsl", "verr", "verw" };
	char name[40];
	int k = (int)rndn(g, 4);
	int r = pick_gpr(g), d = pick_gpr(g);
	uint16_t sel = pick_sel(g);
	if (sel == 0x7b) /* the host's per-CPU segment: its limit encodes the CPU */
		sel = 0x2b;
	struct ins mv = { .op = 0xb8, .oprm = 1, .rm = (uint8_t)r, .immsz = 4, .imm = sel };
	struct ins in = { .map = 1, .modrm = 1, .rm = (uint8_t)r };
	int sz = 2 << rndn(g, g->mode == 64 ? 3 : 2);
	if (k < 2) {
		in.op = (uint8_t)(0x02 + k);
		in.reg = (uint8_t)d;
		in.p66 = sz == 2;
		in.w = sz == 8;
		snprintf(name, sizeof(name), "%s %s,r16", mn[k], opname('r', sz));
	} else {
		in.op = 0x00;
		in.reg = (uint8_t)(2 + k);
		snprintf(name, sizeof(name), "%s r16", mn[k]);
	}
	if (form_excluded(name))
		return false;
	glue(g, &mv);
	if (!emit(g, &in, name))
		return false;
	flags_write(g, F_ZF, 0);
	if (k == 0 && sz > 2) {
		/* bits 19:16 of a 32/64-bit LAR result are undefined (SDM Vol. 2
		 * LAR: "masked by 00FxFF00H"): capture ZF, then clear them */
		struct ins set = { .map = 1,
				   .op = 0x94,
				   .modrm = 1,
				   .rm = (uint8_t)(d == R_BX ? 1 : 3),
				   .byte_rm = 1 };
		g->tail = true;
		glue(g, &set);
		struct ins and = { .op = 0x81,
				   .modrm = 1,
				   .reg = 4,
				   .rm = (uint8_t)d,
				   .immsz = 4,
				   .imm = 0xfff0ffffu };
		glue(g, &and);
		g->tail = false;
		flags_write(g, F_ARITH & ~F_AF, F_AF);
	}
	return true;
}

bool gen_seg(struct gen *g)
{
	char name[40];
	static const char *const sn[6] = { "es", "cs", "ss", "ds", "fs", "gs" };
	int w = g->mode == 64 ? 8 : 4;
	switch (rndn(g, 6)) {
	case 0: { /* mov r/m16|r32, sreg */
		int sr = (int)rndn(g, 6);
		struct ins in = {
			.op = 0x8c, .modrm = 1, .reg = (uint8_t)sr, .rm = (uint8_t)pick_gpr(g)
		};
		in.mem = rndn(g, 3) == 0;
		if (in.mem)
			in.disp = pick_disp(g, 2, 1);
		else
			in.p66 = rndn(g, 2);
		snprintf(name, sizeof(name), "mov %s,%s",
			 in.mem   ? "m16"
			 : in.p66 ? "r16"
				  : "r32",
			 sn[sr]);
		return emit(g, &in, name);
	}
	case 1: { /* mov ds/es, r */
		int sr = rndn(g, 2) ? 3 : 0;
		uint16_t sel = g->mode == 64 ? (uint16_t[]){ 0x2b, 0x33, 0, 0x2b }[rndn(g, 4)]
					     : (uint16_t[]){ 0x2b, 0x2b, 0x23 }[rndn(g, 3)];
		int r = pick_gpr(g);
		snprintf(name, sizeof(name), "mov %s,r16", sn[sr]);
		if (form_excluded(name))
			return false;
		struct ins mv = { .op = 0xb8, .oprm = 1, .rm = (uint8_t)r, .immsz = 4, .imm = sel };
		glue(g, &mv);
		struct ins in = { .op = 0x8e, .modrm = 1, .reg = (uint8_t)sr, .rm = (uint8_t)r };
		return emit(g, &in, name);
	}
	case 2: { /* push fs/gs; compat: push es/cs/ss/ds, pop es/ds */
		if (g->sp - w < STR_AREA + 8)
			return false;
		if (g->mode == 64 || rndn(g, 2)) {
			bool gs = rndn(g, 2);
			struct ins in = { .map = 1, .op = gs ? 0xa8 : 0xa0 };
			if (!emit(g, &in, gs ? "push gs" : "push fs"))
				return false;
			g->sp -= w;
			return true;
		}
		int sr = (int)rndn(g, 4);
		if (rndn(g, 2) && (sr == 0 || sr == 3)) { /* push sel (glue); pop es/ds */
			snprintf(name, sizeof(name), "pop %s", sn[sr]);
			if (form_excluded(name))
				return false;
			struct ins p = { .op = 0x6a, .immsz = 1, .imm = rndn(g, 4) ? 0x2b : 0x23 };
			glue(g, &p);
			struct ins in = { .op = (uint8_t)(0x07 + 8 * sr) };
			return emit(g, &in, name);
		}
		snprintf(name, sizeof(name), "push %s", sn[sr]);
		struct ins in = { .op = (uint8_t)(0x06 + 8 * sr) };
		if (!emit(g, &in, name))
			return false;
		g->sp -= w;
		return true;
	}
	default:
		return gen_lar(g);
	}
}
