/*
 * vmx/vmx_caps.c — the VMX capability MSRs IA32_VMX_BASIC .. IA32_VMX_VMFUNC
 * (480h-491h; Intel SDM Vol. 3C Appendix A), computed from ONE table that
 * describes every control bit and whether nestbox implements it.
 *
 * Control MSRs (A.3-A.5): bits 31:0 are the allowed 0-settings (a 1 there
 * means the control must be 1), bits 63:32 the allowed 1-settings. The
 * "default1" controls are reserved bits that must be 1 unless the TRUE_*
 * MSR (reported because IA32_VMX_BASIC[55] = 1) says they may be 0.
 *
 * Status of a bit in the table:
 *   ST_FIXED1   default1 that stays 1 even in the TRUE_* MSR
 *   ST_DEF1     default1; the TRUE_* MSR allows 0 (nestbox handles both)
 *   ST_IMPL     allowed-1
 *   ST_TODO     known control, not implemented: allowed-1 = 0
 * Bits not in the table are reserved 0.
 *
 * THE RULE: a bit is ST_IMPL only when it is implemented end to end (VM
 * entry checks, its effect in non-root operation, VM exit): vmx/
 * vmx_entry_checks.c, vmx_entry.c, vmx_exit.c and ept.c with the
 * cpu/virt.h intercepts. A row may also depend on a CPU feature (an "enable
 * RDTSCP" control on a model without RDTSCP is not reported), and the user
 * may switch an allowed-1 bit off with QEMU's name ("-cpu max,-vmx-ept").
 */
#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/ops_sys.h"
#include "vmx/vmx_state.h"

enum ctl_group {
	G_PIN,
	G_PROC,
	G_PROC2,
	G_EXIT,
	G_ENTRY,
	G_EPTVPID,
	G_VMFUNC,
	G_NGROUPS,
	G_MISC = G_NGROUPS /* IA32_VMX_MISC bits, in cpu_model.vmx_off only */
};
enum ctl_status {
	ST_FIXED1 = 1,
	ST_DEF1,
	ST_IMPL,
	ST_TODO
};

struct ctl_bit {
	uint8_t group;
	uint8_t bit;
	uint8_t status;
	uint16_t feat; /* FEAT_* the bit also needs, or 0 */
	const char *name;
};

#define I  ST_IMPL
#define T  ST_TODO
#define D1 ST_DEF1
#define F1 ST_FIXED1

