/*
 * devices/intel_iommu.h — an Intel VT-d DMA- and interrupt-remapping
 * hardware unit ("intel-iommu"), as the Intel Virtualization Technology for
 * Directed I/O Architecture Specification describes it (chapter numbers
 * below are of revision 3.x).
 *
 * What is modelled (legacy translation mode only):
 *  - the register set (ch. 11) at INTEL_IOMMU_BASE, 4 KiB: VER, CAP, ECAP,
 *    GCMD/GSTS, RTADDR, CCMD, FSTS/FECTL/FEDATA/FEADDR/FEUADDR, the
 *    invalidation queue (IQH/IQT/IQA/ICS/IECTL/IEDATA/IEADDR/IEUADDR,
 *    IQERCD), IRTA, the IOTLB registers (IVA/IOTLB at IRO) and
 *    INTEL_IOMMU_NFR fault recording registers (at FRO);
 *  - root and context tables (§3.4.2, §9.1-9.3), second-level translation
 *    with 3- and 4-level tables (AW 39 and 48 bits), 2 MiB and 1 GiB pages
 *    and pass-through (TT = 10b) for requests from PCI functions
 *    (requester ID = bus:dev.fn);
 *  - primary fault logging (§7.2.1) with the fault event interrupt (§7.3)
 *    and the "fault processing disable" bits of context entries and IRTEs;
 *  - queued invalidation (§6.5.2): context-cache, IOTLB, interrupt entry
 *    cache and invalidation wait descriptors (status write, completion
 *    interrupt); errors set FSTS.IQE and stop the queue at the descriptor;
 *  - interrupt remapping (ch. 5) of remappable-format messages through the
 *    IRTE table in xAPIC mode, or x2APIC mode when the unit has EIM and
 *    software sets IRTA.EIME; source-id verification of PCI requesters
 *    (SVT/SQ); compatibility-format messages blocked unless GSTS.CFIS.
 *
 * The unit caches nothing (root/context entries, page tables and IRTEs are
 * read from memory on every request, which the specification allows), so
 * every invalidation completes at once: register-based invalidations clear
 * ICC/IVT as soon as they are written, queued ones are processed when IQT
 * is written. No device TLB, PASID, scalable mode, nested or first-level
 * translation, posted interrupts, advanced fault logging or protected
 * memory regions (the capability bits say so).
 *
 * Departure (as QEMU's model): messages from the IOxAPIC are not checked
 * against the IRTE's source-id (intel_iommu_ioapic_msi); those of PCI
 * functions are.
 *
 * Wiring (devices/board_pc.c for -machine q35): intel_iommu_init maps the
 * registers; intel_iommu_attach makes it the PCI bus's IOMMU (pci.h);
 * ioapic_set_msi_hook(io, intel_iommu_ioapic_msi, u) sends the IOAPIC's
 * messages through interrupt remapping; the DMAR ACPI table describes the
 * unit (acpi_tables.h).
 */
#ifndef NESTBOX_DEVICES_INTEL_IOMMU_H
#define NESTBOX_DEVICES_INTEL_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct pci_bus;
struct intel_iommu;

#define INTEL_IOMMU_BASE 0xfed90000ull
#define INTEL_IOMMU_SIZE 0x1000u
/* Host address width (DMAR HAW + 1) and the guest address widths. */
#define INTEL_IOMMU_HAW 48
#define INTEL_IOMMU_NFR 8 /* fault recording registers */

