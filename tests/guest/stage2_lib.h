/*
 * tests/guest/stage2_lib.h — identity second-stage tables for the L1
 * hypervisors of the guest tests: EPT (g64_vmx_*) or NPT (g64_svm_*), the
 * same shape with different entry flags. The first 4 GiB map to themselves
 * with 2-MByte pages, except one 2-MByte region mapped by 4-KByte pages so
 * that a test can change single pages. Both formats put the page-size bit
 * of a 2-MByte leaf at bit 7. The tables are identity-mapped data of the
 * test, so their addresses are their physical addresses.
 */
#ifndef NESTBOX_TESTS_GUEST_STAGE2_LIB_H
#define NESTBOX_TESTS_GUEST_STAGE2_LIB_H

#include <stdint.h>

#define S2_LARGE 0x80ull /* PS (NPT) / "page" (EPT) bit of a 2-MByte leaf */

struct s2 {
	uint64_t pml4[512], pdpt[512], pd[4][512], pt[512];
} __attribute__((aligned(4096)));

/* Build t: dir = flags of the non-leaf entries, leaf = flags of the leaves;
 * the 2-MByte region containing address `in` uses t->pt. */
static inline void s2_identity(struct s2 *t, uintptr_t in, uint64_t dir, uint64_t leaf)
{
	uintptr_t region = in & ~(uintptr_t)0x1fffff;
	t->pml4[0] = (uintptr_t)t->pdpt | dir;
	for (int i = 0; i < 4; i++) {
		t->pdpt[i] = (uintptr_t)t->pd[i] | dir;
		for (int j = 0; j < 512; j++)
			t->pd[i][j] = ((uint64_t)i << 30 | (uint64_t)j << 21) | leaf | S2_LARGE;
	}
	t->pd[region >> 30][(region >> 21) & 511] = (uintptr_t)t->pt | dir;
	for (int k = 0; k < 512; k++)
		t->pt[k] = (region + ((uint64_t)k << 12)) | leaf;
}

/* The 4-KByte leaf of address p (in the region given to s2_identity). */
static inline uint64_t *s2_leaf(struct s2 *t, uintptr_t p)
{
	return &t->pt[(p >> 12) & 511];
}

#endif
