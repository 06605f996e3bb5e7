/*
 * cpu/cpuid.c — CPUID leaves computed from the vCPU's model (cpu/cpuid.h)
 * and its current state (APIC ID, CR4.OSXSAVE, IA32_APIC_BASE.EN, the CPU
 * count of the machine).
 *
 * Intel SDM Vol. 2A "CPUID"; AMD APM Vol. 3 Appendix E. Topology: every vCPU
 * is one core with one thread, all cores in one package, APIC ID = index.
 * Caches are plausible Skylake / Zen 3 values (they only steer software
 * tuning). Out-of-range leaves behave as the vendor's parts do: Intel returns
 * the highest basic leaf, AMD returns zeros.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "devices/lapic.h"
#include "devices/machine.h"

/* XSAVE area: 512-byte legacy region plus the 64-byte header; PKRU (state
 * component 9, 8 bytes) at its architectural offset 2688 in the standard
 * format, right after the header in the compacted one (SDM Vol. 1 §13.4). */
#define XSAVE_SIZE      576u
#define XSAVE_PKRU_OFF  2688u
#define XSAVE_PKRU_SIZE 8u

#define MISC_ENABLE_LIMIT_CPUID (1ull << 22)
#define APIC_BASE_EN            (1ull << 11)

static inline uint32_t cpuid_ncpus(const struct cpu *cpu)
{
	if (cpu->machine && cpu->machine->ncpus > 0)
		return (uint32_t)cpu->machine->ncpus;
	return 1;
}

