/*
 * cpu/ops_far.c — far JMP, far CALL and far RET in every mode (SDM Vol. 2
 * "JMP", "CALL", "RET"; Vol. 3 §5.8 call gates, §7.3 task switches; AMD APM
 * Vol. 2 §4.8.5 for IA-32e call gates):
 *   real / V86 mode   CS = sel, base sel << 4;
 *   protected mode    conforming / non-conforming code segments, call gates
 *                     (16/32-bit; inner-privilege CALL with stack switch and
 *                     parameter copy), task gates and TSS descriptors;
 *   IA-32e mode       64-bit call gates only (no parameters), 64-bit targets.
 * Far RET returns to the same or an outer privilege level (pops SS:SP, nulls
 * data segments the outer level may not use).
 *
 * Handlers registered by ops_prot_register (cpu/ops_prot.c):
 *   EA JMP ptr16:16/32, 9A CALL ptr16:16/32, FF /5 JMP m16:16/32/64,
 *   FF /3 CALL m16:16/32/64, CB RETF, CA RETF imm16.
 */
#include "cpu/access.h"
#include "cpu/insn.h"
#include "cpu/ops_prot.h"
#include "cpu/seg.h"

static inline bool canonical(const struct cpu *cpu, uint64_t a)
{
	unsigned bits = (cpu->cr4 & CR4_LA57) ? 57 : 48;
	int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == a;
}

static inline uint64_t size_mask(unsigned w)
{
	return w == 8 ? ~0ull : (1ull << (8 * w)) - 1;
}

/* The new RIP must be canonical for 64-bit code, else within CS.limit. */
static void check_target(struct cpu *cpu, const struct seg *cs, uint64_t ip)
{
	if ((cpu->msr.efer & EFER_LMA) && (cs->attr & SEG_ATTR_L)) {
		if (!canonical(cpu, ip))
			cpu_gp(cpu, 0);
	} else if (ip > cs->limit) {
		cpu_gp(cpu, 0);
	}
}

/* Checks on a code segment reached directly by JMP/CALL (no gate). */
static void check_direct_code(struct cpu *cpu, uint16_t sel, uint64_t d, uint64_t addr,
			      struct seg *cs)
{
	uint32_t a = desc_attr(d);
	uint32_t ec = sel & 0xfffc;
	if (attr_conforming(a)) {
		if (attr_dpl(a) > cpu->cpl)
			cpu_gp(cpu, ec);
	} else if ((sel & 3) > cpu->cpl || attr_dpl(a) != cpu->cpl) {
		cpu_gp(cpu, ec);
	}
	if ((cpu->msr.efer & EFER_LMA) && (a & SEG_ATTR_L) && (a & SEG_ATTR_DB))
		cpu_gp(cpu, ec);
	if (!attr_present(a))
		cpu_exception(cpu, EXC_NP, ec);
	seg_set_accessed(cpu, addr, &d);
	seg_from_desc(cs, (uint16_t)((sel & ~3u) | cpu->cpl), d);
}

/* Task gate or TSS as a JMP/CALL target (SDM Vol. 2 JMP "TASK-GATE",
 * "TASK-STATE-SEGMENT"). The DPL check against CPL and RPL is done here. */
static void far_task(struct cpu *cpu, uint16_t sel, uint64_t d, enum task_reason why)
{
	uint32_t a = desc_attr(d);
	uint32_t ec = sel & 0xfffc;
	if (attr_dpl(a) < cpu->cpl || attr_dpl(a) < (sel & 3u))
		cpu_gp(cpu, ec);
	if (!attr_present(a))
		cpu_exception(cpu, EXC_NP, ec);
	if (attr_type(a) == SYS_TASKGATE) {
		uint16_t tsel = gate_sel(d);
		uint64_t td;
		if ((tsel & 4) || !seg_read_desc(cpu, tsel, &td, NULL))
			cpu_gp(cpu, tsel & 0xfffc);
		unsigned tt = attr_type(desc_attr(td));
		if (attr_is_seg(desc_attr(td)) || (tt != SYS_TSS16 && tt != SYS_TSS32))
			cpu_gp(cpu, tsel & 0xfffc);
		if (!attr_present(desc_attr(td)))
			cpu_exception(cpu, EXC_NP, tsel & 0xfffc);
		task_switch(cpu, tsel, td, why, 0, NO_ERRCODE);
	} else {
		task_switch(cpu, sel, d, why, 0, NO_ERRCODE);
	}
}

/* Read a call gate (16 bytes in IA-32e mode) and its target code segment;
 * common to JMP and CALL. Returns the target offset. */
