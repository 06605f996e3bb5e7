/*
 * devices/ide.c — PIIX3 IDE controller: the two legacy channels' register
 * files, the ATA command set of a disk (ATA/ATAPI-6), device reset and
 * signatures, interrupts, the PCI function 01.1 and the drives' life cycle.
 * The ATAPI command set lives in ide_atapi.c, the bus-master DMA engine
 * (SFF-8038i, BAR 4) in ide_bmdma.c; ide_int.h is their shared state.
 *
 * Protocol timing: commands complete inside the guest's port write (the
 * emulator is single-threaded and the disk is a host file), so BSY is never
 * observed; every state change ATA requires an interrupt for raises INTRQ at
 * that point (ATA-6 §9: PIO data-in on each DRQ block, PIO data-out after
 * each block after the first and at completion, non-data and DMA at
 * completion). A DMA command waits (DRQ set) until the bus master is started,
 * in whichever order the host does the two.
 */
#include "devices/ide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/blockdev.h"
#include "devices/ide_int.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/pci.h"

#define ATA_MAX_MULT 16

static const uint16_t cmd_base[2] = { 0x1f0, 0x170 };
static const uint16_t ctl_base[2] = { 0x3f6, 0x376 };

/* ---- interrupts ---- */

static void update_irq(struct ide_channel *ch)
{
	int level = ch->drive[ch->cur].irq && !(ch->ctl & CTL_NIEN);
	if (level != ch->irq_level) {
		ch->irq_level = level;
		irq_set(&ch->irq, level);
	}
}

void ide_raise_irq(struct ide_drive *d)
{
	d->irq = true;
	/* SFF-8038i: the Interrupt bit latches the device's INTRQ (also while
	 * nIEN masks it from the PIC, which is how SeaBIOS polls DMA). */
	d->ch->bm_status |= BM_ST_INT;
	update_irq(d->ch);
}

static void clear_irq(struct ide_drive *d)
{
	d->irq = false;
	update_irq(d->ch);
}

/* ---- command completion helpers ---- */

static uint8_t ready_status(const struct ide_drive *d)
{
	return d->atapi ? ST_DRDY : ST_DRDY | ST_DSC;
}

static void cmd_ok(struct ide_drive *d, bool irq)
{
	d->xfer = X_NONE;
	d->status = ready_status(d);
	if (irq)
		ide_raise_irq(d);
}

static void cmd_error(struct ide_drive *d, uint8_t err)
{
	d->xfer = X_NONE;
	d->error = err;
	d->status = ready_status(d) | ST_ERR;
	ide_raise_irq(d);
}

static void cmd_abort(struct ide_drive *d)
{
	cmd_error(d, ER_ABRT);
}

/* Start a PIO data-in block of n bytes already in d->buf. */
static void pio_in(struct ide_drive *d, size_t n, void (*end_fn)(struct ide_drive *))
{
	d->xfer = X_PIO_IN;
	d->pos = 0;
	d->end = n;
	d->end_fn = end_fn;
	d->status = ready_status(d) | ST_DRQ;
	ide_raise_irq(d);
}

static void pio_in_done(struct ide_drive *d)
{
	cmd_ok(d, false); /* no interrupt after the last data-in block */
}

/* ---- address decoding (ATA-6 §6.2) ---- */

static uint64_t tf_lba(const struct ide_drive *d, bool lba48)
{
	if (lba48)
		return (uint64_t)d->hob_lbah << 40 | (uint64_t)d->hob_lbam << 32 |
		       (uint64_t)d->hob_lbal << 24 | (uint32_t)d->lbah << 16 |
		       (uint32_t)d->lbam << 8 | d->lbal;
	if (d->dev & 0x40)
		return (uint32_t)(d->dev & 0xf) << 24 | (uint32_t)d->lbah << 16 |
		       (uint32_t)d->lbam << 8 | d->lbal;
	/* CHS with the current logical geometry; sector numbers start at 1. */
	uint32_t cyl = (uint32_t)d->lbah << 8 | d->lbam;
	uint32_t head = d->dev & 0xf, sect = d->lbal;
	if (!sect || !d->lspt || head >= d->lheads || sect > d->lspt)
		return UINT64_MAX;
	return ((uint64_t)cyl * d->lheads + head) * d->lspt + sect - 1;
}

