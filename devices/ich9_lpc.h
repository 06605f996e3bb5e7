/*
 * devices/ich9_lpc.h — the ICH9 LPC interface bridge, PCI 00:1F.0
 * (8086:2918), of the q35 machine (Intel I/O Controller Hub 9 datasheet,
 * ch. 13.1 LPC configuration registers, 10.1 chipset configuration
 * registers, 13.8.3 power management I/O registers):
 *   40h PMBASE (bits 15:7; bit 0 reads 1) and 44h ACPI_CNTL (bit 7 ACPI_EN
 *       decodes the PM block; 2:0 SCI_IRQ_SEL: IRQ 9, 10, 11, -, 20, 21, 22,
 *       23): the PM1/PM timer registers are devices/acpi_pm.c's; this file
 *       adds the ICH9 ones at PMBASE+20h-7Fh: GPE0_STS/GPE0_EN (64 bits
 *       each; no GPE sources exist), SMI_EN (APMC_EN reads set after
 *       reset: there is no SMM, so firmware finds SMI set-up done), SMI_STS
 *       (write-1-to-clear) and the TCO block, stored;
 *   60h-63h PIRQA-D_ROUT, 68h-6Bh PIRQE-H_ROUT: bit 7 disables, 3:0 the ISA
 *       IRQ the PIRQ drives (through the board to the 8259 input and the
 *       IOAPIC pin of that IRQ, as QEMU's ICH9 does);
 *   PIRQA-H also drive IOAPIC inputs 16-23 directly (APIC mode);
 *   F0h RCBA: the 16 KiB chipset configuration block (bit 0 enable) with the
 *       D31IR-D25IR interrupt route registers (3140h-3150h); other
 *       registers are stored, GCS (3410h) keeps NO_REBOOT set (no TCO
 *       reboot: watchdog drivers back off);
 *   6Ch LPC_IBDF (00F8h, the IOxAPIC's requester ID), and the rest of
 *       40h-FFh: stored, no effect.
 *
 * INTx: PCI slot s pin p (1 = INTA) reaches PIRQ[((s + p - 1) & 3) + 4]
 * (PIRQE-H) for slots 0-24 — QEMU's q35 wiring, which SeaBIOS and the DSDT
 * assume — and for the chipset slots 25-31 the PIRQ its DxxIR field names.
 */
#ifndef NESTBOX_DEVICES_ICH9_LPC_H
#define NESTBOX_DEVICES_ICH9_LPC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq.h"

struct machine;
struct pci_bus;
struct acpi_pm;
struct ioapic;
struct ich9_lpc;

#define ICH9_LPC_DEVFN    0xf8 /* 00:1f.0 */
#define ICH9_LPC_DEVICE   0x2918
#define ICH9_PMBASE       0x40
#define ICH9_ACPI_CNTL    0x44
#define ICH9_PIRQA_ROUT   0x60
#define ICH9_PIRQE_ROUT   0x68
#define ICH9_LPC_IBDF     0x6c
#define ICH9_RCBA         0xf0
#define ICH9_RCBA_SIZE    0x4000u
#define ICH9_RCBA_DEFAULT 0xfed1c000u /* where firmware puts it */
#define ICH9_PM_SMI_EN    0x30
#define ICH9_GPE0_OFF     0x20 /* GPE0_BLK = PMBASE + 20h, 16 bytes */
#define ICH9_GPE0_LEN     16
#define ICH9_APM_ENABLE   0x02 /* FADT ACPI_ENABLE / ACPI_DISABLE values */
#define ICH9_APM_DISABLE  0x03

struct ich9_lpc_config {
	void *opaque;
	/* ISA IRQ irq (0-15) level: the board drives the 8259 input and the
	 * IOAPIC pin (levels from PIRQs and the SCI, wired-OR here). */
	void (*isa_irq)(void *opaque, int irq, int level);
	struct ioapic *ioapic; /* pins 16-23 (PIRQs) and 20-23 (SCI) */
	uint64_t lowmem;       /* RCBA is decoded only above low RAM */
};

struct ich9_lpc *ich9_lpc_init(struct machine *m, struct pci_bus *bus,
			       const struct ich9_lpc_config *cfg);
void ich9_lpc_free(struct ich9_lpc *l);
/* The SCI line to give acpi_pm_init, then attach the PM block. */
struct irq_line ich9_lpc_sci_line(struct ich9_lpc *l);
void ich9_lpc_set_pm(struct ich9_lpc *l, struct acpi_pm *pm);
/* ISA IRQ the INTx pin (1-4) of function devfn reaches now, or -1 when its
 * PIRQ is not routed (what firmware writes into Interrupt Line). */
int ich9_lpc_intx_irq(struct ich9_lpc *l, uint8_t devfn, int pin);
/* PIRQ (0 = A .. 7 = H) the INTx pin (1-4) of slot slot drives. */
int ich9_lpc_intx_pirq(struct ich9_lpc *l, int slot, int pin);
/* What firmware does before booting an OS: PM block at pm_base with ACPI
 * decode on (SCI on IRQ 9), RCBA at its usual place, PIRQA-H routed to
 * IRQ 10, 10, 11, 11, 10, 10, 11, 11 (as SeaBIOS does; the 8259's ELCR
 * must mark 10 and 11 level-triggered). */
void ich9_lpc_firmware_setup(struct ich9_lpc *l, uint16_t pm_base);

#endif
