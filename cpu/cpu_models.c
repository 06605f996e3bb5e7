/*
 * cpu/cpu_models.c — the CPU model table and the -cpu argument parser.
 *
 * A model is data (struct cpu_model, cpu/cpuid.h): vendor, family/model/
 * stepping, the CPUID feature words, leaf ranges, address widths and the TSC
 * rate. cpu_model_parse() copies a base model ("intel", "amd", "max", and
 * QEMU's "qemu64" and "Opteron_G1"), applies QEMU's vendor=, phys-bits= and
 * host-phys-bits properties, and
 * applies ",+feat" / ",-feat" / ",feat=on|off" edits using the Linux
 * /proc/cpuinfo spelling of each feature (plus a few common aliases).
 *
 * Rule: a model advertises only what nestbox implements. Features that exist
 * in the name table but have no implementation yet (vmx, svm, avx, ...) can
 * be switched off but not on ("not implemented yet"). cpuid_query()
 * (cpu/cpuid.c) turns a model into CPUID leaves.
 */
#include <stdio.h>
#include <string.h>

#include "cpu/cpuid.h"
#include "vmx/vmx.h"

/* One row per feature name. impl: nestbox implements it, so "+name" is
 * accepted. */
struct feat_name {
	const char *name;
	uint16_t feat;
	bool impl;
};

static const struct feat_name feat_names[] = {
	{ "fpu", FEAT_FPU, true },
	{ "vme", FEAT_VME, true },
	{ "de", FEAT_DE, true },
	{ "pse", FEAT_PSE, true },
	{ "tsc", FEAT_TSC, true },
	{ "msr", FEAT_MSR, true },
	{ "pae", FEAT_PAE, true },
	{ "mce", FEAT_MCE, true },
	{ "cx8", FEAT_CX8, true },
	{ "apic", FEAT_APIC, true },
	{ "sep", FEAT_SEP, true },
	{ "mtrr", FEAT_MTRR, true },
	{ "pge", FEAT_PGE, true },
	{ "mca", FEAT_MCA, true },
	{ "cmov", FEAT_CMOV, true },
	{ "pat", FEAT_PAT, true },
	{ "pse36", FEAT_PSE36, true },
	{ "clflush", FEAT_CLFSH, true },
	{ "mmx", FEAT_MMX, true },
	{ "fxsr", FEAT_FXSR, true },
	{ "sse", FEAT_SSE, true },
	{ "sse2", FEAT_SSE2, true },
	{ "sse3", FEAT_SSE3, true },
	{ "pni", FEAT_SSE3, true },
	{ "pclmulqdq", FEAT_PCLMULQDQ, true },
	/* MONITOR/MWAIT (cpu/ops_sys.c): MWAIT returns at once, which the
	 * SDM allows; off by default (an OS would spin in its idle loop). */
	{ "monitor", FEAT_MONITOR, true },
	{ "vmx", FEAT_VMX, true },
	{ "ssse3", FEAT_SSSE3, true },
	{ "cx16", FEAT_CX16, true },
	{ "pcid", FEAT_PCID, true },
	{ "sse4_1", FEAT_SSE41, true },
	{ "sse4.1", FEAT_SSE41, true },
	{ "sse4_2", FEAT_SSE42, true },
	{ "sse4.2", FEAT_SSE42, true },
	{ "x2apic", FEAT_X2APIC, true },
	{ "movbe", FEAT_MOVBE, true },
	{ "popcnt", FEAT_POPCNT, true },
	{ "tsc_deadline_timer", FEAT_TSC_DEADLINE, true },
	{ "tsc-deadline", FEAT_TSC_DEADLINE, true },
	{ "aes", FEAT_AES, true },
	{ "xsave", FEAT_XSAVE, true },
	{ "rdrand", FEAT_RDRAND, true },
	{ "hypervisor", FEAT_HYPERVISOR, false },
	{ "fsgsbase", FEAT_FSGSBASE, true },
	{ "tsc_adjust", FEAT_TSC_ADJUST, true },
	{ "bmi1", FEAT_BMI1, true },
	{ "smep", FEAT_SMEP, true },
	{ "bmi2", FEAT_BMI2, true },
	{ "erms", FEAT_ERMS, true },
	{ "invpcid", FEAT_INVPCID, true },
	{ "rdseed", FEAT_RDSEED, true },
	{ "adx", FEAT_ADX, true },
	{ "smap", FEAT_SMAP, true },
	{ "clflushopt", FEAT_CLFLUSHOPT, true },
	{ "umip", FEAT_UMIP, true },
	{ "pku", FEAT_PKU, true },
	{ "pks", FEAT_PKS, true },
	/* The page walker does 5-level paging (mmu/walk.h); off by default. */
	{ "la57", FEAT_LA57, true },
	{ "rdpid", FEAT_RDPID, true },
	{ "fsrm", FEAT_FSRM, false },
	{ "arch_capabilities", FEAT_ARCH_CAP, false },
	{ "syscall", FEAT_SYSCALL, true },
	{ "nx", FEAT_NX, true },
	{ "pdpe1gb", FEAT_PDPE1GB, true },
	{ "rdtscp", FEAT_RDTSCP, true },
	{ "lm", FEAT_LM, true },
	{ "lahf_lm", FEAT_LAHF_LM, true },
	{ "svm", FEAT_SVM, true },
	{ "skinit", FEAT_SKINIT, false },
	/* SVM features (CPUID 8000000Ah EDX), Linux and QEMU spellings. */
	{ "npt", FEAT_NPT, true },
	{ "lbrv", FEAT_LBRV, true },
	{ "svm-lock", FEAT_SVML, true },
	{ "svm_lock", FEAT_SVML, true },
	{ "nrip_save", FEAT_NRIPS, true },
	{ "nrip-save", FEAT_NRIPS, true },
	{ "tsc_scale", FEAT_TSCRATE, true },
	{ "tsc-scale", FEAT_TSCRATE, true },
	{ "vmcb_clean", FEAT_VMCBCLEAN, true },
	{ "vmcb-clean", FEAT_VMCBCLEAN, true },
	{ "flushbyasid", FEAT_FLUSHBYASID, true },
	{ "decodeassists", FEAT_DECODEASSISTS, true },
	{ "pausefilter", FEAT_PAUSEFILTER, true },
	{ "pause-filter", FEAT_PAUSEFILTER, true },
	{ "pfthreshold", FEAT_PFTHRESHOLD, true },
	{ "v_vmsave_vmload", FEAT_VVMSAVE, true },
	{ "v-vmsave-vmload", FEAT_VVMSAVE, true },
	{ "vgif", FEAT_VGIF, true },
	{ "vnmi", FEAT_VNMI, true },
	{ "cr8_legacy", FEAT_CR8_LEGACY, true },
	{ "abm", FEAT_ABM, true },
	{ "lzcnt", FEAT_ABM, true },
	{ "sse4a", FEAT_SSE4A, false },
	{ "misalignsse", FEAT_MISALIGNSSE, false },
	{ "3dnowprefetch", FEAT_PREFETCHW, true },
	{ "prefetchw", FEAT_PREFETCHW, true },
	{ "xsaveopt", FEAT_XSAVEOPT, true },
	{ "xsavec", FEAT_XSAVEC, true },
	{ "xgetbv1", FEAT_XGETBV1, true },
	{ "xsaves", FEAT_XSAVES, false },
};

