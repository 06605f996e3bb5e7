/*
 * tests/unit/test_walk_span.c — the walker's direct RAM access (mmu_ram_span
 * and the span cache behind mmu_gpa_ptr, mmu/physmem.c) and the walks that
 * must leave it: tables split over RAM segments, in ROM and MMIO, at the
 * edge of a segment that ends inside a page, after the map changed, and A/D
 * writes that a second stage sends elsewhere than the reads.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "walk_test.h"

static struct mmu *m;
static uint8_t *ram;

/* 16 MiB of RAM with a hole at [640K, 1M), as on a PC. */
static void setup(void)
{
	m = mmu_new(16 * MiB);
	ck_assert_ptr_nonnull(m);
	mmu_map_ram(m, 0, 0xa0000, 0);
	mmu_map_ram(m, 1 * MiB, 15 * MiB, 1 * MiB);
	ram = mmu_ram(m);
}

static void teardown(void)
{
	mmu_free(m);
	m = NULL;
}

static uint64_t rd(uint64_t gpa)
{
	return phys_read(m, gpa, 8);
}

static void wr(uint64_t gpa, uint64_t v)
{
	phys_write(m, gpa, 8, v);
}

static struct paging_regs regs64(uint64_t cr3)
{
	return (struct paging_regs){ .cr0 = CR0_PE | CR0_PG | CR0_WP,
				     .cr3 = cr3,
				     .cr4 = CR4_PAE,
				     .efer = EFER_LME | EFER_LMA | EFER_NXE };
}

/* Point the entry for lin at `level` of the table at `table` to next. */
static uint64_t link(uint64_t table, int level, uint64_t lin, uint64_t next)
{
	uint64_t gpa = table + ((lin >> (12 + 9 * (level - 1))) & 511) * 8;
	wr(gpa, next | P | W | U);
	return gpa;
}

/* Four tables at t[0..3] (PML4 .. PT) mapping lin to pa. */
static void map4(const uint64_t t[4], uint64_t lin, uint64_t pa)
{
	for (int l = 4; l > 1; l--)
		link(t[4 - l], l, lin, t[5 - l]);
	link(t[3], 1, lin, pa);
}

START_TEST(span_bounds)
{
	uint64_t lo = 1, hi = 1;
	ck_assert_ptr_eq(mmu_ram_span(m, 0x5008, &lo, &hi), ram + 0x5008);
	ck_assert_uint_eq(lo, 0);
	ck_assert_uint_eq(hi, 0xa0000);
	ck_assert_ptr_eq(mmu_ram_span(m, 2 * MiB, &lo, &hi), ram + 2 * MiB);
	ck_assert_uint_eq(lo, 1 * MiB);
	ck_assert_uint_eq(hi, 16 * MiB);
	/* Holes, ROM and MMIO are not RAM. */
	ck_assert_ptr_null(mmu_ram_span(m, 0xa0000, &lo, &hi));
	ck_assert_ptr_null(mmu_ram_span(m, 16 * MiB, &lo, &hi));
	static const uint8_t img[0x1000];
	mmu_map_rom(m, 0xf0000, img, sizeof(img));
	ck_assert_ptr_null(mmu_ram_span(m, 0xf0000, &lo, &hi));
}
END_TEST

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	(void)size;
	const uint64_t *entries = opaque;
	return entries[(off / 8) & 1];
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)val;
	(void)size;
}

static const struct mmio_ops mmio = { mmio_read, mmio_write };

