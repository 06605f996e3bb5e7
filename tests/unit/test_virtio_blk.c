/*
 * tests/unit/test_virtio_blk.c — virtio-blk over the virtio PCI transport
 * (devices/virtio_blk.c, devices/virtio_pci.c) on a bare machine with a PCI
 * bus: identity and capabilities, feature negotiation and status, device
 * config, read/write/flush/get-id through direct and indirect chains, error
 * statuses, INTx/ISR and interrupt suppression (flags and EVENT_IDX), the
 * PCI configuration access window, and malicious rings that must put the
 * device into DEVICE_NEEDS_RESET without hanging.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/blockdev.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "mmu/mmu.h"
#include "virtio_test_driver.h"

#define DISK_SIZE (64 * 1024)
#define BAR_ADDR  0xe0000000ull
#define DEVFN     PCI_DEVFN(3, 0)
#define HDR       0x200000ull /* request header */
#define DATA      0x201000ull /* data buffers */
#define STAT      0x208000ull /* status byte */
#define ITAB      0x209000ull /* indirect table */

static struct machine *m;
static struct pci_bus *bus;
static struct virtio_blk *blk;
static struct vt_dev d;
static uint8_t disk[DISK_SIZE];
static int flushes;
static bool ro;

static int disk_read(void *o, uint64_t off, void *buf, size_t n)
{
	if (off + n > DISK_SIZE)
		return -1;
	memcpy(buf, disk + off, n);
	return 0;
}
static int disk_write(void *o, uint64_t off, const void *buf, size_t n)
{
	if (off + n > DISK_SIZE)
		return -1;
	memcpy(disk + off, buf, n);
	return 0;
}
static int disk_flush(void *o)
{
	flushes++;
	return 0;
}

static void make(bool read_only)
{
	struct machine_config cfg = { .ram_size = 16 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	bus = pci_init(m);
	ck_assert_ptr_nonnull(bus);
	for (int i = 0; i < DISK_SIZE; i++)
		disk[i] = (uint8_t)(i * 7 + (i >> 9));
	flushes = 0;
	ro = read_only;
	struct virtio_blk_backend be = { .size = DISK_SIZE,
					 .read_only = read_only,
					 .read = disk_read,
					 .write = disk_write,
					 .flush = disk_flush,
					 .serial = "SER-123" };
	blk = virtio_blk_new(m, bus, DEVFN, &be);
	ck_assert_ptr_nonnull(blk);
	vt_probe(&d, m, bus, DEVFN, BAR_ADDR);
}

static void setup(void)
{
	make(false);
}

static void teardown(void)
{
	virtio_blk_free(blk);
	pci_free(bus);
	machine_free(m);
}

static const uint64_t FEAT = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_INDIRECT_DESC |
			     1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_BLK_SIZE;

static void put_hdr(uint32_t type, uint64_t sector)
{
	phys_write(m->mmu, HDR, 4, type);
	phys_write(m->mmu, HDR + 4, 4, 0);
	phys_write(m->mmu, HDR + 8, 8, sector);
	phys_write(m->mmu, STAT, 1, 0xee);
}

static uint8_t stat(void)
{
	return (uint8_t)phys_read(m->mmu, STAT, 1);
}

static int irq(void)
{
	return pci_find(bus, DEVFN)->irq_level;
}

START_TEST(identity)
{
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, 0, 4), 0x10421af4u);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, PCI_CLASS_REV, 4), 0x01800001u);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, 0x2c, 2), 0x1af4);
	ck_assert_uint_ge(pci_cfg_read(bus, DEVFN, 0x2e, 2), 0x40);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, PCI_INTERRUPT_PIN, 1), 1);
	ck_assert_uint_eq(d.mult, VIRTIO_PCI_NOTIFY_MULT);
	ck_assert_uint_eq(vt_rd(&d, d.common + 0x12, 2), 1); /* num_queues */
	uint64_t f = vt_device_features(&d);
	ck_assert(f & 1ull << VIRTIO_F_VERSION_1);
	ck_assert(f & 1ull << VIRTIO_BLK_F_FLUSH);
	ck_assert(f & 1ull << VIRTIO_BLK_F_SEG_MAX);
	ck_assert(!(f & 1ull << VIRTIO_BLK_F_RO));
	/* Device config: capacity, seg_max, blk_size. */
	ck_assert_uint_eq(vt_rd(&d, d.device + 0, 8), DISK_SIZE / 512);
	ck_assert_uint_eq(vt_rd(&d, d.device + 12, 4), VIRTIO_BLK_SEG_MAX);
	ck_assert_uint_eq(vt_rd(&d, d.device + 20, 4), 512);
	ck_assert_uint_eq(vt_rd(&d, d.device + 0x200, 4), 0); /* beyond config */
}
END_TEST

