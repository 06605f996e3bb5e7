/*
 * devices/intel_iommu_int.h — state shared by the intel-iommu's register
 * file (intel_iommu.c) and its remapping engines (intel_iommu_xlate.c).
 * Private to those two files.
 */
#ifndef NESTBOX_DEVICES_INTEL_IOMMU_INT_H
#define NESTBOX_DEVICES_INTEL_IOMMU_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/intel_iommu.h"

struct intel_iommu {
	struct machine *m;
	uint64_t base;
	struct intel_iommu_config cfg;
	uint64_t cap, ecap;
	uint32_t gsts;
	uint64_t rtaddr; /* RTADDR as written */
	uint64_t rta;    /* root table address latched by SRTP */
	uint64_t ccmd;
	uint32_t fsts;  /* PFO, IQE, ICE, ITE (PPF and FRI are computed) */
	uint32_t fectl; /* IM; IP */
	uint32_t fedata, feaddr, feuaddr;
	uint64_t iqh, iqt, iqa;
	uint64_t iqercd;
	uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
	uint64_t irta; /* IRTA as written */
	uint64_t irt;  /* IRTA latched by SIRTP */
	uint64_t iva, iotlb;
	uint64_t frcd[INTEL_IOMMU_NFR][2];
	unsigned next_fr;  /* where the next fault is recorded */
	unsigned first_fr; /* FSTS.FRI: first pending record */
	bool logged_size;
};

/* GSTS status bits share the command bits' positions. */
#define VTD_GSTS_TES   VTD_GCMD_TE
#define VTD_GSTS_RTPS  VTD_GCMD_SRTP
#define VTD_GSTS_QIES  VTD_GCMD_QIE
#define VTD_GSTS_IRES  VTD_GCMD_IRE
#define VTD_GSTS_IRTPS VTD_GCMD_SIRTP
#define VTD_GSTS_CFIS  VTD_GCMD_CFI

#define VTD_IRTA_EIME (1ull << 11)

/* Record a primary fault (§7.2.1): fault info fi (page address of a DMA
 * request, or interrupt index << 48), requester sid, reason, and whether
 * the request was a read (DMA only). Raises the fault event. */
void vtd_record_fault(struct intel_iommu *u, uint16_t sid, uint64_t fi, unsigned reason, bool read);

#endif