START_TEST(span_follows_map_changes)
{
	uint64_t lo, hi;
	/* Cache the big span, then hide a page of it behind MMIO. */
	ck_assert_ptr_nonnull(mmu_ram_span(m, 4 * MiB, &lo, &hi));
	ck_assert_ptr_eq(mmu_gpa_ptr(m, 3 * MiB, true), ram + 3 * MiB);
	uint64_t regs[2] = { 0, 0 };
	mmu_map_mmio(m, 3 * MiB, 0x1000, &mmio, regs, "t");
	ck_assert_ptr_null(mmu_gpa_ptr(m, 3 * MiB, false));
	ck_assert_ptr_null(mmu_ram_span(m, 3 * MiB, &lo, &hi));
	ck_assert_ptr_eq(mmu_gpa_ptr(m, 4 * MiB + 8, true), ram + 4 * MiB + 8);
	ck_assert_ptr_eq(mmu_ram_span(m, 4 * MiB, &lo, &hi), ram + 4 * MiB);
	ck_assert_uint_eq(lo, 3 * MiB + 0x1000);
	ck_assert_uint_eq(hi, 16 * MiB);
	/* ...and below it: a pointer never reaches past the span's end. */
	ck_assert_ptr_eq(mmu_ram_span(m, 3 * MiB - 8, &lo, &hi), ram + 3 * MiB - 8);
	ck_assert_uint_eq(hi, 3 * MiB);
	ck_assert_ptr_null(mmu_gpa_ptr(m, 3 * MiB + 0x10, true));
	/* Unmapping drops the cache too. */
	mmu_unmap(m, 1 * MiB, 2 * MiB);
	ck_assert_ptr_null(mmu_gpa_ptr(m, 3 * MiB - 8, false));
	ck_assert_ptr_null(mmu_ram_span(m, 3 * MiB - 8, &lo, &hi));
}
END_TEST

/* Tables in both RAM segments: each level finds its own span, and the A
 * bits are set in both. */
START_TEST(tables_in_two_segments)
{
	const uint64_t t[4] = { 0x10000, 2 * MiB, 0x11000, 2 * MiB + 0x1000 };
	const uint64_t lin = 0x0000123456789000ull;
	map4(t, lin, 5 * MiB);
	struct paging_regs pr = regs64(t[0]);
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, lin | 0x123, WALK_WRITE, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 5 * MiB + 0x123);
	ck_assert_int_eq(r.nsteps, 4);
	for (int i = 0; i < 4; i++) {
		uint64_t want = (i < 3 ? t[i + 1] : 5 * MiB) | P | W | U | A | (i == 3 ? D : 0);
		ck_assert_uint_eq(rd(r.steps[i].entry_gpa), want);
		ck_assert_uint_eq(r.steps[i].entry, want);
	}
	ck_assert(r.dirty);
	ck_assert_uint_eq(r.final_entry, 5 * MiB | P | W | U | A | D);
}
END_TEST

/* A PT in ROM: read from the ROM copy, the A/D writes are dropped, the walk
 * still succeeds (and reports the bits it tried to set). */
START_TEST(table_in_rom)
{
	const uint64_t t[4] = { 0x10000, 0x11000, 0x12000, 0xe0000 };
	const uint64_t lin = 0x40201000ull;
	for (int l = 4; l > 1; l--)
		link(t[4 - l], l, lin, t[5 - l]);
	uint64_t img[512] = { 0 };
	img[(lin >> 12) & 511] = 7 * MiB | P | W | U;
	mmu_map_rom(m, 0xe0000, img, sizeof(img));
	struct paging_regs pr = regs64(t[0]);
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_WRITE, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 7 * MiB);
	ck_assert_uint_eq(r.final_entry, 7 * MiB | P | W | U | A | D);
	ck_assert_uint_eq(rd(r.steps[3].entry_gpa), 7 * MiB | P | W | U);
	ck_assert_uint_eq(rd(r.steps[2].entry_gpa), t[3] | P | W | U | A);
}
END_TEST

/* A PT page whose upper half is a 1 KiB MMIO window (and RAM again above):
 * the last RAM entry below the window comes from RAM, the first one in it
 * from the device, the next RAM page's from RAM, in one walk each. */
