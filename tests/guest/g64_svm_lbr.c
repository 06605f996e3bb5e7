/*
 * g64_svm_lbr — last branch record and its virtualization, TSC scaling,
 * VMSAVE/VMLOAD virtualization (AMD APM Vol. 2 §13.1.1, §15.23, §15.30.5,
 * §15.33.1). DEBUGCTL.LBR records the last taken branch in MSRs 1DBh/1DCh;
 * with LBR virtualization (VIRT_EXT bit 0) the guest gets DEBUGCTL and the
 * branch records from the VMCB, #VMEXIT saves them there and gives the host
 * its own back. TSC_RATIO (C000_0104h, 8.32 fixed point, 1.0 at reset,
 * bits 63:40 reserved) scales the guest's TSC. With VIRT_EXT bit 1 and
 * nested paging a guest's VMSAVE/VMLOAD address is guest-physical,
 * translated by the NPT (a hole is an NPF exit); without it the address is
 * used as is.
 */
#include "g64_svm.h"

#define P  1ull
#define RW 2ull
#define US 4ull
#define PS 0x80ull

#define MSR_DEBUGCTL  0x1d9
#define MSR_LBR_FROM  0x1db
#define MSR_LBR_TO    0x1dc
#define MSR_TSC_RATIO 0xc0000104u
#define MSR_KGSBASE   0xc0000102u

static uint64_t npt_pml4[512] __attribute__((aligned(4096)));
static uint64_t npt_pdpt[512] __attribute__((aligned(4096)));
static uint64_t npt_pd[4][512] __attribute__((aligned(4096)));
static uint64_t npt_pt[512] __attribute__((aligned(4096)));
/* pg[0] is the guest-physical page X, pg[1] the host page Y it maps to
 * with VMSAVE/VMLOAD virtualization, pg[2] is not mapped at all. */
static uint8_t pg[3][4096] __attribute__((aligned(16384)));
volatile uint64_t l2_tsc;
volatile ureg l2_rax;

__asm__(".text\n.globl l2_lbr, l2_lbr_to, l2_tscr, l2_vmsave, l2_vmload, l2_lvmm\n"
	"l2_lbr: jmp l2_lbr_to\n nop\n"
	"l2_lbr_to: vmmcall\n"
	"l2_tscr: rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, l2_tsc(%rip)\n"
	" jmp l2_lvmm\n"
	"l2_vmsave: mov l2_rax(%rip), %rax\n vmsave\n jmp l2_lvmm\n"
	"l2_vmload: mov l2_rax(%rip), %rax\n vmload\n"
	"l2_lvmm: vmmcall\n jmp l2_lvmm\n");
void l2_lbr(void), l2_tscr(void), l2_vmsave(void), l2_vmload(void);
extern char l2_lbr_to[];
extern char host_from[], host_to[];

static __attribute__((noinline)) void host_branch(void)
{
	uint32_t a = 1;
	__asm__ volatile("wrmsr\n"
			 "host_from: jmp host_to\n nop\n"
			 "host_to: xor %%eax, %%eax\n wrmsr\n"
			 : "+a"(a)
			 : "c"(MSR_DEBUGCTL), "d"(0)
			 : "memory");
}

static void test_lbr(void)
{
	host_branch();
	check(rdmsr(MSR_LBR_FROM) == (ureg)host_from && rdmsr(MSR_LBR_TO) == (ureg)host_to,
	      "DEBUGCTL.LBR: last branch %lx -> %lx", (unsigned long)rdmsr(MSR_LBR_FROM),
	      (unsigned long)rdmsr(MSR_LBR_TO));

	/* LBR virtualization: the guest's own DEBUGCTL and records. */
	vmcb_init(vmcb, l2_lbr);
	VMCB64(vmcb, V_VIRT_EXT) = 1;
	VMCB64(vmcb, V_DBGCTL) = 1;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "LBRV guest: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_BR_FROM) == (ureg)l2_lbr && VMCB64(vmcb, V_BR_TO) == (ureg)l2_lbr_to,
	      "LBRV: the guest's branch in the VMCB (%lx -> %lx)",
	      (unsigned long)VMCB64(vmcb, V_BR_FROM), (unsigned long)VMCB64(vmcb, V_BR_TO));
	check(VMCB64(vmcb, V_DBGCTL) == 1, "LBRV: guest DEBUGCTL saved");
	check(rdmsr(MSR_DEBUGCTL) == 0, "LBRV: host DEBUGCTL back");
	check(rdmsr(MSR_LBR_FROM) == (ureg)host_from && rdmsr(MSR_LBR_TO) == (ureg)host_to,
	      "LBRV: the host's branch record back");

	/* Without LBRV the VMCB's DEBUGCTL is not loaded: nothing recorded. */
	vmcb_init(vmcb, l2_lbr);
	VMCB64(vmcb, V_DBGCTL) = 1;
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL && rdmsr(MSR_LBR_FROM) == (ureg)host_from,
	      "no LBRV: the VMCB's DEBUGCTL is ignored");
}