/* Write lba back into the address registers (last sector transferred, or
 * the failing one), in the form the command used. */
static void set_tf_lba(struct ide_drive *d, uint64_t lba)
{
	if (d->lba48) {
		d->lbal = (uint8_t)lba;
		d->lbam = (uint8_t)(lba >> 8);
		d->lbah = (uint8_t)(lba >> 16);
		d->hob_lbal = (uint8_t)(lba >> 24);
		d->hob_lbam = (uint8_t)(lba >> 32);
		d->hob_lbah = (uint8_t)(lba >> 40);
	} else if (d->dev & 0x40) {
		d->lbal = (uint8_t)lba;
		d->lbam = (uint8_t)(lba >> 8);
		d->lbah = (uint8_t)(lba >> 16);
		d->dev = (uint8_t)((d->dev & 0xf0) | ((lba >> 24) & 0xf));
	} else if (d->lspt && d->lheads) {
		uint64_t cyl = lba / ((uint64_t)d->lheads * d->lspt);
		uint32_t r = (uint32_t)(lba % ((uint64_t)d->lheads * d->lspt));
		d->lbam = (uint8_t)cyl;
		d->lbah = (uint8_t)(cyl >> 8);
		d->dev = (uint8_t)((d->dev & 0xf0) | (r / d->lspt));
		d->lbal = (uint8_t)(r % d->lspt + 1);
	}
}

/* Decode LBA and count for a read/write command; false (command
 * completed with IDNF) if the range is outside the disk. */
static bool setup_rw(struct ide_drive *d, bool lba48)
{
	d->lba48 = lba48;
	uint64_t lba = tf_lba(d, lba48);
	uint32_t count = lba48 ? (uint32_t)d->hob_nsect << 8 | d->nsect : d->nsect;
	if (!count)
		count = lba48 ? 65536 : 256;
	if (lba >= d->nsectors || count > d->nsectors - lba) {
		cmd_error(d, ER_IDNF | ER_ABRT);
		return false;
	}
	d->lba = lba;
	d->left = count;
	return true;
}

/* ---- IDENTIFY DEVICE (ATA-6 §8.15) ---- */

static void put_identify_checksum(uint16_t *w)
{
	/* Word 255: signature A5h, then the byte that makes all 512 bytes
	 * sum to zero. */
	uint8_t sum = 0xa5;
	for (int i = 0; i < 255; i++)
		sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
	w[255] = (uint16_t)((uint8_t)(-sum) << 8 | 0xa5);
}

static void ata_identify(struct ide_drive *d, uint16_t *w)
{
	memset(w, 0, 512);
	uint64_t n = d->nsectors;
	uint32_t n28 = n > 0x0fffffff ? 0x0fffffff : (uint32_t)n;
	uint32_t chs = (uint32_t)d->lcyls * d->lheads * d->lspt;
	w[0] = 0x0040; /* ATA device, fixed */
	w[1] = d->cyls;
	w[3] = d->heads;
	w[6] = d->spt;
	ide_put_string(&w[10], d->serial, 10);
	ide_put_string(&w[23], d->fw, 4);
	ide_put_string(&w[27], d->model, 20);
	w[47] = 0x8000 | ATA_MAX_MULT;
	w[49] = 0x0b00; /* IORDY supported, LBA, DMA */
	w[50] = 0x4000;
	w[51] = 0x0200; /* PIO timing mode 2 (obsolete field) */
	w[53] = 0x0007; /* words 54-58, 64-70 and 88 valid */
	w[54] = d->lcyls;
	w[55] = d->lheads;
	w[56] = d->lspt;
	w[57] = (uint16_t)chs;
	w[58] = (uint16_t)(chs >> 16);
	w[59] = d->mult ? 0x0100 | d->mult : 0;
	w[60] = (uint16_t)n28;
	w[61] = (uint16_t)(n28 >> 16);
	w[63] = 0x0007; /* MWDMA 0-2 supported */
	if ((d->xfer_mode & 0xf8) == 0x20)
		w[63] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
	w[64] = 0x0003; /* PIO 3 and 4 */
	w[65] = w[66] = w[67] = w[68] = 120;
	w[80] = 0x007e; /* ATA-1 .. ATA-6 */
	w[82] = 0x4068; /* NOP, look-ahead, write cache, power management */
	w[83] = 0x7400; /* FLUSH CACHE EXT, FLUSH CACHE, 48-bit address */
	w[84] = 0x4000;
	w[85] = (uint16_t)(0x4008 | (d->wcache ? 0x20 : 0) | (d->lookahead ? 0x40 : 0));
	w[86] = 0x3400;
	w[87] = 0x4000;
	w[88] = 0x003f; /* UDMA 0-5 supported */
	if ((d->xfer_mode & 0xf8) == 0x40)
		w[88] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
	/* Hardware reset result: 80-conductor cable, device number by jumper,
	 * diagnostics passed. */
	w[93] = 0x6000 | (d->unit ? 0x0b00 : 0x000b);
	for (int i = 0; i < 4; i++)
		w[100 + i] = (uint16_t)(n >> (16 * i));
}