static const struct ctl_bit ctl_bits[] = {
	/* Pin-based VM-execution controls (SDM Vol. 3C §25.6.1, Table 25-5) */
	{ G_PIN, 0, I, 0, "external-interrupt exiting" },
	{ G_PIN, 1, F1, 0, "default1" },
	{ G_PIN, 2, F1, 0, "default1" },
	{ G_PIN, 3, I, 0, "NMI exiting" },
	{ G_PIN, 4, F1, 0, "default1" },
	{ G_PIN, 5, I, 0, "virtual NMIs" },
	{ G_PIN, 6, I, 0, "activate VMX-preemption timer" },
	{ G_PIN, 7, I, 0, "process posted interrupts" },

	/* Primary processor-based controls (Table 25-6) */
	{ G_PROC, 1, F1, 0, "default1" },
	{ G_PROC, 2, I, 0, "interrupt-window exiting" },
	{ G_PROC, 3, I, 0, "use TSC offsetting" },
	{ G_PROC, 4, F1, 0, "default1" },
	{ G_PROC, 5, F1, 0, "default1" },
	{ G_PROC, 6, F1, 0, "default1" },
	{ G_PROC, 7, I, 0, "HLT exiting" },
	{ G_PROC, 8, F1, 0, "default1" },
	{ G_PROC, 9, I, 0, "INVLPG exiting" },
	{ G_PROC, 10, I, 0, "MWAIT exiting" },
	{ G_PROC, 11, I, 0, "RDPMC exiting" },
	{ G_PROC, 12, I, 0, "RDTSC exiting" },
	{ G_PROC, 13, F1, 0, "default1" },
	{ G_PROC, 14, F1, 0, "default1" },
	{ G_PROC, 15, D1, 0, "CR3-load exiting" },
	{ G_PROC, 16, D1, 0, "CR3-store exiting" },
	{ G_PROC, 17, T, 0, "activate tertiary controls" },
	{ G_PROC, 19, I, 0, "CR8-load exiting" },
	{ G_PROC, 20, I, 0, "CR8-store exiting" },
	{ G_PROC, 21, I, 0, "use TPR shadow" },
	{ G_PROC, 22, I, 0, "NMI-window exiting" },
	{ G_PROC, 23, I, 0, "MOV-DR exiting" },
	{ G_PROC, 24, I, 0, "unconditional I/O exiting" },
	{ G_PROC, 25, I, 0, "use I/O bitmaps" },
	{ G_PROC, 26, F1, 0, "default1" },
	{ G_PROC, 27, I, 0, "monitor trap flag" },
	{ G_PROC, 28, I, 0, "use MSR bitmaps" },
	{ G_PROC, 29, I, 0, "MONITOR exiting" },
	{ G_PROC, 30, I, 0, "PAUSE exiting" },
	{ G_PROC, 31, I, 0, "activate secondary controls" },

	/* Secondary processor-based controls (Table 25-7) */
	{ G_PROC2, 0, I, 0, "virtualize APIC accesses" },
	{ G_PROC2, 1, I, 0, "enable EPT" },
	{ G_PROC2, 2, I, 0, "descriptor-table exiting" },
	{ G_PROC2, 3, I, FEAT_RDTSCP, "enable RDTSCP" },
	{ G_PROC2, 4, I, 0, "virtualize x2APIC mode" },
	{ G_PROC2, 5, I, 0, "enable VPID" },
	{ G_PROC2, 6, I, 0, "WBINVD exiting" },
	{ G_PROC2, 7, I, 0, "unrestricted guest" },
	{ G_PROC2, 8, I, 0, "APIC-register virtualization" },
	{ G_PROC2, 9, I, 0, "virtual-interrupt delivery" },
	{ G_PROC2, 10, I, 0, "PAUSE-loop exiting" },
	{ G_PROC2, 11, I, FEAT_RDRAND, "RDRAND exiting" },
	{ G_PROC2, 12, I, FEAT_INVPCID, "enable INVPCID" },
	{ G_PROC2, 13, I, 0, "enable VM functions" },
	{ G_PROC2, 14, I, 0, "VMCS shadowing" },
	{ G_PROC2, 15, T, 0, "enable ENCLS exiting" },
	{ G_PROC2, 16, I, FEAT_RDSEED, "RDSEED exiting" },
	{ G_PROC2, 17, I, 0, "enable PML" },
	{ G_PROC2, 18, T, 0, "EPT-violation #VE" },
	{ G_PROC2, 19, T, 0, "conceal VMX from PT" },
	{ G_PROC2, 20, T, FEAT_XSAVES, "enable XSAVES/XRSTORS" },
	{ G_PROC2, 22, T, 0, "mode-based execute control for EPT" },
	{ G_PROC2, 23, T, 0, "sub-page write permissions for EPT" },
	{ G_PROC2, 24, T, 0, "Intel PT uses guest physical addresses" },
	{ G_PROC2, 25, I, 0, "use TSC scaling" },
	{ G_PROC2, 26, T, 0, "enable user wait and pause" },
	{ G_PROC2, 27, T, 0, "enable PCONFIG" },
	{ G_PROC2, 28, T, 0, "enable ENCLV exiting" },

	/* Primary VM-exit controls (Table 25-13) */
	{ G_EXIT, 0, F1, 0, "default1" },
	{ G_EXIT, 1, F1, 0, "default1" },
	{ G_EXIT, 2, D1, 0, "save debug controls" },
	{ G_EXIT, 3, F1, 0, "default1" },
	{ G_EXIT, 4, F1, 0, "default1" },
	{ G_EXIT, 5, F1, 0, "default1" },
	{ G_EXIT, 6, F1, 0, "default1" },
	{ G_EXIT, 7, F1, 0, "default1" },
	{ G_EXIT, 8, F1, 0, "default1" },
	{ G_EXIT, 9, I, FEAT_LM, "host address-space size" },
	{ G_EXIT, 10, F1, 0, "default1" },
	{ G_EXIT, 11, F1, 0, "default1" },
	{ G_EXIT, 12, T, 0, "load IA32_PERF_GLOBAL_CTRL" },
	{ G_EXIT, 13, F1, 0, "default1" },
	{ G_EXIT, 14, F1, 0, "default1" },
	{ G_EXIT, 15, I, 0, "acknowledge interrupt on exit" },
	{ G_EXIT, 16, F1, 0, "default1" },
	{ G_EXIT, 17, F1, 0, "default1" },
	{ G_EXIT, 18, I, FEAT_PAT, "save IA32_PAT" },
	{ G_EXIT, 19, I, FEAT_PAT, "load IA32_PAT" },
	{ G_EXIT, 20, I, FEAT_LM, "save IA32_EFER" },
	{ G_EXIT, 21, I, FEAT_LM, "load IA32_EFER" },
	{ G_EXIT, 22, I, 0, "save VMX-preemption timer value" },
	{ G_EXIT, 23, T, 0, "clear IA32_BNDCFGS" },
	{ G_EXIT, 24, T, 0, "conceal VMX from PT" },
	{ G_EXIT, 25, T, 0, "clear IA32_RTIT_CTL" },
	{ G_EXIT, 28, T, 0, "load CET state" },

	/* VM-entry controls (Table 25-15) */
	{ G_ENTRY, 0, F1, 0, "default1" },
	{ G_ENTRY, 1, F1, 0, "default1" },
	{ G_ENTRY, 2, D1, 0, "load debug controls" },
	{ G_ENTRY, 3, F1, 0, "default1" },
	{ G_ENTRY, 4, F1, 0, "default1" },
	{ G_ENTRY, 5, F1, 0, "default1" },
	{ G_ENTRY, 6, F1, 0, "default1" },
	{ G_ENTRY, 7, F1, 0, "default1" },
	{ G_ENTRY, 8, F1, 0, "default1" },
	{ G_ENTRY, 9, I, FEAT_LM, "IA-32e mode guest" },
	{ G_ENTRY, 10, T, 0, "entry to SMM" },
	{ G_ENTRY, 11, T, 0, "deactivate dual-monitor treatment" },
	{ G_ENTRY, 12, F1, 0, "default1" },
	{ G_ENTRY, 13, T, 0, "load IA32_PERF_GLOBAL_CTRL" },
	{ G_ENTRY, 14, I, FEAT_PAT, "load IA32_PAT" },
	{ G_ENTRY, 15, I, FEAT_LM, "load IA32_EFER" },
	{ G_ENTRY, 16, T, 0, "load IA32_BNDCFGS" },
	{ G_ENTRY, 17, T, 0, "conceal VMX from PT" },
	{ G_ENTRY, 18, T, 0, "load IA32_RTIT_CTL" },
	{ G_ENTRY, 20, T, 0, "load CET state" },

	/* IA32_VMX_EPT_VPID_CAP (App. A.10); EPT bits count only with "enable
	 * EPT", VPID bits (63:32) only with "enable VPID". */
	{ G_EPTVPID, 0, I, 0, "EPT execute-only translations" },
	{ G_EPTVPID, 6, I, 0, "EPT page-walk length 4" },
	{ G_EPTVPID, 7, T, FEAT_LA57, "EPT page-walk length 5" },
	{ G_EPTVPID, 8, I, 0, "EPT memory type UC" },
	{ G_EPTVPID, 14, I, 0, "EPT memory type WB" },
	{ G_EPTVPID, 16, I, 0, "EPT 2-MByte pages" },
	{ G_EPTVPID, 17, I, FEAT_PDPE1GB, "EPT 1-GByte pages" },
	{ G_EPTVPID, 20, I, 0, "INVEPT" },
	{ G_EPTVPID, 21, I, 0, "EPT accessed and dirty flags" },
	{ G_EPTVPID, 22, I, 0, "advanced VM-exit information for EPT violations" },
	{ G_EPTVPID, 23, T, 0, "supervisor shadow-stack control" },
	{ G_EPTVPID, 25, I, 0, "single-context INVEPT" },
	{ G_EPTVPID, 26, I, 0, "all-context INVEPT" },
	{ G_EPTVPID, 32, I, 0, "INVVPID" },
	{ G_EPTVPID, 40, I, 0, "individual-address INVVPID" },
	{ G_EPTVPID, 41, I, 0, "single-context INVVPID" },
	{ G_EPTVPID, 42, I, 0, "all-context INVVPID" },
	{ G_EPTVPID, 43, I, 0, "single-context-retaining-globals INVVPID" },

	/* IA32_VMX_VMFUNC (App. A.11) */
	{ G_VMFUNC, 0, I, 0, "EPTP switching" },
};

