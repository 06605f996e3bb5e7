/*
 * devices/vga.c — the std VGA device: creation and reset, the PCI function
 * 1234:1111 (BAR0 linear framebuffer, BAR2 register page, expansion ROM
 * BAR with the VGA BIOS) and the Bochs VBE "dispi" interface.
 *
 * Bochs VBE (the interface of Bochs' VBE BIOS extension, also QEMU's
 * "std" VGA): index port 0x1ce, data port 0x1cf, 16-bit registers
 *   0 ID           writing a supported version 0xB0C0-0xB0C5 selects it;
 *                  reads back the version (0xB0C5 after reset)
 *   1 XRES 2 YRES  resolution (XRES a multiple of 8); 3 BPP 4/8/15/16/24/32
 *                  — ignored while the mode is enabled
 *   4 ENABLE       bit 0 enable, 1 GETCAPS (XRES/YRES/BPP read maxima),
 *                  5 8-bit DAC, 6 LFB, 7 NOCLEARMEM (keep video memory)
 *   5 BANK         64 KiB bank shown at 0xA0000
 *   6 VIRT_WIDTH 7 VIRT_HEIGHT   virtual screen (height derived from memory)
 *   8 X_OFFSET 9 Y_OFFSET        displayed origin inside it
 *   10 VIDEO_MEMORY_64K          read-only: video RAM / 64 KiB
 *
 * BAR2 register page (QEMU's layout, which Linux bochs-drm uses):
 *   0x000-0x3ff EDID (reads 0: no EDID, the driver uses its defaults)
 *   0x400-0x41f VGA ports 0x3c0-0x3df, byte-wise
 *   0x500-0x515 VBE register n at 0x500 + 2n (16-bit)
 *   0x600       extension size (8)   0x604 framebuffer byte order
 *               (0x1e1e1e1e = little endian; the only one supported)
 */
#include "devices/vga.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "devices/vga_priv.h"
#include "mmu/mmu.h"

#define LEGACY_BASE   0xa0000ull
#define LEGACY_SIZE   0x20000ull
#define MMIO_BAR_SIZE 0x1000u
#define PCI_ROM_BAR   0x30
#define QEXT_SIZE     8u
#define QEXT_LE       0x1e1e1e1eu
#define ROM_MAX       (1u << 20)

/* ---- Bochs VBE ---- */

static unsigned vbe_bytes_pp(unsigned bpp)
{
	return bpp == 15 ? 2 : bpp / 8;
}

