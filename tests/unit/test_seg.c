/*
 * tests/unit/test_seg.c — unit tests of descriptors, segment loads,
 * interrupt delivery, IRET, far transfers, the task switch and
 * SYSCALL/SYSRET (cpu/seg.c, intr.c, iret.c, ops_far.c, task.c, ops_prot.c).
 *
 * Each test builds a vCPU over 1 MiB of RAM without paging (linear =
 * physical), writes a GDT/IDT/TSS into RAM, and checks registers and the
 * stack frames in memory. Faults are caught through exc_jmp.
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/access.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/seg.h"
#include "mmu/mmu.h"

#define RAM  (1u << 20)
#define GDT  0x10000u
#define IDT  0x11000u
#define TSS  0x20000u
#define TSS2 0x21000u

static struct mmu *mmu;
static struct cpu *c;
static uint8_t *ram;

void (*volatile force_link)(void) = ops_prot_register;

static void w16(uint32_t a, uint16_t v)
{
	memcpy(ram + a, &v, 2);
}
static void w32(uint32_t a, uint32_t v)
{
	memcpy(ram + a, &v, 4);
}
static void w64(uint32_t a, uint64_t v)
{
	memcpy(ram + a, &v, 8);
}
static uint16_t r16(uint32_t a)
{
	uint16_t v;
	memcpy(&v, ram + a, 2);
	return v;
}
static uint32_t r32(uint32_t a)
{
	uint32_t v;
	memcpy(&v, ram + a, 4);
	return v;
}
static uint64_t r64(uint32_t a)
{
	uint64_t v;
	memcpy(&v, ram + a, 8);
	return v;
}

/* Descriptor from base, raw 20-bit limit and attr in the struct seg layout. */
static uint64_t mkdesc(uint32_t base, uint32_t limit, uint32_t attr)
{
	return (limit & 0xffffull) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)(attr & 0xff) << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)((attr >> 12) & 0xf) << 52 | (uint64_t)(base >> 24) << 56;
}

static uint64_t mkgate(uint16_t sel, uint32_t off, uint8_t type_byte, unsigned params)
{
	return (off & 0xffffull) | (uint64_t)sel << 16 | (uint64_t)params << 32 |
	       (uint64_t)type_byte << 40 | (uint64_t)(off >> 16) << 48;
}

static void gdt(unsigned sel, uint64_t d)
{
	w64(GDT + sel, d);
}

static void build_gdt(void)
{
	gdt(0x08, mkdesc(0, 0xfffff, 0xc09a));     /* code32 DPL0 (not accessed) */
	gdt(0x10, mkdesc(0, 0xfffff, 0xc092));     /* data DPL0 */
	gdt(0x18, mkdesc(0, 0xfffff, 0xc0fb));     /* code32 DPL3 */
	gdt(0x20, mkdesc(0, 0xfffff, 0xc0f3));     /* data DPL3 */
	gdt(0x28, mkdesc(TSS, 0x67, 0x008b));      /* busy TSS32 (current) */
	gdt(0x30, mkdesc(0, 0xfffff, 0xc013));     /* data, not present */
	gdt(0x38, mkdesc(0, 0xfffff, 0xa09b));     /* code64 DPL0 */
	gdt(0x40, mkgate(0x08, 0x5000, 0xec, 2));  /* call gate 32, DPL3, 2 params */
	gdt(0x50, mkdesc(TSS2, 0x67, 0x0089));     /* available TSS32 */
	gdt(0x58, mkdesc(0, 0xfffff, 0xc091));     /* read-only data DPL0 */
	gdt(0x60, mkdesc(0, 0xfffff, 0xa0fb));     /* code64 DPL3 */
	gdt(0x68, mkdesc(0x1000, 0x0fff, 0x4097)); /* expand-down data, limit 0xfff */
}

static void set_seg(int s, uint16_t sel, uint32_t attr)
{
	c->seg[s].base = 0;
	c->seg[s].limit = 0xffffffffu;
	c->seg[s].attr = attr;
	c->seg[s].sel = sel;
}

/* Flat 32-bit protected mode, CPL 0, GDT/IDT/TR set up, no paging. */
static void mode_prot32(void)
{
	c->cr0 = CR0_PE | CR0_ET;
	c->msr.efer = 0;
	for (int s = 0; s < S_NSEG; s++)
		set_seg(s, 0x10, 0xc093);
	set_seg(S_CS, 0x08, 0xc09b);
	c->rflags = F_FIXED1;
	c->gdtr.base = GDT;
	c->gdtr.limit = 0xff;
	c->idtr.base = IDT;
	c->idtr.limit = 0x7ff;
	c->tr.sel = 0x28;
	c->tr.base = TSS;
	c->tr.limit = 0x67;
	c->tr.attr = 0x8b;
	c->ldtr.attr = SEG_ATTR_UNUSABLE;
	c->cpl = 0;
	cpu_update_mode(c);
}

static void to_user32(void)
{
	set_seg(S_CS, 0x1b, 0xc0fb);
	set_seg(S_SS, 0x23, 0xc0f3);
	c->cpl = 3;
	cpu_update_mode(c);
}

static void mode_long64(void)
{
	mode_prot32();
	c->msr.efer = EFER_LME | EFER_LMA | EFER_SCE;
	set_seg(S_CS, 0x38, 0xa09b);
	c->idtr.limit = 0xfff;
	c->tr.attr = 0x8b;
	cpu_update_mode(c);
}

