/*
 * cpu/ops_prot.c — the protected-mode instruction family and its
 * registration (ops_prot_register): segment-register moves and loads,
 * descriptor-table registers, LAR/LSL/VERR/VERW/ARPL, software interrupts,
 * SYSCALL/SYSRET, SYSENTER/SYSEXIT and SWAPGS. Far transfers live in
 * cpu/ops_far.c, IRET in cpu/iret.c, the machinery in cpu/seg.c, intr.c and
 * task.c. References: Intel SDM Vol. 2 instruction pages, Vol. 3 ch. 3-5;
 * AMD APM Vol. 3 (SYSCALL/SYSRET in legacy mode), Vol. 2 §6.1.
 */
#include <stdio.h>

#include "cpu/access.h"
#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/msr.h"
#include "cpu/ops_prot.h"
#include "cpu/seg.h"
#include "cpu/virt.h"

static inline uint64_t size_mask(unsigned w)
{
	return w == 8 ? ~0ull : (1ull << (8 * w)) - 1;
}

static inline bool canonical(const struct cpu *cpu, uint64_t a)
{
	unsigned bits = (cpu->cr4 & CR4_LA57) ? 57 : 48;
	int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == a;
}

/* #UD outside protected mode (real and V86) for LLDT, LAR, VERR, ... */
static inline void need_prot(struct cpu *cpu)
{
	if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86)
		cpu_ud(cpu);
}

static inline void need_cpl0(struct cpu *cpu)
{
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
}

/* SGDT/SIDT/SLDT/STR/SMSW at CPL > 0 with CR4.UMIP fault (SDM §2.5). */
static inline void umip_check(struct cpu *cpu)
{
	if ((cpu->cr4 & CR4_UMIP) && cpu->cpl > 0)
		cpu_gp(cpu, 0);
}

static inline void set_zf(struct cpu *cpu, bool z)
{
	flags_set(cpu, z ? F_ZF : 0, F_ZF);
}

/* ---- segment registers ---- */

/* 8E /r: MOV Sreg, r/m16. CS is not a valid destination. */
static void op_mov_sreg_rm(struct cpu *cpu, const struct insn *in)
{
	int sreg = in->reg & 7;
	if (sreg == S_CS || sreg >= S_NSEG)
		cpu_ud(cpu);
	uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
	seg_load(cpu, sreg, sel);
	if (sreg == S_SS) {
		cpu->shadow = SHADOW_MOVSS;
		cpu->movss_icount = cpu->icount + 1;
	}
}

/* 8C /r: MOV r/m, Sreg. A register destination takes the selector
 * zero-extended to the operand size; memory gets 16 bits. */
static void op_mov_rm_sreg(struct cpu *cpu, const struct insn *in)
{
	int sreg = in->reg & 7;
	if (sreg >= S_NSEG)
		cpu_ud(cpu);
	uint16_t sel = cpu->seg[sreg].sel;
	if (in->mod == 3)
		reg_set(cpu, in->rm, in->osz, sel);
	else
		rm_write(cpu, in, 2, sel);
}

static int sreg_of_push_pop(uint16_t op)
{
	switch (op) {
	case 0x006:
	case 0x007:
		return S_ES;
	case 0x00e:
		return S_CS;
	case 0x016:
	case 0x017:
		return S_SS;
	case 0x01e:
	case 0x01f:
		return S_DS;
	case 0x1a0:
	case 0x1a1:
		return S_FS;
	default:
		return S_GS;
	}
}

/* 06/0E/16/1E, 0F A0/A8: PUSH Sreg (zero-extended to the operand size). */
static void op_push_sreg(struct cpu *cpu, const struct insn *in)
{
	cpu_push(cpu, in->osz, cpu->seg[sreg_of_push_pop(in->op)].sel);
}

/* 07/17/1F, 0F A1/A9: POP Sreg. The load is checked before RSP moves. */
static void op_pop_sreg(struct cpu *cpu, const struct insn *in)
{
	int sreg = sreg_of_push_pop(in->op);
	uint16_t sel = (uint16_t)cpu_stack_peek(cpu, in->osz, 0);
	seg_load(cpu, sreg, sel);
	cpu_stack_adjust(cpu, in->osz);
	if (sreg == S_SS) {
		cpu->shadow = SHADOW_MOVSS;
		cpu->movss_icount = cpu->icount + 1;
	}
}