/* Bits needed to hold IDs 0..n-1. */
static inline uint32_t id_bits(uint32_t n)
{
	uint32_t b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

/* Leaf 1 EAX / 80000001h EAX: stepping, model, family with the extended
 * fields (SDM Vol. 2A Figure 3-6). */
static uint32_t signature(const struct cpu_model *m)
{
	uint32_t fam = m->family, base_fam = fam > 0xf ? 0xf : fam;
	uint32_t ext_fam = fam > 0xf ? fam - 0xf : 0;
	uint32_t ext_model = (base_fam == 6 || base_fam == 0xf) ? (m->model >> 4) & 0xf : 0;
	return (m->stepping & 0xf) | (m->model & 0xf) << 4 | base_fam << 8 | ext_model << 16 |
	       ext_fam << 20;
}

static void vendor_regs(const struct cpu_model *m, uint32_t out[4])
{
	const char *v = m->vendor == VENDOR_AMD ? "AuthenticAMD" : "GenuineIntel";
	memcpy(&out[1], v, 4);     /* EBX */
	memcpy(&out[3], v + 4, 4); /* EDX */
	memcpy(&out[2], v + 8, 4); /* ECX */
}

/* Intel deterministic cache parameters (leaf 4), Skylake-like. */
struct cache_desc {
	uint8_t type, level; /* type 1 data, 2 instruction, 3 unified */
	uint16_t ways, sets;
	bool shared; /* shared by the whole package */
};
static const struct cache_desc intel_caches[] = {
	{ 1, 1, 8, 64, false },   /* L1d 32K */
	{ 2, 1, 8, 64, false },   /* L1i 32K */
	{ 3, 2, 4, 1024, false }, /* L2 256K */
	{ 3, 3, 16, 8192, true }, /* L3 8M */
};

static void leaf4(const struct cpu *cpu, uint32_t sub, uint32_t out[4])
{
	uint32_t n = cpuid_ncpus(cpu);
	if (sub >= sizeof(intel_caches) / sizeof(intel_caches[0]))
		return; /* type 0: no more caches */
	const struct cache_desc *c = &intel_caches[sub];
	uint32_t cores = 1u << id_bits(n);
	out[0] = c->type | (uint32_t)c->level << 5 | 1u << 8 /* self-initialising */ |
		 (c->shared ? (cores - 1) : 0) << 14 | (cores - 1) << 26;
	out[1] = 63u /* line size - 1 */ | 0u << 12 /* partitions - 1 */ |
		 (uint32_t)(c->ways - 1) << 22;
	out[2] = c->sets - 1u;
	out[3] = c->level == 3 ? 0x6 /* inclusive, complex indexing */ : 0;
}

/* Extended topology (leaves 0Bh and 1Fh): level 0 = SMT (1 thread per
 * core), level 1 = core (all vCPUs). */
static void leaf_topology(const struct cpu *cpu, uint32_t sub, uint32_t out[4])
{
	uint32_t n = cpuid_ncpus(cpu);
	out[3] = (uint32_t)cpu->index; /* x2APIC ID */
	out[2] = sub & 0xff;
	if (sub == 0) {
		out[0] = 0;
		out[1] = 1;
		out[2] |= 1u << 8; /* SMT */
	} else if (sub == 1) {
		out[0] = id_bits(n);
		out[1] = n;
		out[2] |= 2u << 8; /* core */
	}
}

static void leaf_d(const struct cpu *cpu, uint32_t sub, uint32_t out[4])
{
	const struct cpu_model *m = cpu->model;
	if (!model_has(m, FEAT_XSAVE))
		return;
	uint64_t supported = model_xcr0_supported(m);
	bool pkru_on = cpu->xcr0 & XCR0_PKRU;
	if (sub == 0) {
		out[0] = (uint32_t)supported;
		/* Standard-format size for the components enabled in XCR0,
		 * then for all supported components. */
		out[1] = pkru_on ? XSAVE_PKRU_OFF + XSAVE_PKRU_SIZE : XSAVE_SIZE;
		out[2] = (supported & XCR0_PKRU) ? XSAVE_PKRU_OFF + XSAVE_PKRU_SIZE : XSAVE_SIZE;
		out[3] = (uint32_t)(supported >> 32);
	} else if (sub == 1) {
		out[0] = m->feat[FW_D1_EAX];
		/* Compacted size of XCR0 | IA32_XSS (no XSS components). */
		out[1] = XSAVE_SIZE + (pkru_on ? XSAVE_PKRU_SIZE : 0);
		out[2] = 0; /* supported IA32_XSS bits */
		out[3] = 0;
	} else if (sub == 9 && (supported & XCR0_PKRU)) {
		/* PKRU: size, standard offset, user state (ECX[0] = 0), no
		 * 64-byte alignment in the compacted format (ECX[1] = 0). */
		out[0] = XSAVE_PKRU_SIZE;
		out[1] = XSAVE_PKRU_OFF;
	}
	/* Other components are not supported: zeros. */
}

static void brand(const struct cpu_model *m, uint32_t part, uint32_t out[4])
{
	char b[48];
	memset(b, 0, sizeof(b));
	memcpy(b, m->brand, strnlen(m->brand, sizeof(b) - 1));
	memcpy(out, b + 16 * part, 16);
}

static void basic_leaf(struct cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t max, uint32_t out[4])
{
	const struct cpu_model *m = cpu->model;
	bool intel = m->vendor == VENDOR_INTEL;
	uint32_t n = cpuid_ncpus(cpu);

	switch (leaf) {
	case 0:
		out[0] = max;
		vendor_regs(m, out);
		break;
	case 1:
		out[0] = signature(m);
		/* EBX: brand index 0, CLFLUSH line 8 qwords, addressable
		 * logical IDs per package, initial APIC ID. */
		out[1] = 8u << 8 | (n > 1 ? (1u << id_bits(n)) : 1u) << 16 |
			 ((uint32_t)cpu->index & 0xff) << 24;
		out[2] = m->feat[FW_1_ECX] & ~((1u << 27) | (1u << 31));
		if (cpu->cr4 & CR4_OSXSAVE)
			out[2] |= 1u << 27;
		out[3] = m->feat[FW_1_EDX] & ~(1u << 28);
		if (n > 1)
			out[3] |= 1u << 28; /* HTT: more than one logical CPU */
		/* A globally disabled local APIC hides the APIC bit (SDM Vol.
		 * 3 §11.4.3). */
		if (!(cpu->msr.apic_base & APIC_BASE_EN))
			out[3] &= ~(1u << 9);
		break;
	case 2:
		if (intel)
			out[0] = 0x0000ff01; /* one iteration; 0FFh: see leaf 4 */
		break;
	case 4:
		if (intel)
			leaf4(cpu, sub, out);
		break;
	case 5:
		/* MONITOR/MWAIT: 64-byte monitor lines; MWAIT extensions
		 * enumerated (ECX[0]) and interrupts as break events even
		 * when masked (ECX[1]); no C-state sub-states. */
		if (model_has(m, FEAT_MONITOR)) {
			out[0] = 64;
			out[1] = 64;
			out[2] = 3;
		}
		break;
	case 6:
		out[0] = 1u << 2; /* ARAT: the APIC timer never stops */
		break;
	case 7:
		if (sub == 0) {
			out[0] = 0; /* highest subleaf */
			out[1] = m->feat[FW_7_EBX];
			/* OSPKE (bit 4) mirrors CR4.PKE. */
			out[2] = m->feat[FW_7_ECX] & ~(1u << 4);
			if (cpu->cr4 & CR4_PKE)
				out[2] |= 1u << 4;
			out[3] = m->feat[FW_7_EDX];
		}
		break;
	case 0xb:
		/* AMD parts with x2APIC have leaf 0Bh too (APM Vol. 3 E.3.8,
		 * Fn0000_000B_EDX = x2APIC ID). */
		if (intel || model_has(m, FEAT_X2APIC))
			leaf_topology(cpu, sub, out);
		break;
	case 0x1f:
		if (intel)
			leaf_topology(cpu, sub, out);
		break;
	case 0xd:
		leaf_d(cpu, sub, out);
		break;
	case 0x15:
		/* TSC = crystal * EBX / EAX. The crystal clock is the APIC timer
		 * input (LAPIC_BUS_HZ, devices/lapic.h): 1 GHz. */
		if (intel && m->tsc_hz) {
			out[0] = LAPIC_BUS_HZ / 1000000u;
			out[1] = (uint32_t)(m->tsc_hz / 1000000u);
			out[2] = LAPIC_BUS_HZ;
		}
		break;
	case 0x16:
		if (intel && m->tsc_hz) {
			out[0] = (uint32_t)(m->tsc_hz / 1000000u); /* base MHz */
			out[1] = out[0];                           /* max MHz */
			out[2] = 100;                              /* bus MHz */
		}
		break;
	default:
		break; /* leaves without content for this model read as zeros */
	}
}

static void ext_leaf(struct cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	const struct cpu_model *m = cpu->model;
	bool amd = m->vendor == VENDOR_AMD;
	uint32_t n = cpuid_ncpus(cpu);

	switch (leaf) {
	case 0x80000000:
		out[0] = m->max_ext_leaf;
		if (amd)
			vendor_regs(m, out);
		break;
	case 0x80000001:
		out[2] = m->feat[FW_81_ECX];
		out[3] = m->feat[FW_81_EDX];
		/* IA32_MISC_ENABLE.XD_DISABLE (bit 34) hides NX (Intel). */
		if (!amd && (cpu->msr.misc_enable & (1ull << 34)))
			out[3] &= ~(1u << 20);
		if (amd) {
			out[0] = signature(m);
			/* AMD mirrors leaf 1 EDX bits 0-9, 12-17, 23-24
			 * (APM Vol. 3 E.4.2). */
			out[3] |= m->feat[FW_1_EDX] & 0x0183f3ffu;
		}
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004:
		brand(m, leaf - 0x80000002, out);
		break;
	case 0x80000005:
		if (amd) {
			out[0] = 0xff40ff40;                          /* 2M/4M L1 TLBs */
			out[1] = 0xff40ff40;                          /* 4K L1 TLBs */
			out[2] = 32u << 24 | 8u << 16 | 1u << 8 | 64; /* L1d 32K 8-way */
			out[3] = 32u << 24 | 8u << 16 | 1u << 8 | 64; /* L1i 32K 8-way */
		}
		break;
	case 0x80000006:
		if (amd) {
			out[0] = 0x26006400;                             /* L2 2M/4M TLBs */
			out[1] = 0x66006400;                             /* L2 4K TLBs */
			out[2] = 512u << 16 | 0x6u << 12 | 1u << 8 | 64; /* L2 512K 8-way */
			out[3] = 64u << 18 | 0x9u << 12 | 1u << 8 | 64;  /* L3 32M 16-way */
		} else {
			out[2] = 256u << 16 | 0x4u << 12 | 64; /* L2 256K 4-way */
		}
		break;
	case 0x80000007:
		out[3] = 1u << 8; /* invariant TSC: it follows the virtual clock */
		break;
	case 0x80000008:
		out[0] = m->phys_addr_bits | (uint32_t)m->lin_addr_bits << 8;
		if (model_has(m, FEAT_LA57))
			out[0] = m->phys_addr_bits | 57u << 8;
		if (amd)
			out[2] = (n - 1) | id_bits(n) << 12; /* cores, APIC ID bits */
		break;
	case 0x8000000a:
		/* SVM (APM Vol. 3 CPUID Fn8000_000A): revision 1, 64K ASIDs
		 * (svm/ tags nothing by ASID, so any number is correct), EDX
		 * = the model's SVM features (what svm/ implements, minus
		 * what -cpu switched off). Zero without SVM. */
		if (model_has(m, FEAT_SVM)) {
			out[0] = 1;
			out[1] = 0x10000;
			out[3] = m->feat[FW_8A_EDX];
		}
		break;
	default:
		break;
	}
}

void cpuid_query(struct cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	const struct cpu_model *m = cpu->model;
	uint32_t max = m->max_leaf;

	out[0] = out[1] = out[2] = out[3] = 0;
	/* IA32_MISC_ENABLE.LCMV limits the basic range to leaf 2 (Intel). */
	if (m->vendor == VENDOR_INTEL && (cpu->msr.misc_enable & MISC_ENABLE_LIMIT_CPUID) &&
	    max > 2)
		max = 2;
	if (leaf <= max) {
		basic_leaf(cpu, leaf, subleaf, max, out);
		return;
	}
	if (leaf >= 0x80000000u && leaf <= m->max_ext_leaf) {
		ext_leaf(cpu, leaf, subleaf, out);
		return;
	}
	/* Out of range: Intel answers with the highest basic leaf (SDM Vol. 2A
	 * CPUID, "If a value entered ... is higher than the maximum input
	 * value"), AMD with zeros. */
	if (m->vendor == VENDOR_INTEL)
		basic_leaf(cpu, max, subleaf, max, out);
}
