/*
 * tests/decoder/decoder_vs_capstone.c — cross-check of the instruction
 * decoder (cpu/decode.c) against Capstone 4 on random byte strings.
 *
 * For each string, in 16-, 32- and 64-bit mode, compare VALIDITY
 * (decode_bytes() > 0 versus cs_disasm() returning one instruction) and, when
 * both accept, the LENGTH. Strings are a mix of uniformly random bytes and
 * structured ones (random legacy prefixes, REX, an opcode from one of the
 * maps or a VEX/EVEX/XOP escape, then random ModRM/SIB/displacement/
 * immediate bytes). Known, deliberate differences are listed in one table
 * (excuses[] below), each narrow and justified; anything else fails.
 *
 *   decoder_vs_capstone [--count N] [--seed S] [--show K]
 * prints "decoder: N compared, M mismatches" (M = unexcused) and exits 1 if
 * M > 0.
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"

#define BUFLEN 16

struct sample {
	uint8_t b[BUFLEN];
	int bits;          /* 16, 32, 64 */
	int ours;          /* decode_bytes result */
	struct insn in;    /* our decode (valid when ours > 0) */
	int cs_len;        /* Capstone length, 0 = rejected */
	const char *cs_mn; /* Capstone mnemonic */
	/* Parsed by the test itself, for the excuse predicates: */
	unsigned npfx; /* legacy prefix (and REX) bytes before the opcode */
	bool p66, pf2, pf3, plock, p67;
	unsigned rex;  /* 64-bit mode REX (last byte before the opcode) */
	unsigned map;  /* 0..3 legacy maps, 4 = VEX/EVEX/XOP escape */
	uint8_t opc;   /* opcode byte in its map */
	uint8_t modrm; /* byte after the opcode */
};

/* ---- deterministic PRNG (xorshift64*) ---- */
static uint64_t rng_state;
static inline uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}
static inline unsigned rndn(unsigned n)
{
	return (unsigned)((rnd() >> 32) % n);
}

static const uint8_t legacy_pfx[] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65,
				      0x66, 0x67, 0xf0, 0xf2, 0xf3 };

/* Structured strings are built in a scratch buffer with room to spare (up to
 * 14 prefixes + REX + a 4-byte escape + opcode + ModRM) and cut to BUFLEN. */
static void gen_structured(struct sample *s, uint8_t *b);

static void gen(struct sample *s)
{
	uint8_t b[BUFLEN + 32];
	for (unsigned j = 0; j < sizeof(b); j += 8) {
		uint64_t r = rnd();
		memcpy(b + j, &r, 8);
	}
	s->bits = (int[]){ 16, 32, 64, 64 }[rndn(4)];
	if (rndn(4) != 0)
		gen_structured(s, b); /* else uniformly random bytes */
	memcpy(s->b, b, BUFLEN);
}

static void gen_structured(struct sample *s, uint8_t *b)
{
	unsigned k = 0;

	/* Structured: prefixes (mostly few, sometimes many), REX, opcode. */
	unsigned np = rndn(8) == 0 ? rndn(15) : rndn(3);
	if (rndn(3) == 0)
		np = 0;
	for (unsigned j = 0; j < np && k < BUFLEN - 1; j++) {
		/* Bias towards 66/F2/F3 which select SSE forms. */
		if (rndn(2))
			b[k++] = (uint8_t[]){ 0x66, 0xf2, 0xf3 }[rndn(3)];
		else
			b[k++] = legacy_pfx[rndn(sizeof(legacy_pfx))];
	}
	if (s->bits == 64 && rndn(2))
		b[k++] = (uint8_t)(0x40 | rndn(16));
	switch (rndn(10)) {
	case 0:
	case 1:
	case 2:
	case 3: /* one-byte map */
		b[k++] = (uint8_t)rndn(256);
		break;
	case 4:
	case 5:
	case 6: /* 0F */
		b[k++] = 0x0f;
		b[k++] = (uint8_t)rndn(256);
		break;
	case 7: /* 0F 38 */
		b[k++] = 0x0f;
		b[k++] = 0x38;
		b[k++] = (uint8_t)rndn(256);
		break;
	case 8: /* 0F 3A */
		b[k++] = 0x0f;
		b[k++] = 0x3a;
		b[k++] = (uint8_t)rndn(256);
		break;
	default: { /* VEX / EVEX / XOP escape with plausible fields */
		unsigned e = rndn(6);
		uint8_t esc = (uint8_t[]){ 0xc4, 0xc5, 0xc4, 0xc5, 0x62, 0x8f }[e];
		b[k++] = esc;
		if (esc == 0xc5) {
			b[k++] = (uint8_t)(rndn(256) | (s->bits != 64 ? 0xc0 : 0));
		} else if (esc == 0x8f) {
			b[k++] = (uint8_t)((rndn(8) << 5) | (8 + rndn(3)) |
					   (s->bits != 64 ? 0xc0 : 0));
			b[k++] = (uint8_t)rndn(256);
		} else if (esc == 0xc4) {
			b[k++] = (uint8_t)((rndn(8) << 5) | (1 + rndn(3)) |
					   (s->bits != 64 ? 0xc0 : 0));
			b[k++] = (uint8_t)rndn(256);
		} else {
			b[k++] = (uint8_t)((rndn(16) << 4) | (1 + rndn(3)) |
					   (s->bits != 64 ? 0xc0 : 0));
			b[k++] = (uint8_t)(rndn(256) | 4);
			b[k++] = (uint8_t)rndn(256);
		}
		b[k++] = (uint8_t)rndn(256);
		break;
	}
	}
	/* Remaining bytes stay random: ModRM, SIB, displacement, immediate. */
	if (k < BUFLEN && rndn(2)) {
		/* Bias ModRM towards memory forms with SIB/disp sometimes. */
		uint8_t m = b[k];
		if (rndn(2))
			m = (uint8_t)((m & 0xf8) | (rndn(2) ? 4 : 5));
		b[k] = m;
	}
}

