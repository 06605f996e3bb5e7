/*
 * devices/ide_int.h — state shared by the IDE controller (ide.c: registers,
 * ATA commands, bus-master DMA) and the ATAPI command set (ide_atapi.c).
 * Private to those two files.
 */
#ifndef NESTBOX_DEVICES_IDE_INT_H
#define NESTBOX_DEVICES_IDE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/ide.h"

/* Status register (ATA/ATAPI-6 §7.15). */
#define ST_ERR  0x01
#define ST_DRQ  0x08
#define ST_DSC  0x10 /* obsolete "seek complete"; SERV on packet devices */
#define ST_DF   0x20
#define ST_DRDY 0x40
#define ST_BSY  0x80
/* Error register (§7.9). */
#define ER_ABRT 0x04
#define ER_IDNF 0x10
#define ER_UNC  0x40
/* Device control register (§7.8). */
#define CTL_NIEN 0x02
#define CTL_SRST 0x04
#define CTL_HOB  0x80
/* ATAPI interrupt reason (sector count register, §8.21). */
#define IR_COD 0x01
#define IR_IO  0x02

/* SCSI sense keys and the additional sense codes used (SPC/MMC). */
#define SK_NO_SENSE             0x0
#define SK_NOT_READY            0x2
#define SK_MEDIUM_ERROR         0x3
#define SK_ILLEGAL_REQUEST      0x5
#define SK_UNIT_ATTENTION       0x6
#define ASC_INVALID_OPCODE      0x20
#define ASC_LBA_OUT_OF_RANGE    0x21
#define ASC_INVALID_FIELD       0x24
#define ASC_MEDIUM_CHANGED      0x28
#define ASC_RESET               0x29
#define ASC_INCOMPATIBLE_MEDIUM 0x30
#define ASC_MEDIUM_NOT_PRESENT  0x3a
#define ASC_REMOVAL_PREVENTED   0x53

/* Bus master registers (SFF-8038i §2.1). */
#define BM_CMD_START 0x01
#define BM_CMD_TOMEM 0x08 /* "read/write control": 1 = device to memory */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR  0x02
#define BM_ST_INT    0x04
#define BM_ST_CAP    0x60 /* drive 0/1 DMA capable (software-set) */

#define IDE_BUF_SIZE (128 * 1024) /* 256 disk sectors / 64 CD blocks */
#define CD_BLOCK     2048

enum ide_xfer {
	X_NONE,
	X_PIO_IN,  /* device -> host through the data port */
	X_PIO_OUT, /* host -> device through the data port */
	X_DMA      /* waiting for (or doing) a bus-master transfer */
};

struct ide_channel;

struct ide_drive {
	struct ide_channel *ch;
	int unit; /* 0 master, 1 slave */
	bool present, atapi;
	struct blockdev *bd;
	uint64_t nsectors;            /* disk: 512-byte sectors */
	uint16_t cyls, heads, spt;    /* default geometry (IDENTIFY words 1/3/6) */
	uint16_t lcyls, lheads, lspt; /* current geometry (INITIALIZE DEVICE PARAMETERS) */
	char model[41], serial[21], fw[9];

	/* Task file: every device keeps its own copy; writes reach both. */
	uint8_t feature, nsect, lbal, lbam, lbah;
	uint8_t hob_feature, hob_nsect, hob_lbal, hob_lbam, hob_lbah;
	uint8_t dev, status, error;
	bool irq; /* INTRQ pending (cleared by reading Status) */

	uint8_t cmd;
	uint8_t mult;      /* READ/WRITE MULTIPLE block size, 0 = disabled */
	uint8_t xfer_mode; /* SET FEATURES 03h value: 0x08|pio, 0x20|mwdma, 0x40|udma */
	bool wcache, lookahead;

	/* Data transfer. PIO: buf[pos..end) is the current DRQ data block;
	 * when the host has drained/filled it, end_fn runs. DMA: dma_fn runs
	 * when the bus master is started. */
	enum ide_xfer xfer;
	uint8_t *buf;
	size_t pos, end;
	void (*end_fn)(struct ide_drive *d);
	void (*dma_fn)(struct ide_drive *d);
	bool dma_to_mem;
	uint64_t lba;  /* next sector (ATA) / block (ATAPI) */
	uint32_t left; /* sectors / blocks still to transfer */
	bool lba48;

	/* ATAPI. */
	uint8_t packet[12];
	uint8_t sense_key, asc, ascq;
	uint32_t bcl;       /* byte count limit of the PACKET command */
	size_t cd_bytes;    /* bytes of the response not yet handed to the host */
	size_t avail;       /* valid bytes in buf (response data) */
	uint64_t cd_blocks; /* 2048-byte blocks of the disc */
	bool tray_open, locked, ua_pending;
	uint8_t media_event; /* GESN media event code to report (0 = none) */
};

struct ide_channel {
	struct ide *ide;
	int idx;
	struct ide_drive drive[2];
	uint8_t ctl; /* device control register */
	int cur;     /* selected unit */
	struct irq_line irq;
	int irq_level;
	/* Bus master (SFF-8038i §2.1): command, status, PRD table pointer. */
	uint8_t bm_cmd, bm_status;
	uint32_t prd;
	/* Scatter-gather cursor of the transfer in progress. */
	uint32_t prd_next; /* address of the next PRD entry */
	uint32_t seg_addr, seg_left;
	bool seg_eot;      /* the current segment is the last one */
	unsigned prd_used; /* entries read for this transfer */
};

struct ide {
	struct machine *m;
	struct pci_dev *pci;
	struct ide_channel ch[2];
	uint16_t bm_base;
	bool bm_mapped;
	uint32_t bm_registered[8]; /* I/O bases registered so far (+1, 0 = none) */
};

/* ide.c services used by ide_atapi.c. */
void ide_raise_irq(struct ide_drive *d);
/* Move bytes between buf and guest memory along the PRD list; returns the
 * number moved (less than n when the PRD list ran out). */
size_t ide_dma_rw(struct ide_channel *ch, uint8_t *buf, size_t n, bool to_mem);
/* End a DMA transfer: BM status Active cleared when the PRD list was used
 * up exactly; Interrupt comes with the drive's INTRQ. */
void ide_dma_finish(struct ide_channel *ch);
bool ide_dma_ready(struct ide_channel *ch);
/* Run the channel's pending DMA command (X_DMA) if the bus master is on,
 * with the scatter-gather cursor at the start of the PRD table. */
void ide_dma_kick(struct ide_channel *ch);

/* ide_bmdma.c: BAR 4 moved (the pci_dev bar_moved hook). */
struct pci_dev;
void ide_bm_bar_moved(struct pci_dev *p, int bar, uint64_t addr, bool mapped);

/* ide_atapi.c. */
void atapi_identify(struct ide_drive *d, uint16_t *w);
void atapi_packet_cmd(struct ide_drive *d); /* PACKET: wait for the CDB */
void atapi_signature(struct ide_drive *d);
void atapi_reset_state(struct ide_drive *d); /* power-on / hardware reset */

/* IDENTIFY string fields: ATA strings hold two characters per word, the
 * first in the high byte (§7.16.7), padded with spaces. */
static inline void ide_put_string(uint16_t *w, const char *s, unsigned words)
{
	size_t n = 0;
	while (s[n])
		n++;
	for (unsigned i = 0; i < words; i++) {
		unsigned a = 2 * i < n ? (uint8_t)s[2 * i] : ' ';
		unsigned b = 2 * i + 1 < n ? (uint8_t)s[2 * i + 1] : ' ';
		w[i] = (uint16_t)(a << 8 | b);
	}
}

#endif
