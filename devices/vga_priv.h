/*
 * devices/vga_priv.h — state of the std VGA shared by its files:
 *   vga.c         creation, PCI function (BARs, ROM BAR), Bochs VBE, BAR2
 *   vga_regs.c    the VGA register file (ports 0x3b0-0x3df)
 *   vga_mem.c     the legacy window (planar access) and the LFB
 *   vga_render.c  text snapshot and framebuffer rendering
 * Nothing outside devices/vga*.c includes this header.
 *
 * Video RAM: VGA_VRAM_SIZE bytes. VGA planar addressing sees it as four
 * planes interleaved per address (plane p of address a is byte 4 * a + p),
 * so a VBE mode's linear framebuffer and the planes share one buffer.
 */
#ifndef NESTBOX_DEVICES_VGA_PRIV_H
#define NESTBOX_DEVICES_VGA_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/vga.h"
#include "mmu/mmu.h"

struct pci_dev;

/* Bochs VBE "dispi" register indices (port 0x1cf after index at 0x1ce). */
enum {
	VBE_ID = 0,
	VBE_XRES,
	VBE_YRES,
	VBE_BPP,
	VBE_ENABLE,
	VBE_BANK,
	VBE_VIRT_WIDTH,
	VBE_VIRT_HEIGHT,
	VBE_X_OFFSET,
	VBE_Y_OFFSET,
	VBE_VIDEO_MEMORY_64K,
	VBE_NREGS
};

/* VBE_ENABLE bits. */
#define VBE_EN_ENABLED    0x01
#define VBE_EN_GETCAPS    0x02
#define VBE_EN_8BIT_DAC   0x20
#define VBE_EN_LFB        0x40
#define VBE_EN_NOCLEARMEM 0x80

#define VBE_MAX_XRES 2560
#define VBE_MAX_YRES 1600
#define VBE_MAX_BPP  32

struct vga {
	struct machine *m;
	struct pci_dev *pci;
	uint8_t *vram;
	uint32_t vram_size;
	uint64_t gen;
	bool warned; /* one message about a bad VBE mode is enough */

	/* Option ROM and its PCI expansion ROM BAR. */
	uint8_t *rom;
	size_t rom_size;
	uint32_t rom_bar_size;
	uint64_t rom_addr;
	bool rom_mapped;
	/* Where BAR0 (LFB) and BAR2 (registers) are mapped, 0 = not. */
	uint64_t lfb_addr, mmio_addr;

	/* External registers. */
	uint8_t misc;    /* 3C2 write / 3CC read */
	uint8_t feature; /* 3BA/3DA write / 3CA read */
	uint8_t enable;  /* 3C3 */

	uint8_t sr_index, sr[8];
	uint8_t gr_index, gr[16];
	uint8_t ar_index, ar[32];
	bool ar_data; /* attribute flip-flop: next 3C0 write is data */
	uint8_t cr_index, cr[64];

	/* DAC. */
	uint8_t dac[256][3];
	uint8_t dac_mask;
	uint8_t dac_rd, dac_wr, dac_sub;
	uint8_t dac_state; /* 3C7 read: 0 = write mode, 3 = read mode */
	uint8_t dac_cur[3];

	uint32_t latch; /* the four plane latches, plane p in bits 8p+7:8p */

	/* Bochs VBE. */
	uint16_t vbe_index;
	uint16_t vbe[VBE_NREGS];
	uint32_t vbe_line;  /* bytes per scan line */
	uint32_t vbe_start; /* byte offset of the displayed origin */

	/* Render cache (vga_render.c). */
	uint32_t *fb;
	size_t fb_cap; /* pixels */
	uint64_t fb_gen;
	unsigned fb_w, fb_h;
	bool fb_valid;
};

static inline bool vbe_on(const struct vga *v)
{
	return v->vbe[VBE_ENABLE] & VBE_EN_ENABLED;
}

static inline void vga_touch(struct vga *v)
{
	v->gen++;
}

/* vga_regs.c: one byte at port 0x3b0-0x3df. */
uint8_t vga_port_read(struct vga *v, uint16_t port);
void vga_port_write(struct vga *v, uint16_t port, uint8_t val);
/* Program the registers and DAC as the BIOS does for mode 3. */
void vga_regs_mode3(struct vga *v);
/* Put the VGA registers in a state consistent with an enabled VBE mode. */
void vga_regs_vbe(struct vga *v);

/* vga_mem.c */
extern const struct mmio_ops vga_legacy_ops; /* 0xA0000-0xBFFFF, opaque = vga */
extern const struct mmio_ops vga_lfb_ops;    /* BAR0, opaque = vga */
uint8_t vga_mem_readb(struct vga *v, uint32_t off);
void vga_mem_writeb(struct vga *v, uint32_t off, uint8_t val);

/* vga_render.c: 8-bit DAC index -> 0x00RRGGBB. */
uint32_t vga_dac_rgb(const struct vga *v, uint8_t idx);

#endif
