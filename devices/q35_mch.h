/*
 * devices/q35_mch.h — the Intel Q35 memory controller hub's host bridge,
 * PCI 00:00.0 (8086:29C0), as SeaBIOS, Linux and QEMU's q35 machine know it
 * (Intel 3 Series Express Chipset Family datasheet, D0:F0 registers):
 *   60h PCIEXBAR: PCI Express enhanced configuration (ECAM) window: bit 0
 *       enable, 2:1 length (00b 256 MiB = buses 0-255, 01b 128 MiB, 10b
 *       64 MiB), base in 35:28 (35:27, 35:26 for the shorter ones);
 *   90h-96h PAM0-PAM6: 0xC0000-0xFFFFF read/write enables, the i440FX
 *       layout (PAM0 bits 5:4 = 0xF0000) at another offset;
 *   9Dh SMRAM, 9Eh ESMRAMC: stored, D_LCK locks them (no SMM is emulated:
 *       0xA0000-0xBFFFF stays the VGA window, TSEG is never carved out);
 *   A2h TOUUD, B0h TOLUD: the RAM layout, read-only;
 *   40h EPBAR, 48h MCHBAR, 68h DMIBAR and the rest of 40h-FFh: stored, no
 *       effect; subsystem 1af4:1100 (SeaBIOS's "QEMU" check).
 * The ECAM window decodes to pci_ecam_read/write (devices/pci.h); it is
 * mapped only where it hides nothing: between the top of low RAM and
 * 0xFEC00000, or above the high RAM (a window elsewhere is logged and not
 * decoded). PAM changes go to the board's i440FX-numbered PAM hook (59h-5Fh)
 * so one shadowing routine serves both chipsets.
 */
#ifndef NESTBOX_DEVICES_Q35_MCH_H
#define NESTBOX_DEVICES_Q35_MCH_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct pci_bus;
struct q35_mch;

#define Q35_MCH_DEVICE 0x29c0
#define Q35_PCIEXBAR   0x60
#define Q35_PAM0       0x90
#define Q35_SMRAM      0x9d
#define Q35_ESMRAMC    0x9e
#define Q35_TOUUD      0xa2
#define Q35_TOLUD      0xb0
#define Q35_ECAM_BASE  0xb0000000ull /* where firmware puts it (QEMU, SeaBIOS) */
#define Q35_ECAM_SIZE  0x10000000ull /* 256 buses */

struct q35_mch_config {
	uint64_t lowmem, highmem; /* RAM below 4 GiB, RAM from 4 GiB */
	void *opaque;
	/* reg in i440FX numbering (0x59-0x5F), val the PAM byte. */
	void (*pam)(void *opaque, unsigned reg, uint8_t val);
};

struct q35_mch *q35_mch_init(struct machine *m, struct pci_bus *bus,
			     const struct q35_mch_config *cfg);
void q35_mch_free(struct q35_mch *h);
/* Current ECAM window (size 0 = disabled or not decoded). */
void q35_mch_ecam(const struct q35_mch *h, uint64_t *base, uint64_t *size);

#endif
