/*
 * tests/unit/test_msr.c — system registers: MSR read/write rules (TSC,
 * APIC_BASE, FEATURE_CONTROL, MISC_ENABLE, PAT, MTRRs, EFER, syscall MSRs,
 * machine check, vendor MSRs), control-register writes (CR0/CR3/CR4/CR8
 * validity, long-mode activation, PAE PDPTE loading), and a few system
 * instructions run through the decoder on a heap vCPU (MOV CR/DR, RDMSR,
 * XSETBV, CLI/STI, RDTSC), plus the debug-register breakpoint matchers.
 *
 * Faults: cpu_exception() longjmps to cpu->exc_jmp, which FAULTS() points
 * at a local jmp_buf.
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/decode.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/msr.h"
#include "cpu/msr_index.h"
#include "cpu/ops_sys.h"
#include "cpu/tsc.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "mmu/mmu.h"
#include "mmu/tlb.h"

static struct cpu_model model;
static struct cpu *cpu;
static struct mmu *mmu;
static jmp_buf jb;

/* Run stmt; evaluates to the exception vector it raised, or -1. */
#define FAULTS(stmt)                            \
	({                                      \
		volatile int vec_ = -1;         \
		cpu->exc_jmp = &jb;             \
		if (setjmp(jb) == 0) {          \
			stmt;                   \
		} else {                        \
			vec_ = cpu->exc_vector; \
		}                               \
		cpu->exc_jmp = NULL;            \
		vec_;                           \
	})

static void mk(const char *spec)
{
	char err[128];
	ck_assert_msg(cpu_model_parse(spec, &model, err, sizeof(err)), "%s", err);
	if (!mmu) {
		mmu = mmu_new(1 << 20);
		ck_assert_ptr_nonnull(mmu);
		mmu_map_ram(mmu, 0, 1 << 20, 0);
	}
	cpu = cpu_new(NULL, mmu, &model, 0);
	ck_assert_ptr_nonnull(cpu);
	msr_reset(cpu, false);
}

static void teardown(void)
{
	cpu_free(cpu);
	cpu = NULL;
	mmu_free(mmu);
	mmu = NULL;
}

static uint64_t rd(uint32_t idx)
{
	uint64_t v = 0xdeadbeef;
	ck_assert_msg(msr_read(cpu, idx, &v), "rdmsr %#x failed", idx);
	return v;
}

/* Protected mode with paging off, CPL 0. */
static void to_prot(void)
{
	cpu->cr0 |= CR0_PE;
	cpu->seg[S_CS].attr = 0xc09b;
	cpu_update_mode(cpu);
}

/* 64-bit mode through the architectural path, with the first 2 MiB
 * identity-mapped (PML4 at 0x1000, PDPT 0x2000, PD 0x3000). */
static void to_long64(void)
{
	phys_write(mmu, 0x1000, 8, 0x2003);
	phys_write(mmu, 0x2000, 8, 0x3003);
	phys_write(mmu, 0x3000, 8, 0x83);
	to_prot();
	sys_write_cr4(cpu, CR4_PAE);
	ck_assert(msr_write(cpu, MSR_EFER, EFER_LME | EFER_SCE | EFER_NXE));
	cpu->cr3 = 0x1000;
	sys_write_cr0(cpu, cpu->cr0 | CR0_PG);
	cpu->seg[S_CS].attr = 0xa09b;
	cpu_update_mode(cpu);
	ck_assert_int_eq(cpu->mode, MODE_LONG64);
}

/* Decode bytes for the current mode and run the handler. */
static void run(const uint8_t *b, unsigned n)
{
	struct insn in;
	int bits = cpu->mode == MODE_LONG64 ? 64 : cpu->code32 ? 32 : 16;
	int len = decode_bytes(b, n, bits, cpu->model, &in);
	ck_assert_int_eq(len, (int)n);
	cpu->ip_start = cpu->rip;
	cpu->rip += (unsigned)len;
	in.fn(cpu, &in);
}
#define RUN(...)                                             \
	do {                                                 \
		static const uint8_t b_[] = { __VA_ARGS__ }; \
		run(b_, sizeof(b_));                         \
	} while (0)

/* ---- MSRs ---- */

START_TEST(tsc)
{
	mk("intel");
	cpu->icount = 1000;
	uint64_t t0 = rd(MSR_IA32_TSC);
	cpu->icount += 10;
	ck_assert_uint_eq(rd(MSR_IA32_TSC) - t0, 20); /* 2 GHz, 1 insn = 1 ns */
	ck_assert(msr_write(cpu, MSR_IA32_TSC, 5000));
	ck_assert_uint_eq(rd(MSR_IA32_TSC), 5000);
	ck_assert_uint_eq(rd(MSR_IA32_TSC_ADJUST), 5000 - (t0 + 20));
	ck_assert_uint_eq(cpu_tsc(cpu), 5000);
	/* Writing TSC_ADJUST moves the TSC by the difference. */
	ck_assert(msr_write(cpu, MSR_IA32_TSC_ADJUST, rd(MSR_IA32_TSC_ADJUST) + 100));
	ck_assert_uint_eq(rd(MSR_IA32_TSC), 5100);
	ck_assert(msr_write(cpu, MSR_TSC_AUX, 7));
	ck_assert_uint_eq(rd(MSR_TSC_AUX), 7);
	ck_assert(!msr_write(cpu, MSR_TSC_AUX, 1ull << 32));
}
END_TEST

START_TEST(apic_base)
{
	mk("intel");
	uint64_t v = rd(MSR_IA32_APIC_BASE);
	ck_assert_uint_eq(v, 0xfee00000ull | APIC_BASE_EN | APIC_BASE_BSP);
	ck_assert(!msr_write(cpu, MSR_IA32_APIC_BASE, v | (1ull << 9)));  /* reserved */
	ck_assert(!msr_write(cpu, MSR_IA32_APIC_BASE, v | (1ull << 40))); /* > MAXPHYADDR */
	ck_assert(!msr_write(cpu, MSR_IA32_APIC_BASE, (v & ~APIC_BASE_EN) | APIC_BASE_EXTD));
	ck_assert(msr_write(cpu, MSR_IA32_APIC_BASE, v | APIC_BASE_EXTD)); /* xAPIC -> x2APIC */
	ck_assert(!msr_write(cpu, MSR_IA32_APIC_BASE, v));                 /* x2APIC -> xAPIC */
	ck_assert(msr_write(cpu, MSR_IA32_APIC_BASE, v & ~(APIC_BASE_EN | APIC_BASE_BSP)));
	ck_assert(rd(MSR_IA32_APIC_BASE) & APIC_BASE_BSP);                  /* BSP is read-only */
	ck_assert(!msr_write(cpu, MSR_IA32_APIC_BASE, v | APIC_BASE_EXTD)); /* off -> x2APIC */
	ck_assert(msr_write(cpu, MSR_IA32_APIC_BASE, 0xfed00000ull | APIC_BASE_EN));
	ck_assert_uint_eq(rd(MSR_IA32_APIC_BASE), 0xfed00000ull | APIC_BASE_EN | APIC_BASE_BSP);
	cpu_free(cpu);
	mk("intel,-x2apic");
	ck_assert(!msr_write(cpu, MSR_IA32_APIC_BASE, rd(MSR_IA32_APIC_BASE) | APIC_BASE_EXTD));
}
END_TEST