/* Default feature set shared by the Intel and AMD models (the brief's list:
 * everything nestbox implements except the vendor-specific bits). HTT and
 * OSXSAVE are not here: cpuid_query() derives them from the machine (CPU
 * count) and CR4. */
static const uint16_t common_feats[] = {
	FEAT_FPU,          FEAT_VME,      FEAT_DE,     FEAT_PSE,       FEAT_TSC,
	FEAT_MSR,          FEAT_PAE,      FEAT_MCE,    FEAT_CX8,       FEAT_APIC,
	FEAT_SEP,          FEAT_MTRR,     FEAT_PGE,    FEAT_MCA,       FEAT_CMOV,
	FEAT_PAT,          FEAT_PSE36,    FEAT_CLFSH,  FEAT_MMX,       FEAT_FXSR,
	FEAT_SSE,          FEAT_SSE2,     FEAT_SSE3,   FEAT_PCLMULQDQ, FEAT_SSSE3,
	FEAT_CX16,         FEAT_PCID,     FEAT_SSE41,  FEAT_SSE42,     FEAT_MOVBE,
	FEAT_POPCNT,       FEAT_AES,      FEAT_XSAVE,  FEAT_RDRAND,    FEAT_X2APIC,
	FEAT_TSC_DEADLINE, FEAT_FSGSBASE, FEAT_BMI1,   FEAT_BMI2,      FEAT_ERMS,
	FEAT_INVPCID,      FEAT_SMEP,     FEAT_SMAP,   FEAT_ADX,       FEAT_RDSEED,
	FEAT_CLFLUSHOPT,   FEAT_UMIP,     FEAT_RDPID,  FEAT_SYSCALL,   FEAT_NX,
	FEAT_PDPE1GB,      FEAT_RDTSCP,   FEAT_LM,     FEAT_LAHF_LM,   FEAT_ABM,
	FEAT_PREFETCHW,    FEAT_XSAVEOPT, FEAT_XSAVEC, FEAT_XGETBV1,
};