/* C4/C5 (LES/LDS), 0F B2/B4/B5 (LSS/LFS/LGS): load a far pointer m16:16/32/64. */
static void op_load_far_ptr(struct cpu *cpu, const struct insn *in)
{
	int sreg;
	switch (in->op) {
	case 0x0c4:
		sreg = S_ES;
		break;
	case 0x0c5:
		sreg = S_DS;
		break;
	case 0x1b2:
		sreg = S_SS;
		break;
	case 0x1b4:
		sreg = S_FS;
		break;
	default:
		sreg = S_GS;
		break;
	}
	uint64_t ea = insn_ea(cpu, in);
	uint64_t off = cpu_rd(cpu, in->seg, ea, in->osz);
	uint16_t sel = cpu_rd16(cpu, in->seg, (ea + in->osz) & size_mask(in->asz));
	seg_load(cpu, sreg, sel);
	reg_set(cpu, in->reg, in->osz, off);
}

/* ---- descriptor-table registers ---- */

/* 0F 01 /2, /3: LGDT/LIDT m16&32 (m16&64 in 64-bit mode). With a 16-bit
 * operand only 24 bits of base are used. */
/* Descriptor-table intercept (ICPT_DESC): index = instruction identity as
 * VMX's instruction information numbers it (bits 29:28): 0 SGDT/SLDT,
 * 1 SIDT/STR, 2 LGDT/LLDT, 3 LIDT/LTR; | 4 for the LDTR/TR group. */
static inline void desc_icpt(struct cpu *cpu, const struct insn *in, unsigned id)
{
	struct icpt_info info = { .insn = in, .index = id };
	VIRT_ICPT(cpu, ICPT_DESC, &info);
}

static void op_lgdt_lidt(struct cpu *cpu, const struct insn *in)
{
	need_cpl0(cpu);
	desc_icpt(cpu, in, (in->reg & 7) == 2 ? 2 : 3);
	uint64_t ea = insn_ea(cpu, in);
	uint16_t limit = cpu_rd16(cpu, in->seg, ea);
	uint64_t a2 = (ea + 2) & size_mask(in->asz);
	uint64_t base;
	if (cpu->mode == MODE_LONG64) {
		base = cpu_rd64(cpu, in->seg, a2);
		/* A non-canonical table base is refused (AMD APM Vol. 3 LGDT/
		 * LIDT: "#GP: the new GDT/IDT base address was non-canonical";
		 * Intel CPUs agree), at the supported linear-address width
		 * like the other base loads (cpu_canonical). */
		if (!cpu_canonical(cpu, base))
			cpu_gp(cpu, 0);
	} else {
		base = cpu_rd32(cpu, in->seg, a2) & (in->osz == 2 ? 0xffffffu : 0xffffffffu);
	}
	if ((in->reg & 7) == 2) {
		cpu->gdtr.base = base;
		cpu->gdtr.limit = limit;
	} else {
		cpu->idtr.base = base;
		cpu->idtr.limit = limit;
	}
}

/* 0F 01 /0, /1: SGDT/SIDT (the full 32-bit base is stored outside 64-bit
 * mode whatever the operand size). */
static void op_sgdt_sidt(struct cpu *cpu, const struct insn *in)
{
	umip_check(cpu);
	bool g = (in->reg & 7) == 0;
	desc_icpt(cpu, in, g ? 0 : 1);
	uint8_t buf[10];
	uint16_t limit = (uint16_t)(g ? cpu->gdtr.limit : cpu->idtr.limit);
	uint64_t base = g ? cpu->gdtr.base : cpu->idtr.base;
	unsigned n = cpu->mode == MODE_LONG64 ? 10 : 6;
	buf[0] = (uint8_t)limit;
	buf[1] = (uint8_t)(limit >> 8);
	for (unsigned i = 0; i < n - 2; i++)
		buf[2 + i] = (uint8_t)(base >> (8 * i));
	cpu_wrn(cpu, in->seg, insn_ea(cpu, in), buf, n);
}

/* Store a system selector (SLDT/STR): register destinations are
 * zero-extended to the operand size, memory gets 16 bits. */
static void store_sel(struct cpu *cpu, const struct insn *in, uint16_t sel)
{
	if (in->mod == 3)
		reg_set(cpu, in->rm, in->osz, sel);
	else
		rm_write(cpu, in, 2, sel);
}

