/*
 * tests/unit/test_testdev.c — pc-testdev and pci-testdev (devices/testdev.c)
 * exercised with the access patterns of kvm-unit-tests: x86/emulator.c's
 * string I/O on port 0xe0, lib/x86/apic.c set_irq_line, eventinj.c's page
 * flush, the 0xff000000 iomem, and lib/pci-testdev.c's test loop on both
 * BARs of the PCI device.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "devices/testdev.h"
#include "mmu/mmu.h"

static struct machine *m;
static struct pc_testdev *pct;
static int level[PC_TESTDEV_NLINES];
static uint64_t flushed;

static void line_set(void *opaque, int n, int lv)
{
	level[n] = lv;
}

static void flush_cb(void *opaque, uint64_t gpa)
{
	flushed = gpa;
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	struct irq_line lines[PC_TESTDEV_NLINES];
	for (int i = 0; i < PC_TESTDEV_NLINES; i++) {
		lines[i] = (struct irq_line){ line_set, NULL, i };
		level[i] = -1;
	}
	flushed = 0;
	pct = pc_testdev_init(m, lines, flush_cb, NULL);
	ck_assert_ptr_nonnull(pct);
}

static void teardown(void)
{
	pc_testdev_free(pct);
	machine_free(m);
}

START_TEST(ioport_lanes)
{
	/* rep outsb of "abc...p", then inb: the last byte. */
	const char *s = "abcdefghijklmnop";
	for (int i = 0; s[i]; i++)
		ioport_write(m->io, 0xe0, 1, (uint8_t)s[i]);
	ck_assert_uint_eq(ioport_read(m->io, 0xe0, 1), 'p');
	/* outw 0x9999 then insb reads 0x99 each time. */
	ioport_write(m->io, 0xe0, 2, 0x9999);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(ioport_read(m->io, 0xe0, 1), 0x99);
	/* amd_sev.c: rep outsw, then inw: the last word. */
	ioport_write(m->io, 0xe0, 2, 'a' | 'b' << 8);
	ioport_write(m->io, 0xe0, 2, 'o' | 'p' << 8);
	ck_assert_uint_eq(ioport_read(m->io, 0xe0, 2), 'o' | 'p' << 8);
	/* Byte lanes of the dword register. */
	ioport_write(m->io, 0xe0, 4, 0x12345678);
	ck_assert_uint_eq(ioport_read(m->io, 0xe1, 1), 0x56);
	ck_assert_uint_eq(ioport_read(m->io, 0xe2, 2), 0x1234);
	ioport_write(m->io, 0xe3, 1, 0xab);
	ck_assert_uint_eq(ioport_read(m->io, 0xe0, 4), 0xab345678);
	/* 0xe8 is the same register, byte by byte. */
	ck_assert_uint_eq(ioport_read(m->io, 0xe8, 4), 0xab345678);
	ioport_write(m->io, 0xe9, 2, 0xcdef);
	ck_assert_uint_eq(ioport_read(m->io, 0xe0, 4), 0xabcdef78);
	pc_testdev_reset(pct);
	ck_assert_uint_eq(ioport_read(m->io, 0xe0, 4), 0);
}
END_TEST

START_TEST(irq_lines_and_flush)
{
	ioport_write(m->io, 0x200e, 1, 1);
	ck_assert_int_eq(level[14], 1);
	ioport_write(m->io, 0x200e, 1, 0);
	ck_assert_int_eq(level[14], 0);
	ioport_write(m->io, 0x2017, 1, 0x80);
	ck_assert_int_eq(level[23], 1);
	/* Only byte writes are valid. */
	ioport_write(m->io, 0x2001, 2, 0x0101);
	ck_assert_int_eq(level[1], -1);
	ck_assert_int_eq(level[2], -1);

	ioport_write(m->io, 0xe4, 4, 0x12345678);
	ck_assert_uint_eq(flushed, 0x12345000);
	flushed = 0;
	ioport_write(m->io, 0xe4, 2, 0x5678);
	ck_assert_uint_eq(flushed, 0);
}
END_TEST

