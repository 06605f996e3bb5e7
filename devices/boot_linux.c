/*
 * devices/boot_linux.c — direct Linux boot with the 32-bit boot protocol
 * (Documentation/arch/x86/boot.rst): load the bzImage's protected-mode
 * kernel at 1 MiB, build the zero page (boot_params: setup header copied
 * from the image, e820 map, command line, initrd, ACPI RSDP address), and
 * start vCPU 0 at code32_start in flat 32-bit protected mode with ESI
 * pointing at the zero page — what a boot loader does after leaving real
 * mode. The board supplies the e820 map and the RSDP address.
 *
 * Low-memory layout:
 *   0x7000   zero page (struct boot_params, 4 KiB)
 *   0x6000   GDT (flat code 0x10 / data 0x18, as the protocol requires)
 *   0x20000  command line (up to 64 KiB)
 *   initrd   page-aligned, as high as initrd_addr_max and RAM allow
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "devices/boot.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

#define ZERO_PAGE    0x7000u
#define GDT_ADDR     0x6000u
#define CMDLINE_ADDR 0x20000u
#define CMDLINE_MAX  0xffffu

/* Offsets in struct boot_params / the setup header. */
#define BP_ACPI_RSDP        0x070
#define BP_E820_ENTRIES     0x1e8
#define BP_HDR              0x1f1
#define BP_E820_TABLE       0x2d0
#define HDR_SETUP_SECTS     0x1f1
#define HDR_BOOT_FLAG       0x1fe
#define HDR_MAGIC           0x202
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_CODE32_START    0x214
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21c
#define HDR_HEAP_END_PTR    0x224
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_CMDLINE_SIZE    0x238
#define HDR_END             0x280 /* setup header ends at 0x201 + byte at 0x201 */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

bool linux_probe(const uint8_t *img, size_t size)
{
	return size > 0x300 && rd16(img + HDR_BOOT_FLAG) == 0xaa55 &&
	       memcmp(img + HDR_MAGIC, "HdrS", 4) == 0;
}

