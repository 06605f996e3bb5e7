/*
 * tests/unit/test_ide.c — the PIIX3 IDE controller (devices/ide.c,
 * devices/ide_atapi.c) on a bare machine with the i440FX/PIIX PCI functions:
 * IDENTIFY fields, PIO read/write (single, multiple, LBA48, CHS), bus-master
 * DMA with a PRD table in guest RAM, reset signatures, nIEN, error paths,
 * ATAPI (PACKET protocol, INQUIRY, READ CAPACITY, READ(10) by PIO and DMA,
 * READ TOC, sense data, media events), snapshot and read-only images.
 * Images are files made in /tmp by the test.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/blockdev.h"
#include "devices/ide.h"
#include "devices/ioport.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

#define P0           0x1f0
#define C0           0x3f6
#define P1           0x170
#define C1           0x376
#define BM           0xc000
#define DISK_SECTORS 8192u /* 4 MiB */
#define CD_BLOCKS    300u

static struct machine *m;
static struct pci_bus *bus;
static struct ide *ide;
static struct blockdev *disk, *cd;
static char disk_path[64], cd_path[64], big_path[64];
static int level[2], rises[2];

static void line_set(void *opaque, int n, int lv)
{
	if (lv && !level[n])
		rises[n]++;
	level[n] = lv;
}

static uint8_t disk_byte(uint64_t off)
{
	return (uint8_t)(off / 512 * 3 + off % 512);
}
static uint8_t cd_byte(uint64_t off)
{
	return (uint8_t)(off / 2048 * 5 + off % 2048 / 2);
}

static void make_image(const char *p, size_t size, uint8_t (*fn)(uint64_t))
{
	FILE *f = fopen(p, "wb");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < size; i++)
		fputc(fn(i), f);
	fclose(f);
}

/* A machine with the disk at index 0 (primary master) and the CD-ROM at
 * index 2 (secondary master); flags for the disk's blockdev. */
