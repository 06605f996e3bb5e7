/*
 * tests/unit/test_hpet.c — the HPET (devices/hpet.c) on a bare machine:
 * capabilities, the main counter against virtual time, one-shot and
 * periodic comparators (the Linux programming sequence), 32-bit mode,
 * legacy replacement routing and level-triggered status.
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "devices/clock.h"
#include "devices/hpet.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

#define HB 0xfed00000ull

static struct machine *m;
static struct hpet *h;
/* Line n: 0-23 IOAPIC pins, 24/25 legacy IRQ0/IRQ8. */
static int rises[26], level[26], legacy_on, legacy_calls;

static void line_set(void *opaque, int n, int lv)
{
	if (lv && !level[n])
		rises[n]++;
	level[n] = lv;
}

static void legacy_cb(void *opaque, bool on)
{
	legacy_on = on;
	legacy_calls++;
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	h = hpet_init(m, HB);
	ck_assert_ptr_nonnull(h);
	struct irq_line pins[HPET_NPINS], leg[2];
	for (int i = 0; i < HPET_NPINS; i++)
		pins[i] = (struct irq_line){ line_set, NULL, i };
	leg[0] = (struct irq_line){ line_set, NULL, 24 };
	leg[1] = (struct irq_line){ line_set, NULL, 25 };
	hpet_connect(h, pins, leg, legacy_cb, NULL);
	for (int i = 0; i < 26; i++)
		rises[i] = level[i] = 0;
	legacy_on = legacy_calls = 0;
}

static void teardown(void)
{
	hpet_free(h);
	machine_free(m);
}

static uint64_t rd(unsigned off, unsigned size)
{
	return phys_read(m->mmu, HB + off, size);
}
static void wr(unsigned off, unsigned size, uint64_t v)
{
	phys_write(m->mmu, HB + off, size, v);
}
static void advance(uint64_t ns)
{
	m->cpu[0]->clock_offset += (int64_t)ns;
	clock_run_timers(m);
}

START_TEST(caps_and_counter)
{
	uint64_t cap = rd(0, 8);
	ck_assert_uint_eq(cap >> 32, 10000000u);
	ck_assert_uint_eq((cap >> 8) & 0x1f, 2);
	ck_assert(cap & (1u << 13));
	ck_assert(cap & (1u << 15));
	ck_assert_uint_eq((cap >> 16) & 0xffff, 0x8086);
	ck_assert_uint_eq(rd(4, 4), 10000000u);
	ck_assert(rd(0x100, 8) & (1u << 4));
	ck_assert_uint_eq(rd(0x104, 4), 0x00f00000u);
	/* Halted counter. */
	advance(1000);
	ck_assert_uint_eq(rd(0xf0, 8), 0);
	wr(0x10, 4, 1);
	advance(1000);
	ck_assert_uint_eq(rd(0xf0, 8), 100);
	advance(25);
	ck_assert_uint_eq(rd(0xf0, 4), 102);
	wr(0x10, 4, 0);
	advance(5000);
	ck_assert_uint_eq(rd(0xf0, 8), 102);
	/* Counter writable while halted; high dword readable on its own. */
	wr(0xf4, 4, 1);
	ck_assert_uint_eq(rd(0xf0, 8), (1ull << 32) | 102);
	ck_assert_uint_eq(rd(0xf4, 4), 1);
}
END_TEST

START_TEST(oneshot_routed)
{
	wr(0x10, 4, 1);
	advance(1000); /* counter 100 */
	/* Timer 2: edge, enabled, route pin 21, 64-bit one-shot. */
	wr(0x140, 4, (21u << 9) | (1u << 2));
	ck_assert_uint_eq((rd(0x140, 4) >> 9) & 0x1f, 21);
	wr(0x148, 8, 150);
	ck_assert_uint_eq(rd(0x148, 8), 150);
	advance(499);
	ck_assert_int_eq(rises[21], 0);
	advance(1);
	ck_assert_int_eq(rises[21], 1);
	ck_assert_int_eq(level[21], 0); /* pulse */
	advance(1000000);
	ck_assert_int_eq(rises[21], 1); /* 64-bit one-shot: once */
	/* Edge timers leave the status register alone. */
	ck_assert_uint_eq(rd(0x20, 4), 0);
	/* Not allowed route (pin 5): no output. */
	wr(0x140, 4, (5u << 9) | (1u << 2));
	wr(0x148, 8, rd(0xf0, 8) + 10);
	advance(100);
	ck_assert_int_eq(rises[5], 0);
}
END_TEST