/* Parse the prefix/opcode skeleton for the excuse predicates. */
static void skeleton(struct sample *s)
{
	unsigned k = 0;
	s->p66 = s->pf2 = s->pf3 = s->plock = s->p67 = false;
	s->rex = 0;
	for (; k < BUFLEN; k++) {
		uint8_t c = s->b[k];
		if (c == 0x66)
			s->p66 = true;
		else if (c == 0xf2)
			s->pf2 = true, s->pf3 = false;
		else if (c == 0xf3)
			s->pf3 = true, s->pf2 = false;
		else if (c == 0xf0)
			s->plock = true;
		else if (c == 0x67)
			s->p67 = true;
		else if (c == 0x26 || c == 0x2e || c == 0x36 || c == 0x3e || c == 0x64 || c == 0x65)
			;
		else if (s->bits == 64 && (c & 0xf0) == 0x40) {
			s->rex = c;
			s->npfx = k + 1;
			continue;
		} else
			break;
		s->rex = 0;
	}
	s->npfx = k;
	s->map = 0;
	if (k < BUFLEN && s->b[k] == 0x0f) {
		k++;
		s->map = 1;
		if (k < BUFLEN && (s->b[k] == 0x38 || s->b[k] == 0x3a)) {
			s->map = s->b[k] == 0x38 ? 2 : 3;
			k++;
		}
	}
	s->opc = k < BUFLEN ? s->b[k] : 0;
	s->modrm = k + 1 < BUFLEN ? s->b[k + 1] : 0;
}

/* Mandatory-prefix class as hardware sees it (last of F2/F3 over 66). */
static inline unsigned smp(const struct sample *s)
{
	return s->pf2 ? 3 : s->pf3 ? 2 : s->p66 ? 1 : 0;
}

/* ---- Capstone ---- */

static csh cs_h[3];
static cs_insn *cs_i[3];

static inline int mode_index(int bits)
{
	return bits == 16 ? 0 : bits == 32 ? 1 : 2;
}

/* Capstone's length for bytes b (BUFLEN valid), 0 if it rejects them. */
static int cs_len(int bits, const uint8_t *b)
{
	int m = mode_index(bits);
	const uint8_t *code = b;
	size_t size = BUFLEN;
	uint64_t addr = 0x1000;
	return cs_disasm_iter(cs_h[m], &code, &size, &addr, cs_i[m]) ? (int)cs_i[m]->size : 0;
}

/* Capstone's length for a VEX/XOP string whose W vvvv L pp byte is made
 * legal: vvvv = 1111 (unused), R/X/B cleared, L and W kept (0), cleared
 * (1) or set (2). */
static int cs_len_vex_variant(const struct sample *s, int l, int w)
{
	unsigned p = s->npfx;
	uint8_t b[BUFLEN];
	memcpy(b, s->b, BUFLEN);
	unsigned last = s->opc == 0xc5 ? p + 1 : p + 2; /* W vvvv L pp */
	if (last >= BUFLEN)
		return 0;
	b[last] |= 0x78;
	b[p + 1] |= s->opc == 0xc5 ? 0x80 : 0xe0;
	if (l)
		b[last] = (uint8_t)((b[last] & ~0x04) | (l == 2 ? 0x04 : 0));
	if (w && s->opc != 0xc5)
		b[last] = (uint8_t)((b[last] & 0x7f) | (w == 2 ? 0x80 : 0));
	return cs_len(s->bits, b);
}

