/*
 * tests/unit/test_mc146818.c — the RTC/CMOS (devices/mc146818.c) on virtual
 * time: deterministic start time, BCD/binary and 12/24 h formats, the SET
 * bit, UIP timing, divider reset, periodic/alarm/update-ended interrupts
 * and IRQ8, register C clear-on-read, the NMI bit of port 0x70, NVRAM and
 * its checksum.
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "devices/clock.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/mc146818.h"

static struct machine *m;
static struct mc146818 rtc;
static int level, rises;

static void irq_cb(void *opaque, int n, int lv)
{
	if (lv && !level)
		rises++;
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

static uint8_t rd(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

static void wr(uint8_t idx, uint8_t v)
{
	outb(0x70, idx);
	outb(0x71, v);
}

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

/* Advance in steps, acknowledging (reading C) whenever IRQ8 is up, like an
 * interrupt handler; returns how many interrupts were handled. */
static int run_handler(uint64_t ns, uint64_t step, uint8_t *flags_seen)
{
	int n = 0;
	for (uint64_t t = 0; t < ns; t += step) {
		advance(step);
		if (level) {
			uint8_t c = rd(RTC_REG_C);
			ck_assert_uint_eq(c & 0x80, 0x80);
			if (flags_seen)
				*flags_seen |= c;
			ck_assert_int_eq(level, 0);
			n++;
		}
	}
	return n;
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1, .deterministic = true };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	rtc = (struct mc146818){ 0 };
	level = rises = 0;
	mc146818_init(m, &rtc);
	rtc.irq = (struct irq_line){ irq_cb, NULL, 8 };
}

static void teardown(void)
{
	machine_free(m);
}

START_TEST(start_time)
{
	/* 2024-01-01 00:00:00, a Monday (DOW 2), BCD, 24 h. */
	ck_assert_uint_eq(rd(RTC_SEC), 0);
	ck_assert_uint_eq(rd(RTC_MIN), 0);
	ck_assert_uint_eq(rd(RTC_HOUR), 0);
	ck_assert_uint_eq(rd(RTC_DOW), 2);
	ck_assert_uint_eq(rd(RTC_DAY), 1);
	ck_assert_uint_eq(rd(RTC_MONTH), 1);
	ck_assert_uint_eq(rd(RTC_YEAR), 0x24);
	ck_assert_uint_eq(rd(RTC_CENTURY), 0x20);
	ck_assert_uint_eq(rd(RTC_REG_A), 0x26);
	ck_assert_uint_eq(rd(RTC_REG_B), 0x02);
	ck_assert_uint_eq(rd(RTC_REG_D), 0x80);
	advance(999999999);
	ck_assert_uint_eq(rd(RTC_SEC), 0);
	advance(1);
	ck_assert_uint_eq(rd(RTC_SEC), 1);
	advance(60ull * 1000000000);
	ck_assert_uint_eq(rd(RTC_SEC), 1);
	ck_assert_uint_eq(rd(RTC_MIN), 1);
	ck_assert_int_eq(mc146818_get_time(&rtc), RTC_FIXED_EPOCH + 61);
	/* Year end rollover, leap day. */
	mc146818_set_time(&rtc, 1709164799); /* 2024-02-28 23:59:59 */
	advance(1000000000);
	ck_assert_uint_eq(rd(RTC_DAY), 0x29);
	ck_assert_uint_eq(rd(RTC_MONTH), 0x02);
	ck_assert_uint_eq(rd(RTC_HOUR), 0x00);
	ck_assert_uint_eq(rd(RTC_DOW), 5);   /* Thursday */
	mc146818_set_time(&rtc, 4102444799); /* 2099-12-31 23:59:59 */
	advance(1000000000);
	ck_assert_uint_eq(rd(RTC_YEAR), 0x00);
	ck_assert_uint_eq(rd(RTC_CENTURY), 0x21);
	ck_assert_uint_eq(rd(RTC_MONTH), 0x01);
}
END_TEST

