/*
 * tests/unit/test_i8042.c — the keyboard controller (devices/i8042.c) and
 * port 0x92 (devices/port92.c): controller self/interface tests, command
 * byte, status bits, keyboard commands and set 2 -> set 1 translation,
 * port disables, AUX (mouse) commands as Linux's psmouse probe sends them,
 * IRQ1/IRQ12, the output port's A20 and reset lines, port 0x92.
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "devices/i8042.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/port92.h"

static struct machine *m;
static struct i8042 kbc;
static struct port92 p92;
static int lv[2], rises[2];

static void irq_cb(void *opaque, int n, int level)
{
	int i = n == 12;
	if (level && !lv[i])
		rises[i]++;
	lv[i] = level;
}

static void outb(uint16_t port, uint8_t v)
{
	ioport_write(m->io, port, 1, v);
}

static uint8_t inb(uint16_t port)
{
	return (uint8_t)ioport_read(m->io, port, 1);
}

/* Read one byte the way a polling driver does: it must be there. */
static uint8_t rd(void)
{
	ck_assert_uint_eq(inb(0x64) & 0x01, 0x01);
	return inb(0x60);
}

static void cmd(uint8_t c)
{
	ck_assert_uint_eq(inb(0x64) & 0x02, 0); /* IBF never set */
	outb(0x64, c);
}

static void aux(uint8_t v)
{
	outb(0x64, 0xd4);
	outb(0x60, v);
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 2 << 20, .ncpus = 2 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	kbc = (struct i8042){ 0 };
	p92 = (struct port92){ 0 };
	lv[0] = lv[1] = rises[0] = rises[1] = 0;
	i8042_init(m, &kbc);
	port92_init(m, &p92);
	kbc.irq_kbd = (struct irq_line){ irq_cb, NULL, 1 };
	kbc.irq_aux = (struct irq_line){ irq_cb, NULL, 12 };
}

static void teardown(void)
{
	machine_free(m);
}

START_TEST(controller)
{
	ck_assert_uint_eq(inb(0x64), 0x10); /* empty, not inhibited, SYS 0 */
	cmd(0xaa);
	ck_assert_uint_eq(inb(0x64) & 0x0d, 0x0d); /* OBF, SYS, A2 */
	ck_assert_uint_eq(inb(0x60), 0x55);
	ck_assert_uint_eq(inb(0x64) & 0x01, 0);
	cmd(0xab);
	ck_assert_uint_eq(rd(), 0x00);
	cmd(0xa9);
	ck_assert_uint_eq(rd(), 0x00);
	cmd(0x20);
	ck_assert_uint_eq(rd(), 0x41);
	cmd(0x60);
	outb(0x60, 0x47);
	ck_assert_uint_eq(inb(0x64) & 0x08, 0); /* last write was data */
	cmd(0x20);
	ck_assert_uint_eq(rd(), 0x47);
	/* Controller RAM beyond the command byte. */
	cmd(0x65);
	outb(0x60, 0x99);
	cmd(0x25);
	ck_assert_uint_eq(rd(), 0x99);
	cmd(0xa7);
	cmd(0x20);
	ck_assert_uint_eq(rd(), 0x67);
	cmd(0xa8);
	cmd(0xad);
	cmd(0x20);
	ck_assert_uint_eq(rd(), 0x57);
	cmd(0xae);
	cmd(0xa4);
	ck_assert_uint_eq(rd(), 0xf1);
	/* Bytes replied while the IRQ is enabled raise IRQ1. */
	ck_assert_int_eq(rises[0], 9);
	ck_assert_int_eq(lv[0], 0);
}
END_TEST

