/*
 * cpu/cpu.h — architectural state of one x86-64 vCPU and the entry points of
 * the CPU core.
 *
 * One struct cpu per vCPU; it belongs to a struct machine (machine.h) and
 * reaches guest memory only through the mmu (mmu/mmu.h) and cpu/access.h.
 * There is no global mutable state: several machines may live in one process.
 *
 * Conventions every handler relies on:
 *  - cpu->rip already points at the NEXT instruction when a handler runs; the
 *    start of the current instruction is cpu->ip_start (faults restore it).
 *  - Arithmetic flags are lazy (cpu/flags.h); cpu->rflags holds only the
 *    non-arithmetic bits (TF, IF, DF, IOPL, NT, RF, VM, AC, VIF, VIP, ID) plus
 *    the reserved bit 1. Use flags_get()/flags_set() for the full value.
 *  - A fault leaves the handler through cpu_exception() (longjmp); handlers do
 *    every access that may fault before they change architectural state.
 */
#ifndef NESTBOX_CPU_CPU_H
#define NESTBOX_CPU_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;
struct mmu;
struct insn;
struct block_cache;

/* General-purpose register numbers (ModRM/REX encoding order). */
enum {
	R_AX,
	R_CX,
	R_DX,
	R_BX,
	R_SP,
	R_BP,
	R_SI,
	R_DI,
	R_R8,
	R_R9,
	R_R10,
	R_R11,
	R_R12,
	R_R13,
	R_R14,
	R_R15,
	R_NONE = 0xff
};

/* Segment register numbers (encoding order of Sreg in ModRM.reg). */
enum {
	S_ES,
	S_CS,
	S_SS,
	S_DS,
	S_FS,
	S_GS,
	S_NSEG,
	S_NONE = 0xff
};
/* Pseudo segments for descriptor-table registers (seg cache format). */
enum {
	S_LDTR = 6,
	S_TR = 7,
	S_GDTR = 8,
	S_IDTR = 9,
	S_ALL = 10
};

/*
 * Hidden part of a segment register. attr uses the VMX access-rights layout
 * (Intel SDM Vol. 3 Table 25-2), which VMX and SVM code convert directly:
 *
 *   bits 3:0  type        bit 4  S (1 = code/data)   bits 6:5  DPL
 *   bit  7    P           bit 12 AVL                 bit 13    L (64-bit code)
 *   bit  14   D/B         bit 15 G                   bit 16    unusable
 *
 * limit is the expanded byte limit (G already applied).
 */
struct seg {
	uint64_t base;
	uint32_t limit;
	uint32_t attr;
	uint16_t sel;
};

#define SEG_ATTR_TYPE      0x000f
#define SEG_ATTR_S         0x0010
#define SEG_ATTR_DPL_SHIFT 5
#define SEG_ATTR_P         0x0080
#define SEG_ATTR_AVL       0x1000
#define SEG_ATTR_L         0x2000
#define SEG_ATTR_DB        0x4000
#define SEG_ATTR_G         0x8000
#define SEG_ATTR_UNUSABLE  0x10000

/* RFLAGS bits. */
#define F_CF         (1u << 0)
#define F_FIXED1     (1u << 1)
#define F_PF         (1u << 2)
#define F_AF         (1u << 4)
#define F_ZF         (1u << 6)
#define F_SF         (1u << 7)
#define F_TF         (1u << 8)
#define F_IF         (1u << 9)
#define F_DF         (1u << 10)
#define F_OF         (1u << 11)
#define F_IOPL       (3u << 12)
#define F_IOPL_SHIFT 12
#define F_NT         (1u << 14)
#define F_RF         (1u << 16)
#define F_VM         (1u << 17)
#define F_AC         (1u << 18)
#define F_VIF        (1u << 19)
#define F_VIP        (1u << 20)
#define F_ID         (1u << 21)
#define F_ARITH      (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* Control register bits. */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_VME        (1ull << 0)
#define CR4_PVI        (1ull << 1)
#define CR4_TSD        (1ull << 2)
#define CR4_DE         (1ull << 3)
#define CR4_PSE        (1ull << 4)
#define CR4_PAE        (1ull << 5)
#define CR4_MCE        (1ull << 6)
#define CR4_PGE        (1ull << 7)
#define CR4_PCE        (1ull << 8)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_LA57       (1ull << 12)
#define CR4_VMXE       (1ull << 13)
#define CR4_SMXE       (1ull << 14)
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_PCIDE      (1ull << 17)
#define CR4_OSXSAVE    (1ull << 18)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)
#define CR4_PKE        (1ull << 22)
#define CR4_PKS        (1ull << 24)