static uint64_t rdtsc64(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void bad_ratio(void)
{
	wrmsr(MSR_TSC_RATIO, 1ull << 40);
}

static void test_tsc_ratio(void)
{
	check(rdmsr(MSR_TSC_RATIO) == 1ull << 32, "TSC_RATIO is 1.0 at reset");
	check(trap_run(bad_ratio) == 13, "TSC_RATIO bit 40: #GP");
	wrmsr(MSR_TSC_RATIO, 2ull << 32);
	vmcb_init(vmcb, l2_tscr);
	uint64_t t0 = rdtsc64();
	uint64_t e = svm_run(vmcb);
	uint64_t t1 = rdtsc64();
	check(e == EXIT_VMMCALL && l2_tsc / 2 >= t0 && l2_tsc / 2 <= t1,
	      "ratio 2.0: guest TSC %lx = 2 x host TSC [%lx, %lx]", (unsigned long)l2_tsc,
	      (unsigned long)t0, (unsigned long)t1);
	wrmsr(MSR_TSC_RATIO, 1ull << 31);
	vmcb_init(vmcb, l2_tscr);
	VMCB64(vmcb, V_TSC_OFFSET) = 1000;
	t0 = rdtsc64();
	e = svm_run(vmcb);
	t1 = rdtsc64();
	check(e == EXIT_VMMCALL && (l2_tsc - 1000) * 2 >= t0 - 1 && (l2_tsc - 1000) * 2 <= t1,
	      "ratio 0.5 and TSC_OFFSET: guest TSC = host / 2 + offset");
	wrmsr(MSR_TSC_RATIO, 1ull << 32);
}

static void setup_npt(void)
{
	npt_pml4[0] = (ureg)npt_pdpt | P | RW | US;
	for (int i = 0; i < 4; i++) {
		npt_pdpt[i] = (ureg)npt_pd[i] | P | RW | US;
		for (int j = 0; j < 512; j++)
			npt_pd[i][j] =
				(((uint64_t)i << 30) + ((uint64_t)j << 21)) | P | RW | US | PS;
	}
	ureg region = (ureg)pg & ~0x1ffffful;
	for (int j = 0; j < 512; j++)
		npt_pt[j] = (region + ((uint64_t)j << 12)) | P | RW | US;
	npt_pd[region >> 30][(region >> 21) & 511] = (ureg)npt_pt | P | RW | US;
	npt_pt[((ureg)pg[0] >> 12) & 511] = (ureg)pg[1] | P | RW | US; /* X -> Y */
	npt_pt[((ureg)pg[2] >> 12) & 511] = 0;
}

static uint64_t run_vls(void (*rip)(void), void *addr, uint64_t virt_ext)
{
	vmcb_init(vmcb, rip);
	VMCB64(vmcb, V_NP_CTL) = 1;
	VMCB64(vmcb, V_N_CR3) = (ureg)npt_pml4;
	VMCB64(vmcb, V_VIRT_EXT) = virt_ext;
	l2_rax = (ureg)addr;
	return svm_run(vmcb);
}

static void test_vls(void)
{
	setup_npt();
	uint64_t kgs = rdmsr(MSR_KGSBASE);
	wrmsr(MSR_KGSBASE, 0x1111000);
	uint64_t e = run_vls(l2_vmsave, pg[0], 2);
	check(e == EXIT_VMMCALL, "virtual VMSAVE: exit %lx", (unsigned long)e);
	check(VMCB64(pg[1], V_KGSBASE) == 0x1111000 && VMCB64(pg[0], V_KGSBASE) == 0,
	      "virtual VMSAVE wrote the host page the NPT maps X to");

	VMCB64(pg[1], V_KGSBASE) = 0x2222000;
	e = run_vls(l2_vmload, pg[0], 2);
	check(e == EXIT_VMMCALL && rdmsr(MSR_KGSBASE) == 0x2222000,
	      "virtual VMLOAD read that host page (KernelGsBase %lx)",
	      (unsigned long)rdmsr(MSR_KGSBASE));

	wrmsr(MSR_KGSBASE, 0x3333000);
	e = run_vls(l2_vmsave, pg[0], 0);
	check(e == EXIT_VMMCALL && VMCB64(pg[0], V_KGSBASE) == 0x3333000,
	      "without VIRT_EXT bit 1 the address is host-physical");

	e = run_vls(l2_vmsave, pg[2], 2);
	check(e == EXIT_NPF && VMCB64(vmcb, V_EXITINFO2) == (ureg)pg[2],
	      "virtual VMSAVE to a hole in the NPT: NPF (exit %lx)", (unsigned long)e);
	wrmsr(MSR_KGSBASE, kgs);
}

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_lbr");
	}
	uint32_t f = svm_features();
	check(f & SVMF_LBRV, "CPUID 8000_000Ah EDX.LbrVirt");
	check(f & SVMF_TSCRATE, "CPUID 8000_000Ah EDX.TscRateMsr");
	check(f & SVMF_VLS, "CPUID 8000_000Ah EDX.VMSAVEvirt");
	test_lbr();
	test_tsc_ratio();
	test_vls();
	return report("g64_svm_lbr");
}
