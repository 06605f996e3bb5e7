/*
 * devices/vga_mem.c — CPU access to video memory: the legacy window
 * 0xA0000-0xBFFFF and the PCI linear framebuffer (BAR0).
 *
 * Legacy window (IBM VGA; FreeVGA "Graphics Registers", "Sequencer
 * Registers"). GR6 bits 3:2 select which part of the 128 KiB answers:
 *   0 A0000-BFFFF   1 A0000-AFFFF   2 B0000-B7FFF   3 B8000-BFFFF
 * and an offset a inside it becomes a plane address and a set of planes:
 *   chain-4 (SR4 bit 3)       plane a & 3, address a & ~3
 *   odd/even (SR4 bit 2 = 0 for writes, GR5 bit 4 = 1 for reads)
 *                             plane pair by a & 1 (reads: GR4 bit 1 picks
 *                             planes 0/1 or 2/3), address a & ~1
 *   sequential                writes: planes of SR2; reads: plane GR4
 * Every read loads the four latches. Writes go through the graphics
 * controller's write mode (GR5 bits 1:0):
 *   0  data rotated (GR3 2:0), per-plane set/reset (GR0 where GR1 enables),
 *      logical op with the latch (GR3 4:3), bit mask GR8 (unmasked bits
 *      keep the latch)
 *   1  the latches themselves
 *   2  data bits 3:0 expanded to planes, logical op, bit mask GR8
 *   3  set/reset GR0 expanded, logical op, bit mask GR8 AND rotated data
 * Read mode 1 (GR5 bit 3) returns the colour compare of the latches
 * against GR2 over the planes GR7 selects.
 *
 * While VBE is enabled with a packed-pixel depth, 0xA0000-0xAFFFF is a
 * linear 64 KiB bank of video RAM (VBE_BANK * 64 KiB); at 4 bpp the planar
 * path is used with the bank added to the plane address.
 */
#include <string.h>

#include "devices/vga_priv.h"

/* Four-bit plane mask -> 0xff in each selected plane's byte. */
static const uint32_t expand4[16] = {
	0x00000000, 0x000000ff, 0x0000ff00, 0x0000ffff, 0x00ff0000, 0x00ff00ff,
	0x00ffff00, 0x00ffffff, 0xff000000, 0xff0000ff, 0xff00ff00, 0xff00ffff,
	0xffff0000, 0xffff00ff, 0xffffff00, 0xffffffff,
};

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t x;
	memcpy(&x, p, 4);
	return x;
}

static inline void st32(uint8_t *p, uint32_t x)
{
	memcpy(p, &x, 4);
}

static inline uint8_t ror8(uint8_t x, unsigned n)
{
	n &= 7;
	return (uint8_t)((x >> n) | (x << ((8 - n) & 7)));
}

/* Offset inside the window GR6 selects, or -1 when off is outside it. */
static int64_t window_offset(const struct vga *v, uint32_t off)
{
	static const uint32_t base[4] = { 0, 0, 0x10000, 0x18000 };
	static const uint32_t size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
	unsigned map = (v->gr[6] >> 2) & 3;
	if (off < base[map] || off - base[map] >= size[map])
		return -1;
	return off - base[map];
}

static bool vbe_linear(const struct vga *v)
{
	return vbe_on(v) && v->vbe[VBE_BPP] != 4;
}

uint8_t vga_mem_readb(struct vga *v, uint32_t off)
{
	if (vbe_linear(v)) {
		uint64_t a = (uint64_t)v->vbe[VBE_BANK] * 0x10000 + off;
		return off < 0x10000 && a < v->vram_size ? v->vram[a] : 0xff;
	}
	int64_t w = window_offset(v, off);
	if (w < 0)
		return 0xff;
	uint32_t a = (uint32_t)w;
	if (vbe_on(v))
		a += (uint32_t)v->vbe[VBE_BANK] * 0x10000;
	unsigned plane;
	if (v->sr[4] & 0x08) {
		plane = a & 3;
		a &= ~3u;
	} else if (v->gr[5] & 0x10) {
		plane = (v->gr[4] & 2) | (a & 1);
		a &= ~1u;
	} else {
		plane = v->gr[4] & 3;
	}
	if ((uint64_t)a * 4 + 4 > v->vram_size)
		return 0xff;
	v->latch = ld32(v->vram + (size_t)a * 4);
	if (v->gr[5] & 0x08) {
		/* Read mode 1: bit set where every "care" plane matches. */
		uint32_t care = expand4[v->gr[7] & 0xf];
		uint32_t diff = (v->latch ^ expand4[v->gr[2] & 0xf]) & care;
		diff |= diff >> 16;
		diff |= diff >> 8;
		return (uint8_t)~diff;
	}
	return (uint8_t)(v->latch >> (8 * plane));
}

