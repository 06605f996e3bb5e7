/*
 * devices/intel_iommu.c — the intel-iommu's register file (VT-d spec
 * ch. 11): capabilities, global command/status, root table pointer,
 * register-based and queued invalidation (§6.5), primary fault recording
 * and the fault / invalidation-completion event interrupts (§7.2-7.3).
 * Translation and interrupt remapping are in intel_iommu_xlate.c.
 *
 * Registers are 32 or 64 bits wide; software accesses them with aligned
 * 32- or 64-bit accesses (§10.2), a 64-bit access acting as two 32-bit ones
 * low half first, so a command bit in a high half (CCMD.ICC, IOTLB.IVT)
 * takes effect with the whole register written. Narrower reads are served,
 * narrower writes are ignored (their effect is undefined).
 *
 * Event interrupts of the unit itself are never remapped (§5.1.6): they go
 * to the LAPICs as compatibility-format messages.
 */
#include "devices/intel_iommu.h"

#include <stdio.h>
#include <stdlib.h>

#include "devices/intel_iommu_int.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

#define VTD_VERSION 0x10 /* major 1, minor 0 */
#define FRO         (VTD_FRCD / 16)
#define IRO         (VTD_IVA / 16)
#define FRCD_F      (1ull << 63) /* in the record's high quadword */

#define CCMD_ICC  (1ull << 63)
#define IOTLB_IVT (1ull << 63)

#define IM_BIT (1u << 31)
#define IP_BIT (1u << 30)

static uint64_t make_cap(void)
{
	return 6ull                       /* ND: 16-bit domain IDs */
	       | 0x6ull << 8              /* SAGAW: 39-bit (3-level), 48-bit (4-level) */
	       | (uint64_t)(48 - 1) << 16 /* MGAW */
	       | 1ull << 22               /* ZLR */
	       | (uint64_t)FRO << 24      /* fault recording register offset */
	       | 0x3ull << 34             /* SLLPS: 2 MiB and 1 GiB pages */
	       | 1ull << 39               /* PSI */
	       | (uint64_t)(INTEL_IOMMU_NFR - 1) << 40 /* NFR */
	       | 18ull << 48                           /* MAMV */
	       | 1ull << 54 | 1ull << 55;              /* DWD, DRD */
}

static uint64_t make_ecap(const struct intel_iommu_config *c)
{
	uint64_t e = 1ull                 /* C: page walks are coherent */
		     | 1ull << 1          /* QI */
		     | 1ull << 6          /* PT: pass-through */
		     | (uint64_t)IRO << 8 /* IOTLB register offset */
		     | 0xfull << 20;      /* MHMV */
	if (c->intremap)
		e |= 1ull << 3 | (c->eim ? 1ull << 4 : 0);
	return e;
}

/* ---- events (§7.3, §6.5.2.9) ---- */

static void send_msg(struct intel_iommu *u, uint32_t lo, uint32_t hi, uint32_t data)
{
	lapic_msi(u->m, (uint64_t)hi << 32 | lo, data);
}

static bool fault_pending(const struct intel_iommu *u)
{
	for (int i = 0; i < INTEL_IOMMU_NFR; i++)
		if (u->frcd[i][1] & FRCD_F)
			return true;
	return false;
}

/* FSTS.FRI: the oldest record still pending, searching from the one the
 * first fault went to (software clears them in order, from FRI on). */
static unsigned first_pending(const struct intel_iommu *u)
{
	for (unsigned k = 0; k < INTEL_IOMMU_NFR; k++) {
		unsigned i = (u->first_fr + k) % INTEL_IOMMU_NFR;
		if (u->frcd[i][1] & FRCD_F)
			return i;
	}
	return u->first_fr;
}

/* A new fault condition: interrupt unless one is already pending. */
static void fault_event(struct intel_iommu *u)
{
	if (u->fectl & IP_BIT)
		return;
	u->fectl |= IP_BIT;
	if (!(u->fectl & IM_BIT)) {
		send_msg(u, u->feaddr, u->feuaddr, u->fedata);
		u->fectl &= ~IP_BIT;
	}
}

