/*
 * devices/virtio_blk.c — virtio-blk (virtio 1.2 §5.2) over virtio_pci.
 *
 * A request (§5.2.6) is one descriptor chain:
 *   readable:  le32 type | le32 reserved | le64 sector | data (OUT)
 *   writable:  data (IN, GET_ID) | u8 status
 * The device does not rely on how the driver splits this into descriptors
 * (§2.7.4 message framing): header and data are gathered by byte offset.
 */
#include "devices/virtio_blk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/blockdev.h"
#include "devices/pci.h"
#include "devices/virtio_pci.h"

#define SECTOR      512u
#define BOUNCE_SIZE (64u * 1024)
#define CONFIG_SIZE 36
#define HDR_SIZE    16

struct virtio_blk {
	struct virtio_pci *v;
	struct virtio_blk_backend be;
	struct virtio_dev_ops ops;
	uint64_t capacity;                /* sectors */
	char serial[VIRTIO_BLK_ID_BYTES]; /* GET_ID answer, NUL-padded */
	uint8_t *bounce;
	struct virtq_elem elem;
};

/* ---- configuration space (§5.2.4) ---- */

static uint32_t config_read(void *opaque, unsigned off, unsigned size)
{
	struct virtio_blk *b = opaque;
	uint8_t c[CONFIG_SIZE] = { 0 };
	for (int i = 0; i < 8; i++)
		c[i] = (uint8_t)(b->capacity >> (8 * i)); /* capacity */
	c[12] = VIRTIO_BLK_SEG_MAX;                       /* seg_max (le32) */
	c[21] = SECTOR >> 8;                              /* blk_size (le32) = 512 */
	c[32] = 0;                                        /* writeback: not offered */
	uint32_t r = 0;
	for (unsigned i = 0; i < size; i++)
		r |= (uint32_t)c[off + i] << (8 * i);
	return r;
}

/* ---- requests ---- */

static bool in_range(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	return bytes % SECTOR == 0 && sector <= b->capacity &&
	       bytes / SECTOR <= b->capacity - sector;
}

static uint8_t do_read(struct virtio_blk *b, const struct virtq_elem *e, uint64_t sector,
		       uint64_t bytes)
{
	if (!in_range(b, sector, bytes))
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t done = 0; done < bytes;) {
		size_t n = bytes - done < BOUNCE_SIZE ? (size_t)(bytes - done) : BOUNCE_SIZE;
		if (b->be.read(b->be.opaque, sector * SECTOR + done, b->bounce, n) < 0)
			return VIRTIO_BLK_S_IOERR;
		virtq_elem_write(b->v, e, done, b->bounce, n);
		done += n;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_write(struct virtio_blk *b, const struct virtq_elem *e, uint64_t sector,
			uint64_t bytes)
{
	if (b->be.read_only || !b->be.write || !in_range(b, sector, bytes))
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t done = 0; done < bytes;) {
		size_t n = bytes - done < BOUNCE_SIZE ? (size_t)(bytes - done) : BOUNCE_SIZE;
		virtq_elem_read(b->v, e, HDR_SIZE + done, b->bounce, n);
		if (b->be.write(b->be.opaque, sector * SECTOR + done, b->bounce, n) < 0)
			return VIRTIO_BLK_S_IOERR;
		done += n;
	}
	return VIRTIO_BLK_S_OK;
}

