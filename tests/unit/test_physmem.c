/*
 * tests/unit/test_physmem.c — the physical address space (mmu/physmem.c):
 * RAM/ROM/MMIO dispatch, overlap priority, page- and region-crossing
 * accesses, unmapped behaviour up to 52-bit addresses, unmap, buffers, the
 * code-page bitmap and its hook.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* A fake MMIO device: reads return a pattern derived from the offset, every
 * access is logged. */
struct fake_dev {
	int nreads, nwrites;
	uint64_t last_off, last_val;
	unsigned last_size;
	uint64_t log_off[16];
	unsigned log_size[16];
};

static uint64_t fake_read(void *opaque, uint64_t off, unsigned size)
{
	struct fake_dev *d = opaque;
	if (d->nreads < 16) {
		d->log_off[d->nreads] = off;
		d->log_size[d->nreads] = size;
	}
	d->nreads++;
	d->last_off = off;
	d->last_size = size;
	/* byte i of the answer = (off + i) ^ 0x5a */
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)(((off + i) ^ 0x5a) & 0xff) << (8 * i);
	return v | (size < 8 ? ~0ull << (8 * size) : 0); /* junk above size: must be masked */
}

static void fake_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct fake_dev *d = opaque;
	if (d->nwrites < 16) {
		d->log_off[d->nwrites] = off;
		d->log_size[d->nwrites] = size;
	}
	d->nwrites++;
	d->last_off = off;
	d->last_val = val;
	d->last_size = size;
}

static const struct mmio_ops fake_ops = { fake_read, fake_write };

static struct mmu *m;

static void setup(void)
{
	m = mmu_new(64 * MiB);
	ck_assert_ptr_nonnull(m);
}

static void teardown(void)
{
	mmu_free(m);
	m = NULL;
}

START_TEST(ram_basic)
{
	mmu_map_ram(m, 0, 64 * MiB, 0);
	uint8_t *ram = mmu_ram(m);
	ck_assert_uint_eq(mmu_ram_size(m), 64 * MiB);
	phys_write(m, 0x1000, 8, 0x1122334455667788ull);
	ck_assert_uint_eq(ram[0x1000], 0x88);
	ck_assert_uint_eq(ram[0x1007], 0x11);
	ck_assert_uint_eq(phys_read(m, 0x1000, 8), 0x1122334455667788ull);
	ck_assert_uint_eq(phys_read(m, 0x1000, 4), 0x55667788);
	ck_assert_uint_eq(phys_read(m, 0x1001, 2), 0x6677);
	ck_assert_uint_eq(phys_read(m, 0x1007, 1), 0x11);
	phys_write(m, 0x1002, 2, 0xabcd);
	ck_assert_uint_eq(phys_read(m, 0x1000, 8), 0x11223344abcd7788ull);
	phys_write(m, 0x1004, 1, 0x1ff); /* only the low byte */
	ck_assert_uint_eq(phys_read(m, 0x1000, 8), 0x112233ffabcd7788ull);
	ck_assert_ptr_eq(mmu_gpa_ptr(m, 0x1234, false), ram + 0x1234);
	ck_assert_ptr_eq(mmu_gpa_ptr(m, 0x1234, true), ram + 0x1234);
	/* Cross-page access within one RAM region. */
	phys_write(m, 0x2ffc, 8, 0x0102030405060708ull);
	ck_assert_uint_eq(phys_read(m, 0x2ffc, 8), 0x0102030405060708ull);
	ck_assert_uint_eq(ram[0x3000], 0x04);
	/* Last bytes of RAM. */
	phys_write(m, 64 * MiB - 8, 8, 42);
	ck_assert_uint_eq(phys_read(m, 64 * MiB - 8, 8), 42);
	/* Just past RAM: unmapped, and an access straddling the end. */
	ck_assert_uint_eq(phys_read(m, 64 * MiB, 4), 0xffffffffu);
	phys_write(m, 64 * MiB - 2, 4, 0x11223344);
	ck_assert_uint_eq(phys_read(m, 64 * MiB - 2, 4), 0xffff3344u);
	ck_assert_ptr_null(mmu_gpa_ptr(m, 64 * MiB, false));
}
END_TEST