/* ---- memory-operand fields (Capstone detail mode) ---- */

static csh csd_h[3]; /* handles with CS_OPT_DETAIL on */
static unsigned long mem_checked;
static cs_insn *csd_i[3];

/* Capstone register id -> our GPR number (R_*), BASE_RIP, or -1. */
static int gpr_of(x86_reg r)
{
	static const x86_reg names[16][3] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX },
		{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP },
		{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W },
		{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W },
		{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W },
		{ X86_REG_R12, X86_REG_R12D, X86_REG_R12W },
		{ X86_REG_R13, X86_REG_R13D, X86_REG_R13W },
		{ X86_REG_R14, X86_REG_R14D, X86_REG_R14W },
		{ X86_REG_R15, X86_REG_R15D, X86_REG_R15W },
	};
	if (r == X86_REG_INVALID || r == X86_REG_RIZ || r == X86_REG_EIZ)
		return R_NONE;
	if (r == X86_REG_RIP || r == X86_REG_EIP)
		return BASE_RIP;
	for (int k = 0; k < 16; k++)
		for (int w = 0; w < 3; w++)
			if (names[k][w] == r)
				return k;
	return -1;
}

static int seg_of(x86_reg r)
{
	switch (r) {
	case X86_REG_ES:
		return S_ES;
	case X86_REG_CS:
		return S_CS;
	case X86_REG_SS:
		return S_SS;
	case X86_REG_DS:
		return S_DS;
	case X86_REG_FS:
		return S_FS;
	case X86_REG_GS:
		return S_GS;
	default:
		return -1;
	}
}

/* For a legacy instruction both decoders accept (any mode), with a ModRM memory
 * operand: base, index, scale, displacement (modulo the address size) and
 * segment must agree with Capstone. Returns a description of the first
 * difference or NULL. */
static const char *check_mem_fields(const struct sample *s)
{
	static char why[96];
	const struct insn *in = &s->in;
	if ((in->pfx & PFX_VEX) || !in->has_modrm || in->mod == 3 || s->ours != s->cs_len)
		return NULL;
	int m = mode_index(s->bits);
	const uint8_t *code = s->b;
	size_t size = BUFLEN;
	uint64_t addr = 0x1000;
	if (!cs_disasm_iter(csd_h[m], &code, &size, &addr, csd_i[m]))
		return NULL;
	const cs_x86 *x = &csd_i[m]->detail->x86;
	const cs_x86_op *mem = NULL;
	for (int k = 0; k < x->op_count && !mem; k++)
		if (x->operands[k].type == X86_OP_MEM)
			mem = &x->operands[k];
	if (!mem)
		return NULL; /* e.g. NOP/prefetch forms Capstone prints without operands */
	mem_checked++;
	int base = gpr_of(mem->mem.base), index = gpr_of(mem->mem.index);
	uint64_t amask = in->asz == 8 ? ~0ull : (1ull << (in->asz * 8)) - 1;
	if (base != in->base) {
		snprintf(why, sizeof(why), "base %d vs capstone %d", in->base, base);
		return why;
	}
	if (index != in->index) {
		snprintf(why, sizeof(why), "index %d vs capstone %d", in->index, index);
		return why;
	}
	if (index != R_NONE && mem->mem.scale != 1 << in->scale) {
		snprintf(why, sizeof(why), "scale %d vs capstone %d", 1 << in->scale,
			 mem->mem.scale);
		return why;
	}
	if (((uint64_t)(int64_t)in->disp & amask) != ((uint64_t)mem->mem.disp & amask)) {
		snprintf(why, sizeof(why), "disp %d vs capstone %lld", in->disp,
			 (long long)mem->mem.disp);
		return why;
	}
	/* Capstone names explicit overrides only; in 64-bit mode we drop
	 * ES/CS/SS/DS overrides (null prefixes), so only FS/GS are compared. */
	int cseg = seg_of(mem->mem.segment);
	if (cseg >= 0 && (s->bits != 64 || cseg >= S_FS) && cseg != in->seg) {
		snprintf(why, sizeof(why), "seg %d vs capstone %d", in->seg, cseg);
		return why;
	}
	if (cseg < 0) {
		int def = (in->base == R_SP || in->base == R_BP) ? S_SS : S_DS;
		if (in->seg != def && !(in->pfx & PFX_SEG)) {
			snprintf(why, sizeof(why), "default seg %d, want %d", in->seg, def);
			return why;
		}
	}
	return NULL;
}

