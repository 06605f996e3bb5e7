/*
 * cpu/msr.c — RDMSR/WRMSR semantics of the MSRs the core owns
 * (msr_read/msr_write, cpu/cpuid.h) and their model-dependent reset values
 * (msr_reset, cpu/msr.h).
 *
 * Sources: Intel SDM Vol. 4 (MSR tables), Vol. 3 ch. 11 (MTRR, PAT), ch. 15
 * (machine check), §2.2.1 (EFER); AMD APM Vol. 2 App. A.
 *
 * An MSR exists only if the model has the feature that defines it; writes
 * with reserved bits set, invalid encodings or to read-only MSRs return
 * false, and the caller raises #GP(0). Machine-check banks are stateless:
 * MCi_CTL reads all ones, MCi_STATUS/ADDR/MISC read zero and accept only
 * zero (nothing ever logs an error). The x2APIC range (800h-8FFh) belongs to
 * the LAPIC and is not handled here.
 */

#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/msr.h"
#include "cpu/msr_index.h"
#include "cpu/tsc.h"
#include "devices/machine.h"
#include "vmx/vmx.h"

/* Reported microcode revision: new enough that Linux trusts the
 * TSC-deadline timer of the Skylake model (it disables it as an erratum
 * below 0xb2). */
#define MICROCODE_REV 0xf0ull

static inline bool is_intel(const struct cpu *cpu)
{
	return cpu->model->vendor == VENDOR_INTEL;
}

static inline bool has(const struct cpu *cpu, unsigned f)
{
	return model_has(cpu->model, f);
}

/* Bits at or above MAXPHYADDR (reserved in physical-address fields). */
static inline uint64_t phys_rsvd(const struct cpu *cpu)
{
	return ~0ull << cpu->model->phys_addr_bits;
}

/* Memory types valid in PAT entries: UC WC WT WP WB UC- (SDM Vol. 3 Table
 * 11-10); 2 and 3 are reserved. */
