/*
 * devices/virtio_pci.h — virtio 1.x PCI transport ("modern" only, OASIS
 * Virtual I/O Device (VIRTIO) Version 1.2, §4.1) and split virtqueues (§2.7).
 *
 * A device model (virtio_blk.c, virtio_net.c) creates its function with
 * virtio_pci_new() and gets:
 *  - PCI identity 1AF4:(1040 + device id), revision 1, subsystem 1AF4:1100,
 *    INTA, vendor capabilities (§4.1.4) for common config, notify
 *    (notify_off_multiplier 4, queue n notifies at offset 4n), ISR, device
 *    config, all in BAR 4 (64-bit memory, 32 KiB), plus the PCI
 *    configuration access capability (§4.1.4.9);
 *  - feature negotiation (VIRTIO_F_VERSION_1 required, INDIRECT_DESC and
 *    EVENT_IDX offered by the transport), the device status state machine and
 *    reset (§2.1, §3.1);
 *  - queue_select/size/enable/desc/driver/device per queue (§4.1.4.3);
 *  - INTx interrupts through the ISR (§4.1.4.5), or MSI-X (one vector per
 *    queue plus one for configuration changes; table and PBA in BAR 4)
 *    delivered with lapic_msi (devices/lapic.h).
 *
 * Queue processing is synchronous: a notify write calls ops->notify, which
 * pops requests with virtq_pop(), moves data with virtq_elem_read/write and
 * returns them with virtq_push() (or virtq_fill + virtq_flush for several).
 * All guest memory goes through phys_read_buf/phys_write_buf with bounds
 * checks; a malformed ring (descriptor loops, chains longer than the queue,
 * nested indirect tables, out-of-range addresses, readable-after-writable
 * descriptors, an avail index jumping by more than the queue size) puts the
 * device into DEVICE_NEEDS_RESET (§2.1.2) with a configuration-change
 * interrupt, and the device ignores its queues until the driver resets it.
 *
 * DMA that lands in the device's own BAR (a guest pointing a buffer at the
 * notify region) is not re-entered: notifies that arrive while the device is
 * busy are deferred and run after the current work; config/common writes
 * arriving that way are dropped.
 */
#ifndef NESTBOX_DEVICES_VIRTIO_PCI_H
#define NESTBOX_DEVICES_VIRTIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;
struct pci_bus;
struct pci_dev;
struct virtio_pci;

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device id (§4.1.2) */

/* Device ids (§5). */
#define VIRTIO_ID_NET   1
#define VIRTIO_ID_BLOCK 2

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER      0x02
#define VIRTIO_STATUS_DRIVER_OK   0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

/* Reserved feature bits (§6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

#define VIRTIO_MSI_NO_VECTOR 0xffff

/* BAR 4 layout (the capabilities point here). */
#define VIRTIO_PCI_BAR         4
#define VIRTIO_PCI_BAR_SIZE    0x8000
#define VIRTIO_PCI_COMMON_OFF  0x0000
#define VIRTIO_PCI_ISR_OFF     0x1000
#define VIRTIO_PCI_DEVICE_OFF  0x2000
#define VIRTIO_PCI_NOTIFY_OFF  0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MSIX_OFF    0x4000
#define VIRTIO_PCI_PBA_OFF     0x5000

/* Limits of this implementation. */
#define VIRTIO_MAX_QUEUES 8
#define VIRTQ_MAX_SIZE    256  /* queue_size the device offers */
#define VIRTQ_MAX_SEGS    1024 /* descriptors per request (direct + indirect) */
#define VIRTIO_CONFIG_MAX 0x100

/* Descriptor flags (§2.7.5). */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

/* What a device model provides. */
struct virtio_dev_ops {
	uint64_t features;    /* device-specific feature bits offered */
	unsigned config_size; /* bytes of device configuration (<= VIRTIO_CONFIG_MAX) */
	/* off + size <= config_size is guaranteed; size 1, 2 or 4. */
	uint32_t (*config_read)(void *opaque, unsigned off, unsigned size);
	void (*config_write)(void *opaque, unsigned off, uint32_t val, unsigned size);
	/* The driver notified queue q (only while DRIVER_OK, no NEEDS_RESET,
	 * queue enabled). */
	void (*notify)(void *opaque, int q);
	/* The transport was reset (driver wrote 0 to device_status, or
	 * virtio_pci_reset): drop device-specific state. May be NULL. */
	void (*reset)(void *opaque);
};