static void build(unsigned disk_flags)
{
	struct machine_config cfg = { .ram_size = 16 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	bus = pci_init(m);
	ck_assert_ptr_nonnull(bus);
	pci_add_i440fx_piix(bus, NULL, NULL);
	struct irq_line irq[2] = { { line_set, NULL, 0 }, { line_set, NULL, 1 } };
	ide = ide_init(m, bus, irq);
	ck_assert_ptr_nonnull(ide);
	char err[256];
	disk = blockdev_open(disk_path, disk_flags, err, sizeof(err));
	ck_assert_msg(disk != NULL, "%s", err);
	cd = blockdev_open(cd_path, BLOCKDEV_READONLY | BLOCKDEV_CDROM, err, sizeof(err));
	ck_assert_msg(cd != NULL, "%s", err);
	ck_assert(ide_attach(ide, 0, &(struct ide_drive_config){ .bd = disk }));
	ck_assert(ide_attach(ide, 2, &(struct ide_drive_config){ .bd = cd, .cdrom = true }));
	level[0] = level[1] = rises[0] = rises[1] = 0;
}

static void setup(void)
{
	snprintf(disk_path, sizeof(disk_path), "/tmp/nb_ide_disk_%d.img", (int)getpid());
	snprintf(cd_path, sizeof(cd_path), "/tmp/nb_ide_cd_%d.iso", (int)getpid());
	big_path[0] = 0;
	make_image(disk_path, DISK_SECTORS * 512, disk_byte);
	make_image(cd_path, CD_BLOCKS * 2048 - 100, cd_byte); /* ragged tail */
	build(0);
}

static void teardown(void)
{
	ide_free(ide);
	blockdev_close(disk);
	blockdev_close(cd);
	pci_free(bus);
	machine_free(m);
	unlink(disk_path);
	unlink(cd_path);
	if (big_path[0])
		unlink(big_path);
}

static uint8_t inb(uint16_t p)
{
	return (uint8_t)ioport_read(m->io, p, 1);
}
static uint16_t inw(uint16_t p)
{
	return (uint16_t)ioport_read(m->io, p, 2);
}
static void outb(uint16_t p, uint8_t v)
{
	ioport_write(m->io, p, 1, v);
}
static void outw(uint16_t p, uint16_t v)
{
	ioport_write(m->io, p, 2, v);
}

/* LBA28 task file + command. */
static void ata_cmd(uint16_t base, uint8_t cmd, uint32_t lba, uint8_t count, uint8_t dev)
{
	outb(base + 6, (uint8_t)(dev | 0xe0 | ((lba >> 24) & 0xf)));
	outb(base + 2, count);
	outb(base + 3, (uint8_t)lba);
	outb(base + 4, (uint8_t)(lba >> 8));
	outb(base + 5, (uint8_t)(lba >> 16));
	outb(base + 7, cmd);
}

static void ata_cmd48(uint8_t cmd, uint64_t lba, uint16_t count)
{
	outb(P0 + 6, 0x40);
	outb(P0 + 2, (uint8_t)(count >> 8));
	outb(P0 + 3, (uint8_t)(lba >> 24));
	outb(P0 + 4, (uint8_t)(lba >> 32));
	outb(P0 + 5, (uint8_t)(lba >> 40));
	outb(P0 + 2, (uint8_t)count);
	outb(P0 + 3, (uint8_t)lba);
	outb(P0 + 4, (uint8_t)(lba >> 8));
	outb(P0 + 5, (uint8_t)(lba >> 16));
	outb(P0 + 7, cmd);
}

static void read_words(uint16_t base, void *buf, size_t bytes)
{
	uint8_t *b = buf;
	for (size_t i = 0; i < bytes; i += 2) {
		uint16_t w = inw(base);
		b[i] = (uint8_t)w;
		b[i + 1] = (uint8_t)(w >> 8);
	}
}

static void identify(uint16_t base, uint8_t cmd, uint16_t *w)
{
	outb(base + 7, cmd);
	ck_assert_uint_eq(inb(base + 7) & 0x89, 0x08);
	read_words(base, w, 512);
}

static void get_string(const uint16_t *w, int words, char *out)
{
	for (int i = 0; i < words; i++) {
		out[2 * i] = (char)(w[i] >> 8);
		out[2 * i + 1] = (char)w[i];
	}
	out[2 * words] = 0;
	for (int i = 2 * words - 1; i >= 0 && out[i] == ' '; i--)
		out[i] = 0;
}

/* ---- PCI ---- */

static void enable_bm(void)
{
	pci_cfg_write(bus, PCI_DEVFN(1, 1), PCI_BAR0 + 16, BM, 4);
	pci_cfg_write(bus, PCI_DEVFN(1, 1), PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MASTER, 2);
}

START_TEST(pci_function)
{
	ck_assert_uint_eq(pci_cfg_read(bus, PCI_DEVFN(1, 1), 0, 4), 0x70108086u);
	ck_assert_uint_eq(pci_cfg_read(bus, PCI_DEVFN(1, 1), PCI_CLASS_REV, 4) >> 8, 0x010180u);
	pci_cfg_write(bus, PCI_DEVFN(1, 1), PCI_BAR0 + 16, 0xffffffffu, 4);
	/* 16 I/O ports (the upper half may read as 0s or 1s). */
	ck_assert_uint_eq(pci_cfg_read(bus, PCI_DEVFN(1, 1), PCI_BAR0 + 16, 4) & 0xffff, 0xfff1);
	enable_bm();
	/* Drive 0 of each channel is DMA capable; PRD pointer is dword aligned. */
	ck_assert_uint_eq(inb(BM + 2), 0x20);
	ck_assert_uint_eq(inb(BM + 10), 0x20);
	ioport_write(m->io, BM + 4, 4, 0x12345677);
	ck_assert_uint_eq(ioport_read(m->io, BM + 4, 4), 0x12345674u);
	/* Moving the BAR moves the registers. */
	pci_cfg_write(bus, PCI_DEVFN(1, 1), PCI_BAR0 + 16, 0xd000, 4);
	ck_assert_uint_eq(ioport_read(m->io, 0xd004, 4), 0x12345674u);
	ck_assert_uint_eq(ioport_read(m->io, BM + 4, 4), 0xffffffffu);
}
END_TEST

/* ---- ATA ---- */

START_TEST(identify_disk)
{
	uint16_t w[256];
	outb(P0 + 6, 0xa0);
	identify(P0, 0xec, w);
	ck_assert_int_eq(rises[0], 1);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	ck_assert_int_eq(level[0], 0); /* status read cleared INTRQ */
	char s[48];
	get_string(&w[27], 20, s);
	ck_assert_str_eq(s, "NESTBOX HARDDISK");
	get_string(&w[10], 10, s);
	ck_assert_str_eq(s, "NB000000000000000001");
	get_string(&w[23], 4, s);
	ck_assert_str_eq(s, "1.0");
	ck_assert_uint_eq(w[0] & 0x8000, 0);
	ck_assert_uint_eq(w[1], DISK_SECTORS / (16 * 63));
	ck_assert_uint_eq(w[3], 16);
	ck_assert_uint_eq(w[6], 63);
	ck_assert_uint_eq(w[47], 0x8010);
	ck_assert(w[49] & (1 << 9));
	ck_assert(w[49] & (1 << 8));
	ck_assert_uint_eq(w[60] | (uint32_t)w[61] << 16, DISK_SECTORS);
	ck_assert(w[83] & (1 << 10));
	ck_assert_uint_eq(w[100] | (uint32_t)w[101] << 16, DISK_SECTORS);
	ck_assert_uint_eq(w[63] & 7, 7);
	ck_assert_uint_eq(w[88] & 0x3f, 0x3f);
	ck_assert(w[80] & (1 << 6));
	/* Integrity word: all 512 bytes sum to 0. */
	uint8_t sum = 0;
	for (int i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
	ck_assert_uint_eq(w[255] & 0xff, 0xa5);
	ck_assert_uint_eq(sum, 0);
	/* SET FEATURES: UDMA 5 selected; an impossible mode aborts. */
	outb(P0 + 1, 0x03);
	outb(P0 + 2, 0x45);
	outb(P0 + 7, 0xef);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	identify(P0, 0xec, w);
	ck_assert_uint_eq(w[88], 0x203f);
	ck_assert_uint_eq(w[63] & 0xff00, 0);
	outb(P0 + 2, 0x47);
	outb(P0 + 1, 0x03);
	outb(P0 + 7, 0xef);
	ck_assert_uint_eq(inb(P0 + 7), 0x51);
	ck_assert_uint_eq(inb(P0 + 1), 0x04);
}
END_TEST

START_TEST(pio_read_write)
{
	uint8_t buf[512 * 3];
	ata_cmd(P0, 0x20, 100, 2, 0);
	for (int s = 0; s < 2; s++) {
		ck_assert_int_eq(rises[0], s + 1);
		ck_assert_uint_eq(inb(P0 + 7), 0x58);
		read_words(P0, buf, 512);
		for (int i = 0; i < 512; i++)
			ck_assert_uint_eq(buf[i], disk_byte((100 + s) * 512 + i));
	}
	ck_assert_uint_eq(inb(C0), 0x50);
	ck_assert_int_eq(rises[0], 2);       /* no interrupt after the last block */
	ck_assert_uint_eq(inb(P0 + 3), 101); /* last sector transferred */

	/* WRITE SECTORS: first DRQ without interrupt, 32-bit data port. */
	for (int i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	ata_cmd(P0, 0x30, 7, 3, 0);
	ck_assert_int_eq(rises[0], 2);
	for (int s = 0; s < 3; s++) {
		ck_assert_uint_eq(inb(C0), 0x58);
		for (int i = 0; i < 512; i += 4) {
			uint32_t v;
			memcpy(&v, &buf[s * 512 + i], 4);
			ioport_write(m->io, P0, 4, v);
		}
		ck_assert_int_eq(rises[0], 3 + s);
		inb(P0 + 7);
	}
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	int fd = open(disk_path, O_RDONLY);
	uint8_t chk[sizeof(buf)];
	ck_assert_int_eq(pread(fd, chk, sizeof(chk), 7 * 512), (ssize_t)sizeof(chk));
	close(fd);
	ck_assert_mem_eq(chk, buf, sizeof(buf));
	/* And back through READ SECTORS with count 0 = 256 sectors. */
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	ata_cmd(P0, 0x20, 7, 0, 0);
	ck_assert_uint_eq(inb(P0 + 7), 0x58);
	read_words(P0, chk, 512);
	ck_assert_mem_eq(chk, buf, 512);
	for (int s = 1; s < 256; s++) {
		ck_assert_uint_eq(inb(P0 + 7), 0x58); /* clears INTRQ */
		read_words(P0, chk, 512);
	}
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	ck_assert_int_eq(rises[0], 5 + 256);
}
END_TEST

START_TEST(multiple_mode)
{
	/* Without SET MULTIPLE MODE, READ MULTIPLE aborts. */
	ata_cmd(P0, 0xc4, 0, 4, 0);
	ck_assert_uint_eq(inb(P0 + 7), 0x51);
	ck_assert_uint_eq(inb(P0 + 1), 0x04);
	/* 3 is not a power of two. */
	ata_cmd(P0, 0xc6, 0, 3, 0);
	ck_assert_uint_eq(inb(P0 + 7), 0x51);
	ata_cmd(P0, 0xc6, 0, 4, 0);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	uint16_t w[256];
	identify(P0, 0xec, w);
	ck_assert_uint_eq(w[59], 0x0104);
	rises[0] = 0;
	ata_cmd(P0, 0xc4, 20, 10, 0);
	uint8_t buf[512];
	/* Blocks of 4, 4, 2 sectors, one interrupt each. */
	for (int s = 0; s < 10; s++) {
		if (s % 4 == 0) {
			ck_assert_int_eq(rises[0], s / 4 + 1);
			ck_assert_uint_eq(inb(P0 + 7), 0x58);
		}
		ck_assert(inb(C0) & 0x08);
		read_words(P0, buf, 512);
		ck_assert_uint_eq(buf[5], disk_byte((20 + s) * 512 + 5));
	}
	ck_assert_int_eq(rises[0], 3);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	/* WRITE MULTIPLE EXT of 5 sectors: blocks 4 + 1. */
	rises[0] = 0;
	memset(buf, 0x3c, sizeof(buf));
	ata_cmd48(0x39, 40, 5);
	ck_assert_int_eq(rises[0], 0);
	for (int s = 0; s < 5; s++) {
		if (s == 4) {
			ck_assert_int_eq(rises[0], 1);
			ck_assert_uint_eq(inb(P0 + 7), 0x58);
		}
		for (int i = 0; i < 512; i += 2)
			outw(P0, 0x3c3c);
	}
	ck_assert_int_eq(rises[0], 2);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	uint8_t chk[512];
	ck_assert_int_eq(blockdev_read_sectors(disk, 44, chk, 1), 0);
	ck_assert_mem_eq(chk, buf, 512);
}
END_TEST

START_TEST(chs_and_misc)
{
	uint8_t buf[512];
	/* CHS: cylinder 1, head 2, sector 3 = (1*16+2)*63 + 2. */
	outb(P0 + 6, 0xa2);
	outb(P0 + 2, 1);
	outb(P0 + 3, 3);
	outb(P0 + 4, 1);
	outb(P0 + 5, 0);
	outb(P0 + 7, 0x20);
	read_words(P0, buf, 512);
	ck_assert_uint_eq(buf[1], disk_byte(((1 * 16 + 2) * 63 + 2) * 512 + 1));
	/* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors. */
	outb(P0 + 6, 0xa3);
	outb(P0 + 2, 17);
	outb(P0 + 7, 0x91);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	uint16_t w[256];
	identify(P0, 0xec, w);
	ck_assert_uint_eq(w[55], 4);
	ck_assert_uint_eq(w[56], 17);
	ck_assert_uint_eq(w[54], DISK_SECTORS / (4 * 17));
	outb(P0 + 6, 0xa1);
	outb(P0 + 2, 1);
	outb(P0 + 3, 3);
	outb(P0 + 4, 1);
	outb(P0 + 5, 0);
	outb(P0 + 7, 0x20);
	read_words(P0, buf, 512);
	ck_assert_uint_eq(buf[9], disk_byte(((1 * 4 + 1) * 17 + 2) * 512 + 9));
	/* Non-data commands. */
	const uint8_t ok[] = { 0xe7, 0xea, 0xe0, 0xe1, 0x10, 0x40 };
	for (unsigned i = 0; i < sizeof(ok); i++) {
		rises[0] = 0;
		ata_cmd(P0, ok[i], 1, 1, 0);
		ck_assert_int_eq(rises[0], 1);
		ck_assert_uint_eq(inb(P0 + 7), 0x50);
	}
	ata_cmd(P0, 0xe5, 0, 0, 0);
	ck_assert_uint_eq(inb(P0 + 2), 0xff);
	/* READ NATIVE MAX ADDRESS. */
	ata_cmd(P0, 0xf8, 0, 0, 0);
	ck_assert_uint_eq(inb(P0 + 3) | inb(P0 + 4) << 8 | inb(P0 + 5) << 16, DISK_SECTORS - 1);
}
END_TEST

START_TEST(errors)
{
	/* Beyond the end: IDNF. */
	ata_cmd(P0, 0x20, DISK_SECTORS - 1, 2, 0);
	ck_assert_uint_eq(inb(P0 + 7), 0x51);
	ck_assert(inb(P0 + 1) & 0x10);
	/* Unknown command and NOP abort, with an interrupt. */
	rises[0] = 0;
	ata_cmd(P0, 0x00, 0, 0, 0);
	ck_assert_int_eq(rises[0], 1);
	ck_assert_uint_eq(inb(P0 + 7), 0x51);
	ck_assert_uint_eq(inb(P0 + 1), 0x04);
	ata_cmd(P0, 0xb0, 0, 0, 0);
	ck_assert_uint_eq(inb(P0 + 7), 0x51);
	/* PACKET and IDENTIFY PACKET to a disk abort. */
	ata_cmd(P0, 0xa1, 0, 0, 0);
	ck_assert_uint_eq(inb(P0 + 7), 0x51);
	/* Absent slave: status reads 0, commands are ignored, the other
	 * registers are its own copy. */
	outb(P0 + 6, 0xb0);
	ck_assert_uint_eq(inb(P0 + 7), 0);
	ck_assert_uint_eq(inb(P0 + 6), 0xb0);
	outb(P0 + 2, 0x55);
	ck_assert_uint_eq(inb(P0 + 2), 0x55);
	outb(P0 + 7, 0xec);
	ck_assert_uint_eq(inb(C0), 0);
	/* IDENTIFY DEVICE to the CD-ROM aborts and shows the signature. */
	outb(P1 + 6, 0xa0);
	outb(P1 + 7, 0xec);
	ck_assert_uint_eq(inb(P1 + 7) & 0x01, 0x01);
	ck_assert_uint_eq(inb(P1 + 1), 0x04);
	ck_assert_uint_eq(inb(P1 + 4), 0x14);
	ck_assert_uint_eq(inb(P1 + 5), 0xeb);
	/* Secondary slave absent, secondary channel empty of disks: data port
	 * without DRQ reads all ones. */
	ck_assert_uint_eq(inw(P1), 0xffff);
}
END_TEST

START_TEST(reset_and_nien)
{
	/* nIEN masks INTRQ from the line but not from the bus master status. */
	enable_bm();
	outb(C0, 0x02);
	ata_cmd(P0, 0xe7, 0, 0, 0);
	ck_assert_int_eq(rises[0], 0);
	ck_assert(inb(BM + 2) & 0x04);
	outb(BM + 2, 0x04);
	ck_assert_uint_eq(inb(BM + 2) & 0x04, 0);
	/* Pending interrupt shows up when nIEN is cleared. */
	outb(C0, 0x00);
	ck_assert_int_eq(level[0], 1);
	inb(P0 + 7);
	ck_assert_int_eq(level[0], 0);
	/* SRST: BSY while asserted, signatures after. */
	ata_cmd(P0, 0x20, 0, 1, 0);
	outb(C0, 0x04);
	ck_assert_uint_eq(inb(C0), 0x80);
	outb(C0, 0x00);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	ck_assert_uint_eq(inb(P0 + 1), 0x01);
	ck_assert_uint_eq(inb(P0 + 2), 0x01);
	ck_assert_uint_eq(inb(P0 + 3), 0x01);
	ck_assert_uint_eq(inb(P0 + 4), 0x00);
	ck_assert_uint_eq(inb(P0 + 5), 0x00);
	ck_assert_uint_eq(inb(P0 + 6), 0x00);
	ck_assert_uint_eq(inw(P0), 0xffff); /* the read was cancelled */
	outb(C1, 0x04);
	outb(C1, 0x00);
	ck_assert_uint_eq(inb(P1 + 7), 0x00); /* packet device: DRDY clear */
	ck_assert_uint_eq(inb(P1 + 4), 0x14);
	ck_assert_uint_eq(inb(P1 + 5), 0xeb);
	/* EXECUTE DEVICE DIAGNOSTIC interrupts and leaves error 01h. */
	rises[0] = 0;
	ata_cmd(P0, 0x90, 0, 0, 0);
	ck_assert_int_eq(rises[0], 1);
	ck_assert_uint_eq(inb(P0 + 1), 0x01);
	/* HOB reads the previous register values. */
	outb(P0 + 3, 0x11);
	outb(P0 + 3, 0x22);
	outb(C0, 0x80);
	ck_assert_uint_eq(inb(P0 + 3), 0x11);
	outb(C0, 0x00);
	ck_assert_uint_eq(inb(P0 + 3), 0x22);
}
END_TEST

START_TEST(lba48_big_disk)
{
	teardown();
	snprintf(disk_path, sizeof(disk_path), "/tmp/nb_ide_disk_%d.img", (int)getpid());
	snprintf(cd_path, sizeof(cd_path), "/tmp/nb_ide_cd_%d.iso", (int)getpid());
	make_image(cd_path, 2048, cd_byte);
	/* A sparse 200 GiB disk: more than 2^28 sectors. */
	int fd = open(disk_path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	ck_assert_int_ge(fd, 0);
	const uint64_t n = 200ull << 21;
	ck_assert_int_eq(ftruncate(fd, (off_t)(n * 512)), 0);
	close(fd);
	build(0);
	uint16_t w[256];
	identify(P0, 0xec, w);
	ck_assert_uint_eq(w[60] | (uint32_t)w[61] << 16, 0x0fffffffu);
	uint64_t n48 =
		w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32 | (uint64_t)w[103] << 48;
	ck_assert_uint_eq(n48, n);
	ck_assert_uint_eq(w[1], 16383);
	/* WRITE SECTORS EXT above 2^28, READ DMA EXT it back. */
	const uint64_t lba = 0x12000005ull;
	ck_assert_uint_lt(lba, n);
	ata_cmd48(0x34, lba, 2);
	for (int i = 0; i < 512; i++)
		outw(P0, (uint16_t)(0x1234 + i));
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	/* Address registers: last sector, HOB bytes hold bits 24-47. */
	ck_assert_uint_eq(inb(P0 + 3), 0x06);
	outb(C0, 0x80);
	ck_assert_uint_eq(inb(P0 + 3), 0x12);
	ck_assert_uint_eq(inb(P0 + 4), 0x00);
	outb(C0, 0x00);
	enable_bm();
	phys_write(m->mmu, 0x8000, 4, 0x100000);
	phys_write(m->mmu, 0x8004, 4, 0x80000000u | 1024);
	ioport_write(m->io, BM + 4, 4, 0x8000);
	outb(BM, 0x08);
	ata_cmd48(0x25, lba, 2);
	outb(BM, 0x09);
	ck_assert_uint_eq(inb(BM + 2) & 0x07, 0x04);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(phys_read(m->mmu, 0x100000 + 2 * i, 2), (uint16_t)(0x1234 + i));
	/* READ NATIVE MAX ADDRESS EXT. */
	ata_cmd48(0x27, 0, 0);
	outb(C0, 0x80);
	uint64_t max = (uint64_t)inb(P0 + 3) << 24 | (uint64_t)inb(P0 + 4) << 32 |
		       (uint64_t)inb(P0 + 5) << 40;
	outb(C0, 0x00);
	max |= inb(P0 + 3) | inb(P0 + 4) << 8 | (uint32_t)inb(P0 + 5) << 16;
	ck_assert_uint_eq(max, n - 1);
	snprintf(big_path, sizeof(big_path), "%s", disk_path);
}
END_TEST

/* ---- DMA ---- */

static void prd(unsigned i, uint32_t addr, uint32_t count, bool eot)
{
	phys_write(m->mmu, 0x1000 + 8 * i, 4, addr);
	phys_write(m->mmu, 0x1004 + 8 * i, 4, (count & 0xffff) | (eot ? 0x80000000u : 0));
}

START_TEST(dma_read_write)
{
	enable_bm();
	/* Read 3 sectors into two buffers (1024 + 512 bytes). */
	prd(0, 0x10000, 1024, false);
	prd(1, 0x20000, 512, true);
	ioport_write(m->io, BM + 4, 4, 0x1000);
	outb(BM + 2, 0x06);
	outb(BM, 0x08);
	ata_cmd(P0, 0xc8, 5, 3, 0);
	ck_assert_int_eq(rises[0], 0); /* waits for the bus master */
	ck_assert(inb(C0) & 0x08);
	outb(BM, 0x09);
	ck_assert_int_eq(rises[0], 1);
	ck_assert_uint_eq(inb(BM + 2) & 0x07, 0x04); /* interrupt, not active */
	outb(BM, 0x08);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	for (int i = 0; i < 1024; i++)
		ck_assert_uint_eq(phys_read(m->mmu, 0x10000 + i, 1), disk_byte(5 * 512 + i));
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(phys_read(m->mmu, 0x20000 + i, 1), disk_byte(7 * 512 + i));

	/* WRITE DMA EXT with the bus master started first; 64 KiB entry
	 * (count 0) followed by a short one. */
	for (int i = 0; i < 65536 + 512; i += 4)
		phys_write(m->mmu, 0x40000 + i, 4, 0xdead0000u + i);
	prd(0, 0x40000, 0, false);
	prd(1, 0x50000, 512, true);
	outb(BM + 2, 0x06);
	outb(BM, 0x01);
	ck_assert(inb(BM + 2) & 0x01);
	ata_cmd48(0x35, 1000, 129);
	ck_assert_uint_eq(inb(BM + 2) & 0x07, 0x04);
	outb(BM, 0x00);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	static uint8_t chk[65536 + 512];
	ck_assert_int_eq(blockdev_read_sectors(disk, 1000, chk, 129), 0);
	for (int i = 0; i < (int)sizeof(chk); i += 4) {
		uint32_t v;
		memcpy(&v, &chk[i], 4);
		ck_assert_uint_eq(v, 0xdead0000u + i);
	}

	/* PRD list longer than the transfer: Interrupt and Active both set. */
	prd(0, 0x10000, 4096, true);
	outb(BM + 2, 0x06);
	outb(BM, 0x08);
	ata_cmd(P0, 0xc8, 0, 1, 0);
	outb(BM, 0x09);
	ck_assert_uint_eq(inb(BM + 2) & 0x07, 0x05);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	outb(BM, 0x08);
	ck_assert_uint_eq(inb(BM + 2) & 0x01, 0);

	/* PRD list shorter than the transfer: the command fails. */
	prd(0, 0x10000, 512, true);
	outb(BM + 2, 0x06);
	ata_cmd(P0, 0xc8, 0, 2, 0);
	outb(BM, 0x09);
	ck_assert_uint_eq(inb(BM + 2) & 0x01, 0);
	ck_assert_uint_eq(inb(P0 + 7) & 0x01, 0x01);
	outb(BM, 0x08);

	/* Without PCI bus mastering nothing moves. */
	pci_cfg_write(bus, PCI_DEVFN(1, 1), PCI_COMMAND, PCI_CMD_IO, 2);
	prd(0, 0x10000, 512, true);
	outb(BM + 2, 0x06);
	ata_cmd(P0, 0xc8, 0, 1, 0);
	outb(BM, 0x09);
	ck_assert_uint_eq(inb(BM + 2) & 0x04, 0);
	ck_assert(inb(C0) & 0x08);
}
END_TEST

/* ---- snapshot / read-only ---- */

START_TEST(snapshot_leaves_file)
{
	teardown();
	snprintf(disk_path, sizeof(disk_path), "/tmp/nb_ide_disk_%d.img", (int)getpid());
	snprintf(cd_path, sizeof(cd_path), "/tmp/nb_ide_cd_%d.iso", (int)getpid());
	make_image(disk_path, DISK_SECTORS * 512, disk_byte);
	make_image(cd_path, 2048, cd_byte);
	build(BLOCKDEV_SNAPSHOT);
	ata_cmd(P0, 0x30, 9, 1, 0);
	for (int i = 0; i < 256; i++)
		outw(P0, 0x7777);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	uint8_t buf[512];
	ata_cmd(P0, 0x20, 9, 1, 0);
	read_words(P0, buf, 512);
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(buf[i], 0x77);
	ata_cmd(P0, 0xe7, 0, 0, 0);
	ck_assert_uint_eq(inb(P0 + 7), 0x50);
	int fd = open(disk_path, O_RDONLY);
	ck_assert_int_eq(pread(fd, buf, 512, 9 * 512), 512);
	close(fd);
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(buf[i], disk_byte(9 * 512 + i));
}
END_TEST

START_TEST(readonly_disk)
{
	teardown();
	snprintf(disk_path, sizeof(disk_path), "/tmp/nb_ide_disk_%d.img", (int)getpid());
	snprintf(cd_path, sizeof(cd_path), "/tmp/nb_ide_cd_%d.iso", (int)getpid());
	make_image(disk_path, DISK_SECTORS * 512, disk_byte);
	make_image(cd_path, 2048, cd_byte);
	build(BLOCKDEV_READONLY);
	ata_cmd(P0, 0x30, 9, 1, 0);
	for (int i = 0; i < 256; i++)
		outw(P0, 0x7777);
	ck_assert_uint_eq(inb(P0 + 7), 0x51);
	ck_assert_uint_eq(inb(P0 + 1), 0x04);
	uint8_t buf[512];
	ata_cmd(P0, 0x20, 9, 1, 0);
	read_words(P0, buf, 512);
	ck_assert_uint_eq(buf[0], disk_byte(9 * 512));
}
END_TEST

/* ---- ATAPI ---- */

/* Send a 12-byte CDB with byte count limit bcl; returns the data (PIO)
 * in out and the DRQ chunk count; the final status is returned. */
static uint8_t packet(const uint8_t *cdb, uint16_t bcl, bool dma, uint8_t *out, size_t *len,
		      int *chunks)
{
	outb(P1 + 6, 0xa0);
	outb(P1 + 1, dma ? 1 : 0);
	outb(P1 + 4, (uint8_t)bcl);
	outb(P1 + 5, (uint8_t)(bcl >> 8));
	int r0 = rises[1];
	outb(P1 + 7, 0xa0);
	ck_assert_int_eq(rises[1], r0); /* CDB request without interrupt */
	ck_assert_uint_eq(inb(C1) & 0x89, 0x08);
	ck_assert_uint_eq(inb(P1 + 2) & 3, 1); /* C/D */
	for (int i = 0; i < 12; i += 2)
		outw(P1, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
	size_t n = 0;
	int c = 0;
	uint8_t st;
	while ((st = inb(P1 + 7)) & 0x08) {
		ck_assert_uint_eq(inb(P1 + 2) & 3, 2); /* I/O, data */
		unsigned bc = inb(P1 + 4) | inb(P1 + 5) << 8;
		ck_assert_uint_le(bc, bcl & ~1u);
		read_words(P1, out + n, bc);
		n += bc;
		c++;
	}
	ck_assert_uint_eq(inb(P1 + 2) & 3, 3);
	if (len)
		*len = n;
	if (chunks)
		*chunks = c;
	return st;
}

static void sense(uint8_t *key, uint8_t *asc)
{
	uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 }, b[64];
	size_t n;
	ck_assert_uint_eq(packet(cdb, 18, false, b, &n, NULL), 0x40);
	ck_assert_uint_eq(n, 18);
	*key = b[2] & 0xf;
	*asc = b[12];
}

START_TEST(atapi_basic)
{
	uint16_t w[256];
	outb(P1 + 6, 0xa0);
	identify(P1, 0xa1, w);
	ck_assert_uint_eq(w[0], 0x85c0);
	char s[48];
	get_string(&w[27], 20, s);
	ck_assert_str_eq(s, "NESTBOX DVD-ROM");
	ck_assert(w[49] & (1 << 8));
	static uint8_t b[100000];
	size_t n;
	/* TEST UNIT READY, INQUIRY. */
	uint8_t tur[12] = { 0 };
	ck_assert_uint_eq(packet(tur, 0, false, b, &n, NULL), 0x40);
	ck_assert_uint_eq(n, 0);
	uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
	ck_assert_uint_eq(packet(inq, 0xffff, false, b, &n, NULL), 0x40);
	ck_assert_uint_eq(n, 36);
	ck_assert_uint_eq(b[0], 0x05);
	ck_assert_uint_eq(b[1], 0x80);
	ck_assert_mem_eq(&b[8], "NESTBOX ", 8);
	/* READ CAPACITY: ragged image rounds up. */
	uint8_t cap[12] = { 0x25 };
	packet(cap, 8, false, b, &n, NULL);
	ck_assert_uint_eq(n, 8);
	ck_assert_uint_eq((uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3], CD_BLOCKS - 1);
	ck_assert_uint_eq((uint32_t)b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7], 2048);
	/* READ(10) of 3 blocks with the limit 2048 (SeaBIOS): 3 DRQ chunks. */
	uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 10, 0, 0, 3 };
	int chunks;
	rises[1] = 0;
	ck_assert_uint_eq(packet(rd, 2048, false, b, &n, &chunks), 0x40);
	ck_assert_uint_eq(n, 3 * 2048);
	ck_assert_int_eq(chunks, 3);
	ck_assert_int_eq(rises[1], 4); /* one per chunk + completion */
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(b[i], cd_byte(10 * 2048 + i));
	/* 40 blocks with the limit FFFEh: 65534 + 16386 bytes. */
	rd[8] = 40;
	packet(rd, 0xfffe, false, b, &n, &chunks);
	ck_assert_uint_eq(n, 40 * 2048);
	ck_assert_int_eq(chunks, 2);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(b[i], cd_byte(10 * 2048 + i));
	/* The last block is the zero-padded tail. */
	uint8_t last[12] = { 0x28, 0, 0, 0, (CD_BLOCKS - 1) >> 8, (CD_BLOCKS - 1) & 0xff, 0, 0, 1 };
	packet(last, 2048, false, b, &n, NULL);
	ck_assert_uint_eq(b[0], cd_byte((CD_BLOCKS - 1) * 2048));
	ck_assert_uint_eq(b[2047], 0);
	/* READ(12) past the end: ILLEGAL REQUEST / LBA out of range. */
	uint8_t rd12[12] = {
		0xa8, 0, 0, 0, (CD_BLOCKS - 1) >> 8, (CD_BLOCKS - 1) & 0xff, 0, 0, 0, 2
	};
	ck_assert_uint_eq(packet(rd12, 2048, false, b, &n, NULL), 0x41);
	ck_assert_uint_eq(inb(P1 + 1) >> 4, 5);
	uint8_t key, asc;
	sense(&key, &asc);
	ck_assert_uint_eq(key, 5);
	ck_assert_uint_eq(asc, 0x21);
	sense(&key, &asc); /* cleared once reported */
	ck_assert_uint_eq(key, 0);
	/* Unknown opcode. */
	uint8_t bad[12] = { 0xff };
	ck_assert_uint_eq(packet(bad, 2048, false, b, &n, NULL), 0x41);
	sense(&key, &asc);
	ck_assert_uint_eq(key, 5);
	ck_assert_uint_eq(asc, 0x20);
}
END_TEST

START_TEST(atapi_toc_and_mmc)
{
	static uint8_t b[4096];
	size_t n;
	/* READ TOC format 0, LBA. */
	uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24 };
	ck_assert_uint_eq(packet(toc, 0x324, false, b, &n, NULL), 0x40);
	ck_assert_uint_eq(n, 20);
	ck_assert_uint_eq(b[0] << 8 | b[1], 18);
	ck_assert_uint_eq(b[2], 1);
	ck_assert_uint_eq(b[3], 1);
	ck_assert_uint_eq(b[5], 0x14);
	ck_assert_uint_eq(b[6], 1);
	ck_assert_uint_eq(b[8] | b[9] | b[10] | b[11], 0);
	ck_assert_uint_eq(b[14], 0xaa);
	ck_assert_uint_eq((uint32_t)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19], CD_BLOCKS);
	/* MSF: lead-out at 300 + 150 frames = 00:06:00. */
	toc[1] = 2;
	packet(toc, 0x324, false, b, &n, NULL);
	ck_assert_uint_eq(b[9], 0);
	ck_assert_uint_eq(b[10], 2);
	ck_assert_uint_eq(b[11], 0);
	ck_assert_uint_eq(b[17], 0);
	ck_assert_uint_eq(b[18], 6);
	ck_assert_uint_eq(b[19], 0);
	/* Format 1: session info. */
	uint8_t ses[12] = { 0x43, 0, 1, 0, 0, 0, 0, 0, 12 };
	packet(ses, 12, false, b, &n, NULL);
	ck_assert_uint_eq(n, 12);
	ck_assert_uint_eq(b[1], 10);
	ck_assert_uint_eq(b[6], 1);
	/* Allocation length cuts the reply. */
	toc[1] = 0;
	toc[7] = 0;
	toc[8] = 4;
	packet(toc, 0x324, false, b, &n, NULL);
	ck_assert_uint_eq(n, 4);
	/* Format 2 is not supported. */
	uint8_t full[12] = { 0x43, 0, 2, 0, 0, 0, 0, 0, 64 };
	ck_assert_uint_eq(packet(full, 64, false, b, &n, NULL), 0x41);

	/* GET CONFIGURATION: current profile CD-ROM. */
	uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 255 };
	packet(gc, 255, false, b, &n, NULL);
	ck_assert_uint_eq(b[6] << 8 | b[7], 0x0008);
	ck_assert_uint_eq((uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3], n - 4);
	ck_assert_uint_eq(b[8] << 8 | b[9], 0x0000); /* profile list first */
	/* GET EVENT STATUS NOTIFICATION, media class. */
	uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
	packet(gesn, 8, false, b, &n, NULL);
	ck_assert_uint_eq(n, 8);
	ck_assert_uint_eq(b[2], 4);
	ck_assert_uint_eq(b[5], 0x02); /* media present */
	gesn[1] = 0;                   /* asynchronous: not supported */
	ck_assert_uint_eq(packet(gesn, 8, false, b, &n, NULL), 0x41);
	/* MODE SENSE(10) page 2Ah. */
	uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64 };
	packet(ms, 64, false, b, &n, NULL);
	ck_assert_uint_eq(n, 30);
	ck_assert_uint_eq(b[0] << 8 | b[1], 28);
	ck_assert_uint_eq(b[8], 0x2a);
	ck_assert_uint_eq(b[9], 20);
	/* MECHANISM STATUS. */
	uint8_t mech[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
	packet(mech, 8, false, b, &n, NULL);
	ck_assert_uint_eq(n, 8);
	/* Lock, eject refused; unlock, eject, TUR says no medium. */
	uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 };
	ck_assert_uint_eq(packet(lock, 0, false, b, &n, NULL), 0x40);
	uint8_t eject[12] = { 0x1b, 0, 0, 0, 0x02 };
	ck_assert_uint_eq(packet(eject, 0, false, b, &n, NULL), 0x41);
	lock[4] = 0;
	packet(lock, 0, false, b, &n, NULL);
	ck_assert_uint_eq(packet(eject, 0, false, b, &n, NULL), 0x40);
	uint8_t tur[12] = { 0 };
	ck_assert_uint_eq(packet(tur, 0, false, b, &n, NULL), 0x41);
	ck_assert_uint_eq(inb(P1 + 1) >> 4, 2);
	uint8_t key, asc;
	sense(&key, &asc);
	ck_assert_uint_eq(key, 2);
	ck_assert_uint_eq(asc, 0x3a);
	gesn[1] = 1;
	packet(gesn, 8, false, b, &n, NULL);
	ck_assert_uint_eq(b[4], 3);    /* media removal */
	ck_assert_uint_eq(b[5], 0x01); /* door open */
	/* Host-side disc change: UNIT ATTENTION once, then ready. */
	ck_assert(ide_cd_change(ide, 2, cd));
	ck_assert_uint_eq(packet(tur, 0, false, b, &n, NULL), 0x41);
	ck_assert_uint_eq(inb(P1 + 1) >> 4, 6);
	ck_assert_uint_eq(packet(tur, 0, false, b, &n, NULL), 0x40);
	ck_assert(!ide_cd_change(ide, 0, NULL)); /* a disk is not a CD-ROM */
}
END_TEST

