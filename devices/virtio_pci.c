/*
 * devices/virtio_pci.c — virtio 1.2 PCI transport (modern, §4.1) and split
 * virtqueues (§2.7). See virtio_pci.h for what a device model gets.
 *
 * PCI configuration space (capability list from 0x40, §4.1.4):
 *   40 common cfg   (type 1)  BAR4 + 0x0000
 *   50 notify cfg   (type 2)  BAR4 + 0x3000, notify_off_multiplier 4
 *   64 ISR          (type 3)  BAR4 + 0x1000
 *   74 device cfg   (type 4)  BAR4 + 0x2000
 *   84 PCI cfg access (type 5): cap.bar 88, cap.offset 8C, cap.length 90,
 *                     pci_cfg_data 94
 *   98 MSI-X (PCI 3.0 §6.8.2): nq + 1 vectors, table BAR4 + 0x4000, PBA
 *      BAR4 + 0x5000
 *
 * Interrupts: with MSI-X disabled, INTx follows ISR != 0 (§4.1.4.5); with
 * it enabled, INTx stays low and a notification sends the message of the
 * vector the driver mapped (config_msix_vector / queue_msix_vector,
 * §4.1.5.1.2), or sets its pending bit while the vector or the function is
 * masked (sent when unmasked). A message to 0xFEExxxxx goes to the LAPICs
 * (pci_msi_send: interrupt remapping applies); any other address is an ordinary DMA write.
 *
 * Split virtqueue layout (§2.7): descriptor table 16 bytes per entry
 * {le64 addr, le32 len, le16 flags, le16 next}; available ring {le16 flags,
 * le16 idx, le16 ring[size], le16 used_event}; used ring {le16 flags,
 * le16 idx, {le32 id, le32 len} ring[size], le16 avail_event}.
 */
#include "devices/virtio_pci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/lapic.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

#define COMMON_SIZE       0x40
#define CAP_COMMON        0x40
#define CAP_NOTIFY        0x50
#define CAP_ISR           0x64
#define CAP_DEVICE        0x74
#define CAP_PCICFG        0x84
#define PCICFG_BAR        (CAP_PCICFG + 4)
#define PCICFG_OFF        (CAP_PCICFG + 8)
#define PCICFG_LEN        (CAP_PCICFG + 12)
#define PCICFG_DATA       (CAP_PCICFG + 16)
#define CAP_MSIX          0x98
#define MSIX_CTRL_HI      (CAP_MSIX + 3) /* bit 7 enable, bit 6 function mask */
#define MSIX_ENABLE       0x80
#define MSIX_MASKALL      0x40
#define MSIX_ENTRY_MASKED 1

/* Common configuration offsets (§4.1.4.3). */
enum {
	CC_DFSELECT = 0x00,
	CC_DF = 0x04,
	CC_GFSELECT = 0x08,
	CC_GF = 0x0c,
	CC_MSIX = 0x10,
	CC_NUMQ = 0x12,
	CC_STATUS = 0x14,
	CC_GEN = 0x15,
	CC_QSEL = 0x16,
	CC_QSIZE = 0x18,
	CC_QMSIX = 0x1a,
	CC_QENABLE = 0x1c,
	CC_QNOTIFY = 0x1e,
	CC_QDESC = 0x20,
	CC_QDRIVER = 0x28,
	CC_QDEVICE = 0x30,
};

#define ISR_QUEUE                  1
#define ISR_CONFIG                 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define MAX_PENDING_ROUNDS         64

struct virtq {
	uint16_t size;
	bool enabled;
	uint64_t desc, avail, used;
	uint16_t last_avail; /* next available entry the device takes */
	uint16_t used_idx;   /* next used entry the device writes */
	uint16_t vector;     /* MSI-X vector (VIRTIO_MSI_NO_VECTOR = none) */
};

struct virtio_pci {
	struct machine *m;
	struct pci_dev *pci;
	const struct virtio_dev_ops *ops;
	void *opaque;
	const char *name;
	int nq;
	struct virtq q[VIRTIO_MAX_QUEUES];
	uint64_t dev_features, drv_features;
	uint32_t dfselect, gfselect;
	uint8_t status, generation, isr;
	uint16_t qsel;
	uint64_t bar_addr;
	bool mapped;
	int busy;         /* nesting depth of device work */
	uint32_t pending; /* queues notified while busy */
	bool warned;      /* one error message per reset */
	bool dma_warned;  /* one "DMA into own registers" message */
	/* MSI-X: nq + 1 vectors of {addr lo, addr hi, data, vector control}. */
	int nvec;
	uint16_t config_vector;
	uint32_t msix[VIRTIO_MAX_QUEUES + 1][4];
	uint32_t pba;
};

