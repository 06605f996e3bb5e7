/*
 * tests/unit/test_i8254.c — the 8254 PIT (devices/i8254.c) on virtual time:
 * modes 0-5, IRQ0 edges and their timing, counter reads (live, latched,
 * read-back, LSB/MSB access, BCD), counter 2 gated by port 0x61 with its
 * OUT on bit 5, the refresh toggle, new counts in periodic modes.
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "devices/clock.h"
#include "devices/i8254.h"
#include "devices/ioport.h"
#include "devices/machine.h"

static struct machine *m;
static struct i8254 pit;
static int level, rises, falls;
static uint64_t last_rise_ns;

static void irq_cb(void *opaque, int n, int lv)
{
	if (lv && !level) {
		rises++;
		last_rise_ns = clock_now(m);
	}
	if (!lv && level)
		falls++;
	level = lv;
}

static void outb(uint16_t port, uint8_t v)
{
	ioport_write(m->io, port, 1, v);
}

static uint8_t inb(uint16_t port)
{
	return (uint8_t)ioport_read(m->io, port, 1);
}

/* Advance virtual time by ns, running every timer at its deadline. */
static void advance(uint64_t ns)
{
	uint64_t target = clock_now(m) + ns;
	for (;;) {
		uint64_t next = m->timers ? m->timers->deadline : UINT64_MAX;
		uint64_t now = clock_now(m);
		uint64_t to = next < target ? next : target;
		if (to > now)
			m->cpu[0]->clock_offset += (int64_t)(to - now);
		clock_run_timers(m);
		if (to >= target)
			break;
	}
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	pit = (struct i8254){ 0 };
	level = rises = falls = 0;
	i8254_init(m, &pit);
	pit.irq0 = (struct irq_line){ irq_cb, NULL, 0 };
}

static void teardown(void)
{
	machine_free(m);
}

static uint16_t read16(uint16_t port)
{
	uint8_t lo = inb(port);
	return (uint16_t)(lo | inb(port) << 8);
}

START_TEST(mode2_periodic)
{
	outb(0x43, 0x34); /* ch0, LSB/MSB, mode 2, binary */
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	ck_assert_int_eq(level, 1); /* mode 2: OUT high from the control word */
	rises = 0;
	advance(500000);
	uint16_t c = read16(0x40);
	/* 500 us = 596.6 ticks */
	ck_assert_int_ge(c, 1193 - 598);
	ck_assert_int_le(c, 1193 - 595);
	ck_assert_int_eq(rises, 0);
	advance(10000000 - 500000);
	ck_assert_int_eq(rises, 10); /* 1193 ticks = 0.99985 ms */
	ck_assert_int_eq(level, 1);
	/* The 10th edge at 10 * 1193 ticks. */
	ck_assert_uint_eq(last_rise_ns, (11930ull * 1000000000 + PIT_HZ - 1) / PIT_HZ);
}
END_TEST

START_TEST(mode0_oneshot)
{
	outb(0x43, 0x30); /* ch0, mode 0 */
	ck_assert_int_eq(level, 0);
	outb(0x40, 100);
	outb(0x40, 0);
	advance(83000); /* 99.03 ticks */
	ck_assert_int_eq(level, 0);
	ck_assert_uint_eq(read16(0x40), 1);
	advance(1000);
	ck_assert_int_eq(level, 1);
	ck_assert_int_eq(rises, 1);
	/* Counts on through zero, OUT stays high. */
	advance(100000);
	ck_assert_int_eq(level, 1);
	uint16_t c = read16(0x40);
	ck_assert_int_gt(c, 65000);
	/* A new count (first byte) sets OUT low at once. */
	outb(0x40, 10);
	ck_assert_int_eq(level, 0);
	outb(0x40, 0);
	advance(10000);
	ck_assert_int_eq(rises, 2);
}
END_TEST

START_TEST(mode3_square)
{
	outb(0x43, 0x36); /* ch0, mode 3 */
	outb(0x40, 0);
	outb(0x40, 0); /* 65536: 18.2 Hz */
	ck_assert_int_eq(level, 1);
	rises = 0;
	advance(1000000000);
	ck_assert_int_eq(rises, 18);
	ck_assert_int_eq(falls, 18); /* last fall at 18.5 periods = 1.016 s */
	/* Odd count: high 3, low 2. */
	outb(0x43, 0x16); /* LSB only, mode 3 */
	outb(0x40, 5);
	rises = falls = 0;
	/* Counting starts at the tick in progress (up to 838 ns ago). */
	advance(1600); /* < 2 ticks */
	ck_assert_int_eq(falls, 0);
	advance(1000); /* >= 3 ticks */
	ck_assert_int_eq(falls, 1);
	ck_assert_int_eq(rises, 0);
	advance(1700); /* >= 5 ticks */
	ck_assert_int_eq(rises, 1);
}
END_TEST

START_TEST(mode4_strobe)
{
	outb(0x43, 0x38); /* ch0, mode 4 */
	outb(0x40, 50);
	outb(0x40, 0);
	ck_assert_int_eq(level, 1);
	rises = 0;
	advance(1000000);
	ck_assert_int_eq(rises, 1);
	ck_assert_int_eq(falls, 1);
	ck_assert_int_eq(level, 1);
}
END_TEST