START_TEST(ram_offset_and_high)
{
	/* Low 32 MiB at 0, the other 32 MiB of RAM at 4 GiB (like a PC with a
	 * PCI hole), plus a window far up. */
	mmu_map_ram(m, 0, 32 * MiB, 0);
	mmu_map_ram(m, 4 * GiB, 32 * MiB, 32 * MiB);
	uint8_t *ram = mmu_ram(m);
	phys_write(m, 4 * GiB + 0x10, 4, 0xdeadbeef);
	ck_assert_uint_eq(ram[32 * MiB + 0x10], 0xef);
	ck_assert_uint_eq(phys_read(m, 4 * GiB + 0x10, 4), 0xdeadbeef);
	ck_assert_ptr_eq(mmu_gpa_ptr(m, 4 * GiB + 0x10, true), ram + 32 * MiB + 0x10);
	ck_assert_uint_eq(phys_read(m, 32 * MiB, 8), ~0ull);
	ck_assert_uint_eq(phys_read(m, 4 * GiB - 8, 8), ~0ull);
	/* Straddling 4 GiB: the unmapped half reads ones. */
	ck_assert_uint_eq(phys_read(m, 4 * GiB - 4, 8), 0x00000000ffffffffull);
	/* Alias: the same RAM at a 48-bit address. */
	mmu_map_ram(m, 1ull << 47, 4096, 32 * MiB);
	ck_assert_uint_eq(phys_read(m, (1ull << 47) + 0x10, 4), 0xdeadbeef);
	ck_assert_ptr_eq(mmu_gpa_ptr(m, (1ull << 47) + 0xff8, false), ram + 32 * MiB + 0xff8);
	ck_assert_uint_eq(phys_read(m, (1ull << 47) + 0x1000, 1), 0xff);
	/* Mapping beyond RAM is refused/clamped, not a crash. */
	mmu_map_ram(m, 8 * GiB, 1 * GiB, 60 * MiB);
	ck_assert_uint_eq(phys_read(m, 8 * GiB + 4 * MiB - 1, 1), 0);
	ck_assert_uint_eq(phys_read(m, 8 * GiB + 4 * MiB, 1), 0xff);
	mmu_map_ram(m, 9 * GiB, 4096, 100 * MiB);
	ck_assert_uint_eq(phys_read(m, 9 * GiB, 1), 0xff);
}
END_TEST

START_TEST(unmapped_and_52bit)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	static const uint64_t want[] = { 0xff, 0xffff, 0xffffffff, ~0ull };
	const uint64_t addrs[] = { 0,          0xfffff000, 1ull << 32, 1ull << 51, (1ull << 52) - 4,
				   1ull << 52, 1ull << 63, ~0ull - 3,  ~0ull };
	for (unsigned a = 0; a < sizeof(addrs) / sizeof(addrs[0]); a++) {
		for (unsigned i = 0; i < 4; i++) {
			ck_assert_uint_eq(phys_read(m, addrs[a], sizes[i]), want[i]);
			phys_write(m, addrs[a], sizes[i], 0);
		}
		ck_assert_ptr_null(mmu_gpa_ptr(m, addrs[a], false));
	}
	uint8_t buf[16];
	phys_read_buf(m, ~0ull - 7, buf, 8);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(buf[i], 0xff);
	phys_write_buf(m, ~0ull - 7, buf, 8);
	/* Mappings beyond 52 bits are ignored, those crossing it clamped. */
	mmu_map_ram(m, 1ull << 60, 4096, 0);
	ck_assert_uint_eq(phys_read(m, 1ull << 60, 1), 0xff);
	mmu_map_ram(m, (1ull << 52) - 4096, 8192, 0);
	phys_write(m, (1ull << 52) - 8, 8, 77);
	ck_assert_uint_eq(phys_read(m, (1ull << 52) - 8, 8), 77);
	ck_assert_uint_eq(phys_read(m, (1ull << 52) - 4, 8), 0xffffffff00000000ull);
}
END_TEST

