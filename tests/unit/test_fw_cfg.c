/*
 * tests/unit/test_fw_cfg.c — the fw_cfg device (devices/fw_cfg.c) driven
 * through its ports the way SeaBIOS and kvm-unit-tests drive it: signature,
 * feature bits, fixed items, the file directory, DMA read/skip/write, and
 * the ACPI linker/loader files, executed here by a small loader written from
 * the command format (SeaBIOS romfile_loader.c semantics) and compared with
 * the direct-boot tables.
 */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "devices/acpi_tables.h"
#include "devices/fw_cfg.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

static struct machine *m;
static struct fw_cfg *f;

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	f = fw_cfg_init(m, FW_CFG_IO_BASE);
	ck_assert_ptr_nonnull(f);
}

static void teardown(void)
{
	fw_cfg_free(f);
	machine_free(m);
}

static void sel(uint16_t key)
{
	ioport_write(m->io, 0x510, 2, key);
}

static uint64_t rd_le(unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)ioport_read(m->io, 0x511, 1) << (8 * i);
	return v;
}

static uint32_t bswap32(uint32_t v)
{
	return __builtin_bswap32(v);
}

/* Write a FWCfgDmaAccess at gpa and trigger it with one 32-bit write of
 * the low half (what SeaBIOS does); return the control word left. */
static uint32_t dma(uint64_t gpa, uint32_t control, uint32_t length, uint64_t addr)
{
	phys_write(m->mmu, gpa, 4, bswap32(control));
	phys_write(m->mmu, gpa + 4, 4, bswap32(length));
	phys_write(m->mmu, gpa + 8, 8, __builtin_bswap64(addr));
	ioport_write(m->io, 0x514, 4, bswap32((uint32_t)(gpa >> 32)));
	ioport_write(m->io, 0x518, 4, bswap32((uint32_t)gpa));
	return bswap32((uint32_t)phys_read(m->mmu, gpa, 4));
}

/* Find a file in the directory read through the ports: key, size. */
static int dir_lookup(const char *name, uint32_t *size)
{
	sel(FW_CFG_FILE_DIR);
	uint32_t n = bswap32((uint32_t)rd_le(4));
	for (uint32_t i = 0; i < n; i++) {
		uint8_t e[64];
		for (int j = 0; j < 64; j++)
			e[j] = (uint8_t)rd_le(1);
		if (!strcmp((char *)e + 8, name)) {
			*size = (uint32_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3];
			return e[4] << 8 | e[5];
		}
	}
	return -1;
}

START_TEST(signature_and_id)
{
	sel(FW_CFG_SIGNATURE);
	ck_assert_uint_eq(rd_le(4), 0x554d4551); /* "QEMU" */
	ck_assert_uint_eq(rd_le(1), 0);          /* past the end */
	sel(FW_CFG_ID);
	ck_assert_uint_eq(rd_le(4), FW_CFG_VERSION | FW_CFG_VERSION_DMA);
	/* Reselecting restarts at offset 0; a byte write does not select. */
	sel(FW_CFG_SIGNATURE);
	ioport_write(m->io, 0x510, 1, FW_CFG_ID);
	ck_assert_uint_eq(ioport_read(m->io, 0x511, 2), 0x4551);
	/* DMA register reads "QEMU CFG" big-endian. */
	ck_assert_uint_eq(ioport_read(m->io, 0x514, 4), 0x554d4551);
	ck_assert_uint_eq(ioport_read(m->io, 0x518, 4), 0x47464320);
	/* Unknown key reads zeros. */
	sel(0x1234);
	ck_assert_uint_eq(rd_le(4), 0);
}
END_TEST