static void identify_cmd(struct ide_drive *d, bool packet)
{
	uint16_t w[256];
	if (packet)
		atapi_identify(d, w);
	else
		ata_identify(d, w);
	put_identify_checksum(w);
	for (int i = 0; i < 256; i++) {
		d->buf[2 * i] = (uint8_t)w[i];
		d->buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
	}
	pio_in(d, 512, pio_in_done);
}

/* ---- PIO read/write ---- */

static bool is_multiple(uint8_t cmd)
{
	return cmd == 0xc4 || cmd == 0xc5 || cmd == 0x29 || cmd == 0x39;
}

static uint32_t block_sectors(const struct ide_drive *d)
{
	uint32_t n = is_multiple(d->cmd) ? d->mult : 1;
	return d->left < n ? d->left : n;
}

static void pio_read_next(struct ide_drive *d);

static void pio_read_block(struct ide_drive *d)
{
	uint32_t n = block_sectors(d);
	if (blockdev_read_sectors(d->bd, d->lba, d->buf, n) < 0) {
		set_tf_lba(d, d->lba);
		cmd_error(d, ER_UNC);
		return;
	}
	pio_in(d, (size_t)n * 512, pio_read_next);
}

static void pio_read_next(struct ide_drive *d)
{
	uint32_t n = (uint32_t)(d->end / 512);
	d->lba += n;
	d->left -= n;
	set_tf_lba(d, d->lba - 1);
	if (d->left)
		pio_read_block(d);
	else
		cmd_ok(d, false);
}

static void pio_write_next(struct ide_drive *d);

static void pio_write_block(struct ide_drive *d, bool irq)
{
	d->xfer = X_PIO_OUT;
	d->pos = 0;
	d->end = (size_t)block_sectors(d) * 512;
	d->end_fn = pio_write_next;
	d->status = ready_status(d) | ST_DRQ;
	if (irq)
		ide_raise_irq(d);
}

static void pio_write_next(struct ide_drive *d)
{
	uint32_t n = (uint32_t)(d->end / 512);
	if (blockdev_write_sectors(d->bd, d->lba, d->buf, n) < 0) {
		set_tf_lba(d, d->lba);
		cmd_error(d, blockdev_readonly(d->bd) ? ER_ABRT : ER_UNC);
		return;
	}
	d->lba += n;
	d->left -= n;
	set_tf_lba(d, d->lba - 1);
	if (d->left)
		pio_write_block(d, true);
	else
		cmd_ok(d, true);
}

