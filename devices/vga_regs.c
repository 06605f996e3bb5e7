/*
 * devices/vga_regs.c — the IBM VGA register file at I/O ports 0x3b0-0x3df
 * (IBM VGA Technical Reference; FreeVGA register descriptions):
 *
 *   3C0      attribute address/data (one port, a flip-flop picks which;
 *            reading input status 1 resets it to "address")
 *   3C1      attribute data read
 *   3C2      misc output write / input status 0 read
 *   3C3      VGA enable
 *   3C4/3C5  sequencer index/data (SR0-SR4)
 *   3C6      DAC pixel mask
 *   3C7      DAC read index write / DAC state read
 *   3C8      DAC write index
 *   3C9      DAC data: three 6-bit components (R, G, B) per entry, the
 *            index advancing after the third
 *   3CA      feature control read
 *   3CC      misc output read
 *   3CE/3CF  graphics controller index/data (GR0-GR8)
 *   3x4/3x5  CRTC index/data (CR0-CR18), x = D when misc output bit 0 is
 *            set (colour), B otherwise (mono); the other set is not decoded
 *   3xA      input status 1 read / feature control write
 *
 * CR11 bit 7 write-protects CR0-CR7 except CR7 bit 4 (line compare bit 8).
 * Input status 1 follows a 640x480@60 Hz raster on virtual time (800 dots
 * by 525 lines at 25.175 MHz), so loops that wait for the vertical retrace
 * or for display enable end without host time involved.
 */
#include <string.h>

#include "devices/clock.h"
#include "devices/vga_priv.h"

/* Writable bits of each register (reserved bits read back 0). */
static const uint8_t sr_mask[8] = { 0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0, 0, 0 };
static const uint8_t gr_mask[16] = { 0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff };
static const uint8_t ar_mask[32] = {
	0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
	0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0xef, 0xff, 0x3f, 0x0f, 0x0f,
};
#define CR_LAST 0x18

/* Raster timing of the 640x480 60 Hz mode, in ns of virtual time. */
#define DOT_PS         39722u                 /* 25.175 MHz dot clock */
#define LINE_NS        (800u * DOT_PS / 1000) /* 31.8 us */
#define HDISP_NS       (640u * DOT_PS / 1000)
#define FRAME_LINES    525u
#define VDISP_LINES    480u
#define VRETRACE_FIRST 490u
#define VRETRACE_LINES 2u

/* Input status 1 (FreeVGA "Input Status #1 Register"):
 * bit 0 "display disabled" (horizontal or vertical blanking),
 * bit 3 vertical retrace. */
static uint8_t input_status1(struct vga *v)
{
	uint64_t t = clock_now(v->m) % ((uint64_t)LINE_NS * FRAME_LINES);
	unsigned line = (unsigned)(t / LINE_NS), dot = (unsigned)(t % LINE_NS);
	uint8_t st = 0;
	if (line >= VDISP_LINES || dot >= HDISP_NS)
		st |= 0x01;
	if (line >= VRETRACE_FIRST && line < VRETRACE_FIRST + VRETRACE_LINES)
		st |= 0x08;
	return st;
}

static bool is_color(const struct vga *v)
{
	return v->misc & 1;
}

/* Ports 3B4/3B5/3BA answer in mono mode, 3D4/3D5/3DA in colour mode. */
static bool port_decoded(const struct vga *v, uint16_t port)
{
	if (port >= 0x3b0 && port <= 0x3bf)
		return !is_color(v);
	if (port >= 0x3d0 && port <= 0x3df)
		return is_color(v);
	return true;
}

static uint8_t dac_read(struct vga *v)
{
	uint8_t val = v->dac[v->dac_rd][v->dac_sub];
	if (++v->dac_sub == 3) {
		v->dac_sub = 0;
		v->dac_rd++;
	}
	return val;
}

static void dac_write(struct vga *v, uint8_t val)
{
	/* 6-bit DAC unless VBE switched it to 8 bits. */
	v->dac_cur[v->dac_sub] = (v->vbe[VBE_ENABLE] & VBE_EN_8BIT_DAC) ? val : val & 0x3f;
	if (++v->dac_sub == 3) {
		memcpy(v->dac[v->dac_wr], v->dac_cur, 3);
		v->dac_sub = 0;
		v->dac_wr++;
	}
}

uint8_t vga_port_read(struct vga *v, uint16_t port)
{
	if (!port_decoded(v, port))
		return 0xff;
	switch (port) {
	case 0x3c0:
		return v->ar_index;
	case 0x3c1: {
		unsigned i = v->ar_index & 0x1f;
		return i < sizeof(ar_mask) ? v->ar[i] : 0;
	}
	case 0x3c2:
		return 0; /* input status 0: no CRT interrupt, switch sense 0 */
	case 0x3c3:
		return v->enable;
	case 0x3c4:
		return v->sr_index;
	case 0x3c5:
		return v->sr[v->sr_index & 7];
	case 0x3c6:
		return v->dac_mask;
	case 0x3c7:
		return v->dac_state;
	case 0x3c8:
		return v->dac_wr;
	case 0x3c9:
		return dac_read(v);
	case 0x3ca:
		return v->feature;
	case 0x3cc:
		return v->misc;
	case 0x3ce:
		return v->gr_index;
	case 0x3cf:
		return v->gr[v->gr_index & 0xf];
	case 0x3b4:
	case 0x3d4:
		return v->cr_index;
	case 0x3b5:
	case 0x3d5:
		return v->cr_index <= CR_LAST ? v->cr[v->cr_index] : 0;
	case 0x3ba:
	case 0x3da:
		v->ar_data = false;
		return input_status1(v);
	}
	return 0xff;
}