START_TEST(pc_items)
{
	struct fw_cfg_pc_config c = { .ram_below_4g = 0xc0000000ull,
				      .ram_above_4g = 1ull << 30,
				      .ncpus = 2,
				      .max_cpus = 4,
				      .boot_menu = true,
				      .boot_fail_wait = 5000,
				      .bootorder = "/rom@genroms/x\n" };
	ck_assert(fw_cfg_add_pc_items(f, &c));
	sel(FW_CFG_RAM_SIZE);
	ck_assert_uint_eq(rd_le(8), 0x100000000ull);
	sel(FW_CFG_NB_CPUS);
	ck_assert_uint_eq(rd_le(2), 2);
	sel(FW_CFG_MAX_CPUS);
	ck_assert_uint_eq(rd_le(2), 4);
	sel(FW_CFG_BOOT_MENU);
	ck_assert_uint_eq(rd_le(2), 1);
	sel(FW_CFG_IRQ0_OVERRIDE);
	ck_assert_uint_eq(rd_le(1), 1);
	uint32_t len;
	ck_assert_ptr_nonnull(fw_cfg_item(f, FW_CFG_NUMA, &len));
	ck_assert_uint_eq(len, 8 * 5);
	/* kvm-unit-tests' memory limit (key 0x11) must read 0. */
	sel(FW_CFG_KERNEL_DATA);
	ck_assert_uint_eq(rd_le(8), 0);

	uint32_t size;
	int key = dir_lookup("etc/e820", &size);
	ck_assert_int_ge(key, FW_CFG_FILE_FIRST);
	ck_assert_uint_eq(size, 40);
	sel((uint16_t)key);
	ck_assert_uint_eq(rd_le(8), 0);
	ck_assert_uint_eq(rd_le(8), 0xc0000000ull);
	ck_assert_uint_eq(rd_le(4), FW_CFG_E820_RAM);
	ck_assert_uint_eq(rd_le(8), 1ull << 32);
	ck_assert_uint_eq(rd_le(8), 1ull << 30);
	ck_assert_uint_eq(rd_le(4), FW_CFG_E820_RAM);

	key = dir_lookup("etc/boot-fail-wait", &size);
	ck_assert_int_ge(key, FW_CFG_FILE_FIRST);
	ck_assert_uint_eq(size, 4);
	sel((uint16_t)key);
	ck_assert_uint_eq(rd_le(4), 5000);
	ck_assert_int_ge(dir_lookup("bootorder", &size), FW_CFG_FILE_FIRST);
	ck_assert_uint_eq(size, strlen(c.bootorder) + 1);
	ck_assert_int_eq(dir_lookup("etc/boot-menu-wait", &size), -1);
}
END_TEST

