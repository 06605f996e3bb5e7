/*
 * tests/unit/test_walk.c — the page-table walker (mmu/walk.c) on hand-built
 * page tables in RAM: every paging mode, large pages, the permission rules
 * of SDM §4.6 with the exact #PF error code, reserved bits, A/D updates, the
 * per-level trace, PAE PDPTE loading and the second-stage hook.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "walk_test.h"

static struct mmu *m;
static uint64_t next_table;

static void setup(void)
{
	m = mmu_new(64 * MiB);
	ck_assert_ptr_nonnull(m);
	mmu_map_ram(m, 0, 64 * MiB, 0);
	next_table = 0x100000;
}

static void teardown(void)
{
	mmu_free(m);
	m = NULL;
}

static uint64_t new_table(void)
{
	uint64_t t = next_table;
	next_table += 0x1000;
	ck_assert_uint_lt(next_table, 16 * MiB);
	return t;
}

static uint64_t rd(uint64_t gpa, unsigned size)
{
	return phys_read(m, gpa, size);
}

static void wr(uint64_t gpa, unsigned size, uint64_t v)
{
	phys_write(m, gpa, size, v);
}

/* Map lin in 4/5-level tables rooted at root. The leaf is at leaf_level (1 =
 * 4K PTE, 2 = 2M PDE, 3 = 1G PDPTE) with leaf_flags; tables created on the
 * way get upper_flags. Returns the gpa of the leaf entry. */
static uint64_t map64(uint64_t root, int levels, uint64_t lin, uint64_t pa, int leaf_level,
		      uint64_t leaf_flags, uint64_t upper_flags)
{
	uint64_t table = root;
	for (int l = levels; l > leaf_level; l--) {
		uint64_t e_gpa = table + ((lin >> (12 + 9 * (l - 1))) & 511) * 8;
		uint64_t e = rd(e_gpa, 8);
		if (!(e & P)) {
			e = new_table() | upper_flags;
			wr(e_gpa, 8, e);
		}
		table = e & 0x000ffffffffff000ull;
	}
	uint64_t e_gpa = table + ((lin >> (12 + 9 * (leaf_level - 1))) & 511) * 8;
	wr(e_gpa, 8, pa | leaf_flags | (leaf_level > 1 ? PS : 0));
	return e_gpa;
}

/* The entry gpa at `level` for lin (walks existing tables). */
static uint64_t entry_at(uint64_t root, int levels, uint64_t lin, int level)
{
	uint64_t table = root;
	for (int l = levels; l > level; l--)
		table = rd(table + ((lin >> (12 + 9 * (l - 1))) & 511) * 8, 8) &
			0x000ffffffffff000ull;
	return table + ((lin >> (12 + 9 * (level - 1))) & 511) * 8;
}

static struct paging_regs regs64(uint64_t cr3)
{
	return (struct paging_regs){ .cr0 = CR0_PE | CR0_PG | CR0_WP,
				     .cr3 = cr3,
				     .cr4 = CR4_PAE | CR4_PGE,
				     .efer = EFER_LME | EFER_LMA | EFER_NXE };
}

/* ------------------------------------------------------- 4-level basics */

START_TEST(l4_translate_and_trace)
{
	uint64_t cr3 = new_table();
	uint64_t lin = 0x00007f1234567abcull;
	uint64_t pte = map64(cr3, 4, lin, 0x2345000, 1, P | W | U | G, P | W | U);
	struct paging_regs pr = regs64(cr3);
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x2345abc);
	ck_assert_uint_eq(r.hpa, 0x2345abc);
	ck_assert_uint_eq(r.page_size, 4096);
	ck_assert(r.user && r.writable && !r.nx && r.global && !r.dirty);
	ck_assert_int_eq(r.nsteps, 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(r.steps[i].level, 4 - i);
		ck_assert_uint_eq(r.steps[i].entry_gpa, entry_at(cr3, 4, lin, 4 - i));
		/* the trace holds the value after the A update, as memory does */
		ck_assert_uint_eq(r.steps[i].entry, rd(r.steps[i].entry_gpa, 8));
		ck_assert(r.steps[i].entry & A);
		ck_assert(!(r.steps[i].entry & D));
	}
	ck_assert_uint_eq(r.steps[3].entry_gpa, pte);
	ck_assert_uint_eq(r.final_entry, 0x2345000 | P | W | U | G | A);
	ck_assert_uint_eq(r.steps[0].entry_gpa, cr3 + ((lin >> 39) & 511) * 8);
	/* A write sets D in the final entry only. */
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_WRITE, NULL, &r), WALK_OK);
	ck_assert(r.dirty);
	ck_assert_uint_eq(rd(pte, 8), 0x2345000 | P | W | U | G | A | D);
	for (int l = 4; l >= 2; l--)
		ck_assert_uint_eq(rd(entry_at(cr3, 4, lin, l), 8) & (A | D), A);
	/* PGE off: not global. */
	pr.cr4 &= ~CR4_PGE;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
	ck_assert(!r.global);
	/* PCID bits and CR3 flags are not part of the table address. */
	pr.cr3 = cr3 | 0x18 | 0x123 | (1ull << 63);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x2345abc);
	/* Upper 16 bits of the linear address are not an index. */
	pr.cr3 = cr3;
	ck_assert_int_eq(mmu_walk(m, &pr, lin | 0xffff000000000000ull, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x2345abc);
}
END_TEST

