/*
 * cpu/access.c — segmentation checks, linear accesses through the soft TLB,
 * page-walk slow path, ModRM operand helpers, stack and port I/O for
 * instruction handlers (see cpu/access.h for the layering).
 *
 * The fast path of every access is: segment check (a few compares; nothing
 * in 64-bit mode but the canonical check), one TLB probe, one host load or
 * store. Everything else — page walks, A/D bits, MMIO, code-page writes,
 * accesses straddling pages — happens in the *_slow functions.
 */
#include "cpu/access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/virt.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "mmu/mmu.h"
#include "mmu/tlb.h"
#include "mmu/walk.h"

/* ---------------------------------------------------------------- */
/* ---------------------------------------------------------------- */
/* Translation.                                                     */

/* A translated page: guest-physical page and, for RAM, a host pointer. */
struct xlat {
	uint64_t gpa;  /* full guest-physical address of lin */
	uint8_t *host; /* host pointer to the byte at gpa, or NULL (MMIO etc.) */
	bool code;     /* write to a page holding decoded code */
	bool apic;     /* on the VMX APIC-access page (cpu/virt.h apic_page) */
};

static void paging_regs_of(const struct cpu *c, struct paging_regs *pr)
{
	pr->cr0 = c->cr0;
	pr->cr3 = c->cr3;
	pr->cr4 = c->cr4;
	pr->efer = c->msr.efer;
	memcpy(pr->pdpte, c->pdpte, sizeof(pr->pdpte));
	pr->pdpte_valid = c->pdpte_valid;
	pr->pkru = c->pkru;
	pr->pkrs = (uint32_t)c->msr.pkrs;
	pr->amd = c->model && c->model->vendor == VENDOR_AMD;
}

/* Translate lin for one access kind; raise #PF on failure; fill the TLB for
 * cacheable RAM pages. */
static void translate(struct cpu *c, uint64_t lin, int acc, struct xlat *x)
{
	int kind = acc & ACC_KIND;
	int ctx = tlb_ctx(c, acc);
	uint64_t gpa;
	uint64_t large = 0; /* size of the large page mapping lin, or 0 */
	bool nocache = false;

	if (c->cr0 & CR0_PG) {
		struct paging_regs pr;
		struct walk_result r;
		unsigned wacc = 0;
		paging_regs_of(c, &pr);
		if (kind == ACC_WRITE)
			wacc |= WALK_WRITE;
		if (kind == ACC_EXEC)
			wacc |= WALK_FETCH;
		if (acc & ACC_SYS)
			wacc |= WALK_SUPV;
		else if (c->cpl == 3)
			wacc |= WALK_USER;
		else if (c->rflags & F_AC)
			wacc |= WALK_AC;
		/* A guest with EPT/NPT: every guest-physical access of the walk
		 * and its result go through the second stage, which exits on a
		 * violation itself (cpu_unwind). */
		struct stage2 s2 = { 0 };
		bool has_s2 = c->guest_mode && c->virt->stage2;
		if (has_s2) {
			s2.xlate = c->virt->stage2;
			s2.opaque = c;
		}
		enum walk_status ws = mmu_walk(c->mmu, &pr, lin, wacc, has_s2 ? &s2 : NULL, &r);
		if (ws == WALK_PF) {
			c->pf_addr = lin;
			cpu_exception(c, EXC_PF, r.pfec);
		}
		if (ws != WALK_OK) {
			/* Our contract (cpu/virt.h): a second stage that refuses a
			 * translation performs its exit itself. */
			fprintf(stderr,
				"nestbox: internal error: stage-2 walk failed without an exit\n");
			abort();
		}
		gpa = has_s2 ? r.hpa : r.gpa;
		large = r.page_size > 4096 ? r.page_size : 0;
		/* A supervisor write that only CR0.WP = 0 allows is not cached:
		 * the TLB then holds nothing that depends on WP, and toggling
		 * WP (Linux does it around text patching) needs no flush. */
		if (kind == ACC_WRITE && !(wacc & WALK_USER) && !(pr.cr0 & CR0_WP)) {
			struct paging_regs pw = pr;
			pw.cr0 |= CR0_WP;
			if (!walk_allows(&pw, &r, wacc))
				nocache = true;
		}
	} else {
		gpa = lin & 0xffffffffull;
		if (c->guest_mode && c->virt->stage2) {
			uint64_t hpa;
			unsigned wacc = kind == ACC_WRITE  ? WALK_WRITE
					: kind == ACC_EXEC ? WALK_FETCH
							   : 0;
			c->virt->stage2(c, gpa, lin, false, wacc, &hpa);
			gpa = hpa;
		}
	}
	gpa &= c->a20_mask;
	x->gpa = gpa;
	x->apic = false;
	/* VMX APIC-access page: never cached, every access virtualized. */
	if (__builtin_expect(c->guest_mode, 0) && c->virt->apic_page &&
	    c->virt->apic_page(c, gpa, kind)) {
		x->host = NULL;
		x->code = false;
		x->apic = true;
		return;
	}
	x->host = mmu_gpa_ptr(c->mmu, gpa, kind == ACC_WRITE);
	x->code = kind == ACC_WRITE && mmu_is_code(c->mmu, gpa);
	if (c->dbg_data && kind != ACC_EXEC) {
		/* Data breakpoints armed: keep data accesses on the slow path. */
		c->dbg_hits |= (uint8_t)dbg_match_data(c, lin, 1, kind == ACC_WRITE);
		return;
	}
	if (x->host && !x->code && ctx != TLB_USER_AC && !nocache) {
		tlb_insert(c->tlb, ctx, kind, lin, x->host - (gpa & 0xfff), gpa & ~0xfffull);
		if (large)
			tlb_note_large(c->tlb, lin, large);
	}
}

