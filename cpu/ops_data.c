/*
 * cpu/ops_data.c — data movement and flag-bit instructions: MOV (all forms
 * but MOV Sreg), MOVZX/MOVSX/MOVSXD, LEA, XCHG, CMOVcc, SETcc, CBW family,
 * CWD family, LAHF/SAHF, CMC/CLC/STC/CLD/STD, XLAT, the NOP/hint-NOP space,
 * and the defined-undefined opcodes UD0/UD1/UD2.
 *
 * ops_data_register() also registers the string (ops_string.c) and BCD
 * (ops_bcd.c) families.
 *
 * Precise faults: every handler reads/writes memory before it changes a
 * register, so a faulting instruction commits nothing.
 */
#include <stdio.h>

#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/ops_int.h"
#include "cpu/virt.h"
#include "devices/machine.h"

static inline bool has_rex(const struct insn *in)
{
	return (in->pfx & PFX_REX) != 0;
}

/* Hot ModRM handlers are written once as an always-inline body and
 * registered as two handlers, one per ModRM.mod class, so that the register
 * form carries no memory-path code (and no register saves for it). */
#define MODRM_BODY static inline __attribute__((always_inline)) void
#define MODRM_SPLIT(fn)                                            \
	static void fn##_r(struct cpu *cpu, const struct insn *in) \
	{                                                          \
		if (in->mod != 3)                                  \
			__builtin_unreachable();                   \
		fn(cpu, in);                                       \
	}                                                          \
	static void fn##_m(struct cpu *cpu, const struct insn *in) \
	{                                                          \
		if (in->mod == 3)                                  \
			__builtin_unreachable();                   \
		fn(cpu, in);                                       \
	}

/* ---- MOV ---- */

/* 88 /r: MOV r/m8, r8 */
MODRM_BODY op_mov_rm8_r8(struct cpu *cpu, const struct insn *in)
{
	rm_write(cpu, in, 1, reg_read(cpu, in, 1));
}

/* 89 /r: MOV r/m, r */
MODRM_BODY op_mov_rm_r(struct cpu *cpu, const struct insn *in)
{
	rm_write(cpu, in, in->osz, reg_read(cpu, in, in->osz));
}

/* 8A /r: MOV r8, r/m8 */
MODRM_BODY op_mov_r8_rm8(struct cpu *cpu, const struct insn *in)
{
	reg_write(cpu, in, 1, rm_read(cpu, in, 1));
}

/* 8B /r: MOV r, r/m */
MODRM_BODY op_mov_r_rm(struct cpu *cpu, const struct insn *in)
{
	reg_write(cpu, in, in->osz, rm_read(cpu, in, in->osz));
}

/* C6 /0: MOV r/m8, imm8 */
MODRM_BODY op_mov_rm8_imm(struct cpu *cpu, const struct insn *in)
{
	rm_write(cpu, in, 1, in->imm & 0xff);
}

/* C7 /0: MOV r/m, imm16/32 (sign-extended to 64 with REX.W) */
MODRM_BODY op_mov_rm_imm(struct cpu *cpu, const struct insn *in)
{
	rm_write(cpu, in, in->osz, in->imm & size_mask(in->osz));
}

/* B0+r: MOV r8, imm8 (in->rm is the register, REX.B applied) */
static void op_mov_r8_imm(struct cpu *cpu, const struct insn *in)
{
	reg8_set(cpu, in->rm, has_rex(in), (uint8_t)in->imm);
}

/* B8+r: MOV r, imm16/32/64 (REX.W carries a full 64-bit immediate) */
static void op_mov_r_imm(struct cpu *cpu, const struct insn *in)
{
	reg_set(cpu, in->rm, in->osz, in->imm);
}

/* A0-A3: MOV AL/rAX <-> moffs. The offset is in->imm (address-size wide),
 * relative to in->seg (DS unless overridden). */
static inline uint64_t moffs(const struct insn *in)
{
	return in->imm & size_mask(in->asz);
}

static void op_mov_al_moffs(struct cpu *cpu, const struct insn *in)
{
	uint8_t v = (uint8_t)cpu_rd(cpu, in->seg, moffs(in), 1);
	reg8_set(cpu, R_AX, false, v);
}

