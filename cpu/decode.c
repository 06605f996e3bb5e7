/*
 * cpu/decode.c — x86 instruction decoder: legacy prefixes, REX, VEX (and the
 * lengths of EVEX, XOP and 3DNow! encodings), opcode maps, ModRM/SIB/
 * displacement, immediates; then the handler lookup in the registry
 * (cpu/optab.c) with the feature and LOCK checks.
 *
 * The opcode facts (ModRM presence, immediate kinds, mode rules) are data in
 * cpu/decode_attr.c; this file is the engine that walks the bytes. It runs on
 * every block-cache miss, so it is one straight pass without allocation.
 * References: Intel SDM Vol. 2 ch. 2 (instruction format), 2.2.1 (REX),
 * 2.3 (VEX), 2.7 (EVEX); AMD APM Vol. 3 ch. 1 (XOP, 3DNow!).
 */
#include "cpu/decode.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/decode_attr.h"

#define MAX_INSN_LEN 15 /* SDM Vol. 2 2.1: longer is #GP(0) */

/* Byte n (0-based) must be readable: more than 15 bytes is #GP, more than
 * the caller gave us asks for more input. */
#define NEED(n)                             \
	do {                                \
		if ((n) > MAX_INSN_LEN)     \
			return DEC_TOOLONG; \
		if ((n) > avail)            \
			return DEC_MORE;    \
	} while (0)

/* Little-endian read of n (1, 2, 4 or 8) bytes, sign-extended to 64 bits. */
static inline int64_t rd_sx(const uint8_t *p, unsigned n)
{
	switch (n) {
	case 1:
		return (int8_t)p[0];
	case 2:
		return (int16_t)(p[0] | p[1] << 8);
	case 4:
		return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				 (uint32_t)p[3] << 24);
	default: {
		uint64_t v = 0;
		for (int k = 7; k >= 0; k--)
			v = v << 8 | p[k];
		return (int64_t)v;
	}
	}
}

void op_ud(struct cpu *cpu, const struct insn *in)
{
	cpu_ud(cpu);
}

/* Opcodes that decode but that no family registered: say so once per
 * (VEX, mp, map/opcode, ModRM.reg) per process, then #UD. The warned bitmap
 * is process-wide on purpose (a diagnostic, not machine state). */
static _Atomic uint64_t unimpl_warned[(2 * 4 * 1024 * 8) / 64];

static void op_unimpl(struct cpu *cpu, const struct insn *in)
{
	unsigned vex = !!(in->pfx & PFX_VEX), reg = (in->modrm >> 3) & 7;
	unsigned key = ((vex * 4 + in->mp) * 1024 + in->op) * 8 + reg;
	uint64_t bit = 1ull << (key & 63);

	if (!(atomic_fetch_or(&unimpl_warned[key >> 6], bit) & bit)) {
		static const char *const mpname[4] = { "", "66 ", "F3 ", "F2 " };
		static const char *const mapname[4] = { "", "0F ", "0F 38 ", "0F 3A " };
		char modrm[24] = "";
		if (in->has_modrm)
			snprintf(modrm, sizeof(modrm), " /%u (modrm %02X)", reg, in->modrm);
		fprintf(stderr,
			"nestbox: warning: unimplemented opcode %s%s%s%02X%s at %#llx: #UD\n",
			vex ? "VEX." : "", mpname[in->mp & 3], mapname[(in->op >> 8) & 3],
			in->op & 0xff, modrm, (unsigned long long)cpu->ip_start);
	}
	cpu_ud(cpu);
}

/* VEX map 1 opcodes with an imm8 (Intel SDM Vol. 2 Table A-3 VEX forms). */
static inline bool vex_map1_has_ib(uint8_t op)
{
	return (op >= 0x70 && op <= 0x73) || op == 0xc2 || (op >= 0xc4 && op <= 0xc6);
}

/*
 * ModRM, SIB and displacement starting at buf[i] (the ModRM byte). Sets the
 * addressing fields of *in; returns the index after the displacement or a
 * DEC_* code. rexr/rexx/rexb are 8 when the extension bit is set.
 */
