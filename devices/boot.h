/*
 * devices/boot.h — direct kernel boot: load a kernel image into a machine's
 * RAM and set the boot vCPU's registers as the boot protocol requires.
 */
#ifndef NESTBOX_DEVICES_BOOT_H
#define NESTBOX_DEVICES_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;

struct boot_module {
	const char *path;
	const char *cmdline;
};

/* Is this image a Multiboot 1 kernel (header in the first 8 KiB)? */
bool multiboot_probe(const uint8_t *img, size_t size);

/* Load a Multiboot 1 kernel (ELF32/ELF64 or a.out kludge) with its command
 * line and modules, build the Multiboot information structure and memory
 * map, and put vCPU 0 in the state the specification requires (32-bit flat
 * protected mode, EAX = 0x2BADB002, EBX = info). On error returns false
 * and writes a message naming the problem into err. */
bool multiboot_load(struct machine *m, const uint8_t *img, size_t size, const char *cmdline,
		    const struct boot_module *mods, int nmods, char *err, size_t errlen);

/* One entry of the BIOS-style memory map (E820 types: 1 RAM, 2 reserved,
 * 3 ACPI reclaimable, 4 ACPI NVS). */
struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

/* Is this image a Linux bzImage (setup header "HdrS")? */
bool linux_probe(const uint8_t *img, size_t size);

/* Load a bzImage with the 32-bit boot protocol: kernel at 1 MiB, zero page
 * with the setup header, the e820 map given, command line, initrd (file, may
 * be NULL) and the ACPI RSDP address (0 = let Linux scan for it); vCPU 0
 * starts at code32_start in flat protected mode with ESI = zero page. On
 * error returns false with a message naming the problem in err. */
bool linux_load(struct machine *m, const uint8_t *img, size_t size, const char *cmdline,
		const char *initrd_path, const struct e820_entry *e820, int ne820, uint64_t rsdp,
		char *err, size_t errlen);

/* Read a whole file (user input: errors are reported in err). */
uint8_t *boot_read_file(const char *path, size_t *size, char *err, size_t errlen);

/* Put vCPU 0 in flat 32-bit protected mode (paging off, interrupts off,
 * general registers zero) at entry, with a GDT at gdt_addr holding flat
 * code (selector 0x10) and data (0x18) descriptors. */
void boot_set_flat32(struct machine *m, uint32_t gdt_addr, uint32_t entry);

#endif