START_TEST(entries_at_a_span_edge)
{
	const uint64_t pt = 4 * MiB; /* MMIO at pt + 0x800 .. pt + 0xc00 */
	const uint64_t t[4] = { 0x10000, 0x11000, 0x12000, pt };
	uint64_t regs[2] = { 9 * MiB | P | W | U | A | D, 0 };
	mmu_map_mmio(m, pt + 0x800, 0x400, &mmio, regs, "t");
	const uint64_t below = 0xff000, inside = 0x100000, above = 0x200000;
	map4(t, below, 8 * MiB); /* entry at pt + 0x7f8 */
	for (int l = 4; l > 1; l--)
		link(t[4 - l], l, inside, t[5 - l]);
	struct paging_regs pr = regs64(t[0]);
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, below, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.steps[3].entry_gpa, pt + 0x7f8);
	ck_assert_uint_eq(r.gpa, 8 * MiB);
	ck_assert_uint_eq(rd(pt + 0x7f8) & A, A);
	ck_assert_int_eq(mmu_walk(m, &pr, inside, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.steps[3].entry_gpa, pt + 0x800);
	ck_assert_uint_eq(r.gpa, 9 * MiB);
	/* The page is shared with the device: no pointer for all of it, even
	 * right after its RAM part was looked up. */
	uint64_t lo, hi;
	ck_assert_ptr_eq(mmu_ram_span(m, pt + 0x10, &lo, &hi), ram + pt + 0x10);
	ck_assert_uint_eq(hi, pt + 0x800);
	ck_assert_ptr_null(mmu_gpa_ptr(m, pt + 0x10, false));
	/* The PD's next PT is RAM right above the window's page. */
	link(t[2], 2, above, pt + 0x1000);
	link(pt + 0x1000, 1, above, 10 * MiB);
	ck_assert_int_eq(mmu_walk(m, &pr, above, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 10 * MiB);
	/* A page of tables later hidden by MMIO: the next walk asks the
	 * device, not the RAM under it. */
	regs[0] = 0;
	mmu_map_mmio(m, pt + 0x1000, 0x1000, &mmio, regs, "t2");
	ck_assert_int_eq(mmu_walk(m, &pr, above, 0, NULL, &r), WALK_PF);
	ck_assert_uint_eq(r.pfec, 0);
}
END_TEST

/* An entry cut in two by an MMIO window that starts at its byte 4: its low
 * half is RAM, its high half the device's (here 0), even when the tables
 * above it were reached through the same RAM span. */
START_TEST(entry_cut_by_mmio)
{
	const uint64_t t[4] = { 4 * MiB - 0x3000, 4 * MiB - 0x2000, 4 * MiB - 0x1000, 4 * MiB };
	const uint64_t lin = 0xff000; /* PT entry 255, at 4M + 0x7f8 */
	map4(t, lin, 8 * MiB);
	wr(t[3] + 0x7f8, (1ull << 63) | 8 * MiB | P | W | U | A | D);
	uint64_t regs[2] = { 0, 0 };
	mmu_map_mmio(m, t[3] + 0x7fc, 8, &mmio, regs, "t");
	struct paging_regs pr = regs64(t[0]);
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_FETCH, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.final_entry, 8 * MiB | P | W | U | A | D);
	ck_assert(!r.nx);
}
END_TEST

/* A device whose read answers `entry` and maps another device (reading 0,
 * counting writes) over the page at `move`, as a register access may move a
 * BAR. */
struct mover {
	uint64_t entry, move;
	int writes;
};

static uint64_t zero_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return 0;
}

static void count_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	(void)off;
	(void)val;
	(void)size;
	((struct mover *)opaque)->writes++;
}

static const struct mmio_ops counting = { zero_read, count_write };

static uint64_t remap_read(void *opaque, uint64_t off, unsigned size)
{
	(void)off;
	(void)size;
	struct mover *mv = opaque;
	mmu_map_mmio(m, mv->move, 0x1000, &counting, mv, "moved");
	return mv->entry;
}