START_TEST(keyboard_commands)
{
	cmd(0x60);
	outb(0x60, 0x45); /* XLAT, SYS, IRQ1 */
	outb(0x60, 0xff);
	ck_assert_int_eq(lv[0], 1);
	ck_assert_uint_eq(inb(0x60), 0xfa);
	ck_assert_int_eq(lv[0], 1); /* the next byte follows */
	ck_assert_uint_eq(inb(0x60), 0xaa);
	ck_assert_int_eq(lv[0], 0);
	ck_assert_int_eq(rises[0], 2);
	outb(0x60, 0xf2);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0xab);
	ck_assert_uint_eq(rd(), 0x41); /* translated ID */
	outb(0x60, 0xed);
	ck_assert_uint_eq(rd(), 0xfa);
	outb(0x60, 0x05);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(kbc.kbd_leds, 5);
	outb(0x60, 0xf3);
	ck_assert_uint_eq(rd(), 0xfa);
	outb(0x60, 0x20);
	ck_assert_uint_eq(rd(), 0xfa);
	outb(0x60, 0xee);
	ck_assert_uint_eq(rd(), 0xee);
	outb(0x60, 0xfe);
	ck_assert_uint_eq(rd(), 0xee);
	outb(0x60, 0x01); /* not a command */
	ck_assert_uint_eq(rd(), 0xfe);
	/* Scan code set. */
	cmd(0x60);
	outb(0x60, 0x05); /* no translation */
	outb(0x60, 0xf0);
	ck_assert_uint_eq(rd(), 0xfa);
	outb(0x60, 0x00);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0x02);
	outb(0x60, 0xf2);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0xab);
	ck_assert_uint_eq(rd(), 0x83);
	outb(0x60, 0xf0);
	rd();
	outb(0x60, 0x07);
	ck_assert_uint_eq(rd(), 0xfe);
	ck_assert_uint_eq(inb(0x64) & 1, 0);
}
END_TEST

START_TEST(keys)
{
	const uint8_t a_make[] = { 0x1c }, a_break[] = { 0xf0, 0x1c };
	const uint8_t right[] = { 0xe0, 0x74, 0xe0, 0xf0, 0x74 };
	cmd(0x60);
	outb(0x60, 0x41);
	i8042_kbd_put(&kbc, a_make, 1);
	ck_assert_int_eq(lv[0], 1);
	ck_assert_uint_eq(rd(), 0x1e);
	i8042_kbd_put(&kbc, a_break, 2);
	ck_assert_uint_eq(rd(), 0x9e);
	i8042_kbd_put(&kbc, right, 5);
	ck_assert_uint_eq(rd(), 0xe0);
	ck_assert_uint_eq(rd(), 0x4d);
	ck_assert_uint_eq(rd(), 0xe0);
	ck_assert_uint_eq(rd(), 0xcd);
	ck_assert_uint_eq(inb(0x64) & 1, 0);
	/* Keyboard port disabled: held until enabled. */
	cmd(0xad);
	i8042_kbd_put(&kbc, a_make, 1);
	ck_assert_uint_eq(inb(0x64) & 1, 0);
	cmd(0xae);
	ck_assert_uint_eq(rd(), 0x1e);
	/* Writing to the keyboard re-enables its interface. */
	cmd(0xad);
	outb(0x60, 0xee);
	ck_assert_uint_eq(rd(), 0xee);
	cmd(0x20);
	ck_assert_uint_eq(rd() & 0x10, 0);
	/* Scanning disabled: keys are not sent. */
	outb(0x60, 0xf5);
	ck_assert_uint_eq(rd(), 0xfa);
	i8042_kbd_put(&kbc, a_make, 1);
	ck_assert_uint_eq(inb(0x64) & 1, 0);
	outb(0x60, 0xf4);
	ck_assert_uint_eq(rd(), 0xfa);
	/* No translation: raw set 2. */
	cmd(0x60);
	outb(0x60, 0x01);
	i8042_kbd_put(&kbc, a_break, 2);
	ck_assert_uint_eq(rd(), 0xf0);
	ck_assert_uint_eq(rd(), 0x1c);
	/* 0xD2 puts a byte in the buffer as if from the keyboard. */
	cmd(0xd2);
	outb(0x60, 0x33);
	ck_assert_uint_eq(inb(0x64) & 0x21, 0x01);
	ck_assert_uint_eq(inb(0x60), 0x33);
}
END_TEST

