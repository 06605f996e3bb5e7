/*
 * devices/boot_multiboot.c — Multiboot 1 loader (the Multiboot Specification
 * 0.6.96), the way kvm-unit-tests, Xen and the project's own test guests are
 * started: ELF32/ELF64 program headers or the a.out kludge (header flag 16),
 * modules placed page-aligned after the kernel, info structure with memory
 * bounds, command line, modules, memory map and boot loader name.
 *
 * Low-memory layout used (below any Multiboot kernel, which loads >= 1 MiB):
 *   0x6000  GDT (null, -, 32-bit flat code 0x10, flat data 0x18)
 *   0x7000  Multiboot info, then its strings, memory map and module list
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/x87/x87.h"
#include "devices/boot.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

#define MB_MAGIC       0x1BADB002u
#define MB_BOOT_MAGIC  0x2BADB002u
#define MB_AOUT_KLUDGE (1u << 16)
#define GDT_ADDR       0x6000u
#define INFO_ADDR      0x7000u
#define INFO_END       0x9f000u

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static long find_header(const uint8_t *img, size_t size)
{
	for (size_t off = 0; off + 12 <= size && off < 8192; off += 4) {
		if (rd32(img + off) == MB_MAGIC &&
		    (uint32_t)(rd32(img + off) + rd32(img + off + 4) + rd32(img + off + 8)) == 0)
			return (long)off;
	}
	return -1;
}

bool multiboot_probe(const uint8_t *img, size_t size)
{
	return find_header(img, size) >= 0;
}

/* Copy into guest RAM after checking the range is RAM. */
static bool put(struct machine *m, uint64_t gpa, const void *src, size_t n, char *err,
		size_t errlen)
{
	uint64_t ram = mmu_ram_size(m->mmu);
	if (gpa > ram || n > ram - gpa) {
		snprintf(err, errlen,
			 "the kernel wants memory at 0x%llx-0x%llx, beyond the %llu MiB of RAM "
			 "(use a larger -m)",
			 (unsigned long long)gpa, (unsigned long long)(gpa + n),
			 (unsigned long long)(ram >> 20));
		return false;
	}
	phys_write_buf(m->mmu, gpa, src, n);
	return true;
}

static bool zero(struct machine *m, uint64_t gpa, size_t n, char *err, size_t errlen)
{
	static const uint8_t z[4096];
	while (n) {
		size_t k = n < sizeof(z) ? n : sizeof(z);
		if (!put(m, gpa, z, k, err, errlen))
			return false;
		gpa += k;
		n -= k;
	}
	return true;
}

/*
 * What the PC BIOS under a Multiboot loader (GRUB, QEMU's option ROM) leaves
 * behind, for kernels that return to real mode or enable interrupts before
 * programming the platform themselves (kvm-unit-tests' realmode test halts
 * with IF = 1 and relies on the timer tick to wake it):
 *   - the 8259s initialised (ICW1-4) with the PC vector bases 08h and 70h,
 *     every IRQ masked except IRQ0 (timer) and the cascade;
 *   - PIT channel 0 in mode 3 with count 0 (65536): the 18.2 Hz tick;
 *   - an interrupt vector table whose hardware-IRQ vectors send EOI and
 *     return, every other vector a bare IRET, the code in the reserved BIOS
 *     area (0xF0000, which the memory map below marks reserved).
 * On a board without these devices the port writes go nowhere.
 */
#define BIOS_STUB_SEG 0xf000u
#define BIOS_STUB_OFF 0xff00u /* IRET, then the master and slave EOI stubs */

static void bios_state(struct machine *m)
{
	static const uint8_t stubs[] = {
		0xcf,                                     /* +0: iret */
		0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf, /* +1: EOI to master, iret */
		0x50, 0xb0, 0x20, 0xe6, 0xa0, 0xe6, 0x20, /* +8: EOI to slave and */
		0x58, 0xcf,                               /*     master, iret */
	};
	phys_write_buf(m->mmu, BIOS_STUB_SEG * 16 + BIOS_STUB_OFF, stubs, sizeof(stubs));
	uint32_t ivt[256];
	for (unsigned v = 0; v < 256; v++) {
		unsigned off = v >= 0x08 && v < 0x10 ? 1 : v >= 0x70 && v < 0x78 ? 8 : 0;
		ivt[v] = BIOS_STUB_SEG << 16 | (BIOS_STUB_OFF + off);
	}
	phys_write_buf(m->mmu, 0, ivt, sizeof(ivt));

	static const uint8_t pic[][2] = {
		{ 0x20, 0x11 }, { 0xa0, 0x11 }, /* ICW1: edge, cascade, ICW4 follows */
		{ 0x21, 0x08 }, { 0xa1, 0x70 }, /* ICW2: vector bases */
		{ 0x21, 0x04 }, { 0xa1, 0x02 }, /* ICW3: slave on IR2 */
		{ 0x21, 0x01 }, { 0xa1, 0x01 }, /* ICW4: 8086 mode */
		{ 0x21, 0xfa }, { 0xa1, 0xff }, /* OCW1: IRQ0 and the cascade open */
		{ 0x43, 0x36 }, { 0x40, 0x00 }, { 0x40, 0x00 }, /* PIT ch0 mode 3 */
	};
	for (size_t i = 0; i < sizeof(pic) / sizeof(pic[0]); i++)
		ioport_write(m->io, pic[i][0], 1, pic[i][1]);
}

