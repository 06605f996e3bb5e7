/*
 * g64_vmx_tsc — TSC scaling and PAUSE-loop exiting (SDM Vol. 3C §25.6.5,
 * §26.3, §26.1.3):
 *  - with "use TSC offsetting" and "use TSC scaling", RDTSC, RDTSCP and
 *    RDMSR IA32_TSC return (TSC * multiplier >> 48) + offset (multiplier
 *    2.0 and 0.5); without "use TSC offsetting" the multiplier is ignored;
 *  - PAUSE-loop exiting: a PAUSE spin loop at CPL 0 exits with reason 40
 *    at a PAUSE once PLE_Window TSC cycles have passed since the loop's
 *    first PAUSE; PAUSEs further apart than PLE_Gap never form a loop; a
 *    short loop stays below a large window.
 */
#include "trap.h"
#include "vmx_lib.h"

#define VMCS_TSC_OFFSET 0x2010
#define VMCS_TSC_MULT   0x2032
#define VMCS_MSR_BITMAP 0x2004
#define VMCS_PLE_GAP    0x4020
#define VMCS_PLE_WINDOW 0x4022

__asm__(".text\n"
	".globl ts_guest, ple_spin, ple_short, ple_sparse\n"
	"ts_guest:\n" /* RDTSC to r8, RDTSCP to r9, RDMSR 10h to r10 */
	"  rdtsc\n"
	"  shl $32, %rdx\n"
	"  or %rdx, %rax\n"
	"  mov %rax, %r8\n"
	"  rdtscp\n"
	"  shl $32, %rdx\n"
	"  or %rdx, %rax\n"
	"  mov %rax, %r9\n"
	"  mov $0x10, %ecx\n"
	"  rdmsr\n"
	"  shl $32, %rdx\n"
	"  or %rdx, %rax\n"
	"  mov %rax, %r10\n"
	"  vmcall\n"
	"ple_spin:\n" /* endless spin loop */
	"1: pause\n"
	"  jmp 1b\n"
	"ple_short:\n" /* 64 PAUSEs in a tight loop */
	"  mov $64, %ecx\n"
	"2: pause\n"
	"  dec %ecx\n"
	"  jnz 2b\n"
	"  vmcall\n"
	"ple_sparse:\n" /* 2000 PAUSEs, each after a 300-iteration delay */
	"  mov $2000, %ecx\n"
	"3: mov $300, %edx\n"
	"4: dec %edx\n"
	"  jnz 4b\n"
	"  pause\n"
	"  dec %ecx\n"
	"  jnz 3b\n"
	"  vmcall\n");
extern char ts_guest[], ple_spin[], ple_short[], ple_sparse[];

static uint8_t gstack[4096] __attribute__((aligned(16)));
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Run ts_guest with these controls; check the three reads are
 * (TSC * mult >> 48) + off for a TSC between the reads around the run. */
static void tsc_case(const char *what, uint32_t proc, uint32_t proc2, uint64_t mult, uint64_t off,
		     int scaled)
{
	vmx_lib_vmcs_init((uint64_t)ts_guest, (uint64_t)(gstack + sizeof(gstack)),
			  proc | (1u << 28), proc2 | (1u << 3));
	vmwrite(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
	vmwrite(VMCS_TSC_OFFSET, off);
	vmwrite(VMCS_TSC_MULT, mult);
	vmx_ptr_op(1, (uint64_t)vmcs_region);
	vmx_ptr_op(2, (uint64_t)vmcs_region);
	uint64_t t0 = rdtsc();
	int r = vm_enter(1, 0);
	uint64_t t1 = rdtsc();
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 18, "%s: guest ran (%d %lu)", what, r,
	      (unsigned long)vmread(VMCS_EXIT_REASON));
	uint64_t lo = t0, hi = t1;
	if (scaled) {
		lo = (uint64_t)(((unsigned __int128)t0 * mult) >> 48);
		hi = (uint64_t)(((unsigned __int128)t1 * mult) >> 48);
	}
	if (proc & (1u << 3)) {
		lo += off;
		hi += off;
	}
	uint64_t g[3] = { vm_guest_regs.r8, vm_guest_regs.r9, vm_guest_regs.r10 };
	check(g[0] >= lo && g[0] <= g[1] && g[1] <= g[2] && g[2] <= hi,
	      "%s: RDTSC/RDTSCP/RDMSR %lx %lx %lx within [%lx, %lx]", what, (unsigned long)g[0],
	      (unsigned long)g[1], (unsigned long)g[2], (unsigned long)lo, (unsigned long)hi);
}

static int ple_run(void *rip, uint32_t gap, uint32_t window, int launch)
{
	vmx_lib_vmcs_init((uint64_t)rip, (uint64_t)(gstack + sizeof(gstack)), 0, 1u << 10);
	vmwrite(VMCS_PLE_GAP, gap);
	vmwrite(VMCS_PLE_WINDOW, window);
	if (launch) {
		vmx_ptr_op(1, (uint64_t)vmcs_region);
		vmx_ptr_op(2, (uint64_t)vmcs_region);
	}
	int r = vm_enter(launch, 0);
	return r == 0 ? (int)vmread(VMCS_EXIT_REASON) : -1;
}

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on())
		return report("g64_vmx_tsc");
	uint64_t p2 = rdmsr(0x48b) >> 32;
	check((p2 & (1u << 25)) && (p2 & (1u << 10)), "TSC scaling and PLE allowed (%lx)",
	      (unsigned long)p2);

	tsc_case("x2.0 + offset", 1u << 3, 1u << 25, 2ull << 48, 1000, 1);
	tsc_case("x0.5 - offset", 1u << 3, 1u << 25, 1ull << 47, (uint64_t)-100, 1);
	tsc_case("x0.75", 1u << 3, 1u << 25, 3ull << 46, 0, 1);
	tsc_case("no offsetting: no scaling", 0, 1u << 25, 1ull << 47, 0, 0);
	tsc_case("scaling off", 1u << 3, 0, 1ull << 47, 5, 0);

	/* A spin loop exits at a PAUSE. */
	int e = ple_run(ple_spin, 128, 4096, 1);
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	check(e == 40, "spin loop: PAUSE exit (%d)", e);
	check(rip == (uint64_t)ple_spin && vmread(VMCS_EXIT_INSN_LEN) == 2,
	      "at the PAUSE, length 2 (%lx)", (unsigned long)rip);
	check(vmread(VMCS_EXIT_QUAL) == 0, "qualification 0");
	/* A short loop under a large window reaches VMCALL. */
	e = ple_run(ple_short, 128, 1u << 30, 0);
	check(e == 18, "short loop below the window: no exit (%d)", e);
	/* PAUSEs farther apart than the gap: each starts a new loop. */
	e = ple_run(ple_sparse, 64, 0, 0);
	check(e == 18, "PAUSEs beyond the gap never exit (%d)", e);
	/* Same code, gap large enough to join them: exits at once. */
	e = ple_run(ple_sparse, 1u << 30, 0, 0);
	check(e == 40, "same PAUSEs within the gap: exit (%d)", e);

	vmx_lib_off();
	return report("g64_vmx_tsc");
}
