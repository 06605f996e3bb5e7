/*
 * tests/unit/test_vga.c — the std VGA (devices/vga*.c) on a bare machine:
 * register round trips (sequencer, graphics, CRTC with its protect bit,
 * attribute flip-flop, mono/colour decoding), the DAC, input status 1 on
 * virtual time, planar write modes 0-3 with latches, read mode 1, chain-4
 * and odd/even, text snapshot and rendering, mode 13h and mode 12h
 * rendering, Bochs VBE modes with the bank window, and the PCI function
 * (BAR sizing, LFB and BAR2 register page, expansion ROM).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "devices/clock.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "devices/vga.h"
#include "mmu/mmu.h"

#define WIN   0xa0000ull
#define DEVFN PCI_DEVFN(2, 0)

static struct machine *m;
static struct vga *v;
static struct pci_bus *bus;

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	v = vga_init(m, NULL, 0, "");
	ck_assert_ptr_nonnull(v);
	bus = NULL;
}

static void teardown(void)
{
	vga_free(v);
	pci_free(bus);
	machine_free(m);
}

static void outb(uint16_t port, uint8_t val)
{
	ioport_write(m->io, port, 1, val);
}
static uint8_t inb(uint16_t port)
{
	return (uint8_t)ioport_read(m->io, port, 1);
}
static void outw(uint16_t port, uint16_t val)
{
	ioport_write(m->io, port, 2, val);
}
static uint16_t inw(uint16_t port)
{
	return (uint16_t)ioport_read(m->io, port, 2);
}
static void sr(uint8_t i, uint8_t val)
{
	outb(0x3c4, i);
	outb(0x3c5, val);
}
static void gr(uint8_t i, uint8_t val)
{
	outb(0x3ce, i);
	outb(0x3cf, val);
}
static void cr(uint8_t i, uint8_t val)
{
	outb(0x3d4, i);
	outb(0x3d5, val);
}
static uint8_t cr_rd(uint8_t i)
{
	outb(0x3d4, i);
	return inb(0x3d5);
}
static void ar(uint8_t i, uint8_t val)
{
	inb(0x3da);
	outb(0x3c0, i);
	outb(0x3c0, val);
}
static void vbe(uint16_t i, uint16_t val)
{
	outw(0x1ce, i);
	outw(0x1cf, val);
}
static uint16_t vbe_rd(uint16_t i)
{
	outw(0x1ce, i);
	return inw(0x1cf);
}
static uint8_t mem_rd(uint32_t off)
{
	return (uint8_t)phys_read(m->mmu, WIN + off, 1);
}
static void mem_wr(uint32_t off, uint8_t val)
{
	phys_write(m->mmu, WIN + off, 1, val);
}
static void advance(uint64_t ns)
{
	m->cpu[0]->clock_offset += (int64_t)ns;
	clock_run_timers(m);
}

/* Program a whole VGA mode (misc, SR0-4, CR0-18, AR0-14, GR0-8). */
static void set_mode(uint8_t misc, const uint8_t s[5], const uint8_t c[25], const uint8_t a[21],
		     const uint8_t g[9])
{
	outb(0x3c2, misc);
	for (int i = 0; i < 5; i++)
		sr((uint8_t)i, s[i]);
	cr(0x11, c[0x11] & 0x7f); /* unprotect first */
	for (int i = 0; i < 25; i++)
		cr((uint8_t)i, c[i]);
	for (int i = 0; i < 21; i++)
		ar((uint8_t)i, a[i]);
	for (int i = 0; i < 9; i++)
		gr((uint8_t)i, g[i]);
	inb(0x3da);
	outb(0x3c0, 0x20);
}

static const uint8_t m13_sr[5] = { 0x03, 0x01, 0x0f, 0x00, 0x0e };
static const uint8_t m13_cr[25] = { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00,
				    0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x0e,
				    0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff };
static const uint8_t m13_ar[21] = { 0,  1,  2,  3,  4,  5,    6,    7,    8,    9,   10,
				    11, 12, 13, 14, 15, 0x41, 0x00, 0x0f, 0x00, 0x00 };
static const uint8_t m13_gr[9] = { 0, 0, 0, 0, 0, 0x40, 0x05, 0x0f, 0xff };

static const uint8_t m12_sr[5] = { 0x03, 0x01, 0x0f, 0x00, 0x06 };
static const uint8_t m12_cr[25] = { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00,
				    0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xea, 0x8c,
				    0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff };
static const uint8_t m12_ar[21] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14,
				    0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d,
				    0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00 };
static const uint8_t m12_gr[9] = { 0, 0, 0, 0, 0, 0x00, 0x05, 0x0f, 0xff };

