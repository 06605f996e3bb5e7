/*
 * g32_pc_ferr — x87 errors reported the PC/AT way on the pc board (CR0.NE
 * = 0: SDM Vol. 1 §8.7 and Appendix D.2; APM Vol. 1 "FERR# and IGNNE#
 * Signals"). FERR# reaches ISA IRQ 13 (slave 8259 input 5: vector 75h with
 * the 8259 bases a Multiboot kernel finds), a write to port F0h clears the
 * request and asserts IGNNE# until FERR# drops. Checked:
 *  - FERR# is asserted when the unmasked exception is raised: with IF = 1
 *    IRQ 13 arrives right after the faulting FDIV;
 *  - with IF = 0 at the error, the next waiting instruction (FWAIT-class
 *    x87 or MMX) freezes: the interrupt taken after STI returns to it and
 *    it then runs (its result is checked); non-waiting FNSTSW does not;
 *  - a handler that writes F0h without clearing the error leaves IGNNE#
 *    asserted: the instruction runs with ES still set, waiting instructions
 *    keep running, and FNCLEX drops FERR# and IGNNE# (the next error
 *    freezes again, and IRQ 13 arrives again since F0h re-armed it);
 *  - F0h then FNCLEX in the handler leaves IGNNE# inactive too;
 *  - CR0.NE = 1 still gives #MF and no IRQ 13.
 * Runs with -machine pc (tests/guest/CMakeLists.txt: g*_pc_*). QEMU raises
 * IRQ 13 only at the waiting instruction and never freezes: the return
 * addresses are check_sdm.
 */
#include "trap.h"

#define CR0_NE    0x20u
#define VEC_IRQ13 0x75
#define FSW_ZE    0x04u
#define FSW_ES    0x80u
#define PI_F32    0x40490fdbu

static volatile int irq13_count;
static volatile ureg irq13_ip;
static volatile uint16_t irq13_fsw;
/* 0: FNCLEX then F0h; 1: F0h only (IGNNE#); 2: F0h then FNCLEX. */
static volatile int handler_mode;

volatile uint16_t sw_before, sw_after;
volatile uint32_t result;

/* Each sequence starts from FNINIT with only the zero-divide exception
 * unmasked (control word 037Bh) and divides 1 by 0.0. */
__asm__(".data\n.align 8\nfzero: .double 0.0\nfcw_ze: .word 0x037b\n"
	".text\n"
	".globl seq_imm, seq_imm_next\n"
	"seq_imm: fninit\n fldcw fcw_ze\n sti\n fld1\n fdivl fzero\n"
	"seq_imm_next: nop\n cli\n ret\n"
	".globl seq_freeze, seq_freeze_wait\n"
	"seq_freeze: fninit\n fldcw fcw_ze\n cli\n fld1\n fdivl fzero\n fnstsw sw_before\n sti\n"
	"seq_freeze_wait: fldpi\n fstps result\n cli\n ret\n"
	".globl seq_ignne, seq_ignne_wait\n"
	"seq_ignne: fninit\n fldcw fcw_ze\n cli\n fld1\n fdivl fzero\n sti\n"
	"seq_ignne_wait: fldpi\n fstps result\n fld1\n fstp %st(0)\n fwait\n cli\n"
	" fnstsw sw_after\n ret\n"
	".globl seq_mmx, seq_mmx_wait\n"
	"seq_mmx: fninit\n fldcw fcw_ze\n cli\n fld1\n fdivl fzero\n sti\n"
	"seq_mmx_wait: movd %mm1, %eax\n cli\n emms\n ret\n"
	".globl seq_native\n"
	"seq_native: fninit\n fldcw fcw_ze\n fld1\n fdivl fzero\n fwait\n ret\n");
void seq_imm(void), seq_freeze(void), seq_ignne(void), seq_mmx(void), seq_native(void);
extern char seq_imm_next[], seq_freeze_wait[], seq_ignne_wait[], seq_mmx_wait[];

static void irq13(struct trap_frame *f)
{
	uint16_t sw;
	__asm__ volatile("fnstsw %0" : "=m"(sw));
	irq13_count++;
	irq13_ip = f->ip;
	irq13_fsw = sw;
	if (handler_mode == 0)
		__asm__ volatile("fnclex");
	outb(0xf0, 0);
	if (handler_mode == 2)
		__asm__ volatile("fnclex");
	outb(0xa0, 0x20); /* EOI: slave, then master (cascade) */
	outb(0x20, 0x20);
}