static bool vbe_bpp_ok(unsigned bpp)
{
	return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

/* Units the geometry is counted in: plane addresses for 4 bpp (8 pixels
 * each, four planes per address), bytes otherwise. */
static uint32_t vbe_units(const struct vga *v)
{
	return v->vbe[VBE_BPP] == 4 ? v->vram_size / 4 : v->vram_size;
}

static uint32_t vbe_line_for(const struct vga *v, unsigned width)
{
	unsigned bpp = v->vbe[VBE_BPP];
	return bpp == 4 ? width / 8 : width * vbe_bytes_pp(bpp);
}

static void vbe_update_start(struct vga *v)
{
	unsigned bpp = v->vbe[VBE_BPP];
	uint32_t x = v->vbe[VBE_X_OFFSET];
	uint32_t xb = bpp == 4 ? x / 8 : x * vbe_bytes_pp(bpp);
	v->vbe_start = v->vbe[VBE_Y_OFFSET] * v->vbe_line + xb;
}

static void vbe_enable(struct vga *v, uint16_t val)
{
	unsigned xres = v->vbe[VBE_XRES], yres = v->vbe[VBE_YRES];
	uint32_t line = vbe_line_for(v, xres);
	if (!xres || !yres || !vbe_bpp_ok(v->vbe[VBE_BPP]) || !line ||
	    (uint64_t)line * yres > vbe_units(v)) {
		if (!v->warned)
			fprintf(stderr, "vga: VBE enable with unusable mode %ux%ux%u ignored\n",
				xres, yres, v->vbe[VBE_BPP]);
		v->warned = true;
		return;
	}
	v->vbe_line = line;
	v->vbe[VBE_VIRT_WIDTH] = (uint16_t)xres;
	uint32_t vh = vbe_units(v) / line;
	v->vbe[VBE_VIRT_HEIGHT] = (uint16_t)(vh > 0xffff ? 0xffff : vh);
	v->vbe[VBE_X_OFFSET] = v->vbe[VBE_Y_OFFSET] = 0;
	v->vbe[VBE_BANK] = 0;
	v->vbe_start = 0;
	if (!(val & VBE_EN_NOCLEARMEM)) {
		uint64_t n = (uint64_t)line * yres * (v->vbe[VBE_BPP] == 4 ? 4 : 1);
		memset(v->vram, 0, n);
	}
	v->vbe[VBE_ENABLE] = val;
	vga_regs_vbe(v);
}

static uint16_t vbe_read(struct vga *v, unsigned i)
{
	if (i >= VBE_NREGS)
		return 0;
	if (v->vbe[VBE_ENABLE] & VBE_EN_GETCAPS) {
		if (i == VBE_XRES)
			return VBE_MAX_XRES;
		if (i == VBE_YRES)
			return VBE_MAX_YRES;
		if (i == VBE_BPP)
			return VBE_MAX_BPP;
	}
	if (i == VBE_VIDEO_MEMORY_64K)
		return (uint16_t)(v->vram_size >> 16);
	return v->vbe[i];
}

static void vbe_write(struct vga *v, unsigned i, uint16_t val)
{
	switch (i) {
	case VBE_ID:
		if (val >= 0xb0c0 && val <= 0xb0c5)
			v->vbe[VBE_ID] = val;
		break;
	case VBE_XRES:
		if (!vbe_on(v) && val <= VBE_MAX_XRES && !(val & 7))
			v->vbe[i] = val;
		break;
	case VBE_YRES:
		if (!vbe_on(v) && val <= VBE_MAX_YRES)
			v->vbe[i] = val;
		break;
	case VBE_BPP:
		if (val == 0)
			val = 8; /* Bochs: 0 means 8 */
		if (!vbe_on(v) && vbe_bpp_ok(val))
			v->vbe[i] = val;
		break;
	case VBE_ENABLE:
		if ((val & VBE_EN_ENABLED) && !vbe_on(v))
			vbe_enable(v, val);
		else
			v->vbe[i] = val;
		break;
	case VBE_BANK:
		if ((uint64_t)val << 16 < v->vram_size)
			v->vbe[i] = val;
		break;
	case VBE_VIRT_WIDTH: {
		if (!vbe_on(v) || val < v->vbe[VBE_XRES])
			break;
		uint32_t line = vbe_line_for(v, val);
		if (!line || (uint64_t)line * v->vbe[VBE_YRES] > vbe_units(v))
			break;
		v->vbe[i] = val;
		v->vbe_line = line;
		uint32_t vh = vbe_units(v) / line;
		v->vbe[VBE_VIRT_HEIGHT] = (uint16_t)(vh > 0xffff ? 0xffff : vh);
		vbe_update_start(v);
		break;
	}
	case VBE_VIRT_HEIGHT:
		/* Derived from the memory size; a smaller value is kept. */
		if (vbe_on(v) && val >= v->vbe[VBE_YRES] &&
		    (uint64_t)val * v->vbe_line <= vbe_units(v))
			v->vbe[i] = val;
		break;
	case VBE_X_OFFSET:
	case VBE_Y_OFFSET:
		v->vbe[i] = val;
		vbe_update_start(v);
		break;
	default:
		return;
	}
	vga_touch(v);
}

/* ---- I/O ports ---- */

static uint32_t vga_io_read(void *opaque, uint16_t port, unsigned size)
{
	return vga_port_read(opaque, port);
}

static void vga_io_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	vga_port_write(opaque, port, (uint8_t)val);
}

static const struct ioport_ops vga_io_ops = { vga_io_read, vga_io_write, true };

static uint32_t vbe_io_read(void *opaque, uint16_t port, unsigned size)
{
	struct vga *v = opaque;
	return port == 0x1ce ? v->vbe_index : vbe_read(v, v->vbe_index);
}

static void vbe_io_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct vga *v = opaque;
	if (port == 0x1ce)
		v->vbe_index = (uint16_t)val;
	else
		vbe_write(v, v->vbe_index, (uint16_t)val);
}

static const struct ioport_ops vbe_io_ops = { vbe_io_read, vbe_io_write, false };