START_TEST(atapi_dma)
{
	enable_bm();
	prd(0, 0x30000, 4096, false);
	prd(1, 0x38000, 2048, true);
	ioport_write(m->io, BM + 8 + 4, 4, 0x1000);
	outb(BM + 8 + 2, 0x06);
	outb(BM + 8, 0x08);
	outb(P1 + 6, 0xa0);
	outb(P1 + 1, 1); /* DMA */
	outb(P1 + 4, 0);
	outb(P1 + 5, 0x08);
	outb(P1 + 7, 0xa0);
	uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 7, 0, 0, 3 };
	for (int i = 0; i < 12; i += 2)
		outw(P1, (uint16_t)(rd[i] | rd[i + 1] << 8));
	ck_assert_int_eq(rises[1], 0);
	ck_assert(inb(C1) & 0x08);
	outb(BM + 8, 0x09);
	ck_assert_int_eq(rises[1], 1);
	ck_assert_uint_eq(inb(BM + 8 + 2) & 0x07, 0x04);
	ck_assert_uint_eq(inb(P1 + 7), 0x40);
	ck_assert_uint_eq(inb(P1 + 2) & 3, 3);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(phys_read(m->mmu, 0x30000 + i, 1), cd_byte(7 * 2048 + i));
	for (int i = 0; i < 2048; i++)
		ck_assert_uint_eq(phys_read(m->mmu, 0x38000 + i, 1), cd_byte(9 * 2048 + i));
	/* Primary channel untouched. */
	ck_assert_int_eq(rises[0], 0);
}
END_TEST

