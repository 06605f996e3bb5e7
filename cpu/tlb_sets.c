/*
 * cpu/tlb_sets.c — the soft TLB tagged by translation context (design §3):
 * a vCPU keeps TLB_NSETS soft TLBs, one per context (the host: VMX root
 * operation or SVM ASID 0; each guest by VPID/ASID and EPTP/nCR3), so a VM
 * entry or exit switches sets instead of flushing, as a VPID/ASID-tagged
 * hardware TLB keeps both sides' translations (SDM Vol. 3C §29.1, APM Vol. 2
 * §15.16).
 *
 * What a set may keep is what the architecture lets a TLB keep: a context's
 * own flushes (MOV CR3, INVLPG, CR0/CR4/EFER paging changes, ...) act on the
 * active set only; VM transitions without VPID flush the host and guest sets
 * (VPID 0 is both); INVVPID, INVEPT, INVLPGA and TLB_CONTROL flush the sets
 * they name. On top, the soft TLB caches rights under state the hardware
 * TLB does not depend on (PKRU, IA32_PKRS, armed data breakpoints) and the
 * host set is reused across transitions, so each set is stamped with the
 * state its entries were made under (struct tlb_sig) and dropped when it is
 * made active under another state (e.g. a VM exit loading a host CR3 that
 * differs from the CR3 L1 ran with).
 *
 * The transit set (index TLB_NSETS) is active from cpu_tlb_leave to
 * cpu_tlb_select, while state of neither side is complete: whatever a VM
 * transition caches there is flushed at the next cpu_tlb_leave.
 */
#include <stdlib.h>

#include "cpu/cpu.h"
#include "mmu/tlb.h"

bool cpu_tlb_init(struct cpu *c)
{
	c->tlbs = calloc(TLB_NSETS + 1, sizeof(*c->tlbs));
	if (!c->tlbs)
		return false;
	for (int i = 0; i <= TLB_NSETS; i++)
		c->tlbs[i].gen = 1;
	c->tlbs[0].tag.used = 1;             /* the host context */
	c->tlbs[TLB_NSETS].tag.guest = 0xff; /* transit: matches no tag */
	c->tlb = &c->tlbs[0];
	return true;
}

static void set_flush(struct soft_tlb *t)
{
	tlb_flush_all(t);
	t->nlarge = 0;
}

static void sig_of(const struct cpu *c, struct tlb_sig *s)
{
	*s = (struct tlb_sig){
		.cr3 = c->cr3,
		.pkrs = c->msr.pkrs,
		.cr0 = (uint32_t)(c->cr0 & CR0_TLB_BITS),
		.cr4 = (uint32_t)(c->cr4 & CR4_TLB_BITS),
		.efer = (uint32_t)(c->msr.efer & (EFER_NXE | EFER_LMA)),
		.pkru = c->pkru,
		.dbg = c->dbg_data,
	};
}

static bool sig_eq(const struct tlb_sig *a, const struct tlb_sig *b)
{
	return a->cr3 == b->cr3 && a->pkrs == b->pkrs && a->cr0 == b->cr0 && a->cr4 == b->cr4 &&
	       a->efer == b->efer && a->pkru == b->pkru && a->dbg == b->dbg;
}

static bool tag_eq(const struct tlb_tag *a, const struct tlb_tag *b)
{
	return a->guest == b->guest && a->id == b->id && a->root == b->root && a->aux == b->aux;
}

/* A guest's own invalidations (MOV CR3, INVLPG, INVPCID, paging-bit
 * changes) are for its VPID/ASID but every EPTP/nCR3 it ran under (SDM
 * Vol. 3C §29.4.3.1: combined mappings for all EP4TAs; an ASID-tagged TLB
 * has no other tag): the other sets of the same VPID/ASID follow the
 * active one. lin: a page, or TLB_ANY. */