/* ---- deliberate differences ---- */

static bool x_branch66(const struct sample *s);
static bool x_prefix_order(const struct sample *s);
static bool x_evex_rc(const struct sample *s);
static bool x_evex_67(const struct sample *s);

/* Re-decode with every prefix byte in set (before the opcode) removed: true
 * when we then accept with Capstone's length minus the removed bytes, i.e.
 * the only disagreement is whether those prefixes make the encoding #UD. */
static bool ok_without(const struct sample *s, const uint8_t *set, unsigned nset, bool rex)
{
	uint8_t b[BUFLEN + BUFLEN];
	unsigned n = 0, removed = 0;
	for (unsigned k = 0; k < BUFLEN; k++) {
		bool drop = false;
		if (k < s->npfx) {
			for (unsigned j = 0; j < nset; j++)
				drop |= s->b[k] == set[j];
			drop |= rex && s->bits == 64 && (s->b[k] & 0xf0) == 0x40;
		}
		if (drop)
			removed++;
		else
			b[n++] = s->b[k];
	}
	while (n < sizeof(b))
		b[n++] = 0;
	struct sample t = *s;
	memcpy(t.b, b, BUFLEN);
	t.ours = decode_bytes(t.b, BUFLEN, s->bits, NULL, &t.in);
	t.cs_len = cs_len(s->bits, t.b);
	if (!removed || t.cs_len != s->cs_len - (int)removed)
		return false;
	if (t.ours > 0 && t.ours == t.cs_len)
		return true;
	skeleton(&t);
	/* differences excused for their own reasons */
	return x_branch66(&t) || x_prefix_order(&t) || x_evex_rc(&t) || x_evex_67(&t);
}

/* VEX (C4/C5), EVEX (62) or XOP (8F) escape as the decoder sees it. */
static bool is_vex_esc(const struct sample *s)
{
	uint8_t nb = s->modrm;
	if (s->map != 0)
		return false;
	if (s->opc == 0x8f)
		return (nb & 0x1f) >= 8;
	return (s->opc == 0xc4 || s->opc == 0xc5 || s->opc == 0x62) &&
	       (s->bits == 64 || (nb & 0xc0) == 0xc0);
}

static bool x_lock(const struct sample *s)
{
	return s->plock && s->ours == DEC_UD && s->cs_len && !is_vex_esc(s) &&
	       ok_without(s, (const uint8_t[]){ 0xf0 }, 1, false);
}

/* Mandatory prefixes: the SDM leaves F2/F3 (and, on some opcodes, 66) blank
 * and F2/F3 take precedence over 66; Capstone ignores prefixes that select
 * nothing and lets the last of 66/F2/F3 win. Excused when we agree without
 * the F2/F3 prefixes, or without any of 66/F2/F3. */
static bool x_mandatory(const struct sample *s)
{
	if (s->map < 1 || !(s->p66 || s->pf2 || s->pf3) || !s->cs_len)
		return false;
	return ((s->pf2 || s->pf3) &&
		ok_without(s, (const uint8_t[]){ 0xf2, 0xf3, 0xf0 }, 3, false)) ||
	       ok_without(s, (const uint8_t[]){ 0x66, 0xf2, 0xf3, 0xf0 }, 4, false);
}

static bool x_vex_prefix(const struct sample *s)
{
	if (s->ours != DEC_UD || !s->cs_len || !s->npfx)
		return false;
	/* the escape follows the prefixes; Capstone must accept it bare too */
	struct sample t = *s;
	unsigned n = 0;
	for (unsigned k = 0; k < BUFLEN; k++)
		if (k >= s->npfx ||
		    !(s->b[k] == 0x66 || s->b[k] == 0xf2 || s->b[k] == 0xf3 || s->b[k] == 0xf0 ||
		      (s->bits == 64 && (s->b[k] & 0xf0) == 0x40)))
			t.b[n++] = s->b[k];
	skeleton(&t);
	return is_vex_esc(&t) &&
	       ok_without(s, (const uint8_t[]){ 0x66, 0xf2, 0xf3, 0xf0 }, 4, true);
}

/* Capstone 4 only honours 66/F2/F3 when they are the last legacy prefixes,
 * and drops 66 when F2/F3 follows it. Prefix order is irrelevant (SDM
 * 2.1.1), so: does Capstone agree with us once the same prefixes are put in
 * the order it understands (others, then F2/F3 and 66 in either order)? */