/* The graphics controller's write data path: the 32-bit value for the four
 * planes (before the plane mask). */
static uint32_t write_data(const struct vga *v, uint8_t val)
{
	uint32_t data, latch = v->latch;
	uint8_t mask = v->gr[8];
	switch (v->gr[5] & 3) {
	case 0: {
		uint32_t esr = expand4[v->gr[1] & 0xf];
		data = ror8(val, v->gr[3]) * 0x01010101u;
		data = (data & ~esr) | (expand4[v->gr[0] & 0xf] & esr);
		break;
	}
	case 1:
		return latch;
	case 2:
		data = expand4[val & 0xf];
		break;
	default: /* 3 */
		mask &= ror8(val, v->gr[3]);
		data = expand4[v->gr[0] & 0xf];
		break;
	}
	switch ((v->gr[3] >> 3) & 3) {
	case 1:
		data &= latch;
		break;
	case 2:
		data |= latch;
		break;
	case 3:
		data ^= latch;
		break;
	}
	uint32_t m32 = mask * 0x01010101u;
	return (data & m32) | (latch & ~m32);
}

void vga_mem_writeb(struct vga *v, uint32_t off, uint8_t val)
{
	if (vbe_linear(v)) {
		uint64_t a = (uint64_t)v->vbe[VBE_BANK] * 0x10000 + off;
		if (off < 0x10000 && a < v->vram_size) {
			v->vram[a] = val;
			vga_touch(v);
		}
		return;
	}
	int64_t w = window_offset(v, off);
	if (w < 0)
		return;
	uint32_t a = (uint32_t)w;
	if (vbe_on(v))
		a += (uint32_t)v->vbe[VBE_BANK] * 0x10000;
	unsigned planes = v->sr[2] & 0xf;
	if (v->sr[4] & 0x08) {
		planes &= 1u << (a & 3);
		a &= ~3u;
	} else if (!(v->sr[4] & 0x04)) {
		planes &= (a & 1) ? 0xa : 0x5;
		a &= ~1u;
	}
	if (!planes || (uint64_t)a * 4 + 4 > v->vram_size)
		return;
	uint8_t *p = v->vram + (size_t)a * 4;
	uint32_t pm = expand4[planes];
	st32(p, (ld32(p) & ~pm) | (write_data(v, val) & pm));
	vga_touch(v);
}

static uint64_t legacy_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	uint64_t val = 0;
	for (unsigned i = 0; i < size; i++)
		val |= (uint64_t)vga_mem_readb(v, (uint32_t)(off + i) & 0x1ffff) << (8 * i);
	return val;
}

static void legacy_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct vga *v = opaque;
	for (unsigned i = 0; i < size; i++)
		vga_mem_writeb(v, (uint32_t)(off + i) & 0x1ffff, (uint8_t)(val >> (8 * i)));
}

const struct mmio_ops vga_legacy_ops = { legacy_read, legacy_write };

/* ---- linear framebuffer: plain memory (an mmu "map host memory" API
 * would let the soft TLB reach it directly) ---- */

static uint64_t lfb_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	uint64_t val = 0;
	if (off + size <= v->vram_size)
		memcpy(&val, v->vram + off, size); /* little-endian host */
	else
		val = ~0ull;
	return val;
}

static void lfb_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct vga *v = opaque;
	if (off + size <= v->vram_size) {
		memcpy(v->vram + off, &val, size);
		vga_touch(v);
	}
}

const struct mmio_ops vga_lfb_ops = { lfb_read, lfb_write };