START_TEST(negotiation)
{
	/* Without VERSION_1 (legacy driver) FEATURES_OK is refused. */
	ck_assert(!(vt_negotiate(&d, 1ull << VIRTIO_BLK_F_FLUSH) & VIRTIO_STATUS_FEATURES_OK));
	/* Features the device does not offer are refused too. */
	ck_assert(!(vt_negotiate(&d, FEAT | 1ull << 40) & VIRTIO_STATUS_FEATURES_OK));
	ck_assert(vt_negotiate(&d, FEAT) & VIRTIO_STATUS_FEATURES_OK);
	/* Feature bits are frozen after FEATURES_OK. */
	vt_wr(&d, d.common + 0x08, 4, 0);
	vt_wr(&d, d.common + 0x0c, 4, 0);
	vt_wr(&d, d.common + 0x08, 4, 1);
	ck_assert_uint_eq(vt_rd(&d, d.common + 0x0c, 4), 1); /* VERSION_1 still there */
	/* No MSI-X: vectors read NO_VECTOR. */
	ck_assert_uint_eq(vt_rd(&d, d.common + 0x10, 2), VIRTIO_MSI_NO_VECTOR);
	/* A queue beyond num_queues has size 0. */
	vt_wr(&d, d.common + 0x16, 2, 5);
	ck_assert_uint_eq(vt_rd(&d, d.common + 0x18, 2), 0);
	/* Reset clears everything. */
	vt_wr(&d, d.common + 0x14, 1, 0);
	ck_assert_uint_eq(vt_status(&d), 0);
	vt_wr(&d, d.common + 0x08, 4, 1);
	ck_assert_uint_eq(vt_rd(&d, d.common + 0x0c, 4), 0);
}
END_TEST