START_TEST(l4_large_pages)
{
	uint64_t cr3 = new_table();
	struct paging_regs pr = regs64(cr3);
	struct walk_result r;
	/* 2M page */
	map64(cr3, 4, 0x40000000ull, 0x1c00000, 2, P | W, P | W);
	ck_assert_int_eq(mmu_walk(m, &pr, 0x40123456ull, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x1c00000 + 0x123456);
	ck_assert_uint_eq(r.page_size, 2 * MiB);
	ck_assert_int_eq(r.nsteps, 3);
	ck_assert_int_eq(r.steps[2].level, 2);
	/* 1G page, at a physical address above RAM (the walk does not care) */
	map64(cr3, 4, 0x80000000ull, 0x3c0000000ull, 3, P | W, P | W);
	ck_assert_int_eq(mmu_walk(m, &pr, 0x80000000ull + 0x2345678, WALK_WRITE, NULL, &r),
			 WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x3c0000000ull + 0x2345678);
	ck_assert_uint_eq(r.page_size, GiB);
	ck_assert_int_eq(r.nsteps, 2);
	ck_assert(r.dirty);
	ck_assert_uint_eq(r.final_entry & (A | D | PS), A | D | PS);
	/* PAT bit (12) of a large page is not an address bit. */
	uint64_t pde = map64(cr3, 4, 0x40200000ull, 0x1e00000 | (1 << 12), 2, P, P | W);
	ck_assert_int_eq(mmu_walk(m, &pr, 0x40200010ull, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x1e00010);
	ck_assert_uint_eq(rd(pde, 8) & (1 << 12), 1 << 12);
}
END_TEST

START_TEST(l4_not_present)
{
	uint64_t cr3 = new_table();
	struct paging_regs pr = regs64(cr3);
	struct walk_result r;
	uint64_t lin = 0x1234567000ull;
	/* Empty PML4: fault after one step, P=0. */
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, 0);
	ck_assert_int_eq(r.nsteps, 1);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_WRITE | WALK_USER, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_W | PFEC_U);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_FETCH | WALK_USER, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_I | PFEC_U); /* NXE on: I reported */
	/* Not present at the PTE: four steps, and no A bits were set. */
	uint64_t pte = map64(cr3, 4, lin, 0x5000, 1, 0, P | W | U);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_WRITE, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_W);
	ck_assert_int_eq(r.nsteps, 4);
	ck_assert_uint_eq(r.steps[3].entry_gpa, pte);
	for (int l = 4; l >= 1; l--)
		ck_assert_uint_eq(rd(entry_at(cr3, 4, lin, l), 8) & A, 0);
	/* A present page with only the P bit is fine for a supervisor read. */
	wr(pte, 8, 0x5000 | P);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
}
END_TEST

START_TEST(l4_reserved_bits)
{
	uint64_t cr3 = new_table();
	struct paging_regs pr = regs64(cr3);
	struct walk_result r;
	const uint32_t RSVD = PFEC_P | PFEC_RSVD;

	/* 2M page with bit 13 set (between PAT and the address). */
	uint64_t pde = map64(cr3, 4, 0x200000, 0x400000 | (1 << 13), 2, P | W, P | W);
	ck_assert_int_eq(mmu_walk(m, &pr, 0x200000, WALK_WRITE, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, RSVD | PFEC_W);
	ck_assert_int_eq(r.nsteps, 3);
	ck_assert_uint_eq(rd(pde, 8) & A, 0); /* faulting walk: no A */
	/* 1G page with bit 29 set. */
	map64(cr3, 4, 0x40000000, 0x40000000 | (1 << 29), 3, P | W | U, P | W | U);
	ck_assert_int_eq(mmu_walk(m, &pr, 0x40000000, WALK_USER, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, RSVD | PFEC_U);
	/* 1G page: bit 30 is an address bit. */
	map64(cr3, 4, 0x80000000, 0xc0000000, 3, P | W | U, P | W | U);
	ck_assert_int_eq(mmu_walk(m, &pr, 0x80000000, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0xc0000000);
	/* PS in a PML4E is reserved. */
	uint64_t lin = 0x8000000000ull; /* PML4 index 1 */
	map64(cr3, 4, lin, 0x6000, 1, P, P | W);
	uint64_t pml4e = entry_at(cr3, 4, lin, 4);
	wr(pml4e, 8, rd(pml4e, 8) | PS);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, RSVD);
	ck_assert_int_eq(r.nsteps, 1);
	wr(pml4e, 8, rd(pml4e, 8) & ~PS);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
	/* Physical-address bits at or above MAXPHYADDR. */
	uint64_t pte = entry_at(cr3, 4, lin, 1);
	wr(pte, 8, rd(pte, 8) | (1ull << 45));
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK); /* 52 bits: fine */
	ck_assert_uint_eq(r.gpa, (1ull << 45) | 0x6000);
	mmu_set_maxphyaddr(m, 46);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
	mmu_set_maxphyaddr(m, 45);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, RSVD);
	ck_assert_int_eq(r.nsteps, 4);
	mmu_set_maxphyaddr(m, 52);
	/* Bits 62:52 are ignored in 4-level paging. */
	wr(pte, 8, (rd(pte, 8) & ~(1ull << 45)) | (0x7ffull << 52));
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x6000);
	/* XD with NXE=0 is reserved, with NXE=1 it is execute-disable. */
	wr(pte, 8, 0x6000 | P | XD);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
	ck_assert(r.nx);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_FETCH, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_I);
	pr.efer &= ~EFER_NXE;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, RSVD);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_FETCH, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, RSVD); /* no I: NXE=0 and SMEP=0 */
	/* A reserved bit at a higher level with the lower not present: the
	 * walk stops at the first problem, here the PDE. */
	wr(pte, 8, 0);
	uint64_t pde2 = entry_at(cr3, 4, lin, 2);
	wr(pde2, 8, rd(pde2, 8) | (1ull << 51));
	mmu_set_maxphyaddr(m, 48);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, RSVD);
	ck_assert_int_eq(r.nsteps, 3);
}
END_TEST