START_TEST(iomem)
{
	const uint64_t b = PC_TESTDEV_IOMEM_BASE;
	phys_write(m->mmu, b + 4095, 2, 0x88aa);
	ck_assert_uint_eq(phys_read(m->mmu, b + 4095, 1), 0xaa);
	ck_assert_uint_eq(phys_read(m->mmu, b + 4096, 1), 0x88);
	phys_write(m->mmu, b + 0x100, 8, 0x0123456789abcdefull);
	ck_assert_uint_eq(phys_read(m->mmu, b + 0x100, 8), 0x0123456789abcdefull);
	ck_assert_uint_eq(phys_read(m->mmu, b + 0x104, 4), 0x01234567);
	phys_write(m->mmu, b + 0xffff, 1, 0x5a);
	ck_assert_uint_eq(phys_read(m->mmu, b + 0xffff, 1), 0x5a);
}
END_TEST

/* ---- pci-testdev ---- */

#define MEMBAR 0xc0001000u
#define IOBAR  0xc100u

static struct pci_bus *bus;
static struct pci_testdev *ptd;
static const uint8_t devfn = PCI_DEVFN(5, 0);

static void pci_setup(void)
{
	setup();
	bus = pci_init(m);
	ck_assert_ptr_nonnull(bus);
	ptd = pci_testdev_init(m, bus, devfn);
	ck_assert_ptr_nonnull(ptd);
}

static void pci_teardown(void)
{
	pci_testdev_free(ptd);
	pci_free(bus);
	teardown();
}

static void map_bars(uint32_t mem, uint16_t io)
{
	pci_cfg_write(bus, devfn, PCI_BAR0, mem, 4);
	pci_cfg_write(bus, devfn, PCI_BAR0 + 4, io, 4);
	pci_cfg_write(bus, devfn, PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MEM, 2);
}

/* Accessors of one BAR, like lib/pci-testdev.c's ops. */
static bool use_io;
static uint64_t bar;
static uint32_t rd(uint32_t off, unsigned size)
{
	return use_io ? ioport_read(m->io, (uint16_t)(bar + off), size)
		      : (uint32_t)phys_read(m->mmu, bar + off, size);
}
static void wr(uint32_t off, unsigned size, uint32_t v)
{
	if (use_io)
		ioport_write(m->io, (uint16_t)(bar + off), size, v);
	else
		phys_write(m->mmu, bar + off, size, v);
}

/* lib/pci-testdev.c pci_testdev_one + name read; returns false at the end. */
static bool one_test(int nr, char *name)
{
	wr(0, 1, (uint32_t)nr);
	if (rd(12, 4) != 0)
		return false;
	uint32_t width = rd(1, 1);
	if (width != 1 && width != 2 && width != 4)
		return false;
	uint32_t sig = rd(8, 4), off = rd(4, 4);
	for (int i = 0; i < 16; i++)
		wr(off, width, sig);
	ck_assert_uint_eq(rd(12, 4), 16);
	int i = 0;
	for (char c; (c = (char)rd(16 + (uint32_t)i, 1)) != 0 && i < 63; i++)
		name[i] = c;
	name[i] = 0;
	return true;
}

START_TEST(pci_ids_and_bars)
{
	ck_assert_uint_eq(pci_cfg_read(bus, devfn, PCI_VENDOR_ID, 4), 0x00051b36);
	ck_assert_uint_eq(pci_cfg_read(bus, devfn, PCI_CLASS_REV, 4) >> 8, 0xff0000);
	ck_assert_uint_eq(pci_cfg_read(bus, devfn, PCI_INTERRUPT_PIN, 1), 0);
	/* BAR sizing: memory 4 KiB, I/O 256 bytes. */
	pci_cfg_write(bus, devfn, PCI_BAR0, 0xffffffff, 4);
	ck_assert_uint_eq(pci_cfg_read(bus, devfn, PCI_BAR0, 4), 0xfffff000);
	pci_cfg_write(bus, devfn, PCI_BAR0 + 4, 0xffffffff, 4);
	ck_assert_uint_eq(pci_cfg_read(bus, devfn, PCI_BAR0 + 4, 4) & 0xffff, 0xff01);
}
END_TEST