START_TEST(write_read)
{
	vt_init(&d, FEAT, 1);
	/* Write 2 sectors at sector 3, data split over two descriptors. */
	uint8_t pat[1024];
	for (int i = 0; i < 1024; i++)
		pat[i] = (uint8_t)(0xa5 ^ i);
	phys_write_buf(m->mmu, DATA, pat, 300);
	phys_write_buf(m->mmu, DATA + 0x1000, pat + 300, 724);
	put_hdr(VIRTIO_BLK_T_OUT, 3);
	struct vt_buf w[] = {
		{ HDR, 16, 0 }, { DATA, 300, 0 }, { DATA + 0x1000, 724, 0 }, { STAT, 1, 1 }
	};
	uint16_t head = vt_add(&d, 0, w, 4);
	ck_assert_int_eq(irq(), 0);
	vt_kick(&d, 0);
	ck_assert_uint_eq(vt_used_idx(&d, 0), 1);
	ck_assert_uint_eq(vt_used_id(&d, 0, 0), head);
	ck_assert_uint_eq(vt_used_len(&d, 0, 0), 1);
	ck_assert_uint_eq(stat(), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(disk + 3 * 512, pat, 1024);
	/* INTx and ISR: read clears and deasserts. */
	ck_assert_int_eq(irq(), 1);
	ck_assert_uint_eq(vt_rd(&d, d.isr, 1), 1);
	ck_assert_int_eq(irq(), 0);
	ck_assert_uint_eq(vt_rd(&d, d.isr, 1), 0);

	/* Read it back through an indirect table, header+status in one
	 * odd framing: header 8 + 8 bytes. */
	put_hdr(VIRTIO_BLK_T_IN, 3);
	struct vt_buf r[] = {
		{ HDR, 8, 0 }, { HDR + 8, 8, 0 }, { DATA + 0x2000, 1024, 1 }, { STAT, 1, 1 }
	};
	head = vt_add_indirect(&d, 0, ITAB, r, 4);
	vt_kick(&d, 0);
	ck_assert_uint_eq(vt_used_idx(&d, 0), 2);
	ck_assert_uint_eq(vt_used_id(&d, 0, 1), head);
	ck_assert_uint_eq(vt_used_len(&d, 0, 1), 1025);
	ck_assert_uint_eq(stat(), VIRTIO_BLK_S_OK);
	uint8_t back[1024];
	phys_read_buf(m->mmu, DATA + 0x2000, back, 1024);
	ck_assert_mem_eq(back, pat, 1024);
	ck_assert_uint_eq(virtio_pci_status(virtio_blk_transport(blk)) & VIRTIO_STATUS_NEEDS_RESET,
			  0);
}
END_TEST

/* One request of type with data of len bytes at sector; returns status. */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t len, int write)
{
	put_hdr(type, sector);
	struct vt_buf b[3] = { { HDR, 16, 0 }, { DATA, len, write }, { STAT, 1, 1 } };
	if (len)
		vt_add(&d, 0, b, 3);
	else
		vt_add(&d, 0, (struct vt_buf[]){ { HDR, 16, 0 }, { STAT, 1, 1 } }, 2);
	vt_kick(&d, 0);
	return stat();
}

START_TEST(errors_and_misc)
{
	vt_init(&d, FEAT, 1);
	/* Beyond the end, partial sectors. */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, DISK_SIZE / 512, 512, 1), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, 1024, 1),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, ~0ull, 512, 1), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 100, 1), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 100, 0), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, 512, 1), VIRTIO_BLK_S_OK);
	/* Flush. */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(flushes, 1);
	/* Get ID. */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 20, 1), VIRTIO_BLK_S_OK);
	char id[20];
	phys_read_buf(m->mmu, DATA, id, 20);
	ck_assert_str_eq(id, "SER-123");
	ck_assert_uint_eq(vt_used_len(&d, 0, vt_used_idx(&d, 0) - 1), 21);
	/* Unknown type. */
	ck_assert_uint_eq(request(77, 0, 0, 0), VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(vt_used_idx(&d, 0), 9);
	ck_assert_uint_eq(virtio_pci_status(virtio_blk_transport(blk)) & VIRTIO_STATUS_NEEDS_RESET,
			  0);
}
END_TEST

START_TEST(read_only)
{
	teardown();
	make(true);
	ck_assert(vt_device_features(&d) & 1ull << VIRTIO_BLK_F_RO);
	vt_init(&d, FEAT | 1ull << VIRTIO_BLK_F_RO, 1);
	uint8_t before = disk[0];
	phys_write(m->mmu, DATA, 1, (uint8_t)~before);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 512, 0), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(disk[0], before);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 512, 1), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(suppression)
{
	/* VIRTQ_AVAIL_F_NO_INTERRUPT without EVENT_IDX. */
	vt_init(&d, FEAT, 1);
	phys_write(m->mmu, vt_avail(&d, 0), 2, 1);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_uint_eq(vt_used_idx(&d, 0), 1);
	ck_assert_int_eq(irq(), 0);
	phys_write(m->mmu, vt_avail(&d, 0), 2, 0);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(irq(), 1);
	vt_rd(&d, d.isr, 1);

	/* EVENT_IDX: interrupt only when used idx passes used_event. */
	vt_init(&d, FEAT | 1ull << VIRTIO_F_EVENT_IDX, 1);
	phys_write(m->mmu, vt_avail(&d, 0) + 4 + 2 * VT_QSIZE, 2, 2); /* used_event = 2 */
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0);                         /* used 0 -> 1 */
	ck_assert_int_eq(irq(), 0);
	/* avail_event follows the device's position. */
	ck_assert_uint_eq(phys_read(m->mmu, vt_used(&d, 0) + 4 + 8 * VT_QSIZE, 2), 1);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0); /* 1 -> 2 */
	ck_assert_int_eq(irq(), 0);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0); /* 2 -> 3 crosses used_event 2 */
	ck_assert_int_eq(irq(), 1);
}
END_TEST

