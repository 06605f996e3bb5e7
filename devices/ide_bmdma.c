/*
 * devices/ide_bmdma.c — the PIIX3 IDE bus-master function (SFF-8038i
 * "Programming Interface for Bus Master IDE Controller"): per channel a
 * command register (Start/Stop, direction), a status register (Active,
 * Error, Interrupt, drive DMA-capable bits) and the PRD table pointer, at
 * PCI BAR 4 (16 I/O ports, channel 1 at +8), and the scatter-gather engine
 * that moves a drive's data along the PRD list with phys_read_buf /
 * phys_write_buf.
 *
 * PRD entry (8 bytes, table dword aligned, not crossing 64 KiB):
 *   dword 0  bits 31:1 physical buffer address (bit 0 zero)
 *   dword 1  bits 15:1 byte count (0 = 64 KiB), bit 31 EOT (last entry)
 */
#include "devices/ide_int.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

#define PRD_MAX_ENTRIES 8192 /* a PRD table may not cross 64 KiB */

/* ---- bus-master DMA (SFF-8038i) ---- */

bool ide_dma_ready(struct ide_channel *ch)
{
	struct pci_dev *p = ch->ide->pci;
	return (ch->bm_cmd & BM_CMD_START) && (p->cfg[PCI_COMMAND] & PCI_CMD_MASTER);
}

size_t ide_dma_rw(struct ide_channel *ch, uint8_t *buf, size_t n, bool to_mem)
{
	struct mmu *mmu = ch->ide->m->mmu;
	size_t done = 0;
	while (done < n) {
		if (!ch->seg_left) {
			if (ch->seg_eot || ch->prd_used >= PRD_MAX_ENTRIES)
				break;
			/* PRD: dword 0 = buffer address (bit 0 zero), dword 1 =
			 * byte count in bits 15:1 (0 = 64 KiB), EOT in bit 31. */
			uint32_t addr = (uint32_t)phys_read(mmu, ch->prd_next, 4);
			uint32_t cnt = (uint32_t)phys_read(mmu, ch->prd_next + 4, 4);
			ch->prd_next += 8;
			ch->prd_used++;
			ch->seg_addr = addr & ~1u;
			ch->seg_left = (cnt & 0xfffe) ? (cnt & 0xfffe) : 0x10000;
			ch->seg_eot = cnt >> 31;
		}
		size_t len = ch->seg_left < n - done ? ch->seg_left : n - done;
		if (to_mem)
			phys_write_buf(mmu, ch->seg_addr, buf + done, len);
		else
			phys_read_buf(mmu, ch->seg_addr, buf + done, len);
		ch->seg_addr += (uint32_t)len;
		ch->seg_left -= (uint32_t)len;
		done += len;
	}
	return done;
}

void ide_dma_finish(struct ide_channel *ch)
{
	/* Active stays set when the PRD list is longer than the transfer
	 * (SFF-8038i Table 2: Interrupt=1, Active=1). */
	if (ch->seg_eot && !ch->seg_left)
		ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
}

/* Run the pending DMA command of the channel if the bus master is on. */
void ide_dma_kick(struct ide_channel *ch)
{
	if (!ide_dma_ready(ch))
		return;
	for (int u = 0; u < 2; u++) {
		struct ide_drive *d = &ch->drive[u];
		if (d->xfer != X_DMA)
			continue;
		ch->prd_next = ch->prd;
		ch->seg_left = 0;
		ch->seg_eot = false;
		ch->prd_used = 0;
		d->dma_fn(d);
		return;
	}
}

/* ---- bus master registers (BAR 4) ---- */

static uint32_t bm_read(void *opaque, uint16_t port, unsigned size)
{
	struct ide *s = opaque;
	unsigned off = (uint16_t)(port - s->bm_base);
	if (!s->bm_mapped || off >= 16)
		return 0xff;
	struct ide_channel *ch = &s->ch[off >> 3];
	switch (off & 7) {
	case 0:
		return ch->bm_cmd;
	case 2:
		return ch->bm_status;
	case 4:
	case 5:
	case 6:
	case 7:
		return (ch->prd >> (8 * (off & 3))) & 0xff;
	default:
		return 0;
	}
}

static void bm_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct ide *s = opaque;
	unsigned off = (uint16_t)(port - s->bm_base);
	if (!s->bm_mapped || off >= 16)
		return;
	struct ide_channel *ch = &s->ch[off >> 3];
	uint8_t v = (uint8_t)val;
	switch (off & 7) {
	case 0: {
		uint8_t old = ch->bm_cmd;
		ch->bm_cmd = v & (BM_CMD_START | BM_CMD_TOMEM);
		if ((v & BM_CMD_START) && !(old & BM_CMD_START)) {
			ch->bm_status |= BM_ST_ACTIVE;
			ide_dma_kick(ch);
		} else if (!(v & BM_CMD_START)) {
			/* Stopping aborts whatever the engine was doing. */
			ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
		}
		break;
	}
	case 2:
		/* Error and Interrupt are write-1-to-clear, the DMA-capable
		 * bits plain read/write, Active read-only. */
		ch->bm_status &= (uint8_t) ~(BM_ST_CAP | (v & (BM_ST_ERROR | BM_ST_INT)));
		ch->bm_status |= v & BM_ST_CAP;
		break;
	case 4:
	case 5:
	case 6:
	case 7: {
		unsigned sh = 8 * (off & 3);
		ch->prd = (ch->prd & ~(0xffu << sh)) | ((uint32_t)v << sh);
		ch->prd &= ~3u; /* dword aligned */
		break;
	}
	default:
		break;
	}
}

static const struct ioport_ops bm_ops = { bm_read, bm_write, true };

void ide_bm_bar_moved(struct pci_dev *p, int bar, uint64_t addr, bool mapped)
{
	struct ide *s = p->opaque;
	if (bar != 4)
		return;
	s->bm_base = (uint16_t)addr;
	s->bm_mapped = mapped;
	if (!mapped)
		return;
	/* The I/O space has no unregister: our handler ignores ports outside
	 * the current BAR; register each new base once (bounded list). */
	for (int i = 0; i < 8; i++) {
		if (s->bm_registered[i] == addr + 1)
			return;
		if (!s->bm_registered[i]) {
			s->bm_registered[i] = (uint32_t)addr + 1;
			break;
		}
	}
	ioport_register(s->m->io, (uint16_t)addr, 16, &bm_ops, s, "ide-bmdma");
}
