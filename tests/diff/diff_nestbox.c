/*
 * tests/diff/diff_nestbox.c — runs generated sequences in nestbox.
 *
 * One bare machine (4 MiB RAM, cpu model "max" or --cpu) is built once. Long-mode page
 * tables map the test area (linear AREA_VA, a 2 MiB page) to physical
 * 0x200000, so code, data and stack sit at the same linear addresses as in
 * the native run. A GDT and an IDT whose 32 exception gates point at a row
 * of HLT bytes (one per vector) turn a guest exception into a halt at a RIP
 * that names the vector, with the faulting RIP in the exception frame.
 * Each run loads the initial state straight into struct cpu (CPL 0; the
 * user-mode instructions generated behave the same there), ends on the HLT
 * placed after the sequence, and reads the state back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "devices/machine.h"
#include "mmu/mmu.h"
#include "tests/diff/diff.h"

#define AREA_PA  0x200000u
#define GDT_OFF  0x32000u
#define IDT_OFF  0x33000u
#define STUB_OFF 0x34000u
#define PML4_PA  0x1000u

struct nb_runner {
	struct machine *m;
	struct cpu *cpu;
};

static uint64_t pa_of(uint32_t va)
{
	return AREA_PA + (va - AREA_VA);
}

static void build_tables(struct mmu *mmu)
{
	uint64_t pml4e = (PML4_PA + 0x1000) | 7;
	uint64_t pdpte = (PML4_PA + 0x2000) | 7;
	phys_write(mmu, PML4_PA, 8, pml4e);
	phys_write(mmu, PML4_PA + 0x1000, 8, pdpte);
	/* nothing else is mapped: like the host process, whose low addresses
	 * are unmapped, a stray access faults */
	/* the test area through a page table, so that RO_VA can be read-only */
	phys_write(mmu, PML4_PA + 0x2000 + 8 * (AREA_VA >> 21), 8, (PML4_PA + 0x3000) | 7);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t pte = (AREA_PA + 4096ull * i) | 7;
		if (AREA_VA + 4096u * i == RO_VA)
			pte &= ~2ull;
		phys_write(mmu, PML4_PA + 0x3000 + 8 * i, 8, pte);
	}

	/* 0x08 kernel code for the IDT gates; 0x23, 0x2b and 0x33 as Linux
	 * (USER32_CS, USER_DS, USER_CS, accessed), so that selector reads, segment
	 * loads, LAR/LSL/VERR/VERW agree with the host */
	static const uint64_t gdt[16] = {
		0,
		0x00af9b000000ffffull,
		0,
		0,
		0x00cffb000000ffffull,
		0x00cff3000000ffffull,
		0x00affb000000ffffull,
	};
	phys_write_buf(mmu, AREA_PA + GDT_OFF, gdt, sizeof(gdt));
	for (int v = 0; v < 32; v++) {
		uint64_t h = AREA_VA + STUB_OFF + (uint64_t)v;
		uint64_t lo = (h & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
			      ((h >> 16 & 0xffff) << 48);
		phys_write(mmu, AREA_PA + IDT_OFF + 16u * (unsigned)v, 8, lo);
		phys_write(mmu, AREA_PA + IDT_OFF + 16u * (unsigned)v + 8, 8, h >> 32);
		phys_write(mmu, AREA_PA + STUB_OFF + (unsigned)v, 1, 0xf4);
	}
}

struct nb_runner *nb_new(const char *cpu_model)
{
	struct machine_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_size = 4u << 20;
	cfg.ncpus = 1;
	cfg.cpu_model = cpu_model ? cpu_model : "max";
	cfg.deterministic = true;
	struct machine *m = machine_new_bare(&cfg);
	if (!m)
		return NULL;
	struct nb_runner *r = calloc(1, sizeof(*r));
	r->m = m;
	r->cpu = m->cpu[0];
	build_tables(m->mmu);
	return r;
}

const struct cpu_model *nb_model(struct nb_runner *r)
{
	return r->m->model;
}

void nb_free(struct nb_runner *r)
{
	machine_free(r->m);
	free(r);
}

static void set_seg(struct seg *s, uint16_t sel, uint32_t attr)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffffu;
	s->attr = attr;
}

/* Full x87 tag of a non-empty register from its contents (SDM Vol. 1 §8.1.7). */
static unsigned tag_of(uint64_t mant, uint16_t sexp)
{
	unsigned e = sexp & 0x7fff;
	if (e == 0x7fff)
		return 2;
	if (e == 0)
		return mant ? 2 : 1;
	return (mant >> 63) ? 0 : 2;
}

static void fpu_import(struct fpu_state *f, const uint8_t *fx)
{
	memcpy(&f->fcw, fx + FX_FCW, 2);
	memcpy(&f->fsw, fx + FX_FSW, 2);
	memcpy(&f->mxcsr, fx + FX_MXCSR, 4);
	unsigned top = (f->fsw >> 11) & 7;
	f->ftw = 0;
	for (unsigned i = 0; i < 8; i++) {
		unsigned phys = (top + i) & 7;
		memcpy(&f->fpr[phys].mant, fx + FX_ST + 16 * i, 8);
		memcpy(&f->fpr[phys].sexp, fx + FX_ST + 16 * i + 8, 2);
	}
	for (unsigned p = 0; p < 8; p++) {
		unsigned t = (fx[FX_FTW] >> p & 1) ? tag_of(f->fpr[p].mant, f->fpr[p].sexp) : 3;
		f->ftw |= (uint16_t)(t << (2 * p));
	}
	f->fop = 0;
	f->fip = f->fdp = 0;
	f->fcs = f->fds = 0;
	memcpy(f->xmm, fx + FX_XMM, 256);
}

