/*
 * tests/unit/virtio_test_driver.h — a minimal virtio 1.x PCI driver for the
 * unit tests of devices/virtio_*.c: finds the capabilities through PCI
 * config space, maps BAR 4, negotiates features, sets up split queues in
 * guest RAM and builds descriptor chains (direct or indirect) by hand.
 * Header-only (static functions) so each test executable includes it.
 */
#ifndef NESTBOX_TESTS_VIRTIO_TEST_DRIVER_H
#define NESTBOX_TESTS_VIRTIO_TEST_DRIVER_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "devices/machine.h"
#include "devices/pci.h"
#include "devices/virtio_pci.h"
#include "mmu/mmu.h"

#define VT_QSIZE 16
#define VT_QBASE 0x100000ull

struct vt_dev {
	struct machine *m;
	struct pci_bus *bus;
	uint8_t devfn;
	uint64_t bar;
	uint32_t common, notify, isr, device, pcicfg; /* BAR offsets / cap offset */
	uint32_t mult;
	uint64_t qbase; /* queue q rings at qbase + q * 0x10000 (default VT_QBASE) */
	uint16_t next_desc[VIRTIO_MAX_QUEUES];
	uint16_t avail_idx[VIRTIO_MAX_QUEUES];
};

static inline uint64_t vt_desc(const struct vt_dev *d, int q)
{
	return d->qbase + (uint64_t)q * 0x10000;
}
static inline uint64_t vt_avail(const struct vt_dev *d, int q)
{
	return vt_desc(d, q) + 0x1000;
}
static inline uint64_t vt_used(const struct vt_dev *d, int q)
{
	return vt_desc(d, q) + 0x2000;
}

static inline uint64_t vt_rd(struct vt_dev *d, uint32_t off, unsigned size)
{
	return phys_read(d->m->mmu, d->bar + off, size);
}
static inline void vt_wr(struct vt_dev *d, uint32_t off, unsigned size, uint64_t v)
{
	phys_write(d->m->mmu, d->bar + off, size, v);
}

/* Map BAR 4 at bar and walk the capability list (§4.1.4). */
static inline void vt_probe(struct vt_dev *d, struct machine *m, struct pci_bus *bus, uint8_t devfn,
			    uint64_t bar)
{
	memset(d, 0, sizeof(*d));
	d->m = m;
	d->bus = bus;
	d->devfn = devfn;
	d->bar = bar;
	d->qbase = VT_QBASE;
	/* Sizing: all ones reads back the size. */
	pci_cfg_write(bus, devfn, 0x20, 0xffffffffu, 4);
	ck_assert_uint_eq(pci_cfg_read(bus, devfn, 0x20, 4), (uint32_t)-VIRTIO_PCI_BAR_SIZE | 4);
	pci_cfg_write(bus, devfn, 0x20, (uint32_t)bar, 4);
	pci_cfg_write(bus, devfn, 0x24, (uint32_t)(bar >> 32), 4);
	pci_cfg_write(bus, devfn, PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER, 2);
	ck_assert(pci_cfg_read(bus, devfn, PCI_STATUS, 2) & 0x10);
	unsigned seen = 0;
	for (unsigned p = pci_cfg_read(bus, devfn, 0x34, 1), n = 0; p && n < 48;
	     p = pci_cfg_read(bus, devfn, p + 1, 1), n++) {
		if (pci_cfg_read(bus, devfn, p, 1) != 0x09)
			continue;
		unsigned type = pci_cfg_read(bus, devfn, p + 3, 1);
		if (type != 5) /* the access window's cap.bar is the driver's */
			ck_assert_uint_eq(pci_cfg_read(bus, devfn, p + 4, 1), 4);
		uint32_t off = pci_cfg_read(bus, devfn, p + 8, 4);
		seen |= 1u << type;
		switch (type) {
		case 1:
			d->common = off;
			break;
		case 2:
			d->notify = off;
			d->mult = pci_cfg_read(bus, devfn, p + 16, 4);
			break;
		case 3:
			d->isr = off;
			break;
		case 4:
			d->device = off;
			break;
		case 5:
			d->pcicfg = p;
			break;
		}
	}
	ck_assert_uint_eq(seen, 0x3e);
}

/* Reset, ACKNOWLEDGE|DRIVER, offer features; returns the status read back
 * after FEATURES_OK. */