static uint16_t fsw(void)
{
	uint16_t sw;
	__asm__ volatile("fnstsw %0" : "=m"(sw));
	return sw;
}

/* One frozen instruction: IRQ 13 returns to label, FLDPI then runs. */
static void freeze_case(int mode, const char *what)
{
	handler_mode = mode;
	irq13_count = 0;
	irq13_ip = 0;
	result = 0;
	seq_freeze();
	check((sw_before & (FSW_ES | FSW_ZE)) == (FSW_ES | FSW_ZE),
	      "%s: FNSTSW ran with the error pending (FSW %x)", what, sw_before);
	check(irq13_count == 1, "%s: one IRQ 13 (%d)", what, irq13_count);
	check_sdm(irq13_ip == (ureg)seq_freeze_wait, "%s: IRQ 13 returns to the frozen FLDPI (%x)",
		  what, (unsigned)irq13_ip);
	check(result == PI_F32, "%s: FLDPI ran after the handler (%x)", what, result);
	check(!(fsw() & FSW_ES), "%s: error cleared", what);
}

int guest_main(void)
{
	trap_init();
	trap_set_hook(VEC_IRQ13, irq13);
	outb(0x21, 0xfb); /* master: only the cascade (no timer ticks) */
	outb(0xa1, 0xdf); /* slave: only IRQ 13 */
	write_cr0(read_cr0() & ~(ureg)CR0_NE);

	/* FERR# at the end of the faulting FDIV. */
	handler_mode = 0;
	seq_imm();
	check(irq13_count == 1, "immediate: one IRQ 13 (%d)", irq13_count);
	check_sdm(irq13_ip == (ureg)seq_imm_next, "immediate: IRQ 13 right after FDIV (%x)",
		  (unsigned)irq13_ip);
	check((irq13_fsw & (FSW_ES | FSW_ZE)) == (FSW_ES | FSW_ZE), "handler saw ES|ZE (FSW %x)",
	      irq13_fsw);
	check(!(fsw() & FSW_ES), "immediate: error cleared by the handler");

	/* The freeze, with FNCLEX before the F0h write. */
	freeze_case(0, "FNCLEX, F0h");

	/* IGNNE#: F0h only, the error stays pending. */
	handler_mode = 1;
	irq13_count = 0;
	result = 0;
	seq_ignne();
	check(irq13_count == 1, "IGNNE#: one IRQ 13 (%d)", irq13_count);
	check_sdm(irq13_ip == (ureg)seq_ignne_wait, "IGNNE#: IRQ 13 returns to FLDPI (%x)",
		  (unsigned)irq13_ip);
	check(result == PI_F32, "IGNNE#: FLDPI ran with the error pending (%x)", result);
	check((sw_after & (FSW_ES | FSW_ZE)) == (FSW_ES | FSW_ZE),
	      "IGNNE#: waiting instructions ran, error still pending (FSW %x)", sw_after);
	__asm__ volatile("fnclex"); /* FERR# drops, and IGNNE# with it */
	/* The next error freezes again and raises IRQ 13 again. */
	freeze_case(0, "after IGNNE#");

	/* F0h before FNCLEX: IGNNE# on, then off with FERR#. */
	freeze_case(2, "F0h, FNCLEX");
	freeze_case(0, "after F0h, FNCLEX");

	/* An MMX instruction is a waiting instruction too. */
	handler_mode = 0;
	irq13_count = 0;
	seq_mmx();
	check(irq13_count == 1, "MMX: one IRQ 13 (%d)", irq13_count);
	check_sdm(irq13_ip == (ureg)seq_mmx_wait, "MMX: IRQ 13 returns to MOVD (%x)",
		  (unsigned)irq13_ip);

	/* Native mode: #MF, FERR# not routed. */
	write_cr0(read_cr0() | CR0_NE);
	irq13_count = 0;
	long v = trap_run(seq_native);
	check(v == 16, "CR0.NE = 1: #MF (vector %ld)", v);
	__asm__ volatile("fninit");
	__asm__ volatile("sti; nop; nop; cli");
	check(irq13_count == 0, "CR0.NE = 1: no IRQ 13 (%d)", irq13_count);

	pic_mask_all();
	return report("g32_pc_ferr");
}
