/*
 * devices/ide.h — PIIX3 IDE controller (PCI function 01.1, 8086:7010) with
 * two legacy channels, ATA disks and ATAPI CD-ROMs, and bus-master DMA
 * (SFF-8038i).
 *
 *   primary    command block 0x1f0-0x1f7, control 0x3f6, IRQ 14
 *   secondary  command block 0x170-0x177, control 0x376, IRQ 15
 *   BMIDE      PCI BAR 4, 16 I/O ports (8 per channel), assigned by firmware
 *
 * Drive index n (0-3) is channel n / 2, unit n % 2 (0 master, 1 slave), as
 * in QEMU's -drive if=ide,index=n (-hda 0, -hdb 1, -hdc/-cdrom 2, -hdd 3).
 *
 * Wiring a board does:
 *   struct ide *ide = ide_init(m, pci_bus, irq);    irq[0] = ISA IRQ 14,
 *                                                   irq[1] = ISA IRQ 15
 *   ide_attach(ide, index, &(struct ide_drive_config){ .bd = bd, .cdrom = ... });
 *   ... ide_reset(ide) on machine reset (after pci_reset), ide_free(ide) at exit
 *   (before closing the blockdevs, which the caller owns).
 * ide_init attaches to the 01.1 header pci_add_i440fx_piix created if there
 * is one (pci_find), otherwise registers the function itself. The legacy
 * ports always decode (as the PIIX3 does in compatibility mode); DMA needs
 * the Bus Master bit of the PCI command register.
 */
#ifndef NESTBOX_DEVICES_IDE_H
#define NESTBOX_DEVICES_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq.h"

struct machine;
struct pci_bus;
struct blockdev;
struct ide;

#define IDE_MAX_DRIVES 4

struct ide_drive_config {
	struct blockdev *bd; /* image; NULL = CD-ROM drive without a disc */
	bool cdrom;          /* ATAPI CD/DVD-ROM (else ATA disk, bd required) */
	const char *model;   /* IDENTIFY model string, NULL = default */
	const char *serial;  /* NULL = "NB000<index>" style default */
};

/* Create the controller. irq[0]/irq[1] are the primary/secondary lines. */
struct ide *ide_init(struct machine *m, struct pci_bus *bus, const struct irq_line irq[2]);
/* Attach a drive at index 0-3; false (with a message on stderr) if the index
 * is invalid or taken, or a disk has no image. The blockdev must outlive the
 * controller. */
bool ide_attach(struct ide *s, int index, const struct ide_drive_config *cfg);
/* Change the disc of a CD-ROM drive (NULL = eject): the guest sees a media
 * change (UNIT ATTENTION, GET EVENT STATUS NOTIFICATION). False if the drive
 * is not a CD-ROM or the guest locked the tray. */
bool ide_cd_change(struct ide *s, int index, struct blockdev *bd);
/* Hardware reset (power-on state of every drive and both channels). */
void ide_reset(struct ide *s);
void ide_free(struct ide *s);

#endif