#undef I
#undef T
#undef D1
#undef F1

/* IA32_VMX_BASIC (App. A.1) */
#define BASIC_REGION_SIZE_SHIFT 32
#define BASIC_MEMTYPE_WB        (6ull << 50)
#define BASIC_INS_OUTS_INFO     (1ull << 54)
#define BASIC_TRUE_CTLS         (1ull << 55)

/* IA32_VMX_MISC (App. A.6) */
#define MISC_PREEMPT_RATE  VMX_PREEMPT_RATE /* vmx/vmx_state.h */
#define MISC_STORE_LMA     (1ull << 5)      /* exit stores EFER.LMA in "IA-32e mode guest" */
#define MISC_ACT_HLT       (1ull << 6)
#define MISC_ACT_SHUTDOWN  (1ull << 7)
#define MISC_ACT_WAIT_SIPI (1ull << 8)
#define MISC_CR3_TARGETS   4u           /* bits 24:16 */
#define MISC_MSR_LIST      0u           /* bits 27:25: 512 * (N + 1) entries recommended */
#define MISC_VMWRITE_ANY   (1ull << 29) /* VMWRITE may write read-only fields */
#define MISC_INJECT_LEN0   (1ull << 30) /* soft INT / exception injection with length 0 */

/* CR0 bits fixed to 1 in VMX operation (App. A.7): PE, NE, PG. */
#define CR0_FIXED0 (CR0_PE | CR0_NE | CR0_PG)

