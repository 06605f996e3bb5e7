/*
 * g64_vmx_sipi — the wait-for-SIPI activity state (SDM Vol. 3C §26.2,
 * §27.3.1.5, §28.2.1): IA32_VMX_MISC[8] is reported; the AP (vCPU 1, started
 * by INIT-SIPI-SIPI into a small real-mode trampoline) enters L2 with guest
 * activity state 3; a SIPI from the BSP then exits with reason 4, the SIPI
 * vector as the qualification and the activity state saved as 3; a SIPI to
 * an active L2 is dropped (the next exit is L2's VMCALL); an INIT to L2
 * exits with reason 3. Runs on the pc board with -smp 2.
 */
#include "trap.h"
#include "vmx_lib.h"

#define APIC      0xfee00000ul
#define SVR       0x0f0
#define ICR_LO    0x300
#define ICR_HI    0x310
#define TRAMP     0x8000ul /* the AP starts at SIPI vector 8: 0800:0000 */
#define L2_VECTOR 0x42

static void apic_wr(unsigned r, uint32_t v)
{
	*(volatile uint32_t *)(APIC + r) = v;
}
static uint32_t apic_rd(unsigned r)
{
	return *(volatile uint32_t *)(APIC + r);
}
static void ipi(uint32_t dest, uint32_t lo)
{
	apic_wr(ICR_HI, dest << 24);
	apic_wr(ICR_LO, lo);
	for (long n = 0; (apic_rd(ICR_LO) & (1u << 12)) && n < 1000000; n++)
		;
}

/* Shared between the vCPUs. */
static volatile int ap_stage, l2_release;
static volatile uint32_t exit_reason[3], exit_act[3];
static volatile uint64_t exit_qual[3];
static uint8_t ap_stack[8192] __attribute__((aligned(16)));
uint64_t ap_stack_top = (uint64_t)(ap_stack + sizeof(ap_stack));

/* Real mode at 0800:0000 (copied to TRAMP) → protected mode → long mode
 * with the BSP's page tables and GDT (descriptor patched in by the BSP). */
__asm__(".text\n"
	".globl ap_tramp, ap_tramp_gdt, ap_tramp_end\n"
	".code16\n"
	"ap_tramp:\n"
	"  cli\n"
	"  xor %ax, %ax\n"
	"  mov %ax, %ds\n"
	"  lgdtl 0x8000 + (ap_tramp_gdt - ap_tramp)\n"
	"  mov %cr0, %eax\n"
	"  or $1, %eax\n"
	"  mov %eax, %cr0\n"
	"  ljmpl $0x08, $0x8000 + (ap_tramp32 - ap_tramp)\n"
	".code32\n"
	"ap_tramp32:\n"
	"  mov $0x10, %ax\n"
	"  mov %ax, %ds\n"
	"  mov %ax, %es\n"
	"  mov %ax, %ss\n"
	"  mov %cr4, %eax\n"
	"  or $0x620, %eax\n" /* PAE, OSFXSR, OSXMMEXCPT */
	"  mov %eax, %cr4\n"
	"  mov $pml4, %eax\n"
	"  mov %eax, %cr3\n"
	"  mov $0xc0000080, %ecx\n"
	"  rdmsr\n"
	"  or $0x100, %eax\n"
	"  wrmsr\n"
	"  mov %cr0, %eax\n"
	"  and $~0x4, %eax\n"
	"  or $0x80000022, %eax\n" /* PG, NE, MP */
	"  mov %eax, %cr0\n"
	"  ljmp $0x18, $ap_long\n"
	"  .align 8\n"
	"ap_tramp_gdt:\n"
	"  .word 0\n"
	"  .long 0\n"
	"ap_tramp_end:\n"
	".code64\n"
	"ap_long:\n"
	"  mov $0x10, %ax\n"
	"  mov %ax, %ds\n"
	"  mov %ax, %es\n"
	"  mov %ax, %ss\n"
	"  mov ap_stack_top(%rip), %rsp\n"
	"  call ap_main\n"
	"1: cli\n"
	"  hlt\n"
	"  jmp 1b\n");
extern char ap_tramp[], ap_tramp_gdt[], ap_tramp_end[];

/* L2: wait for the BSP's release, then VMCALL; again and again. */
__asm__(".text\n"
	".globl sipi_guest\n"
	"sipi_guest:\n"
	"  cmpl $0, l2_release(%rip)\n"
	"  je sipi_guest\n"
	"  movl $0, l2_release(%rip)\n"
	"  vmcall\n"
	"  jmp sipi_guest\n");
