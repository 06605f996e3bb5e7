/*
 * devices/pci.c — PCI bus 0 with configuration mechanism #1 (PCI Local Bus
 * 3.0 §3.2.2.3.2), generic configuration-space semantics (write masks,
 * write-1-to-clear status, BAR sizing and move notification, INTx with the
 * PIIX3 PIRQ routing) and the i440FX / PIIX3 / PIIX4-ACPI functions.
 *
 * CONFIG_ADDRESS (0xCF8, dword accesses only):
 *   bit 31 enable   23:16 bus   15:11 device   10:8 function   7:2 register
 * Byte/word accesses to 0xCF8-0xCFB are ordinary I/O (0xCF9 is the PIIX
 * reset control register, registered by acpi_pm.c). Bits 1:0 read back as 0
 * but, as in QEMU, are ORed into the register offset of the data access
 * (kvm-unit-tests reads the device ID with CONFIG_ADDRESS ending in 2 and a
 * word read at 0xCFC).
 *
 * Also: ECAM decoding, the MSI capability, bus-master DMA and interrupt
 * messages through an optional IOMMU, and firmware-style resource
 * assignment for boards booting a kernel directly (see pci.h).
 */
#include "devices/pci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/acpi_pm.h"
#include "devices/ioport.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

struct pci_bus {
	struct machine *m;
	uint32_t addr;   /* CONFIG_ADDRESS */
	uint8_t addr_lo; /* its bits 1:0 as written */
	struct pci_dev *dev[256];
	struct pci_board_hooks hooks;
	struct acpi_pm *pm;
	int isa_level[16];               /* last level sent to hooks.isa_irq */
	void (*intx_hook)(void *opaque); /* chipset INTx routing (NULL = PIIX3) */
	void *intx_opaque;
	const struct pci_iommu_ops *iommu;
	void *iommu_opaque;
};

