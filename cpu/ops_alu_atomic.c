/*
 * cpu/ops_alu_atomic.c — the exchange-and-operate instructions used for
 * locking: XADD (0F C0, C1), CMPXCHG (0F B0, B1), CMPXCHG8B and CMPXCHG16B
 * (0F C7 /1, memory only).
 *
 * The interpreter runs one vCPU per thread of control and does the read and
 * the write back to back, so LOCK needs no extra work here. As on hardware
 * (SDM Vol. 2 "CMPXCHG": "the destination operand is written back if the
 * comparison fails"), a memory destination is always written, which also
 * makes a read-only page fault on failure exactly like silicon.
 */
#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/ops_alu.h"

/* ---- XADD: tmp = dest + src; src = dest; dest = tmp ---- */

static inline void xadd_do(struct cpu *c, const struct insn *in, unsigned size)
{
	uint64_t b = gpr_rd(c, in, in->reg, size), a, res;

	if (in->mod == 3) {
		a = gpr_rd(c, in, in->rm, size);
		res = (a + b) & alu_mask(size);
		/* Source first: with the same register twice, the sum wins. */
		gpr_wr(c, in, in->reg, size, a);
		gpr_wr(c, in, in->rm, size, res);
	} else {
		uint64_t ea = insn_ea(c, in);

		a = cpu_rd(c, in->seg, ea, size);
		res = (a + b) & alu_mask(size);
		cpu_wr(c, in->seg, ea, size, res);
		gpr_wr(c, in, in->reg, size, a);
	}
	lf_set(c, CC_OP(CC_ADD, size), res, a, b);
}

static void xadd_Eb(struct cpu *c, const struct insn *in)
{
	xadd_do(c, in, 1);
}

static void xadd_Ev(struct cpu *c, const struct insn *in)
{
	xadd_do(c, in, in->osz);
}

/* ---- CMPXCHG: flags of CMP accumulator, dest; equal: dest = src, else
 * accumulator = dest ---- */

static inline void cmpxchg_do(struct cpu *c, const struct insn *in, unsigned size)
{
	uint64_t acc = gpr_rd(c, in, R_AX, size), src = gpr_rd(c, in, in->reg, size), d;
	bool eq;

	if (in->mod == 3) {
		d = gpr_rd(c, in, in->rm, size);
		eq = d == acc;
		if (eq)
			gpr_wr(c, in, in->rm, size, src);
	} else {
		uint64_t ea = insn_ea(c, in);

		d = cpu_rd(c, in->seg, ea, size);
		eq = d == acc;
		cpu_wr(c, in->seg, ea, size, eq ? src : d);
	}
	if (!eq)
		gpr_wr(c, in, R_AX, size, d);
	lf_set(c, CC_OP(CC_SUB, size), (acc - d) & alu_mask(size), acc, d);
}

static void cmpxchg_Eb(struct cpu *c, const struct insn *in)
{
	cmpxchg_do(c, in, 1);
}

static void cmpxchg_Ev(struct cpu *c, const struct insn *in)
{
	cmpxchg_do(c, in, in->osz);
}

/* ---- CMPXCHG8B / CMPXCHG16B m: compare rDX:rAX with m, equal: m = rCX:rBX,
 * else rDX:rAX = m. Only ZF changes. ---- */

static inline void set_zf(struct cpu *c, bool zf)
{
	lf_set_eflags(c, (flags_arith(c) & ~F_ZF) | (zf ? F_ZF : 0));
}

static void cmpxchg8b(struct cpu *c, const struct insn *in)
{
	uint64_t ea = insn_ea(c, in);
	uint64_t m = cpu_rd(c, in->seg, ea, 8);
	uint64_t cmp = (c->gpr[R_DX] << 32) | (uint32_t)c->gpr[R_AX];
	bool eq = m == cmp;

	cpu_wr(c, in->seg, ea, 8, eq ? (c->gpr[R_CX] << 32) | (uint32_t)c->gpr[R_BX] : m);
	if (!eq) {
		reg32_set(c, R_AX, (uint32_t)m);
		reg32_set(c, R_DX, (uint32_t)(m >> 32));
	}
	set_zf(c, eq);
}

static void cmpxchg16b(struct cpu *c, const struct insn *in)
{
	uint64_t ea = insn_ea(c, in), m[2], w[2];
	bool eq;

	/* SDM CMPXCHG16B: #GP(0) if the operand is not 16-byte aligned. It
	 * exists only in 64-bit mode (REX.W), where only FS/GS have a base. */
	if (((in->seg >= S_FS ? c->seg[in->seg].base : 0) + ea) & 15)
		cpu_gp(c, 0);
	cpu_rdn(c, in->seg, ea, m, 16); /* little-endian host: m[0] is low */
	eq = m[0] == c->gpr[R_AX] && m[1] == c->gpr[R_DX];
	if (eq) {
		w[0] = c->gpr[R_BX];
		w[1] = c->gpr[R_CX];
	} else {
		memcpy(w, m, sizeof(w));
	}
	cpu_wrn(c, in->seg, ea, w, 16);
	if (!eq) {
		c->gpr[R_AX] = m[0];
		c->gpr[R_DX] = m[1];
	}
	set_zf(c, eq);
}

#define ANY OPT_ANY
#define L   OPF_LOCKABLE
#define E_RM(opc, fn, nm)                                             \
	{ opc, ANY, ANY, ANY, OPT_MOD_REG, 0, ANY, 0, 0, fn, nm },    \
	{                                                             \
		opc, ANY, ANY, ANY, OPT_MOD_MEM, 0, ANY, L, 0, fn, nm \
	}

static const struct optab_entry atomic_tab[] = {
	E_RM(0x1c0, xadd_Eb, "xadd"),
	E_RM(0x1c1, xadd_Ev, "xadd"),
	E_RM(0x1b0, cmpxchg_Eb, "cmpxchg"),
	E_RM(0x1b1, cmpxchg_Ev, "cmpxchg"),
	{ 0x1c7, ANY, 1, ANY, OPT_MOD_MEM, 0, 1, L, FEAT_CX16, cmpxchg16b, "cmpxchg16b" },
	{ 0x1c7, ANY, 1, ANY, OPT_MOD_MEM, 0, 0, L, FEAT_CX8, cmpxchg8b, "cmpxchg8b" },
};

void ops_alu_atomic_register(void)
{
	optab_add_many(atomic_tab, (int)(sizeof(atomic_tab) / sizeof(atomic_tab[0])));
}