/* ---- BAR2 register page ---- */

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	uint64_t val = 0;
	if (off >= 0x400 && off < 0x420) {
		for (unsigned i = 0; i < size && off + i < 0x420; i++)
			val |= (uint64_t)vga_port_read(v, (uint16_t)(0x3c0 + off - 0x400 + i))
			       << (8 * i);
	} else if (off >= 0x500 && off < 0x500 + 2 * VBE_NREGS) {
		for (unsigned i = 0; i < size; i++) {
			unsigned o = (unsigned)(off - 0x500) + i;
			val |= (uint64_t)((vbe_read(v, o / 2) >> (8 * (o & 1))) & 0xff) << (8 * i);
		}
	} else if (off == 0x600) {
		val = QEXT_SIZE;
	} else if (off == 0x604) {
		val = QEXT_LE;
	}
	return val;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct vga *v = opaque;
	if (off >= 0x400 && off < 0x420) {
		/* A 16-bit write to an index port writes index, then data. */
		for (unsigned i = 0; i < size && off + i < 0x420; i++)
			vga_port_write(v, (uint16_t)(0x3c0 + off - 0x400 + i),
				       (uint8_t)(val >> (8 * i)));
	} else if (off >= 0x500 && off < 0x500 + 2 * VBE_NREGS) {
		/* 16-bit registers; a byte write merges into the register. */
		unsigned o = (unsigned)(off - 0x500);
		for (unsigned i = 0; i < size; i += 2, o += 2) {
			uint16_t r = (uint16_t)(val >> (8 * i));
			if (size == 1) {
				uint16_t cur = vbe_read(v, o / 2);
				r = (o & 1) ? (uint16_t)((cur & 0xff) | r << 8)
					    : (uint16_t)((cur & 0xff00) | (r & 0xff));
			}
			vbe_write(v, o / 2, r);
		}
	}
	/* 0x604: only little endian is supported; the write is ignored. */
}

static const struct mmio_ops vga_mmio_ops = { mmio_read, mmio_write };

/* ---- PCI ---- */

static inline uint32_t cfg32(const struct pci_dev *d, unsigned off)
{
	return (uint32_t)d->cfg[off] | (uint32_t)d->cfg[off + 1] << 8 |
	       (uint32_t)d->cfg[off + 2] << 16 | (uint32_t)d->cfg[off + 3] << 24;
}

static inline void put32(uint8_t *p, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(x >> (8 * i));
}

/* Expansion ROM BAR (PCI 3.0 §6.2.5.2): decoded when its enable bit 0 and
 * the command register's memory space bit are both set. */
static void rom_check(struct vga *v)
{
	struct pci_dev *d = v->pci;
	if (!d || !v->rom)
		return;
	uint32_t bar = cfg32(d, PCI_ROM_BAR);
	uint64_t addr = bar & 0xfffff800u;
	bool on = (d->cfg[PCI_COMMAND] & PCI_CMD_MEM) && (bar & 1) && addr;
	if (on == v->rom_mapped && (!on || addr == v->rom_addr))
		return;
	if (v->rom_mapped)
		mmu_unmap(v->m->mmu, v->rom_addr, v->rom_bar_size);
	if (on)
		mmu_map_rom(v->m->mmu, addr, v->rom, v->rom_bar_size);
	v->rom_mapped = on;
	v->rom_addr = addr;
}

static void pci_cfg_written(struct pci_dev *d, unsigned off, uint32_t val, unsigned size)
{
	if ((off < PCI_ROM_BAR + 4 && off + size > PCI_ROM_BAR) ||
	    (off <= PCI_COMMAND && off + size > PCI_COMMAND))
		rom_check(d->opaque);
}

static void pci_bar_moved(struct pci_dev *d, int bar, uint64_t addr, bool mapped)
{
	struct vga *v = d->opaque;
	struct mmu *mmu = v->m->mmu;
	if (bar != 0 && bar != 2)
		return;
	uint64_t size = d->bar[bar].size;
	/* pci.c reports the previous address in d->bar[] only after this
	 * call, so the old mapping is remembered here. */
	uint64_t *cur = bar == 0 ? &v->lfb_addr : &v->mmio_addr;
	if (*cur)
		mmu_unmap(mmu, *cur, size);
	*cur = 0;
	if (!mapped)
		return;
	if (bar == 0)
		mmu_map_mmio(mmu, addr, size, &vga_lfb_ops, v, "vga-lfb");
	else
		mmu_map_mmio(mmu, addr, size, &vga_mmio_ops, v, "vga-mmio");
	*cur = addr;
}