/* Status of each group's bits, folded from the table into masks. */
/* QEMU's names for VMX capability bits (its -cpu "vmx-*" features), so a
 * kvm-unit-tests or QEMU command line can switch them off. */
static const struct {
	const char *name;
	uint8_t group, bit;
} qemu_names[] = {
	{ "vmx-intr-exit", G_PIN, 0 },
	{ "vmx-nmi-exit", G_PIN, 3 },
	{ "vmx-vnmi", G_PIN, 5 },
	{ "vmx-preemption-timer", G_PIN, 6 },
	{ "vmx-posted-intr", G_PIN, 7 },
	{ "vmx-vintr-pending", G_PROC, 2 },
	{ "vmx-tsc-offset", G_PROC, 3 },
	{ "vmx-hlt-exit", G_PROC, 7 },
	{ "vmx-invlpg-exit", G_PROC, 9 },
	{ "vmx-mwait-exit", G_PROC, 10 },
	{ "vmx-rdpmc-exit", G_PROC, 11 },
	{ "vmx-rdtsc-exit", G_PROC, 12 },
	{ "vmx-cr3-load-noexit", G_PROC, 15 },
	{ "vmx-cr3-store-noexit", G_PROC, 16 },
	{ "vmx-cr8-load-exit", G_PROC, 19 },
	{ "vmx-cr8-store-exit", G_PROC, 20 },
	{ "vmx-flexpriority", G_PROC, 21 },
	{ "vmx-vnmi-pending", G_PROC, 22 },
	{ "vmx-movdr-exit", G_PROC, 23 },
	{ "vmx-io-exit", G_PROC, 24 },
	{ "vmx-io-bitmap", G_PROC, 25 },
	{ "vmx-mtf", G_PROC, 27 },
	{ "vmx-msr-bitmap", G_PROC, 28 },
	{ "vmx-monitor-exit", G_PROC, 29 },
	{ "vmx-pause-exit", G_PROC, 30 },
	{ "vmx-secondary-ctls", G_PROC, 31 },
	{ "vmx-apicv-xapic", G_PROC2, 0 },
	{ "vmx-ept", G_PROC2, 1 },
	{ "vmx-desc-exit", G_PROC2, 2 },
	{ "vmx-rdtscp-exit", G_PROC2, 3 },
	{ "vmx-apicv-x2apic", G_PROC2, 4 },
	{ "vmx-vpid", G_PROC2, 5 },
	{ "vmx-wbinvd-exit", G_PROC2, 6 },
	{ "vmx-unrestricted-guest", G_PROC2, 7 },
	{ "vmx-apicv-register", G_PROC2, 8 },
	{ "vmx-apicv-vid", G_PROC2, 9 },
	{ "vmx-ple", G_PROC2, 10 },
	{ "vmx-rdrand-exit", G_PROC2, 11 },
	{ "vmx-invpcid-exit", G_PROC2, 12 },
	{ "vmx-vmfunc", G_PROC2, 13 },
	{ "vmx-shadow-vmcs", G_PROC2, 14 },
	{ "vmx-encls-exit", G_PROC2, 15 },
	{ "vmx-rdseed-exit", G_PROC2, 16 },
	{ "vmx-pml", G_PROC2, 17 },
	{ "vmx-xsaves", G_PROC2, 20 },
	{ "vmx-mbec", G_PROC2, 22 },
	{ "vmx-tsc-scaling", G_PROC2, 25 },
	{ "vmx-enable-user-wait-pause", G_PROC2, 26 },
	{ "vmx-exit-nosave-debugctl", G_EXIT, 2 },
	{ "vmx-exit-load-perf-global-ctrl", G_EXIT, 12 },
	{ "vmx-exit-ack-intr", G_EXIT, 15 },
	{ "vmx-exit-save-pat", G_EXIT, 18 },
	{ "vmx-exit-load-pat", G_EXIT, 19 },
	{ "vmx-exit-save-efer", G_EXIT, 20 },
	{ "vmx-exit-load-efer", G_EXIT, 21 },
	{ "vmx-exit-save-preemption-timer", G_EXIT, 22 },
	{ "vmx-exit-clear-bndcfgs", G_EXIT, 23 },
	{ "vmx-exit-clear-rtit-ctl", G_EXIT, 25 },
	{ "vmx-entry-noload-debugctl", G_ENTRY, 2 },
	{ "vmx-entry-ia32e-mode", G_ENTRY, 9 },
	{ "vmx-entry-load-perf-global-ctrl", G_ENTRY, 13 },
	{ "vmx-entry-load-pat", G_ENTRY, 14 },
	{ "vmx-entry-load-efer", G_ENTRY, 15 },
	{ "vmx-entry-load-bndcfgs", G_ENTRY, 16 },
	{ "vmx-entry-load-rtit-ctl", G_ENTRY, 18 },
	{ "vmx-ept-execonly", G_EPTVPID, 0 },
	{ "vmx-page-walk-4", G_EPTVPID, 6 },
	{ "vmx-page-walk-5", G_EPTVPID, 7 },
	{ "vmx-ept-2mb", G_EPTVPID, 16 },
	{ "vmx-ept-1gb", G_EPTVPID, 17 },
	{ "vmx-invept", G_EPTVPID, 20 },
	{ "vmx-eptad", G_EPTVPID, 21 },
	{ "vmx-ept-advanced-exitinfo", G_EPTVPID, 22 },
	{ "vmx-invept-single-context", G_EPTVPID, 25 },
	{ "vmx-invept-all-context", G_EPTVPID, 26 },
	{ "vmx-invvpid", G_EPTVPID, 32 },
	{ "vmx-invvpid-single-addr", G_EPTVPID, 40 },
	{ "vmx-invvpid-single-context", G_EPTVPID, 41 },
	{ "vmx-invvpid-all-context", G_EPTVPID, 42 },
	{ "vmx-invvpid-single-context-noglobals", G_EPTVPID, 43 },
	{ "vmx-eptp-switching", G_VMFUNC, 0 },
	{ "vmx-store-lma", G_MISC, 5 },
	{ "vmx-activity-hlt", G_MISC, 6 },
	{ "vmx-activity-shutdown", G_MISC, 7 },
	{ "vmx-activity-wait-sipi", G_MISC, 8 },
	{ "vmx-vmwrite-vmexit-fields", G_MISC, 29 },
	{ "vmx-zero-len-inject", G_MISC, 30 },
};

