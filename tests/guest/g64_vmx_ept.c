/*
 * g64_vmx_ept — EPT (SDM Vol. 3C §29.3): the L1 builds an identity EPT for
 * the first 4 GiB (2-MByte pages, one 4-KByte table for 16 MiB..18 MiB) in
 * which one page is not present; the guest's read of it exits with reason
 * 48, qualification "read, not present, linear address valid, final
 * translation" and the guest-physical address; L1 maps it read-only and
 * resumes; the guest's write then exits with "write, readable"; L1 makes
 * it writable and the write completes. A write-only entry is an EPT
 * misconfiguration (reason 49). Then an unrestricted guest in real mode
 * (CR0.PE = PG = 0, paging off, EPT translating) runs 16-bit code.
 */
#include "trap.h"
#include "stage2_lib.h"
#include "vmx_lib.h"

#define TARGET 0x1005010ull

__asm__(".text\n"
	".globl ept_guest\n"
	"ept_guest:\n"
	"  mov $0x1005010, %eax\n"
	"  mov (%rax), %rbx\n"     /* read: violation, then succeeds */
	"  movq $0x5a5a, (%rax)\n" /* write: violation, then succeeds */
	"  vmcall\n"
	"1: jmp 1b\n");
extern char ept_guest[];

static uint8_t gstack[4096] __attribute__((aligned(16)));
static struct s2 ept;

#define EPT_RWX 7ull
#define EPT_WB  (6ull << 3)

static void invept_all(void)
{
	struct {
		uint64_t eptp, rsvd;
	} d = { 0, 0 };
	__asm__ volatile("invept %0, %1" ::"m"(d), "r"(2ull) : "cc", "memory");
}

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on())
		return report("g64_vmx_ept");
	uint64_t cap = rdmsr(0x48c);
	check((cap & (1u << 6)) && (cap & (1u << 14)) && (cap & (1u << 16)),
	      "EPT caps: 4-level walk, WB, 2M pages (%lx)", (unsigned long)cap);
	s2_identity(&ept, 0x1000000, EPT_RWX, EPT_RWX | EPT_WB);
	ept.pt[5] = 0;
	*(volatile uint64_t *)TARGET = 0x1111;

	vmx_lib_vmcs_init((uint64_t)ept_guest, (uint64_t)(gstack + sizeof(gstack)), 0, 1u << 1);
	vmwrite(VMCS_EPTP, (uint64_t)ept.pml4 | 6 | 3 << 3);

	int r = vm_enter(1, 0);
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	uint64_t qual = vmread(VMCS_EXIT_QUAL);
	check(r == 0 && reason == 48, "read of a not-present page: EPT violation (%d, %u)", r,
	      reason);
	check(qual == 0x181, "qualification %lx want 181 (read, final, linear valid)",
	      (unsigned long)qual);
	check(vmread(VMCS_GUEST_PHYS) == TARGET, "guest-physical address %lx",
	      (unsigned long)vmread(VMCS_GUEST_PHYS));
	check(vmread(VMCS_GUEST_LINEAR) == TARGET, "guest-linear address");
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)ept_guest + 5, "RIP at the faulting MOV");

	ept.pt[5] = 0x1005000ull | 1 | EPT_WB; /* read-only */
	invept_all();
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	qual = vmread(VMCS_EXIT_QUAL);
	check(r == 0 && reason == 48, "write to a read-only page: EPT violation (%u)", reason);
	check(qual == 0x18a, "qualification %lx want 18a (write, readable)", (unsigned long)qual);
	check(vm_guest_regs.rbx == 0x1111, "guest read the value (%lx)",
	      (unsigned long)vm_guest_regs.rbx);

	ept.pt[5] = 0x1005000ull | EPT_RWX | EPT_WB;
	invept_all();
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 18, "then VMCALL (%u)", reason);
	check(*(volatile uint64_t *)TARGET == 0x5a5a, "guest write landed");

	/* Misconfiguration: write-only entry */
	ept.pt[5] = 0x1005000ull | 2 | EPT_WB;
	invept_all();
	vmwrite(VMCS_GUEST_RIP, (uint64_t)ept_guest);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 49, "write-only EPT entry: EPT misconfiguration (%u)", reason);
	check(vmread(VMCS_GUEST_PHYS) == TARGET, "misconfiguration guest-physical address");

	/* Unrestricted guest in real mode: MOV AX, 42h; MOV [100h], AX; CPUID;
	 * HLT — with EPT accessed/dirty flags on. */
	static uint8_t rm_code[16] __attribute__((aligned(16))) = { 0xb8, 0x42, 0x00, 0xa3, 0x00,
								    0x01, 0x0f, 0xa2, 0xf4 };
	check(cap & (1u << 21), "EPT A/D flags advertised");
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 512; j++)
			ept.pd[i][j] &= ~0x300ull;
	ept.pml4[0] &= ~0x100ull;
	uint64_t p2 = rdmsr(0x48b) >> 32;
	check(p2 & (1u << 7), "unrestricted guest advertised");
	ept.pt[5] = 0x1005000ull | EPT_RWX | EPT_WB;
	vmx_lib_vmcs_init(0, 0x8000, 0, (1u << 1) | (1u << 7));
	vmwrite(VMCS_EPTP, (uint64_t)ept.pml4 | 6 | 3 << 3 | 1 << 6);
	vmwrite(VMCS_ENTRY_CTLS, vmread(VMCS_ENTRY_CTLS) & ~(1u << 9));
	vmwrite(VMCS_GUEST_CR0, read_cr0() & ~0x80000001ul);
	vmwrite(VMCS_GUEST_CR4, 1u << 13);
	for (int s = 0; s < 6; s++) {
		vmwrite(VMCS_GUEST_ES_SEL + 2 * s, 0);
		vmwrite(VMCS_GUEST_ES_BASE + 2 * s, s == 1 ? (uint64_t)rm_code : 0);
		vmwrite(VMCS_GUEST_ES_LIMIT + 2 * s, 0xffff);
		vmwrite(VMCS_GUEST_ES_AR + 2 * s, s == 1 ? 0x9b : 0x93);
	}
	vmwrite(VMCS_GUEST_ES_SEL + 2, (uint64_t)rm_code >> 4);
	vmwrite(VMCS_GUEST_TR_AR, 0x8b);
	vmx_ptr_op(1, (uint64_t)vmcs_region); /* VMCLEAR: launch state clear */
	vmx_ptr_op(2, (uint64_t)vmcs_region);
	r = vm_enter(1, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 10, "real-mode guest: CPUID exit (%d %x)", r, reason);
	check(vmread(VMCS_GUEST_RIP) == 6 && (uint16_t)vm_guest_regs.rax == 0x42,
	      "real-mode guest RIP %lx", (unsigned long)vmread(VMCS_GUEST_RIP));
	check(!(vmread(VMCS_GUEST_CR0) & 1), "guest CR0.PE still 0");
	uint64_t code_pde = ept.pd[0][(uint64_t)rm_code >> 21];
	check((ept.pml4[0] & 0x100) && (code_pde & 0x100), "EPT accessed flags set");
	check((ept.pd[0][0] & 0x300) == 0x300, "EPT dirty flag set by the write (%lx)",
	      (unsigned long)ept.pd[0][0]);
	uint16_t landed;
	__asm__ volatile("movw 0x100, %0" : "=r"(landed));
	check(landed == 0x42, "real-mode write landed");
	vmwrite(VMCS_GUEST_RIP, 8);
	r = vm_enter(0, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 12, "real-mode guest: HLT exit (%u)", reason);
	vmx_lib_off();
	return report("g64_vmx_ept");
}
