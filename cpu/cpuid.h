/*
 * cpu/cpuid.h — CPU models: vendor, CPUID leaves and the feature bits that
 * the rest of the core consults (an instruction whose feature is not
 * advertised raises #UD). Models are data (cpu/cpu_models.c); -cpu NAME,+f,-f
 * edits a copy at start-up. Whatever CPUID advertises must be implemented.
 */
#ifndef NESTBOX_CPU_CPUID_H
#define NESTBOX_CPU_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cpu;

/* Feature words: each is one CPUID output register. */
enum feat_word {
	FW_1_EDX,
	FW_1_ECX,
	FW_7_EBX,
	FW_7_ECX,
	FW_7_EDX,
	FW_81_EDX,
	FW_81_ECX,
	FW_D1_EAX, /* CPUID.(0Dh,1).EAX: XSAVEOPT, XSAVEC, XGETBV1, XSAVES */
	FW_8A_EDX, /* CPUID.8000000Ah.EDX: SVM features */
	FW_NWORDS
};
/* Feature numbers are 1 + word*32 + bit, so 0 means "no feature". */
#define FEAT(word, bit) (((word) << 5 | (bit)) + 1)

enum feature {
	FEAT_NONE = 0,
	/* leaf 1 EDX */
	FEAT_FPU = FEAT(FW_1_EDX, 0),
	FEAT_VME = FEAT(FW_1_EDX, 1),
	FEAT_DE = FEAT(FW_1_EDX, 2),
	FEAT_PSE = FEAT(FW_1_EDX, 3),
	FEAT_TSC = FEAT(FW_1_EDX, 4),
	FEAT_MSR = FEAT(FW_1_EDX, 5),
	FEAT_PAE = FEAT(FW_1_EDX, 6),
	FEAT_MCE = FEAT(FW_1_EDX, 7),
	FEAT_CX8 = FEAT(FW_1_EDX, 8),
	FEAT_APIC = FEAT(FW_1_EDX, 9),
	FEAT_SEP = FEAT(FW_1_EDX, 11),
	FEAT_MTRR = FEAT(FW_1_EDX, 12),
	FEAT_PGE = FEAT(FW_1_EDX, 13),
	FEAT_MCA = FEAT(FW_1_EDX, 14),
	FEAT_CMOV = FEAT(FW_1_EDX, 15),
	FEAT_PAT = FEAT(FW_1_EDX, 16),
	FEAT_PSE36 = FEAT(FW_1_EDX, 17),
	FEAT_CLFSH = FEAT(FW_1_EDX, 19),
	FEAT_MMX = FEAT(FW_1_EDX, 23),
	FEAT_FXSR = FEAT(FW_1_EDX, 24),
	FEAT_SSE = FEAT(FW_1_EDX, 25),
	FEAT_SSE2 = FEAT(FW_1_EDX, 26),
	FEAT_HTT = FEAT(FW_1_EDX, 28),
	/* leaf 1 ECX */
	FEAT_SSE3 = FEAT(FW_1_ECX, 0),
	FEAT_PCLMULQDQ = FEAT(FW_1_ECX, 1),
	FEAT_MONITOR = FEAT(FW_1_ECX, 3),
	FEAT_VMX = FEAT(FW_1_ECX, 5),
	FEAT_SSSE3 = FEAT(FW_1_ECX, 9),
	FEAT_CX16 = FEAT(FW_1_ECX, 13),
	FEAT_PCID = FEAT(FW_1_ECX, 17),
	FEAT_SSE41 = FEAT(FW_1_ECX, 19),
	FEAT_SSE42 = FEAT(FW_1_ECX, 20),
	FEAT_X2APIC = FEAT(FW_1_ECX, 21),
	FEAT_MOVBE = FEAT(FW_1_ECX, 22),
	FEAT_POPCNT = FEAT(FW_1_ECX, 23),
	FEAT_TSC_DEADLINE = FEAT(FW_1_ECX, 24),
	FEAT_AES = FEAT(FW_1_ECX, 25),
	FEAT_XSAVE = FEAT(FW_1_ECX, 26),
	FEAT_OSXSAVE = FEAT(FW_1_ECX, 27),
	FEAT_RDRAND = FEAT(FW_1_ECX, 30),
	FEAT_HYPERVISOR = FEAT(FW_1_ECX, 31),
	/* leaf 7 EBX */
	FEAT_FSGSBASE = FEAT(FW_7_EBX, 0),
	FEAT_TSC_ADJUST = FEAT(FW_7_EBX, 1),
	FEAT_BMI1 = FEAT(FW_7_EBX, 3),
	FEAT_SMEP = FEAT(FW_7_EBX, 7),
	FEAT_BMI2 = FEAT(FW_7_EBX, 8),
	FEAT_ERMS = FEAT(FW_7_EBX, 9),
	FEAT_INVPCID = FEAT(FW_7_EBX, 10),
	FEAT_RDSEED = FEAT(FW_7_EBX, 18),
	FEAT_ADX = FEAT(FW_7_EBX, 19),
	FEAT_SMAP = FEAT(FW_7_EBX, 20),
	FEAT_CLFLUSHOPT = FEAT(FW_7_EBX, 23),
	/* leaf 7 ECX */
	FEAT_UMIP = FEAT(FW_7_ECX, 2),
	FEAT_PKU = FEAT(FW_7_ECX, 3),
	FEAT_LA57 = FEAT(FW_7_ECX, 16),
	FEAT_RDPID = FEAT(FW_7_ECX, 22),
	FEAT_PKS = FEAT(FW_7_ECX, 31),
	/* leaf 7 EDX */
	FEAT_FSRM = FEAT(FW_7_EDX, 4),
	FEAT_ARCH_CAP = FEAT(FW_7_EDX, 29),
	/* leaf 80000001h EDX */
	FEAT_SYSCALL = FEAT(FW_81_EDX, 11),
	FEAT_NX = FEAT(FW_81_EDX, 20),
	FEAT_PDPE1GB = FEAT(FW_81_EDX, 26),
	FEAT_RDTSCP = FEAT(FW_81_EDX, 27),
	FEAT_LM = FEAT(FW_81_EDX, 29),
	/* leaf 80000001h ECX */
	FEAT_LAHF_LM = FEAT(FW_81_ECX, 0),
	FEAT_SVM = FEAT(FW_81_ECX, 2),
	FEAT_CR8_LEGACY = FEAT(FW_81_ECX, 4),
	FEAT_ABM = FEAT(FW_81_ECX, 5), /* LZCNT */
	FEAT_SSE4A = FEAT(FW_81_ECX, 6),
	FEAT_MISALIGNSSE = FEAT(FW_81_ECX, 7),
	FEAT_PREFETCHW = FEAT(FW_81_ECX, 8),
	FEAT_SKINIT = FEAT(FW_81_ECX, 12), /* never set (svm/svm_insn.c) */
	/* leaf 8000000Ah EDX: SVM features (reported only with FEAT_SVM) */
	FEAT_NPT = FEAT(FW_8A_EDX, 0),
	FEAT_LBRV = FEAT(FW_8A_EDX, 1),
	FEAT_SVML = FEAT(FW_8A_EDX, 2),
	FEAT_NRIPS = FEAT(FW_8A_EDX, 3),
	FEAT_TSCRATE = FEAT(FW_8A_EDX, 4),
	FEAT_VMCBCLEAN = FEAT(FW_8A_EDX, 5),
	FEAT_FLUSHBYASID = FEAT(FW_8A_EDX, 6),
	FEAT_DECODEASSISTS = FEAT(FW_8A_EDX, 7),
	FEAT_PAUSEFILTER = FEAT(FW_8A_EDX, 10),
	FEAT_PFTHRESHOLD = FEAT(FW_8A_EDX, 12),
	FEAT_VVMSAVE = FEAT(FW_8A_EDX, 15),
	FEAT_VGIF = FEAT(FW_8A_EDX, 16),
	FEAT_VNMI = FEAT(FW_8A_EDX, 25),
	/* leaf 0Dh sub 1 EAX */
	FEAT_XSAVEOPT = FEAT(FW_D1_EAX, 0),
	FEAT_XSAVEC = FEAT(FW_D1_EAX, 1),
	FEAT_XGETBV1 = FEAT(FW_D1_EAX, 2),
	FEAT_XSAVES = FEAT(FW_D1_EAX, 3),
};

