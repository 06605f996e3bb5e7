/*
 * devices/intel_iommu_xlate.c — the intel-iommu's remapping engines: DMA
 * address translation through the root, context and second-level page
 * tables (VT-d spec §3.4, §3.6, §9.1-9.3, §9.8) and interrupt remapping
 * through the IRTE table (ch. 5, §9.10). Faults are recorded with the
 * reasons of appendix A (intel_iommu.c keeps the records).
 *
 * Legacy-mode structures:
 *   root entry (16 B, indexed by bus):   lo bit 0 P, 63:12 context table
 *                                         pointer; 11:1 and hi reserved
 *   context entry (16 B, by dev:fn):     lo bit 0 P, 1 FPD, 3:2 TT
 *                                         (00 second-level, 10 pass-through),
 *                                         63:12 SLPTPTR; hi 2:0 AW (1 = 39-bit
 *                                         3-level, 2 = 48-bit 4-level),
 *                                         23:8 domain ID
 *   second-level entry (8 B):            bit 0 R, 1 W, 7 PS (2M/1G leaf),
 *                                         51:12 address
 *   IRTE (16 B, by interrupt index):     bit 0 P, 1 FPD, 2 DM, 3 RH, 4 TM,
 *                                         7:5 DLM, 15 IM (posted), 23:16
 *                                         vector, 63:32 destination; hi 15:0
 *                                         SID, 17:16 SQ, 19:18 SVT
 */
#include <stdio.h>

#include "devices/intel_iommu.h"
#include "devices/intel_iommu_int.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

#define HAW_MASK     ((1ull << INTEL_IOMMU_HAW) - 1)
#define ADDR_RSVD(v) ((v)&0x000ffffffffff000ull & ~HAW_MASK)

static uint64_t rd64(struct intel_iommu *u, uint64_t pa)
{
	return phys_read(u->m->mmu, pa, 8);
}

/* ---- DMA remapping ---- */

/* Find the translation of addr for requester sid. Returns 0 with *pa and
 * *len, or the fault reason; *fpd says whether the context entry disabled
 * fault recording. */
static unsigned walk(struct intel_iommu *u, uint16_t sid, uint64_t addr, bool write, uint64_t *pa,
		     uint64_t *len, bool *fpd)
{
	*fpd = false;
	uint64_t re_lo = rd64(u, u->rta + 16ull * (sid >> 8));
	uint64_t re_hi = rd64(u, u->rta + 16ull * (sid >> 8) + 8);
	if (!(re_lo & 1))
		return VTD_FR_ROOT_NP;
	if ((re_lo & 0xffe) || ADDR_RSVD(re_lo) || (re_lo >> 52) || re_hi)
		return VTD_FR_ROOT_RSVD;
	uint64_t ctp = re_lo & 0x000ffffffffff000ull;
	uint64_t ce_lo = rd64(u, ctp + 16ull * (sid & 0xff));
	uint64_t ce_hi = rd64(u, ctp + 16ull * (sid & 0xff) + 8);
	if (!(ce_lo & 1))
		return VTD_FR_CTX_NP;
	*fpd = ce_lo & 2;
	if ((ce_lo & 0xff0) || ADDR_RSVD(ce_lo) || (ce_lo >> 52) || (ce_hi & 0x80) || (ce_hi >> 24))
		return VTD_FR_CTX_RSVD;
	unsigned tt = (ce_lo >> 2) & 3, aw = ce_hi & 7;
	if (tt == 2) { /* pass-through (ECAP.PT) */
		if (addr & ~HAW_MASK)
			return VTD_FR_ADDR_WIDTH;
		*pa = addr;
		*len = 0x1000 - (addr & 0xfff);
		return 0;
	}
	/* TT 01b needs device-TLB support, 11b is reserved; AW must be one
	 * SAGAW advertises. */
	if (tt != 0 || aw > 4 || !((u->cap >> 8) & (1u << aw)))
		return VTD_FR_CTX_INVALID;
	int levels = (int)aw + 2;
	unsigned width = 12 + 9 * (unsigned)levels;
	if (addr >> width)
		return VTD_FR_ADDR_WIDTH;
	uint64_t table = ce_lo & 0x000ffffffffff000ull;
	for (int level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint64_t e = rd64(u, table + 8 * ((addr >> shift) & 511));
		/* R and W (and X) clear: not present; each level must grant
		 * the access. */
		if (!(e & (write ? 2 : 1)))
			return write ? VTD_FR_WRITE : VTD_FR_READ;
		if (ADDR_RSVD(e))
			return VTD_FR_PTE_RSVD;
		bool leaf = level == 1;
		if (level > 1 && (e & 0x80)) {
			/* PS: a 1 GiB (level 3) or 2 MiB (level 2) page when
			 * SLLPS says so; reserved above that. */
			if (level > 3 || !((u->cap >> 34) & (1u << (level - 2))))
				return VTD_FR_PTE_RSVD;
			if (e & ((1ull << shift) - 1) & 0x000ffffffffff000ull)
				return VTD_FR_PTE_RSVD; /* misaligned page base */
			leaf = true;
		}
		if (leaf) {
			uint64_t mask = (1ull << shift) - 1;
			*pa = (e & 0x000ffffffffff000ull & ~mask) | (addr & mask);
			*len = (mask + 1) - (addr & mask);
			return 0;
		}
		table = e & 0x000ffffffffff000ull;
	}
	return VTD_FR_PTE_RSVD; /* not reached */
}