/* 0F 00 /0: SLDT. */
static void op_sldt(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	umip_check(cpu);
	desc_icpt(cpu, in, 4 | 0);
	store_sel(cpu, in, cpu->ldtr.sel);
}

/* 0F 00 /1: STR. */
static void op_str(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	umip_check(cpu);
	desc_icpt(cpu, in, 4 | 1);
	store_sel(cpu, in, cpu->tr.sel);
}

/* Read a system descriptor (16 bytes in IA-32e mode) from the GDT for
 * LLDT/LTR, #GP(sel) if outside the GDT or in the LDT. */
static uint64_t read_sys_desc(struct cpu *cpu, uint16_t sel, uint64_t *base_hi, uint64_t *addr)
{
	uint64_t d[2];
	bool lma = cpu->msr.efer & EFER_LMA;
	if (sel & 4)
		cpu_gp(cpu, sel & 0xfffc);
	if (lma ? !seg_read_desc16(cpu, sel, d, addr) : !seg_read_desc(cpu, sel, &d[0], addr))
		cpu_gp(cpu, sel & 0xfffc);
	*base_hi = 0;
	if (lma) {
		/* Upper half: base 63:32, then a zero type field (§8.2.3). */
		if ((d[1] >> 40) & 0x1f)
			cpu_gp(cpu, sel & 0xfffc);
		if (!canonical(cpu, (d[1] << 32) | desc_base(d[0])))
			cpu_gp(cpu, sel & 0xfffc);
		*base_hi = (uint32_t)d[1];
	}
	return d[0];
}

/* 0F 00 /2: LLDT r/m16. */
static void op_lldt(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	need_cpl0(cpu);
	desc_icpt(cpu, in, 4 | 2);
	uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
	if (!(sel & 0xfffc)) {
		seg_make_null(&cpu->ldtr, sel, 0);
		return;
	}
	uint64_t hi, addr;
	uint64_t d = read_sys_desc(cpu, sel, &hi, &addr);
	uint32_t a = desc_attr(d);
	if (attr_is_seg(a) || attr_type(a) != SYS_LDT)
		cpu_gp(cpu, sel & 0xfffc);
	if (!attr_present(a))
		cpu_exception(cpu, EXC_NP, sel & 0xfffc);
	seg_from_desc(&cpu->ldtr, sel, d);
	cpu->ldtr.base |= hi << 32;
}

/* 0F 00 /3: LTR r/m16 (marks the TSS busy). */
static void op_ltr(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	need_cpl0(cpu);
	desc_icpt(cpu, in, 4 | 3);
	uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
	if (!(sel & 0xfffc))
		cpu_gp(cpu, 0);
	uint64_t hi, addr;
	uint64_t d = read_sys_desc(cpu, sel, &hi, &addr);
	uint32_t a = desc_attr(d);
	bool lma = cpu->msr.efer & EFER_LMA;
	unsigned t = attr_type(a);
	if (attr_is_seg(a) || !(t == SYS_TSS32 || (!lma && t == SYS_TSS16)))
		cpu_gp(cpu, sel & 0xfffc);
	if (!attr_present(a))
		cpu_exception(cpu, EXC_NP, sel & 0xfffc);
	lin_wr(cpu, addr + 5, 1, (uint8_t)(d >> 40) | 2, ACC_WRITE | ACC_SYS);
	seg_from_desc(&cpu->tr, sel, d);
	cpu->tr.base |= hi << 32;
	cpu->tr.attr |= 2;
}

/* ---- LAR / LSL / VERR / VERW / ARPL ---- */

/* Descriptor visible to LAR/LSL/VERx at the current CPL and RPL, or
 * false (SDM Vol. 2 LAR: null, outside the table, or DPL too low for a
 * non-conforming segment). sys_ok lists the system types accepted. */
static bool probe_desc(struct cpu *cpu, uint16_t sel, uint32_t sys_ok, uint64_t *d)
{
	if (!(sel & 0xfffc) || !seg_read_desc(cpu, sel, d, NULL))
		return false;
	uint32_t a = desc_attr(*d);
	if (!attr_is_seg(a) && !((sys_ok >> attr_type(a)) & 1))
		return false;
	if (!attr_conforming(a) && (attr_dpl(a) < cpu->cpl || attr_dpl(a) < (sel & 3u)))
		return false;
	return true;
}