static void ata_dma_run(struct ide_drive *d)
{
	struct ide_channel *ch = d->ch;
	while (d->left) {
		uint32_t n = d->left < IDE_BUF_SIZE / 512 ? d->left : IDE_BUF_SIZE / 512;
		size_t bytes = (size_t)n * 512;
		if (d->dma_to_mem) {
			if (blockdev_read_sectors(d->bd, d->lba, d->buf, n) < 0)
				goto media_error;
			if (ide_dma_rw(ch, d->buf, bytes, true) < bytes)
				goto short_prd;
		} else {
			if (ide_dma_rw(ch, d->buf, bytes, false) < bytes)
				goto short_prd;
			if (blockdev_write_sectors(d->bd, d->lba, d->buf, n) < 0)
				goto media_error;
		}
		d->lba += n;
		d->left -= n;
	}
	set_tf_lba(d, d->lba - 1);
	ide_dma_finish(ch);
	cmd_ok(d, true);
	return;
short_prd:
	/* The PRD list was shorter than the transfer: the controller stops
	 * (Active=0, no Interrupt from the transfer itself); we end the
	 * command with an error so the host does not wait forever. */
	ch->bm_status |= BM_ST_ERROR;
	ide_dma_finish(ch);
	set_tf_lba(d, d->lba);
	cmd_abort(d);
	return;
media_error:
	ide_dma_finish(ch);
	set_tf_lba(d, d->lba);
	cmd_error(d, d->dma_to_mem || !blockdev_readonly(d->bd) ? ER_UNC : ER_ABRT);
}

static void ata_dma_start(struct ide_drive *d, bool to_mem)
{
	d->xfer = X_DMA;
	d->dma_to_mem = to_mem;
	d->dma_fn = ata_dma_run;
	d->status = ready_status(d) | ST_DRQ;
	ide_dma_kick(d->ch);
}

/* ---- commands ---- */

/* Reset signature (ATA-6 §9.12): packet devices 14h/EBh in LBA mid/high. */
static void set_signature(struct ide_drive *d)
{
	d->nsect = d->lbal = 1;
	d->lbam = d->lbah = 0;
	d->hob_nsect = d->hob_lbal = d->hob_lbam = d->hob_lbah = 0;
	d->dev = 0;
	if (d->present && d->atapi)
		atapi_signature(d);
}

/* Soft reset / EXECUTE DEVICE DIAGNOSTIC end state of one device. */
static void drive_soft_reset(struct ide_drive *d)
{
	d->xfer = X_NONE;
	d->irq = false;
	set_signature(d);
	d->error = 0x01; /* diagnostic code: passed (device 1 absent or passed) */
	if (!d->present)
		d->status = 0;
	else
		d->status = d->atapi ? 0 : ST_DRDY | ST_DSC;
}

static void set_features(struct ide_drive *d)
{
	switch (d->feature) {
	case 0x02: /* enable write cache */
	case 0x82: /* disable write cache */
		d->wcache = d->feature == 0x02;
		break;
	case 0x03: { /* set transfer mode from the sector count */
		uint8_t v = d->nsect, mode = v & 7;
		bool ok = (v & 0xf8) == 0x00   ? mode <= 1
			  : (v & 0xf8) == 0x08 ? mode <= 4
			  : (v & 0xf8) == 0x20 ? mode <= 2
			  : (v & 0xf8) == 0x40 ? mode <= 5
					       : false;
		if (!ok) {
			cmd_abort(d);
			return;
		}
		if ((v & 0xf8) >= 0x20)
			d->xfer_mode = v;
		break;
	}
	case 0x55: /* disable read look-ahead */
	case 0xaa: /* enable read look-ahead */
		d->lookahead = d->feature == 0xaa;
		break;
	case 0x66: /* disable / enable reverting to power-on defaults */
	case 0xcc:
		break;
	default:
		cmd_abort(d);
		return;
	}
	cmd_ok(d, true);
}

/* Commands a packet device accepts besides PACKET (ATA-6 §6.4.1). */
static bool atapi_allowed(uint8_t cmd)
{
	switch (cmd) {
	case 0x08:
	case 0x90:
	case 0xa0:
	case 0xa1:
	case 0xef:
	case 0xe0:
	case 0xe1:
	case 0xe5:
	case 0xe6:
	case 0x94:
	case 0x95:
		return true;
	default:
		return false;
	}
}

static void exec_diag(struct ide_channel *ch)
{
	for (int u = 0; u < 2; u++)
		drive_soft_reset(&ch->drive[u]);
	ch->cur = 0;
	/* Device 0 reports and interrupts for both. */
	if (ch->drive[0].present) {
		if (!ch->drive[0].atapi)
			ch->drive[0].status = ST_DRDY | ST_DSC;
		ide_raise_irq(&ch->drive[0]);
	}
}