/* ---- little-endian helpers ---- */

static inline uint64_t ld_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void st_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- guest memory with bounds checks ---- */

/* [addr, addr + len) lies below MAXPHYADDR without wrapping. */
static bool range_ok(const struct virtio_pci *v, uint64_t addr, uint64_t len)
{
	uint64_t lim = 1ull << mmu_maxphyaddr(v->m->mmu);
	return addr < lim && len <= lim - addr;
}

static uint16_t rd16(struct virtio_pci *v, uint64_t a)
{
	uint8_t b[2];
	phys_read_buf(v->m->mmu, a, b, 2);
	return (uint16_t)ld_le(b, 2);
}

static void wr16(struct virtio_pci *v, uint64_t a, uint16_t x)
{
	uint8_t b[2];
	st_le(b, x, 2);
	phys_write_buf(v->m->mmu, a, b, 2);
}

/* ---- interrupts ---- */

static bool msix_on(const struct virtio_pci *v)
{
	return v->pci->cfg[MSIX_CTRL_HI] & MSIX_ENABLE;
}

static void update_irq(struct virtio_pci *v)
{
	/* PCI 3.0 §6.8.2: a function with MSI-X enabled does not use INTx. */
	pci_set_irq(v->pci, v->isr != 0 && !msix_on(v));
}

static void msix_send(struct virtio_pci *v, int n)
{
	uint64_t addr = (uint64_t)v->msix[n][1] << 32 | v->msix[n][0];
	uint32_t data = v->msix[n][2];
	if ((addr >> 20) == 0xfee)
		pci_msi_send(v->pci, addr, data); /* through interrupt remapping */
	else if (range_ok(v, addr, 4))
		phys_write(v->m->mmu, addr, 4, data); /* an MSI is a DWORD write */
}

/* Send vector n, or leave it pending while masked (PCI 3.0 §6.8.3.5). */
static void msix_notify(struct virtio_pci *v, uint16_t n)
{
	if (n >= v->nvec)
		return; /* VIRTIO_MSI_NO_VECTOR: the driver wants no interrupt */
	if ((v->pci->cfg[MSIX_CTRL_HI] & MSIX_MASKALL) || (v->msix[n][3] & MSIX_ENTRY_MASKED)) {
		v->pba |= 1u << n;
		return;
	}
	msix_send(v, n);
}

/* Deliver pending vectors that are no longer masked. */
static void msix_unmasked(struct virtio_pci *v)
{
	if (!msix_on(v) || (v->pci->cfg[MSIX_CTRL_HI] & MSIX_MASKALL))
		return;
	for (int n = 0; n < v->nvec; n++)
		if ((v->pba >> n & 1) && !(v->msix[n][3] & MSIX_ENTRY_MASKED)) {
			v->pba &= ~(1u << n);
			msix_send(v, n);
		}
}

static void raise_isr(struct virtio_pci *v, uint8_t bits)
{
	v->isr |= bits;
	update_irq(v);
}

/* §4.1.4.5 / §4.1.5.1.2: queue and configuration notifications. */
static void notify_queue(struct virtio_pci *v, struct virtq *q)
{
	if (msix_on(v))
		msix_notify(v, q->vector);
	else
		raise_isr(v, ISR_QUEUE);
}

static void notify_config(struct virtio_pci *v)
{
	raise_isr(v, ISR_CONFIG);
	if (msix_on(v))
		msix_notify(v, v->config_vector);
}

void virtio_pci_config_changed(struct virtio_pci *v)
{
	v->generation++;
	if (v->status & VIRTIO_STATUS_DRIVER_OK)
		notify_config(v);
}