START_TEST(periodic_legacy)
{
	/* Legacy replacement + enable. */
	wr(0x10, 4, 3);
	ck_assert_int_eq(legacy_on, 1);
	ck_assert_int_eq(legacy_calls, 1);
	/* Linux's sequence: periodic | VAL_SET | enable | 32-bit, write the
	 * first match, then the period. */
	wr(0x100, 4, (1u << 3) | (1u << 6) | (1u << 2) | (1u << 8));
	uint32_t now = (uint32_t)rd(0xf0, 4);
	wr(0x108, 4, now + 100);
	ck_assert_uint_eq(rd(0x100, 4) & (1u << 6), 0); /* VAL_SET self-clears */
	wr(0x108, 4, 100);
	ck_assert_uint_eq(rd(0x108, 4), now + 100);
	advance(999);
	ck_assert_int_eq(rises[24], 0);
	advance(1);
	ck_assert_int_eq(rises[24], 1);
	ck_assert_uint_eq(rd(0x108, 4), now + 200);
	advance(1000);
	ck_assert_int_eq(rises[24], 2);
	for (int i = 0; i < 3; i++)
		advance(1000);
	ck_assert_int_eq(rises[24], 5);
	/* Far behind (callbacks late): missed periods coalesce into one. */
	advance(2500);
	ck_assert_int_eq(rises[24], 6);
	advance(499);
	ck_assert_int_eq(rises[24], 6);
	advance(1);
	ck_assert_int_eq(rises[24], 7);
	ck_assert_int_eq(rises[2], 0); /* route ignored in legacy mode */
	/* Timer 1 goes to IRQ8 in legacy mode. */
	wr(0x120, 4, 1u << 2);
	wr(0x128, 8, rd(0xf0, 8) + 10);
	advance(100);
	ck_assert_int_eq(rises[25], 1);
	/* Disable: the counter and the interrupts stop. */
	wr(0x10, 4, 0);
	ck_assert_int_eq(legacy_on, 0);
	advance(10000);
	ck_assert_int_eq(rises[24], 7);
}
END_TEST

START_TEST(level_status_32bit)
{
	wr(0x10, 4, 1);
	/* Timer 1: level, enabled, 32-bit, route pin 20. */
	wr(0x120, 4, (20u << 9) | (1u << 2) | (1u << 1) | (1u << 8));
	wr(0x12c, 4, 0xffffffffu); /* ignored in 32-bit mode */
	wr(0x128, 4, 30);
	ck_assert_uint_eq(rd(0x128, 8), 30);
	advance(300);
	ck_assert_int_eq(level[20], 1);
	ck_assert_uint_eq(rd(0x20, 4), 2);
	wr(0x20, 4, 1); /* wrong bit: nothing */
	ck_assert_int_eq(level[20], 1);
	wr(0x20, 4, 2);
	ck_assert_int_eq(level[20], 0);
	ck_assert_uint_eq(rd(0x20, 4), 0);
	/* 32-bit one-shot matches again after the counter wraps (2^32 ticks). */
	advance((1ull << 32) * 10 - 1);
	ck_assert_int_eq(rises[20], 1);
	advance(1);
	ck_assert_int_eq(rises[20], 2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hpet");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, caps_and_counter);
	tcase_add_test(t, oneshot_routed);
	tcase_add_test(t, periodic_legacy);
	tcase_add_test(t, level_status_32bit);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