START_TEST(pci_test_loop)
{
	static const char *const expect[2][3] = {
		{ "mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd" },
		{ "portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd" }
	};
	map_bars(MEMBAR, IOBAR);
	for (int io = 0; io < 2; io++) {
		use_io = io;
		bar = io ? IOBAR : MEMBAR;
		char name[64];
		int n = 0;
		while (one_test(n, name)) {
			ck_assert_int_lt(n, 3);
			ck_assert_str_eq(name, expect[io][n]);
			n++;
		}
		ck_assert_int_eq(n, 3);
	}
	/* Offsets and data as documented; datamatch counts only matching data. */
	use_io = false;
	bar = MEMBAR;
	wr(0, 1, 2);
	ck_assert_uint_eq(rd(4, 4), 2048 + 2);
	ck_assert_uint_eq(rd(8, 4), 0xfa);
	wr(2050, 1, 0x11);
	ck_assert_uint_eq(rd(12, 4), 0);
	wr(2050, 1, 0xfa);
	ck_assert_uint_eq(rd(12, 4), 1);
	wr(0, 1, 1);
	ck_assert_uint_eq(rd(8, 4), 0xce);
	wr(2049, 1, 0x11);
	ck_assert_uint_eq(rd(12, 4), 1);
	use_io = true;
	bar = IOBAR;
	wr(0, 1, 0);
	ck_assert_uint_eq(rd(4, 4), 128 + 3);
	ck_assert_uint_eq(rd(0, 1), 3);
}
END_TEST

START_TEST(pci_bar_move)
{
	map_bars(MEMBAR, IOBAR);
	ioport_write(m->io, IOBAR, 1, 0);
	ck_assert_uint_eq(ioport_read(m->io, IOBAR + 1, 1), 1);
	/* Move both BARs: old windows go dead, new ones answer. */
	map_bars(MEMBAR + 0x10000, IOBAR + 0x100);
	ck_assert_uint_eq(ioport_read(m->io, IOBAR + 1, 1), 0xff);
	ck_assert_uint_eq(ioport_read(m->io, IOBAR + 0x101, 1), 1);
	ck_assert_uint_eq(phys_read(m->mmu, MEMBAR + 1, 1), 0xff);
	ck_assert_uint_eq(phys_read(m->mmu, MEMBAR + 0x10001, 1), 1);
	/* Decode off: nothing answers. */
	pci_cfg_write(bus, devfn, PCI_COMMAND, 0, 2);
	ck_assert_uint_eq(ioport_read(m->io, IOBAR + 0x101, 1), 0xff);
	ck_assert_uint_eq(phys_read(m->mmu, MEMBAR + 0x10001, 1), 0xff);
	/* Back on at the first place: reuses the old registration. */
	map_bars(MEMBAR, IOBAR);
	ck_assert_uint_eq(ioport_read(m->io, IOBAR + 1, 1), 1);
	pci_testdev_reset(ptd);
	ck_assert_uint_eq(ioport_read(m->io, IOBAR + 1, 1), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("testdev");
	TCase *tc = tcase_create("pc-testdev");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ioport_lanes);
	tcase_add_test(tc, irq_lines_and_flush);
	tcase_add_test(tc, iomem);
	suite_add_tcase(s, tc);
	tc = tcase_create("pci-testdev");
	tcase_add_checked_fixture(tc, pci_setup, pci_teardown);
	tcase_add_test(tc, pci_ids_and_bars);
	tcase_add_test(tc, pci_test_loop);
	tcase_add_test(tc, pci_bar_move);
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