static void setup(void)
{
	optab_init();
	mmu = mmu_new(RAM);
	ck_assert_ptr_nonnull(mmu);
	mmu_map_ram(mmu, 0, RAM, 0);
	ram = mmu_ram(mmu);
	c = cpu_new(NULL, mmu, NULL, 0);
	ck_assert_ptr_nonnull(c);
	build_gdt();
	mode_prot32();
	c->rip = 0x1000;
	c->gpr[R_SP] = 0x8000;
}

static void teardown(void)
{
	cpu_free(c);
	mmu_free(mmu);
}

/* Run stmt; return the vector of a raised fault or -1. */
#define TRY(stmt)                           \
	({                                  \
		jmp_buf jb_;                \
		volatile int r_ = -1;       \
		c->exc_jmp = &jb_;          \
		if (setjmp(jb_))            \
			r_ = c->exc_vector; \
		else {                      \
			stmt;               \
		}                           \
		c->exc_jmp = NULL;          \
		r_;                         \
	})

static struct insn mk(uint16_t op, unsigned osz, unsigned len)
{
	struct insn in;
	memset(&in, 0, sizeof(in));
	in.op = op;
	in.osz = (uint8_t)osz;
	in.asz = c->mode == MODE_LONG64 ? 8 : c->mode == MODE_REAL ? 2 : 4;
	in.seg = S_DS;
	in.mod = 3;
	in.has_modrm = 1;
	in.base = in.index = R_NONE;
	in.len = (uint8_t)len;
	return in;
}

/* Run a handler found in the registry; -1 or the fault vector. */
static int run(struct insn *in)
{
	in->modrm = (uint8_t)(in->mod << 6 | (in->reg & 7) << 3 | (in->rm & 7));
	const struct optab_entry *e = optab_find(in);
	ck_assert_msg(e != NULL, "no handler for op %#x", in->op);
	c->ip_start = c->rip;
	c->rip += in->len;
	return TRY(e->fn(c, in));
}

/* ---- descriptors ---- */

START_TEST(t_desc_parse)
{
	uint64_t d = 0x00cf9a000000ffffull;
	ck_assert_uint_eq(desc_base(d), 0);
	ck_assert_uint_eq(desc_limit(d), 0xffffffffu);
	ck_assert_uint_eq(desc_attr(d), 0xc09a);
	d = mkdesc(0x12345678, 0x0abcd, 0x4093);
	ck_assert_uint_eq(desc_base(d), 0x12345678);
	ck_assert_uint_eq(desc_limit(d), 0xabcd);
	ck_assert_uint_eq(desc_attr(d), 0x4093);
	ck_assert(attr_is_data(0x93) && attr_writable_data(0x93) && !attr_is_code(0x93));
	ck_assert(attr_conforming(0x9f) && attr_readable(0x9a) && !attr_readable(0x98));
	ck_assert(!attr_readable(0x82)); /* system descriptor */
	uint64_t g = mkgate(0x08, 0x12345678, 0x8e, 3);
	ck_assert_uint_eq(gate_sel(g), 0x08);
	ck_assert_uint_eq(gate_off(g), 0x12345678);
	ck_assert_uint_eq(gate_params(g), 3);
	struct seg s = { .limit = 0xfff, .attr = 0x4097 };
	ck_assert(!seg_range_ok(&s, 0xfff, 1));
	ck_assert(seg_range_ok(&s, 0x1000, 4));
	ck_assert(seg_range_ok(&s, 0xfffffffc, 4));
	s.attr = 0x93;
	ck_assert(seg_range_ok(&s, 0xffe, 2));
	ck_assert(!seg_range_ok(&s, 0xfff, 2));
}
END_TEST

/* ---- segment loads ---- */

START_TEST(t_load_data_ok)
{
	ck_assert_int_eq(TRY(seg_load(c, S_DS, 0x10)), -1);
	ck_assert_uint_eq(c->seg[S_DS].sel, 0x10);
	ck_assert_uint_eq(c->seg[S_DS].limit, 0xffffffffu);
	ck_assert_uint_eq(c->seg[S_DS].attr, 0xc093);           /* accessed now */
	ck_assert_uint_eq(ram[GDT + 0x10 + 5], 0x93);           /* ... and in memory */
	ck_assert_int_eq(TRY(seg_load(c, S_ES, 0x0b)), EXC_GP); /* RPL 3 > DPL 0 */
	ck_assert_int_eq(TRY(seg_load(c, S_ES, 0x08)), -1);     /* readable code */
	ck_assert_uint_eq(c->seg[S_ES].attr, 0xc09b);
	ck_assert_int_eq(TRY(seg_load(c, S_FS, 0x68)), -1);
	ck_assert_uint_eq(c->seg[S_FS].base, 0x1000);
	ck_assert_int_eq(TRY(seg_load(c, S_GS, 0)), -1);
	ck_assert(c->seg[S_GS].attr & SEG_ATTR_UNUSABLE);
}
END_TEST

START_TEST(t_load_faults)
{
	struct seg before = c->seg[S_DS];
	ck_assert_int_eq(TRY(seg_load(c, S_DS, 0x30)), EXC_NP);
	ck_assert_uint_eq(c->exc_errcode, 0x30);
	ck_assert_int_eq(TRY(seg_load(c, S_DS, 0x100)), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0x100);
	ck_assert_int_eq(TRY(seg_load(c, S_DS, 0x28)), EXC_GP); /* TSS */
	ck_assert_uint_eq(c->exc_errcode, 0x28);
	ck_assert_int_eq(TRY(seg_load(c, S_SS, 0)), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0);
	ck_assert_int_eq(TRY(seg_load(c, S_SS, 0x58)), EXC_GP); /* read-only */
	ck_assert_uint_eq(c->exc_errcode, 0x58);
	ck_assert_int_eq(TRY(seg_load(c, S_SS, 0x13)), EXC_GP); /* RPL != CPL */
	ck_assert_int_eq(TRY(seg_load(c, S_SS, 0x30)), EXC_SS); /* not present */
	ck_assert_uint_eq(c->exc_errcode, 0x30);
	ck_assert_int_eq(TRY(seg_load(c, S_DS, 0x0c)), EXC_GP); /* LDT unusable */
	ck_assert_mem_eq(&before, &c->seg[S_DS], sizeof(before));
	to_user32();
	ck_assert_int_eq(TRY(seg_load(c, S_DS, 0x10)), EXC_GP); /* DPL 0 < CPL 3 */
	ck_assert_int_eq(TRY(seg_load(c, S_DS, 0x23)), -1);
	ck_assert_int_eq(TRY(seg_load(c, S_SS, 0x23)), -1);
}
END_TEST

