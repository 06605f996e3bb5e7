/*
 * devices/fw_cfg.h — QEMU's firmware configuration device (fw_cfg), in the
 * format of QEMU's docs/specs/fw_cfg.rst, so SeaBIOS and kvm-unit-tests
 * find the machine's configuration where they look for it.
 *
 * I/O interface (x86):
 *   base+0 (0x510) selector, 16-bit write: key of the item to read; the
 *          data offset restarts at 0. Bit 14 ("write channel") is ignored.
 *   base+1 (0x511) data: each byte read returns the next byte of the
 *          item (0 past its end); wider reads return consecutive bytes.
 *          Writes are ignored (as in QEMU >= 2.4). Reads at base+0 also
 *          return data bytes, byte writes at base+0 are data writes.
 *   base+4 (0x514) DMA address, 64-bit big-endian, written as two 32-bit
 *          halves (high at +4, low at +8) or one 32-bit write at +8; the
 *          write of the low half starts the operation at that guest-physical
 *          address: struct { be32 control; be32 length; be64 address; }.
 *          control bits: 0 error, 1 read, 2 skip, 3 select (key in bits
 *          31:16), 4 write. On completion control is written back as 0 (or
 *          just the error bit). Reading the register returns "QEMU CFG".
 *
 * Items: fixed keys below 0x20 (FW_CFG_*), arch-specific keys from 0x8000,
 * and named files (keys 0x20 + n) listed by the big-endian directory at
 * FW_CFG_FILE_DIR. Integers in fixed items are little-endian.
 *
 * What SeaBIOS 1.16 needs (src/fw/paravirt.c): PCI 00.0 subsystem IDs
 * 1af4:1100 (else it does not even look for fw_cfg), signature and FW_CFG_ID
 * (bit 1 = DMA), NB_CPUS (it waits for that many CPUs to answer the SIPI),
 * MAX_CPUS, NUMA, BOOT_MENU, NOGRAPHIC, IRQ0_OVERRIDE, "etc/e820",
 * optionally "bootorder", "etc/boot-fail-wait", "etc/boot-menu-wait", and
 * the ACPI linker/loader files (fw_cfg_add_acpi). kvm-unit-tests reads
 * NB_CPUS (u16) and RAM_SIZE (u64), and KERNEL_DATA's first 8 bytes as a
 * memory limit (0 = none: leave key 0x11 absent for Multiboot boots).
 */
#ifndef NESTBOX_DEVICES_FW_CFG_H
#define NESTBOX_DEVICES_FW_CFG_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct fw_cfg;
struct acpi_config;

#define FW_CFG_IO_BASE 0x510 /* selector 0x510, data 0x511, DMA 0x514-0x51b */
#define FW_CFG_IO_SIZE 12

enum fw_cfg_key {
	FW_CFG_SIGNATURE = 0x00,
	FW_CFG_ID = 0x01,
	FW_CFG_UUID = 0x02,
	FW_CFG_RAM_SIZE = 0x03,
	FW_CFG_NOGRAPHIC = 0x04,
	FW_CFG_NB_CPUS = 0x05,
	FW_CFG_MACHINE_ID = 0x06,
	FW_CFG_KERNEL_ADDR = 0x07,
	FW_CFG_KERNEL_SIZE = 0x08,
	FW_CFG_KERNEL_CMDLINE = 0x09,
	FW_CFG_INITRD_ADDR = 0x0a,
	FW_CFG_INITRD_SIZE = 0x0b,
	FW_CFG_BOOT_DEVICE = 0x0c,
	FW_CFG_NUMA = 0x0d,
	FW_CFG_BOOT_MENU = 0x0e,
	FW_CFG_MAX_CPUS = 0x0f,
	FW_CFG_KERNEL_ENTRY = 0x10,
	FW_CFG_KERNEL_DATA = 0x11,
	FW_CFG_INITRD_DATA = 0x12,
	FW_CFG_CMDLINE_ADDR = 0x13,
	FW_CFG_CMDLINE_SIZE = 0x14,
	FW_CFG_CMDLINE_DATA = 0x15,
	FW_CFG_SETUP_ADDR = 0x16,
	FW_CFG_SETUP_SIZE = 0x17,
	FW_CFG_SETUP_DATA = 0x18,
	FW_CFG_FILE_DIR = 0x19,
	FW_CFG_FILE_FIRST = 0x20,
	FW_CFG_WRITE_CHANNEL = 0x4000,
	FW_CFG_ARCH_LOCAL = 0x8000,
	FW_CFG_ACPI_TABLES = 0x8000,
	FW_CFG_SMBIOS_ENTRIES = 0x8001,
	FW_CFG_IRQ0_OVERRIDE = 0x8002,
	FW_CFG_E820_TABLE = 0x8003,
};