START_TEST(feature_control_misc_enable)
{
	mk("intel,-vmx");
	ck_assert_uint_eq(rd(MSR_IA32_FEATURE_CONTROL), 0);
	ck_assert(!msr_write(cpu, MSR_IA32_FEATURE_CONTROL, FEATCTL_VMX_OUTSIDE_SMX)); /* no VMX */
	ck_assert(msr_write(cpu, MSR_IA32_FEATURE_CONTROL, FEATCTL_LOCK));
	ck_assert(!msr_write(cpu, MSR_IA32_FEATURE_CONTROL, 0)); /* locked */
	ck_assert_uint_eq(rd(MSR_IA32_FEATURE_CONTROL), FEATCTL_LOCK);

	uint64_t me = rd(MSR_IA32_MISC_ENABLE);
	ck_assert(me & MISC_EN_FAST_STRING);
	ck_assert(!(me & MISC_EN_XD_DISABLE));
	ck_assert(!msr_write(cpu, MSR_IA32_MISC_ENABLE, me | (1ull << 40)));
	/* XD disable, EIST and MONITOR enable are read/write (SDM Vol. 4
	 * Table 2-2); XD disable hides NX and refuses EFER.NXE 0->1. */
	uint32_t r[4];
	ck_assert(msr_write(cpu, MSR_IA32_MISC_ENABLE,
			    me | MISC_EN_XD_DISABLE | MISC_EN_EIST | MISC_EN_MONITOR));
	ck_assert_uint_eq(rd(MSR_IA32_MISC_ENABLE),
			  me | MISC_EN_XD_DISABLE | MISC_EN_EIST | MISC_EN_MONITOR);
	cpuid_query(cpu, 0x80000001, 0, r);
	ck_assert(!(r[3] & (1u << 20)));
	ck_assert(!msr_write(cpu, MSR_EFER, EFER_NXE));
	ck_assert(msr_write(cpu, MSR_IA32_MISC_ENABLE, me));
	cpuid_query(cpu, 0x80000001, 0, r);
	ck_assert(r[3] & (1u << 20));
	ck_assert(msr_write(cpu, MSR_IA32_MISC_ENABLE, me | MISC_EN_LIMIT_CPUID));
	cpuid_query(cpu, 0, 0, r);
	ck_assert_uint_eq(r[0], 2);
	/* Read-only bits ignore writes. */
	ck_assert(msr_write(cpu, MSR_IA32_MISC_ENABLE, 0));
	ck_assert_uint_eq(rd(MSR_IA32_MISC_ENABLE), MISC_EN_BTS_UNAVAIL | MISC_EN_PEBS_UNAVAIL);

	cpu_free(cpu);
	mk("amd,-svm");
	uint64_t v;
	ck_assert(!msr_read(cpu, MSR_IA32_FEATURE_CONTROL, &v));
	ck_assert(!msr_read(cpu, MSR_IA32_MISC_ENABLE, &v));
	ck_assert(msr_read(cpu, MSR_AMD_HWCR, &v));
	ck_assert(!msr_read(cpu, MSR_AMD_VM_CR, &v)); /* no SVM */
	ck_assert(!msr_read(cpu, MSR_AMD_VM_HSAVE_PA, &v));
	ck_assert(msr_read(cpu, MSR_AMD_TOP_MEM, &v));
	/* TOP_MEM/TOP_MEM2 describe the RAM of the machine (5 GiB: 3 GiB
	 * below the hole, 2 GiB above 4 GiB). */
	struct machine *m = calloc(1, sizeof(*m));
	ck_assert_ptr_nonnull(m);
	m->cfg.ram_size = 5ull << 30;
	cpu->machine = m;
	ck_assert_uint_eq(rd(MSR_AMD_TOP_MEM), 3ull << 30);
	ck_assert_uint_eq(rd(MSR_AMD_TOP_MEM2), 6ull << 30);
	ck_assert(rd(MSR_AMD_SYSCFG) & SYSCFG_MTRR_TOM2_EN);
	ck_assert(msr_write(cpu, MSR_AMD_DE_CFG, 2));
	cpu->machine = NULL;
	free(m);
}
END_TEST

START_TEST(pat_mtrr)
{
	mk("intel");
	ck_assert_uint_eq(rd(MSR_IA32_PAT), 0x0007040600070406ull);
	ck_assert(msr_write(cpu, MSR_IA32_PAT, 0x0007010600070406ull));
	ck_assert(!msr_write(cpu, MSR_IA32_PAT, 0x0007020600070406ull)); /* type 2 */
	ck_assert(!msr_write(cpu, MSR_IA32_PAT, 0x0007030600070406ull)); /* type 3 */
	ck_assert(!msr_write(cpu, MSR_IA32_PAT, 0x0007040600070486ull)); /* bit 7 of a byte */
	ck_assert_uint_eq(rd(MSR_IA32_PAT), 0x0007010600070406ull);

	ck_assert_uint_eq(rd(MSR_IA32_MTRRCAP) & 0xff, 8);
	ck_assert(!msr_write(cpu, MSR_IA32_MTRRCAP, 0));
	ck_assert(msr_write(cpu, MSR_IA32_MTRR_DEF_TYPE, MTRR_DEF_E | MTRR_DEF_FE | 6));
	ck_assert(!msr_write(cpu, MSR_IA32_MTRR_DEF_TYPE, 2));
	ck_assert(!msr_write(cpu, MSR_IA32_MTRR_DEF_TYPE, 1ull << 12));
	ck_assert(msr_write(cpu, MSR_IA32_MTRR_PHYSBASE0, 0x80000000ull | 0));
	ck_assert(!msr_write(cpu, MSR_IA32_MTRR_PHYSBASE0, 0x80000000ull | 3));
	ck_assert(!msr_write(cpu, MSR_IA32_MTRR_PHYSBASE0, 1ull << 40));
	ck_assert(msr_write(cpu, MSR_IA32_MTRR_PHYSBASE0 + 1, 0xffc0000000ull | MTRR_PHYSMASK_V));
	ck_assert(!msr_write(cpu, MSR_IA32_MTRR_PHYSBASE0 + 1, 0xffc0000000ull | 1));
	ck_assert_uint_eq(rd(MSR_IA32_MTRR_PHYSBASE0 + 15), 0);
	uint64_t v;
	ck_assert(!msr_read(cpu, MSR_IA32_MTRR_PHYSBASE0 + 16, &v));
	ck_assert(msr_write(cpu, MSR_IA32_MTRR_FIX4K_C0000 + 7, 0x0606060605050505ull));
	ck_assert_uint_eq(rd(MSR_IA32_MTRR_FIX4K_C0000 + 7), 0x0606060605050505ull);
	ck_assert(!msr_write(cpu, MSR_IA32_MTRR_FIX64K_00000, 0x0606060606060607ull));
}
END_TEST

