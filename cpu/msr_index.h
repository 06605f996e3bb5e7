/*
 * cpu/msr_index.h — MSR numbers (Intel SDM Vol. 4, AMD APM Vol. 2 App. A)
 * and the bit fields cpu/msr.c checks. Private to cpu/msr.c, cpu/ops_sys*.c
 * and their tests (VMX/SVM code may include it for the numbers).
 */
#ifndef NESTBOX_CPU_MSR_INDEX_H
#define NESTBOX_CPU_MSR_INDEX_H

/* Architectural (IA32_*) */
#define MSR_IA32_P5_MC_ADDR        0x00000000
#define MSR_IA32_P5_MC_TYPE        0x00000001
#define MSR_IA32_TSC               0x00000010
#define MSR_IA32_PLATFORM_ID       0x00000017
#define MSR_IA32_APIC_BASE         0x0000001b
#define MSR_IA32_FEATURE_CONTROL   0x0000003a
#define MSR_IA32_TSC_ADJUST        0x0000003b
#define MSR_IA32_SPEC_CTRL         0x00000048
#define MSR_IA32_PRED_CMD          0x00000049
#define MSR_IA32_BIOS_UPDT_TRIG    0x00000079
#define MSR_IA32_BIOS_SIGN_ID      0x0000008b
#define MSR_PLATFORM_INFO          0x000000ce
#define MSR_IA32_MTRRCAP           0x000000fe
#define MSR_IA32_SYSENTER_CS       0x00000174
#define MSR_IA32_SYSENTER_ESP      0x00000175
#define MSR_IA32_SYSENTER_EIP      0x00000176
#define MSR_IA32_MCG_CAP           0x00000179
#define MSR_IA32_MCG_STATUS        0x0000017a
#define MSR_IA32_MCG_CTL           0x0000017b
#define MSR_IA32_MISC_ENABLE       0x000001a0
#define MSR_IA32_DEBUGCTL          0x000001d9
#define MSR_LASTBRANCH_FROM        0x000001db
#define MSR_LASTBRANCH_TO          0x000001dc
#define MSR_LASTINT_FROM           0x000001dd
#define MSR_LASTINT_TO             0x000001de
#define MSR_IA32_MTRR_PHYSBASE0    0x00000200 /* PHYSBASEn = 200h + 2n, PHYSMASKn = +1 */
#define MSR_IA32_MTRR_FIX64K_00000 0x00000250
#define MSR_IA32_MTRR_FIX16K_80000 0x00000258
#define MSR_IA32_MTRR_FIX16K_A0000 0x00000259
#define MSR_IA32_MTRR_FIX4K_C0000  0x00000268 /* ..26Fh: FIX4K_F8000 */
#define MSR_IA32_PAT               0x00000277
#define MSR_IA32_MTRR_DEF_TYPE     0x000002ff
#define MSR_IA32_MC0_CTL           0x00000400 /* MCi_CTL/STATUS/ADDR/MISC = 400h + 4i + 0..3 */
#define MSR_IA32_XSS               0x00000da0
#define MSR_IA32_PKRS              0x000006e1
#define MSR_IA32_X2APIC_FIRST      0x00000800 /* 800h-8FFh: x2APIC (LAPIC owner) */
#define MSR_IA32_X2APIC_LAST       0x000008ff

#define MSR_EFER           0xc0000080
#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_CSTAR          0xc0000083
#define MSR_SFMASK         0xc0000084
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX        0xc0000103

/* AMD */
#define MSR_AMD_SYSCFG      0xc0010010
#define MSR_AMD_HWCR        0xc0010015
#define MSR_AMD_TOP_MEM     0xc001001a
#define MSR_AMD_TOP_MEM2    0xc001001d
#define MSR_AMD_VM_CR       0xc0010114
#define MSR_AMD_VM_HSAVE_PA 0xc0010117
#define MSR_AMD_SVM_KEY     0xc0010118
#define MSR_AMD_TSC_RATIO   0xc0000104 /* SVM TSC ratio (8.32 fixed point) */
#define MSR_AMD_DE_CFG      0xc0011029

/* IA32_APIC_BASE */
#define APIC_BASE_BSP  (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN   (1ull << 11)

/* IA32_FEATURE_CONTROL */
#define FEATCTL_LOCK            (1ull << 0)
#define FEATCTL_VMX_IN_SMX      (1ull << 1)
#define FEATCTL_VMX_OUTSIDE_SMX (1ull << 2)

/* IA32_MISC_ENABLE */
#define MISC_EN_FAST_STRING  (1ull << 0)
#define MISC_EN_TCC          (1ull << 3)
#define MISC_EN_PERFMON      (1ull << 7)
#define MISC_EN_BTS_UNAVAIL  (1ull << 11)
#define MISC_EN_PEBS_UNAVAIL (1ull << 12)
#define MISC_EN_EIST         (1ull << 16)
#define MISC_EN_MONITOR      (1ull << 18)
#define MISC_EN_LIMIT_CPUID  (1ull << 22)
#define MISC_EN_XTPR_DISABLE (1ull << 23)
#define MISC_EN_XD_DISABLE   (1ull << 34)

/* IA32_MCG_CAP */
#define MCG_CTL_P (1ull << 8)
#define MC_NBANKS 4

/* IA32_MTRR_DEF_TYPE */
#define MTRR_DEF_FE     (1ull << 10)
#define MTRR_DEF_E      (1ull << 11)
#define MTRR_PHYSMASK_V (1ull << 11)

/* AMD VM_CR */
#define VM_CR_DPD      (1ull << 0)
#define VM_CR_R_INIT   (1ull << 1)
#define VM_CR_DIS_A20M (1ull << 2)
#define VM_CR_LOCK     (1ull << 3)
#define VM_CR_SVMDIS   (1ull << 4)

/* AMD HWCR bit 24: TscFreqSel (the TSC counts at the P0 frequency; read-only
 * one on family 17h+). */
#define HWCR_TSCFREQSEL (1ull << 24)

/* AMD SYSCFG */
#define SYSCFG_MTRR_VAR_DRAM_EN (1ull << 20)
#define SYSCFG_MTRR_TOM2_EN     (1ull << 21)

#endif