static uint64_t read_call_gate(struct cpu *cpu, uint16_t sel, uint64_t d, uint64_t gaddr,
			       struct seg *cs, uint64_t *cs_desc)
{
	uint32_t a = desc_attr(d);
	uint32_t ec = sel & 0xfffc;
	bool lma = cpu->msr.efer & EFER_LMA;
	uint64_t off = gate_off(d);
	if (attr_dpl(a) < cpu->cpl || attr_dpl(a) < (sel & 3u))
		cpu_gp(cpu, ec);
	if (!attr_present(a))
		cpu_exception(cpu, EXC_NP, ec);
	if (lma) {
		uint64_t hi = lin_rd(cpu, gaddr + 8, 8, ACC_READ | ACC_SYS);
		/* The upper half's type field must be 0 (APM Vol. 2 §4.8.5). */
		if ((hi >> 40) & 0x1f)
			cpu_gp(cpu, ec);
		off |= hi << 32;
	} else if (attr_type(a) == SYS_CALLGATE16) {
		off &= 0xffff;
	}
	uint16_t csel = gate_sel(d);
	uint32_t cec = csel & 0xfffc;
	uint64_t cd, caddr;
	if (!cec)
		cpu_gp(cpu, 0);
	if (!seg_read_desc(cpu, csel, &cd, &caddr))
		cpu_gp(cpu, cec);
	uint32_t ca = desc_attr(cd);
	if (!attr_is_code(ca) || attr_dpl(ca) > cpu->cpl)
		cpu_gp(cpu, cec);
	if (lma && (!(ca & SEG_ATTR_L) || (ca & SEG_ATTR_DB)))
		cpu_gp(cpu, cec);
	if (!attr_present(ca))
		cpu_exception(cpu, EXC_NP, cec);
	seg_set_accessed(cpu, caddr, &cd);
	seg_from_desc(cs, csel, cd);
	*cs_desc = cd;
	return off;
}

/* Read the descriptor for a far target; #GP(0) for null, #GP(sel) beyond. */
static void far_desc(struct cpu *cpu, uint16_t sel, uint64_t *d, uint64_t *addr)
{
	if (!(sel & 0xfffc))
		cpu_gp(cpu, 0);
	if (!seg_read_desc(cpu, sel, d, addr))
		cpu_gp(cpu, sel & 0xfffc);
}

/* Is a system descriptor type a valid far JMP/CALL target in this mode? */
static bool far_sys_ok(const struct cpu *cpu, unsigned type)
{
	if (cpu->msr.efer & EFER_LMA)
		return type == SYS_CALLGATE32;
	return type == SYS_CALLGATE16 || type == SYS_CALLGATE32 || type == SYS_TASKGATE ||
	       type == SYS_TSS16 || type == SYS_TSS32;
}

void far_jump(struct cpu *cpu, uint16_t sel, uint64_t off, unsigned osz)
{
	if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86) {
		off &= size_mask(osz);
		if (off > cpu->seg[S_CS].limit)
			cpu_gp(cpu, 0);
		if (cpu->mode == MODE_REAL)
			seg_set_real(cpu, S_CS, sel);
		else
			seg_set_v86(cpu, S_CS, sel);
		cpu->rip = off;
		return;
	}
	uint64_t d, addr;
	struct seg cs;
	far_desc(cpu, sel, &d, &addr);
	uint32_t a = desc_attr(d);
	if (attr_is_code(a)) {
		check_direct_code(cpu, sel, d, addr, &cs);
		if (!((cpu->msr.efer & EFER_LMA) && (cs.attr & SEG_ATTR_L)))
			off &= size_mask(osz);
		check_target(cpu, &cs, off);
		cpu_set_cs_rip(cpu, &cs, off);
		return;
	}
	if (attr_is_seg(a) || !far_sys_ok(cpu, attr_type(a)))
		cpu_gp(cpu, sel & 0xfffc);
	unsigned type = attr_type(a);
	if (type != SYS_CALLGATE16 && type != SYS_CALLGATE32) {
		far_task(cpu, sel, d, TASK_JMP);
		return;
	}
	uint64_t cd;
	off = read_call_gate(cpu, sel, d, addr, &cs, &cd);
	/* JMP through a gate never changes privilege (§5.8.6). */
	if (attr_conforming(cs.attr) ? attr_dpl(cs.attr) > cpu->cpl : attr_dpl(cs.attr) != cpu->cpl)
		cpu_gp(cpu, cs.sel & 0xfffc);
	cs.sel = (uint16_t)((cs.sel & ~3u) | cpu->cpl);
	check_target(cpu, &cs, off);
	cpu_set_cs_rip(cpu, &cs, off);
}