START_TEST(rom)
{
	uint8_t img[8192];
	for (unsigned i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7);
	mmu_map_ram(m, 0, 1 * MiB, 0);
	mmu_map_rom(m, 0xfe000, img, sizeof(img));
	img[0] = 99; /* the ROM is a copy */
	ck_assert_uint_eq(phys_read(m, 0xfe000, 1), 0);
	ck_assert_uint_eq(phys_read(m, 0xfe001, 1), 7);
	ck_assert_uint_eq(phys_read(m, 0xfeffe, 4), (uint32_t)(0xfe * 7 & 0xff) |
							    (uint32_t)(0xff * 7 & 0xff) << 8 |
							    (uint32_t)(0x100 * 7 & 0xff) << 16 |
							    (uint32_t)(0x101 * 7 & 0xff) << 24);
	phys_write(m, 0xfe001, 1, 0x55);
	ck_assert_uint_eq(phys_read(m, 0xfe001, 1), 7);
	ck_assert_uint_eq(mmu_ram(m)[0xfe001], 0); /* not written through to RAM */
	uint8_t *p = mmu_gpa_ptr(m, 0xfe010, false);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(*p, (0x10 * 7) & 0xff);
	ck_assert_ptr_null(mmu_gpa_ptr(m, 0xfe010, true));
	/* RAM around it still answers. */
	phys_write(m, 0xfdffc, 4, 0x01020304);
	ck_assert_uint_eq(phys_read(m, 0xfdffc, 4), 0x01020304);
	/* Read straddling RAM -> ROM. */
	ck_assert_uint_eq(phys_read(m, 0xfdffe, 4), 0x07000102);
	/* A write straddling RAM -> ROM writes only the RAM half. */
	phys_write(m, 0xfdffe, 4, 0xaabbccdd);
	ck_assert_uint_eq(phys_read(m, 0xfdffc, 8), 0x150e0700ccdd0304ull);
}
END_TEST

START_TEST(mmio_dispatch)
{
	struct fake_dev d = { 0 };
	mmu_map_ram(m, 0, 16 * MiB, 0);
	mmu_map_mmio(m, 0xfee00000, 0x1000, &fake_ops, &d, "apic");
	ck_assert_uint_eq(phys_read(m, 0xfee00020, 4), 0x79787b7a);
	ck_assert_int_eq(d.nreads, 1);
	ck_assert_uint_eq(d.last_off, 0x20);
	ck_assert_uint_eq(d.last_size, 4);
	ck_assert_uint_eq(phys_read(m, 0xfee00020, 1), 0x7a); /* junk above masked */
	phys_write(m, 0xfee000b0, 4, 0x12345678);
	ck_assert_int_eq(d.nwrites, 1);
	ck_assert_uint_eq(d.last_off, 0xb0);
	ck_assert_uint_eq(d.last_val, 0x12345678);
	ck_assert_uint_eq(d.last_size, 4);
	phys_write(m, 0xfee00ff8, 8, ~0ull);
	ck_assert_uint_eq(d.last_size, 8);
	ck_assert_uint_eq(d.last_val, ~0ull);
	ck_assert_ptr_null(mmu_gpa_ptr(m, 0xfee00000, false));
	/* Crossing the end of the region: split into bytes. */
	d.nreads = 0;
	ck_assert_uint_eq(phys_read(m, 0xfee00ffe, 4), 0xffffa5a4u);
	ck_assert_int_eq(d.nreads, 2);
	ck_assert_uint_eq(d.log_off[0], 0xffe);
	ck_assert_uint_eq(d.log_size[0], 1);
	ck_assert_uint_eq(d.log_off[1], 0xfff);
	d.nwrites = 0;
	phys_write(m, 0xfee00ffe, 4, 0x11223344);
	ck_assert_int_eq(d.nwrites, 2);
	ck_assert_uint_eq(d.last_off, 0xfff);
	ck_assert_uint_eq(d.last_val, 0x33);
	/* Buffers through MMIO go bytewise. */
	uint8_t buf[4];
	phys_read_buf(m, 0xfee00010, buf, 4);
	ck_assert_uint_eq(buf[0], 0x10 ^ 0x5a);
	ck_assert_uint_eq(buf[3], 0x13 ^ 0x5a);
}
END_TEST