/* System types valid for LAR (legacy / IA-32e) and LSL (Table in LAR/LSL). */
#define LAR_SYS_LEGACY 0x1a3eu /* 1,2,3,4,5,9,11,12 */
#define LAR_SYS_LONG   0x1a04u /* 2,9,11,12 */
#define LSL_SYS_LEGACY 0x0a0eu /* 1,2,3,9,11 */
#define LSL_SYS_LONG   0x0a04u /* 2,9,11 */

/* 0F 02: LAR r, r/m16. */
static void op_lar(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
	bool lma = cpu->msr.efer & EFER_LMA;
	uint64_t d;
	if (!probe_desc(cpu, sel, lma ? LAR_SYS_LONG : LAR_SYS_LEGACY, &d)) {
		set_zf(cpu, false);
		return;
	}
	uint32_t ar = (uint32_t)(d >> 32) & 0x00f0ff00u;
	reg_set(cpu, in->reg, in->osz, in->osz == 2 ? (ar & 0xff00) : ar);
	set_zf(cpu, true);
}

/* 0F 03: LSL r, r/m16. */
static void op_lsl(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
	bool lma = cpu->msr.efer & EFER_LMA;
	uint64_t d;
	if (!probe_desc(cpu, sel, lma ? LSL_SYS_LONG : LSL_SYS_LEGACY, &d)) {
		set_zf(cpu, false);
		return;
	}
	reg_set(cpu, in->reg, in->osz, desc_limit(d));
	set_zf(cpu, true);
}

/* 0F 00 /4, /5: VERR / VERW r/m16. */
static void op_verr_verw(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
	bool write = (in->reg & 7) == 5;
	uint64_t d;
	bool ok = probe_desc(cpu, sel, 0, &d);
	if (ok) {
		uint32_t a = desc_attr(d);
		ok = write ? attr_writable_data(a) : attr_readable(a);
	}
	set_zf(cpu, ok);
}

/* 63 /r: ARPL r/m16, r16 outside 64-bit mode; MOVSXD in 64-bit mode (the
 * opcode is shared, so this handler serves both). */
static void op_arpl(struct cpu *cpu, const struct insn *in)
{
	if (cpu->mode == MODE_LONG64) {
		if (in->osz == 8)
			reg_set(cpu, in->reg, 8, (uint64_t)(int64_t)(int32_t)rm_read(cpu, in, 4));
		else
			reg_set(cpu, in->reg, in->osz, rm_read(cpu, in, in->osz));
		return;
	}
	need_prot(cpu);
	uint16_t dst = (uint16_t)rm_read(cpu, in, 2);
	uint16_t src = (uint16_t)cpu->gpr[in->reg];
	if ((dst & 3) < (src & 3)) {
		rm_write(cpu, in, 2, (uint16_t)((dst & ~3u) | (src & 3)));
		set_zf(cpu, true);
	} else {
		set_zf(cpu, false);
	}
}

/* ---- software interrupts ---- */

/* CD ib: INT n. */
static void op_int(struct cpu *cpu, const struct insn *in)
{
	dbg_soft_int(cpu);
	cpu_deliver_event(cpu, (uint8_t)in->imm, EV_SOFTINT, NO_ERRCODE);
}

/* CC: INT3 (software exception: gate DPL checked, not IOPL-sensitive). */
static void op_int3(struct cpu *cpu, const struct insn *in)
{
	dbg_soft_int(cpu);
	cpu_deliver_event(cpu, EXC_BP, EV_SOFTEXC, NO_ERRCODE);
}

/* CE: INTO (#UD in 64-bit mode, which the decoder reports). */
static void op_into(struct cpu *cpu, const struct insn *in)
{
	if (cpu->mode == MODE_LONG64)
		cpu_ud(cpu);
	if (flags_get(cpu) & F_OF) {
		dbg_soft_int(cpu);
		cpu_deliver_event(cpu, EXC_OF, EV_SOFTEXC, NO_ERRCODE);
	}
}

/* F1: INT1 / ICEBP (privileged software exception: no DPL check). */
static void op_int1(struct cpu *cpu, const struct insn *in)
{
	dbg_int1(cpu);
	cpu_deliver_event(cpu, EXC_DB, EV_PRIVSW, NO_ERRCODE);
}

