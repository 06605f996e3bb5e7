/*
 * mmu/tlb.h — the soft TLB: linear page → host pointer, per access kind and
 * privilege context, the software equivalent of a shadow page table.
 *
 * An entry answers "may this context do this access to this page, and where
 * is it in host memory?" with one compare: tag == page | generation. Filling
 * is done by the CPU slow path (cpu/access.c) after a successful walk, only
 * for RAM (never MMIO) and, for writes, only for pages without cached code.
 * Flushing everything bumps the 12-bit generation in the tag's low bits (a
 * memset happens only when it wraps).
 *
 * Contexts: supervisor with SMAP enforcing (AC=0), supervisor with AC=1,
 * user (CPL 3), and user with alignment checking on. Implicit supervisor
 * accesses use TLB_SUP.
 *
 * A vCPU has several of these (cpu/tlb_sets.c), one per translation
 * context: the host (VMX root / SVM ASID 0) and guests told apart by
 * VPID/ASID and EPTP/nCR3 (struct tlb_tag), so VM entries and exits switch
 * sets instead of flushing.
 */
#ifndef NESTBOX_MMU_TLB_H
#define NESTBOX_MMU_TLB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)

/* TLB_USER_AC (CPL 3 with CR0.AM and RFLAGS.AC: alignment checking) is
 * never filled, so every such access takes the slow path that checks it. */
enum {
	TLB_SUP,
	TLB_SUP_AC,
	TLB_USER,
	TLB_USER_AC,
	TLB_NCTX
};
enum {
	TLB_R,
	TLB_W,
	TLB_X,
	TLB_NKIND
};

struct tlb_entry {
	uint64_t tag;      /* (lin & ~0xfff) | gen; gen is never 0 */
	uintptr_t addend;  /* host pointer = addend + lin */
	uint64_t gpa_page; /* guest-physical page (for code tracking, traces) */
};

/* Which translation context a set holds (cpu/tlb_sets.c). */
struct tlb_tag {
	uint64_t root; /* EPTP / nCR3 (0: no second stage) */
	uint64_t aux;  /* VMX APIC-access address (0: none) */
	uint32_t id;   /* VPID / ASID; 0 with guest = 0 is the host */
	uint8_t guest; /* 1: VMX non-root / SVM guest */
	uint8_t used;  /* the set holds this tag */
};

/* The CPU state its entries were made under (cpu/tlb_sets.c). */
struct tlb_sig {
	uint64_t cr3, pkrs;
	uint32_t cr0, cr4, efer, pkru;
	uint8_t dbg;
};

/* Large pages (2M/4M/1G) whose 4K pieces a set holds: INVLPG of an address
 * inside one must drop every piece, so it flushes the set; INVLPG elsewhere
 * drops one slot. More than TLB_NLARGE of them: every INVLPG flushes. */
#define TLB_NLARGE 8

struct soft_tlb {
	uint64_t gen; /* 1..4095 */
	int nlarge;   /* large pages recorded; TLB_NLARGE + 1: more than fit */
	uint64_t large_base[TLB_NLARGE], large_mask[TLB_NLARGE]; /* lin & mask == base */
	struct tlb_tag tag;
	struct tlb_sig sig;
	uint64_t last_use; /* LRU stamp for replacement */
	struct tlb_entry e[TLB_NCTX][TLB_NKIND][TLB_SIZE];
};

static inline uint8_t *tlb_lookup(struct soft_tlb *t, int ctx, int kind, uint64_t lin)
{
	struct tlb_entry *e = &t->e[ctx][kind][(lin >> 12) & (TLB_SIZE - 1)];
	if (e->tag == ((lin & ~0xfffull) | t->gen))
		return (uint8_t *)(e->addend + (uintptr_t)lin);
	return 0;
}

/* The entry itself (for its gpa_page), or NULL on a miss. */
static inline struct tlb_entry *tlb_find(struct soft_tlb *t, int ctx, int kind, uint64_t lin)
{
	struct tlb_entry *e = &t->e[ctx][kind][(lin >> 12) & (TLB_SIZE - 1)];
	return e->tag == ((lin & ~0xfffull) | t->gen) ? e : 0;
}

static inline void tlb_insert(struct soft_tlb *t, int ctx, int kind, uint64_t lin,
			      uint8_t *host_page, uint64_t gpa_page)
{
	struct tlb_entry *e = &t->e[ctx][kind][(lin >> 12) & (TLB_SIZE - 1)];
	e->tag = (lin & ~0xfffull) | t->gen;
	e->addend = (uintptr_t)host_page - (uintptr_t)(lin & ~0xfffull);
	e->gpa_page = gpa_page;
}

static inline void tlb_flush_all(struct soft_tlb *t)
{
	if (++t->gen >= 4096) {
		memset(t->e, 0, sizeof(t->e));
		t->gen = 1;
	}
}

/* A piece of the large page of size bytes at lin was inserted. */
static inline void tlb_note_large(struct soft_tlb *t, uint64_t lin, uint64_t size)
{
	uint64_t mask = ~(size - 1), base = lin & mask;
	if (t->nlarge > TLB_NLARGE)
		return; /* too many: unknown, INVLPG flushes all */
	for (int i = 0; i < t->nlarge; i++)
		if (t->large_base[i] == base && t->large_mask[i] == mask)
			return;
	if (t->nlarge < TLB_NLARGE) {
		t->large_base[t->nlarge] = base;
		t->large_mask[t->nlarge] = mask;
	}
	t->nlarge++; /* TLB_NLARGE + 1 means "too many" */
}

static inline bool tlb_in_large(const struct soft_tlb *t, uint64_t lin)
{
	if (t->nlarge > TLB_NLARGE)
		return true;
	for (int i = 0; i < t->nlarge; i++)
		if ((lin & t->large_mask[i]) == t->large_base[i])
			return true;
	return false;
}

/* INVLPG of lin; true when that emptied the whole set (lin is inside a
 * recorded large page, or too many are cached to tell). */
static inline bool tlb_flush_page(struct soft_tlb *t, uint64_t lin)
{
	if (tlb_in_large(t, lin)) {
		t->nlarge = 0;
		tlb_flush_all(t);
		return true;
	}
	unsigned i = (lin >> 12) & (TLB_SIZE - 1);
	for (int c = 0; c < TLB_NCTX; c++)
		for (int k = 0; k < TLB_NKIND; k++)
			t->e[c][k][i].tag = 0;
	return false;
}

/* Drop write entries that map guest-physical page gpa_page (it now holds
 * code). */
static inline void tlb_flush_writes_to(struct soft_tlb *t, uint64_t gpa_page)
{
	for (int c = 0; c < TLB_NCTX; c++)
		for (unsigned i = 0; i < TLB_SIZE; i++)
			if (t->e[c][TLB_W][i].gpa_page == gpa_page)
				t->e[c][TLB_W][i].tag = 0;
}

#endif