/* Access within one page, slow path. */
static uint64_t rd_page(struct cpu *c, const struct xlat *x, unsigned size)
{
	if (__builtin_expect(x->apic, 0))
		return c->virt->apic_access(c, x->gpa, size, false, 0);
	if (x->host)
		return access_load(x->host, size);
	return phys_read(c->mmu, x->gpa, size);
}

static void wr_page(struct cpu *c, const struct xlat *x, unsigned size, uint64_t v)
{
	if (__builtin_expect(x->apic, 0)) {
		c->virt->apic_access(c, x->gpa, size, true, v);
		return;
	}
	if (x->code)
		mmu_note_write(c->mmu, x->gpa, size);
	if (x->host)
		access_store(x->host, size, v);
	else
		phys_write(c->mmu, x->gpa, size, v);
}

/* Alignment check (SDM Vol. 3 §6.15, #AC): CPL 3, CR0.AM and RFLAGS.AC,
 * a data access whose address is not a multiple of its size. */
static inline void align_check(struct cpu *c, uint64_t lin, unsigned size, int acc)
{
	if ((lin & (size - 1)) && tlb_ctx(c, acc) == TLB_USER_AC)
		cpu_exception(c, EXC_AC, 0);
}

uint64_t lin_rd_slow(struct cpu *c, uint64_t lin, unsigned size, int acc)
{
	align_check(c, lin, size, acc);
	unsigned off = lin & 0xfff;
	struct xlat x;
	if (c->dbg_data && (acc & ACC_KIND) == ACC_READ)
		c->dbg_hits |= (uint8_t)dbg_match_data(c, lin, size, false);
	if (off + size <= 0x1000) {
		translate(c, lin, acc, &x);
		return rd_page(c, &x, size);
	}
	/* Straddles two pages: translate both (faults first), then read. */
	unsigned n1 = 0x1000 - off;
	struct xlat x2;
	translate(c, lin, acc, &x);
	translate(c, lin + n1, acc, &x2);
	if (__builtin_expect(x.apic || x2.apic, 0)) /* not virtualizable: exits */
		c->virt->apic_access(c, x.apic ? x.gpa : x2.gpa, size, false, 0);
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		const struct xlat *p = i < n1 ? &x : &x2;
		uint64_t g = i < n1 ? x.gpa + i : x2.gpa + (i - n1);
		uint8_t b =
			p->host ? p->host[i < n1 ? i : i - n1] : (uint8_t)phys_read(c->mmu, g, 1);
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

void lin_wr_slow(struct cpu *c, uint64_t lin, unsigned size, uint64_t v, int acc)
{
	align_check(c, lin, size, acc);
	unsigned off = lin & 0xfff;
	struct xlat x;
	if (c->dbg_data)
		c->dbg_hits |= (uint8_t)dbg_match_data(c, lin, size, true);
	if (off + size <= 0x1000) {
		translate(c, lin, acc, &x);
		wr_page(c, &x, size, v);
		return;
	}
	unsigned n1 = 0x1000 - off;
	struct xlat x2;
	translate(c, lin, acc, &x);
	translate(c, lin + n1, acc, &x2);
	for (unsigned i = 0; i < size; i++) {
		struct xlat b = i < n1 ? x : x2;
		unsigned k = i < n1 ? i : i - n1;
		b.gpa += k;
		if (b.host)
			b.host += k;
		wr_page(c, &b, 1, v >> (8 * i));
	}
}

void lin_probe_write(struct cpu *c, uint64_t lin, unsigned n, int acc)
{
	struct xlat x;
	acc = (acc & ~ACC_KIND) | ACC_WRITE;
	if (n == 0)
		return;
	uint64_t last = lin + n - 1;
	for (uint64_t p = lin & ~0xfffull;; p += 0x1000) {
		uint64_t a = p < lin ? lin : p;
		if (!tlb_lookup(c->tlb, tlb_ctx(c, acc), TLB_W, a))
			translate(c, a, acc, &x);
		if (p == (last & ~0xfffull))
			break;
	}
}

void lin_rdn(struct cpu *c, uint64_t lin, void *buf, unsigned n, int acc)
{
	uint8_t *d = buf;
	while (n) {
		unsigned chunk = 0x1000 - (unsigned)(lin & 0xfff);
		if (chunk > n)
			chunk = n;
		uint8_t *p = tlb_lookup(c->tlb, tlb_ctx(c, acc), acc & ACC_KIND, lin);
		if (p) {
			memcpy(d, p, chunk);
		} else {
			struct xlat x;
			translate(c, lin, acc, &x);
			if (x.apic)
				c->virt->apic_access(c, x.gpa, chunk, false, 0);
			if (x.host)
				memcpy(d, x.host, chunk);
			else
				phys_read_buf(c->mmu, x.gpa, d, chunk);
		}
		d += chunk;
		lin += chunk;
		n -= chunk;
	}
}

void lin_wrn(struct cpu *c, uint64_t lin, const void *buf, unsigned n, int acc)
{
	const uint8_t *s = buf;
	acc = (acc & ~ACC_KIND) | ACC_WRITE;
	/* Check the whole range first so a fault commits nothing. */
	lin_probe_write(c, lin, n, acc);
	while (n) {
		unsigned chunk = 0x1000 - (unsigned)(lin & 0xfff);
		if (chunk > n)
			chunk = n;
		uint8_t *p = tlb_lookup(c->tlb, tlb_ctx(c, acc), TLB_W, lin);
		if (p) {
			memcpy(p, s, chunk);
		} else {
			struct xlat x;
			translate(c, lin, acc, &x);
			if (x.apic)
				c->virt->apic_access(c, x.gpa, chunk, true, 0);
			if (x.code)
				mmu_note_write(c->mmu, x.gpa, chunk);
			if (x.host)
				memcpy(x.host, s, chunk);
			else
				phys_write_buf(c->mmu, x.gpa, s, chunk);
		}
		s += chunk;
		lin += chunk;
		n -= chunk;
	}
}

/* ---------------------------------------------------------------- */
/* Segmentation (SDM Vol. 3 §5.3, §5.4; 64-bit: §3.4.4, §5.3.1).    */

static inline bool canonical(const struct cpu *c, uint64_t lin)
{
	int bits = (c->cr4 & CR4_LA57) ? 57 : 48;
	int64_t s = (int64_t)(lin << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == lin;
}

static _Noreturn void seg_fault(struct cpu *c, int seg)
{
	cpu_exception(c, seg == S_SS ? EXC_SS : EXC_GP, 0);
}

uint64_t seg_lin_slow(struct cpu *c, int seg, uint64_t off, unsigned size, int acc)
{
	const struct seg *s = &c->seg[seg];
	if (c->mode == MODE_LONG64) {
		uint64_t lin = seg >= S_FS ? s->base + off : off;
		if (__builtin_expect(!canonical(c, lin) || !canonical(c, lin + size - 1), 0))
			seg_fault(c, seg);
		return lin;
	}
	off &= 0xffffffffull;
	if (c->mode != MODE_REAL && c->mode != MODE_V86) {
		uint32_t a = s->attr;
		if (__builtin_expect(a & SEG_ATTR_UNUSABLE, 0))
			seg_fault(c, seg);
		int kind = acc & ACC_KIND;
		if (a & 0x8) { /* code: readable if bit 1; never writable */
			if (kind == ACC_WRITE || (kind == ACC_READ && !(a & 0x2)))
				seg_fault(c, seg);
		} else if (kind == ACC_WRITE && !(a & 0x2)) {
			seg_fault(c, seg);
		}
		if ((a & 0xc) == 0x4) {
			/* Expand-down data: valid offsets are (limit, top]. */
			uint64_t top = (a & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
			if (off <= s->limit || off + size - 1 > top)
				seg_fault(c, seg);
			return (s->base + off) & 0xffffffffull;
		}
	}
	if (__builtin_expect(off + size - 1 > s->limit, 0))
		seg_fault(c, seg);
	return (s->base + off) & 0xffffffffull;
}

void cpu_rdn(struct cpu *c, int seg, uint64_t off, void *buf, unsigned n)
{
	lin_rdn(c, seg_lin(c, seg, off, n, ACC_READ), buf, n, ACC_READ);
}

void cpu_wrn(struct cpu *c, int seg, uint64_t off, const void *buf, unsigned n)
{
	lin_wrn(c, seg_lin(c, seg, off, n, ACC_WRITE), buf, n, ACC_WRITE);
}

void cpu_probe_write(struct cpu *c, int seg, uint64_t off, unsigned n)
{
	lin_probe_write(c, seg_lin(c, seg, off, n, ACC_WRITE), n, ACC_WRITE);
}

void cpu_fetch(struct cpu *c, uint64_t ip, void *buf, unsigned n)
{
	uint64_t lin;
	if (c->mode == MODE_LONG64) {
		if (!canonical(c, ip) || !canonical(c, ip + n - 1))
			cpu_gp(c, 0);
		lin = ip;
	} else {
		if (ip + n - 1 > c->seg[S_CS].limit)
			cpu_gp(c, 0);
		lin = (c->seg[S_CS].base + ip) & 0xffffffffull;
	}
	lin_rdn(c, lin, buf, n, ACC_EXEC);
}

/* ---------------------------------------------------------------- */
/* Operands.                                                        */

/* ---------------------------------------------------------------- */
/* Stack.                                                           */

unsigned cpu_stack_width(const struct cpu *c)
{
	if (c->mode == MODE_LONG64)
		return 8;
	/* SS.B also applies in real mode ("big real" stacks). */
	return (c->seg[S_SS].attr & SEG_ATTR_DB) ? 4 : 2;
}

static inline uint64_t sp_wrap(unsigned w, uint64_t v)
{
	return w == 8 ? v : w == 4 ? (v & 0xffffffffull) : (v & 0xffff);
}

static inline void sp_set(struct cpu *c, unsigned w, uint64_t v)
{
	if (w == 2)
		c->gpr[R_SP] = (c->gpr[R_SP] & ~0xffffull) | (v & 0xffff);
	else if (w == 4)
		c->gpr[R_SP] = v & 0xffffffffull;
	else
		c->gpr[R_SP] = v;
}

void cpu_push(struct cpu *c, unsigned size, uint64_t v)
{
	unsigned w = cpu_stack_width(c);
	uint64_t sp = sp_wrap(w, c->gpr[R_SP] - size);
	cpu_wr(c, S_SS, sp, size, v);
	sp_set(c, w, sp);
}

uint64_t cpu_pop(struct cpu *c, unsigned size)
{
	unsigned w = cpu_stack_width(c);
	uint64_t sp = sp_wrap(w, c->gpr[R_SP]);
	uint64_t v = cpu_rd(c, S_SS, sp, size);
	sp_set(c, w, sp + size);
	return v;
}

uint64_t cpu_stack_peek(struct cpu *c, unsigned size, uint64_t off)
{
	unsigned w = cpu_stack_width(c);
	return cpu_rd(c, S_SS, sp_wrap(w, c->gpr[R_SP] + off), size);
}

void cpu_stack_adjust(struct cpu *c, int64_t delta)
{
	unsigned w = cpu_stack_width(c);
	sp_set(c, w, sp_wrap(w, c->gpr[R_SP] + (uint64_t)delta));
}

/* ---------------------------------------------------------------- */
/* Port I/O (SDM Vol. 1 §19.5).                                      */

uint32_t cpu_io_read(struct cpu *c, uint16_t port, unsigned size)
{
	if (c->dbg_data)
		c->dbg_hits |= (uint8_t)dbg_match_io(c, port, size);
	return ioport_read(c->machine->io, port, size);
}

void cpu_io_write(struct cpu *c, uint16_t port, unsigned size, uint32_t v)
{
	if (c->dbg_data)
		c->dbg_hits |= (uint8_t)dbg_match_io(c, port, size);
	ioport_write(c->machine->io, port, size, v);
}

void cpu_io_check(struct cpu *c, uint16_t port, unsigned size)
{
	if (c->mode == MODE_REAL)
		return;
	unsigned iopl = (unsigned)(c->rflags >> F_IOPL_SHIFT) & 3;
	if (c->mode != MODE_V86 && c->cpl <= iopl)
		return;
	/* The I/O permission bitmap of a 32/64-bit TSS (type 9 or 11). */
	unsigned type = c->tr.attr & 0xf;
	if ((type != 9 && type != 11) || c->tr.limit < 103 || (c->tr.attr & SEG_ATTR_UNUSABLE))
		cpu_gp(c, 0);
	uint16_t base = (uint16_t)lin_rd(c, c->tr.base + 102, 2, ACC_READ | ACC_SYS);
	uint32_t at = (uint32_t)base + port / 8;
	if (at + 1 > c->tr.limit)
		cpu_gp(c, 0);
	uint16_t bits = (uint16_t)lin_rd(c, c->tr.base + at, 2, ACC_READ | ACC_SYS);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		cpu_gp(c, 0);
}