START_TEST(l5_translate)
{
	uint64_t cr3 = new_table();
	struct paging_regs pr = regs64(cr3);
	pr.cr4 |= CR4_LA57;
	struct walk_result r;
	uint64_t lin = 0x00ab123456789000ull | 0x123; /* PML5 index 0xab */
	map64(cr3, 5, lin, 0x777000, 1, P | W | U, P | W | U);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_USER | WALK_WRITE, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x777123);
	ck_assert_int_eq(r.nsteps, 5);
	ck_assert_int_eq(r.steps[0].level, 5);
	ck_assert_uint_eq(r.steps[0].entry_gpa, cr3 + 0xab * 8);
	ck_assert_int_eq(r.steps[4].level, 1);
	for (int l = 5; l >= 1; l--)
		ck_assert(rd(entry_at(cr3, 5, lin, l), 8) & A);
	ck_assert(rd(entry_at(cr3, 5, lin, 1), 8) & D);
	/* The same tables without LA57 are a different walk: the PML4 index
	 * of lin (bits 47:39) is 0x24, which is empty in this root. */
	pr.cr4 &= ~CR4_LA57;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_PF);
	ck_assert_int_eq(r.nsteps, 1);
	/* PS in a PML5E is reserved. */
	pr.cr4 |= CR4_LA57;
	wr(cr3 + 0xab * 8, 8, rd(cr3 + 0xab * 8, 8) | PS);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_RSVD);
	/* 1G page under 5 levels. */
	map64(cr3, 5, 0x0100000040000000ull, 0x80000000, 3, P, P | W);
	ck_assert_int_eq(mmu_walk(m, &pr, 0x0100000040000010ull, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x80000010);
	ck_assert_int_eq(r.nsteps, 3);
}
END_TEST

/* --------------------------------------------------- permission rules */

/* One row: leaf and upper flags, CR0.WP, CR4 bits, NXE, access -> expected
 * result (0 = OK, else the error code). SDM Vol. 3 §4.6 and §4.7. */
struct perm_case {
	const char *what;
	uint64_t leaf, upper;
	bool wp;
	uint64_t cr4;
	bool nxe;
	unsigned acc;
	uint32_t pfec; /* 0 = allowed */
};

