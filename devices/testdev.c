/*
 * devices/testdev.c — pc-testdev and pci-testdev, the kvm-unit-tests test
 * devices; their registers are described in devices/testdev.h.
 */
#include "devices/testdev.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

/* ---- pc-testdev ---- */

struct pc_testdev {
	struct machine *m;
	uint32_t scratch; /* the 0xe0 / 0xe8 register */
	struct irq_line lines[PC_TESTDEV_NLINES];
	void (*flush_page)(void *opaque, uint64_t gpa);
	void *opaque;
	uint8_t iomem[PC_TESTDEV_IOMEM_SIZE];
};

/* 0xe0-0xe3 and 0xe8-0xeb: byte lanes (port & 3) .. (port & 3) + size - 1. */
static uint32_t scratch_read(void *opaque, uint16_t port, unsigned size)
{
	struct pc_testdev *t = opaque;
	unsigned lane = port & 3;
	uint32_t v = 0;
	for (unsigned i = 0; i < size && lane + i < 4; i++)
		v |= ((t->scratch >> (8 * (lane + i))) & 0xff) << (8 * i);
	return v;
}

static void scratch_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct pc_testdev *t = opaque;
	unsigned lane = port & 3;
	for (unsigned i = 0; i < size && lane + i < 4; i++) {
		unsigned sh = 8 * (lane + i);
		t->scratch = (t->scratch & ~(0xffu << sh)) | ((val >> (8 * i)) & 0xff) << sh;
	}
}

static const struct ioport_ops scratch_ops = { .read = scratch_read, .write = scratch_write };
static const struct ioport_ops scratch_byte_ops = { .read = scratch_read,
						    .write = scratch_write,
						    .byte_only = true };

static uint32_t zero_read(void *opaque, uint16_t port, unsigned size)
{
	return 0;
}

static void flush_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct pc_testdev *t = opaque;
	if (size == 4 && port == 0xe4 && t->flush_page)
		t->flush_page(t->opaque, val & ~0xfffull);
}

static const struct ioport_ops flush_ops = { .read = zero_read, .write = flush_write };

static void irq_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct pc_testdev *t = opaque;
	unsigned n = port - 0x2000u;
	if (size == 1 && n < PC_TESTDEV_NLINES)
		irq_set(&t->lines[n], (val & 0xff) != 0);
}

static const struct ioport_ops irq_ops = { .read = zero_read, .write = irq_write };

static uint64_t iomem_read(void *opaque, uint64_t off, unsigned size)
{
	struct pc_testdev *t = opaque;
	uint64_t v = 0;
	if (off < PC_TESTDEV_IOMEM_SIZE && size <= PC_TESTDEV_IOMEM_SIZE - off)
		memcpy(&v, t->iomem + off, size); /* little-endian host */
	return v;
}

static void iomem_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct pc_testdev *t = opaque;
	if (off < PC_TESTDEV_IOMEM_SIZE && size <= PC_TESTDEV_IOMEM_SIZE - off)
		memcpy(t->iomem + off, &val, size);
}

static const struct mmio_ops iomem_ops = { .read = iomem_read, .write = iomem_write };

struct pc_testdev *pc_testdev_init(struct machine *m,
				   const struct irq_line lines[PC_TESTDEV_NLINES],
				   void (*flush_page)(void *opaque, uint64_t gpa), void *opaque)
{
	struct pc_testdev *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->m = m;
	if (lines)
		memcpy(t->lines, lines, sizeof(t->lines));
	t->flush_page = flush_page;
	t->opaque = opaque;
	ioport_register(m->io, 0xe0, 4, &scratch_ops, t, "pc-testdev-ioport");
	ioport_register(m->io, 0xe4, 4, &flush_ops, t, "pc-testdev-flush-page");
	ioport_register(m->io, 0xe8, 4, &scratch_byte_ops, t, "pc-testdev-ioport-byte");
	ioport_register(m->io, 0x2000, PC_TESTDEV_NLINES, &irq_ops, t, "pc-testdev-irq-line");
	mmu_map_mmio(m->mmu, PC_TESTDEV_IOMEM_BASE, PC_TESTDEV_IOMEM_SIZE, &iomem_ops, t,
		     "pc-testdev-iomem");
	return t;
}

void pc_testdev_reset(struct pc_testdev *t)
{
	t->scratch = 0;
	for (int i = 0; i < PC_TESTDEV_NLINES; i++)
		irq_set(&t->lines[i], 0);
}

void pc_testdev_free(struct pc_testdev *t)
{
	free(t);
}

/* ---- pci-testdev ---- */

#define NTESTS       3 /* per BAR */
#define MAX_IO_BASES 32
#define DATA_MATCH   0xfa
#define DATA_NOMATCH 0xce

static const char *const test_name[NTESTS] = { "no-eventfd", "wildcard-eventfd",
					       "datamatch-eventfd" };
static const char *const type_name[2] = { "mmio", "portio" };

struct pci_testdev {
	struct machine *m;
	struct pci_dev *dev;
	int current; /* global test 0-5 (type * 3 + n), -1 = none */
	uint32_t count;
	uint64_t mem_base;
	bool mem_mapped;
	uint16_t io_base;
	bool io_mapped;
	uint16_t io_registered[MAX_IO_BASES]; /* bases our handler claims */
	unsigned nio_registered;
};

static uint32_t test_offset(int t)
{
	return (t < NTESTS ? PCI_TESTDEV_MEM_SIZE / 2 : PCI_TESTDEV_IO_SIZE / 2) + (uint32_t)t;
}