START_TEST(dma_read_skip_write)
{
	uint8_t data[300];
	for (int i = 0; i < 300; i++)
		data[i] = (uint8_t)(i * 7);
	int key = fw_cfg_add_file(f, "opt/test", data, sizeof(data));
	ck_assert_int_eq(key, FW_CFG_FILE_FIRST);
	/* Replacing keeps the key. */
	ck_assert_int_eq(fw_cfg_add_file(f, "opt/test", data, sizeof(data)), key);

	/* select + read 300 bytes, plus 10 past the end (zeros). */
	for (int i = 0; i < 310; i++)
		phys_write(m->mmu, 0x2000 + i, 1, 0xee);
	uint32_t ctl = (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
	ck_assert_uint_eq(dma(0x1000, ctl, 310, 0x2000), 0);
	for (int i = 0; i < 300; i++)
		ck_assert_uint_eq(phys_read(m->mmu, 0x2000 + i, 1), data[i]);
	for (int i = 300; i < 310; i++)
		ck_assert_uint_eq(phys_read(m->mmu, 0x2000 + i, 1), 0);

	/* select, skip 100 (SeaBIOS's qemu_cfg_skip), read 4 via DMA. */
	ck_assert_uint_eq(dma(0x1000, (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT, 0, 0), 0);
	ck_assert_uint_eq(dma(0x1000, FW_CFG_DMA_CTL_SKIP, 100, 0), 0);
	ck_assert_uint_eq(dma(0x1000, FW_CFG_DMA_CTL_READ, 4, 0x3000), 0);
	ck_assert_uint_eq(phys_read(m->mmu, 0x3000, 4), (uint32_t)data[100] | data[101] << 8 |
								data[102] << 16 |
								(uint32_t)data[103] << 24);
	/* The port interface continues at the same offset. */
	ck_assert_uint_eq(rd_le(1), data[104]);

	/* Writes: read-only file -> error bit, nothing changed. */
	phys_write(m->mmu, 0x4000, 4, 0xdeadbeef);
	ctl = (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE;
	ck_assert_uint_eq(dma(0x1000, ctl, 4, 0x4000), FW_CFG_DMA_CTL_ERROR);
	uint32_t len;
	ck_assert_uint_eq(fw_cfg_file(f, "opt/test", &len)[0], data[0]);
	/* Writable file: in-bounds write lands, overlong write is refused. */
	uint8_t zero8[8] = { 0 };
	int wkey = fw_cfg_add_file_rw(f, "etc/wr", zero8, 8, true);
	ck_assert_int_eq(wkey, FW_CFG_FILE_FIRST + 1);
	ctl = (uint32_t)wkey << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE;
	ck_assert_uint_eq(dma(0x1000, ctl, 4, 0x4000), 0);
	const uint8_t *w = fw_cfg_file(f, "etc/wr", &len);
	ck_assert_uint_eq(len, 8);
	ck_assert_uint_eq(w[0] | w[1] << 8 | w[2] << 16 | (uint32_t)w[3] << 24, 0xdeadbeef);
	ck_assert_uint_eq(dma(0x1000, ctl, 9, 0x4000), FW_CFG_DMA_CTL_ERROR);
	/* 64-bit address written as two halves: high half first. */
	ck_assert_uint_eq(
		dma(0x1000,
		    (uint32_t)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
		    4, 0x5000),
		0);
	ck_assert_uint_eq(phys_read(m->mmu, 0x5000, 4), 0x554d4551);
}
END_TEST

/* ---- the linker/loader, executed as firmware would ---- */

struct lfile {
	const char *name;
	const uint8_t *src;
	uint32_t size;
	uint8_t *data;
	uint64_t addr;
};

static struct lfile *lfind(struct lfile *fs, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (fs[i].data && !strncmp(fs[i].name, name, 56))
			return &fs[i];
	return NULL;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void run_loader(struct lfile *fs, int nfs, uint64_t fseg_addr, uint64_t high_addr)
{
	uint32_t slen;
	const uint8_t *s = fw_cfg_file(f, "etc/table-loader", &slen);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(slen % 128, 0);
	for (uint32_t o = 0; o < slen; o += 128) {
		const uint8_t *e = s + o;
		switch (le32(e)) {
		case 1: { /* ALLOCATE */
			struct lfile *lf = NULL;
			for (int i = 0; i < nfs; i++)
				if (!strncmp(fs[i].name, (const char *)e + 4, 56))
					lf = &fs[i];
			ck_assert_ptr_nonnull(lf);
			lf->src = fw_cfg_file(f, lf->name, &lf->size);
			ck_assert_ptr_nonnull(lf->src);
			lf->data = malloc(lf->size);
			memcpy(lf->data, lf->src, lf->size);
			uint32_t align = le32(e + 60);
			ck_assert(e[64] == 1 || e[64] == 2);
			lf->addr = e[64] == 2 ? fseg_addr : high_addr;
			ck_assert_uint_eq(lf->addr % align, 0);
			if (e[64] == 2)
				ck_assert_str_eq(lf->name, "etc/acpi/rsdp");
			break;
		}
		case 2: { /* ADD_POINTER */
			struct lfile *d = lfind(fs, nfs, (const char *)e + 4);
			struct lfile *sf = lfind(fs, nfs, (const char *)e + 60);
			ck_assert_ptr_nonnull(d);
			ck_assert_ptr_nonnull(sf);
			uint32_t off = le32(e + 116);
			uint8_t size = e[120];
			ck_assert(size == 1 || size == 2 || size == 4 || size == 8);
			ck_assert_uint_le(off + size, d->size);
			uint64_t v = 0;
			memcpy(&v, d->data + off, size);
			v += sf->addr;
			memcpy(d->data + off, &v, size);
			break;
		}
		case 3: { /* ADD_CHECKSUM */
			struct lfile *d = lfind(fs, nfs, (const char *)e + 4);
			ck_assert_ptr_nonnull(d);
			uint32_t off = le32(e + 60), start = le32(e + 64), len = le32(e + 68);
			ck_assert_uint_lt(off, d->size);
			ck_assert_uint_le(start + len, d->size);
			uint8_t sum = 0;
			for (uint32_t i = 0; i < len; i++)
				sum = (uint8_t)(sum + d->data[start + i]);
			d->data[off] = (uint8_t)(d->data[off] - sum);
			break;
		}
		default:
			ck_abort_msg("unknown loader command %u", le32(e));
		}
	}
}

static uint8_t sum8(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

START_TEST(acpi_loader)
{
	struct acpi_config ac = { .ncpus = 4,
				  .ioapic_addr = 0xfec00000,
				  .hpet_addr = 0xfed00000,
				  .hpet_id = 0x8086a201,
				  .pm_base = 0x600,
				  .sci_irq = 9,
				  .smi_cmd = 0xb2,
				  .acpi_enable = 0xf1,
				  .acpi_disable = 0xf0,
				  .fw_cfg_port = 0x510 };
	ck_assert(fw_cfg_add_acpi(f, &ac));
	uint32_t sz;
	int key = dir_lookup("etc/table-loader", &sz);
	ck_assert_int_ge(key, FW_CFG_FILE_FIRST);
	ck_assert_int_ge(dir_lookup("etc/acpi/rsdp", &sz), FW_CFG_FILE_FIRST);
	ck_assert_uint_eq(sz, 36);

	/* Place the RSDP at base and the tables at base + 64: the result must
	 * equal acpi_build's direct-boot image for that base. */
	const uint64_t base = 0xe0000;
	struct lfile fs[2] = { { .name = "etc/acpi/rsdp" }, { .name = "etc/acpi/tables" } };
	run_loader(fs, 2, base, base + 64);
	ck_assert_ptr_nonnull(fs[0].data);
	ck_assert_ptr_nonnull(fs[1].data);

	uint8_t *img = calloc(1, 0x10000);
	uint32_t len = acpi_build(&ac, img, 0x10000, (uint32_t)base);
	ck_assert_uint_eq(len, 64 + fs[1].size);
	ck_assert_mem_eq(img, fs[0].data, 36);
	ck_assert_mem_eq(img + 64, fs[1].data, fs[1].size);

	/* Validate the linked tables as an OS would. */
	const uint8_t *r = fs[0].data;
	ck_assert_mem_eq(r, "RSD PTR ", 8);
	ck_assert_uint_eq(sum8(r, 20), 0);
	ck_assert_uint_eq(sum8(r, 36), 0);
	uint64_t xsdt;
	memcpy(&xsdt, r + 24, 8);
	const uint8_t *t = fs[1].data;
	const uint8_t *x = t + (xsdt - (base + 64));
	ck_assert_mem_eq(x, "XSDT", 4);
	uint32_t xl = le32(x + 4);
	ck_assert_uint_eq(sum8(x, xl), 0);
	ck_assert_uint_eq((xl - 36) / 8, 3);
	int seen_dsdt = 0;
	for (uint32_t i = 0; i < (xl - 36) / 8; i++) {
		uint64_t a;
		memcpy(&a, x + 36 + 8 * i, 8);
		const uint8_t *tb = t + (a - (base + 64));
		ck_assert_uint_eq(sum8(tb, le32(tb + 4)), 0);
		if (!memcmp(tb, "FACP", 4)) {
			const uint8_t *d = t + (le32(tb + 40) - (base + 64));
			ck_assert_mem_eq(d, "DSDT", 4);
			ck_assert_uint_eq(sum8(d, le32(d + 4)), 0);
			ck_assert_uint_eq(le32(tb + 36), base + 64); /* FACS first, aligned */
			ck_assert_uint_eq(le32(tb + 48), 0xb2);
			ck_assert_uint_eq(le32(tb + 80), 0x60c); /* GPE0 per acpi_pm.h */
			/* SeaBIOS needs a PNP0303 device to set up the keyboard. */
			static const uint8_t kbd[] = { 0x08, '_',  'H',  'I',  'D',
						       0x0c, 0x41, 0xd0, 0x03, 0x03 };
			ck_assert_ptr_nonnull(memmem(d, le32(d + 4), kbd, sizeof(kbd)));
			ck_assert_ptr_nonnull(memmem(d, le32(d + 4), "QEMU0002", 8));
			seen_dsdt = 1;
		}
	}
	ck_assert(seen_dsdt);
	free(img);
	free(fs[0].data);
	free(fs[1].data);
}
END_TEST

/* Decode an AML PkgLength (ACPI §20.2.4); returns the bytes it used. */
static unsigned pkglen(const uint8_t *p, uint32_t *len)
{
	unsigned n = (p[0] >> 6) + 1;
	if (n == 1) {
		*len = p[0] & 0x3f;
		return 1;
	}
	*len = p[0] & 0xf;
	for (unsigned i = 1; i < n; i++)
		*len |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return n;
}

START_TEST(dsdt_structure)
{
	/* Top level: Name(_S5, Package) then Scope(\_SB) ending exactly at the
	 * end of the table, for 1 and for 100 CPUs (multi-byte PkgLengths). */
	for (int ncpus = 1; ncpus <= 100; ncpus += 99) {
		struct acpi_config ac = {
			.ncpus = ncpus, .ioapic_addr = 0xfec00000, .pm_base = 0x600, .sci_irq = 9
		};
		uint8_t *img = calloc(1, 0x10000);
		ck_assert_uint_gt(acpi_build(&ac, img, 0x10000, 0x100000), 0);
		uint32_t rsdt = le32(img + 16) - 0x100000;
		uint32_t facp = le32(img + rsdt + 36) - 0x100000;
		ck_assert_mem_eq(img + facp, "FACP", 4);
		uint32_t dsdt = le32(img + facp + 40) - 0x100000;
		const uint8_t *d = img + dsdt;
		uint32_t dlen = le32(d + 4);
		uint32_t o = 36;
		ck_assert_uint_eq(d[o], 0x08);
		ck_assert_mem_eq(d + o + 1, "_S5_", 4);
		ck_assert_uint_eq(d[o + 5], 0x12);
		uint32_t l;
		unsigned k = pkglen(d + o + 6, &l);
		(void)k;
		o += 6 + l;
		ck_assert_uint_eq(d[o], 0x10);
		k = pkglen(d + o + 1, &l);
		ck_assert_uint_eq(k, ncpus == 1 ? 2 : 3);
		ck_assert_uint_eq(o + 1 + l, dlen);
		ck_assert_mem_eq(d + o + 1 + k, "\\_SB_", 5);
		/* Last processor device is inside the scope. */
		char name[5];
		snprintf(name, sizeof(name), "C%03X", ncpus - 1);
		ck_assert_ptr_nonnull(memmem(d, dlen, name, 4));
		free(img);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fw_cfg");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, signature_and_id);
	tcase_add_test(tc, pc_items);
	tcase_add_test(tc, dma_read_skip_write);
	tcase_add_test(tc, acpi_loader);
	tcase_add_test(tc, dsdt_structure);
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
