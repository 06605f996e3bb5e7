/*
 * g64_vmx_events — events in VMX non-root operation: an exception in the
 * exception bitmap (#UD from UD2) exits with reason 0 and the
 * interruption information; an exception not in the bitmap (#BP) goes to
 * the guest's own IDT; VM-entry event injection (SDM Vol. 3C §27.6) of a
 * hardware exception with an error code (#GP) and of a software interrupt
 * (the pushed RIP skips the instruction length); the VMX-preemption timer
 * and interrupt-window exiting (also after STI blocking); virtual NMIs
 * (injected NMI, blocking until IRET) with NMI-window exiting; the monitor
 * trap flag; the shutdown activity state (woken by the preemption timer,
 * an injected NMI and NMI-window exiting, not by the interrupt window).
 * External-interrupt
 * exiting needs a device on the bare board: not tested here.
 */
#include "trap.h"
#include "vmx_lib.h"

__asm__(".text\n"
	".globl ev_guest, ev_ud, ev_gp_handler, ev_ret_handler, ev_nmi_handler, ev_nops, ev_hlt\n"
	".globl ev_pf\n"
	"ev_guest:\n"
	"  int3\n"
	"ev_ud:\n"
	"  ud2\n"
	"1: jmp 1b\n"
	"ev_gp_handler:\n" /* #GP: error code to RBX, return RIP to RAX */
	"  pop %rbx\n"
	"  pop %rax\n"
	"  vmcall\n"
	"ev_ret_handler:\n" /* #BP / INT n: return RIP to RAX, marker in RBX */
	"  pop %rax\n"
	"  mov $0xbb, %ebx\n"
	"  vmcall\n"
	"ev_nops:\n"
	"  nop\n"
	"  xchg %ax, %ax\n" /* 2 bytes */
	"  vmcall\n"
	"ev_nmi_handler:\n" /* NMI: report, then IRET (ends virtual-NMI blocking) */
	"  vmcall\n"
	"  iretq\n"
	"ev_hlt:\n"
	"  hlt\n"
	"  vmcall\n"
	"ev_pf:\n" /* read through an unmapped address (RDI) */
	"  mov (%rdi), %eax\n"
	"  vmcall\n");
extern char ev_guest[], ev_ud[], ev_gp_handler[], ev_ret_handler[], ev_nmi_handler[];
extern char ev_nops[], ev_hlt[], ev_pf[];

static uint8_t gstack[4096] __attribute__((aligned(16)));
static uint64_t gidt[512] __attribute__((aligned(4096)));

static void gate(int vec, void *fn)
{
	uint64_t off = (uint64_t)fn;
	gidt[2 * vec] = (off & 0xffff) | (uint64_t)SEL_CODE64 << 16 | 0x8eull << 40 |
			((off >> 16) & 0xffff) << 48;
	gidt[2 * vec + 1] = off >> 32;
}