static void flush_siblings(struct cpu *c, uint64_t lin)
{
	const struct tlb_tag *t = &c->tlb->tag;
	if (t->guest != 1)
		return;
	for (int i = 0; i < TLB_NSETS; i++) {
		struct soft_tlb *s = &c->tlbs[i];
		if (s == c->tlb || !s->tag.used || s->tag.guest != 1 || s->tag.id != t->id)
			continue;
		if (lin == TLB_ANY)
			set_flush(s);
		else
			tlb_flush_page(s, lin);
	}
}

void cpu_tlb_flush_all(struct cpu *c)
{
	c->jc_epoch++;
	flush_siblings(c, TLB_ANY);
	set_flush(c->tlb);
	/* The set is empty: what it caches from now on is made under the
	 * state of this moment (callers flush after changing it). */
	sig_of(c, &c->tlb->sig);
}

void cpu_tlb_flush_page(struct cpu *c, uint64_t lin)
{
	/* The jump cache (linear RIP -> block) only needs to forget blocks on
	 * this page, or on every page when the set is emptied for a large
	 * page; jc_pages says whether it has any on the page. */
	bool code = c->jc_pages_epoch == c->jc_epoch &&
		    (c->jc_pages[(lin >> 18) & 63] >> ((lin >> 12) & 63) & 1);
	flush_siblings(c, lin);
	if (tlb_flush_page(c->tlb, lin) || code)
		c->jc_epoch++;
}

void cpu_tlb_flush_every(struct cpu *c)
{
	c->jc_epoch++;
	for (int i = 0; i <= TLB_NSETS; i++)
		set_flush(&c->tlbs[i]);
	sig_of(c, &c->tlb->sig);
}

void cpu_tlb_leave(struct cpu *c)
{
	struct soft_tlb *tr = &c->tlbs[TLB_NSETS];
	if (c->tlb != tr)
		sig_of(c, &c->tlb->sig);
	set_flush(tr);
	c->tlb = tr;
	c->jc_epoch++;
}

void cpu_tlb_select(struct cpu *c, const struct tlb_tag *tag)
{
	struct soft_tlb *t = NULL, *lru = NULL;
	for (int i = 0; i < TLB_NSETS; i++) {
		struct soft_tlb *s = &c->tlbs[i];
		if (s->tag.used && tag_eq(&s->tag, tag)) {
			t = s;
			break;
		}
		if (!lru || !s->tag.used || (lru->tag.used && s->last_use < lru->last_use))
			lru = s;
	}
	struct tlb_sig now;
	sig_of(c, &now);
	if (!t) {
		t = lru;
		t->tag = *tag;
		t->tag.used = 1;
		set_flush(t);
	} else if (!sig_eq(&t->sig, &now)) {
		set_flush(t);
	}
	t->sig = now;
	t->last_use = ++c->tlb_clock;
	c->tlb = t;
	c->jc_epoch++;
}

void cpu_tlb_flush_tagged(struct cpu *c, int guest, uint64_t id, uint64_t root, uint64_t lin)
{
	const uint64_t ep4ta = 0x000ffffffffff000ull;
	c->jc_epoch++;
	for (int i = 0; i < TLB_NSETS; i++) {
		struct soft_tlb *s = &c->tlbs[i];
		if (!s->tag.used || s->tag.guest != guest)
			continue;
		if (id != TLB_ANY && s->tag.id != id)
			continue;
		if (root != TLB_ANY && (s->tag.root & ep4ta) != (root & ep4ta))
			continue;
		if (lin == TLB_ANY)
			set_flush(s);
		else
			tlb_flush_page(s, lin);
	}
}

void cpu_tlb_flush_writes_to(struct cpu *c, uint64_t gpa_page)
{
	for (int i = 0; i <= TLB_NSETS; i++)
		if (c->tlbs[i].tag.used || &c->tlbs[i] == c->tlb)
			tlb_flush_writes_to(&c->tlbs[i], gpa_page);
}
