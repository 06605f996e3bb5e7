/*
 * g64_vmx_shadow — VMCS shadowing (SDM Vol. 3C §25.10, §26.1.3, §27.2.1.1,
 * §27.3.1.5): a shadow VMCS (revision bit 31) can be made current and
 * written in root operation but not launched (VMfailInvalid); VM entry
 * checks the VMREAD/VMWRITE-bitmap addresses (VMfailValid 7) and the VMCS
 * link pointer (exit reason 33, qualification 4: not a shadow VMCS while
 * shadowing is on, or the current VMCS); in the guest, VMREAD/VMWRITE of a
 * field whose bitmap bit is 0 access the shadow VMCS without an exit
 * (also read-only fields, IA32_VMX_MISC[29]), a set bit or an encoding with
 * bits 63:15 set exits (reasons 23/25 with the instruction information),
 * an unsupported field is VMfailValid(12) in the current VMCS, a link
 * pointer of all ones is VMfailInvalid, and without the control every
 * VMREAD exits.
 */
#include "trap.h"
#include "vmx_lib.h"

#define VMCS_VMREAD_BITMAP  0x2026
#define VMCS_VMWRITE_BITMAP 0x2028
#define ALU_FLAGS           0x8d5ul
#define F_CF                0x1ul
#define F_ZF                0x40ul

__asm__(".text\n"
	".globl shadow_guest\n"
	"shadow_guest:\n"
	"  mov $0x681e, %ecx\n"
	"  vmread %rcx, %rax\n" /* guest RIP of the shadow: no exit */
	"  pushf\n pop %rbx\n"
	"  vmcall\n" /* #0 */
	"  mov $0x2222, %eax\n"
	"  vmwrite %rax, %rcx\n" /* into the shadow: no exit */
	"  pushf\n pop %rbx\n"
	"  mov $0x4402, %ecx\n"
	"  vmread %rcx, %rdx\n" /* read-only field of the shadow */
	"  mov $0x55, %eax\n"
	"  vmwrite %rax, %rcx\n" /* read-only field, MISC[29] */
	"  pushf\n pop %rsi\n"
	"  vmcall\n" /* #1 */
	"  mov $0x6c16, %ecx\n"
	"  vmread %rcx, %rax\n"  /* #2 bitmap bit set: exit 23 */
	"  vmwrite %rax, %rcx\n" /* #3 bitmap bit set: exit 25 */
	"  mov $0x681e, %ecx\n"
	"  bts $32, %rcx\n"
	"  vmread %rcx, %rax\n" /* #4 bits 63:15: exit 23 */
	"  mov $0x4c02, %ecx\n"
	"  vmread %rcx, %rax\n" /* unsupported: VMfailValid(12) */
	"  pushf\n pop %rbx\n"
	"  vmcall\n" /* #5 */
	"  mov $0x681e, %ecx\n"
	"  vmread %rcx, %rax\n" /* link pointer ~0: VMfailInvalid */
	"  pushf\n pop %rbx\n"
	"  vmcall\n"            /* #6 */
	"  vmread %rcx, %rax\n" /* #7 shadowing off: exit 23 */
	"1: jmp 1b\n");
extern char shadow_guest[];

static uint8_t gstack[4096] __attribute__((aligned(16)));
static uint8_t shadow_region[4096] __attribute__((aligned(4096)));
static uint8_t other_region[4096] __attribute__((aligned(4096)));
static uint8_t rd_bitmap[4096] __attribute__((aligned(4096)));
static uint8_t wr_bitmap[4096] __attribute__((aligned(4096)));

static void set_bit_in(uint8_t *bm, unsigned n)
{
	bm[n / 8] |= (uint8_t)(1u << (n % 8));
}