START_TEST(pci_cfg_window)
{
	ck_assert_uint_ne(d.pcicfg, 0);
	unsigned c = d.pcicfg;
	/* Read device_feature select 1 (VERSION_1 = bit 0) through the window. */
	pci_cfg_write(bus, DEVFN, c + 4, 4, 1);            /* cap.bar */
	pci_cfg_write(bus, DEVFN, c + 12, 4, 4);           /* cap.length */
	pci_cfg_write(bus, DEVFN, c + 8, d.common + 0, 4); /* device_feature_select */
	pci_cfg_write(bus, DEVFN, c + 16, 1, 4);
	ck_assert_uint_eq(vt_rd(&d, d.common + 0, 4), 1);
	pci_cfg_write(bus, DEVFN, c + 8, d.common + 4, 4);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, c + 16, 4) & 1, 1);
	/* Device config (capacity low byte) with length 1. */
	pci_cfg_write(bus, DEVFN, c + 12, 1, 4);
	pci_cfg_write(bus, DEVFN, c + 8, d.device, 4);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, c + 16, 1), DISK_SIZE / 512);
	/* Misaligned or wrong BAR: no access (data keeps its old value). */
	pci_cfg_write(bus, DEVFN, c + 12, 4, 4);
	pci_cfg_write(bus, DEVFN, c + 8, d.common + 2, 4);
	pci_cfg_write(bus, DEVFN, c + 16, 0x12345678, 4);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, c + 16, 4), 0x12345678);
}
END_TEST

/* ---- malicious rings: each must end in NEEDS_RESET, promptly ---- */

enum bad {
	BAD_LOOP,
	BAD_HEAD,
	BAD_AVAIL_JUMP,
	BAD_NESTED_INDIRECT,
	BAD_ADDR,
	BAD_ORDER,
	BAD_NEXT,
	BAD_INDIRECT_LEN,
	BAD_INDIRECT_LOOP,
	BAD_COUNT
};

