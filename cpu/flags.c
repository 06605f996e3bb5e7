/*
 * cpu/flags.c — materialising the lazy arithmetic flags (cpu/flags.h).
 *
 * flags_arith() turns the recorded {op, res, src1, src2} into CF/PF/AF/ZF/SF/OF;
 * flags_cf() computes CF alone; cond_eval() answers a Jcc/SETcc/CMOVcc
 * condition, directly from the operands for the common kinds (CMP/SUB, logic,
 * ADD, INC/DEC) so that the hot compare-and-branch pair never builds the full
 * flags word; flags_set() stores an RFLAGS value (POPF, IRET, SAHF, ...).
 *
 * Choices for flags the SDM calls undefined (Intel and AMD agree here unless
 * noted; the differential tests mask them anyway):
 *   logic ops (AND/OR/XOR/TEST) AF = 0;
 *   shifts AF = 0; OF for counts > 1 is the count-1 formula applied to the
 *   last 1-bit step: SHL OF = MSB(res) ^ CF, SHR OF = 0, SAR OF = 0;
 *   MUL/IMUL AF = 0, SF/ZF/PF from the low result (Intel).
 */
#include "cpu/flags.h"

#include "cpu/cpu.h"

/* Bits of RFLAGS that exist (everything else is reserved: 1 is fixed at 1,
 * 3, 5, 15 and 22-63 are 0). */
#define F_DEFINED \
	(F_ARITH | F_TF | F_IF | F_DF | F_IOPL | F_NT | F_RF | F_VM | F_AC | F_VIF | F_VIP | F_ID)

static inline unsigned op_lg(uint32_t op)
{
	return op & 3;
}

static inline uint64_t lg_mask(unsigned lg)
{
	return lg == 3 ? ~0ull : (1ull << (8u << lg)) - 1;
}

static inline unsigned lg_bits(unsigned lg)
{
	return 8u << lg;
}

/* PF: set when the low byte of the result has an even number of 1 bits. */
static inline uint32_t pf_of(uint64_t res)
{
	return __builtin_parity((unsigned)(res & 0xff)) ? 0 : F_PF;
}

/* ZF, SF and PF of a result of size 8<<lg bits. */
static inline uint32_t szp(uint64_t res, unsigned lg)
{
	uint64_t m = lg_mask(lg);
	uint32_t f = pf_of(res);

	if ((res & m) == 0)
		f |= F_ZF;
	if ((res >> (lg_bits(lg) - 1)) & 1)
		f |= F_SF;
	return f;
}

/* Sign bit of x for the size, as 0/1. */
static inline uint32_t msb(uint64_t x, unsigned lg)
{
	return (uint32_t)(x >> (lg_bits(lg) - 1)) & 1;
}

static inline uint64_t sext_lg(uint64_t x, unsigned lg)
{
	unsigned sh = 64 - lg_bits(lg);

	return (uint64_t)((int64_t)(x << sh) >> sh);
}

static bool cf_of(const struct lazy_flags *lf)
{
	unsigned lg = op_lg(lf->op);
	uint64_t m = lg_mask(lg);
	uint64_t res = lf->res & m, s1 = lf->src1 & m, s2 = lf->src2 & m;
	unsigned bits = lg_bits(lg);
	unsigned n = (unsigned)lf->src2;

	switch (lf->op >> 2) {
	case CC_EFLAGS:
		return lf->res & F_CF;
	case CC_ADD:
		return res < s1;
	case CC_ADC:
		/* Carry-in is res - src1 - src2 (mod 2^bits). */
		return ((res - s1 - s2) & m) ? res <= s1 : res < s1;
	case CC_SUB:
		return s1 < s2;
	case CC_SBB:
		return ((s1 - s2 - res) & m) ? s1 <= s2 : s1 < s2;
	case CC_LOGIC:
		return false;
	case CC_INC:
	case CC_DEC:
		return lf->src2 & 1;
	case CC_SHL:
		/* Last bit shifted out: bit (bits - n) of src1; 0 once n > bits
		 * (8/16-bit operands can see masked counts up to 31). */
		return n <= bits ? (s1 >> (bits - n)) & 1 : 0;
	case CC_SHR:
		return (s1 >> (n - 1)) & 1;
	case CC_SAR:
		return (sext_lg(s1, lg) >> (n - 1)) & 1;
	case CC_MUL:
		return lf->src1 & 1;
	default:
		return false;
	}
}

bool flags_cf(const struct cpu *c)
{
	return cf_of(&c->lf);
}