START_TEST(t_load_64bit_null_ss)
{
	mode_long64();
	ck_assert_int_eq(TRY(seg_load(c, S_SS, 0)), -1);
	ck_assert(c->seg[S_SS].attr & SEG_ATTR_UNUSABLE);
	ck_assert_int_eq(TRY(seg_load(c, S_SS, 1)), EXC_GP); /* RPL != CPL */
	/* FS from a descriptor takes its 32-bit base. */
	c->seg[S_FS].base = 0xffff888000000000ull;
	ck_assert_int_eq(TRY(seg_load(c, S_FS, 0x68)), -1);
	ck_assert_uint_eq(c->seg[S_FS].base, 0x1000);
}
END_TEST

START_TEST(t_real_v86_loads)
{
	c->cr0 = CR0_ET;
	cpu_update_mode(c);
	c->seg[S_DS].limit = 0xffffffffu; /* big real mode is kept */
	seg_load(c, S_DS, 0x1234);
	ck_assert_uint_eq(c->seg[S_DS].base, 0x12340);
	ck_assert_uint_eq(c->seg[S_DS].limit, 0xffffffffu);
	c->cr0 = CR0_PE | CR0_ET;
	c->rflags |= F_VM;
	cpu_update_mode(c);
	ck_assert_int_eq(c->cpl, 3);
	seg_load(c, S_ES, 0xb800);
	ck_assert_uint_eq(c->seg[S_ES].base, 0xb8000);
	ck_assert_uint_eq(c->seg[S_ES].limit, 0xffff);
	ck_assert_uint_eq(c->seg[S_ES].attr, 0xf3);
}
END_TEST

/* ---- handlers ---- */

START_TEST(t_mov_sreg)
{
	struct insn in = mk(0x08e, 4, 2);
	in.reg = S_SS;
	in.rm = R_AX;
	c->gpr[R_AX] = 0x10;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->shadow, SHADOW_MOVSS);
	in.reg = S_CS;
	ck_assert_int_eq(run(&in), EXC_UD);
	in = mk(0x08c, 4, 2);
	in.reg = S_DS;
	in.rm = R_BX;
	c->gpr[R_BX] = ~0ull;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_BX], 0x10); /* zero-extended */
}
END_TEST

START_TEST(t_lar_lsl_verr)
{
	struct insn in = mk(0x102, 4, 3);
	in.reg = R_AX;
	in.rm = R_BX;
	c->gpr[R_BX] = 0x10;
	ck_assert_int_eq(run(&in), -1);
	ck_assert(flags_get(c) & F_ZF);
	ck_assert_uint_eq(c->gpr[R_AX], 0x00c09200); /* accessed bit not touched */
	in.op = 0x103;
	c->gpr[R_BX] = 0x68;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_AX], 0xfff);
	c->gpr[R_BX] = 0x40; /* call gate: LAR yes, LSL no */
	ck_assert_int_eq(run(&in), -1);
	ck_assert(!(flags_get(c) & F_ZF));
	in = mk(0x100, 2, 3);
	in.reg = 5; /* VERW */
	in.rm = R_BX;
	c->gpr[R_BX] = 0x58;
	ck_assert_int_eq(run(&in), -1);
	ck_assert(!(flags_get(c) & F_ZF));
	in.reg = 4; /* VERR */
	ck_assert_int_eq(run(&in), -1);
	ck_assert(flags_get(c) & F_ZF);
}
END_TEST

/* ---- interrupt delivery ---- */

START_TEST(t_int_real)
{
	c->cr0 = CR0_ET;
	for (int s = 0; s < S_NSEG; s++) {
		c->seg[s].base = 0;
		c->seg[s].sel = 0;
		c->seg[s].limit = 0xffff;
		c->seg[s].attr = 0x93;
	}
	c->idtr.base = 0;
	c->idtr.limit = 0x3ff;
	cpu_update_mode(c);
	w16(0x21 * 4, 0x1234);
	w16(0x21 * 4 + 2, 0x2000);
	c->rflags = F_FIXED1 | F_IF | F_TF;
	c->rip = 0x502;
	c->gpr[R_SP] = 0x8000;
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x21, EV_SOFTINT, NO_ERRCODE)), -1);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7ffa);
	ck_assert_uint_eq(r16(0x7ffa), 0x502);
	ck_assert_uint_eq(r16(0x7ffc), 0);
	ck_assert_uint_eq(r16(0x7ffe), F_FIXED1 | F_IF | F_TF);
	ck_assert_uint_eq(c->seg[S_CS].sel, 0x2000);
	ck_assert_uint_eq(c->seg[S_CS].base, 0x20000);
	ck_assert_uint_eq(c->rip, 0x1234);
	ck_assert(!(c->rflags & (F_IF | F_TF)));
	/* IRET back. */
	struct insn in = mk(0x0cf, 2, 1);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->rip, 0x502);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000);
	ck_assert(c->rflags & F_IF);
}
END_TEST