int vmx_feature_lookup(const char *name, size_t len, unsigned *group, unsigned *bit)
{
	for (size_t i = 0; i < sizeof(qemu_names) / sizeof(qemu_names[0]); i++) {
		if (strlen(qemu_names[i].name) != len || strncmp(qemu_names[i].name, name, len))
			continue;
		*group = qemu_names[i].group;
		*bit = qemu_names[i].bit;
		if (*group == G_MISC)
			return 1; /* every MISC feature named here is implemented */
		for (size_t j = 0; j < sizeof(ctl_bits) / sizeof(ctl_bits[0]); j++)
			if (ctl_bits[j].group == *group && ctl_bits[j].bit == *bit)
				return ctl_bits[j].status == ST_TODO ? -1 : 1;
		return -1;
	}
	return 0;
}

struct group_masks {
	uint64_t fixed1, def1, impl;
};

static void fold(const struct cpu *cpu, struct group_masks g[G_NGROUPS])
{
	for (unsigned i = 0; i < G_NGROUPS; i++)
		g[i] = (struct group_masks){ 0, 0, 0 };
	for (size_t i = 0; i < sizeof(ctl_bits) / sizeof(ctl_bits[0]); i++) {
		const struct ctl_bit *b = &ctl_bits[i];
		uint64_t m = 1ull << b->bit;
		if (b->status == ST_FIXED1)
			g[b->group].fixed1 |= m;
		else if (b->status == ST_DEF1)
			g[b->group].def1 |= m;
		else if (b->status == ST_IMPL && model_has(cpu->model, b->feat) &&
			 !(cpu->model->vmx_off[b->group] & m))
			g[b->group].impl |= m;
	}
}