static inline uint32_t rd_le(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- INTx routing ---- */

int pci_pirq_level(struct pci_bus *b, int n)
{
	for (int i = 0; i < 256; i++) {
		struct pci_dev *d = b->dev[i];
		if (!d || !d->irq_level || (rd_le(&d->cfg[PCI_COMMAND], 2) & PCI_CMD_INTX_DISABLE))
			continue;
		int pin = d->cfg[PCI_INTERRUPT_PIN];
		if (pin >= 1 && pin <= 4 && (((d->devfn >> 3) + pin - 2) & 3) == n)
			return 1;
	}
	return 0;
}

int pci_pirq_route(struct pci_bus *b, int n)
{
	struct pci_dev *isa = b->dev[PCI_DEVFN(1, 0)];
	if (!isa || n < 0 || n > 3)
		return -1;
	uint8_t r = isa->cfg[0x60 + n];
	/* Bit 7 disables routing; IRQ 0-2, 8 and 13 are reserved (82371SB
	 * §2.2.x PIRQRC). */
	unsigned irq = r & 0xf;
	if ((r & 0x80) || irq < 3 || irq == 8 || irq == 13)
		return -1;
	return (int)irq;
}

bool pci_intx_asserted(const struct pci_dev *d)
{
	return d->irq_level && !(rd_le(&d->cfg[PCI_COMMAND], 2) & PCI_CMD_INTX_DISABLE);
}

void pci_set_intx_hook(struct pci_bus *b, void (*fn)(void *opaque), void *opaque)
{
	b->intx_hook = fn;
	b->intx_opaque = opaque;
}

/* Recompute every ISA IRQ driven by a PIRQ and report changes. */
static void update_irqs(struct pci_bus *b)
{
	if (b->intx_hook) {
		b->intx_hook(b->intx_opaque);
		return;
	}
	int level[16] = { 0 };
	for (int n = 0; n < 4; n++) {
		int irq = pci_pirq_route(b, n);
		if (irq >= 0 && pci_pirq_level(b, n))
			level[irq] = 1;
	}
	for (int i = 0; i < 16; i++) {
		if (level[i] == b->isa_level[i])
			continue;
		b->isa_level[i] = level[i];
		if (b->hooks.isa_irq)
			b->hooks.isa_irq(b->hooks.opaque, i, level[i]);
	}
}

void pci_set_irq(struct pci_dev *d, int level)
{
	d->irq_level = level != 0;
	/* Status bit 3: interrupt status, independent of INTx disable. */
	if (level)
		d->cfg[PCI_STATUS] |= 0x08;
	else
		d->cfg[PCI_STATUS] &= (uint8_t)~0x08;
	update_irqs(d->bus);
}

void pci_set_irq_pin(struct pci_dev *d, int pin)
{
	d->cfg[PCI_INTERRUPT_PIN] = (uint8_t)pin;
	pci_snapshot(d);
}

/* ---- BARs (PCI 3.0 §6.2.5.1) ---- */

static uint64_t bar_addr(const struct pci_dev *d, int n)
{
	uint32_t lo = rd_le(&d->cfg[PCI_BAR0 + 4 * n], 4);
	switch (d->bar[n].kind & 7) {
	case PCI_BAR_IO:
		return lo & ~3u;
	case PCI_BAR_MEM64:
		return ((uint64_t)rd_le(&d->cfg[PCI_BAR0 + 4 * n + 4], 4) << 32) | (lo & ~0xfu);
	default:
		return lo & ~0xfu;
	}
}

static void check_bars(struct pci_dev *d)
{
	uint16_t cmd = (uint16_t)rd_le(&d->cfg[PCI_COMMAND], 2);
	for (int n = 0; n < 6; n++) {
		if (!d->bar[n].size)
			continue;
		bool io = (d->bar[n].kind & 7) == PCI_BAR_IO;
		uint64_t a = bar_addr(d, n);
		/* An I/O BAR above 64K holds an address no port cycle reaches. */
		bool mapped = (cmd & (io ? PCI_CMD_IO : PCI_CMD_MEM)) && a != 0 &&
			      (!io || a + d->bar[n].size <= 0x10000);
		if (mapped == d->bar[n].mapped && (!mapped || a == d->bar[n].addr))
			continue;
		d->bar[n].mapped = mapped;
		d->bar[n].addr = a;
		if (d->bar_moved)
			d->bar_moved(d, n, a, mapped);
	}
}

void pci_set_bar(struct pci_dev *d, int n, uint64_t size, int kind)
{
	if (n < 0 || n > 5 || (size & (size - 1)) || ((kind & 7) == PCI_BAR_MEM64 && n == 5))
		return;
	unsigned off = PCI_BAR0 + 4 * n;
	bool io = (kind & 7) == PCI_BAR_IO;
	if (io && size < 4)
		size = 4;
	if (!io && size < 16)
		size = 16;
	d->bar[n].size = size;
	d->bar[n].kind = kind;
	uint32_t flags =
		io ? 1
		   : ((kind & 7) == PCI_BAR_MEM64 ? 4 : 0) | ((kind & PCI_BAR_PREFETCH) ? 8 : 0);
	/* Address bits below the size are hardwired to 0, so writing all
	 * ones reads back the size (sizing). I/O BARs keep all 32 bits
	 * writable (firmware sizes them as ~(value & ~3) + 1); only addresses
	 * below 64K decode. */
	uint32_t mask = io ? (uint32_t) ~(size - 1) & ~3u : (uint32_t) ~(size - 1) & ~0xfu;
	put32(&d->cfg[off], flags);
	put32(&d->wmask[off], mask);
	if ((kind & 7) == PCI_BAR_MEM64) {
		put32(&d->cfg[off + 4], 0);
		put32(&d->wmask[off + 4], (uint32_t)(~(size - 1) >> 32));
		d->bar[n + 1].size = 0;
	}
	pci_snapshot(d);
}

/* ---- configuration space ---- */

void pci_snapshot(struct pci_dev *d)
{
	memcpy(d->reset_cfg, d->cfg, sizeof(d->cfg));
}

struct pci_dev *pci_register(struct pci_bus *b, uint8_t devfn, uint16_t vendor, uint16_t device,
			     uint32_t cls, uint8_t rev, const char *name)
{
	if (b->dev[devfn])
		return NULL;
	struct pci_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->bus = b;
	d->devfn = devfn;
	d->name = name;
	put16(&d->cfg[0], vendor);
	put16(&d->cfg[2], device);
	d->cfg[PCI_CLASS_REV] = rev;
	d->cfg[0x09] = (uint8_t)cls;
	d->cfg[0x0a] = (uint8_t)(cls >> 8);
	d->cfg[0x0b] = (uint8_t)(cls >> 16);
	/* Command: I/O, memory, bus master, parity, SERR#, INTx disable. */
	put16(&d->wmask[PCI_COMMAND], 0x0547);
	/* Status: error bits are write-1-to-clear. */
	put16(&d->w1cmask[PCI_STATUS], 0xf900);
	put16(&d->cfg[PCI_STATUS], 0x0200); /* DEVSEL medium */
	d->wmask[0x0c] = 0xff;              /* cache line size */
	d->wmask[0x0d] = 0xff;              /* latency timer */
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	pci_snapshot(d);
	b->dev[devfn] = d;
	/* Function 0 of a slot with more functions must say multi-function. */
	if (devfn & 7) {
		struct pci_dev *f0 = b->dev[devfn & ~7];
		if (f0) {
			f0->cfg[PCI_HEADER_TYPE] |= 0x80;
			pci_snapshot(f0);
		}
	}
	return d;
}

struct pci_dev *pci_find(struct pci_bus *b, uint8_t devfn)
{
	return b->dev[devfn];
}

uint32_t pci_cfg_read(struct pci_bus *b, uint8_t devfn, unsigned off, unsigned size)
{
	struct pci_dev *d = b->dev[devfn];
	/* Functions of a slot whose function 0 is absent don't exist. */
	if (!d || !b->dev[devfn & ~7] || off + size > 256)
		return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	if (d->cfg_read)
		return d->cfg_read(d, off, size);
	return rd_le(&d->cfg[off], size);
}

void pci_cfg_write(struct pci_bus *b, uint8_t devfn, unsigned off, uint32_t val, unsigned size)
{
	struct pci_dev *d = b->dev[devfn];
	if (!d || !b->dev[devfn & ~7] || off + size > 256)
		return;
	for (unsigned i = 0; i < size; i++) {
		uint8_t v = (uint8_t)(val >> (8 * i));
		unsigned o = off + i;
		d->cfg[o] = (uint8_t)((d->cfg[o] & ~d->wmask[o]) | (v & d->wmask[o]));
		d->cfg[o] &= (uint8_t) ~(v & d->w1cmask[o]);
	}
	if (d->cfg_write)
		d->cfg_write(d, off, val, size);
	if ((off < 0x28 && off + size > PCI_BAR0) || (off < 0x06 && off + size > PCI_COMMAND))
		check_bars(d);
	if (off <= PCI_COMMAND + 1 && off + size > PCI_COMMAND + 1)
		update_irqs(b); /* INTx disable changed */
}

/* ---- mechanism #1 ports ---- */

static uint32_t addr_read(void *opaque, uint16_t port, unsigned size)
{
	struct pci_bus *b = opaque;
	return size == 4 ? b->addr : 0xffffffffu;
}

static void addr_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct pci_bus *b = opaque;
	if (size == 4) {
		b->addr = val & 0x80fffffcu;
		b->addr_lo = val & 3;
	}
}