START_TEST(efer)
{
	mk("intel");
	ck_assert(msr_write(cpu, MSR_EFER, EFER_SCE | EFER_LME | EFER_NXE | EFER_LMA));
	ck_assert_uint_eq(rd(MSR_EFER), EFER_SCE | EFER_LME | EFER_NXE); /* LMA read-only */
	ck_assert(!msr_write(cpu, MSR_EFER, EFER_SVME));                 /* no SVM */
	ck_assert(!msr_write(cpu, MSR_EFER, 1ull << 1));                 /* reserved */
	ck_assert(!msr_write(cpu, MSR_EFER, EFER_FFXSR));                /* not advertised */
	to_long64();
	ck_assert(rd(MSR_EFER) & EFER_LMA);
	/* LME cannot change while paging is on. */
	ck_assert(!msr_write(cpu, MSR_EFER, EFER_SCE | EFER_NXE | EFER_LMA));
	ck_assert(msr_write(cpu, MSR_EFER, EFER_LME | EFER_LMA));
	ck_assert_uint_eq(rd(MSR_EFER), EFER_LME | EFER_LMA);
	cpu_free(cpu);
	mk("intel,-nx");
	ck_assert(!msr_write(cpu, MSR_EFER, EFER_NXE));
}
END_TEST

START_TEST(syscall_msrs)
{
	mk("intel");
	ck_assert(msr_write(cpu, MSR_LSTAR, 0x00007fffffffffffull));
	ck_assert(msr_write(cpu, MSR_LSTAR, 0xffff800000000000ull));
	ck_assert(!msr_write(cpu, MSR_LSTAR, 0x0000800000000000ull));
	ck_assert(!msr_write(cpu, MSR_CSTAR, 0x8000000000000000ull));
	ck_assert(!msr_write(cpu, MSR_KERNEL_GS_BASE, 0x0001000000000000ull));
	ck_assert(msr_write(cpu, MSR_STAR, 0x0023001000000000ull));
	ck_assert(msr_write(cpu, MSR_SFMASK, 0x47700));
	ck_assert(!msr_write(cpu, MSR_SFMASK, 1ull << 32));
	ck_assert(msr_write(cpu, MSR_FS_BASE, 0x12345000));
	ck_assert_uint_eq(cpu->seg[S_FS].base, 0x12345000);
	ck_assert(msr_write(cpu, MSR_GS_BASE, 0xffff888000000000ull));
	ck_assert_uint_eq(rd(MSR_GS_BASE), 0xffff888000000000ull);
	ck_assert(!msr_write(cpu, MSR_IA32_SYSENTER_EIP, 0x0000800000000000ull));
	ck_assert(msr_write(cpu, MSR_IA32_SYSENTER_CS, 0x10));
	cpu_free(cpu);
	mk("amd");
	ck_assert(msr_write(cpu, MSR_IA32_SYSENTER_EIP, 0x0000800012345678ull));
	ck_assert_uint_eq(rd(MSR_IA32_SYSENTER_EIP), 0x12345678); /* 32-bit on AMD */
	cpu_free(cpu);
	mk("intel,+la57");
	ck_assert(msr_write(cpu, MSR_LSTAR, 0x0000800000000000ull));
	ck_assert(!msr_write(cpu, MSR_LSTAR, 0x0100000000000000ull));
}
END_TEST

START_TEST(misc_msrs)
{
	mk("intel");
	uint64_t v;
	ck_assert_uint_eq(rd(MSR_IA32_MCG_CAP) & 0xff, MC_NBANKS);
	ck_assert(!msr_write(cpu, MSR_IA32_MCG_CAP, 0));
	ck_assert(msr_write(cpu, MSR_IA32_MCG_CTL, ~0ull));
	ck_assert(!msr_write(cpu, MSR_IA32_MCG_CTL, 5));
	ck_assert(msr_write(cpu, MSR_IA32_MC0_CTL, ~0ull));
	ck_assert(msr_write(cpu, MSR_IA32_MC0_CTL + 1, 0)); /* MC0_STATUS */
	ck_assert(!msr_write(cpu, MSR_IA32_MC0_CTL + 1, 1ull << 63));
	ck_assert_uint_eq(rd(MSR_IA32_MC0_CTL + 4 * (MC_NBANKS - 1) + 1), 0);
	ck_assert(!msr_read(cpu, MSR_IA32_MC0_CTL + 4 * MC_NBANKS, &v));
	ck_assert(msr_write(cpu, MSR_IA32_MCG_STATUS, 0));
	ck_assert(!msr_write(cpu, MSR_IA32_MCG_STATUS, 1ull << 10));
	ck_assert(msr_write(cpu, MSR_IA32_DEBUGCTL, 0));
	ck_assert(msr_write(cpu, MSR_IA32_DEBUGCTL, 1));
	ck_assert(!msr_write(cpu, MSR_IA32_DEBUGCTL, 1ull << 6));
	ck_assert_uint_eq(rd(MSR_PLATFORM_INFO), 20u << 8);
	ck_assert(!msr_write(cpu, MSR_PLATFORM_INFO, 0));
	/* A revision new enough for Linux to trust TSC-deadline (>= 0xb2). */
	ck_assert_uint_eq(rd(MSR_IA32_BIOS_SIGN_ID) >> 32, 0xf0);
	/* Not advertised / unknown: #GP. */
	ck_assert(!msr_read(cpu, MSR_IA32_XSS, &v));
	ck_assert(!msr_write(cpu, MSR_IA32_XSS, 0));
	ck_assert(!msr_read(cpu, MSR_IA32_SPEC_CTRL, &v));
	ck_assert(!msr_write(cpu, MSR_IA32_PRED_CMD, 1));
	ck_assert(!msr_read(cpu, MSR_AMD_HWCR, &v));
	ck_assert(!msr_read(cpu, 0x12345678, &v));
	ck_assert(!msr_write(cpu, 0x12345678, 0));
	/* AMD's legacy performance counters are AMD-only. */
	ck_assert(!msr_read(cpu, 0xc0010000, &v));
	ck_assert(!msr_write(cpu, 0xc0010004, 0));
}
END_TEST