static inline bool pat_type_ok(unsigned t)
{
	return t <= 7 && t != 2 && t != 3;
}
/* Memory types valid in MTRRs: UC WC WT WP WB (Table 11-8). */
static inline bool mtrr_type_ok(unsigned t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool pat_ok(uint64_t v)
{
	for (int i = 0; i < 8; i++)
		if (!pat_type_ok((unsigned)(v >> (8 * i)) & 0xff))
			return false;
	return true;
}

static bool fixed_mtrr_ok(uint64_t v)
{
	for (int i = 0; i < 8; i++)
		if (!mtrr_type_ok((unsigned)(v >> (8 * i)) & 0xff))
			return false;
	return true;
}

/* Index into msr.mtrr_fixed[] of a fixed-range MTRR, or -1. */
static int fixed_mtrr_index(uint32_t idx)
{
	switch (idx) {
	case MSR_IA32_MTRR_FIX64K_00000:
		return 0;
	case MSR_IA32_MTRR_FIX16K_80000:
		return 1;
	case MSR_IA32_MTRR_FIX16K_A0000:
		return 2;
	default:
		if (idx >= MSR_IA32_MTRR_FIX4K_C0000 && idx <= MSR_IA32_MTRR_FIX4K_C0000 + 7)
			return 3 + (int)(idx - MSR_IA32_MTRR_FIX4K_C0000);
		return -1;
	}
}

/* RAM below 4 GiB and above it, as AMD firmware reports in TOP_MEM and
 * TOP_MEM2. The PCI hole starts at 3 GiB at the latest. */
static void amd_top_mem(const struct cpu *cpu, uint64_t *top, uint64_t *top2)
{
	uint64_t ram = cpu->machine ? cpu->machine->cfg.ram_size : 0;
	uint64_t low = ram < 0xc0000000ull ? ram : 0xc0000000ull;
	*top = low & ~0x7fffffull; /* 8 MiB granularity */
	*top2 = ram > low ? (0x100000000ull + (ram - low)) & ~0x7fffffull : 0;
}

void msr_reset(struct cpu *cpu, bool init_only)
{
	if (init_only)
		return;
	struct cpu_msrs *m = &cpu->msr;
	m->tsc_offset = 0 - cpu_tsc_raw(cpu); /* the TSC restarts at zero */
	m->tsc_adjust = 0;
	m->pat = 0x0007040600070406ull;
	m->mtrr_cap = 8 | 1u << 8 | 1u << 10; /* 8 variable ranges, fixed ranges, WC */
	m->apic_base = 0xfee00000ull | APIC_BASE_EN | (cpu->index == 0 ? APIC_BASE_BSP : 0);
	m->misc_enable = is_intel(cpu)
				 ? MISC_EN_FAST_STRING | MISC_EN_BTS_UNAVAIL | MISC_EN_PEBS_UNAVAIL
				 : 0;
	m->mcg_cap = has(cpu, FEAT_MCA) ? MC_NBANKS | MCG_CTL_P : 0;
	_Static_assert(sizeof(m->mc) / sizeof(m->mc[0]) == 4 * MC_NBANKS, "MC bank storage");
	for (unsigned i = 0; i < MC_NBANKS; i++)
		m->mc[4 * i] = ~0ull; /* MCi_CTL: every error type reported */
	m->mcg_status = 0;
	m->feature_control = 0;
	m->debugctl = 0;
	m->lbr_from = m->lbr_to = m->ler_from = m->ler_to = 0;
	m->vm_cr = 0;
	m->svm_key = 0;
	m->vm_hsave_pa = 0;
	m->tsc_ratio = 1ull << 32; /* 1.0 */
	memset(m->amd_perf, 0, sizeof(m->amd_perf));
}

/* AMD's legacy performance counters, present on every AMD64 processor (APM
 * Vol. 2 §13.2.1, Figure 13-7): PerfEvtSel0-3 at C001_0000h-3h, PerfCtr0-3
 * (48 bits) at C001_0004h-7h. nestbox models no events, so an enabled
 * counter keeps the value software wrote. */
#define MSR_AMD_PERF_FIRST 0xc0010000u
#define AMD_PERFSEL_RSVD   (0xfffffc0000000000ull | 0x000000f000000000ull | (1ull << 21))
#define AMD_PERFCTR_MASK   ((1ull << 48) - 1)

bool msr_read(struct cpu *cpu, uint32_t idx, uint64_t *val)
{
	const struct cpu_msrs *m = &cpu->msr;
	uint64_t v;

	/* The LAPIC owns the x2APIC registers and the TSC deadline. */
	if ((idx >= 0x800 && idx <= 0x8ff) || idx == 0x6e0)
		return cpu->apic_msr_read ? cpu->apic_msr_read(cpu, idx, val) : false;

	/* The VMX capability MSRs belong to vmx/ (SDM Vol. 3C App. A). */
	if (idx >= MSR_IA32_VMX_FIRST && idx <= MSR_IA32_VMX_LAST)
		return has(cpu, FEAT_VMX) && vmx_msr_read(cpu, idx, val);

	switch (idx) {
	case MSR_IA32_TSC:
		if (!has(cpu, FEAT_TSC))
			return false;
		v = cpu_tsc(cpu);
		break;
	case MSR_IA32_TSC_ADJUST:
		if (!has(cpu, FEAT_TSC_ADJUST))
			return false;
		v = m->tsc_adjust;
		break;
	case MSR_TSC_AUX:
		if (!has(cpu, FEAT_RDTSCP) && !has(cpu, FEAT_RDPID))
			return false;
		v = m->tsc_aux;
		break;
	case MSR_IA32_APIC_BASE:
		if (!has(cpu, FEAT_APIC))
			return false;
		v = m->apic_base;
		break;
	case MSR_IA32_FEATURE_CONTROL:
		if (!is_intel(cpu))
			return false;
		v = m->feature_control;
		break;
	case MSR_IA32_MISC_ENABLE:
		if (!is_intel(cpu))
			return false;
		v = m->misc_enable;
		break;
	case MSR_IA32_PLATFORM_ID:
		if (!is_intel(cpu))
			return false;
		v = 0;
		break;
	case MSR_PLATFORM_INFO:
		if (!is_intel(cpu))
			return false;
		/* Maximum non-turbo ratio (bits 15:8) in 100 MHz units. */
		v = ((cpu->model->tsc_hz / 100000000ull) & 0xff) << 8;
		break;
	case MSR_IA32_BIOS_SIGN_ID:
		v = MICROCODE_REV << 32;
		break;
	case MSR_IA32_PAT:
		if (!has(cpu, FEAT_PAT))
			return false;
		v = m->pat;
		break;
	case MSR_IA32_MTRRCAP:
		if (!has(cpu, FEAT_MTRR))
			return false;
		v = m->mtrr_cap;
		break;
	case MSR_IA32_MTRR_DEF_TYPE:
		if (!has(cpu, FEAT_MTRR))
			return false;
		v = m->mtrr_def_type;
		break;
	case MSR_IA32_SYSENTER_CS:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!has(cpu, FEAT_SEP))
			return false;
		v = idx == MSR_IA32_SYSENTER_CS    ? m->sysenter_cs
		    : idx == MSR_IA32_SYSENTER_ESP ? m->sysenter_esp
						   : m->sysenter_eip;
		break;
	case MSR_IA32_MCG_CAP:
		if (!has(cpu, FEAT_MCA))
			return false;
		v = m->mcg_cap;
		break;
	case MSR_IA32_MCG_STATUS:
		if (!has(cpu, FEAT_MCA))
			return false;
		v = m->mcg_status;
		break;
	case MSR_IA32_MCG_CTL:
		if (!(m->mcg_cap & MCG_CTL_P))
			return false;
		v = ~0ull;
		break;
	case MSR_IA32_DEBUGCTL:
		v = m->debugctl;
		break;
	case MSR_LASTBRANCH_FROM:
		v = m->lbr_from;
		break;
	case MSR_LASTBRANCH_TO:
		v = m->lbr_to;
		break;
	case MSR_LASTINT_FROM:
		v = m->ler_from;
		break;
	case MSR_LASTINT_TO:
		v = m->ler_to;
		break;
	case MSR_IA32_XSS:
		if (!has(cpu, FEAT_XSAVES))
			return false;
		v = m->xss;
		break;
	case MSR_IA32_PKRS:
		if (!has(cpu, FEAT_PKS))
			return false;
		v = m->pkrs;
		break;
	case MSR_EFER:
		if (!has(cpu, FEAT_LM) && !has(cpu, FEAT_NX) && !has(cpu, FEAT_SYSCALL))
			return false;
		v = m->efer;
		break;
	case MSR_STAR:
		if (!has(cpu, FEAT_SYSCALL) && !has(cpu, FEAT_LM))
			return false;
		v = m->star;
		break;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_SFMASK:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		if (!has(cpu, FEAT_LM))
			return false;
		v = idx == MSR_LSTAR            ? m->lstar
		    : idx == MSR_CSTAR          ? m->cstar
		    : idx == MSR_SFMASK         ? m->sfmask
		    : idx == MSR_KERNEL_GS_BASE ? m->kernel_gs_base
		    : idx == MSR_FS_BASE        ? cpu->seg[S_FS].base
						: cpu->seg[S_GS].base;
		break;
	/* AMD platform MSRs firmware and Linux read. */
	case MSR_AMD_HWCR:
		if (is_intel(cpu))
			return false;
		v = HWCR_TSCFREQSEL;
		break;
	case MSR_AMD_SYSCFG:
	case MSR_AMD_TOP_MEM:
	case MSR_AMD_TOP_MEM2: {
		uint64_t top, top2;
		if (is_intel(cpu))
			return false;
		amd_top_mem(cpu, &top, &top2);
		if (idx == MSR_AMD_SYSCFG)
			v = SYSCFG_MTRR_VAR_DRAM_EN | (top2 ? SYSCFG_MTRR_TOM2_EN : 0);
		else
			v = idx == MSR_AMD_TOP_MEM ? top : top2;
		break;
	}
	case MSR_AMD_PERF_FIRST + 0 ... MSR_AMD_PERF_FIRST + 7:
		if (is_intel(cpu))
			return false;
		v = m->amd_perf[idx - MSR_AMD_PERF_FIRST];
		break;
	case MSR_AMD_DE_CFG:
		if (is_intel(cpu))
			return false;
		v = 1u << 1; /* LFENCE is dispatch-serialising (always true here) */
		break;
	case MSR_AMD_VM_CR:
		if (!has(cpu, FEAT_SVM))
			return false;
		v = m->vm_cr;
		break;
	case MSR_AMD_VM_HSAVE_PA:
		if (!has(cpu, FEAT_SVM))
			return false;
		v = m->vm_hsave_pa;
		break;
	case MSR_AMD_SVM_KEY:
		/* Reads return 0: the key is not readable (APM Vol. 2 §15.31). */
		if (!has(cpu, FEAT_SVM) || !has(cpu, FEAT_SVML))
			return false;
		v = 0;
		break;
	case MSR_AMD_TSC_RATIO:
		if (!has(cpu, FEAT_SVM) || !has(cpu, FEAT_TSCRATE))
			return false;
		v = m->tsc_ratio;
		break;
	default:
		if (idx >= MSR_IA32_MTRR_PHYSBASE0 && idx < MSR_IA32_MTRR_PHYSBASE0 + 16) {
			if (!has(cpu, FEAT_MTRR) ||
			    idx - MSR_IA32_MTRR_PHYSBASE0 >= 2 * (m->mtrr_cap & 0xff))
				return false;
			v = m->mtrr_var[idx - MSR_IA32_MTRR_PHYSBASE0];
			break;
		}
		if (fixed_mtrr_index(idx) >= 0) {
			if (!has(cpu, FEAT_MTRR) || !(m->mtrr_cap & (1u << 8)))
				return false;
			v = m->mtrr_fixed[fixed_mtrr_index(idx)];
			break;
		}
		if (idx >= MSR_IA32_MC0_CTL && idx < MSR_IA32_MC0_CTL + 4 * (m->mcg_cap & 0xff)) {
			v = m->mc[idx - MSR_IA32_MC0_CTL];
			break;
		}
		return false;
	}
	*val = v;
	return true;
}