static uint32_t data_read(void *opaque, uint16_t port, unsigned size)
{
	struct pci_bus *b = opaque;
	unsigned off = (b->addr & 0xfc) | ((port | b->addr_lo) & 3);
	if (!(b->addr >> 31) || ((b->addr >> 16) & 0xff) || off + size > 256)
		return 0xffffffffu;
	return pci_cfg_read(b, (uint8_t)(b->addr >> 8), off, size);
}

static void data_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct pci_bus *b = opaque;
	unsigned off = (b->addr & 0xfc) | ((port | b->addr_lo) & 3);
	if (!(b->addr >> 31) || ((b->addr >> 16) & 0xff) || off + size > 256)
		return;
	pci_cfg_write(b, (uint8_t)(b->addr >> 8), off, val, size);
}

static const struct ioport_ops addr_ops = { addr_read, addr_write, false };
static const struct ioport_ops data_ops = { data_read, data_write, false };

struct pci_bus *pci_init(struct machine *m)
{
	struct pci_bus *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->m = m;
	ioport_register(m->io, 0xcf8, 1, &addr_ops, b, "pci-config-address");
	ioport_register(m->io, 0xcfc, 4, &data_ops, b, "pci-config-data");
	return b;
}

void pci_free(struct pci_bus *b)
{
	if (!b)
		return;
	for (int i = 0; i < 256; i++)
		free(b->dev[i]);
	free(b);
}