#define EFER_SCE   (1ull << 0)
#define EFER_LME   (1ull << 8)
#define EFER_LMA   (1ull << 10)
#define EFER_NXE   (1ull << 11)
#define EFER_SVME  (1ull << 12)
#define EFER_FFXSR (1ull << 14)

/* CR0 / CR4 bits whose change alters translations (TLB flush). CR0.WP is
 * not one: the soft TLB never caches a write only WP = 0 allows
 * (cpu/access.c). */
#define CR0_TLB_BITS (CR0_PG | CR0_PE)
#define CR4_TLB_BITS                                                                         \
	(CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_PKS | \
	 CR4_LA57)

/* Exception vectors. */
enum {
	EXC_DE = 0,
	EXC_DB = 1,
	EXC_NMI = 2,
	EXC_BP = 3,
	EXC_OF = 4,
	EXC_BR = 5,
	EXC_UD = 6,
	EXC_NM = 7,
	EXC_DF = 8,
	EXC_TS = 10,
	EXC_NP = 11,
	EXC_SS = 12,
	EXC_GP = 13,
	EXC_PF = 14,
	EXC_MF = 16,
	EXC_AC = 17,
	EXC_MC = 18,
	EXC_XM = 19,
	EXC_VE = 20,
	EXC_CP = 21
};
/* Pass as errcode when the exception pushes no error code. */
#define NO_ERRCODE 0xffffffffu

/* Execution modes, recomputed by cpu_update_mode() after CR0/EFER/CS/RFLAGS.VM
 * changes. Decoding depends on mode and CS.D. */
enum cpu_mode {
	MODE_REAL,   /* CR0.PE = 0 */
	MODE_V86,    /* protected, RFLAGS.VM = 1 */
	MODE_PROT,   /* protected (legacy), 16- or 32-bit code per CS.D */
	MODE_COMPAT, /* long mode, CS.L = 0 */
	MODE_LONG64  /* long mode, CS.L = 1 */
};

/* x87 register as stored: 64-bit significand with explicit integer bit and a
 * 16-bit sign+exponent, exactly the FSAVE/FXSAVE memory image. MMX register i
 * aliases fpr[i].mant (physical register i, not ST(i)). */
struct fpreg {
	uint64_t mant;
	uint16_t sexp;
};

union xmm {
	uint8_t b[16];
	int8_t sb[16];
	uint16_t w[8];
	int16_t sw[8];
	uint32_t d[4];
	int32_t sd[4];
	uint64_t q[2];
	int64_t sq[2];
	float f[4];
	double df[2];
};

struct fpu_state {
	struct fpreg fpr[8]; /* physical registers R0..R7 */
	uint16_t fcw;        /* control word */
	uint16_t fsw;        /* status word, TOP in bits 13:11 */
	uint16_t ftw;        /* full tag word, 2 bits per physical register */
	uint16_t fop;        /* last opcode (11 bits) */
	uint64_t fip, fdp;   /* last instruction / data pointer (offsets) */
	uint16_t fcs, fds;   /* their selectors */
	uint32_t mxcsr;
	union xmm xmm[16];
};

/* Lazy arithmetic flags (see cpu/flags.h for the meaning of op). */
struct lazy_flags {
	uint64_t res;
	uint64_t src1;
	uint64_t src2;
	uint32_t op;
};

/* Model-specific registers the core keeps in struct cpu (the rest live in
 * their owners, e.g. the LAPIC, or in msr_other). */
