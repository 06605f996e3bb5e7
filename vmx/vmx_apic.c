/*
 * vmx/vmx_apic.c — APIC virtualization in VMX non-root operation (Intel SDM
 * Vol. 3C ch. 30 "APIC Virtualization and Virtual Interrupts"):
 *
 *   use TPR shadow            MOV CR8 reads/writes VTPR in the virtual-APIC
 *                             page; TPR-below-threshold exits (§30.1.2)
 *   virtualize APIC accesses  linear accesses to the APIC-access page are
 *                             virtualized or cause APIC-access exits (§30.4);
 *                             the access layer routes them here through
 *                             virt_ops.apic_page / apic_access (cpu/virt.h)
 *   virtualize x2APIC mode    RDMSR/WRMSR of 800H-8FFH (§30.5)
 *   APIC-register virt.       reads from the virtual-APIC page, writes
 *                             followed by APIC-write exits (§30.4.3)
 *   virtual-interrupt deliv.  RVI/SVI, VIRR/VISR, PPR and EOI virtualization,
 *                             EOI-exit bitmap, evaluation and delivery of
 *                             virtual interrupts (§30.1.3-§30.2), self-IPIs
 *   posted interrupts         notification vector, PI descriptor (§30.6)
 *
 * Trap-like work (the "APIC-write emulation" of §30.4.3.3 after a
 * virtualized write, TPR virtualization after MOV to CR8 / WRMSR 808H) is
 * queued in s->apic_write and done by vmx_apic_pending() at the next
 * instruction boundary (PEND_VIRT), i.e. after the instruction completed,
 * which is where the SDM places the resulting VM exits.
 *
 * The virtual-APIC page lives in L1's physical memory and is read and
 * written with phys_read/phys_write at the offsets of the xAPIC layout.
 */
#include "cpu/access.h"
#include "cpu/flags.h"
#include "cpu/msr.h"
#include "mmu/mmu.h"
#include "vmx/vmx_state.h"

/* Virtual-APIC page offsets (xAPIC register layout). */
enum {
	VAPIC_ID = 0x20,
	VAPIC_TPR = 0x80,
	VAPIC_PPR = 0xa0,
	VAPIC_EOI = 0xb0,
	VAPIC_ISR = 0x100,
	VAPIC_IRR = 0x200,
	VAPIC_ICR_LO = 0x300,
	VAPIC_ICR_HI = 0x310,
	VAPIC_SELF_IPI = 0x3f0
};

static inline const struct vmcs *vm(const struct cpu *cpu)
{
	return &vmx_st(cpu)->cur;
}

static inline uint32_t vapic_rd(struct cpu *cpu, unsigned off)
{
	return (uint32_t)phys_read(cpu->mmu, vm(cpu)->virtual_apic_addr + off, 4);
}

static inline void vapic_wr(struct cpu *cpu, unsigned off, uint32_t val)
{
	phys_write(cpu->mmu, vm(cpu)->virtual_apic_addr + off, 4, val);
}

/* Set or clear bit vec of the 256-bit register at base (ISR, IRR): 8
 * words 16 bytes apart. */
static void vreg_set(struct cpu *cpu, unsigned base, unsigned vec, bool on)
{
	unsigned off = base + (vec >> 5) * 16;
	uint32_t w = vapic_rd(cpu, off), m = 1u << (vec & 31);
	vapic_wr(cpu, off, on ? w | m : w & ~m);
}

