/*
 * tests/unit/test_walk_pk.c — protection keys in the page walker (SDM Vol. 3
 * §4.6.2): the key from bits 62:59 of the leaf (4K and 2M), PKRU for user
 * pages with CR4.PKE, IA32_PKRS for supervisor pages with CR4.PKS, AD for any
 * data access, WD for writes except supervisor writes with CR0.WP = 0,
 * fetches unchecked, PFEC.PK also when the ordinary rights refuse too,
 * walk_allows agreeing with the walk, and keys ignored outside IA-32e paging
 * (PAE) and with CR4.PKE/PKS clear.
 */
#include <check.h>
#include <stdlib.h>

#include "mmu/mmu.h"
#include "mmu/walk.h"
#include "walk_test.h"

#define KEY(k) ((uint64_t)(k) << 59)
#define AD(k)  (1u << (2 * (k)))
#define WD(k)  (2u << (2 * (k)))

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

/* 4-level tables at 0x10000: PML4 -> PDPT -> PD; PD[0] -> PT at 0x13000.
 * 0x1000: user, key 1; 0x2000: supervisor, key 2; 0x3000: user read-only,
 * key 1; 2M page at 0x200000: user, key 3. */
static void build(void)
{
	phys_write(m, 0x10000, 8, 0x11000 | P | W | U | KEY(15)); /* non-leaf keys ignored */
	phys_write(m, 0x11000, 8, 0x12000 | P | W | U);
	phys_write(m, 0x12000, 8, 0x13000 | P | W | U);
	phys_write(m, 0x12008, 8, 0x400000 | P | W | U | PS | KEY(3));
	phys_write(m, 0x13008, 8, 0x100000 | P | W | U | KEY(1));
	phys_write(m, 0x13010, 8, 0x101000 | P | W | KEY(2));
	phys_write(m, 0x13018, 8, 0x102000 | P | U | KEY(1));
}

static struct paging_regs regs(uint64_t cr4_extra, uint32_t pkru, uint32_t pkrs, bool wp)
{
	return (struct paging_regs){ .cr0 = CR0_PE | CR0_PG | (wp ? CR0_WP : 0),
				     .cr3 = 0x10000,
				     .cr4 = CR4_PAE | cr4_extra,
				     .efer = EFER_LME | EFER_LMA | EFER_NXE,
				     .pkru = pkru,
				     .pkrs = pkrs };
}

/* Walk and return the #PF error code, or -1 when allowed; walk_allows on a
 * NO_FAULT_CHECK walk must agree. */
static long pfec(const struct paging_regs *pr, uint64_t lin, unsigned acc)
{
	struct walk_result r, r2;
	enum walk_status s = mmu_walk(m, pr, lin, acc | WALK_NO_AD, NULL, &r);
	ck_assert_int_ne(s, WALK_STAGE2);
	ck_assert_int_eq(mmu_walk(m, pr, lin, WALK_NO_AD | WALK_NO_FAULT_CHECK, NULL, &r2),
			 WALK_OK);
	ck_assert_int_eq(walk_allows(pr, &r2, acc), s == WALK_OK);
	return s == WALK_OK ? -1 : (long)r.pfec;
}

START_TEST(pku_user_pages)
{
	build();
	struct paging_regs pr = regs(CR4_PKE, AD(1), 0, true);
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_USER), P | U | 0x20);
	ck_assert_int_eq(pfec(&pr, 0x1000, 0), P | 0x20);         /* supervisor too */
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_SUPV), P | 0x20); /* implicit too */
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_FETCH | WALK_USER), -1);
	ck_assert_int_eq(pfec(&pr, 0x2000, 0), -1); /* supervisor page: PKRU n/a */
	pr = regs(CR4_PKE, WD(1), 0, true);
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_USER), -1);
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_USER | WALK_WRITE), P | W | U | 0x20);
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_WRITE), P | W | 0x20);
	/* read-only page: both rules refuse, PK still reported */
	ck_assert_int_eq(pfec(&pr, 0x3000, WALK_USER | WALK_WRITE), P | W | U | 0x20);
	pr = regs(CR4_PKE, 0, 0, true);
	ck_assert_int_eq(pfec(&pr, 0x3000, WALK_USER | WALK_WRITE), P | W | U);
	pr = regs(CR4_PKE, WD(1), 0, false); /* CR0.WP = 0 */
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_WRITE), -1);
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_USER | WALK_WRITE), P | W | U | 0x20);
	pr = regs(CR4_PKE, AD(1), 0, false);
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_WRITE), P | W | 0x20);
	/* 2M leaf key; PML4E key 15 ignored */
	pr = regs(CR4_PKE, AD(3) | AD(15), 0, true);
	ck_assert_int_eq(pfec(&pr, 0x201234, WALK_USER), P | U | 0x20);
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_USER), -1);
	/* CR4.PKE clear: keys ignored */
	pr = regs(0, ~0u, 0, true);
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_USER | WALK_WRITE), -1);
}
END_TEST

START_TEST(pks_supervisor_pages)
{
	build();
	struct paging_regs pr = regs(CR4_PKS, 0, AD(2), true);
	ck_assert_int_eq(pfec(&pr, 0x2000, 0), P | 0x20);
	ck_assert_int_eq(pfec(&pr, 0x2000, WALK_FETCH), -1);
	ck_assert_int_eq(pfec(&pr, 0x1000, 0), -1); /* user page: PKRS n/a */
	pr = regs(CR4_PKS, 0, WD(2), true);
	ck_assert_int_eq(pfec(&pr, 0x2000, 0), -1);
	ck_assert_int_eq(pfec(&pr, 0x2000, WALK_WRITE), P | W | 0x20);
	pr = regs(CR4_PKS, 0, WD(2), false);
	ck_assert_int_eq(pfec(&pr, 0x2000, WALK_WRITE), -1);
	pr = regs(CR4_PKE, 0, AD(2), true); /* PKS off */
	ck_assert_int_eq(pfec(&pr, 0x2000, 0), -1);
}
END_TEST

START_TEST(pae_has_no_keys)
{
	/* PAE paging (not IA-32e): no protection keys (bits 62:52 of PAE
	 * entries are reserved), so PKRU/PKRS change nothing even with
	 * CR4.PKE/PKS set. */
	phys_write(m, 0x20000, 8, 0x21000 | P); /* PDPTE 0 */
	phys_write(m, 0x21000, 8, 0x22000 | P | W | U);
	phys_write(m, 0x22008, 8, 0x100000 | P | W | U);
	struct paging_regs pr = { .cr0 = CR0_PE | CR0_PG | CR0_WP,
				  .cr3 = 0x20000,
				  .cr4 = CR4_PAE | CR4_PKE | CR4_PKS,
				  .efer = EFER_NXE,
				  .pkru = ~0u,
				  .pkrs = ~0u };
	ck_assert_int_eq(pfec(&pr, 0x1000, WALK_USER | WALK_WRITE), -1);
	ck_assert_int_eq(pfec(&pr, 0x1000, 0), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walk_pk");
	TCase *tc = tcase_create("walk_pk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pku_user_pages);
	tcase_add_test(tc, pks_supervisor_pages);
	tcase_add_test(tc, pae_has_no_keys);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