/* ---- fast system calls ---- */

/* Flat segments loaded by SYSCALL/SYSRET/SYSENTER/SYSEXIT (base 0, limit
 * 4 GiB, G = 1; SDM Vol. 2 pseudocode). */
#define ATTR_CODE64 (SEG_ATTR_P | SEG_ATTR_S | 0xb | SEG_ATTR_L | SEG_ATTR_G)
#define ATTR_CODE32 (SEG_ATTR_P | SEG_ATTR_S | 0xb | SEG_ATTR_DB | SEG_ATTR_G)
#define ATTR_DATA   (SEG_ATTR_P | SEG_ATTR_S | 0x3 | SEG_ATTR_DB | SEG_ATTR_G)
#define ATTR_DPL3   (3u << SEG_ATTR_DPL_SHIFT)

static void load_flat(struct cpu *cpu, uint16_t cs_sel, uint32_t cs_attr, uint16_t ss_sel,
		      uint32_t ss_attr)
{
	struct seg cs = { .base = 0, .limit = 0xffffffffu, .attr = cs_attr, .sel = cs_sel };
	struct seg ss = { .base = 0, .limit = 0xffffffffu, .attr = ss_attr, .sel = ss_sel };
	cpu->seg[S_SS] = ss;
	seg_commit(cpu, S_CS, &cs); /* CPL = cs_sel & 3, mode update */
}

static bool is_amd(const struct cpu *cpu)
{
	return cpu->model && cpu->model->vendor == VENDOR_AMD;
}

/* 0F 05: SYSCALL. Intel: 64-bit mode only. AMD: also compatibility mode
 * (target CSTAR) and legacy protected mode (target STAR[31:0]). */
static void op_syscall(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->msr.efer & EFER_SCE))
		cpu_ud(cpu);
	if (cpu->mode != MODE_LONG64 &&
	    (!is_amd(cpu) || cpu->mode == MODE_REAL || cpu->mode == MODE_V86))
		cpu_ud(cpu);
	uint16_t sel = (uint16_t)(cpu->msr.star >> 32) & 0xfffc;
	uint64_t fl = flags_get(cpu) & ~(uint64_t)F_RF;
	bool tf = fl & F_TF;
	if (cpu->msr.efer & EFER_LMA) {
		uint64_t target = cpu->mode == MODE_LONG64 ? cpu->msr.lstar : cpu->msr.cstar;
		cpu->gpr[R_CX] = cpu->rip;
		cpu->gpr[R_R11] = fl;
		flags_set(cpu, fl & ~cpu->msr.sfmask, ~0ull);
		load_flat(cpu, sel, ATTR_CODE64, (uint16_t)(sel + 8), ATTR_DATA);
		cpu->rip = target;
	} else {
		cpu->gpr[R_CX] = (uint32_t)cpu->rip;
		flags_set(cpu, fl & ~(uint64_t)(F_IF | F_VM), ~0ull);
		load_flat(cpu, sel, ATTR_CODE32, (uint16_t)(sel + 8), ATTR_DATA);
		cpu->rip = (uint32_t)cpu->msr.star;
	}
	dbg_single_step_at_end(cpu, tf);
}

/* 0F 07: SYSRET (REX.W: to 64-bit code). Intel: 64-bit mode only; AMD also
 * from legacy protected mode. */
static void op_sysret(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->msr.efer & EFER_SCE))
		cpu_ud(cpu);
	if (cpu->mode != MODE_LONG64 &&
	    (!is_amd(cpu) || cpu->mode == MODE_REAL || cpu->mode == MODE_V86))
		cpu_ud(cpu);
	need_cpl0(cpu);
	uint16_t base = (uint16_t)(cpu->msr.star >> 48);
	uint16_t ss_sel = (uint16_t)((base + 8) | 3);
	bool tf = cpu->rflags & F_TF;
	if (cpu->msr.efer & EFER_LMA) {
		uint64_t ip;
		uint16_t cs_sel;
		uint32_t cs_attr;
		if (in->osz == 8) {
			/* Intel faults on a non-canonical RCX before anything changes
			 * (in ring 0); AMD does not check. */
			if (!is_amd(cpu) && !canonical(cpu, cpu->gpr[R_CX]))
				cpu_gp(cpu, 0);
			ip = cpu->gpr[R_CX];
			cs_sel = (uint16_t)((base + 16) | 3);
			cs_attr = ATTR_CODE64 | ATTR_DPL3;
		} else {
			ip = (uint32_t)cpu->gpr[R_CX];
			cs_sel = (uint16_t)(base | 3);
			cs_attr = ATTR_CODE32 | ATTR_DPL3;
		}
		flags_set(cpu, (cpu->gpr[R_R11] & 0x3c7fd7u) | F_FIXED1, ~0ull);
		load_flat(cpu, cs_sel, cs_attr, ss_sel, ATTR_DATA | ATTR_DPL3);
		cpu->rip = ip;
	} else {
		flags_set(cpu, F_IF, F_IF);
		load_flat(cpu, (uint16_t)(base | 3), ATTR_CODE32 | ATTR_DPL3, ss_sel,
			  ATTR_DATA | ATTR_DPL3);
		cpu->rip = (uint32_t)cpu->gpr[R_CX];
	}
	dbg_single_step_at_end(cpu, tf);
}

