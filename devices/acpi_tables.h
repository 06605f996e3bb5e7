/*
 * devices/acpi_tables.h — the ACPI tables of the pc board (ACPI 6.x ch. 5):
 * RSDP, RSDT/XSDT, FADT, FACS, DSDT (devices/acpi_dsdt.c), MADT, HPET.
 *
 * Two consumers:
 *  - direct kernel boot (no firmware): acpi_build() lays everything out for
 *    a fixed guest-physical base, RSDP at offset 0;
 *  - SeaBIOS: acpi_build_blobs() produces the two position-independent
 *    blobs QEMU's "BIOS linker/loader" hands to firmware through fw_cfg
 *    ("etc/acpi/rsdp", "etc/acpi/tables") plus the list of every pointer
 *    field and checksum, from which fw_cfg_add_acpi() writes
 *    "etc/table-loader" (ALLOCATE / ADD_POINTER / ADD_CHECKSUM commands).
 * acpi_build() is acpi_build_blobs() followed by the same patching the
 * firmware does, so both paths produce identical tables.
 *
 * The q35 machine (cfg->q35) gets the same tables with its chipset's
 * differences: DSDT PCI0 is a PCI Express root (PNP0A08) with the LPC bridge
 * at 1F.0 and the ECAM window reserved as a motherboard resource, _PRT
 * follows the ICH9 wiring (devices/ich9_lpc.h: GSI 16-23 in APIC mode,
 * the firmware's PIRQ routing to IRQ 10/11 in PIC mode, chosen by \_PIC);
 * FADT GPE0_BLK is PMBASE + 20h (16 bytes); an MCFG table (PCI Firmware
 * 3.0 §4.1.2) describes the ECAM window; and with an intel-iommu a DMAR
 * table (VT-d spec ch. 8) has one DRHD with INCLUDE_PCI_ALL and the IOAPIC
 * in its device scope.
 *
 * Interrupt routing the tables describe (the board must match it):
 *  - PCI INTx: PCI0._PRT maps slot s pin p (INTA=0..INTD=3) to PIRQ
 *    (s + p - 1) & 3 (devices/pci.h swizzle) and PIRQA..D to the fixed GSIs
 *    10, 10, 11, 11 — the PIIX3 route registers 60h-63h SeaBIOS programs
 *    (and which a board booting a kernel directly must program the same
 *    way, with ELCR bits 10/11 set). The ISA IRQ n of the PIIX3 reaches
 *    both the 8259 input n and IOAPIC pin n, so the one table is right in
 *    PIC and APIC mode (no _PIC method needed). Level-triggered; the
 *    polarity the OS picks does not matter (the IOAPIC ignores it).
 *  - MADT: ISA IRQ0 -> GSI 2 (edge), SCI -> GSI sci_irq (level, high).
 *  - Fixed-feature power button (FADT PWR_BUTTON flag clear): PM1 PWRBTN.
 */
#ifndef NESTBOX_DEVICES_ACPI_TABLES_H
#define NESTBOX_DEVICES_ACPI_TABLES_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_config {
	int ncpus;
	uint32_t ioapic_addr;
	uint8_t ioapic_id;
	uint32_t hpet_addr; /* 0 = no HPET table */
	uint32_t hpet_id;   /* the HPET's capabilities register, low 32 bits */
	uint16_t pm_base;   /* PIIX4 PM I/O block */
	uint16_t sci_irq;
	/* FADT SMI_CMD handshake (0 = none: ACPI is always enabled, the board
	 * sets SCI_EN at reset). With SeaBIOS use 0xB2 / 0xF1 / 0xF0 and
	 * acpi_pm_map_apm(). */
	uint16_t smi_cmd;
	uint8_t acpi_enable, acpi_disable;
	/* PCI0._CRS windows: 32-bit MMIO [pci_hole_start, pci_hole_end]
	 * (0, 0 = 0xC0000000-0xFEBFFFFF) and an optional 64-bit one. */
	uint32_t pci_hole_start, pci_hole_end;
	uint64_t pci64_start, pci64_size; /* size 0 = none */
	/* fw_cfg selector port for the QEMU0002 device node (0 = absent). */
	uint16_t fw_cfg_port;
	/* q35: ICH9/MCH chipset (see above); ECAM window for MCFG. */
	bool q35;
	uint64_t mcfg_base;
	uint8_t mcfg_end_bus;
	/* DMAR (dmar_base != 0): remapping unit registers, host address width
	 * (bits), interrupt remapping support, the IOAPIC's requester ID. */
	uint64_t dmar_base;
	uint8_t dmar_haw;
	bool dmar_intremap;
	uint16_t dmar_ioapic_sid;
};

/* Build the tables into buf (cap bytes) for guest-physical address base
 * (64-byte aligned); the RSDP is at offset 0. Returns the bytes used, or 0
 * if cap is too small. */
uint32_t acpi_build(const struct acpi_config *cfg, uint8_t *buf, uint32_t cap, uint32_t base);

/* ---- linker/loader form ---- */

enum {
	ACPI_BLOB_RSDP = 0,
	ACPI_BLOB_TABLES = 1
};
#define ACPI_RSDP_SIZE     36
#define ACPI_TABLES_ALIGN  64 /* the FACS needs 64-byte alignment */
#define ACPI_MAX_POINTERS  24
#define ACPI_MAX_CHECKSUMS 12

/* A pointer field of blob `blob` at `offset`, `size` bytes (4 or 8), that
 * holds an offset into blob `target`; the loader adds the target's address. */
struct acpi_pointer {
	uint8_t blob, size, target;
	uint32_t offset;
};
/* An 8-bit checksum byte at `offset` making bytes [start, start+len) of
 * `blob` sum to 0; apply in list order, after every pointer. */
struct acpi_checksum {
	uint8_t blob;
	uint32_t offset, start, len;
};
struct acpi_links {
	unsigned npointers, nchecksums;
	struct acpi_pointer pointer[ACPI_MAX_POINTERS];
	struct acpi_checksum checksum[ACPI_MAX_CHECKSUMS];
};

/* Build the RSDP (ACPI_RSDP_SIZE bytes) and the other tables (tables, cap
 * bytes; its first table, the FACS, must land ACPI_TABLES_ALIGN-aligned)
 * with pointer fields holding blob offsets and checksum bytes 0. Returns
 * the length of the tables blob, or 0 if cap is too small. */
uint32_t acpi_build_blobs(const struct acpi_config *cfg, uint8_t *rsdp, uint8_t *tables,
			  uint32_t cap, struct acpi_links *links);

/* Patch blobs for their final addresses as the firmware's loader would:
 * add addr[target] to every pointer, then apply the checksums.
 * blob[ACPI_BLOB_RSDP] / blob[ACPI_BLOB_TABLES] are the host copies. */
void acpi_link(const struct acpi_links *links, uint8_t *const blob[2], const uint64_t addr[2]);

#endif
