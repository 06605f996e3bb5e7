/*
 * devices/q35_mch.c — the Q35 MCH host bridge (see q35_mch.h): its
 * configuration registers and the ECAM window they place.
 */
#include "devices/q35_mch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/machine.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

#define SMRAM_D_OPEN (1u << 6)
#define SMRAM_D_LCK  (1u << 4)

struct q35_mch {
	struct machine *m;
	struct pci_bus *bus;
	struct pci_dev *dev;
	struct q35_mch_config cfg;
	uint64_t ecam_base, ecam_size; /* mapped window, size 0 = none */
	bool logged;
};

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t ecam_read(void *opaque, uint64_t off, unsigned size)
{
	struct q35_mch *h = opaque;
	if (size == 8) {
		uint64_t hi = pci_ecam_read(h->bus, off + 4, 4);
		return pci_ecam_read(h->bus, off, 4) | hi << 32;
	}
	return pci_ecam_read(h->bus, off, size);
}

static void ecam_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct q35_mch *h = opaque;
	if (size == 8) {
		pci_ecam_write(h->bus, off, (uint32_t)val, 4);
		pci_ecam_write(h->bus, off + 4, (uint32_t)(val >> 32), 4);
		return;
	}
	pci_ecam_write(h->bus, off, (uint32_t)val, size);
}

static const struct mmio_ops ecam_ops = { ecam_read, ecam_write };

/* A window may sit where nothing else decodes: above low RAM and below the
 * fixed chipset/APIC/firmware range, or above high RAM (36 address bits). */
static bool ecam_place_ok(const struct q35_mch *h, uint64_t base, uint64_t size)
{
	if (base >= h->cfg.lowmem && base + size <= 0xfec00000ull)
		return true;
	return base >= (1ull << 32) + h->cfg.highmem && base + size <= (1ull << 36);
}

static void ecam_update(struct q35_mch *h)
{
	uint64_t v = rd64(&h->dev->cfg[Q35_PCIEXBAR]);
	uint64_t base = 0, size = 0;
	if (v & 1) {
		switch ((v >> 1) & 3) {
		case 0:
			size = 256ull << 20;
			break;
		case 1:
			size = 128ull << 20;
			break;
		case 2:
			size = 64ull << 20;
			break;
		default:
			break; /* reserved length: no decode */
		}
		base = v & 0xfffffffffull & ~(size - 1);
	}
	if (size && !ecam_place_ok(h, base, size)) {
		if (!h->logged)
			fprintf(stderr,
				"nestbox: q35: PCIEXBAR window %#llx+%#llx overlaps RAM or the "
				"chipset range, not decoded\n",
				(unsigned long long)base, (unsigned long long)size);
		h->logged = true;
		size = 0;
	}
	if (size == h->ecam_size && (!size || base == h->ecam_base))
		return;
	if (h->ecam_size)
		mmu_unmap(h->m->mmu, h->ecam_base, h->ecam_size);
	h->ecam_base = base;
	h->ecam_size = size;
	if (size)
		mmu_map_mmio(h->m->mmu, base, size, &ecam_ops, h, "pcie-ecam");
}

static void pam_apply(struct q35_mch *h, unsigned reg)
{
	if (h->cfg.pam)
		h->cfg.pam(h->cfg.opaque, 0x59 + (reg - Q35_PAM0), h->dev->cfg[reg]);
}

static void mch_write(struct pci_dev *d, unsigned off, uint32_t val, unsigned size)
{
	struct q35_mch *h = d->opaque;
	if (off < Q35_PCIEXBAR + 8 && off + size > Q35_PCIEXBAR)
		ecam_update(h);
	for (unsigned o = off; o < off + size; o++)
		if (o >= Q35_PAM0 && o <= Q35_PAM0 + 6)
			pam_apply(h, o);
	if (off <= Q35_SMRAM && off + size > Q35_SMRAM && (d->cfg[Q35_SMRAM] & SMRAM_D_LCK)) {
		/* D_LCK: D_OPEN clears; SMRAM (but D_CLS) and the ESMRAMC
		 * fields become read-only until reset. */
		d->cfg[Q35_SMRAM] &= (uint8_t)~SMRAM_D_OPEN;
		d->wmask[Q35_SMRAM] = 0x20;
		d->wmask[Q35_ESMRAMC] = 0;
	}
}

