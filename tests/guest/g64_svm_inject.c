/*
 * g64_svm_inject — event injection and exception intercepts (APM Vol. 2
 * §15.12, §15.20): EVENTINJ of an exception with an error code, of an
 * external interrupt, of an exception whose intercept is set (injected
 * events are not intercepted); a fault while delivering an injected event
 * exits with EXITINTINFO = the injected event (#GP for a null gate); the #UD intercept (46h,
 * RIP at the UD2) and #UD delivered through the guest's IDT without it;
 * the INTn intercept (75h). Virtual NMI (§15.21.5): V_NMI_ENABLE needs the
 * NMI intercept (else VMEXIT_INVALID); a pending V_NMI goes through the
 * guest's IDT vector 2 and sets V_NMI_MASK, the guest's IRET clears it.
 */
#include "g64_svm.h"

static uint64_t idt_l2[256][2] __attribute__((aligned(16)));
volatile uint64_t l2_err, l2_ret;

/* Handlers: record the frame, VMMCALL with RAX = vector. */
__asm__(".text\n.globl l2_gp, l2_ud, l2_v30, l2_inj, l2_ud2, l2_int, l2_end, l2_nmi, l2_nmi2\n"
	"l2_nmi: mov (%rsp), %rax\n mov %rax, l2_ret(%rip)\n mov $2, %eax\n vmmcall\n"
	"l2_nmi2: iretq\n"
	"l2_gp: mov (%rsp), %rax\n mov %rax, l2_err(%rip)\n mov 8(%rsp), %rax\n"
	" mov %rax, l2_ret(%rip)\n mov $13, %eax\n vmmcall\n"
	"l2_ud: mov (%rsp), %rax\n mov %rax, l2_ret(%rip)\n mov $6, %eax\n vmmcall\n"
	"l2_v30: mov (%rsp), %rax\n mov %rax, l2_ret(%rip)\n mov $0x30, %eax\n vmmcall\n"
	"l2_inj: nop\n"
	"l2_ud2: ud2\n"
	"l2_int: int $0x30\n"
	"l2_end: mov $0x99, %eax\n vmmcall\n");
void l2_gp(void), l2_ud(void), l2_v30(void), l2_inj(void), l2_nmi(void);
extern char l2_nmi2[];
extern char l2_ud2[], l2_int[], l2_end[];

static void gate(int vec, void (*fn)(void))
{
	ureg off = (ureg)fn;
	idt_l2[vec][0] = (off & 0xffff) | (uint64_t)SEL_CODE64 << 16 | 0x8eull << 40 |
			 (uint64_t)((off >> 16) & 0xffff) << 48;
	idt_l2[vec][1] = off >> 32;
}

static uint64_t run_at(void (*rip)(void), uint32_t exc, uint32_t misc1, uint64_t inj)
{
	vmcb_init(vmcb, rip);
	vmcb_seg(vmcb, V_IDTR, 0, 0, sizeof(idt_l2) - 1, (ureg)idt_l2);
	VMCB32(vmcb, V_ICPT_EXC) = exc;
	VMCB32(vmcb, V_ICPT_MISC1) = misc1;
	VMCB64(vmcb, V_EVENTINJ) = inj;
	l2_err = l2_ret = 0;
	return svm_run(vmcb);
}