static void op_mov_ax_moffs(struct cpu *cpu, const struct insn *in)
{
	uint64_t v = cpu_rd(cpu, in->seg, moffs(in), in->osz);
	reg_set(cpu, R_AX, in->osz, v);
}

static void op_mov_moffs_al(struct cpu *cpu, const struct insn *in)
{
	cpu_wr(cpu, in->seg, moffs(in), 1, (uint8_t)cpu->gpr[R_AX]);
}

static void op_mov_moffs_ax(struct cpu *cpu, const struct insn *in)
{
	cpu_wr(cpu, in->seg, moffs(in), in->osz, cpu->gpr[R_AX] & size_mask(in->osz));
}

/* ---- MOVZX / MOVSX / MOVSXD ---- */

MODRM_BODY op_movzx_b(struct cpu *cpu, const struct insn *in)
{
	reg_write(cpu, in, in->osz, rm_read(cpu, in, 1) & 0xff);
}

MODRM_BODY op_movzx_w(struct cpu *cpu, const struct insn *in)
{
	reg_write(cpu, in, in->osz, rm_read(cpu, in, 2) & 0xffff);
}

MODRM_BODY op_movsx_b(struct cpu *cpu, const struct insn *in)
{
	uint64_t v = sext(rm_read(cpu, in, 1), 1);
	reg_write(cpu, in, in->osz, v & size_mask(in->osz));
}

MODRM_BODY op_movsx_w(struct cpu *cpu, const struct insn *in)
{
	uint64_t v = sext(rm_read(cpu, in, 2), 2);
	reg_write(cpu, in, in->osz, v & size_mask(in->osz));
}

/* 63 /r in 64-bit mode: MOVSXD. With REX.W sign-extends r/m32 to 64 bits;
 * without it, it is a plain 32-bit (zero-extending) or 16-bit move (SDM
 * Vol. 2B MOVSX/MOVSXD). Outside 64-bit mode 63 is ARPL (protected-mode
 * family). The registry has no mode condition, so this entry is registered
 * for REX.W = 1 only, which cannot occur outside 64-bit mode; 63 without
 * REX.W in 64-bit mode (discouraged by the SDM, never emitted by compilers)
 * falls to whatever handles ARPL, which may call here. */
MODRM_BODY op_movsxd(struct cpu *cpu, const struct insn *in)
{
	if (cpu->mode != MODE_LONG64) {
		fprintf(stderr, "nestbox: opcode 63 outside 64-bit mode reached MOVSXD\n");
		cpu_ud(cpu);
	}
	if (in->osz == 8)
		reg_write(cpu, in, 8, sext(rm_read(cpu, in, 4), 4));
	else
		reg_write(cpu, in, in->osz, rm_read(cpu, in, in->osz));
}

/* ---- LEA ----
 * 8D /r (mod=3 is #UD: registered for memory forms only). insn_ea already
 * wraps the offset to the address size; the destination takes its low osz
 * bytes (address size < operand size zero-extends, > truncates). */
static void op_lea(struct cpu *cpu, const struct insn *in)
{
	reg_write(cpu, in, in->osz, insn_ea(cpu, in) & size_mask(in->osz));
}

/* ---- XCHG ---- */

/* 86/87: XCHG r/m, r. With a memory operand the exchange is atomic (implicit
 * LOCK); single-threaded interpretation makes read-then-write atomic. The
 * memory write goes first so a fault leaves the register unchanged. */
static void op_xchg_rm8(struct cpu *cpu, const struct insn *in)
{
	uint64_t m = rm_read(cpu, in, 1);
	uint64_t r = reg_read(cpu, in, 1);
	rm_write(cpu, in, 1, r);
	reg_write(cpu, in, 1, m);
}

static void op_xchg_rm(struct cpu *cpu, const struct insn *in)
{
	uint64_t m = rm_read(cpu, in, in->osz);
	uint64_t r = reg_read(cpu, in, in->osz);
	rm_write(cpu, in, in->osz, r);
	reg_write(cpu, in, in->osz, m);
}