static inline void put(struct vmx_caps *c, uint32_t msr, uint64_t v)
{
	c->msr[msr - MSR_IA32_VMX_FIRST] = v;
	c->present |= 1u << (msr - MSR_IA32_VMX_FIRST);
}

/* A control MSR: allowed-0 (must-be-1 bits) low, allowed-1 high. ST_DEF1
 * bits are fixed to 1 in the plain MSR, may be 0 in the TRUE one. */
static void put_ctl(struct vmx_caps *c, uint32_t msr, uint32_t true_msr,
		    const struct group_masks *g)
{
	uint64_t must1 = g->fixed1 | g->def1;
	uint64_t may1 = g->fixed1 | g->def1 | g->impl;
	put(c, msr, must1 | may1 << 32);
	if (true_msr)
		put(c, true_msr, g->fixed1 | may1 << 32);
}

void vmx_caps_compute(const struct cpu *cpu, struct vmx_caps *c)
{
	struct group_masks g[G_NGROUPS];

	*c = (struct vmx_caps){ .present = 0 };
	if (!model_has(cpu->model, FEAT_VMX))
		return;
	fold(cpu, g);

	/* Secondary controls exist only with "activate secondary controls";
	 * EPT_VPID_CAP only with EPT or VPID; VMFUNC only with VM functions. */
	uint32_t proc1 = (uint32_t)(g[G_PROC].impl | g[G_PROC].fixed1 | g[G_PROC].def1);
	bool secondary = proc1 & (1u << 31);
	if (!secondary)
		g[G_PROC2].impl = 0;
	bool ept = g[G_PROC2].impl & (1u << 1), vpid = g[G_PROC2].impl & (1u << 5);
	uint64_t eptvpid = g[G_EPTVPID].impl;
	if (!ept)
		eptvpid &= ~0xffffffffull;
	if (!vpid)
		eptvpid &= 0xffffffffull;

	put(c, MSR_IA32_VMX_BASIC,
	    VMX_REVISION_ID | (uint64_t)VMCS_REGION_SIZE << BASIC_REGION_SIZE_SHIFT |
		    BASIC_MEMTYPE_WB | BASIC_INS_OUTS_INFO | BASIC_TRUE_CTLS);
	put_ctl(c, MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, &g[G_PIN]);
	put_ctl(c, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, &g[G_PROC]);
	put_ctl(c, MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, &g[G_EXIT]);
	put_ctl(c, MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, &g[G_ENTRY]);
	if (secondary)
		put_ctl(c, MSR_IA32_VMX_PROCBASED_CTLS2, 0, &g[G_PROC2]);
	if (ept || vpid)
		put(c, MSR_IA32_VMX_EPT_VPID_CAP, eptvpid);
	if (g[G_PROC2].impl & (1u << 13))
		put(c, MSR_IA32_VMX_VMFUNC, g[G_VMFUNC].impl);

	/* MISC: the HLT, shutdown and wait-for-SIPI activity states, the
	 * injection relaxation and VMWRITE to
	 * read-only fields (also through a shadow VMCS, vmx/vmx_insn.c). */
	uint64_t misc_opt = MISC_STORE_LMA | MISC_ACT_HLT | MISC_ACT_SHUTDOWN | MISC_ACT_WAIT_SIPI |
			    MISC_VMWRITE_ANY | MISC_INJECT_LEN0;
	put(c, MSR_IA32_VMX_MISC,
	    MISC_PREEMPT_RATE | (misc_opt & ~cpu->model->vmx_off[G_MISC]) |
		    (uint64_t)MISC_CR3_TARGETS << 16 | (uint64_t)MISC_MSR_LIST << 25);

	/* Fixed CR bits (App. A.7, A.8): FIXED1 reports the bits that may be
	 * 1, i.e. every CR0 bit and the CR4 bits this model has. */
	put(c, MSR_IA32_VMX_CR0_FIXED0, CR0_FIXED0);
	put(c, MSR_IA32_VMX_CR0_FIXED1, 0xffffffffull);
	put(c, MSR_IA32_VMX_CR4_FIXED0, CR4_VMXE);
	put(c, MSR_IA32_VMX_CR4_FIXED1, sys_cr4_model_mask(cpu));

	/* Field existence and VMCS_ENUM last: they depend on the controls
	 * above. */
	unsigned max = 0;
	for (unsigned i = 0; i < vmcs_nfields && i < VMCS_MAX_FIELDS; i++) {
		if (!vmx_caps_need(c, vmcs_fields[i].need))
			continue;
		c->field_ok[i / 64] |= 1ull << (i % 64);
		if (vmcs_enc_index(vmcs_fields[i].enc) > max)
			max = vmcs_enc_index(vmcs_fields[i].enc);
	}
	put(c, MSR_IA32_VMX_VMCS_ENUM, (uint64_t)max << 1);
}