static inline int decode_modrm(const uint8_t *buf, unsigned avail, unsigned i, struct insn *in,
			       unsigned rexr, unsigned rexx, unsigned rexb, bool mode64,
			       bool force_reg)
{
	NEED(i + 1);
	uint8_t m = buf[i++];
	unsigned mod = m >> 6, rm = m & 7;

	in->modrm = m;
	in->has_modrm = 1;
	in->reg = (uint8_t)(((m >> 3) & 7) | rexr);
	in->rm = (uint8_t)(rm | rexb);
	if (mod == 3 || force_reg) {
		/* MOV CR/DR ignore mod and always name a register (SDM MOV CR). */
		in->mod = 3;
		return (int)i;
	}
	in->mod = (uint8_t)mod;
	unsigned dsz = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	uint8_t defseg = S_DS;

	if (in->asz == 2) {
		/* 16-bit forms (SDM Vol. 2 Table 2-1). BP-based forms use SS. */
		static const uint8_t b16[8] = {
			R_BX, R_BX, R_BP, R_BP, R_NONE, R_NONE, R_BP, R_BX
		};
		static const uint8_t i16[8] = {
			R_SI, R_DI, R_SI, R_DI, R_SI, R_DI, R_NONE, R_NONE
		};
		if (mod == 0 && rm == 6) {
			in->base = in->index = R_NONE;
			dsz = 2;
		} else {
			in->base = b16[rm];
			in->index = i16[rm];
			if (rm == 4 || rm == 5) { /* [SI] / [DI] */
				in->base = i16[rm];
				in->index = R_NONE;
			}
			if (mod == 2)
				dsz = 2;
			if (in->base == R_BP)
				defseg = S_SS;
		}
		in->rm = (uint8_t)rm;
	} else {
		/* 32/64-bit forms (SDM Vol. 2 Tables 2-2, 2-3; 2.2.1.6 RIP-relative). */
		in->index = R_NONE;
		if (rm == 4) {
			NEED(i + 1);
			uint8_t sib = buf[i++];
			unsigned idx = ((sib >> 3) & 7) | rexx, b = sib & 7;
			in->scale = sib >> 6;
			if (idx != 4) /* 100 without REX.X: no index */
				in->index = (uint8_t)idx;
			if (b == 5 && mod == 0) {
				in->base = R_NONE;
				dsz = 4;
			} else {
				in->base = (uint8_t)(b | rexb);
			}
		} else if (rm == 5 && mod == 0) {
			in->base = mode64 ? BASE_RIP : R_NONE;
			dsz = 4;
		} else {
			in->base = (uint8_t)(rm | rexb);
		}
		/* rSP/rBP (not R12/R13) as base default to SS. */
		if (in->base == R_SP || in->base == R_BP)
			defseg = S_SS;
	}
	if (in->seg == S_NONE)
		in->seg = defseg;
	if (dsz) {
		NEED(i + dsz);
		in->disp = (int32_t)rd_sx(buf + i, dsz);
		i += dsz;
	}
	return (int)i;
}

/* Registry lookup plus the checks that turn a decoded instruction into #UD. */
static inline void bind_handler(struct insn *in, const struct cpu_model *model)
{
	const struct optab_entry *e = optab_find(in);
	if (!e) {
		in->fn = op_unimpl;
		return;
	}
	in->flags = e->flags;
	in->fn = e->fn;
	if (model && !model_has(model, e->feat))
		in->fn = op_ud;
	/* LOCK is #UD unless the form is lockable with a memory destination
	 * (SDM Vol. 2 LOCK). */
	if ((in->pfx & PFX_LOCK) && (!(e->flags & OPF_LOCKABLE) || in->mod == 3))
		in->fn = op_ud;
}

/*
 * VEX (C4/C5), XOP (8F) and EVEX (62) encodings starting at buf[i]. Only
 * VEX instructions can be implemented (families register them with vex=1);
 * XOP and EVEX are never advertised, so they decode to a silent #UD.
 */
