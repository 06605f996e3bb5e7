/*
 * cpu/flags.h — lazy arithmetic flags.
 *
 * Arithmetic instructions do not compute CF/PF/AF/ZF/SF/OF. They record what
 * they did in cpu->lf: the operation kind and operand size (op), the result
 * (res) and the operands (src1, src2). Flags are materialised only when read:
 * by Jcc/SETcc/CMOVcc (cond_eval, which has fast paths for the common kinds),
 * by PUSHF/LAHF, by interrupts, or by an instruction that changes only some
 * flags (it calls flags_get, edits, and stores with flags_set).
 *
 * op = CC_OP(kind, size) where size is the operand size in bytes (1,2,4,8).
 *
 *   kind       res           src1          src2
 *   CC_EFLAGS  the 6 flags    -             -       (already materialised)
 *   CC_ADD     src1+src2      dest before   source
 *   CC_ADC     src1+src2+c    dest before   source  (carry-in recovered as
 *                                                    res-src1-src2)
 *   CC_SUB     src1-src2      dest before   source  (also CMP, NEG: src1=0)
 *   CC_SBB     src1-src2-b    dest before   source
 *   CC_LOGIC   result         -             -       (CF=OF=AF=0)
 *   CC_INC     result         dest before   old CF (0/1)
 *   CC_DEC     result         dest before   old CF (0/1)
 *   CC_SHL     result         dest before   count (1..size*8-1; masked count
 *                                                    != 0, else flags untouched)
 *   CC_SHR     result         dest before   count
 *   CC_SAR     result         dest before   count
 *   CC_MUL     low result     overflow 0/1  -       (CF=OF=src1; SF/ZF/PF from
 *                                                    res as Intel does; AF=0)
 *
 * Undefined flags follow what current Intel/AMD cores produce where they
 * agree; the differential tests mask the flags the SDM calls undefined.
 */
#ifndef NESTBOX_CPU_FLAGS_H
#define NESTBOX_CPU_FLAGS_H

#include "cpu/cpu.h"

enum cc_kind {
	CC_EFLAGS,
	CC_ADD,
	CC_ADC,
	CC_SUB,
	CC_SBB,
	CC_LOGIC,
	CC_INC,
	CC_DEC,
	CC_SHL,
	CC_SHR,
	CC_SAR,
	CC_MUL,
	CC_NKINDS
};

static inline uint32_t cc_size_log2(int size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}
#define CC_OP(kind, size) ((uint32_t)(kind) << 2 | cc_size_log2(size))

static inline void lf_set(struct cpu *c, uint32_t op, uint64_t res, uint64_t s1, uint64_t s2)
{
	c->lf.op = op;
	c->lf.res = res;
	c->lf.src1 = s1;
	c->lf.src2 = s2;
}

/* The six arithmetic flags, materialised (other bits zero). */
uint32_t flags_arith(const struct cpu *c);
/* Just CF (fast: ADC, SBB, RCL, RCR, CMC, SETC...). */
bool flags_cf(const struct cpu *c);
/* Full RFLAGS value. */
static inline uint64_t flags_get(const struct cpu *c)
{
	return (c->rflags & ~(uint64_t)F_ARITH) | flags_arith(c) | F_FIXED1;
}
/* Store the bits of v selected by mask into RFLAGS; arithmetic bits go to the
 * lazy state (which becomes CC_EFLAGS). Does not check privilege: POPF/IRET
 * compute their own mask. Calls cpu_update_mode if VM changes. */
void flags_set(struct cpu *c, uint64_t v, uint64_t mask);
/* Evaluate condition code cc (0-15, the low nibble of Jcc/SETcc/CMOVcc). */
bool cond_eval(const struct cpu *c, int cc);

/* cond_eval for a compile-time constant cc (Jcc/SETcc/CMOVcc handlers are
 * generated per condition): cond_try_const answers the common kinds inline
 * (1 true, 0 false) and returns -1 for the rest, which cond_eval_const hands
 * to cond_eval. Shifting the operands left by 64 - size bits drops the bits
 * above the operand size, so one unsigned/signed 64-bit comparison serves
 * every size. */
static inline __attribute__((always_inline)) int cond_try_const(const struct cpu *c, int cc)
{
	const struct lazy_flags *lf = &c->lf;
	uint32_t kind = lf->op >> 2;
	unsigned sh = 64 - (8u << (lf->op & 3));
	int t = cc >> 1;
	bool r;

	if (kind == CC_SUB && t != 0 && t != 5) {
		uint64_t a = lf->src1 << sh, b = lf->src2 << sh;

		switch (t) {
		case 1:
			r = a < b;
			break;
		case 2:
			r = a == b;
			break;
		case 3:
			r = a <= b;
			break;
		case 4:
			r = (int64_t)(lf->res << sh) < 0;
			break;
		case 6:
			r = (int64_t)a < (int64_t)b;
			break;
		default:
			r = (int64_t)a <= (int64_t)b;
			break;
		}
		return r ^ (cc & 1);
	}
	if (kind == CC_LOGIC && t != 5) {
		/* CF = OF = 0. */
		int64_t v = (int64_t)(lf->res << sh);

		switch (t) {
		case 0:
		case 1:
			r = false;
			break;
		case 2:
		case 3:
			r = v == 0;
			break;
		case 4:
		case 6:
			r = v < 0;
			break;
		default:
			r = v <= 0;
			break;
		}
		return r ^ (cc & 1);
	}
	if ((t == 2 || t == 4) && (kind == CC_ADD || kind == CC_INC || kind == CC_DEC)) {
		int64_t v = (int64_t)(lf->res << sh);

		return (t == 2 ? v == 0 : v < 0) ^ (cc & 1);
	}
	return -1;
}

static inline __attribute__((always_inline)) bool cond_eval_const(const struct cpu *c, int cc)
{
	int r = cond_try_const(c, cc);

	return r >= 0 ? r : cond_eval(c, cc);
}

#endif
