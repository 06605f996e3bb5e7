/*
 * g64_vmx_debug — debug exceptions and related corners of VMX non-root
 * operation (SDM Vol. 3C):
 *  - a single-step #DB in the exception bitmap exits with the DR6 bits in
 *    the qualification (BS) and leaves DR6 unchanged (§28.1);
 *  - with the monitor trap flag, the MTF exit comes first and the
 *    single-step trap is saved as pending debug exceptions (BS), which the
 *    next VM entry delivers as a #DB trap (§27.7.3);
 *  - an injected "pending MTF VM exit" (type 7) works with the MTF control
 *    0 (§27.2.1.3 asks only for MTF support);
 *  - VMRESUME right after MOV SS fails with error 26 (§31.4);
 *  - RDPID with "enable RDTSCP" 0 is #UD (§26.3);
 *  - the VM-exit MSR-store list stores IA32_TSC without the TSC offset;
 *  - an instruction-breakpoint #DB (fault) and a general-detect #DB exit
 *    with B0 / BD in the qualification (§28.2.1), DR6 unchanged and DR7.GD
 *    still set (the handler is not entered); not intercepted, the guest's
 *    handler sees DR6.BD with GD cleared.
 */
#include "trap.h"
#include "vmx_lib.h"

static uint8_t gstack[4096] __attribute__((aligned(16)));
static uint64_t gidt[512] __attribute__((aligned(4096)));
static uint64_t msr_store[2] __attribute__((aligned(16)));

__asm__(".text\n"
	".globl dg_nops, dg_db_handler, dg_rdpid, dg_ud_handler, dg_movss, dg_gd\n"
	"dg_nops:\n"
	"  nop\n"
	"  nop\n"
	"  vmcall\n"
	"dg_db_handler:\n" /* #DB: DR6 to RBX, return RIP to RAX */
	"  mov %dr6, %rbx\n"
	"  mov (%rsp), %rax\n"
	"  vmcall\n"
	"dg_rdpid:\n"
	"  rdpid %rax\n"
	"  vmcall\n"
	"dg_ud_handler:\n"
	"  mov $0x6, %ebx\n"
	"  vmcall\n"
	"dg_gd:\n" /* general detect: MOV from DR0 with DR7.GD */
	"  mov %dr0, %rax\n"
	"  vmcall\n"
	"dg_movss:\n" /* L1 code: MOV SS, then VMRESUME in its shadow */
	"  mov %ss, %ax\n"
	"  mov %ax, %ss\n"
	"  vmresume\n"
	"  setz %al\n"
	"  movzbl %al, %eax\n"
	"  ret\n");
extern char dg_nops[], dg_db_handler[], dg_rdpid[], dg_ud_handler[], dg_gd[];
int dg_movss(void);

static void gate(int vec, void *fn)
{
	uint64_t off = (uint64_t)fn;
	gidt[2 * vec] = (off & 0xffff) | (uint64_t)SEL_CODE64 << 16 | 0x8eull << 40 |
			((off >> 16) & 0xffff) << 48;
	gidt[2 * vec + 1] = off >> 32;
}