START_TEST(register_roundtrips)
{
	/* Mode 3 state after reset: colour, CRTC at 3D4, CR11 protect set. */
	ck_assert_uint_eq(inb(0x3cc), 0x67);
	ck_assert_uint_eq(cr_rd(0x11) & 0x80, 0x80);
	ck_assert_uint_eq(cr_rd(0x01), 0x4f);
	cr(0x01, 0x22); /* protected: ignored */
	ck_assert_uint_eq(cr_rd(0x01), 0x4f);
	uint8_t c7 = cr_rd(0x07);
	cr(0x07, 0x00); /* only bit 4 (line compare bit 8) goes through */
	ck_assert_uint_eq(cr_rd(0x07), c7 & ~0x10);
	cr(0x0e, 0x12); /* above CR7: writable */
	ck_assert_uint_eq(cr_rd(0x0e), 0x12);
	cr(0x11, cr_rd(0x11) & 0x7f);
	cr(0x01, 0x22);
	ck_assert_uint_eq(cr_rd(0x01), 0x22);

	sr(2, 0xff);
	outb(0x3c4, 2);
	ck_assert_uint_eq(inb(0x3c5), 0x0f); /* map mask: 4 bits */
	gr(5, 0xff);
	outb(0x3ce, 5);
	ck_assert_uint_eq(inb(0x3cf), 0x7b);
	gr(8, 0x5a);
	outb(0x3ce, 8);
	ck_assert_uint_eq(inb(0x3cf), 0x5a);

	/* Mono: CRTC moves to 3B4, the 3Dx ports go dead. */
	outb(0x3c2, 0x66);
	ck_assert_uint_eq(inb(0x3d5), 0xff);
	outb(0x3b4, 0x0e);
	ck_assert_uint_eq(inb(0x3b5), 0x12);
	outb(0x3c2, 0x67);
}
END_TEST

START_TEST(attribute_flipflop)
{
	inb(0x3da); /* reset to index state */
	outb(0x3c0, 0x01);
	outb(0x3c0, 0x15);
	ck_assert_uint_eq(inb(0x3c0), 0x01);
	ck_assert_uint_eq(inb(0x3c1), 0x15);
	/* The flip-flop is back in index state: this write is an index. */
	outb(0x3c0, 0x22);
	ck_assert_uint_eq(inb(0x3c0), 0x22);
	outb(0x3c0, 0x3f); /* data to AR2 */
	ck_assert_uint_eq(inb(0x3c1), 0x3f);
	/* Half-way (after an index write), reading 3DA resets it. */
	outb(0x3c0, 0x13);
	inb(0x3da);
	outb(0x3c0, 0x14);
	outb(0x3c0, 0x0a);
	ck_assert_uint_eq(inb(0x3c1), 0x0a);
	ck_assert_uint_eq(inb(0x3c0), 0x14);
	/* Mode control keeps its writable bits only (bit 4 reserved). */
	ar(0x10, 0xff);
	ck_assert_uint_eq(inb(0x3c1), 0xef);
}
END_TEST

START_TEST(dac_palette)
{
	ck_assert_uint_eq(inb(0x3c6), 0xff);
	outb(0x3c8, 5);
	ck_assert_uint_eq(inb(0x3c7) & 3, 0);
	outb(0x3c9, 0x3f);
	outb(0x3c9, 0x40 | 0x21); /* 6 bits kept */
	outb(0x3c9, 0x02);
	outb(0x3c9, 0x01); /* entry 6 */
	outb(0x3c9, 0x02);
	outb(0x3c9, 0x03);
	ck_assert_uint_eq(inb(0x3c8), 7);
	outb(0x3c7, 5);
	ck_assert_uint_eq(inb(0x3c7) & 3, 3);
	ck_assert_uint_eq(inb(0x3c9), 0x3f);
	ck_assert_uint_eq(inb(0x3c9), 0x21);
	ck_assert_uint_eq(inb(0x3c9), 0x02);
	ck_assert_uint_eq(inb(0x3c9), 0x01);
	ck_assert_uint_eq(inb(0x3c9), 0x02);
	ck_assert_uint_eq(inb(0x3c9), 0x03);
}
END_TEST

START_TEST(retrace_on_virtual_time)
{
	uint8_t st = inb(0x3da);
	ck_assert_uint_eq(st & 8, 0); /* t = 0: top of the frame */
	/* A polling loop waiting for vertical retrace ends within one frame
	 * of virtual time, and display-enable toggles within a line. */
	int steps = 0, hblank = 0;
	while (!(inb(0x3da) & 8) && steps < 100000) {
		hblank |= inb(0x3da) & 1;
		advance(1000);
		steps++;
	}
	ck_assert_int_lt(steps, 17000);
	ck_assert_int_gt(steps, 15000);
	ck_assert_int_eq(hblank, 1);
	advance(100000); /* retrace lasts two lines (~64 us) */
	ck_assert_uint_eq(inb(0x3da) & 8, 0);
}
END_TEST