#define TSC_HZ 2000000000ull /* 2.0 GHz, advertised in leaves 15h/16h */

/* The SVM features svm/ implements (CPUID 8000000Ah EDX), in every model:
 * cpuid_query reports them only when SVM itself is on. */
static const uint16_t svm_feats[] = {
	FEAT_NPT,       FEAT_LBRV,        FEAT_SVML,          FEAT_NRIPS,       FEAT_TSCRATE,
	FEAT_VMCBCLEAN, FEAT_FLUSHBYASID, FEAT_DECODEASSISTS, FEAT_PAUSEFILTER, FEAT_PFTHRESHOLD,
	FEAT_VVMSAVE,   FEAT_VGIF,        FEAT_VNMI,
};

static void add_common(struct cpu_model *m)
{
	for (size_t i = 0; i < sizeof(common_feats) / sizeof(common_feats[0]); i++)
		model_set(m, common_feats[i], true);
	for (size_t i = 0; i < sizeof(svm_feats) / sizeof(svm_feats[0]); i++)
		model_set(m, svm_feats[i], true);
}

/* Skylake-class client part: family 6, model 5Eh. No protection keys: client
 * Skylake has neither PKU (server Skylake-SP and Ice Lake do) nor PKS. */
static void model_intel(struct cpu_model *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "intel");
	m->vendor = VENDOR_INTEL;
	m->family = 6;
	m->model = 0x5e;
	m->stepping = 3;
	add_common(m);
	model_set(m, FEAT_VMX, true);        /* VT-x (vmx/) */
	model_set(m, FEAT_TSC_ADJUST, true); /* IA32_TSC_ADJUST is in cpu/msr.c */
	m->max_leaf = 0x1f;
	m->max_ext_leaf = 0x80000008;
	m->phys_addr_bits = 40;
	m->lin_addr_bits = 48;
	m->tsc_hz = TSC_HZ;
	snprintf(m->brand, sizeof(m->brand), "nestbox Skylake-class Intel CPU @ 2.00GHz");
}

/* Zen 3-class part: family 19h, model 21h. */
static void model_amd(struct cpu_model *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "amd");
	m->vendor = VENDOR_AMD;
	m->family = 0x19;
	m->model = 0x21;
	m->stepping = 0;
	add_common(m);
	model_set(m, FEAT_CR8_LEGACY, true);
	model_set(m, FEAT_SVM, true); /* AMD-V (svm/), with the svm_feats */
	model_set(m, FEAT_PKU, true); /* Zen 3 has PKU (APM Vol. 2 §5.6.7) */
	m->max_leaf = 0x0d;
	/* 8000000Ah is the SVM leaf (zero while SVM is off); 8000001Fh
	 * (SEV) stays absent. */
	m->max_ext_leaf = 0x8000000a;
	m->phys_addr_bits = 40;
	m->lin_addr_bits = 48;
	m->tsc_hz = TSC_HZ;
	snprintf(m->brand, sizeof(m->brand), "nestbox Zen-class AMD CPU @ 2.00GHz");
}

/* Everything nestbox implements, with Intel's vendor: the Intel model plus
 * protection keys for user (PKU) and supervisor (PKS) pages. */
static void model_max(struct cpu_model *m)
{
	model_intel(m);
	snprintf(m->name, sizeof(m->name), "max");
	model_set(m, FEAT_PKU, true);
	model_set(m, FEAT_PKS, true);
}

/* QEMU's qemu64 and Opteron_G1 (kvm-unit-tests asks for them): K8-class
 * parts with only the baseline x86-64 features, AMD's vendor. Leaves 0-0Dh,
 * 80000000h-80000008h. */