extern char sipi_guest[];

static uint8_t gstack[4096] __attribute__((aligned(16)));
static struct dtr bsp_idt;

static void record(int i)
{
	exit_reason[i] = (uint32_t)vmread(VMCS_EXIT_REASON);
	exit_qual[i] = vmread(VMCS_EXIT_QUAL);
	exit_act[i] = (uint32_t)vmread(VMCS_GUEST_ACTIVITY);
}

void ap_main(void);
void ap_main(void)
{
	__asm__ volatile("lidt %0" ::"m"(bsp_idt));
	if (!vmx_lib_on()) {
		ap_stage = 99;
		return;
	}
	vmx_lib_vmcs_init((uint64_t)sipi_guest, (uint64_t)(gstack + sizeof(gstack) - 64), 0, 0);
	vmwrite(VMCS_GUEST_ACTIVITY, 3); /* wait-for-SIPI */
	ap_stage = 1;
	/* 1: in wait-for-SIPI until the BSP's SIPI exits. */
	int r = vm_enter(1, 0);
	record(0);
	if (r) {
		ap_stage = 90 + r;
		return;
	}
	vmwrite(VMCS_GUEST_ACTIVITY, 0);
	ap_stage = 2;
	/* 2: active; the BSP's SIPI is dropped, L2's VMCALL exits. */
	r = vm_enter(0, 0);
	record(1);
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSN_LEN));
	ap_stage = 3;
	/* 3: active, never released: the BSP's INIT exits. */
	r = vm_enter(0, 0);
	record(2);
	vmx_lib_off();
	ap_stage = 4;
}

/* Give the AP time to run (no PAUSE: it may end the vCPU's time slice). */
static void spin(long n)
{
	for (volatile long k = 0; k < n; k++)
		;
}

/* Spin until the AP reaches a stage (bounded); true when it did. */
static int wait_stage(int s)
{
	for (long n = 0; n < 50000000; n++)
		if (ap_stage == s)
			return 1;
	return 0;
}

int guest_main(void)
{
	trap_init();
	check(rdmsr(0x485) & (1u << 8), "IA32_VMX_MISC[8]: wait-for-SIPI activity state");
	apic_wr(SVR, 0x1ff);
	struct dtr g;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(bsp_idt));
	uint8_t *t = (uint8_t *)TRAMP;
	for (long k = 0; k < ap_tramp_end - ap_tramp; k++)
		t[k] = (uint8_t)ap_tramp[k];
	uint8_t *gd = t + (ap_tramp_gdt - ap_tramp);
	*(uint16_t *)gd = g.limit;
	*(uint32_t *)(gd + 2) = (uint32_t)g.base;

	/* Start the AP: INIT, SIPI, SIPI (SDM Vol. 3A §9.4.4.1). */
	ipi(1, 0x4500);
	ipi(1, 0x4600 | (uint32_t)(TRAMP >> 12));
	ipi(1, 0x4600 | (uint32_t)(TRAMP >> 12));
	check(wait_stage(1), "AP reaches L1 (stage %d)", ap_stage);

	/* Until the AP is in L2, a SIPI to its L1 is dropped: repeat. */
	for (long n = 0; n < 2000 && ap_stage == 1; n++) {
		ipi(1, 0x4600 | L2_VECTOR);
		for (long k = 0; k < 20000 && ap_stage == 1; k++)
			;
	}
	check(wait_stage(2), "SIPI exit taken (stage %d)", ap_stage);
	ipi(1, 0x4600 | L2_VECTOR); /* dropped: L2 is active */
	spin(200000);
	l2_release = 1;
	check(wait_stage(3), "VMCALL exit taken (stage %d)", ap_stage);
	spin(200000);
	ipi(1, 0x4500); /* INIT */
	check(wait_stage(4), "INIT exit taken (stage %d)", ap_stage);

	check(exit_reason[0] == 4, "exit reason %u for the SIPI (want 4)", exit_reason[0]);
	check(exit_qual[0] == L2_VECTOR, "SIPI vector %lx as the qualification",
	      (unsigned long)exit_qual[0]);
	check(exit_act[0] == 3, "activity state %u saved (want 3)", exit_act[0]);
	check(exit_reason[1] == 18, "exit reason %u after a SIPI to an active L2 (want 18)",
	      exit_reason[1]);
	check(exit_reason[2] == 3, "exit reason %u for the INIT (want 3)", exit_reason[2]);
	check(exit_act[2] == 0, "activity state %u at the INIT exit (want 0)", exit_act[2]);
	return report("g64_vmx_sipi");
}
