/*
 * devices/board_pc_int.h — the pc board family's state, shared by
 * devices/board_pc.c (the board: legacy devices, memory map, boot, reset)
 * and devices/board_q35.c (the Q35/ICH9 chipset variant). Private to those
 * two files.
 */
#ifndef NESTBOX_DEVICES_BOARD_PC_INT_H
#define NESTBOX_DEVICES_BOARD_PC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/acpi_tables.h"
#include "devices/boot.h"
#include "devices/debug_ports.h"
#include "devices/ferr.h"
#include "devices/i8042.h"
#include "devices/i8254.h"
#include "devices/i8259.h"
#include "devices/machine.h"
#include "devices/mc146818.h"
#include "devices/port92.h"
#include "devices/uart16550.h"

#define PM_BASE 0x600
#define SCI_IRQ 9

struct pc_board {
	struct debugcon con;
	struct i8259 pic;
	struct i8254 pit;
	struct mc146818 rtc;
	struct uart16550 com[1];
	struct i8042 kbc;
	struct port92 p92;
	struct pc_ferr ferr; /* FERR# / IRQ 13 / IGNNE# (devices/ferr.c) */
	struct lapic_sys *lapic;
	struct ioapic *ioapic;
	struct hpet *hpet;
	struct acpi_pm *pm;
	struct pci_bus *pci;
	struct fw_cfg *fwcfg;
	struct ide *ide;
	struct vga *vga;
	struct virtio_net *vnet[MAX_NICS];
	struct net_backend *nbe[MAX_NICS]; /* "none" backends (ours to free) */
	struct net_hub *hub[MAX_NICS];
	int hubid[MAX_NICS], nhubs;
	struct virtio_blk *vblk[MAX_DRIVES];
	struct blockdev *bd[MAX_DRIVES];
	char *bootorder;
	struct pc_testdev *pc_testdev;
	struct pci_testdev *pci_testdev;
	struct edu *edu;
	bool hpet_legacy;
	uint64_t lowmem, highmem;
	struct machine *m;
	uint8_t *bios; /* firmware image (NULL for direct kernel boot) */
	size_t bios_size;
	/* q35 (cfg.q35): the chipset and the IOMMU (devices/board_q35.c). */
	struct q35_mch *mch;
	struct ich9_lpc *lpc;
	struct intel_iommu *iommu;
};

/* board_pc.c: ISA IRQ n to the 8259 input n and IOAPIC pin n (IRQ0 -> pin
 * 2); the PAM hook (i440FX numbering 59h-5Fh). opaque = struct pc_board *. */
void pc_isa_irq(void *opaque, int irq, int level);
void pc_pam_write(void *opaque, unsigned reg, uint8_t val);

/* board_q35.c, called by board_pc.c when b->m->cfg.q35: */
/* Top of RAM below 4 GiB for ram bytes of RAM. */
uint64_t q35_lowmem(uint64_t ram);
/* PCI bus, MCH, LPC and the ACPI PM block (b->pci, b->pm). */
bool q35_chipset_init(struct pc_board *b);
/* The intel-iommu, after every PCI function exists. */
bool q35_iommu_init(struct pc_board *b);
/* ACPI description of the chipset and the IOMMU. */
void q35_acpi_config(const struct pc_board *b, struct acpi_config *ac);
/* What firmware does before a directly booted kernel runs. */
void q35_firmware_setup(struct pc_board *b);
/* The chipset's reserved ranges for the e820 map; returns the count. */
int q35_e820(const struct pc_board *b, struct e820_entry *e);
void q35_reset(struct pc_board *b);
void q35_free(struct pc_board *b);

#endif
