/*
 * tests/unit/test_intel_iommu.c — the VT-d unit (devices/intel_iommu*.c) on
 * a bare machine with a LAPIC, a PCI bus and one bus-master function at
 * 00:02.0: capability/status registers, global commands, second-level
 * translation (3- and 4-level, large pages, pass-through) of the
 * function's DMA, fault reasons and recording (FRI, F, PFO, FPD, the fault
 * event interrupt and its mask), register-based and queued invalidation
 * (wait descriptors, completion interrupt, invalid descriptors and IQE
 * recovery), and interrupt remapping of MSIs and IOAPIC messages (index,
 * subhandle, present/reserved checks, source-id verification,
 * compatibility-format blocking).
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "devices/intel_iommu.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

#define B      INTEL_IOMMU_BASE
#define LBASE  0xfee00000ull
#define IOBASE 0xfec00000ull
#define DEVFN  0x10 /* 00:02.0 */
#define ROOT   0x100000ull
#define CTX    0x101000ull
#define PT     0x102000ull /* page tables from here, 4K each */
#define DATA   0x200000ull
#define IRT    0x300000ull
#define IQ     0x310000ull
#define STATUS 0x320000ull

static struct machine *m;
static struct lapic_sys *ls;
static struct pci_bus *bus;
static struct pci_dev *dev;
static struct intel_iommu *u;
static uint64_t next_pt;