/* IA32_EFER (SDM Vol. 3 §2.2.1, Vol. 4 Table 2-2; APM Vol. 2 §3.1.7). LMA
 * is read-only (writes of it are ignored); LME may not change while paging
 * is on. */
static bool write_efer(struct cpu *cpu, uint64_t v)
{
	uint64_t ok = EFER_LMA;
	uint64_t old = cpu->msr.efer;
	if (has(cpu, FEAT_SYSCALL) || has(cpu, FEAT_LM))
		ok |= EFER_SCE;
	if (has(cpu, FEAT_LM))
		ok |= EFER_LME;
	/* IA32_MISC_ENABLE.XD_DISABLE withdraws NX: NXE may stay set but not
	 * be set anew. */
	if (has(cpu, FEAT_NX) && (!(cpu->msr.misc_enable & MISC_EN_XD_DISABLE) || (old & EFER_NXE)))
		ok |= EFER_NXE;
	if (has(cpu, FEAT_SVM) && !(cpu->msr.vm_cr & VM_CR_SVMDIS))
		ok |= EFER_SVME;
	if (v & ~ok)
		return false;
	if ((cpu->cr0 & CR0_PG) && ((v ^ old) & EFER_LME))
		return false;
	v = (v & ~EFER_LMA) | (old & EFER_LMA);
	cpu->msr.efer = v;
	if ((v ^ old) & EFER_NXE)
		cpu_tlb_flush_all(cpu); /* cached rights depend on NXE */
	if (v != old) {
		cpu_update_mode(cpu);
		cpu->pending |= PEND_MODE;
	}
	return true;
}

