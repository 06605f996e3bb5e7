/*
 * cpu/seg.c — descriptor-table reads and segment-register loads in every mode,
 * plus the checked-stack builder used by interrupt delivery, far CALL and the
 * task switch (Intel SDM Vol. 3 ch. 3 and 5; Vol. 2 "MOV", "POP", "LDS").
 *
 * The rule for every function here: check (and fault) first, commit after.
 * seg_check_* fill a struct seg without touching the register file;
 * seg_commit and stk_commit are the only writers.
 */
#include "cpu/seg.h"

#include "cpu/access.h"
#include "cpu/cpuid.h"

/* SDM Vol. 3 §3.5.1: the table is chosen by TI; index*8+7 must be within its
 * limit. An LDT access with an unusable (null) LDTR fails the same way. */
static bool desc_addr(struct cpu *cpu, uint16_t sel, unsigned size, uint64_t *addr)
{
	uint64_t base;
	uint32_t limit;
	if (sel & 4) {
		if (cpu->ldtr.attr & SEG_ATTR_UNUSABLE)
			return false;
		base = cpu->ldtr.base;
		limit = cpu->ldtr.limit;
	} else {
		base = cpu->gdtr.base;
		limit = cpu->gdtr.limit;
	}
	if ((uint64_t)(sel & ~7u) + size - 1 > limit)
		return false;
	*addr = base + (sel & ~7u);
	if (!(cpu->msr.efer & EFER_LMA))
		*addr = (uint32_t)*addr;
	return true;
}

bool seg_read_desc(struct cpu *cpu, uint16_t sel, uint64_t *desc, uint64_t *addr)
{
	uint64_t a;
	if (!desc_addr(cpu, sel, 8, &a))
		return false;
	*desc = lin_rd(cpu, a, 8, ACC_READ | ACC_SYS);
	if (addr)
		*addr = a;
	return true;
}

bool seg_read_desc16(struct cpu *cpu, uint16_t sel, uint64_t d[2], uint64_t *addr)
{
	uint64_t a;
	if (!desc_addr(cpu, sel, 16, &a))
		return false;
	d[0] = lin_rd(cpu, a, 8, ACC_READ | ACC_SYS);
	d[1] = lin_rd(cpu, a + 8, 8, ACC_READ | ACC_SYS);
	if (addr)
		*addr = a;
	return true;
}

void seg_set_accessed(struct cpu *cpu, uint64_t addr, uint64_t *desc)
{
	/* Only code/data descriptors have an accessed bit (§3.4.5.1). Skipping
	 * the write when it is already set keeps read-only GDTs working. */
	if (!(*desc & (1ull << 44)) || (*desc & (1ull << 40)))
		return;
	*desc |= 1ull << 40;
	lin_wr(cpu, addr + 5, 1, (uint8_t)(*desc >> 40), ACC_WRITE | ACC_SYS);
}

void seg_set_tss_busy(struct cpu *cpu, uint16_t sel, bool busy)
{
	uint64_t a = cpu->gdtr.base + (sel & ~7u) + 5;
	if (!(cpu->msr.efer & EFER_LMA))
		a = (uint32_t)a;
	uint8_t b = (uint8_t)lin_rd(cpu, a, 1, ACC_READ | ACC_SYS);
	uint8_t nb = busy ? (b | 2) : (b & ~2);
	if (nb != b)
		lin_wr(cpu, a, 1, nb, ACC_WRITE | ACC_SYS);
}

void seg_make_null(struct seg *s, uint16_t sel, unsigned dpl)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0;
	s->attr = SEG_ATTR_UNUSABLE | (dpl << SEG_ATTR_DPL_SHIFT);
}

/* SDM Vol. 2 "MOV—Move" (segment register forms), protected-mode checks. */
void seg_check_data(struct cpu *cpu, int sreg, uint16_t sel, unsigned cpl, int vec, uint32_t ext,
		    struct seg *out)
{
	uint32_t ec = (sel & 0xfffc) | ext;
	unsigned rpl = sel & 3;
	if (!(sel & 0xfffc)) {
		if (sreg == S_SS) {
			/* §5.7 / MOV: only 64-bit mode allows a null SS, and then
			 * only at CPL < 3 with RPL = CPL. */
			if (cpu->mode != MODE_LONG64 || cpl == 3 || rpl != cpl)
				cpu_exception(cpu, vec, ext);
			seg_make_null(out, sel, cpl);
		} else {
			seg_make_null(out, sel, 0);
		}
		return;
	}
	uint64_t d, addr;
	if (!seg_read_desc(cpu, sel, &d, &addr))
		cpu_exception(cpu, vec, ec);
	uint32_t a = desc_attr(d);
	unsigned dpl = attr_dpl(a);
	if (sreg == S_SS) {
		if (rpl != cpl || !attr_writable_data(a) || dpl != cpl)
			cpu_exception(cpu, vec, ec);
		if (!attr_present(a))
			cpu_exception(cpu, EXC_SS, ec);
	} else {
		if (!attr_readable(a))
			cpu_exception(cpu, vec, ec);
		/* Data and non-conforming code: max(CPL, RPL) <= DPL (§5.6). */
		if (!attr_conforming(a) && (rpl > dpl || cpl > dpl))
			cpu_exception(cpu, vec, ec);
		if (!attr_present(a))
			cpu_exception(cpu, EXC_NP, ec);
	}
	seg_set_accessed(cpu, addr, &d);
	seg_from_desc(out, sel, d);
}

