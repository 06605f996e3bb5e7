/*
 * devices/debug_ports.h — the two test ports every test guest uses:
 *   debugcon (port 0xe9 by default): bytes written appear on a host stream;
 *            reads return 0xe9 (Bochs/QEMU convention, lets guests detect it)
 *   isa-debug-exit (iobase/iosize): a write of v ends the run with process
 *            status (v << 1) | 1, exactly as QEMU's device does.
 */
#ifndef NESTBOX_DEVICES_DEBUG_PORTS_H
#define NESTBOX_DEVICES_DEBUG_PORTS_H

#include <stdint.h>
#include <stdio.h>

struct machine;

struct debugcon {
	FILE *out;
	/* Optional tee: every byte is also passed here (runner's log/--expect). */
	void (*tee)(void *opaque, uint8_t byte);
	void *tee_opaque;
};

void debugcon_init(struct machine *m, struct debugcon *d, uint16_t port, FILE *out);
void debug_exit_init(struct machine *m, uint16_t base, uint16_t size);

#endif
