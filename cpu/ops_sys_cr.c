/*
 * cpu/ops_sys_cr.c — control and debug registers and the instructions that
 * manage paging state: MOV CR (0F 20/22), MOV DR (0F 21/23), CLTS, LMSW,
 * SMSW, INVLPG, INVPCID, XGETBV/XSETBV; and the CR writers shared with the
 * task switch and VMX/SVM (cpu/ops_sys.h).
 *
 * Check order (SDM Vol. 2B instruction pages): #UD (encoding, feature,
 * mode), then #GP(0) for CPL, then operand validity, then memory faults; a
 * faulting instruction changes nothing. VMX/SVM intercepts of CR/DR access
 * will go between the CPL check and the validity checks.
 *
 * LOCK MOV CR0 (AMD's CR8 alias) needs the decoder to accept LOCK on these
 * register-only opcodes (their entries are OPF_LOCKABLE for that reason).
 */

#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/insn.h"
#include "cpu/msr.h"
#include "cpu/ops_sys.h"
#include "cpu/virt.h"
#include "mmu/walk.h"
#include "vmx/vmx.h"

/* CR0 bits that exist; the others are ignored on write and read as 0
 * (SDM Vol. 3 §2.5: "attempts to set them have no impact"). ET is
 * hardwired to 1. */
#define CR0_DEFINED                                                                                \
	(CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | \
	 CR0_PG)
/* CR4 bits whose change reloads the PDPTEs in PAE mode (SDM Vol. 3
 * §4.4.1). */
#define CR4_PDPTE_BITS (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)

static inline bool mode64(const struct cpu *cpu)
{
	return cpu->mode == MODE_LONG64;
}

/* Load the PAE PDPTE registers from cr3 for the paging state given (SDM
 * Vol. 3 §4.4.1); #GP(0) if one has reserved bits set. Nothing is changed
 * on failure. */
static void load_pdptes(struct cpu *cpu, uint64_t cr0, uint64_t cr3, uint64_t cr4)
{
	struct paging_regs pr = { .cr0 = cr0, .cr3 = cr3, .cr4 = cr4, .efer = cpu->msr.efer };
	if (!mmu_load_pdptes(cpu->mmu, &pr, NULL))
		cpu_gp(cpu, 0);
	for (int i = 0; i < 4; i++)
		cpu->pdpte[i] = pr.pdpte[i];
	cpu->pdpte_valid = true;
}

static void mode_changed(struct cpu *cpu)
{
	cpu_update_mode(cpu);
	cpu->pending |= PEND_MODE;
}

void sys_write_cr0(struct cpu *cpu, uint64_t v)
{
	uint64_t old = cpu->cr0;
	bool lma = cpu->msr.efer & EFER_LMA;

	if (v >> 32)
		cpu_gp(cpu, 0); /* CR0[63:32] are reserved */
	v = (v & CR0_DEFINED) | CR0_ET;
	if ((v & CR0_PG) && !(v & CR0_PE))
		cpu_gp(cpu, 0);
	if ((v & CR0_NW) && !(v & CR0_CD))
		cpu_gp(cpu, 0);
	if (!vmx_cr_write_ok(cpu, 0, v))
		cpu_gp(cpu, 0); /* IA32_VMX_CR0_FIXED0/1 in VMX operation */
	if ((old & CR0_PG) && !(v & CR0_PG)) {
		/* Paging off: not from 64-bit code (only from compatibility
		 * mode, which leaves long mode), not with PCIDE set. */
		if (mode64(cpu) || (cpu->cr4 & CR4_PCIDE))
			cpu_gp(cpu, 0);
		lma = false;
	} else if (!(old & CR0_PG) && (v & CR0_PG) && (cpu->msr.efer & EFER_LME)) {
		/* Activating IA-32e mode needs PAE, a CS without L and a TR
		 * that is not a 16-bit TSS (SDM Vol. 2B MOV CR exceptions). */
		unsigned tr_type = cpu->tr.attr & SEG_ATTR_TYPE;
		if (!(cpu->cr4 & CR4_PAE) || (cpu->seg[S_CS].attr & SEG_ATTR_L) || tr_type == 1 ||
		    tr_type == 3)
			cpu_gp(cpu, 0);
		lma = true;
	}
	if ((v & CR0_PG) && (cpu->cr4 & CR4_PAE) && !lma &&
	    ((v ^ old) & (CR0_PG | CR0_CD | CR0_NW)))
		load_pdptes(cpu, v, cpu->cr3, cpu->cr4);

	cpu->cr0 = v;
	if (lma)
		cpu->msr.efer |= EFER_LMA;
	else
		cpu->msr.efer &= ~EFER_LMA;
	if ((v ^ old) & CR0_TLB_BITS)
		cpu_tlb_flush_all(cpu);
	mode_changed(cpu);
}