struct cpu_msrs {
	uint64_t efer;
	uint64_t star, lstar, cstar, sfmask;
	uint64_t kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t tsc_offset; /* TSC = clock-derived value + tsc_offset (WRMSR TSC) */
	uint64_t tsc_aux;
	uint64_t pat;
	uint64_t mtrr_cap, mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
	uint64_t apic_base;
	uint64_t misc_enable;
	uint64_t feature_control;
	uint64_t spec_ctrl;
	uint64_t xss;
	uint64_t debugctl;
	/* Last branch record with DEBUGCTL.LBR (MSRs 1DBh-1DEh, read-only):
	 * source and target of the last taken branch (cpu/exec.c) and of the
	 * last exception or interrupt. */
	uint64_t lbr_from, lbr_to, ler_from, ler_to;
	uint64_t mcg_status, mcg_cap;
	uint64_t vm_hsave_pa, vm_cr; /* AMD SVM */
	uint64_t svm_key;            /* SVM-Lock key (write-only MSR) */
	uint64_t tsc_ratio;          /* AMD TSC_RATIO: guest TSC scale (cpu/tsc.h) */
	uint64_t tsc_adjust;
	uint64_t smbase;
	uint64_t amd_perf[8]; /* AMD legacy PerfEvtSel0-3, PerfCtr0-3 (C001_0000h-7h) */
	uint64_t pkrs;        /* IA32_PKRS (6E1h): supervisor protection keys */
	uint64_t mc[16];      /* IA32_MCi_CTL/STATUS/ADDR/MISC, 4 banks (cpu/msr.c) */
};

/* CPU model: vendor, CPUID leaves and feature bits (cpu/cpuid.c). */
struct cpu_model;

/* Bits of cpu->pending (checked by the execution loop at block boundaries). */
#define PEND_IRQ      (1u << 0) /* an interrupt controller may have something */
#define PEND_NMI      (1u << 1)
#define PEND_INIT     (1u << 2)
#define PEND_SIPI     (1u << 3)
#define PEND_SMI      (1u << 4)
#define PEND_EXIT     (1u << 5) /* leave cpu_run (machine stop, reset, timer) */
#define PEND_TLBFLUSH (1u << 6)
#define PEND_MODE     (1u << 7) /* re-derive mode / TLB permission state */
#define PEND_DEBUG    (1u << 8) /* single-step / breakpoints armed */
#define PEND_VIRT     (1u << 9) /* guest-mode pending work (cpu/virt.h) */

/* Interrupt-shadow states (STI, MOV SS / POP SS). */
#define SHADOW_STI   1u
#define SHADOW_MOVSS 2u

struct soft_tlb; /* mmu/tlb.h */
struct tlb_tag;  /* mmu/tlb.h */
struct virt_ops; /* cpu/virt.h */

struct cpu {
	/* --- hot state first --- */
	uint64_t gpr[16];
	uint64_t rip;      /* next instruction while a handler runs */
	uint64_t ip_start; /* current instruction (for faults) */
	struct lazy_flags lf;
	uint64_t rflags; /* non-arithmetic bits (see above) */
	struct seg seg[S_NSEG];
	struct seg ldtr, tr;
	struct {
		uint64_t base;
		uint32_t limit;
	} gdtr, idtr;
	uint8_t cpl;
	uint8_t mode;         /* enum cpu_mode */
	uint8_t code32;       /* CS.D in PROT/COMPAT; 0 in real/v86 */
	uint8_t addr_mask_ip; /* unused pad: keep struct compact */
	uint32_t pending;     /* PEND_* bits; nonzero sends the loop to its slow path */

	uint64_t cr0, cr2, cr3, cr4, cr8;
	/* PAE PDPTE registers, loaded by MOV CR3 / paging-mode changes in PAE
	 * mode outside long mode (SDM Vol. 3 §4.4.1). */
	uint64_t pdpte[4];
	bool pdpte_valid;
	/* Address mask applied to physical addresses with paging off and to
	 * every physical address: clears bit 20 while the A20 gate is closed. */
	uint64_t a20_mask;
	uint64_t xcr0;
	/* Protection-key rights for user pages (SDM Vol. 3 §4.6.2): AD/WD bit
	 * pairs per key; XSAVE state component 9. Changing it flushes the TLB
	 * (entries cache rights checked under the old value). */
	uint32_t pkru;
	uint64_t dr[8]; /* DR0-3, DR6 (index 6), DR7 (index 7); 4/5 alias */

	struct cpu_msrs msr;
	struct fpu_state fpu;

	/* Instruction-counted time: retired instructions since reset. */
	uint64_t icount;
	/* This vCPU's clock in ns is icount + clock_offset (devices/clock.h):
	 * the offset grows when halted time is skipped. */
	int64_t clock_offset;
	/* Stop cpu_run when icount reaches this (set by cpu_run). */
	uint64_t icount_limit;
	/* PAUSE spin detection (cpu/ops_data.c): icount of the last PAUSE and
	 * how many PAUSEs in a row came close together since the last yield. */
	uint64_t pause_last;
	uint32_t pause_streak;