/* FW_CFG_ID feature bits. */
#define FW_CFG_VERSION     0x01
#define FW_CFG_VERSION_DMA 0x02

/* DMA control bits. */
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10

#define FW_CFG_MAX_FILE_PATH  56
#define FW_CFG_DIR_ENTRY_SIZE 64 /* be32 size, be16 select, u16 0, name[56] */

/* e820 entry as in "etc/e820" (packed, little-endian, 20 bytes). */
#define FW_CFG_E820_RAM      1
#define FW_CFG_E820_RESERVED 2

/* Create the device with its signature, FW_CFG_ID (traditional + DMA) and
 * an empty directory, and claim ports base .. base + 11. */
struct fw_cfg *fw_cfg_init(struct machine *m, uint16_t base);
/* Selector 0, offset 0, DMA address 0 (items are kept). */
void fw_cfg_reset(struct fw_cfg *f);
void fw_cfg_free(struct fw_cfg *f);

/* Add or replace fixed item `key` (< 0x20 or >= 0x8000) with a copy of
 * data. Returns false on a bad key or out of memory. */
bool fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len);
bool fw_cfg_add_i16(struct fw_cfg *f, uint16_t key, uint16_t v);
bool fw_cfg_add_i32(struct fw_cfg *f, uint16_t key, uint32_t v);
bool fw_cfg_add_i64(struct fw_cfg *f, uint16_t key, uint64_t v);
/* Add (or replace the data of) the named file; returns its key or -1. A
 * writable file accepts DMA writes inside its current size. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len);
int fw_cfg_add_file_rw(struct fw_cfg *f, const char *name, const void *data, uint32_t len,
		       bool writable);
/* A file holding a little-endian integer of `size` bytes (1, 2, 4, 8):
 * SeaBIOS's romfile_loadint format. */
int fw_cfg_add_file_int(struct fw_cfg *f, const char *name, uint64_t v, unsigned size);
/* Current contents of an item / file (NULL if absent). */
const uint8_t *fw_cfg_item(const struct fw_cfg *f, uint16_t key, uint32_t *len);
const uint8_t *fw_cfg_file(const struct fw_cfg *f, const char *name, uint32_t *len);

/* The standard items of the pc board, as QEMU gives them. */
struct fw_cfg_pc_config {
	uint64_t ram_below_4g;   /* RAM at 0 */
	uint64_t ram_above_4g;   /* RAM at 4 GiB */
	int ncpus, max_cpus;     /* max_cpus 0 = ncpus */
	bool boot_menu;          /* SeaBIOS "Press ESC for boot menu" */
	uint32_t boot_menu_wait; /* ms, 0 = SeaBIOS default (2.5 s) */
	int32_t boot_fail_wait;  /* ms before retrying a failed boot, <0 = default 60 s */
	const char *bootorder;   /* "bootorder" file text, NULL = none */
	bool nographic;          /* SeaBIOS console on COM1 (sercon) */
};
/* RAM_SIZE, NB_CPUS, MAX_CPUS, NUMA (no nodes), BOOT_MENU, NOGRAPHIC,
 * IRQ0_OVERRIDE (1), an empty ACPI_TABLES/SMBIOS_ENTRIES list, "etc/e820"
 * (the RAM ranges), and the optional boot files. */
bool fw_cfg_add_pc_items(struct fw_cfg *f, const struct fw_cfg_pc_config *c);

/* Build the ACPI tables (devices/acpi_tables.h) and add "etc/acpi/rsdp",
 * "etc/acpi/tables" and "etc/table-loader" (BIOS linker/loader script:
 * ALLOCATE rsdp in the F-segment, tables in high memory, ADD_POINTER for
 * every pointer field, ADD_CHECKSUM for every checksum). */
bool fw_cfg_add_acpi(struct fw_cfg *f, const struct acpi_config *cfg);

#endif
