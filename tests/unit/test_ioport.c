/*
 * tests/unit/test_ioport.c — the I/O port space (devices/ioport.c): dispatch
 * by port, full-size accesses to the first port's handler, byte_only
 * splitting, overlap priority, unclaimed ports (all ones, writes dropped).
 */
#include <check.h>
#include <stdlib.h>

#include "devices/ioport.h"

struct dev {
	int reads, writes;
	uint16_t port[8];
	unsigned size[8];
	uint32_t val[8];
	uint32_t answer; /* reads return answer + port */
};

static uint32_t dev_read(void *opaque, uint16_t port, unsigned size)
{
	struct dev *d = opaque;
	if (d->reads < 8) {
		d->port[d->reads] = port;
		d->size[d->reads] = size;
	}
	d->reads++;
	return d->answer + port;
}

static void dev_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct dev *d = opaque;
	if (d->writes < 8) {
		d->port[d->writes] = port;
		d->size[d->writes] = size;
		d->val[d->writes] = val;
	}
	d->writes++;
}

static const struct ioport_ops wide_ops = { dev_read, dev_write, false };
static const struct ioport_ops byte_ops = { dev_read, dev_write, true };
static const struct ioport_ops wo_ops = { NULL, dev_write, false };

static struct ioport_space *s;

static void setup(void)
{
	s = ioport_new();
	ck_assert_ptr_nonnull(s);
}

static void teardown(void)
{
	ioport_free(s);
}

START_TEST(unclaimed)
{
	ck_assert_uint_eq(ioport_read(s, 0x80, 1), 0xff);
	ck_assert_uint_eq(ioport_read(s, 0x80, 2), 0xffff);
	ck_assert_uint_eq(ioport_read(s, 0x80, 4), 0xffffffffu);
	ck_assert_uint_eq(ioport_read(s, 0xffff, 4), 0xffffffffu);
	ioport_write(s, 0x80, 4, 0x12345678);
	ioport_write(s, 0xffff, 2, 1);
	/* Logging on: still the same answers (output goes to stderr). */
	ioport_set_log(s, 1);
	ck_assert_uint_eq(ioport_read(s, 0x81, 2), 0xffff);
	ck_assert_uint_eq(ioport_read(s, 0x81, 2), 0xffff);
	ioport_write(s, 0x81, 1, 3);
	ioport_set_log(s, 0);
}
END_TEST

START_TEST(dispatch)
{
	struct dev d = { .answer = 0x11223300 };
	ioport_register(s, 0x1f0, 8, &wide_ops, &d, "ide");
	ck_assert_uint_eq(ioport_read(s, 0x1f0, 2), (0x11223300 + 0x1f0) & 0xffff);
	ck_assert_int_eq(d.reads, 1);
	ck_assert_uint_eq(d.port[0], 0x1f0);
	ck_assert_uint_eq(d.size[0], 2);
	ck_assert_uint_eq(ioport_read(s, 0x1f7, 1), (0x1f7 + 0x00) & 0xff);
	ck_assert_uint_eq(ioport_read(s, 0x1f4, 4), 0x11223300 + 0x1f4);
	ck_assert_uint_eq(d.size[2], 4);
	ck_assert_uint_eq(ioport_read(s, 0x1ef, 1), 0xff);
	ck_assert_uint_eq(ioport_read(s, 0x1f8, 1), 0xff);
	ck_assert_int_eq(d.reads, 3);
	/* A dword at the last port still goes whole to its handler. */
	ioport_write(s, 0x1f7, 4, 0xaabbccdd);
	ck_assert_int_eq(d.writes, 1);
	ck_assert_uint_eq(d.port[0], 0x1f7);
	ck_assert_uint_eq(d.size[0], 4);
	ck_assert_uint_eq(d.val[0], 0xaabbccdd);
	/* The value is masked to the access size. */
	ioport_write(s, 0x1f0, 1, 0x1234);
	ck_assert_uint_eq(d.val[1], 0x34);
	ioport_write(s, 0x1f0, 2, 0x123456);
	ck_assert_uint_eq(d.val[2], 0x3456);
	/* Write-only handler reads all ones. */
	struct dev w = { 0 };
	ioport_register(s, 0x3000, 1, &wo_ops, &w, "wo");
	ck_assert_uint_eq(ioport_read(s, 0x3000, 2), 0xffff);
	ioport_write(s, 0x3000, 2, 5);
	ck_assert_int_eq(w.writes, 1);
	/* Ranges at the top of the space are clamped. */
	struct dev t = { 0 };
	ioport_register(s, 0xfffe, 100, &wide_ops, &t, "top");
	ck_assert_uint_eq(ioport_read(s, 0xffff, 1), 0xff & (0xffff + 0));
	ck_assert_int_eq(t.reads, 1);
	ck_assert_uint_eq(ioport_read(s, 0x0000, 1), 0xff);
	ck_assert_int_eq(t.reads, 1);
}
END_TEST

