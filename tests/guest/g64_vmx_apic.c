/*
 * g64_vmx_apic — APIC virtualization (SDM Vol. 3C ch. 30):
 *  - use TPR shadow: MOV from CR8 reads VTPR[7:4], MOV to CR8 writes VTPR
 *    (not the real TPR) and a VTPR below the TPR threshold exits (reason
 *    43, trap-like: RIP after the MOV); the VM-entry check "threshold >
 *    VTPR[7:4]" fails with VMfailValid(7);
 *  - virtualize APIC accesses: a read of the APIC-access page's TPR comes
 *    from the virtual-APIC page, a write to ICR exits (reason 44,
 *    qualification offset | linear write), an instruction fetch exits with
 *    access type 2;
 *  - APIC-register virtualization: a write to the timer's initial count is
 *    stored in the virtual-APIC page and exits trap-like (APIC write, 56);
 *  - virtualize x2APIC mode + virtual-interrupt delivery: RDMSR 808H reads
 *    VTPR, a self-IPI (WRMSR 83FH) is delivered through the guest's IDT
 *    with VISR/SVI/RVI updated, the handler's EOI (WRMSR 80BH) with the
 *    vector in the EOI-exit bitmap exits (45, qualification = vector).
 * Posted interrupts need a real local APIC (the bare board has none): they
 * are covered by kvm-unit-tests' vmx_posted_interrupts_test.
 */
#include "trap.h"
#include "vmx_lib.h"

#define VMCS_VAPIC_ADDR   0x2012
#define VMCS_APIC_ACCESS  0x2014
#define VMCS_EOI_EXIT0    0x201c
#define VMCS_EOI_EXIT1    0x201e
#define VMCS_MSR_BITMAP   0x2004
#define VMCS_TPR_THRESH   0x401c
#define VMCS_INTR_STATUS  0x0810
#define PROC_TPR_SHADOW   (1u << 21)
#define PROC_MSR_BITMAPS  (1u << 28)
#define PROC2_APIC_ACCESS (1u << 0)
#define PROC2_X2APIC      (1u << 4)
#define PROC2_APIC_REG    (1u << 8)
#define PROC2_VID         (1u << 9)

static uint8_t vapic[4096] __attribute__((aligned(4096)));
static uint8_t apic_page[4096] __attribute__((aligned(4096)));
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));
static uint8_t gstack[4096] __attribute__((aligned(16)));
static uint64_t gidt[512] __attribute__((aligned(4096)));

/* Guests. RBX carries the value read back to L1. */
__asm__(".text\n"
	".globl ap_cr8, ap_cr8_after, ap_mmio, ap_mmio_wr, ap_fetch, ap_arv, ap_arv_after\n"
	".globl ap_x2, ap_x2_after, ap_isr\n"
	"ap_cr8:\n"
	"  mov %cr8, %rbx\n"
	"  mov $2, %ecx\n"
	"  mov %rcx, %cr8\n"
	"ap_cr8_after:\n"
	"  vmcall\n"
	"ap_mmio:\n" /* RDI = APIC-access page */
	"  mov 0x80(%rdi), %ebx\n"
	"ap_mmio_wr:\n"
	"  movl $0x4030, 0x300(%rdi)\n"
	"  vmcall\n"
	"ap_fetch:\n"
	"  jmp *%rdi\n"
	"ap_arv:\n"
	"  movl $0x1234, 0x380(%rdi)\n"
	"ap_arv_after:\n"
	"  vmcall\n"
	"ap_x2:\n"
	"  mov $0x808, %ecx\n"
	"  rdmsr\n"
	"  mov %eax, %ebx\n"
	"  sti\n"
	"  mov $0x83f, %ecx\n"
	"  mov $0x40, %eax\n"
	"  xor %edx, %edx\n"
	"  wrmsr\n"
	"ap_x2_after:\n"
	"  vmcall\n"
	"ap_isr:\n" /* vector 40h: mark, EOI (exits), return */
	"  mov $0x40, %esi\n"
	"  mov $0x80b, %ecx\n"
	"  xor %eax, %eax\n"
	"  xor %edx, %edx\n"
	"  wrmsr\n"
	"  iretq\n");