START_TEST(planar_write_modes)
{
	uint8_t *vr = vga_vram(v);
	/* 64 KiB window at A0000, sequential planar addressing. */
	gr(6, 0x05);
	sr(4, 0x06);
	sr(2, 0x0f);
	gr(5, 0x00);
	gr(8, 0xff);
	/* Mode 0, set/reset on all planes: planes 0 and 2 set. */
	gr(1, 0x0f);
	gr(0, 0x05);
	mem_wr(0, 0x12);
	ck_assert_uint_eq(vr[0], 0xff);
	ck_assert_uint_eq(vr[1], 0x00);
	ck_assert_uint_eq(vr[2], 0xff);
	ck_assert_uint_eq(vr[3], 0x00);
	gr(1, 0);
	/* Read mode 0 returns the GR4 plane and loads the latches. */
	gr(4, 2);
	ck_assert_uint_eq(mem_rd(0), 0xff);
	gr(4, 1);
	ck_assert_uint_eq(mem_rd(0), 0x00);
	/* Mode 1 copies the latches. */
	gr(5, 0x01);
	mem_wr(1, 0x00);
	ck_assert_uint_eq(vr[4], 0xff);
	ck_assert_uint_eq(vr[6], 0xff);
	ck_assert_uint_eq(vr[5], 0x00);
	/* Mode 0, bit mask: unmasked bits come from the latches (address 0). */
	gr(5, 0x00);
	gr(8, 0x0f);
	mem_rd(0);
	mem_wr(2, 0xaa);
	ck_assert_uint_eq(vr[8], 0xfa); /* plane 0: latch ff, data a */
	ck_assert_uint_eq(vr[9], 0x0a); /* plane 1: latch 00 */
	/* Rotate by 1, then XOR with the latches. */
	gr(8, 0xff);
	gr(3, 0x01);
	mem_wr(3, 0x01);
	ck_assert_uint_eq(vr[12], 0x80);
	gr(3, 0x18); /* XOR, no rotate */
	mem_rd(0);
	mem_wr(3, 0x0f);
	ck_assert_uint_eq(vr[12], 0xf0); /* ff ^ 0f */
	ck_assert_uint_eq(vr[13], 0x0f); /* 00 ^ 0f */
	gr(3, 0x00);
	/* Mode 2: data bits pick planes. */
	gr(5, 0x02);
	mem_wr(4, 0x06);
	ck_assert_uint_eq(vr[16], 0x00);
	ck_assert_uint_eq(vr[17], 0xff);
	ck_assert_uint_eq(vr[18], 0xff);
	ck_assert_uint_eq(vr[19], 0x00);
	/* Mode 3: set/reset through mask GR8 & data (latch of address 0). */
	gr(5, 0x03);
	gr(0, 0x0c);
	mem_rd(0);
	mem_wr(5, 0xf0);
	ck_assert_uint_eq(vr[20], 0x0f); /* plane 0: s/r 0 under f0, latch ff */
	ck_assert_uint_eq(vr[21], 0x00);
	ck_assert_uint_eq(vr[22], 0xff); /* plane 2: s/r 1 under f0, latch ff */
	ck_assert_uint_eq(vr[23], 0xf0);
	/* Map mask: plane 1 only. */
	gr(5, 0x00);
	sr(2, 0x02);
	mem_wr(6, 0x5a);
	ck_assert_uint_eq(vr[24], 0x00);
	ck_assert_uint_eq(vr[25], 0x5a);
	ck_assert_uint_eq(vr[26], 0x00);
	/* Read mode 1: colour compare. Address 4 holds colour 6 everywhere. */
	gr(5, 0x08);
	gr(2, 0x06);
	gr(7, 0x0f);
	ck_assert_uint_eq(mem_rd(4), 0xff);
	gr(2, 0x07);
	ck_assert_uint_eq(mem_rd(4), 0x00);
	gr(7, 0x06); /* plane 0 is "don't care" */
	ck_assert_uint_eq(mem_rd(4), 0xff);
	/* Memory map B8000: A0000 is no longer decoded. */
	gr(5, 0x00);
	gr(6, 0x0d);
	ck_assert_uint_eq(mem_rd(0), 0xff);
}
END_TEST