uint64_t sys_cr4_model_mask(const struct cpu *cpu)
{
	const struct cpu_model *m = cpu->model;
	uint64_t ok = CR4_PCE;
	static const struct {
		uint16_t feat;
		uint32_t bits;
	} map[] = {
		{ FEAT_VME, CR4_VME | CR4_PVI },
		{ FEAT_TSC, CR4_TSD },
		{ FEAT_DE, CR4_DE },
		{ FEAT_PSE, CR4_PSE },
		{ FEAT_PAE, CR4_PAE },
		{ FEAT_MCE, CR4_MCE },
		{ FEAT_PGE, CR4_PGE },
		{ FEAT_FXSR, CR4_OSFXSR },
		{ FEAT_SSE, CR4_OSXMMEXCPT },
		{ FEAT_UMIP, CR4_UMIP },
		{ FEAT_LA57, CR4_LA57 },
		{ FEAT_VMX, CR4_VMXE },
		{ FEAT_FSGSBASE, CR4_FSGSBASE },
		{ FEAT_PCID, CR4_PCIDE },
		{ FEAT_XSAVE, CR4_OSXSAVE },
		{ FEAT_SMEP, CR4_SMEP },
		{ FEAT_SMAP, CR4_SMAP },
		{ FEAT_PKU, CR4_PKE },
		{ FEAT_PKS, CR4_PKS },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (model_has(m, map[i].feat))
			ok |= map[i].bits;
	return ok;
}

uint64_t sys_cr4_valid_mask(const struct cpu *cpu)
{
	uint64_t ok = sys_cr4_model_mask(cpu);
	if (cpu->guest_mode && cpu->virt)
		ok &= ~cpu->virt->cr4_deny;
	return ok;
}

void sys_write_cr4(struct cpu *cpu, uint64_t v)
{
	uint64_t old = cpu->cr4;
	bool lma = cpu->msr.efer & EFER_LMA;

	if (v & ~sys_cr4_valid_mask(cpu))
		cpu_gp(cpu, 0);
	if (!vmx_cr_write_ok(cpu, 4, v))
		cpu_gp(cpu, 0); /* IA32_VMX_CR4_FIXED0/1 (VMXE stays set) in VMX operation */
	if (lma && !(v & CR4_PAE))
		cpu_gp(cpu, 0); /* PAE is required in IA-32e mode */
	if (lma && ((v ^ old) & CR4_LA57))
		cpu_gp(cpu, 0); /* LA57 changes only outside IA-32e mode */
	/* PCIDE 0->1 only in IA-32e mode with CR3[11:0] = 0 (§4.10.1). */
	if ((v & CR4_PCIDE) && !(old & CR4_PCIDE) && (!lma || (cpu->cr3 & 0xfff)))
		cpu_gp(cpu, 0);
	if ((cpu->cr0 & CR0_PG) && (v & CR4_PAE) && !lma && ((v ^ old) & CR4_PDPTE_BITS))
		load_pdptes(cpu, cpu->cr0, cpu->cr3, v);

	cpu->cr4 = v;
	if ((v ^ old) & CR4_TLB_BITS)
		cpu_tlb_flush_all(cpu);
	mode_changed(cpu);
}

void sys_write_cr3(struct cpu *cpu, uint64_t v)
{
	bool lma = cpu->msr.efer & EFER_LMA;

	if (lma) {
		/* Bits above MAXPHYADDR are reserved; with PCIDE, bit 63 asks
		 * not to invalidate the new PCID's entries and is not stored
		 * (§4.10.4.1). */
		uint64_t rsvd = ~0ull << cpu->model->phys_addr_bits;
		if (cpu->cr4 & CR4_PCIDE)
			rsvd &= ~(1ull << 63);
		if (v & rsvd)
			cpu_gp(cpu, 0);
		v &= ~(1ull << 63);
	} else {
		v = (uint32_t)v;
		if ((cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE))
			load_pdptes(cpu, cpu->cr0, v, cpu->cr4);
	}
	cpu->cr3 = v;
	/* Our soft TLB is not tagged by PCID, so every CR3 load flushes it,
	 * the no-flush hint included (flushing more is always correct). */
	cpu_tlb_flush_all(cpu);
	cpu->pending |= PEND_MODE;
}

void sys_write_cr8(struct cpu *cpu, uint64_t v)
{
	if (v & ~0xfull)
		cpu_gp(cpu, 0); /* CR8[63:4] reserved */
	cpu->cr8 = v;
	/* A lower TPR may unmask a pending interrupt. */
	if (cpu->irq_pending && cpu->irq_pending(cpu))
		cpu->pending |= PEND_IRQ;
}

/* ---- MOV CR ---- */

/* The control register named by ModRM.reg (REX.R applied); LOCK MOV CR0
 * means CR8 on AMD parts with CR8_LEGACY (APM Vol. 3 "MOV CRn"). #UD for a
 * register that does not exist. */
static int cr_index(struct cpu *cpu, const struct insn *in)
{
	int cr = in->reg;
	if (in->pfx & PFX_LOCK) {
		if (cr != 0 || !model_has(cpu->model, FEAT_CR8_LEGACY))
			cpu_ud(cpu);
		cr = 8;
	}
	if (cr != 0 && cr != 2 && cr != 3 && cr != 4 && cr != 8)
		cpu_ud(cpu);
	return cr;
}

static void op_mov_r_cr(struct cpu *cpu, const struct insn *in)
{
	int cr = cr_index(cpu, in);
	uint64_t v;
	sys_need_cpl0(cpu);
	switch (cr) {
	case 0:
		v = cpu->cr0;
		break;
	case 2:
		v = cpu->cr2;
		break;
	case 3:
		v = cpu->cr3;
		break;
	case 4:
		v = cpu->cr4;
		break;
	default:
		v = cpu->cr8;
		break;
	}
	/* In guest mode the intercept may exit (CR3/CR8-store exiting) or
	 * return the read shadow's bits (CR0/CR4, SDM Vol. 3C §26.3). */
	if (__builtin_expect((cpu->icpt & ICPT_BIT(ICPT_CR_READ)) != 0, 0)) {
		struct icpt_info info = {
			.insn = in, .index = (uint32_t)cr, .value = v, .reg = (uint8_t)in->rm
		};
		cpu->virt->intercept(cpu, ICPT_CR_READ, &info);
		v = info.value;
	}
	/* The operand is always a register, 64-bit in 64-bit mode, else 32. */
	if (mode64(cpu))
		cpu->gpr[in->rm] = v;
	else
		reg32_set(cpu, in->rm, (uint32_t)v);
}

static void op_mov_cr_r(struct cpu *cpu, const struct insn *in)
{
	int cr = cr_index(cpu, in);
	sys_need_cpl0(cpu);
	uint64_t v = mode64(cpu) ? cpu->gpr[in->rm] : (uint32_t)cpu->gpr[in->rm];
	/* In guest mode the intercept may exit, or return v with the bits the
	 * hypervisor owns kept at their current values (CR0/CR4 guest/host
	 * masks, SDM Vol. 3C §26.3). */
	if (__builtin_expect((cpu->icpt & ICPT_BIT(ICPT_CR_WRITE)) != 0, 0)) {
		struct icpt_info info = {
			.insn = in, .index = (uint32_t)cr, .value = v, .reg = (uint8_t)in->rm
		};
		cpu->virt->intercept(cpu, ICPT_CR_WRITE, &info);
		v = info.value;
	}
	switch (cr) {
	case 0:
		sys_write_cr0(cpu, v);
		break;
	case 2:
		cpu->cr2 = v;
		break;
	case 3:
		sys_write_cr3(cpu, v);
		break;
	case 4:
		sys_write_cr4(cpu, v);
		break;
	default:
		sys_write_cr8(cpu, v);
		break;
	}
}

/* ---- MOV DR (SDM Vol. 2B "MOV—Move to/from Debug Registers") ---- */

static int dr_index(struct cpu *cpu, const struct insn *in, bool read)
{
	int dr = in->reg;
	if (dr > 7)
		cpu_ud(cpu);
	sys_need_cpl0(cpu);
	if (dr == 4 || dr == 5) {
		if (cpu->cr4 & CR4_DE)
			cpu_ud(cpu);
	}
	/* MOV-DR exiting comes before the general-detect #DB. */
	struct icpt_info info = {
		.insn = in, .index = (uint32_t)dr, .reg = (uint8_t)in->rm, .in = read
	};
	VIRT_ICPT(cpu, ICPT_DR, &info);
	if (dr == 4 || dr == 5)
		dr += 2; /* aliases of DR6/DR7 */
	if (cpu->dr[7] & DR7_GD) {
		/* General detect: a fault before the access; the processor
		 * clears GD so the handler can use the registers (§17.2.4). */
		dbg_fault_dr6(cpu, DR6_B_MASK, DR6_BD);
		cpu->dr[7] &= ~DR7_GD;
		cpu_exception(cpu, EXC_DB, NO_ERRCODE);
	}
	return dr;
}

static void op_mov_r_dr(struct cpu *cpu, const struct insn *in)
{
	int dr = dr_index(cpu, in, true);
	uint64_t v = cpu->dr[dr];
	if (mode64(cpu))
		cpu->gpr[in->rm] = v;
	else
		reg32_set(cpu, in->rm, (uint32_t)v);
}

static void op_mov_dr_r(struct cpu *cpu, const struct insn *in)
{
	int dr = dr_index(cpu, in, false);
	uint64_t v = cpu->gpr[in->rm];
	if (mode64(cpu)) {
		if ((dr == 6 || dr == 7) && (v >> 32))
			cpu_gp(cpu, 0); /* DR6/DR7[63:32] must be zero */
	} else {
		v = (uint32_t)v;
	}
	if (dr == 6) {
		cpu->dr[6] = (v & DR6_WRITABLE) | DR6_FIXED1;
	} else if (dr == 7) {
		cpu->dr[7] = (v & ~DR7_RSVD0) | DR7_FIXED1;
		if (dbg_armed(cpu) || (v & DR7_GD))
			cpu->pending |= PEND_DEBUG;
	} else {
		cpu->dr[dr] = v;
	}
	cpu->pending |= PEND_MODE; /* breakpoints may have changed */
}

/* ---- CLTS, LMSW, SMSW ---- */

static void op_clts(struct cpu *cpu, const struct insn *in)
{
	sys_need_cpl0(cpu);
	/* Guest mode: value 1 = "CLTS clears TS"; the intercept exits or may
	 * clear it to 0 when the hypervisor owns TS (SDM Vol. 3C §26.3). */
	struct icpt_info info = { .insn = in, .value = 1 };
	VIRT_ICPT(cpu, ICPT_CLTS, &info);
	if (info.value)
		cpu->cr0 &= ~CR0_TS;
}

/* LMSW loads CR0[3:0]; it can set PE but never clear it. */
static void op_lmsw(struct cpu *cpu, const struct insn *in)
{
	sys_need_cpl0(cpu);
	uint64_t msw = rm_read(cpu, in, 2);
	/* Guest mode: the intercept exits, or returns the source with the
	 * hypervisor-owned bits replaced by CR0's (SDM Vol. 3C §26.3). */
	if (__builtin_expect((cpu->icpt & ICPT_BIT(ICPT_LMSW)) != 0, 0)) {
		struct icpt_info info = { .insn = in, .value = msw, .reg = (uint8_t)in->rm };
		if (in->mod != 3)
			info.lin = cpu->seg[in->seg].base + insn_ea(cpu, in);
		cpu->virt->intercept(cpu, ICPT_LMSW, &info);
		msw = info.value;
	}
	msw &= 0xf;
	msw |= cpu->cr0 & CR0_PE;
	sys_write_cr0(cpu, (cpu->cr0 & ~0xfull) | msw);
}

static void op_smsw(struct cpu *cpu, const struct insn *in)
{
	if ((cpu->cr4 & CR4_UMIP) && cpu->cpl > 0)
		cpu_gp(cpu, 0);
	uint64_t v = cpu->cr0;
	if (__builtin_expect((cpu->icpt & ICPT_BIT(ICPT_CR_READ)) != 0, 0)) {
		/* SMSW reads CR0 through the read shadow; it never exits (index
		 * 0x100 marks SMSW for the intercept). */
		struct icpt_info info = { .insn = in, .index = 0x100, .value = v };
		cpu->virt->intercept(cpu, ICPT_CR_READ, &info);
		v = info.value;
	}
	if (in->mod == 3)
		reg_set(cpu, in->rm, in->osz, v); /* 32/64-bit: all of CR0 */
	else
		rm_write(cpu, in, 2, v & 0xffff);
}

/* ---- TLB management ---- */

/* Linear address of the memory operand without segment checks (INVLPG
 * never faults on its operand). */
static uint64_t operand_lin(const struct cpu *cpu, const struct insn *in)
{
	uint64_t ea = insn_ea(cpu, in);
	if (mode64(cpu)) {
		if (in->seg == S_FS || in->seg == S_GS)
			ea += cpu->seg[in->seg].base;
		return ea;
	}
	return (uint32_t)(cpu->seg[in->seg].base + ea);
}

static void op_invlpg(struct cpu *cpu, const struct insn *in)
{
	sys_need_cpl0(cpu);
	uint64_t lin = operand_lin(cpu, in);
	struct icpt_info info = { .insn = in, .lin = lin };
	VIRT_ICPT(cpu, ICPT_INVLPG, &info);
	/* A non-canonical address makes INVLPG a no-op. */
	if (!mode64(cpu) || cpu_canonical(cpu, lin))
		cpu_tlb_flush_page(cpu, lin);
}

/* INVPCID type, [desc] (SDM Vol. 2A "INVPCID"). Types: 0 individual
 * address, 1 single context, 2 all contexts incl. globals, 3 all contexts
 * except globals. Without PCID tags in our TLB, types 1-3 flush all. */
static void op_invpcid(struct cpu *cpu, const struct insn *in)
{
	if (cpu->mode == MODE_V86)
		cpu_ud(cpu);
	sys_need_cpl0(cpu);
	/* Guest mode: #UD without "enable INVPCID", exit with INVLPG exiting. */
	struct icpt_info info = { .insn = in };
	VIRT_ICPT(cpu, ICPT_INVPCID, &info);
	uint64_t type = mode64(cpu) ? cpu->gpr[in->reg] : (uint32_t)cpu->gpr[in->reg];
	if (type > 3)
		cpu_gp(cpu, 0);
	uint64_t desc[2];
	cpu_rdn(cpu, in->seg, insn_ea(cpu, in), desc, 16);
	uint64_t pcid = desc[0] & 0xfff;
	if (desc[0] >> 12)
		cpu_gp(cpu, 0); /* descriptor bits 63:12 are reserved */
	if (type <= 1 && pcid && !(cpu->cr4 & CR4_PCIDE))
		cpu_gp(cpu, 0);
	if (type == 0) {
		if (!cpu_canonical(cpu, desc[1]))
			cpu_gp(cpu, 0);
		cpu_tlb_flush_page(cpu, desc[1]);
	} else {
		cpu_tlb_flush_all(cpu);
	}
}

/* ---- XGETBV / XSETBV (SDM Vol. 2C) ---- */

static void op_xgetbv(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->cr4 & CR4_OSXSAVE))
		cpu_ud(cpu);
	uint32_t idx = (uint32_t)cpu->gpr[R_CX];
	uint64_t v;
	if (idx == 0)
		v = cpu->xcr0;
	else if (idx == 1 && model_has(cpu->model, FEAT_XGETBV1))
		v = cpu->xcr0; /* XINUSE: 1 is always a permitted answer */
	else
		cpu_gp(cpu, 0);
	reg32_set(cpu, R_AX, (uint32_t)v);
	reg32_set(cpu, R_DX, (uint32_t)(v >> 32));
}