START_TEST(t_int_prot_same)
{
	w64(IDT + 13 * 8, mkgate(0x08, 0x3000, 0x8e, 0));   /* int gate */
	w64(IDT + 0x30 * 8, mkgate(0x08, 0x3100, 0x8f, 0)); /* trap gate */
	c->rflags = F_FIXED1 | F_IF;
	c->rip = 0x1000;
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 13, EV_EXCEPTION, 0x28)), -1);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000 - 16);
	ck_assert_uint_eq(r32(0x8000 - 16), 0x28);
	ck_assert_uint_eq(r32(0x8000 - 12), 0x1000);
	ck_assert_uint_eq(r32(0x8000 - 8), 0x08);
	ck_assert_uint_eq(r32(0x8000 - 4), F_FIXED1 | F_IF | F_RF); /* fault: RF */
	ck_assert_uint_eq(c->rip, 0x3000);
	ck_assert(!(c->rflags & F_IF));
	ck_assert_uint_eq(c->seg[S_CS].attr & 1, 1); /* accessed */
	c->rflags |= F_IF;
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x30, EV_EXTINT, NO_ERRCODE)), -1);
	ck_assert(c->rflags & F_IF); /* trap gate keeps IF */
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000 - 28);
	/* Beyond the IDT limit: #GP(vector*8+2+EXT). */
	c->idtr.limit = 0xff;
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x40, EV_EXTINT, NO_ERRCODE)), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0x40 * 8 + 3);
	/* Not-present gate: #NP. */
	c->idtr.limit = 0x7ff;
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x41, EV_SOFTINT, NO_ERRCODE)), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0x41 * 8 + 2); /* zero gate: bad type */
	w64(IDT + 0x41 * 8, mkgate(0x08, 0x3000, 0x0e, 0));
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x41, EV_SOFTINT, NO_ERRCODE)), EXC_NP);
	ck_assert_uint_eq(c->exc_errcode, 0x41 * 8 + 2);
}
END_TEST

START_TEST(t_int_prot_inner_and_iret)
{
	w64(IDT + 0x80 * 8, mkgate(0x08, 0x4000, 0xee, 0)); /* DPL3 int gate */
	w64(IDT + 0x81 * 8, mkgate(0x08, 0x4000, 0x8e, 0)); /* DPL0 */
	w32(TSS + 4, 0x9000);
	w32(TSS + 8, 0x10);
	to_user32();
	c->seg[S_DS].attr = 0xc093; /* DPL0 data: nulled on the return */
	c->gpr[R_SP] = 0x7000;
	c->rip = 0x1234;
	c->rflags = F_FIXED1 | F_IF;
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x81, EV_SOFTINT, NO_ERRCODE)), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0x81 * 8 + 2);
	ck_assert_int_eq(c->cpl, 3);
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x80, EV_SOFTINT, NO_ERRCODE)), -1);
	ck_assert_int_eq(c->cpl, 0);
	ck_assert_uint_eq(c->seg[S_CS].sel, 0x08);
	ck_assert_uint_eq(c->seg[S_SS].sel, 0x10);
	ck_assert_uint_eq(c->gpr[R_SP], 0x9000 - 20);
	ck_assert_uint_eq(r32(0x9000 - 20), 0x1234);
	ck_assert_uint_eq(r32(0x9000 - 16), 0x1b);
	ck_assert_uint_eq(r32(0x9000 - 12), F_FIXED1 | F_IF);
	ck_assert_uint_eq(r32(0x9000 - 8), 0x7000);
	ck_assert_uint_eq(r32(0x9000 - 4), 0x23);
	ck_assert_uint_eq(c->rip, 0x4000);

	struct insn in = mk(0x0cf, 4, 1);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_int_eq(c->cpl, 3);
	ck_assert_uint_eq(c->seg[S_CS].sel, 0x1b);
	ck_assert_uint_eq(c->seg[S_SS].sel, 0x23);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7000);
	ck_assert_uint_eq(c->rip, 0x1234);
	ck_assert(c->rflags & F_IF);
	ck_assert(c->seg[S_DS].attr & SEG_ATTR_UNUSABLE);
	ck_assert_int_eq(c->mode, MODE_PROT);
}
END_TEST

START_TEST(t_int_v86)
{
	/* Exception from V86 mode: ring-0 handler, GS/FS/DS/ES pushed too. */
	w64(IDT + 13 * 8, mkgate(0x08, 0x3000, 0x8e, 0));
	w32(TSS + 4, 0x9000);
	w32(TSS + 8, 0x10);
	c->rflags = F_FIXED1 | F_VM | F_IF;
	cpu_update_mode(c);
	for (int s = 0; s < S_NSEG; s++)
		seg_set_v86(c, s, (uint16_t)(0x100 + s));
	c->gpr[R_SP] = 0x700;
	c->rip = 0x55;
	ck_assert_int_eq(c->mode, MODE_V86);
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 13, EV_EXCEPTION, 0)), -1);
	ck_assert_int_eq(c->mode, MODE_PROT);
	ck_assert_uint_eq(c->gpr[R_SP], 0x9000 - 40);
	ck_assert_uint_eq(r32(0x9000 - 40), 0);     /* error code */
	ck_assert_uint_eq(r32(0x9000 - 36), 0x55);  /* EIP */
	ck_assert_uint_eq(r32(0x9000 - 32), 0x101); /* CS */
	ck_assert(r32(0x9000 - 28) & F_VM);
	ck_assert_uint_eq(r32(0x9000 - 24), 0x700); /* ESP */
	ck_assert_uint_eq(r32(0x9000 - 20), 0x102); /* SS */
	ck_assert_uint_eq(r32(0x9000 - 16), 0x100); /* ES */
	ck_assert_uint_eq(r32(0x9000 - 12), 0x103); /* DS */
	ck_assert_uint_eq(r32(0x9000 - 8), 0x104);  /* FS */
	ck_assert_uint_eq(r32(0x9000 - 4), 0x105);  /* GS */
	ck_assert(c->seg[S_DS].attr & SEG_ATTR_UNUSABLE);
	/* IRETD back to V86 mode after popping the error code. */
	c->gpr[R_SP] += 4;
	struct insn in = mk(0x0cf, 4, 1);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_int_eq(c->mode, MODE_V86);
	ck_assert_int_eq(c->cpl, 3);
	ck_assert_uint_eq(c->seg[S_DS].base, 0x1030);
	ck_assert_uint_eq(c->seg[S_SS].sel, 0x102);
	ck_assert_uint_eq(c->gpr[R_SP], 0x700);
	ck_assert_uint_eq(c->rip, 0x55);
	/* INT n in V86 with IOPL < 3 and no VME: #GP(0). */
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x21, EV_SOFTINT, NO_ERRCODE)), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0);
}
END_TEST