START_TEST(byte_only_split)
{
	struct dev pic = { .answer = 0x40 };
	ioport_register(s, 0x20, 2, &byte_ops, &pic, "pic");
	/* A word read becomes two byte reads on consecutive ports. */
	ck_assert_uint_eq(ioport_read(s, 0x20, 2), (0x61u << 8) | 0x60);
	ck_assert_int_eq(pic.reads, 2);
	ck_assert_uint_eq(pic.port[0], 0x20);
	ck_assert_uint_eq(pic.port[1], 0x21);
	ck_assert_uint_eq(pic.size[0], 1);
	ck_assert_uint_eq(pic.size[1], 1);
	/* A dword: ports 0x22/0x23 are unclaimed and read ones. */
	pic.reads = 0;
	ck_assert_uint_eq(ioport_read(s, 0x20, 4), 0xffff6160u);
	ck_assert_int_eq(pic.reads, 2);
	ioport_write(s, 0x20, 2, 0x1311);
	ck_assert_int_eq(pic.writes, 2);
	ck_assert_uint_eq(pic.val[0], 0x11);
	ck_assert_uint_eq(pic.val[1], 0x13);
	ck_assert_uint_eq(pic.port[1], 0x21);
	/* An access starting on an unclaimed port is split too: its second
	 * byte reaches the device at 0x20. */
	pic.reads = 0;
	ck_assert_uint_eq(ioport_read(s, 0x1f, 2), 0x60ffu);
	ck_assert_int_eq(pic.reads, 1);
	/* Byte split wraps at 0xffff like the port number. */
	struct dev z = { .answer = 0 };
	ioport_register(s, 0x0000, 1, &byte_ops, &z, "zero");
	ck_assert_uint_eq(ioport_read(s, 0xffff, 2), 0x00ffu);
	ck_assert_int_eq(z.reads, 1);
}
END_TEST

START_TEST(overlap)
{
	struct dev a = { .answer = 0x100 }, b = { .answer = 0x200 };
	ioport_register(s, 0x60, 8, &wide_ops, &a, "a");
	ioport_register(s, 0x64, 1, &wide_ops, &b, "b");
	ioport_read(s, 0x64, 1);
	ck_assert_int_eq(b.reads, 1);
	ck_assert_int_eq(a.reads, 0);
	ioport_read(s, 0x65, 1);
	ioport_read(s, 0x63, 1);
	ck_assert_int_eq(a.reads, 2);
	/* Many registrations (every port its own device) fit. */
	static struct dev many[4096];
	for (int i = 0; i < 4096; i++)
		ioport_register(s, (uint16_t)(0x8000 + i), 1, &wide_ops, &many[i], "many");
	ioport_read(s, 0x8000 + 4095, 1);
	ck_assert_int_eq(many[4095].reads, 1);
	ioport_register(s, 0x1000, 0, &wide_ops, &a, "empty");
	ck_assert_uint_eq(ioport_read(s, 0x1000, 1), 0xff);
}
END_TEST

static Suite *ioport_suite(void)
{
	Suite *su = suite_create("ioport");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unclaimed);
	tcase_add_test(tc, dispatch);
	tcase_add_test(tc, byte_only_split);
	tcase_add_test(tc, overlap);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(ioport_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
