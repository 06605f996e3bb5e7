/*
 * devices/ich9_lpc.c — the ICH9 LPC bridge of the q35 machine (see
 * ich9_lpc.h): its configuration registers, PIRQ routing, the SCI line, the
 * chipset configuration block (RCBA) and the ICH9 part of the PM I/O block.
 */
#include "devices/ich9_lpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/acpi_pm.h"
#include "devices/ioapic.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

#define PMX_START     0x20 /* this file's part of the PM block: +20h..+7Fh */
#define PMX_SIZE      0x60
#define SMI_STS       0x34
#define APMC_EN       (1u << 5)
#define RCBA_D31IR    0x3140
#define RCBA_D25IR    0x3150
#define RCBA_GCS      0x3410
#define GCS_NO_REBOOT (1u << 5)
#define MAX_PM_BASES  8

struct ich9_lpc {
	struct machine *m;
	struct pci_bus *bus;
	struct pci_dev *dev;
	struct ich9_lpc_config cfg;
	struct acpi_pm *pm;
	bool sci_level;
	uint8_t high;      /* IOAPIC pins 16-23 as last driven */
	int isa_level[16]; /* ISA IRQs as last driven */
	/* Chipset configuration registers. */
	uint8_t rcba[ICH9_RCBA_SIZE];
	uint64_t rcba_base;
	bool rcba_mapped, rcba_logged;
	/* PM block +20h..+7Fh. */
	uint16_t pm_base;
	bool pm_on;
	uint8_t pmx[PMX_SIZE];
	uint16_t pm_bases[MAX_PM_BASES];
	int npm_bases;
};