START_TEST(t_int_long_ist)
{
	mode_long64();
	w64(IDT + 2 * 16, mkgate(0x38, 0x6000, 0x8e, 0) | (1ull << 32)); /* IST1 */
	w64(IDT + 2 * 16 + 8, 0xffffffffull);
	w64(TSS + 0x24, 0x9ff8); /* IST1, not aligned */
	c->gpr[R_SP] = 0x7777;
	c->rip = 0x1111;
	ck_assert_int_eq(TRY(cpu_deliver_event(c, EXC_NMI, EV_NMI, NO_ERRCODE)), -1);
	ck_assert_uint_eq(c->rip, 0xffffffff00006000ull);
	ck_assert_uint_eq(c->gpr[R_SP], 0x9ff0 - 40);
	ck_assert_uint_eq(r64(0x9ff0 - 40), 0x1111);
	ck_assert_uint_eq(r64(0x9ff0 - 32), 0x38);
	ck_assert_uint_eq(r64(0x9ff0 - 16), 0x7777);
	ck_assert_uint_eq(r64(0x9ff0 - 8), 0x10);
	/* IRETQ pops SS:RSP even at the same privilege. */
	c->rip = 0x6001;
	c->nmi_blocked = 1;
	struct insn in = mk(0x0cf, 8, 1);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->rip, 0x1111);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7777);
	ck_assert_int_eq(c->nmi_blocked, 0);
	/* From CPL 3: RSP0, SS becomes null with RPL 0. */
	w64(IDT + 0x80 * 16, mkgate(0x38, 0x6100, 0xee, 0));
	w64(IDT + 0x80 * 16 + 8, 0);
	w64(TSS + 4, 0xa000);
	set_seg(S_CS, 0x63, 0xa0fb);
	set_seg(S_SS, 0x23, 0xc0f3);
	c->cpl = 3;
	cpu_update_mode(c);
	c->gpr[R_SP] = 0x5000;
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x80, EV_SOFTINT, NO_ERRCODE)), -1);
	ck_assert_int_eq(c->cpl, 0);
	ck_assert_uint_eq(c->seg[S_SS].sel, 0);
	ck_assert(c->seg[S_SS].attr & SEG_ATTR_UNUSABLE);
	ck_assert_uint_eq(c->gpr[R_SP], 0xa000 - 40);
	ck_assert_uint_eq(r64(0xa000 - 8), 0x23);
	ck_assert_uint_eq(r64(0xa000 - 16), 0x5000);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_int_eq(c->cpl, 3);
	ck_assert_uint_eq(c->gpr[R_SP], 0x5000);
	ck_assert_int_eq(c->mode, MODE_LONG64);
}
END_TEST

/* ---- far transfers ---- */

START_TEST(t_far_call_gate_and_ret)
{
	w32(TSS + 4, 0x9000);
	w32(TSS + 8, 0x10);
	to_user32();
	c->seg[S_DS] = c->seg[S_SS];
	c->gpr[R_SP] = 0x7000;
	w32(0x7000, 0x1111);
	w32(0x7004, 0x2222);
	c->rip = 0x1234;
	ck_assert_int_eq(TRY(far_call(c, 0x43, 0, 4)), -1);
	ck_assert_int_eq(c->cpl, 0);
	ck_assert_uint_eq(c->rip, 0x5000);
	ck_assert_uint_eq(c->seg[S_SS].sel, 0x10);
	ck_assert_uint_eq(c->gpr[R_SP], 0x9000 - 24);
	ck_assert_uint_eq(r32(0x9000 - 24), 0x1234);
	ck_assert_uint_eq(r32(0x9000 - 20), 0x1b);
	ck_assert_uint_eq(r32(0x9000 - 16), 0x1111);
	ck_assert_uint_eq(r32(0x9000 - 12), 0x2222);
	ck_assert_uint_eq(r32(0x9000 - 8), 0x7000);
	ck_assert_uint_eq(r32(0x9000 - 4), 0x23);
	struct insn in = mk(0x0ca, 4, 3);
	in.imm = 8;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_int_eq(c->cpl, 3);
	ck_assert_uint_eq(c->rip, 0x1234);
	ck_assert_uint_eq(c->gpr[R_SP], 0x7008);
	ck_assert_uint_eq(c->seg[S_SS].sel, 0x23);
	ck_assert_uint_eq(c->seg[S_DS].sel, 0x23); /* DPL 3 data stays */
	/* Direct far JMP to a DPL0 non-conforming segment from CPL 3. */
	ck_assert_int_eq(TRY(far_jump(c, 0x08, 0, 4)), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0x08);
}
END_TEST