START_TEST(atapi_small_limit_and_reset)
{
	static uint8_t b[8192];
	size_t n;
	int chunks;
	/* A byte count limit below the block size: chunks of at most 1000
	 * bytes (1000 x 4 + 96). */
	uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 2 };
	ck_assert_uint_eq(packet(rd, 1000, false, b, &n, &chunks), 0x40);
	ck_assert_uint_eq(n, 4096);
	ck_assert_int_eq(chunks, 5);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(b[i], cd_byte(3 * 2048 + i));
	/* An odd limit is rounded down to even. */
	ck_assert_uint_eq(packet(rd, 2047, false, b, &n, &chunks), 0x40);
	ck_assert_uint_eq(n, 4096);
	ck_assert_int_eq(chunks, 3); /* 2046 + 2046 + 4 */
	/* DEVICE RESET: signature, no interrupt, cancels a transfer. */
	outb(P1 + 6, 0xa0);
	outb(P1 + 1, 0);
	outb(P1 + 4, 0);
	outb(P1 + 5, 8);
	outb(P1 + 7, 0xa0);
	int r0 = rises[1];
	outb(P1 + 7, 0x08);
	ck_assert_int_eq(rises[1], r0);
	ck_assert_uint_eq(inb(P1 + 7), 0x00);
	ck_assert_uint_eq(inb(P1 + 4), 0x14);
	ck_assert_uint_eq(inb(P1 + 5), 0xeb);
	ck_assert_uint_eq(inb(P1 + 1), 0x01);
	/* ATA commands a packet device does not have abort. */
	outb(P1 + 7, 0x20);
	ck_assert_uint_eq(inb(P1 + 7), 0x41);
	ck_assert_uint_eq(inb(P1 + 1), 0x04);
	/* SET FEATURES transfer mode works on packet devices too. */
	outb(P1 + 1, 0x03);
	outb(P1 + 2, 0x22);
	outb(P1 + 7, 0xef);
	ck_assert_uint_eq(inb(P1 + 7), 0x40);
	/* DVD vs CD profile follows the disc size; here CD-ROM. GET
	 * CONFIGURATION RT=2 returns only the feature asked for. */
	uint8_t gc[12] = { 0x46, 2, 0, 0x10, 0, 0, 0, 0, 64 };
	packet(gc, 64, false, b, &n, NULL);
	ck_assert_uint_eq(n, 20);
	ck_assert_uint_eq(b[8] << 8 | b[9], 0x0010);
	ck_assert_uint_eq(b[10] & 1, 1);
	gc[3] = 0x20; /* random writable: not a feature of ours */
	packet(gc, 64, false, b, &n, NULL);
	ck_assert_uint_eq(n, 8);
}
END_TEST