static void setup(uint64_t rip)
{
	vmx_lib_vmcs_init(rip, (uint64_t)(gstack + sizeof(gstack)), 0, 0);
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)gidt);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(gidt) - 1);
}

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on())
		return report("g64_vmx_events");
	gate(3, ev_ret_handler);
	gate(13, ev_gp_handler);
	gate(0x30, ev_ret_handler);
	gate(2, ev_nmi_handler);

	/* #BP not in the bitmap: delivered to the guest's IDT */
	setup((uint64_t)ev_guest);
	vmwrite(VMCS_EXC_BITMAP, 1u << 6);
	int r = vm_enter(1, 0);
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 18, "INT3 handled by the guest, then VMCALL (%d %u)", r, reason);
	check(vm_guest_regs.rax == (uint64_t)ev_ud && vm_guest_regs.rbx == 0xbb,
	      "#BP pushed the next RIP (%lx)", (unsigned long)vm_guest_regs.rax);

	/* #UD in the bitmap: exit reason 0 */
	vmwrite(VMCS_GUEST_RIP, (uint64_t)ev_ud);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	uint32_t ii = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
	check(r == 0 && reason == 0, "UD2 with #UD in the bitmap: exit reason 0 (%u)", reason);
	check(ii == 0x80000306, "interruption information %x want 80000306", ii);
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)ev_ud, "RIP at UD2");

	/* inject #GP(0x18) */
	vmwrite(VMCS_ENTRY_INTR, 0x80000b0d);
	vmwrite(VMCS_ENTRY_ERRCODE, 0x18);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 18, "injected #GP handled by the guest (%d %u)", r, reason);
	check(vm_guest_regs.rbx == 0x18, "error code %lx", (unsigned long)vm_guest_regs.rbx);
	check(vm_guest_regs.rax == (uint64_t)ev_ud, "pushed RIP is the guest RIP");
	check(!(vmread(VMCS_ENTRY_INTR) & 0x80000000u), "valid bit cleared by the exit");

	/* inject a software interrupt 0x30 with instruction length 2 */
	vmwrite(VMCS_GUEST_RIP, (uint64_t)ev_guest);
	vmwrite(VMCS_ENTRY_INTR, 0x80000430);
	vmwrite(VMCS_ENTRY_INSN_LEN, 2);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 18, "injected INT 30h handled by the guest (%u)", reason);
	check(vm_guest_regs.rax == (uint64_t)ev_guest + 2, "pushed RIP = RIP + length (%lx)",
	      (unsigned long)vm_guest_regs.rax);

	/* an injected exception in the bitmap is still delivered, not exited */
	vmwrite(VMCS_EXC_BITMAP, 1u << 13);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)ev_ud);
	vmwrite(VMCS_ENTRY_INTR, 0x80000b0d);
	vmwrite(VMCS_ENTRY_ERRCODE, 0x20);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 18 && vm_guest_regs.rbx == 0x20,
	      "injection bypasses the exception bitmap (%u)", reason);

	/* #PF in the bitmap (PFEC mask = match = 0): exit qualification =
	 * the faulting address, CR2 not written (SDM Vol. 3C §28.1, §28.2.1) */
	setup((uint64_t)ev_pf);
	vmwrite(VMCS_EXC_BITMAP, 1u << 14);
	vm_guest_regs.rdi = 0x100000000ull << 12; /* PML4 entry 32: not present */
	__asm__ volatile("mov %0, %%cr2" ::"r"(0x1234ull));
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 0 && (vmread(VMCS_EXIT_INTR_INFO) & 0xff) == 14,
	      "#PF exits (reason %u)", reason);
	check(vmread(VMCS_EXIT_QUAL) == vm_guest_regs.rdi, "#PF qualification %lx",
	      (unsigned long)vmread(VMCS_EXIT_QUAL));
	check(read_cr2() == 0x1234, "CR2 unchanged by the #PF exit (%lx)",
	      (unsigned long)read_cr2());
	check(vmread(VMCS_EXIT_INTR_ERR) == 0, "#PF error code 0 (%lx)",
	      (unsigned long)vmread(VMCS_EXIT_INTR_ERR));

	/* VMX-preemption timer: the guest spins, the timer exits (reason 52) */
	setup((uint64_t)ev_ud + 2);
	vmwrite(VMCS_PIN, vmread(VMCS_PIN) | (1u << 6));
	vmwrite(VMCS_EXIT_CTLS, vmread(VMCS_EXIT_CTLS) | (1u << 22));
	vmwrite(0x482e, 50);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 52, "preemption timer exit (%u)", reason);
	check(vmread(0x482e) == 0, "saved timer value 0");
	/* ... and while the guest is in the HLT state (no HLT exiting): the
	 * exit saves activity state HLT, RIP after the HLT (§26.5.1). */
	setup((uint64_t)ev_hlt);
	vmwrite(VMCS_PROC, vmread(VMCS_PROC) & ~(1u << 7));
	vmwrite(VMCS_PIN, vmread(VMCS_PIN) | (1u << 6));
	vmwrite(0x482e, 100000);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 52, "preemption timer wakes HLT (%u)", reason);
	check(vmread(VMCS_GUEST_ACTIVITY) == 1, "activity state HLT saved (%lu)",
	      (unsigned long)vmread(VMCS_GUEST_ACTIVITY));
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)ev_hlt + 1, "RIP after HLT");

	/* The shutdown activity state (2): only what wakes it as an NMI
	 * would. The interrupt window (open: IF = 1) does not; the
	 * preemption timer does, and the exit saves activity state 2. */
	setup((uint64_t)ev_ud);
	vmwrite(VMCS_GUEST_ACTIVITY, 2);
	vmwrite(VMCS_GUEST_RFLAGS, 0x202);
	vmwrite(VMCS_PROC, vmread(VMCS_PROC) | (1u << 2));
	vmwrite(VMCS_PIN, vmread(VMCS_PIN) | (1u << 6));
	vmwrite(0x482e, 1000);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 52, "shutdown: preemption timer exit, no window (%d %u)", r,
	      reason);
	check(vmread(VMCS_GUEST_ACTIVITY) == 2, "activity state shutdown saved (%lu)",
	      (unsigned long)vmread(VMCS_GUEST_ACTIVITY));
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)ev_ud, "shutdown: RIP unchanged");
	/* NMI-window exiting wakes it (virtual NMIs, no blocking). */
	setup((uint64_t)ev_ud);
	vmwrite(VMCS_GUEST_ACTIVITY, 2);
	vmwrite(VMCS_PIN, vmread(VMCS_PIN) | (1u << 3) | (1u << 5));
	vmwrite(VMCS_PROC, vmread(VMCS_PROC) | (1u << 22));
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 8, "shutdown: NMI-window exit (%d %u)", r, reason);
	check(vmread(VMCS_GUEST_ACTIVITY) == 2, "NMI window: still shutdown");
	/* An injected NMI leaves shutdown: the guest's handler runs. */
	setup((uint64_t)ev_ud);
	vmwrite(VMCS_GUEST_ACTIVITY, 2);
	vmwrite(VMCS_ENTRY_INTR, 0x80000202);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 18, "shutdown: injected NMI handled (%d %u)", r, reason);
	check(vmread(VMCS_GUEST_ACTIVITY) == 0, "active after the NMI");
	/* Any other injection into shutdown fails the entry (reason 33). */
	setup((uint64_t)ev_ud);
	vmwrite(VMCS_GUEST_ACTIVITY, 2);
	vmwrite(VMCS_ENTRY_INTR, 0x80000b0d); /* #GP with error code 0 */
	vmwrite(0x4018, 0);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == (0x80000000u | 33), "shutdown: #GP injection fails entry (%d %x)",
	      r, reason);

	/* interrupt-window exiting with RFLAGS.IF = 1: exits before the first
	 * guest instruction (reason 7) */
	setup((uint64_t)ev_ud);
	vmwrite(VMCS_PROC, vmread(VMCS_PROC) | (1u << 2));
	vmwrite(VMCS_GUEST_RFLAGS, 0x202);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 7, "interrupt-window exit (%u)", reason);
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)ev_ud, "interrupt window: RIP unchanged");
	/* with STI blocking the window opens one instruction later */
	vmwrite(0x4824, 1); /* interruptibility: blocking by STI */
	vmwrite(VMCS_EXC_BITMAP, 1u << 6);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 0 && (vmread(VMCS_EXIT_INTR_INFO) & 0xff) == 6,
	      "STI blocking: UD2 runs first (#UD exit, reason %u)", reason);

	/* Virtual NMIs: an injected NMI sets virtual-NMI blocking; the
	 * handler's IRET clears it and NMI-window exiting then exits. */
	setup((uint64_t)ev_ud + 2);
	vmwrite(VMCS_PIN, vmread(VMCS_PIN) | (1u << 3) | (1u << 5));
	vmwrite(VMCS_ENTRY_INTR, 0x80000202);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 18, "injected NMI reaches the guest handler (%d %u)", r, reason);
	check(vmread(0x4824) & 8, "virtual-NMI blocking saved (%lx)",
	      (unsigned long)vmread(0x4824));
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + 3);
	vmwrite(VMCS_PROC, vmread(VMCS_PROC) | (1u << 22));
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 8, "NMI-window exit after IRET (%u)", reason);
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)ev_ud + 2, "NMI window: RIP back in the loop");
	check(!(vmread(0x4824) & 8), "virtual-NMI blocking cleared");

	/* Monitor trap flag: an exit (37) after every instruction */
	setup((uint64_t)ev_nops);
	vmwrite(VMCS_PROC, vmread(VMCS_PROC) | (1u << 27));
	static const uint64_t mtf_rip[] = { 1, 3 };
	for (int i = 0; i < 2; i++) {
		r = vm_enter(0, 0);
		reason = (uint32_t)vmread(VMCS_EXIT_REASON);
		check(r == 0 && reason == 37, "MTF exit %d (%u)", i, reason);
		check(vmread(VMCS_GUEST_RIP) == (uint64_t)ev_nops + mtf_rip[i], "MTF exit %d RIP",
		      i);
	}
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 18, "VMCALL exits before MTF");
	vmx_lib_off();
	return report("g64_vmx_events");
}