/* Highest vector set in ISR or IRR, or -1. */
static int vreg_highest(struct cpu *cpu, unsigned base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = vapic_rd(cpu, base + (unsigned)i * 16);
		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

static inline unsigned rvi_of(const struct vmcs *v)
{
	return v->guest_intr_status & 0xff;
}

static inline unsigned svi_of(const struct vmcs *v)
{
	return v->guest_intr_status >> 8;
}

static inline void set_rvi(struct vmcs *v, unsigned rvi)
{
	v->guest_intr_status = (uint16_t)((v->guest_intr_status & 0xff00) | (rvi & 0xff));
}

static inline void set_svi(struct vmcs *v, unsigned svi)
{
	v->guest_intr_status = (uint16_t)((v->guest_intr_status & 0xff) | (svi & 0xff) << 8);
}

/* A trap-like VM exit at the instruction boundary (RIP = next). */
_Noreturn static void trap_exit(struct cpu *cpu, uint32_t reason, uint64_t qual)
{
	struct vmcs *v = &vmx_st(cpu)->cur;
	v->exit_intr_info = 0;
	v->exit_insn_len = 0;
	cpu->delivering = -1;
	vmx_vmexit(cpu, reason, qual, cpu->rip);
}

/* ---- §30.1.3 PPR virtualization, §30.2.1 evaluation ---- */

static void ppr_virtualize(struct cpu *cpu)
{
	uint32_t vtpr = vapic_rd(cpu, VAPIC_TPR) & 0xff;
	unsigned svi = svi_of(vm(cpu));
	uint32_t vppr = (vtpr >> 4) >= (svi >> 4) ? vtpr : (svi & 0xf0);
	vapic_wr(cpu, VAPIC_PPR, vppr);
}

/* Is a virtual interrupt recognized (§30.2.1)? RVI[7:4] > VPPR[7:4] and no
 * interrupt-window exiting. */
static bool vintr_recognized(struct cpu *cpu)
{
	const struct vmcs *v = vm(cpu);
	if (!(vmx_sec_ctls(v) & PROC2_VID) || (v->proc_controls & PROC_INTR_WINDOW))
		return false;
	unsigned rvi = rvi_of(v);
	return rvi && (rvi >> 4) > ((vapic_rd(cpu, VAPIC_PPR) >> 4) & 0xf);
}

/* Evaluation of pending virtual interrupts: only asks the loop to look
 * (delivery happens in vmx_apic_pending at an instruction boundary). */
static inline void vintr_evaluate(struct cpu *cpu)
{
	if (vmx_sec_ctls(vm(cpu)) & PROC2_VID)
		cpu->pending |= PEND_VIRT;
}

/* §30.1.2 TPR virtualization (after VTPR changed). */
static void tpr_virtualize(struct cpu *cpu)
{
	const struct vmcs *v = vm(cpu);
	if (vmx_sec_ctls(v) & PROC2_VID) {
		ppr_virtualize(cpu);
		vintr_evaluate(cpu);
		return;
	}
	if (((vapic_rd(cpu, VAPIC_TPR) >> 4) & 0xf) < (v->tpr_threshold & 0xf))
		trap_exit(cpu, EXIT_REASON_TPR, 0);
}

/* §30.1.4 EOI virtualization. */
static void eoi_virtualize(struct cpu *cpu)
{
	struct vmcs *v = &vmx_st(cpu)->cur;
	unsigned vec = svi_of(v);
	vreg_set(cpu, VAPIC_ISR, vec, false);
	int hi = vreg_highest(cpu, VAPIC_ISR);
	set_svi(v, hi < 0 ? 0 : (unsigned)hi);
	ppr_virtualize(cpu);
	if ((v->eoi_exit_bitmap[vec >> 6] >> (vec & 63)) & 1)
		trap_exit(cpu, EXIT_REASON_VIRT_EOI, vec);
	vintr_evaluate(cpu);
}

/* §30.1.5 self-IPI virtualization. */
static void self_ipi_virtualize(struct cpu *cpu, unsigned vec)
{
	struct vmcs *v = &vmx_st(cpu)->cur;
	vreg_set(cpu, VAPIC_IRR, vec, true);
	if (vec > rvi_of(v))
		set_rvi(v, vec);
	vintr_evaluate(cpu);
}

/* §30.4.3.3 APIC-write emulation for a virtualized write at offset off. */
static void apic_write_emulate(struct cpu *cpu, unsigned off)
{
	const struct vmcs *v = vm(cpu);
	uint32_t p2 = vmx_sec_ctls(v);
	switch (off) {
	case VAPIC_TPR:
		vapic_wr(cpu, VAPIC_TPR, vapic_rd(cpu, VAPIC_TPR) & 0xff);
		tpr_virtualize(cpu);
		return;
	case VAPIC_EOI:
		if (p2 & PROC2_VID) {
			vapic_wr(cpu, VAPIC_EOI, 0);
			eoi_virtualize(cpu);
			return;
		}
		break;
	case VAPIC_ICR_LO:
		if (p2 & PROC2_VID) {
			/* Fixed, edge, self shorthand, no reserved bits, vector
			 * >= 16: a virtualized self-IPI. */
			uint32_t icr = vapic_rd(cpu, VAPIC_ICR_LO);
			if (!(icr & 0xfff3a700u) && ((icr >> 18) & 3) == 1 && (icr & 0xf0)) {
				self_ipi_virtualize(cpu, icr & 0xff);
				return;
			}
		}
		break;
	case VAPIC_ICR_HI:
		if (!(p2 & PROC2_X2APIC)) {
			vapic_wr(cpu, VAPIC_ICR_HI, vapic_rd(cpu, VAPIC_ICR_HI) & 0xff000000u);
			return;
		}
		break;
	case VAPIC_SELF_IPI: { /* x2APIC only (WRMSR 83FH) */
		uint32_t vec = vapic_rd(cpu, VAPIC_SELF_IPI) & 0xff;
		if ((p2 & PROC2_VID) && (vec & 0xf0)) {
			self_ipi_virtualize(cpu, vec);
			return;
		}
		break;
	}
	default:
		break;
	}
	trap_exit(cpu, EXIT_REASON_APIC_WRITE, off);
}

/* ---- VM entry, pending work ---- */

void vmx_apic_entry(struct cpu *cpu, struct vmx_state *s)
{
	const struct vmcs *v = &s->cur;
	s->apic_write = 0;
	if (!(v->proc_controls & PROC_TPR_SHADOW))
		return;
	/* §27.7.7 (VM entry): without virtual-interrupt delivery, a VTPR
	 * below the threshold exits right after the entry; with it, PPR is
	 * virtualized and pending virtual interrupts are evaluated. */
	if (vmx_sec_ctls(v) & PROC2_VID) {
		ppr_virtualize(cpu);
		vintr_evaluate(cpu);
	} else if (((vapic_rd(cpu, VAPIC_TPR) >> 4) & 0xf) < (v->tpr_threshold & 0xf)) {
		s->apic_write = VAPIC_TPR | APIC_WRITE_TPR_ONLY;
		cpu->pending |= PEND_VIRT;
	}
}

void vmx_apic_write_done(struct cpu *cpu, struct vmx_state *s, unsigned w)
{
	if (w & APIC_WRITE_TPR_ONLY)
		tpr_virtualize(cpu);
	else
		apic_write_emulate(cpu, w & 0xfff);
}

bool vmx_apic_pending(struct cpu *cpu, struct vmx_state *s)
{
	if (!vintr_recognized(cpu))
		return false;
	/* §30.2.2 delivery: at an instruction boundary with RFLAGS.IF = 1 and
	 * no STI / MOV-SS blocking; it wakes a halted guest. */
	if (!(cpu->rflags & F_IF) || cpu->shadow)
		return true;
	struct vmcs *v = &s->cur;
	unsigned vec = rvi_of(v);
	vreg_set(cpu, VAPIC_ISR, vec, true);
	set_svi(v, vec);
	vapic_wr(cpu, VAPIC_PPR, vec & 0xf0);
	vreg_set(cpu, VAPIC_IRR, vec, false);
	int hi = vreg_highest(cpu, VAPIC_IRR);
	set_rvi(v, hi < 0 ? 0 : (unsigned)hi);
	cpu->halted = 0;
	s->hlt_wake = 0;
	cpu->ip_start = cpu->rip;
	s->injecting = (cpu->icpt & ICPT_BIT(ICPT_EXTINT)) != 0;
	cpu_deliver_event(cpu, (int)vec, EV_EXTINT, NO_ERRCODE);
	s->injecting = false;
	return vintr_recognized(cpu);
}

/* ---- MOV CR8 (§30.3) ---- */

void vmx_apic_cr8(struct cpu *cpu, struct icpt_info *info, bool write)
{
	if (!write) {
		info->value = (vapic_rd(cpu, VAPIC_TPR) >> 4) & 0xf;
		return;
	}
	if (info->value & ~0xfull)
		cpu_gp(cpu, 0);
	vapic_wr(cpu, VAPIC_TPR, (uint32_t)(info->value & 0xf) << 4);
	/* TPR virtualization after the instruction; the real TPR (CR8) is
	 * not written: leave the handler here. */
	vmx_st(cpu)->apic_write = VAPIC_TPR | APIC_WRITE_TPR_ONLY;
	cpu->pending |= PEND_VIRT;
	cpu_unwind(cpu);
}

/* ---- §30.5 virtualizing MSR-based APIC accesses ---- */

void vmx_apic_msr(struct cpu *cpu, bool write, struct icpt_info *info)
{
	const struct vmcs *v = vm(cpu);
	uint32_t p2 = vmx_sec_ctls(v), idx = info->index;
	if (!(p2 & PROC2_X2APIC) || idx < 0x800 || idx > 0x8ff)
		return;
	unsigned off = (idx & 0xff) << 4;
	if (!write) {
		/* With APIC-register virtualization every read of the range
		 * comes from the page, else only the TPR's. */
		if (idx != 0x808 && !(p2 & PROC2_APIC_REG))
			return;
		uint64_t val = phys_read(cpu->mmu, v->virtual_apic_addr + off, 8);
		if (idx == 0x808)
			val &= 0xffffffffu;
		cpu->gpr[R_AX] = (uint32_t)val;
		cpu->gpr[R_DX] = val >> 32;
		cpu_unwind(cpu);
	}
	uint64_t val = info->value;
	switch (idx) {
	case 0x808: /* TPR */
		if (val >> 8)
			cpu_gp(cpu, 0);
		vapic_wr(cpu, VAPIC_TPR, (uint32_t)val);
		phys_write(cpu->mmu, v->virtual_apic_addr + VAPIC_TPR + 4, 4, 0);
		vmx_st(cpu)->apic_write = VAPIC_TPR | APIC_WRITE_TPR_ONLY;
		break;
	case 0x80b: /* EOI */
		if (!(p2 & PROC2_VID))
			return;
		if (val)
			cpu_gp(cpu, 0);
		vmx_st(cpu)->apic_write = VAPIC_EOI;
		break;
	case 0x83f: /* SELF IPI */
		if (!(p2 & PROC2_VID))
			return;
		if (val >> 8)
			cpu_gp(cpu, 0);
		vapic_wr(cpu, VAPIC_SELF_IPI, (uint32_t)val);
		vmx_st(cpu)->apic_write = VAPIC_SELF_IPI;
		break;
	default:
		return;
	}
	cpu->pending |= PEND_VIRT;
	cpu_unwind(cpu);
}

/* ---- §30.4 the APIC-access page ---- */

bool vmx_apic_page(struct cpu *cpu, uint64_t pa, int kind)
{
	const struct vmcs *v = vm(cpu);
	if (!(vmx_sec_ctls(v) & PROC2_APIC_ACCESS) || (pa & ~0xfffull) != v->apic_access_addr)
		return false;
	if (kind == ACC_EXEC) {
		/* An instruction fetch: fault-like exit, access type 2. */
		struct vmcs *w = &vmx_st(cpu)->cur;
		w->exit_intr_info = 0;
		w->exit_insn_len = 0;
		vmx_vmexit(cpu, EXIT_REASON_APIC_ACCESS, (pa & 0xfff) | 2u << 12, cpu->ip_start);
	}
	return true;
}

/* Offsets whose 32-bit register APIC-register virtualization reads from
 * the virtual-APIC page (§30.4.2). */
static bool xapic_read_virtualized(unsigned reg)
{
	switch (reg) {
	case 0x20:
	case 0x30:
	case 0x80:
	case 0xb0:
	case 0xd0:
	case 0xe0:
	case 0xf0:
	case 0x280:
	case 0x300:
	case 0x310:
	case 0x380:
	case 0x3e0:
		return true;
	default:
		return (reg >= 0x100 && reg <= 0x270) || (reg >= 0x320 && reg <= 0x370);
	}
}

/* Offsets whose writes are virtualized with APIC-register virtualization
 * (§30.4.3.1); without it only TPR, and EOI / ICR low with virtual-
 * interrupt delivery. */
static bool xapic_write_virtualized(unsigned reg, uint32_t p2)
{
	switch (reg) {
	case 0x80:
		return true;
	case 0xb0:
	case 0x300:
		return (p2 & (PROC2_VID | PROC2_APIC_REG)) != 0;
	case 0x20:
	case 0xd0:
	case 0xe0:
	case 0xf0:
	case 0x280:
	case 0x310:
	case 0x380:
	case 0x3e0:
		return (p2 & PROC2_APIC_REG) != 0;
	default:
		return (p2 & PROC2_APIC_REG) && reg >= 0x320 && reg <= 0x370;
	}
}

uint64_t vmx_apic_access(struct cpu *cpu, uint64_t pa, unsigned size, bool write, uint64_t val)
{
	struct vmx_state *s = vmx_st(cpu);
	struct vmcs *v = &s->cur;
	uint32_t p2 = vmx_sec_ctls(v);
	unsigned off = pa & 0xfff, reg = off & ~0xfu;
	/* Virtualized only with "use TPR shadow", within the low 4 bytes of
	 * one 16-byte register. */
	bool inside = (off & 0xf) + size <= 4;
	if ((v->proc_controls & PROC_TPR_SHADOW) && inside) {
		if (!write &&
		    (reg == VAPIC_TPR || ((p2 & PROC2_APIC_REG) && xapic_read_virtualized(reg)))) {
			return phys_read(cpu->mmu, v->virtual_apic_addr + off, size);
		}
		if (write && xapic_write_virtualized(reg, p2)) {
			phys_write(cpu->mmu, v->virtual_apic_addr + off, size, val);
			s->apic_write = reg;
			cpu->pending |= PEND_VIRT;
			return 0;
		}
	}
	/* APIC-access VM exit, fault-like (§30.4.1): qualification bits 11:0
	 * the offset, 15:12 access type (0 linear read, 1 linear write, 3
	 * during event delivery). */
	unsigned type = cpu->delivering >= 0 ? 3 : write ? 1 : 0;
	v->exit_intr_info = 0;
	v->exit_insn_len = (uint32_t)(cpu->rip - cpu->ip_start);
	vmx_vmexit(cpu, EXIT_REASON_APIC_ACCESS, off | type << 12, cpu->ip_start);
}

/* ---- §30.6 posted-interrupt processing ---- */

bool vmx_apic_posted(struct cpu *cpu, unsigned vec)
{
	struct vmx_state *s = vmx_st(cpu);
	struct vmcs *v = &s->cur;
	if (!(v->pin_controls & PIN_POSTED) || vec != v->posted_intr_nv)
		return false;
	uint64_t desc = v->posted_intr_desc_addr;
	/* Clear the outstanding-notification bit (bit 256), dismiss the
	 * notification at the local APIC (EOI), move PIR into VIRR. */
	uint8_t ctl = (uint8_t)phys_read(cpu->mmu, desc + 32, 1);
	phys_write(cpu->mmu, desc + 32, 1, ctl & ~1u);
	if (cpu->msr.apic_base & (1u << 10))
		msr_write(cpu, 0x80b, 0);
	else
		phys_write(cpu->mmu, (cpu->msr.apic_base & ~0xfffull) + VAPIC_EOI, 4, 0);
	int hi = -1;
	for (unsigned i = 0; i < 8; i++) {
		uint32_t pir = (uint32_t)phys_read(cpu->mmu, desc + i * 4, 4);
		if (!pir)
			continue;
		phys_write(cpu->mmu, desc + i * 4, 4, 0);
		unsigned off = VAPIC_IRR + i * 16;
		vapic_wr(cpu, off, vapic_rd(cpu, off) | pir);
		hi = (int)(i * 32 + 31 - (unsigned)__builtin_clz(pir));
	}
	if (hi >= 0 && (unsigned)hi > rvi_of(v))
		set_rvi(v, (unsigned)hi);
	vintr_evaluate(cpu);
	return true;
}