enum cpu_vendor {
	VENDOR_INTEL,
	VENDOR_AMD
};

struct cpu_model {
	char name[32];
	enum cpu_vendor vendor;
	uint32_t family, model, stepping;
	uint32_t feat[FW_NWORDS];
	uint32_t max_leaf, max_ext_leaf;
	uint8_t phys_addr_bits, lin_addr_bits;
	uint64_t tsc_hz; /* advertised TSC rate (leaf 15h/16h, KVM MSRs) */
	char brand[49];
	/* VMX capabilities switched off with QEMU's "-vmx-NAME" (allowed-1
	 * bits per control group of vmx/vmx_caps.c, MISC in the last). */
	uint64_t vmx_off[8];
};

/* Build a model from a -cpu argument ("intel", "amd", "max", each optionally
 * followed by ",+feat" / ",-feat" / ",feat=on|off"). On error returns false
 * and writes a one-line message naming the problem into err. */
bool cpu_model_parse(const char *spec, struct cpu_model *out, char *err, size_t errlen);

static inline void model_set(struct cpu_model *m, unsigned f, bool on)
{
	f--;
	if (on)
		m->feat[f >> 5] |= 1u << (f & 31);
	else
		m->feat[f >> 5] &= ~(1u << (f & 31));
}

static inline bool model_has(const struct cpu_model *m, unsigned f)
{
	if (f == FEAT_NONE)
		return true;
	f--;
	return (m->feat[f >> 5] >> (f & 31)) & 1;
}

/* XSAVE state components (XCR0 bits, SDM Vol. 1 §13.1) nestbox implements:
 * x87 and SSE always, PKRU (bit 9) with protection keys. */
#define XCR0_X87  (1ull << 0)
#define XCR0_SSE  (1ull << 1)
#define XCR0_PKRU (1ull << 9)
static inline uint64_t model_xcr0_supported(const struct cpu_model *m)
{
	return XCR0_X87 | XCR0_SSE | (m && model_has(m, FEAT_PKU) ? XCR0_PKRU : 0);
}

/* Execute CPUID for the current vCPU state (OSXSAVE, APIC ID, ...). */
void cpuid_query(struct cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* MSR access (cpu/msr.c). Return false if the MSR does not exist or the value
 * is invalid: the caller raises #GP(0). */
bool msr_read(struct cpu *cpu, uint32_t index, uint64_t *val);
bool msr_write(struct cpu *cpu, uint32_t index, uint64_t val);

#endif