bool vmx_caps_need(const struct vmx_caps *c, unsigned need)
{
	uint32_t pin = vmx_caps_allowed1(c, MSR_IA32_VMX_PINBASED_CTLS);
	uint32_t proc = vmx_caps_allowed1(c, MSR_IA32_VMX_PROCBASED_CTLS);
	uint32_t proc2 = vmx_caps_allowed1(c, MSR_IA32_VMX_PROCBASED_CTLS2);
	uint32_t exit = vmx_caps_allowed1(c, MSR_IA32_VMX_EXIT_CTLS);
	uint32_t entry = vmx_caps_allowed1(c, MSR_IA32_VMX_ENTRY_CTLS);

	switch (need) {
	case NEED_NONE:
		return true;
	case NEED_SECONDARY:
		return proc & (1u << 31);
	case NEED_VPID:
		return proc2 & (1u << 5);
	case NEED_EPT:
		return proc2 & (1u << 1);
	case NEED_POSTED_INTR:
		return pin & (1u << 7);
	case NEED_EPT_VE:
		return proc2 & (1u << 18);
	case NEED_VID:
		return proc2 & (1u << 9);
	case NEED_PML:
		return proc2 & (1u << 17);
	case NEED_MSR_BITMAPS:
		return proc & (1u << 28);
	case NEED_TPR_SHADOW:
		return proc & (1u << 21);
	case NEED_APIC_ACCESS:
		return proc2 & (1u << 0);
	case NEED_VMFUNC:
		return proc2 & (1u << 13);
	case NEED_EPTP_SWITCH:
		return vmx_caps_get(c, MSR_IA32_VMX_VMFUNC) & 1;
	case NEED_SHADOW_VMCS:
		return proc2 & (1u << 14);
	case NEED_XSAVES:
		return proc2 & (1u << 20);
	case NEED_TSC_SCALING:
		return proc2 & (1u << 25);
	case NEED_PAT:
		return (entry & (1u << 14)) || (exit & (1u << 18));
	case NEED_HOST_PAT:
		return exit & (1u << 19);
	case NEED_EFER:
		return (entry & (1u << 15)) || (exit & (1u << 20));
	case NEED_HOST_EFER:
		return exit & (1u << 21);
	case NEED_PERF_GLOBAL:
		return entry & (1u << 13);
	case NEED_HOST_PERF_GLOBAL:
		return exit & (1u << 12);
	case NEED_BNDCFGS:
		return (entry & (1u << 16)) || (exit & (1u << 23));
	case NEED_RTIT:
		return entry & (1u << 18);
	case NEED_PLE:
		return proc2 & (1u << 10);
	case NEED_PREEMPT_TIMER:
		return pin & (1u << 6);
	default:
		return false;
	}
}