static int decode_vex(const uint8_t *buf, unsigned avail, unsigned i, struct insn *in, bool mode64,
		      const struct cpu_model *model)
{
	uint8_t esc = buf[i];
	unsigned r, x, b, map, w, vvvv, l, pp, hdr;

	/* VEX/XOP/EVEX after 66, F2, F3, LOCK or REX is #UD (SDM 2.3.2). */
	if (in->pfx & (PFX_OPSIZE | PFX_REP | PFX_REPNE | PFX_LOCK | PFX_REX))
		return DEC_UD;
	if (esc == 0xc5) {
		NEED(i + 2);
		uint8_t p1 = buf[i + 1];
		r = !(p1 & 0x80);
		x = b = 0;
		map = 1;
		w = 0;
		vvvv = (~p1 >> 3) & 15;
		l = (p1 >> 2) & 1;
		pp = p1 & 3;
		hdr = 2;
	} else if (esc == 0x62) {
		NEED(i + 4);
		uint8_t p0 = buf[i + 1], p1 = buf[i + 2], p2 = buf[i + 3];
		/* EVEX (SDM 2.7.1): P0 = R X B R' 0 0 m m, P1 = W vvvv 1 pp. */
		if ((p0 & 0x0c) || !(p1 & 0x04) || (p0 & 3) == 0)
			return DEC_UD;
		r = !(p0 & 0x80);
		x = !(p0 & 0x40);
		b = !(p0 & 0x20);
		map = p0 & 3;
		w = p1 >> 7;
		vvvv = (~p1 >> 3) & 15;
		l = (p2 >> 5) & 3;
		pp = p1 & 3;
		hdr = 4;
	} else {
		/* C4 (VEX) or 8F (XOP): R X B mmmmm, W vvvv L pp. */
		NEED(i + 3);
		uint8_t p1 = buf[i + 1], p2 = buf[i + 2];
		r = !(p1 & 0x80);
		x = !(p1 & 0x40);
		b = !(p1 & 0x20);
		map = p1 & 0x1f;
		w = p2 >> 7;
		vvvv = (~p2 >> 3) & 15;
		l = (p2 >> 2) & 1;
		pp = p2 & 3;
		hdr = 3;
		if (esc == 0x8f ? (map < 8 || map > 10 || pp) : (map < 1 || map > 3))
			return DEC_UD; /* XOP.pp is reserved (AMD APM Vol. 6 1.1) */
	}
	if (!mode64) {
		/* Outside 64-bit mode only 8 registers: VEX.B and vvvv[3] are
		 * ignored (R and X are 1 by the LES/LDS/BOUND disambiguation). */
		r = x = b = 0;
		vvvv &= 7;
	}
	i += hdr;
	NEED(i + 1);
	uint8_t opc = buf[i++];

	in->pfx |= PFX_VEX;
	in->mp = (uint8_t)pp;
	in->vexw = (uint8_t)w;
	in->vexl = (uint8_t)l;
	in->vvvv = (uint8_t)vvvv;
	in->osz = mode64 && w ? 8 : 4;
	if (w && mode64)
		in->pfx |= PFX_REXW;

	const bool isvex = esc == 0xc4 || esc == 0xc5;
	unsigned immsz, va = 0;
	if (esc == 0x8f)
		immsz = map == 8 ? 1 : map == 10 ? 4 : 0;
	else if (map == 3)
		immsz = 1;
	else if (map == 1)
		immsz = vex_map1_has_ib(opc);
	else
		immsz = 0;
	if (isvex) {
		va = vex_tab[map - 1][opc];
		if (!((va >> pp) & 1))
			return DEC_UD;
	}
	in->op = (uint16_t)((map & 3) << 8 | opc);
	if (!(va & VX_NOMODRM)) { /* all but VZEROUPPER/VZEROALL have ModRM */
		int k = decode_modrm(buf, avail, i, in, r << 3, x << 3, b << 3, mode64, false);
		if (k < 0)
			return k;
		i = (unsigned)k;
		if ((va & VX_REG) && in->mod != 3)
			return DEC_UD;
		if ((va & VX_MEM) && in->mod == 3)
			return DEC_UD;
		if ((va & VX_GRP) && !vex_grp_valid(in->op, in->modrm, pp))
			return DEC_UD;
		if (esc == 0x8f && !xop_valid(map, opc, in->modrm))
			return DEC_UD;
	} else {
		in->mod = 3;
		if (in->seg == S_NONE)
			in->seg = S_DS;
	}
	if (immsz) {
		NEED(i + immsz);
		in->imm = (uint64_t)rd_sx(buf + i, immsz);
		i += immsz;
	}
	in->len = (uint8_t)i;
	if (isvex)
		bind_handler(in, model);
	else
		in->fn = op_ud;
	return (int)i;
}