#define SU (P | W | U)
#define K_ (PFEC_P)
static const struct perm_case perm_cases[] = {
	/* user accesses */
	{ "user read user page", SU, SU, 1, 0, 1, WALK_USER, 0 },
	{ "user read supervisor leaf", P | W, SU, 1, 0, 1, WALK_USER, K_ | PFEC_U },
	{ "user read supervisor upper", SU, P | W, 1, 0, 1, WALK_USER, K_ | PFEC_U },
	{ "user write read-only leaf", P | U, SU, 1, 0, 1, WALK_USER | WALK_WRITE,
	  K_ | PFEC_U | PFEC_W },
	{ "user write read-only upper", SU, P | U, 1, 0, 1, WALK_USER | WALK_WRITE,
	  K_ | PFEC_U | PFEC_W },
	{ "user write read-only, WP=0", P | U, SU, 0, 0, 1, WALK_USER | WALK_WRITE,
	  K_ | PFEC_U | PFEC_W },
	{ "user write ok", SU, SU, 1, 0, 1, WALK_USER | WALK_WRITE, 0 },
	{ "user fetch user page", SU, SU, 1, 0, 1, WALK_USER | WALK_FETCH, 0 },
	{ "user fetch NX leaf", SU | XD, SU, 1, 0, 1, WALK_USER | WALK_FETCH,
	  K_ | PFEC_U | PFEC_I },
	{ "user fetch NX upper", SU, SU | XD, 1, 0, 1, WALK_USER | WALK_FETCH,
	  K_ | PFEC_U | PFEC_I },
	{ "user fetch supervisor page", P | W, SU, 1, 0, 1, WALK_USER | WALK_FETCH,
	  K_ | PFEC_U | PFEC_I },
	{ "user read NX page", SU | XD, SU, 1, 0, 1, WALK_USER, 0 },
	/* supervisor writes and CR0.WP */
	{ "sup write read-only, WP=1", P, SU, 1, 0, 1, WALK_WRITE, K_ | PFEC_W },
	{ "sup write read-only upper, WP=1", P | W, P, 1, 0, 1, WALK_WRITE, K_ | PFEC_W },
	{ "sup write read-only, WP=0", P, SU, 0, 0, 1, WALK_WRITE, 0 },
	{ "sup write user read-only, WP=0", P | U, SU, 0, 0, 1, WALK_WRITE, 0 },
	{ "sup write user read-only, WP=1", P | U, SU, 1, 0, 1, WALK_WRITE, K_ | PFEC_W },
	{ "sup read user page", SU, SU, 1, 0, 1, 0, 0 },
	/* NX for supervisor */
	{ "sup fetch NX", P | W | XD, SU, 1, 0, 1, WALK_FETCH, K_ | PFEC_I },
	{ "sup fetch ok", P | W, SU, 1, 0, 1, WALK_FETCH, 0 },
	{ "sup fetch user page, no SMEP", SU, SU, 1, 0, 1, WALK_FETCH, 0 },
	/* SMEP */
	{ "SMEP: sup fetch user page", SU, SU, 1, CR4_SMEP, 1, WALK_FETCH, K_ | PFEC_I },
	{ "SMEP: sup fetch user page, NXE=0", SU, SU, 1, CR4_SMEP, 0, WALK_FETCH, K_ | PFEC_I },
	{ "SMEP: sup fetch, upper supervisor", SU, P | W, 1, CR4_SMEP, 1, WALK_FETCH, 0 },
	{ "SMEP: sup read user page", SU, SU, 1, CR4_SMEP, 1, 0, 0 },
	{ "SMEP: user fetch user page", SU, SU, 1, CR4_SMEP, 1, WALK_USER | WALK_FETCH, 0 },
	{ "NXE=0 no SMEP: fetch fault has no I", P, SU, 1, 0, 0, WALK_USER | WALK_FETCH,
	  K_ | PFEC_U },
	/* SMAP */
	{ "SMAP: sup read user page AC=0", SU, SU, 1, CR4_SMAP, 1, 0, K_ },
	{ "SMAP: sup write user page AC=0", SU, SU, 1, CR4_SMAP, 1, WALK_WRITE, K_ | PFEC_W },
	{ "SMAP: sup read user page AC=1", SU, SU, 1, CR4_SMAP, 1, WALK_AC, 0 },
	{ "SMAP: sup write user page AC=1", SU, SU, 1, CR4_SMAP, 1, WALK_AC | WALK_WRITE, 0 },
	{ "SMAP: AC=1 write user read-only WP=1", P | U, SU, 1, CR4_SMAP, 1, WALK_AC | WALK_WRITE,
	  K_ | PFEC_W },
	{ "SMAP: AC=1 write user read-only WP=0", P | U, SU, 0, CR4_SMAP, 1, WALK_AC | WALK_WRITE,
	  0 },
	{ "SMAP: implicit read user page AC=1", SU, SU, 1, CR4_SMAP, 1, WALK_SUPV | WALK_AC, K_ },
	{ "SMAP: implicit at CPL3", SU, SU, 1, CR4_SMAP, 1, WALK_SUPV | WALK_USER, K_ },
	{ "SMAP: sup read supervisor page", P | W, SU, 1, CR4_SMAP, 1, 0, 0 },
	{ "SMAP: user read user page", SU, SU, 1, CR4_SMAP, 1, WALK_USER, 0 },
	{ "SMAP: sup fetch user page (not data)", SU, SU, 1, CR4_SMAP, 1, WALK_FETCH, 0 },
	/* implicit supervisor accesses at CPL 3 are supervisor accesses */
	{ "implicit at CPL3 supervisor page", P | W, P | W, 1, 0, 1, WALK_SUPV | WALK_USER, 0 },
	{ "implicit write at CPL3 read-only, WP=0", P, P | W, 0, 0, 1,
	  WALK_SUPV | WALK_USER | WALK_WRITE, 0 },
	{ "implicit write at CPL3 read-only, WP=1", P, P | W, 1, 0, 1,
	  WALK_SUPV | WALK_USER | WALK_WRITE, K_ | PFEC_W },
	/* translate-only */
	{ "no fault check", P, P, 1, CR4_SMAP | CR4_SMEP, 1,
	  WALK_USER | WALK_WRITE | WALK_NO_FAULT_CHECK, 0 },
};

START_TEST(permissions)
{
	const struct perm_case *c = &perm_cases[_i];
	uint64_t cr3 = new_table();
	uint64_t lin = 0x7000123000ull;
	uint64_t pte = map64(cr3, 4, lin, 0x9000, 1, c->leaf, c->upper);
	struct paging_regs pr = regs64(cr3);
	pr.cr0 = c->wp ? pr.cr0 | CR0_WP : pr.cr0 & ~CR0_WP;
	pr.cr4 |= c->cr4;
	pr.efer = c->nxe ? pr.efer | EFER_NXE : pr.efer & ~EFER_NXE;
	if (!c->nxe && ((c->leaf | c->upper) & XD))
		ck_abort_msg("bad case %s", c->what);
	struct walk_result r;
	enum walk_status st = mmu_walk(m, &pr, lin, c->acc, NULL, &r);
	if (c->pfec) {
		ck_assert_msg(st == WALK_PF, "%s: expected #PF, got %d", c->what, st);
		ck_assert_msg(r.pfec == c->pfec, "%s: pfec %#x, expected %#x", c->what, r.pfec,
			      c->pfec);
		/* Nothing was touched. */
		ck_assert_msg((rd(pte, 8) & (A | D)) == 0, "%s: A/D set on fault", c->what);
	} else {
		ck_assert_msg(st == WALK_OK, "%s: expected OK, got %d pfec %#x", c->what, st,
			      r.pfec);
		ck_assert_uint_eq(r.gpa, 0x9000);
		bool write = (c->acc & WALK_WRITE) != 0;
		ck_assert_msg((rd(pte, 8) & (A | D)) == (write ? A | D : A), "%s: A/D", c->what);
	}
	/* walk_allows agrees with the walk (from a NO_FAULT_CHECK walk). */
	struct walk_result r2;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_NO_FAULT_CHECK | WALK_NO_AD, NULL, &r2),
			 WALK_OK);
	ck_assert_msg(walk_allows(&pr, &r2, c->acc) == (c->pfec == 0), "%s: walk_allows", c->what);
}
END_TEST

