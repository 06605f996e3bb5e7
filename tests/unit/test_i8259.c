/*
 * tests/unit/test_i8259.c — the cascaded 8259A PICs (devices/i8259.c):
 * initialisation, masking, edge and level triggering (ELCR), priorities
 * and rotation, nesting, cascade, spurious IRQ7/15, AEOI, special mask
 * mode, poll mode, all through I/O ports on a bare machine.
 */
#include <check.h>
#include <stdlib.h>

#include "devices/i8259.h"
#include "devices/ioport.h"
#include "devices/machine.h"

static struct machine *m;
static struct i8259 pic;
static int intr_level, intr_changes;

static void intr_cb(void *opaque, int n, int level)
{
	intr_level = level;
	intr_changes++;
}

static void outb(uint16_t port, uint8_t v)
{
	ioport_write(m->io, port, 1, v);
}

static uint8_t inb(uint16_t port)
{
	return (uint8_t)ioport_read(m->io, port, 1);
}

/* What a PC BIOS does: master vectors 0x08, slave 0x70, cascade on IR2. */
static void pc_init(uint8_t icw4)
{
	outb(0x20, 0x11);
	outb(0x21, 0x08);
	outb(0x21, 0x04);
	outb(0x21, icw4);
	outb(0xa0, 0x11);
	outb(0xa1, 0x70);
	outb(0xa1, 0x02);
	outb(0xa1, icw4);
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	pic = (struct i8259){ 0 };
	intr_level = 0;
	intr_changes = 0;
	i8259_init(m, &pic);
	pic.intr = (struct irq_line){ intr_cb, NULL, 0 };
	pc_init(0x01);
}

static void teardown(void)
{
	machine_free(m);
}

static uint8_t read_isr(uint16_t base)
{
	outb(base, 0x0b);
	uint8_t v = inb(base);
	outb(base, 0x0a);
	return v;
}