static const uint16_t k8_feats[] = {
	FEAT_FPU,  FEAT_DE,      FEAT_PSE,   FEAT_TSC,  FEAT_MSR,  FEAT_PAE, FEAT_MCE,
	FEAT_CX8,  FEAT_APIC,    FEAT_SEP,   FEAT_MTRR, FEAT_PGE,  FEAT_MCA, FEAT_CMOV,
	FEAT_PAT,  FEAT_PSE36,   FEAT_CLFSH, FEAT_MMX,  FEAT_FXSR, FEAT_SSE, FEAT_SSE2,
	FEAT_SSE3, FEAT_SYSCALL, FEAT_NX,    FEAT_LM,
};

static void model_k8(struct cpu_model *m, const char *name, uint32_t model, uint32_t stepping)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->vendor = VENDOR_AMD;
	m->family = 0xf;
	m->model = model;
	m->stepping = stepping;
	for (size_t i = 0; i < sizeof(k8_feats) / sizeof(k8_feats[0]); i++)
		model_set(m, k8_feats[i], true);
	m->max_leaf = 0x0d;
	m->max_ext_leaf = 0x80000008;
	m->phys_addr_bits = 40;
	m->lin_addr_bits = 48;
	m->tsc_hz = TSC_HZ;
}

/* qemu64: QEMU's default model (family 15, model 107, stepping 1), with
 * CX16, LAHF_LM and ABM as QEMU has them. */
static void model_qemu64(struct cpu_model *m)
{
	model_k8(m, "qemu64", 107, 1);
	model_set(m, FEAT_CX16, true);
	model_set(m, FEAT_LAHF_LM, true);
	model_set(m, FEAT_ABM, true);
	snprintf(m->brand, sizeof(m->brand), "QEMU Virtual CPU version 2.5+");
}

/* Opteron_G1: family 15, model 6, stepping 1. */
static void model_opteron_g1(struct cpu_model *m)
{
	model_k8(m, "Opteron_G1", 6, 1);
	model_set(m, FEAT_VME, true);
	snprintf(m->brand, sizeof(m->brand), "AMD Opteron 240 (Gen 1 Class Opteron)");
}

/* Model properties in QEMU's syntax that are not features: vendor=,
 * phys-bits=N, host-phys-bits[=on|off]. Returns 1 if s was one, 0 if not,
 * -1 on a bad value. */
static int apply_prop(struct cpu_model *m, const char *s, size_t len, char *err, size_t errlen)
{
	if (len > 7 && !strncmp(s, "vendor=", 7)) {
		if (len - 7 == 12 && !strncmp(s + 7, "GenuineIntel", 12))
			m->vendor = VENDOR_INTEL;
		else if (len - 7 == 12 && !strncmp(s + 7, "AuthenticAMD", 12))
			m->vendor = VENDOR_AMD;
		else {
			snprintf(err, errlen,
				 "-cpu: vendor '%.*s' is not supported "
				 "(GenuineIntel, AuthenticAMD)",
				 (int)(len - 7), s + 7);
			return -1;
		}
		return 1;
	}
	if (len > 10 && !strncmp(s, "phys-bits=", 10)) {
		unsigned v = 0;
		size_t i;
		for (i = 10; i < len && s[i] >= '0' && s[i] <= '9' && v < 100; i++)
			v = v * 10 + (unsigned)(s[i] - '0');
		/* The architectural MAXPHYADDR range (SDM Vol. 3A 4.1.4). */
		if (i != len || v < 32 || v > 52) {
			snprintf(err, errlen, "-cpu: phys-bits must be from 32 to 52");
			return -1;
		}
		m->phys_addr_bits = (uint8_t)v;
		return 1;
	}
	/* host-phys-bits: copy the host's MAXPHYADDR. Like QEMU with TCG,
	 * nestbox ignores it: the guest's view never depends on the host. */
	if ((len == 14 && !strncmp(s, "host-phys-bits", 14)) ||
	    (len == 17 && !strncmp(s, "host-phys-bits=on", 17)) ||
	    (len == 18 && !strncmp(s, "host-phys-bits=off", 18)))
		return 1;
	return 0;
}

static const struct feat_name *feat_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(feat_names) / sizeof(feat_names[0]); i++)
		if (strlen(feat_names[i].name) == len && !strncmp(feat_names[i].name, name, len))
			return &feat_names[i];
	return NULL;
}

