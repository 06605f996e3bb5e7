/*
 * devices/virtio_blk.h — virtio block device (virtio 1.2 §5.2) on the
 * virtio PCI transport (devices/virtio_pci.h), PCI id 1AF4:1042, class
 * 01 80 00, one request queue of 256 entries.
 *
 * Requests: IN (read), OUT (write), FLUSH, GET_ID (20-byte serial); anything
 * else completes with VIRTIO_BLK_S_UNSUPP. Config: capacity (512-byte
 * sectors), seg_max, blk_size, and VIRTIO_BLK_F_RO when the backend is
 * read-only. I/O is synchronous (done inside the queue notify).
 *
 * The backend is the small interface below, so tests can use a RAM disk;
 * virtio_blk_new_blockdev() adapts a devices/blockdev.h image to it.
 */
#ifndef NESTBOX_DEVICES_VIRTIO_BLK_H
#define NESTBOX_DEVICES_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blockdev;
struct machine;
struct pci_bus;
struct virtio_blk;
struct virtio_pci;

/* Feature bits (§5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9

/* Request types and status (§5.2.6). */
#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20

#define VIRTIO_BLK_SEG_MAX 126 /* data segments per request we advertise */

/* Block backend: byte offsets, whole requests; return 0 or a negative
 * error (the request then completes with VIRTIO_BLK_S_IOERR). */
struct virtio_blk_backend {
	void *opaque;
	uint64_t size; /* bytes (capacity = size / 512) */
	bool read_only;
	int (*read)(void *opaque, uint64_t off, void *buf, size_t n);
	int (*write)(void *opaque, uint64_t off, const void *buf, size_t n);
	int (*flush)(void *opaque); /* NULL = nothing to flush */
	const char *serial;         /* GET_ID answer, copied (NULL = "nestbox-vblk") */
};

/* Create the device at devfn (the backend struct is copied; opaque must
 * outlive the device). Returns NULL if devfn is taken. */
struct virtio_blk *virtio_blk_new(struct machine *m, struct pci_bus *bus, uint8_t devfn,
				  const struct virtio_blk_backend *be);
/* Same on a disk image (read-only if blockdev_readonly); serial may be
 * NULL. The blockdev must outlive the device. */
struct virtio_blk *virtio_blk_new_blockdev(struct machine *m, struct pci_bus *bus, uint8_t devfn,
					   struct blockdev *bd, const char *serial);
void virtio_blk_reset(struct virtio_blk *b);
/* Call before pci_free. */
void virtio_blk_free(struct virtio_blk *b);
struct virtio_pci *virtio_blk_transport(struct virtio_blk *b);

#endif
