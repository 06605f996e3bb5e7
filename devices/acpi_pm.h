/*
 * devices/acpi_pm.h — the PIIX4 power-management I/O block (82371AB
 * datasheet §7.2 "Power management registers", ACPI 1.0 fixed hardware) and
 * the PIIX reset control register at port 0xCF9.
 *
 * PM block (64 ports at a movable base, PIIX4 PMBA; PCI function 01.3 moves
 * it with acpi_pm_set_base):
 *   +00 PM1a_EVT status (16)   +02 PM1a_EVT enable (16)  +04 PM1a_CNT (16)
 *   +08 PM_TMR (32, 24 bits valid, 3.579545 MHz)
 *   +0C GPE0 status (16)       +0E GPE0 enable (16)      (GPE0_BLK, length 4)
 *   +10..+3F processor control, P_LVL2/3, global/device registers: stored,
 *   no effect (reads of P_LVL2/P_LVL3 return 0).
 * FADT values for a board: PM1a_EVT_BLK = base, PM1_EVT_LEN = 4,
 * PM1a_CNT_BLK = base + 4, PM1_CNT_LEN = 2, PM_TMR_BLK = base + 8,
 * PM_TMR_LEN = 4, GPE0_BLK = base + 0x0C, GPE0_BLK_LEN = 4, SCI_INT = 9,
 * \_S5 = SLP_TYP 0 (PIIX4 "soft off"), and either SMI_CMD = 0 (then call
 * acpi_pm_set_sci_en(pm, true) at reset) or SMI_CMD = 0xB2 with
 * acpi_pm_map_apm(): the APM control port emulates the firmware's ACPI
 * enable/disable handshake by setting/clearing SCI_EN.
 *
 * Sleep: SLP_EN with SLP_TYP 0 (S5) ends the run: machine_request_exit(m, 0).
 * Other sleep types are logged and ignored (the guest keeps running).
 * Reset (0xCF9): writing a value with RST_CPU (bit 2) set and SYS_RST (bit
 * 1) set, e.g. 06h or 0Eh, sets m->reset_requested and PEND_EXIT on every
 * vCPU; machine_run / the frontend must act on m->reset_requested.
 */
#ifndef NESTBOX_DEVICES_ACPI_PM_H
#define NESTBOX_DEVICES_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq.h"

struct machine;
struct acpi_pm;

#define ACPI_PM_SIZE   64
#define ACPI_PM_TMR_HZ 3579545u

/* PM1 status / enable bits. */
#define ACPI_PM1_TMR    (1u << 0)
#define ACPI_PM1_GBL    (1u << 5)
#define ACPI_PM1_PWRBTN (1u << 8)
#define ACPI_PM1_RTC    (1u << 10)
#define ACPI_PM1_WAK    (1u << 15)
/* PM1 control bits. */
#define ACPI_PM1_SCI_EN (1u << 0)
#define ACPI_PM1_SLP_EN (1u << 13)

/* Create the block (enabled at base when base != 0) with its SCI line, and
 * register the reset control register at port 0xCF9 (byte access only, so
 * dword accesses at 0xCF8 stay with the PCI host bridge). */
struct acpi_pm *acpi_pm_init(struct machine *m, uint16_t base, const struct irq_line *sci);
void acpi_pm_free(struct acpi_pm *pm);
void acpi_pm_reset(struct acpi_pm *pm);
/* Move the block (PMBA) and enable/disable its decode (PMREGMISC.PMIOSE). */
void acpi_pm_set_base(struct acpi_pm *pm, uint16_t base, bool enabled);
/* Emulate the firmware's SMI_CMD handshake at port 0xB2 (APMC; 0xB3 APMS
 * is a scratch byte): writing enable_val sets SCI_EN, disable_val clears it. */
void acpi_pm_map_apm(struct acpi_pm *pm, uint8_t enable_val, uint8_t disable_val);
void acpi_pm_set_sci_en(struct acpi_pm *pm, bool on);
/* Events from the board: power button press; GPE0 status bit n. */
void acpi_pm_power_button(struct acpi_pm *pm);
void acpi_pm_set_gpe(struct acpi_pm *pm, int n);

#endif
