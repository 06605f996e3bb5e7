/*
 * tests/unit/test_acpi_pm.c — the PIIX4 PM block (devices/acpi_pm.c): PM
 * timer rate and TMR_STS carry, SCI from PM1/GPE0 status & enable & SCI_EN,
 * the APM handshake, S5 power-off, relocation, the 0xCF9 reset register.
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "devices/acpi_pm.h"
#include "devices/clock.h"
#include "devices/ioport.h"
#include "devices/machine.h"

#define PB 0x600

static struct machine *m;
static struct acpi_pm *pm;
static int sci;

static void sci_set(void *opaque, int n, int level)
{
	sci = level;
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	struct irq_line l = { sci_set, NULL, 9 };
	sci = 0;
	pm = acpi_pm_init(m, PB, &l);
	ck_assert_ptr_nonnull(pm);
}

static void teardown(void)
{
	acpi_pm_free(pm);
	machine_free(m);
}

static void advance(uint64_t ns)
{
	m->cpu[0]->clock_offset += (int64_t)ns;
	clock_run_timers(m);
}

START_TEST(pm_timer_rate)
{
	uint32_t t0 = ioport_read(m->io, PB + 8, 4);
	advance(1000000000ull); /* 1 s */
	uint32_t t1 = ioport_read(m->io, PB + 8, 4);
	uint32_t d = (t1 - t0) & 0xffffff;
	ck_assert(d >= 3579544 && d <= 3579546);
	ck_assert_uint_eq(ioport_read(m->io, PB + 8, 4) >> 24, 0);
	/* 16-bit halves agree with the dword. */
	ck_assert_uint_eq(ioport_read(m->io, PB + 8, 2), t1 & 0xffff);
	ck_assert_uint_eq(ioport_read(m->io, PB + 10, 2), t1 >> 16);
	/* Writes are ignored. */
	ioport_write(m->io, PB + 8, 4, 0);
	ck_assert_uint_eq(ioport_read(m->io, PB + 8, 4), t1);
}
END_TEST

START_TEST(tmr_carry_sci)
{
	/* 2^23 ticks = about 2.343 s. */
	advance(2343000000ull);
	ck_assert_uint_eq(ioport_read(m->io, PB, 2) & 1, 0);
	advance(1000000ull);
	ck_assert_uint_eq(ioport_read(m->io, PB, 2) & 1, 1);
	ck_assert_int_eq(sci, 0); /* not enabled */
	ioport_write(m->io, PB + 2, 2, ACPI_PM1_TMR);
	ck_assert_int_eq(sci, 0); /* SCI_EN clear */
	ioport_write(m->io, PB + 4, 2, ACPI_PM1_SCI_EN);
	ck_assert_int_eq(sci, 1);
	ioport_write(m->io, PB, 2, ACPI_PM1_TMR); /* write 1 to clear */
	ck_assert_int_eq(sci, 0);
	ck_assert_uint_eq(ioport_read(m->io, PB, 2) & 1, 0);
	/* Power button. */
	acpi_pm_power_button(pm);
	ck_assert_int_eq(sci, 0);
	ioport_write(m->io, PB + 2, 2, ACPI_PM1_TMR | ACPI_PM1_PWRBTN);
	ck_assert_int_eq(sci, 1);
	ck_assert_uint_eq(ioport_read(m->io, PB, 2), ACPI_PM1_PWRBTN);
	ioport_write(m->io, PB, 2, ACPI_PM1_PWRBTN);
	ck_assert_int_eq(sci, 0);
	/* GPE0. */
	acpi_pm_set_gpe(pm, 1);
	ck_assert_int_eq(sci, 0);
	ioport_write(m->io, PB + 0xe, 1, 2);
	ck_assert_int_eq(sci, 1);
	ck_assert_uint_eq(ioport_read(m->io, PB + 0xc, 1), 2);
	ioport_write(m->io, PB + 0xc, 1, 2);
	ck_assert_int_eq(sci, 0);
}
END_TEST

START_TEST(apm_handshake)
{
	acpi_pm_map_apm(pm, 0xf1, 0xf0);
	ck_assert_uint_eq(ioport_read(m->io, PB + 4, 2) & 1, 0);
	ioport_write(m->io, 0xb2, 1, 0xf1);
	ck_assert_uint_eq(ioport_read(m->io, PB + 4, 2) & 1, 1);
	ioport_write(m->io, 0xb2, 1, 0xf0);
	ck_assert_uint_eq(ioport_read(m->io, PB + 4, 2) & 1, 0);
}
END_TEST

START_TEST(s5_poweroff)
{
	/* S3 (SLP_TYP 1) is ignored. */
	ioport_write(m->io, PB + 4, 2, ACPI_PM1_SLP_EN | 1u << 10 | 1);
	ck_assert(!m->exit_requested);
	ck_assert_uint_eq(ioport_read(m->io, PB + 4, 2), 1u << 10 | 1); /* SLP_EN reads 0 */
	ioport_write(m->io, PB + 4, 2, ACPI_PM1_SLP_EN | 1);
	ck_assert(m->exit_requested);
	ck_assert_int_eq(m->exit_code, 0);
	ck_assert(m->cpu[0]->pending & PEND_EXIT);
}
END_TEST

START_TEST(relocate_and_reset)
{
	acpi_pm_set_base(pm, 0xb000, true);
	ck_assert_uint_eq(ioport_read(m->io, PB + 4, 2), 0xffff);
	ioport_write(m->io, 0xb004, 2, 1);
	ck_assert_uint_eq(ioport_read(m->io, 0xb004, 2), 1);
	acpi_pm_set_base(pm, 0xb000, false);
	ck_assert_uint_eq(ioport_read(m->io, 0xb004, 2), 0xffff);
	/* 0xCF9: 02h alone does nothing, 06h resets. */
	ioport_write(m->io, 0xcf9, 1, 0x02);
	ck_assert(!m->reset_requested);
	ck_assert_uint_eq(ioport_read(m->io, 0xcf9, 1), 0x02);
	ioport_write(m->io, 0xcf9, 1, 0x06);
	ck_assert(m->reset_requested);
	ck_assert(m->cpu[0]->pending & PEND_EXIT);
	ck_assert(!m->exit_requested);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("acpi_pm");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, pm_timer_rate);
	tcase_add_test(t, tmr_carry_sci);
	tcase_add_test(t, apm_handshake);
	tcase_add_test(t, s5_poweroff);
	tcase_add_test(t, relocate_and_reset);
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