START_TEST(formats)
{
	wr(RTC_REG_B, 0x06); /* binary, 24 h */
	mc146818_set_time(&rtc, RTC_FIXED_EPOCH + 13 * 3600 + 5 * 60 + 59);
	ck_assert_uint_eq(rd(RTC_HOUR), 13);
	ck_assert_uint_eq(rd(RTC_MIN), 5);
	ck_assert_uint_eq(rd(RTC_YEAR), 24);
	wr(RTC_REG_B, 0x04); /* binary, 12 h */
	mc146818_set_time(&rtc, RTC_FIXED_EPOCH + 13 * 3600 + 5 * 60 + 59);
	ck_assert_uint_eq(rd(RTC_HOUR), 0x81);                   /* 1 PM */
	wr(RTC_REG_B, 0x00);                                     /* BCD, 12 h */
	mc146818_set_time(&rtc, RTC_FIXED_EPOCH + 12 * 60 + 59); /* 00:12:59 */
	ck_assert_uint_eq(rd(RTC_HOUR), 0x12);                   /* 12 AM */
	advance(1000000000);
	ck_assert_uint_eq(rd(RTC_MIN), 0x13);
	ck_assert_uint_eq(rd(RTC_SEC), 0x00);
	mc146818_set_time(&rtc, RTC_FIXED_EPOCH + 23 * 3600 + 59 * 60 + 59);
	ck_assert_uint_eq(rd(RTC_HOUR), 0x91); /* 11 PM */
	advance(1000000000);
	ck_assert_uint_eq(rd(RTC_HOUR), 0x12);
	ck_assert_uint_eq(rd(RTC_DAY), 0x02);
}
END_TEST

START_TEST(set_bit)
{
	advance(300000000);         /* phase: next update 700 ms ahead */
	wr(RTC_REG_B, 0x82 | 0x10); /* SET (clears UIE) */
	ck_assert_uint_eq(rd(RTC_REG_B), 0x82);
	wr(RTC_SEC, 0x30);
	wr(RTC_MIN, 0x45);
	wr(RTC_HOUR, 0x10);
	wr(RTC_DAY, 0x15);
	wr(RTC_MONTH, 0x06);
	wr(RTC_YEAR, 0x99);
	wr(RTC_CENTURY, 0x19);
	advance(5000000000ull);
	ck_assert_uint_eq(rd(RTC_SEC), 0x30);       /* frozen */
	ck_assert_uint_eq(rd(RTC_REG_A) & 0x80, 0); /* no UIP while SET */
	wr(RTC_REG_B, 0x02);
	/* Updates resume on the divider's second boundaries. */
	advance(600000000);
	ck_assert_uint_eq(rd(RTC_SEC), 0x30);
	advance(200000000);
	ck_assert_uint_eq(rd(RTC_SEC), 0x31);
	ck_assert_int_eq(mc146818_get_time(&rtc), 929443531); /* 1999-06-15 10:45:31 */
}
END_TEST

START_TEST(uip)
{
	/* Next update at 1 s. */
	advance(999755000);
	ck_assert_uint_eq(rd(RTC_REG_A), 0x26);
	advance(2000);
	ck_assert_uint_eq(rd(RTC_REG_A), 0xa6);
	ck_assert_uint_eq(rd(RTC_SEC), 0x00);
	advance(243000);
	ck_assert_uint_eq(rd(RTC_REG_A), 0x26);
	ck_assert_uint_eq(rd(RTC_SEC), 0x01);
	/* Divider reset holds the clock; leaving it, the first update is 500
	 * ms later. */
	wr(RTC_REG_A, 0x76);
	advance(3000000000ull);
	ck_assert_uint_eq(rd(RTC_SEC), 0x01);
	ck_assert_uint_eq(rd(RTC_REG_A), 0x76);
	wr(RTC_REG_A, 0x26);
	advance(499000000);
	ck_assert_uint_eq(rd(RTC_SEC), 0x01);
	advance(1000000);
	ck_assert_uint_eq(rd(RTC_SEC), 0x02);
}
END_TEST