	/* Interrupt state. */
	uint8_t shadow;      /* SHADOW_* for the instruction after STI/MOV SS */
	uint8_t halted;      /* activity state: 0 running, 1 HLT, 2 wait-for-SIPI
				(after INIT on an AP; only a SIPI wakes it),
				3 shutdown (a VMX guest's activity state: only
				NMI and INIT are recognized) */
	uint8_t sipi_vector; /* vector of the pending SIPI (PEND_SIPI) */
	bool monitor_armed;  /* MONITOR armed, no MWAIT since (cpu/ops_sys.c) */
	/* Debug registers armed: instructions run one at a time and every data
	 * access takes the slow path, which collects DR6 B-bits in dbg_hits. */
	bool dbg_data;
	uint8_t dbg_hits;
	/* A #DB whose DR6 bits are written before its delivery (instruction
	 * breakpoint, general detect, task-switch trap: dbg_fault_dr6 in
	 * cpu/debug.h): DR6 before and the bits set (0: none), so a VMX #DB
	 * exit can leave DR6 unchanged (SDM Vol. 3C §28.1). */
	uint64_t dbg_dr6_before;
	uint32_t dbg_dr6_new;
	uint8_t nmi_blocked; /* NMI handler running (until IRET) */
	uint8_t in_smm;
	/* icount of the instruction right after the last MOV SS / POP SS: it
	 * runs with blocking by MOV SS (VMLAUNCH/VMRESUME then fail with VMX
	 * error 26, SDM Vol. 3C §31.4), which cpu->shadow no longer shows once
	 * its handler runs. */
	uint64_t movss_icount;

	/* Exception in flight (set by cpu_exception before longjmp). */
	int exc_vector;
	uint32_t exc_errcode;
	int delivering; /* vector being delivered, -1 if none (#DF logic) */
	/* The event cpu_deliver_event is delivering (any kind) and the one it
	 * interrupted, for IDT-vectoring information when delivery exits. */
	struct cpu_event {
		int vector;
		int kind; /* enum event_kind */
		uint32_t errcode;
		bool valid;
	} event, event_prev;
	/* Linear address of the #PF being raised: CR2 is written only when the
	 * #PF is delivered, not when a hypervisor intercepts it. */
	uint64_t pf_addr;
	bool shutdown; /* triple fault happened */

	jmp_buf *exc_jmp; /* where cpu_exception longjmps */

	/* Hardware-assisted virtualization (cpu/virt.h): guest_mode is VMX
	 * non-root operation or an SVM guest; icpt has a bit per intercept
	 * reason the current controls may turn into an exit (0 outside guest
	 * mode); virt is the architecture's operations; vmx/svm hold their
	 * state (vmx/, svm/). */
	bool guest_mode;
	uint64_t icpt;
	const struct virt_ops *virt;
	void *vmx;
	void *svm;
	/* Added to the TSC the guest reads while guest_mode (VMX TSC offset,
	 * SVM TSC_OFFSET); 0 outside guest mode (cpu/tsc.h). */
	uint64_t virt_tsc_offset;
	/* Guest TSC scale while guest_mode (cpu/tsc.h): virt_tsc_ratio with
	 * virt_tsc_frac fraction bits, 0 meaning 32 (SVM TSC_RATIO, 8.32;
	 * VMX TSC multiplier, 16.48, sets 48). Ratio 0 with frac 0: none. */
	uint64_t virt_tsc_ratio;
	uint8_t virt_tsc_frac;

	/* Owners. */
	struct machine *machine;
	struct mmu *mmu;
	/* The active soft TLB: one of tlbs[0..TLB_NSETS] (cpu/tlb_sets.c). */
	struct soft_tlb *tlb;
	struct soft_tlb *tlbs;
	uint64_t tlb_clock;
	struct block_cache *bcache;
	/* Jump cache: linear RIP → decoded block, valid while jc_epoch is
	 * unchanged (bumped by TLB flushes, mode changes, block retirement). */
	struct jc_entry *jcache;
	uint64_t jc_epoch;
	/* Pages (a hash of lin >> 12 into 4096 bits) that hold jump-cache
	 * entries made under jc_pages_epoch: INVLPG of another page leaves
	 * the jump cache alone (cpu/tlb_sets.c). */
	uint64_t jc_pages[64];
	uint64_t jc_pages_epoch;
	const struct cpu_model *model;
	int index; /* vCPU number (APIC ID) */