uint32_t flags_arith(const struct cpu *c)
{
	const struct lazy_flags *lf = &c->lf;
	unsigned lg = op_lg(lf->op);
	uint64_t m = lg_mask(lg);
	uint64_t res = lf->res & m, s1 = lf->src1 & m, s2 = lf->src2 & m;
	uint32_t f;

	switch (lf->op >> 2) {
	case CC_EFLAGS:
		return (uint32_t)lf->res & F_ARITH;
	case CC_ADD:
	case CC_ADC:
		f = szp(res, lg) | (uint32_t)((s1 ^ s2 ^ res) & F_AF);
		if (msb((s1 ^ res) & (s2 ^ res), lg))
			f |= F_OF;
		break;
	case CC_SUB:
	case CC_SBB:
		f = szp(res, lg) | (uint32_t)((s1 ^ s2 ^ res) & F_AF);
		if (msb((s1 ^ s2) & (s1 ^ res), lg))
			f |= F_OF;
		break;
	case CC_LOGIC:
		return szp(res, lg);
	case CC_INC:
		f = szp(res, lg) | (uint32_t)((s1 ^ res) & F_AF);
		if (res == (m >> 1) + 1) /* 0x7f.. + 1 = 0x80.. */
			f |= F_OF;
		break;
	case CC_DEC:
		f = szp(res, lg) | (uint32_t)((s1 ^ res) & F_AF);
		if (res == m >> 1) /* 0x80.. - 1 = 0x7f.. */
			f |= F_OF;
		break;
	case CC_SHL:
		f = szp(res, lg);
		if (msb(res, lg) ^ cf_of(lf))
			f |= F_OF;
		break;
	case CC_SHR:
		/* Count 1: OF = MSB of the original operand (SDM SHR); for
		 * larger counts the last step shifts out a 0 bit: OF = 0. */
		f = szp(res, lg);
		if (lf->src2 == 1 && msb(s1, lg))
			f |= F_OF;
		break;
	case CC_SAR:
		f = szp(res, lg);
		break;
	case CC_MUL:
		f = szp(res, lg);
		if (lf->src1 & 1)
			f |= F_OF;
		break;
	default:
		return 0;
	}
	if (cf_of(lf))
		f |= F_CF;
	return f;
}

/* Condition cc from a materialised flags word (SDM Vol. 1 Appendix B). */
static inline bool cond_from_flags(uint32_t f, int cc)
{
	bool r;

	switch (cc >> 1) {
	case 0: /* O */
		r = f & F_OF;
		break;
	case 1: /* B */
		r = f & F_CF;
		break;
	case 2: /* E */
		r = f & F_ZF;
		break;
	case 3: /* BE */
		r = f & (F_CF | F_ZF);
		break;
	case 4: /* S */
		r = f & F_SF;
		break;
	case 5: /* P */
		r = f & F_PF;
		break;
	case 6: /* L: SF != OF */
		r = !(f & F_SF) != !(f & F_OF);
		break;
	default: /* LE: ZF or SF != OF */
		r = (f & F_ZF) || !(f & F_SF) != !(f & F_OF);
		break;
	}
	return r ^ (cc & 1);
}

bool cond_eval(const struct cpu *c, int cc)
{
	const struct lazy_flags *lf = &c->lf;
	unsigned lg = op_lg(lf->op);
	uint64_t m = lg_mask(lg);
	bool r;

	switch (lf->op >> 2) {
	case CC_SUB: {
		/* CMP a, b: every condition follows from the operands. */
		uint64_t a = lf->src1 & m, b = lf->src2 & m;

		switch (cc >> 1) {
		case 1:
			r = a < b;
			break;
		case 2:
			r = a == b;
			break;
		case 3:
			r = a <= b;
			break;
		case 6:
			r = (int64_t)sext_lg(a, lg) < (int64_t)sext_lg(b, lg);
			break;
		case 7:
			r = (int64_t)sext_lg(a, lg) <= (int64_t)sext_lg(b, lg);
			break;
		case 4:
			r = msb(lf->res, lg);
			break;
		default:
			return cond_from_flags(flags_arith(c), cc);
		}
		return r ^ (cc & 1);
	}
	case CC_LOGIC: {
		/* CF = OF = 0: B and O are false, L is SF, LE is ZF|SF. */
		uint64_t res = lf->res & m;
		bool sf = msb(res, lg);

		switch (cc >> 1) {
		case 0:
		case 1:
			r = false;
			break;
		case 2:
		case 3:
			r = res == 0;
			break;
		case 4:
		case 6:
			r = sf;
			break;
		case 5:
			r = pf_of(res);
			break;
		default:
			r = res == 0 || sf;
			break;
		}
		return r ^ (cc & 1);
	}
	case CC_EFLAGS:
		return cond_from_flags((uint32_t)lf->res, cc);
	case CC_ADD:
	case CC_INC:
	case CC_DEC:
		/* Loop counters and pointer bumps: ZF/SF are cheap. */
		if ((cc >> 1) == 2)
			return ((lf->res & m) == 0) ^ (cc & 1);
		if ((cc >> 1) == 4)
			return msb(lf->res, lg) ^ (cc & 1);
		break;
	default:
		break;
	}
	return cond_from_flags(flags_arith(c), cc);
}

void flags_set(struct cpu *c, uint64_t v, uint64_t mask)
{
	uint64_t old = c->rflags;

	mask &= F_DEFINED;
	if (mask & F_ARITH) {
		uint32_t a = flags_arith(c);

		a = (a & ~(uint32_t)mask) | ((uint32_t)v & (uint32_t)mask & F_ARITH);
		lf_set(c, CC_OP(CC_EFLAGS, 1), a, 0, 0);
	}
	mask &= ~(uint64_t)F_ARITH;
	c->rflags = ((old & ~mask) | (v & mask) | F_FIXED1) & ~(uint64_t)F_ARITH;
	if ((old ^ c->rflags) & F_VM)
		cpu_update_mode(c);
}
