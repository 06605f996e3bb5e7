/*
 * tests/unit/test_virtio_net.c — virtio-net (devices/virtio_net.c) and the
 * network backends (devices/virtio_net_backend.c) on a bare machine: two
 * NICs and a test port on one hub; identity and config (MAC, link status),
 * transmit, receive with and without MRG_RXBUF, drops for missing or small
 * buffers, link change interrupts, the "none" backend, malformed rings.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "devices/machine.h"
#include "devices/pci.h"
#include "devices/virtio_net.h"
#include "devices/virtio_net_backend.h"
#include "devices/virtio_pci.h"
#include "mmu/mmu.h"
#include "virtio_test_driver.h"

#define DEVFN_A PCI_DEVFN(3, 0)
#define DEVFN_B PCI_DEVFN(4, 0)
#define BUF     0x400000ull

static struct machine *m;
static struct pci_bus *bus;
static struct net_hub *hub;
static struct net_backend *tap;
static struct virtio_net *a, *b;
static struct vt_dev da, db;
static uint8_t got[4096];
static size_t got_len;
static int got_count;

static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static const uint64_t FEAT = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MAC |
			     1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_F_INDIRECT_DESC;

static void tap_rx(void *o, const void *frame, size_t len)
{
	got_len = len < sizeof(got) ? len : sizeof(got);
	memcpy(got, frame, got_len);
	got_count++;
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 16 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	bus = pci_init(m);
	hub = net_hub_new();
	ck_assert_ptr_nonnull(hub);
	a = virtio_net_new(m, bus, DEVFN_A, mac_a, net_hub_port(hub));
	b = virtio_net_new(m, bus, DEVFN_B, mac_b, net_hub_port(hub));
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	tap = net_hub_port(hub);
	net_backend_attach(tap, tap_rx, NULL);
	got_len = 0;
	got_count = 0;
	vt_probe(&da, m, bus, DEVFN_A, 0xe0000000ull);
	vt_probe(&db, m, bus, DEVFN_B, 0xe0010000ull);
	db.qbase = 0x200000;
}

static void teardown(void)
{
	virtio_net_free(a);
	virtio_net_free(b);
	net_hub_free(hub);
	pci_free(bus);
	machine_free(m);
}

static void fill_frame(uint8_t *f, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 13);
}

/* Transmit len bytes from A: header and frame in separate descriptors. */
static void send_a(size_t len, uint8_t seed)
{
	uint8_t f[2048], hdr[12] = { 0 };
	fill_frame(f, len, seed);
	phys_write_buf(m->mmu, BUF, hdr, 12);
	phys_write_buf(m->mmu, BUF + 0x100, f, len);
	vt_add(&da, VIRTIO_NET_TXQ,
	       (struct vt_buf[]){ { BUF, 12, 0 }, { BUF + 0x100, (uint32_t)len, 0 } }, 2);
	vt_kick(&da, VIRTIO_NET_TXQ);
}

/* Post a receive buffer of len bytes at addr on B. */
static void post_b(uint64_t addr, uint32_t len)
{
	vt_add(&db, VIRTIO_NET_RXQ, (struct vt_buf[]){ { addr, len, 1 } }, 1);
	vt_kick(&db, VIRTIO_NET_RXQ);
}

static void check_packet(uint64_t addr, size_t len, uint8_t seed, uint16_t nbuf)
{
	uint8_t hdr[12], f[2048], want[2048];
	phys_read_buf(m->mmu, addr, hdr, 12);
	for (int i = 0; i < 10; i++)
		ck_assert_uint_eq(hdr[i], 0);
	ck_assert_uint_eq(hdr[10] | hdr[11] << 8, nbuf);
	phys_read_buf(m->mmu, addr + 12, f, len);
	fill_frame(want, len, seed);
	ck_assert_mem_eq(f, want, len);
}

START_TEST(identity)
{
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN_A, 0, 4), 0x10411af4u);
	ck_assert_uint_eq(pci_cfg_read(bus, DEVFN_A, PCI_CLASS_REV, 4), 0x02000001u);
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(vt_rd(&db, db.device + i, 1), mac_b[i]);
	ck_assert_uint_eq(vt_rd(&da, da.device + 6, 2), VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(vt_rd(&da, da.common + 0x12, 2), 2);
	uint64_t f = vt_device_features(&da);
	ck_assert(f & 1ull << VIRTIO_NET_F_MAC);
	ck_assert(f & 1ull << VIRTIO_NET_F_STATUS);
	ck_assert(f & 1ull << VIRTIO_NET_F_MRG_RXBUF);
	ck_assert(f & 1ull << VIRTIO_F_VERSION_1);
}
END_TEST

