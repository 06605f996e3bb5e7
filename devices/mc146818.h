/*
 * devices/mc146818.h — the MC146818 real-time clock and its CMOS RAM at
 * ports 0x70 (index; bit 7 = NMI disable) and 0x71 (data).
 *
 * The clock starts at the host's wall-clock time when the device is created
 * (a fixed epoch, RTC_FIXED_EPOCH, when the machine is deterministic) and
 * advances with virtual time. The board fills the NVRAM the firmware reads
 * (memory sizes at 0x15-0x18/0x30-0x31/0x34-0x35/0x5b-0x5d, boot order, ...)
 * with mc146818_set_byte(); the standard checksum (0x10-0x2d, stored
 * big-endian at 0x2e/0x2f) follows those writes. IRQ8 is field irq.
 */
#ifndef NESTBOX_DEVICES_MC146818_H
#define NESTBOX_DEVICES_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/clock.h"
#include "devices/irq.h"

struct machine;

/* 2024-01-01 00:00:00 UTC: the clock's start in deterministic mode. */
#define RTC_FIXED_EPOCH 1704067200ll

/* Register indexes. */
#define RTC_SEC        0x00
#define RTC_SEC_ALARM  0x01
#define RTC_MIN        0x02
#define RTC_MIN_ALARM  0x03
#define RTC_HOUR       0x04
#define RTC_HOUR_ALARM 0x05
#define RTC_DOW        0x06
#define RTC_DAY        0x07
#define RTC_MONTH      0x08
#define RTC_YEAR       0x09
#define RTC_REG_A      0x0a
#define RTC_REG_B      0x0b
#define RTC_REG_C      0x0c
#define RTC_REG_D      0x0d
#define RTC_CENTURY    0x32 /* IBM PC convention */

struct mc146818 {
	uint8_t cmos[128];
	uint8_t index;           /* bits 6:0 of the last write to 0x70 */
	bool nmi_disabled;       /* bit 7 of the last write to 0x70 */
	uint64_t div_base_ns;    /* when the divider chain last left reset */
	uint64_t next_update_ns; /* next update cycle (second boundary) */
	uint64_t period_index;   /* periodic-interrupt periods counted so far */
	struct irq_line irq;     /* IRQ8 */
	bool irq_level;
	struct vtimer timer;
	struct machine *m;
};

/* Register ports 0x70-0x71; start the clock (see above). */
void mc146818_init(struct machine *m, struct mc146818 *rtc);
/* The RESET pin (system reset): clears PIE, AIE, UIE, SQWE and the flags
 * of register C (datasheet, "RESET"); time and NVRAM are kept. */
void mc146818_reset(struct mc146818 *rtc);
/* Set / read the clock as seconds since 1970-01-01 00:00:00 (the RTC holds
 * "local" time; nestbox uses UTC). */
void mc146818_set_time(struct mc146818 *rtc, int64_t t);
int64_t mc146818_get_time(struct mc146818 *rtc);
/* NVRAM access for the board (index 0-127); keeps the checksum current. */
void mc146818_set_byte(struct mc146818 *rtc, unsigned idx, uint8_t val);
uint8_t mc146818_get_byte(const struct mc146818 *rtc, unsigned idx);
/* Recompute the checksum at 0x2e/0x2f over 0x10-0x2d. */
void mc146818_update_checksum(struct mc146818 *rtc);

#endif