START_TEST(chain4_and_oddeven)
{
	uint8_t *vr = vga_vram(v);
	/* Reset state is mode 3: odd/even at B8000. */
	phys_write(m->mmu, 0xb8000, 4, 0x1f690748); /* 'H' 07 'i' 1f */
	ck_assert_uint_eq(vr[0], 'H');
	ck_assert_uint_eq(vr[1], 0x07);
	ck_assert_uint_eq(vr[8], 'i');
	ck_assert_uint_eq(vr[9], 0x1f);
	ck_assert_uint_eq(phys_read(m->mmu, 0xb8000, 4), 0x1f690748);
	ck_assert_uint_eq(mem_rd(0), 0xff); /* A0000 not decoded in mode 3 */
	/* Chain-4 (mode 13h addressing). */
	gr(6, 0x05);
	sr(4, 0x0e);
	sr(2, 0x0f);
	gr(5, 0x40);
	for (unsigned i = 0; i < 8; i++)
		mem_wr(0x100 + i, (uint8_t)(0xa0 + i));
	for (unsigned i = 0; i < 8; i++) {
		unsigned a = 0x100 + i;
		ck_assert_uint_eq(vr[4 * (a & ~3u) + (a & 3)], 0xa0 + i);
		ck_assert_uint_eq(mem_rd(a), 0xa0 + i);
	}
}
END_TEST

START_TEST(text_snapshot)
{
	char buf[25 * 81 * 3 + 1];
	int rows = 0, cols = 0;
	const char *s1 = "Hello", *s2 = "World";
	for (int i = 0; s1[i]; i++) {
		phys_write(m->mmu, 0xb8000 + 2 * i, 2, 0x0700u | (uint8_t)s1[i]);
		phys_write(m->mmu, 0xb8000 + 160 + 2 * i, 2, 0x0700u | (uint8_t)s2[i]);
	}
	phys_write(m->mmu, 0xb8000 + 160 + 10, 1, 0xc4); /* box-drawing line */
	int n = vga_text_snapshot(v, buf, sizeof(buf), &rows, &cols);
	ck_assert_int_eq(rows, 25);
	ck_assert_int_eq(cols, 80);
	ck_assert_int_gt(n, 25 * 81 - 1);
	ck_assert_int_eq(strncmp(buf, "Hello ", 6), 0);
	ck_assert_int_eq(buf[80], '\n');
	ck_assert_int_eq(strncmp(buf + 81, "World\xe2\x94\x80 ", 9), 0);
	/* Start address = one row down: "World" comes first. */
	cr(0x0c, 0);
	cr(0x0d, 80);
	vga_text_snapshot(v, buf, sizeof(buf), NULL, NULL);
	ck_assert_int_eq(strncmp(buf, "World", 5), 0);
	/* Truncation keeps a terminated string. */
	n = vga_text_snapshot(v, buf, 4, NULL, NULL);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(buf, "Wor");
	/* Not a text mode once VBE is on. */
	vbe(1, 640);
	vbe(2, 480);
	vbe(3, 8);
	vbe(4, 0x41);
	ck_assert_int_eq(vga_text_snapshot(v, buf, sizeof(buf), NULL, NULL), -1);
}
END_TEST

START_TEST(text_render)
{
	uint8_t *vr = vga_vram(v);
	phys_write(m->mmu, 0xb8000, 2, 0x1741); /* 'A', grey on blue */
	vr[(0x41 * 32 + 0) * 4 + 2] = 0x81;     /* glyph row 0: dots 0 and 7 */
	enum vga_fmt fmt;
	unsigned w, h, stride;
	const uint32_t *fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_ptr_nonnull(fb);
	ck_assert_int_eq(fmt, VGA_FMT_XRGB8888);
	ck_assert_uint_eq(w, 720);
	ck_assert_uint_eq(h, 400);
	ck_assert_uint_eq(stride, 720 * 4);
	ck_assert_uint_eq(fb[0], 0xaaaaaa);
	ck_assert_uint_eq(fb[1], 0x0000aa);
	ck_assert_uint_eq(fb[7], 0xaaaaaa);
	ck_assert_uint_eq(fb[8], 0x0000aa); /* 9th dot: background for 'A' */
	ck_assert_uint_eq(fb[720], 0x0000aa);
	/* Blanking through the attribute index's PAS bit. */
	inb(0x3da);
	outb(0x3c0, 0x00);
	ck_assert_ptr_null(vga_framebuffer(v, &fmt, &w, &h, &stride));
	ck_assert_int_eq(fmt, VGA_FMT_NONE);
}
END_TEST

