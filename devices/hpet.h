/*
 * devices/hpet.h — High Precision Event Timer (IA-PC HPET specification
 * 1.0a): a 64-bit main counter at 100 MHz (period 10 ns = 10,000,000 fs) on
 * the virtual clock, three comparators (all periodic- and 64-bit-capable),
 * legacy replacement routing.
 *
 * Wiring a board does, after hpet_init(m, base):
 *  - hpet_connect(): pins[24] are the IOAPIC inputs a timer may be routed to
 *    (Tn_INT_ROUTE_CNF; timers advertise pins 20-23 in Tn_INT_ROUTE_CAP);
 *    legacy[0] is "IRQ0" (PIC IRQ0 + IOAPIC pin 2) and legacy[1] is "IRQ8"
 *    (PIC IRQ8 + IOAPIC pin 8), used by timers 0/1 while LEG_RT_CNF is set;
 *    legacy_changed(opaque, on) tells the board to disconnect (on) or
 *    reconnect (off) the PIT's IRQ0 and the RTC's IRQ8 outputs.
 * Edge-triggered timers pulse their line (1 then 0); level-triggered ones
 * hold it and set Tn_INT_STS until software writes 1 to that bit.
 */
#ifndef NESTBOX_DEVICES_HPET_H
#define NESTBOX_DEVICES_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq.h"

struct machine;
struct hpet;

#define HPET_DEFAULT_BASE 0xfed00000ull
#define HPET_NTIMERS      3
#define HPET_PERIOD_FS    10000000u /* 10 ns */
#define HPET_NPINS        24

struct hpet *hpet_init(struct machine *m, uint64_t base);
void hpet_connect(struct hpet *h, const struct irq_line pins[HPET_NPINS],
		  const struct irq_line legacy[2], void (*legacy_changed)(void *opaque, bool on),
		  void *opaque);
void hpet_reset(struct hpet *h);
void hpet_free(struct hpet *h);

#endif