START_TEST(malicious)
{
	vt_init(&d, FEAT | 1ull << VIRTIO_F_EVENT_IDX, 1);
	put_hdr(VIRTIO_BLK_T_IN, 0);
	uint64_t t = vt_desc(&d, 0);
	switch (_i) {
	case BAD_LOOP: /* 0 -> 1 -> 1 ... */
		vt_put_desc(&d, t, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
		vt_put_desc(&d, t, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
		vt_publish(&d, 0, 0);
		break;
	case BAD_HEAD:
		vt_publish(&d, 0, VT_QSIZE + 3);
		break;
	case BAD_AVAIL_JUMP:
		phys_write(m->mmu, vt_avail(&d, 0) + 2, 2, VT_QSIZE + 1);
		break;
	case BAD_NESTED_INDIRECT:
		vt_put_desc(&d, ITAB, 0, ITAB + 0x100, 32, VIRTQ_DESC_F_INDIRECT, 0);
		vt_put_desc(&d, t, 0, ITAB, 16, VIRTQ_DESC_F_INDIRECT, 0);
		vt_publish(&d, 0, 0);
		break;
	case BAD_ADDR:
		vt_add(&d, 0,
		       (struct vt_buf[]){ { HDR, 16, 0 },
					  { 0xfffffffffffff000ull, 0x2000, 1 },
					  { STAT, 1, 1 } },
		       3);
		break;
	case BAD_ORDER:
		vt_add(&d, 0, (struct vt_buf[]){ { HDR, 16, 0 }, { STAT, 1, 1 }, { DATA, 16, 0 } },
		       3);
		break;
	case BAD_NEXT:
		vt_put_desc(&d, t, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 999);
		vt_publish(&d, 0, 0);
		break;
	case BAD_INDIRECT_LEN:
		vt_put_desc(&d, t, 0, ITAB, 17, VIRTQ_DESC_F_INDIRECT, 0);
		vt_publish(&d, 0, 0);
		break;
	case BAD_INDIRECT_LOOP:
		vt_put_desc(&d, ITAB, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
		vt_put_desc(&d, ITAB, 1, STAT, 1, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
		vt_put_desc(&d, t, 0, ITAB, 32, VIRTQ_DESC_F_INDIRECT, 0);
		vt_publish(&d, 0, 0);
		break;
	}
	vt_kick(&d, 0);
	ck_assert(vt_status(&d) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(vt_used_idx(&d, 0), 0);
	/* Config-change interrupt. */
	ck_assert_int_eq(irq(), 1);
	ck_assert_uint_eq(vt_rd(&d, d.isr, 1), 2);
	/* Further kicks are ignored; a reset brings the device back. */
	vt_kick(&d, 0);
	ck_assert_uint_eq(vt_used_idx(&d, 0), 0);
	vt_init(&d, FEAT, 1);
	ck_assert(!(vt_status(&d) & VIRTIO_STATUS_NEEDS_RESET));
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 1, 512, 1), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(vt_used_idx(&d, 0), 1);
}
END_TEST

START_TEST(bad_queue_setup)
{
	vt_negotiate(&d, FEAT);
	vt_wr(&d, d.common + 0x16, 2, 0);
	vt_wr(&d, d.common + 0x18, 2, 12); /* not a power of 2 */
	vt_wr(&d, d.common + 0x1c, 2, 1);
	ck_assert_uint_eq(vt_rd(&d, d.common + 0x1c, 2), 0);
	ck_assert(vt_status(&d) & VIRTIO_STATUS_NEEDS_RESET);
	/* Misaligned descriptor table. */
	vt_negotiate(&d, FEAT);
	vt_wr(&d, d.common + 0x18, 2, 16);
	vt_wr(&d, d.common + 0x20, 8, vt_desc(&d, 0) + 8);
	vt_wr(&d, d.common + 0x1c, 2, 1);
	ck_assert(vt_status(&d) & VIRTIO_STATUS_NEEDS_RESET);
}
END_TEST

/* A read whose data buffer is the device's own BAR (notify and common
 * config): no recursion, the request completes, registers are untouched. */
START_TEST(dma_into_own_bar)
{
	vt_init(&d, FEAT, 1);
	put_hdr(VIRTIO_BLK_T_IN, 0);
	vt_add(&d, 0,
	       (struct vt_buf[]){ { HDR, 16, 0 },
				  { BAR_ADDR, 0x4000 - 512, 1 },
				  { DATA, 512, 1 },
				  { STAT, 1, 1 } },
	       4);
	vt_kick(&d, 0);
	ck_assert_uint_eq(vt_used_idx(&d, 0), 1);
	ck_assert_uint_eq(stat(), VIRTIO_BLK_S_OK);
	ck_assert(vt_status(&d) & VIRTIO_STATUS_DRIVER_OK);
	ck_assert(!(vt_status(&d) & VIRTIO_STATUS_NEEDS_RESET));
}
END_TEST

START_TEST(bar_move_and_reset)
{
	vt_init(&d, FEAT, 1);
	/* Move the BAR: the old address stops decoding. */
	pci_cfg_write(bus, DEVFN, 0x20, 0xd0000000u, 4);
	ck_assert_uint_eq(phys_read(m->mmu, BAR_ADDR + d.common + 0x12, 2), 0xffff);
	ck_assert_uint_eq(phys_read(m->mmu, 0xd0000000u + d.common + 0x12, 2), 1);
	/* Memory decode off: nothing there. */
	pci_cfg_write(bus, DEVFN, PCI_COMMAND, 0, 2);
	ck_assert_uint_eq(phys_read(m->mmu, 0xd0000000u + d.common + 0x12, 2), 0xffff);
	virtio_blk_reset(blk);
	ck_assert_uint_eq(virtio_pci_status(virtio_blk_transport(blk)), 0);
}
END_TEST

/* MSI-X (PCI 3.0 §6.8.2, virtio §4.1.5.1.2): vectors, masking, PBA. The
 * message addresses point at RAM, so a delivered MSI is a visible DWORD. */
#define MSG0 0x300000ull
#define MSG1 0x300010ull
START_TEST(msix)
{
	unsigned c = 0;
	for (unsigned p = pci_cfg_read(bus, DEVFN, 0x34, 1); p;
	     p = pci_cfg_read(bus, DEVFN, p + 1, 1))
		if (pci_cfg_read(bus, DEVFN, p, 1) == 0x11)
			c = p;
	ck_assert_uint_ne(c, 0);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN, c + 2, 2) & 0x7ff, 1); /* 2 vectors */
	uint32_t tab = pci_cfg_read(bus, DEVFN, c + 4, 4), pba = pci_cfg_read(bus, DEVFN, c + 8, 4);
	ck_assert_uint_eq(tab & 7, 4);
	ck_assert_uint_eq(pba & 7, 4);
	tab &= ~7u;
	pba &= ~7u;
	/* Entries start masked. */
	ck_assert_uint_eq(vt_rd(&d, tab + 12, 4), 1);
	vt_wr(&d, tab + 0, 4, (uint32_t)MSG0);
	vt_wr(&d, tab + 4, 4, 0);
	vt_wr(&d, tab + 8, 4, 0x1234);
	vt_wr(&d, tab + 12, 4, 0);
	vt_wr(&d, tab + 16, 8, MSG1); /* QWORD access */
	vt_wr(&d, tab + 24, 4, 0x5678);
	ck_assert_uint_eq(vt_rd(&d, tab + 16, 8), MSG1);
	pci_cfg_write(bus, DEVFN, c + 3, 0x80, 1); /* MSI-X enable */
	vt_init(&d, FEAT, 1);
	vt_wr(&d, d.common + 0x10, 2, 1);
	ck_assert_uint_eq(vt_rd(&d, d.common + 0x10, 2), 1);
	vt_wr(&d, d.common + 0x16, 2, 0);
	vt_wr(&d, d.common + 0x1a, 2, 7); /* no such vector */
	ck_assert_uint_eq(vt_rd(&d, d.common + 0x1a, 2), VIRTIO_MSI_NO_VECTOR);
	vt_wr(&d, d.common + 0x1a, 2, 0);
	ck_assert_uint_eq(vt_rd(&d, d.common + 0x1a, 2), 0);

	/* Queue interrupt: message 0, no INTx, no ISR queue bit needed. */
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_uint_eq(phys_read(m->mmu, MSG0, 4), 0x1234);
	ck_assert_int_eq(irq(), 0);
	/* Masked entry: pending bit, delivered on unmask. */
	phys_write(m->mmu, MSG0, 4, 0);
	vt_wr(&d, tab + 12, 4, 1);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_uint_eq(phys_read(m->mmu, MSG0, 4), 0);
	ck_assert_uint_eq(vt_rd(&d, pba, 4), 1);
	vt_wr(&d, tab + 12, 4, 0);
	ck_assert_uint_eq(phys_read(m->mmu, MSG0, 4), 0x1234);
	ck_assert_uint_eq(vt_rd(&d, pba, 4), 0);
	/* Config vector 1 (still masked), then function mask. */
	virtio_pci_config_changed(virtio_blk_transport(blk));
	ck_assert_uint_eq(vt_rd(&d, pba, 4), 2);
	pci_cfg_write(bus, DEVFN, c + 3, 0xc0, 1); /* enable + function mask */
	vt_wr(&d, tab + 28, 4, 0);
	ck_assert_uint_eq(phys_read(m->mmu, MSG1, 4), 0);
	pci_cfg_write(bus, DEVFN, c + 3, 0x80, 1);
	ck_assert_uint_eq(phys_read(m->mmu, MSG1, 4), 0x5678);
	ck_assert_uint_eq(vt_rd(&d, pba, 4), 0);
	/* A device reset drops the vector mapping but not the table. */
	vt_wr(&d, d.common + 0x14, 1, 0);
	ck_assert_uint_eq(vt_rd(&d, d.common + 0x10, 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(vt_rd(&d, tab + 8, 4), 0x1234);
	/* MSI-X off again: back to INTx. */
	pci_cfg_write(bus, DEVFN, c + 3, 0, 1);
	vt_init(&d, FEAT, 1);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(irq(), 1);
	/* An LAPIC-addressed message on a machine without LAPICs is harmless. */
	vt_wr(&d, tab + 0, 4, 0xfee00000u);
	pci_cfg_write(bus, DEVFN, c + 3, 0x80, 1);
	ck_assert_int_eq(irq(), 0);
	vt_wr(&d, d.common + 0x16, 2, 0);
	vt_wr(&d, d.common + 0x1a, 2, 0);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_uint_eq(vt_used_idx(&d, 0), 2);
}
END_TEST

/* The blockdev adapter: a read-only image file read through the device. */
START_TEST(blockdev_backend)
{
	char path[] = "/tmp/test_virtio_blk_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "wb");
	for (int i = 0; i < 4096; i++)
		fputc(i * 3 & 0xff, f);
	fclose(f);
	struct blockdev *bd = blockdev_open(path, BLOCKDEV_READONLY, NULL, 0);
	ck_assert_ptr_nonnull(bd);
	struct virtio_blk *b2 = virtio_blk_new_blockdev(m, bus, PCI_DEVFN(6, 0), bd, "IMG");
	ck_assert_ptr_nonnull(b2);
	struct vt_dev d2;
	vt_probe(&d2, m, bus, PCI_DEVFN(6, 0), 0xe0100000ull);
	d2.qbase = 0x500000;
	ck_assert(vt_device_features(&d2) & 1ull << VIRTIO_BLK_F_RO);
	ck_assert_uint_eq(vt_rd(&d2, d2.device, 8), 8);
	vt_init(&d2, FEAT, 1);
	put_hdr(VIRTIO_BLK_T_IN, 2);
	vt_add(&d2, 0, (struct vt_buf[]){ { HDR, 16, 0 }, { DATA, 1024, 1 }, { STAT, 1, 1 } }, 3);
	vt_kick(&d2, 0);
	ck_assert_uint_eq(stat(), VIRTIO_BLK_S_OK);
	for (int i = 0; i < 1024; i++)
		ck_assert_uint_eq(phys_read(m->mmu, DATA + i, 1), (1024 + i) * 3 & 0xff);
	put_hdr(VIRTIO_BLK_T_OUT, 0);
	vt_add(&d2, 0, (struct vt_buf[]){ { HDR, 16, 0 }, { DATA, 512, 0 }, { STAT, 1, 1 } }, 3);
	vt_kick(&d2, 0);
	ck_assert_uint_eq(stat(), VIRTIO_BLK_S_IOERR);
	virtio_blk_free(b2);
	blockdev_close(bd);
	unlink(path);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identity);
	tcase_add_test(tc, negotiation);
	tcase_add_test(tc, write_read);
	tcase_add_test(tc, errors_and_misc);
	tcase_add_test(tc, read_only);
	tcase_add_test(tc, suppression);
	tcase_add_test(tc, pci_cfg_window);
	tcase_add_loop_test(tc, malicious, 0, BAD_COUNT);
	tcase_add_test(tc, bad_queue_setup);
	tcase_add_test(tc, dma_into_own_bar);
	tcase_add_test(tc, bar_move_and_reset);
	tcase_add_test(tc, msix);
	tcase_add_test(tc, blockdev_backend);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