const struct vmx_caps *vmx_caps_of(const struct cpu *cpu, struct vmx_caps *tmp)
{
	if (cpu->vmx)
		return &vmx_st(cpu)->caps;
	vmx_caps_compute(cpu, tmp);
	return tmp;
}

bool vmx_msr_read(const struct cpu *cpu, uint32_t idx, uint64_t *val)
{
	struct vmx_caps tmp;
	if (idx < MSR_IA32_VMX_FIRST || idx > MSR_IA32_VMX_LAST)
		return false;
	const struct vmx_caps *c = vmx_caps_of(cpu, &tmp);
	unsigned i = idx - MSR_IA32_VMX_FIRST;
	if (!((c->present >> i) & 1))
		return false;
	*val = c->msr[i];
	return true;
}

bool vmx_cr_write_ok_slow(const struct cpu *cpu, int cr, uint64_t v)
{
	const struct vmx_state *s = vmx_st(cpu);
	/* In non-root operation CR0/CR4 writes are governed by the guest/host
	 * masks and read shadows (the VM-exit milestone); L1's fixed bits
	 * were checked at VM entry. */
	if (!s->in_vmx || cpu->guest_mode)
		return true;
	uint32_t f0 = cr == 0 ? MSR_IA32_VMX_CR0_FIXED0 : MSR_IA32_VMX_CR4_FIXED0;
	uint64_t fixed0 = vmx_caps_get(&s->caps, f0);
	uint64_t fixed1 = vmx_caps_get(&s->caps, f0 + 1);
	return (v & fixed0) == fixed0 && (v & ~fixed1) == 0;
}