/* One segment of a request's buffers. */
struct virtq_seg {
	uint64_t addr;
	uint32_t len;
};

/* A popped descriptor chain: seg[0..nout) are device-readable,
 * seg[nout..nout+nin) device-writable (§2.7.4.2 orders them so). */
struct virtq_elem {
	uint16_t head;
	unsigned nout, nin;
	uint64_t out_len, in_len; /* byte totals of each part */
	struct virtq_seg seg[VIRTQ_MAX_SEGS];
};

/* Create the PCI function at devfn of bus with nqueues queues (each of
 * VIRTQ_MAX_SIZE entries max). cls = PCI class code (base << 16 | sub << 8).
 * Returns NULL if devfn is taken or nqueues is out of range. */
struct virtio_pci *virtio_pci_new(struct machine *m, struct pci_bus *bus, uint8_t devfn,
				  uint16_t device_id, uint32_t cls, int nqueues,
				  const struct virtio_dev_ops *ops, void *opaque, const char *name);
/* Unmap the BAR and free the transport (call before pci_free and
 * machine_free; the pci_dev itself belongs to the bus). */
void virtio_pci_free(struct virtio_pci *v);
/* Function reset (system reset): the virtio state as if the driver wrote 0
 * to device_status, plus the MSI-X table and PBA. The board also calls
 * pci_reset for the configuration space. */
void virtio_pci_reset(struct virtio_pci *v);
struct pci_dev *virtio_pci_dev(struct virtio_pci *v);

/* True once the driver set DRIVER_OK and the device is not in error. */
bool virtio_pci_ready(const struct virtio_pci *v);
/* Negotiated feature bit (valid after FEATURES_OK). */
bool virtio_has_feature(const struct virtio_pci *v, unsigned bit);
uint8_t virtio_pci_status(const struct virtio_pci *v);
/* Put the device into DEVICE_NEEDS_RESET (why goes to stderr once). */
void virtio_pci_set_error(struct virtio_pci *v, const char *why);
/* Device configuration changed: bump config_generation, interrupt. */
void virtio_pci_config_changed(struct virtio_pci *v);
/* Bracket device work not started by a notify (e.g. a received packet):
 * notifies arriving meanwhile are deferred until the outermost end. */
void virtio_pci_begin(struct virtio_pci *v);
void virtio_pci_end(struct virtio_pci *v);

/* Queue q is enabled and the device is ready. */
bool virtq_ready(const struct virtio_pci *v, int q);
/* Take the next available chain of queue q: 1 = got one, 0 = queue empty
 * (or not ready), -1 = malformed (the device is now in NEEDS_RESET). */
int virtq_pop(struct virtio_pci *v, int q, struct virtq_elem *e);
/* Give back the last n popped chains (not yet filled). */
void virtq_unpop(struct virtio_pci *v, int q, unsigned n);
/* Write used element i (0 = next) of queue q: chain e, len bytes written. */
void virtq_fill(struct virtio_pci *v, int q, const struct virtq_elem *e, uint32_t len, unsigned i);
/* Publish n filled elements and interrupt the driver if it wants one. */
void virtq_flush(struct virtio_pci *v, int q, unsigned n);
static inline void virtq_push(struct virtio_pci *v, int q, const struct virtq_elem *e, uint32_t len)
{
	virtq_fill(v, q, e, len, 0);
	virtq_flush(v, q, 1);
}
/* Copy n bytes at offset off of the readable part into buf / from buf into
 * the writable part. Return the bytes copied (short at the end). */
size_t virtq_elem_read(struct virtio_pci *v, const struct virtq_elem *e, uint64_t off, void *buf,
		       size_t n);
size_t virtq_elem_write(struct virtio_pci *v, const struct virtq_elem *e, uint64_t off,
			const void *buf, size_t n);

#endif