void virtio_pci_set_error(struct virtio_pci *v, const char *why)
{
	if (!v->warned)
		fprintf(stderr, "%s: device error (needs reset): %s\n", v->name, why);
	v->warned = true;
	if (v->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	v->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* §2.1.2: with DRIVER_OK set, tell the driver by a config change. */
	if (v->status & VIRTIO_STATUS_DRIVER_OK)
		notify_config(v);
}

/* ---- state queries ---- */

bool virtio_pci_ready(const struct virtio_pci *v)
{
	return (v->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK |
			     VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) ==
	       (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK);
}

bool virtio_has_feature(const struct virtio_pci *v, unsigned bit)
{
	return bit < 64 && (v->drv_features >> bit) & 1;
}

uint8_t virtio_pci_status(const struct virtio_pci *v)
{
	return v->status;
}

struct pci_dev *virtio_pci_dev(struct virtio_pci *v)
{
	return v->pci;
}

bool virtq_ready(const struct virtio_pci *v, int q)
{
	return q >= 0 && q < v->nq && v->q[q].enabled && virtio_pci_ready(v);
}

/* ---- notifications from the driver, with re-entrancy deferral ---- */

static void run_pending(struct virtio_pci *v)
{
	for (int round = 0; v->pending; round++) {
		if (round == MAX_PENDING_ROUNDS) {
			virtio_pci_set_error(v, "notify storm from device DMA");
			v->pending = 0;
			return;
		}
		uint32_t p = v->pending;
		v->pending = 0;
		for (int q = 0; q < v->nq; q++)
			if ((p >> q & 1) && virtq_ready(v, q) && v->ops->notify)
				v->ops->notify(v->opaque, q);
	}
}

void virtio_pci_begin(struct virtio_pci *v)
{
	v->busy++;
}

void virtio_pci_end(struct virtio_pci *v)
{
	if (v->busy == 1)
		run_pending(v);
	v->busy--;
}

static void kick(struct virtio_pci *v, int q)
{
	if (!virtq_ready(v, q))
		return;
	v->pending |= 1u << q;
	if (v->busy)
		return; /* DMA into our own notify region: run after current work */
	virtio_pci_begin(v);
	virtio_pci_end(v);
}

/* ---- reset and status (§2.1, §3.1.1, §4.1.4.3.2) ---- */

static void queues_reset(struct virtio_pci *v)
{
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		v->q[i] = (struct virtq){ .size = i < v->nq ? VIRTQ_MAX_SIZE : 0,
					  .vector = VIRTIO_MSI_NO_VECTOR };
}

/* Driver-initiated reset (device_status = 0): the virtio state only; the
 * MSI-X table belongs to PCI and survives (§4.1.5.1.2). */
static void device_reset(struct virtio_pci *v)
{
	v->status = 0;
	v->drv_features = 0;
	v->dfselect = v->gfselect = 0;
	v->qsel = 0;
	v->isr = 0;
	v->pending = 0;
	v->warned = false;
	v->config_vector = VIRTIO_MSI_NO_VECTOR;
	queues_reset(v);
	update_irq(v);
	if (v->ops->reset)
		v->ops->reset(v->opaque);
}

static void msix_reset(struct virtio_pci *v)
{
	memset(v->msix, 0, sizeof(v->msix));
	for (int n = 0; n < VIRTIO_MAX_QUEUES + 1; n++)
		v->msix[n][3] = MSIX_ENTRY_MASKED;
	v->pba = 0;
}

void virtio_pci_reset(struct virtio_pci *v)
{
	msix_reset(v);
	device_reset(v);
}

static void write_status(struct virtio_pci *v, uint8_t val)
{
	if (val == 0) {
		device_reset(v);
		return;
	}
	uint8_t old = v->status;
	/* §2.2.2: the device accepts FEATURES_OK only for a subset of what it
	 * offered; a modern-only device requires VERSION_1 (§7.2). */
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    ((v->drv_features & ~v->dev_features) || !virtio_has_feature(v, VIRTIO_F_VERSION_1)))
		val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	v->status =
		(uint8_t)((val & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
	/* Buffers made available before DRIVER_OK (§3.1.1 step 7 allows rx
	 * buffers) are looked at now. */
	if (!(old & VIRTIO_STATUS_DRIVER_OK) && virtio_pci_ready(v))
		for (int q = 0; q < v->nq; q++)
			kick(v, q);
}

/* §2.7: split queue size is a power of 2; rings have fixed alignments. */
static void enable_queue(struct virtio_pci *v, struct virtq *q)
{
	uint64_t s = q->size;
	if (!s || (s & (s - 1)) || s > VIRTQ_MAX_SIZE || (q->desc & 15) || (q->avail & 1) ||
	    (q->used & 3) || !range_ok(v, q->desc, 16 * s) || !range_ok(v, q->avail, 6 + 2 * s) ||
	    !range_ok(v, q->used, 6 + 8 * s)) {
		virtio_pci_set_error(v, "bad queue size or ring address");
		return;
	}
	q->enabled = true;
	q->last_avail = q->used_idx = 0;
}

/* ---- common configuration (§4.1.4.3) ---- */

static struct virtq *selq(struct virtio_pci *v)
{
	return v->qsel < v->nq ? &v->q[v->qsel] : NULL;
}

static void common_image(struct virtio_pci *v, uint8_t img[COMMON_SIZE])
{
	memset(img, 0, COMMON_SIZE);
	st_le(img + CC_DFSELECT, v->dfselect, 4);
	st_le(img + CC_DF, v->dfselect < 2 ? v->dev_features >> (32 * v->dfselect) : 0, 4);
	st_le(img + CC_GFSELECT, v->gfselect, 4);
	st_le(img + CC_GF, v->gfselect < 2 ? v->drv_features >> (32 * v->gfselect) : 0, 4);
	st_le(img + CC_MSIX, v->config_vector, 2);
	st_le(img + CC_NUMQ, (uint64_t)v->nq, 2);
	img[CC_STATUS] = v->status;
	img[CC_GEN] = v->generation;
	st_le(img + CC_QSEL, v->qsel, 2);
	struct virtq *q = selq(v);
	st_le(img + CC_QMSIX, q ? q->vector : VIRTIO_MSI_NO_VECTOR, 2);
	if (!q)
		return; /* queue_size 0 says "not available" */
	st_le(img + CC_QSIZE, q->size, 2);
	st_le(img + CC_QENABLE, q->enabled, 2);
	st_le(img + CC_QNOTIFY, v->qsel, 2);
	st_le(img + CC_QDESC, q->desc, 8);
	st_le(img + CC_QDRIVER, q->avail, 8);
	st_le(img + CC_QDEVICE, q->used, 8);
}

static uint16_t vector_ok(const struct virtio_pci *v, uint16_t n)
{
	return n < v->nvec ? n : VIRTIO_MSI_NO_VECTOR;
}

static bool touches(uint64_t off, unsigned size, unsigned f, unsigned fsize)
{
	return off < f + fsize && off + size > f;
}

static void common_write(struct virtio_pci *v, uint64_t off, uint64_t val, unsigned size)
{
	uint8_t img[COMMON_SIZE];
	common_image(v, img);
	st_le(img + off, val, size);
	if (touches(off, size, CC_DFSELECT, 4))
		v->dfselect = (uint32_t)ld_le(img + CC_DFSELECT, 4);
	if (touches(off, size, CC_GFSELECT, 4))
		v->gfselect = (uint32_t)ld_le(img + CC_GFSELECT, 4);
	/* §2.2.2: features are frozen once FEATURES_OK is set. */
	if (touches(off, size, CC_GF, 4) && v->gfselect < 2 &&
	    !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
		unsigned sh = 32 * v->gfselect;
		v->drv_features = (v->drv_features & ~(0xffffffffull << sh)) | ld_le(img + CC_GF, 4)
										       << sh;
	}
	/* §4.1.5.1.2: a vector the device cannot map reads back NO_VECTOR. */
	if (touches(off, size, CC_MSIX, 2))
		v->config_vector = vector_ok(v, (uint16_t)ld_le(img + CC_MSIX, 2));
	if (touches(off, size, CC_QSEL, 2))
		v->qsel = (uint16_t)ld_le(img + CC_QSEL, 2);
	struct virtq *q = selq(v);
	if (q && touches(off, size, CC_QMSIX, 2))
		q->vector = vector_ok(v, (uint16_t)ld_le(img + CC_QMSIX, 2));
	/* Queue registers of an enabled queue are read-only to the driver
	 * (§4.1.4.3.2: it must not change them while queue_enable is 1). */
	if (q && !q->enabled) {
		if (touches(off, size, CC_QSIZE, 2))
			q->size = (uint16_t)ld_le(img + CC_QSIZE, 2);
		if (touches(off, size, CC_QDESC, 8))
			q->desc = ld_le(img + CC_QDESC, 8);
		if (touches(off, size, CC_QDRIVER, 8))
			q->avail = ld_le(img + CC_QDRIVER, 8);
		if (touches(off, size, CC_QDEVICE, 8))
			q->used = ld_le(img + CC_QDEVICE, 8);
		/* Writing 0 is not allowed (§4.1.4.3.2); ignore it. */
		if (touches(off, size, CC_QENABLE, 2) && ld_le(img + CC_QENABLE, 2) == 1)
			enable_queue(v, q);
	}
	if (touches(off, size, CC_STATUS, 1))
		write_status(v, img[CC_STATUS]);
}

/* ---- BAR 4 ---- */

/* MSI-X table and PBA (PCI 3.0 §6.8.2.6-§6.8.2.10), any access size. */
static uint64_t msix_read(struct virtio_pci *v, uint64_t off, unsigned size)
{
	uint8_t img[16 * (VIRTIO_MAX_QUEUES + 1)] = { 0 };
	if (off >= VIRTIO_PCI_PBA_OFF) {
		off -= VIRTIO_PCI_PBA_OFF;
		st_le(img, v->pba, 4);
	} else {
		off -= VIRTIO_PCI_MSIX_OFF;
		for (int n = 0; n < v->nvec; n++)
			for (int f = 0; f < 4; f++)
				st_le(img + 16 * n + 4 * f, v->msix[n][f], 4);
	}
	return off + size <= sizeof(img) ? ld_le(img + off, size) : 0;
}

static void msix_write(struct virtio_pci *v, uint64_t off, uint64_t val, unsigned size)
{
	off -= VIRTIO_PCI_MSIX_OFF;
	if (off + size > 16ull * v->nvec)
		return;
	uint8_t e[16 * (VIRTIO_MAX_QUEUES + 1)];
	for (int n = 0; n < v->nvec; n++)
		for (int f = 0; f < 4; f++)
			st_le(e + 16 * n + 4 * f, v->msix[n][f], 4);
	st_le(e + off, val, size);
	for (int n = 0; n < v->nvec; n++)
		for (int f = 0; f < 4; f++)
			v->msix[n][f] = (uint32_t)ld_le(e + 16 * n + 4 * f, 4);
	for (int n = 0; n < v->nvec; n++) {
		v->msix[n][0] &= ~3u;               /* DWORD-aligned address */
		v->msix[n][3] &= MSIX_ENTRY_MASKED; /* other bits reserved */
	}
	msix_unmasked(v);
}

static uint64_t bar_read(struct virtio_pci *v, uint64_t off, unsigned size)
{
	if (off + size <= VIRTIO_PCI_COMMON_OFF + COMMON_SIZE) { /* COMMON_OFF is 0 */
		uint8_t img[COMMON_SIZE];
		common_image(v, img);
		return ld_le(img + off - VIRTIO_PCI_COMMON_OFF, size);
	}
	if (off == VIRTIO_PCI_ISR_OFF) {
		/* §4.1.4.5.1: reading the ISR clears it and deasserts INTx. */
		uint8_t isr = v->isr;
		v->isr = 0;
		update_irq(v);
		return isr;
	}
	if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_CONFIG_MAX) {
		unsigned o = (unsigned)(off - VIRTIO_PCI_DEVICE_OFF);
		uint64_t r = 0;
		for (unsigned done = 0; done < size;) {
			unsigned n = size - done > 4 ? 4 : size - done;
			if (o + done + n <= v->ops->config_size && v->ops->config_read)
				r |= (uint64_t)v->ops->config_read(v->opaque, o + done, n)
				     << (8 * done);
			done += n;
		}
		return r;
	}
	if (off >= VIRTIO_PCI_MSIX_OFF && off < VIRTIO_PCI_PBA_OFF + 0x1000)
		return msix_read(v, off, size);
	return 0;
}

static void bar_write(struct virtio_pci *v, uint64_t off, uint64_t val, unsigned size)
{
	if (off >= VIRTIO_PCI_MSIX_OFF && off < VIRTIO_PCI_PBA_OFF) {
		msix_write(v, off, val, size);
		return;
	}
	if (off >= VIRTIO_PCI_NOTIFY_OFF && off < VIRTIO_PCI_NOTIFY_OFF + 0x1000) {
		/* §4.1.4.4: queue n at queue_notify_off(n) * multiplier; we
		 * don't offer NOTIFICATION_DATA, so the value is the index. */
		uint64_t o = off - VIRTIO_PCI_NOTIFY_OFF;
		if (o % VIRTIO_PCI_NOTIFY_MULT == 0)
			kick(v, (int)(o / VIRTIO_PCI_NOTIFY_MULT));
		return;
	}
	if (v->busy) {
		if (!v->dma_warned)
			fprintf(stderr, "%s: DMA into own registers at %#llx dropped\n", v->name,
				(unsigned long long)off);
		v->dma_warned = true;
		return;
	}
	if (off + size <= VIRTIO_PCI_COMMON_OFF + COMMON_SIZE) { /* COMMON_OFF is 0 */
		common_write(v, off - VIRTIO_PCI_COMMON_OFF, val, size);
		return;
	}
	if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_CONFIG_MAX) {
		unsigned o = (unsigned)(off - VIRTIO_PCI_DEVICE_OFF);
		for (unsigned done = 0; done < size;) {
			unsigned n = size - done > 4 ? 4 : size - done;
			if (o + done + n <= v->ops->config_size && v->ops->config_write)
				v->ops->config_write(v->opaque, o + done,
						     (uint32_t)(val >> (8 * done)), n);
			done += n;
		}
	}
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	return bar_read(opaque, off, size);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	bar_write(opaque, off, val, size);
}

