/*
 * devices/ide_atapi.c — ATAPI CD/DVD-ROM on the IDE controller: the PACKET
 * protocol (ATA/ATAPI-6 §9.8 PIO and §9.9 DMA) and the SCSI/MMC commands
 * that SeaBIOS and Linux (libata + sr + cdrom) issue.
 *
 * PACKET: the host writes the byte count limit into LBA mid/high and the
 * command; the device asks for the 12-byte CDB (DRQ, interrupt reason C/D=1,
 * I/O=0) without an interrupt (IDENTIFY PACKET word 0 says "DRQ within
 * 50 us"). After the CDB, data-in goes out in DRQ chunks of at most the byte
 * count limit (I/O=1, C/D=0, byte count in LBA mid/high, INTRQ per chunk),
 * or by bus-master DMA when Features bit 0 was set; the command ends with
 * I/O=1, C/D=1, DRDY, INTRQ, and ERR plus the sense key in the Error
 * register's high nibble on CHECK CONDITION.
 *
 * Sense data (SPC-3 fixed format) stays until the next command other than
 * REQUEST SENSE. A disc of more than 405,000 blocks (~830 MB) reports the
 * DVD-ROM profile, a smaller one CD-ROM.
 */
#include <stdio.h>
#include <string.h>

#include "devices/blockdev.h"
#include "devices/ide_int.h"

/* MMC opcodes. */
enum {
	SC_TEST_UNIT_READY = 0x00,
	SC_REQUEST_SENSE = 0x03,
	SC_INQUIRY = 0x12,
	SC_START_STOP_UNIT = 0x1b,
	SC_PREVENT_ALLOW = 0x1e,
	SC_READ_CAPACITY = 0x25,
	SC_READ_10 = 0x28,
	SC_SEEK_10 = 0x2b,
	SC_SYNC_CACHE = 0x35,
	SC_READ_TOC = 0x43,
	SC_GET_CONFIGURATION = 0x46,
	SC_GET_EVENT_STATUS = 0x4a,
	SC_MODE_SENSE_10 = 0x5a,
	SC_READ_12 = 0xa8,
	SC_SET_CD_SPEED = 0xbb,
	SC_MECHANISM_STATUS = 0xbd,
};

#define DVD_MIN_BLOCKS 405000u
#define PROFILE_CDROM  0x0008
#define PROFILE_DVDROM 0x0010

static inline void be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline uint32_t get_be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}
static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool has_medium(const struct ide_drive *d)
{
	return d->bd && !d->tray_open;
}

/* ---- identification and reset ---- */

void atapi_signature(struct ide_drive *d)
{
	d->nsect = d->lbal = 1;
	d->lbam = 0x14;
	d->lbah = 0xeb;
}

void atapi_reset_state(struct ide_drive *d)
{
	d->sense_key = SK_NO_SENSE;
	d->asc = d->ascq = 0;
	d->tray_open = false;
	d->locked = false;
	d->ua_pending = false;
	d->media_event = 0;
	d->cd_blocks = d->bd ? (blockdev_size(d->bd) + CD_BLOCK - 1) / CD_BLOCK : 0;
	if (d->cd_blocks > 0xffffffffu)
		d->cd_blocks = 0xffffffffu;
}