/* Apply one ",item" edit of the -cpu spec. */
static bool apply_item(struct cpu_model *m, const char *s, size_t len, char *err, size_t errlen)
{
	bool on;
	const char *name = s;
	size_t nlen = len;
	const char *eq = memchr(s, '=', len);

	if (len == 0) {
		snprintf(err, errlen, "-cpu: empty feature item");
		return false;
	}
	if (s[0] == '+' || s[0] == '-') {
		on = s[0] == '+';
		name++;
		nlen--;
	} else if (eq) {
		const char *v = eq + 1;
		size_t vlen = len - (size_t)(v - s);
		nlen = (size_t)(eq - s);
		if (vlen == 2 && !strncmp(v, "on", 2))
			on = true;
		else if (vlen == 3 && !strncmp(v, "off", 3))
			on = false;
		else {
			snprintf(err, errlen, "-cpu: feature '%.*s': value must be on or off",
				 (int)nlen, name);
			return false;
		}
	} else {
		snprintf(err, errlen, "-cpu: '%.*s': expected +feature, -feature or feature=on|off",
			 (int)len, s);
		return false;
	}
	/* QEMU's VMX capability names (vmx/vmx_caps.c): "-vmx-ept" clears
	 * the bit from the capability MSRs; "+" keeps an implemented one. */
	unsigned vgroup, vbit;
	int v = nlen > 4 && !strncmp(name, "vmx-", 4)
			? vmx_feature_lookup(name, nlen, &vgroup, &vbit)
			: 0;
	if (v < 0 && on) {
		snprintf(err, errlen, "-cpu: VMX feature '%.*s' is not implemented yet", (int)nlen,
			 name);
		return false;
	}
	if (v) {
		if (on)
			m->vmx_off[vgroup] &= ~(1ull << vbit);
		else
			m->vmx_off[vgroup] |= 1ull << vbit;
		return true;
	}
	const struct feat_name *f = feat_lookup(name, nlen);
	if (!f) {
		snprintf(err, errlen, "-cpu: unknown CPU feature '%.*s'", (int)nlen, name);
		return false;
	}
	if (on && !f->impl) {
		snprintf(err, errlen, "-cpu: feature '%s' is not implemented yet", f->name);
		return false;
	}
	model_set(m, f->feat, on);
	return true;
}

bool cpu_model_parse(const char *spec, struct cpu_model *out, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	char dummy[1];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (!spec)
		spec = "max";
	const char *comma = strchr(spec, ',');
	size_t blen = comma ? (size_t)(comma - spec) : strlen(spec);
	struct cpu_model m;

	if (blen == 5 && !strncmp(spec, "intel", 5))
		model_intel(&m);
	else if (blen == 3 && !strncmp(spec, "amd", 3))
		model_amd(&m);
	else if (blen == 3 && !strncmp(spec, "max", 3))
		model_max(&m);
	else if (blen == 6 && !strncmp(spec, "qemu64", 6))
		model_qemu64(&m);
	else if (blen == 10 && !strncmp(spec, "Opteron_G1", 10))
		model_opteron_g1(&m);
	else if (blen == 4 && !strncmp(spec, "host", 4)) {
		snprintf(err, errlen,
			 "-cpu: CPU model 'host' requires KVM (max has every feature nestbox has)");
		return false;
	} else {
		snprintf(err, errlen,
			 "-cpu: unknown CPU model '%.*s' "
			 "(known: intel, amd, max, qemu64, Opteron_G1)",
			 (int)blen, spec);
		return false;
	}
	while (comma) {
		const char *item = comma + 1;
		comma = strchr(item, ',');
		size_t len = comma ? (size_t)(comma - item) : strlen(item);
		int r = apply_prop(&m, item, len, err, errlen);
		if (r < 0)
			return false;
		if (r)
			continue;
		if (!apply_item(&m, item, len, err, errlen))
			return false;
	}
	/* SVM brings its CPUID leaf 8000000Ah (the Intel-vendor models stop
	 * at 80000008h). */
	if (model_has(&m, FEAT_SVM) && m.max_ext_leaf < 0x8000000a)
		m.max_ext_leaf = 0x8000000a;
	/* Dependencies the rest of the core relies on. */
	if (!model_has(&m, FEAT_XSAVE)) {
		model_set(&m, FEAT_XSAVEOPT, false);
		model_set(&m, FEAT_XSAVEC, false);
		model_set(&m, FEAT_XGETBV1, false);
	}
	*out = m;
	return true;
}
