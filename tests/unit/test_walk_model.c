/*
 * tests/unit/test_walk_model.c — the page-table walker (mmu/walk.c) against
 * a plain reference model of 4-level paging on random page-table entries
 * (random flags, reserved bits, large pages, CR0.WP/CR4.SMEP/SMAP/EFER.NXE,
 * MAXPHYADDR and access kinds). The directed tests are in test_walk.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "walk_test.h"

static struct mmu *m;

static void setup(void)
{
	m = mmu_new(16 << 20);
	ck_assert_ptr_nonnull(m);
	mmu_map_ram(m, 0, 16 << 20, 0);
}

static void teardown(void)
{
	mmu_free(m);
	m = NULL;
}

static uint64_t rd(uint64_t gpa, unsigned size)
{
	return phys_read(m, gpa, size);
}

static void wr(uint64_t gpa, unsigned size, uint64_t v)
{
	phys_write(m, gpa, size, v);
}

/* A deliberately plain restatement of SDM §4.5-§4.8 for 4-level paging,
 * written as the manual lists the rules, to cross-check the walker on
 * random entries: status, error code, address, page size, steps and the
 * A/D bits left in memory. */
struct ref_out {
	enum walk_status st;
	uint32_t pfec;
	uint64_t gpa, page_size;
	int nsteps;
	uint64_t egpa[4], after[4]; /* entry addresses and expected values */
};

static void ref_walk(uint64_t cr3, uint64_t lin, unsigned maxphy, bool nxe, bool wp, bool smep,
		     bool smap, unsigned acc, struct ref_out *o)
{
	uint64_t addr_mask = ((1ull << maxphy) - 1) & ~0xfffull;
	uint64_t hi_rsvd = maxphy < 52 ? (((1ull << 52) - 1) & ~((1ull << maxphy) - 1)) : 0;
	bool user_mode = (acc & WALK_USER) && !(acc & WALK_SUPV);
	bool write = (acc & WALK_WRITE) && !(acc & WALK_FETCH), fetch = acc & WALK_FETCH;
	uint32_t base = (write ? PFEC_W : 0) | (user_mode ? PFEC_U : 0) |
			(fetch && (smep || nxe) ? PFEC_I : 0);
	bool us = true, rw = true, xd = false;
	uint64_t table = cr3 & addr_mask;
	memset(o, 0, sizeof(*o));
	for (int level = 4; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		uint64_t ea = table + ((lin >> shift) & 511) * 8;
		uint64_t e = rd(ea, 8);
		o->egpa[o->nsteps] = ea;
		o->after[o->nsteps] = e;
		o->nsteps++;
		if (!(e & P)) {
			o->st = WALK_PF;
			o->pfec = base;
			return;
		}
		bool big = (level == 2 || level == 3) && (e & PS);
		bool bad = (e & hi_rsvd) || (!nxe && (e & XD)) || (level == 4 && (e & PS)) ||
			   (big && level == 3 && (e & 0x3fffe000ull)) ||
			   (big && level == 2 && (e & 0x1fe000ull));
		if (bad) {
			o->st = WALK_PF;
			o->pfec = base | PFEC_P | PFEC_RSVD;
			return;
		}
		us = us && (e & U);
		rw = rw && (e & W);
		xd = xd || (nxe && (e & XD));
		if (level == 1 || big) {
			o->page_size = 1ull << shift;
			o->gpa = (e & addr_mask & ~(o->page_size - 1)) | (lin & (o->page_size - 1));
			break;
		}
		table = e & addr_mask;
	}
	bool ok;
	if (fetch)
		ok = !xd && (user_mode ? us : !(smep && us));
	else if (user_mode)
		ok = us && (!write || rw);
	else
		ok = !(smap && us && (!(acc & WALK_AC) || (acc & WALK_SUPV))) &&
		     (!write || rw || !wp);
	if (!ok) {
		o->st = WALK_PF;
		o->pfec = base | PFEC_P;
		return;
	}
	o->st = WALK_OK;
	for (int i = 0; i < o->nsteps; i++)
		o->after[i] |= A | (i == o->nsteps - 1 && write ? D : 0);
}

static unsigned rnd(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) & 0xffffff;
}