static inline uint32_t rd_le(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* ---- interrupt routing ---- */

static int pirq_route(const struct ich9_lpc *l, int n)
{
	uint8_t r = l->dev->cfg[n < 4 ? ICH9_PIRQA_ROUT + n : ICH9_PIRQE_ROUT + n - 4];
	int irq = r & 0xf;
	/* IRQEN (bit 7) clear routes; IRQ 0-2, 8 and 13 are reserved. */
	if ((r & 0x80) || irq < 3 || irq == 8 || irq == 13)
		return -1;
	return irq;
}

static int sci_irq(const struct ich9_lpc *l)
{
	static const int8_t sel[8] = { 9, 10, 11, -1, 20, 21, 22, 23 };
	return sel[l->dev->cfg[ICH9_ACPI_CNTL] & 7];
}

int ich9_lpc_intx_pirq(struct ich9_lpc *l, int slot, int pin)
{
	if (slot >= 25) {
		/* D31IR 3140h, D30IR 3142h, ..., D27IR 3148h, D26IR 314Ch,
		 * D25IR 3150h: 3-bit PIRQ fields for INTA-D at bits 2:0, 6:4,
		 * 10:8, 14:12. */
		unsigned off = slot >= 27 ? RCBA_D31IR + 2 * (31 - (unsigned)slot)
					  : (slot == 26 ? 0x314c : RCBA_D25IR);
		return (int)(rd_le(&l->rcba[off], 2) >> (4 * (pin - 1))) & 7;
	}
	return ((slot + pin - 1) & 3) + 4;
}

int ich9_lpc_intx_irq(struct ich9_lpc *l, uint8_t devfn, int pin)
{
	if (pin < 1 || pin > 4)
		return -1;
	return pirq_route(l, ich9_lpc_intx_pirq(l, devfn >> 3, pin));
}

/* Recompute the PIRQs from the functions' INTx outputs, and every input
 * they and the SCI drive. */
static void update(void *opaque)
{
	struct ich9_lpc *l = opaque;
	uint8_t pirq = 0;
	for (int devfn = 0; devfn < 256; devfn++) {
		struct pci_dev *d = pci_find(l->bus, (uint8_t)devfn);
		if (!d || !pci_intx_asserted(d))
			continue;
		int pin = d->cfg[PCI_INTERRUPT_PIN];
		if (pin >= 1 && pin <= 4)
			pirq |= (uint8_t)(1u << ich9_lpc_intx_pirq(l, devfn >> 3, pin));
	}
	int sci = l->sci_level ? sci_irq(l) : -1;
	uint8_t high = pirq | (sci >= 16 ? (uint8_t)(1u << (sci - 16)) : 0);
	for (int n = 0; n < 8; n++)
		if ((high ^ l->high) >> n & 1)
			ioapic_set_irq(l->cfg.ioapic, 16 + n, high >> n & 1);
	l->high = high;
	int level[16] = { 0 };
	for (int n = 0; n < 8; n++) {
		int irq = (pirq >> n & 1) ? pirq_route(l, n) : -1;
		if (irq >= 0)
			level[irq] = 1;
	}
	if (sci >= 0 && sci < 16)
		level[sci] = 1;
	for (int i = 0; i < 16; i++) {
		if (level[i] == l->isa_level[i])
			continue;
		l->isa_level[i] = level[i];
		if (l->cfg.isa_irq)
			l->cfg.isa_irq(l->cfg.opaque, i, level[i]);
	}
}

static void sci_set(void *opaque, int n, int level)
{
	struct ich9_lpc *l = opaque;
	l->sci_level = level != 0;
	update(l);
}

struct irq_line ich9_lpc_sci_line(struct ich9_lpc *l)
{
	return (struct irq_line){ sci_set, l, 0 };
}

/* ---- PM I/O block, ICH9 registers ---- */

static uint32_t pmx_read(void *opaque, uint16_t port, unsigned size)
{
	struct ich9_lpc *l = opaque;
	if (!l->pm_on || port < l->pm_base + PMX_START || port >= l->pm_base + 0x80)
		return 0xffffffffu;
	unsigned off = port - l->pm_base - PMX_START;
	uint32_t v = 0;
	for (unsigned i = 0; i < size && off + i < PMX_SIZE; i++)
		if (off + i >= 8) /* GPE0_STS (+20h..+27h): no GPE sources */
			v |= (uint32_t)l->pmx[off + i] << (8 * i);
	return v;
}

static void pmx_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct ich9_lpc *l = opaque;
	if (!l->pm_on || port < l->pm_base + PMX_START || port >= l->pm_base + 0x80)
		return;
	unsigned off = port - l->pm_base - PMX_START;
	for (unsigned i = 0; i < size && off + i < PMX_SIZE; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		unsigned o = off + i + PMX_START;
		if (o < 0x28)
			continue; /* GPE0_STS: write 1 to clear, nothing set */
		if (o >= SMI_STS && o < SMI_STS + 4)
			l->pmx[o - PMX_START] &= (uint8_t)~b;
		else
			l->pmx[o - PMX_START] = b;
	}
}

static const struct ioport_ops pmx_ops = { pmx_read, pmx_write, false };

static void pm_apply(struct ich9_lpc *l)
{
	uint16_t base = (uint16_t)(rd_le(&l->dev->cfg[ICH9_PMBASE], 4) & 0xff80);
	bool on = (l->dev->cfg[ICH9_ACPI_CNTL] & 0x80) && base;
	if (l->pm)
		acpi_pm_set_base(l->pm, base, on);
	l->pm_base = base;
	l->pm_on = on;
	if (!on)
		return;
	for (int i = 0; i < l->npm_bases; i++)
		if (l->pm_bases[i] == base)
			return;
	if (l->npm_bases == MAX_PM_BASES) {
		fprintf(stderr, "nestbox: ich9: PMBASE moved too often, +20h-7Fh not decoded\n");
		return;
	}
	l->pm_bases[l->npm_bases++] = base;
	/* After acpi_pm's registration of base..base+3Fh: ours wins for
	 * +20h..+3Fh. */
	ioport_register(l->m->io, (uint16_t)(base + PMX_START), PMX_SIZE, &pmx_ops, l, "ich9-pm");
}

/* ---- chipset configuration registers (RCBA) ---- */

static uint64_t rcba_read(void *opaque, uint64_t off, unsigned size)
{
	struct ich9_lpc *l = opaque;
	uint64_t v = 0;
	for (unsigned i = 0; i < size && off + i < ICH9_RCBA_SIZE; i++)
		v |= (uint64_t)l->rcba[off + i] << (8 * i);
	return v;
}