static bool x_prefix_order(const struct sample *s)
{
	for (int variant = 0; variant < 2; variant++) {
		uint8_t b[BUFLEN];
		unsigned n = 0;
		for (int pass = 0; pass < 3; pass++)
			for (unsigned k = 0; k < s->npfx; k++) {
				uint8_t c = s->b[k];
				bool last_rex =
					s->bits == 64 && (c & 0xf0) == 0x40 && k == s->npfx - 1;
				int cls = c == 0x66                  ? (variant ? 1 : 2)
					  : (c == 0xf2 || c == 0xf3) ? (variant ? 2 : 1)
					  : last_rex                 ? 3
						     : 0; /* an earlier REX is ignored */
				if (cls == 3)
					continue; /* REX stays last */
				if (cls == pass)
					b[n++] = c;
			}
		for (unsigned k = 0; k < s->npfx; k++)
			if (s->bits == 64 && (s->b[k] & 0xf0) == 0x40 && k == s->npfx - 1)
				b[n++] = s->b[k];
		if (n != s->npfx) /* a REX in the middle: not this case */
			return false;
		memcpy(b + n, s->b + n, BUFLEN - n);
		if (memcmp(b, s->b, BUFLEN) && cs_len(s->bits, b) == (s->ours > 0 ? s->ours : 0))
			return true;
	}
	return false;
}

/* Capstone 4's 16-bit tables ignore or reject mandatory prefixes of SSE
 * opcodes (it decodes 66 0F 58 as ADDPS, rejects 66 0F 6D). */
static bool x_sse16(const struct sample *s)
{
	return s->bits == 16 && s->map >= 1 && (s->p66 || s->pf2 || s->pf3);
}

/* VEX/XOP: Capstone 4 rejects encodings whose reserved fields (vvvv not
 * 1111 when unused, L or W where they must be 0) are set. All VEX/XOP is #UD
 * here today (no AVX/XOP advertised), so only the length matters: excuse it
 * when Capstone accepts the same bytes with vvvv = 1111 and L/W cleared and
 * then agrees on the length. */
static bool x_vex_fields(const struct sample *s)
{
	bool esc = s->map == 0 && (s->opc == 0xc4 || s->opc == 0xc5 || s->opc == 0x8f) &&
		   (s->bits == 64 || (s->modrm & 0xc0) == 0xc0 || s->opc == 0x8f);
	if (!esc || s->ours <= 0 || s->cs_len)
		return false;
	for (int l = 0; l < 3; l++)
		for (int w = 0; w < 3; w++)
			if (cs_len_vex_variant(s, l, w) == s->ours)
				return true;
	return false;
}

static bool x_branch66(const struct sample *s)
{
	bool br = (s->map == 0 && (s->opc == 0xe8 || s->opc == 0xe9)) ||
		  (s->map == 1 && (s->opc & 0xf0) == 0x80);
	if (s->bits != 64 || !(s->p66 || (s->p67 && (s->rex & 8))) || !br || !s->cs_len)
		return false;
	return s->ours == s->cs_len + 2 || (s->ours == DEC_TOOLONG && s->cs_len + 2 > 15);
}

static bool x_ret_iw(const struct sample *s)
{
	return s->bits == 64 && s->map == 0 && s->opc == 0xc2 && (s->p66 || s->p67) &&
	       (s->rex & 8) && s->ours > 0 && s->cs_len == s->ours + 2;
}

/* EVEX register forms: Capstone 4 sometimes (it prints an embedded-rounding
 * operand) reports one byte more than the instruction has. */
static bool x_evex_rc(const struct sample *s)
{
	unsigned p = s->npfx;
	if (s->map != 0 || s->opc != 0x62 || p + 5 >= BUFLEN)
		return false;
	return (s->bits == 64 || (s->modrm & 0xc0) == 0xc0) && (s->b[p + 5] & 0xc0) == 0xc0 &&
	       s->ours > 0 && s->cs_len == s->ours + 1;
}

/* EVEX with a 67 prefix: Capstone 4 decodes its ModRM with 16-bit forms. */
static bool x_evex_67(const struct sample *s)
{
	return s->map == 0 && s->opc == 0x62 && s->p67 &&
	       (s->bits == 64 || (s->modrm & 0xc0) == 0xc0) && s->ours > 0 && s->cs_len;
}

/* XOP BEXTR r, r/m, imm32 (map 0Ah op 10h) in 16-bit code: Capstone 4 reads
 * a 16-bit immediate; AMD APM Vol. 3 BEXTR: always id. */