START_TEST(overlap_priority)
{
	struct fake_dev a = { 0 }, b = { 0 };
	mmu_map_ram(m, 0, 16 * MiB, 0);
	phys_write(m, 0x80000, 4, 0xcafef00d);
	/* MMIO mapped over RAM wins... */
	mmu_map_mmio(m, 0x80000, 0x2000, &fake_ops, &a, "a");
	ck_assert_uint_eq(phys_read(m, 0x80000, 1), 0x5a);
	ck_assert_int_eq(a.nreads, 1);
	/* ...a later one wins over it where they overlap... */
	mmu_map_mmio(m, 0x81000, 0x2000, &fake_ops, &b, "b");
	phys_read(m, 0x81004, 1);
	ck_assert_int_eq(b.nreads, 1);
	ck_assert_uint_eq(b.last_off, 4); /* offset relative to b */
	phys_read(m, 0x80ff0, 1);
	ck_assert_int_eq(a.nreads, 2);
	ck_assert_uint_eq(a.last_off, 0xff0);
	phys_read(m, 0x82ff0, 1);
	ck_assert_int_eq(b.nreads, 2);
	ck_assert_uint_eq(b.last_off, 0x1ff0);
	ck_assert_uint_eq(phys_read(m, 0x83000, 4), 0); /* RAM again */
	/* ...and RAM mapped later wins over both. */
	mmu_map_ram(m, 0x80000, 0x4000, 0x80000);
	ck_assert_uint_eq(phys_read(m, 0x80000, 4), 0xcafef00d);
	ck_assert_int_eq(a.nreads + b.nreads, 4);
	/* MMIO strictly inside a RAM page: the rest of the page is RAM. */
	struct fake_dev c = { 0 };
	mmu_map_mmio(m, 0x90400, 0x400, &fake_ops, &c, "hpet-like");
	phys_write(m, 0x903fc, 4, 0x01020304);
	phys_write(m, 0x90800, 4, 0x05060708);
	ck_assert_uint_eq(phys_read(m, 0x903fc, 4), 0x01020304);
	ck_assert_uint_eq(phys_read(m, 0x90800, 4), 0x05060708);
	ck_assert_uint_eq(phys_read(m, 0x90404, 4), 0x5d5c5f5e);
	ck_assert_int_eq(c.nreads, 1);
	ck_assert_uint_eq(c.last_off, 4);
	ck_assert_ptr_null(mmu_gpa_ptr(m, 0x90000, false)); /* shared page */
	ck_assert_ptr_nonnull(mmu_gpa_ptr(m, 0x91000, false));
	/* Straddle RAM -> MMIO inside the page. */
	c.nreads = 0;
	ck_assert_uint_eq(phys_read(m, 0x903fe, 4), 0x5b5a0102u);
	ck_assert_int_eq(c.nreads, 2);
}
END_TEST

START_TEST(unmap)
{
	struct fake_dev d = { 0 };
	mmu_map_ram(m, 0, 16 * MiB, 0);
	phys_write(m, 0x5000, 4, 0x1234);
	mmu_unmap(m, 0x4000, 0x3000);
	ck_assert_uint_eq(phys_read(m, 0x5000, 4), 0xffffffff);
	ck_assert_ptr_null(mmu_gpa_ptr(m, 0x4000, false));
	ck_assert_ptr_nonnull(mmu_gpa_ptr(m, 0x3000, false));
	ck_assert_ptr_eq(mmu_gpa_ptr(m, 0x7000, false), mmu_ram(m) + 0x7000);
	/* Unmapping an MMIO region does not bring the RAM below back. */
	mmu_map_mmio(m, 0x100000, 0x1000, &fake_ops, &d, "d");
	mmu_unmap(m, 0x100000, 0x1000);
	ck_assert_uint_eq(phys_read(m, 0x100000, 1), 0xff);
	ck_assert_int_eq(d.nreads, 0);
	/* Sub-page unmap leaves the rest of the page mapped. */
	mmu_unmap(m, 0x200100, 0x10);
	phys_write(m, 0x200000, 1, 9);
	ck_assert_uint_eq(phys_read(m, 0x200000, 1), 9);
	ck_assert_uint_eq(phys_read(m, 0x200100, 1), 0xff);
	ck_assert_uint_eq(phys_read(m, 0x200110, 1), 0);
	/* Remap the hole: everything is RAM again, pages whole. */
	mmu_map_ram(m, 0x200000, 0x1000, 0x200000);
	ck_assert_ptr_nonnull(mmu_gpa_ptr(m, 0x200000, true));
	ck_assert_uint_eq(phys_read(m, 0x200100, 1), 0);
	/* Unmap everything. */
	mmu_unmap(m, 0, 1ull << 52);
	ck_assert_uint_eq(phys_read(m, 0x200000, 1), 0xff);
	ck_assert_ptr_null(mmu_gpa_ptr(m, 0x200000, false));
	/* Many map/unmap cycles must not exhaust region slots. */
	for (int i = 0; i < 10000; i++) {
		mmu_map_mmio(m, 0xe0000000, 0x1000, &fake_ops, &d, "bar");
		mmu_unmap(m, 0xe0000000, 0x1000);
	}
	mmu_map_mmio(m, 0xe0000000, 0x1000, &fake_ops, &d, "bar");
	phys_read(m, 0xe0000000, 4);
	ck_assert_int_eq(d.nreads, 1);
	/* Re-mapping over itself (BAR rewritten with the same value). */
	for (int i = 0; i < 10000; i++)
		mmu_map_mmio(m, 0xe0000000, 0x1000, &fake_ops, &d, "bar");
	phys_read(m, 0xe0000000, 4);
	ck_assert_int_eq(d.nreads, 2);
}
END_TEST