static struct pci_dev *pci_setup(struct vga *v, struct pci_bus *bus, uint8_t devfn)
{
	/* Revision 2: the BAR2 extension registers at 0x600 exist. */
	struct pci_dev *d =
		pci_register(bus, devfn, VGA_PCI_VENDOR, VGA_PCI_DEVICE, 0x030000, 0x02, "vga");
	if (!d)
		return NULL;
	/* Subsystem 1af4:1100 (the QEMU identifiers guests expect). */
	d->cfg[0x2c] = 0xf4;
	d->cfg[0x2d] = 0x1a;
	d->cfg[0x2e] = 0x00;
	d->cfg[0x2f] = 0x11;
	pci_set_bar(d, 0, v->vram_size, PCI_BAR_MEM32 | PCI_BAR_PREFETCH);
	pci_set_bar(d, 2, MMIO_BAR_SIZE, PCI_BAR_MEM32);
	if (v->rom)
		put32(&d->wmask[PCI_ROM_BAR], (~(v->rom_bar_size - 1) & 0xfffff800u) | 1u);
	d->opaque = v;
	d->cfg_write = pci_cfg_written;
	d->bar_moved = pci_bar_moved;
	pci_snapshot(d);
	return d;
}

/* ---- ROM ---- */

static bool load_rom(struct vga *v, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr,
			"vga: cannot open VGA BIOS %s (install Debian's seabios package "
			"or give another path)\n",
			path);
		return false;
	}
	uint8_t *buf = malloc(ROM_MAX + 1);
	size_t n = buf ? fread(buf, 1, ROM_MAX + 1, f) : 0;
	fclose(f);
	if (!buf || n == 0 || n > ROM_MAX) {
		fprintf(stderr, "vga: VGA BIOS %s is empty, unreadable or over 1 MiB\n", path);
		free(buf);
		return false;
	}
	if (buf[0] != 0x55 || buf[1] != 0xaa)
		fprintf(stderr, "vga: warning: %s has no 55 AA option ROM signature\n", path);
	uint32_t size = 2048;
	while (size < n)
		size <<= 1;
	/* The BAR window is a power of two; the image is padded with zeros. */
	uint8_t *rom = calloc(1, size);
	if (!rom) {
		free(buf);
		return false;
	}
	memcpy(rom, buf, n);
	free(buf);
	v->rom = rom;
	v->rom_size = n;
	v->rom_bar_size = size;
	return true;
}

/* ---- life cycle ---- */

/* Power-on state: VBE off, VGA registers as after BIOS mode 3. */
static void reset_state(struct vga *v)
{
	memset(v->vbe, 0, sizeof(v->vbe));
	v->vbe[VBE_ID] = 0xb0c5;
	v->vbe[VBE_BPP] = 8;
	v->vbe_index = 0;
	v->vbe_line = v->vbe_start = 0;
	vga_regs_mode3(v);
	rom_check(v);
}

struct vga *vga_init(struct machine *m, struct pci_bus *bus, uint8_t devfn, const char *rom_path)
{
	struct vga *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->m = m;
	v->vram_size = VGA_VRAM_SIZE;
	v->vram = calloc(1, v->vram_size);
	if (!v->vram) {
		fprintf(stderr, "vga: out of memory for video RAM\n");
		free(v);
		return NULL;
	}
	if (!rom_path)
		rom_path = VGA_DEFAULT_ROM;
	if (rom_path[0] && !load_rom(v, rom_path)) {
		vga_free(v);
		return NULL;
	}
	if (bus) {
		v->pci = pci_setup(v, bus, devfn);
		if (!v->pci) {
			fprintf(stderr, "vga: PCI slot %02x.%x is taken\n", devfn >> 3, devfn & 7);
			vga_free(v);
			return NULL;
		}
	}
	ioport_register(m->io, 0x3b0, 0x30, &vga_io_ops, v, "vga");
	ioport_register(m->io, 0x1ce, 2, &vbe_io_ops, v, "vga-vbe");
	vga_map_window(v);
	reset_state(v); /* video RAM is already zero */
	return v;
}

void vga_map_window(struct vga *v)
{
	mmu_map_mmio(v->m->mmu, LEGACY_BASE, LEGACY_SIZE, &vga_legacy_ops, v, "vga-window");
}

void vga_reset(struct vga *v)
{
	memset(v->vram, 0, v->vram_size);
	reset_state(v);
}

void vga_free(struct vga *v)
{
	if (!v)
		return;
	free(v->fb);
	free(v->rom);
	free(v->vram);
	free(v);
}

const uint8_t *vga_rom(const struct vga *v, size_t *size)
{
	if (size)
		*size = v->rom ? v->rom_size : 0;
	return v->rom;
}

uint8_t *vga_vram(struct vga *v)
{
	return v->vram;
}

uint64_t vga_generation(const struct vga *v)
{
	return v->gen;
}
