/*
 * cpu/ops_bcd.c — decimal/ASCII adjust instructions DAA, DAS, AAA, AAS, AAM,
 * AAD (27, 2F, 37, 3F, D4 ib, D5 ib), and SALC (D6). All are #UD in 64-bit mode; the decoder
 * enforces that.
 *
 * Defined flags follow the SDM Vol. 2A operation sections exactly. Flags the
 * SDM calls undefined are set as noted at each handler; the differential
 * tests mask them, so these are choices, recorded here so they stay stable:
 *   DAA/DAS  OF = signed overflow of the adjustment (AL +/- 6/60h/66h) as if
 *            it were an ADD/SUB.
 *   AAA/AAS  SF/ZF/OF of the word ADD/SUB AX +/- 106h, PF of its low byte.
 *   AAM      CF = OF = AF = 0 (flags of a logical result).
 *   AAD      CF/AF/OF of the byte ADD AL + AH * base.
 * Each choice reproduces, for every input, what an AMD EPYC host produces
 * (compared exhaustively over AL, the six flags and, for AAD, AH).
 */
#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/ops_int.h"

static inline uint32_t szp8(uint8_t v)
{
	uint32_t f = 0;
	if (v == 0)
		f |= F_ZF;
	if (v & 0x80)
		f |= F_SF;
	if (!(__builtin_popcount(v) & 1))
		f |= F_PF;
	return f;
}

static inline uint8_t al_get(const struct cpu *cpu)
{
	return (uint8_t)cpu->gpr[R_AX];
}

static inline void al_set(struct cpu *cpu, uint8_t v)
{
	reg8_set(cpu, R_AX, false, v);
}

/* 27: DAA (SDM Vol. 2A DAA, Operation). */
static void op_daa(struct cpu *cpu, const struct insn *in)
{
	uint32_t fl = flags_arith(cpu);
	uint8_t old_al = al_get(cpu), al = old_al;
	bool old_cf = fl & F_CF;
	uint32_t nf = 0;
	if ((al & 0x0f) > 9 || (fl & F_AF)) {
		bool carry = al > 0xff - 6;
		al = (uint8_t)(al + 6);
		if (old_cf || carry)
			nf |= F_CF;
		nf |= F_AF;
	}
	if (old_al > 0x99 || old_cf) {
		al = (uint8_t)(al + 0x60);
		nf |= F_CF;
	} else {
		nf &= ~F_CF;
	}
	/* Undefined OF: overflow of old_al + (al - old_al) as a byte ADD. */
	uint8_t adj = (uint8_t)(al - old_al);
	if ((~(old_al ^ adj) & (old_al ^ al)) & 0x80)
		nf |= F_OF;
	nf |= szp8(al);
	al_set(cpu, al);
	flags_set(cpu, nf, F_ARITH);
}

/* 2F: DAS (SDM Vol. 2A DAS, Operation). */
static void op_das(struct cpu *cpu, const struct insn *in)
{
	uint32_t fl = flags_arith(cpu);
	uint8_t old_al = al_get(cpu), al = old_al;
	bool old_cf = fl & F_CF;
	uint32_t nf = 0;
	if ((al & 0x0f) > 9 || (fl & F_AF)) {
		bool borrow = al < 6;
		al = (uint8_t)(al - 6);
		if (old_cf || borrow)
			nf |= F_CF;
		nf |= F_AF;
	}
	if (old_al > 0x99 || old_cf) {
		al = (uint8_t)(al - 0x60);
		nf |= F_CF;
	}
	/* Undefined OF: overflow of old_al - (old_al - al) as a byte SUB. */
	uint8_t adj = (uint8_t)(old_al - al);
	if (((old_al ^ adj) & (old_al ^ al)) & 0x80)
		nf |= F_OF;
	nf |= szp8(al);
	al_set(cpu, al);
	flags_set(cpu, nf, F_ARITH);
}

/* Undefined SF/ZF/PF/OF of AAA/AAS: those of the 16-bit ADD/SUB AX +/- 106h
 * (or +/- 0 without adjustment) before AL is masked: SF/ZF/OF of the word,
 * PF of its low byte — what an AMD EPYC host produces for every input
 * (checked exhaustively). AF = CF = adj. */