static void setup(uint64_t rip, uint32_t proc, uint32_t proc2)
{
	vmx_lib_vmcs_init(rip, (uint64_t)(gstack + sizeof(gstack)), proc, proc2);
	/* load / save debug controls (DR7, IA32_DEBUGCTL) */
	vmwrite(VMCS_ENTRY_CTLS, vmread(VMCS_ENTRY_CTLS) | (1u << 2));
	vmwrite(VMCS_EXIT_CTLS, vmread(VMCS_EXIT_CTLS) | (1u << 2));
	vmwrite(0x2802, 0); /* guest IA32_DEBUGCTL */
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)gidt);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(gidt) - 1);
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline uint64_t read_dr6(void)
{
	uint64_t v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on())
		return report("g64_vmx_debug");
	gate(1, dg_db_handler);
	gate(6, dg_ud_handler);

	/* single-step #DB intercepted: qualification BS, DR6 untouched */
	setup((uint64_t)dg_nops, 0, 0);
	vmwrite(VMCS_EXC_BITMAP, 1u << 1);
	vmwrite(VMCS_GUEST_RFLAGS, 0x102); /* TF */
	__asm__ volatile("mov %0, %%dr6" ::"r"(0xffff0ff5ull));
	int r = vm_enter(1, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 0 &&
		      (uint32_t)vmread(VMCS_EXIT_INTR_INFO) == 0x80000301,
	      "single-step #DB exit (%lu, %lx)", (unsigned long)vmread(VMCS_EXIT_REASON),
	      (unsigned long)vmread(VMCS_EXIT_INTR_INFO));
	check(vmread(VMCS_EXIT_QUAL) == 0x4000, "qualification BS (%lx)",
	      (unsigned long)vmread(VMCS_EXIT_QUAL));
	check(read_dr6() == 0xffff0ff5, "DR6 unchanged (%lx)", (unsigned long)read_dr6());
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)dg_nops + 1, "RIP after the NOP");

	/* MTF first, the trap saved as pending, delivered at the next entry */
	vmwrite(VMCS_EXC_BITMAP, 0);
	vmwrite(VMCS_PROC, vmread(VMCS_PROC) | (1u << 27));
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 37, "MTF exit (%lu)",
	      (unsigned long)vmread(VMCS_EXIT_REASON));
	check(vmread(0x6822) == 0x4000, "pending debug exceptions BS (%lx)",
	      (unsigned long)vmread(0x6822));
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)dg_nops + 2, "MTF: RIP after the 2nd NOP");
	vmwrite(VMCS_PROC, vmread(VMCS_PROC) & ~(1u << 27));
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 18, "pending #DB delivered, handler ran (%lu)",
	      (unsigned long)vmread(VMCS_EXIT_REASON));
	check(vm_guest_regs.rax == (uint64_t)dg_nops + 2 && (vm_guest_regs.rbx & 0x4000),
	      "#DB trap at the VMCALL, DR6.BS (%lx %lx)", (unsigned long)vm_guest_regs.rax,
	      (unsigned long)vm_guest_regs.rbx);

	/* injected pending MTF exit with the MTF control 0 */
	setup((uint64_t)dg_nops, 0, 0);
	vmwrite(VMCS_ENTRY_INTR, 0x80000700);
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 37 &&
		      vmread(VMCS_GUEST_RIP) == (uint64_t)dg_nops,
	      "injected MTF exit before the first instruction (%d %lu)", r,
	      (unsigned long)vmread(VMCS_EXIT_REASON));

	/* VMRESUME in a MOV-SS shadow: VMfailValid(26) */
	check(dg_movss() == 1 && vmread(VMCS_VM_INSN_ERROR) == 26, "MOV SS blocking: error %lu",
	      (unsigned long)vmread(VMCS_VM_INSN_ERROR));

	/* RDPID without "enable RDTSCP": #UD in the guest */
	setup((uint64_t)dg_rdpid, 0, 0);
	vm_guest_regs.rbx = 0;
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 18 && vm_guest_regs.rbx == 6,
	      "RDPID #UD (%lu %lx)", (unsigned long)vmread(VMCS_EXIT_REASON),
	      (unsigned long)vm_guest_regs.rbx);

	/* MSR-store list: IA32_TSC without the offset */
	setup((uint64_t)dg_nops + 2, 1u << 3, 0);
	vmwrite(0x2010, 1ull << 60); /* TSC offset */
	msr_store[0] = 0x10;
	vmwrite(0x2006, (uint64_t)msr_store);
	vmwrite(0x400e, 1);
	uint64_t t0 = rdtsc();
	r = vm_enter(0, 0);
	uint64_t t1 = rdtsc();
	check(r == 0 && msr_store[1] >= t0 && msr_store[1] <= t1,
	      "stored IA32_TSC %lx within [%lx, %lx]", (unsigned long)msr_store[1],
	      (unsigned long)t0, (unsigned long)t1);
	vmwrite(0x400e, 0);

	/* instruction breakpoint (DR0 on the 2nd NOP): a fault, qualification
	 * B0 without the stale DR6 bits, DR6 unchanged */
	setup((uint64_t)dg_nops, 0, 0);
	vmwrite(VMCS_EXC_BITMAP, 1u << 1);
	vmwrite(VMCS_GUEST_DR7, 0x401);
	__asm__ volatile("mov %0, %%dr0" ::"r"((uint64_t)dg_nops + 1));
	__asm__ volatile("mov %0, %%dr6" ::"r"(0xffff4ff2ull));
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 0 &&
		      (uint32_t)vmread(VMCS_EXIT_INTR_INFO) == 0x80000301,
	      "instruction breakpoint: #DB exit (%lu)", (unsigned long)vmread(VMCS_EXIT_REASON));
	check(vmread(VMCS_EXIT_QUAL) == 1, "qualification B0 (%lx)",
	      (unsigned long)vmread(VMCS_EXIT_QUAL));
	check(read_dr6() == 0xffff4ff2, "DR6 unchanged (%lx)", (unsigned long)read_dr6());
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)dg_nops + 1, "RIP at the breakpoint (fault)");

	/* general detect: qualification BD, DR6 unchanged, DR7.GD kept */
	setup((uint64_t)dg_gd, 0, 0);
	vmwrite(VMCS_EXC_BITMAP, 1u << 1);
	vmwrite(VMCS_GUEST_DR7, 0x2400);
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 0 &&
		      (uint32_t)vmread(VMCS_EXIT_INTR_INFO) == 0x80000301,
	      "general detect: #DB exit (%lu)", (unsigned long)vmread(VMCS_EXIT_REASON));
	check(vmread(VMCS_EXIT_QUAL) == 0x2000, "qualification BD (%lx)",
	      (unsigned long)vmread(VMCS_EXIT_QUAL));
	check(read_dr6() == 0xffff4ff2, "DR6 unchanged (%lx)", (unsigned long)read_dr6());
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)dg_gd, "RIP at the MOV (fault)");
	check(vmread(VMCS_GUEST_DR7) == 0x2400, "guest DR7.GD still set (%lx)",
	      (unsigned long)vmread(VMCS_GUEST_DR7));
	/* not intercepted: the guest's handler sees BD, GD cleared */
	vmwrite(VMCS_EXC_BITMAP, 0);
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 18 && vm_guest_regs.rax == (uint64_t)dg_gd &&
		      vm_guest_regs.rbx == 0xffff6ff0,
	      "guest #DB handler: DR6 %lx at %lx", (unsigned long)vm_guest_regs.rbx,
	      (unsigned long)vm_guest_regs.rax);

	vmx_lib_off();
	return report("g64_vmx_debug");
}