static void rcba_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct ich9_lpc *l = opaque;
	for (unsigned i = 0; i < size && off + i < ICH9_RCBA_SIZE; i++)
		l->rcba[off + i] = (uint8_t)(val >> (8 * i));
	l->rcba[RCBA_GCS] |= GCS_NO_REBOOT; /* strapped: no TCO reboot */
	if (off < RCBA_D25IR + 2 && off + size > RCBA_D31IR)
		update(l);
}

static const struct mmio_ops rcba_ops = { rcba_read, rcba_write };

static void rcba_defaults(struct ich9_lpc *l)
{
	memset(l->rcba, 0, sizeof(l->rcba));
	for (unsigned off = RCBA_D31IR; off <= RCBA_D25IR; off += 2) {
		l->rcba[off] = 0x10; /* 3210h: INTA-D -> PIRQA-D */
		l->rcba[off + 1] = 0x32;
	}
	l->rcba[RCBA_GCS] = GCS_NO_REBOOT;
}

/* The block decodes only where nothing else does: above low RAM, below
 * 4 GiB, clear of the IOAPIC, HPET, IOMMU, LAPIC and firmware windows. */
static bool rcba_place_ok(const struct ich9_lpc *l, uint64_t b)
{
	static const uint64_t busy[][2] = {
		{ 0xfec00000, 0xfec01000 }, { 0xfed00000, 0xfed01000 },  { 0xfed90000, 0xfed91000 },
		{ 0xfee00000, 0xfef00000 }, { 0xff000000, 0x100000000 },
	};
	if (b < l->cfg.lowmem || b + ICH9_RCBA_SIZE > (1ull << 32))
		return false;
	for (unsigned i = 0; i < sizeof(busy) / sizeof(busy[0]); i++)
		if (b < busy[i][1] && b + ICH9_RCBA_SIZE > busy[i][0])
			return false;
	return true;
}

static void rcba_apply(struct ich9_lpc *l)
{
	uint32_t v = rd_le(&l->dev->cfg[ICH9_RCBA], 4);
	uint64_t base = v & 0xffffc000u;
	bool on = v & 1;
	if (on && !rcba_place_ok(l, base)) {
		if (!l->rcba_logged)
			fprintf(stderr,
				"nestbox: ich9: RCBA %#llx overlaps RAM or a fixed window, "
				"not decoded\n",
				(unsigned long long)base);
		l->rcba_logged = true;
		on = false;
	}
	if (on == l->rcba_mapped && (!on || base == l->rcba_base))
		return;
	if (l->rcba_mapped)
		mmu_unmap(l->m->mmu, l->rcba_base, ICH9_RCBA_SIZE);
	l->rcba_mapped = on;
	l->rcba_base = base;
	if (on)
		mmu_map_mmio(l->m->mmu, base, ICH9_RCBA_SIZE, &rcba_ops, l, "ich9-rcba");
}

/* ---- configuration space ---- */

static void lpc_write(struct pci_dev *d, unsigned off, uint32_t val, unsigned size)
{
	struct ich9_lpc *l = d->opaque;
	unsigned end = off + size;
	if ((off < ICH9_PMBASE + 4 && end > ICH9_PMBASE) ||
	    (off <= ICH9_ACPI_CNTL && end > ICH9_ACPI_CNTL))
		pm_apply(l);
	if (off < ICH9_RCBA + 4 && end > ICH9_RCBA)
		rcba_apply(l);
	if ((off < ICH9_PIRQA_ROUT + 4 && end > ICH9_PIRQA_ROUT) ||
	    (off < ICH9_PIRQE_ROUT + 4 && end > ICH9_PIRQE_ROUT) ||
	    (off <= ICH9_ACPI_CNTL && end > ICH9_ACPI_CNTL))
		update(l);
}

