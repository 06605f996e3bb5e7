/*
 * tests/unit/test_blockdev.c — the raw image backend (devices/blockdev.c):
 * read/write/flush on a file made in /tmp, read-only mode, the snapshot
 * overlay (the guest sees its writes, the file does not change), bounds,
 * and the open errors (missing, directory, bad size, qcow2, permission).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/blockdev.h"

static char path[64];

static void make_file(size_t size)
{
	snprintf(path, sizeof(path), "/tmp/nb_bdev_%d.img", (int)getpid());
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < size; i++)
		fputc((int)((i * 13 + i / 512) & 0xff), f);
	fclose(f);
}

static uint8_t file_byte(size_t i)
{
	return (uint8_t)((i * 13 + i / 512) & 0xff);
}

static void teardown(void)
{
	unlink(path);
}

START_TEST(read_write_flush)
{
	make_file(256 * 1024);
	char err[256];
	struct blockdev *b = blockdev_open(path, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(blockdev_size(b), 256 * 1024);
	ck_assert(!blockdev_readonly(b));
	ck_assert_str_eq(blockdev_path(b), path);
	uint8_t buf[1024];
	ck_assert_int_eq(blockdev_read(b, 1000, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], file_byte(1000 + i));
	memset(buf, 0xa5, 512);
	ck_assert_int_eq(blockdev_write_sectors(b, 3, buf, 1), 0);
	ck_assert_int_eq(blockdev_flush(b), 0);
	/* Out of range. */
	ck_assert_int_eq(blockdev_read(b, 256 * 1024 - 10, buf, 11), -EINVAL);
	ck_assert_int_eq(blockdev_write(b, 256 * 1024, buf, 1), -EINVAL);
	ck_assert_int_eq(blockdev_read(b, 256 * 1024, buf, 0), 0);
	blockdev_close(b);
	/* The file really changed. */
	int fd = open(path, O_RDONLY);
	uint8_t chk[512];
	ck_assert_int_eq(pread(fd, chk, 512, 3 * 512), 512);
	close(fd);
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(chk[i], 0xa5);
}
END_TEST

START_TEST(readonly_mode)
{
	make_file(4096);
	struct blockdev *b = blockdev_open(path, BLOCKDEV_READONLY, NULL, 0);
	ck_assert_ptr_nonnull(b);
	ck_assert(blockdev_readonly(b));
	uint8_t buf[512] = { 0 };
	ck_assert_int_eq(blockdev_write(b, 0, buf, 512), -EROFS);
	ck_assert_int_eq(blockdev_read(b, 512, buf, 512), 0);
	ck_assert_uint_eq(buf[1], file_byte(513));
	ck_assert_int_eq(blockdev_flush(b), 0);
	blockdev_close(b);
}
END_TEST

START_TEST(snapshot_overlay)
{
	const size_t size = 3 * 65536 + 4096; /* partial last chunk */
	make_file(size);
	struct blockdev *b = blockdev_open(path, BLOCKDEV_SNAPSHOT, NULL, 0);
	ck_assert_ptr_nonnull(b);
	ck_assert(!blockdev_readonly(b));
	/* A write across a chunk boundary, and one into the partial chunk. */
	static uint8_t w[8192], r[16384];
	memset(w, 0x5a, sizeof(w));
	ck_assert_int_eq(blockdev_write(b, 65536 - 4096, w, 8192), 0);
	ck_assert_int_eq(blockdev_write(b, size - 512, w, 512), 0);
	ck_assert_int_eq(blockdev_read(b, 65536 - 8192, r, 16384), 0);
	for (size_t i = 0; i < 16384; i++) {
		size_t off = 65536 - 8192 + i;
		bool in = off >= 65536 - 4096 && off < 65536 + 4096;
		ck_assert_uint_eq(r[i], in ? 0x5a : file_byte(off));
	}
	ck_assert_int_eq(blockdev_read(b, size - 1024, r, 1024), 0);
	ck_assert_uint_eq(r[0], file_byte(size - 1024));
	ck_assert_uint_eq(r[600], 0x5a);
	ck_assert_int_eq(blockdev_flush(b), 0);
	blockdev_close(b);
	/* The user's file is untouched. */
	FILE *f = fopen(path, "rb");
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, size);
	for (size_t i = 0; i < size; i++)
		ck_assert_uint_eq((uint8_t)fgetc(f), file_byte(i));
	fclose(f);
}
END_TEST

START_TEST(open_errors)
{
	char err[256];
	err[0] = 0;
	ck_assert_ptr_null(blockdev_open("/tmp/nb_no_such_image.img", 0, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no such file"));
	ck_assert_ptr_nonnull(strstr(err, "nb_no_such_image.img"));

	ck_assert_ptr_null(blockdev_open("/tmp", 0, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	ck_assert_ptr_null(blockdev_open("/dev/null", BLOCKDEV_READONLY, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));

	make_file(1000);
	ck_assert_ptr_null(blockdev_open(path, 0, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a multiple of 512"));
	/* CD images may have any size. */
	struct blockdev *b =
		blockdev_open(path, BLOCKDEV_CDROM | BLOCKDEV_READONLY, err, sizeof(err));
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(blockdev_size(b), 1000);
	blockdev_close(b);

	/* qcow2 magic. */
	FILE *f = fopen(path, "wb");
	fwrite("QFI\xfb\0\0\0\3", 1, 8, f);
	for (int i = 8; i < 1024; i++)
		fputc(0, f);
	fclose(f);
	ck_assert_ptr_null(blockdev_open(path, BLOCKDEV_SNAPSHOT, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "qcow2"));
	ck_assert_ptr_nonnull(strstr(err, "raw"));

	/* Permission (root bypasses file modes, so only as a normal user). */
	if (geteuid() != 0) {
		make_file(1024);
		chmod(path, 0444);
		ck_assert_ptr_null(blockdev_open(path, 0, err, sizeof(err)));
		ck_assert_ptr_nonnull(strstr(err, "permission denied"));
		b = blockdev_open(path, BLOCKDEV_READONLY, err, sizeof(err));
		ck_assert_ptr_nonnull(b);
		blockdev_close(b);
	}
	/* A NULL err buffer is allowed. */
	ck_assert_ptr_null(blockdev_open("/tmp/nb_no_such_image.img", 0, NULL, 0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blockdev");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, read_write_flush);
	tcase_add_test(tc, readonly_mode);
	tcase_add_test(tc, snapshot_overlay);
	tcase_add_test(tc, open_errors);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