/* Register offsets (VT-d spec ch. 11). */
enum {
	VTD_VER = 0x00,
	VTD_CAP = 0x08,
	VTD_ECAP = 0x10,
	VTD_GCMD = 0x18,
	VTD_GSTS = 0x1c,
	VTD_RTADDR = 0x20,
	VTD_CCMD = 0x28,
	VTD_FSTS = 0x34,
	VTD_FECTL = 0x38,
	VTD_FEDATA = 0x3c,
	VTD_FEADDR = 0x40,
	VTD_FEUADDR = 0x44,
	VTD_AFLOG = 0x58,
	VTD_PMEN = 0x64,
	VTD_IQH = 0x80,
	VTD_IQT = 0x88,
	VTD_IQA = 0x90,
	VTD_ICS = 0x9c,
	VTD_IECTL = 0xa0,
	VTD_IEDATA = 0xa4,
	VTD_IEADDR = 0xa8,
	VTD_IEUADDR = 0xac,
	VTD_IQERCD = 0xb0,
	VTD_IRTA = 0xb8,
	VTD_IVA = 0xf0, /* IRO * 16 */
	VTD_IOTLB = 0xf8,
	VTD_FRCD = 0x400 /* FRO * 16, 16 bytes per record */
};

/* GCMD / GSTS bits. */
#define VTD_GCMD_TE    (1u << 31)
#define VTD_GCMD_SRTP  (1u << 30)
#define VTD_GCMD_SFL   (1u << 29)
#define VTD_GCMD_EAFL  (1u << 28)
#define VTD_GCMD_WBF   (1u << 27)
#define VTD_GCMD_QIE   (1u << 26)
#define VTD_GCMD_IRE   (1u << 25)
#define VTD_GCMD_SIRTP (1u << 24)
#define VTD_GCMD_CFI   (1u << 23)

/* FSTS bits. */
#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_IQE (1u << 4)
#define VTD_FSTS_ICE (1u << 5)
#define VTD_FSTS_ITE (1u << 6)

/* Fault reasons (appendix A). */
enum {
	VTD_FR_ROOT_NP = 0x01,
	VTD_FR_CTX_NP = 0x02,
	VTD_FR_CTX_INVALID = 0x03,
	VTD_FR_ADDR_WIDTH = 0x04,
	VTD_FR_WRITE = 0x05,
	VTD_FR_READ = 0x06,
	VTD_FR_ROOT_RSVD = 0x0a,
	VTD_FR_CTX_RSVD = 0x0b,
	VTD_FR_PTE_RSVD = 0x0c,
	VTD_FR_IR_REQ_RSVD = 0x20,
	VTD_FR_IR_INDEX = 0x21,
	VTD_FR_IR_NP = 0x22,
	VTD_FR_IR_RSVD = 0x24,
	VTD_FR_IR_COMPAT = 0x25,
	VTD_FR_IR_SID = 0x26
};

struct intel_iommu_config {
	bool intremap; /* ECAP.IR: interrupt remapping */
	bool eim;      /* ECAP.EIM: x2APIC mode (needs intremap) */
	/* Requester ID the IOxAPIC's messages carry (the DMAR device scope
	 * must say the same). */
	uint16_t ioapic_sid;
};

/* Create the unit and map its registers at base. NULL on allocation
 * failure. */
struct intel_iommu *intel_iommu_init(struct machine *m, uint64_t base,
				     const struct intel_iommu_config *cfg);
void intel_iommu_free(struct intel_iommu *u);
/* Power-on state: translation and remapping off, registers at defaults. */
void intel_iommu_reset(struct intel_iommu *u);
/* Become the IOMMU of every function of bus (pci_set_iommu). */
void intel_iommu_attach(struct intel_iommu *u, struct pci_bus *bus);

/* A DMA request of requester rid (pci_iommu_ops.translate): true with the
 * physical address and the contiguous length, false after recording the
 * fault (unless its reporting is disabled). */
bool intel_iommu_translate(struct intel_iommu *u, uint16_t rid, uint64_t addr, bool write,
			   uint64_t *pa, uint64_t *len);
/* An interrupt request (a DWORD write of data to address addr in
 * 0xFEEx_xxxx) from requester rid; verify_sid = false skips the IRTE's
 * source-id check. Delivered to the LAPICs, remapped, or blocked with a
 * fault. */
void intel_iommu_interrupt(struct intel_iommu *u, uint16_t rid, bool verify_sid, uint64_t addr,
			   uint32_t data);
/* ioapic_set_msi_hook callback: opaque = struct intel_iommu *. */
void intel_iommu_ioapic_msi(void *opaque, uint64_t addr, uint32_t data);

#endif
