/*
 * g64_vmx_pml — page-modification logging and VM functions (SDM Vol. 3C
 * §29.3.6, §26.5.6):
 *  - the capability MSRs report PML, VM functions and EPTP switching;
 *  - VM entry refuses PML without EPT or with an unaligned log, VM-function
 *    controls beyond EPTP switching and an unaligned EPTP list (error 7);
 *  - with EPT A/D flags, a write that sets a dirty flag logs its 4-KByte
 *    guest-physical address at the PML index and decrements it; a write to
 *    a page already dirty logs nothing;
 *  - with the index outside 0..511 the write exits "PML full" (62) before
 *    anything changes; with a valid index it then completes;
 *  - VMFUNC 0 switches the EPT pointer to an EPTP-list entry (the guest
 *    then sees the other EPT's mapping); an invalid entry, an index above
 *    511 and a function other than 0 exit with reason 59 at the VMFUNC;
 *    without "enable VM functions" VMFUNC is #UD.
 */
#include "trap.h"
#include "stage2_lib.h"
#include "vmx_lib.h"

#define TARGET  0x1005010ull /* written by the PML guest */
#define TARGET2 0x1006000ull /* read after an EPTP switch */

#define VMCS_PML_ADDR   0x200e
#define VMCS_VMFUNC_CTL 0x2018
#define VMCS_EPTP_LIST  0x2024
#define VMCS_PML_INDEX  0x0812

__asm__(".text\n"
	".globl pml_guest, vf_guest, vf_ud_guest\n"
	"pml_guest:\n"
	"  mov $0x1005010, %eax\n"
	"  movq $1, (%rax)\n" /* +5: sets the dirty flag: logged */
	"  movq $2, (%rax)\n" /* already dirty: not logged */
	"  vmcall\n"
	"vf_guest:\n"
	"  mov $0x1006000, %ebx\n"
	"  xor %eax, %eax\n"
	"  mov $1, %ecx\n"
	"  vmfunc\n"           /* +12: EPTP list entry 1 */
	"  mov (%rbx), %rdx\n" /* through the second EPT */
	"  mov $2, %ecx\n"
	"  vmfunc\n" /* +23: entry 2 is invalid: exit */
	"  vmcall\n"
	"vf_ud_guest:\n"
	"  xor %eax, %eax\n"
	"  xor %ecx, %ecx\n"
	"  vmfunc\n"
	"  vmcall\n");
extern char pml_guest[], vf_guest[], vf_ud_guest[];

static uint8_t gstack[4096] __attribute__((aligned(16)));
static struct s2 ept;
/* Second EPT: the same except that TARGET2 maps alt_page. */
static struct s2 eptb;
static uint64_t eptp_list[512] __attribute__((aligned(4096)));
static uint64_t pml_log[512] __attribute__((aligned(4096)));
static uint64_t alt_page[512] __attribute__((aligned(4096)));

#define EPT_RWX   7ull
#define EPT_WB    (6ull << 3)
#define EPT_DIRTY (1ull << 9)
#define EPT_ACC   (1ull << 8)

static void build_ept(void)
{
	s2_identity(&ept, 0x1000000, EPT_RWX, EPT_RWX | EPT_WB);
	s2_identity(&eptb, 0x1000000, EPT_RWX, EPT_RWX | EPT_WB);
	*s2_leaf(&eptb, TARGET2) = (uint64_t)alt_page | EPT_RWX | EPT_WB;
}

/* Every EPT leaf accessed and dirty except the one of TARGET: only the
 * guest's write to TARGET can set a dirty flag (paging-structure accesses
 * are writes with EPT A/D flags, §29.3.5, and would be logged too). */
static void all_dirty_but_target(void)
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 512; j++)
			ept.pd[i][j] |= EPT_ACC | EPT_DIRTY;
	for (int k = 0; k < 512; k++)
		ept.pt[k] |= EPT_ACC | EPT_DIRTY;
	ept.pt[5] &= ~(EPT_ACC | EPT_DIRTY);
}