/* AMD legacy PerfEvtSel0-3 / PerfCtr0-3 (APM Vol. 2 §13.2.1), on qemu64
 * (AMD vendor). */
START_TEST(amd_perf_msrs)
{
	mk("qemu64");
	uint64_t v;
	ck_assert_uint_eq(rd(0xc0010000), 0);
	ck_assert(msr_write(cpu, 0xc0010003, 0x4300c0));
	ck_assert_uint_eq(rd(0xc0010003), 0x4300c0);
	ck_assert(!msr_write(cpu, 0xc0010000, 1ull << 45)); /* reserved */
	ck_assert(!msr_write(cpu, 0xc0010001, 1ull << 21));
	ck_assert(msr_write(cpu, 0xc0010007, ~0ull)); /* 48-bit counter */
	ck_assert_uint_eq(rd(0xc0010007), (1ull << 48) - 1);
	ck_assert(!msr_read(cpu, 0xc0010008, &v));
}
END_TEST

/* ---- control registers ---- */

START_TEST(cr0_rules)
{
	mk("intel");
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, CR0_PG | CR0_ET)), EXC_GP); /* PG without PE */
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, CR0_NW | CR0_PE)), EXC_GP); /* NW without CD */
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, CR0_PE | (1ull << 32))), EXC_GP);
	ck_assert_uint_eq(cpu->cr0, 0x60000010); /* unchanged */
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, CR0_PE)), -1);
	ck_assert_uint_eq(cpu->cr0, CR0_PE | CR0_ET); /* ET hardwired */
	ck_assert_int_eq(cpu->mode, MODE_PROT);
	ck_assert(cpu->pending & PEND_MODE);
	/* Reserved low bits are ignored. */
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, CR0_PE | (1ull << 7))), -1);
	ck_assert_uint_eq(cpu->cr0, CR0_PE | CR0_ET);
	/* Long mode needs PAE. */
	ck_assert(msr_write(cpu, MSR_EFER, EFER_LME));
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, CR0_PE | CR0_PG)), EXC_GP);
	ck_assert(!(cpu->cr0 & CR0_PG));
	cpu->cr4 = CR4_PAE;
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, CR0_PE | CR0_PG)), -1);
	ck_assert(cpu->msr.efer & EFER_LMA);
	ck_assert_int_eq(cpu->mode, MODE_COMPAT);
	/* Clearing PAE in long mode, or PG from 64-bit code, is #GP. */
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, 0)), EXC_GP);
	cpu->seg[S_CS].attr |= SEG_ATTR_L;
	cpu_update_mode(cpu);
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, CR0_PE)), EXC_GP);
	/* From compatibility mode, clearing PG leaves long mode. */
	cpu->seg[S_CS].attr &= ~SEG_ATTR_L;
	cpu_update_mode(cpu);
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, CR0_PE)), -1);
	ck_assert(!(cpu->msr.efer & EFER_LMA));
	ck_assert_int_eq(cpu->mode, MODE_PROT);
}
END_TEST

START_TEST(cr4_cr3_cr8_rules)
{
	mk("intel,-vmx");
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_VMXE)), EXC_GP); /* no VMX */
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_PKE)), EXC_GP);  /* no PKU */
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_LA57)), EXC_GP); /* no LA57 */
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, 1ull << 32)), EXC_GP);
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_PCIDE)), EXC_GP); /* not in IA-32e */
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_OSFXSR | CR4_SMEP | CR4_SMAP)), -1);
	ck_assert_uint_eq(cpu->cr4, CR4_OSFXSR | CR4_SMEP | CR4_SMAP);
	to_long64();
	cpu->cr3 = 0x1001;
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, cpu->cr4 | CR4_PCIDE)), EXC_GP);
	cpu->cr3 = 0x1000;
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, cpu->cr4 | CR4_PCIDE)), -1);
	/* CR3: bit 63 is the no-flush hint with PCIDE and is not stored. */
	ck_assert_int_eq(FAULTS(sys_write_cr3(cpu, (1ull << 63) | 0x2005)), -1);
	ck_assert_uint_eq(cpu->cr3, 0x2005);
	ck_assert_int_eq(FAULTS(sys_write_cr3(cpu, 1ull << 40)), EXC_GP); /* > MAXPHYADDR */
	ck_assert_uint_eq(cpu->cr3, 0x2005);
	/* Paging off with PCIDE set is #GP. */
	cpu->seg[S_CS].attr &= ~SEG_ATTR_L;
	cpu_update_mode(cpu);
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, CR0_PE)), EXC_GP);
	ck_assert_int_eq(FAULTS(sys_write_cr8(cpu, 16)), EXC_GP);
	ck_assert_int_eq(FAULTS(sys_write_cr8(cpu, 9)), -1);
	ck_assert_uint_eq(cpu->cr8, 9);
}
END_TEST

START_TEST(pae_pdptes)
{
	mk("intel");
	to_prot();
	/* PDPT at 0x3000: entry 1 has a reserved bit (bit 1 = R/W, reserved
	 * in PAE PDPTEs). */
	uint64_t good[4] = { 0x4001, 0x5001, 0, 0x6001 };
	phys_write_buf(mmu, 0x3000, good, sizeof(good));
	phys_write(mmu, 0x3020, 8, 0x5003);
	sys_write_cr4(cpu, CR4_PAE);
	cpu->cr3 = 0x3020;
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, cpu->cr0 | CR0_PG)), EXC_GP);
	ck_assert(!(cpu->cr0 & CR0_PG));
	cpu->cr3 = 0x3000;
	ck_assert_int_eq(FAULTS(sys_write_cr0(cpu, cpu->cr0 | CR0_PG)), -1);
	ck_assert(cpu->pdpte_valid);
	ck_assert_uint_eq(cpu->pdpte[1], 0x5001);
	ck_assert_uint_eq(cpu->pdpte[3], 0x6001);
	ck_assert(!(cpu->msr.efer & EFER_LMA));
	/* MOV CR3 reloads them and faults on a bad table. */
	ck_assert_int_eq(FAULTS(sys_write_cr3(cpu, 0x3020)), EXC_GP);
	ck_assert_uint_eq(cpu->cr3, 0x3000);
}
END_TEST