static const struct mmio_ops virtio_mmio_ops = { mmio_read, mmio_write };

static void bar_moved(struct pci_dev *d, int bar, uint64_t addr, bool mapped)
{
	struct virtio_pci *v = d->opaque;
	if (bar != VIRTIO_PCI_BAR)
		return;
	if (v->mapped)
		mmu_unmap(v->m->mmu, v->bar_addr, VIRTIO_PCI_BAR_SIZE);
	v->mapped = mapped;
	v->bar_addr = addr;
	if (mapped)
		mmu_map_mmio(v->m->mmu, addr, VIRTIO_PCI_BAR_SIZE, &virtio_mmio_ops, v, v->name);
}

/* ---- VIRTIO_PCI_CAP_PCI_CFG window (§4.1.4.9) ---- */

/* The window access named by cap.bar/offset/length, or false if the
 * driver programmed something the device does not support. */
static bool pcicfg_target(struct virtio_pci *v, uint32_t *off, unsigned *len)
{
	const uint8_t *c = v->pci->cfg;
	*off = (uint32_t)ld_le(c + PCICFG_OFF, 4);
	*len = (unsigned)ld_le(c + PCICFG_LEN, 4);
	return c[PCICFG_BAR] == VIRTIO_PCI_BAR && (*len == 1 || *len == 2 || *len == 4) &&
	       *off % *len == 0 && *off + *len <= VIRTIO_PCI_BAR_SIZE;
}

