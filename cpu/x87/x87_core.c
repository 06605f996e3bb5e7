/*
 * cpu/x87/x87_core.c — the x87 rules shared by every instruction: how the
 * flags of an operation are committed (masked and unmasked responses, ES/B)
 * and stack faults (SDM Vol. 1 §8.5 and §8.7), the FINIT state, and the
 * registration entry point ops_x87_register().
 */
#include "cpu/x87/x87.h"

bool x87_exc(struct cpu *c, uint16_t sw, bool store_mem)
{
	uint16_t exc = sw & FSW_EXC;
	uint16_t unm = exc & ~c->fpu.fcw & FSW_EXC;
	uint16_t stop = FSW_IE | FSW_DE | FSW_ZE | (store_mem ? FSW_OE | FSW_UE : 0);

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
		return false;
	}
	/* Unmasked OE/UE on a register destination (re-biased result) or an
	 * unmasked PE: the result is delivered and #MF is pending. */
	c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~FSW_C1) | exc | (sw & FSW_C1) | FSW_ES | FSW_B);
	return true;
}

bool x87_stack_fault(struct cpu *c, bool overflow)
{
	c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~FSW_C1) | FSW_IE | FSW_SF | (overflow ? FSW_C1 : 0));
	if (x87_im(c))
		return true;
	c->fpu.fsw |= FSW_ES | FSW_B;
	return false;
}

/* FNINIT (SDM Vol. 1 Table 8-... "x87 FPU state following FINIT"): the data
 * registers keep their contents but are all tagged empty. */
void x87_init_state(struct cpu *c)
{
	c->fpu.fcw = FCW_INIT;
	c->fpu.fsw = 0;
	c->fpu.ftw = 0xffff;
	c->fpu.fop = 0;
	c->fpu.fip = 0;
	c->fpu.fdp = 0;
	c->fpu.fcs = 0;
	c->fpu.fds = 0;
}

void ops_x87_register(void)
{
	x87_register_arith();
	x87_register_load();
	x87_register_trans();
	x87_register_ctrl();
}