int decode_bytes(const uint8_t *buf, unsigned avail, int code_bits, const struct cpu_model *model,
		 struct insn *in)
{
	const bool m64 = code_bits == 64;
	unsigned i = 0, rex = 0, rep = 0;
	uint16_t pfx = 0;
	uint8_t b;

	optab_init();
	memset(in, 0, sizeof(*in));
	in->seg = S_NONE; /* until an override or the ModRM default sets it */
	in->base = in->index = R_NONE;

	/* Legacy prefixes (SDM 2.1.1), any order, repeats allowed; REX only
	 * counts when it is the last prefix before the opcode (SDM 2.2.1). */
	for (;; i++) {
		NEED(i + 1);
		b = buf[i];
		switch (b) {
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			/* ES/CS/SS/DS overrides are null prefixes in 64-bit mode. */
			if (!m64) {
				in->seg = (b >> 3) & 3;
				pfx |= PFX_SEG;
			}
			break;
		case 0x64:
		case 0x65:
			in->seg = b == 0x64 ? S_FS : S_GS;
			pfx |= PFX_SEG;
			break;
		case 0x66:
			pfx |= PFX_OPSIZE;
			break;
		case 0x67:
			pfx |= PFX_ADSIZE;
			break;
		case 0xf0:
			pfx |= PFX_LOCK;
			break;
		case 0xf2:
			pfx |= PFX_REPNE;
			rep = MP_F2;
			break;
		case 0xf3:
			pfx |= PFX_REP;
			rep = MP_F3;
			break;
		case 0x40 ... 0x4f:
			if (m64) {
				rex = b;
				continue;
			}
			goto opcode;
		default:
			goto opcode;
		}
		rex = 0;
	}
opcode:
	if (rex) {
		pfx |= PFX_REX;
		if (rex & 8)
			pfx |= PFX_REXW;
	}
	in->pfx = pfx;
	/* F2/F3 (the last of them) take precedence over 66 (SDM 2.1.1 notes). */
	in->mp = (uint8_t)(rep ? rep : (pfx & PFX_OPSIZE) ? MP_66 : MP_NONE);
	if (m64)
		in->asz = (pfx & PFX_ADSIZE) ? 4 : 8;
	else if (code_bits == 32)
		in->asz = (pfx & PFX_ADSIZE) ? 2 : 4;
	else
		in->asz = (pfx & PFX_ADSIZE) ? 4 : 2;

	/* VEX / EVEX / XOP escapes. C4/C5/62 are LES/LDS/BOUND outside 64-bit
	 * mode unless ModRM.mod would be 11 (SDM 2.3.5, 2.7); 8F is XOP when the
	 * map field is >= 8 (POP Ev needs ModRM.reg = 0). */
	if (b == 0xc4 || b == 0xc5 || b == 0x62 || b == 0x8f) {
		NEED(i + 2);
		uint8_t nb = buf[i + 1];
		bool esc = b == 0x8f ? (nb & 0x1f) >= 8 : (m64 || (nb & 0xc0) == 0xc0);
		if (esc)
			return decode_vex(buf, avail, i, in, m64, model);
	}

	unsigned map = 0, op = b;
	i++;
	if (b == 0x0f) {
		NEED(i + 1);
		op = buf[i++];
		map = 1;
		if (op == 0x38 || op == 0x3a) {
			map = op == 0x38 ? 2 : 3;
			NEED(i + 1);
			op = buf[i++];
		}
	}
	const uint32_t a = attr_tab[map][op];
	in->op = (uint16_t)(map << 8 | op);

	if ((a & A_UD) || (map >= 2 && a == 0) || (m64 && (a & A_I64)))
		return DEC_UD;
	if (((a >> A_MP_SHIFT) & 15) && !((a >> (A_MP_SHIFT + in->mp)) & 1))
		return DEC_UD;

	/* Operand size (SDM 2.2.1.2 and Appendix A superscripts d64/f64). */
	unsigned osz;
	if (m64) {
		if ((pfx & PFX_REXW) || (a & A_F64))
			osz = 8;
		else if (pfx & PFX_OPSIZE)
			osz = 2;
		else
			osz = (a & A_D64) ? 8 : 4;
	} else {
		osz = ((code_bits == 32) != !!(pfx & PFX_OPSIZE)) ? 4 : 2;
	}
	in->osz = (uint8_t)osz;