/* ---- i440FX host bridge (82441FX datasheet §3.2) ---- */

static void i440fx_write(struct pci_dev *d, unsigned off, uint32_t val, unsigned size)
{
	struct pci_bus *b = d->bus;
	for (unsigned o = off; o < off + size; o++)
		if (o >= 0x59 && o <= 0x5f && b->hooks.pam)
			b->hooks.pam(b->hooks.opaque, o, d->cfg[o]);
}

/* ---- PIIX3 PCI-to-ISA bridge (82371SB datasheet §2.2) ---- */

static void piix3_write(struct pci_dev *d, unsigned off, uint32_t val, unsigned size)
{
	if (off < 0x64 && off + size > 0x60)
		update_irqs(d->bus);
}

/* ---- PIIX4 power management function (82371AB datasheet §7.1) ---- */

static void piix4_pm_apply(struct pci_dev *d)
{
	struct pci_bus *b = d->bus;
	if (!b->pm)
		return;
	uint16_t base = (uint16_t)(rd_le(&d->cfg[0x40], 4) & 0xffc0);
	acpi_pm_set_base(b->pm, base, d->cfg[0x80] & 1);
}

static void piix4_pm_write(struct pci_dev *d, unsigned off, uint32_t val, unsigned size)
{
	if ((off < 0x44 && off + size > 0x40) || (off <= 0x80 && off + size > 0x80))
		piix4_pm_apply(d);
}

