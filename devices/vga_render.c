/*
 * devices/vga_render.c — what the screen shows, for the front ends: the
 * text snapshot (characters of a text mode as UTF-8) and the framebuffer
 * (any mode rendered to 32-bit XRGB, or a 32-bpp VBE mode's video RAM).
 *
 * VGA modes are rendered the way the CRTC scans memory (IBM VGA; FreeVGA
 * "CRT Controller Registers"): a character-clock counter starting at the
 * start address (CR0C/CR0D) advances once per character clock (CR01 + 1
 * per line) and by the offset (CR13 * 2) per character row (CR09 bits 4:0
 * + 1 scan lines, each doubled when CR09 bit 7 is set). The counter
 * becomes a plane address by the CRTC's mode:
 *   doubleword (CR14 bit 6)  counter << 2
 *   word (CR17 bit 6 = 0)    counter << 1, bit 0 = counter bit 13 or 15
 *                            (CR17 bit 5)
 *   byte                     counter
 * then address bit 13 takes row-scan bit 0 unless CR17 bit 0 is set (the
 * CGA interleave), bit 14 row-scan bit 1 unless CR17 bit 1 is set.
 * The four plane bytes at that address feed the shift registers:
 *   256-colour (GR5 bit 6)   four 8-bit pixels, planes 0-3 in order
 *   interleaved (GR5 bit 5)  2-bit pixels, plane 0 byte then plane 1 byte
 *                            (planes 2/3 give bits 3:2)
 *   planar                   8 4-bit pixels, plane p giving bit p
 * Four-bit values go through the attribute controller (colour plane
 * enable AR12, palette AR0-ARF, colour select AR14 with AR10 bit 7), then
 * every value through the DAC (pixel mask 3C6, 6-bit or 8-bit entries).
 *
 * Not rendered: pixel panning (AR13), preset row scan (CR08), the split
 * screen (line compare), blinking (blinking text is shown steadily, the
 * cursor always on), underline.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/vga_priv.h"

#define MAX_DIM 4096u

/* Code page 437 glyphs 0x00-0x1f, 0x7f-0xff as Unicode (0x00 as space). */
static const uint16_t cp437_low[32] = {
	0x0020, 0x263a, 0x263b, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022, 0x25d8, 0x25cb, 0x25d9,
	0x2642, 0x2640, 0x266a, 0x266b, 0x263c, 0x25ba, 0x25c4, 0x2195, 0x203c, 0x00b6, 0x00a7,
	0x25ac, 0x21a8, 0x2191, 0x2193, 0x2192, 0x2190, 0x221f, 0x2194, 0x25b2, 0x25bc,
};
static const uint16_t cp437_high[129] = {
	0x2302,                                                         /* 0x7f */
	0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, /* 0x80 */
	0x00ea, 0x00eb, 0x00e8, 0x00ef, 0x00ee, 0x00ec, 0x00c4, 0x00c5,
	0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9, /* 0x90 */
	0x00ff, 0x00d6, 0x00dc, 0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192,
	0x00e1, 0x00ed, 0x00f3, 0x00fa, 0x00f1, 0x00d1, 0x00aa, 0x00ba, /* 0xa0 */
	0x00bf, 0x2310, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb,
	0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, /* 0xb0 */
	0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b, 0x2510,
	0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f, /* 0xc0 */
	0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x2567,
	0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b, /* 0xd0 */
	0x256a, 0x2518, 0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580,
	0x03b1, 0x00df, 0x0393, 0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4, /* 0xe0 */
	0x03a6, 0x0398, 0x03a9, 0x03b4, 0x221e, 0x03c6, 0x03b5, 0x2229,
	0x2261, 0x00b1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00f7, 0x2248, /* 0xf0 */
	0x00b0, 0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2, 0x25a0, 0x00a0,
};

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t x;
	memcpy(&x, p, 4);
	return x;
}