START_TEST(mode13h_render)
{
	set_mode(0x63, m13_sr, m13_cr, m13_ar, m13_gr);
	outb(0x3c8, 4);
	outb(0x3c9, 0x3f);
	outb(0x3c9, 0x00);
	outb(0x3c9, 0x00);
	mem_wr(320 + 3, 4);
	enum vga_fmt fmt;
	unsigned w, h, stride;
	uint64_t g0 = vga_generation(v);
	const uint32_t *fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_ptr_nonnull(fb);
	ck_assert_uint_eq(w, 320);
	ck_assert_uint_eq(h, 200);
	ck_assert_uint_eq(fb[320 + 3], 0xff0000);
	ck_assert_uint_eq(fb[320 + 2], 0x000000);
	mem_wr(0, 4);
	ck_assert_uint_gt(vga_generation(v), g0);
	fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_uint_eq(fb[0], 0xff0000);
	ck_assert_int_eq(vga_text_snapshot(v, NULL, 0, NULL, NULL), -1);
}
END_TEST

START_TEST(mode12h_render)
{
	set_mode(0xe3, m12_sr, m12_cr, m12_ar, m12_gr);
	/* Write mode 2, colour 9 to the first pixel of line 1 only. */
	gr(5, 0x02);
	gr(8, 0x80);
	mem_rd(80);
	mem_wr(80, 9);
	enum vga_fmt fmt;
	unsigned w, h, stride;
	const uint32_t *fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_ptr_nonnull(fb);
	ck_assert_uint_eq(w, 640);
	ck_assert_uint_eq(h, 480);
	/* Colour 9 -> AR9 = 0x39 -> EGA palette: r 1/3, g 1/3, b full. */
	ck_assert_uint_eq(fb[640], 0x5555ff);
	ck_assert_uint_eq(fb[641], 0x000000);
}
END_TEST

/* Mode 4 (CGA 320x200x4): odd/even writes at B8000, interleaved shift,
 * odd scan lines from the second 8 KiB bank (row scan -> address bit 13). */
static const uint8_t m4_sr[5] = { 0x03, 0x09, 0x03, 0x00, 0x02 };
static const uint8_t m4_cr[25] = { 0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00,
				   0xc1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e,
				   0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2, 0xff };
static const uint8_t m4_ar[21] = { 0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12,
				   0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00 };
static const uint8_t m4_gr[9] = { 0, 0, 0, 0, 0, 0x30, 0x0f, 0x00, 0xff };

START_TEST(mode4_render)
{
	set_mode(0x63, m4_sr, m4_cr, m4_ar, m4_gr);
	phys_write(m->mmu, 0xb8000 + 0x2000, 1, 0xc0); /* line 1, pixel 0 = 3 */
	phys_write(m->mmu, 0xb8000 + 1, 1, 0x02);      /* line 0, pixel 7 = 2 */
	enum vga_fmt fmt;
	unsigned w, h, stride;
	const uint32_t *fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_ptr_nonnull(fb);
	ck_assert_uint_eq(w, 320);
	ck_assert_uint_eq(h, 200);
	/* AR3 = 0x17: EGA colour r 2/3, g 2/3 + 1/3, b 2/3. */
	ck_assert_uint_eq(fb[320], 0xaaffaa);
	ck_assert_uint_eq(fb[0], 0);
	ck_assert_uint_eq(fb[6], 0);
	/* AR2 = 0x15: r 2/3, g 1/3, b 2/3. */
	ck_assert_uint_eq(fb[7], 0xaa55aa);
}
END_TEST