static inline uint8_t vt_negotiate(struct vt_dev *d, uint64_t features)
{
	vt_wr(d, d->common + 0x14, 1, 0);
	ck_assert_uint_eq(vt_rd(d, d->common + 0x14, 1), 0);
	vt_wr(d, d->common + 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	for (int i = 0; i < 2; i++) {
		vt_wr(d, d->common + 0x08, 4, i);
		vt_wr(d, d->common + 0x0c, 4, (uint32_t)(features >> (32 * i)));
	}
	vt_wr(d, d->common + 0x14, 1,
	      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return (uint8_t)vt_rd(d, d->common + 0x14, 1);
}

static inline uint64_t vt_device_features(struct vt_dev *d)
{
	uint64_t f = 0;
	for (int i = 0; i < 2; i++) {
		vt_wr(d, d->common + 0x00, 4, i);
		f |= vt_rd(d, d->common + 0x04, 4) << (32 * i);
	}
	return f;
}

static inline void vt_setup_queue(struct vt_dev *d, int q)
{
	vt_wr(d, d->common + 0x16, 2, q);
	ck_assert_uint_eq(vt_rd(d, d->common + 0x18, 2), VIRTQ_MAX_SIZE);
	vt_wr(d, d->common + 0x18, 2, VT_QSIZE);
	/* 64-bit registers as two dwords, the way Linux writes them. */
	vt_wr(d, d->common + 0x20, 4, (uint32_t)vt_desc(d, q));
	vt_wr(d, d->common + 0x24, 4, 0);
	vt_wr(d, d->common + 0x28, 4, (uint32_t)vt_avail(d, q));
	vt_wr(d, d->common + 0x2c, 4, 0);
	vt_wr(d, d->common + 0x30, 8, vt_used(d, q));
	vt_wr(d, d->common + 0x1c, 2, 1);
	ck_assert_uint_eq(vt_rd(d, d->common + 0x1c, 2), 1);
	/* Clean rings. */
	uint8_t zero[0x3000] = { 0 };
	phys_write_buf(d->m->mmu, vt_desc(d, q), zero, sizeof(zero));
	d->next_desc[q] = 0;
	d->avail_idx[q] = 0;
}

static inline void vt_driver_ok(struct vt_dev *d)
{
	vt_wr(d, d->common + 0x14, 1,
	      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		      VIRTIO_STATUS_DRIVER_OK);
}

/* Full init with nq queues. */
static inline void vt_init(struct vt_dev *d, uint64_t features, int nq)
{
	uint8_t st = vt_negotiate(d, features);
	ck_assert(st & VIRTIO_STATUS_FEATURES_OK);
	for (int q = 0; q < nq; q++)
		vt_setup_queue(d, q);
	vt_driver_ok(d);
}

struct vt_buf {
	uint64_t addr;
	uint32_t len;
	int write;
};

static inline void vt_put_desc(struct vt_dev *d, uint64_t table, unsigned i, uint64_t addr,
			       uint32_t len, uint16_t flags, uint16_t next)
{
	struct machine *m = d->m;
	phys_write(m->mmu, table + 16 * i, 8, addr);
	phys_write(m->mmu, table + 16 * i + 8, 4, len);
	phys_write(m->mmu, table + 16 * i + 12, 2, flags);
	phys_write(m->mmu, table + 16 * i + 14, 2, next);
}

/* Make head descriptor 'head' available (no kick). */
static inline void vt_publish(struct vt_dev *d, int q, uint16_t head)
{
	uint16_t i = d->avail_idx[q];
	phys_write(d->m->mmu, vt_avail(d, q) + 4 + 2 * (i % VT_QSIZE), 2, head);
	d->avail_idx[q] = (uint16_t)(i + 1);
	phys_write(d->m->mmu, vt_avail(d, q) + 2, 2, d->avail_idx[q]);
}

/* Build a direct chain of n buffers and publish it; returns the head. */
static inline uint16_t vt_add(struct vt_dev *d, int q, const struct vt_buf *b, int n)
{
	uint16_t head = d->next_desc[q];
	for (int k = 0; k < n; k++) {
		uint16_t i = (uint16_t)((head + k) % VT_QSIZE);
		uint16_t flags = (uint16_t)((b[k].write ? VIRTQ_DESC_F_WRITE : 0) |
					    (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		vt_put_desc(d, vt_desc(d, q), i, b[k].addr, b[k].len, flags,
			    (uint16_t)((i + 1) % VT_QSIZE));
	}
	d->next_desc[q] = (uint16_t)((head + n) % VT_QSIZE);
	vt_publish(d, q, head);
	return head;
}

/* Same through an indirect table at table. */
static inline uint16_t vt_add_indirect(struct vt_dev *d, int q, uint64_t table,
				       const struct vt_buf *b, int n)
{
	for (int k = 0; k < n; k++)
		vt_put_desc(d, table, k, b[k].addr, b[k].len,
			    (uint16_t)((b[k].write ? VIRTQ_DESC_F_WRITE : 0) |
				       (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			    (uint16_t)(k + 1));
	uint16_t head = d->next_desc[q];
	vt_put_desc(d, vt_desc(d, q), head, table, 16u * n, VIRTQ_DESC_F_INDIRECT, 0);
	d->next_desc[q] = (uint16_t)((head + 1) % VT_QSIZE);
	vt_publish(d, q, head);
	return head;
}

static inline void vt_kick(struct vt_dev *d, int q)
{
	vt_wr(d, d->common + 0x16, 2, q);
	uint32_t off = (uint32_t)vt_rd(d, d->common + 0x1e, 2);
	vt_wr(d, d->notify + off * d->mult, 2, q);
}

static inline uint16_t vt_used_idx(struct vt_dev *d, int q)
{
	return (uint16_t)phys_read(d->m->mmu, vt_used(d, q) + 2, 2);
}
/* Used element i: id and len. */
static inline uint32_t vt_used_id(struct vt_dev *d, int q, unsigned i)
{
	return (uint32_t)phys_read(d->m->mmu, vt_used(d, q) + 4 + 8 * (i % VT_QSIZE), 4);
}
static inline uint32_t vt_used_len(struct vt_dev *d, int q, unsigned i)
{
	return (uint32_t)phys_read(d->m->mmu, vt_used(d, q) + 8 + 8 * (i % VT_QSIZE), 4);
}

static inline uint8_t vt_status(struct vt_dev *d)
{
	return (uint8_t)vt_rd(d, d->common + 0x14, 1);
}

#endif