START_TEST(t_far_jmp_real_and_prot)
{
	c->rip = 0x100;
	ck_assert_int_eq(TRY(far_jump(c, 0x08, 0x2000, 4)), -1);
	ck_assert_uint_eq(c->rip, 0x2000);
	ck_assert_uint_eq(c->seg[S_CS].sel, 0x08);
	ck_assert_int_eq(TRY(far_jump(c, 0x10, 0x2000, 4)), EXC_GP); /* data */
	ck_assert_int_eq(TRY(far_jump(c, 0, 0x2000, 4)), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0);
	/* To 64-bit code in IA-32e mode switches to 64-bit mode. */
	mode_long64();
	set_seg(S_CS, 0x08, 0xc09b);
	cpu_update_mode(c);
	ck_assert_int_eq(c->mode, MODE_COMPAT);
	ck_assert_int_eq(TRY(far_jump(c, 0x38, 0x3000, 4)), -1);
	ck_assert_int_eq(c->mode, MODE_LONG64);
	/* Real mode. */
	mode_prot32();
	c->cr0 = CR0_ET;
	set_seg(S_CS, 0, 0x9b);
	c->seg[S_CS].limit = 0xffff;
	cpu_update_mode(c);
	c->gpr[R_SP] = 0x8000;
	c->rip = 0x10;
	ck_assert_int_eq(TRY(far_call(c, 0xf000, 0xe05b, 2)), -1);
	ck_assert_uint_eq(c->seg[S_CS].base, 0xf0000);
	ck_assert_uint_eq(c->rip, 0xe05b);
	ck_assert_uint_eq(r16(0x7ffe), 0);
	ck_assert_uint_eq(r16(0x7ffc), 0x10);
}
END_TEST

/* ---- task switch ---- */

START_TEST(t_task_jmp)
{
	w32(TSS2 + 0x20, 0x6000); /* EIP */
	w32(TSS2 + 0x24, 0x202);  /* EFLAGS */
	w32(TSS2 + 0x28, 0x1234); /* EAX */
	w32(TSS2 + 0x38, 0x8800); /* ESP */
	w32(TSS2 + 0x48, 0x10);
	w32(TSS2 + 0x4c, 0x08);
	w32(TSS2 + 0x50, 0x10);
	w32(TSS2 + 0x54, 0x10);
	w32(TSS2 + 0x58, 0x10);
	w32(TSS2 + 0x5c, 0x10);
	c->gpr[R_BX] = 0x5555;
	c->rip = 0x1007;
	ck_assert_int_eq(TRY(far_jump(c, 0x50, 0, 4)), -1);
	ck_assert_uint_eq(c->rip, 0x6000);
	ck_assert_uint_eq(c->gpr[R_AX], 0x1234);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8800);
	ck_assert_uint_eq(c->tr.sel, 0x50);
	ck_assert_uint_eq(c->tr.base, TSS2);
	ck_assert(c->rflags & F_IF);
	ck_assert(c->cr0 & CR0_TS);
	ck_assert_uint_eq(r32(TSS + 0x20), 0x1007);   /* old EIP saved */
	ck_assert_uint_eq(r32(TSS + 0x34), 0x5555);   /* old EBX saved */
	ck_assert_uint_eq(ram[GDT + 0x28 + 5], 0x89); /* old TSS not busy */
	ck_assert_uint_eq(ram[GDT + 0x50 + 5], 0x8b); /* new TSS busy */
	/* Jumping to a busy TSS faults. */
	ck_assert_int_eq(TRY(far_jump(c, 0x50, 0, 4)), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0x50);
}
END_TEST

START_TEST(t_task_call_iret)
{
	w32(TSS2 + 0x20, 0x6000);
	w32(TSS2 + 0x24, 0x2);
	w32(TSS2 + 0x38, 0x8800);
	for (int i = 0; i < 6; i++)
		w32(TSS2 + 0x48 + 4 * i, i == S_CS ? 0x08 : 0x10);
	c->rip = 0x1007;
	ck_assert_int_eq(TRY(far_call(c, 0x50, 0, 4)), -1);
	ck_assert(c->rflags & F_NT);
	ck_assert_uint_eq(r16(TSS2), 0x28);           /* back link */
	ck_assert_uint_eq(ram[GDT + 0x28 + 5], 0x8b); /* old stays busy */
	struct insn in = mk(0x0cf, 4, 1);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->tr.sel, 0x28);
	ck_assert_uint_eq(c->rip, 0x1007);
	ck_assert_uint_eq(ram[GDT + 0x50 + 5], 0x89);
	ck_assert(!(c->rflags & F_NT));
}
END_TEST

START_TEST(t_task_bad_ss)
{
	/* Faults while loading the new task's segments belong to the new task. */
	w32(TSS2 + 0x20, 0x6000);
	w32(TSS2 + 0x24, 0x2);
	for (int i = 0; i < 6; i++)
		w32(TSS2 + 0x48 + 4 * i, i == S_CS ? 0x08 : i == S_SS ? 0x58 : 0x10);
	ck_assert_int_eq(TRY(far_jump(c, 0x50, 0, 4)), EXC_TS);
	ck_assert_uint_eq(c->exc_errcode, 0x58);
	ck_assert_uint_eq(c->tr.sel, 0x50);
	ck_assert_uint_eq(c->ip_start, 0x6000);
}
END_TEST

/* ---- SYSCALL / SYSRET / SYSENTER ---- */

