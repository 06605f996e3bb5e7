/*
 * g64_vmx_fail — VM-entry failures (SDM Vol. 3C §27.2-27.4): invalid
 * controls (VMfailValid 7), invalid host state (VMfailValid 8), invalid
 * guest state (exit reason 33 with bit 31 set, qualification 0; bad VMCS
 * link pointer: qualification 4), a refused VM-entry MSR-load entry (exit
 * reason 34, qualification = entry number), and a good entry afterwards
 * (a failed entry leaves the VMCS clear, so VMLAUNCH works again).
 */
#include "trap.h"
#include "vmx_lib.h"

__asm__(".text\n"
	".globl fail_guest\n"
	"fail_guest:\n"
	"  cpuid\n"
	"  jmp fail_guest\n");
extern char fail_guest[];

static uint8_t gstack[4096] __attribute__((aligned(16)));
static uint64_t msr_list[2][2] __attribute__((aligned(16)));

static void reset(void)
{
	vmx_lib_vmcs_init((uint64_t)fail_guest, (uint64_t)(gstack + sizeof(gstack)), 0, 0);
}

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on())
		return report("g64_vmx_fail");
	int r;

	/* controls: CR3-target count > 4 */
	reset();
	vmwrite(0x400a, 5);
	r = vm_enter(1, 0);
	check(r == 2 && vmread(VMCS_VM_INSN_ERROR) == 7,
	      "CR3-target count 5: VMfailValid 7 (%d %lu)", r,
	      (unsigned long)vmread(VMCS_VM_INSN_ERROR));
	/* controls: a reserved pin-based control set */
	reset();
	vmwrite(VMCS_PIN, vmread(VMCS_PIN) | (1u << 12));
	r = vm_enter(1, 0);
	check(r == 2 && vmread(VMCS_VM_INSN_ERROR) == 7, "reserved pin control: VMfailValid 7");
	/* host state: CS selector 0 */
	reset();
	vmwrite(VMCS_HOST_CS_SEL, 0);
	r = vm_enter(1, 0);
	check(r == 2 && vmread(VMCS_VM_INSN_ERROR) == 8, "host CS 0: VMfailValid 8 (%d %lu)", r,
	      (unsigned long)vmread(VMCS_VM_INSN_ERROR));
	/* host state: non-canonical host RIP is written by vm_enter; use TR base */
	reset();
	vmwrite(VMCS_HOST_TR_BASE, 0x0000800000000000ull);
	r = vm_enter(1, 0);
	check(r == 2 && vmread(VMCS_VM_INSN_ERROR) == 8,
	      "non-canonical host TR base: VMfailValid 8");

	/* guest state: RFLAGS bit 1 clear → exit reason 33 | bit 31 */
	reset();
	vmwrite(VMCS_GUEST_RFLAGS, 0);
	r = vm_enter(1, 0);
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == (0x80000000u | 33), "RFLAGS bit 1 = 0: exit reason %x", reason);
	check(vmread(VMCS_EXIT_QUAL) == 0, "qualification 0");
	/* guest state: CS not present */
	reset();
	vmwrite(VMCS_GUEST_ES_AR + 2, 0xa01b);
	r = vm_enter(1, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == (0x80000000u | 33), "CS.P = 0: exit reason %x", reason);
	/* guest state: VMCS link pointer → qualification 4 */
	reset();
	vmwrite(VMCS_LINK_PTR, 0x1000);
	r = vm_enter(1, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == (0x80000000u | 33) && vmread(VMCS_EXIT_QUAL) == 4,
	      "VMCS link pointer: reason %x qualification %lu", reason,
	      (unsigned long)vmread(VMCS_EXIT_QUAL));

	/* MSR-load list: entry 2 names IA32_FS_BASE, which may not be loaded */
	reset();
	msr_list[0][0] = 0x174; /* IA32_SYSENTER_CS */
	msr_list[0][1] = 0x10;
	msr_list[1][0] = 0xc0000100;
	msr_list[1][1] = 0;
	vmwrite(0x200a, (uint64_t)msr_list);
	vmwrite(0x4014, 2);
	r = vm_enter(1, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == (0x80000000u | 34) && vmread(VMCS_EXIT_QUAL) == 2,
	      "MSR-load list: reason %x qualification %lu", reason,
	      (unsigned long)vmread(VMCS_EXIT_QUAL));
	vmwrite(0x4014, 0);

	/* A good entry still works (the VMCS stayed clear). */
	reset();
	r = vm_enter(1, 0);
	reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == 10, "good entry: CPUID exit (%d, reason %u)", r, reason);
	vmx_lib_off();
	return report("g64_vmx_fail");
}