static void mch_reset(struct pci_dev *d)
{
	struct q35_mch *h = d->opaque;
	d->wmask[Q35_SMRAM] = 0x78;
	d->wmask[Q35_ESMRAMC] = 0x87;
	ecam_update(h);
	for (unsigned r = Q35_PAM0; r <= Q35_PAM0 + 6; r++)
		pam_apply(h, r);
}

struct q35_mch *q35_mch_init(struct machine *m, struct pci_bus *bus,
			     const struct q35_mch_config *cfg)
{
	struct q35_mch *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->m = m;
	h->bus = bus;
	h->cfg = *cfg;
	struct pci_dev *d =
		pci_register(bus, PCI_DEVFN(0, 0), 0x8086, Q35_MCH_DEVICE, 0x060000, 0, "q35-mch");
	if (!d) {
		free(h);
		return NULL;
	}
	h->dev = d;
	d->opaque = h;
	memset(&d->wmask[0x40], 0xff, 0xc0);
	/* Subsystem 1af4:1100: SeaBIOS looks for fw_cfg only then. */
	d->cfg[0x2c] = 0xf4;
	d->cfg[0x2d] = 0x1a;
	d->cfg[0x2e] = 0x00;
	d->cfg[0x2f] = 0x11;
	/* PCIEXBAR: base 0xB0000000, 256 MiB, disabled; writable: enable,
	 * length, base bits 35:26. */
	uint64_t xbar = Q35_ECAM_BASE;
	uint64_t xmask = 0xffc000007ull;
	for (int i = 0; i < 8; i++) {
		d->cfg[Q35_PCIEXBAR + i] = (uint8_t)(xbar >> (8 * i));
		d->wmask[Q35_PCIEXBAR + i] = (uint8_t)(xmask >> (8 * i));
	}
	/* PAM: 2-bit fields at bits 1:0 and 5:4 (PAM0 only 5:4). */
	d->wmask[Q35_PAM0] = 0x30;
	for (int i = 1; i <= 6; i++)
		d->wmask[Q35_PAM0 + i] = 0x33;
	/* SMRAM: C_BASE_SEG 010b read-only; ESMRAMC: SM_CACHE/L1/L2 read 1. */
	d->cfg[Q35_SMRAM] = 0x02;
	d->wmask[Q35_SMRAM] = 0x78;
	d->cfg[Q35_ESMRAMC] = 0x38;
	d->wmask[Q35_ESMRAMC] = 0x87;
	/* TOUUD (1 MiB units) and TOLUD (bits 15:4 = address bits 31:20). */
	uint64_t touud = cfg->highmem ? ((1ull << 32) + cfg->highmem) >> 20 : cfg->lowmem >> 20;
	d->cfg[Q35_TOUUD] = (uint8_t)touud;
	d->cfg[Q35_TOUUD + 1] = (uint8_t)(touud >> 8);
	uint32_t tolud = (uint32_t)(cfg->lowmem >> 20) << 4;
	d->cfg[Q35_TOLUD] = (uint8_t)tolud;
	d->cfg[Q35_TOLUD + 1] = (uint8_t)(tolud >> 8);
	d->wmask[Q35_TOUUD] = d->wmask[Q35_TOUUD + 1] = 0;
	d->wmask[Q35_TOLUD] = d->wmask[Q35_TOLUD + 1] = 0;
	d->cfg_write = mch_write;
	d->reset = mch_reset;
	pci_snapshot(d);
	return h;
}

void q35_mch_free(struct q35_mch *h)
{
	free(h);
}

void q35_mch_ecam(const struct q35_mch *h, uint64_t *base, uint64_t *size)
{
	*base = h->ecam_base;
	*size = h->ecam_size;
}