/* Run one request; returns the bytes written to the writable part. */
static uint32_t handle(struct virtio_blk *b, const struct virtq_elem *e)
{
	uint8_t hdr[HDR_SIZE];
	if (e->in_len == 0)
		return 0; /* no status byte: nothing we can report */
	uint64_t data_in = e->in_len - 1;
	uint8_t status;
	uint32_t used = 1;
	if (virtq_elem_read(b->v, e, 0, hdr, HDR_SIZE) != HDR_SIZE) {
		status = VIRTIO_BLK_S_IOERR;
	} else {
		uint32_t type =
			(uint32_t)hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t)hdr[3] << 24;
		uint64_t sector = 0;
		for (int i = 0; i < 8; i++)
			sector |= (uint64_t)hdr[8 + i] << (8 * i);
		switch (type) {
		case VIRTIO_BLK_T_IN:
			status = do_read(b, e, sector, data_in);
			if (status == VIRTIO_BLK_S_OK)
				used += (uint32_t)data_in;
			break;
		case VIRTIO_BLK_T_OUT:
			status = do_write(b, e, sector, e->out_len - HDR_SIZE);
			break;
		case VIRTIO_BLK_T_FLUSH:
			status = b->be.flush && b->be.flush(b->be.opaque) < 0 ? VIRTIO_BLK_S_IOERR
									      : VIRTIO_BLK_S_OK;
			break;
		case VIRTIO_BLK_T_GET_ID: {
			/* §5.2.6.1: 20 bytes, NUL-padded when shorter. */
			if (data_in < VIRTIO_BLK_ID_BYTES) {
				status = VIRTIO_BLK_S_IOERR;
				break;
			}
			virtq_elem_write(b->v, e, 0, b->serial, sizeof(b->serial));
			used += VIRTIO_BLK_ID_BYTES;
			status = VIRTIO_BLK_S_OK;
			break;
		}
		default:
			status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
	}
	virtq_elem_write(b->v, e, data_in, &status, 1);
	return used;
}

static void notify(void *opaque, int q)
{
	struct virtio_blk *b = opaque;
	/* Bounded so that a guest whose rings are rewritten by our own DMA
	 * cannot keep us here; the rest waits for the next kick. */
	for (int n = 0; n < 4 * VIRTQ_MAX_SIZE; n++) {
		if (virtq_pop(b->v, q, &b->elem) <= 0)
			return;
		virtq_push(b->v, q, &b->elem, handle(b, &b->elem));
	}
}

/* ---- life cycle ---- */

struct virtio_blk *virtio_blk_new(struct machine *m, struct pci_bus *bus, uint8_t devfn,
				  const struct virtio_blk_backend *be)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->bounce = malloc(BOUNCE_SIZE);
	if (!b->bounce) {
		free(b);
		return NULL;
	}
	b->be = *be;
	b->be.serial = NULL; /* copied below; the caller's string may go away */
	strncpy(b->serial, be->serial ? be->serial : "nestbox-vblk", sizeof(b->serial));
	b->capacity = be->size / SECTOR;
	b->ops = (struct virtio_dev_ops){
		.features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
			    1ull << VIRTIO_BLK_F_FLUSH |
			    (be->read_only ? 1ull << VIRTIO_BLK_F_RO : 0),
		.config_size = CONFIG_SIZE,
		.config_read = config_read,
		.notify = notify,
	};
	/* Class 01 80 00: mass storage, other. */
	b->v = virtio_pci_new(m, bus, devfn, VIRTIO_ID_BLOCK, 0x018000, 1, &b->ops, b,
			      "virtio-blk");
	if (!b->v) {
		free(b->bounce);
		free(b);
		return NULL;
	}
	return b;
}

/* ---- devices/blockdev.h adapter ---- */

static int bd_read(void *opaque, uint64_t off, void *buf, size_t n)
{
	return blockdev_read(opaque, off, buf, n);
}

static int bd_write(void *opaque, uint64_t off, const void *buf, size_t n)
{
	return blockdev_write(opaque, off, buf, n);
}

static int bd_flush(void *opaque)
{
	return blockdev_flush(opaque);
}

struct virtio_blk *virtio_blk_new_blockdev(struct machine *m, struct pci_bus *bus, uint8_t devfn,
					   struct blockdev *bd, const char *serial)
{
	struct virtio_blk_backend be = {
		.opaque = bd,
		.size = blockdev_size(bd),
		.read_only = blockdev_readonly(bd),
		.read = bd_read,
		.write = bd_write,
		.flush = bd_flush,
		.serial = serial,
	};
	return virtio_blk_new(m, bus, devfn, &be);
}

void virtio_blk_reset(struct virtio_blk *b)
{
	virtio_pci_reset(b->v);
}

void virtio_blk_free(struct virtio_blk *b)
{
	if (!b)
		return;
	virtio_pci_free(b->v);
	free(b->bounce);
	free(b);
}

struct virtio_pci *virtio_blk_transport(struct virtio_blk *b)
{
	return b->v;
}