START_TEST(atapi_empty_drive)
{
	/* A CD-ROM drive without a disc at index 3 (secondary slave). */
	ck_assert(ide_attach(ide, 3, &(struct ide_drive_config){ .cdrom = true }));
	ck_assert(!ide_attach(ide, 3, &(struct ide_drive_config){ .cdrom = true }));
	ck_assert(!ide_attach(ide, 1, &(struct ide_drive_config){ .bd = NULL }));
	ck_assert(!ide_attach(ide, 4, &(struct ide_drive_config){ .cdrom = true }));
	outb(P1 + 6, 0xb0);
	outb(P1 + 4, 0);
	outb(P1 + 5, 0);
	outb(P1 + 7, 0xa0);
	uint8_t tur[12] = { 0 };
	for (int i = 0; i < 12; i += 2)
		outw(P1, (uint16_t)(tur[i] | tur[i + 1] << 8));
	ck_assert_uint_eq(inb(P1 + 7), 0x41);
	ck_assert_uint_eq(inb(P1 + 1), 0x20);
	/* Device 0 of the channel still answers when selected. */
	outb(P1 + 6, 0xa0);
	ck_assert_uint_eq(inb(P1 + 7), 0x00);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ide");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pci_function);
	tcase_add_test(tc, identify_disk);
	tcase_add_test(tc, pio_read_write);
	tcase_add_test(tc, multiple_mode);
	tcase_add_test(tc, chs_and_misc);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, reset_and_nien);
	tcase_add_test(tc, lba48_big_disk);
	tcase_add_test(tc, dma_read_write);
	tcase_add_test(tc, snapshot_leaves_file);
	tcase_add_test(tc, readonly_disk);
	tcase_add_test(tc, atapi_basic);
	tcase_add_test(tc, atapi_toc_and_mmc);
	tcase_add_test(tc, atapi_dma);
	tcase_add_test(tc, atapi_small_limit_and_reset);
	tcase_add_test(tc, atapi_empty_drive);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
