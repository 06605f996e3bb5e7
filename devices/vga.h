/*
 * devices/vga.h — the "std" VGA: an IBM VGA register set plus the Bochs VBE
 * "dispi" extension on a PCI function 1234:1111 (class 0300), the device
 * SeaBIOS's vgabios-stdvga.bin and Linux (vgacon, vga16fb, bochs-drm,
 * vesafb/simplefb) drive.
 *
 * Guest-visible interface:
 *   I/O 0x3b0-0x3df   VGA registers (sequencer, graphics controller,
 *                     attribute controller, CRTC at 0x3b4/0x3d4 per misc
 *                     output bit 0, DAC, input status 1 at 0x3ba/0x3da)
 *   I/O 0x1ce/0x1cf   Bochs VBE index/data (16-bit)
 *   MMIO 0xA0000-0xBFFFF  legacy window (GR6 memory map select; the VBE
 *                     bank window at 0xA0000 while VBE is enabled)
 *   PCI BAR0          16 MiB prefetchable linear framebuffer (video RAM)
 *   PCI BAR2          4 KiB register page: 0x000 EDID (reads 0: none),
 *                     0x400-0x41f VGA ports 0x3c0-0x3df, 0x500-0x515 VBE
 *                     registers (index * 2), 0x600 extended registers
 *   PCI ROM BAR       the VGA BIOS image
 *
 * Front ends read the screen through vga_text_snapshot (text modes) and
 * vga_framebuffer (any mode, rendered to 32-bit XRGB), and poll
 * vga_generation to know when the picture may have changed.
 */
#ifndef NESTBOX_DEVICES_VGA_H
#define NESTBOX_DEVICES_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;
struct pci_bus;
struct vga;

#define VGA_DEFAULT_ROM "/usr/share/seabios/vgabios-stdvga.bin"
#define VGA_VRAM_SIZE   (16u << 20)
#define VGA_PCI_VENDOR  0x1234
#define VGA_PCI_DEVICE  0x1111

/*
 * Create the VGA: registers its I/O ports and the 0xA0000-0xBFFFF window on
 * m, and (if bus != NULL) the PCI function at devfn with BAR0/BAR2/ROM.
 * rom_path: NULL = VGA_DEFAULT_ROM, "" = no option ROM. Returns NULL with a
 * message on stderr if the ROM can't be read or memory is short.
 * The registers start in the state of BIOS mode 3 (80x25 colour text), so a
 * directly booted kernel finds a usable text screen (no font is loaded
 * without the BIOS: text snapshots work, pixel rendering shows no glyphs).
 */
struct vga *vga_init(struct machine *m, struct pci_bus *bus, uint8_t devfn, const char *rom_path);
/* Machine reset: clears video RAM, VBE off, registers as after mode 3; the
 * ROM BAR mapping is re-read from configuration space, so call it after
 * pci_reset. */
void vga_reset(struct vga *v);
void vga_free(struct vga *v);

/* Map the legacy window 0xA0000-0xBFFFF again (vga_init does it once; a
 * board that later maps something else there, e.g. SMRAM, calls this to
 * give the range back to the VGA). */
void vga_map_window(struct vga *v);

/* The option ROM image (NULL/0 when none): a board without PCI ROM
 * support may copy it to 0xC0000. */
const uint8_t *vga_rom(const struct vga *v, size_t *size);

/* Host pointer to video RAM (VGA_VRAM_SIZE bytes; planar modes store the
 * four planes interleaved: byte 4 * address + plane). */
uint8_t *vga_vram(struct vga *v);

/* Bumped whenever something that can change the picture is written (video
 * memory, palette, registers). Front ends redraw when it changed. */
uint64_t vga_generation(const struct vga *v);

/*
 * Text screen as lines of UTF-8 (code page 437 glyphs mapped to Unicode,
 * NUL as space, trailing spaces kept), each ended by '\n', NUL-terminated,
 * truncated to fit outsz. rows and cols (may be NULL) get the screen size
 * (0 when not in a text mode).
 * Returns the number of bytes written without the NUL, or -1 when the
 * display is not in a text mode.
 */
int vga_text_snapshot(struct vga *v, char *out, size_t outsz, int *rows, int *cols);

enum vga_fmt {
	VGA_FMT_NONE = 0, /* nothing displayed */
	VGA_FMT_XRGB8888, /* 32-bit little-endian words 0x00RRGGBB */
};

/*
 * The current picture. Text and VGA graphics modes are rendered (at their
 * logical resolution, e.g. 320x200 for mode 13h, 720x400 for mode 3) into
 * an internal buffer; a 32-bpp VBE mode returns video RAM itself. The
 * pointer stays valid until the next call or a mode change. Returns NULL
 * (and *fmt = VGA_FMT_NONE) when the screen is blanked or unprogrammed.
 * stride is in bytes.
 */
const void *vga_framebuffer(struct vga *v, enum vga_fmt *fmt, unsigned *w, unsigned *h,
			    unsigned *stride);

#endif
