/*
 * tests/guest/tlb_fixture.h — what g64_vmx_vpid and g64_svm_asid share: two
 * linear addresses X and Y in PML4 slot 1 (unmapped by the boot tables),
 * guest page tables that map them to chosen pages, six test pages in one
 * 2-MByte region (so one second-stage page table maps them all with
 * 4-KByte pages) each holding a known value, and L1's own mapping of Y.
 * Stale translations are never asserted by these tests; after each
 * invalidation the architecture requires, a read must see the new page.
 */
#ifndef NESTBOX_TESTS_GUEST_TLB_FIXTURE_H
#define NESTBOX_TESTS_GUEST_TLB_FIXTURE_H

#include <stdint.h>

#define XLIN 0x8000000000ull /* PML4 slot 1: not mapped by the boot tables */
#define YLIN (XLIN + 0x1000) /* mapped by L1 (to pg.h) and by the guest (pg.g) */

#define PTE_PW 3ull /* present, writable */

/* Values at offset 0 of the test pages. */
#define VA 0xa1a1a1a1ull
#define VB 0xb2b2b2b2ull
#define VC 0xc3c3c3c3ull
#define VD 0xd4d4d4d4ull
#define VG 0x97979797ull
#define VH 0x68686868ull

/* Four-level tables mapping XLIN (pt[0]) and YLIN (pt[1]); slot 0 of the
 * PML4 is the boot identity map, so the guest runs L1's code and data. */
struct gpt {
	uint64_t pml4[512], pdpt[512], pd[512], pt[512];
} __attribute__((aligned(4096)));
static struct gpt t1, t2, th; /* the guest's two address spaces; L1's slot 1 */

struct pages {
	uint64_t a[512], b[512], c[512], d[512], g[512], h[512];
} __attribute__((aligned(65536)));
static struct pages pg;

extern uint64_t pml4[], pdpt[]; /* boot identity map (lib/boot.S) */

static inline uint64_t ent(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline void invlpg(uint64_t lin)
{
	__asm__ volatile("invlpg (%0)" ::"r"(lin) : "memory");
}

static inline uint64_t l1_read(uint64_t lin)
{
	return *(volatile uint64_t *)lin;
}

/* t maps X to x and Y to y (NULL: not present). */
static inline void build_gpt(struct gpt *t, const void *x, const void *y)
{
	t->pml4[0] = ent(pdpt) | PTE_PW;
	t->pml4[1] = ent(t->pdpt) | PTE_PW;
	t->pdpt[0] = ent(t->pd) | PTE_PW;
	t->pd[0] = ent(t->pt) | PTE_PW;
	t->pt[0] = x ? ent(x) | PTE_PW : 0;
	t->pt[1] = y ? ent(y) | PTE_PW : 0;
}

/* The pages' values, and L1's own mapping of Y (to pg.h). */
static inline void tlb_fixture_init(void)
{
	pg.a[0] = VA;
	pg.b[0] = VB;
	pg.c[0] = VC;
	pg.d[0] = VD;
	pg.g[0] = VG;
	pg.h[0] = VH;
	build_gpt(&th, 0, pg.h);
	pml4[1] = th.pml4[1];
}

#endif