START_TEST(buffers)
{
	struct fake_dev d = { 0 };
	mmu_map_ram(m, 0, 0x10000, 0);
	mmu_map_mmio(m, 0x10000, 0x100, &fake_ops, &d, "d");
	uint8_t src[0x300], dst[0x300];
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)i;
	/* RAM [0xff00,0x10000), MMIO [0x10000,0x10100), unmapped after. */
	phys_write_buf(m, 0xff00, src, sizeof(src));
	ck_assert_int_eq(memcmp(mmu_ram(m) + 0xff00, src, 0x100), 0);
	ck_assert_int_eq(d.nwrites, 0x100);
	ck_assert_uint_eq(d.last_off, 0xff);
	ck_assert_uint_eq(d.last_val, 0xff);
	phys_read_buf(m, 0xff00, dst, sizeof(dst));
	ck_assert_int_eq(memcmp(dst, src, 0x100), 0);
	ck_assert_uint_eq(dst[0x100], 0x00 ^ 0x5a);
	ck_assert_uint_eq(dst[0x1ff], 0xff ^ 0x5a);
	ck_assert_uint_eq(dst[0x200], 0xff);
	ck_assert_uint_eq(dst[0x2ff], 0xff);
	phys_read_buf(m, 0, dst, 0); /* empty: nothing */
	phys_write_buf(m, 0, src, 0);
}
END_TEST

struct hook_log {
	int n;
	uint64_t pages[16];
};

static void hook(void *opaque, uint64_t page_gpa)
{
	struct hook_log *h = opaque;
	if (h->n < 16)
		h->pages[h->n] = page_gpa;
	h->n++;
}