START_TEST(no_ad_flag)
{
	uint64_t cr3 = new_table();
	uint64_t lin = 0x600000;
	uint64_t pte = map64(cr3, 4, lin, 0x9000, 1, P | W, P | W);
	struct paging_regs pr = regs64(cr3);
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_WRITE | WALK_NO_AD, NULL, &r), WALK_OK);
	for (int l = 4; l >= 1; l--)
		ck_assert_uint_eq(rd(entry_at(cr3, 4, lin, l), 8) & (A | D), 0);
	ck_assert(!r.dirty);
	/* Already-set bits: no write at all (check through a ROM-like trick:
	 * the value stays identical). */
	wr(pte, 8, 0x9000 | P | W | A | D);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_WRITE, NULL, &r), WALK_OK);
	ck_assert(r.dirty);
	ck_assert_uint_eq(rd(pte, 8), 0x9000 | P | W | A | D);
	/* A fetch is not a write: no D. */
	wr(pte, 8, 0x9000 | P | W);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_FETCH, NULL, &r), WALK_OK);
	ck_assert_uint_eq(rd(pte, 8) & (A | D), A);
}
END_TEST

/* ------------------------------------------------------------ 32-bit */

static struct paging_regs regs32(uint64_t cr3)
{
	return (struct paging_regs){ .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = cr3 };
}