void pci_add_i440fx_piix(struct pci_bus *b, const struct pci_board_hooks *hooks, struct acpi_pm *pm)
{
	if (hooks)
		b->hooks = *hooks;
	b->pm = pm;

	struct pci_dev *hb =
		pci_register(b, PCI_DEVFN(0, 0), 0x8086, 0x1237, 0x060000, 0x02, "i440fx");
	if (hb) {
		/* 50h-7Fh: PMC config, DRAM rows/control, PAM, SMRAM... stored. */
		memset(&hb->wmask[0x50], 0xff, 0x30);
		hb->cfg[0x59] = 0;    /* PAM: everything to the ROM/PCI side */
		hb->cfg[0x72] = 0x02; /* SMRAM: C_BASE_SEG = 010b (A0000h) */
		/* Subsystem 1af4:1100, which SeaBIOS takes as "running under a
		 * QEMU-compatible VMM" before it looks for fw_cfg. */
		hb->cfg[0x2c] = 0xf4;
		hb->cfg[0x2d] = 0x1a;
		hb->cfg[0x2e] = 0x00;
		hb->cfg[0x2f] = 0x11;
		hb->cfg_write = i440fx_write;
		pci_snapshot(hb);
	}

	struct pci_dev *isa =
		pci_register(b, PCI_DEVFN(1, 0), 0x8086, 0x7000, 0x060100, 0x00, "piix3-isa");
	if (isa) {
		memset(&isa->wmask[0x40], 0xff, 0xc0);
		for (int n = 0; n < 4; n++) {
			isa->cfg[0x60 + n] = 0x80; /* PIRQ routing disabled */
			isa->wmask[0x60 + n] = 0x8f;
		}
		isa->cfg[0x4c] = 0x4d; /* IORT */
		isa->cfg[0x4e] = 0x03; /* XBCS */
		isa->cfg[0x69] = 0x02; /* TOM */
		isa->cfg[0x70] = 0x80; /* MBIRQ0 disabled */
		isa->cfg[0x76] = 0x0c;
		isa->cfg[0x77] = 0x0c;
		isa->cfg[0x78] = 0x02;
		isa->cfg[0x79] = 0x00;
		isa->cfg[0x80] = 0x00;
		isa->cfg[0x82] = 0x00;
		isa->cfg[0xa0] = 0x08;
		isa->cfg[0xa8] = 0x0f;
		isa->cfg_write = piix3_write;
		pci_snapshot(isa);
	}

	struct pci_dev *ide =
		pci_register(b, PCI_DEVFN(1, 1), 0x8086, 0x7010, 0x010180, 0x00, "piix3-ide");
	if (ide) {
		/* IDETIM/SIDETIM; the bus-master BAR 4 (16 I/O ports). */
		memset(&ide->wmask[0x40], 0xff, 0x05);
		pci_set_bar(ide, 4, 16, PCI_BAR_IO);
	}

	struct pci_dev *acpi =
		pci_register(b, PCI_DEVFN(1, 3), 0x8086, 0x7113, 0x068000, 0x03, "piix4-acpi");
	if (acpi) {
		acpi->cfg[PCI_INTERRUPT_PIN] = 1;
		/* DEVACTB bit 1 (5Bh): no SMM, so firmware never waits on the APM
		 * handshake for an SMI that cannot happen. */
		acpi->cfg[0x5b] = 0x02;
		/* PMBA: bits 15:6 base, bit 0 reads 1 (I/O space). */
		put32(&acpi->cfg[0x40], 1);
		put32(&acpi->wmask[0x40], 0xffc0);
		acpi->wmask[0x5c] = acpi->wmask[0x5d] = acpi->wmask[0x5e] = acpi->wmask[0x5f] =
			0xff;
		acpi->wmask[0x80] = 0x01; /* PMREGMISC.PMIOSE */
		/* SMBus base (SMBBA 90h) and host config (D2h): stored only. */
		put32(&acpi->cfg[0x90], 1);
		put32(&acpi->wmask[0x90], 0xfff0);
		acpi->wmask[0xd2] = 0x0f;
		acpi->cfg_write = piix4_pm_write;
		pci_snapshot(acpi);
	}
}

void pci_reset(struct pci_bus *b)
{
	b->addr = 0;
	b->addr_lo = 0;
	for (int i = 0; i < 256; i++) {
		struct pci_dev *d = b->dev[i];
		if (!d)
			continue;
		memcpy(d->cfg, d->reset_cfg, sizeof(d->cfg));
		d->irq_level = false;
		check_bars(d);
		if (i == PCI_DEVFN(0, 0) && b->hooks.pam)
			for (unsigned o = 0x59; o <= 0x5f; o++)
				b->hooks.pam(b->hooks.opaque, o, d->cfg[o]);
		if (i == PCI_DEVFN(1, 3))
			piix4_pm_apply(d);
		if (d->reset)
			d->reset(d);
	}
	update_irqs(b);
}

/* ---- ECAM (PCIe Base 4.0 §7.2.2) ---- */

uint32_t pci_ecam_read(struct pci_bus *b, uint64_t off, unsigned size)
{
	unsigned reg = off & 0xfff;
	uint8_t devfn = (uint8_t)(off >> 12);
	if ((off >> 20) & 0xff) /* only bus 0 exists */
		return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	if (size != 1 && size != 2 && size != 4)
		size = 4;
	if (reg & (size - 1)) { /* unaligned: byte by byte */
		uint32_t v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= pci_cfg_read(b, devfn, (reg + i) & 0xfff, 1) << (8 * i);
		return v;
	}
	return pci_cfg_read(b, devfn, reg, size);
}