static void op_xsetbv(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->cr4 & CR4_OSXSAVE))
		cpu_ud(cpu);
	sys_need_cpl0(cpu);
	struct icpt_info info = { .insn = in, .index = (uint32_t)cpu->gpr[R_CX] };
	VIRT_ICPT(cpu, ICPT_XSETBV, &info);
	uint64_t v = (cpu->gpr[R_DX] << 32) | (uint32_t)cpu->gpr[R_AX];
	if ((uint32_t)cpu->gpr[R_CX] != 0)
		cpu_gp(cpu, 0);
	/* x87 state must stay enabled; only supported components. */
	if (!(v & XCR0_X87) || (v & ~model_xcr0_supported(cpu->model)))
		cpu_gp(cpu, 0);
	cpu->xcr0 = v;
}

/* ---- RDPKRU / WRPKRU (SDM Vol. 2B; protection keys, Vol. 3 §4.6.2) ---- */

/* NP 0F 01 EE: EAX = PKRU, EDX = 0. #UD unless CR4.PKE (the decoder gives
 * #UD without CPUID.PKU or with a LOCK/66/F2/F3 prefix), #GP(0) if ECX != 0. */
static void op_rdpkru(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->cr4 & CR4_PKE))
		cpu_ud(cpu);
	if ((uint32_t)cpu->gpr[R_CX])
		cpu_gp(cpu, 0);
	reg32_set(cpu, R_AX, cpu->pkru);
	reg32_set(cpu, R_DX, 0);
}