static bool x_xop_bextr16(const struct sample *s)
{
	unsigned p = s->npfx;
	if (!(s->bits == 16 && s->map == 0 && s->opc == 0x8f && p + 3 < BUFLEN &&
	      (s->b[p + 1] & 0x1f) == 10 && s->b[p + 3] == 0x10 && s->ours > 0))
		return false;
	if (s->cs_len == s->ours - 2)
		return true;
	for (int l = 0; l < 3; l++) /* also with reserved fields (see below) */
		for (int w = 0; w < 3; w++)
			if (cs_len_vex_variant(s, l, w) == s->ours - 2)
				return true;
	return false;
}

/* Capstone 4 in 64-bit mode takes a 67 prefix as the mandatory 66 of 0F 38
 * opcodes: excused when we agree after turning the 67 into a 66. */
static bool x_adsize_as_66(const struct sample *s)
{
	if (s->bits != 64 || !s->p67 || s->p66 || s->map < 1 || !s->rex || !s->cs_len)
		return false;
	/* variant 1: 67 -> 66; variant 2: also F2/F3 -> 2E (a null prefix in
	 * 64-bit mode), for Capstone's last-prefix-wins on top of it */
	for (int variant = 1; variant <= 2; variant++) {
		uint8_t b[BUFLEN];
		memcpy(b, s->b, BUFLEN);
		for (unsigned k = 0; k < s->npfx; k++) {
			if (b[k] == 0x67)
				b[k] = 0x66;
			else if (variant == 2 && (b[k] == 0xf2 || b[k] == 0xf3))
				b[k] = 0x2e;
		}
		struct insn in;
		if (decode_bytes(b, BUFLEN, 64, NULL, &in) == s->cs_len)
			return true;
	}
	return false;
}

static bool x_padlock(const struct sample *s)
{
	return s->map == 1 && (s->opc == 0xa6 || s->opc == 0xa7) && s->ours == DEC_UD && s->cs_len;
}

static bool x_3dnow_femms(const struct sample *s)
{
	return s->map == 1 && s->opc == 0x0f && s->ours == DEC_UD && s->cs_len &&
	       !strcmp(s->cs_mn, "femms");
}

/* Instructions of the SDM/APM that Capstone 4.0.2 does not know. */
static bool x_newer_isa(const struct sample *s)
{
	if (s->ours <= 0 || s->cs_len)
		return false;
	if (s->map == 1 && s->opc == 0x01)
		return s->modrm == 0xee || s->modrm == 0xef || /* RDPKRU WRPKRU */
		       (s->modrm >= 0xfa && s->modrm <= 0xfc); /* MONITORX MWAITX CLZERO */
	if (s->map == 2 && s->opc == 0xcf)
		return true; /* GFNI */
	if (s->map == 3 && (s->opc == 0xce || s->opc == 0xcf))
		return true; /* GFNI */
	unsigned p = s->npfx;
	if (is_vex_esc(s) && s->opc != 0x62 && s->opc != 0x8f) {
		/* VEX: GFNI; AVX512BW/DQ opmask KADD, KTEST, KMOVD/Q, KUNPCKWD/DQ,
		 * KSHIFTxD/Q; AVX2 VBROADCASTI128 (a Capstone 4 gap) */
		unsigned map = s->opc == 0xc5 ? 1 : s->b[p + 1] & 0x1f;
		uint8_t o = s->b[p + (s->opc == 0xc5 ? 2 : 3)];
		return (map == 2 && (o == 0xcf || o == 0x5a)) ||
		       (map == 3 && (o == 0xce || o == 0xcf || o == 0x31 || o == 0x33)) ||
		       (map == 1 &&
			(o == 0x4a || o == 0x4b || o == 0x99 || o == 0x92 || o == 0x93));
	}
	if (is_vex_esc(s) && s->opc == 0x8f) /* XOP: LWP (LLWPCB .. LWPVAL) */
		return p + 3 < BUFLEN && s->b[p + 3] == 0x12;
	return false;
}

static bool x_hint_nop(const struct sample *s)
{
	return s->map == 1 && s->opc >= 0x18 && s->opc <= 0x1f && s->ours > 0 && !s->cs_len &&
	       ((s->modrm >> 6) == 3 || s->opc == 0x18);
}

static bool x_prefetch(const struct sample *s)
{
	return s->map == 1 && s->opc == 0x0d && s->ours > 0 && !s->cs_len;
}

static bool x_ud01(const struct sample *s)
{
	return s->map == 1 && (s->opc == 0xff || s->opc == 0xb9) &&
	       (s->cs_len == (int)s->npfx + 2 || (s->ours > 0 && !s->cs_len));
}

static bool x_fence(const struct sample *s)
{
	return s->map == 1 && s->opc == 0xae && (s->modrm & 0xc0) == 0xc0 &&
	       ((s->modrm >> 3) & 7) >= 5 && (s->modrm & 7) && s->ours > 0 && !s->cs_len;
}