START_TEST(mouse)
{
	cmd(0x60);
	outb(0x60, 0x47); /* both IRQs */
	/* Linux i8042_check_aux: loopback while the AUX port is disabled. */
	cmd(0xa7);
	cmd(0xd3);
	outb(0x60, 0x5a);
	ck_assert_uint_eq(inb(0x64) & 0x21, 0x21); /* OBF + AUXB */
	ck_assert_int_eq(lv[1], 1);
	ck_assert_int_eq(lv[0], 0);
	ck_assert_uint_eq(inb(0x60), 0x5a);
	ck_assert_int_eq(lv[1], 0);
	cmd(0xa8);
	/* psmouse: reset, get ID. */
	aux(0xff);
	ck_assert_uint_eq(inb(0x64) & 0x20, 0x20);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0xaa);
	ck_assert_uint_eq(rd(), 0x00);
	aux(0xf2);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0x00);
	/* Synaptics/ALPS style probes get plain answers. */
	aux(0xe6);
	aux(0xe6);
	aux(0xe6);
	aux(0xe9);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0x00);
	ck_assert_uint_eq(rd(), 0x02);
	ck_assert_uint_eq(rd(), 100);
	/* IntelliMouse knock. */
	const uint8_t knock[] = { 200, 100, 80 };
	for (int i = 0; i < 3; i++) {
		aux(0xf3);
		ck_assert_uint_eq(rd(), 0xfa);
		aux(knock[i]);
		ck_assert_uint_eq(rd(), 0xfa);
	}
	aux(0xf2);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0x03);
	aux(0xe8);
	aux(0x03);
	rd();
	rd();
	aux(0xaa); /* unknown */
	ck_assert_uint_eq(rd(), 0xfe);
	/* Reporting. */
	i8042_mouse_event(&kbc, 5, -3, 0, 1);
	ck_assert_uint_eq(inb(0x64) & 1, 0); /* not enabled yet */
	aux(0xf4);
	ck_assert_uint_eq(rd(), 0xfa);
	i8042_mouse_event(&kbc, 5, -3, -1, 1);
	ck_assert_int_eq(lv[1], 1);
	ck_assert_uint_eq(rd(), 0x29);
	ck_assert_uint_eq(rd(), 0x05);
	ck_assert_uint_eq(rd(), 0xfd);
	ck_assert_uint_eq(rd(), 0x0f);
	ck_assert_uint_eq(inb(0x64) & 1, 0);
	/* Wrap mode echoes. */
	aux(0xee);
	rd();
	aux(0x42);
	ck_assert_uint_eq(rd(), 0x42);
	aux(0xec);
	ck_assert_uint_eq(rd(), 0xfa);
	/* AUX disabled in the command byte: mouse data held back. */
	cmd(0xa7);
	aux(0xf2);
	ck_assert_uint_eq(inb(0x64) & 1, 0);
	cmd(0xa8);
	ck_assert_uint_eq(rd(), 0xfa);
	ck_assert_uint_eq(rd(), 0x03);
}
END_TEST

START_TEST(output_port_a20_reset)
{
	cmd(0xd0);
	ck_assert_uint_eq(rd() & 0x03, 0x03);
	ck_assert_uint_eq(m->cpu[0]->a20_mask, ~0ull);
	cmd(0xd1);
	outb(0x60, 0xdd); /* A20 off, reset line high */
	ck_assert_uint_eq(m->cpu[0]->a20_mask, ~(1ull << 20));
	ck_assert_uint_eq(m->cpu[1]->a20_mask, ~(1ull << 20));
	ck_assert(!m->reset_requested);
	cmd(0xd0);
	ck_assert_uint_eq(rd() & 0x03, 0x01);
	ck_assert_uint_eq(inb(0x92) & 0x02, 0);
	cmd(0xd1);
	outb(0x60, 0xdf);
	ck_assert_uint_eq(m->cpu[1]->a20_mask, ~0ull);
	ck_assert_uint_eq(inb(0x92) & 0x02, 0x02);
	ck_assert(!m->reset_requested);
	/* Pulse the reset line. */
	cmd(0xfe);
	ck_assert(m->reset_requested);
	ck_assert(m->exit_requested);
	ck_assert(m->cpu[0]->pending & PEND_EXIT);
}
END_TEST

START_TEST(outport_reset_bit)
{
	cmd(0xd1);
	outb(0x60, 0xde);
	ck_assert(m->reset_requested);
}
END_TEST

START_TEST(port92)
{
	ck_assert_uint_eq(inb(0x92), 0x02);
	outb(0x92, 0x00);
	ck_assert_uint_eq(m->cpu[0]->a20_mask, ~(1ull << 20));
	ck_assert_uint_eq(inb(0x92), 0x00);
	outb(0x92, inb(0x92) | 0x02);
	ck_assert_uint_eq(m->cpu[1]->a20_mask, ~0ull);
	ck_assert(!m->reset_requested);
	outb(0x92, 0x03);
	ck_assert(m->reset_requested);
	ck_assert_uint_eq(inb(0x92), 0x02); /* bit 0 reads 0 */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("i8042");
	TCase *tc = tcase_create("kbc");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, controller);
	tcase_add_test(tc, keyboard_commands);
	tcase_add_test(tc, keys);
	tcase_add_test(tc, mouse);
	tcase_add_test(tc, output_port_a20_reset);
	tcase_add_test(tc, outport_reset_bit);
	tcase_add_test(tc, port92);
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
