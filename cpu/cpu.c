/*
 * cpu/cpu.c — vCPU life cycle: allocation, RESET/INIT state, mode derivation,
 * the exception exit from handlers, and TLB flush entry points.
 */
#include "cpu/cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/bcache.h"
#include "cpu/cpuid.h"
#include "cpu/msr.h"
#include "mmu/tlb.h"
#include "svm/svm.h"
#include "vmx/vmx.h"

struct cpu *cpu_new(struct machine *m, struct mmu *mmu, const struct cpu_model *model, int index)
{
	struct cpu *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (!cpu_tlb_init(c)) {
		free(c);
		return NULL;
	}
	c->machine = m;
	c->mmu = mmu;
	c->model = model;
	c->index = index;
	cpu_reset(c, false);
	return c;
}

void cpu_free(struct cpu *c)
{
	if (!c)
		return;
	vmx_free(c);
	svm_free(c);
	free(c->tlbs);
	free(c->jcache);
	free(c);
}

static void seg_reset(struct seg *s, uint16_t sel, uint64_t base, uint32_t attr)
{
	s->sel = sel;
	s->base = base;
	s->limit = 0xffff;
	s->attr = attr;
}

/* SDM Vol. 3 §10.1.1, Table 10-1: state after RESET or INIT. */
void cpu_reset(struct cpu *c, bool init_only)
{
	memset(c->gpr, 0, sizeof(c->gpr));
	if (c->model)
		c->gpr[R_DX] = (c->model->family > 0xf ? 0xf00 | ((c->model->family - 0xf) << 20)
						       : c->model->family << 8) |
			       ((c->model->model & 0xf) << 4) | ((c->model->model >> 4) << 16) |
			       c->model->stepping;
	else
		c->gpr[R_DX] = 0x600;
	c->rip = 0xfff0;
	c->ip_start = 0xfff0;
	c->rflags = F_FIXED1;
	c->lf.op = 0; /* CC_EFLAGS with all arithmetic flags clear */
	c->lf.res = 0;
	for (int i = 0; i < S_NSEG; i++)
		seg_reset(&c->seg[i], 0, 0, 0x93);
	seg_reset(&c->seg[S_CS], 0xf000, 0xffff0000, 0x9b);
	seg_reset(&c->ldtr, 0, 0, 0x82);
	seg_reset(&c->tr, 0, 0, 0x8b);
	c->gdtr.base = 0;
	c->gdtr.limit = 0xffff;
	c->idtr.base = 0;
	c->idtr.limit = 0xffff;
	/* INIT keeps CD/NW; RESET sets them. */
	c->cr0 = init_only ? (c->cr0 & (CR0_CD | CR0_NW)) | CR0_ET : 0x60000010;
	c->cr2 = c->cr3 = c->cr4 = c->cr8 = 0;
	c->pdpte_valid = false;
	c->a20_mask = ~0ull;
	memset(c->dr, 0, sizeof(c->dr));
	c->dr[6] = 0xffff0ff0;
	c->dr[7] = 0x400;
	c->xcr0 = 1;
	c->msr.efer = 0;
	c->msr.kernel_gs_base = 0;
	c->msr.sysenter_cs = c->msr.sysenter_esp = c->msr.sysenter_eip = 0;
	if (!init_only) {
		memset(&c->msr, 0, sizeof(c->msr));
		c->msr.pat = 0x0007040600070406ull;
		c->msr.apic_base = 0xfee00800ull | (c->index == 0 ? 0x100 : 0);
		c->msr.mtrr_cap = 0x508; /* 8 variable ranges, fixed ranges, WC */
		c->msr.misc_enable = 1;  /* fast strings */
		memset(&c->fpu, 0, sizeof(c->fpu));
		c->fpu.fcw = 0x40;
		c->fpu.ftw = 0x5555;
		c->fpu.mxcsr = 0x1f80;
		c->pkru = 0; /* like the x87/SSE state, kept by INIT */
	}
	if (c->model)
		msr_reset(c, init_only);
	vmx_reset(c, init_only);
	svm_reset(c, init_only);
	c->cpl = 0;
	c->shadow = 0;
	c->halted = 0;
	c->nmi_blocked = 0;
	c->in_smm = 0;
	c->delivering = -1;
	c->shutdown = false;
	c->pending |= PEND_MODE;
	cpu_update_mode(c);
	if (c->tlbs) {
		/* Reset and INIT flush every context; the host's is active. */
		static const struct tlb_tag host = { 0 };
		cpu_tlb_flush_every(c);
		cpu_tlb_select(c, &host);
	}
}

void cpu_update_mode(struct cpu *c)
{
	const struct seg *cs = &c->seg[S_CS];
	if (!(c->cr0 & CR0_PE)) {
		c->mode = MODE_REAL;
		c->code32 = 0;
		c->cpl = 0;
	} else if (c->rflags & F_VM) {
		c->mode = MODE_V86;
		c->code32 = 0;
		c->cpl = 3;
	} else if (c->msr.efer & EFER_LMA) {
		if (cs->attr & SEG_ATTR_L) {
			c->mode = MODE_LONG64;
			c->code32 = 0;
		} else {
			c->mode = MODE_COMPAT;
			c->code32 = !!(cs->attr & SEG_ATTR_DB);
		}
	} else {
		c->mode = MODE_PROT;
		c->code32 = !!(cs->attr & SEG_ATTR_DB);
	}
	c->pending |= PEND_MODE;
}

_Noreturn void cpu_exception(struct cpu *c, int vector, uint32_t errcode)
{
	c->exc_vector = vector;
	c->exc_errcode = errcode;
	if (!c->exc_jmp) {
		/* Our invariant: faults are only raised under cpu_run. */
		fprintf(stderr, "nestbox: internal error: exception %d outside cpu_run\n", vector);
		abort();
	}
	longjmp(*c->exc_jmp, 1);
}

_Noreturn void cpu_gp(struct cpu *c, uint32_t errcode)
{
	cpu_exception(c, EXC_GP, errcode);
}

_Noreturn void cpu_ud(struct cpu *c)
{
	cpu_exception(c, EXC_UD, NO_ERRCODE);
}

void cpu_flush_code(struct cpu *c)
{
	if (c->bcache)
		bcache_flush(c->bcache);
	c->pending |= PEND_MODE;
}