START_TEST(basic_edge)
{
	ck_assert_uint_eq(inb(0x21), 0);
	outb(0x21, 0xfe); /* only IRQ0 */
	ck_assert_uint_eq(inb(0x21), 0xfe);
	pic_set_irq(&pic, 1, 1);
	ck_assert(!pic_has_interrupt(&pic));
	ck_assert_int_eq(intr_level, 0);
	ck_assert_uint_eq(inb(0x20), 0x02); /* IRR (default read) */
	pic_set_irq(&pic, 0, 1);
	ck_assert(pic_has_interrupt(&pic));
	ck_assert_int_eq(intr_level, 1);
	ck_assert_int_eq(pic_ack(&pic), 0x08);
	ck_assert_int_eq(intr_level, 0);
	ck_assert_uint_eq(read_isr(0x20), 0x01);
	ck_assert_uint_eq(inb(0x20), 0x02); /* IRR0 cleared by INTA */
	/* Still high: no new edge, no new interrupt after EOI. */
	outb(0x20, 0x20);
	ck_assert_uint_eq(read_isr(0x20), 0);
	ck_assert(!pic_has_interrupt(&pic));
	pic_set_irq(&pic, 0, 1);
	ck_assert(!pic_has_interrupt(&pic));
	pic_set_irq(&pic, 0, 0);
	pic_set_irq(&pic, 0, 1);
	ck_assert(pic_has_interrupt(&pic));
	/* Unmask IRQ1: IRQ0 still wins. */
	outb(0x21, 0x00);
	ck_assert_int_eq(pic_ack(&pic), 0x08);
	ck_assert(!pic_has_interrupt(&pic)); /* IRQ1 blocked by IRQ0 in service */
	outb(0x20, 0x20);
	ck_assert(pic_has_interrupt(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x09);
	outb(0x20, 0x20);
	ck_assert(!pic_has_interrupt(&pic));
}
END_TEST

START_TEST(nesting)
{
	pic_set_irq(&pic, 3, 1);
	ck_assert_int_eq(pic_ack(&pic), 0x0b);
	pic_set_irq(&pic, 5, 1);
	ck_assert(!pic_has_interrupt(&pic)); /* lower priority than IR3 */
	pic_set_irq(&pic, 1, 1);
	ck_assert(pic_has_interrupt(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x09);
	ck_assert_uint_eq(read_isr(0x20), 0x0a);
	outb(0x20, 0x20); /* non-specific EOI clears the highest: IR1 */
	ck_assert_uint_eq(read_isr(0x20), 0x08);
	ck_assert(!pic_has_interrupt(&pic));
	outb(0x20, 0x63); /* specific EOI IR3 */
	ck_assert_uint_eq(read_isr(0x20), 0);
	ck_assert_int_eq(pic_ack(&pic), 0x0d);
}
END_TEST

START_TEST(cascade)
{
	pic_set_irq(&pic, 10, 1);
	ck_assert(pic_has_interrupt(&pic));
	ck_assert_uint_eq(inb(0xa0), 0x04);
	ck_assert_int_eq(pic_ack(&pic), 0x72);
	ck_assert_uint_eq(read_isr(0x20), 0x04);
	ck_assert_uint_eq(read_isr(0xa0), 0x04);
	/* IRQ9 outranks IRQ10 on the slave, but the master has IR2 in
	 * service: without SFNM it waits. */
	pic_set_irq(&pic, 9, 1);
	ck_assert(!pic_has_interrupt(&pic));
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	ck_assert(pic_has_interrupt(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x71);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	ck_assert(!pic_has_interrupt(&pic));
	/* Slave masked as a whole on the master. */
	outb(0x21, 0x04);
	pic_set_irq(&pic, 15, 1);
	ck_assert(!pic_has_interrupt(&pic));
	outb(0x21, 0x00);
	ck_assert_int_eq(pic_ack(&pic), 0x77);
	ck_assert_uint_eq(read_isr(0xa0), 0x80);
}
END_TEST

START_TEST(sfnm)
{
	pc_init(0x11); /* SFNM on both */
	pic_set_irq(&pic, 10, 1);
	ck_assert_int_eq(pic_ack(&pic), 0x72);
	pic_set_irq(&pic, 9, 1);
	ck_assert(pic_has_interrupt(&pic)); /* same slave, higher IR: passes */
	ck_assert_int_eq(pic_ack(&pic), 0x71);
	ck_assert_uint_eq(read_isr(0xa0), 0x06);
}
END_TEST

START_TEST(spurious)
{
	/* Level-triggered IRQ5 that goes away before the INTA cycle. */
	outb(0x4d0, 0xff);
	ck_assert_uint_eq(inb(0x4d0), 0xf8);
	outb(0x4d1, 0xff);
	ck_assert_uint_eq(inb(0x4d1), 0xde);
	pic_set_irq(&pic, 5, 1);
	ck_assert(pic_has_interrupt(&pic));
	pic_set_irq(&pic, 5, 0);
	ck_assert(!pic_has_interrupt(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x0f);
	ck_assert_uint_eq(read_isr(0x20), 0); /* spurious: no ISR bit */
	/* Slave spurious: the master has latched IR2 (edge), the slave's level
	 * request vanished. */
	pic_set_irq(&pic, 11, 1);
	outb(0xa1, 0x08); /* mask it on the slave: INT drops, master IRR2 stays */
	ck_assert(pic_has_interrupt(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x77);
	ck_assert_uint_eq(read_isr(0xa0), 0);
	ck_assert_uint_eq(read_isr(0x20), 0x04); /* master did take IR2 */
}
END_TEST

START_TEST(level)
{
	outb(0x4d1, 0x08); /* IRQ11 level */
	pic_set_irq(&pic, 11, 1);
	ck_assert_int_eq(pic_ack(&pic), 0x73);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	/* Still asserted: interrupts again without a new edge. */
	ck_assert(pic_has_interrupt(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x73);
	pic_set_irq(&pic, 11, 0);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	ck_assert(!pic_has_interrupt(&pic));
	ck_assert_uint_eq(inb(0xa0), 0);
	/* Edge input falling before INTA keeps its request latched. */
	pic_set_irq(&pic, 4, 1);
	pic_set_irq(&pic, 4, 0);
	ck_assert(pic_has_interrupt(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x0c);
}
END_TEST

START_TEST(rotation)
{
	outb(0x20, 0xc3); /* set priority: IR3 lowest, IR4 highest */
	pic_set_irq(&pic, 0, 1);
	pic_set_irq(&pic, 6, 1);
	pic_set_irq(&pic, 4, 1);
	ck_assert_int_eq(pic_ack(&pic), 0x0c);
	ck_assert_int_eq(intr_level, 0);       /* others rank below IR4 */
	outb(0x20, 0xa0);                      /* rotate on non-specific EOI: IR4 becomes lowest */
	ck_assert_int_eq(pic_ack(&pic), 0x0e); /* IR5 highest now, IR6 next */
	outb(0x20, 0xe6);                      /* rotate on specific EOI IR6: IR7 highest */
	ck_assert_int_eq(pic_ack(&pic), 0x08);
	outb(0x20, 0x20);
	/* Rotate in AEOI mode. */
	pc_init(0x03);
	outb(0x20, 0x80);
	pic_set_irq(&pic, 1, 0);
	pic_set_irq(&pic, 1, 1);
	pic_set_irq(&pic, 2 + 1, 1);
	ck_assert_int_eq(pic_ack(&pic), 0x09);
	ck_assert_uint_eq(read_isr(0x20), 0); /* AEOI: nothing in service */
	pic_set_irq(&pic, 1, 0);
	pic_set_irq(&pic, 1, 1);
	/* IR1 is now lowest: IR3 goes first. */
	ck_assert_int_eq(pic_ack(&pic), 0x0b);
	ck_assert_int_eq(pic_ack(&pic), 0x09);
}
END_TEST

START_TEST(special_mask)
{
	pic_set_irq(&pic, 3, 1);
	ck_assert_int_eq(pic_ack(&pic), 0x0b);
	pic_set_irq(&pic, 6, 1);
	ck_assert(!pic_has_interrupt(&pic));
	outb(0x21, 0x08);                   /* mask IR3 (in service) */
	outb(0x20, 0x68);                   /* OCW3: set special mask mode */
	ck_assert(pic_has_interrupt(&pic)); /* lower IR6 now passes */
	ck_assert_int_eq(pic_ack(&pic), 0x0e);
	outb(0x20, 0x48); /* reset special mask mode */
	outb(0x20, 0x66);
	outb(0x21, 0x00);
	ck_assert_uint_eq(read_isr(0x20), 0x08);
}
END_TEST

START_TEST(poll)
{
	outb(0x20, 0x0c); /* OCW3 poll */
	ck_assert_uint_eq(inb(0x20), 0x00);
	pic_set_irq(&pic, 5, 1);
	outb(0x20, 0x0c);
	ck_assert_uint_eq(inb(0x20), 0x85);
	ck_assert_uint_eq(read_isr(0x20), 0x20);
	ck_assert(!pic_has_interrupt(&pic));
	outb(0x20, 0x20);
	ck_assert_uint_eq(read_isr(0x20), 0);
}
END_TEST

START_TEST(reinit)
{
	outb(0x21, 0x55);
	pic_set_irq(&pic, 1, 1);
	/* ICW1 without ICW4, then ICW2: IMR cleared, vector base moved. */
	outb(0x20, 0x10 | 0x02); /* single, no ICW4 */
	outb(0x21, 0x20);
	ck_assert_uint_eq(inb(0x21), 0x00);
	ck_assert(!pic_has_interrupt(&pic)); /* edge sense reset: IRR cleared */
	pic_set_irq(&pic, 1, 0);
	pic_set_irq(&pic, 1, 1);
	ck_assert_int_eq(pic_ack(&pic), 0x21);
	outb(0x21, 0xab); /* now OCW1 */
	ck_assert_uint_eq(inb(0x21), 0xab);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("i8259");
	TCase *tc = tcase_create("pic");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, basic_edge);
	tcase_add_test(tc, nesting);
	tcase_add_test(tc, cascade);
	tcase_add_test(tc, sfnm);
	tcase_add_test(tc, spurious);
	tcase_add_test(tc, level);
	tcase_add_test(tc, rotation);
	tcase_add_test(tc, special_mask);
	tcase_add_test(tc, poll);
	tcase_add_test(tc, reinit);
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
