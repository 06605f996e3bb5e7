/*
 * g64_svm_icpt — more intercepts and guest controls (APM Vol. 2 §15.9-
 * 15.21): CR0 read (00h), CR3 write (13h), selective CR0 write (65h: a
 * change of TS alone does not exit, of CD does), SIDT (66h), RDTSC (6Eh)
 * and TSC_OFFSET, virtual interrupts (V_IRQ delivered through the guest's
 * IDT, or the VINTR intercept 64h), CR8 as V_TPR with V_INTR_MASKING,
 * and a guest triple fault under the shutdown intercept (7Fh).
 */
#include "g64_svm.h"

static uint64_t idt_l2[256][2] __attribute__((aligned(16)));
volatile uint64_t l2_tsc, l2_ret, l2_cr8v;
volatile uint8_t l2_idtbuf[16];

__asm__(".text\n"
	".globl l2_c0r, l2_c3, l2_c3w, l2_sel, l2_selw, l2_sidt, l2_tscf, l2_spin, l2_v30\n"
	".globl l2_triple, l2_vmm, l2_cr8\n"
	"l2_c0r: mov %cr0, %rax\n jmp l2_vmm\n"
	"l2_c3: mov %cr3, %rax\n"
	"l2_c3w: mov %rax, %cr3\n jmp l2_vmm\n"
	"l2_sel: mov %cr0, %rax\n xor $8, %rax\n mov %rax, %cr0\n bts $30, %rax\n"
	"l2_selw: mov %rax, %cr0\n jmp l2_vmm\n"
	"l2_sidt: sidt l2_idtbuf(%rip)\n jmp l2_vmm\n"
	"l2_tscf: rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, l2_tsc(%rip)\n jmp l2_vmm\n"
	"l2_spin: nop\n jmp l2_spin\n"
	"l2_v30: mov (%rsp), %rax\n mov %rax, l2_ret(%rip)\n mov $0x30, %eax\n jmp l2_vmm\n"
	"l2_triple: ud2\n"
	"l2_cr8: mov $5, %eax\n mov %rax, %cr8\n mov %cr8, %rbx\n mov %rbx, l2_cr8v(%rip)\n"
	" jmp l2_vmm\n"
	"l2_vmm: vmmcall\n jmp l2_vmm\n");
void l2_c0r(void), l2_c3(void), l2_sel(void), l2_sidt(void), l2_tscf(void), l2_spin(void);
void l2_v30(void), l2_triple(void), l2_cr8(void);
extern char l2_c3w[], l2_selw[], l2_vmm[];

static uint64_t run(void (*rip)(void), uint32_t cr, uint32_t misc1)
{
	vmcb_init(vmcb, rip);
	VMCB32(vmcb, V_ICPT_CR) = cr;
	VMCB32(vmcb, V_ICPT_MISC1) = misc1;
	return svm_run(vmcb);
}