static void fpu_export(const struct fpu_state *f, uint8_t *fx)
{
	memset(fx, 0, 512);
	memcpy(fx + FX_FCW, &f->fcw, 2);
	memcpy(fx + FX_FSW, &f->fsw, 2);
	uint8_t abr = 0;
	for (unsigned p = 0; p < 8; p++)
		if (((f->ftw >> (2 * p)) & 3) != 3)
			abr |= (uint8_t)(1u << p);
	fx[FX_FTW] = abr;
	memcpy(fx + FX_MXCSR, &f->mxcsr, 4);
	unsigned top = (f->fsw >> 11) & 7;
	for (unsigned i = 0; i < 8; i++) {
		unsigned phys = (top + i) & 7;
		memcpy(fx + FX_ST + 16 * i, &f->fpr[phys].mant, 8);
		memcpy(fx + FX_ST + 16 * i + 8, &f->fpr[phys].sexp, 2);
	}
	memcpy(fx + FX_XMM, f->xmm, 256);
}

void nb_run(struct nb_runner *r, const struct seq *s, struct dresult *out)
{
	struct cpu *c = r->cpu;
	struct mmu *mmu = r->m->mmu;
	uint8_t code[MAX_CODE + 1];
	memcpy(code, s->code, (size_t)s->len);
	code[s->len] = 0xf4;
	phys_write_buf(mmu, pa_of(CODE_VA), code, (size_t)s->len + 1);
	phys_write_buf(mmu, pa_of(DATA_VA), s->init.data, DATA_SIZE);

	memcpy(c->gpr, s->init.gpr, sizeof(c->gpr));
	c->rip = CODE_VA;
	c->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	c->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
	c->cr3 = PML4_PA;
	c->xcr0 = 3;
	c->msr.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	/* the user selectors the native run has (DS/ES loaded by its
	 * trampoline), with DPL 3 descriptors; CPL stays 0 */
	uint32_t dpl3 = 3u << SEG_ATTR_DPL_SHIFT;
	uint32_t data_attr = 0x3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G | dpl3;
	if (s->mode == 64)
		set_seg(&c->seg[S_CS], 0x33,
			0xb | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L | SEG_ATTR_G | dpl3);
	else
		set_seg(&c->seg[S_CS], 0x23,
			0xb | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G | dpl3);
	set_seg(&c->seg[S_SS], 0x2b, data_attr);
	set_seg(&c->seg[S_DS], 0x2b, data_attr);
	set_seg(&c->seg[S_ES], 0x2b, data_attr);
	set_seg(&c->seg[S_FS], 0, data_attr);
	set_seg(&c->seg[S_GS], 0, data_attr);
	/* no LDT, as in a Linux process (the reset state has a usable one) */
	c->ldtr.sel = 0;
	c->ldtr.base = 0;
	c->ldtr.limit = 0;
	c->ldtr.attr = SEG_ATTR_UNUSABLE;
	c->gdtr.base = AREA_VA + GDT_OFF;
	c->gdtr.limit = sizeof(uint64_t) * 16 - 1;
	c->idtr.base = AREA_VA + IDT_OFF;
	c->idtr.limit = 32 * 16 - 1;
	c->cpl = 0;
	c->halted = 0;
	c->shutdown = false;
	c->delivering = -1;
	c->pending = 0;
	c->shadow = 0;
	/* IF=1 as in user mode (PUSHF images must agree); nothing can interrupt
	 * the bare board, so HLT still ends the run. */
	flags_set(c, s->init.rflags | F_FIXED1, ~0ull);
	fpu_import(&c->fpu, s->init.fx);
	cpu_update_mode(c);
	cpu_tlb_flush_all(c);
	cpu_flush_code(c);

	enum cpu_stop st = cpu_run(c, 100000);
	memset(out, 0, sizeof(*out));
	memcpy(out->st.gpr, c->gpr, sizeof(c->gpr));
	out->st.rflags = flags_get(c);
	fpu_export(&c->fpu, out->st.fx);
	phys_read_buf(mmu, pa_of(DATA_VA), out->st.data, DATA_SIZE);
	uint64_t stub = AREA_VA + STUB_OFF;
	if (st == STOP_HALT && c->rip == CODE_VA + (uint64_t)s->len + 1) {
		out->status = RES_OK;
	} else if (st == STOP_HALT && c->rip > stub && c->rip <= stub + 32) {
		out->status = RES_FAULT;
		out->vector = (int)(c->rip - stub - 1);
		static const uint32_t has_err = 1u << 8 | 1u << 10 | 1u << 11 | 1u << 12 |
						1u << 13 | 1u << 14 | 1u << 17 | 1u << 21;
		uint64_t sp = c->gpr[R_SP];
		if (has_err >> out->vector & 1) {
			out->errcode = (uint32_t)phys_read(mmu, pa_of((uint32_t)sp), 4);
			sp += 8;
		}
		/* the state the exception saw: RIP, RFLAGS and RSP from the frame */
		out->fault_rip = phys_read(mmu, pa_of((uint32_t)sp), 8);
		out->st.rflags = phys_read(mmu, pa_of((uint32_t)sp + 16), 8);
		out->st.gpr[R_SP] = phys_read(mmu, pa_of((uint32_t)sp + 24), 8);
		out->skip_lo = (int)(c->gpr[R_SP] - DATA_VA);
		out->skip_hi = (int)(sp + 40 - DATA_VA);
	} else {
		out->status = st == STOP_SHUTDOWN ? RES_DIED : RES_TIMEOUT;
		out->vector = -1;
		out->fault_rip = c->rip;
	}
}