START_TEST(transmit)
{
	vt_init(&da, FEAT, 2);
	send_a(60, 1);
	ck_assert_uint_eq(vt_used_idx(&da, VIRTIO_NET_TXQ), 1);
	ck_assert_uint_eq(vt_used_len(&da, VIRTIO_NET_TXQ, 0), 0);
	ck_assert_int_eq(got_count, 1);
	ck_assert_uint_eq(got_len, 60);
	uint8_t want[60];
	fill_frame(want, 60, 1);
	ck_assert_mem_eq(got, want, 60);
	/* B has no driver: its copy is dropped. */
	ck_assert_uint_eq(virtio_net_rx_dropped(b), 1);
	ck_assert_int_eq(pci_find(bus, DEVFN_A)->irq_level, 1);
	/* A packet of only a header (no frame) is completed, not sent. */
	vt_add(&da, VIRTIO_NET_TXQ, (struct vt_buf[]){ { BUF, 12, 0 } }, 1);
	vt_kick(&da, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(vt_used_idx(&da, VIRTIO_NET_TXQ), 2);
	ck_assert_int_eq(got_count, 1);
}
END_TEST

START_TEST(a_to_b)
{
	vt_init(&da, FEAT, 2);
	vt_init(&db, FEAT, 2);
	post_b(BUF + 0x10000, 2048);
	/* Second buffer through an indirect table. */
	vt_add_indirect(&db, VIRTIO_NET_RXQ, BUF + 0x30000,
			(struct vt_buf[]){ { BUF + 0x20000, 6, 1 }, { BUF + 0x20006, 2042, 1 } },
			2);
	send_a(100, 7);
	ck_assert_uint_eq(vt_used_idx(&db, VIRTIO_NET_RXQ), 1);
	ck_assert_uint_eq(vt_used_len(&db, VIRTIO_NET_RXQ, 0), 112);
	check_packet(BUF + 0x10000, 100, 7, 1);
	ck_assert_int_eq(pci_find(bus, DEVFN_B)->irq_level, 1);
	send_a(1514, 9);
	ck_assert_uint_eq(vt_used_idx(&db, VIRTIO_NET_RXQ), 2);
	ck_assert_uint_eq(vt_used_len(&db, VIRTIO_NET_RXQ, 1), 1526);
	check_packet(BUF + 0x20000, 1514, 9, 1);
	/* No buffers left: dropped. */
	uint64_t dropped = virtio_net_rx_dropped(b);
	send_a(64, 3);
	ck_assert_uint_eq(virtio_net_rx_dropped(b), dropped + 1);
	ck_assert_uint_eq(vt_used_idx(&db, VIRTIO_NET_RXQ), 2);
}
END_TEST

START_TEST(small_buffer_without_mrg)
{
	vt_init(&db, FEAT, 2);
	post_b(BUF, 64);
	uint8_t f[100];
	fill_frame(f, 100, 5);
	tap->send(tap, f, 100); /* 112 bytes do not fit 64 */
	ck_assert_uint_eq(virtio_net_rx_dropped(b), 1);
	ck_assert_uint_eq(vt_used_idx(&db, VIRTIO_NET_RXQ), 0);
	/* The buffer was not consumed: a small frame still lands in it. */
	tap->send(tap, f, 40);
	ck_assert_uint_eq(vt_used_idx(&db, VIRTIO_NET_RXQ), 1);
	ck_assert_uint_eq(vt_used_len(&db, VIRTIO_NET_RXQ, 0), 52);
	check_packet(BUF, 40, 5, 1);
}
END_TEST

START_TEST(mergeable)
{
	vt_init(&db, FEAT | 1ull << VIRTIO_NET_F_MRG_RXBUF, 2);
	for (int i = 0; i < 4; i++)
		post_b(BUF + 0x1000 * i, 64);
	uint8_t f[150];
	fill_frame(f, 150, 11);
	tap->send(tap, f, 150); /* 162 bytes: 64 + 64 + 34 */
	ck_assert_uint_eq(vt_used_idx(&db, VIRTIO_NET_RXQ), 3);
	ck_assert_uint_eq(vt_used_len(&db, VIRTIO_NET_RXQ, 0), 64);
	ck_assert_uint_eq(vt_used_len(&db, VIRTIO_NET_RXQ, 1), 64);
	ck_assert_uint_eq(vt_used_len(&db, VIRTIO_NET_RXQ, 2), 34);
	uint8_t hdr[12], back[150];
	phys_read_buf(m->mmu, BUF, hdr, 12);
	ck_assert_uint_eq(hdr[10], 3);
	phys_read_buf(m->mmu, BUF + 12, back, 52);
	phys_read_buf(m->mmu, BUF + 0x1000, back + 52, 64);
	phys_read_buf(m->mmu, BUF + 0x2000, back + 116, 34);
	ck_assert_mem_eq(back, f, 150);
	/* One 64-byte buffer left: a 150-byte frame does not fit, is dropped
	 * and leaves the buffer for the next (small) frame. */
	tap->send(tap, f, 150);
	ck_assert_uint_eq(virtio_net_rx_dropped(b), 1);
	ck_assert_uint_eq(vt_used_idx(&db, VIRTIO_NET_RXQ), 3);
	tap->send(tap, f, 20);
	ck_assert_uint_eq(vt_used_idx(&db, VIRTIO_NET_RXQ), 4);
	ck_assert_uint_eq(vt_used_id(&db, VIRTIO_NET_RXQ, 3), 3);
	check_packet(BUF + 0x3000, 20, 11, 1);
}
END_TEST

START_TEST(link_status)
{
	vt_init(&db, FEAT, 2);
	uint8_t gen = (uint8_t)vt_rd(&db, db.common + 0x15, 1);
	virtio_net_set_link(b, false);
	ck_assert_uint_eq(vt_rd(&db, db.device + 6, 2), 0);
	ck_assert_uint_ne(vt_rd(&db, db.common + 0x15, 1), gen);
	ck_assert_int_eq(pci_find(bus, DEVFN_B)->irq_level, 1);
	ck_assert_uint_eq(vt_rd(&db, db.isr, 1), 2);
	ck_assert_int_eq(pci_find(bus, DEVFN_B)->irq_level, 0);
	virtio_net_set_link(b, true);
	ck_assert_uint_eq(vt_rd(&db, db.device + 6, 2), VIRTIO_NET_S_LINK_UP);
}
END_TEST

START_TEST(mac_writable_without_feature)
{
	/* Negotiate without VIRTIO_NET_F_MAC: the driver may set the MAC. */
	vt_init(&db, 1ull << VIRTIO_F_VERSION_1, 2);
	vt_wr(&db, db.device + 0, 4, 0x44332211);
	ck_assert_uint_eq(vt_rd(&db, db.device + 0, 4), 0x44332211);
	vt_init(&da, FEAT, 2);
	vt_wr(&da, da.device + 0, 1, 0x99);
	ck_assert_uint_eq(vt_rd(&da, da.device + 0, 1), mac_a[0]);
}
END_TEST

START_TEST(none_backend)
{
	struct net_backend *none = net_backend_none_new();
	struct virtio_net *c = virtio_net_new(m, bus, PCI_DEVFN(5, 0), mac_a, none);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(virtio_net_new(m, bus, PCI_DEVFN(5, 0), mac_a, NULL)); /* slot taken */
	struct vt_dev dc;
	vt_probe(&dc, m, bus, PCI_DEVFN(5, 0), 0xe0020000ull);
	dc.qbase = 0x300000;
	vt_init(&dc, FEAT, 2);
	phys_write_buf(m->mmu, BUF, (uint8_t[12]){ 0 }, 12);
	vt_add(&dc, VIRTIO_NET_TXQ, (struct vt_buf[]){ { BUF, 72, 0 } }, 1);
	vt_kick(&dc, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(vt_used_idx(&dc, VIRTIO_NET_TXQ), 1);
	ck_assert_int_eq(got_count, 0);
	virtio_net_free(c);
	net_backend_free(none);
}
END_TEST

START_TEST(malicious_tx_and_rx)
{
	vt_init(&da, FEAT, 2);
	vt_init(&db, FEAT, 2);
	/* TX: a descriptor that chains to itself. */
	vt_put_desc(&da, vt_desc(&da, VIRTIO_NET_TXQ), 0, BUF, 12, VIRTQ_DESC_F_NEXT, 0);
	vt_publish(&da, VIRTIO_NET_TXQ, 0);
	vt_kick(&da, VIRTIO_NET_TXQ);
	ck_assert(vt_status(&da) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_int_eq(got_count, 0);
	/* RX: a buffer chain that loops; found when a frame arrives. */
	vt_put_desc(&db, vt_desc(&db, VIRTIO_NET_RXQ), 0, BUF, 64,
		    VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	vt_publish(&db, VIRTIO_NET_RXQ, 0);
	uint8_t f[60] = { 0 };
	tap->send(tap, f, 60);
	ck_assert(vt_status(&db) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(vt_used_idx(&db, VIRTIO_NET_RXQ), 0);
	/* Oversized frames from the network are dropped. */
	vt_init(&db, FEAT, 2);
	post_b(BUF, 4096);
	static uint8_t big[VIRTIO_NET_MAX_FRAME + 1];
	tap->send(tap, big, sizeof(big));
	ck_assert_uint_eq(vt_used_idx(&db, VIRTIO_NET_RXQ), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_net");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identity);
	tcase_add_test(tc, transmit);
	tcase_add_test(tc, a_to_b);
	tcase_add_test(tc, small_buffer_without_mrg);
	tcase_add_test(tc, mergeable);
	tcase_add_test(tc, link_status);
	tcase_add_test(tc, mac_writable_without_feature);
	tcase_add_test(tc, none_backend);
	tcase_add_test(tc, malicious_tx_and_rx);
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
