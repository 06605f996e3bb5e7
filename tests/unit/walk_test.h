/*
 * tests/unit/walk_test.h — control-register and paging-entry bits for the
 * page-walker unit tests (test_walk*.c), which drive mmu/walk.c directly
 * without the CPU core's headers.
 */
#ifndef NESTBOX_TESTS_UNIT_WALK_TEST_H
#define NESTBOX_TESTS_UNIT_WALK_TEST_H

#define CR0_PE   1ull
#define CR0_WP   (1ull << 16)
#define CR0_PG   (1ull << 31)
#define CR4_PSE  (1ull << 4)
#define CR4_PAE  (1ull << 5)
#define CR4_PGE  (1ull << 7)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE  (1ull << 22)
#define CR4_PKS  (1ull << 24)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Paging-structure entry bits. */
#define P  0x1ull
#define W  0x2ull
#define U  0x4ull
#define A  0x20ull
#define D  0x40ull
#define PS 0x80ull
#define G  0x100ull
#define XD (1ull << 63)

#define MiB (1ull << 20)
#define GiB (1ull << 30)

#endif
