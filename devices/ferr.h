/*
 * devices/ferr.h — the PC/AT x87 error logic of the pc board family (SDM
 * Vol. 1 Appendix D.2.1.2, Figure D-1): the BSP's FERR# output sets the
 * IRQ 13 request latch; an I/O write to port F0h clears that latch and
 * asserts IGNNE# to the processor, which stays asserted until FERR# drops
 * (IGNNE# can never be active while FERR# is inactive). Ports F1h-FFh (the
 * 80287's on the PC/AT) are not decoded, as on QEMU's pc machines.
 */
#ifndef NESTBOX_DEVICES_FERR_H
#define NESTBOX_DEVICES_FERR_H

#include <stdbool.h>

#include "devices/irq.h"

struct machine;

struct pc_ferr {
	struct irq_line irq; /* ISA IRQ 13 */
	bool ferr;           /* FERR# as the processor drives it */
	bool latch;          /* the IRQ 13 request (flip-flop #1) */
	bool ignne;          /* IGNNE# to the processor (flip-flop #2) */
};

/* Register port F0h; irq is the ISA IRQ 13 line. */
void pc_ferr_init(struct machine *m, struct pc_ferr *f, struct irq_line irq);
/* Power-on state: nothing pending, IGNNE# inactive. */
void pc_ferr_reset(struct pc_ferr *f);
/* The processor's FERR# output changed (or is driven again); returns
 * IGNNE# (true = asserted). For struct cpu's ferr hook. */
bool pc_ferr_signal(struct pc_ferr *f, bool ferr);

#endif