/* Software serviced every condition: the pending interrupt goes away. */
static void fault_serviced(struct intel_iommu *u)
{
	if (!fault_pending(u) &&
	    !(u->fsts & (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)))
		u->fectl &= ~IP_BIT;
}

void vtd_record_fault(struct intel_iommu *u, uint16_t sid, uint64_t fi, unsigned reason, bool read)
{
	bool was_pending = fault_pending(u);
	uint64_t *r = u->frcd[u->next_fr];
	if (r[1] & FRCD_F) {
		/* No free record: primary fault overflow. */
		if (!(u->fsts & VTD_FSTS_PFO)) {
			u->fsts |= VTD_FSTS_PFO;
			fault_event(u);
		}
		return;
	}
	r[0] = fi;
	r[1] = FRCD_F | (read ? 1ull << 62 : 0) | (uint64_t)(reason & 0xff) << 32 | sid;
	if (!was_pending)
		u->first_fr = u->next_fr;
	u->next_fr = (u->next_fr + 1) % INTEL_IOMMU_NFR;
	if (!was_pending)
		fault_event(u);
}

static void iq_error(struct intel_iommu *u, unsigned info)
{
	u->iqercd = info;
	u->fsts |= VTD_FSTS_IQE;
	fault_event(u);
}

static void inv_event(struct intel_iommu *u)
{
	if (u->ics & 1)
		return; /* IWC already set: no new event */
	u->ics |= 1;
	u->iectl |= IP_BIT;
	if (!(u->iectl & IM_BIT)) {
		send_msg(u, u->ieaddr, u->ieuaddr, u->iedata);
		u->iectl &= ~IP_BIT;
	}
}

/* ---- queued invalidation (§6.5.2) ---- */

static uint64_t iq_size(const struct intel_iommu *u)
{
	return 4096ull << (u->iqa & 7);
}

/* Check one 128-bit descriptor; false (IQE) if its type is unknown to
 * this unit or a reserved field is set. Nothing is cached, so a valid
 * invalidation has nothing to do; an invalidation wait reports. */
static bool iq_descriptor(struct intel_iommu *u, uint64_t lo, uint64_t hi)
{
	switch (lo & 0xf) {
	case 1: /* context-cache invalidate: G 5:4, DID 31:16, SID 47:32, FM 49:48 */
		return !(lo & ~0x3ffffffff003full) && ((lo >> 4) & 3) && !hi;
	case 2: { /* IOTLB invalidate: G 5:4, DW 6, DR 7, DID 31:16; ADDR, IH, AM */
		unsigned g = (lo >> 4) & 3, am = hi & 0x3f;
		if ((lo & ~0xffff00ffull) || !g || (hi & 0xf80))
			return false;
		if (g == 3 && (am > ((u->cap >> 48) & 0x3f) || (hi >> 12) & ((1ull << am) - 1)))
			return false;
		return true;
	}
	case 4: /* interrupt entry cache invalidate: G 4, IM 31:27, IIDX 47:32 */
		if (!(u->ecap & (1ull << 3)))
			return false;
		return !(lo & ~0xfffff800001full) && !hi;
	case 5: { /* invalidation wait: IF 4, SW 5, FN 6, PD 7, status data 63:32 */
		if ((lo & 0xffffff00ull) || (hi & 3))
			return false;
		if (lo & (1u << 5))
			phys_write(u->m->mmu, hi & ~3ull, 4, lo >> 32);
		if (lo & (1u << 4))
			inv_event(u);
		return true;
	}
	default: /* device-TLB (no DT), PASID-based (no PASID), reserved */
		return false;
	}
}

/* Fetch descriptors from IQH up to IQT (stops at an erroneous one, which
 * IQH then points to, until software clears FSTS.IQE). */