static int entry_error(void)
{
	vmx_ptr_op(1, (uint64_t)vmcs_region);
	vmx_ptr_op(2, (uint64_t)vmcs_region);
	int r = vm_enter(1, 0);
	return r == 2 ? (int)vmread(VMCS_VM_INSN_ERROR) : -r;
}

static void test_pml(void)
{
	uint64_t eptp = (uint64_t)ept.pml4 | 6 | 3 << 3 | 1 << 6; /* WB, 4 levels, A/D */
	vmx_lib_vmcs_init((uint64_t)pml_guest, (uint64_t)(gstack + sizeof(gstack)), 0,
			  (1u << 1) | (1u << 17));
	vmwrite(VMCS_EPTP, eptp);
	vmwrite(VMCS_PML_ADDR, (uint64_t)pml_log | 8);
	check(entry_error() == 7, "unaligned PML address: VMfailValid(7)");
	vmwrite(VMCS_PML_ADDR, (uint64_t)pml_log);
	vmwrite(VMCS_PROC2, 1u << 17);
	check(entry_error() == 7, "PML without EPT: VMfailValid(7)");
	vmwrite(VMCS_PROC2, (1u << 1) | (1u << 17));

	/* Logging: one entry for the first write to the clean page. */
	*(volatile uint64_t *)TARGET = 0;
	all_dirty_but_target();
	for (int i = 0; i < 512; i++)
		pml_log[i] = 0;
	vmwrite(VMCS_PML_INDEX, 511);
	vmx_ptr_op(1, (uint64_t)vmcs_region);
	vmx_ptr_op(2, (uint64_t)vmcs_region);
	int r = vm_enter(1, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 18, "PML guest runs to VMCALL (%d %lu)", r,
	      (unsigned long)vmread(VMCS_EXIT_REASON));
	check(vmread(VMCS_PML_INDEX) == 510, "one address logged: index %lu",
	      (unsigned long)vmread(VMCS_PML_INDEX));
	check(pml_log[511] == (TARGET & ~0xfffull), "logged GPA %lx", (unsigned long)pml_log[511]);
	check(pml_log[510] == 0, "nothing else logged");
	check((ept.pt[5] & EPT_DIRTY) && *(volatile uint64_t *)TARGET == 2,
	      "dirty flag set, writes landed");

	/* Log full: index 0xffff (after index 0 was used) exits before the
	 * write; a valid index then lets it complete. */
	all_dirty_but_target();
	*(volatile uint64_t *)TARGET = 0;
	vmwrite(VMCS_PML_INDEX, 0xffff);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)pml_guest);
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 62, "PML full exit (%lu)",
	      (unsigned long)vmread(VMCS_EXIT_REASON));
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)pml_guest + 5, "RIP at the write (%lx)",
	      (unsigned long)(vmread(VMCS_GUEST_RIP) - (uint64_t)pml_guest));
	check(!(ept.pt[5] & EPT_DIRTY) && *(volatile uint64_t *)TARGET == 0,
	      "no dirty flag, no write");
	check(vmread(VMCS_PML_INDEX) == 0xffff, "index unchanged");
	vmwrite(VMCS_PML_INDEX, 0);
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 18, "then the write completes (%lu)",
	      (unsigned long)vmread(VMCS_EXIT_REASON));
	check(pml_log[0] == (TARGET & ~0xfffull) && vmread(VMCS_PML_INDEX) == 0xffff,
	      "logged at index 0, index wraps to ffff (%lx)",
	      (unsigned long)vmread(VMCS_PML_INDEX));
}