/* ---- instructions through the decoder ---- */

START_TEST(mov_cr_insn)
{
	mk("intel,-vmx");
	to_long64();
	RUN(0x0f, 0x20, 0xc0); /* mov rax, cr0 */
	ck_assert_uint_eq(cpu->gpr[R_AX], cpu->cr0);
	cpu->gpr[R_BX] = 5;
	RUN(0x44, 0x0f, 0x22, 0xc3); /* mov cr8, rbx */
	ck_assert_uint_eq(cpu->cr8, 5);
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x22, 0xc8)), EXC_UD); /* mov cr1, rax */
	cpu->gpr[R_AX] = cpu->cr4 | CR4_VMXE;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x22, 0xe0)), EXC_GP); /* mov cr4, rax */
	cpu->cpl = 3;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x20, 0xc0)), EXC_GP);
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x32)), EXC_GP); /* rdmsr at CPL 3 */
	cpu->cr4 |= CR4_TSD;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x31)), EXC_GP); /* rdtsc with TSD */
	cpu->cpl = 0;
	RUN(0x0f, 0x31);
	cpu->cpl = 0;
	cpu->gpr[R_CX] = MSR_IA32_PAT;
	RUN(0x0f, 0x32);
	ck_assert_uint_eq(cpu->gpr[R_AX], 0x00070406);
	ck_assert_uint_eq(cpu->gpr[R_DX], 0x00070406);
	cpu->gpr[R_CX] = 0x12345678;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x32)), EXC_GP);
}
END_TEST

/* LOCK MOV CR0 = CR8 on AMD (CR8_LEGACY); #UD on Intel. The LOCK prefix is
 * set by hand so the test does not depend on the decoder's LOCK rules. */
START_TEST(lock_mov_cr8)
{
	static const uint8_t b[] = { 0x0f, 0x20, 0xc0 };
	struct insn in;
	mk("amd");
	to_prot();
	cpu->cr8 = 7;
	ck_assert_int_eq(decode_bytes(b, 3, 32, cpu->model, &in), 3);
	in.pfx |= PFX_LOCK;
	in.fn(cpu, &in);
	ck_assert_uint_eq(cpu->gpr[R_AX], 7);
	cpu_free(cpu);
	mk("intel");
	to_prot();
	ck_assert_int_eq(decode_bytes(b, 3, 32, cpu->model, &in), 3);
	in.pfx |= PFX_LOCK;
	ck_assert_int_eq(FAULTS(in.fn(cpu, &in)), EXC_UD);
}
END_TEST

START_TEST(mov_dr_insn)
{
	mk("intel");
	to_long64();
	RUN(0x0f, 0x21, 0xf0); /* mov rax, dr6 */
	ck_assert_uint_eq(cpu->gpr[R_AX], DR6_FIXED1);
	cpu->gpr[R_AX] = 0x1234;
	RUN(0x0f, 0x23, 0xc0); /* mov dr0, rax */
	ck_assert_uint_eq(cpu->dr[0], 0x1234);
	cpu->gpr[R_AX] = 1ull << 32;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x23, 0xf8)), EXC_GP); /* dr7 high bits */
	RUN(0x0f, 0x21, 0xe0); /* mov rax, dr4 = dr6 without CR4.DE */
	ck_assert_uint_eq(cpu->gpr[R_AX], DR6_FIXED1);
	cpu->cr4 |= CR4_DE;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x21, 0xe0)), EXC_UD);
	cpu->dr[7] |= DR7_GD;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x21, 0xc0)), EXC_DB);
	ck_assert(cpu->dr[6] & DR6_BD);
	ck_assert(!(cpu->dr[7] & DR7_GD));
}
END_TEST

START_TEST(xsetbv_cli_sti)
{
	mk("intel");
	to_prot();
	cpu->gpr[R_CX] = 0;
	cpu->gpr[R_AX] = 3;
	cpu->gpr[R_DX] = 0;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x01, 0xd1)), EXC_UD); /* no OSXSAVE */
	cpu->cr4 |= CR4_OSXSAVE;
	RUN(0x0f, 0x01, 0xd1);
	ck_assert_uint_eq(cpu->xcr0, 3);
	cpu->gpr[R_AX] = 2;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x01, 0xd1)), EXC_GP); /* x87 bit clear */
	cpu->gpr[R_AX] = 7;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x01, 0xd1)), EXC_GP); /* AVX unsupported */
	cpu->gpr[R_AX] = 0;
	RUN(0x0f, 0x01, 0xd0); /* xgetbv */
	ck_assert_uint_eq(cpu->gpr[R_AX], 3);

	/* CLI/STI: IOPL 0 at CPL 3 faults unless PVI. */
	cpu->rflags |= F_IF;
	cpu->cpl = 3;
	ck_assert_int_eq(FAULTS(RUN(0xfa)), EXC_GP);
	cpu->cr4 |= CR4_PVI;
	cpu->rflags |= F_VIF;
	RUN(0xfa);
	ck_assert(!(cpu->rflags & F_VIF) && (cpu->rflags & F_IF));
	cpu->cpl = 0;
	RUN(0xfa);
	ck_assert(!(cpu->rflags & F_IF));
	cpu->shadow = 0;
	RUN(0xfb);
	ck_assert(cpu->rflags & F_IF);
	ck_assert_uint_eq(cpu->shadow, SHADOW_STI);
	cpu->shadow = 0;
	RUN(0xfb); /* IF already 1: no new shadow */
	ck_assert_uint_eq(cpu->shadow, 0);
	RUN(0xf4);
	ck_assert(cpu->halted);
}
END_TEST