START_TEST(code_pages)
{
	struct hook_log h = { 0 };
	mmu_map_ram(m, 0, 16 * MiB, 0);
	mmu_map_ram(m, 4 * GiB, 16 * MiB, 16 * MiB);
	mmu_set_code_write_hook(m, hook, &h);
	ck_assert(!mmu_is_code(m, 0x5000));
	mmu_mark_code(m, 0x5123);
	ck_assert(mmu_is_code(m, 0x5000));
	ck_assert(mmu_is_code(m, 0x5fff));
	ck_assert(!mmu_is_code(m, 0x6000));
	ck_assert(!mmu_is_code(m, 0x4fff));
	/* A write to a neighbour page in the same bitmap word: no hook. */
	phys_write(m, 0x6000, 4, 1);
	phys_write(m, 0x4ffc, 4, 1);
	ck_assert_int_eq(h.n, 0);
	/* A write to the page: hook once, then the bit is clear. */
	phys_write(m, 0x5800, 1, 0xcc);
	ck_assert_int_eq(h.n, 1);
	ck_assert_uint_eq(h.pages[0], 0x5000);
	ck_assert(!mmu_is_code(m, 0x5000));
	ck_assert_uint_eq(mmu_ram(m)[0x5800], 0xcc); /* and the write happened */
	phys_write(m, 0x5800, 1, 0xcd);
	ck_assert_int_eq(h.n, 1);
	/* Cross-page write touching a code page at its start. */
	mmu_mark_code(m, 0x8000);
	phys_write(m, 0x7ffe, 4, 0xffffffff);
	ck_assert_int_eq(h.n, 2);
	ck_assert_uint_eq(h.pages[1], 0x8000);
	/* Buffer write over three pages, two marked. */
	mmu_mark_code(m, 0x10000);
	mmu_mark_code(m, 0x12000);
	uint8_t buf[0x3000] = { 0 };
	phys_write_buf(m, 0x10000, buf, sizeof(buf));
	ck_assert_int_eq(h.n, 4);
	ck_assert_uint_eq(h.pages[2], 0x10000);
	ck_assert_uint_eq(h.pages[3], 0x12000);
	/* mmu_note_write for writes through host pointers. */
	mmu_mark_code(m, 0x20000);
	mmu_note_write(m, 0x1f000, 0x1000);
	ck_assert_int_eq(h.n, 4);
	mmu_note_write(m, 0x1ffff, 2);
	ck_assert_int_eq(h.n, 5);
	ck_assert_uint_eq(h.pages[4], 0x20000);
	mmu_note_write(m, 0x20000, 1);
	ck_assert_int_eq(h.n, 5);
	/* Reads never fire. */
	mmu_mark_code(m, 0x30000);
	phys_read(m, 0x30000, 8);
	ck_assert_int_eq(h.n, 5);
	ck_assert(mmu_is_code(m, 0x30000));
	/* RAM above 4 GiB is tracked too. */
	mmu_mark_code(m, 4 * GiB + 0x3000);
	ck_assert(mmu_is_code(m, 4 * GiB + 0x3000));
	phys_write(m, 4 * GiB + 0x3008, 8, 0);
	ck_assert_int_eq(h.n, 6);
	ck_assert_uint_eq(h.pages[5], 4 * GiB + 0x3000);
	/* Remapping a code page changes what is there: the hook fires. */
	struct fake_dev d = { 0 };
	mmu_map_mmio(m, 0x30000, 0x1000, &fake_ops, &d, "d");
	ck_assert_int_eq(h.n, 7);
	ck_assert_uint_eq(h.pages[6], 0x30000);
	ck_assert(!mmu_is_code(m, 0x30000));
	/* Addresses beyond the bitmap: ignored, no crash. */
	mmu_mark_code(m, 1ull << 51);
	ck_assert(!mmu_is_code(m, 1ull << 51));
	mmu_note_write(m, ~0ull - 10, 100);
}
END_TEST

START_TEST(big_sparse_ram)
{
	/* 8 GiB guest: only touched pages cost host memory. */
	struct mmu *b = mmu_new(8 * GiB);
	ck_assert_ptr_nonnull(b);
	mmu_map_ram(b, 0, 3 * GiB, 0);
	mmu_map_ram(b, 4 * GiB, 5 * GiB, 3 * GiB);
	phys_write(b, 3 * GiB - 8, 8, 1);
	phys_write(b, 9 * GiB - 8, 8, 2);
	ck_assert_uint_eq(phys_read(b, 3 * GiB - 8, 8), 1);
	ck_assert_uint_eq(phys_read(b, 9 * GiB - 8, 8), 2);
	ck_assert_uint_eq(mmu_ram(b)[8 * GiB - 8], 2);
	ck_assert_uint_eq(phys_read(b, 9 * GiB, 8), ~0ull);
	mmu_mark_code(b, 9 * GiB - 4096);
	ck_assert(mmu_is_code(b, 9 * GiB - 1));
	mmu_free(b);
	/* Zero-sized RAM is allowed (an all-MMIO machine). */
	b = mmu_new(0);
	ck_assert_ptr_nonnull(b);
	mmu_map_ram(b, 0, 4096, 0);
	ck_assert_uint_eq(phys_read(b, 0, 1), 0xff);
	mmu_free(b);
}
END_TEST

struct map_log {
	int n;
	uint64_t gpa, size;
};

static void map_hook(void *opaque, uint64_t gpa, uint64_t size)
{
	struct map_log *l = opaque;
	l->n++;
	l->gpa = gpa;
	l->size = size;
}