/* IA32_APIC_BASE (SDM Vol. 3 §11.4.4, §11.12.5 state transitions). */
static bool write_apic_base(struct cpu *cpu, uint64_t v)
{
	uint64_t ok = APIC_BASE_BSP | APIC_BASE_EN | (~0xfffull & ~phys_rsvd(cpu));
	uint64_t old = cpu->msr.apic_base;
	if (has(cpu, FEAT_X2APIC))
		ok |= APIC_BASE_EXTD;
	if (v & ~ok)
		return false;
	bool en = v & APIC_BASE_EN, x2 = v & APIC_BASE_EXTD;
	bool old_en = old & APIC_BASE_EN, old_x2 = old & APIC_BASE_EXTD;
	if (x2 && !en)
		return false; /* invalid state */
	if (old_x2 && old_en && en && !x2)
		return false; /* x2APIC -> xAPIC directly */
	if (!old_en && en && x2)
		return false; /* disabled -> x2APIC directly */
	/* BSP is read-only. */
	cpu->msr.apic_base = (v & ~APIC_BASE_BSP) | (old & APIC_BASE_BSP);
	if (cpu->apic_base_changed)
		cpu->apic_base_changed(cpu, old);
	return true;
}

static bool write_misc_enable(struct cpu *cpu, uint64_t v)
{
	/* SDM Vol. 4 Table 2-2 (IA32_MISC_ENABLE). Writable: fast strings,
	 * automatic thermal control, EIST enable, MONITOR FSM enable, limit
	 * CPUID maxval, xTPR disable, XD bit disable (hides CPUID NX and
	 * refuses EFER.NXE 0->1, see write_efer/cpuid.c). EIST and MONITOR are
	 * kept but change nothing (neither is advertised). Read-only (writes
	 * ignored): perfmon/BTS/PEBS availability. Others are reserved. */
	const uint64_t rw = MISC_EN_FAST_STRING | MISC_EN_TCC | MISC_EN_EIST | MISC_EN_MONITOR |
			    MISC_EN_LIMIT_CPUID | MISC_EN_XTPR_DISABLE | MISC_EN_XD_DISABLE;
	const uint64_t ro = MISC_EN_PERFMON | MISC_EN_BTS_UNAVAIL | MISC_EN_PEBS_UNAVAIL;
	if (v & ~(rw | ro))
		return false;
	cpu->msr.misc_enable = (cpu->msr.misc_enable & ~rw) | (v & rw);
	return true;
}