START_TEST(misc_insns)
{
	mk("intel");
	to_long64();
	/* CPUID through the handler. */
	cpu->gpr[R_AX] = 0x80000008;
	cpu->gpr[R_CX] = 0;
	RUN(0x0f, 0xa2);
	ck_assert_uint_eq(cpu->gpr[R_AX] & 0xff, 40);
	/* RDRAND: CF = 1, reproducible for the same state. */
	cpu->rip = 0x5000;
	RUN(0x48, 0x0f, 0xc7, 0xf0); /* rdrand rax */
	uint64_t r1 = cpu->gpr[R_AX];
	ck_assert(flags_get(cpu) & F_CF);
	cpu->rip = 0x5000;
	RUN(0x48, 0x0f, 0xc7, 0xf0);
	ck_assert_uint_eq(cpu->gpr[R_AX], r1);
	cpu->icount++;
	cpu->rip = 0x5000;
	RUN(0x48, 0x0f, 0xc7, 0xf0);
	ck_assert_uint_ne(cpu->gpr[R_AX], r1);
	RUN(0x66, 0x0f, 0xc7, 0xf8); /* rdseed ax */
	ck_assert(flags_get(cpu) & F_CF);
	/* RDPID / RDTSCP return TSC_AUX. */
	ck_assert(msr_write(cpu, MSR_TSC_AUX, 0x42));
	RUN(0xf3, 0x0f, 0xc7, 0xf8); /* rdpid rax */
	ck_assert_uint_eq(cpu->gpr[R_AX], 0x42);
	RUN(0x0f, 0x01, 0xf9); /* rdtscp */
	ck_assert_uint_eq(cpu->gpr[R_CX], 0x42);
	/* WRFSBASE needs CR4.FSGSBASE and a canonical value. */
	cpu->gpr[R_BX] = 0x7000;
	ck_assert_int_eq(FAULTS(RUN(0xf3, 0x48, 0x0f, 0xae, 0xd3)), EXC_UD);
	cpu->cr4 |= CR4_FSGSBASE;
	RUN(0xf3, 0x48, 0x0f, 0xae, 0xd3); /* wrfsbase rbx */
	ck_assert_uint_eq(cpu->seg[S_FS].base, 0x7000);
	cpu->gpr[R_BX] = 0x0000800000000000ull;
	ck_assert_int_eq(FAULTS(RUN(0xf3, 0x48, 0x0f, 0xae, 0xd3)), EXC_GP);
	RUN(0xf3, 0x48, 0x0f, 0xae, 0xc1); /* rdfsbase rcx */
	ck_assert_uint_eq(cpu->gpr[R_CX], 0x7000);
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x01, 0xc8)), EXC_UD); /* monitor */
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x01, 0xc9)), EXC_UD); /* mwait */
	/* STAC/CLAC at CPL 0; #UD at CPL 3. */
	RUN(0x0f, 0x01, 0xcb);
	ck_assert(cpu->rflags & F_AC);
	RUN(0x0f, 0x01, 0xca);
	ck_assert(!(cpu->rflags & F_AC));
	cpu->cpl = 3;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x01, 0xcb)), EXC_UD);
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x01, 0x38)), EXC_GP); /* invlpg [rax] */
	ck_assert_int_eq(FAULTS(RUN(0xf4)), EXC_GP);             /* hlt */
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x09)), EXC_GP);       /* wbinvd */
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x33)), EXC_GP);       /* rdpmc */
	/* SMSW at CPL 3 works until UMIP is set. */
	RUN(0x0f, 0x01, 0xe0); /* smsw eax */
	ck_assert_uint_eq(cpu->gpr[R_AX], (uint32_t)cpu->cr0);
	cpu->cr4 |= CR4_UMIP;
	ck_assert_int_eq(FAULTS(RUN(0x0f, 0x01, 0xe0)), EXC_GP);
}
END_TEST

START_TEST(lmsw_invpcid)
{
	mk("intel");
	/* Real mode, paging off: identity-mapped RAM. LMSW sets PE ... */
	cpu->gpr[R_AX] = CR0_PE | CR0_MP;
	RUN(0x0f, 0x01, 0xf0); /* lmsw ax */
	ck_assert(cpu->cr0 & CR0_PE);
	ck_assert(cpu->cr0 & CR0_MP);
	ck_assert_int_eq(cpu->mode, MODE_PROT);
	/* ... but never clears it. */
	cpu->gpr[R_AX] = 0;
	RUN(0x0f, 0x01, 0xf0);
	ck_assert(cpu->cr0 & CR0_PE);
	ck_assert(!(cpu->cr0 & CR0_MP));
	cpu_free(cpu);

	mk("intel");
	to_long64();
	uint64_t desc[2] = { 0, 0x1000 };
	phys_write_buf(mmu, 0x800, desc, sizeof(desc));
	cpu->gpr[R_BX] = 0x800;
	cpu->gpr[R_AX] = 4;
	ck_assert_int_eq(FAULTS(RUN(0x66, 0x0f, 0x38, 0x82, 0x03)), EXC_GP); /* bad type */
	cpu->gpr[R_AX] = 0;
	RUN(0x66, 0x0f, 0x38, 0x82, 0x03); /* invpcid rax, [rbx] */
	desc[0] = 1;
	phys_write_buf(mmu, 0x800, desc, sizeof(desc));
	ck_assert_int_eq(FAULTS(RUN(0x66, 0x0f, 0x38, 0x82, 0x03)), EXC_GP); /* PCID w/o PCIDE */
	cpu->gpr[R_AX] = 2;
	RUN(0x66, 0x0f, 0x38, 0x82, 0x03); /* all contexts: PCID ignored */
	desc[0] = 1ull << 12;
	phys_write_buf(mmu, 0x800, desc, sizeof(desc));
	ck_assert_int_eq(FAULTS(RUN(0x66, 0x0f, 0x38, 0x82, 0x03)), EXC_GP); /* reserved */
}
END_TEST

/* A port device recording what the CPU did. */
struct io_log {
	uint32_t last_write;
	unsigned writes, reads;
	uint8_t bytes[16];
};

static uint32_t io_rd(void *opaque, uint16_t port, unsigned size)
{
	struct io_log *l = opaque;
	l->reads++;
	return 0x11223344u + l->reads;
}

static void io_wr(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct io_log *l = opaque;
	if (l->writes < sizeof(l->bytes))
		l->bytes[l->writes] = (uint8_t)val;
	l->writes++;
	l->last_write = val;
}