START_TEST(mode2_new_count)
{
	outb(0x43, 0x34);
	outb(0x40, 0xe8);
	outb(0x40, 0x03); /* 1000 ticks */
	rises = 0;
	advance(500000); /* ~597 ticks */
	outb(0x40, 100);
	outb(0x40, 0);
	/* The current period still ends at 1000 ticks. */
	ck_assert_uint_gt(read16(0x40), 100);
	advance(837000 - 500000); /* tick 998.7 */
	ck_assert_int_eq(rises, 0);
	advance(2000);
	ck_assert_int_eq(rises, 1);
	advance(84000 * 5);
	ck_assert_int_eq(rises, 6);
	ck_assert_uint_le(read16(0x40), 100);
}
END_TEST

START_TEST(latch_and_readback)
{
	outb(0x43, 0x34);
	outb(0x40, 0x00);
	outb(0x40, 0x10); /* 4096 */
	advance(839);     /* one tick */
	outb(0x43, 0x00); /* latch ch0 */
	advance(500000);
	outb(0x43, 0x00); /* ignored: latch unread */
	ck_assert_uint_eq(read16(0x40), 4095);
	ck_assert_uint_lt(read16(0x40), 4095 - 500);
	/* Read-back status + count of ch0 and ch2. */
	outb(0x43, 0xb0);        /* ch2, mode 0 */
	outb(0x43, 0xc2 | 0x08); /* latch count+status of ch0 and ch2 */
	uint8_t st0 = inb(0x40);
	ck_assert_uint_eq(st0 & 0x3f, 0x34);
	ck_assert_uint_eq(st0 & 0x80, 0x80); /* mode 2 OUT high */
	ck_assert_uint_eq(st0 & 0x40, 0);
	read16(0x40);
	uint8_t st2 = inb(0x42);
	ck_assert_uint_eq(st2, 0x40 | 0x30); /* OUT low, null count, mode 0 */
	/* Status only. */
	outb(0x43, 0xe2);
	ck_assert_uint_eq(inb(0x40) & 0x3f, 0x34);
}
END_TEST

START_TEST(access_modes_and_bcd)
{
	outb(0x43, 0x90); /* ch2, LSB only, mode 0 */
	outb(0x61, 0x01);
	outb(0x42, 200);
	advance(838 * 10 + 1);
	ck_assert_uint_eq(inb(0x42), 190);
	ck_assert_uint_eq(inb(0x42), 190);
	outb(0x43, 0xa0); /* MSB only */
	outb(0x42, 0x02); /* 512 */
	advance(838 * 2 + 1);
	ck_assert_uint_eq(inb(0x42), 0x01); /* 510 */
	outb(0x43, 0xb1);                   /* LSB/MSB, mode 0, BCD */
	outb(0x42, 0x00);
	outb(0x42, 0x10); /* 1000 decimal */
	advance(838 * 10 + 1);
	ck_assert_uint_eq(read16(0x42), 0x0990);
	outb(0x42, 0x00);
	outb(0x42, 0x00); /* 0 = 10000 in BCD */
	advance(838 * 1 + 1);
	ck_assert_uint_eq(read16(0x42), 0x9999);
}
END_TEST

START_TEST(ch2_gate_port61)
{
	/* What Linux's PIT calibration does. */
	outb(0x61, (inb(0x61) & ~0x02) & ~0x01);
	outb(0x43, 0xb0);
	outb(0x42, 0xff);
	outb(0x42, 0xff);
	advance(100000);
	ck_assert_uint_eq(read16(0x42), 0xffff); /* gate low: no counting */
	ck_assert_uint_eq(inb(0x61) & 0x20, 0);
	outb(0x61, 0x01);
	ck_assert_uint_eq(inb(0x61) & 0x0f, 0x01);
	advance(100000);
	uint16_t c = read16(0x42);
	ck_assert_int_ge(c, 0xffff - 120);
	ck_assert_int_le(c, 0xffff - 118);
	/* Gate low pauses mode 0. */
	outb(0x61, 0x00);
	advance(100000);
	ck_assert_uint_eq(read16(0x42), c);
	outb(0x61, 0x01);
	advance(55000000); /* > 65535 ticks (54.9 ms) in total */
	ck_assert_uint_eq(inb(0x61) & 0x20, 0x20);
	/* Mode 1 one-shot triggered by the gate. */
	outb(0x43, 0xb2);
	outb(0x42, 100);
	outb(0x42, 0);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0x20); /* waiting for a trigger */
	outb(0x61, 0x00);
	outb(0x61, 0x01);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0);
	advance(80000);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0);
	advance(5000);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0x20);
	/* Retrigger. */
	outb(0x61, 0x00);
	outb(0x61, 0x01);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0);
}
END_TEST

START_TEST(refresh_toggle)
{
	int changes = 0;
	uint8_t prev = inb(0x61) & 0x10;
	for (int i = 0; i < 100; i++) {
		advance(7543);
		uint8_t b = inb(0x61) & 0x10;
		changes += b != prev;
		prev = b;
	}
	ck_assert_int_ge(changes, 48);
	ck_assert_int_le(changes, 51);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("i8254");
	TCase *tc = tcase_create("pit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mode2_periodic);
	tcase_add_test(tc, mode0_oneshot);
	tcase_add_test(tc, mode3_square);
	tcase_add_test(tc, mode4_strobe);
	tcase_add_test(tc, mode2_new_count);
	tcase_add_test(tc, latch_and_readback);
	tcase_add_test(tc, access_modes_and_bcd);
	tcase_add_test(tc, ch2_gate_port61);
	tcase_add_test(tc, refresh_toggle);
	suite_add_tcase(s, tc);
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