static inline void aaa_flags(struct cpu *cpu, uint16_t ax, bool sub, bool adj)
{
	uint16_t k = adj ? 0x106 : 0;
	uint16_t t = sub ? (uint16_t)(ax - k) : (uint16_t)(ax + k);
	uint32_t nf = (adj ? F_AF | F_CF : 0) | (szp8((uint8_t)t) & F_PF);
	if (t == 0)
		nf |= F_ZF;
	if (t & 0x8000)
		nf |= F_SF;
	uint16_t ov = sub ? (uint16_t)((ax ^ k) & (ax ^ t)) : (uint16_t)(~(ax ^ k) & (ax ^ t));
	if (ov & 0x8000)
		nf |= F_OF;
	flags_set(cpu, nf, F_ARITH);
}

/* 37: AAA. AX += 106h when adjusting (SDM: since the 486 the +6 carries
 * into AH as one 16-bit add), then AL &= 0Fh. */
static void op_aaa(struct cpu *cpu, const struct insn *in)
{
	uint32_t fl = flags_arith(cpu);
	uint16_t ax = (uint16_t)cpu->gpr[R_AX];
	bool adj = (ax & 0x0f) > 9 || (fl & F_AF);
	reg16_set(cpu, R_AX, (uint16_t)(ax + (adj ? 0x106 : 0)) & 0xff0f);
	aaa_flags(cpu, ax, false, adj);
}

/* 3F: AAS: AX -= 6, AH -= 1 when adjusting (one 16-bit subtraction of
 * 106h), then AL &= 0Fh. */
static void op_aas(struct cpu *cpu, const struct insn *in)
{
	uint32_t fl = flags_arith(cpu);
	uint16_t ax = (uint16_t)cpu->gpr[R_AX];
	bool adj = (ax & 0x0f) > 9 || (fl & F_AF);
	reg16_set(cpu, R_AX, (uint16_t)(ax - (adj ? 0x106 : 0)) & 0xff0f);
	aaa_flags(cpu, ax, true, adj);
}

/* D4 ib: AAM base: AH = AL / base, AL = AL % base; #DE if base is 0.
 * SF/ZF/PF from AL. */
static void op_aam(struct cpu *cpu, const struct insn *in)
{
	uint8_t base = (uint8_t)in->imm;
	if (base == 0)
		cpu_exception(cpu, EXC_DE, NO_ERRCODE);
	uint8_t al = al_get(cpu);
	uint8_t q = al / base, r = al % base;
	reg16_set(cpu, R_AX, (uint16_t)(q << 8 | r));
	lf_set(cpu, CC_OP(CC_LOGIC, 1), r, 0, 0);
}

/* D5 ib: AAD base: AL = (AL + AH * base) & FFh, AH = 0. SF/ZF/PF from AL;
 * the undefined CF/AF/OF are those of the byte ADD AL + (AH * base) (as the
 * AMD host produces for every input). */
static void op_aad(struct cpu *cpu, const struct insn *in)
{
	uint8_t base = (uint8_t)in->imm;
	uint16_t ax = (uint16_t)cpu->gpr[R_AX];
	uint8_t lo = (uint8_t)ax, prod = (uint8_t)((ax >> 8) * base);
	uint8_t al = (uint8_t)(lo + prod);
	reg16_set(cpu, R_AX, al);
	lf_set(cpu, CC_OP(CC_ADD, 1), al, lo, prod);
}

/* D6: SALC (set AL from carry): AL = CF ? FFh : 00h, flags unchanged. Blank
 * in the SDM opcode map but executed by Intel and AMD CPUs outside 64-bit
 * mode (AMD APM Vol. 3 lists D6 as invalid in 64-bit mode only; the decoder
 * gives #UD there). */
static void op_salc(struct cpu *cpu, const struct insn *in)
{
	reg8_set(cpu, R_AX, false, flags_cf(cpu) ? 0xff : 0);
}

/* clang-format off */
#define E(o, f, n) {(o), OPT_ANY, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, 0, 0, (f), (n)}

static const struct optab_entry bcd_ops[] = {
	E(0x027, op_daa, "daa"), E(0x02f, op_das, "das"), E(0x037, op_aaa, "aaa"),
	E(0x03f, op_aas, "aas"), E(0x0d4, op_aam, "aam"), E(0x0d5, op_aad, "aad"),
	E(0x0d6, op_salc, "salc"),
};

#undef E
/* clang-format on */

void ops_bcd_register(void)
{
	optab_add_many(bcd_ops, (int)(sizeof(bcd_ops) / sizeof(bcd_ops[0])));
}