START_TEST(paging32)
{
	uint64_t pd = new_table(), pt = new_table();
	struct paging_regs pr = regs32(pd);
	struct walk_result r;
	uint32_t lin = 0xc0123456;
	wr(pd + (lin >> 22) * 4, 4, pt | P | W | U);
	wr(pt + ((lin >> 12) & 1023) * 4, 4, 0x00abc000 | P | W | U);
	wr(pt + ((lin >> 12) & 1023) * 4 + 4, 4, 0x11111111); /* neighbour */
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_USER | WALK_WRITE, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x00abc456);
	ck_assert_uint_eq(r.page_size, 4096);
	ck_assert_int_eq(r.nsteps, 2);
	ck_assert_int_eq(r.steps[0].level, 2);
	ck_assert_uint_eq(r.steps[0].entry_gpa, pd + (lin >> 22) * 4);
	ck_assert_uint_eq(r.steps[1].entry_gpa, pt + ((lin >> 12) & 1023) * 4);
	/* 4-byte A/D updates: the neighbour entry is untouched. */
	ck_assert_uint_eq(rd(pt + ((lin >> 12) & 1023) * 4, 8),
			  0x1111111100000000ull | 0x00abc000 | P | W | U | A | D);
	ck_assert_uint_eq(rd(pd + (lin >> 22) * 4, 4), pt | P | W | U | A);
	ck_assert(r.dirty);
	/* Linear bits above 31 are ignored. */
	ck_assert_int_eq(mmu_walk(m, &pr, 0xffffffff00000000ull | lin, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x00abc456);

	/* PS=1 without CR4.PSE: the PDE points to a page table. */
	uint32_t lin2 = 0x00400000;
	wr(pd + 1 * 4, 4, pt | P | W | PS);
	wr(pt, 4, 0x7000 | P);
	ck_assert_int_eq(mmu_walk(m, &pr, lin2 + 0x10, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x7010);
	ck_assert_int_eq(r.nsteps, 2);
	/* With PSE: a 4M page. */
	pr.cr4 = CR4_PSE;
	wr(pd + 1 * 4, 4, 0x00c00000 | P | W | PS);
	ck_assert_int_eq(mmu_walk(m, &pr, lin2 + 0x123456, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x00c00000 + 0x123456);
	ck_assert_uint_eq(r.page_size, 4 * MiB);
	ck_assert_int_eq(r.nsteps, 1);
	/* PSE-36: bits 20:13 are physical bits 39:32. */
	wr(pd + 1 * 4, 4, 0x00c00000 | (0x85u << 13) | P | W | PS);
	ck_assert_int_eq(mmu_walk(m, &pr, lin2 + 0x10, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x8500c00010ull);
	/* ... reserved above MAXPHYADDR (36: bits 20:17 reserved). */
	mmu_set_maxphyaddr(m, 36);
	ck_assert_int_eq(mmu_walk(m, &pr, lin2, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_RSVD);
	wr(pd + 1 * 4, 4, 0x00c00000 | (0x5u << 13) | P | W | PS);
	ck_assert_int_eq(mmu_walk(m, &pr, lin2, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x500c00000ull);
	mmu_set_maxphyaddr(m, 52);
	/* Bit 21 is always reserved in a 4M PDE. */
	wr(pd + 1 * 4, 4, 0x00c00000 | (1u << 21) | P | W | PS);
	ck_assert_int_eq(mmu_walk(m, &pr, lin2, WALK_WRITE, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_RSVD | PFEC_W);
	/* No NX in 32-bit paging, and no I bit without SMEP even with NXE. */
	pr.efer = EFER_NXE;
	wr(pd + 1 * 4, 4, 0x00c00000 | P | W | PS);
	ck_assert_int_eq(mmu_walk(m, &pr, lin2, WALK_USER | WALK_FETCH, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_U);
	pr.cr4 |= CR4_SMEP;
	ck_assert_int_eq(mmu_walk(m, &pr, lin2, WALK_USER | WALK_FETCH, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_U | PFEC_I);
	/* Not-present PDE. */
	ck_assert_int_eq(mmu_walk(m, &pr, 0x00800000, WALK_WRITE, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_W);
	ck_assert_int_eq(r.nsteps, 1);
}
END_TEST

START_TEST(paging_off)
{
	struct paging_regs pr = { .cr0 = CR0_PE, .cr4 = CR4_PAE | CR4_SMEP | CR4_SMAP };
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, 0x123456789abcull, WALK_USER | WALK_WRITE, NULL, &r),
			 WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x56789abc);
	ck_assert_uint_eq(r.hpa, 0x56789abc);
	ck_assert_int_eq(r.nsteps, 0);
	ck_assert(walk_allows(&pr, &r, WALK_FETCH));
	ck_assert(walk_allows(&pr, &r, WALK_WRITE));
	/* MAXPHYADDR: default 52, clamped to 32..52. */
	ck_assert_uint_eq(mmu_maxphyaddr(m), 52);
	mmu_set_maxphyaddr(m, 0);
	ck_assert_uint_eq(mmu_maxphyaddr(m), 32);
	mmu_set_maxphyaddr(m, 99);
	ck_assert_uint_eq(mmu_maxphyaddr(m), 52);
	mmu_set_maxphyaddr(m, 39);
	ck_assert_uint_eq(mmu_maxphyaddr(m), 39);
}
END_TEST

/* --------------------------------------------------------------- PAE */

static struct paging_regs regs_pae(uint64_t cr3)
{
	return (struct paging_regs){
		.cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = cr3, .cr4 = CR4_PAE, .efer = EFER_NXE
	};
}

START_TEST(pae)
{
	uint64_t pdpt = 0x3fe0; /* 32-byte aligned, not page aligned */
	uint64_t pd = new_table(), pt = new_table();
	struct paging_regs pr = regs_pae(pdpt);
	struct walk_result r;
	uint32_t lin = 0x80203456; /* PDPTE 2, PDE 1, PTE 3 */
	wr(pdpt + 2 * 8, 8, pd | P);
	wr(pd + 1 * 8, 8, pt | P | W | U);
	wr(pt + 3 * 8, 8, 0x12345000ull | P | W | U);
	/* From memory (pdpte_valid false). */
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_USER, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x12345456);
	ck_assert_int_eq(r.nsteps, 3);
	ck_assert_int_eq(r.steps[0].level, 3);
	ck_assert_uint_eq(r.steps[0].entry_gpa, pdpt + 16);
	ck_assert_uint_eq(r.steps[0].entry, pd | P); /* PDPTEs have no A bit */
	ck_assert_uint_eq(rd(pdpt + 16, 8), pd | P);
	ck_assert_uint_eq(rd(pd + 8, 8), pt | P | W | U | A);
	/* Load the registers; then a change in memory is not seen. */
	ck_assert(mmu_load_pdptes(m, &pr, NULL));
	ck_assert(pr.pdpte_valid);
	ck_assert_uint_eq(pr.pdpte[2], pd | P);
	ck_assert_uint_eq(pr.pdpte[0], 0);
	wr(pdpt + 16, 8, 0);
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x12345456);
	ck_assert_uint_eq(r.steps[0].entry, pd | P);
	/* Not-present PDPTE register. */
	ck_assert_int_eq(mmu_walk(m, &pr, 0x00001000, WALK_WRITE, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_W);
	ck_assert_int_eq(r.nsteps, 1);
	/* mmu_load_pdptes rejects reserved bits in present entries only. */
	struct paging_regs pr2 = regs_pae(pdpt);
	wr(pdpt + 16, 8, pd | P | W); /* bit 1 reserved in a PDPTE */
	ck_assert(!mmu_load_pdptes(m, &pr2, NULL));
	ck_assert(!pr2.pdpte_valid);
	wr(pdpt + 16, 8, pd | P | XD); /* no XD in a PDPTE */
	ck_assert(!mmu_load_pdptes(m, &pr2, NULL));
	wr(pdpt + 16, 8, pd | P | (1ull << 40));
	ck_assert(mmu_load_pdptes(m, &pr2, NULL)); /* fine with 52 bits */
	mmu_set_maxphyaddr(m, 40);
	pr2.pdpte_valid = false;
	ck_assert(!mmu_load_pdptes(m, &pr2, NULL));
	wr(pdpt + 16, 8, pd | P | 0x18 | 0xe00); /* PWT, PCD, ignored bits: fine */
	ck_assert(mmu_load_pdptes(m, &pr2, NULL));
	wr(pdpt + 16, 8, PS | W); /* not present: anything goes */
	ck_assert(mmu_load_pdptes(m, &pr2, NULL));
	/* Reserved PDPTE bits met in a walk from memory: #PF RSVD. */
	wr(pdpt + 16, 8, pd | P | U);
	pr2.pdpte_valid = false;
	ck_assert_int_eq(mmu_walk(m, &pr2, lin, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_RSVD);
	wr(pdpt + 16, 8, pd | P);
	/* PAE: bits 62:52 are reserved (unlike 4-level paging). */
	wr(pt + 3 * 8, 8, 0x12345000ull | P | W | U | (1ull << 55));
	ck_assert_int_eq(mmu_walk(m, &pr2, lin, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_RSVD);
	/* XD: execute-disable with NXE, reserved without. */
	wr(pt + 3 * 8, 8, 0x12345000ull | P | W | U | XD);
	ck_assert_int_eq(mmu_walk(m, &pr2, lin, WALK_FETCH, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_I);
	pr2.efer = 0;
	ck_assert_int_eq(mmu_walk(m, &pr2, lin, WALK_FETCH, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_RSVD);
	pr2.efer = EFER_NXE;
	/* 2M page in PAE. */
	wr(pd + 1 * 8, 8, 0x00600000ull | P | W | PS);
	ck_assert_int_eq(mmu_walk(m, &pr2, lin, WALK_WRITE, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 0x00603456);
	ck_assert_uint_eq(r.page_size, 2 * MiB);
	ck_assert_uint_eq(rd(pd + 8, 8), 0x00600000ull | P | W | PS | A | D);
	wr(pd + 1 * 8, 8, 0x00600000ull | P | W | PS | (1 << 13));
	ck_assert_int_eq(mmu_walk(m, &pr2, lin, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_RSVD);
	/* CR3 bits above 31 are not part of the PDPT address. */
	pr2.cr3 = pdpt | (1ull << 40);
	wr(pd + 1 * 8, 8, 0x00600000ull | P | W | PS);
	ck_assert_int_eq(mmu_walk(m, &pr2, lin, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.steps[0].entry_gpa, pdpt + 16);
}
END_TEST

/* ------------------------------------------------------- second stage */

/* A second stage that adds `offset` to every gpa, counts calls, records
 * their kinds and can refuse the n-th call. */
struct s2_log {
	uint64_t offset;
	int calls;
	int fail_at; /* 1-based; 0 = never */
	uint64_t gpa[32];
	bool is_walk[32];
	unsigned acc[32];
	uint64_t lin[32];
};

static int s2_xlate(void *opaque, uint64_t gpa, uint64_t lin, bool is_walk, unsigned walk_acc,
		    uint64_t *hpa)
{
	struct s2_log *l = opaque;
	int i = l->calls++;
	if (i < 32) {
		l->gpa[i] = gpa;
		l->is_walk[i] = is_walk;
		l->acc[i] = walk_acc;
		l->lin[i] = lin;
	}
	if (l->fail_at && l->calls == l->fail_at)
		return 1;
	*hpa = gpa + l->offset;
	return 0;
}

START_TEST(stage2_calls)
{
	/* Guest tables are built at gpa X but live at host X + 32M: with the
	 * second stage the walk must read them there. */
	const uint64_t off = 32 * MiB;
	uint64_t cr3 = new_table();
	uint64_t lin = 0x7fff00201000ull;
	map64(cr3, 4, lin, 0x5000, 1, P | W | U, P | W | U);
	/* Move the tables up by `off` (copy 1 MiB of table space) and clear the
	 * originals so a walk that forgets the second stage fails. */
	uint8_t *ram = mmu_ram(m);
	memcpy(ram + off + 0x100000, ram + 0x100000, next_table - 0x100000);
	memset(ram + 0x100000, 0, next_table - 0x100000);

	struct s2_log log = { .offset = off };
	struct stage2 s2 = { s2_xlate, &log };
	struct paging_regs pr = regs64(cr3);
	struct walk_result r;
	/* Read with A bits clear: 4 table reads, 4 A updates, final. */
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_USER, &s2, &r), WALK_OK);
	ck_assert_int_eq(log.calls, 9);
	for (int i = 0; i < 4; i++) {
		ck_assert(log.is_walk[i]);
		ck_assert_uint_eq(log.acc[i], 0);
		ck_assert_uint_eq(log.gpa[i], r.steps[i].entry_gpa);
		ck_assert_uint_eq(log.lin[i], lin);
	}
	for (int i = 4; i < 8; i++) {
		ck_assert(log.is_walk[i]);
		ck_assert_uint_eq(log.acc[i], WALK_WRITE);
		ck_assert_uint_eq(log.gpa[i], r.steps[i - 4].entry_gpa);
	}
	ck_assert(!log.is_walk[8]);
	ck_assert_uint_eq(log.acc[8], WALK_USER);
	ck_assert_uint_eq(log.gpa[8], 0x5000);
	ck_assert_uint_eq(r.gpa, 0x5000);
	ck_assert_uint_eq(r.hpa, 0x5000 + off);
	/* The A bits landed in the host copy. */
	ck_assert_uint_eq(rd(r.steps[3].entry_gpa + off, 8), 0x5000 | P | W | U | A);
	ck_assert_uint_eq(rd(r.steps[3].entry_gpa, 8), 0);
	/* Again: A already set, so 4 reads + final. */
	log.calls = 0;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_USER, &s2, &r), WALK_OK);
	ck_assert_int_eq(log.calls, 5);
	/* A write: 4 reads, D update on the PTE, final with WALK_WRITE. */
	log.calls = 0;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_WRITE, &s2, &r), WALK_OK);
	ck_assert_int_eq(log.calls, 6);
	ck_assert_uint_eq(log.acc[4], WALK_WRITE);
	ck_assert_uint_eq(log.gpa[4], r.steps[3].entry_gpa);
	ck_assert_uint_eq(log.acc[5], WALK_WRITE);
	ck_assert(!log.is_walk[5]);
	ck_assert(r.dirty);

	/* Abort at each table read: the walk stops there. */
	for (int k = 1; k <= 4; k++) {
		log.calls = 0;
		log.fail_at = k;
		ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, &s2, &r), WALK_STAGE2);
		ck_assert_int_eq(r.status, WALK_STAGE2);
		ck_assert_int_eq(log.calls, k);
		ck_assert_int_eq(r.nsteps, k - 1);
	}
	/* Abort at the final translation. */
	log.calls = 0;
	log.fail_at = 5;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, &s2, &r), WALK_STAGE2);
	ck_assert_uint_eq(r.gpa, 0x5000);
	ck_assert(!log.is_walk[4]);
	/* Abort on an A/D update: clear A in the PML4E (host copy). */
	uint64_t pml4e = r.steps[0].entry_gpa + off;
	wr(pml4e, 8, rd(pml4e, 8) & ~A);
	log.calls = 0;
	log.fail_at = 5; /* 4 reads, then the A write */
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, &s2, &r), WALK_STAGE2);
	ck_assert_uint_eq(log.acc[4], WALK_WRITE);
	ck_assert(log.is_walk[4]);
	ck_assert_uint_eq(rd(pml4e, 8) & A, 0);
	/* A guest #PF wins before the final translation: no final call. */
	log.fail_at = 0;
	log.calls = 0;
	ck_assert_int_eq(mmu_walk(m, &pr, lin + 0x1000, 0, &s2, &r), WALK_PF);
	ck_assert_int_eq(log.calls, 4);
	for (int i = 0; i < log.calls; i++)
		ck_assert(log.is_walk[i]);
}
END_TEST

START_TEST(stage2_pae_and_off)
{
	struct s2_log log = { .offset = 0 };
	struct stage2 s2 = { s2_xlate, &log };
	struct walk_result r;
	/* Paging off: only the final translation. */
	struct paging_regs off = { .cr0 = CR0_PE };
	ck_assert_int_eq(mmu_walk(m, &off, 0x1234, WALK_FETCH, &s2, &r), WALK_OK);
	ck_assert_int_eq(log.calls, 1);
	ck_assert(!log.is_walk[0]);
	ck_assert_uint_eq(log.acc[0], WALK_FETCH);
	/* PAE with PDPTE registers: no access for the PDPTE. */
	uint64_t pdpt = new_table(), pd = new_table(), pt = new_table();
	wr(pdpt, 8, pd | P);
	wr(pd, 8, pt | P | W | A);
	wr(pt, 8, 0x8000 | P | W | A);
	struct paging_regs pr = regs_pae(pdpt);
	log.calls = 0;
	ck_assert(mmu_load_pdptes(m, &pr, &s2));
	ck_assert_int_eq(log.calls, 1);
	ck_assert(log.is_walk[0]);
	ck_assert_uint_eq(log.gpa[0], pdpt);
	log.calls = 0;
	ck_assert_int_eq(mmu_walk(m, &pr, 0x10, 0, &s2, &r), WALK_OK);
	ck_assert_int_eq(log.calls, 3); /* PDE, PTE, final */
	ck_assert_uint_eq(log.gpa[0], pd);
	/* From memory: the PDPTE read goes through the second stage too. */
	pr.pdpte_valid = false;
	log.calls = 0;
	ck_assert_int_eq(mmu_walk(m, &pr, 0x10, 0, &s2, &r), WALK_OK);
	ck_assert_int_eq(log.calls, 4);
	ck_assert_uint_eq(log.gpa[0], pdpt);
	/* A refusing second stage makes mmu_load_pdptes fail. */
	log.calls = 0;
	log.fail_at = 1;
	ck_assert(!mmu_load_pdptes(m, &pr, &s2));
	ck_assert(!pr.pdpte_valid);
}
END_TEST

/* A/D writes go through phys_write, so a page-table page that holds code
 * fires the code-write hook. */
static int hook_calls;
static void code_hook(void *opaque, uint64_t page)
{
	(void)opaque;
	(void)page;
	hook_calls++;
}

START_TEST(ad_update_is_a_write)
{
	uint64_t cr3 = new_table();
	uint64_t lin = 0x1000;
	uint64_t pte = map64(cr3, 4, lin, 0x9000, 1, P | W, P | W | A);
	mmu_set_code_write_hook(m, code_hook, NULL);
	mmu_mark_code(m, pte);
	hook_calls = 0;
	struct paging_regs pr = regs64(cr3);
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
	ck_assert_int_eq(hook_calls, 1);
}
END_TEST

static Suite *walk_suite(void)
{
	Suite *s = suite_create("walk");
	TCase *tc = tcase_create("modes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, l4_translate_and_trace);
	tcase_add_test(tc, l4_large_pages);
	tcase_add_test(tc, l4_not_present);
	tcase_add_test(tc, l4_reserved_bits);
	tcase_add_test(tc, l5_translate);
	tcase_add_test(tc, no_ad_flag);
	tcase_add_test(tc, paging32);
	tcase_add_test(tc, paging_off);
	tcase_add_test(tc, pae);
	tcase_add_test(tc, stage2_calls);
	tcase_add_test(tc, stage2_pae_and_off);
	tcase_add_test(tc, ad_update_is_a_write);
	suite_add_tcase(s, tc);
	TCase *tp = tcase_create("permissions");
	tcase_add_checked_fixture(tp, setup, teardown);
	tcase_add_loop_test(tp, permissions, 0, sizeof(perm_cases) / sizeof(perm_cases[0]));
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(walk_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