static uint8_t test_data(int t)
{
	return t % NTESTS == 1 ? DATA_NOMATCH : DATA_MATCH;
}

/* Byte `off` of the selected test's header (0 past its terminating NUL). */
static uint8_t hdr_byte(const struct pci_testdev *t, uint32_t off)
{
	if (t->current < 0)
		return 0;
	int c = t->current;
	uint32_t v;
	switch (off) {
	case 0:
		return (uint8_t)c;
	case 1:
		return 1;
	case 4:
	case 5:
	case 6:
	case 7:
		v = test_offset(c);
		return (uint8_t)(v >> (8 * (off - 4)));
	case 8:
		return test_data(c);
	case 12:
	case 13:
	case 14:
	case 15:
		return (uint8_t)(t->count >> (8 * (off - 12)));
	default:
		break;
	}
	if (off < 16)
		return 0;
	char name[40];
	int n = snprintf(name, sizeof(name), "%s-%s", type_name[c / NTESTS], test_name[c % NTESTS]);
	return off - 16 < (uint32_t)n ? (uint8_t)name[off - 16] : 0;
}

static void hdr_write(struct pci_testdev *t, int type, uint32_t off, uint8_t val)
{
	if (off == 0) {
		t->current = val < NTESTS ? type * NTESTS + val : -1;
		t->count = 0;
		return;
	}
	if (t->current < 0 || off != test_offset(t->current))
		return;
	if (t->current % NTESTS != 1 && val != test_data(t->current))
		return;
	t->count++;
}

static uint64_t bar_read(struct pci_testdev *t, uint32_t off, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)hdr_byte(t, off + i) << (8 * i);
	return v;
}

static void bar_write(struct pci_testdev *t, int type, uint32_t off, uint64_t val, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		hdr_write(t, type, off + i, (uint8_t)(val >> (8 * i)));
}

static uint64_t mem_read(void *opaque, uint64_t off, unsigned size)
{
	return bar_read(opaque, (uint32_t)off, size);
}

static void mem_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	bar_write(opaque, 0, (uint32_t)off, val, size);
}

static const struct mmio_ops mem_ops = { .read = mem_read, .write = mem_write };

/* The handler stays registered at every base the BAR ever had (ioport.h
 * cannot unregister); ports outside the current window act unclaimed. */
static bool io_in_window(const struct pci_testdev *t, uint16_t port, unsigned size)
{
	return t->io_mapped && port >= t->io_base &&
	       (uint32_t)port + size <= (uint32_t)t->io_base + PCI_TESTDEV_IO_SIZE;
}

static uint32_t io_read(void *opaque, uint16_t port, unsigned size)
{
	struct pci_testdev *t = opaque;
	if (!io_in_window(t, port, size))
		return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	return (uint32_t)bar_read(t, (uint32_t)(port - t->io_base), size);
}

static void io_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct pci_testdev *t = opaque;
	if (io_in_window(t, port, size))
		bar_write(t, 1, (uint32_t)(port - t->io_base), val, size);
}

static const struct ioport_ops io_ops = { .read = io_read, .write = io_write };

static void bar_moved(struct pci_dev *d, int bar, uint64_t addr, bool mapped)
{
	struct pci_testdev *t = d->opaque;
	if (bar == 0) {
		if (t->mem_mapped)
			mmu_unmap(t->m->mmu, t->mem_base, PCI_TESTDEV_MEM_SIZE);
		t->mem_mapped = mapped;
		t->mem_base = addr;
		if (mapped)
			mmu_map_mmio(t->m->mmu, addr, PCI_TESTDEV_MEM_SIZE, &mem_ops, t,
				     "pci-testdev-mmio");
		return;
	}
	if (bar != 1)
		return;
	t->io_mapped = false;
	if (!mapped || addr > 0x10000 - PCI_TESTDEV_IO_SIZE)
		return;
	bool known = false;
	for (unsigned i = 0; i < t->nio_registered; i++)
		known |= t->io_registered[i] == addr;
	if (!known) {
		if (t->nio_registered == MAX_IO_BASES) {
			fprintf(stderr,
				"nestbox: pci-testdev: I/O BAR moved too often, not mapped\n");
			return;
		}
		t->io_registered[t->nio_registered++] = (uint16_t)addr;
		ioport_register(t->m->io, (uint16_t)addr, PCI_TESTDEV_IO_SIZE, &io_ops, t,
				"pci-testdev-portio");
	}
	t->io_base = (uint16_t)addr;
	t->io_mapped = true;
}

struct pci_testdev *pci_testdev_init(struct machine *m, struct pci_bus *bus, uint8_t devfn)
{
	struct pci_testdev *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->m = m;
	t->current = -1;
	/* Class ff0000: "device does not fit any defined class". */
	t->dev = pci_register(bus, devfn, PCI_TESTDEV_VENDOR, PCI_TESTDEV_DEVICE, 0xff0000, 0,
			      "pci-testdev");
	if (!t->dev) {
		free(t);
		return NULL;
	}
	t->dev->opaque = t;
	t->dev->bar_moved = bar_moved;
	pci_set_bar(t->dev, 0, PCI_TESTDEV_MEM_SIZE, PCI_BAR_MEM32);
	pci_set_bar(t->dev, 1, PCI_TESTDEV_IO_SIZE, PCI_BAR_IO);
	return t;
}

void pci_testdev_reset(struct pci_testdev *t)
{
	t->current = -1;
	t->count = 0;
}

void pci_testdev_free(struct pci_testdev *t)
{
	free(t);
}
