/*
 * devices/machine.h — struct machine owns everything of one emulated PC:
 * address space, I/O space, vCPUs, devices, the virtual clock. No global
 * mutable state lives anywhere else, so tests may create several machines.
 *
 * Boards (devices/board_*.c) build a machine from a machine_config; the
 * "bare" board has only RAM, the debug console (port 0xe9) and, when asked,
 * isa-debug-exit — enough for the CPU's own guest tests and the differential
 * tests. The "pc" board adds the PC platform.
 */
#ifndef NESTBOX_DEVICES_MACHINE_H
#define NESTBOX_DEVICES_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define MAX_CPUS 64

struct cpu;
struct mmu;
struct ioport_space;
struct block_cache;
struct cpu_model;

#define MAX_DRIVES 8

/* A disk or CD-ROM the user attached (-drive, -hda, -cdrom). */
struct drive_config {
	const char *file;
	bool virtio; /* if=virtio, else IDE */
	bool cdrom;  /* media=cdrom */
	int index;   /* IDE position 0-3 (primary master .. secondary slave) */
	bool readonly;
	bool snapshot; /* writes go to memory; the file is never modified */
};

#define MAX_NICS 4

struct net_backend;

/* A virtio-net NIC (-device virtio-net-pci,netdev=ID) and its backend:
 * one the caller made (backend, owned by the caller and outliving the
 * machine), else a port of the board's hub `hubid`, else "none" (frames
 * dropped). */
struct nic_config {
	struct net_backend *backend;
	bool hub;
	int hubid;
	uint8_t mac[6];
};

struct machine_config {
	uint64_t ram_size; /* bytes */
	int ncpus;
	const char *cpu_model; /* "intel", "amd", "max" plus +feat/-feat list */
	bool deterministic;    /* clock from instruction count (default) */
	/* When every vCPU is halted, machine_run returns MSTOP_IDLE instead of
	 * jumping to the next deadline: the caller lets host time pass first
	 * (interactive use: a guest's keyboard timeout lasts as long as it
	 * says), then calls machine_idle_advance. */
	bool realtime_idle;
	/* isa-debug-exit: iobase/iosize, 0 size = absent */
	uint16_t debug_exit_base;
	uint16_t debug_exit_size;
	FILE *debugcon; /* port 0xe9 output, NULL = none */
	FILE *serial;   /* COM1 output, NULL = none */
	/* pc board: firmware, boot order, disks, test devices. */
	const char *bios;        /* NULL = SeaBIOS from Debian's seabios package */
	const char *kernel_path; /* -kernel (Multiboot passes it as argv[0]) */
	const char *boot_order;  /* -boot order=... ("c", "d", "cd", ...) or NULL */
	bool boot_menu;
	bool nographic;
	struct drive_config drives[MAX_DRIVES];
	int ndrives;
	bool pc_testdev, pci_testdev;
	bool no_vga; /* -vga none */
	bool no_pit; /* -machine pit=off */
	/* pc board family: the Q35/ICH9 chipset instead of the i440FX/PIIX
	 * (-machine q35); an intel-iommu (q35 only: interrupt remapping, x2APIC
	 * mode); QEMU's edu device (edu_dma_mask 0 = its default). */
	bool q35;
	bool intel_iommu, iommu_intremap, iommu_eim;
	bool edu;
	uint64_t edu_dma_mask;
	struct nic_config nics[MAX_NICS];
	int nnics;
	/* Every byte the guest writes to its consoles (debugcon, COM1) is also
	 * passed here, for the runner's log and --expect/--fail-on. */
	void (*console_tee)(void *opaque, uint8_t byte);
	void *console_opaque;      /* for COM1's bytes */
	void *debugcon_tee_opaque; /* for debugcon's (NULL: console_opaque) */
};

struct machine {
	struct machine_config cfg;
	struct mmu *mmu;
	struct ioport_space *io;
	struct cpu *cpu[MAX_CPUS];
	int ncpus;
	/* Set by devices to end the run (isa-debug-exit, ACPI power-off, reset
	 * with -no-reboot, triple fault); exit_code is the process status. */
	bool exit_requested;
	int exit_code;
	bool reset_requested;
	struct cpu_model *model;    /* shared by all vCPUs */
	struct vtimer *timers;      /* armed timers, sorted by deadline */
	int current_cpu;            /* vCPU whose slice is running */
	struct block_cache *bcache; /* decoded code, shared by all vCPUs */
	/* Board-private state and the board's destructor (frees devices, cancels
	 * their timers) called first by machine_free. */
	void *board;
	void (*board_free)(struct machine *m);
};

/* Why machine_run returned. */
enum machine_stop {
	MSTOP_EXIT,     /* a device ended the run (exit_code is set) */
	MSTOP_SHUTDOWN, /* triple fault (and no reset wanted) */
	MSTOP_HALTED,   /* every vCPU halted with nothing that can wake it */
	MSTOP_LIMIT,    /* instruction limit reached, or long idle (all vCPUs halted) */
	MSTOP_RESET,    /* the guest asked for a reset (0xCF9, i8042, port 92) */
	MSTOP_IDLE      /* realtime_idle: every vCPU halted (machine_idle_gap) */
};
/* Run the vCPUs round-robin until something stops the machine or
 * max_insns instructions (summed over vCPUs; 0 = no limit) have run. */
enum machine_stop machine_run(struct machine *m, uint64_t max_insns);
/* After MSTOP_IDLE: virtual ns until the next timer (UINT64_MAX: none), and
 * letting ns of idle time pass (at most up to that timer). */
uint64_t machine_idle_gap(const struct machine *m);
void machine_idle_advance(struct machine *m, uint64_t ns);

/* Common part of every board: address space, I/O space, CPU model, vCPUs
 * (nothing mapped yet). Returns NULL with a message on stderr. */
struct machine *machine_alloc(const struct machine_config *cfg);

/* Build a bare machine (RAM mapped at 0, debugcon, isa-debug-exit).
 * Returns NULL with a message on stderr on failure. */
struct machine *machine_new_bare(const struct machine_config *cfg);
void machine_free(struct machine *m);
/* Open (true) or close the A20 gate on every vCPU: a20_mask, TLB and
 * decoded code flushed when it changes. */
void machine_set_a20(struct machine *m, bool enabled);
/* Ask for a system reset: sets m->reset_requested and stops the vCPUs like
 * machine_request_exit (machine_run checks reset_requested first and
 * returns MSTOP_RESET). */
void machine_request_reset(struct machine *m);

/* Ask every vCPU to leave cpu_run soon. */
void machine_request_exit(struct machine *m, int code);

#endif