/* Load ELF program headers; returns entry point and highest loaded address. */
static bool load_elf(struct machine *m, const uint8_t *img, size_t size, uint32_t *entry,
		     uint64_t *end, char *err, size_t errlen)
{
	bool is64 = img[4] == 2;
	if (size < (is64 ? 64u : 52u) || img[5] != 1) {
		snprintf(err, errlen, "kernel: not a little-endian ELF image");
		return false;
	}
	uint64_t phoff = is64 ? rd64(img + 32) : rd32(img + 28);
	unsigned phentsize = rd16(img + (is64 ? 54 : 42));
	unsigned phnum = rd16(img + (is64 ? 56 : 44));
	*entry = (uint32_t)(is64 ? rd64(img + 24) : rd32(img + 24));
	*end = 0;
	for (unsigned i = 0; i < phnum; i++) {
		uint64_t ph = phoff + (uint64_t)i * phentsize;
		if (ph + (is64 ? 56u : 32u) > size) {
			snprintf(err, errlen, "kernel: truncated ELF program headers");
			return false;
		}
		const uint8_t *p = img + ph;
		uint32_t type = rd32(p);
		if (type != 1) /* PT_LOAD */
			continue;
		uint64_t off = is64 ? rd64(p + 8) : rd32(p + 4);
		uint64_t paddr = is64 ? rd64(p + 24) : rd32(p + 12);
		uint64_t filesz = is64 ? rd64(p + 32) : rd32(p + 16);
		uint64_t memsz = is64 ? rd64(p + 40) : rd32(p + 20);
		if (off > size || filesz > size - off || filesz > memsz) {
			snprintf(err, errlen, "kernel: ELF segment %u lies outside the file", i);
			return false;
		}
		if (!put(m, paddr, img + off, filesz, err, errlen) ||
		    !zero(m, paddr + filesz, memsz - filesz, err, errlen))
			return false;
		if (paddr + memsz > *end)
			*end = paddr + memsz;
	}
	return true;
}

struct info_writer {
	struct machine *m;
	uint32_t next; /* next free byte after the info structure */
};

static uint32_t info_alloc(struct info_writer *w, const void *data, size_t n)
{
	uint32_t at = (w->next + 7) & ~7u;
	if (at + n > INFO_END)
		return 0;
	phys_write_buf(w->m->mmu, at, data, n);
	w->next = at + (uint32_t)n;
	return at;
}

static void setup_cpu(struct machine *m, uint32_t entry)
{
	boot_set_flat32(m, GDT_ADDR, entry);
	m->cpu[0]->gpr[R_AX] = MB_BOOT_MAGIC;
	m->cpu[0]->gpr[R_BX] = INFO_ADDR;
	/* The firmware and loader before a Multiboot kernel leave the x87
	 * initialised (FNINIT: FCW 037Fh with every exception masked, all
	 * registers empty), not in its RESET state (FCW 0040h, exceptions
	 * unmasked, tag word 5555h: a full stack); kernels such as
	 * kvm-unit-tests use the x87 without FNINIT. */
	x87_init_state(m->cpu[0]);
}