void seg_commit(struct cpu *cpu, int sreg, const struct seg *s)
{
	cpu->seg[sreg] = *s;
	if (sreg == S_CS) {
		/* CPL = CS.RPL in protected mode; cpu_update_mode overrides it
		 * with 0 (real) or 3 (V86). */
		cpu->cpl = s->sel & 3;
		cpu_update_mode(cpu);
		cpu->pending |= PEND_MODE;
	}
}

void seg_set_real(struct cpu *cpu, int sreg, uint16_t sel)
{
	/* Real mode changes only selector and base; limit and attributes keep
	 * whatever protected mode left there ("big real mode", which firmware
	 * such as SeaBIOS relies on). A segment left unusable becomes usable. */
	struct seg *s = &cpu->seg[sreg];
	s->sel = sel;
	s->base = (uint32_t)sel << 4;
	if (s->attr & SEG_ATTR_UNUSABLE)
		s->attr = (s->attr & ~SEG_ATTR_UNUSABLE) | SEG_ATTR_P | SEG_ATTR_S | 3;
}

void seg_set_v86(struct cpu *cpu, int sreg, uint16_t sel)
{
	struct seg *s = &cpu->seg[sreg];
	s->sel = sel;
	s->base = (uint32_t)sel << 4;
	s->limit = 0xffff;
	s->attr = 0xf3; /* present, DPL 3, read/write accessed data (SDM §26.3.1.2) */
}

void seg_set_null(struct cpu *cpu, int sreg, uint16_t sel)
{
	seg_make_null(&cpu->seg[sreg], sel, sreg == S_SS ? cpu->cpl : 0);
}

void seg_load(struct cpu *cpu, int sreg, uint16_t sel)
{
	struct seg s;
	switch (cpu->mode) {
	case MODE_REAL:
		seg_set_real(cpu, sreg, sel);
		return;
	case MODE_V86:
		seg_set_v86(cpu, sreg, sel);
		return;
	default:
		seg_check_data(cpu, sreg, sel, cpu->cpl, EXC_GP, 0, &s);
		cpu->seg[sreg] = s;
	}
}

void seg_null_outer(struct cpu *cpu)
{
	static const int regs[4] = { S_ES, S_DS, S_FS, S_GS };
	for (int i = 0; i < 4; i++) {
		struct seg *s = &cpu->seg[regs[i]];
		if (s->attr & SEG_ATTR_UNUSABLE)
			continue;
		/* Only selector and usability change ("SegmentSelector <- 0"):
		 * an FS/GS base set through MSRs survives in IA-32e mode. */
		if (!attr_conforming(s->attr) && attr_dpl(s->attr) < cpu->cpl) {
			s->sel = 0;
			s->attr = SEG_ATTR_UNUSABLE;
		}
	}
}

/* SDM Vol. 2 "RET" / "IRET": checks on the return code segment. */
void seg_check_ret_cs(struct cpu *cpu, uint16_t sel, struct seg *out)
{
	uint32_t ec = sel & 0xfffc;
	unsigned rpl = sel & 3;
	uint64_t d, addr;
	if (!ec)
		cpu_gp(cpu, 0);
	if (!seg_read_desc(cpu, sel, &d, &addr))
		cpu_gp(cpu, ec);
	uint32_t a = desc_attr(d);
	if (!attr_is_code(a) || rpl < cpu->cpl)
		cpu_gp(cpu, ec);
	if (attr_conforming(a) ? attr_dpl(a) > rpl : attr_dpl(a) != rpl)
		cpu_gp(cpu, ec);
	/* IA-32e mode: L = 1 with D = 1 is reserved (§5.2.1). */
	if ((cpu->msr.efer & EFER_LMA) && (a & SEG_ATTR_L) && (a & SEG_ATTR_DB))
		cpu_gp(cpu, ec);
	if (!attr_present(a))
		cpu_exception(cpu, EXC_NP, ec);
	seg_set_accessed(cpu, addr, &d);
	seg_from_desc(out, sel, d);
}