static uint32_t pci_cfg_rd(struct pci_dev *d, unsigned off, unsigned size)
{
	struct virtio_pci *v = d->opaque;
	uint32_t o;
	unsigned len;
	if (off < PCICFG_DATA + 4 && off + size > PCICFG_DATA && pcicfg_target(v, &o, &len))
		st_le(&d->cfg[PCICFG_DATA], bar_read(v, o, len), len);
	return (uint32_t)ld_le(&d->cfg[off], size);
}

static void pci_cfg_wr(struct pci_dev *d, unsigned off, uint32_t val, unsigned size)
{
	struct virtio_pci *v = d->opaque;
	uint32_t o;
	unsigned len;
	if (off < PCICFG_DATA + 4 && off + size > PCICFG_DATA && pcicfg_target(v, &o, &len))
		bar_write(v, o, ld_le(&d->cfg[PCICFG_DATA], len), len);
	/* MSI-X enable / function mask changed: INTx level, pending vectors. */
	if (off <= MSIX_CTRL_HI && off + size > MSIX_CTRL_HI) {
		update_irq(v);
		msix_unmasked(v);
	}
}

static void put_cap(struct pci_dev *d, unsigned at, unsigned next, unsigned len, uint8_t type,
		    uint32_t offset, uint32_t length)
{
	d->cfg[at] = 0x09; /* vendor-specific */
	d->cfg[at + 1] = (uint8_t)next;
	d->cfg[at + 2] = (uint8_t)len;
	d->cfg[at + 3] = type;
	d->cfg[at + 4] = VIRTIO_PCI_BAR;
	st_le(&d->cfg[at + 8], offset, 4);
	st_le(&d->cfg[at + 12], length, 4);
}