bool multiboot_load(struct machine *m, const uint8_t *img, size_t size, const char *cmdline,
		    const struct boot_module *mods, int nmods, char *err, size_t errlen)
{
	long hoff = find_header(img, size);
	if (hoff < 0) {
		snprintf(err, errlen, "kernel: no Multiboot header in the first 8 KiB");
		return false;
	}
	const uint8_t *h = img + hoff;
	uint32_t flags = rd32(h + 4);
	uint32_t entry;
	uint64_t end;
	if (mmu_ram_size(m->mmu) < (2u << 20)) {
		snprintf(err, errlen, "Multiboot needs at least 2 MiB of RAM");
		return false;
	}
	if (flags & MB_AOUT_KLUDGE) {
		if ((size_t)hoff + 32 > size) {
			snprintf(err, errlen, "kernel: truncated Multiboot header");
			return false;
		}
		uint32_t header_addr = rd32(h + 12), load_addr = rd32(h + 16);
		uint32_t load_end = rd32(h + 20), bss_end = rd32(h + 24);
		entry = rd32(h + 28);
		if (header_addr < load_addr ||
		    (uint64_t)(header_addr - load_addr) > (uint64_t)hoff) {
			snprintf(err, errlen, "kernel: inconsistent Multiboot a.out addresses");
			return false;
		}
		uint64_t foff = (uint64_t)hoff - (header_addr - load_addr);
		uint64_t len = load_end ? (uint64_t)load_end - load_addr : size - foff;
		if (load_end && load_end < load_addr) {
			snprintf(err, errlen, "kernel: Multiboot load_end_addr below load_addr");
			return false;
		}
		if (foff + len > size)
			len = size - foff;
		if (!put(m, load_addr, img + foff, len, err, errlen))
			return false;
		end = load_addr + len;
		if (bss_end > end) {
			if (!zero(m, end, bss_end - end, err, errlen))
				return false;
			end = bss_end;
		}
	} else {
		if (size < 52 || memcmp(img, "\177ELF", 4) != 0) {
			snprintf(
				err, errlen,
				"kernel: Multiboot image is neither ELF nor uses the a.out kludge");
			return false;
		}
		if (!load_elf(m, img, size, &entry, &end, err, errlen))
			return false;
	}

	/* Modules, page-aligned after the kernel. */
	struct info_writer w = { m, INFO_ADDR + 120 };
	uint32_t modlist[4 * 64];
	if (nmods > 64) {
		snprintf(err, errlen, "too many modules (at most 64)");
		return false;
	}
	uint64_t at = (end + 0xfff) & ~0xfffull;
	for (int i = 0; i < nmods; i++) {
		size_t msize;
		uint8_t *data = boot_read_file(mods[i].path, &msize, err, errlen);
		if (!data)
			return false;
		bool ok = put(m, at, data, msize, err, errlen);
		free(data);
		if (!ok)
			return false;
		const char *mc = mods[i].cmdline ? mods[i].cmdline : mods[i].path;
		modlist[i * 4 + 0] = (uint32_t)at;
		modlist[i * 4 + 1] = (uint32_t)(at + msize);
		modlist[i * 4 + 2] = info_alloc(&w, mc, strlen(mc) + 1);
		modlist[i * 4 + 3] = 0;
		at = (at + msize + 0xfff) & ~0xfffull;
	}

	/* RAM below 4 GiB ends where the board's mapping of it ends (the PC
	 * board leaves a PCI hole below 4 GiB and maps the rest at 4 GiB):
	 * probe it in 1 MiB steps; the remainder is above 4 GiB. */
	uint64_t ram = mmu_ram_size(m->mmu);
	uint64_t low = ram > (1ull << 32) ? (1ull << 32) : ram;
	while (low > (2u << 20) && !mmu_gpa_ptr(m->mmu, low - 1, false))
		low = (low - 1) & ~0xfffffull;
	uint32_t info[30] = { 0 };
	info[0] = 1u << 0 | 1u << 2 | 1u << 6 | 1u << 9; /* MEM, CMDLINE, MMAP, LOADER */
	info[1] = 639;                                   /* mem_lower (KiB) */
	info[2] = (uint32_t)(low / 1024 - 1024);
	const char *cl = cmdline ? cmdline : "";
	info[4] = info_alloc(&w, cl, strlen(cl) + 1);
	if (nmods) {
		info[0] |= 1u << 3;
		info[5] = (uint32_t)nmods;
		info[6] = info_alloc(&w, modlist, (size_t)nmods * 16);
	}
	/* Memory map: each entry is {size=20, base, length, type}. */
	struct __attribute__((packed)) mmap_ent {
		uint32_t size;
		uint64_t base, len;
		uint32_t type;
	} mm[5] = {
		{ 20, 0, 0x9fc00, 1 },
		{ 20, 0x9fc00, 0x400, 2 },
		{ 20, 0xf0000, 0x10000, 2 },
		{ 20, 0x100000, low - 0x100000, 1 },
		{ 20, 1ull << 32, ram - low, 1 },
	};
	info[11] = ram > low ? sizeof(mm) : sizeof(mm) - sizeof(mm[0]);
	info[12] = info_alloc(&w, mm, sizeof(mm));
	info[16] = info_alloc(&w, "nestbox", 8);
	if (!info[4] || !info[12] || !info[16] || (nmods && !info[6])) {
		snprintf(err, errlen, "command line and module names are too long");
		return false;
	}
	phys_write_buf(m->mmu, INFO_ADDR, info, sizeof(info));
	bios_state(m);
	setup_cpu(m, entry);
	return true;
}
