/*
 * g64_svm_clean — VMCB clean bits and TLB control (AMD APM Vol. 2 §15.15,
 * §15.16). A VMRUN of the VMCB the last #VMEXIT wrote may use its cached
 * copy of every field group whose clean bit is 1: a change in memory with
 * the bit set is not seen (intercepts and TSC_OFFSET: group I), with the
 * bit clear it is; another VMCB address is always read from memory; the
 * #VMEXIT writes back only the guest state and the exit information, so
 * the intercepts software wrote stay as written. TLB_CONTROL 1, 3 and 7
 * (flush all, this guest's ASID, its non-global entries) make the guest
 * see a changed mapping of its own page tables.
 */
#include "g64_svm.h"

#define P  1ull
#define RW 2ull

static uint8_t vmcb2[4096] __attribute__((aligned(4096)));
static uint64_t g_pml4[512] __attribute__((aligned(4096)));
static uint64_t g_pdpt[512] __attribute__((aligned(4096)));
static uint64_t g_pd1[512] __attribute__((aligned(4096)));
static uint64_t g_pt[512] __attribute__((aligned(4096)));
static uint64_t page_a[512] __attribute__((aligned(4096)));
static uint64_t page_b[512] __attribute__((aligned(4096)));
extern volatile uint64_t pdpt[]; /* boot identity map (lib/boot.S) */
volatile uint64_t l2_tsc, l2_val;

__asm__(".text\n.globl l2_cpuid, l2_tsc_rd, l2_rd, l2_vmm2\n"
	"l2_cpuid: xor %eax, %eax\n cpuid\n jmp l2_vmm2\n"
	"l2_tsc_rd: rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, l2_tsc(%rip)\n"
	" jmp l2_vmm2\n"
	"l2_rd: movabs 0x40000000, %rax\n mov %rax, l2_val(%rip)\n"
	"l2_vmm2: vmmcall\n jmp l2_vmm2\n");
void l2_cpuid(void), l2_tsc_rd(void), l2_rd(void);

static uint64_t rdtsc64(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

#define CLEAN_I (1u << 0)

static void test_intercepts(void)
{
	vmcb_init(vmcb, l2_cpuid);
	VMCB32(vmcb, V_ICPT_MISC1) = I1_CPUID;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_CPUID, "CPUID intercepted: exit %lx", (unsigned long)e);

	/* Intercept cleared in memory, group I marked clean: the cached
	 * intercepts still apply. */
	VMCB32(vmcb, V_ICPT_MISC1) = 0;
	VMCB32(vmcb, V_CLEAN) = CLEAN_I;
	e = svm_run(vmcb);
	check(e == EXIT_CPUID, "clean I: the cached CPUID intercept applies (exit %lx)",
	      (unsigned long)e);
	check(VMCB32(vmcb, V_ICPT_MISC1) == 0, "#VMEXIT left the intercepts in memory alone (%x)",
	      VMCB32(vmcb, V_ICPT_MISC1));

	/* Other groups clean, I dirty: the memory's intercepts. */
	VMCB32(vmcb, V_CLEAN) = ~CLEAN_I;
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "I dirty: CPUID runs in the guest (exit %lx)", (unsigned long)e);

	/* A different VMCB is read from memory whatever its clean bits. */
	for (unsigned i = 0; i < 4096; i++)
		vmcb2[i] = vmcb[i];
	VMCB32(vmcb2, V_ICPT_MISC1) = I1_CPUID;
	VMCB64(vmcb2, V_RIP) = (ureg)l2_cpuid;
	VMCB32(vmcb2, V_CLEAN) = 0xffffffff;
	e = svm_run(vmcb2);
	check(e == EXIT_CPUID, "another VMCB address: read from memory (exit %lx)",
	      (unsigned long)e);

	/* Back to the first VMCB: its cache was replaced by vmcb2's run. */
	VMCB64(vmcb, V_RIP) = (ureg)l2_cpuid;
	VMCB32(vmcb, V_ICPT_MISC1) = I1_CPUID;
	VMCB32(vmcb, V_CLEAN) = 0xffffffff;
	e = svm_run(vmcb);
	check(e == EXIT_CPUID, "VMCB run after another one: read from memory (exit %lx)",
	      (unsigned long)e);
}

static void test_tsc_offset(void)
{
	vmcb_init(vmcb, l2_tsc_rd);
	VMCB64(vmcb, V_TSC_OFFSET) = 1ull << 44;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_VMMCALL && l2_tsc > (1ull << 44), "TSC_OFFSET applied (exit %lx)",
	      (unsigned long)e);
	VMCB64(vmcb, V_TSC_OFFSET) = 0;
	VMCB64(vmcb, V_RIP) = (ureg)l2_tsc_rd;
	VMCB32(vmcb, V_CLEAN) = CLEAN_I;
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL && l2_tsc > (1ull << 44), "clean I: the cached TSC_OFFSET");
	VMCB64(vmcb, V_RIP) = (ureg)l2_tsc_rd;
	VMCB32(vmcb, V_CLEAN) = 0;
	uint64_t t0 = rdtsc64();
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL && l2_tsc >= t0 && l2_tsc < (1ull << 44),
	      "clean bits 0: the new TSC_OFFSET (0)");
}

/* The guest reads linear 0x40000000, mapped by its own 4K PTE. */
static uint64_t read_through(uint64_t *page, uint8_t tlb_ctl)
{
	g_pt[0] = (ureg)page | P | RW;
	VMCB64(vmcb, V_RIP) = (ureg)l2_rd;
	VMCB8(vmcb, V_TLB_CTL) = tlb_ctl;
	l2_val = 0;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "guest read: exit %lx", (unsigned long)e);
	return l2_val;
}

static void test_tlb_control(void)
{
	for (int i = 0; i < 512; i++)
		g_pdpt[i] = pdpt[i];
	g_pdpt[1] = (ureg)g_pd1 | P | RW;
	g_pd1[0] = (ureg)g_pt | P | RW;
	g_pml4[0] = (ureg)g_pdpt | P | RW;
	page_a[0] = 0xaaaa;
	page_b[0] = 0xbbbb;
	vmcb_init(vmcb, l2_rd);
	VMCB64(vmcb, V_CR3) = (ureg)g_pml4;
	check(read_through(page_a, 1) == 0xaaaa, "guest mapping to page A");
	check(read_through(page_b, 3) == 0xbbbb, "TLB_CONTROL 3 (this ASID): page B seen");
	check(read_through(page_a, 7) == 0xaaaa, "TLB_CONTROL 7 (non-global): page A seen");
	check(read_through(page_b, 1) == 0xbbbb, "TLB_CONTROL 1 (all): page B seen");
}

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_clean");
	}
	uint32_t f = svm_features();
	check(f & SVMF_CLEAN, "CPUID 8000_000Ah EDX.VmcbClean");
	check(f & SVMF_FLUSHASID, "CPUID 8000_000Ah EDX.FlushByAsid");
	test_intercepts();
	test_tsc_offset();
	test_tlb_control();
	return report("g64_svm_clean");
}
