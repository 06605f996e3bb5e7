/*
 * devices/port92.h — System Control Port A (port 0x92, "fast A20 and
 * reset") and the two machine-level actions it shares with the i8042
 * keyboard controller: opening/closing the A20 gate and requesting a reset.
 *
 * The A20 gate follows the last write to either control (port 0x92 bit 1
 * or the i8042 output port's bit 1), as QEMU's board does, so software
 * tested there can close the gate with either one; reading port 0x92
 * shows the gate's actual state in bit 1.
 */
#ifndef NESTBOX_DEVICES_PORT92_H
#define NESTBOX_DEVICES_PORT92_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

struct port92 {
	uint8_t val; /* bits as written (bit 1 reads the gate's state, bit 0 reads 0) */
	struct machine *m;
};

/* Register port 0x92 (the gate itself is left as cpu_reset made it). */
void port92_init(struct machine *m, struct port92 *p);

#endif