/* Push CS:IP of width w on the current stack and jump (same privilege). */
static void call_same(struct cpu *cpu, struct seg *cs, uint64_t off, unsigned w)
{
	struct stk k;
	stk_init(&k, cpu, &cpu->seg[S_SS], cpu->gpr[R_SP], cpu->mode == MODE_LONG64, 0, false);
	stk_reserve(cpu, &k, 2 * w);
	check_target(cpu, cs, off);
	stk_push(cpu, &k, w, cpu->seg[S_CS].sel);
	stk_push(cpu, &k, w, cpu->rip);
	stk_commit(cpu, &k, false);
	cpu_set_cs_rip(cpu, cs, off);
}

/* CALL through a call gate to a more privileged non-conforming segment
 * (SDM Vol. 3 §5.8.5, Figure 5-13; APM Vol. 2 §4.8.5 for 64-bit gates). */
static void call_gate_inner(struct cpu *cpu, struct seg *cs, uint64_t off, unsigned gtype,
			    unsigned params)
{
	unsigned dpl = attr_dpl(cs->attr);
	bool lma = cpu->msr.efer & EFER_LMA;
	struct stk k;
	uint16_t ssel;
	uint64_t sp;
	struct seg ss;
	tss_inner_stack(cpu, dpl, 0, 0, &ssel, &sp);
	if (lma) {
		/* New SS is a null selector with RPL = new CPL; no parameters. */
		seg_make_null(&ss, (uint16_t)dpl, dpl);
		stk_init(&k, cpu, &ss, sp, true, 0, true);
		stk_reserve(cpu, &k, 32);
		check_target(cpu, cs, off);
		stk_push(cpu, &k, 8, cpu->seg[S_SS].sel);
		stk_push(cpu, &k, 8, cpu->gpr[R_SP]);
		stk_push(cpu, &k, 8, cpu->seg[S_CS].sel);
		stk_push(cpu, &k, 8, cpu->rip);
	} else {
		unsigned w = gtype == SYS_CALLGATE32 ? 4 : 2;
		seg_check_stack(cpu, ssel, dpl, EXC_TS, 0, false, &ss);
		stk_init(&k, cpu, &ss, sp, false, ssel & 0xfffc, true);
		stk_reserve(cpu, &k, w * (4 + params));
		check_target(cpu, cs, off);
		/* Parameters are copied from the caller's stack, deepest first so
		 * the layout is preserved. */
		uint64_t pv[32];
		for (unsigned i = 0; i < params; i++)
			pv[i] = cpu_stack_peek(cpu, w, (uint64_t)i * w);
		stk_push(cpu, &k, w, cpu->seg[S_SS].sel);
		stk_push(cpu, &k, w, cpu->gpr[R_SP]);
		for (unsigned i = params; i-- > 0;)
			stk_push(cpu, &k, w, pv[i]);
		stk_push(cpu, &k, w, cpu->seg[S_CS].sel);
		stk_push(cpu, &k, w, cpu->rip);
	}
	stk_commit(cpu, &k, true);
	cs->sel = (uint16_t)((cs->sel & ~3u) | dpl);
	cpu_set_cs_rip(cpu, cs, off);
}

void far_call(struct cpu *cpu, uint16_t sel, uint64_t off, unsigned osz)
{
	if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86) {
		struct stk k;
		off &= size_mask(osz);
		stk_init(&k, cpu, &cpu->seg[S_SS], cpu->gpr[R_SP], false, 0, false);
		stk_reserve(cpu, &k, 2 * osz);
		if (off > cpu->seg[S_CS].limit)
			cpu_gp(cpu, 0);
		stk_push(cpu, &k, osz, cpu->seg[S_CS].sel);
		stk_push(cpu, &k, osz, cpu->rip);
		stk_commit(cpu, &k, false);
		if (cpu->mode == MODE_REAL)
			seg_set_real(cpu, S_CS, sel);
		else
			seg_set_v86(cpu, S_CS, sel);
		cpu->rip = off;
		return;
	}
	uint64_t d, addr;
	struct seg cs;
	far_desc(cpu, sel, &d, &addr);
	uint32_t a = desc_attr(d);
	if (attr_is_code(a)) {
		check_direct_code(cpu, sel, d, addr, &cs);
		if (!((cpu->msr.efer & EFER_LMA) && (cs.attr & SEG_ATTR_L)))
			off &= size_mask(osz);
		call_same(cpu, &cs, off, osz);
		return;
	}
	if (attr_is_seg(a) || !far_sys_ok(cpu, attr_type(a)))
		cpu_gp(cpu, sel & 0xfffc);
	unsigned type = attr_type(a);
	if (type != SYS_CALLGATE16 && type != SYS_CALLGATE32) {
		far_task(cpu, sel, d, TASK_CALL);
		return;
	}
	uint64_t cd;
	off = read_call_gate(cpu, sel, d, addr, &cs, &cd);
	if (!attr_conforming(cs.attr) && attr_dpl(cs.attr) < cpu->cpl) {
		call_gate_inner(cpu, &cs, off, type, gate_params(d));
		return;
	}
	cs.sel = (uint16_t)((cs.sel & ~3u) | cpu->cpl);
	unsigned w = (cpu->msr.efer & EFER_LMA) ? 8 : type == SYS_CALLGATE32 ? 4 : 2;
	call_same(cpu, &cs, off, w);
}

