/*
 * tests/unit/test_pci.c — PCI bus 0 (devices/pci.c): mechanism #1 through
 * the I/O ports, the i440FX/PIIX3/PIIX4 identities, write masks and
 * write-1-to-clear status, BAR sizing and move callbacks (I/O, 32- and 64-bit
 * memory), PAM hook, PIRQ routing with the slot swizzle, INTx disable, and
 * the PIIX4 PMBA moving the ACPI PM block.
 */
#include <check.h>
#include <stdlib.h>

#include "devices/acpi_pm.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/pci.h"

static struct machine *m;
static struct pci_bus *bus;
static struct acpi_pm *pm;
static int isa_level[16], isa_calls;
static unsigned pam_reg;
static int pam_val, pam_calls;
static int moves, moved_bar;
static uint64_t moved_addr;
static bool moved_mapped;

static void isa_irq(void *opaque, int irq, int level)
{
	isa_level[irq] = level;
	isa_calls++;
}

static void pam(void *opaque, unsigned reg, uint8_t val)
{
	pam_reg = reg;
	pam_val = val;
	pam_calls++;
}

static void bar_moved(struct pci_dev *d, int bar, uint64_t addr, bool mapped)
{
	moves++;
	moved_bar = bar;
	moved_addr = addr;
	moved_mapped = mapped;
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	pm = acpi_pm_init(m, 0, NULL);
	bus = pci_init(m);
	ck_assert_ptr_nonnull(bus);
	struct pci_board_hooks h = { .opaque = NULL, .isa_irq = isa_irq, .pam = pam };
	pci_add_i440fx_piix(bus, &h, pm);
	for (int i = 0; i < 16; i++)
		isa_level[i] = 0;
	isa_calls = pam_calls = moves = 0;
}

static void teardown(void)
{
	pci_free(bus);
	acpi_pm_free(pm);
	machine_free(m);
}

static uint32_t cfg_rd(int slot, int fn, unsigned off, unsigned size)
{
	ioport_write(m->io, 0xcf8, 4, 0x80000000u | slot << 11 | fn << 8 | (off & 0xfc));
	return ioport_read(m->io, 0xcfc + (off & 3), size);
}
static void cfg_wr(int slot, int fn, unsigned off, unsigned size, uint32_t v)
{
	ioport_write(m->io, 0xcf8, 4, 0x80000000u | slot << 11 | fn << 8 | (off & 0xfc));
	ioport_write(m->io, 0xcfc + (off & 3), size, v);
}

START_TEST(identity)
{
	ck_assert_uint_eq(cfg_rd(0, 0, 0, 4), 0x12378086u);
	ck_assert_uint_eq(cfg_rd(1, 0, 0, 4), 0x70008086u);
	ck_assert_uint_eq(cfg_rd(1, 1, 0, 4), 0x70108086u);
	ck_assert_uint_eq(cfg_rd(1, 3, 0, 4), 0x71138086u);
	ck_assert_uint_eq(cfg_rd(1, 2, 0, 4), 0xffffffffu);
	ck_assert_uint_eq(cfg_rd(2, 0, 0, 2), 0xffff);
	ck_assert_uint_eq(cfg_rd(0, 0, 0xa, 2), 0x0600);
	ck_assert_uint_eq(cfg_rd(1, 0, 0xa, 2), 0x0601);
	ck_assert_uint_eq(cfg_rd(1, 1, 0x8, 4) >> 8, 0x010180);
	ck_assert_uint_eq(cfg_rd(1, 3, 0xa, 2), 0x0680);
	ck_assert_uint_eq(cfg_rd(1, 0, 0xe, 1) & 0x80, 0x80); /* multi-function */
	ck_assert_uint_eq(cfg_rd(0, 0, 0xe, 1) & 0x80, 0);
	/* Byte reads at an offset within the dword. */
	ck_assert_uint_eq(cfg_rd(0, 0, 2, 1), 0x37);
	ck_assert_uint_eq(cfg_rd(0, 0, 3, 1), 0x12);
	/* CONFIG_ADDRESS reads back; disabled -> all ones; bus 1 empty. */
	ioport_write(m->io, 0xcf8, 4, 0x80000813u);
	ck_assert_uint_eq(ioport_read(m->io, 0xcf8, 4), 0x80000810u);
	ioport_write(m->io, 0xcf8, 4, 0x00000000u);
	ck_assert_uint_eq(ioport_read(m->io, 0xcfc, 4), 0xffffffffu);
	ioport_write(m->io, 0xcf8, 4, 0x80010000u);
	ck_assert_uint_eq(ioport_read(m->io, 0xcfc, 4), 0xffffffffu);
}
END_TEST