/* ---- virtqueues (§2.7) ---- */

int virtq_pop(struct virtio_pci *v, int q, struct virtq_elem *e)
{
	if (!virtq_ready(v, q))
		return 0;
	struct virtq *vq = &v->q[q];
	uint16_t avail_idx = rd16(v, vq->avail + 2);
	if (avail_idx == vq->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size) {
		virtio_pci_set_error(v, "available index moved by more than the queue size");
		return -1;
	}
	uint16_t head = rd16(v, vq->avail + 4 + 2u * (vq->last_avail % vq->size));
	if (head >= vq->size) {
		virtio_pci_set_error(v, "available ring names a descriptor beyond the queue");
		return -1;
	}
	e->head = head;
	e->nout = e->nin = 0;
	e->out_len = e->in_len = 0;
	uint64_t table = vq->desc;
	unsigned tsize = vq->size, idx = head, count = 0;
	bool indirect = false;
	for (;;) {
		/* A chain visits each entry of its table at most once, so a
		 * longer walk is a loop (§2.7.5.2, §2.7.5.3.1). */
		if (++count > tsize) {
			virtio_pci_set_error(v, "descriptor chain loops or exceeds its table");
			return -1;
		}
		uint8_t d[16];
		phys_read_buf(v->m->mmu, table + 16ull * idx, d, 16);
		uint64_t addr = ld_le(d, 8);
		uint32_t len = (uint32_t)ld_le(d + 8, 4);
		uint16_t flags = (uint16_t)ld_le(d + 12, 2);
		uint16_t next = (uint16_t)ld_le(d + 14, 2);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			/* §2.7.5.3: one level only, no NEXT with INDIRECT, a
			 * table of whole descriptors. */
			if (!virtio_has_feature(v, VIRTIO_F_INDIRECT_DESC) || indirect ||
			    (flags & VIRTQ_DESC_F_NEXT) || len == 0 || len % 16 ||
			    !range_ok(v, addr, len) || (addr & 15)) {
				virtio_pci_set_error(v, "bad indirect descriptor");
				return -1;
			}
			indirect = true;
			table = addr;
			tsize = len / 16;
			idx = 0;
			count = 0;
			continue;
		}
		if (!range_ok(v, addr, len)) {
			virtio_pci_set_error(v, "descriptor buffer outside physical memory");
			return -1;
		}
		if (e->nout + e->nin == VIRTQ_MAX_SEGS) {
			virtio_pci_set_error(v, "too many descriptors in one request");
			return -1;
		}
		struct virtq_seg *s = &e->seg[e->nout + e->nin];
		s->addr = addr;
		s->len = len;
		if (flags & VIRTQ_DESC_F_WRITE) {
			e->nin++;
			e->in_len += len;
		} else if (e->nin) {
			virtio_pci_set_error(v, "device-readable descriptor after a writable one");
			return -1;
		} else {
			e->nout++;
			e->out_len += len;
		}
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		idx = next;
		if (idx >= tsize) {
			virtio_pci_set_error(v, "next descriptor beyond its table");
			return -1;
		}
	}
	vq->last_avail++;
	/* §2.7.10: with EVENT_IDX, avail_event tells the driver when to kick;
	 * we want every kick, so it trails our position. */
	if (virtio_has_feature(v, VIRTIO_F_EVENT_IDX))
		wr16(v, vq->used + 4 + 8ull * vq->size, vq->last_avail);
	return 1;
}