static void lpc_reset(struct pci_dev *d)
{
	struct ich9_lpc *l = d->opaque;
	rcba_defaults(l);
	memset(l->pmx, 0, sizeof(l->pmx));
	l->pmx[ICH9_PM_SMI_EN - PMX_START] = APMC_EN;
	pm_apply(l);
	rcba_apply(l);
	update(l);
}

struct ich9_lpc *ich9_lpc_init(struct machine *m, struct pci_bus *bus,
			       const struct ich9_lpc_config *cfg)
{
	struct ich9_lpc *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->m = m;
	l->bus = bus;
	l->cfg = *cfg;
	struct pci_dev *d = pci_register(bus, ICH9_LPC_DEVFN, 0x8086, ICH9_LPC_DEVICE, 0x060100,
					 0x02, "ich9-lpc");
	if (!d) {
		free(l);
		return NULL;
	}
	l->dev = d;
	d->opaque = l;
	d->cfg[PCI_HEADER_TYPE] = 0x80; /* D31 is multi-function on ICH9 */
	d->cfg[0x2c] = 0xf4;            /* subsystem 1af4:1100, as QEMU's */
	d->cfg[0x2d] = 0x1a;
	d->cfg[0x2f] = 0x11;
	memset(&d->wmask[0x40], 0xff, 0xc0);
	d->cfg[ICH9_PMBASE] = 0x01; /* RTE: I/O space */
	d->wmask[ICH9_PMBASE] = 0x80;
	d->wmask[ICH9_PMBASE + 2] = d->wmask[ICH9_PMBASE + 3] = 0;
	d->wmask[ICH9_ACPI_CNTL] = 0x87;
	d->cfg[0x48] = 0x01; /* GPIOBASE: I/O space, bits 15:6 */
	d->wmask[0x48] = 0xc0;
	d->wmask[0x4a] = d->wmask[0x4b] = 0;
	for (int n = 0; n < 4; n++) {
		d->cfg[ICH9_PIRQA_ROUT + n] = d->cfg[ICH9_PIRQE_ROUT + n] = 0x80;
		d->wmask[ICH9_PIRQA_ROUT + n] = d->wmask[ICH9_PIRQE_ROUT + n] = 0x8f;
	}
	d->cfg[0x64] = 0x10; /* SIRQ_CNTL */
	for (unsigned o = ICH9_LPC_IBDF; o < 0x80; o += 2)
		d->cfg[o] = 0xf8; /* IOxAPIC / HPET requester IDs: 00:1f.0 */
	d->wmask[ICH9_RCBA] = 0x01;
	d->wmask[ICH9_RCBA + 1] = 0xc0;
	d->cfg_write = lpc_write;
	d->reset = lpc_reset;
	pci_snapshot(d);
	rcba_defaults(l);
	l->pmx[ICH9_PM_SMI_EN - PMX_START] = APMC_EN;
	pci_set_intx_hook(bus, update, l);
	return l;
}

void ich9_lpc_set_pm(struct ich9_lpc *l, struct acpi_pm *pm)
{
	l->pm = pm;
	pm_apply(l);
}

void ich9_lpc_free(struct ich9_lpc *l)
{
	free(l);
}

void ich9_lpc_firmware_setup(struct ich9_lpc *l, uint16_t pm_base)
{
	static const uint8_t irq[4] = { 10, 10, 11, 11 };
	struct pci_bus *b = l->bus;
	pci_cfg_write(b, ICH9_LPC_DEVFN, ICH9_PMBASE, (uint32_t)pm_base | 1, 4);
	pci_cfg_write(b, ICH9_LPC_DEVFN, ICH9_ACPI_CNTL, 0x80, 1);
	pci_cfg_write(b, ICH9_LPC_DEVFN, ICH9_RCBA, ICH9_RCBA_DEFAULT | 1, 4);
	for (unsigned n = 0; n < 4; n++) {
		pci_cfg_write(b, ICH9_LPC_DEVFN, ICH9_PIRQA_ROUT + n, irq[n], 1);
		pci_cfg_write(b, ICH9_LPC_DEVFN, ICH9_PIRQE_ROUT + n, irq[n], 1);
	}
}