static void ar_write(struct vga *v, uint8_t val)
{
	if (!v->ar_data) {
		/* Bits 4:0 index, bit 5 palette address source (PAS). */
		v->ar_index = val & 0x3f;
	} else {
		unsigned i = v->ar_index & 0x1f;
		if (i < sizeof(ar_mask))
			v->ar[i] = val & ar_mask[i];
	}
	v->ar_data = !v->ar_data;
}

static void cr_write(struct vga *v, uint8_t val)
{
	unsigned i = v->cr_index;
	if (i > CR_LAST)
		return;
	/* CR11 bit 7 "protect": CR0-CR7 read-only but for CR7 bit 4. */
	if (i <= 7 && (v->cr[0x11] & 0x80)) {
		if (i == 7)
			v->cr[7] = (uint8_t)((v->cr[7] & ~0x10) | (val & 0x10));
		return;
	}
	v->cr[i] = val;
}

void vga_port_write(struct vga *v, uint16_t port, uint8_t val)
{
	if (!port_decoded(v, port))
		return;
	switch (port) {
	case 0x3c0:
		ar_write(v, val);
		break;
	case 0x3c2:
		v->misc = val;
		break;
	case 0x3c3:
		v->enable = val & 1;
		break;
	case 0x3c4:
		v->sr_index = val & 7;
		break;
	case 0x3c5:
		v->sr[v->sr_index & 7] = val & sr_mask[v->sr_index & 7];
		break;
	case 0x3c6:
		v->dac_mask = val;
		break;
	case 0x3c7:
		v->dac_rd = val;
		v->dac_sub = 0;
		v->dac_state = 3;
		break;
	case 0x3c8:
		v->dac_wr = val;
		v->dac_sub = 0;
		v->dac_state = 0;
		break;
	case 0x3c9:
		dac_write(v, val);
		break;
	case 0x3ce:
		v->gr_index = val & 0xf;
		break;
	case 0x3cf:
		v->gr[v->gr_index & 0xf] = val & gr_mask[v->gr_index & 0xf];
		break;
	case 0x3b4:
	case 0x3d4:
		v->cr_index = val & 0x3f;
		break;
	case 0x3b5:
	case 0x3d5:
		cr_write(v, val);
		break;
	case 0x3ba:
	case 0x3da:
		v->feature = val & 0x03;
		break;
	default:
		return;
	}
	vga_touch(v);
}

/* ---- the BIOS mode 3 state (IBM VGA Technical Reference, mode 3+ table) ---- */

static const uint8_t mode3_sr[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_cr[25] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
	0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t mode3_ar[21] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
	0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00,
};
static const uint8_t mode3_gr[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };

void vga_regs_mode3(struct vga *v)
{
	v->misc = 0x67;
	v->feature = 0;
	v->enable = 1;
	memset(v->sr, 0, sizeof(v->sr));
	memset(v->gr, 0, sizeof(v->gr));
	memset(v->ar, 0, sizeof(v->ar));
	memset(v->cr, 0, sizeof(v->cr));
	memcpy(v->sr, mode3_sr, sizeof(mode3_sr));
	memcpy(v->cr, mode3_cr, sizeof(mode3_cr));
	memcpy(v->ar, mode3_ar, sizeof(mode3_ar));
	memcpy(v->gr, mode3_gr, sizeof(mode3_gr));
	v->sr_index = v->gr_index = v->cr_index = 0;
	v->ar_index = 0x20; /* PAS set: display on */
	v->ar_data = false;
	/* The 64-colour EGA palette the BIOS loads for 16-colour modes: bits
	 * 0-2 = blue/green/red at 2/3 intensity, bits 3-5 the same at 1/3. */
	memset(v->dac, 0, sizeof(v->dac));
	for (int i = 0; i < 64; i++) {
		v->dac[i][0] = (uint8_t)(((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15);
		v->dac[i][1] = (uint8_t)(((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15);
		v->dac[i][2] = (uint8_t)((i & 1) * 0x2a + ((i >> 3) & 1) * 0x15);
	}
	v->dac_mask = 0xff;
	v->dac_rd = v->dac_wr = v->dac_sub = 0;
	v->dac_state = 0;
	v->latch = 0;
	vga_touch(v);
}

/* The state the VBE enable leaves the VGA in (so software that reads the
 * VGA registers sees a graphics mode): graphics, 64 KiB window at 0xA0000,
 * no CGA/Hercules address substitution; chain-4 256-colour addressing for
 * packed-pixel depths, sequential planar addressing for 4 bpp. */
void vga_regs_vbe(struct vga *v)
{
	v->gr[6] = (uint8_t)((v->gr[6] & 0x02) | 0x05);
	v->cr[0x17] |= 0x03;
	v->ar[0x10] |= 0x01;
	if (v->vbe[VBE_BPP] == 4) {
		v->sr[4] = (uint8_t)((v->sr[4] & ~0x08) | 0x06);
		v->gr[5] &= (uint8_t)~0x70;
	} else {
		v->sr[4] |= 0x0e;
		v->gr[5] = (uint8_t)((v->gr[5] & ~0x30) | 0x40);
	}
	vga_touch(v);
}
