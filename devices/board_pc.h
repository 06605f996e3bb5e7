/*
 * devices/board_pc.h — the "pc" board (i440FX/PIIX PC): creation and direct
 * kernel boot. See board_pc.c for the wiring.
 */
#ifndef NESTBOX_DEVICES_BOARD_PC_H
#define NESTBOX_DEVICES_BOARD_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/boot.h"
#include "devices/machine.h"

/* Build a pc machine from cfg. Returns NULL with a message on stderr. */
struct machine *machine_new_pc(const struct machine_config *cfg);

/* Boot a Linux bzImage or Multiboot kernel directly (no firmware): ACPI
 * tables, e820 map, loader. initrd: a file for Linux, a comma-separated
 * module list for Multiboot. */
bool pc_boot_kernel(struct machine *m, const uint8_t *img, size_t size, const char *cmdline,
		    const char *initrd, char *err, size_t errlen);

/* Boot firmware (a SeaBIOS image) the ordinary way: reset vector, disks and
 * CD-ROMs. On error returns false with a message naming the problem. */
bool pc_boot_firmware(struct machine *m, const char *path, char *err, size_t errlen);

/* System reset of a firmware boot (see board_pc.c); false when the machine
 * booted a kernel directly (nothing to restart). */
bool pc_reset(struct machine *m);

/* Bytes typed on the host for COM1; returns how many the UART took (the
 * rest must be offered again later). */
size_t pc_serial_input(struct machine *m, const uint8_t *buf, size_t n);

#endif