/* IDENTIFY PACKET DEVICE (ATA/ATAPI-6 §8.16). */
void atapi_identify(struct ide_drive *d, uint16_t *w)
{
	memset(w, 0, 512);
	/* ATAPI, CD-ROM class (05h), removable, DRQ within 50 us, 12-byte
	 * packets. */
	w[0] = 0x85c0;
	ide_put_string(&w[10], d->serial, 10);
	ide_put_string(&w[23], d->fw, 4);
	ide_put_string(&w[27], d->model, 20);
	w[49] = 0x0b00; /* IORDY, LBA, DMA */
	w[53] = 0x0006; /* words 64-70 and 88 valid */
	w[63] = 0x0007;
	if ((d->xfer_mode & 0xf8) == 0x20)
		w[63] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
	w[64] = 0x0003;
	w[65] = w[66] = w[67] = w[68] = 120;
	w[71] = 30; /* PACKET to bus release, ns */
	w[72] = 30;
	w[80] = 0x007e;
	w[82] = 0x0210; /* DEVICE RESET, PACKET feature set */
	w[83] = 0x4000;
	w[84] = 0x4000;
	w[85] = 0x0210;
	w[87] = 0x4000;
	w[88] = 0x003f;
	if ((d->xfer_mode & 0xf8) == 0x40)
		w[88] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
	w[93] = 0x6000 | (d->unit ? 0x0b00 : 0x000b);
}

/* ---- command end ---- */

static void atapi_ok(struct ide_drive *d)
{
	d->xfer = X_NONE;
	d->nsect = (uint8_t)((d->nsect & ~7u) | IR_IO | IR_COD);
	d->status = ST_DRDY;
	ide_raise_irq(d);
}

/* CHECK CONDITION with the given sense. */
static void atapi_check(struct ide_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
	d->sense_key = key;
	d->asc = asc;
	d->ascq = ascq;
	d->xfer = X_NONE;
	d->error = (uint8_t)(key << 4);
	d->nsect = (uint8_t)((d->nsect & ~7u) | IR_IO | IR_COD);
	d->status = ST_DRDY | ST_ERR;
	ide_raise_irq(d);
}

static bool need_medium(struct ide_drive *d)
{
	if (has_medium(d))
		return true;
	atapi_check(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0);
	return false;
}

/* ---- data-in ---- */

/* Load the next blocks of a READ into buf (the tail of a disc image that
 * is not a multiple of 2048 bytes reads as zeros). */
static bool refill(struct ide_drive *d)
{
	uint32_t n = d->left < IDE_BUF_SIZE / CD_BLOCK ? d->left : IDE_BUF_SIZE / CD_BLOCK;
	if (!n || !has_medium(d)) {
		atapi_check(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0);
		return false;
	}
	uint64_t off = d->lba * CD_BLOCK, size = blockdev_size(d->bd);
	size_t len = (size_t)n * CD_BLOCK, have = off + len <= size ? len : (size_t)(size - off);
	if (blockdev_read(d->bd, off, d->buf, have) < 0) {
		atapi_check(d, SK_MEDIUM_ERROR, 0x11, 0); /* unrecovered read error */
		return false;
	}
	memset(d->buf + have, 0, len - have);
	d->avail = len;
	d->pos = 0;
	d->lba += n;
	d->left -= n;
	return true;
}

static void pio_next(struct ide_drive *d);

static void pio_chunk_done(struct ide_drive *d)
{
	pio_next(d);
}

/* Offer the next DRQ chunk, or end the command. */
static void pio_next(struct ide_drive *d)
{
	if (!d->cd_bytes) {
		atapi_ok(d);
		return;
	}
	if (d->pos >= d->avail && !refill(d))
		return;
	size_t chunk = d->avail - d->pos;
	if (chunk > d->cd_bytes)
		chunk = d->cd_bytes;
	if (chunk > d->bcl)
		chunk = d->bcl;
	d->cd_bytes -= chunk;
	d->end = d->pos + chunk;
	d->lbam = (uint8_t)chunk;
	d->lbah = (uint8_t)(chunk >> 8);
	d->nsect = (uint8_t)((d->nsect & ~7u) | IR_IO);
	d->xfer = X_PIO_IN;
	d->end_fn = pio_chunk_done;
	d->status = ST_DRDY | ST_DRQ;
	ide_raise_irq(d);
}