START_TEST(vbe_modes)
{
	ck_assert_uint_eq(vbe_rd(0), 0xb0c5);
	vbe(0, 0xb0c0);
	ck_assert_uint_eq(vbe_rd(0), 0xb0c0);
	vbe(0, 0x1234); /* unsupported: ignored */
	ck_assert_uint_eq(vbe_rd(0), 0xb0c0);
	ck_assert_uint_eq(vbe_rd(10), 256);
	vbe(4, 0x02); /* GETCAPS */
	ck_assert_uint_eq(vbe_rd(1), 2560);
	ck_assert_uint_eq(vbe_rd(3), 32);
	vbe(4, 0x00);
	vbe(1, 641); /* not a multiple of 8 */
	ck_assert_uint_ne(vbe_rd(1), 641);
	vbe(1, 640);
	vbe(2, 480);
	vbe(3, 32);
	vbe(4, 0x41);
	ck_assert_uint_eq(vbe_rd(4), 0x41);
	ck_assert_uint_eq(vbe_rd(6), 640);
	ck_assert_uint_eq(vbe_rd(7), (16u << 20) / 2560);
	vbe(1, 800); /* ignored while enabled */
	ck_assert_uint_eq(vbe_rd(1), 640);
	/* Bank window: bank 1 at A0000. */
	vbe(5, 1);
	phys_write(m->mmu, WIN + 4, 4, 0x00112233);
	ck_assert_uint_eq(phys_read(m->mmu, WIN + 4, 4), 0x00112233);
	enum vga_fmt fmt;
	unsigned w, h, stride;
	const uint32_t *fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_ptr_eq(fb, vga_vram(v));
	ck_assert_uint_eq(w, 640);
	ck_assert_uint_eq(h, 480);
	ck_assert_uint_eq(stride, 2560);
	ck_assert_uint_eq(fb[(0x10000 + 4) / 4], 0x00112233);
	/* Y offset moves the origin. */
	vbe(9, 1);
	ck_assert_ptr_eq(vga_framebuffer(v, &fmt, &w, &h, &stride), vga_vram(v) + 2560);
	/* 16 bpp, memory kept (NOCLEARMEM), rendered to XRGB. */
	vbe(4, 0);
	vbe(3, 16);
	vbe(4, 0xc1);
	phys_write(m->mmu, WIN, 2, 0xf800);
	phys_write(m->mmu, WIN + 2, 2, 0x07e0);
	fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_ptr_nonnull(fb);
	ck_assert_uint_eq(stride, 640 * 4);
	ck_assert_uint_eq(fb[0], 0xff0000);
	ck_assert_uint_eq(fb[1], 0x00ff00);
	/* 8 bpp with an 8-bit DAC. */
	vbe(4, 0);
	vbe(3, 8);
	vbe(4, 0x61);
	outb(0x3c8, 9);
	outb(0x3c9, 0x80);
	outb(0x3c9, 0x81);
	outb(0x3c9, 0x82);
	mem_wr(0, 9);
	fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_uint_eq(fb[0], 0x808182);
	ck_assert_uint_eq(fb[1], 0x000000); /* memory was cleared */
	/* Disable: back to VGA text (mode 3 registers untouched by VBE
	 * except the ones it sets). */
	vbe(4, 0);
	ck_assert_uint_eq(vbe_rd(4), 0);
}
END_TEST

START_TEST(vbe_depths_virtual)
{
	enum vga_fmt fmt;
	unsigned w, h, stride;
	vbe(1, 320);
	vbe(2, 200);
	vbe(3, 24);
	vbe(4, 0x41);
	phys_write(m->mmu, WIN, 4, 0x00112233); /* B G R of pixel 0 = 33 22 11 */
	const uint32_t *fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_uint_eq(fb[0], 0x112233);
	/* Virtual width 400: lines are 1200 bytes; X/Y offsets pan. */
	vbe(6, 400);
	ck_assert_uint_eq(vbe_rd(6), 400);
	ck_assert_uint_eq(vbe_rd(7), (16u << 20) / 1200);
	phys_write(m->mmu, WIN + 1200 + 3, 4, 0x00445566);
	vbe(8, 1);
	vbe(9, 1);
	fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_uint_eq(fb[0], 0x445566);
	vbe(6, 100); /* narrower than XRES: ignored */
	ck_assert_uint_eq(vbe_rd(6), 400);
	/* 15 bpp: x RRRRR GGGGG BBBBB. */
	vbe(4, 0);
	vbe(3, 15);
	vbe(4, 0x41);
	phys_write(m->mmu, WIN, 2, 0x7c00 | 0x001f);
	fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_uint_eq(fb[0], 0xff00ff);
	/* The largest mode fits in 16 MiB (1638 lines of 10240 bytes). */
	vbe(4, 0);
	vbe(1, 2560);
	vbe(2, 1600);
	vbe(3, 32);
	vbe(4, 0x41);
	ck_assert_uint_eq(vbe_rd(4) & 1, 1);
	ck_assert_uint_eq(vbe_rd(7), 1638);
	ck_assert_ptr_eq(vga_framebuffer(v, &fmt, &w, &h, &stride), vga_vram(v));
	ck_assert_uint_eq(h, 1600);
}
END_TEST

static const char *rom_file(void)
{
	return access(VGA_DEFAULT_ROM, R_OK) == 0 ? VGA_DEFAULT_ROM : NULL;
}