/* NP 0F 01 EF: PKRU = EAX; #GP(0) if ECX or EDX != 0. */
static void op_wrpkru(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->cr4 & CR4_PKE))
		cpu_ud(cpu);
	if ((uint32_t)cpu->gpr[R_CX] || (uint32_t)cpu->gpr[R_DX])
		cpu_gp(cpu, 0);
	cpu_set_pkru(cpu, (uint32_t)cpu->gpr[R_AX]);
}

#define A    OPT_ANY
#define MODA OPT_MOD_ANY
#define END  OPF_ENDS_BLOCK

static const struct optab_entry cr_ops[] = {
	/* op    mp  reg rm mod vex w flags feat fn name */
	{ 0x120, A, A, A, MODA, 0, A, OPF_LOCKABLE, 0, op_mov_r_cr, "mov" },
	{ 0x122, A, A, A, MODA, 0, A, OPF_LOCKABLE | END, 0, op_mov_cr_r, "mov" },
	{ 0x121, A, A, A, MODA, 0, A, 0, 0, op_mov_r_dr, "mov" },
	{ 0x123, A, A, A, MODA, 0, A, END, 0, op_mov_dr_r, "mov" },
	{ 0x106, A, A, A, MODA, 0, A, 0, 0, op_clts, "clts" },
	{ 0x101, A, 4, A, MODA, 0, A, 0, 0, op_smsw, "smsw" },
	{ 0x101, A, 6, A, MODA, 0, A, END, 0, op_lmsw, "lmsw" },
	{ 0x101, A, 7, A, OPT_MOD_MEM, 0, A, END, 0, op_invlpg, "invlpg" },
	{ 0x101, A, 2, 0, OPT_MOD_REG, 0, A, 0, FEAT_XSAVE, op_xgetbv, "xgetbv" },
	{ 0x101, A, 2, 1, OPT_MOD_REG, 0, A, END, FEAT_XSAVE, op_xsetbv, "xsetbv" },
	{ 0x101, MP_NONE, 5, 6, OPT_MOD_REG, 0, A, 0, FEAT_PKU, op_rdpkru, "rdpkru" },
	{ 0x101, MP_NONE, 5, 7, OPT_MOD_REG, 0, A, 0, FEAT_PKU, op_wrpkru, "wrpkru" },
	{ 0x282, MP_66, A, A, OPT_MOD_MEM, 0, A, END, FEAT_INVPCID, op_invpcid, "invpcid" },
};

void ops_sys_cr_register(void)
{
	optab_add_many(cr_ops, (int)(sizeof(cr_ops) / sizeof(cr_ops[0])));
}
