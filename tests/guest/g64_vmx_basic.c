/*
 * g64_vmx_basic — a tiny L1 hypervisor: VMXON, a VMCS for a 64-bit guest
 * that shares the host's page tables (EPT off), VMLAUNCH, and a VMRESUME
 * loop over the guest's exits: CPUID (reason 10, length 2), HLT (12), OUT
 * with its I/O qualification (30), RDMSR/WRMSR (31/32, no MSR bitmaps),
 * VMCALL (18); then VMXOFF. Also the guest's own state survives the
 * round trips (a counter in RBX), and a VM-entry failure (VMLAUNCH of a
 * launched VMCS: VMfailValid 4). Second part: I/O bitmaps and MSR bitmaps
 * decide which IN / RDMSR / WRMSR exit (MSRs outside the bitmap ranges
 * always do).
 */
#include "trap.h"
#include "vmx_lib.h"

/* Guest code: each instruction below exits; the host skips it. */
__asm__(".text\n"
	".globl basic_guest\n"
	"basic_guest:\n"
	"  xor %eax, %eax\n"
	"  cpuid\n" /* 2 bytes */
	"  hlt\n"   /* 1 byte */
	"  mov $0x42, %al\n"
	"  out %al, $0x80\n" /* 2 bytes, port 0x80, byte, immediate */
	"  mov $0x3f8, %dx\n"
	"  inw %dx, %ax\n" /* 2 bytes, port 0x3f8, word, IN, DX */
	"  mov $0x10, %ecx\n"
	"  rdmsr\n" /* 2 bytes */
	"  wrmsr\n"
	"  inc %rbx\n"
	"  vmcall\n" /* 3 bytes */
	"  jmp basic_guest\n");
extern char basic_guest[];

__asm__(".text\n"
	".globl bm_guest\n"
	"bm_guest:\n"
	"  in $0x80, %al\n" /* bitmap A bit set: exit */
	"  in $0x81, %al\n" /* clear: runs */
	"  mov $0x10, %ecx\n"
	"  rdmsr\n" /* read bit clear: runs */
	"  wrmsr\n" /* write bit set: exit */
	"  mov $0xc0000080, %ecx\n"
	"  rdmsr\n" /* high read bit set: exit */
	"  mov $0x40000000, %ecx\n"
	"  rdmsr\n" /* outside the ranges: exit */
	"  vmcall\n");
extern char bm_guest[];
static uint8_t io_a[4096] __attribute__((aligned(4096)));
static uint8_t io_b[4096] __attribute__((aligned(4096)));
static uint8_t msr_bm[4096] __attribute__((aligned(4096)));

static void bitmaps(void)
{
	io_a[0x80 / 8] |= 1u << (0x80 % 8);
	msr_bm[2048 + 0x10 / 8] |= 1u << (0x10 % 8);
	msr_bm[1024 + 0x80 / 8] |= 1u << (0x80 % 8);
	vmx_lib_vmcs_init((uint64_t)bm_guest, 0x80000, (1u << 25) | (1u << 28), 0);
	vmwrite(0x2000, (uint64_t)io_a);
	vmwrite(0x2002, (uint64_t)io_b);
	vmwrite(0x2004, (uint64_t)msr_bm);
	static const uint32_t want[] = { 30, 32, 31, 31, 18 };
	for (unsigned i = 0; i < 5; i++) {
		int r = vm_enter(0, 0);
		uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
		check(r == 0 && reason == want[i], "bitmaps: exit %u reason %u want %u", i, reason,
		      want[i]);
		if (i == 2)
			check((uint32_t)vm_guest_regs.rcx == 0xc0000080, "EFER read exits");
		vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSN_LEN));
	}
}

static uint8_t gstack[4096] __attribute__((aligned(16)));

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on()) {
		report("g64_vmx_basic");
		return 1;
	}
	vmx_lib_vmcs_init((uint64_t)basic_guest, (uint64_t)(gstack + sizeof(gstack)), 0, 0);

	static const struct {
		uint32_t reason, len;
		uint64_t qual;
	} want[] = {
		{ 10, 2, 0 },
		{ 12, 1, 0 },
		{ 30, 2, 0x80ull << 16 | 1u << 6 },
		{ 30, 2, 0x3f8ull << 16 | 1u << 3 | 1 },
		{ 31, 2, 0 },
		{ 32, 2, 0 },
		{ 18, 3, 0 },
	};
	uint64_t rbx0 = 0;
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			int r = vm_enter(round == 0 && i == 0, 0);
			check(r == 0, "round %d exit %u: entered (result %d, error %lu)", round, i,
			      r, (unsigned long)vmread(VMCS_VM_INSN_ERROR));
			if (r)
				return report("g64_vmx_basic");
			uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
			uint32_t len = (uint32_t)vmread(VMCS_EXIT_INSN_LEN);
			uint64_t qual = vmread(VMCS_EXIT_QUAL);
			check(reason == want[i].reason, "exit %u reason %u want %u", i, reason,
			      want[i].reason);
			check(len == want[i].len, "exit %u length %u want %u", i, len, want[i].len);
			check(qual == want[i].qual, "exit %u qualification %lx want %lx", i,
			      (unsigned long)qual, (unsigned long)want[i].qual);
			if (reason == 10)
				check(vmread(VMCS_GUEST_RIP) == (uint64_t)basic_guest + 2,
				      "CPUID exit RIP is the instruction");
			if (reason == 18)
				rbx0 = vm_guest_regs.rbx;
			vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + len);
		}
	}
	check(vm_guest_regs.rbx == 2 && rbx0 == 2, "guest RBX kept across exits (%lu)",
	      (unsigned long)rbx0);
	/* VMLAUNCH of a launched VMCS: VMfailValid(4). */
	int r = vm_enter(1, 0);
	check(r == 2 && vmread(VMCS_VM_INSN_ERROR) == 4, "VMLAUNCH twice: VMfailValid 4 (%d)", r);
	bitmaps();
	vmx_lib_off();
	return report("g64_vmx_basic");
}
