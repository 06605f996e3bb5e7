/*
 * devices/board_q35.h — the "q35" machine: the pc board family with the
 * Intel Q35 MCH / ICH9 chipset (QEMU's -machine q35). It is built, booted
 * and reset through the pc board's functions (devices/board_pc.h), which
 * take machine_config.q35 into account; this header only names the entry
 * point. See devices/board_q35.c for the chipset's wiring.
 */
#ifndef NESTBOX_DEVICES_BOARD_Q35_H
#define NESTBOX_DEVICES_BOARD_Q35_H

#include "devices/machine.h"

/* Build a q35 machine from cfg (cfg->q35 is implied). NULL with a message
 * on stderr on failure. Boot it with pc_boot_kernel / pc_boot_firmware. */
struct machine *machine_new_q35(const struct machine_config *cfg);

#endif