START_TEST(map_change_hook)
{
	struct map_log l = { 0 };
	struct fake_dev d = { 0 };
	mmu_set_map_change_hook(m, map_hook, &l);
	mmu_map_ram(m, 0, 16 * MiB, 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_uint_eq(l.gpa, 0);
	ck_assert_uint_eq(l.size, 16 * MiB);
	mmu_map_mmio(m, 0xfebf0000, 0x1000, &fake_ops, &d, "bar");
	ck_assert_int_eq(l.n, 2);
	ck_assert_uint_eq(l.gpa, 0xfebf0000);
	mmu_unmap(m, 0xfebf0000, 0x1000);
	ck_assert_int_eq(l.n, 3);
	ck_assert_uint_eq(l.size, 0x1000);
	/* A ROM without an image reads as erased flash. */
	mmu_map_rom(m, 0xffff0000, NULL, 0x10000);
	ck_assert_int_eq(l.n, 4);
	ck_assert_uint_eq(phys_read(m, 0xfffffff0, 8), ~0ull);
	/* Ranges clamped to 52 bits are reported clamped. */
	mmu_map_mmio(m, (1ull << 52) - 0x1000, 0x10000, &fake_ops, &d, "top");
	ck_assert_int_eq(l.n, 5);
	ck_assert_uint_eq(l.size, 0x1000);
	mmu_set_map_change_hook(m, NULL, NULL);
	mmu_unmap(m, 0, 4096);
	ck_assert_int_eq(l.n, 5);
}
END_TEST

/* Random map/unmap sequences against a byte-granular reference model of a
 * 64 KiB window straddling 4 GiB (so both the page table and the segment
 * list are exercised). */
struct tag_dev {
	uint8_t tag;
};

static uint64_t tag_read(void *opaque, uint64_t off, unsigned size)
{
	const struct tag_dev *d = opaque;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)(((off + i) ^ d->tag) & 0xff) << (8 * i);
	return v;
}

static const struct mmio_ops tag_ops = { tag_read, NULL };

enum {
	M_NONE,
	M_RAM,
	M_ROM,
	M_MMIO
};
struct owner {
	uint8_t kind, tag;
	uint64_t base, ram_off;
	int op; /* which mapping */
};

#define WIN_BASE (4 * GiB - 0x8000)
#define WIN_SIZE 0x10000
#define WIN_GRAN 0x100

static uint8_t model_byte(const struct owner *o, uint64_t a, const uint8_t *ram)
{
	switch (o->kind) {
	case M_RAM:
		return ram[o->ram_off + (a - o->base)];
	case M_ROM:
		return (uint8_t)((a - o->base) * 13 + o->tag);
	case M_MMIO:
		return (uint8_t)((a - o->base) ^ o->tag);
	default:
		return 0xff;
	}
}

static unsigned rnd(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) & 0xffffff;
}

static struct owner own[WIN_SIZE / WIN_GRAN];

static const struct owner *owner_of(uint64_t a)
{
	return &own[(a - WIN_BASE) / WIN_GRAN];
}

/* A random write lands exactly where the model says (RAM) or nowhere (ROM,
 * MMIO without a write callback, unmapped). */
static void check_write(int op, unsigned *seed)
{
	static uint8_t snap[256 * 1024]; /* covers every ram_off used */
	uint8_t *ram = mmu_ram(m);
	memcpy(snap, ram, sizeof(snap));
	unsigned size = 1u << (rnd(seed) % 4);
	uint64_t a = WIN_BASE + rnd(seed) % (WIN_SIZE - 8);
	uint64_t v = (uint64_t)rnd(seed) << 40;
	v ^= (uint64_t)rnd(seed) << 20;
	v ^= rnd(seed);
	phys_write(m, a, size, v);
	for (unsigned i = 0; i < size; i++) {
		const struct owner *o = owner_of(a + i);
		if (o->kind == M_RAM)
			snap[o->ram_off + (a + i - o->base)] = (uint8_t)(v >> (8 * i));
	}
	ck_assert_msg(memcmp(snap, ram, sizeof(snap)) == 0, "op %d: write %#llx size %u", op,
		      (unsigned long long)a, size);
}

/* A random read answers what the model says; mmu_gpa_ptr gives a pointer
 * exactly for pages wholly inside one RAM/ROM mapping. */
