/*
 * g64_svm_mwait — the MONITOR, MWAIT and conditional MWAIT intercepts (AMD
 * APM Vol. 2 §15.14.6; exit codes 8Ah, 8Bh, 8Ch), run with -cpu ...,+monitor:
 * MONITOR/MWAIT work in the host (MWAIT returns), the MONITOR intercept
 * exits at the MONITOR, the MWAIT intercept at the MWAIT, the conditional
 * one only when a MONITOR armed the monitor (and the unconditional one wins
 * when both are set); MONITOR with ECX != 0 is #GP(0).
 */
#include "g64_svm.h"

#define I2_MONITOR  (1u << 10)
#define I2_MWAIT    (1u << 11)
#define I2_MWAIT_AR (1u << 12)

static volatile uint64_t line[8] __attribute__((aligned(64)));

__asm__(".text\n.globl l2_mon, l2_mw, l2_mwonly, l2_mwv, l2_monbad\n"
	"l2_mon: lea line(%rip), %rax\n xor %ecx, %ecx\n xor %edx, %edx\n monitor\n"
	"l2_mw: xor %eax, %eax\n xor %ecx, %ecx\n mwait\n"
	"l2_mwv: vmmcall\n"
	"l2_mwonly: xor %eax, %eax\n xor %ecx, %ecx\n mwait\n vmmcall\n"
	"l2_monbad: lea line(%rip), %rax\n mov $1, %ecx\n xor %edx, %edx\n monitor\n vmmcall\n");
void l2_mon(void), l2_mwonly(void), l2_monbad(void);
extern char l2_mw[], l2_mwv[];

static uint64_t run(void (*rip)(void), uint32_t misc2, uint32_t exc)
{
	vmcb_init(vmcb, rip);
	VMCB32(vmcb, V_ICPT_MISC2) |= misc2;
	VMCB32(vmcb, V_ICPT_EXC) = exc;
	return svm_run(vmcb);
}

int guest_main(void)
{
	uint32_t r[4];
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd,+monitor)");
		return report("g64_svm_mwait");
	}
	cpuid2(1, 0, r);
	check(r[2] & (1u << 3), "CPUID.1:ECX.MONITOR (run with +monitor)");
	__asm__ volatile("monitor; xor %%eax, %%eax; mwait"
			 :
			 : "a"((ureg)line), "c"(0), "d"(0)
			 : "memory");
	check(1, "MONITOR and MWAIT run in the host");

	uint64_t e = run(l2_mon, I2_MONITOR, 0);
	check(e == 0x8a && VMCB64(vmcb, V_RIP) == (ureg)l2_mw - 3, "MONITOR intercept: exit %lx",
	      (unsigned long)e);
	e = run(l2_mon, I2_MWAIT, 0);
	check(e == 0x8b && VMCB64(vmcb, V_RIP) == (ureg)l2_mwv - 3, "MWAIT intercept: exit %lx",
	      (unsigned long)e);
	/* The intercepted MWAIT left the monitor armed: an MWAIT disarms it. */
	__asm__ volatile("mwait" ::"a"(0), "c"(0) : "memory");
	e = run(l2_mwonly, I2_MWAIT_AR, 0);
	check(e == EXIT_VMMCALL, "conditional MWAIT, monitor not armed: no exit (%lx)",
	      (unsigned long)e);
	e = run(l2_mon, I2_MWAIT_AR, 0);
	check(e == 0x8c && VMCB64(vmcb, V_RIP) == (ureg)l2_mwv - 3,
	      "conditional MWAIT, armed: exit %lx", (unsigned long)e);
	e = run(l2_mon, I2_MWAIT | I2_MWAIT_AR, 0);
	check(e == 0x8b, "both MWAIT intercepts: the unconditional one (%lx)", (unsigned long)e);
	e = run(l2_monbad, 0, 1u << 13);
	check(e == EXIT_EXC(13) && VMCB64(vmcb, V_EXITINFO1) == 0,
	      "MONITOR with ECX = 1: #GP(0) (exit %lx)", (unsigned long)e);
	return report("g64_svm_mwait");
}