static bool x_sreg_rexr(const struct sample *s)
{
	return s->bits == 64 && s->map == 0 && (s->opc == 0x8c || s->opc == 0x8e) && (s->rex & 4) &&
	       s->ours > 0 && !s->cs_len;
}

static bool x_evex(const struct sample *s)
{
	return s->map == 0 && s->opc == 0x62 && (s->bits == 64 || (s->modrm & 0xc0) == 0xc0) &&
	       s->ours > 0 && !s->cs_len;
}

struct excuse {
	const char *name;
	bool (*match)(const struct sample *s);
	const char *why;
};

static const struct excuse excuses[] = {
	{ "lock-not-lockable", x_lock,
	  "SDM LOCK: #UD unless a lockable op with memory dest; Capstone 4 accepts many" },
	{ "reserved-mandatory-prefix", x_mandatory,
	  "66/F2/F3 on an SSE/MMX opcode where the SDM map is blank: we #UD (as Bochs/QEMU), "
	  "Capstone (LLVM prefix inheritance) ignores the prefix" },
	{ "prefix-before-vex", x_vex_prefix,
	  "SDM 2.3.2: 66/F2/F3/LOCK/REX before VEX/EVEX/XOP is #UD; Capstone 4 ignores them" },
	{ "prefix-order", x_prefix_order,
	  "SDM 2.1.1: legacy prefixes in any order; Capstone 4 needs 66/F2/F3 last and drops "
	  "66 before F2/F3 (agrees once reordered)" },
	{ "sse-16bit", x_sse16,
	  "Capstone 4 16-bit mode ignores/rejects mandatory 66/F2/F3 of 0F/0F38/0F3A opcodes" },
	{ "vex-reserved-fields", x_vex_fields,
	  "VEX/XOP with reserved vvvv/L/W/R/X/B values: #UD either way (not advertised); "
	  "Capstone agrees on the length once they are set to allowed values" },
	{ "ret-iw-66-rexw", x_ret_iw,
	  "RET Iw with 66 and REX.W: the immediate is always 2 bytes; Capstone 4 reads 4" },
	{ "adsize-as-66", x_adsize_as_66,
	  "Capstone 4 (64-bit, with REX) treats 67 as a mandatory 66 of 0F/0F38/0F3A opcodes" },
	{ "via-padlock", x_padlock,
	  "0F A6/A7 VIA PadLock is in neither SDM nor APM: we #UD, Capstone decodes it" },
	{ "evex-rounding-length", x_evex_rc,
	  "EVEX register form that Capstone 4 prints with {er}/{sae}: its length is one too long" },
	{ "evex-67", x_evex_67,
	  "EVEX with 67: Capstone 4 decodes the ModRM with 16-bit addressing forms" },
	{ "xop-bextr-imm16", x_xop_bextr16,
	  "XOP BEXTR has an imm32 in every mode (APM); Capstone 4 reads imm16 in 16-bit code" },
	{ "3dnow-bad-suffix", x_3dnow_femms,
	  "0F 0F with an undefined 3DNow! suffix: Capstone 4 reports FEMMS" },
	{ "newer-than-capstone4", x_newer_isa,
	  "RDPKRU/WRPKRU, MONITORX/MWAITX/CLZERO, GFNI, AVX512BW/DQ opmask ops, "
	  "VBROADCASTI128, LWP: defined in SDM/APM, unknown to Capstone 4.0.2" },
	{ "66-near-branch-64", x_branch66,
	  "Intel: 66 is ignored by near CALL/JMP/Jcc in 64-bit mode (rel32); Capstone "
	  "decodes rel16 (AMD), also (bug) for 67 with REX.W" },
	{ "hint-nop", x_hint_nop,
	  "SDM Table A-3: 0F 18-1F are NOP Ev incl. register forms and 0F 18 /4-/7; "
	  "Capstone 4 rejects some" },
	{ "prefetch-0f0d", x_prefetch,
	  "AMD APM: 0F 0D /0 PREFETCH, /2-/7 aliases, prefixes ignored; Capstone 4 knows "
	  "only /1 PREFETCHW without prefixes" },
	{ "ud0-ud1-modrm", x_ud01,
	  "SDM: UD0 (0F FF) and UD1 (0F B9) take a ModRM; Capstone 4 stops after 2 bytes "
	  "or rejects them with prefixes" },
	{ "fence-rm", x_fence,
	  "SDM LFENCE/MFENCE/SFENCE: ModRM.rm is ignored; Capstone 4 accepts only rm=0" },
	{ "sreg-rex-r", x_sreg_rexr,
	  "MOV Sreg (8C/8E): REX.R does not extend the Sreg field; Capstone 4 rejects" },
	{ "evex-validity", x_evex,
	  "EVEX (AVX-512) is never advertised: we decode its length only and #UD; "
	  "no per-opcode EVEX validity table" },
	{ NULL, NULL, NULL },
};
#define NEXCUSES (sizeof(excuses) / sizeof(excuses[0]) - 1)
static unsigned long excuse_hits[NEXCUSES];