static const struct mmio_ops remap = { remap_read, mmio_write };

/* The walk reads a PDPTE from that device, then the PD: from the device now
 * there, not from the RAM the span it used for the PML4 still covers. */
START_TEST(map_change_during_walk)
{
	const uint64_t t[4] = { 4 * MiB, 6 * MiB, 2 * MiB, 2 * MiB + 0x1000 };
	const uint64_t lin = 0x1000;
	map4(t, lin, 8 * MiB);
	struct mover mv = { .entry = t[2] | P | W | U | A, .move = t[2] };
	mmu_map_mmio(m, t[1], 0x1000, &remap, &mv, "bar");
	struct paging_regs pr = regs64(t[0]);
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_PF);
	ck_assert_int_eq(r.nsteps, 3);
	ck_assert_uint_eq(r.steps[2].entry, 0);
}
END_TEST

/* The same device moving over the PML4 read before it: setting that
 * entry's A flag is a write to the device now there, not to the RAM. */
START_TEST(map_change_before_ad_update)
{
	const uint64_t t[4] = { 4 * MiB, 6 * MiB, 2 * MiB, 2 * MiB + 0x1000 };
	const uint64_t lin = 0x1000;
	map4(t, lin, 8 * MiB);
	struct mover mv = { .entry = t[2] | P | W | U | A, .move = t[0] };
	mmu_map_mmio(m, t[1], 0x1000, &remap, &mv, "bar");
	struct paging_regs pr = regs64(t[0]);
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, 0, NULL, &r), WALK_OK);
	ck_assert_uint_eq(r.gpa, 8 * MiB);
	ck_assert_int_eq(mv.writes, 1);
	ck_assert_uint_eq(ram[t[0]] & A, 0);
	ck_assert_uint_eq(rd(t[2]) & A, A);
}
END_TEST

/* A second stage that sends A/D writes of entries 8 MiB above where it
 * sends their reads: the bits land where the writes go. */
static int s2_split(void *opaque, uint64_t gpa, uint64_t lin, bool is_walk, unsigned walk_acc,
		    uint64_t *hpa)
{
	(void)opaque;
	(void)lin;
	*hpa = gpa + (is_walk && (walk_acc & WALK_WRITE) ? 8 * MiB : 0);
	return 0;
}

START_TEST(ad_writes_go_where_stage2_says)
{
	const uint64_t t[4] = { 2 * MiB, 2 * MiB + 0x1000, 2 * MiB + 0x2000, 2 * MiB + 0x3000 };
	const uint64_t lin = 0x7fff00201000ull;
	map4(t, lin, 5 * MiB);
	struct stage2 s2 = { s2_split, NULL };
	struct paging_regs pr = regs64(t[0]);
	struct walk_result r;
	ck_assert_int_eq(mmu_walk(m, &pr, lin, WALK_WRITE, &s2, &r), WALK_OK);
	for (int i = 0; i < 4; i++) {
		uint64_t g = r.steps[i].entry_gpa;
		ck_assert_uint_eq(rd(g) & (A | D), 0);
		ck_assert_uint_eq(rd(g + 8 * MiB), (i == 3 ? A | D : A));
	}
}
END_TEST

static Suite *span_suite(void)
{
	Suite *s = suite_create("walk_span");
	TCase *tc = tcase_create("span");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, span_bounds);
	tcase_add_test(tc, span_follows_map_changes);
	tcase_add_test(tc, tables_in_two_segments);
	tcase_add_test(tc, table_in_rom);
	tcase_add_test(tc, entries_at_a_span_edge);
	tcase_add_test(tc, entry_cut_by_mmio);
	tcase_add_test(tc, map_change_during_walk);
	tcase_add_test(tc, map_change_before_ad_update);
	tcase_add_test(tc, ad_writes_go_where_stage2_says);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(span_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