START_TEST(t_syscall_sysret)
{
	mode_long64();
	c->msr.star = (0x23ull << 48) | (0x10ull << 32);
	c->msr.lstar = 0xffffffff81000000ull;
	c->msr.sfmask = F_IF | F_TF;
	set_seg(S_CS, 0x33, 0xa0fb);
	c->cpl = 3;
	cpu_update_mode(c);
	c->rflags = F_FIXED1 | F_IF;
	c->rip = 0x400000;
	struct insn in = mk(0x105, 4, 2);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->gpr[R_CX], 0x400002);
	ck_assert_uint_eq(c->gpr[R_R11], F_FIXED1 | F_IF);
	ck_assert_uint_eq(c->rip, 0xffffffff81000000ull);
	ck_assert_int_eq(c->cpl, 0);
	ck_assert_uint_eq(c->seg[S_CS].sel, 0x10);
	ck_assert_uint_eq(c->seg[S_SS].sel, 0x18);
	ck_assert(!(c->rflags & F_IF));
	ck_assert_int_eq(c->mode, MODE_LONG64);
	in = mk(0x107, 8, 3);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_int_eq(c->cpl, 3);
	ck_assert_uint_eq(c->seg[S_CS].sel, 0x33);
	ck_assert_uint_eq(c->seg[S_SS].sel, 0x2b);
	ck_assert_uint_eq(c->rip, 0x400002);
	ck_assert(c->rflags & F_IF);
	ck_assert_int_eq(c->mode, MODE_LONG64);
	/* SYSRET at CPL 3: #GP(0); SYSCALL without EFER.SCE: #UD. */
	ck_assert_int_eq(run(&in), EXC_GP);
	c->msr.efer &= ~EFER_SCE;
	in = mk(0x105, 4, 2);
	ck_assert_int_eq(run(&in), EXC_UD);
}
END_TEST

START_TEST(t_sysenter)
{
	struct insn in = mk(0x134, 4, 2);
	ck_assert_int_eq(run(&in), EXC_GP); /* SYSENTER_CS = 0 */
	c->msr.sysenter_cs = 0x08;
	c->msr.sysenter_esp = 0x9000;
	c->msr.sysenter_eip = 0x7000;
	to_user32();
	ck_assert_int_eq(run(&in), -1);
	ck_assert_int_eq(c->cpl, 0);
	ck_assert_uint_eq(c->seg[S_SS].sel, 0x10);
	ck_assert_uint_eq(c->rip, 0x7000);
	ck_assert_uint_eq(c->gpr[R_SP], 0x9000);
	c->gpr[R_CX] = 0x6000;
	c->gpr[R_DX] = 0x4000;
	in = mk(0x135, 4, 2);
	ck_assert_int_eq(run(&in), -1);
	ck_assert_int_eq(c->cpl, 3);
	ck_assert_uint_eq(c->seg[S_CS].sel, 0x1b);
	ck_assert_uint_eq(c->seg[S_SS].sel, 0x23);
	ck_assert_uint_eq(c->rip, 0x4000);
	ck_assert_uint_eq(c->gpr[R_SP], 0x6000);
}
END_TEST

START_TEST(t_v86_vme_redirect)
{
	/* CR4.VME, IOPL 0, redirection bit clear: the 8086 handler runs. */
	c->cr4 |= CR4_VME;
	w16(TSS + 0x66, 0x68 + 32); /* I/O map base; bitmap just below */
	c->tr.limit = 0x68 + 32 + 8;
	memset(ram + TSS + 0x68, 0, 32);
	ram[TSS + 0x68 + (0x21 >> 3)] = 0;
	ram[TSS + 0x68 + (0x22 >> 3)] |= 1u << (0x22 & 7);
	w16(0x21 * 4, 0x4321);
	w16(0x21 * 4 + 2, 0x3000);
	c->rflags = F_FIXED1 | F_VM | F_VIF;
	cpu_update_mode(c);
	for (int s = 0; s < S_NSEG; s++)
		seg_set_v86(c, s, 0);
	c->gpr[R_SP] = 0x700;
	c->rip = 0x55;
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x21, EV_SOFTINT, NO_ERRCODE)), -1);
	ck_assert_int_eq(c->mode, MODE_V86);
	ck_assert_uint_eq(c->seg[S_CS].base, 0x30000);
	ck_assert_uint_eq(c->rip, 0x4321);
	ck_assert_uint_eq(c->gpr[R_SP], 0x6fa);
	/* Pushed FLAGS show IOPL = 3 and IF = VIF. */
	ck_assert_uint_eq(r16(0x6fe) & (F_IOPL | F_IF), F_IOPL | F_IF);
	ck_assert(!(c->rflags & F_VIF));
	/* Bit set and IOPL < 3: #GP(0). */
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x22, EV_SOFTINT, NO_ERRCODE)), EXC_GP);
	/* IRET (16-bit) under VME with IOPL < 3 restores VIF from the IF image. */
	struct insn in = mk(0x0cf, 2, 1);
	c->gpr[R_SP] = 0x6fa;
	ck_assert_int_eq(run(&in), -1);
	ck_assert(c->rflags & F_VIF);
	ck_assert(!(c->rflags & F_IF));
	ck_assert_uint_eq(c->rip, 0x55);
}
END_TEST