bool linux_load(struct machine *m, const uint8_t *img, size_t size, const char *cmdline,
		const char *initrd_path, const struct e820_entry *e820, int ne820, uint64_t rsdp,
		char *err, size_t errlen)
{
	if (!linux_probe(img, size)) {
		snprintf(err, errlen, "not a Linux bzImage (no 'HdrS' setup header)");
		return false;
	}
	uint16_t version = rd16(img + HDR_VERSION);
	if (version < 0x0206) {
		snprintf(err, errlen, "boot protocol %u.%02u is too old (need 2.06 or newer)",
			 version >> 8, version & 0xff);
		return false;
	}
	if (!(img[HDR_LOADFLAGS] & 1)) {
		snprintf(err, errlen, "not a bzImage (zImage kernels are not supported)");
		return false;
	}
	unsigned setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	size_t setup_size = (size_t)(setup_sects + 1) * 512;
	if (setup_size >= size) {
		snprintf(err, errlen, "truncated bzImage (setup larger than the file)");
		return false;
	}
	uint64_t ram = mmu_ram_size(m->mmu);
	size_t kernel_size = size - setup_size;
	if (0x100000 + (uint64_t)kernel_size > ram) {
		snprintf(err, errlen, "the kernel does not fit in %llu MiB of RAM",
			 (unsigned long long)(ram >> 20));
		return false;
	}
	size_t cl_len = cmdline ? strlen(cmdline) : 0;
	uint32_t cl_max = version >= 0x0206 ? rd32(img + HDR_CMDLINE_SIZE) : 255;
	if (cl_len > cl_max || cl_len > CMDLINE_MAX) {
		snprintf(err, errlen, "command line is %zu bytes; this kernel accepts %u", cl_len,
			 cl_max);
		return false;
	}

	/* Zero page: the image's setup header, then our fields. */
	uint8_t *bp = calloc(1, 4096);
	if (!bp) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	unsigned hdr_end = 0x202 + img[0x201];
	if (hdr_end > HDR_END)
		hdr_end = HDR_END;
	memcpy(bp + BP_HDR, img + BP_HDR, hdr_end - BP_HDR);
	bp[HDR_TYPE_OF_LOADER] = 0xff; /* undefined boot loader */
	bp[HDR_LOADFLAGS] = (uint8_t)((bp[HDR_LOADFLAGS] | 0x80) & ~0x20); /* CAN_USE_HEAP */
	bp[HDR_HEAP_END_PTR] = 0x00;
	bp[HDR_HEAP_END_PTR + 1] = 0xfe; /* 0xfe00 */
	wr32(bp + HDR_CMD_LINE_PTR, CMDLINE_ADDR);
	phys_write_buf(m->mmu, CMDLINE_ADDR, cmdline ? cmdline : "", cl_len + 1);

	if (initrd_path) {
		size_t isize;
		uint8_t *idata = boot_read_file(initrd_path, &isize, err, errlen);
		if (!idata) {
			free(bp);
			return false;
		}
		uint64_t max = rd32(img + HDR_INITRD_ADDR_MAX);
		uint64_t top = ram < (1ull << 32) ? ram : (1ull << 32);
		/* Stay below the board's hole and the highest usable e820 RAM. */
		uint64_t lowram_end = 0;
		for (int i = 0; i < ne820; i++)
			if (e820[i].type == 1 && e820[i].addr + e820[i].size <= (1ull << 32) &&
			    e820[i].addr + e820[i].size > lowram_end)
				lowram_end = e820[i].addr + e820[i].size;
		if (lowram_end && lowram_end < top)
			top = lowram_end;
		if (max + 1 < top)
			top = max + 1;
		uint64_t at = (top - isize) & ~0xfffull;
		if (isize >= top || at < 0x100000 + kernel_size) {
			snprintf(err, errlen,
				 "-initrd %s (%zu bytes) does not fit below the kernel's "
				 "limit; use more -m",
				 initrd_path, isize);
			free(idata);
			free(bp);
			return false;
		}
		phys_write_buf(m->mmu, at, idata, isize);
		free(idata);
		wr32(bp + HDR_RAMDISK_IMAGE, (uint32_t)at);
		wr32(bp + HDR_RAMDISK_SIZE, (uint32_t)isize);
	}

	if (ne820 > 128)
		ne820 = 128;
	for (int i = 0; i < ne820; i++) {
		uint8_t *e = bp + BP_E820_TABLE + i * 20;
		memcpy(e, &e820[i].addr, 8);
		memcpy(e + 8, &e820[i].size, 8);
		wr32(e + 16, e820[i].type);
	}
	bp[BP_E820_ENTRIES] = (uint8_t)ne820;
	/* screen_info: an 80x25 VGA text screen, what the VGA's reset state
	 * shows (vgacon uses it when the command line asks for tty0). */
	bp[0x06] = 3;  /* orig_video_mode */
	bp[0x07] = 80; /* orig_video_cols */
	bp[0x0a] = 3;  /* orig_video_ega_bx */
	bp[0x0e] = 25; /* orig_video_lines */
	bp[0x0f] = 1;  /* orig_video_isVGA */
	bp[0x10] = 16; /* orig_video_points */
	if (rsdp && version >= 0x020e)
		memcpy(bp + BP_ACPI_RSDP, &rsdp, 8);
	phys_write_buf(m->mmu, ZERO_PAGE, bp, 4096);
	free(bp);

	phys_write_buf(m->mmu, 0x100000, img + setup_size, kernel_size);

	/* CPU: flat 32-bit protected mode, paging off, interrupts off. */
	boot_set_flat32(m, GDT_ADDR,
			rd32(img + HDR_CODE32_START) ? rd32(img + HDR_CODE32_START) : 0x100000);
	m->cpu[0]->gpr[R_SI] = ZERO_PAGE;
	return true;
}