static void test_vmfunc(void)
{
	uint64_t eptp_a = (uint64_t)ept.pml4 | 6 | 3 << 3;
	uint64_t eptp_b = (uint64_t)eptb.pml4 | 6 | 3 << 3;
	eptp_list[0] = eptp_a;
	eptp_list[1] = eptp_b;
	eptp_list[2] = (uint64_t)eptb.pml4 | 6 | 2 << 3; /* 3-level walk: invalid */
	alt_page[0] = 0xa1a1a1a1;
	*(volatile uint64_t *)TARGET2 = 0x5151;

	vmx_lib_vmcs_init((uint64_t)vf_guest, (uint64_t)(gstack + sizeof(gstack)), 0,
			  (1u << 1) | (1u << 13));
	vmwrite(VMCS_EPTP, eptp_a);
	vmwrite(VMCS_EXC_BITMAP, 1u << 6);
	vmwrite(VMCS_VMFUNC_CTL, 3);
	vmwrite(VMCS_EPTP_LIST, (uint64_t)eptp_list);
	check(entry_error() == 7, "VM function 1: VMfailValid(7)");
	vmwrite(VMCS_VMFUNC_CTL, 1);
	vmwrite(VMCS_EPTP_LIST, (uint64_t)eptp_list + 0x800);
	check(entry_error() == 7, "unaligned EPTP list: VMfailValid(7)");
	vmwrite(VMCS_EPTP_LIST, (uint64_t)eptp_list);
	vmwrite(VMCS_PROC2, 1u << 13);
	check(entry_error() == 7, "EPTP switching without EPT: VMfailValid(7)");
	vmwrite(VMCS_PROC2, (1u << 1) | (1u << 13));

	vmx_ptr_op(1, (uint64_t)vmcs_region);
	vmx_ptr_op(2, (uint64_t)vmcs_region);
	int r = vm_enter(1, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 59, "invalid EPTP-list entry: exit 59 (%d %lu)",
	      r, (unsigned long)vmread(VMCS_EXIT_REASON));
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)vf_guest + 23 && vmread(VMCS_EXIT_INSN_LEN) == 3,
	      "at the second VMFUNC (%lx)",
	      (unsigned long)(vmread(VMCS_GUEST_RIP) - (uint64_t)vf_guest));
	check(vmread(VMCS_EPTP) == eptp_b, "EPT pointer switched to entry 1 (%lx)",
	      (unsigned long)vmread(VMCS_EPTP));
	check(vm_guest_regs.rdx == 0xa1a1a1a1, "guest read through the second EPT (%lx)",
	      (unsigned long)vm_guest_regs.rdx);

	vm_guest_regs.rcx = 512;
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 59, "index 512: exit 59");
	vm_guest_regs.rcx = 0;
	vm_guest_regs.rax = 1;
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 59, "function 1: exit 59");
	check(vmread(VMCS_EPTP) == eptp_b, "EPT pointer unchanged by failed VMFUNCs");
	vm_guest_regs.rax = 0;
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 18 && vmread(VMCS_EPTP) == eptp_a,
	      "index 0 switches back, then VMCALL (%lu)", (unsigned long)vmread(VMCS_EXIT_REASON));

	/* Without "enable VM functions": #UD (exception bitmap bit 6). */
	vmwrite(VMCS_PROC2, 1u << 1);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)vf_ud_guest);
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 0 &&
		      (vmread(VMCS_EXIT_INTR_INFO) & 0x7ff) == 0x306,
	      "VMFUNC disabled: #UD (%lu %lx)", (unsigned long)vmread(VMCS_EXIT_REASON),
	      (unsigned long)vmread(VMCS_EXIT_INTR_INFO));
}

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on())
		return report("g64_vmx_pml");
	uint64_t p2 = rdmsr(0x48b) >> 32;
	check((p2 & (1u << 17)) && (p2 & (1u << 13)), "PML and VM functions allowed (%lx)",
	      (unsigned long)p2);
	check(rdmsr(0x491) == 1, "IA32_VMX_VMFUNC: EPTP switching only");
	check(rdmsr(0x48c) & (1u << 21), "EPT A/D flags");
	build_ept();
	test_pml();
	test_vmfunc();
	vmx_lib_off();
	return report("g64_vmx_pml");
}