static bool write_mtrr_var(struct cpu *cpu, uint32_t n, uint64_t v)
{
	if (n & 1) { /* PHYSMASK: V (bit 11), mask [MAXPHY-1:12] */
		if (v & (phys_rsvd(cpu) | 0x7ffull))
			return false;
	} else { /* PHYSBASE: type [7:0], base [MAXPHY-1:12] */
		if ((v & (phys_rsvd(cpu) | 0xf00ull)) || !mtrr_type_ok(v & 0xff))
			return false;
	}
	cpu->msr.mtrr_var[n] = v;
	return true;
}

/* Machine-check bank registers (SDM Vol. 3 §15.3.2). No error is ever
 * logged, so they only keep what software writes. MCi_CTL takes all zeros or
 * all ones (P6-style rule; bits 0 and 10 may be cleared, as Linux and some
 * OSes do for particular banks), MCi_STATUS only 0 (clearing it), MCi_ADDR and
 * MCi_MISC any value. */
static bool write_mc(struct cpu *cpu, uint32_t idx, uint64_t v)
{
	unsigned reg = idx - MSR_IA32_MC0_CTL;
	switch (reg & 3) {
	case 0:
		if (v != 0 && (v | 1ull << 10 | 1ull) != ~0ull)
			return false;
		break;
	case 1:
		if (v != 0)
			return false;
		break;
	default:
		break;
	}
	cpu->msr.mc[reg] = v;
	return true;
}