static void dma_run(struct ide_drive *d)
{
	struct ide_channel *ch = d->ch;
	while (d->cd_bytes) {
		if (d->pos >= d->avail && !refill(d)) {
			ide_dma_finish(ch);
			return;
		}
		size_t chunk = d->avail - d->pos;
		if (chunk > d->cd_bytes)
			chunk = d->cd_bytes;
		size_t moved = ide_dma_rw(ch, d->buf + d->pos, chunk, true);
		d->pos += moved;
		d->cd_bytes -= moved;
		if (moved < chunk) {
			/* PRD list shorter than the data. */
			ide_dma_finish(ch);
			atapi_check(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
			return;
		}
	}
	ide_dma_finish(ch);
	atapi_ok(d);
}

/* Send the response: total bytes, of which buf holds avail (READ refills
 * the rest). */
static void send_data(struct ide_drive *d, size_t total)
{
	d->cd_bytes = total;
	d->pos = 0;
	if (!total) {
		atapi_ok(d);
		return;
	}
	if (d->feature & 1) { /* DMA */
		d->xfer = X_DMA;
		d->dma_fn = dma_run;
		d->status = ST_DRDY | ST_DRQ;
		ide_dma_kick(d->ch);
		return;
	}
	pio_next(d);
}

/* Reply with len bytes built in buf, cut to the allocation length. */
static void reply(struct ide_drive *d, size_t len, size_t alloc)
{
	if (len > alloc)
		len = alloc;
	d->avail = len;
	d->left = 0;
	send_data(d, len);
}

/* ---- MMC commands ---- */

static uint32_t profile(const struct ide_drive *d)
{
	if (!has_medium(d))
		return 0;
	return d->cd_blocks > DVD_MIN_BLOCKS ? PROFILE_DVDROM : PROFILE_CDROM;
}

static void cmd_read(struct ide_drive *d, uint64_t lba, uint32_t count)
{
	if (!need_medium(d))
		return;
	if (lba > d->cd_blocks || count > d->cd_blocks - lba) {
		atapi_check(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		return;
	}
	d->lba = lba;
	d->left = count;
	d->avail = 0;
	send_data(d, (size_t)count * CD_BLOCK);
}

static void cmd_inquiry(struct ide_drive *d, const uint8_t *p)
{
	if (p[1] & 1) { /* EVPD: no vital product data pages */
		atapi_check(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
		return;
	}
	uint8_t *b = d->buf;
	memset(b, 0, 36);
	b[0] = 0x05; /* CD/DVD device */
	b[1] = 0x80; /* removable */
	b[2] = 0x00; /* no claimed SCSI version (usual for ATAPI) */
	b[3] = 0x21; /* ATAPI transport version 2, response format 1 */
	b[4] = 31;   /* additional length */
	memcpy(&b[8], "NESTBOX ", 8);
	char prod[17];
	snprintf(prod, sizeof(prod), "%-16.16s", d->model);
	memcpy(&b[16], prod, 16);
	char rev[5];
	snprintf(rev, sizeof(rev), "%-4.4s", d->fw);
	memcpy(&b[32], rev, 4);
	reply(d, 36, p[4]);
}

static void cmd_request_sense(struct ide_drive *d, const uint8_t *p)
{
	uint8_t *b = d->buf;
	memset(b, 0, 18);
	b[0] = 0x70; /* current error, fixed format */
	b[2] = d->sense_key;
	b[7] = 10;
	b[12] = d->asc;
	b[13] = d->ascq;
	d->sense_key = SK_NO_SENSE;
	d->asc = d->ascq = 0;
	reply(d, 18, p[4]);
}

static void cmd_read_capacity(struct ide_drive *d, const uint8_t *p)
{
	if (!need_medium(d))
		return;
	be32(d->buf, (uint32_t)(d->cd_blocks ? d->cd_blocks - 1 : 0));
	be32(d->buf + 4, CD_BLOCK);
	reply(d, 8, 8);
}

/* MSF address of a logical block (MMC: LBA 0 is 00:02:00). */
static void put_addr(uint8_t *b, uint32_t lba, bool msf)
{
	if (!msf) {
		be32(b, lba);
		return;
	}
	uint32_t f = lba + 150;
	b[0] = 0;
	b[1] = (uint8_t)(f / (75 * 60));
	b[2] = (uint8_t)(f / 75 % 60);
	b[3] = (uint8_t)(f % 75);
}

static void cmd_read_toc(struct ide_drive *d, const uint8_t *p)
{
	if (!need_medium(d))
		return;
	bool msf = p[1] & 2;
	unsigned format = p[2] & 0xf;
	if (!format)
		format = p[9] >> 6; /* the older SFF-8020 place of the format */
	unsigned start = p[6];
	uint8_t *b = d->buf;
	size_t len = 4;
	memset(b, 0, 32);
	switch (format) {
	case 0: /* TOC: one data track and the lead-out */
		if (start > 1 && start != 0xaa) {
			atapi_check(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
			return;
		}
		b[2] = 1;
		b[3] = 1;
		if (start <= 1) {
			b[len + 1] = 0x14; /* ADR 1, data track */
			b[len + 2] = 1;
			put_addr(&b[len + 4], 0, msf);
			len += 8;
		}
		b[len + 1] = 0x14;
		b[len + 2] = 0xaa;
		put_addr(&b[len + 4], (uint32_t)d->cd_blocks, msf);
		len += 8;
		break;
	case 1: /* session info: one session starting at track 1, LBA 0 */
		b[2] = 1;
		b[3] = 1;
		b[5] = 0x14;
		b[6] = 1;
		put_addr(&b[8], 0, msf);
		len = 12;
		break;
	default:
		atapi_check(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
		return;
	}
	be16(b, (uint32_t)len - 2);
	reply(d, len, get_be16(&p[7]));
}

/* MMC capabilities and mechanical status page 2Ah (MMC-2 §5.5.10). */
static size_t page_2a(const struct ide_drive *d, uint8_t *b, bool changeable)
{
	memset(b, 0, 22);
	b[0] = 0x2a;
	b[1] = 20;
	if (changeable)
		return 22;
	b[2] = 0x3b; /* reads CD-R, CD-RW, DVD-ROM, DVD-R, DVD-RAM */
	b[4] = 0x71; /* audio play, mode 2 form 1/2, multi-session */
	b[6] = (uint8_t)(0x29 | (d->locked ? 0x02 : 0)); /* tray, eject, lock */
	be16(&b[8], 706 * 4);                            /* maximum read speed, kB/s (obsolete) */
	be16(&b[10], 256);                               /* volume levels */
	be16(&b[12], 512);                               /* buffer size, KiB */
	be16(&b[14], 706 * 4);                           /* current read speed */
	return 22;
}

static size_t page_01(uint8_t *b, bool changeable)
{
	memset(b, 0, 8);
	b[0] = 0x01; /* read/write error recovery */
	b[1] = 6;
	if (!changeable)
		b[3] = 5; /* read retry count */
	return 8;
}

static void cmd_mode_sense(struct ide_drive *d, const uint8_t *p)
{
	unsigned pc = p[2] >> 6, page = p[2] & 0x3f;
	bool ch = pc == 1;
	if (pc == 3) {
		atapi_check(d, SK_ILLEGAL_REQUEST, 0x39, 0); /* saving not supported */
		return;
	}
	uint8_t *b = d->buf;
	memset(b, 0, 8);
	size_t len = 8;
	switch (page) {
	case 0x01:
		len += page_01(b + len, ch);
		break;
	case 0x2a:
		len += page_2a(d, b + len, ch);
		break;
	case 0x3f:
		len += page_01(b + len, ch);
		len += page_2a(d, b + len, ch);
		break;
	default:
		atapi_check(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
		return;
	}
	be16(b, (uint32_t)len - 2);
	b[2] = d->tray_open ? 0x71 : d->bd ? 0x01 : 0x70; /* medium type */
	reply(d, len, get_be16(&p[7]));
}

/* GET CONFIGURATION (MMC-3 §6.6): profile list, core, morphing, removable
 * medium, random readable, CD read and DVD read features. */
static void cmd_get_configuration(struct ide_drive *d, const uint8_t *p)
{
	unsigned rt = p[1] & 3, first = get_be16(&p[2]);
	uint32_t cur = profile(d);
	bool media = has_medium(d);
	uint8_t *b = d->buf;
	memset(b, 0, 128);
	size_t len = 8;
	static const uint16_t feats[] = { 0x0000, 0x0001, 0x0002, 0x0003, 0x0010, 0x001e, 0x001f };
	for (unsigned i = 0; i < sizeof(feats) / sizeof(feats[0]); i++) {
		unsigned f = feats[i];
		bool current = f == 0x10 || f == 0x1e || f == 0x1f ? media : true;
		if (f == 0x1e && cur != PROFILE_CDROM)
			current = false;
		if (f == 0x1f && cur != PROFILE_DVDROM)
			current = false;
		if (f < first || (rt == 1 && !current) || (rt == 2 && f != first))
			continue;
		uint8_t *e = b + len;
		be16(e, f);
		e[2] = (uint8_t)((f <= 3 ? 0x02 : 0) | (current ? 1 : 0)); /* persistent, current */
		switch (f) {
		case 0x0000: /* profile list: DVD-ROM, CD-ROM */
			e[3] = 8;
			be16(&e[4], PROFILE_DVDROM);
			e[6] = cur == PROFILE_DVDROM;
			be16(&e[8], PROFILE_CDROM);
			e[10] = cur == PROFILE_CDROM;
			break;
		case 0x0001:          /* core: ATAPI interface */
			e[2] |= 0x04; /* version 1 */
			e[3] = 8;
			be32(&e[4], 2);
			e[8] = 0x01; /* DBE */
			break;
		case 0x0002: /* morphing: GESN polling only */
			e[2] |= 0x04;
			e[3] = 4;
			e[4] = 0x02; /* OCEvent */
			break;
		case 0x0003: /* removable medium: tray, eject, lock */
			e[3] = 4;
			e[4] = 0x29 | (d->locked ? 0x04 : 0);
			break;
		case 0x0010: /* random readable */
			e[3] = 8;
			be32(&e[4], CD_BLOCK);
			be16(&e[8], cur == PROFILE_DVDROM ? 16 : 1);
			break;
		default: /* CD read / DVD read */
			e[3] = 4;
			break;
		}
		len += 4 + e[3];
	}
	be32(b, (uint32_t)len - 4);
	be16(&b[6], cur);
	reply(d, len, get_be16(&p[7]));
}

/* GET EVENT STATUS NOTIFICATION (MMC-3 §6.7), polled mode, media class. */
static void cmd_gesn(struct ide_drive *d, const uint8_t *p)
{
	if (!(p[1] & 1)) { /* asynchronous mode is not supported */
		atapi_check(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
		return;
	}
	uint8_t *b = d->buf;
	memset(b, 0, 8);
	size_t len;
	b[3] = 0x10; /* supported classes: media */
	if (p[4] & 0x10) {
		b[2] = 4; /* media class */
		b[4] = d->media_event;
		b[5] = (uint8_t)((has_medium(d) ? 0x02 : 0) | (d->tray_open ? 0x01 : 0));
		d->media_event = 0;
		len = 8;
	} else {
		b[2] = 0x80; /* NEA: no requested class is supported */
		len = 4;
	}
	be16(b, (uint32_t)len - 4);
	reply(d, len, get_be16(&p[7]));
}

static void cmd_start_stop(struct ide_drive *d, const uint8_t *p)
{
	bool loej = p[4] & 2, start = p[4] & 1;
	if (loej) {
		if (!start) { /* eject */
			if (d->locked) {
				atapi_check(d, SK_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 2);
				return;
			}
			if (!d->tray_open && d->bd)
				d->media_event = 3; /* media removal */
			d->tray_open = true;
		} else if (d->tray_open) { /* load */
			d->tray_open = false;
			if (d->bd)
				d->media_event = 2; /* new media */
		}
	}
	atapi_ok(d);
}

static void cmd_mechanism_status(struct ide_drive *d, const uint8_t *p)
{
	uint8_t *b = d->buf;
	memset(b, 0, 8);
	b[1] = d->tray_open ? 0x10 : 0; /* door open; mechanism idle */
	reply(d, 8, get_be16(&p[8]));
}

/* The CDB has arrived. */
static void atapi_exec(struct ide_drive *d)
{
	uint8_t *p = d->packet;
	memcpy(p, d->buf, 12);
	d->error = 0;
	if (p[0] != SC_REQUEST_SENSE) {
		d->sense_key = SK_NO_SENSE;
		d->asc = d->ascq = 0;
	}
	/* A pending UNIT ATTENTION fails the next command except those that
	 * report status (SPC-3 §5.9.7, MMC GESN). */
	if (d->ua_pending && p[0] != SC_INQUIRY && p[0] != SC_REQUEST_SENSE &&
	    p[0] != SC_GET_EVENT_STATUS && p[0] != SC_GET_CONFIGURATION) {
		d->ua_pending = false;
		atapi_check(d, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
		return;
	}
	switch (p[0]) {
	case SC_TEST_UNIT_READY:
		if (need_medium(d))
			atapi_ok(d);
		break;
	case SC_REQUEST_SENSE:
		cmd_request_sense(d, p);
		break;
	case SC_INQUIRY:
		cmd_inquiry(d, p);
		break;
	case SC_START_STOP_UNIT:
		cmd_start_stop(d, p);
		break;
	case SC_PREVENT_ALLOW:
		d->locked = p[4] & 1;
		atapi_ok(d);
		break;
	case SC_READ_CAPACITY:
		cmd_read_capacity(d, p);
		break;
	case SC_READ_10:
		cmd_read(d, get_be32(&p[2]), get_be16(&p[7]));
		break;
	case SC_READ_12:
		cmd_read(d, get_be32(&p[2]), get_be32(&p[6]));
		break;
	case SC_SEEK_10:
		if (!need_medium(d))
			break;
		if (get_be32(&p[2]) >= d->cd_blocks)
			atapi_check(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		else
			atapi_ok(d);
		break;
	case SC_SYNC_CACHE:
	case SC_SET_CD_SPEED:
		atapi_ok(d);
		break;
	case SC_READ_TOC:
		cmd_read_toc(d, p);
		break;
	case SC_GET_CONFIGURATION:
		cmd_get_configuration(d, p);
		break;
	case SC_GET_EVENT_STATUS:
		cmd_gesn(d, p);
		break;
	case SC_MODE_SENSE_10:
		cmd_mode_sense(d, p);
		break;
	case SC_MECHANISM_STATUS:
		cmd_mechanism_status(d, p);
		break;
	default:
		atapi_check(d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		break;
	}
}

void atapi_packet_cmd(struct ide_drive *d)
{
	/* Byte count limit: even, and 0 / FFFFh mean "as much as allowed". */
	uint32_t bcl = (uint32_t)d->lbah << 8 | d->lbam;
	if (!bcl || bcl == 0xffff)
		bcl = 0xfffe;
	d->bcl = bcl & ~1u ? bcl & ~1u : 2;
	d->xfer = X_PIO_OUT;
	d->pos = 0;
	d->end = 12;
	d->end_fn = atapi_exec;
	d->nsect = (uint8_t)((d->nsect & ~7u) | IR_COD);
	d->status = ST_DRDY | ST_DRQ;
}