extern char ap_cr8[], ap_cr8_after[], ap_mmio[], ap_mmio_wr[], ap_fetch[], ap_arv[], ap_arv_after[];
extern char ap_x2[], ap_x2_after[], ap_isr[];

static void gate(int vec, void *fn)
{
	uint64_t off = (uint64_t)fn;
	gidt[2 * vec] = (off & 0xffff) | (uint64_t)SEL_CODE64 << 16 | 0x8eull << 40 |
			((off >> 16) & 0xffff) << 48;
	gidt[2 * vec + 1] = off >> 32;
}

static inline uint32_t vapic32(unsigned off)
{
	return *(volatile uint32_t *)(vapic + off);
}

static int enter(uint32_t want, const char *what)
{
	int r = vm_enter(0, 0);
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	check(r == 0 && reason == want, "%s: exit reason %u (want %u, vm_enter %d)", what, reason,
	      want, r);
	return r == 0 && reason == want;
}

int guest_main(void)
{
	trap_init();
	if (!vmx_lib_on())
		return report("g64_vmx_apic");
	uint32_t proc1 = (uint32_t)(rdmsr(0x48e) >> 32);
	uint32_t proc2 = (uint32_t)(rdmsr(0x48b) >> 32);
	uint32_t pin = (uint32_t)(rdmsr(0x48d) >> 32);
	check(proc1 & PROC_TPR_SHADOW, "use TPR shadow allowed");
	check((proc2 & (PROC2_APIC_ACCESS | PROC2_X2APIC | PROC2_APIC_REG | PROC2_VID)) ==
		      (PROC2_APIC_ACCESS | PROC2_X2APIC | PROC2_APIC_REG | PROC2_VID),
	      "APIC virtualization controls allowed (%x)", proc2);
	check(pin & (1u << 7), "process posted interrupts allowed");
	gate(0x40, ap_isr);

	/* --- TPR shadow and MOV CR8 --- */
	vmx_lib_vmcs_init((uint64_t)ap_cr8, (uint64_t)(gstack + sizeof(gstack)), PROC_TPR_SHADOW,
			  0);
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)gidt);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(gidt) - 1);
	vmwrite(VMCS_VAPIC_ADDR, (uint64_t)vapic);
	*(volatile uint32_t *)(vapic + 0x80) = 0x50;
	vmwrite(VMCS_TPR_THRESH, 6); /* above VTPR[7:4] = 5: entry fails */
	int r = vm_enter(1, 0);
	check(r == 2 && vmread(VMCS_VM_INSN_ERROR) == 7,
	      "TPR threshold above VTPR: VMfailValid(7) (%d, %lu)", r,
	      (unsigned long)vmread(VMCS_VM_INSN_ERROR));
	vmwrite(VMCS_TPR_THRESH, 3);
	r = vm_enter(1, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 43, "TPR below threshold exit (%d, %lu)", r,
	      (unsigned long)vmread(VMCS_EXIT_REASON));
	check(vm_guest_regs.rbx == 5, "MOV from CR8 read VTPR[7:4] (%lx)",
	      (unsigned long)vm_guest_regs.rbx);
	check(vapic32(0x80) == 0x20, "MOV to CR8 wrote VTPR (%x)", vapic32(0x80));
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)ap_cr8_after, "trap-like: RIP after MOV CR8");
	uint64_t cr8;
	__asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
	check(cr8 == 0, "the real TPR is untouched (%lx)", (unsigned long)cr8);
	vmwrite(VMCS_TPR_THRESH, 2);
	enter(18, "no TPR exit at the threshold");

	/* --- the APIC-access page --- */
	vmx_lib_vmcs_init((uint64_t)ap_mmio, (uint64_t)(gstack + sizeof(gstack)), PROC_TPR_SHADOW,
			  PROC2_APIC_ACCESS);
	vmwrite(VMCS_VAPIC_ADDR, (uint64_t)vapic);
	vmwrite(VMCS_APIC_ACCESS, (uint64_t)apic_page);
	vmwrite(VMCS_TPR_THRESH, 0);
	*(volatile uint32_t *)(vapic + 0x80) = 0x70;
	*(volatile uint32_t *)(apic_page + 0x80) = 0xdead;
	vm_guest_regs.rdi = (uint64_t)apic_page;
	r = vm_enter(0, 0); /* the VMCS is launched */
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 44, "write to ICR: APIC-access exit (%lu)",
	      (unsigned long)vmread(VMCS_EXIT_REASON));
	check(vmread(VMCS_EXIT_QUAL) == (0x300 | 1u << 12), "qualification %lx want 1300",
	      (unsigned long)vmread(VMCS_EXIT_QUAL));
	check(vm_guest_regs.rbx == 0x70, "TPR read from the virtual-APIC page (%lx)",
	      (unsigned long)vm_guest_regs.rbx);
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)ap_mmio_wr, "fault-like: RIP at the write");
	check(*(volatile uint32_t *)(apic_page + 0x304) == 0 && vapic32(0x300) == 0,
	      "the write went nowhere");
	vmwrite(VMCS_GUEST_RIP, (uint64_t)ap_fetch);
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 44 && vmread(VMCS_EXIT_QUAL) == 2u << 12,
	      "fetch from the APIC-access page: access type 2 (%lx)",
	      (unsigned long)vmread(VMCS_EXIT_QUAL));

	/* --- APIC-register virtualization: APIC-write exit --- */
	vmwrite(VMCS_PROC2, vmx_ctl(0x48b, PROC2_APIC_ACCESS | PROC2_APIC_REG));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)ap_arv);
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 56 && vmread(VMCS_EXIT_QUAL) == 0x380,
	      "timer initial count write: APIC-write exit (%lu, %lx)",
	      (unsigned long)vmread(VMCS_EXIT_REASON), (unsigned long)vmread(VMCS_EXIT_QUAL));
	check(vapic32(0x380) == 0x1234, "value stored in the virtual-APIC page (%x)",
	      vapic32(0x380));
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)ap_arv_after, "trap-like: RIP after the write");

	/* --- x2APIC virtualization and virtual-interrupt delivery --- */
	vmx_lib_vmcs_init((uint64_t)ap_x2, (uint64_t)(gstack + sizeof(gstack)),
			  PROC_TPR_SHADOW | PROC_MSR_BITMAPS, PROC2_X2APIC | PROC2_VID);
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)gidt);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(gidt) - 1);
	vmwrite(VMCS_PIN, vmx_ctl(0x48d, 1)); /* external-interrupt exiting */
	vmwrite(VMCS_VAPIC_ADDR, (uint64_t)vapic);
	vmwrite(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
	vmwrite(VMCS_EOI_EXIT0, 0);
	vmwrite(VMCS_EOI_EXIT1, 1ull << (0x40 - 64));
	vmwrite(0x2020, 0);
	vmwrite(0x2022, 0);
	vmwrite(VMCS_INTR_STATUS, 0);
	*(volatile uint32_t *)(vapic + 0x80) = 0x10;
	vm_guest_regs.rsi = 0;
	r = vm_enter(0, 0);
	check(r == 0 && vmread(VMCS_EXIT_REASON) == 45 && vmread(VMCS_EXIT_QUAL) == 0x40,
	      "EOI-induced exit for vector 40h (%lu, %lx)", (unsigned long)vmread(VMCS_EXIT_REASON),
	      (unsigned long)vmread(VMCS_EXIT_QUAL));
	check(vm_guest_regs.rbx == 0x10, "RDMSR 808H read VTPR (%lx)",
	      (unsigned long)vm_guest_regs.rbx);
	check(vm_guest_regs.rsi == 0x40, "self-IPI delivered through the guest IDT");
	check(vmread(VMCS_INTR_STATUS) == 0, "RVI and SVI back to 0 (%lx)",
	      (unsigned long)vmread(VMCS_INTR_STATUS));
	check(vapic32(0x100 + 2 * 16) == 0 && vapic32(0x200 + 2 * 16) == 0,
	      "VISR and VIRR bit 40h clear");
	enter(18, "handler returned, VMCALL");
	check(vmread(VMCS_GUEST_RIP) == (uint64_t)ap_x2_after, "guest resumed after WRMSR");

	vmx_lib_off();
	return report("g64_vmx_apic");
}