static void make(bool intremap, bool eim)
{
	struct machine_config cfg = { .ram_size = 16 << 20, .ncpus = 1 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	m->cpu[0]->msr.apic_base = LBASE | (1u << 11) | (1u << 8);
	ls = lapic_init(m);
	ck_assert_ptr_nonnull(ls);
	phys_write(m->mmu, LBASE + 0xf0, 4, 0x1ff); /* software-enable the LAPIC */
	bus = pci_init(m);
	dev = pci_register(bus, DEVFN, 0x1234, 0x5678, 0xff0000, 0, "dma-test");
	ck_assert_ptr_nonnull(dev);
	pci_cfg_write(bus, DEVFN, PCI_COMMAND, PCI_CMD_MASTER | PCI_CMD_MEM, 2);
	struct intel_iommu_config c = { .intremap = intremap, .eim = eim, .ioapic_sid = 0xf8 };
	u = intel_iommu_init(m, B, &c);
	ck_assert_ptr_nonnull(u);
	intel_iommu_attach(u, bus);
	next_pt = PT;
}

static void setup(void)
{
	make(true, false);
}

static void teardown(void)
{
	intel_iommu_free(u);
	pci_free(bus);
	lapic_free(ls);
	machine_free(m);
}

static uint32_t rd32(unsigned off)
{
	return (uint32_t)phys_read(m->mmu, B + off, 4);
}
static uint64_t rd64(unsigned off)
{
	return phys_read(m->mmu, B + off, 8);
}
static void wr32(unsigned off, uint32_t v)
{
	phys_write(m->mmu, B + off, 4, v);
}
static void wr64(unsigned off, uint64_t v)
{
	phys_write(m->mmu, B + off, 8, v);
}
static uint64_t mem64(uint64_t pa)
{
	return phys_read(m->mmu, pa, 8);
}
static void put64(uint64_t pa, uint64_t v)
{
	phys_write(m->mmu, pa, 8, v);
}

static bool irr(int v)
{
	return lapic_peek(ls, 0, 0x200 + (v >> 5) * 0x10) >> (v & 31) & 1;
}
static void eoi(void)
{
	phys_write(m->mmu, LBASE + 0xb0, 4, 0);
}

/* Vector v was requested: the CPU takes it (INTA) and EOIs it. */
static bool got(int v)
{
	if (!irr(v))
		return false;
	int a = m->cpu[0]->irq_ack(m->cpu[0]);
	eoi();
	return a == v;
}

/* Set a global command bit, as software does: GSTS | bit (minus the
 * one-shot status bits), or clear one. */
static void gcmd(uint32_t bit, bool on)
{
	uint32_t st = rd32(VTD_GSTS) & ~(VTD_GCMD_SRTP | VTD_GCMD_SIRTP);
	wr32(VTD_GCMD, on ? st | bit : st & ~bit);
}

/* Root entry for bus 0 and a context entry for DEVFN. */
static void context(unsigned tt, unsigned aw, uint64_t slptptr, bool fpd)
{
	put64(ROOT, CTX | 1);
	put64(ROOT + 8, 0);
	put64(CTX + 16 * DEVFN, slptptr | (uint64_t)tt << 2 | (fpd ? 2 : 0) | 1);
	put64(CTX + 16 * DEVFN + 8, (uint64_t)42 << 8 | aw);
	wr64(VTD_RTADDR, ROOT);
	wr32(VTD_GCMD, VTD_GCMD_SRTP);
	gcmd(VTD_GCMD_TE, true);
}

static uint64_t new_table(void)
{
	uint64_t t = next_pt;
	next_pt += 0x1000;
	for (int i = 0; i < 512; i++)
		put64(t + 8 * i, 0);
	return t;
}

/* Map the 4K page iova -> pa with permissions perm (bit 0 R, 1 W) in a
 * levels-deep table tree rooted at top. */
static void map4k(uint64_t top, int levels, uint64_t iova, uint64_t pa, unsigned perm)
{
	uint64_t t = top;
	for (int l = levels; l > 1; l--) {
		uint64_t idx = (iova >> (12 + 9 * (l - 1))) & 511;
		uint64_t e = mem64(t + 8 * idx);
		if (!(e & 3)) {
			e = new_table() | 3;
			put64(t + 8 * idx, e);
		}
		t = e & ~0xfffull;
	}
	put64(t + 8 * ((iova >> 12) & 511), pa | perm);
}

/* Fault record n: {FI, reason, SID, read}. */
static uint64_t frcd_hi(int n)
{
	return rd64(VTD_FRCD + 16 * n + 8);
}

START_TEST(registers)
{
	ck_assert_uint_eq(rd32(VTD_VER), 0x10);
	uint64_t cap = rd64(VTD_CAP);
	ck_assert_uint_eq(cap & 7, 6);             /* ND: 16-bit domain IDs */
	ck_assert_uint_eq((cap >> 8) & 0x1f, 0x6); /* SAGAW: 39, 48 bits */
	ck_assert_uint_eq((cap >> 16) & 0x3f, 47); /* MGAW */
	ck_assert_uint_eq((cap >> 24) & 0x3ff, VTD_FRCD / 16);
	ck_assert_uint_eq((cap >> 34) & 0xf, 3); /* SLLPS */
	ck_assert_uint_eq((cap >> 40) & 0xff, INTEL_IOMMU_NFR - 1);
	uint64_t ecap = rd64(VTD_ECAP);
	ck_assert(ecap & 2);       /* QI */
	ck_assert(ecap & 8);       /* IR */
	ck_assert(!(ecap & 0x10)); /* no EIM */
	ck_assert(ecap & 0x40);    /* PT */
	ck_assert(!(ecap & 4));    /* no device TLB */
	ck_assert_uint_eq((ecap >> 8) & 0x3ff, VTD_IVA / 16);
	ck_assert_uint_eq(rd32(VTD_GSTS), 0);
	ck_assert_uint_eq(rd32(VTD_FSTS), 0);
	ck_assert_uint_eq(rd32(VTD_FECTL), 0x80000000u);
	ck_assert_uint_eq(rd32(VTD_IECTL), 0x80000000u);
	ck_assert_uint_eq(rd32(VTD_GCMD), 0); /* write-only */
	/* 64-bit registers by halves. */
	wr32(VTD_RTADDR, 0x12345fff);
	wr32(VTD_RTADDR + 4, 0xffffffff);
	ck_assert_uint_eq(rd64(VTD_RTADDR), 0x0000ffff12345000ull);
}
END_TEST

START_TEST(eim_capability)
{
	teardown();
	make(true, true);
	ck_assert(rd64(VTD_ECAP) & 0x10);
	wr64(VTD_IRTA, IRT | (1ull << 11) | 3);
	ck_assert_uint_eq(rd64(VTD_IRTA), IRT | (1ull << 11) | 3);
	teardown();
	make(false, true); /* EIM needs IR */
	ck_assert(!(rd64(VTD_ECAP) & 0x18));
	wr64(VTD_IRTA, IRT);
	ck_assert_uint_eq(rd64(VTD_IRTA), 0);
}
END_TEST

START_TEST(global_command)
{
	wr64(VTD_RTADDR, ROOT);
	wr32(VTD_GCMD, VTD_GCMD_SRTP);
	ck_assert_uint_eq(rd32(VTD_GSTS), VTD_GCMD_SRTP); /* RTPS */
	gcmd(VTD_GCMD_TE, true);
	ck_assert_uint_eq(rd32(VTD_GSTS), VTD_GCMD_SRTP | VTD_GCMD_TE);
	wr64(VTD_IQA, IQ);
	wr32(VTD_IQT, 0);
	gcmd(VTD_GCMD_QIE, true);
	ck_assert(rd32(VTD_GSTS) & VTD_GCMD_QIE);
	ck_assert_uint_eq(rd64(VTD_IQH), 0);
	wr64(VTD_IRTA, IRT | 7);
	wr32(VTD_GCMD, rd32(VTD_GSTS) | VTD_GCMD_SIRTP);
	ck_assert(rd32(VTD_GSTS) & VTD_GCMD_SIRTP); /* IRTPS */
	gcmd(VTD_GCMD_IRE, true);
	ck_assert(rd32(VTD_GSTS) & VTD_GCMD_IRE);
	gcmd(VTD_GCMD_TE, false);
	uint32_t st = rd32(VTD_GSTS);
	ck_assert(!(st & VTD_GCMD_TE));
	ck_assert(st & VTD_GCMD_IRE);
	ck_assert(st & VTD_GCMD_QIE);
}
END_TEST

START_TEST(translate_3level)
{
	uint64_t top = new_table();
	map4k(top, 3, 0x5000, DATA, 3);
	map4k(top, 3, 0x6000, DATA + 0x1000, 1); /* read-only */
	context(0, 1, top, false);
	uint8_t w[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, r[8];
	ck_assert(pci_dma_write(dev, 0x5008, w, 8));
	ck_assert_uint_eq(mem64(DATA + 8), 0x0807060504030201ull);
	put64(DATA + 0x1000 + 16, 0x1122334455667788ull);
	ck_assert(pci_dma_read(dev, 0x6010, r, 8));
	ck_assert_uint_eq(r[0], 0x88);
	ck_assert_uint_eq(r[7], 0x11);
	/* A transfer across two pages is translated page by page. */
	ck_assert(pci_dma_read(dev, 0x5ffc, r, 8));
	ck_assert_uint_eq(rd32(VTD_FSTS), 0);
	/* Write to the read-only page: reason 5, recorded in record 0. */
	ck_assert(!pci_dma_write(dev, 0x6000, w, 4));
	ck_assert_uint_eq(mem64(DATA + 0x1000), 0);
	uint32_t fsts = rd32(VTD_FSTS);
	ck_assert(fsts & VTD_FSTS_PPF);
	ck_assert_uint_eq((fsts >> 8) & 0xff, 0); /* FRI */
	ck_assert_uint_eq(rd64(VTD_FRCD), 0x6000);
	uint64_t hi = frcd_hi(0);
	ck_assert(hi >> 63);          /* F */
	ck_assert(!((hi >> 62) & 1)); /* T: write */
	ck_assert_uint_eq((hi >> 32) & 0xff, VTD_FR_WRITE);
	ck_assert_uint_eq(hi & 0xffff, DEVFN); /* SID */
	/* An unmapped page, read: reason 6 in record 1, FRI stays 0. */
	ck_assert(!pci_dma_read(dev, 0x7000, r, 4));
	ck_assert_uint_eq(r[0], 0xff);
	ck_assert_uint_eq((frcd_hi(1) >> 32) & 0xff, VTD_FR_READ);
	ck_assert((frcd_hi(1) >> 62) & 1); /* T: read */
	ck_assert_uint_eq((rd32(VTD_FSTS) >> 8) & 0xff, 0);
	/* Clearing F (write 1 to bit 127) empties the records; FRI moves to
	 * the oldest one still pending. */
	wr32(VTD_FRCD + 12, 0x80000000u);
	ck_assert_uint_eq(rd32(VTD_FSTS), VTD_FSTS_PPF | 1u << 8);
	wr32(VTD_FRCD + 16 + 12, 0x80000000u);
	ck_assert_uint_eq(rd32(VTD_FSTS), 0);
	/* Translation off: addresses are physical. */
	gcmd(VTD_GCMD_TE, false);
	ck_assert(pci_dma_write(dev, DATA + 0x3000, w, 8));
	ck_assert_uint_eq(mem64(DATA + 0x3000), 0x0807060504030201ull);
}
END_TEST

START_TEST(translate_4level_large)
{
	uint64_t top = new_table();
	uint64_t l3 = new_table(), l2 = new_table();
	/* IOVA 0x40000000 -> 2 MiB page at 0x400000 through 4 levels. */
	put64(top, l3 | 3);
	put64(l3 + 8, l2 | 3);
	put64(l2, 0x400000 | 0x80 | 3);
	/* IOVA 0x80000000: a 1 GiB page with a misaligned base: reserved. */
	put64(l3 + 16, 0x400000 | 0x80 | 3);
	context(0, 2, top, false);
	uint8_t w[4] = { 0xde, 0xad, 0xbe, 0xef };
	ck_assert(pci_dma_write(dev, 0x40012345, w, 4));
	ck_assert_uint_eq(phys_read(m->mmu, 0x412345, 4), 0xefbeadde);
	ck_assert(!pci_dma_write(dev, 0x80000000, w, 4));
	ck_assert_uint_eq((frcd_hi(0) >> 32) & 0xff, VTD_FR_PTE_RSVD);
	/* A 4-level (48-bit) table cannot reach 2^48. */
	ck_assert(!pci_dma_write(dev, 1ull << 48, w, 4));
	ck_assert_uint_eq((frcd_hi(1) >> 32) & 0xff, VTD_FR_ADDR_WIDTH);
}
END_TEST

START_TEST(pass_through_and_context_faults)
{
	uint8_t w[4] = { 9, 9, 9, 9 };
	context(2, 1, 0, false); /* pass-through */
	ck_assert(pci_dma_write(dev, DATA + 0x40, w, 4));
	ck_assert_uint_eq(phys_read(m->mmu, DATA + 0x40, 4), 0x09090909);
	/* Unsupported AW (5-level): invalid context programming. */
	put64(CTX + 16 * DEVFN, new_table() | 1);
	put64(CTX + 16 * DEVFN + 8, 3);
	ck_assert(!pci_dma_write(dev, 0, w, 4));
	ck_assert_uint_eq((frcd_hi(0) >> 32) & 0xff, VTD_FR_CTX_INVALID);
	/* Reserved context bits. */
	put64(CTX + 16 * DEVFN + 8, 1 | (1ull << 40));
	ck_assert(!pci_dma_write(dev, 0, w, 4));
	ck_assert_uint_eq((frcd_hi(1) >> 32) & 0xff, VTD_FR_CTX_RSVD);
	/* Context entry not present. */
	put64(CTX + 16 * DEVFN, 0);
	ck_assert(!pci_dma_write(dev, 0, w, 4));
	ck_assert_uint_eq((frcd_hi(2) >> 32) & 0xff, VTD_FR_CTX_NP);
	/* Root entry not present. */
	put64(ROOT, 0);
	ck_assert(!pci_dma_read(dev, 0x1000, w, 4));
	ck_assert_uint_eq((frcd_hi(3) >> 32) & 0xff, VTD_FR_ROOT_NP);
	ck_assert_uint_eq(rd64(VTD_FRCD + 48), 0x1000);
	/* Fault processing disabled in the context entry: no record. */
	put64(ROOT, CTX | 1);
	uint64_t top = new_table();
	put64(CTX + 16 * DEVFN, top | 3); /* P, FPD */
	put64(CTX + 16 * DEVFN + 8, 1);
	ck_assert(!pci_dma_write(dev, 0x9000, w, 4));
	ck_assert(!(frcd_hi(4) >> 63));
	/* Bus mastering off: nothing moves, nothing is recorded. */
	context(2, 1, 0, false);
	pci_cfg_write(bus, DEVFN, PCI_COMMAND, PCI_CMD_MEM, 2);
	ck_assert(!pci_dma_write(dev, DATA + 0x80, w, 4));
	ck_assert_uint_eq(phys_read(m->mmu, DATA + 0x80, 4), 0);
	ck_assert(!(frcd_hi(4) >> 63));
}
END_TEST

START_TEST(fault_event_and_overflow)
{
	wr32(VTD_FEDATA, 0x41);
	wr32(VTD_FEADDR, 0xfee00000);
	wr32(VTD_FECTL, 0); /* unmask */
	context(0, 1, new_table(), false);
	uint8_t b[4];
	ck_assert(!pci_dma_read(dev, 0x1000, b, 4));
	ck_assert(got(0x41));
	ck_assert_uint_eq(rd32(VTD_FECTL), 0);
	/* More faults while one is pending: recorded, no new interrupt. */
	for (int i = 1; i < INTEL_IOMMU_NFR; i++)
		ck_assert(!pci_dma_read(dev, 0x1000ull * (i + 1), b, 4));
	ck_assert(!irr(0x41));
	ck_assert(!(rd32(VTD_FSTS) & VTD_FSTS_PFO));
	/* Every record full: the next fault overflows (PFO). */
	ck_assert(!pci_dma_read(dev, 0x100000, b, 4));
	ck_assert(rd32(VTD_FSTS) & VTD_FSTS_PFO);
	ck_assert(got(0x41)); /* a new condition: another event */
	/* Service everything. */
	for (int i = 0; i < INTEL_IOMMU_NFR; i++)
		wr32(VTD_FRCD + 16 * i + 12, 0x80000000u);
	wr32(VTD_FSTS, VTD_FSTS_PFO);
	ck_assert_uint_eq(rd32(VTD_FSTS), 0);
	/* Masked: the event waits in IP until the mask is cleared. */
	wr32(VTD_FECTL, 0x80000000u);
	ck_assert(!pci_dma_read(dev, 0x2000, b, 4));
	ck_assert_uint_eq(rd32(VTD_FECTL), 0xc0000000u);
	ck_assert(!irr(0x41));
	ck_assert_uint_eq((rd32(VTD_FSTS) >> 8) & 0xff, 0); /* wrapped to record 0 */
	wr32(VTD_FECTL, 0);
	ck_assert(got(0x41));
	ck_assert_uint_eq(rd32(VTD_FECTL), 0);
}
END_TEST

START_TEST(register_invalidation)
{
	wr64(VTD_CCMD, 1ull << 63 | 1ull << 61); /* global */
	uint64_t c = rd64(VTD_CCMD);
	ck_assert(!(c >> 63));
	ck_assert_uint_eq((c >> 59) & 3, 1); /* CAIG */
	wr64(VTD_CCMD, 1ull << 63 | 3ull << 61 | 0x10 << 16 | 7);
	ck_assert_uint_eq((rd64(VTD_CCMD) >> 59) & 3, 3);
	wr64(VTD_IVA, 0x5000);
	wr64(VTD_IOTLB, 1ull << 63 | 2ull << 60 | 42ull << 32); /* domain */
	uint64_t t = rd64(VTD_IOTLB);
	ck_assert(!(t >> 63));
	ck_assert_uint_eq((t >> 57) & 3, 2); /* IAIG */
	ck_assert_uint_eq((t >> 32) & 0xffff, 42);
}
END_TEST

static void desc(unsigned i, uint64_t lo, uint64_t hi)
{
	put64(IQ + 16 * i, lo);
	put64(IQ + 16 * i + 8, hi);
}

START_TEST(invalidation_queue)
{
	wr64(VTD_IQA, IQ); /* 256 descriptors */
	wr32(VTD_IQT, 0);
	gcmd(VTD_GCMD_QIE, true);
	desc(0, 0x11, 0);                        /* context cache, global */
	desc(1, 0x12 | 0xc0, 0);                 /* IOTLB global, drain */
	desc(2, 0x04, 0);                        /* interrupt entry cache */
	desc(3, 0x25 | 0x1234ull << 32, STATUS); /* wait, status write */
	wr32(VTD_IQT, 4 * 16);
	ck_assert_uint_eq(rd64(VTD_IQH), 4 * 16);
	ck_assert_uint_eq(phys_read(m->mmu, STATUS, 4), 0x1234);
	ck_assert_uint_eq(rd32(VTD_FSTS), 0);
	ck_assert_uint_eq(rd32(VTD_ICS), 0);
	/* Wait with IF: IWC and, unmasked, the completion interrupt. */
	wr32(VTD_IEDATA, 0x42);
	wr32(VTD_IEADDR, 0xfee00000);
	wr32(VTD_IECTL, 0);
	desc(4, 0x15, 0);
	wr32(VTD_IQT, 5 * 16);
	ck_assert_uint_eq(rd32(VTD_ICS), 1);
	ck_assert(got(0x42));
	wr32(VTD_ICS, 1);
	ck_assert_uint_eq(rd32(VTD_ICS), 0);
	/* A device-TLB descriptor (no DT) and a reserved bit stop the queue
	 * with IQE at the bad descriptor. */
	desc(5, 0x03, 0);
	desc(6, 0x25 | 0x5678ull << 32, STATUS);
	wr32(VTD_FSTS, 0);
	wr32(VTD_IQT, 7 * 16);
	ck_assert(rd32(VTD_FSTS) & VTD_FSTS_IQE);
	ck_assert_uint_eq(rd64(VTD_IQH), 5 * 16);
	ck_assert_uint_eq(phys_read(m->mmu, STATUS, 4), 0x1234);
	/* Software replaces it and clears IQE: the queue resumes. */
	desc(5, 0x11, 0);
	wr32(VTD_FSTS, VTD_FSTS_IQE);
	ck_assert_uint_eq(rd32(VTD_FSTS), 0);
	ck_assert_uint_eq(rd64(VTD_IQH), 7 * 16);
	ck_assert_uint_eq(phys_read(m->mmu, STATUS, 4), 0x5678);
	desc(7, 0x11 | 1ull << 12, 0); /* reserved bit */
	wr32(VTD_IQT, 8 * 16);
	ck_assert(rd32(VTD_FSTS) & VTD_FSTS_IQE);
	/* The queue wraps at its end. */
	desc(7, 0x11, 0);
	wr32(VTD_FSTS, VTD_FSTS_IQE);
	for (unsigned i = 8; i < 256; i++)
		desc(i, 0x04, 0);
	desc(0, 0x25 | 0x9abcull << 32, STATUS);
	wr32(VTD_IQT, 16);
	ck_assert_uint_eq(rd64(VTD_IQH), 16);
	ck_assert_uint_eq(phys_read(m->mmu, STATUS, 4), 0x9abc);
}
END_TEST

/* IRTE index i: present, xAPIC destination 0, vector v, SID check. */
static void irte(unsigned i, uint64_t lo_extra, unsigned v, uint64_t hi)
{
	put64(IRT + 16 * i, 1 | (uint64_t)v << 16 | lo_extra);
	put64(IRT + 16 * i + 8, hi);
}

static void ir_on(void)
{
	wr64(VTD_IRTA, IRT | 7); /* 256 entries */
	wr32(VTD_GCMD, VTD_GCMD_SIRTP);
	gcmd(VTD_GCMD_IRE, true);
}

static uint64_t remappable(unsigned handle, bool shv)
{
	return 0xfee00000ull | (handle & 0x7fff) << 5 | (handle >> 15) << 2 | 0x10 | (shv ? 8 : 0);
}

START_TEST(interrupt_remapping)
{
	/* IR off: compatibility messages pass unchanged. */
	pci_msi_send(dev, 0xfee00000, 0x30);
	ck_assert(got(0x30));
	ir_on();
	irte(5, 0, 0x55, 1ull << 18 | DEVFN); /* SVT 01, full SID */
	pci_msi_send(dev, remappable(5, false), 0);
	ck_assert(got(0x55));
	/* SHV: handle + subhandle. */
	pci_msi_send(dev, remappable(4, true), 1);
	ck_assert(got(0x55));
	ck_assert_uint_eq(rd32(VTD_FSTS), 0);
	/* Index beyond the table (256 entries). */
	pci_msi_send(dev, remappable(300, false), 0);
	ck_assert_uint_eq((frcd_hi(0) >> 32) & 0xff, VTD_FR_IR_INDEX);
	ck_assert_uint_eq(rd64(VTD_FRCD) >> 48, 300);
	/* Not present. */
	pci_msi_send(dev, remappable(6, false), 0);
	ck_assert_uint_eq((frcd_hi(1) >> 32) & 0xff, VTD_FR_IR_NP);
	/* Reserved IRTE bits (14:12; xAPIC destination bits 39:32). */
	irte(7, 1u << 12, 0x57, 0);
	pci_msi_send(dev, remappable(7, false), 0);
	ck_assert_uint_eq((frcd_hi(2) >> 32) & 0xff, VTD_FR_IR_RSVD);
	irte(7, 1ull << 32, 0x57, 0);
	pci_msi_send(dev, remappable(7, false), 0);
	ck_assert_uint_eq((frcd_hi(3) >> 32) & 0xff, VTD_FR_IR_RSVD);
	ck_assert(!irr(0x57));
	/* Source-id mismatch, then the same entry with SQ ignoring the
	 * function bits, and a bus range. */
	irte(8, 0, 0x58, 1ull << 18 | 0x13);
	pci_msi_send(dev, remappable(8, false), 0);
	ck_assert_uint_eq((frcd_hi(4) >> 32) & 0xff, VTD_FR_IR_SID);
	ck_assert_uint_eq(frcd_hi(4) & 0xffff, DEVFN);
	ck_assert(!irr(0x58));
	irte(8, 0, 0x58, 1ull << 18 | 3ull << 16 | 0x13);
	pci_msi_send(dev, remappable(8, false), 0);
	ck_assert(got(0x58));
	irte(8, 0, 0x58, 2ull << 18 | 0x0001); /* buses 0-1 */
	pci_msi_send(dev, remappable(8, false), 0);
	ck_assert(got(0x58));
	/* FPD: blocked without a record. */
	irte(9, 2, 0x59, 1ull << 18 | 0x99);
	pci_msi_send(dev, remappable(9, false), 0);
	ck_assert(!irr(0x59));
	ck_assert(!(frcd_hi(5) >> 63));
	/* Compatibility format: blocked while CFI is clear, passes with it. */
	pci_msi_send(dev, 0xfee00000, 0x31);
	ck_assert(!irr(0x31));
	ck_assert_uint_eq((frcd_hi(5) >> 32) & 0xff, VTD_FR_IR_COMPAT);
	gcmd(VTD_GCMD_CFI, true);
	ck_assert(rd32(VTD_GSTS) & VTD_GCMD_CFI);
	pci_msi_send(dev, 0xfee00000, 0x31);
	ck_assert(got(0x31));
	/* Posted format (IM) is reserved without posted interrupts. */
	irte(10, 1u << 15, 0x5a, 0);
	pci_msi_send(dev, remappable(10, false), 0);
	ck_assert(!irr(0x5a));
	ck_assert_uint_eq((frcd_hi(6) >> 32) & 0xff, VTD_FR_IR_RSVD);
}
END_TEST

START_TEST(ioapic_remapped)
{
	struct ioapic *io = ioapic_init(m, IOBASE, 0);
	ck_assert_ptr_nonnull(io);
	ioapic_set_msi_hook(io, intel_iommu_ioapic_msi, u);
	ir_on();
	/* The entry's source-id is not the IOAPIC's: messages from the
	 * IOAPIC are not checked against it. */
	irte(5, 0, 0x65, 1ull << 18 | DEVFN);
	/* Pin 3: remappable format, index 5, edge, unmasked. */
	uint64_t rte = 0x65 | 1ull << 48 | 5ull << 49;
	phys_write(m->mmu, IOBASE, 4, 0x10 + 2 * 3 + 1);
	phys_write(m->mmu, IOBASE + 0x10, 4, (uint32_t)(rte >> 32));
	phys_write(m->mmu, IOBASE, 4, 0x10 + 2 * 3);
	phys_write(m->mmu, IOBASE + 0x10, 4, (uint32_t)rte);
	ck_assert_uint_eq(ioapic_peek_entry(io, 3), rte);
	ioapic_set_irq(io, 3, 1);
	ck_assert(got(0x65));
	ck_assert_uint_eq(rd32(VTD_FSTS), 0);
	ioapic_set_irq(io, 3, 0);
	/* A compatibility-format entry is blocked (CFI clear), recorded
	 * with the IOAPIC's requester ID. */
	phys_write(m->mmu, IOBASE, 4, 0x10 + 2 * 4);
	phys_write(m->mmu, IOBASE + 0x10, 4, 0x66);
	ioapic_set_irq(io, 4, 1);
	ck_assert(!irr(0x66));
	ck_assert_uint_eq((frcd_hi(0) >> 32) & 0xff, VTD_FR_IR_COMPAT);
	ck_assert_uint_eq(frcd_hi(0) & 0xffff, 0xf8);
	ioapic_free(io);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("intel_iommu");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, registers);
	tcase_add_test(t, eim_capability);
	tcase_add_test(t, global_command);
	tcase_add_test(t, translate_3level);
	tcase_add_test(t, translate_4level_large);
	tcase_add_test(t, pass_through_and_context_faults);
	tcase_add_test(t, fault_event_and_overflow);
	tcase_add_test(t, register_invalidation);
	tcase_add_test(t, invalidation_queue);
	tcase_add_test(t, interrupt_remapping);
	tcase_add_test(t, ioapic_remapped);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
