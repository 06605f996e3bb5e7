/*
 * tests/unit/test_uart16550.c — the 16550A UART (devices/uart16550.c):
 * reset values, divisor latch, output to a stream and the tee, THRE
 * interrupt behaviour, reception with and without FIFOs, trigger levels,
 * character timeout in virtual time, overrun, loopback and modem status,
 * interrupt priorities and the OUT2 gate.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "devices/clock.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/uart16550.h"

#define B 0x3f8

static struct machine *m;
static struct uart16550 u;
static int level, rises;
static char tee_buf[64];
static int tee_len;
static char *out_buf;
static size_t out_len;
static FILE *out;

static void irq_cb(void *opaque, int n, int lv)
{
	if (lv && !level)
		rises++;
	level = lv;
}

static void tee(void *opaque, uint8_t b)
{
	if (tee_len < (int)sizeof(tee_buf) - 1)
		tee_buf[tee_len++] = (char)b;
}

static void outb(uint16_t port, uint8_t v)
{
	ioport_write(m->io, port, 1, v);
}

static uint8_t inb(uint16_t port)
{
	return (uint8_t)ioport_read(m->io, port, 1);
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

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	u = (struct uart16550){ 0 };
	level = rises = 0;
	tee_len = 0;
	memset(tee_buf, 0, sizeof(tee_buf));
	out = open_memstream(&out_buf, &out_len);
	uart16550_init(m, &u, B, out);
	u.tee = tee;
	u.irq = (struct irq_line){ irq_cb, NULL, 4 };
}

static void teardown(void)
{
	fclose(out);
	free(out_buf);
	machine_free(m);
}

START_TEST(reset_and_divisor)
{
	ck_assert_uint_eq(inb(B + 1), 0x00);
	ck_assert_uint_eq(inb(B + 2), 0x01);
	ck_assert_uint_eq(inb(B + 3), 0x00);
	ck_assert_uint_eq(inb(B + 4), 0x00);
	ck_assert_uint_eq(inb(B + 5), 0x60);
	ck_assert_uint_eq(inb(B + 6), 0xb0);
	outb(B + 7, 0x5a);
	ck_assert_uint_eq(inb(B + 7), 0x5a);
	outb(B + 3, 0x83); /* DLAB, 8N1 */
	outb(B + 0, 0x01);
	outb(B + 1, 0x02);
	ck_assert_uint_eq(inb(B + 0), 0x01);
	ck_assert_uint_eq(inb(B + 1), 0x02);
	ck_assert_uint_eq(u.divisor, 0x201);
	outb(B + 3, 0x03);
	ck_assert_uint_eq(inb(B + 1), 0x00); /* IER again */
	ck_assert_uint_eq(inb(B + 3), 0x03);
}
END_TEST

START_TEST(output)
{
	const char *msg = "hi\n";
	for (const char *p = msg; *p; p++) {
		ck_assert_uint_eq(inb(B + 5) & 0x20, 0x20);
		outb(B, (uint8_t)*p);
	}
	fflush(out);
	ck_assert_uint_eq(out_len, 3);
	ck_assert_str_eq(out_buf, "hi\n");
	ck_assert_str_eq(tee_buf, "hi\n");
	ck_assert_uint_eq(inb(B + 5), 0x60);
}
END_TEST

START_TEST(thre_interrupt)
{
	outb(B + 1, 0x02);          /* ETBEI: THR empty, so an interrupt at once */
	ck_assert_int_eq(level, 0); /* but OUT2 gates the line */
	outb(B + 4, 0x08);
	ck_assert_int_eq(level, 1);
	ck_assert_uint_eq(inb(B + 2), 0x02);
	ck_assert_int_eq(level, 0); /* IIR read cleared it */
	ck_assert_uint_eq(inb(B + 2), 0x01);
	/* Writing THR: empty again at once, a new edge. */
	outb(B, 'x');
	ck_assert_int_eq(rises, 2);
	ck_assert_int_eq(level, 1);
	/* Rewriting IER with ETBEI already set does not re-raise it. */
	ck_assert_uint_eq(inb(B + 2), 0x02);
	outb(B + 1, 0x02);
	ck_assert_int_eq(level, 0);
	/* 0 -> 1 does (Linux's UART_BUG_THRE probe). */
	outb(B + 1, 0x00);
	outb(B + 1, 0x02);
	ck_assert_int_eq(level, 1);
	outb(B + 1, 0x00);
	ck_assert_int_eq(level, 0);
}
END_TEST

START_TEST(rx_no_fifo)
{
	outb(B + 4, 0x08);
	outb(B + 1, 0x01);
	const uint8_t in[] = { 'a', 'b', 'c' };
	ck_assert_uint_eq(uart_rx_space(&u), 1);
	ck_assert_uint_eq(uart_receive(&u, in, 3), 1);
	ck_assert_int_eq(level, 1);
	ck_assert_uint_eq(inb(B + 5), 0x61);
	ck_assert_uint_eq(inb(B + 2), 0x04);
	ck_assert_uint_eq(inb(B), 'a');
	ck_assert_int_eq(level, 0);
	ck_assert_uint_eq(inb(B + 5), 0x60);
	ck_assert_uint_eq(uart_receive(&u, in + 1, 2), 1);
	ck_assert_uint_eq(inb(B), 'b');
	ck_assert_int_eq(rises, 2);
}
END_TEST