/* 90+r: XCHG rAX, r. 90 without REX.B is NOP (no zero-extension of EAX in
 * 64-bit mode, SDM Vol. 2B XCHG). F3 90 is PAUSE, the spin-wait hint: with
 * several vCPUs taking turns in one thread, a spinning vCPU gives up the
 * rest of its turn, so the vCPU holding the lock it waits for can run
 * (otherwise a lock released and re-taken within one turn is never seen
 * free by the others). Its clock moves to the end of the run slice
 * (icount_limit: the machine's round, which ends at the next timer deadline
 * at the latest) as if it had spun there, so the round ends and the other
 * vCPUs run without the host executing the spin loop.
 *
 * Like pause-loop exiting, only a spin loop yields: PAUSE_SPIN_STREAK
 * PAUSEs each within PAUSE_SPIN_GAP instructions of the previous one. A
 * few PAUSEs used as a short delay (after a lock is won, in a backoff)
 * keep the turn, as on hardware where they cost tens of cycles. */
#define PAUSE_SPIN_GAP    128
#define PAUSE_SPIN_STREAK 4

static void pause_spin(struct cpu *cpu)
{
	if (cpu->icount - cpu->pause_last > PAUSE_SPIN_GAP)
		cpu->pause_streak = 0;
	cpu->pause_last = cpu->icount;
	if (++cpu->pause_streak < PAUSE_SPIN_STREAK)
		return;
	cpu->pause_streak = 0;
	if (cpu->icount_limit > cpu->icount) {
		cpu->clock_offset += (int64_t)(cpu->icount_limit - cpu->icount);
		cpu->icount_limit = cpu->icount;
	}
	cpu->pending |= PEND_EXIT;
}

static void op_xchg_ax(struct cpu *cpu, const struct insn *in)
{
	int r = in->rm;
	if (r == R_AX) {
		if (in->pfx & PFX_REP) {
			struct icpt_info info = { .insn = in };
			VIRT_ICPT(cpu, ICPT_PAUSE, &info);
			if (cpu->machine && cpu->machine->ncpus > 1)
				pause_spin(cpu);
		}
		return;
	}
	uint64_t a = reg_get(cpu, R_AX, in->osz);
	uint64_t b = reg_get(cpu, r, in->osz);
	reg_set(cpu, R_AX, in->osz, b);
	reg_set(cpu, r, in->osz, a);
}

/* ---- CMOVcc / SETcc ---- */

/* 0F 40+cc: the source is read whether or not the condition holds (a memory
 * source may fault either way). A 32-bit CMOV writes the destination's upper
 * half to zero even when the condition is false (SDM Vol. 1 §3.4.1.1). */
/* Write back the CMOV destination without a branch on the condition (it is
 * data-dependent and mispredicts): a false condition still zero-extends a
 * 32-bit destination (SDM CMOVcc). */
static inline __attribute__((always_inline)) void
cmov_commit(struct cpu *cpu, const struct insn *in, uint64_t v, bool take)
{
	uint64_t *d = &cpu->gpr[in->reg];
	uint64_t old = *d;
	uint64_t keep = (uint64_t)take - 1; /* all ones when not taken */
	uint64_t sel = (v & ~keep) | (old & keep);

	switch (in->osz) {
	case 2:
		*d = (old & ~0xffffull) | (sel & 0xffff);
		break;
	case 4:
		*d = (uint32_t)sel;
		break;
	default:
		*d = sel;
		break;
	}
}

/* One handler per condition (and SETcc below) so that cond_eval_const
 * folds the condition. */
