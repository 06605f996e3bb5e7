/*
 * cpu/x87/x87_core.c — the x87 rules shared by every instruction: how the
 * flags of an operation are committed (masked and unmasked responses, ES/B)
 * and stack faults (SDM Vol. 1 §8.5 and §8.7), pending exceptions at waiting
 * instructions (#MF, or with CR0.NE = 0 the FERR#/IGNNE# protocol and the
 * SVM FERR_FREEZE intercept), the FINIT state, and the registration entry
 * point ops_x87_register().
 */
#include "cpu/x87/x87.h"
#include "cpu/virt.h"

/* FERR# is driven only in MS-DOS compatibility mode (CR0.NE = 0): with
 * NE = 1 errors are reported through #MF and the board's IRQ 13 stays
 * quiet (as chipsets route FERR# only for compatibility mode). */
void x87_ferr_sync(struct cpu *c)
{
	if (c->ferr)
		c->ferr(c, (c->fpu.fsw & FSW_ES) && !(c->cr0 & CR0_NE));
}

/*
 * A waiting x87 instruction (or MMX instruction) found FSW.ES set. With
 * CR0.NE = 1: #MF. With NE = 0 (SDM Vol. 1 §8.7, Appendix D.2; APM Vol. 1
 * "FERR# and IGNNE# Signals"): FERR# is (still) asserted; if IGNNE# is
 * asserted the error is ignored and the instruction runs; otherwise the
 * processor freezes just before the instruction until an interrupt (the
 * board's IRQ 13 from FERR#, or any other) is taken, whose handler returns
 * to the instruction, which then checks again. An SVM guest whose FERR_FREEZE
 * intercept is set exits (code 7Eh, RIP at the instruction) instead of
 * freezing (APM Vol. 2 Appendix B, VMCB 00Ch bit 30 "intercept processor
 * freezing during legacy FERR handling"; Appendix C). Without a board hook
 * (bare board) IGNNE# reads inactive for the intercept, but nothing would
 * ever unfreeze the vCPU, so the instruction runs as before.
 */
void x87_pending(struct cpu *c)
{
	if (c->cr0 & CR0_NE)
		cpu_exception(c, EXC_MF, NO_ERRCODE);
	if (c->ferr && c->ferr(c, true))
		return; /* IGNNE# */
	struct icpt_info info = { .index = 0 };
	VIRT_ICPT(c, ICPT_FERR_FREEZE, &info);
	if (!c->ferr)
		return;
	/* Freeze: the instruction does not run, RIP stays on it and the vCPU
	 * waits like HLT; an interrupt is delivered with this RIP as its
	 * return address (the loop's ip_start = rip), so IRET comes back to
	 * the instruction. */
	c->rip = c->ip_start;
	c->halted = 1;
	cpu_unwind(c);
}

bool x87_exc(struct cpu *c, uint16_t sw, bool store_mem)
{
	uint16_t exc = sw & FSW_EXC;
	uint16_t unm = exc & ~c->fpu.fcw & FSW_EXC;
	uint16_t stop = FSW_IE | FSW_DE | FSW_ZE | (store_mem ? FSW_OE | FSW_UE : 0);
	uint16_t old = c->fpu.fsw;

	if (__builtin_expect(!unm, 1)) {
		c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~FSW_C1) | exc | (sw & FSW_C1));
		return true;
	}
	if (unm & stop) {
		/* The operation stops at the first unmasked exception in the
		 * priority order of §8.7: invalid, denormal, zero-divide,
		 * then overflow/underflow; later ones are not reported. */
		if (unm & FSW_IE)
			exc &= FSW_IE;
		else if (unm & FSW_DE)
			exc &= FSW_IE | FSW_DE;
		else if (unm & FSW_ZE)
			exc &= FSW_IE | FSW_DE | FSW_ZE;
		/* C1 is cleared (observed); the destination is untouched. */
		c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~FSW_C1) | exc | FSW_ES | FSW_B);
		x87_ferr_update(c, old);
		return false;
	}
	/* Unmasked OE/UE on a register destination (re-biased result) or an
	 * unmasked PE: the result is delivered and #MF is pending. */
	c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~FSW_C1) | exc | (sw & FSW_C1) | FSW_ES | FSW_B);
	x87_ferr_update(c, old);
	return true;
}

bool x87_stack_fault(struct cpu *c, bool overflow)
{
	uint16_t old = c->fpu.fsw;

	c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~FSW_C1) | FSW_IE | FSW_SF | (overflow ? FSW_C1 : 0));
	if (x87_im(c))
		return true;
	c->fpu.fsw |= FSW_ES | FSW_B;
	x87_ferr_update(c, old);
	return false;
}

/* FNINIT (SDM Vol. 1 Table 8-... "x87 FPU state following FINIT"): the data
 * registers keep their contents but are all tagged empty. */
void x87_init_state(struct cpu *c)
{
	uint16_t old = c->fpu.fsw;

	c->fpu.fcw = FCW_INIT;
	c->fpu.fsw = 0;
	c->fpu.ftw = 0xffff;
	c->fpu.fop = 0;
	c->fpu.fip = 0;
	c->fpu.fdp = 0;
	c->fpu.fcs = 0;
	c->fpu.fds = 0;
	x87_ferr_update(c, old);
}

void ops_x87_register(void)
{
	x87_register_arith();
	x87_register_load();
	x87_register_trans();
	x87_register_ctrl();
}