/* 0F 34: SYSENTER. AMD CPUs do not support it in long mode (#UD). */
static void op_sysenter(struct cpu *cpu, const struct insn *in)
{
	bool lma = cpu->msr.efer & EFER_LMA;
	if (lma && is_amd(cpu))
		cpu_ud(cpu);
	if (cpu->mode == MODE_REAL || !(cpu->msr.sysenter_cs & 0xfffc))
		cpu_gp(cpu, 0);
	uint16_t sel = (uint16_t)cpu->msr.sysenter_cs & 0xfffc;
	flags_set(cpu, 0, F_VM | F_IF | F_RF);
	load_flat(cpu, sel, lma ? ATTR_CODE64 : ATTR_CODE32, (uint16_t)(sel + 8), ATTR_DATA);
	cpu->gpr[R_SP] = lma ? cpu->msr.sysenter_esp : (uint32_t)cpu->msr.sysenter_esp;
	cpu->rip = lma ? cpu->msr.sysenter_eip : (uint32_t)cpu->msr.sysenter_eip;
}

/* 0F 35: SYSEXIT (REX.W: to 64-bit code). */
static void op_sysexit(struct cpu *cpu, const struct insn *in)
{
	bool lma = cpu->msr.efer & EFER_LMA;
	if (lma && is_amd(cpu))
		cpu_ud(cpu);
	if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86 || !(cpu->msr.sysenter_cs & 0xfffc) ||
	    cpu->cpl != 0)
		cpu_gp(cpu, 0);
	uint16_t base = (uint16_t)cpu->msr.sysenter_cs;
	if (in->osz == 8) {
		if (!canonical(cpu, cpu->gpr[R_CX]) || !canonical(cpu, cpu->gpr[R_DX]))
			cpu_gp(cpu, 0);
		load_flat(cpu, (uint16_t)((base + 32) | 3), ATTR_CODE64 | ATTR_DPL3,
			  (uint16_t)((base + 40) | 3), ATTR_DATA | ATTR_DPL3);
		cpu->gpr[R_SP] = cpu->gpr[R_CX];
		cpu->rip = cpu->gpr[R_DX];
	} else {
		load_flat(cpu, (uint16_t)((base + 16) | 3), ATTR_CODE32 | ATTR_DPL3,
			  (uint16_t)((base + 24) | 3), ATTR_DATA | ATTR_DPL3);
		cpu->gpr[R_SP] = (uint32_t)cpu->gpr[R_CX];
		cpu->rip = (uint32_t)cpu->gpr[R_DX];
	}
}

/* 0F 01 F8: SWAPGS (64-bit mode, CPL 0). */
static void op_swapgs(struct cpu *cpu, const struct insn *in)
{
	if (cpu->mode != MODE_LONG64)
		cpu_ud(cpu);
	need_cpl0(cpu);
	uint64_t t = cpu->seg[S_GS].base;
	cpu->seg[S_GS].base = cpu->msr.kernel_gs_base;
	cpu->msr.kernel_gs_base = t;
}

/* ---- registration ---- */

#define EB OPF_ENDS_BLOCK
/* Any ModRM (or none). */
#define E(o, fl, f, n)                                                                     \
	{                                                                                  \
		(o), OPT_ANY, OPT_ANY, OPT_ANY, OPT_MOD_ANY, 0, OPT_ANY, (fl), 0, (f), (n) \
	}