static void iq_process(struct intel_iommu *u)
{
	if (!(u->gsts & VTD_GSTS_QIES) || (u->fsts & VTD_FSTS_IQE))
		return;
	uint64_t size = iq_size(u), base = u->iqa & ~0xfffull;
	if (u->iqt >= size) {
		iq_error(u, 1); /* tail beyond the queue */
		return;
	}
	while (u->iqh != u->iqt) {
		uint64_t lo = phys_read(u->m->mmu, base + u->iqh, 8);
		uint64_t hi = phys_read(u->m->mmu, base + u->iqh + 8, 8);
		if (!iq_descriptor(u, lo, hi)) {
			iq_error(u, 2); /* invalid descriptor */
			return;
		}
		u->iqh = (u->iqh + 16) % size;
	}
}

/* ---- global command (§10.4.5) ---- */

static void gcmd_write(struct intel_iommu *u, uint32_t cmd)
{
	bool ir = u->cfg.intremap;
	/* Enables follow the written bit. */
	u->gsts = (u->gsts & ~VTD_GSTS_TES) | (cmd & VTD_GCMD_TE);
	if (cmd & VTD_GCMD_SRTP) {
		u->rta = u->rtaddr & ~0xfffull;
		u->gsts |= VTD_GSTS_RTPS;
	}
	if ((cmd & VTD_GCMD_QIE) && !(u->gsts & VTD_GSTS_QIES)) {
		u->iqh = 0; /* §10.4.22: IQH resets when queuing is enabled */
		u->gsts |= VTD_GSTS_QIES;
		iq_process(u);
	} else if (!(cmd & VTD_GCMD_QIE)) {
		u->gsts &= ~VTD_GSTS_QIES;
	}
	if (ir) {
		if (cmd & VTD_GCMD_SIRTP) {
			u->irt = u->irta;
			u->gsts |= VTD_GSTS_IRTPS;
		}
		u->gsts = (u->gsts & ~(VTD_GSTS_IRES | VTD_GSTS_CFIS)) |
			  (cmd & (VTD_GCMD_IRE | VTD_GCMD_CFI));
	}
	/* SFL/EAFL (no advanced fault logging) and WBF (RWBF = 0: nothing is
	 * buffered) have no effect. */
}

/* ---- register access ---- */

static uint32_t half(uint64_t v, unsigned off)
{
	return (off & 4) ? (uint32_t)(v >> 32) : (uint32_t)v;
}

static void set_half(uint64_t *r, unsigned off, uint32_t v)
{
	if (off & 4)
		*r = (*r & 0xffffffffull) | (uint64_t)v << 32;
	else
		*r = (*r & ~0xffffffffull) | v;
}

static uint32_t reg_read(struct intel_iommu *u, unsigned off)
{
	if (off >= VTD_FRCD && off < VTD_FRCD + 16 * INTEL_IOMMU_NFR) {
		unsigned i = (off - VTD_FRCD) / 16;
		return half(u->frcd[i][(off >> 3) & 1], off);
	}
	switch (off & ~7u) {
	case VTD_CAP:
		return half(u->cap, off);
	case VTD_ECAP:
		return half(u->ecap, off);
	case VTD_RTADDR:
		return half(u->rtaddr, off);
	case VTD_CCMD:
		return half(u->ccmd, off);
	case VTD_IQH:
		return half(u->iqh, off);
	case VTD_IQT:
		return half(u->iqt, off);
	case VTD_IQA:
		return half(u->iqa, off);
	case VTD_IQERCD:
		return half(u->iqercd, off);
	case VTD_IRTA:
		return u->cfg.intremap ? half(u->irta, off) : 0;
	case VTD_IVA:
		return half(u->iva, off);
	case VTD_IOTLB:
		return half(u->iotlb, off);
	default:
		break;
	}
	switch (off) {
	case VTD_VER:
		return VTD_VERSION;
	case VTD_GSTS:
		return u->gsts;
	case VTD_FSTS:
		return u->fsts | (fault_pending(u) ? VTD_FSTS_PPF | first_pending(u) << 8 : 0);
	case VTD_FECTL:
		return u->fectl;
	case VTD_FEDATA:
		return u->fedata;
	case VTD_FEADDR:
		return u->feaddr;
	case VTD_FEUADDR:
		return u->feuaddr;
	case VTD_ICS:
		return u->ics;
	case VTD_IECTL:
		return u->iectl;
	case VTD_IEDATA:
		return u->iedata;
	case VTD_IEADDR:
		return u->ieaddr;
	case VTD_IEUADDR:
		return u->ieuaddr;
	default:
		return 0; /* GCMD (write-only), AFLOG, PMEN, PLM/PHM, reserved */
	}
}

