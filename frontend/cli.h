/*
 * frontend/cli.h — the command line: a compatible subset of
 * qemu-system-x86_64's options plus the headless runner's own (--timeout,
 * --expect, ...). See docs/cli.md for the reference.
 */
#ifndef NESTBOX_FRONTEND_CLI_H
#define NESTBOX_FRONTEND_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/machine.h"
#include "frontend/cli_net.h"

#define CLI_MAX_MODULES 16

struct cli_options {
	uint64_t ram_size;
	int smp;
	const char *cpu;
	const char *machine; /* board: "bare" (default for now) or "pc" */
	const char *kernel;
	const char *append;
	const char *initrd; /* comma-separated list for Multiboot modules */
	const char *bios;
	const char *debugcon; /* "stdio", "file:PATH", "none" */
	const char *serial;
	bool no_reboot;
	bool nographic;
	bool mem_lock; /* -overcommit mem-lock=on: guest RAM locked in host memory */
	uint16_t debug_exit_base, debug_exit_size;
	/* QEMU's kvm-unit-tests devices (devices/testdev.h); the pc board
	 * creates them when asked. */
	bool pc_testdev;  /* -device pc-testdev (ISA ports 0xe0.., iomem) */
	bool pci_testdev; /* -device pci-testdev (PCI 1b36:0005) */
	bool no_pit;      /* -machine pit=off: no i8254 on the pc board */
	/* -machine q35: the pc board family ("pc" in machine) with the Q35/ICH9
	 * chipset; -device intel-iommu (q35 only) and -device edu. */
	bool q35;
	bool intel_iommu, iommu_intremap, iommu_eim;
	bool edu;
	uint64_t edu_dma_mask; /* 0 = edu's default */
	/* runner */
	double timeout;       /* host seconds, 0 = none */
	double guest_timeout; /* guest seconds of virtual time, 0 = none */
	uint64_t max_insns;   /* 0 = none */
	const char *expect;   /* regex that must appear on the console */
	const char *fail_on;  /* regex that fails the run */
	const char *log;      /* console log file */
	bool quiet;           /* no summary line (the default unless a runner
			       * option or --summary is given, as qemu prints
			       * nothing on stderr) */
	/* disks and boot order (frontend/cli_drive.c) */
	struct drive_config drives[MAX_DRIVES];
	int ndrives;
	const char *boot_order;
	bool boot_menu;
	bool snapshot;      /* -snapshot: every disk in snapshot mode */
	struct cli_net net; /* -netdev, -nic, -net, NIC -device (cli_net.c) */
	bool no_vga;        /* -vga none */
	int realtime;       /* --realtime 1, --deterministic 0, -1 default
			     * (realtime when stdin is a terminal for COM1) */
};

/* -drive, -hda..-hdd, -cdrom, -boot: 0 parsed, -1 error (printed), 1 not
 * one of these options. */
int cli_parse_drive_opt(const char *opt, const char *arg, struct cli_options *o);

/* Parse argv. Returns 0 to run, 1 when it printed help and the caller should
 * exit 0, -1 after printing an error (exit 2). */
int cli_parse(int argc, char **argv, struct cli_options *o);

#endif