START_TEST(periodic)
{
	/* PF sets without PIE and without an interrupt. */
	advance(2000000);
	ck_assert_uint_eq(rd(RTC_REG_C), 0x40);
	ck_assert_uint_eq(rd(RTC_REG_C), 0x00);
	ck_assert_int_eq(rises, 0);
	ck_assert_ptr_null(m->timers); /* nothing enabled: no timer */
	wr(RTC_REG_B, 0x42);           /* PIE */
	uint8_t seen = 0;
	int n = run_handler(100000000, 50000, &seen); /* 100 ms at 1024 Hz */
	ck_assert_int_ge(n, 102);
	ck_assert_int_le(n, 103);
	ck_assert_uint_eq(seen & 0x70, 0x40 | 0x10 * 0);
	/* 2 Hz (RS = 15). */
	wr(RTC_REG_A, 0x2f);
	n = run_handler(2000000000, 1000000, NULL);
	ck_assert_int_eq(n, 4);
	/* IRQ stays up until C is read. */
	advance(600000000);
	ck_assert_int_eq(level, 1);
	int r = rises;
	advance(600000000);
	ck_assert_int_eq(rises, r);
	rd(RTC_REG_C);
	ck_assert_int_eq(level, 0);
	/* System reset clears the interrupt enables and flags. */
	advance(600000000);
	ck_assert_int_eq(level, 1);
	mc146818_reset(&rtc);
	ck_assert_int_eq(level, 0);
	ck_assert_uint_eq(rd(RTC_REG_B), 0x02);
	ck_assert_uint_eq(rd(RTC_REG_A), 0x2f);
	ck_assert_ptr_null(m->timers);
}
END_TEST

START_TEST(update_ended)
{
	wr(RTC_REG_B, 0x12); /* UIE */
	uint8_t seen = 0;
	int n = run_handler(3500000000ull, 10000000, &seen);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(seen & 0x10, 0x10);
	ck_assert_uint_eq(rd(RTC_SEC), 0x03);
}
END_TEST

START_TEST(alarm)
{
	wr(RTC_SEC_ALARM, 0x05);
	wr(RTC_MIN_ALARM, 0x00);
	wr(RTC_HOUR_ALARM, 0x00);
	wr(RTC_REG_B, 0x22); /* AIE */
	advance(4500000000ull);
	ck_assert_int_eq(level, 0);
	advance(1000000000);
	ck_assert_int_eq(level, 1);
	ck_assert_uint_eq(rd(RTC_REG_C), 0xf0); /* IRQF, AF, UF (and PF: RS = 6) */
	ck_assert_int_eq(level, 0);
	/* Don't-care hours and minutes: once a minute at :05. */
	wr(RTC_HOUR_ALARM, 0xc0);
	wr(RTC_MIN_ALARM, 0xff);
	int n = run_handler(180000000000ull, 500000000, NULL);
	ck_assert_int_eq(n, 3);
	/* AF found lazily across a long gap with no interrupt enabled. */
	wr(RTC_REG_B, 0x02);
	rd(RTC_REG_C);
	advance(120000000000ull);
	ck_assert_uint_eq(rd(RTC_REG_C) & 0x20, 0x20);
}
END_TEST

START_TEST(nvram)
{
	outb(0x70, 0x8f);
	ck_assert(rtc.nmi_disabled);
	ck_assert_uint_eq(rtc.index, 0x0f);
	outb(0x71, 0x5a);
	ck_assert_uint_eq(mc146818_get_byte(&rtc, 0x0f), 0x5a);
	outb(0x70, 0x0f);
	ck_assert(!rtc.nmi_disabled);
	ck_assert_uint_eq(inb(0x71), 0x5a);
	mc146818_set_byte(&rtc, 0x15, 0x80);
	mc146818_set_byte(&rtc, 0x16, 0x02);
	mc146818_set_byte(&rtc, 0x2d, 0xff);
	mc146818_set_byte(&rtc, 0x34, 0x00);
	mc146818_set_byte(&rtc, 0x35, 0x07);
	ck_assert_uint_eq(rd(0x2e), 0x01);
	ck_assert_uint_eq(rd(0x2f), 0x81);
	ck_assert_uint_eq(rd(0x35), 0x07);
	wr(0x7f, 0xee);
	ck_assert_uint_eq(rd(0x7f), 0xee);
	ck_assert_uint_eq(rd(0xff), 0xee); /* index is 7 bits */
	wr(RTC_REG_D, 0x00);
	ck_assert_uint_eq(rd(RTC_REG_D), 0x80);
	wr(RTC_REG_C, 0xff);
	ck_assert_uint_eq(rd(RTC_REG_C), 0x00);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mc146818");
	TCase *tc = tcase_create("rtc");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, start_time);
	tcase_add_test(tc, formats);
	tcase_add_test(tc, set_bit);
	tcase_add_test(tc, uip);
	tcase_add_test(tc, periodic);
	tcase_add_test(tc, update_ended);
	tcase_add_test(tc, alarm);
	tcase_add_test(tc, nvram);
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