static const char *hex(const uint8_t *b, unsigned n)
{
	static char buf[BUFLEN * 3 + 1];
	for (unsigned k = 0; k < n; k++)
		sprintf(buf + 3 * k, "%02x ", b[k]);
	buf[n ? 3 * n - 1 : 0] = 0;
	return buf;
}

int main(int argc, char **argv)
{
	unsigned long count = 1000000, show = 20;
	uint64_t seed = 1;
	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--count") && k + 1 < argc)
			count = strtoul(argv[++k], NULL, 0);
		else if (!strcmp(argv[k], "--seed") && k + 1 < argc)
			seed = strtoull(argv[++k], NULL, 0);
		else if (!strcmp(argv[k], "--show") && k + 1 < argc)
			show = strtoul(argv[++k], NULL, 0);
		else {
			fprintf(stderr, "usage: %s [--count N] [--seed S] [--show K]\n", argv[0]);
			return 2;
		}
	}
	rng_state = seed * 0x9e3779b97f4a7c15ull + 0x1234567;
	if (!rng_state)
		rng_state = 1;

	const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
	for (int m = 0; m < 3; m++) {
		if (cs_open(CS_ARCH_X86, modes[m], &cs_h[m]) != CS_ERR_OK) {
			fprintf(stderr, "decoder: cs_open failed\n");
			return 2;
		}
		cs_i[m] = cs_malloc(cs_h[m]);
		if (cs_open(CS_ARCH_X86, modes[m], &csd_h[m]) != CS_ERR_OK) {
			fprintf(stderr, "decoder: cs_open failed\n");
			return 2;
		}
		cs_option(csd_h[m], CS_OPT_DETAIL, CS_OPT_ON);
		csd_i[m] = cs_malloc(csd_h[m]);
	}

	unsigned long bad = 0, excused = 0, agree_valid = 0, agree_invalid = 0, bad_fields = 0;
	for (unsigned long n = 0; n < count; n++) {
		struct sample s;
		gen(&s);
		int m = mode_index(s.bits);
		s.ours = decode_bytes(s.b, BUFLEN, s.bits, NULL, &s.in);
		s.cs_len = cs_len(s.bits, s.b);
		s.cs_mn = s.cs_len ? cs_i[m]->mnemonic : "(invalid)";
		int ours = s.ours > 0 ? s.ours : 0;
		if (ours == s.cs_len) {
			if (!ours) {
				agree_invalid++;
				continue;
			}
			agree_valid++;
			const char *why = check_mem_fields(&s);
			if (!why)
				continue;
			if (bad_fields++ < show)
				printf("FIELDS %d-bit: %s | %s (%s %s)\n", s.bits, hex(s.b, BUFLEN),
				       why, csd_i[m]->mnemonic, csd_i[m]->op_str);
			continue;
		}
		skeleton(&s);
		const struct excuse *e = excuses;
		for (; e->name; e++)
			if (e->match(&s))
				break;
		if (e->name) {
			excuse_hits[e - excuses]++;
			excused++;
			continue;
		}
		if (bad++ < show)
			printf("MISMATCH %d-bit: %s | ours %d, capstone %d (%s %s)\n", s.bits,
			       hex(s.b, BUFLEN), s.ours, s.cs_len, s.cs_mn,
			       s.cs_len ? cs_i[m]->op_str : "");
	}
	for (unsigned k = 0; k < NEXCUSES; k++)
		if (excuse_hits[k])
			printf("excused %-26s %8lu  (%s)\n", excuses[k].name, excuse_hits[k],
			       excuses[k].why);
	printf("decoder: agree %lu valid + %lu invalid, %lu excused\n", agree_valid, agree_invalid,
	       excused);
	printf("decoder: %lu memory operands checked field by field, %lu differ\n", mem_checked,
	       bad_fields);
	bad += bad_fields;
	printf("decoder: %lu compared, %lu mismatches\n", count, bad);
	for (int m = 0; m < 3; m++) {
		cs_free(cs_i[m], 1);
		cs_close(&cs_h[m]);
		cs_free(csd_i[m], 1);
		cs_close(&csd_h[m]);
	}
	return bad ? 1 : 0;
}