void pci_ecam_write(struct pci_bus *b, uint64_t off, uint32_t val, unsigned size)
{
	unsigned reg = off & 0xfff;
	uint8_t devfn = (uint8_t)(off >> 12);
	if ((off >> 20) & 0xff)
		return;
	if (size != 1 && size != 2 && size != 4)
		size = 4;
	if (reg & (size - 1)) {
		for (unsigned i = 0; i < size; i++)
			pci_cfg_write(b, devfn, (reg + i) & 0xfff, (val >> (8 * i)) & 0xff, 1);
		return;
	}
	pci_cfg_write(b, devfn, reg, val, size);
}

/* ---- bus-master DMA and interrupt messages ---- */

void pci_set_iommu(struct pci_bus *b, const struct pci_iommu_ops *ops, void *opaque)
{
	b->iommu = ops;
	b->iommu_opaque = opaque;
}

static bool bus_master(const struct pci_dev *d)
{
	return rd_le(&d->cfg[PCI_COMMAND], 2) & PCI_CMD_MASTER;
}

/* One DMA transfer, page piece by page piece through the IOMMU. */
static bool dma(struct pci_dev *d, uint64_t addr, uint8_t *p, uint64_t len, bool write)
{
	struct pci_bus *b = d->bus;
	struct mmu *mmu = b->m->mmu;
	if (!bus_master(d)) {
		if (!write)
			memset(p, 0xff, len);
		return false;
	}
	if (!b->iommu) {
		if (write)
			phys_write_buf(mmu, addr, p, len);
		else
			phys_read_buf(mmu, addr, p, len);
		return true;
	}
	while (len) {
		uint64_t pa, n;
		if (!b->iommu->translate(b->iommu_opaque, pci_requester_id(d), addr, write, &pa,
					 &n)) {
			/* The request is aborted: nothing more moves (a read
			 * completes with all ones). */
			if (!write)
				memset(p, 0xff, len);
			return false;
		}
		if (n > len)
			n = len;
		if (write)
			phys_write_buf(mmu, pa, p, n);
		else
			phys_read_buf(mmu, pa, p, n);
		addr += n;
		p += n;
		len -= n;
	}
	return true;
}

bool pci_dma_read(struct pci_dev *d, uint64_t addr, void *buf, uint64_t len)
{
	return dma(d, addr, buf, len, false);
}

bool pci_dma_write(struct pci_dev *d, uint64_t addr, const void *buf, uint64_t len)
{
	return dma(d, addr, (uint8_t *)buf, len, true);
}

void pci_msi_send(struct pci_dev *d, uint64_t addr, uint32_t data)
{
	struct pci_bus *b = d->bus;
	if (!bus_master(d))
		return;
	if ((addr >> 20) != 0xfee) {
		uint8_t v[4] = { (uint8_t)data, (uint8_t)(data >> 8), (uint8_t)(data >> 16),
				 (uint8_t)(data >> 24) };
		pci_dma_write(d, addr, v, 4);
		return;
	}
	if (b->iommu && b->iommu->msi)
		b->iommu->msi(b->iommu_opaque, pci_requester_id(d), addr, data);
	else
		lapic_msi(b->m, addr, data);
}

/* MSI capability (PCI 3.0 §6.8.1): +0 ID 05h, +1 next, +2 message control
 * (bit 0 enable, 3:1 multiple message capable = 0 (one), 6:4 multiple
 * message enable, 7 64-bit address capable), +4 address, [+8 upper
 * address], then the 16-bit data. */
void pci_add_msi_cap(struct pci_dev *d, uint8_t off, bool is64)
{
	d->cfg[off] = 0x05;
	d->cfg[off + 1] = d->cfg[0x34];
	d->cfg[0x34] = off;
	d->cfg[PCI_STATUS] |= 0x10; /* capabilities list */
	d->cfg[off + 2] = is64 ? 0x80 : 0;
	d->wmask[off + 2] = 0x01; /* only one message: MME stays 0 */
	put32(&d->wmask[off + 4], 0xfffffffcu);
	if (is64)
		put32(&d->wmask[off + 8], 0xffffffffu);
	put16(&d->wmask[off + (is64 ? 12 : 8)], 0xffff);
	d->msi_cap = off;
	pci_snapshot(d);
}