/* EA: JMP ptr16:16 / ptr16:32 (not in 64-bit mode). */
void op_jmp_far_ptr(struct cpu *cpu, const struct insn *in)
{
	far_jump(cpu, in->imm2, in->imm & size_mask(in->osz), in->osz);
}

/* 9A: CALL ptr16:16 / ptr16:32 (not in 64-bit mode). */
void op_call_far_ptr(struct cpu *cpu, const struct insn *in)
{
	far_call(cpu, in->imm2, in->imm & size_mask(in->osz), in->osz);
}

/* FF /5 and FF /3: the operand is m16:16, m16:32 or (REX.W) m16:64. */
static void read_far_ptr(struct cpu *cpu, const struct insn *in, uint16_t *sel, uint64_t *off)
{
	uint64_t ea = insn_ea(cpu, in);
	*off = cpu_rd(cpu, in->seg, ea, in->osz);
	*sel = cpu_rd16(cpu, in->seg, (ea + in->osz) & size_mask(in->asz));
}

void op_jmp_far_mem(struct cpu *cpu, const struct insn *in)
{
	uint16_t sel;
	uint64_t off;
	read_far_ptr(cpu, in, &sel, &off);
	far_jump(cpu, sel, off, in->osz);
}

void op_call_far_mem(struct cpu *cpu, const struct insn *in)
{
	uint16_t sel;
	uint64_t off;
	read_far_ptr(cpu, in, &sel, &off);
	far_call(cpu, sel, off, in->osz);
}

/* Far RET (SDM Vol. 2 RET "far return"). imm is added to the stack pointer
 * after popping CS:IP, and again on the outer stack after SS:SP is loaded. */
static void far_ret(struct cpu *cpu, unsigned w, uint16_t imm)
{
	uint64_t ip = cpu_stack_peek(cpu, w, 0);
	uint16_t csel = (uint16_t)cpu_stack_peek(cpu, w, w);
	if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86) {
		if (ip > cpu->seg[S_CS].limit)
			cpu_gp(cpu, 0);
		cpu_stack_adjust(cpu, 2 * w + imm);
		if (cpu->mode == MODE_REAL)
			seg_set_real(cpu, S_CS, csel);
		else
			seg_set_v86(cpu, S_CS, csel);
		cpu->rip = ip;
		return;
	}
	struct seg cs;
	seg_check_ret_cs(cpu, csel, &cs);
	unsigned rpl = csel & 3;
	bool to64 = (cpu->msr.efer & EFER_LMA) && (cs.attr & SEG_ATTR_L);
	if (rpl == cpu->cpl) {
		check_target(cpu, &cs, ip);
		cpu_stack_adjust(cpu, 2 * w + imm);
		cpu_set_cs_rip(cpu, &cs, ip);
		return;
	}
	/* Return to an outer privilege level: SS:SP follow the parameters. */
	uint64_t sp = cpu_stack_peek(cpu, w, 2 * w + imm);
	uint16_t ssel = (uint16_t)cpu_stack_peek(cpu, w, 3 * w + imm);
	if (!(ssel & 0xfffc) && (!to64 || rpl == 3))
		cpu_gp(cpu, 0);
	struct seg ss;
	seg_check_stack(cpu, ssel, rpl, EXC_GP, 0, to64, &ss);
	check_target(cpu, &cs, ip);

	cpu->seg[S_SS] = ss;
	sp += imm;
	if (to64 || w == 8)
		cpu->gpr[R_SP] = sp;
	else if (ss.attr & SEG_ATTR_DB)
		cpu->gpr[R_SP] = (uint32_t)sp;
	else
		reg16_set(cpu, R_SP, (uint16_t)sp);
	cpu_set_cs_rip(cpu, &cs, ip);
	seg_null_outer(cpu);
}

/* CB: RETF. */
void op_retf(struct cpu *cpu, const struct insn *in)
{
	far_ret(cpu, in->osz, 0);
}

/* CA iw: RETF imm16. */
void op_retf_imm(struct cpu *cpu, const struct insn *in)
{
	far_ret(cpu, in->osz, (uint16_t)in->imm);
}