/* VMLAUNCH expecting a VM-entry failure for the VMCS link pointer. */
static void expect_link_fail(const char *what)
{
	int r = vm_enter(1, 0);
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	uint64_t qual = vmread(VMCS_EXIT_QUAL);
	check(r == 0 && reason == 0x80000021u && qual == 4,
	      "%s: entry fails with reason 33, qual 4 (r %d, reason %x, qual %lx)", what, r, reason,
	      (unsigned long)qual);
}

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on())
		return report("g64_vmx_shadow");
	uint64_t p2cap = rdmsr(0x48b), misc = rdmsr(0x485);
	check(p2cap >> 32 & (1u << 14), "VMCS shadowing is advertised");
	check(misc & (1u << 29), "IA32_VMX_MISC[29]: VMWRITE to read-only fields");
	if (!(p2cap >> 32 & (1u << 14)))
		return report("g64_vmx_shadow");
	uint32_t rev = (uint32_t)rdmsr(0x480) & 0x7fffffff;

	/* Root operation: a shadow VMCS becomes current, takes VMWRITEs
	 * (also to a read-only field) and cannot be launched. */
	*(uint32_t *)shadow_region = rev | 0x80000000u;
	*(uint32_t *)other_region = rev;
	check(vmx_ptr_op(1, (uint64_t)shadow_region) == 0, "VMCLEAR of the shadow VMCS");
	check(vmx_ptr_op(2, (uint64_t)shadow_region) == 0, "VMPTRLD of the shadow VMCS");
	vmwrite(VMCS_GUEST_RIP, 0x1111);
	vmwrite(VMCS_EXIT_REASON, 0x77);
	check(vmread(VMCS_GUEST_RIP) == 0x1111, "VMREAD of the current shadow VMCS");
	check(vm_enter(1, 0) == 1, "VMLAUNCH of a shadow VMCS: VMfailInvalid");
	check(vmx_ptr_op(1, (uint64_t)other_region) == 0, "VMCLEAR of a second VMCS");
	check(vmx_ptr_op(2, (uint64_t)vmcs_region) == 0, "VMPTRLD of the ordinary VMCS");

	vmx_lib_vmcs_init((uint64_t)shadow_guest, (uint64_t)(gstack + sizeof(gstack) - 64), 0,
			  1u << 14);
	set_bit_in(rd_bitmap, 0x6c16);
	set_bit_in(wr_bitmap, 0x6c16);
	vmwrite(VMCS_VMWRITE_BITMAP, (uint64_t)wr_bitmap);

	/* Entry checks. */
	vmwrite(VMCS_VMREAD_BITMAP, (uint64_t)rd_bitmap + 8);
	vmwrite(VMCS_LINK_PTR, (uint64_t)shadow_region);
	int r = vm_enter(1, 0);
	check(r == 2 && vmread(VMCS_VM_INSN_ERROR) == 7,
	      "misaligned VMREAD bitmap: VMfailValid(7) (r %d)", r);
	vmwrite(VMCS_VMREAD_BITMAP, (uint64_t)rd_bitmap);
	vmwrite(VMCS_LINK_PTR, (uint64_t)other_region);
	expect_link_fail("link pointer to a VMCS without the shadow indicator");
	vmwrite(VMCS_LINK_PTR, (uint64_t)vmcs_region);
	expect_link_fail("link pointer to the current VMCS");
	vmwrite(VMCS_LINK_PTR, (uint64_t)shadow_region + 0x800);
	expect_link_fail("misaligned link pointer");
	vmwrite(VMCS_LINK_PTR, (uint64_t)shadow_region);

	static const uint32_t want[] = { 18, 18, 23, 25, 23, 18, 18, 23 };
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		r = vm_enter(i == 0, 0);
		uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
		uint32_t len = (uint32_t)vmread(VMCS_EXIT_INSN_LEN);
		check(r == 0 && reason == want[i], "exit %u: reason %x want %u (r %d)", i, reason,
		      want[i], r);
		if (r || reason != want[i])
			break;
		struct vm_regs *g = &vm_guest_regs;
		switch (i) {
		case 0:
			check(g->rax == 0x1111, "VMREAD from the shadow (%lx)",
			      (unsigned long)g->rax);
			check(!(g->rbx & ALU_FLAGS), "VMREAD from the shadow: VMsucceed");
			break;
		case 1:
			check(!(g->rbx & ALU_FLAGS), "VMWRITE to the shadow: VMsucceed");
			check(g->rdx == 0x77, "VMREAD of a read-only shadow field (%lx)",
			      (unsigned long)g->rdx);
			check(!(g->rsi & ALU_FLAGS), "VMWRITE of a read-only shadow field");
			check(vmread(VMCS_GUEST_RIP) != 0x2222 && vmread(VMCS_EXIT_REASON) == 18,
			      "the ordinary VMCS is untouched");
			break;
		case 2:
		case 3: {
			uint32_t ii = (uint32_t)vmread(0x440e);
			check((ii >> 28) == 1 && (ii & (1u << 10)) && ((ii >> 3) & 15) == 0,
			      "exit %u: instruction information %x", i, ii);
			break;
		}
		case 5:
			check((g->rbx & ALU_FLAGS) == F_ZF, "unsupported field: VMfailValid (%lx)",
			      (unsigned long)g->rbx);
			check(vmread(VMCS_VM_INSN_ERROR) == 12,
			      "VM-instruction error 12 in the ordinary VMCS");
			vmwrite(VMCS_LINK_PTR, ~0ull);
			break;
		case 6:
			check((g->rbx & ALU_FLAGS) == F_CF, "link pointer ~0: VMfailInvalid (%lx)",
			      (unsigned long)g->rbx);
			vmwrite(VMCS_PROC2, vmread(VMCS_PROC2) & ~(1u << 14));
			break;
		default:
			break;
		}
		vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + len);
	}

	/* The guest's VMWRITEs landed in the shadow VMCS's region. */
	check(vmx_ptr_op(2, (uint64_t)shadow_region) == 0, "VMPTRLD of the shadow VMCS again");
	check(vmread(VMCS_GUEST_RIP) == 0x2222, "shadow guest RIP written by the guest (%lx)",
	      (unsigned long)vmread(VMCS_GUEST_RIP));
	check(vmread(VMCS_EXIT_REASON) == 0x55, "shadow exit reason written by the guest");
	check(vmx_ptr_op(2, (uint64_t)vmcs_region) == 0, "VMPTRLD of the ordinary VMCS again");
	vmx_lib_off();
	return report("g64_vmx_shadow");
}