#define CMOV(cc)                                                                           \
	MODRM_BODY op_cmov_##cc(struct cpu *cpu, const struct insn *in)                    \
	{                                                                                  \
		cmov_commit(cpu, in, rm_read(cpu, in, in->osz), cond_eval_const(cpu, cc)); \
	}                                                                                  \
	MODRM_SPLIT(op_cmov_##cc)

/* 0F 90+cc: SETcc r/m8 (ModRM.reg is ignored) */
#define SETCC(cc)                                                        \
	MODRM_BODY op_setcc_##cc(struct cpu *cpu, const struct insn *in) \
	{                                                                \
		rm_write(cpu, in, 1, cond_eval_const(cpu, cc));          \
	}                                                                \
	MODRM_SPLIT(op_setcc_##cc)
#define CC16(M) \
	M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
CC16(CMOV)
CC16(SETCC)
#undef CMOV
#undef SETCC

typedef void (*cc_handler)(struct cpu *, const struct insn *);
#define CMOV_FN(cc)  { op_cmov_##cc##_m, op_cmov_##cc##_r },
#define SETCC_FN(cc) { op_setcc_##cc##_m, op_setcc_##cc##_r },
/* [cc][0]: memory operand, [cc][1]: register operand */
static const cc_handler cmov_fn[16][2] = { CC16(CMOV_FN) };
static const cc_handler setcc_fn[16][2] = { CC16(SETCC_FN) };
#undef CMOV_FN
#undef SETCC_FN
#undef CC16

/* ---- sign extension of the accumulator ---- */

/* 98: CBW / CWDE / CDQE */
static void op_cbw(struct cpu *cpu, const struct insn *in)
{
	unsigned half = in->osz / 2;
	reg_set(cpu, R_AX, in->osz, sext(cpu->gpr[R_AX], half));
}

/* 99: CWD / CDQ / CQO: rDX = all copies of rAX's sign bit */
static void op_cwd(struct cpu *cpu, const struct insn *in)
{
	uint64_t sign = (cpu->gpr[R_AX] >> (in->osz * 8 - 1)) & 1;
	reg_set(cpu, R_DX, in->osz, sign ? ~0ull : 0);
}

/* ---- flag byte moves and single-flag instructions ---- */

/* LAHF/SAHF in 64-bit mode exist only with CPUID.80000001h:ECX.LAHF_LM
 * (SDM Vol. 2A LAHF); always valid elsewhere, so the check is here rather
 * than in the optab feature field. */
static inline void lahf_check(struct cpu *cpu)
{
	if (cpu->mode == MODE_LONG64 && cpu->model && !model_has(cpu->model, FEAT_LAHF_LM))
		cpu_ud(cpu);
}

/* 9F: LAHF: AH = SF:ZF:0:AF:0:PF:1:CF */
static void op_lahf(struct cpu *cpu, const struct insn *in)
{
	lahf_check(cpu);
	uint8_t f = (uint8_t)(flags_arith(cpu) & (F_SF | F_ZF | F_AF | F_PF | F_CF)) | F_FIXED1;
	reg8_set(cpu, 4, false, f); /* AH */
}

/* 9E: SAHF: SF, ZF, AF, PF, CF from AH; OF unchanged */
static void op_sahf(struct cpu *cpu, const struct insn *in)
{
	lahf_check(cpu);
	uint8_t ah = reg8_get(cpu, 4, false);
	flags_set(cpu, ah, F_SF | F_ZF | F_AF | F_PF | F_CF);
}

static void op_cmc(struct cpu *cpu, const struct insn *in)
{
	flags_set(cpu, flags_cf(cpu) ? 0 : F_CF, F_CF);
}

static void op_clc(struct cpu *cpu, const struct insn *in)
{
	flags_set(cpu, 0, F_CF);
}

static void op_stc(struct cpu *cpu, const struct insn *in)
{
	flags_set(cpu, F_CF, F_CF);
}

static void op_cld(struct cpu *cpu, const struct insn *in)
{
	cpu->rflags &= ~(uint64_t)F_DF;
}

static void op_std(struct cpu *cpu, const struct insn *in)
{
	cpu->rflags |= F_DF;
}

/* D7: XLAT: AL = [seg:rBX + ZeroExtend(AL)], wrapped to the address size;
 * seg is DS unless overridden. */
static void op_xlat(struct cpu *cpu, const struct insn *in)
{
	uint64_t off = (cpu->gpr[R_BX] + (cpu->gpr[R_AX] & 0xff)) & size_mask(in->asz);
	uint8_t v = (uint8_t)cpu_rd(cpu, in->seg, off, 1);
	reg8_set(cpu, R_AX, false, v);
}

/* ---- NOPs and #UD opcodes ---- */

/* 0F 1F /0 NOP r/m, hint NOPs 0F 19-1E, PREFETCHh 0F 18, PREFETCH(W) 0F 0D:
 * no architectural effect and, for the prefetches, no faults (SDM Vol. 2B
 * PREFETCHh: "does not affect program behavior"). The memory operand is
 * never accessed. */
static void op_nop(struct cpu *cpu, const struct insn *in) {}

/* UD2 (0F 0B), UD1 (0F B9), UD0 (0F FF): defined to raise #UD. */
static void op_undef(struct cpu *cpu, const struct insn *in)
{
	cpu_ud(cpu);
}

MODRM_SPLIT(op_mov_rm8_r8)
MODRM_SPLIT(op_mov_rm_r)
MODRM_SPLIT(op_mov_r8_rm8)
MODRM_SPLIT(op_mov_r_rm)
MODRM_SPLIT(op_mov_rm8_imm)
MODRM_SPLIT(op_mov_rm_imm)
MODRM_SPLIT(op_movzx_b)
MODRM_SPLIT(op_movzx_w)
MODRM_SPLIT(op_movsx_b)
MODRM_SPLIT(op_movsx_w)
MODRM_SPLIT(op_movsxd)

/* clang-format off */
#define E(o, r, md, fl, ft, f, n) \
	{(o), OPT_ANY, (r), OPT_ANY, (md), 0, OPT_ANY, (fl), (ft), (f), (n)}
#define A OPT_ANY

static const struct optab_entry data_ops[] = {
	E(0x088, A, OPT_MOD_REG, 0, 0, op_mov_rm8_r8_r, "mov"),
	E(0x088, A, OPT_MOD_MEM, 0, 0, op_mov_rm8_r8_m, "mov"),
	E(0x089, A, OPT_MOD_REG, 0, 0, op_mov_rm_r_r, "mov"),
	E(0x089, A, OPT_MOD_MEM, 0, 0, op_mov_rm_r_m, "mov"),
	E(0x08a, A, OPT_MOD_REG, 0, 0, op_mov_r8_rm8_r, "mov"),
	E(0x08a, A, OPT_MOD_MEM, 0, 0, op_mov_r8_rm8_m, "mov"),
	E(0x08b, A, OPT_MOD_REG, 0, 0, op_mov_r_rm_r, "mov"),
	E(0x08b, A, OPT_MOD_MEM, 0, 0, op_mov_r_rm_m, "mov"),
	E(0x0c6, 0, OPT_MOD_REG, 0, 0, op_mov_rm8_imm_r, "mov"),
	E(0x0c6, 0, OPT_MOD_MEM, 0, 0, op_mov_rm8_imm_m, "mov"),
	E(0x0c7, 0, OPT_MOD_REG, 0, 0, op_mov_rm_imm_r, "mov"),
	E(0x0c7, 0, OPT_MOD_MEM, 0, 0, op_mov_rm_imm_m, "mov"),
	E(0x0a0, A, OPT_MOD_ANY, 0, 0, op_mov_al_moffs, "mov"),
	E(0x0a1, A, OPT_MOD_ANY, 0, 0, op_mov_ax_moffs, "mov"),
	E(0x0a2, A, OPT_MOD_ANY, 0, 0, op_mov_moffs_al, "mov"),
	E(0x0a3, A, OPT_MOD_ANY, 0, 0, op_mov_moffs_ax, "mov"),
	E(0x1b6, A, OPT_MOD_REG, 0, 0, op_movzx_b_r, "movzx"),
	E(0x1b6, A, OPT_MOD_MEM, 0, 0, op_movzx_b_m, "movzx"),
	E(0x1b7, A, OPT_MOD_REG, 0, 0, op_movzx_w_r, "movzx"),
	E(0x1b7, A, OPT_MOD_MEM, 0, 0, op_movzx_w_m, "movzx"),
	E(0x1be, A, OPT_MOD_REG, 0, 0, op_movsx_b_r, "movsx"),
	E(0x1be, A, OPT_MOD_MEM, 0, 0, op_movsx_b_m, "movsx"),
	E(0x1bf, A, OPT_MOD_REG, 0, 0, op_movsx_w_r, "movsx"),
	E(0x1bf, A, OPT_MOD_MEM, 0, 0, op_movsx_w_m, "movsx"),
	{0x063, OPT_ANY, OPT_ANY, OPT_ANY, OPT_MOD_REG, 0, 1, 0, 0, op_movsxd_r, "movsxd"},
	{0x063, OPT_ANY, OPT_ANY, OPT_ANY, OPT_MOD_MEM, 0, 1, 0, 0, op_movsxd_m, "movsxd"},
	E(0x08d, A, OPT_MOD_MEM, 0, 0, op_lea, "lea"),
	E(0x086, A, OPT_MOD_ANY, OPF_LOCKABLE, 0, op_xchg_rm8, "xchg"),
	E(0x087, A, OPT_MOD_ANY, OPF_LOCKABLE, 0, op_xchg_rm, "xchg"),
	E(0x098, A, OPT_MOD_ANY, 0, 0, op_cbw, "cbw"),
	E(0x099, A, OPT_MOD_ANY, 0, 0, op_cwd, "cwd"),
	E(0x09e, A, OPT_MOD_ANY, 0, 0, op_sahf, "sahf"),
	E(0x09f, A, OPT_MOD_ANY, 0, 0, op_lahf, "lahf"),
	E(0x0f5, A, OPT_MOD_ANY, 0, 0, op_cmc, "cmc"),
	E(0x0f8, A, OPT_MOD_ANY, 0, 0, op_clc, "clc"),
	E(0x0f9, A, OPT_MOD_ANY, 0, 0, op_stc, "stc"),
	E(0x0fc, A, OPT_MOD_ANY, 0, 0, op_cld, "cld"),
	E(0x0fd, A, OPT_MOD_ANY, 0, 0, op_std, "std"),
	E(0x0d7, A, OPT_MOD_ANY, 0, 0, op_xlat, "xlat"),
	E(0x11f, A, OPT_MOD_ANY, 0, 0, op_nop, "nop"),
	E(0x118, A, OPT_MOD_ANY, 0, 0, op_nop, "prefetch"),
	E(0x119, A, OPT_MOD_ANY, 0, 0, op_nop, "nop"),
	E(0x11a, A, OPT_MOD_ANY, 0, 0, op_nop, "nop"),
	E(0x11b, A, OPT_MOD_ANY, 0, 0, op_nop, "nop"),
	E(0x11c, A, OPT_MOD_ANY, 0, 0, op_nop, "nop"),
	E(0x11d, A, OPT_MOD_ANY, 0, 0, op_nop, "nop"),
	E(0x11e, A, OPT_MOD_ANY, 0, 0, op_nop, "nop"),
	E(0x10d, A, OPT_MOD_MEM, 0, FEAT_PREFETCHW, op_nop, "prefetchw"),
	E(0x10b, A, OPT_MOD_ANY, 0, 0, op_undef, "ud2"),
	E(0x1b9, A, OPT_MOD_ANY, 0, 0, op_undef, "ud1"),
	E(0x1ff, A, OPT_MOD_ANY, 0, 0, op_undef, "ud0"),
};

#undef E
#undef A
/* clang-format on */

static void data_register_ranges(void)
{
	struct optab_entry e = {
		.mp = OPT_ANY, .reg = OPT_ANY, .rm = OPT_ANY, .w = OPT_ANY, .fn = NULL, .name = NULL
	};
	for (int i = 0; i < 8; i++) {
		e.op = (uint16_t)(0x0b0 + i);
		e.fn = op_mov_r8_imm;
		e.name = "mov";
		optab_add(&e);
		e.op = (uint16_t)(0x0b8 + i);
		e.fn = op_mov_r_imm;
		optab_add(&e);
		e.op = (uint16_t)(0x090 + i);
		e.fn = op_xchg_ax;
		e.name = i ? "xchg" : "nop";
		optab_add(&e);
	}
	for (int cc = 0; cc < 16; cc++) {
		for (int r = 0; r < 2; r++) {
			e.mod = r ? OPT_MOD_REG : OPT_MOD_MEM;
			e.op = (uint16_t)(0x140 + cc);
			e.fn = cmov_fn[cc][r];
			e.name = "cmovcc";
			e.feat = FEAT_CMOV;
			optab_add(&e);
			e.op = (uint16_t)(0x190 + cc);
			e.fn = setcc_fn[cc][r];
			e.name = "setcc";
			e.feat = 0;
			optab_add(&e);
		}
	}
	e.mod = OPT_MOD_ANY;
}

void ops_data_register(void)
{
	optab_add_many(data_ops, (int)(sizeof(data_ops) / sizeof(data_ops[0])));
	data_register_ranges();
	ops_string_register();
	ops_bcd_register();
}