	/* Hooks for devices that sit inside the CPU (LAPIC), set by the board. */
	void *apic;
	/* Return the vector of the highest-priority pending external interrupt
	 * and acknowledge it, or -1 if none (called when IF=1 and no shadow). */
	int (*irq_ack)(struct cpu *cpu);
	/* Is an external interrupt pending (without acknowledging)? */
	bool (*irq_pending)(struct cpu *cpu);
	/* LAPIC hooks: x2APIC MSRs 800h-8FFh and IA32_TSC_DEADLINE (6E0h) are
	 * forwarded here (false = #GP(0)); apic_base_changed runs after a
	 * successful IA32_APIC_BASE write (enable / x2APIC / base moves). */
	bool (*apic_msr_read)(struct cpu *cpu, uint32_t idx, uint64_t *val);
	bool (*apic_msr_write)(struct cpu *cpu, uint32_t idx, uint64_t val);
	void (*apic_base_changed)(struct cpu *cpu, uint64_t old);
	/* Handles PEND_INIT / PEND_SIPI when set (the LAPIC resets itself on
	 * INIT too); without it the loop does the CPU part alone. */
	void (*init_sipi)(struct cpu *cpu);
	/* FERR# / IGNNE# (x87 errors reported the PC/AT way while CR0.NE = 0,
	 * SDM Vol. 1 Appendix D; cpu/x87/x87_core.c): the x87 unit drives
	 * FERR# (asserted while an unmasked exception is pending, FSW.ES) and
	 * reads IGNNE#, the return value. NULL when the board wires neither:
	 * pending errors are then ignored as with NE = 0 before. */
	bool (*ferr)(struct cpu *cpu, bool asserted);
};

/* This vCPU's virtual time in ns (see devices/clock.h). */
static inline uint64_t cpu_clock_ns(const struct cpu *c)
{
	return c->icount + (uint64_t)c->clock_offset;
}

/* Access the low parts of a GPR. Byte registers 4-7 without REX are AH..BH;
 * handlers use reg8_get/reg8_set with the REX flag from the decoded insn. */
static inline uint8_t reg8_get(const struct cpu *c, int r, bool rex)
{
	if (!rex && r >= 4 && r < 8)
		return (uint8_t)(c->gpr[r - 4] >> 8);
	return (uint8_t)c->gpr[r];
}
static inline void reg8_set(struct cpu *c, int r, bool rex, uint8_t v)
{
	if (!rex && r >= 4 && r < 8)
		c->gpr[r - 4] = (c->gpr[r - 4] & ~0xff00ull) | ((uint64_t)v << 8);
	else
		c->gpr[r] = (c->gpr[r] & ~0xffull) | v;
}
static inline uint16_t reg16_get(const struct cpu *c, int r)
{
	return (uint16_t)c->gpr[r];
}
static inline void reg16_set(struct cpu *c, int r, uint16_t v)
{
	c->gpr[r] = (c->gpr[r] & ~0xffffull) | v;
}
/* 32-bit writes zero-extend to 64 bits (in every mode; the upper half is
 * invisible outside long mode). */
static inline void reg32_set(struct cpu *c, int r, uint32_t v)
{
	c->gpr[r] = v;
}
/* Read/write a GPR with operand size osz in bytes (2, 4 or 8). */
static inline uint64_t reg_get(const struct cpu *c, int r, int osz)
{
	switch (osz) {
	case 2:
		return (uint16_t)c->gpr[r];
	case 4:
		return (uint32_t)c->gpr[r];
	default:
		return c->gpr[r];
	}
}
static inline void reg_set(struct cpu *c, int r, int osz, uint64_t v)
{
	switch (osz) {
	case 2:
		reg16_set(c, r, (uint16_t)v);
		break;
	case 4:
		c->gpr[r] = (uint32_t)v;
		break;
	default:
		c->gpr[r] = v;
	}
}

/* ---- core entry points (cpu/exec.c, cpu/cpu.c) ---- */

/* Allocate a vCPU for machine m with the given model. */
struct cpu *cpu_new(struct machine *m, struct mmu *mmu, const struct cpu_model *model, int index);
void cpu_free(struct cpu *cpu);
/* Power-on / RESET state (SDM Vol. 3 Table 10-1); INIT keeps x87/SSE/MSRs. */
void cpu_reset(struct cpu *cpu, bool init_only);