static void ata_command(struct ide_drive *d, uint8_t cmd)
{
	struct ide_channel *ch = d->ch;
	if ((d->status & ST_BSY) && cmd != 0x08)
		return;
	d->cmd = cmd;
	d->error = 0;
	d->xfer = X_NONE;
	if (d->atapi && !atapi_allowed(cmd)) {
		/* IDENTIFY DEVICE to a packet device aborts and leaves the
		 * signature for the host to see (ATA-6 §8.15). */
		if (cmd == 0xec)
			atapi_signature(d);
		cmd_abort(d);
		return;
	}
	switch (cmd) {
	case 0xec: /* IDENTIFY DEVICE */
		identify_cmd(d, false);
		break;
	case 0xa1: /* IDENTIFY PACKET DEVICE */
		if (!d->atapi)
			cmd_abort(d);
		else
			identify_cmd(d, true);
		break;
	case 0xa0: /* PACKET */
		if (!d->atapi)
			cmd_abort(d);
		else
			atapi_packet_cmd(d);
		break;
	case 0x08: /* DEVICE RESET (packet devices, ATA-6 §8.10): no INTRQ */
		if (!d->atapi) {
			cmd_abort(d);
			break;
		}
		drive_soft_reset(d);
		break;
	case 0x90: /* EXECUTE DEVICE DIAGNOSTIC */
		exec_diag(ch);
		break;
	case 0x20:
	case 0x21: /* READ SECTORS (with/without retry) */
	case 0x24: /* READ SECTORS EXT */
	case 0xc4:
	case 0x29: /* READ MULTIPLE (EXT) */
		if (is_multiple(cmd) && !d->mult) {
			cmd_abort(d);
			break;
		}
		if (setup_rw(d, cmd == 0x24 || cmd == 0x29))
			pio_read_block(d);
		break;
	case 0x30:
	case 0x31: /* WRITE SECTORS (with/without retry) */
	case 0x34: /* WRITE SECTORS EXT */
	case 0xc5:
	case 0x39: /* WRITE MULTIPLE (EXT) */
		if (is_multiple(cmd) && !d->mult) {
			cmd_abort(d);
			break;
		}
		/* The first data-out block is requested without INTRQ. */
		if (setup_rw(d, cmd == 0x34 || cmd == 0x39))
			pio_write_block(d, false);
		break;
	case 0xc8:
	case 0xc9:
	case 0x25: /* READ DMA (EXT) */
		if (setup_rw(d, cmd == 0x25))
			ata_dma_start(d, true);
		break;
	case 0xca:
	case 0xcb:
	case 0x35: /* WRITE DMA (EXT) */
		if (setup_rw(d, cmd == 0x35))
			ata_dma_start(d, false);
		break;
	case 0x40:
	case 0x41:
	case 0x42: /* READ VERIFY SECTORS (EXT) */
		if (setup_rw(d, cmd == 0x42)) {
			set_tf_lba(d, d->lba + d->left - 1);
			cmd_ok(d, true);
		}
		break;
	case 0x70: /* SEEK */
		d->lba48 = false;
		if (tf_lba(d, false) >= d->nsectors)
			cmd_error(d, ER_IDNF | ER_ABRT);
		else
			cmd_ok(d, true);
		break;
	case 0xc6: /* SET MULTIPLE MODE: a power of two up to word 47 */
		if (d->nsect > ATA_MAX_MULT || (d->nsect & (d->nsect - 1))) {
			cmd_abort(d);
			break;
		}
		d->mult = d->nsect;
		cmd_ok(d, true);
		break;
	case 0x91: /* INITIALIZE DEVICE PARAMETERS */
		if (!d->nsect) {
			cmd_abort(d);
			break;
		}
		d->lheads = (uint16_t)((d->dev & 0xf) + 1);
		d->lspt = d->nsect;
		{
			uint64_t c = d->nsectors / ((uint64_t)d->lheads * d->lspt);
			d->lcyls = (uint16_t)(c > 65535 ? 65535 : c);
		}
		cmd_ok(d, true);
		break;
	case 0xef: /* SET FEATURES */
		set_features(d);
		break;
	case 0xe7:
	case 0xea: /* FLUSH CACHE (EXT) */
		if (blockdev_flush(d->bd) < 0)
			cmd_error(d, ER_ABRT);
		else
			cmd_ok(d, true);
		break;
	case 0xf8:
	case 0x27: { /* READ NATIVE MAX ADDRESS (EXT) */
		uint64_t max = d->nsectors - 1;
		d->lba48 = cmd == 0x27;
		if (!d->lba48) {
			d->dev |= 0x40;
			if (max > 0x0fffffff)
				max = 0x0fffffff;
		}
		set_tf_lba(d, max);
		cmd_ok(d, true);
		break;
	}
	case 0xe5:
	case 0x98: /* CHECK POWER MODE: active or idle */
		d->nsect = 0xff;
		cmd_ok(d, true);
		break;
	case 0xe0:
	case 0xe1:
	case 0xe2:
	case 0xe3: /* STANDBY/IDLE (IMMEDIATE) */
	case 0x94:
	case 0x95:
	case 0x96:
	case 0x97: /* their old opcodes */
	case 0xe6:
	case 0x99: /* SLEEP */
		cmd_ok(d, true);
		break;
	default:
		if (cmd >= 0x10 && cmd <= 0x1f) { /* RECALIBRATE (obsolete) */
			cmd_ok(d, true);
			break;
		}
		/* NOP (00h) and everything unimplemented abort (ATA-6 §8.1). */
		cmd_abort(d);
		break;
	}
}

