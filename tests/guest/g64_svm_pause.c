/*
 * g64_svm_pause — the PAUSE filter (AMD APM Vol. 2 §15.14.4) and virtual
 * GIF (§15.33.2). With the PAUSE intercept and PAUSE_FILTER_COUNT = n the
 * n-th PAUSE exits (RIP at it), fewer do not, a count of 0 exits at the
 * first; with PAUSE_FILTER_THRESH, a PAUSE more than the threshold cycles
 * after the previous one restarts the count. With V_GIF_ENABLE the guest's
 * CLGI/STGI clear and set V_GIF in the VMCB, and a pending V_IRQ waits for
 * V_GIF = 1 (VINTR exit right after the STGI).
 */
#include "g64_svm.h"

__asm__(".text\n.globl l2_p4, l2_p5, l2_pgap, l2_pnogap, l2_clgi, l2_stgi, l2_vg, l2_vgafter\n"
	"l2_p4: pause\n pause\n pause\n pause\n jmp l2_pvmm\n"
	"l2_p5: pause\n pause\n pause\n pause\n pause\n jmp l2_pvmm\n"
	"l2_pgap: mov $6, %ecx\n"
	"1: pause\n mov $2000, %edx\n"
	"2: dec %edx\n jnz 2b\n dec %ecx\n jnz 1b\n jmp l2_pvmm\n"
	"l2_pnogap: mov $6, %ecx\n"
	"3: pause\n dec %ecx\n jnz 3b\n jmp l2_pvmm\n"
	"l2_clgi: clgi\n vmmcall\n"
	"l2_stgi: stgi\n vmmcall\n"
	"l2_vg: nop\n nop\n stgi\n"
	"l2_vgafter: nop\n"
	"l2_pvmm: vmmcall\n jmp l2_pvmm\n");
void l2_p4(void), l2_p5(void), l2_pgap(void), l2_pnogap(void), l2_clgi(void), l2_stgi(void);
void l2_vg(void);
extern char l2_vgafter[];

static uint64_t run_pause(void (*rip)(void), uint16_t count, uint16_t thresh)
{
	vmcb_init(vmcb, rip);
	VMCB32(vmcb, V_ICPT_MISC1) = I1_PAUSE;
	VMCB16(vmcb, V_PAUSE_COUNT) = count;
	VMCB16(vmcb, V_PAUSE_THRESH) = thresh;
	return svm_run(vmcb);
}

static void test_pause_filter(void)
{
	uint64_t e = run_pause(l2_p4, 5, 0);
	check(e == EXIT_VMMCALL, "count 5, 4 PAUSEs: no exit (%lx)", (unsigned long)e);
	e = run_pause(l2_p5, 5, 0);
	check(e == EXIT_PAUSE && VMCB64(vmcb, V_RIP) == (ureg)l2_p5 + 8,
	      "count 5: the 5th PAUSE exits (exit %lx, RIP %lx)", (unsigned long)e,
	      (unsigned long)VMCB64(vmcb, V_RIP));
	e = run_pause(l2_p4, 0, 0);
	check(e == EXIT_PAUSE && VMCB64(vmcb, V_RIP) == (ureg)l2_p4,
	      "count 0: the first PAUSE exits (exit %lx)", (unsigned long)e);

	/* Threshold 500 cycles: PAUSEs 4000 ns apart restart the count. */
	e = run_pause(l2_pgap, 3, 500);
	check(e == EXIT_VMMCALL, "threshold: spaced PAUSEs never reach the count (exit %lx)",
	      (unsigned long)e);
	e = run_pause(l2_pnogap, 3, 500);
	check(e == EXIT_PAUSE, "threshold: close PAUSEs reach the count (exit %lx)",
	      (unsigned long)e);
	e = run_pause(l2_pgap, 3, 0);
	check(e == EXIT_PAUSE, "no threshold: spaced PAUSEs reach the count (exit %lx)",
	      (unsigned long)e);
}

#define VGIF_EN  (1u << 25)
#define V_GIF    (1u << 9)
#define V_IRQ    (1u << 8)
#define V_MASK   (1u << 24)
#define PRIO_MAX (0xfu << 16)

static void test_vgif(void)
{
	vmcb_init(vmcb, l2_clgi);
	VMCB32(vmcb, V_INT_CTL) = VGIF_EN | V_GIF;
	uint64_t e = svm_run(vmcb);
	check(e == EXIT_VMMCALL && !(VMCB32(vmcb, V_INT_CTL) & V_GIF),
	      "vGIF: the guest's CLGI clears V_GIF (exit %lx, int_ctl %x)", (unsigned long)e,
	      VMCB32(vmcb, V_INT_CTL));
	VMCB64(vmcb, V_RIP) = (ureg)l2_stgi;
	e = svm_run(vmcb);
	check(e == EXIT_VMMCALL && (VMCB32(vmcb, V_INT_CTL) & V_GIF),
	      "vGIF: the guest's STGI sets V_GIF (exit %lx)", (unsigned long)e);

	/* V_IRQ pending with V_GIF = 0: held until the guest's STGI. */
	vmcb_init(vmcb, l2_vg);
	VMCB64(vmcb, V_RFLAGS) = 0x202;
	VMCB32(vmcb, V_INT_CTL) = VGIF_EN | V_IRQ | PRIO_MAX | V_MASK;
	VMCB32(vmcb, V_INT_VECTOR) = 0x30;
	VMCB32(vmcb, V_ICPT_MISC1) = I1_VINTR;
	e = svm_run(vmcb);
	check(e == EXIT_VINTR && VMCB64(vmcb, V_RIP) == (ureg)l2_vgafter,
	      "vGIF: V_IRQ taken right after STGI (exit %lx, RIP %lx)", (unsigned long)e,
	      (unsigned long)VMCB64(vmcb, V_RIP));
}

int guest_main(void)
{
	trap_init();
	if (!svm_enable()) {
		check(0, "no SVM (run with -cpu amd)");
		return report("g64_svm_pause");
	}
	uint32_t f = svm_features();
	check(f & SVMF_PAUSE, "CPUID 8000_000Ah EDX.PauseFilter");
	check(f & SVMF_PFTHRESH, "CPUID 8000_000Ah EDX.PauseFilterThreshold");
	check(f & SVMF_VGIF, "CPUID 8000_000Ah EDX.VGIF");
	test_pause_filter();
	test_vgif();
	return report("g64_svm_pause");
}