START_TEST(port_io)
{
	static const struct ioport_ops ops = { io_rd, io_wr, false };
	struct io_log log = { 0 };
	struct machine *m = calloc(1, sizeof(*m));
	ck_assert_ptr_nonnull(m);
	m->io = ioport_new();
	ioport_register(m->io, 0x500, 4, &ops, &log, "test");
	mk("intel");
	cpu->machine = m;
	/* Real mode: no permission check. */
	cpu->gpr[R_AX] = 0xabcd1234;
	RUN(0xe6, 0x00); /* out 0, al: unclaimed port */
	cpu->gpr[R_DX] = 0x500;
	RUN(0x66, 0xef); /* out dx, eax */
	ck_assert_uint_eq(log.last_write, 0xabcd1234);
	RUN(0xec); /* in al, dx */
	ck_assert_uint_eq(cpu->gpr[R_AX], 0xabcd1200 | 0x45);
	RUN(0x66, 0xed); /* in eax, dx */
	ck_assert_uint_eq(cpu->gpr[R_AX], 0x11223346);
	/* REP OUTSB from DS:SI, 3 bytes. */
	phys_write_buf(mmu, 0x600, "xyz", 3);
	log.writes = 0;
	cpu->gpr[R_SI] = 0x600;
	cpu->gpr[R_CX] = 3;
	RUN(0xf3, 0x6e);
	ck_assert_uint_eq(log.writes, 3);
	ck_assert_mem_eq(log.bytes, "xyz", 3);
	ck_assert_uint_eq(cpu->gpr[R_SI], 0x603);
	ck_assert_uint_eq(cpu->gpr[R_CX], 0);
	/* REP INSW to ES:DI, backwards. */
	cpu->rflags |= F_DF;
	cpu->gpr[R_DI] = 0x702;
	cpu->gpr[R_CX] = 2;
	RUN(0xf3, 0x6d);
	ck_assert_uint_eq(cpu->gpr[R_DI], 0x6fe);
	ck_assert_uint_eq(phys_read(mmu, 0x702, 2), 0x3347);
	ck_assert_uint_eq(phys_read(mmu, 0x700, 2), 0x3348);
	/* Protected mode, CPL 3 > IOPL, no TSS bitmap: #GP, nothing read. */
	to_prot();
	cpu->cpl = 3;
	cpu->tr.limit = 103; /* no room for an I/O bitmap */
	unsigned reads = log.reads;
	ck_assert_int_eq(FAULTS(RUN(0xec)), EXC_GP);
	ck_assert_uint_eq(log.reads, reads);
	cpu->machine = NULL;
	ioport_free(m->io);
	free(m);
}
END_TEST

START_TEST(breakpoints)
{
	mk("intel");
	cpu->dr[0] = 0x1000;
	cpu->dr[1] = 0x2004;
	cpu->dr[2] = 0x3f8;
	/* DR0 exec (L0), DR1 write 4 bytes (G1), DR2 I/O 1 byte (L2). */
	cpu->dr[7] = DR7_FIXED1 | 0x1 | 0x8 | 0x10 | (1ull << 20) | (3ull << 22) | (2ull << 24);
	ck_assert_int_eq(dbg_match_exec(cpu, 0x1000), 1);
	ck_assert_int_eq(dbg_match_exec(cpu, 0x1001), 0);
	ck_assert_int_eq(dbg_match_data(cpu, 0x2006, 1, true), 2);
	ck_assert_int_eq(dbg_match_data(cpu, 0x2006, 1, false), 0);
	ck_assert_int_eq(dbg_match_data(cpu, 0x2002, 4, true), 2); /* overlap */
	ck_assert_int_eq(dbg_match_data(cpu, 0x2008, 4, true), 0);
	ck_assert_int_eq(dbg_match_data(cpu, 0x1000, 1, true), 0); /* exec bp */
	ck_assert_int_eq(dbg_match_io(cpu, 0x3f8, 1), 0);          /* needs CR4.DE */
	cpu->cr4 |= CR4_DE;
	ck_assert_int_eq(dbg_match_io(cpu, 0x3f8, 1), 4);
	ck_assert_int_eq(dbg_match_io(cpu, 0x3f6, 4), 4);
	ck_assert_int_eq(dbg_match_io(cpu, 0x3f9, 1), 0);
	cpu->dr[7] &= ~0x1ull; /* disable DR0 */
	ck_assert_int_eq(dbg_match_exec(cpu, 0x1000), 0);
}
END_TEST

/* Registers added for kvm-unit-tests parity: machine-check banks that keep
 * what software writes, IA32_PKRS, CR4.PKE/PKS validity per model, XCR0
 * bit 9 (PKRU) and the protection-key CPUID bits. */
/* A vCPU of another model, replacing the current one. */
static void remk(const char *spec)
{
	if (cpu)
		cpu_free(cpu);
	cpu = NULL;
	mk(spec);
}

/* VM_CR and SVM-Lock (APM Vol. 2 §15.30.1, §15.31): LOCK freezes LOCK and
 * SVMDIS (writes silently ignored), the SVM_KEY MSR reads 0 and its key
 * clears LOCK; SVMDIS forbids EFER.SVME. */
START_TEST(svm_lock)
{
	remk("amd");
	uint64_t v;
	ck_assert_uint_eq(rd(MSR_AMD_VM_CR), 0);
	ck_assert(!msr_write(cpu, MSR_AMD_VM_CR, 1ull << 5)); /* reserved */
	ck_assert(msr_write(cpu, MSR_AMD_SVM_KEY, 0x1234));
	ck_assert_uint_eq(rd(MSR_AMD_SVM_KEY), 0);
	ck_assert(msr_write(cpu, MSR_AMD_VM_CR, VM_CR_LOCK | VM_CR_SVMDIS));
	ck_assert(!msr_write(cpu, MSR_EFER, rd(MSR_EFER) | EFER_SVME));
	/* Locked: LOCK and SVMDIS keep their values, other bits still move. */
	ck_assert(msr_write(cpu, MSR_AMD_VM_CR, VM_CR_DPD));
	ck_assert_uint_eq(rd(MSR_AMD_VM_CR), VM_CR_LOCK | VM_CR_SVMDIS | VM_CR_DPD);
	ck_assert(msr_write(cpu, MSR_AMD_SVM_KEY, 0x1235)); /* wrong key */
	ck_assert(rd(MSR_AMD_VM_CR) & VM_CR_LOCK);
	ck_assert(msr_write(cpu, MSR_AMD_SVM_KEY, 0x1234));
	ck_assert_uint_eq(rd(MSR_AMD_VM_CR), VM_CR_SVMDIS | VM_CR_DPD);
	ck_assert(msr_write(cpu, MSR_AMD_VM_CR, 0));
	ck_assert(msr_write(cpu, MSR_EFER, rd(MSR_EFER) | EFER_SVME));
	/* A zero key never unlocks. */
	ck_assert(msr_write(cpu, MSR_AMD_SVM_KEY, 0));
	ck_assert(msr_write(cpu, MSR_AMD_VM_CR, VM_CR_LOCK));
	ck_assert(msr_write(cpu, MSR_AMD_SVM_KEY, 0));
	ck_assert(rd(MSR_AMD_VM_CR) & VM_CR_LOCK);
	remk("amd,-svm-lock");
	ck_assert(!msr_read(cpu, MSR_AMD_SVM_KEY, &v));
}
END_TEST