/* ---- register file ---- */

static bool channel_empty(const struct ide_channel *ch)
{
	return !ch->drive[0].present && !ch->drive[1].present;
}

static uint32_t data_read(struct ide_drive *d, unsigned size)
{
	if (d->xfer != X_PIO_IN)
		return size == 4 ? 0xffffffffu : 0xffff;
	uint32_t v = 0;
	for (unsigned i = 0; i < size && d->pos < d->end; i++)
		v |= (uint32_t)d->buf[d->pos++] << (8 * i);
	if (d->pos >= d->end) {
		d->end_fn(d);
	}
	return v;
}

static void data_write(struct ide_drive *d, uint32_t v, unsigned size)
{
	if (d->xfer != X_PIO_OUT)
		return;
	for (unsigned i = 0; i < size && d->pos < d->end; i++)
		d->buf[d->pos++] = (uint8_t)(v >> (8 * i));
	if (d->pos >= d->end)
		d->end_fn(d);
}

static uint8_t reg_read(struct ide_channel *ch, unsigned reg)
{
	struct ide_drive *d = &ch->drive[ch->cur];
	bool hob = ch->ctl & CTL_HOB;
	if (channel_empty(ch))
		return 0;
	switch (reg) {
	case 1:
		return d->error;
	case 2:
		return hob ? d->hob_nsect : d->nsect;
	case 3:
		return hob ? d->hob_lbal : d->lbal;
	case 4:
		return hob ? d->hob_lbam : d->lbam;
	case 5:
		return hob ? d->hob_lbah : d->lbah;
	case 6:
		return d->dev;
	default:
		/* Status: an absent device 1 reads 00h (ATA-6 §9.16.1). */
		if (!d->present)
			return 0;
		if (d->irq)
			clear_irq(d);
		return d->status;
	}
}

static void reg_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
	/* Writes to the command block reach both devices; each keeps the
	 * previous value as the "high order byte" for 48-bit commands and
	 * HOB reads back the low bytes again (ATA-6 §6.2.1). */
	if (reg >= 1 && reg <= 5)
		ch->ctl &= (uint8_t)~CTL_HOB;
	for (int u = 0; u < 2; u++) {
		struct ide_drive *d = &ch->drive[u];
		switch (reg) {
		case 1:
			d->hob_feature = d->feature;
			d->feature = v;
			break;
		case 2:
			d->hob_nsect = d->nsect;
			d->nsect = v;
			break;
		case 3:
			d->hob_lbal = d->lbal;
			d->lbal = v;
			break;
		case 4:
			d->hob_lbam = d->lbam;
			d->lbam = v;
			break;
		case 5:
			d->hob_lbah = d->lbah;
			d->lbah = v;
			break;
		case 6:
			d->dev = v;
			break;
		default:
			break;
		}
	}
	if (reg == 6) {
		ch->cur = (v >> 4) & 1;
		update_irq(ch);
	} else if (reg == 7) {
		struct ide_drive *d = &ch->drive[ch->cur];
		if (d->present) {
			clear_irq(d);
			ata_command(d, v);
		}
	}
}