void virtq_unpop(struct virtio_pci *v, int q, unsigned n)
{
	if (q < 0 || q >= v->nq)
		return;
	struct virtq *vq = &v->q[q];
	vq->last_avail = (uint16_t)(vq->last_avail - n);
	if (vq->enabled && virtio_has_feature(v, VIRTIO_F_EVENT_IDX))
		wr16(v, vq->used + 4 + 8ull * vq->size, vq->last_avail);
}

void virtq_fill(struct virtio_pci *v, int q, const struct virtq_elem *e, uint32_t len, unsigned i)
{
	if (!virtq_ready(v, q))
		return;
	struct virtq *vq = &v->q[q];
	uint8_t u[8];
	st_le(u, e->head, 4);
	st_le(u + 4, len, 4);
	uint16_t slot = (uint16_t)(vq->used_idx + i) % vq->size;
	phys_write_buf(v->m->mmu, vq->used + 4 + 8ull * slot, u, 8);
}

void virtq_flush(struct virtio_pci *v, int q, unsigned n)
{
	if (!n || !virtq_ready(v, q))
		return;
	struct virtq *vq = &v->q[q];
	uint16_t old = vq->used_idx, now = (uint16_t)(old + n);
	vq->used_idx = now;
	wr16(v, vq->used + 2, now);
	bool notify;
	if (virtio_has_feature(v, VIRTIO_F_EVENT_IDX)) {
		/* §2.7.10: interrupt if used_event lies in [old, now). */
		uint16_t ev = rd16(v, vq->avail + 4 + 2ull * vq->size);
		notify = (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
	} else {
		notify = !(rd16(v, vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	if (notify)
		notify_queue(v, vq);
}

size_t virtq_elem_read(struct virtio_pci *v, const struct virtq_elem *e, uint64_t off, void *buf,
		       size_t n)
{
	uint8_t *p = buf;
	size_t done = 0;
	for (unsigned i = 0; i < e->nout && done < n; i++) {
		const struct virtq_seg *s = &e->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		size_t k = s->len - off < n - done ? s->len - off : n - done;
		phys_read_buf(v->m->mmu, s->addr + off, p + done, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t virtq_elem_write(struct virtio_pci *v, const struct virtq_elem *e, uint64_t off,
			const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t done = 0;
	for (unsigned i = e->nout; i < e->nout + e->nin && done < n; i++) {
		const struct virtq_seg *s = &e->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		size_t k = s->len - off < n - done ? s->len - off : n - done;
		phys_write_buf(v->m->mmu, s->addr + off, p + done, k);
		done += k;
		off = 0;
	}
	return done;
}

/* ---- creation ---- */

struct virtio_pci *virtio_pci_new(struct machine *m, struct pci_bus *bus, uint8_t devfn,
				  uint16_t device_id, uint32_t cls, int nqueues,
				  const struct virtio_dev_ops *ops, void *opaque, const char *name)
{
	if (nqueues < 1 || nqueues > VIRTIO_MAX_QUEUES || ops->config_size > VIRTIO_CONFIG_MAX)
		return NULL;
	struct virtio_pci *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	struct pci_dev *d =
		pci_register(bus, devfn, VIRTIO_PCI_VENDOR,
			     (uint16_t)(VIRTIO_PCI_DEVICE_BASE + device_id), cls, 1, name);
	if (!d) {
		free(v);
		return NULL;
	}
	v->m = m;
	v->pci = d;
	v->ops = ops;
	v->opaque = opaque;
	v->name = name;
	v->nq = nqueues;
	v->nvec = nqueues + 1;
	v->dev_features = ops->features | 1ull << VIRTIO_F_VERSION_1 |
			  1ull << VIRTIO_F_INDIRECT_DESC | 1ull << VIRTIO_F_EVENT_IDX;
	d->opaque = v;
	d->bar_moved = bar_moved;
	d->cfg_read = pci_cfg_rd;
	d->cfg_write = pci_cfg_wr;
	/* §4.1.2.1: subsystem vendor/device for a non-transitional device. */
	st_le(&d->cfg[0x2c], VIRTIO_PCI_VENDOR, 2);
	st_le(&d->cfg[0x2e], 0x1100, 2);
	d->cfg[PCI_STATUS] |= 0x10; /* capabilities list */
	d->cfg[0x34] = CAP_COMMON;
	put_cap(d, CAP_COMMON, CAP_NOTIFY, 16, 1, VIRTIO_PCI_COMMON_OFF, 0x1000);
	put_cap(d, CAP_NOTIFY, CAP_ISR, 20, 2, VIRTIO_PCI_NOTIFY_OFF, 0x1000);
	st_le(&d->cfg[CAP_NOTIFY + 16], VIRTIO_PCI_NOTIFY_MULT, 4);
	put_cap(d, CAP_ISR, CAP_DEVICE, 16, 3, VIRTIO_PCI_ISR_OFF, 0x1000);
	put_cap(d, CAP_DEVICE, CAP_PCICFG, 16, 4, VIRTIO_PCI_DEVICE_OFF, 0x1000);
	put_cap(d, CAP_PCICFG, CAP_MSIX, 20, 5, 0, 0);
	/* MSI-X capability: table size N - 1, table and PBA in BAR 4. */
	d->cfg[CAP_MSIX] = 0x11;
	d->cfg[CAP_MSIX + 1] = 0;
	st_le(&d->cfg[CAP_MSIX + 2], (uint64_t)(v->nvec - 1), 2);
	st_le(&d->cfg[CAP_MSIX + 4], VIRTIO_PCI_MSIX_OFF | VIRTIO_PCI_BAR, 4);
	st_le(&d->cfg[CAP_MSIX + 8], VIRTIO_PCI_PBA_OFF | VIRTIO_PCI_BAR, 4);
	d->wmask[MSIX_CTRL_HI] = MSIX_ENABLE | MSIX_MASKALL;
	d->cfg[PCICFG_BAR] = 0;
	d->wmask[PCICFG_BAR] = 0xff;
	for (int i = 0; i < 4; i++)
		d->wmask[PCICFG_OFF + i] = d->wmask[PCICFG_LEN + i] = d->wmask[PCICFG_DATA + i] =
			0xff;
	pci_set_irq_pin(d, 1);
	pci_set_bar(d, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, PCI_BAR_MEM64);
	pci_snapshot(d);
	msix_reset(v);
	queues_reset(v);
	v->config_vector = VIRTIO_MSI_NO_VECTOR;
	return v;
}

void virtio_pci_free(struct virtio_pci *v)
{
	if (!v)
		return;
	if (v->mapped)
		mmu_unmap(v->m->mmu, v->bar_addr, VIRTIO_PCI_BAR_SIZE);
	v->pci->opaque = NULL;
	v->pci->bar_moved = NULL;
	v->pci->cfg_read = NULL;
	v->pci->cfg_write = NULL;
	free(v);
}
