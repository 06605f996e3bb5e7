/*
 * devices/clock.h — virtual time and the device timer queue (design §3).
 *
 * Each vCPU's clock is icount + clock_offset nanoseconds: in deterministic
 * mode (the default for headless runs) one retired instruction is one
 * nanosecond, so a run is reproducible bit for bit; when every vCPU is
 * halted the clocks jump to the next timer deadline, so an idle guest costs
 * no host time. The machine's time is the clock of the vCPU currently
 * running (vCPUs run round-robin in slices and stay within a slice of each
 * other). The TSC, the PIT, the RTC, the LAPIC timer and the HPET all derive
 * from this one clock.
 *
 * Timers: a device embeds a struct vtimer, initialises it once with its
 * callback, and arms it with an absolute deadline. Callbacks run between
 * vCPU slices (never inside an instruction), in deadline order. A timer
 * that belongs to one vCPU (its LAPIC timer) names that vCPU as its owner
 * and fires only when the owner's clock reaches the deadline: the vCPU
 * clocks differ by up to a slice, and a LAPIC timer seen early by its own
 * CPU makes the guest re-arm it at once, again and again.
 */
#ifndef NESTBOX_DEVICES_CLOCK_H
#define NESTBOX_DEVICES_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct cpu;

struct vtimer {
	uint64_t deadline; /* ns of virtual time */
	void (*cb)(void *opaque);
	void *opaque;
	struct vtimer *next;
	const struct cpu *owner; /* NULL: machine-wide (current vCPU's clock) */
	bool armed;
};

/* Current virtual time in ns. */
uint64_t clock_now(const struct machine *m);

void vtimer_init(struct vtimer *t, void (*cb)(void *opaque), void *opaque);
/* Make t fire by owner's clock instead of the machine's. */
void vtimer_set_owner(struct vtimer *t, const struct cpu *owner);
/* (Re)arm at an absolute deadline; a deadline in the past fires at the next
 * slice boundary. */
void vtimer_arm(struct machine *m, struct vtimer *t, uint64_t deadline);
void vtimer_cancel(struct machine *m, struct vtimer *t);

/* Used by machine_run: run expired timers; return the next deadline or
 * UINT64_MAX. */
uint64_t clock_run_timers(struct machine *m);

#endif