uint32_t vga_dac_rgb(const struct vga *v, uint8_t idx)
{
	const uint8_t *c = v->dac[idx & v->dac_mask];
	if (v->vbe[VBE_ENABLE] & VBE_EN_8BIT_DAC)
		return (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
	uint32_t r = (c[0] & 0x3fu) << 2 | (c[0] & 0x3fu) >> 4;
	uint32_t g = (c[1] & 0x3fu) << 2 | (c[1] & 0x3fu) >> 4;
	uint32_t b = (c[2] & 0x3fu) << 2 | (c[2] & 0x3fu) >> 4;
	return r << 16 | g << 8 | b;
}

/* The 16 colours of 4-bit values through the attribute controller. */
static void attr_table(const struct vga *v, uint32_t tab[16])
{
	for (unsigned i = 0; i < 16; i++) {
		uint8_t pal = v->ar[i & v->ar[0x12] & 0xf];
		uint8_t idx;
		if (v->ar[0x10] & 0x80)
			idx = (uint8_t)((pal & 0x0f) | (v->ar[0x14] & 0x0f) << 4);
		else
			idx = (uint8_t)((pal & 0x3f) | (v->ar[0x14] & 0x0c) << 4);
		tab[i] = vga_dac_rgb(v, idx);
	}
}

/* ---- CRTC geometry ---- */

struct crt {
	unsigned clocks;  /* character clocks per line */
	unsigned lines;   /* scan lines shown (after double scan) */
	unsigned cheight; /* scan lines per character row */
	unsigned start;   /* start address (counter units) */
	unsigned offset;  /* counter advance per row */
};

static void crt_geometry(const struct vga *v, struct crt *c)
{
	const uint8_t *cr = v->cr;
	unsigned vde = cr[0x12] | (cr[0x07] & 0x02u) << 7 | (cr[0x07] & 0x40u) << 3;
	c->clocks = cr[0x01] + 1u;
	c->lines = vde + 1;
	if (cr[0x09] & 0x80)
		c->lines /= 2;
	c->cheight = (cr[0x09] & 0x1fu) + 1;
	c->start = (unsigned)cr[0x0c] << 8 | cr[0x0d];
	c->offset = cr[0x13] * 2u;
}

/* Character-clock counter + row scan -> plane address (64 KiB planes). */
static unsigned crt_addr(const struct vga *v, unsigned ma, unsigned rs)
{
	const uint8_t *cr = v->cr;
	unsigned a;
	if (cr[0x14] & 0x40)
		a = ma << 2;
	else if (!(cr[0x17] & 0x40))
		a = ma << 1 | (((cr[0x17] & 0x20) ? ma >> 15 : ma >> 13) & 1);
	else
		a = ma;
	if (!(cr[0x17] & 0x01))
		a = (a & ~0x2000u) | (rs & 1) << 13;
	if (!(cr[0x17] & 0x02))
		a = (a & ~0x4000u) | (rs & 2) << 13;
	return a & 0xffff;
}

static bool text_mode(const struct vga *v)
{
	return !vbe_on(v) && !(v->ar[0x10] & 0x01);
}

/* ---- text snapshot ---- */

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	o[0] = (char)(0xe0 | cp >> 12);
	o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

static uint32_t cp437(uint8_t ch)
{
	if (ch < 0x20)
		return cp437_low[ch];
	if (ch >= 0x7f)
		return cp437_high[ch - 0x7f];
	return ch;
}

int vga_text_snapshot(struct vga *v, char *out, size_t outsz, int *rows, int *cols)
{
	if (rows)
		*rows = 0;
	if (cols)
		*cols = 0;
	if (!text_mode(v))
		return -1;
	struct crt c;
	crt_geometry(v, &c);
	unsigned nrows = c.lines / c.cheight;
	if (rows)
		*rows = (int)nrows;
	if (cols)
		*cols = (int)c.clocks;
	if (!out || !outsz)
		return 0;
	size_t n = 0;
	for (unsigned r = 0; r < nrows; r++) {
		for (unsigned col = 0; col <= c.clocks; col++) {
			char buf[4];
			size_t len;
			if (col == c.clocks) {
				buf[0] = '\n';
				len = 1;
			} else {
				unsigned a = crt_addr(v, c.start + r * c.offset + col, 0);
				len = put_utf8(buf, cp437(v->vram[(size_t)a * 4]));
			}
			if (n + len >= outsz)
				goto done;
			memcpy(out + n, buf, len);
			n += len;
		}
	}
done:
	out[n] = 0;
	return (int)n;
}

/* ---- rendering ---- */

static uint32_t *fb_alloc(struct vga *v, unsigned w, unsigned h)
{
	size_t need = (size_t)w * h;
	if (need > v->fb_cap) {
		uint32_t *p = realloc(v->fb, need * 4);
		if (!p)
			return NULL;
		v->fb = p;
		v->fb_cap = need;
	}
	v->fb_w = w;
	v->fb_h = h;
	return v->fb;
}

static bool render_text(struct vga *v)
{
	struct crt c;
	crt_geometry(v, &c);
	unsigned cw = (v->sr[1] & 1) ? 8 : 9;
	unsigned nrows = c.lines / c.cheight;
	unsigned w = c.clocks * cw, h = nrows * c.cheight;
	if (!w || !h || w > MAX_DIM || h > MAX_DIM)
		return false;
	uint32_t *fb = fb_alloc(v, w, h);
	if (!fb)
		return false;
	uint32_t tab[16];
	attr_table(v, tab);
	/* Character map select (SR3): attribute bit 3 picks map A or B. */
	uint8_t sr3 = v->sr[3];
	unsigned map_a = ((sr3 >> 2) & 3) | ((sr3 >> 3) & 4);
	unsigned map_b = (sr3 & 3) | ((sr3 >> 2) & 4);
	unsigned base_a = (map_a & 3) << 14 | (map_a & 4) << 11;
	unsigned base_b = (map_b & 3) << 14 | (map_b & 4) << 11;
	bool blink = v->ar[0x10] & 0x08, lge = v->ar[0x10] & 0x04;
	unsigned cursor = (unsigned)v->cr[0x0e] << 8 | v->cr[0x0f];
	bool cursor_on = !(v->cr[0x0a] & 0x20);
	unsigned cur_lo = v->cr[0x0a] & 0x1f, cur_hi = v->cr[0x0b] & 0x1f;
	for (unsigned r = 0; r < nrows; r++) {
		for (unsigned col = 0; col < c.clocks; col++) {
			unsigned ma = c.start + r * c.offset + col;
			unsigned a = crt_addr(v, ma, 0);
			uint8_t ch = v->vram[(size_t)a * 4];
			uint8_t at = v->vram[(size_t)a * 4 + 1];
			unsigned font = ((at & 8) ? base_a : base_b) + ch * 32u;
			uint32_t fg = tab[at & 0xf], bg = tab[blink ? (at >> 4) & 7 : at >> 4];
			bool is_cur = cursor_on && (ma & 0xffff) == cursor;
			for (unsigned y = 0; y < c.cheight; y++) {
				unsigned bits = v->vram[(size_t)((font + y) & 0xffff) * 4 + 2];
				/* The 9th dot repeats the 8th for line-graphics chars. */
				bits <<= 1;
				if (lge && ch >= 0xc0 && ch <= 0xdf)
					bits |= (bits >> 1) & 1;
				if (is_cur && y >= cur_lo && y <= cur_hi)
					bits = 0x1ff;
				uint32_t *p = fb + (size_t)(r * c.cheight + y) * w + col * cw;
				for (unsigned x = 0; x < cw; x++)
					p[x] = (bits >> (8 - x)) & 1 ? fg : bg;
			}
		}
	}
	return true;
}

static bool render_graphics(struct vga *v)
{
	struct crt c;
	crt_geometry(v, &c);
	bool s256 = v->gr[5] & 0x40, inter = v->gr[5] & 0x20;
	unsigned w = c.clocks * (s256 ? 4 : 8);
	/* Rows the address does not depend on repeat: show them once. */
	unsigned dup = (v->cr[0x17] & 3) == 3 ? c.cheight : 1;
	unsigned h = c.lines / dup;
	if (!w || !h || w > MAX_DIM || h > MAX_DIM)
		return false;
	uint32_t *fb = fb_alloc(v, w, h);
	if (!fb)
		return false;
	uint32_t tab[16];
	attr_table(v, tab);
	for (unsigned y = 0; y < h; y++) {
		unsigned line = y * dup;
		unsigned ma = c.start + (line / c.cheight) * c.offset, rs = line % c.cheight;
		uint32_t *p = fb + (size_t)y * w;
		for (unsigned i = 0; i < c.clocks; i++) {
			uint32_t d = ld32(v->vram + (size_t)crt_addr(v, ma + i, rs) * 4);
			uint8_t p0 = (uint8_t)d, p1 = (uint8_t)(d >> 8), p2 = (uint8_t)(d >> 16),
				p3 = (uint8_t)(d >> 24);
			if (s256) {
				*p++ = vga_dac_rgb(v, p0);
				*p++ = vga_dac_rgb(v, p1);
				*p++ = vga_dac_rgb(v, p2);
				*p++ = vga_dac_rgb(v, p3);
			} else if (inter) {
				for (int k = 0; k < 8; k++) {
					unsigned sh = 6 - 2 * (k & 3);
					uint8_t lo = k < 4 ? p0 : p1, hi = k < 4 ? p2 : p3;
					*p++ = tab[((lo >> sh) & 3) | ((hi >> sh) & 3) << 2];
				}
			} else {
				for (int b = 7; b >= 0; b--)
					*p++ = tab[((p0 >> b) & 1) | ((p1 >> b) & 1) << 1 |
						   ((p2 >> b) & 1) << 2 | ((p3 >> b) & 1) << 3];
			}
		}
	}
	return true;
}

static inline uint32_t rgb(unsigned r, unsigned g, unsigned b)
{
	return r << 16 | g << 8 | b;
}

static bool render_vbe(struct vga *v)
{
	unsigned w = v->vbe[VBE_XRES], h = v->vbe[VBE_YRES], bpp = v->vbe[VBE_BPP];
	if (!w || !h)
		return false;
	uint32_t *fb = fb_alloc(v, w, h);
	if (!fb)
		return false;
	uint32_t tab[16];
	if (bpp == 4)
		attr_table(v, tab);
	unsigned bytes = bpp == 4 ? w / 8 * 4 : w * (bpp == 15 ? 2 : bpp / 8);
	for (unsigned y = 0; y < h; y++) {
		uint32_t *p = fb + (size_t)y * w;
		uint64_t off = (uint64_t)v->vbe_start + (uint64_t)y * v->vbe_line;
		if (bpp == 4)
			off *= 4;
		if (off + bytes > v->vram_size) {
			memset(p, 0, (size_t)w * 4);
			continue;
		}
		const uint8_t *s = v->vram + off;
		switch (bpp) {
		case 4:
			for (unsigned i = 0; i < w / 8; i++, s += 4)
				for (int b = 7; b >= 0; b--)
					*p++ = tab[((s[0] >> b) & 1) | ((s[1] >> b) & 1) << 1 |
						   ((s[2] >> b) & 1) << 2 | ((s[3] >> b) & 1) << 3];
			break;
		case 8:
			for (unsigned x = 0; x < w; x++)
				p[x] = vga_dac_rgb(v, s[x]);
			break;
		case 15:
			for (unsigned x = 0; x < w; x++) {
				unsigned px = s[2 * x] | s[2 * x + 1] << 8;
				unsigned r = (px >> 10) & 31, g = (px >> 5) & 31, b = px & 31;
				p[x] = rgb(r << 3 | r >> 2, g << 3 | g >> 2, b << 3 | b >> 2);
			}
			break;
		case 16:
			for (unsigned x = 0; x < w; x++) {
				unsigned px = s[2 * x] | s[2 * x + 1] << 8;
				unsigned r = px >> 11, g = (px >> 5) & 63, b = px & 31;
				p[x] = rgb(r << 3 | r >> 2, g << 2 | g >> 4, b << 3 | b >> 2);
			}
			break;
		case 24:
			for (unsigned x = 0; x < w; x++)
				p[x] = rgb(s[3 * x + 2], s[3 * x + 1], s[3 * x]);
			break;
		}
	}
	return true;
}

const void *vga_framebuffer(struct vga *v, enum vga_fmt *fmt, unsigned *w, unsigned *h,
			    unsigned *stride)
{
	*fmt = VGA_FMT_NONE;
	*w = *h = *stride = 0;
	/* Blanked: palette address source clear (AR index bit 5) or screen
	 * off (SR1 bit 5). */
	if (!(v->ar_index & 0x20) || (v->sr[1] & 0x20))
		return NULL;
	if (vbe_on(v) && v->vbe[VBE_BPP] == 32) {
		unsigned vw = v->vbe[VBE_XRES], vh = v->vbe[VBE_YRES];
		uint64_t need = (uint64_t)v->vbe_start + (uint64_t)(vh - 1) * v->vbe_line + vw * 4u;
		if (!vw || !vh || need > v->vram_size)
			return NULL;
		*fmt = VGA_FMT_XRGB8888;
		*w = vw;
		*h = vh;
		*stride = v->vbe_line;
		return v->vram + v->vbe_start;
	}
	if (!v->fb_valid || v->fb_gen != v->gen) {
		bool ok;
		if (vbe_on(v))
			ok = render_vbe(v);
		else if (text_mode(v))
			ok = render_text(v);
		else
			ok = render_graphics(v);
		v->fb_valid = ok;
		v->fb_gen = v->gen;
	}
	if (!v->fb_valid)
		return NULL;
	*fmt = VGA_FMT_XRGB8888;
	*w = v->fb_w;
	*h = v->fb_h;
	*stride = v->fb_w * 4;
	return v->fb;
}