static uint32_t cmd_read(void *opaque, uint16_t port, unsigned size)
{
	struct ide_channel *ch = opaque;
	unsigned reg = port & 7;
	if (reg == 0) {
		if (channel_empty(ch))
			return 0;
		return data_read(&ch->drive[ch->cur], size);
	}
	uint32_t v = 0;
	for (unsigned i = 0; i < size && reg + i < 8; i++)
		v |= (uint32_t)reg_read(ch, reg + i) << (8 * i);
	return v;
}

static void cmd_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct ide_channel *ch = opaque;
	unsigned reg = port & 7;
	if (reg == 0) {
		data_write(&ch->drive[ch->cur], val, size);
		return;
	}
	for (unsigned i = 0; i < size && reg + i < 8; i++)
		reg_write(ch, reg + i, (uint8_t)(val >> (8 * i)));
}

static uint32_t ctl_read(void *opaque, uint16_t port, unsigned size)
{
	/* Alternate Status: Status without clearing the interrupt. */
	struct ide_channel *ch = opaque;
	const struct ide_drive *d = &ch->drive[ch->cur];
	return d->present ? d->status : 0;
}

static void ctl_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct ide_channel *ch = opaque;
	uint8_t old = ch->ctl;
	ch->ctl = (uint8_t)val;
	if ((val & CTL_SRST) && !(old & CTL_SRST)) {
		/* SRST asserted: both devices busy until it is released. */
		for (int u = 0; u < 2; u++) {
			struct ide_drive *d = &ch->drive[u];
			d->xfer = X_NONE;
			d->irq = false;
			if (d->present)
				d->status = ST_BSY;
		}
	} else if (!(val & CTL_SRST) && (old & CTL_SRST)) {
		/* SRST released: reset protocol ends with the signatures, no
		 * interrupt, device 0 selected (ATA-6 §9.2). */
		for (int u = 0; u < 2; u++)
			drive_soft_reset(&ch->drive[u]);
		ch->cur = 0;
	}
	update_irq(ch);
}

static const struct ioport_ops cmd_ops = { cmd_read, cmd_write, false };
static const struct ioport_ops ctl_ops = { ctl_read, ctl_write, true };

/* ---- life cycle ---- */

static void drive_power_on(struct ide_drive *d)
{
	d->mult = 0;
	d->xfer_mode = 0x22; /* MWDMA 2 */
	d->wcache = true;
	d->lookahead = true;
	d->lheads = d->heads;
	d->lspt = d->spt;
	d->lcyls = d->cyls;
	drive_soft_reset(d);
	if (d->present && d->atapi)
		atapi_reset_state(d);
}

void ide_reset(struct ide *s)
{
	for (int c = 0; c < 2; c++) {
		struct ide_channel *ch = &s->ch[c];
		ch->ctl = 0;
		ch->cur = 0;
		ch->bm_cmd = 0;
		ch->bm_status = 0;
		ch->prd = 0;
		for (int u = 0; u < 2; u++) {
			drive_power_on(&ch->drive[u]);
			if (ch->drive[u].present)
				ch->bm_status |= (uint8_t)(0x20 << u);
		}
		update_irq(ch);
	}
}