START_TEST(rx_fifo_trigger_timeout)
{
	outb(B + 3, 0x83);
	outb(B + 0, 0x01); /* 115200 baud */
	outb(B + 1, 0x00);
	outb(B + 3, 0x03);
	outb(B + 2, 0x87); /* FIFO on, clear, trigger 8 */
	ck_assert_uint_eq(inb(B + 2), 0xc1);
	outb(B + 4, 0x0b);
	outb(B + 1, 0x01);
	const uint8_t in[20] = "0123456789abcdefghi";
	ck_assert_uint_eq(uart_receive(&u, in, 5), 5);
	ck_assert_int_eq(level, 0); /* below the trigger level */
	/* Timeout after four character times: 4 * 10 bits / 115200 = 347 us. */
	advance(340000);
	ck_assert_int_eq(level, 0);
	advance(10000);
	ck_assert_int_eq(level, 1);
	ck_assert_uint_eq(inb(B + 2), 0xcc);
	ck_assert_uint_eq(inb(B), '0');
	ck_assert_int_eq(level, 0); /* reading clears the timeout */
	advance(350000);
	ck_assert_int_eq(level, 1); /* and restarts it */
	/* Fill to the trigger level: data available outranks timeout. */
	ck_assert_uint_eq(uart_receive(&u, in + 5, 4), 4);
	ck_assert_uint_eq(inb(B + 2), 0xc4);
	/* The FIFO holds 16: 8 in it now, 8 more fit. */
	ck_assert_uint_eq(uart_rx_space(&u), 8);
	ck_assert_uint_eq(uart_receive(&u, in + 9, 10), 8);
	for (int i = 1; i < 17; i++)
		ck_assert_uint_eq(inb(B), in[i]);
	ck_assert_uint_eq(inb(B + 5) & 1, 0);
	ck_assert_uint_eq(inb(B + 2), 0xc1);
	ck_assert_int_eq(level, 0);
	/* FCR bit 1 clears the receiver FIFO. */
	uart_receive(&u, in, 3);
	outb(B + 2, 0x83);
	ck_assert_uint_eq(inb(B + 5) & 1, 0);
	advance(1000000);
	ck_assert_int_eq(level, 0);
}
END_TEST

START_TEST(loopback)
{
	outb(B + 1, 0x0f);
	outb(B + 4, 0x10 | 0x08); /* LOOP + OUT2 */
	/* MSR follows MCR: OUT2 -> DCD, RTS -> CTS, DTR -> DSR. */
	uint8_t msr = inb(B + 6);
	ck_assert_uint_eq(msr, 0x80 | 0x03); /* CTS, DSR fell; DCD stayed up */
	ck_assert_uint_eq(inb(B + 6), 0x80);
	outb(B + 4, 0x10 | 0x08 | 0x07); /* + DTR RTS OUT1 */
	ck_assert_uint_eq(inb(B + 6), 0xf3);
	outb(B + 4, 0x10 | 0x08 | 0x03);     /* OUT1 off: RI trailing edge */
	ck_assert_uint_eq(inb(B + 2), 0x02); /* THRE pending from the IER write */
	ck_assert_uint_eq(inb(B + 2), 0x00); /* modem status */
	ck_assert_uint_eq(inb(B + 6), 0xb4);
	/* Transmitted bytes come back, nothing goes out. */
	outb(B, 'Q');
	ck_assert_uint_eq(inb(B + 5) & 1, 1);
	outb(B, 'R'); /* non-FIFO: overrun */
	ck_assert_uint_eq(inb(B + 2), 0x06);
	ck_assert_uint_eq(inb(B + 5) & 0x03, 0x03);
	ck_assert_uint_eq(inb(B + 5) & 0x02, 0x00); /* cleared by reading */
	ck_assert_uint_eq(inb(B + 2), 0x04);
	ck_assert_uint_eq(inb(B), 'R');
	ck_assert_int_eq(level, 0); /* no IRQ in loopback */
	ck_assert_int_eq(rises, 0);
	fflush(out);
	ck_assert_uint_eq(out_len, 0);
	ck_assert_int_eq(tee_len, 0);
	/* External modem inputs outside loopback. */
	outb(B + 4, 0x08);
	inb(B + 6);
	uart_set_modem_inputs(&u, 0xf0); /* RI rises: no delta (TERI is on the fall) */
	ck_assert_uint_eq(inb(B + 2), 0x02);
	ck_assert_uint_eq(inb(B + 2), 0x01);
	uart_set_modem_inputs(&u, 0x30); /* carrier and RI lost */
	ck_assert_int_eq(level, 1);
	ck_assert_uint_eq(inb(B + 2), 0x00);
	ck_assert_uint_eq(inb(B + 6), 0x3c);
	ck_assert_int_eq(level, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("uart16550");
	TCase *tc = tcase_create("uart");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reset_and_divisor);
	tcase_add_test(tc, output);
	tcase_add_test(tc, thre_interrupt);
	tcase_add_test(tc, rx_no_fifo);
	tcase_add_test(tc, rx_fifo_trigger_timeout);
	tcase_add_test(tc, loopback);
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