static uint64_t rdtsc64(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_icpt");
	}
	uint64_t e = run(l2_c0r, 1u << 0, 0);
	check(e == 0x00, "CR0 read intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_c0r, "CR0 read: RIP");
	e = run(l2_c0r, 0, 0);
	check(e == EXIT_VMMCALL, "CR0 read without intercept runs: exit %lx", (unsigned long)e);

	e = run(l2_c3, 1u << 19, 0);
	check(e == 0x13, "CR3 write intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_c3w, "CR3 write: RIP at the MOV to CR3");

	e = run(l2_sel, 0, 1u << 5);
	check(e == 0x65, "selective CR0 write (CD): exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_selw, "selective CR0 write: RIP (TS alone ran)");
	check((VMCB64(vmcb, V_CR0) ^ read_cr0()) == 8, "guest CR0.TS toggled, saved in the VMCB");

	e = run(l2_sidt, 0, 1u << 6);
	check(e == 0x66, "SIDT intercept: exit %lx", (unsigned long)e);

	e = run(l2_tscf, 0, 1u << 14);
	check(e == 0x6e, "RDTSC intercept: exit %lx", (unsigned long)e);
	vmcb_init(vmcb, l2_tscf);
	VMCB64(vmcb, V_TSC_OFFSET) = 1ull << 44;
	uint64_t t0 = rdtsc64();
	e = svm_run(vmcb);
	uint64_t t1 = rdtsc64();
	check(e == EXIT_VMMCALL, "RDTSC without intercept: exit %lx", (unsigned long)e);
	check(l2_tsc >= t0 + (1ull << 44) && l2_tsc <= t1 + (1ull << 44),
	      "guest TSC = host TSC + TSC_OFFSET");
	check(t1 < t0 + (1ull << 40), "host TSC without the offset after #VMEXIT");

	/* Virtual interrupt 30h, guest IF = 1. */
	idt_l2[0x30][0] = ((ureg)l2_v30 & 0xffff) | (uint64_t)SEL_CODE64 << 16 | 0x8eull << 40 |
			  (uint64_t)(((ureg)l2_v30 >> 16) & 0xffff) << 48;
	idt_l2[0x30][1] = (ureg)l2_v30 >> 32;
	vmcb_init(vmcb, l2_spin);
	vmcb_seg(vmcb, V_IDTR, 0, 0, sizeof(idt_l2) - 1, (ureg)idt_l2);
	VMCB64(vmcb, V_RFLAGS) = 0x202;
	VMCB32(vmcb, V_INT_CTL) = 1u << 8 | 0xfu << 16 | 1u << 24; /* V_IRQ, prio F, masking */
	VMCB32(vmcb, V_INT_VECTOR) = 0x30;
	VMCB32(vmcb, V_ICPT_MISC1) = I1_VINTR;
	e = svm_run(vmcb);
	check(e == EXIT_VINTR, "VINTR intercept: exit %lx", (unsigned long)e);
	check(VMCB32(vmcb, V_INT_CTL) & (1u << 8), "V_IRQ still pending after the VINTR exit");
	VMCB32(vmcb, V_ICPT_MISC1) = 0;
	l2_ret = 0;
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL && VMCB64(vmcb, V_RAX) == 0x30,
	      "V_IRQ delivered through the guest IDT: exit %lx", (unsigned long)e);
	check(l2_ret == (ureg)l2_spin || l2_ret == (ureg)l2_spin + 1,
	      "V_IRQ: pushed RIP in the loop");
	check(!(VMCB32(vmcb, V_INT_CTL) & (1u << 8)), "V_IRQ cleared when taken");
	/* V_INTR_PRIO not above V_TPR: not taken, so no VINTR exit either. */
	vmcb_init(vmcb, (void (*)(void))l2_vmm);
	VMCB64(vmcb, V_RFLAGS) = 0x202;
	VMCB32(vmcb, V_INT_CTL) = 1u << 8 | 0x3u << 16 | 0x5 | 1u << 24;
	VMCB32(vmcb, V_ICPT_MISC1) = I1_VINTR;
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "V_INTR_PRIO <= V_TPR: not taken (exit %lx)", (unsigned long)e);

	/* V_INTR_MASKING: the guest's CR8 is V_TPR, the host's TPR stays. */
	vmcb_init(vmcb, l2_cr8);
	VMCB32(vmcb, V_INT_CTL) = 1u << 24;
	e = svm_run(vmcb);
	ureg hcr8;
	__asm__ volatile("mov %%cr8, %0" : "=r"(hcr8));
	check(e == EXIT_VMMCALL && l2_cr8v == 5, "guest CR8 reads back 5 (exit %lx, %lx)",
	      (unsigned long)e, (unsigned long)l2_cr8v);
	check((VMCB32(vmcb, V_INT_CTL) & 0xff) == 5, "V_TPR = 5 in the VMCB");
	check(hcr8 == 0, "host CR8 unchanged");

	/* Guest triple fault: no IDT, UD2 → #GP → #DF → shutdown. */
	vmcb_init(vmcb, l2_triple);
	vmcb_seg(vmcb, V_IDTR, 0, 0, 0, 0);
	VMCB32(vmcb, V_ICPT_MISC1) = I1_SHUTDOWN;
	e = svm_run(vmcb);
	check(e == EXIT_SHUTDOWN, "shutdown intercept: exit %lx", (unsigned long)e);
	return report("g64_svm_icpt");
}