void seg_check_stack(struct cpu *cpu, uint16_t sel, unsigned cpl, int vec, uint32_t ext,
		     bool allow_null, struct seg *out)
{
	uint32_t ec = (sel & 0xfffc) | ext;
	if (!(sel & 0xfffc)) {
		if (!allow_null || !(cpu->msr.efer & EFER_LMA) || (sel & 3) != cpl)
			cpu_exception(cpu, vec, ext);
		seg_make_null(out, sel, cpl);
		return;
	}
	uint64_t d, addr;
	if (!seg_read_desc(cpu, sel, &d, &addr))
		cpu_exception(cpu, vec, ec);
	uint32_t a = desc_attr(d);
	if ((sel & 3) != cpl || attr_dpl(a) != cpl || !attr_writable_data(a))
		cpu_exception(cpu, vec, ec);
	if (!attr_present(a))
		cpu_exception(cpu, EXC_SS, ec);
	seg_set_accessed(cpu, addr, &d);
	seg_from_desc(out, sel, d);
}

/* SDM Vol. 3 §7.2.1 (Figures 7-2, 7-11) and §8.7 (64-bit TSS). */
void tss_inner_stack(struct cpu *cpu, unsigned dpl, unsigned ist, uint32_t ext, uint16_t *ss,
		     uint64_t *sp)
{
	const struct seg *tr = &cpu->tr;
	uint32_t ec = (tr->sel & 0xfffc) | ext;
	if (cpu->msr.efer & EFER_LMA) {
		unsigned off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * dpl;
		if (off + 7 > tr->limit)
			cpu_exception(cpu, EXC_TS, ec);
		*sp = lin_rd(cpu, tr->base + off, 8, ACC_READ | ACC_SYS);
		*ss = (uint16_t)dpl;
		return;
	}
	if (attr_type(tr->attr) & 8) {
		unsigned off = 4 + 8 * dpl;
		if (off + 5 > tr->limit)
			cpu_exception(cpu, EXC_TS, ec);
		*sp = (uint32_t)lin_rd(cpu, (uint32_t)(tr->base + off), 4, ACC_READ | ACC_SYS);
		*ss = (uint16_t)lin_rd(cpu, (uint32_t)(tr->base + off + 4), 2, ACC_READ | ACC_SYS);
	} else {
		unsigned off = 2 + 4 * dpl;
		if (off + 3 > tr->limit)
			cpu_exception(cpu, EXC_TS, ec);
		*sp = (uint16_t)lin_rd(cpu, (uint32_t)(tr->base + off), 2, ACC_READ | ACC_SYS);
		*ss = (uint16_t)lin_rd(cpu, (uint32_t)(tr->base + off + 2), 2, ACC_READ | ACC_SYS);
	}
}

/* ---- checked stack builder ---- */

void stk_init(struct stk *k, struct cpu *cpu, const struct seg *ss, uint64_t sp, bool is64,
	      uint32_t err, bool sys)
{
	k->ss = *ss;
	k->sp = sp;
	k->is64 = is64;
	k->mask = is64 ? ~0ull : (ss->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
	k->err = err;
	k->acc = ACC_WRITE | (sys ? ACC_SYS : 0);
}

static inline bool canonical(const struct cpu *cpu, uint64_t a)
{
	unsigned bits = (cpu->cr4 & CR4_LA57) ? 57 : 48;
	int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == a;
}

void stk_reserve(struct cpu *cpu, struct stk *k, unsigned total)
{
	uint64_t low = (k->sp - total) & k->mask;
	uint64_t lin;
	if (k->is64) {
		if (!canonical(cpu, low) || !canonical(cpu, k->sp - 1))
			cpu_exception(cpu, EXC_SS, k->err);
		lin = low;
	} else {
		if (!seg_range_ok(&k->ss, low, total) || (k->ss.attr & SEG_ATTR_UNUSABLE))
			cpu_exception(cpu, EXC_SS, k->err);
		lin = (uint32_t)(k->ss.base + low);
	}
	lin_probe_write(cpu, lin, total, k->acc);
}

void stk_push(struct cpu *cpu, struct stk *k, unsigned size, uint64_t v)
{
	uint64_t off = (k->sp - size) & k->mask;
	k->sp = (k->sp & ~k->mask) | off;
	uint64_t lin = k->is64 ? off : (uint32_t)(k->ss.base + off);
	lin_wr(cpu, lin, size, v, k->acc);
}

void stk_commit(struct cpu *cpu, const struct stk *k, bool load_ss)
{
	if (load_ss)
		cpu->seg[S_SS] = k->ss;
	if (k->mask == 0xffff)
		reg16_set(cpu, R_SP, (uint16_t)k->sp);
	else
		cpu->gpr[R_SP] = k->mask == 0xffffffffull ? (uint32_t)k->sp : k->sp;
}

void cpu_set_cs_rip(struct cpu *cpu, const struct seg *cs, uint64_t rip)
{
	seg_commit(cpu, S_CS, cs);
	cpu->rip = rip;
}