START_TEST(pci_function)
{
	vga_free(v);
	bus = pci_init(m);
	ck_assert_ptr_nonnull(bus);
	const char *rom = rom_file();
	v = vga_init(m, bus, DEVFN, rom ? rom : "");
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, 0, 4), 0x11111234);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, 0x08, 4) >> 8, 0x030000);
	/* BAR sizing. */
	pci_cfg_write(bus, DEVFN, 0x10, 0xffffffff, 4);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, 0x10, 4), 0xff000008);
	pci_cfg_write(bus, DEVFN, 0x18, 0xffffffff, 4);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, 0x18, 4), 0xfffff000);
	pci_cfg_write(bus, DEVFN, 0x14, 0xffffffff, 4);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, 0x14, 4), 0);
	/* Place and enable. */
	pci_cfg_write(bus, DEVFN, 0x10, 0xe0000000, 4);
	pci_cfg_write(bus, DEVFN, 0x18, 0xe1000000, 4);
	pci_cfg_write(bus, DEVFN, PCI_COMMAND, PCI_CMD_MEM, 2);
	phys_write(m->mmu, 0xe0000000 + 0x123450, 8, 0x1122334455667788ull);
	ck_assert_uint_eq(vga_vram(v)[0x123450], 0x88);
	ck_assert_uint_eq(phys_read(m->mmu, 0xe0000000 + 0x123454, 4), 0x11223344);
	/* BAR2: VBE at 0x500 + 2n, VGA ports at 0x400, extension at 0x600. */
	outw(0x1ce, 3);
	ck_assert_uint_eq(phys_read(m->mmu, 0xe1000500, 2), 0xb0c5);
	ck_assert_uint_eq(phys_read(m->mmu, 0xe1000501, 1), 0xb0);
	ck_assert_uint_eq(inw(0x1ce), 3); /* the port index is not disturbed */
	ck_assert_uint_eq(phys_read(m->mmu, 0xe1000500 + 2 * 10, 2), 256);
	phys_write(m->mmu, 0xe1000500 + 2 * 1, 2, 1024);
	ck_assert_uint_eq(vbe_rd(1), 1024);
	phys_write(m->mmu, 0xe1000400 + 0x08, 1, 3); /* 3C8 */
	phys_write(m->mmu, 0xe1000400 + 0x09, 1, 0x11);
	phys_write(m->mmu, 0xe1000400 + 0x09, 1, 0x12);
	phys_write(m->mmu, 0xe1000400 + 0x09, 1, 0x13);
	outb(0x3c7, 3);
	ck_assert_uint_eq(inb(0x3c9), 0x11);
	ck_assert_uint_eq(phys_read(m->mmu, 0xe1000600, 4), 8);
	ck_assert_uint_eq(phys_read(m->mmu, 0xe1000604, 4), 0x1e1e1e1e);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, 0x08, 1), 2);
	/* Moving BAR0 moves the LFB. */
	pci_cfg_write(bus, DEVFN, 0x10, 0xd0000000, 4);
	ck_assert_uint_eq(phys_read(m->mmu, 0xd0000000 + 0x123450, 1), 0x88);
	ck_assert_uint_eq(phys_read(m->mmu, 0xe0000000 + 0x123450, 1), 0xff);
	if (!rom) {
		ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, 0x30, 4), 0);
		return;
	}
	/* Expansion ROM BAR: 64 KiB for the ~39 KiB VGA BIOS. */
	size_t rsz;
	const uint8_t *img = vga_rom(v, &rsz);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_gt(rsz, 1024);
	pci_cfg_write(bus, DEVFN, 0x30, 0xfffff800, 4);
	uint32_t mask = pci_cfg_read(bus, DEVFN, 0x30, 4);
	ck_assert_uint_eq(mask & 1, 0);
	ck_assert_uint_eq(~(mask & ~0x7ffu) + 1, 0x10000);
	pci_cfg_write(bus, DEVFN, 0x30, 0xe2000000, 4);
	ck_assert_uint_eq(phys_read(m->mmu, 0xe2000000, 2), 0xffff); /* not enabled */
	pci_cfg_write(bus, DEVFN, 0x30, 0xe2000001, 4);
	ck_assert_uint_eq(phys_read(m->mmu, 0xe2000000, 2), 0xaa55);
	ck_assert_uint_eq(phys_read(m->mmu, 0xe2000000 + rsz - 1, 1), img[rsz - 1]);
	pci_cfg_write(bus, DEVFN, PCI_COMMAND, 0, 2);
	ck_assert_uint_eq(phys_read(m->mmu, 0xe2000000, 2), 0xffff);
}
END_TEST

/*
 * The real VGA BIOS through the CPU: its init entry (C000:0003, called in
 * big real mode with the PCI bdf in AX, as SeaBIOS does), INT 10h mode 3 and
 * teletype output, then VBE function 4F02 (mode 0x101 with LFB).
 * Real-mode stub at 0x7c00 (GNU as, .code16):
 *   xor ax,ax; mov ss,ax; mov sp,0x7000; mov ds,ax; mov ax,0x0010
 *   lcall 0xc000:0x0003; xor ax,ax; mov ds,ax
 *   mov ax,0x0003; int 0x10
 *   mov ax,0x0e48; mov bx,0x0007; int 0x10; mov ax,0x0e69; int 0x10; hlt
 *   mov ax,0x4f02; mov bx,0x4101; int 0x10; hlt
 */
