/*
 * g64_vmx_cr — control-register and other conditional exits (SDM Vol. 3C
 * §26.1.3, §26.3): CR0 guest/host mask and read shadow (a read returns the
 * shadow's owned bits without exiting; a write exits only if an owned bit
 * differs from the shadow, otherwise owned bits stay), CLTS with TS owned
 * and set in the shadow (qualification type 2), CR3-load exiting with the
 * CR3 qualification, MOV-DR exiting (direction, register), TSC offsetting,
 * descriptor-table exiting (reason 46).
 */
#include "trap.h"
#include "vmx_lib.h"

__asm__(".text\n"
	".globl cr_guest\n"
	"cr_guest:\n"
	"  mov %cr0, %rax\n" /* no exit: TS from the shadow */
	"  vmcall\n"         /* #0 */
	"  mov %rax, %cr0\n" /* TS equal to the shadow: no exit */
	"  mov %cr0, %rcx\n"
	"  vmcall\n" /* #1 */
	"  and $~8, %rax\n"
	"  mov %rax, %cr0\n" /* #2 owned TS differs: exit, qual 0 */
	"  clts\n"           /* #3 exit, qual 0x20 */
	"  mov %cr3, %rax\n"
	"  mov %rax, %cr3\n" /* #4 exit, qual 3 */
	"  mov %dr7, %rbx\n" /* #5 exit, qual 0x317 */
	"  rdtsc\n"
	"  vmcall\n"      /* #6 */
	"  sgdt (%rsp)\n" /* #7 exit 46 */
	"  vmcall\n"      /* #8 */
	"1: jmp 1b\n");
extern char cr_guest[];

static uint8_t gstack[4096] __attribute__((aligned(16)));

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on())
		return report("g64_vmx_cr");
	uint32_t proc = (1u << 15) | (1u << 23) | (1u << 3);
	vmx_lib_vmcs_init((uint64_t)cr_guest, (uint64_t)(gstack + sizeof(gstack) - 64), proc,
			  1u << 2);
	uint64_t cr0 = read_cr0() & ~8ul;
	vmwrite(VMCS_GUEST_CR0, cr0);
	vmwrite(0x6000, 8);          /* CR0 guest/host mask: TS */
	vmwrite(0x6004, 8);          /* read shadow: TS = 1 */
	vmwrite(0x2010, 1ull << 40); /* TSC offset */

	static const struct {
		uint32_t reason, len;
		uint64_t qual;
	} want[] = {
		{ 18, 3, 0 },     { 18, 3, 0 }, { 28, 3, 0 }, { 28, 2, 0x20 }, { 28, 3, 3 },
		{ 29, 3, 0x317 }, { 18, 3, 0 }, { 46, 4, 0 }, { 18, 3, 0 },
	};
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int r = vm_enter(i == 0, 0);
		uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
		uint32_t len = (uint32_t)vmread(VMCS_EXIT_INSN_LEN);
		uint64_t qual = vmread(VMCS_EXIT_QUAL);
		check(r == 0 && reason == want[i].reason, "exit %u: reason %u want %u", i, reason,
		      want[i].reason);
		check(len == want[i].len, "exit %u: length %u want %u", i, len, want[i].len);
		check(qual == want[i].qual, "exit %u: qualification %lx want %lx", i,
		      (unsigned long)qual, (unsigned long)want[i].qual);
		if (i == 0)
			check(vm_guest_regs.rax & 8, "MOV from CR0 returns the shadow's TS");
		if (i == 1) {
			check(vm_guest_regs.rcx & 8, "second read through the shadow");
			check(!(vmread(VMCS_GUEST_CR0) & 8), "owned TS not changed by the write");
		}
		if (i == 6)
			check(vm_guest_regs.rdx >= 0x100, "RDTSC includes the TSC offset (%lx)",
			      (unsigned long)vm_guest_regs.rdx);
		if (i == 7) {
			uint32_t ii = (uint32_t)vmread(0x440e);
			check((ii >> 28) == 0 && ((ii >> 23) & 15) == 4 && ((ii >> 7) & 7) == 2,
			      "SGDT instruction information %x", ii);
		}
		if (r)
			break;
		vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + len);
	}
	vmx_lib_off();
	return report("g64_vmx_cr");
}