	if (a & A_MODRM) {
		int k = decode_modrm(buf, avail, i, in, (rex & 4) << 1, (rex & 2) << 2,
				     (rex & 1) << 3, m64, a & A_CRDR);
		if (k < 0)
			return k;
		i = (unsigned)k;
		if ((a & A_MEM) && in->mod == 3)
			return DEC_UD;
		if ((a & A_REG) && in->mod != 3)
			return DEC_UD;
		if ((a & A_GRP) && !attr_grp_valid(in->op, in->modrm, in->mp, m64))
			return DEC_UD;
		if ((pfx & PFX_LOCK) && !attr_lock_valid(in->op, in->modrm))
			return DEC_UD;
		/* Grp5 in 64-bit mode: near CALL/JMP Ev are f64, PUSH Ev is d64
		 * (SDM Table A-6 superscripts); the far forms keep 32/64. */
		if (m64 && in->op == 0x0ff && !(pfx & PFX_REXW)) {
			unsigned r = (in->modrm >> 3) & 7;
			if (r == 2 || r == 4)
				in->osz = 8;
			else if (r == 6 && !(pfx & PFX_OPSIZE))
				in->osz = 8;
		}
	} else {
		if (pfx & PFX_LOCK)
			return DEC_UD;
		/* Register in the opcode's low bits (50+r, B8+r, ...). */
		in->rm = (uint8_t)((op & 7) | (rex & 1) << 3);
		in->mod = 3;
	}
	if (in->seg == S_NONE)
		in->seg = S_DS;

	/* Immediates (sign-extended into imm). */
	unsigned isz = 0;
	switch (a & A_IMM) {
	case IK_NONE:
		break;
	case IK_B:
		isz = 1;
		break;
	case IK_W:
		isz = 2;
		break;
	case IK_Z:
		isz = osz == 2 ? 2 : 4;
		break;
	case IK_V:
		isz = osz;
		break;
	case IK_GRP3B:
		isz = (in->modrm & 0x30) == 0 ? 1 : 0; /* TEST Eb,Ib is /0 and /1 */
		break;
	case IK_GRP3Z:
		isz = (in->modrm & 0x30) == 0 ? (osz == 2 ? 2 : 4) : 0;
		break;
	case IK_ENTER:
		NEED(i + 3);
		in->imm = (uint64_t)rd_sx(buf + i, 2);
		in->imm2 = buf[i + 2];
		i += 3;
		break;
	case IK_AP: {
		unsigned off = osz == 2 ? 2 : 4;
		NEED(i + off + 2);
		in->imm = (uint64_t)rd_sx(buf + i, off);
		in->imm2 = (uint16_t)(buf[i + off] | buf[i + off + 1] << 8);
		i += off + 2;
		break;
	}
	case IK_MOFFS:
		/* MOV moffs: an address-size offset, no ModRM; zero-extended. */
		NEED(i + in->asz);
		in->imm = (uint64_t)rd_sx(buf + i, in->asz);
		if (in->asz < 8)
			in->imm &= (1ull << (in->asz * 8)) - 1;
		i += in->asz;
		in->base = in->index = R_NONE;
		in->mod = 0;
		break;
	case IK_SSE4A:
		/* EXTRQ/INSERTQ xmm, ib, ib (AMD APM Vol. 4) */
		if (in->mp == MP_66 || in->mp == MP_F2) {
			NEED(i + 2);
			in->imm = buf[i];
			in->imm2 = buf[i + 1];
			i += 2;
		}
		break;
	}
	if (isz) {
		NEED(i + isz);
		in->imm = (uint64_t)rd_sx(buf + i, isz);
		i += isz;
	}
	if (a & A_3DNOW) {
		/* 0F 0F /r ib: the last byte names the operation (AMD APM Vol. 3
		 * Table A-15). Not advertised: decode the length, then #UD. */
		NEED(i + 1);
		if (!attr_3dnow_valid(buf[i]))
			return DEC_UD;
		in->imm = buf[i++];
		in->len = (uint8_t)i;
		in->fn = op_ud;
		return (int)i;
	}
	in->len = (uint8_t)i;
	bind_handler(in, model);
	return (int)i;
}
