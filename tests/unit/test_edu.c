/*
 * tests/unit/test_edu.c — QEMU's edu device (devices/edu.c) on a bare
 * machine with a LAPIC and a PCI bus: identification and PCI header, BAR
 * mapping, liveness, factorial (busy bit, completion interrupt), interrupt
 * raise/acknowledge over INTx and MSI, the DMA engine in both directions
 * (busy bit, completion interrupt, range check, DMA mask, bus mastering).
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "devices/clock.h"
#include "devices/edu.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

#define LBASE 0xfee00000ull
#define BAR   0xc0000000ull
#define DEVFN 0x18 /* 00:03.0 */

static struct machine *m;
static struct lapic_sys *ls;
static struct pci_bus *bus;
static struct edu *e;
static struct pci_dev *dev;

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 16 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	m->cpu[0]->msr.apic_base = LBASE | (1u << 11) | (1u << 8);
	ls = lapic_init(m);
	phys_write(m->mmu, LBASE + 0xf0, 4, 0x1ff);
	bus = pci_init(m);
	e = edu_init(m, bus, DEVFN, 0);
	ck_assert_ptr_nonnull(e);
	dev = pci_find(bus, DEVFN);
	pci_cfg_write(bus, DEVFN, PCI_BAR0, (uint32_t)BAR, 4);
	pci_cfg_write(bus, DEVFN, PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER, 2);
}

static void teardown(void)
{
	edu_free(e);
	pci_free(bus);
	lapic_free(ls);
	machine_free(m);
}

static uint32_t rd(unsigned off)
{
	return (uint32_t)phys_read(m->mmu, BAR + off, 4);
}
static void wr(unsigned off, uint32_t v)
{
	phys_write(m->mmu, BAR + off, 4, v);
}
static void wr64(unsigned off, uint64_t v)
{
	phys_write(m->mmu, BAR + off, 8, v);
}

/* Let virtual time pass so the device's background work completes. */
static void run_time(uint64_t ns)
{
	m->cpu[0]->clock_offset += ns;
	clock_run_timers(m);
}

static bool irr(int v)
{
	return lapic_peek(ls, 0, 0x200 + (v >> 5) * 0x10) >> (v & 31) & 1;
}

START_TEST(identity)
{
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, 0, 4), 0x11e81234u);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, PCI_CLASS_REV, 4), 0x00ff0010u);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, PCI_INTERRUPT_PIN, 1), 1);
	/* BAR 0: 1 MiB memory. */
	pci_cfg_write(bus, DEVFN, PCI_BAR0, 0xffffffffu, 4);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, PCI_BAR0, 4), 0xfff00000u);
	pci_cfg_write(bus, DEVFN, PCI_BAR0, (uint32_t)BAR, 4);
	/* Capability list: MSI, 64-bit, one message. */
	ck_assert(pci_cfg_read(bus, DEVFN, PCI_STATUS, 2) & 0x10);
	unsigned cap = pci_cfg_read(bus, DEVFN, 0x34, 1);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, cap, 1), 0x05);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, cap + 2, 2), 0x0080);
	ck_assert_uint_eq(rd(EDU_ID), 0x010000edu);
	wr(EDU_LIVENESS, 0x12345678);
	ck_assert_uint_eq(rd(EDU_LIVENESS), ~0x12345678u);
	/* Only 32-bit accesses below 0x80. */
	ck_assert_uint_eq(phys_read(m->mmu, BAR + EDU_ID, 2), 0xffff);
	/* Memory decode off: the BAR is gone. */
	pci_cfg_write(bus, DEVFN, PCI_COMMAND, 0, 2);
	ck_assert_uint_eq(rd(EDU_ID), 0xffffffffu);
}
END_TEST

START_TEST(factorial)
{
	wr(EDU_FACTORIAL, 10);
	ck_assert_uint_eq(rd(EDU_STATUS) & EDU_STATUS_COMPUTING, EDU_STATUS_COMPUTING);
	wr(EDU_FACTORIAL, 3); /* ignored while computing */
	run_time(100000);
	ck_assert_uint_eq(rd(EDU_STATUS), 0);
	ck_assert_uint_eq(rd(EDU_FACTORIAL), 3628800);
	ck_assert(!dev->irq_level);
	/* With the interrupt bit: status 0x1 is raised on INTx. */
	wr(EDU_STATUS, EDU_STATUS_IRQFACT | EDU_STATUS_COMPUTING);
	ck_assert_uint_eq(rd(EDU_STATUS), EDU_STATUS_IRQFACT);
	wr(EDU_FACTORIAL, 13);
	run_time(100000);
	ck_assert_uint_eq(rd(EDU_FACTORIAL), 1932053504u); /* 13! mod 2^32 */
	ck_assert_uint_eq(rd(EDU_INTR_STATUS), 1);
	ck_assert(dev->irq_level);
	wr(EDU_INTR_ACK, 1);
	ck_assert(!dev->irq_level);
}
END_TEST

START_TEST(intx)
{
	wr(EDU_INTR_RAISE, 0x30);
	ck_assert_uint_eq(rd(EDU_INTR_STATUS), 0x30);
	ck_assert(dev->irq_level);
	ck_assert(pci_cfg_read(bus, DEVFN, PCI_STATUS, 2) & 0x08); /* interrupt status */
	wr(EDU_INTR_ACK, 0x10);
	ck_assert(dev->irq_level); /* 0x20 still set */
	wr(EDU_INTR_ACK, 0x20);
	ck_assert_uint_eq(rd(EDU_INTR_STATUS), 0);
	ck_assert(!dev->irq_level);
	wr(EDU_INTR_RAISE, 0);
	ck_assert(!dev->irq_level);
}
END_TEST