bool pci_msi_enabled(const struct pci_dev *d)
{
	return d->msi_cap && (d->cfg[d->msi_cap + 2] & 1);
}

void pci_msi_notify(struct pci_dev *d)
{
	if (!pci_msi_enabled(d))
		return;
	unsigned o = d->msi_cap;
	bool is64 = d->cfg[o + 2] & 0x80;
	uint64_t addr = rd_le(&d->cfg[o + 4], 4);
	if (is64)
		addr |= (uint64_t)rd_le(&d->cfg[o + 8], 4) << 32;
	uint32_t data = rd_le(&d->cfg[o + (is64 ? 12 : 8)], 2);
	pci_msi_send(d, addr, data);
}

/* ---- resource assignment ---- */

struct bar_ref {
	struct pci_dev *d;
	int n;
	uint64_t size;
};

static void assign(struct bar_ref *r, int nr, uint64_t base, uint64_t limit)
{
	/* Largest first: every later (smaller, power-of-two) BAR stays
	 * naturally aligned without holes. */
	for (int i = 1; i < nr; i++)
		for (int j = i; j > 0 && r[j].size > r[j - 1].size; j--) {
			struct bar_ref t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	uint64_t at = base;
	for (int i = 0; i < nr; i++) {
		uint64_t a = (at + r[i].size - 1) & ~(r[i].size - 1);
		if (a + r[i].size > limit || a + r[i].size < a)
			continue;
		unsigned off = PCI_BAR0 + 4 * (unsigned)r[i].n;
		pci_cfg_write(r[i].d->bus, r[i].d->devfn, off, (uint32_t)a, 4);
		if ((r[i].d->bar[r[i].n].kind & 7) == PCI_BAR_MEM64)
			pci_cfg_write(r[i].d->bus, r[i].d->devfn, off + 4, (uint32_t)(a >> 32), 4);
		at = a + r[i].size;
	}
}

void pci_assign_resources(struct pci_bus *b, uint32_t io_base, uint32_t io_limit, uint64_t mem_base,
			  uint64_t mem_limit, int (*irq_of)(void *opaque, uint8_t devfn, int pin),
			  void *opaque)
{
	struct bar_ref io[6 * 64], mem[6 * 64];
	int nio = 0, nmem = 0;
	for (int i = 0; i < 256; i++) {
		struct pci_dev *d = b->dev[i];
		if (!d)
			continue;
		for (int n = 0; n < 6; n++) {
			if (!d->bar[n].size)
				continue;
			struct bar_ref r = { d, n, d->bar[n].size };
			if ((d->bar[n].kind & 7) == PCI_BAR_IO) {
				if (nio < (int)(sizeof(io) / sizeof(io[0])))
					io[nio++] = r;
			} else if (nmem < (int)(sizeof(mem) / sizeof(mem[0]))) {
				mem[nmem++] = r;
			}
		}
	}
	assign(io, nio, io_base, io_limit);
	assign(mem, nmem, mem_base, mem_limit);
	for (int i = 0; i < 256; i++) {
		struct pci_dev *d = b->dev[i];
		if (!d)
			continue;
		bool has_bar = false;
		for (int n = 0; n < 6; n++)
			has_bar |= d->bar[n].size != 0;
		if (has_bar) {
			uint32_t cmd = pci_cfg_read(b, d->devfn, PCI_COMMAND, 2);
			pci_cfg_write(b, d->devfn, PCI_COMMAND, cmd | PCI_CMD_IO | PCI_CMD_MEM, 2);
		}
		int pin = d->cfg[PCI_INTERRUPT_PIN];
		if (pin >= 1 && pin <= 4 && irq_of) {
			int irq = irq_of(opaque, d->devfn, pin);
			pci_cfg_write(b, d->devfn, PCI_INTERRUPT_LINE,
				      irq < 0 ? 0xff : (uint32_t)irq, 1);
		}
	}
}