START_TEST(mc_banks)
{
	remk("intel");
	for (unsigned b = 0; b < MC_NBANKS; b++) {
		uint32_t ctl = MSR_IA32_MC0_CTL + 4 * b;
		ck_assert_uint_eq(rd(ctl), ~0ull); /* reset: all error types on */
		ck_assert(msr_write(cpu, ctl, 0));
		ck_assert_uint_eq(rd(ctl), 0);
		ck_assert(msr_write(cpu, ctl, ~0ull & ~(1ull << 10)));
		ck_assert_uint_eq(rd(ctl), ~0ull & ~(1ull << 10));
		ck_assert(!msr_write(cpu, ctl, 0xaaaaaaaaaaaaaaaaull));
		ck_assert(msr_write(cpu, ctl + 1, 0));
		ck_assert(!msr_write(cpu, ctl + 1, 1));
		ck_assert_uint_eq(rd(ctl + 1), 0);
		ck_assert(msr_write(cpu, ctl + 2, ~0ull));
		ck_assert_uint_eq(rd(ctl + 2), ~0ull);
		ck_assert(msr_write(cpu, ctl + 3, 0xaaaaaaaaaaaaaaaaull));
		ck_assert_uint_eq(rd(ctl + 3), 0xaaaaaaaaaaaaaaaaull);
	}
	uint64_t v;
	ck_assert(!msr_read(cpu, MSR_IA32_MC0_CTL + 4 * MC_NBANKS, &v));
	/* INIT keeps the banks, RESET restores them. */
	msr_reset(cpu, true);
	ck_assert_uint_eq(rd(MSR_IA32_MC0_CTL + 3), 0xaaaaaaaaaaaaaaaaull);
}
END_TEST

START_TEST(pkrs_msr)
{
	uint64_t v;
	remk("intel");
	ck_assert(!msr_read(cpu, MSR_IA32_PKRS, &v)); /* no PKS on the Intel model */
	ck_assert(!msr_write(cpu, MSR_IA32_PKRS, 0));
	remk("max");
	ck_assert_uint_eq(rd(MSR_IA32_PKRS), 0);
	ck_assert(!msr_write(cpu, MSR_IA32_PKRS, 1ull << 32));
	uint64_t gen = cpu->tlb->gen;
	ck_assert(msr_write(cpu, MSR_IA32_PKRS, 0x30));
	ck_assert_uint_eq(rd(MSR_IA32_PKRS), 0x30);
	ck_assert_uint_ne(cpu->tlb->gen, gen); /* cached rights dropped */
	gen = cpu->tlb->gen;
	ck_assert(msr_write(cpu, MSR_IA32_PKRS, 0x30));
	ck_assert_uint_eq(cpu->tlb->gen, gen); /* same value: no flush */
	cpu_set_pkru(cpu, 4);
	ck_assert_uint_ne(cpu->tlb->gen, gen);
	ck_assert_uint_eq(cpu->pkru, 4);
}
END_TEST

START_TEST(cr4_and_cpuid)
{
	uint32_t r[4];
	remk("intel");
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_PKE)), EXC_GP);
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_PKS)), EXC_GP);
	cpuid_query(cpu, 7, 0, r);
	ck_assert(!(r[2] & (1u << 3)) && !(r[2] & (1u << 31)));
	cpuid_query(cpu, 0xd, 0, r);
	ck_assert_uint_eq(r[0], 3);
	ck_assert_uint_eq(r[2], 576);

	remk("amd");
	cpuid_query(cpu, 7, 0, r);
	ck_assert(r[2] & (1u << 3));     /* Zen 3: PKU */
	ck_assert(!(r[2] & (1u << 31))); /* no PKS */

	remk("max");
	cpuid_query(cpu, 7, 0, r);
	ck_assert(r[2] & (1u << 3) && r[2] & (1u << 31));
	ck_assert(!(r[2] & (1u << 4))); /* OSPKE follows CR4.PKE */
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_PKE | CR4_PKS)), -1);
	cpuid_query(cpu, 7, 0, r);
	ck_assert(r[2] & (1u << 4));
	cpuid_query(cpu, 0xd, 0, r);
	ck_assert_uint_eq(r[0], 0x203);
	ck_assert_uint_eq(r[1], 576); /* XCR0 = x87 only */
	ck_assert_uint_eq(r[2], 2696);
	cpuid_query(cpu, 0xd, 9, r);
	ck_assert_uint_eq(r[0], 8);
	ck_assert_uint_eq(r[1], 2688);
	cpuid_query(cpu, 0xd, 8, r);
	ck_assert_uint_eq(r[0] | r[1], 0);
	ck_assert_uint_eq(model_xcr0_supported(&model), 0x203);
	remk("max,-pku");
	ck_assert_uint_eq(model_xcr0_supported(&model), 0x3);
	ck_assert_int_eq(FAULTS(sys_write_cr4(cpu, CR4_PKE)), EXC_GP);
}
END_TEST

/* optab.c references the families weakly; a strong reference makes the
 * linker take cpu/ops_sys.o out of the static core library. */
void (*const sys_family_link)(void) = ops_sys_register;

int main(void)
{
	Suite *s = suite_create("msr");
	TCase *tc = tcase_create("msr");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, tsc);
	tcase_add_test(tc, apic_base);
	tcase_add_test(tc, feature_control_misc_enable);
	tcase_add_test(tc, pat_mtrr);
	tcase_add_test(tc, efer);
	tcase_add_test(tc, syscall_msrs);
	tcase_add_test(tc, misc_msrs);
	tcase_add_test(tc, amd_perf_msrs);
	suite_add_tcase(s, tc);
	tc = tcase_create("cr");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, cr0_rules);
	tcase_add_test(tc, cr4_cr3_cr8_rules);
	tcase_add_test(tc, pae_pdptes);
	suite_add_tcase(s, tc);
	tc = tcase_create("insn");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, mov_cr_insn);
	tcase_add_test(tc, lock_mov_cr8);
	tcase_add_test(tc, mov_dr_insn);
	tcase_add_test(tc, xsetbv_cli_sti);
	tcase_add_test(tc, misc_insns);
	tcase_add_test(tc, lmsw_invpcid);
	tcase_add_test(tc, port_io);
	tcase_add_test(tc, breakpoints);
	suite_add_tcase(s, tc);
	tc = tcase_create("pk_mc");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, mc_banks);
	tcase_add_test(tc, svm_lock);
	tcase_add_test(tc, pkrs_msr);
	tcase_add_test(tc, cr4_and_cpuid);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