static const uint8_t int10_stub[] = {
	0x31, 0xc0, 0x8e, 0xd0, 0xbc, 0x00, 0x70, 0x8e, 0xd8, 0xb8, 0x10, 0x00, 0x9a,
	0x03, 0x00, 0x00, 0xc0, 0x31, 0xc0, 0x8e, 0xd8, 0xb8, 0x03, 0x00, 0xcd, 0x10,
	0xb8, 0x48, 0x0e, 0xbb, 0x07, 0x00, 0xcd, 0x10, 0xb8, 0x69, 0x0e, 0xcd, 0x10,
	0xf4, 0xb8, 0x02, 0x4f, 0xbb, 0x01, 0x41, 0xcd, 0x10, 0xf4,
};

START_TEST(vgabios_int10)
{
	const char *rom = rom_file();
	if (!rom)
		return; /* no seabios package: nothing to run */
	vga_free(v);
	bus = pci_init(m);
	v = vga_init(m, bus, DEVFN, rom);
	ck_assert_ptr_nonnull(v);
	/* What SeaBIOS does before running the ROM: BARs, decode, a copy of
	 * the image at C0000 (here in RAM), an IVT whose unused vectors IRET. */
	pci_cfg_write(bus, DEVFN, 0x10, 0xe0000000, 4);
	pci_cfg_write(bus, DEVFN, 0x18, 0xe1000000, 4);
	pci_cfg_write(bus, DEVFN, PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MEM, 2);
	size_t rsz;
	const uint8_t *img = vga_rom(v, &rsz);
	phys_write_buf(m->mmu, 0xc0000, img, rsz);
	phys_write(m->mmu, 0x500, 1, 0xcf);
	for (unsigned i = 0; i < 256; i++)
		phys_write(m->mmu, 4 * i, 4, 0x500);
	phys_write_buf(m->mmu, 0x7c00, int10_stub, sizeof(int10_stub));
	struct cpu *c = m->cpu[0];
	for (int s = 0; s < S_NSEG; s++)
		if (s != S_CS)
			c->seg[s].limit = 0xffffffff; /* big real mode */
	c->seg[S_CS].sel = 0;
	c->seg[S_CS].base = 0;
	c->rip = 0x7c00;
	ck_assert_int_eq(machine_run(m, 200000000), MSTOP_HALTED);
	char buf[25 * 81 + 1];
	int rows, cols;
	vga_text_snapshot(v, buf, sizeof(buf), &rows, &cols);
	ck_assert_int_eq(rows, 25);
	ck_assert_int_eq(cols, 80);
	ck_assert_int_eq(strncmp(buf, "Hi ", 3), 0);
	ck_assert_uint_eq(cr_rd(0x0f), 2); /* cursor after "Hi" */
	/* The BIOS loaded a font: the rendered 'H' has lit pixels. */
	enum vga_fmt fmt;
	unsigned w, h, stride, lit = 0;
	const uint32_t *fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_ptr_nonnull(fb);
	for (unsigned y = 0; y < 16; y++)
		for (unsigned x = 0; x < 9; x++)
			lit += fb[y * w + x] != 0;
	ck_assert_uint_gt(lit, 10);
	c->halted = 0;
	ck_assert_int_eq(machine_run(m, 200000000), MSTOP_HALTED);
	ck_assert_uint_eq(c->gpr[0] & 0xffff, 0x004f);
	ck_assert_uint_eq(vbe_rd(1), 640);
	ck_assert_uint_eq(vbe_rd(2), 480);
	ck_assert_uint_eq(vbe_rd(3), 8);
	ck_assert_uint_eq(vbe_rd(4) & 0x41, 0x41);
	fb = vga_framebuffer(v, &fmt, &w, &h, &stride);
	ck_assert_ptr_nonnull(fb);
	ck_assert_uint_eq(w, 640);
	ck_assert_uint_eq(h, 480);
}
END_TEST

START_TEST(missing_rom)
{
	ck_assert_ptr_null(vga_init(m, NULL, 0, "/nonexistent/vgabios.bin"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vga");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, register_roundtrips);
	tcase_add_test(t, attribute_flipflop);
	tcase_add_test(t, dac_palette);
	tcase_add_test(t, retrace_on_virtual_time);
	tcase_add_test(t, planar_write_modes);
	tcase_add_test(t, chain4_and_oddeven);
	tcase_add_test(t, text_snapshot);
	tcase_add_test(t, text_render);
	tcase_add_test(t, mode13h_render);
	tcase_add_test(t, mode12h_render);
	tcase_add_test(t, mode4_render);
	tcase_add_test(t, vbe_modes);
	tcase_add_test(t, vbe_depths_virtual);
	tcase_add_test(t, pci_function);
	tcase_add_test(t, vgabios_int10);
	tcase_add_test(t, missing_rom);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