START_TEST(masks_and_status)
{
	/* Vendor ID is read-only. */
	cfg_wr(0, 0, 0, 4, 0);
	ck_assert_uint_eq(cfg_rd(0, 0, 0, 4), 0x12378086u);
	/* Command: only defined bits stick. */
	cfg_wr(1, 1, 4, 2, 0xffff);
	ck_assert_uint_eq(cfg_rd(1, 1, 4, 2), 0x0547);
	/* Status error bits are write-1-to-clear. */
	struct pci_dev *d = pci_find(bus, PCI_DEVFN(1, 1));
	d->cfg[PCI_STATUS + 1] |= 0x20; /* received master abort */
	cfg_wr(1, 1, 6, 2, 0x0000);
	ck_assert_uint_eq(cfg_rd(1, 1, 6, 2) & 0x2000, 0x2000);
	cfg_wr(1, 1, 6, 2, 0x2000);
	ck_assert_uint_eq(cfg_rd(1, 1, 6, 2) & 0x2000, 0);
	/* Interrupt line writable, pin not. */
	cfg_wr(1, 3, 0x3c, 2, 0x0309);
	ck_assert_uint_eq(cfg_rd(1, 3, 0x3c, 2), 0x0109);
}
END_TEST

START_TEST(bar_sizing)
{
	struct pci_dev *d = pci_register(bus, PCI_DEVFN(3, 0), 0x1234, 0x1111, 0x020000, 1, "nic");
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(pci_register(bus, PCI_DEVFN(3, 0), 1, 2, 3, 0, "dup"));
	pci_set_bar(d, 0, 0x1000, PCI_BAR_MEM32);
	pci_set_bar(d, 1, 0x20, PCI_BAR_IO);
	pci_set_bar(d, 2, 0x100000000ull, PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
	d->bar_moved = bar_moved;
	cfg_wr(3, 0, 0x10, 4, 0xffffffffu);
	ck_assert_uint_eq(cfg_rd(3, 0, 0x10, 4), 0xfffff000u);
	cfg_wr(3, 0, 0x14, 4, 0xffffffffu);
	/* I/O BARs keep 32 writable bits, as firmware sizes them. */
	ck_assert_uint_eq(cfg_rd(3, 0, 0x14, 4), 0xffffffe1u);
	cfg_wr(3, 0, 0x18, 4, 0xffffffffu);
	cfg_wr(3, 0, 0x1c, 4, 0xffffffffu);
	ck_assert_uint_eq(cfg_rd(3, 0, 0x18, 4), 0x0000000cu);
	ck_assert_uint_eq(cfg_rd(3, 0, 0x1c, 4), 0xffffffffu - 0);
	ck_assert_uint_eq(cfg_rd(3, 0, 0x20, 4), 0); /* BAR 4 absent */
	ck_assert_int_eq(moves, 0);                  /* decode off */
	/* Program and enable memory decode: BAR 0 and 2 report. */
	cfg_wr(3, 0, 0x10, 4, 0xfebf1000u);
	cfg_wr(3, 0, 0x18, 4, 0);
	cfg_wr(3, 0, 0x1c, 4, 0x8);
	cfg_wr(3, 0, 0x04, 2, PCI_CMD_MEM);
	ck_assert_int_eq(moves, 2);
	ck_assert(d->bar[0].mapped && d->bar[0].addr == 0xfebf1000u);
	ck_assert(d->bar[2].mapped && d->bar[2].addr == 0x800000000ull);
	/* Move BAR 0. */
	cfg_wr(3, 0, 0x10, 4, 0xfebf2000u);
	ck_assert_int_eq(moves, 3);
	ck_assert_int_eq(moved_bar, 0);
	ck_assert_uint_eq(moved_addr, 0xfebf2000u);
	/* I/O decode on. */
	cfg_wr(3, 0, 0x14, 4, 0xc001);
	ck_assert_int_eq(moves, 3);
	cfg_wr(3, 0, 0x04, 2, PCI_CMD_MEM | PCI_CMD_IO);
	ck_assert_int_eq(moves, 4);
	ck_assert_int_eq(moved_bar, 1);
	ck_assert_uint_eq(moved_addr, 0xc000);
	ck_assert(moved_mapped);
	/* Memory decode off unmaps both memory BARs. */
	cfg_wr(3, 0, 0x04, 2, PCI_CMD_IO);
	ck_assert_int_eq(moves, 6);
	ck_assert(!moved_mapped);
}
END_TEST

START_TEST(pam_hook)
{
	cfg_wr(0, 0, 0x59, 1, 0x30);
	ck_assert_int_eq(pam_calls, 1);
	ck_assert_uint_eq(pam_reg, 0x59);
	ck_assert_int_eq(pam_val, 0x30);
	cfg_wr(0, 0, 0x5c, 4, 0x33333333u);
	ck_assert_int_eq(pam_calls, 5);
	ck_assert_uint_eq(pam_reg, 0x5f);
	ck_assert_uint_eq(cfg_rd(0, 0, 0x5c, 4), 0x33333333u);
}
END_TEST

START_TEST(pirq_routing)
{
	struct pci_dev *d = pci_register(bus, PCI_DEVFN(3, 0), 0x1234, 0x1111, 0x020000, 1, "nic");
	pci_set_irq_pin(d, 1); /* INTA of slot 3 -> PIRQ (3 + 1 - 2) & 3 = PIRQC */
	ck_assert_uint_eq(cfg_rd(3, 0, 0x3d, 1), 1);
	pci_set_irq(d, 1);
	ck_assert_int_eq(isa_calls, 0); /* routing disabled */
	ck_assert_int_eq(pci_pirq_level(bus, 2), 1);
	ck_assert_int_eq(pci_pirq_level(bus, 3), 0);
	ck_assert_uint_eq(cfg_rd(3, 0, 6, 2) & 8, 8); /* interrupt status */
	cfg_wr(1, 0, 0x62, 1, 0x0b);                  /* PIRQC -> IRQ 11 */
	ck_assert_int_eq(pci_pirq_route(bus, 2), 11);
	ck_assert_int_eq(isa_level[11], 1);
	/* Re-route: old IRQ drops, new rises. */
	cfg_wr(1, 0, 0x62, 1, 0x0a);
	ck_assert_int_eq(isa_level[11], 0);
	ck_assert_int_eq(isa_level[10], 1);
	/* INTx disable masks the output. */
	cfg_wr(3, 0, 4, 2, PCI_CMD_INTX_DISABLE);
	ck_assert_int_eq(isa_level[10], 0);
	cfg_wr(3, 0, 4, 2, 0);
	ck_assert_int_eq(isa_level[10], 1);
	pci_set_irq(d, 0);
	ck_assert_int_eq(isa_level[10], 0);
	/* Wired-OR: two PIRQs on one IRQ. */
	struct pci_dev *e = pci_register(bus, PCI_DEVFN(4, 0), 0x1234, 0x2222, 0x020000, 1, "e");
	pci_set_irq_pin(e, 2); /* slot 4 INTB -> PIRQA */
	cfg_wr(1, 0, 0x60, 1, 0x0a);
	pci_set_irq(d, 1);
	pci_set_irq(e, 1);
	pci_set_irq(d, 0);
	ck_assert_int_eq(isa_level[10], 1);
	pci_set_irq(e, 0);
	ck_assert_int_eq(isa_level[10], 0);
	/* Reserved targets count as disabled. */
	cfg_wr(1, 0, 0x60, 1, 0x02);
	ck_assert_int_eq(pci_pirq_route(bus, 0), -1);
	ck_assert_uint_eq(cfg_rd(1, 0, 0x60, 4), 0x800a8002u);
}
END_TEST

START_TEST(pmba_moves_pm)
{
	/* Power-on: PM block not decoded. */
	ck_assert_uint_eq(ioport_read(m->io, 0x604, 2), 0xffff);
	ck_assert_uint_eq(cfg_rd(1, 3, 0x40, 4), 1);
	cfg_wr(1, 3, 0x40, 4, 0x601);
	ck_assert_uint_eq(cfg_rd(1, 3, 0x40, 4), 0x601);
	ck_assert_uint_eq(ioport_read(m->io, 0x604, 2), 0xffff);
	cfg_wr(1, 3, 0x80, 1, 1);
	ioport_write(m->io, 0x604, 2, 1);
	ck_assert_uint_eq(ioport_read(m->io, 0x604, 2), 1);
	ck_assert(ioport_read(m->io, 0x608, 4) != 0xffffffffu);
	cfg_wr(1, 3, 0x80, 1, 0);
	ck_assert_uint_eq(ioport_read(m->io, 0x604, 2), 0xffff);
	/* Reset restores power-on config and the PAM/PM state. */
	cfg_wr(1, 3, 0x80, 1, 1);
	cfg_wr(1, 0, 0x60, 1, 0x05);
	pci_reset(bus);
	ck_assert_uint_eq(cfg_rd(1, 0, 0x60, 1), 0x80);
	ck_assert_uint_eq(cfg_rd(1, 3, 0x40, 4), 1);
	ck_assert_uint_eq(ioport_read(m->io, 0x604, 2), 0xffff);
	ck_assert_int_eq(pam_calls, 7);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pci");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, identity);
	tcase_add_test(t, masks_and_status);
	tcase_add_test(t, bar_sizing);
	tcase_add_test(t, pam_hook);
	tcase_add_test(t, pirq_routing);
	tcase_add_test(t, pmba_moves_pm);
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