bool intel_iommu_translate(struct intel_iommu *u, uint16_t rid, uint64_t addr, bool write,
			   uint64_t *pa, uint64_t *len)
{
	if (!(u->gsts & VTD_GSTS_TES)) {
		*pa = addr;
		*len = 0x1000 - (addr & 0xfff);
		return true;
	}
	bool fpd;
	unsigned reason = walk(u, rid, addr, write, pa, len, &fpd);
	if (!reason)
		return true;
	if (!fpd)
		vtd_record_fault(u, rid, addr & ~0xfffull, reason, !write);
	return false;
}

/* ---- interrupt remapping ---- */

static void ir_fault(struct intel_iommu *u, uint16_t sid, unsigned index, unsigned reason)
{
	vtd_record_fault(u, sid, (uint64_t)index << 48, reason, false);
}

/* Source-id verification (§9.10, SVT/SQ). */
static bool sid_ok(uint64_t hi, uint16_t rid)
{
	uint16_t sid = (uint16_t)hi;
	switch ((hi >> 18) & 3) {
	case 1: {
		static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
		uint16_t m = sq_mask[(hi >> 16) & 3];
		return (rid & m) == (sid & m);
	}
	case 2: /* bus range: SID 15:8 start bus, 7:0 end bus */
		return (rid >> 8) >= (sid >> 8) && (rid >> 8) <= (sid & 0xff);
	default:
		return true;
	}
}

void intel_iommu_interrupt(struct intel_iommu *u, uint16_t rid, bool verify_sid, uint64_t addr,
			   uint32_t data)
{
	if (!(u->gsts & VTD_GSTS_IRES)) {
		lapic_msi(u->m, addr, data);
		return;
	}
	bool x2apic = u->irt & VTD_IRTA_EIME;
	if (!(addr & 0x10)) {
		/* Compatibility format (§5.1.2.1): passes only while CFIS is
		 * set and the table is in xAPIC mode. */
		if ((u->gsts & VTD_GSTS_CFIS) && !x2apic)
			lapic_msi(u->m, addr, data);
		else
			ir_fault(u, rid, 0, VTD_FR_IR_COMPAT);
		return;
	}
	/* Remappable format (§5.1.2.2): handle 15 in address bit 2, 14:0 in
	 * bits 19:5, SHV in bit 3 adds the data's subhandle. */
	unsigned index = (unsigned)((addr >> 5) & 0x7fff) | (unsigned)((addr >> 2) & 1) << 15;
	if (addr & 0x8)
		index = (index + (data & 0xffff)) & 0xffff;
	if (addr >> 32) {
		ir_fault(u, rid, index, VTD_FR_IR_REQ_RSVD);
		return;
	}
	if (index >= 2u << (u->irt & 0xf)) {
		ir_fault(u, rid, index, VTD_FR_IR_INDEX);
		return;
	}
	uint64_t at = (u->irt & ~0xfffull & HAW_MASK) + 16ull * index;
	uint64_t lo = rd64(u, at), hi = rd64(u, at + 8);
	bool fpd = lo & 2; /* evaluated whatever P says */
	unsigned reason = 0;
	unsigned dlm = (lo >> 5) & 7;
	/* Reserved: 14:12, IM (no posted interrupts), 31:24, in xAPIC mode
	 * destination bits 39:32 and 63:48; 127:84; SVT 11b; DLM 011b/110b. */
	uint64_t rsvd_lo =
		0x7000ull | 0x8000ull | 0xff000000ull | (x2apic ? 0 : 0xffff00ff00000000ull);
	if (!(lo & 1))
		reason = VTD_FR_IR_NP;
	else if ((lo & rsvd_lo) || (hi >> 20) || ((hi >> 18) & 3) == 3 || dlm == 3 || dlm == 6)
		reason = VTD_FR_IR_RSVD;
	else if (verify_sid && !sid_ok(hi, rid))
		reason = VTD_FR_IR_SID;
	if (reason) {
		if (!fpd)
			ir_fault(u, rid, index, reason);
		return;
	}
	uint32_t dst = (uint32_t)(lo >> 32);
	if (!x2apic)
		dst = (dst >> 8) & 0xff;
	lapic_deliver(u->m, dst, (int)((lo >> 2) & 1), (int)dlm, (int)((lo >> 16) & 0xff),
		      (lo >> 4) & 1);
}