/* Group member /r with a mod constraint. */
#define G(o, r, md, fl, f, n)                                                   \
	{                                                                       \
		(o), OPT_ANY, (r), OPT_ANY, (md), 0, OPT_ANY, (fl), 0, (f), (n) \
	}

static const struct optab_entry prot_ops[] = {
	E(0x08e, 0, op_mov_sreg_rm, "mov"),
	E(0x08c, 0, op_mov_rm_sreg, "mov"),
	E(0x006, 0, op_push_sreg, "push"),
	E(0x00e, 0, op_push_sreg, "push"),
	E(0x016, 0, op_push_sreg, "push"),
	E(0x01e, 0, op_push_sreg, "push"),
	E(0x1a0, 0, op_push_sreg, "push"),
	E(0x1a8, 0, op_push_sreg, "push"),
	E(0x007, 0, op_pop_sreg, "pop"),
	E(0x017, 0, op_pop_sreg, "pop"),
	E(0x01f, 0, op_pop_sreg, "pop"),
	E(0x1a1, 0, op_pop_sreg, "pop"),
	E(0x1a9, 0, op_pop_sreg, "pop"),
	G(0x0c4, OPT_ANY, OPT_MOD_MEM, 0, op_load_far_ptr, "les"),
	G(0x0c5, OPT_ANY, OPT_MOD_MEM, 0, op_load_far_ptr, "lds"),
	G(0x1b2, OPT_ANY, OPT_MOD_MEM, 0, op_load_far_ptr, "lss"),
	G(0x1b4, OPT_ANY, OPT_MOD_MEM, 0, op_load_far_ptr, "lfs"),
	G(0x1b5, OPT_ANY, OPT_MOD_MEM, 0, op_load_far_ptr, "lgs"),
	G(0x101, 0, OPT_MOD_MEM, 0, op_sgdt_sidt, "sgdt"),
	G(0x101, 1, OPT_MOD_MEM, 0, op_sgdt_sidt, "sidt"),
	G(0x101, 2, OPT_MOD_MEM, EB, op_lgdt_lidt, "lgdt"),
	G(0x101, 3, OPT_MOD_MEM, EB, op_lgdt_lidt, "lidt"),
	{ 0x101, OPT_ANY, 7, 0, OPT_MOD_REG, 0, OPT_ANY, 0, 0, op_swapgs, "swapgs" },
	G(0x100, 0, OPT_MOD_ANY, 0, op_sldt, "sldt"),
	G(0x100, 1, OPT_MOD_ANY, 0, op_str, "str"),
	G(0x100, 2, OPT_MOD_ANY, EB, op_lldt, "lldt"),
	G(0x100, 3, OPT_MOD_ANY, EB, op_ltr, "ltr"),
	G(0x100, 4, OPT_MOD_ANY, 0, op_verr_verw, "verr"),
	G(0x100, 5, OPT_MOD_ANY, 0, op_verr_verw, "verw"),
	E(0x102, 0, op_lar, "lar"),
	E(0x103, 0, op_lsl, "lsl"),
	E(0x063, 0, op_arpl, "arpl"),
	E(0x0cd, EB, op_int, "int"),
	E(0x0cc, EB, op_int3, "int3"),
	E(0x0ce, EB, op_into, "into"),
	E(0x0f1, EB, op_int1, "int1"),
	E(0x0cf, EB, op_iret, "iret"),
	E(0x0ea, EB, op_jmp_far_ptr, "jmp"),
	E(0x09a, EB, op_call_far_ptr, "call"),
	G(0x0ff, 5, OPT_MOD_MEM, EB, op_jmp_far_mem, "jmp"),
	G(0x0ff, 3, OPT_MOD_MEM, EB, op_call_far_mem, "call"),
	E(0x0cb, EB, op_retf, "retf"),
	E(0x0ca, EB, op_retf_imm, "retf"),
	E(0x105, EB, op_syscall, "syscall"),
	E(0x107, EB, op_sysret, "sysret"),
	E(0x134, EB, op_sysenter, "sysenter"),
	E(0x135, EB, op_sysexit, "sysexit"),
};

#undef E
#undef G
#undef EB

void ops_prot_register(void)
{
	optab_add_many(prot_ops, (int)(sizeof(prot_ops) / sizeof(prot_ops[0])));
}