START_TEST(msi)
{
	unsigned cap = pci_cfg_read(bus, DEVFN, 0x34, 1);
	pci_cfg_write(bus, DEVFN, cap + 4, 0xfee00000u, 4);
	pci_cfg_write(bus, DEVFN, cap + 8, 0, 4);
	pci_cfg_write(bus, DEVFN, cap + 12, 0x0061, 2);
	pci_cfg_write(bus, DEVFN, cap + 2, 1, 2); /* enable */
	ck_assert(pci_msi_enabled(dev));
	wr(EDU_INTR_RAISE, 1);
	ck_assert(irr(0x61));
	ck_assert(!dev->irq_level); /* MSI instead of INTx */
	ck_assert_int_eq(m->cpu[0]->irq_ack(m->cpu[0]), 0x61);
	phys_write(m->mmu, LBASE + 0xb0, 4, 0);
	/* One message per raise. */
	wr(EDU_INTR_RAISE, 2);
	ck_assert(irr(0x61));
	wr(EDU_INTR_ACK, 3);
	ck_assert_uint_eq(rd(EDU_INTR_STATUS), 0);
	/* No bus mastering, no message. */
	ck_assert_int_eq(m->cpu[0]->irq_ack(m->cpu[0]), 0x61);
	phys_write(m->mmu, LBASE + 0xb0, 4, 0);
	pci_cfg_write(bus, DEVFN, PCI_COMMAND, PCI_CMD_MEM, 2);
	wr(EDU_INTR_RAISE, 1);
	ck_assert(!irr(0x61));
}
END_TEST

START_TEST(dma)
{
	for (int i = 0; i < 16; i++)
		phys_write(m->mmu, 0x100000 + i, 1, (uint64_t)(0xa0 + i));
	/* RAM -> buffer offset 0x10. */
	wr64(EDU_DMA_SRC, 0x100000);
	wr64(EDU_DMA_DST, EDU_DMA_BASE + 0x10);
	wr64(EDU_DMA_COUNT, 16);
	wr64(EDU_DMA_CMD, EDU_DMA_RUN);
	ck_assert_uint_eq(rd(EDU_DMA_CMD) & EDU_DMA_RUN, EDU_DMA_RUN);
	wr64(EDU_DMA_SRC, 0x999000); /* ignored while running */
	run_time(100000);
	ck_assert_uint_eq(rd(EDU_DMA_CMD) & EDU_DMA_RUN, 0);
	ck_assert_uint_eq(phys_read(m->mmu, BAR + EDU_DMA_SRC, 8), 0x100000);
	/* Buffer offset 0x18 -> RAM, with the completion interrupt. */
	wr64(EDU_DMA_SRC, EDU_DMA_BASE + 0x18);
	wr64(EDU_DMA_DST, 0x200000);
	wr64(EDU_DMA_COUNT, 8);
	wr64(EDU_DMA_CMD, EDU_DMA_RUN | EDU_DMA_FROM_DEV | EDU_DMA_IRQ);
	run_time(100000);
	ck_assert_uint_eq(phys_read(m->mmu, 0x200000, 8), 0xafaeadacabaaa9a8ull);
	ck_assert_uint_eq(rd(EDU_INTR_STATUS), 0x100);
	ck_assert(dev->irq_level);
	wr(EDU_INTR_ACK, 0x100);
	/* The DMA mask cuts the bus address: 28 bits by default. */
	wr64(EDU_DMA_DST, 0x10300000);
	wr64(EDU_DMA_CMD, EDU_DMA_RUN | EDU_DMA_FROM_DEV);
	run_time(100000);
	ck_assert_uint_eq(phys_read(m->mmu, 0x300000, 8), 0xafaeadacabaaa9a8ull);
	/* Outside the buffer: refused, the command completes. */
	wr64(EDU_DMA_SRC, EDU_DMA_BASE + 0xffc);
	wr64(EDU_DMA_DST, 0x400000);
	wr64(EDU_DMA_COUNT, 8);
	wr64(EDU_DMA_CMD, EDU_DMA_RUN | EDU_DMA_FROM_DEV);
	run_time(100000);
	ck_assert_uint_eq(rd(EDU_DMA_CMD) & EDU_DMA_RUN, 0);
	ck_assert_uint_eq(phys_read(m->mmu, 0x400000, 8), 0);
	/* Without bus mastering nothing reaches memory. */
	pci_cfg_write(bus, DEVFN, PCI_COMMAND, PCI_CMD_MEM, 2);
	wr64(EDU_DMA_SRC, EDU_DMA_BASE + 0x10);
	wr64(EDU_DMA_DST, 0x500000);
	wr64(EDU_DMA_CMD, EDU_DMA_RUN | EDU_DMA_FROM_DEV);
	run_time(100000);
	ck_assert_uint_eq(phys_read(m->mmu, 0x500000, 8), 0);
	/* Reset clears the registers. */
	edu_reset(e);
	ck_assert_uint_eq(phys_read(m->mmu, BAR + EDU_DMA_DST, 8), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("edu");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, identity);
	tcase_add_test(t, factorial);
	tcase_add_test(t, intx);
	tcase_add_test(t, msi);
	tcase_add_test(t, dma);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