static void reg_write(struct intel_iommu *u, unsigned off, uint32_t v)
{
	if (off >= VTD_FRCD && off < VTD_FRCD + 16 * INTEL_IOMMU_NFR) {
		unsigned i = (off - VTD_FRCD) / 16;
		if ((off & 15) == 12 && (v >> 31)) { /* F is write-1-to-clear */
			u->frcd[i][1] &= ~FRCD_F;
			fault_serviced(u);
		}
		return;
	}
	switch (off) {
	case VTD_GCMD:
		gcmd_write(u, v);
		return;
	case VTD_RTADDR: /* bits 11:10 TTM: only legacy mode (00b) */
	case VTD_RTADDR + 4:
		set_half(&u->rtaddr, off, v);
		u->rtaddr &= ((1ull << INTEL_IOMMU_HAW) - 1) & ~0xfffull;
		return;
	case VTD_CCMD:
	case VTD_CCMD + 4:
		set_half(&u->ccmd, off, v);
		u->ccmd &= 0xe0000003ffffffffull; /* ICC, CIRG, FM, SID, DID */
		if (u->ccmd & CCMD_ICC) {
			/* Nothing cached: done at once, at the requested
			 * granularity (CAIG = CIRG; 0 = invalid request). */
			uint64_t g = (u->ccmd >> 61) & 3;
			u->ccmd = (u->ccmd & ~(CCMD_ICC | 3ull << 59)) | g << 59;
		}
		return;
	case VTD_FSTS:
		u->fsts &= ~(v & (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE));
		if (v & VTD_FSTS_IQE)
			u->iqercd = 0;
		fault_serviced(u);
		if (v & VTD_FSTS_IQE)
			iq_process(u); /* resume at IQH */
		return;
	case VTD_FECTL:
		u->fectl = (u->fectl & IP_BIT) | (v & IM_BIT);
		if (!(u->fectl & IM_BIT) && (u->fectl & IP_BIT)) {
			send_msg(u, u->feaddr, u->feuaddr, u->fedata);
			u->fectl &= ~IP_BIT;
		}
		return;
	case VTD_FEDATA:
		u->fedata = v;
		return;
	case VTD_FEADDR:
		u->feaddr = v & ~3u;
		return;
	case VTD_FEUADDR:
		u->feuaddr = v;
		return;
	case VTD_IQT:
		u->iqt = v & 0x7fff0u;
		iq_process(u);
		return;
	case VTD_IQA:
	case VTD_IQA + 4:
		set_half(&u->iqa, off, v);
		u->iqa &= (((1ull << INTEL_IOMMU_HAW) - 1) & ~0xfffull) | 7; /* no DW */
		return;
	case VTD_ICS:
		if (v & 1) {
			u->ics = 0;
			u->iectl &= ~IP_BIT;
		}
		return;
	case VTD_IECTL:
		u->iectl = (u->iectl & IP_BIT) | (v & IM_BIT);
		if (!(u->iectl & IM_BIT) && (u->iectl & IP_BIT)) {
			send_msg(u, u->ieaddr, u->ieuaddr, u->iedata);
			u->iectl &= ~IP_BIT;
		}
		return;
	case VTD_IEDATA:
		u->iedata = v;
		return;
	case VTD_IEADDR:
		u->ieaddr = v & ~3u;
		return;
	case VTD_IEUADDR:
		u->ieuaddr = v;
		return;
	case VTD_IRTA:
	case VTD_IRTA + 4:
		if (!u->cfg.intremap)
			return;
		set_half(&u->irta, off, v);
		u->irta &= (((1ull << INTEL_IOMMU_HAW) - 1) & ~0xfffull) |
			   (u->cfg.eim ? VTD_IRTA_EIME : 0) | 0xf;
		return;
	case VTD_IVA:
	case VTD_IVA + 4:
		set_half(&u->iva, off, v);
		u->iva &= ~0xf80ull; /* ADDR 63:12, IH 6, AM 5:0 */
		return;
	case VTD_IOTLB:
	case VTD_IOTLB + 4:
		set_half(&u->iotlb, off, v);
		u->iotlb &= 0xb003ffff00000000ull; /* IVT, IIRG, DR, DW, DID */
		if (u->iotlb & IOTLB_IVT) {
			uint64_t g = (u->iotlb >> 60) & 3;
			u->iotlb = (u->iotlb & ~(IOTLB_IVT | 3ull << 57)) | g << 57;
		}
		return;
	default:
		return; /* read-only or reserved */
	}
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct intel_iommu *u = opaque;
	if (size == 8 && !(off & 7))
		return reg_read(u, (unsigned)off) | (uint64_t)reg_read(u, (unsigned)off + 4) << 32;
	uint64_t v = reg_read(u, (unsigned)off & ~3u) >> (8 * (off & 3));
	return size >= 4 ? (uint32_t)v : v & ((1ull << (8 * size)) - 1);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct intel_iommu *u = opaque;
	if (size == 8 && !(off & 7)) {
		reg_write(u, (unsigned)off, (uint32_t)val);
		reg_write(u, (unsigned)off + 4, (uint32_t)(val >> 32));
	} else if (size == 4 && !(off & 3)) {
		reg_write(u, (unsigned)off, (uint32_t)val);
	} else if (!u->logged_size) {
		u->logged_size = true;
		fprintf(stderr, "nestbox: warning: intel-iommu: %u-byte write at +%#llx ignored\n",
			size, (unsigned long long)off);
	}
}