START_TEST(random_vs_model)
{
	static const unsigned accs[] = {
		0,
		WALK_WRITE,
		WALK_FETCH,
		WALK_USER,
		WALK_USER | WALK_WRITE,
		WALK_USER | WALK_FETCH,
		WALK_AC,
		WALK_AC | WALK_WRITE,
		WALK_SUPV,
		WALK_SUPV | WALK_WRITE,
		WALK_SUPV | WALK_USER,
		WALK_SUPV | WALK_USER | WALK_WRITE,
		WALK_SUPV | WALK_AC,
	};
	static const int rsvd_bits[] = { 51, 47, 40, 13, 17, 20, 29, 30, 55, 62 };
	const uint64_t T[5] = { 0, 0x203000, 0x202000, 0x201000, 0x200000 }; /* by level */
	const uint64_t lin = 0x0000ff8080604567ull; /* indexes 511, 2, 3, 4 */
	unsigned seed = 777;
	int faults = 0, oks = 0;
	for (int it = 0; it < 20000; it++) {
		unsigned maxphy = (const unsigned[]){ 36, 46, 52 }[rnd(&seed) % 3];
		bool nxe = rnd(&seed) & 1, wp = rnd(&seed) & 1;
		bool smep = rnd(&seed) % 3 == 0, smap = rnd(&seed) % 3 == 0;
		unsigned acc = accs[rnd(&seed) % (sizeof(accs) / sizeof(accs[0]))];
		/* Entries: the right next table (or a frame), random flags, now
		 * and then a bit that may be reserved. */
		for (int level = 4; level >= 1; level--) {
			uint64_t e = level > 1 ? T[level - 1] : 0x9000;
			if (level == 3 && rnd(&seed) % 4 == 0)
				e = 0x40000000 | PS; /* 1G */
			if (level == 2 && rnd(&seed) % 4 == 0)
				e = 0x600000 | PS; /* 2M */
			if (level == 4 && rnd(&seed) % 20 == 0)
				e |= PS;
			e |= rnd(&seed) % 12 ? P : 0;
			e |= rnd(&seed) % 3 ? W : 0;
			e |= rnd(&seed) % 3 ? U : 0;
			e |= rnd(&seed) % 2 ? A : 0;
			e |= rnd(&seed) % 2 ? D : 0;
			e |= rnd(&seed) % 6 == 0 ? XD : 0;
			if (rnd(&seed) % 10 == 0)
				e |= 1ull << rsvd_bits[rnd(&seed) % 10];
			wr(T[level] + ((lin >> (12 + 9 * (level - 1))) & 511) * 8, 8, e);
		}
		struct ref_out o;
		mmu_set_maxphyaddr(m, maxphy);
		ref_walk(T[4], lin, maxphy, nxe, wp, smep, smap, acc, &o);
		struct paging_regs pr = { .cr0 = CR0_PE | CR0_PG | (wp ? CR0_WP : 0),
					  .cr3 = T[4],
					  .cr4 = CR4_PAE | (smep ? CR4_SMEP : 0) |
						 (smap ? CR4_SMAP : 0),
					  .efer = EFER_LME | EFER_LMA | (nxe ? EFER_NXE : 0) };
		struct walk_result r;
		enum walk_status st = mmu_walk(m, &pr, lin, acc, NULL, &r);
		ck_assert_msg(st == o.st && r.pfec == o.pfec,
			      "it %d: status %d pfec %#x, model %d %#x", it, st, r.pfec, o.st,
			      o.pfec);
		ck_assert_int_eq(r.nsteps, o.nsteps);
		for (int i = 0; i < o.nsteps; i++) {
			ck_assert_uint_eq(r.steps[i].entry_gpa, o.egpa[i]);
			ck_assert_msg(rd(o.egpa[i], 8) == o.after[i],
				      "it %d: step %d entry %#llx, "
				      "model %#llx",
				      it, i, (unsigned long long)rd(o.egpa[i], 8),
				      (unsigned long long)o.after[i]);
		}
		if (st == WALK_OK) {
			ck_assert_uint_eq(r.gpa, o.gpa);
			ck_assert_uint_eq(r.page_size, o.page_size);
			oks++;
		} else {
			faults++;
		}
	}
	/* The mix must exercise both outcomes. */
	ck_assert_int_gt(oks, 2000);
	ck_assert_int_gt(faults, 2000);
}
END_TEST

static Suite *walk_model_suite(void)
{
	Suite *s = suite_create("walk_model");
	TCase *tc = tcase_create("random");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, random_vs_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(walk_model_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