#define INJ_V    (1ull << 31)
#define INJ_EV   (1ull << 11)
#define INJ_EXC  (3ull << 8)
#define INJ_INTR 0ull

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_inject");
	}
	gate(13, l2_gp);
	gate(6, l2_ud);
	gate(0x30, l2_v30);

	uint64_t e = run_at(l2_inj, 0, 0, INJ_V | INJ_EV | INJ_EXC | 13 | 0x1234ull << 32);
	check(e == EXIT_VMMCALL && VMCB64(vmcb, V_RAX) == 13,
	      "injected #GP reached the guest's "
	      "handler: exit %lx rax %lx",
	      (unsigned long)e, (unsigned long)VMCB64(vmcb, V_RAX));
	check(l2_err == 0x1234, "injected error code %lx", (unsigned long)l2_err);
	check(l2_ret == (ureg)l2_inj, "pushed RIP = VMCB RIP");
	check(!(VMCB64(vmcb, V_EVENTINJ) & INJ_V), "EVENTINJ.V cleared");
	check(VMCB64(vmcb, V_EXITINTINFO) == 0, "EXITINTINFO empty");

	e = run_at(l2_inj, 0, 0, INJ_V | INJ_INTR | 0x30);
	check(e == EXIT_VMMCALL && VMCB64(vmcb, V_RAX) == 0x30, "injected INTR 30h delivered");
	check(l2_ret == (ureg)l2_inj, "INTR: pushed RIP");

	/* Injected events bypass the intercepts. */
	e = run_at(l2_inj, 1u << 6, 0, INJ_V | INJ_EXC | 6);
	check(e == EXIT_VMMCALL && VMCB64(vmcb, V_RAX) == 6,
	      "injected #UD with the #UD intercept set is delivered: exit %lx", (unsigned long)e);

	e = run_at((void (*)(void))l2_ud2, 1u << 6, 0, 0);
	check(e == EXIT_EXC(6), "#UD intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_ud2, "#UD exit: RIP at UD2");
	check(VMCB64(vmcb, V_EXITINFO1) == 0, "#UD exit: EXITINFO1 0");

	e = run_at((void (*)(void))l2_ud2, 0, 0, 0);
	check(e == EXIT_VMMCALL && VMCB64(vmcb, V_RAX) == 6 && l2_ret == (ureg)l2_ud2,
	      "#UD without intercept: the guest's handler, RIP of UD2");

	e = run_at((void (*)(void))l2_int, 0, I1_INTN, 0);
	check(e == EXIT_SWINT, "INTn intercept: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_int && VMCB64(vmcb, V_NRIP) == (ureg)l2_end,
	      "INTn: RIP/nRIP");

	/* Vector 31h has a null gate: #GP(31h*8+2+EXT) while delivering the
	 * injected interrupt, intercepted, EXITINTINFO = the event. */
	e = run_at(l2_inj, 1u << 13, 0, INJ_V | INJ_INTR | 0x31);
	check(e == EXIT_EXC(13), "#GP during injection: exit %lx", (unsigned long)e);
	check(VMCB64(vmcb, V_EXITINFO1) == (0x31u << 3 | 3), "#GP error code %lx",
	      (unsigned long)VMCB64(vmcb, V_EXITINFO1));
	check((VMCB64(vmcb, V_EXITINTINFO) & 0xffffffffull) == (INJ_V | 0x31),
	      "EXITINTINFO = the injected event: %lx", (unsigned long)VMCB64(vmcb, V_EXITINTINFO));

	/* vNMI. */
	check(svm_features() & (1u << 25), "CPUID 8000_000Ah EDX.VNMI");
	gate(2, l2_nmi);
	vmcb_init(vmcb, l2_inj);
	VMCB32(vmcb, V_INT_CTL) = 1u << 26 | 1u << 11; /* V_NMI_ENABLE, V_NMI */
	e = svm_run(vmcb);
	check(e == EXIT_INVALID, "V_NMI_ENABLE without the NMI intercept: exit %lx",
	      (unsigned long)e);
	vmcb_init(vmcb, l2_inj);
	vmcb_seg(vmcb, V_IDTR, 0, 0, sizeof(idt_l2) - 1, (ureg)idt_l2);
	VMCB32(vmcb, V_ICPT_MISC1) = 1u << 1; /* NMI */
	VMCB32(vmcb, V_INT_CTL) = 1u << 26 | 1u << 11;
	l2_ret = 0;
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL && VMCB64(vmcb, V_RAX) == 2 && l2_ret == (ureg)l2_inj,
	      "V_NMI delivered through vector 2 (exit %lx)", (unsigned long)e);
	uint32_t ic = VMCB32(vmcb, V_INT_CTL);
	check(!(ic & (1u << 11)) && (ic & (1u << 12)), "V_NMI taken: V_NMI_MASK set (%x)", ic);
	/* The handler's IRET returns to l2_inj (whose UD2 ends in the #UD
	 * handler's VMMCALL). */
	VMCB64(vmcb, V_RIP) = (ureg)l2_nmi2;
	VMCB32(vmcb, V_ICPT_MISC1) = 1u << 1 | I1_INTN;
	e = svm_run(vmcb);
	ic = VMCB32(vmcb, V_INT_CTL);
	check(!(ic & (1u << 12)), "guest IRET cleared V_NMI_MASK (%x, exit %lx)", ic,
	      (unsigned long)e);
	return report("g64_svm_inject");
}