static void check_read(int op, unsigned *seed)
{
	const uint8_t *ram = mmu_ram(m);
	unsigned size = 1u << (rnd(seed) % 4);
	uint64_t a = WIN_BASE + rnd(seed) % (WIN_SIZE - 8);
	uint64_t want = 0;
	for (unsigned i = 0; i < size; i++)
		want |= (uint64_t)model_byte(owner_of(a + i), a + i, ram) << (8 * i);
	uint64_t got = phys_read(m, a, size);
	ck_assert_msg(got == want, "op %d: read %#llx size %u: got %#llx want %#llx", op,
		      (unsigned long long)a, size, (unsigned long long)got,
		      (unsigned long long)want);

	uint64_t pg = a & ~0xfffull;
	bool whole = pg >= WIN_BASE && pg + 0x1000 <= WIN_BASE + WIN_SIZE;
	for (uint64_t x = pg; whole && x < pg + 0x1000; x += WIN_GRAN) {
		const struct owner *o = owner_of(x);
		whole = o->op == owner_of(pg)->op && (o->kind == M_RAM || o->kind == M_ROM);
	}
	uint8_t *p = mmu_gpa_ptr(m, a, false);
	if (whole) {
		ck_assert_msg(p != NULL, "op %d: no pointer for %#llx", op, (unsigned long long)a);
		ck_assert_uint_eq(*p, model_byte(owner_of(a), a, ram));
	} else {
		ck_assert_msg(p == NULL, "op %d: pointer for shared page %#llx", op,
			      (unsigned long long)a);
	}
}

START_TEST(random_maps)
{
	static struct tag_dev devs[256];
	static uint8_t rom[WIN_SIZE];
	uint8_t *ram = mmu_ram(m);
	for (unsigned i = 0; i < 1 * MiB; i++)
		ram[i] = (uint8_t)(i * 7 + (i >> 8));
	memset(own, 0, sizeof(own));
	unsigned seed = 12345;
	for (int op = 0; op < 3000; op++) {
		uint64_t b = rnd(&seed) % (WIN_SIZE / WIN_GRAN);
		uint64_t n = 1 + rnd(&seed) % (WIN_SIZE / WIN_GRAN - b);
		if (rnd(&seed) % 4 == 0 && n > 8)
			n = 1 + n % 8; /* small ranges are more interesting */
		uint64_t gpa = WIN_BASE + b * WIN_GRAN, size = n * WIN_GRAN;
		int kind = rnd(&seed) % 4;
		uint8_t tag = (uint8_t)rnd(&seed);
		uint64_t ram_off = (rnd(&seed) % 16) * WIN_GRAN * 17;
		switch (kind) {
		case M_NONE:
			mmu_unmap(m, gpa, size);
			break;
		case M_RAM:
			mmu_map_ram(m, gpa, size, ram_off);
			break;
		case M_ROM:
			for (uint64_t i = 0; i < size; i++)
				rom[i] = (uint8_t)(i * 13 + tag);
			mmu_map_rom(m, gpa, rom, size);
			break;
		case M_MMIO:
			devs[tag].tag = tag;
			mmu_map_mmio(m, gpa, size, &tag_ops, &devs[tag], "tag");
			break;
		}
		for (uint64_t i = b; i < b + n; i++)
			own[i] = (struct owner){ (uint8_t)kind, tag, gpa, ram_off, op };
		for (int k = 0; op % 10 == 0 && k < 5; k++)
			check_write(op, &seed);
		for (int k = 0; k < 40; k++)
			check_read(op, &seed);
	}
}
END_TEST

static Suite *physmem_suite(void)
{
	Suite *s = suite_create("physmem");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ram_basic);
	tcase_add_test(tc, ram_offset_and_high);
	tcase_add_test(tc, unmapped_and_52bit);
	tcase_add_test(tc, rom);
	tcase_add_test(tc, mmio_dispatch);
	tcase_add_test(tc, overlap_priority);
	tcase_add_test(tc, unmap);
	tcase_add_test(tc, buffers);
	tcase_add_test(tc, code_pages);
	tcase_add_test(tc, big_sparse_ram);
	tcase_add_test(tc, map_change_hook);
	tcase_add_test(tc, random_maps);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(physmem_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