bool msr_write(struct cpu *cpu, uint32_t idx, uint64_t v)
{
	struct cpu_msrs *m = &cpu->msr;

	if ((idx >= 0x800 && idx <= 0x8ff) || idx == 0x6e0)
		return cpu->apic_msr_write ? cpu->apic_msr_write(cpu, idx, v) : false;

	/* VMX capability MSRs are read-only. */
	if (idx >= MSR_IA32_VMX_FIRST && idx <= MSR_IA32_VMX_LAST)
		return false;

	switch (idx) {
	case MSR_IA32_TSC: {
		if (!has(cpu, FEAT_TSC))
			return false;
		/* Writing the TSC moves TSC_ADJUST by the same amount (SDM
		 * Vol. 3 §18.17.3). A guest's (not intercepted) write sets the
		 * TSC itself: the VMX/SVM offset is not subtracted. */
		uint64_t delta = v - cpu_tsc_host(cpu);
		m->tsc_offset += delta;
		m->tsc_adjust += delta;
		return true;
	}
	case MSR_IA32_TSC_ADJUST:
		if (!has(cpu, FEAT_TSC_ADJUST))
			return false;
		m->tsc_offset += v - m->tsc_adjust;
		m->tsc_adjust = v;
		return true;
	case MSR_TSC_AUX:
		if ((!has(cpu, FEAT_RDTSCP) && !has(cpu, FEAT_RDPID)) || (v >> 32))
			return false;
		m->tsc_aux = v;
		return true;
	case MSR_IA32_APIC_BASE:
		if (!has(cpu, FEAT_APIC))
			return false;
		return write_apic_base(cpu, v);
	case MSR_IA32_FEATURE_CONTROL: {
		if (!is_intel(cpu))
			return false;
		/* Once locked, the MSR cannot be written until reset (SDM Vol.
		 * 3 §23.7). VMX enable bits exist only with VMX. */
		uint64_t ok = FEATCTL_LOCK | (has(cpu, FEAT_VMX) ? FEATCTL_VMX_OUTSIDE_SMX : 0);
		if ((m->feature_control & FEATCTL_LOCK) || (v & ~ok))
			return false;
		m->feature_control = v;
		return true;
	}
	case MSR_IA32_MISC_ENABLE:
		if (!is_intel(cpu))
			return false;
		return write_misc_enable(cpu, v);
	case MSR_IA32_BIOS_SIGN_ID:
		return true; /* software writes 0 before CPUID(1); reads stay */
	case MSR_IA32_BIOS_UPDT_TRIG:
		/* A microcode update "succeeds" without changing anything. */
		return is_intel(cpu);
	case MSR_IA32_PAT:
		if (!has(cpu, FEAT_PAT) || !pat_ok(v))
			return false;
		m->pat = v;
		cpu_tlb_flush_all(cpu);
		return true;
	case MSR_IA32_MTRR_DEF_TYPE:
		if (!has(cpu, FEAT_MTRR))
			return false;
		if ((v & ~(0xffull | MTRR_DEF_FE | MTRR_DEF_E)) || !mtrr_type_ok(v & 0xff))
			return false;
		m->mtrr_def_type = v;
		return true;
	case MSR_IA32_SYSENTER_CS:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!has(cpu, FEAT_SEP))
			return false;
		if (!is_intel(cpu)) {
			v = (uint32_t)v; /* 32-bit MSRs on AMD (APM Vol. 2 §6.1.1) */
		} else if (idx != MSR_IA32_SYSENTER_CS && has(cpu, FEAT_LM) &&
			   !cpu_canonical(cpu, v)) {
			return false;
		}
		if (idx == MSR_IA32_SYSENTER_CS)
			m->sysenter_cs = v;
		else if (idx == MSR_IA32_SYSENTER_ESP)
			m->sysenter_esp = v;
		else
			m->sysenter_eip = v;
		return true;
	case MSR_IA32_MCG_STATUS:
		if (!has(cpu, FEAT_MCA) || (v & ~7ull)) /* RIPV, EIPV, MCIP */
			return false;
		m->mcg_status = v;
		return true;
	case MSR_IA32_MCG_CTL:
		/* Only all zeros or all ones (SDM Vol. 3 §15.3.1.3). */
		return (m->mcg_cap & MCG_CTL_P) && (v == 0 || v == ~0ull);
	case MSR_IA32_DEBUGCTL:
		/* LBR records branches (cpu/exec.c); BTF is kept without
		 * effect. */
		if (v & ~3ull)
			return false;
		m->debugctl = v;
		return true;
	case MSR_IA32_XSS:
		if (!has(cpu, FEAT_XSAVES) || v != 0) /* no supervisor state */
			return false;
		m->xss = v;
		return true;
	case MSR_IA32_PKRS:
		/* Protection keys for supervisor pages (SDM Vol. 3 §4.6.2):
		 * AD/WD pairs in bits 31:0, bits 63:32 reserved. */
		if (!has(cpu, FEAT_PKS) || (v >> 32))
			return false;
		cpu_set_pkrs(cpu, v);
		return true;
	case MSR_EFER:
		if (!has(cpu, FEAT_LM) && !has(cpu, FEAT_NX) && !has(cpu, FEAT_SYSCALL))
			return false;
		return write_efer(cpu, v);
	case MSR_STAR:
		if (!has(cpu, FEAT_SYSCALL) && !has(cpu, FEAT_LM))
			return false;
		m->star = v;
		return true;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		if (!has(cpu, FEAT_LM) || !cpu_canonical(cpu, v))
			return false;
		if (idx == MSR_LSTAR)
			m->lstar = v;
		else if (idx == MSR_CSTAR)
			m->cstar = v;
		else if (idx == MSR_KERNEL_GS_BASE)
			m->kernel_gs_base = v;
		else
			cpu->seg[idx == MSR_FS_BASE ? S_FS : S_GS].base = v;
		return true;
	case MSR_SFMASK:
		if (!has(cpu, FEAT_LM) || (v >> 32))
			return false;
		m->sfmask = v;
		return true;
	case MSR_AMD_PERF_FIRST + 0 ... MSR_AMD_PERF_FIRST + 3:
		if (is_intel(cpu) || (v & AMD_PERFSEL_RSVD))
			return false;
		m->amd_perf[idx - MSR_AMD_PERF_FIRST] = v;
		return true;
	case MSR_AMD_PERF_FIRST + 4 ... MSR_AMD_PERF_FIRST + 7:
		if (is_intel(cpu))
			return false;
		m->amd_perf[idx - MSR_AMD_PERF_FIRST] = v & AMD_PERFCTR_MASK;
		return true;
	case MSR_AMD_HWCR:
	case MSR_AMD_SYSCFG:
	case MSR_AMD_TOP_MEM:
	case MSR_AMD_TOP_MEM2:
	case MSR_AMD_DE_CFG:
		/* Platform configuration: accepted, nothing to reconfigure. */
		return !is_intel(cpu);
	case MSR_AMD_VM_CR:
		/* DPD, R_INIT, DIS_A20M, LOCK, SVMDIS. While LOCK is set,
		 * writes to LOCK and SVMDIS are silently ignored; only the
		 * SVM_KEY MSR clears LOCK (APM Vol. 2 §15.30.1). */
		if (!has(cpu, FEAT_SVM) || (v & ~0x1full))
			return false;
		if (m->vm_cr & VM_CR_LOCK)
			v = (v & ~(VM_CR_SVMDIS | VM_CR_LOCK)) |
			    (m->vm_cr & (VM_CR_SVMDIS | VM_CR_LOCK));
		m->vm_cr = v;
		return true;
	case MSR_AMD_SVM_KEY:
		/* SVM-Lock (APM Vol. 2 §15.31): with LOCK clear a write sets
		 * the key; with LOCK set, writing the same non-zero key clears
		 * LOCK (a zero key cannot unlock: locked until reset). */
		if (!has(cpu, FEAT_SVM) || !has(cpu, FEAT_SVML))
			return false;
		if (!(m->vm_cr & VM_CR_LOCK))
			m->svm_key = v;
		else if (m->svm_key && v == m->svm_key)
			m->vm_cr &= ~VM_CR_LOCK;
		return true;
	case MSR_AMD_VM_HSAVE_PA:
		/* 4K aligned, below MAXPHYADDR (APM Vol. 2 §15.30.4). */
		if (!has(cpu, FEAT_SVM) || (v & (0xfffull | phys_rsvd(cpu))))
			return false;
		m->vm_hsave_pa = v;
		return true;
	case MSR_AMD_TSC_RATIO:
		/* 8.32 fixed point; bits 63:40 reserved (APM Vol. 2 §15.30.5).
		 * svm/ applies it in guest mode. */
		if (!has(cpu, FEAT_SVM) || !has(cpu, FEAT_TSCRATE) || (v >> 40))
			return false;
		m->tsc_ratio = v;
		return true;
	case MSR_IA32_MTRRCAP:
	case MSR_IA32_MCG_CAP:
	case MSR_PLATFORM_INFO:
	case MSR_IA32_PLATFORM_ID:
		return false; /* read-only */
	default:
		if (idx >= MSR_IA32_MTRR_PHYSBASE0 && idx < MSR_IA32_MTRR_PHYSBASE0 + 16) {
			uint32_t n = idx - MSR_IA32_MTRR_PHYSBASE0;
			if (!has(cpu, FEAT_MTRR) || n >= 2 * (m->mtrr_cap & 0xff))
				return false;
			return write_mtrr_var(cpu, n, v);
		}
		if (fixed_mtrr_index(idx) >= 0) {
			if (!has(cpu, FEAT_MTRR) || !(m->mtrr_cap & (1u << 8)) || !fixed_mtrr_ok(v))
				return false;
			m->mtrr_fixed[fixed_mtrr_index(idx)] = v;
			return true;
		}
		if (idx >= MSR_IA32_MC0_CTL && idx < MSR_IA32_MC0_CTL + 4 * (m->mcg_cap & 0xff))
			return write_mc(cpu, idx, v);
		return false;
	}
}