struct ide *ide_init(struct machine *m, struct pci_bus *bus, const struct irq_line irq[2])
{
	struct ide *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->m = m;
	struct pci_dev *p = pci_find(bus, PCI_DEVFN(1, 1));
	if (!p) {
		p = pci_register(bus, PCI_DEVFN(1, 1), 0x8086, 0x7010, 0x010180, 0x00, "piix3-ide");
		if (!p) {
			free(s);
			return NULL;
		}
		/* IDETIM (40h/42h) and SIDETIM (44h): timing, stored only. */
		memset(&p->wmask[0x40], 0xff, 0x05);
		pci_set_bar(p, 4, 16, PCI_BAR_IO);
	}
	/* IDETIM bit 15 (IDE Decode Enable, 82371SB IDETIM register) set at power-on
	 * for both channels: a directly booted Linux (no firmware to set it)
	 * checks it in ata_piix before probing a port; SeaBIOS writes the same
	 * value. */
	p->cfg[0x41] |= 0x80;
	p->cfg[0x43] |= 0x80;
	pci_snapshot(p);
	s->pci = p;
	p->opaque = s;
	p->bar_moved = ide_bm_bar_moved;
	if (p->bar[4].mapped)
		ide_bm_bar_moved(p, 4, p->bar[4].addr, true);
	for (int c = 0; c < 2; c++) {
		struct ide_channel *ch = &s->ch[c];
		ch->ide = s;
		ch->idx = c;
		if (irq)
			ch->irq = irq[c];
		for (int u = 0; u < 2; u++) {
			ch->drive[u].ch = ch;
			ch->drive[u].unit = u;
		}
		ioport_register(m->io, cmd_base[c], 8, &cmd_ops, ch, c ? "ide1" : "ide0");
		ioport_register(m->io, ctl_base[c], 1, &ctl_ops, ch, c ? "ide1-ctl" : "ide0-ctl");
	}
	ide_reset(s);
	return s;
}

bool ide_attach(struct ide *s, int index, const struct ide_drive_config *cfg)
{
	if (index < 0 || index >= IDE_MAX_DRIVES) {
		fprintf(stderr, "nestbox: IDE drive index %d out of range (0-3)\n", index);
		return false;
	}
	struct ide_drive *d = &s->ch[index / 2].drive[index % 2];
	if (d->present) {
		fprintf(stderr, "nestbox: IDE drive index %d is already in use\n", index);
		return false;
	}
	if (!cfg->cdrom && !cfg->bd) {
		fprintf(stderr, "nestbox: IDE disk %d needs an image file\n", index);
		return false;
	}
	uint8_t *buf = malloc(IDE_BUF_SIZE);
	if (!buf)
		return false;
	d->buf = buf;
	d->present = true;
	d->atapi = cfg->cdrom;
	d->bd = cfg->bd;
	snprintf(d->model, sizeof(d->model), "%s",
		 cfg->model   ? cfg->model
		 : cfg->cdrom ? "NESTBOX DVD-ROM"
			      : "NESTBOX HARDDISK");
	if (cfg->serial)
		snprintf(d->serial, sizeof(d->serial), "%s", cfg->serial);
	else
		snprintf(d->serial, sizeof(d->serial), "NB%018d", index + 1);
	snprintf(d->fw, sizeof(d->fw), "1.0");
	if (!d->atapi) {
		d->nsectors = blockdev_size(d->bd) / 512;
		/* Default translation 16 heads x 63 sectors (ATA-6 §6.2.1: at
		 * most 16383 cylinders reported for large disks). */
		uint64_t c = d->nsectors / (16 * 63);
		d->heads = 16;
		d->spt = 63;
		d->cyls = (uint16_t)(c > 16383 ? 16383 : c ? c : 1);
	}
	drive_power_on(d);
	struct ide_channel *ch = d->ch;
	ch->bm_status |= (uint8_t)(0x20 << d->unit);
	return true;
}

bool ide_cd_change(struct ide *s, int index, struct blockdev *bd)
{
	if (index < 0 || index >= IDE_MAX_DRIVES)
		return false;
	struct ide_drive *d = &s->ch[index / 2].drive[index % 2];
	if (!d->present || !d->atapi || d->locked)
		return false;
	d->bd = bd;
	atapi_reset_state(d);
	d->ua_pending = true;
	return true;
}

void ide_free(struct ide *s)
{
	if (!s)
		return;
	if (s->pci) {
		s->pci->bar_moved = NULL;
		s->pci->opaque = NULL;
	}
	for (int c = 0; c < 2; c++)
		for (int u = 0; u < 2; u++)
			free(s->ch[c].drive[u].buf);
	free(s);
}