/* Why cpu_run returned. */
enum cpu_stop {
	STOP_ICOUNT,  /* instruction budget used up */
	STOP_HALT,    /* HLT with nothing pending */
	STOP_PENDING, /* PEND_EXIT was raised */
	STOP_SHUTDOWN /* triple fault */
};
/* Run until icount advances by up to n instructions or something stops it. */
enum cpu_stop cpu_run(struct cpu *cpu, uint64_t n);

/* Raise an exception from inside a handler or access: never returns. */
_Noreturn void cpu_exception(struct cpu *cpu, int vector, uint32_t errcode);
/* Shorthands. */
_Noreturn void cpu_gp(struct cpu *cpu, uint32_t errcode);
_Noreturn void cpu_ud(struct cpu *cpu);

/* Recompute cpu->mode, code32 and decode-relevant state after CR0, EFER,
 * CS or RFLAGS.VM changes. Cheap; call whenever in doubt. */
void cpu_update_mode(struct cpu *cpu);

/* Deliver an interrupt or exception through the IDT/IVT now (cpu/intr.c).
 * kind says how the event arose (affects privilege checks, error code, RF and
 * which RIP is pushed). Used by the loop for faults and by INT n / INT3 /
 * INTO / external interrupts / NMI. May itself raise nested faults. */
enum event_kind {
	EV_EXCEPTION,
	EV_EXTINT,
	EV_NMI,
	EV_SOFTINT,
	EV_SOFTEXC,
	EV_PRIVSW
};
void cpu_deliver_event(struct cpu *cpu, int vector, enum event_kind kind, uint32_t errcode);

/* Flush decoded-instruction blocks (e.g. after mode changes that alter
 * decoding are handled by keys; this drops everything). */
void cpu_flush_code(struct cpu *cpu);

/* Linear→host TLB flush of the current translation context (the active
 * set): everything (CR3 write without PCID, CR0/CR4 paging changes) or one
 * page (INVLPG). */
void cpu_tlb_flush_all(struct cpu *cpu);
void cpu_tlb_flush_page(struct cpu *cpu, uint64_t lin);

/* Tagged soft TLB sets (cpu/tlb_sets.c). TLB_NSETS sets keep translation
 * contexts; one more (the transit set) takes what a VM transition caches
 * between cpu_tlb_leave and cpu_tlb_select. */
#define TLB_NSETS 4
#define TLB_ANY   (~0ull)
bool cpu_tlb_init(struct cpu *cpu);
/* Every set, every context: physical map or A20 changes, reset. */
void cpu_tlb_flush_every(struct cpu *cpu);
/* Start of a VM transition: the active set keeps what it holds (stamped
 * with the state it was made under) and the transit set takes over. */
void cpu_tlb_leave(struct cpu *cpu);
/* End of a VM transition, with the new context's state loaded: make the
 * set tagged tag active (reusing the least recently used set for a new
 * tag); its entries are dropped if the state differs from their stamp. */
void cpu_tlb_select(struct cpu *cpu, const struct tlb_tag *tag);
/* INVVPID / INVEPT / INVLPGA / TLB_CONTROL: flush guest sets (guest = 1,
 * or the host set with guest = 0) whose id and root match (TLB_ANY: any
 * value; root compares bits 51:12), the page lin or all (lin = TLB_ANY). */
void cpu_tlb_flush_tagged(struct cpu *cpu, int guest, uint64_t id, uint64_t root, uint64_t lin);
/* A page now holds code: drop write entries to it from every set. */
void cpu_tlb_flush_writes_to(struct cpu *cpu, uint64_t gpa_page);

/* Write PKRU / IA32_PKRS (WRPKRU, XRSTOR, WRMSR, VM transitions): soft-TLB
 * entries hold rights checked under the old keys, so a change flushes. */
static inline void cpu_set_pkru(struct cpu *cpu, uint32_t v)
{
	if (v != cpu->pkru) {
		cpu->pkru = v;
		cpu_tlb_flush_all(cpu);
	}
}
static inline void cpu_set_pkrs(struct cpu *cpu, uint64_t v)
{
	if (v != cpu->msr.pkrs) {
		cpu->msr.pkrs = v;
		cpu_tlb_flush_all(cpu);
	}
}

#endif
