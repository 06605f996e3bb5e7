/*
 * g64_svm_fail — VMRUN's consistency checks (APM Vol. 2 §15.5.1): each
 * illegal guest state or control makes VMRUN exit at once with
 * EXITCODE = VMEXIT_INVALID (-1) and the host goes on after VMRUN; and
 * the instruction exceptions: #UD with EFER.SVME = 0, #GP(0) for an
 * unaligned VMCB address, #UD for VMMCALL outside a guest.
 */
#include "g64_svm.h"

__asm__(".text\n.globl l2_fail\nl2_fail: vmmcall\n jmp l2_fail\n");
void l2_fail(void);

static volatile ureg bad_rax;
static void f_vmrun(void)
{
	__asm__ volatile("push %%rbp; push %%rbx; vmrun; pop %%rbx; pop %%rbp"
			 :
			 : "a"(bad_rax)
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
			   "r14", "r15", "memory", "cc");
}
static void f_stgi(void)
{
	__asm__ volatile("stgi");
}
static void f_vmmcall(void)
{
	__asm__ volatile("vmmcall");
}

/* Start from a good VMCB, break one thing, run: expect -1. */
static void expect_invalid(const char *what, unsigned off, int width, uint64_t val)
{
	vmcb_init(vmcb, l2_fail);
	if (width == 8)
		VMCB64(vmcb, off) = val;
	else if (width == 4)
		VMCB32(vmcb, off) = (uint32_t)val;
	else
		VMCB16(vmcb, off) = (uint16_t)val;
	VMCB64(vmcb, V_EXITCODE) = 0x1234;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_INVALID, "%s: exit %lx", what, (unsigned long)e);
}

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_fail");
	}
	/* A good VMCB first, so failures below are the checks'. */
	vmcb_init(vmcb, l2_fail);
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "good VMCB: exit %lx", (unsigned long)e);

	uint64_t efer = rdmsr(MSR_EFER);
	expect_invalid("guest EFER.SVME = 0", V_EFER, 8, efer & ~EFER_SVME);
	expect_invalid("ASID 0", V_ASID, 4, 0);
	expect_invalid("VMRUN intercept clear", V_ICPT_MISC2, 4, I2_VMMCALL);
	expect_invalid("CR0.NW without CR0.CD", V_CR0, 8, (read_cr0() & ~(1ul << 30)) | 1ul << 29);
	expect_invalid("CR0[63:32]", V_CR0, 8, read_cr0() | 1ull << 40);
	expect_invalid("long mode without CR4.PAE", V_CR4, 8, read_cr4() & ~0x20ul);
	expect_invalid("long mode, CS.L and CS.D", V_CS + 2, 2, 0x69b);
	expect_invalid("DR7[63:32]", V_DR7, 8, 0x400 | 1ull << 32);
	expect_invalid("EFER reserved bit", V_EFER, 8, efer | 1ull << 20);
	expect_invalid("EVENTINJ type 1", V_EVENTINJ, 8, 0x80000000ull | 1 << 8 | 6);
	expect_invalid("EVENTINJ exception vector 2", V_EVENTINJ, 8, 0x80000000ull | 3 << 8 | 2);
	/* The host state came back: the next good VMRUN works. */
	vmcb_init(vmcb, l2_fail);
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL, "good VMCB after the failures: exit %lx", (unsigned long)e);

	bad_rax = (ureg)vmcb + 8;
	check(trap_run(f_vmrun) == 13 && trap.err == 0, "VMRUN unaligned rAX: #GP(0)");
	check(trap_run(f_vmmcall) == 6, "VMMCALL outside a guest: #UD");
	wrmsr(MSR_EFER, efer & ~EFER_SVME);
	bad_rax = (ureg)vmcb;
	check(trap_run(f_vmrun) == 6, "VMRUN with EFER.SVME = 0: #UD");
	check(trap_run(f_stgi) == 6, "STGI with EFER.SVME = 0: #UD");
	wrmsr(MSR_EFER, efer);
	return report("g64_svm_fail");
}