START_TEST(t_int_task_gate)
{
	/* #DF through a task gate: the error code lands on the new stack. */
	w64(IDT + 8 * 8, mkgate(0x50, 0, 0x85, 0));
	w32(TSS2 + 0x20, 0x6000);
	w32(TSS2 + 0x24, 0x2);
	w32(TSS2 + 0x38, 0x8800);
	for (int i = 0; i < 6; i++)
		w32(TSS2 + 0x48 + 4 * i, i == S_CS ? 0x08 : 0x10);
	ck_assert_int_eq(TRY(cpu_deliver_event(c, EXC_DF, EV_EXCEPTION, 0)), -1);
	ck_assert_uint_eq(c->tr.sel, 0x50);
	ck_assert_uint_eq(c->rip, 0x6000);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8800 - 4);
	ck_assert_uint_eq(r32(0x8800 - 4), 0);
	ck_assert(c->rflags & F_NT);
	ck_assert_uint_eq(r16(TSS2), 0x28);
	/* The interrupted task stays busy: jumping back to it faults. */
	ck_assert_int_eq(TRY(far_jump(c, 0x28, 0, 4)), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0x28);
}
END_TEST

START_TEST(t_ltr_lldt)
{
	gdt(0x70, mkdesc(0x30000, 0x1f, 0x0082)); /* LDT */
	gdt(0x28, mkdesc(TSS, 0x67, 0x0089));     /* make it available */
	struct insn in = mk(0x100, 2, 3);
	in.reg = 3; /* LTR */
	in.rm = R_AX;
	c->gpr[R_AX] = 0x28;
	c->tr.sel = 0;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->tr.sel, 0x28);
	ck_assert_uint_eq(c->tr.attr & 0xf, SYS_TSS32_BUSY);
	ck_assert_uint_eq(ram[GDT + 0x28 + 5], 0x8b);
	ck_assert_int_eq(run(&in), EXC_GP); /* busy now */
	in.reg = 2;                         /* LLDT */
	c->gpr[R_AX] = 0x70;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_uint_eq(c->ldtr.base, 0x30000);
	ck_assert_uint_eq(c->ldtr.limit, 0x1f);
	/* A data segment in the LDT is now reachable with TI = 1. */
	w64(0x30000 + 8, mkdesc(0x4000, 0xffff, 0x0093));
	ck_assert_int_eq(TRY(seg_load(c, S_ES, 0x0c)), -1);
	ck_assert_uint_eq(c->seg[S_ES].base, 0x4000);
	ck_assert_int_eq(TRY(seg_load(c, S_ES, 0x24)), EXC_GP); /* beyond LDT limit */
	c->gpr[R_AX] = 0x10;                                    /* not an LDT */
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0x10);
	to_user32();
	c->gpr[R_AX] = 0;
	ck_assert_int_eq(run(&in), EXC_GP); /* CPL 3 */
}
END_TEST

START_TEST(t_stack_fault_commits_nothing)
{
	/* A 16-bit expand-down SS with too little room: #SS, nothing changes. */
	w64(IDT + 0x30 * 8, mkgate(0x08, 0x3100, 0x8e, 0));
	c->seg[S_SS].attr = 0x0097;
	c->seg[S_SS].limit = 0x7ff8;
	c->gpr[R_SP] = 0x8000;
	c->rip = 0x1000;
	ck_assert_int_eq(TRY(cpu_deliver_event(c, 0x30, EV_EXTINT, NO_ERRCODE)), EXC_SS);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000);
	ck_assert_uint_eq(c->rip, 0x1000);
	ck_assert_uint_eq(c->seg[S_CS].sel, 0x08);
	/* IRET to an outer level whose SS is bad: #GP(SS), nothing changes. */
	c->seg[S_SS].attr = 0xc093;
	c->seg[S_SS].limit = 0xffffffffu;
	w32(0x8000, 0x2000);
	w32(0x8004, 0x1b);
	w32(0x8008, 0x202);
	w32(0x800c, 0x7000);
	w32(0x8010, 0x10); /* DPL 0 stack for a CPL 3 return */
	struct insn in = mk(0x0cf, 4, 1);
	ck_assert_int_eq(run(&in), EXC_GP);
	ck_assert_uint_eq(c->exc_errcode, 0x10);
	ck_assert_int_eq(c->cpl, 0);
	ck_assert_uint_eq(c->gpr[R_SP], 0x8000);
	w32(0x8010, 0x23);
	c->rip = 0x1000;
	ck_assert_int_eq(run(&in), -1);
	ck_assert_int_eq(c->cpl, 3);
	ck_assert_uint_eq(c->rip, 0x2000);
}
END_TEST

static Suite *seg_suite(void)
{
	Suite *s = suite_create("seg");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, t_desc_parse);
	tcase_add_test(t, t_load_data_ok);
	tcase_add_test(t, t_load_faults);
	tcase_add_test(t, t_load_64bit_null_ss);
	tcase_add_test(t, t_real_v86_loads);
	tcase_add_test(t, t_mov_sreg);
	tcase_add_test(t, t_lar_lsl_verr);
	tcase_add_test(t, t_int_real);
	tcase_add_test(t, t_int_prot_same);
	tcase_add_test(t, t_int_prot_inner_and_iret);
	tcase_add_test(t, t_int_v86);
	tcase_add_test(t, t_int_long_ist);
	tcase_add_test(t, t_far_call_gate_and_ret);
	tcase_add_test(t, t_far_jmp_real_and_prot);
	tcase_add_test(t, t_task_jmp);
	tcase_add_test(t, t_task_call_iret);
	tcase_add_test(t, t_task_bad_ss);
	tcase_add_test(t, t_syscall_sysret);
	tcase_add_test(t, t_sysenter);
	tcase_add_test(t, t_v86_vme_redirect);
	tcase_add_test(t, t_int_task_gate);
	tcase_add_test(t, t_ltr_lldt);
	tcase_add_test(t, t_stack_fault_commits_nothing);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(seg_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
