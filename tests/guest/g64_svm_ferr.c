/*
 * g64_svm_ferr — the FERR_FREEZE intercept (AMD APM Vol. 2 Appendix B:
 * VMCB 00Ch bit 30, "intercept processor freezing during legacy FERR
 * handling"; exit code 7Eh). An L2 guest with CR0.NE = 0 and an unmasked
 * x87 error pending reaches a waiting instruction (FWAIT, an x87 or an MMX
 * instruction):
 *  - with the intercept: #VMEXIT 7Eh, RIP at that instruction, which has
 *    not run (the error is still pending in the shared x87 state);
 *  - without it, on the bare board (no FERR#/IGNNE# wiring): the
 *    instruction runs, as before;
 *  - with the intercept but nothing pending: no exit;
 *  - with CR0.NE = 1 the error is #MF (intercepted as exception 16), not
 *    the freeze exit.
 * The pc board's freeze and IRQ 13 are checked by g32_pc_ferr.
 */
#include "g64_svm.h"

#define I1_FERR   (1u << 30)
#define EXIT_FERR 0x7e
#define CR0_NE    0x20u
#define FSW_ES    0x80u
#define FSW_ZE    0x04u

volatile uint32_t l2_result;

__asm__(".data\n.align 8\nfzero: .double 0.0\nfcw_ze: .word 0x037b\n"
	".text\n.globl l2_err, l2_err_wait, l2_mmx, l2_mmx_wait, l2_clean\n"
	"l2_err: fninit\n fldcw fcw_ze(%rip)\n fld1\n fdivl fzero(%rip)\n"
	"l2_err_wait: fldpi\n fstps l2_result(%rip)\n vmmcall\n"
	"l2_mmx: fninit\n fldcw fcw_ze(%rip)\n fld1\n fdivl fzero(%rip)\n"
	"l2_mmx_wait: movd %mm1, %eax\n emms\n vmmcall\n"
	"l2_clean: fninit\n fldcw fcw_ze(%rip)\n fld1\n fwait\n fstps l2_result(%rip)\n"
	" vmmcall\n");
void l2_err(void), l2_mmx(void), l2_clean(void);
extern char l2_err_wait[], l2_mmx_wait[];

static uint64_t run(void (*rip)(void), uint32_t misc1, uint32_t exc, int ne)
{
	vmcb_init(vmcb, rip);
	VMCB32(vmcb, V_ICPT_MISC1) |= misc1;
	VMCB32(vmcb, V_ICPT_EXC) = exc;
	if (ne)
		VMCB64(vmcb, V_CR0) |= CR0_NE;
	else
		VMCB64(vmcb, V_CR0) &= ~(uint64_t)CR0_NE;
	l2_result = 0;
	return svm_run(vmcb);
}

static uint16_t fsw(void)
{
	uint16_t sw;
	__asm__ volatile("fnstsw %0" : "=m"(sw));
	return sw;
}

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_ferr");
	}

	uint64_t e = run(l2_err, I1_FERR, 0, 0);
	check(e == EXIT_FERR, "FERR_FREEZE intercept: exit %lx (want 7e)", (unsigned long)e);
	check(VMCB64(vmcb, V_RIP) == (ureg)l2_err_wait, "exit RIP at the waiting FLDPI (%lx)",
	      (unsigned long)VMCB64(vmcb, V_RIP));
	check((fsw() & (FSW_ES | FSW_ZE)) == (FSW_ES | FSW_ZE) && l2_result == 0,
	      "FLDPI did not run, error still pending (FSW %x)", fsw());
	__asm__ volatile("fninit");

	e = run(l2_mmx, I1_FERR, 0, 0);
	check(e == EXIT_FERR && VMCB64(vmcb, V_RIP) == (ureg)l2_mmx_wait,
	      "MMX instruction: exit %lx at %lx", (unsigned long)e,
	      (unsigned long)VMCB64(vmcb, V_RIP));
	__asm__ volatile("fninit");

	/* Bare board: no FERR#/IGNNE# wiring, the instruction runs. */
	e = run(l2_err, 0, 0, 0);
	check(e == EXIT_VMMCALL && l2_result == 0x40490fdbu,
	      "no intercept: FLDPI ran (exit %lx, result %x)", (unsigned long)e, l2_result);
	__asm__ volatile("fninit");

	e = run(l2_clean, I1_FERR, 0, 0);
	check(e == EXIT_VMMCALL && l2_result == 0x3f800000u,
	      "intercept, nothing pending: no exit (exit %lx)", (unsigned long)e);

	e = run(l2_err, I1_FERR, 1u << 16, 1);
	check(e == EXIT_EXC(16) && VMCB64(vmcb, V_RIP) == (ureg)l2_err_wait,
	      "CR0.NE = 1: #MF exit %lx at %lx", (unsigned long)e,
	      (unsigned long)VMCB64(vmcb, V_RIP));
	__asm__ volatile("fninit");
	return report("g64_svm_ferr");
}
