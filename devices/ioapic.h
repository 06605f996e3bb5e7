/*
 * devices/ioapic.h — the I/O APIC (Intel 82093AA datasheet, with the
 * version-20h EOI register of later chipsets): 24 redirection entries that
 * turn pin levels into interrupt messages for the local APICs (lapic.h).
 *
 * Wiring a board does:
 *  - ioapic_init(m, base, id) maps the register window (IOREGSEL at base,
 *    IOWIN at base + 10h, EOI at base + 40h; 4 KiB);
 *  - device outputs become irq_line {ioapic_set_irq, io, pin}; an input is
 *    "asserted" when its level is nonzero (the polarity bit is stored and
 *    read back but not applied: board devices always drive active-high);
 *  - lapic_set_eoi_hook(lapic_sys, ioapic_eoi, io) so EOIs of
 *    level-triggered vectors clear Remote IRR.
 */
#ifndef NESTBOX_DEVICES_IOAPIC_H
#define NESTBOX_DEVICES_IOAPIC_H

#include <stdint.h>

struct machine;
struct ioapic;

#define IOAPIC_DEFAULT_BASE 0xfec00000ull
#define IOAPIC_NPINS        24

/* Create and map an IOAPIC with the given APIC ID (bits 3:0 used). */
struct ioapic *ioapic_init(struct machine *m, uint64_t base, uint8_t id);
void ioapic_free(struct ioapic *io);
/* Power-on state: every entry masked, ID kept as configured. */
void ioapic_reset(struct ioapic *io);
/* irq_line callback: opaque = struct ioapic *, n = pin (0-23). */
void ioapic_set_irq(void *opaque, int pin, int level);
/* EOI of a level-triggered vector (LAPIC broadcast); opaque = struct ioapic *. */
void ioapic_eoi(void *opaque, int vector);
/* Send every interrupt as the message the chipset's IOxAPIC writes to
 * 0xFEEx_xxxx (address bits 19:4 = entry bits 63:48, bit 2 = destination
 * mode, bit 3 = lowest-priority hint; data = vector, delivery mode, trigger
 * and assert bits) through fn instead of straight to the LAPICs, so an
 * interrupt-remapping unit sees it (VT-d spec §5.1.5.1: an entry in
 * remappable format carries the interrupt index there); bits 55:48 of the
 * entries become writable for that. NULL = direct (82093AA layout). */
void ioapic_set_msi_hook(struct ioapic *io, void (*fn)(void *opaque, uint64_t addr, uint32_t data),
			 void *opaque);
/* Read a redirection entry (tests, debugging). */
uint64_t ioapic_peek_entry(const struct ioapic *io, int pin);

#endif