static const struct mmio_ops vtd_ops = { mmio_read, mmio_write };

/* ---- life cycle ---- */

void intel_iommu_reset(struct intel_iommu *u)
{
	struct machine *m = u->m;
	uint64_t base = u->base;
	struct intel_iommu_config cfg = u->cfg;
	*u = (struct intel_iommu){ .m = m, .base = base, .cfg = cfg };
	u->cap = make_cap();
	u->ecap = make_ecap(&cfg);
	u->fectl = IM_BIT;
	u->iectl = IM_BIT;
}

struct intel_iommu *intel_iommu_init(struct machine *m, uint64_t base,
				     const struct intel_iommu_config *cfg)
{
	struct intel_iommu *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->m = m;
	u->base = base;
	u->cfg = *cfg;
	if (!u->cfg.intremap)
		u->cfg.eim = false;
	intel_iommu_reset(u);
	mmu_map_mmio(m->mmu, base, INTEL_IOMMU_SIZE, &vtd_ops, u, "intel-iommu");
	return u;
}

void intel_iommu_free(struct intel_iommu *u)
{
	free(u);
}

static bool pci_translate(void *opaque, uint16_t rid, uint64_t addr, bool write, uint64_t *pa,
			  uint64_t *len)
{
	return intel_iommu_translate(opaque, rid, addr, write, pa, len);
}

static void pci_msi(void *opaque, uint16_t rid, uint64_t addr, uint32_t data)
{
	intel_iommu_interrupt(opaque, rid, true, addr, data);
}

static const struct pci_iommu_ops vtd_pci_ops = { pci_translate, pci_msi };

void intel_iommu_attach(struct intel_iommu *u, struct pci_bus *bus)
{
	pci_set_iommu(bus, &vtd_pci_ops, u);
}

void intel_iommu_ioapic_msi(void *opaque, uint64_t addr, uint32_t data)
{
	struct intel_iommu *u = opaque;
	intel_iommu_interrupt(u, u->cfg.ioapic_sid, false, addr, data);
}
