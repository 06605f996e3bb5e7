/*
 * tests/unit/test_q35.c — the q35 machine's chipset (devices/q35_mch.c,
 * devices/ich9_lpc.c, devices/board_q35.c) on a whole q35 board: MCH and
 * LPC identities, PCIEXBAR/ECAM decoding (length, moves, refused
 * placements, extended registers, other buses), CONFIG_ADDRESS low bits,
 * PAM shadowing at 90h-96h, SMRAM lock, the ICH9 PM block (PMBASE,
 * ACPI_EN, PM timer, SMI_EN, SMI_STS, GPE0), PIRQ routing of a PCI
 * function's INTx to IOAPIC pins 16-23 and to ISA IRQs, RCBA and the D31IR
 * route register, SCI routing, direct-boot firmware set-up, the ACPI tables
 * (MCFG, DMAR, FADT GPE0 block) and system reset.
 */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "devices/acpi_pm.h"
#include "devices/acpi_tables.h"
#include "devices/board_pc.h"
#include "devices/board_pc_int.h"
#include "devices/board_q35.h"
#include "devices/clock.h"
#include "devices/edu.h"
#include "devices/ich9_lpc.h"
#include "devices/intel_iommu.h"
#include "devices/ioapic.h"
#include "devices/ioport.h"
#include "devices/pci.h"
#include "devices/q35_mch.h"
#include "mmu/mmu.h"

#define ECAM Q35_ECAM_BASE
#define LPC  ICH9_LPC_DEVFN

static struct machine *m;
static struct pc_board *b;

static void make(bool edu, bool iommu)
{
	struct machine_config cfg = {
		.ram_size = 64 << 20,
		.ncpus = 1,
		.no_vga = true,
		.edu = edu,
		.intel_iommu = iommu,
		.iommu_intremap = iommu,
	};
	m = machine_new_q35(&cfg);
	ck_assert_ptr_nonnull(m);
	b = m->board;
}

static void setup(void)
{
	make(true, false);
}

static void teardown(void)
{
	machine_free(m);
}

static uint32_t cfgr(uint8_t devfn, unsigned off, unsigned size)
{
	return pci_cfg_read(b->pci, devfn, off, size);
}
static void cfgw(uint8_t devfn, unsigned off, uint32_t v, unsigned size)
{
	pci_cfg_write(b->pci, devfn, off, v, size);
}
static uint64_t ecam_addr(unsigned bus, uint8_t devfn, unsigned reg)
{
	return ECAM + ((uint64_t)bus << 20) + ((uint64_t)devfn << 12) + reg;
}

START_TEST(identities)
{
	ck_assert_uint_eq(cfgr(0, 0, 4), 0x29c08086u);
	ck_assert_uint_eq(cfgr(0, PCI_CLASS_REV, 4) >> 8, 0x060000);
	ck_assert_uint_eq(cfgr(0, 0x2c, 4), 0x11001af4u);
	ck_assert_uint_eq(cfgr(LPC, 0, 4), 0x29188086u);
	ck_assert_uint_eq(cfgr(LPC, PCI_CLASS_REV, 4) >> 8, 0x060100);
	ck_assert_uint_eq(cfgr(LPC, PCI_HEADER_TYPE, 1), 0x80);
	ck_assert_uint_eq(cfgr(LPC, ICH9_PMBASE, 4), 1);
	ck_assert_uint_eq(cfgr(LPC, ICH9_PIRQA_ROUT, 4), 0x80808080u);
	ck_assert_uint_eq(cfgr(LPC, ICH9_LPC_IBDF, 2), 0x00f8);
	/* TOLUD: 64 MiB of low RAM in bits 15:4 (1 MiB units). */
	ck_assert_uint_eq(cfgr(0, Q35_TOLUD, 2), 64u << 4);
	cfgw(0, Q35_TOLUD, 0, 2); /* read-only */
	ck_assert_uint_eq(cfgr(0, Q35_TOLUD, 2), 64u << 4);
	/* No IDE on q35. */
	ck_assert_uint_eq(cfgr(PCI_DEVFN(1, 1), 0, 4), 0xffffffffu);
	ck_assert_uint_eq(q35_lowmem(64 << 20), 64 << 20);
	ck_assert_uint_eq(q35_lowmem(3ull << 30), 2ull << 30);
}
END_TEST

START_TEST(ecam)
{
	ck_assert_uint_eq(phys_read(m->mmu, ECAM, 4), 0xffffffffu); /* disabled */
	cfgw(0, Q35_PCIEXBAR, (uint32_t)ECAM | 1, 4);
	ck_assert_uint_eq(phys_read(m->mmu, ecam_addr(0, 0, 0), 4), 0x29c08086u);
	ck_assert_uint_eq(phys_read(m->mmu, ecam_addr(0, LPC, 0), 4), 0x29188086u);
	ck_assert_uint_eq(phys_read(m->mmu, ecam_addr(0, LPC, 2), 2), 0x2918);
	ck_assert_uint_eq(phys_read(m->mmu, ecam_addr(0, LPC, 0), 8),
			  cfgr(LPC, 0, 4) | (uint64_t)cfgr(LPC, 4, 4) << 32);
	/* Conventional functions: registers 100h-FFFh read all ones; only
	 * bus 0 exists; absent functions read all ones. */
	ck_assert_uint_eq(phys_read(m->mmu, ecam_addr(0, 0, 0x100), 4), 0xffffffffu);
	ck_assert_uint_eq(phys_read(m->mmu, ecam_addr(1, 0, 0), 4), 0xffffffffu);
	ck_assert_uint_eq(phys_read(m->mmu, ecam_addr(0, PCI_DEVFN(5, 0), 0), 4), 0xffffffffu);
	/* Writes reach the same registers as mechanism #1. */
	phys_write(m->mmu, ecam_addr(0, LPC, ICH9_PIRQA_ROUT + 1), 1, 0x0b);
	ck_assert_uint_eq(cfgr(LPC, ICH9_PIRQA_ROUT + 1, 1), 0x0b);
	/* 128 MiB (buses 0-127) at 0xC0000000: the old window is gone. */
	cfgw(0, Q35_PCIEXBAR, 0xc0000000u | 2 | 1, 4);
	uint64_t base, size;
	q35_mch_ecam(b->mch, &base, &size);
	ck_assert_uint_eq(base, 0xc0000000u);
	ck_assert_uint_eq(size, 128u << 20);
	ck_assert_uint_eq(phys_read(m->mmu, ECAM, 4), 0xffffffffu);
	ck_assert_uint_eq(phys_read(m->mmu, 0xc0000000, 4), 0x29c08086u);
	/* Over RAM: refused, RAM intact. */
	phys_write(m->mmu, 0x100000, 4, 0x5a5a5a5a);
	cfgw(0, Q35_PCIEXBAR, 0x00000001, 4);
	q35_mch_ecam(b->mch, &base, &size);
	ck_assert_uint_eq(size, 0);
	ck_assert_uint_eq(phys_read(m->mmu, 0x100000, 4), 0x5a5a5a5a);
	ck_assert_uint_eq(phys_read(m->mmu, 0xc0000000, 4), 0xffffffffu);
	/* Reserved length 11b: no decode. */
	cfgw(0, Q35_PCIEXBAR, (uint32_t)ECAM | 6 | 1, 4);
	ck_assert_uint_eq(phys_read(m->mmu, ECAM, 4), 0xffffffffu);
}
END_TEST

START_TEST(config_address_low_bits)
{
	ioport_write(m->io, 0xcf8, 4, 0x80000002u);
	ck_assert_uint_eq(ioport_read(m->io, 0xcf8, 4), 0x80000000u);
	ck_assert_uint_eq(ioport_read(m->io, 0xcfc, 2), 0x29c0);
	ioport_write(m->io, 0xcf8, 4, 0x80000000u);
	ck_assert_uint_eq(ioport_read(m->io, 0xcfe, 2), 0x29c0);
}
END_TEST

START_TEST(pam_and_smram)
{
	char path[] = "/tmp/nestbox-q35-bios-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	static uint8_t img[0x10000];
	memset(img, 0xab, sizeof(img));
	ck_assert_int_eq(write(fd, img, sizeof(img)), (int)sizeof(img));
	close(fd);
	char err[256];
	ck_assert(pc_boot_firmware(m, path, err, sizeof(err)));
	unlink(path);
	ck_assert_uint_eq(phys_read(m->mmu, 0xf0000, 1), 0xab);
	cfgw(0, Q35_PAM0, 0x30, 1); /* 0xF0000: DRAM read/write */
	phys_write(m->mmu, 0xf0000, 1, 0x12);
	ck_assert_uint_eq(phys_read(m->mmu, 0xf0000, 1), 0x12);
	cfgw(0, Q35_PAM0, 0x10, 1); /* read-only DRAM */
	phys_write(m->mmu, 0xf0000, 1, 0x34);
	ck_assert_uint_eq(phys_read(m->mmu, 0xf0000, 1), 0x12);
	cfgw(0, Q35_PAM0, 0x00, 1); /* back to the ROM */
	ck_assert_uint_eq(phys_read(m->mmu, 0xf0000, 1), 0xab);
	/* PAM1 low field: 0xC0000-0xC3FFF; high field 0xC4000. */
	cfgw(0, Q35_PAM0 + 1, 0x03, 1);
	phys_write(m->mmu, 0xc0000, 1, 0x56);
	ck_assert_uint_eq(phys_read(m->mmu, 0xc0000, 1), 0x56);
	ck_assert_uint_eq(phys_read(m->mmu, 0xc4000, 1), 0xff);
	ck_assert_uint_eq(cfgr(0, Q35_PAM0, 1) & ~0x30u, 0); /* bits 3:0 of PAM0 reserved */
	/* SMRAM: D_LCK closes D_OPEN and freezes the register. */
	cfgw(0, Q35_SMRAM, 0x4a, 1);
	ck_assert_uint_eq(cfgr(0, Q35_SMRAM, 1), 0x4a);
	cfgw(0, Q35_SMRAM, 0x5a, 1);
	ck_assert_uint_eq(cfgr(0, Q35_SMRAM, 1), 0x1a);
	cfgw(0, Q35_SMRAM, 0x42, 1);
	ck_assert_uint_eq(cfgr(0, Q35_SMRAM, 1), 0x1a);
	/* System reset: PAM back to the ROM, ECAM and PM decode off. */
	cfgw(0, Q35_PCIEXBAR, (uint32_t)ECAM | 1, 4);
	ck_assert(pc_reset(m));
	ck_assert_uint_eq(phys_read(m->mmu, 0xc0000, 1), 0xff);
	ck_assert_uint_eq(phys_read(m->mmu, ECAM, 4), 0xffffffffu);
	ck_assert_uint_eq(cfgr(0, Q35_SMRAM, 1), 0x02);
	cfgw(0, Q35_SMRAM, 0x40, 1);
	ck_assert_uint_eq(cfgr(0, Q35_SMRAM, 1), 0x42);
}
END_TEST

static void run_time(uint64_t ns)
{
	m->cpu[0]->clock_offset += ns;
	clock_run_timers(m);
}

START_TEST(pm_block)
{
	ck_assert_uint_eq(ioport_read(m->io, 0x608, 4), 0xffffffffu);
	cfgw(LPC, ICH9_PMBASE, 0x601, 4);
	ck_assert_uint_eq(ioport_read(m->io, 0x608, 4), 0xffffffffu); /* ACPI_EN off */
	cfgw(LPC, ICH9_ACPI_CNTL, 0x80, 1);
	uint32_t t0 = ioport_read(m->io, 0x608, 4);
	ck_assert_uint_lt(t0, 1u << 24);
	run_time(10000000); /* 10 ms: ~35795 ticks */
	uint32_t t1 = ioport_read(m->io, 0x608, 4);
	ck_assert_uint_ge((t1 - t0) & 0xffffff, 35000);
	/* SMI_EN: APMC_EN reads set (no SMM to set up). */
	ck_assert_uint_eq(ioport_read(m->io, 0x600 + ICH9_PM_SMI_EN, 4) & 0x20, 0x20);
	/* SMI_STS is write-1-to-clear; GPE0_STS has no sources, GPE0_EN
	 * holds what is written. */
	ioport_write(m->io, 0x634, 4, 0xffffffffu);
	ck_assert_uint_eq(ioport_read(m->io, 0x634, 4), 0);
	ioport_write(m->io, 0x620, 4, 0xffffffffu);
	ck_assert_uint_eq(ioport_read(m->io, 0x620, 4), 0);
	ioport_write(m->io, 0x628, 4, 0x00000a05u);
	ck_assert_uint_eq(ioport_read(m->io, 0x628, 4), 0x00000a05u);
	/* PMBASE bits 6:0 are not writable (128-byte block); moving it. */
	cfgw(LPC, ICH9_PMBASE, 0x7ff, 4);
	ck_assert_uint_eq(cfgr(LPC, ICH9_PMBASE, 4), 0x781);
	ck_assert_uint_eq(ioport_read(m->io, 0x608, 4), 0xffffffffu);
	ck_assert_uint_lt(ioport_read(m->io, 0x788, 4), 1u << 24);
	ck_assert_uint_eq(ioport_read(m->io, 0x7b0, 4) & 0x20, 0x20);
}
END_TEST

static bool remote_irr(int pin)
{
	return ioapic_peek_entry(b->ioapic, pin) >> 14 & 1;
}

static void level_rte(int pin, int vec)
{
	phys_write(m->mmu, IOAPIC_DEFAULT_BASE, 4, 0x11 + 2 * (unsigned)pin);
	phys_write(m->mmu, IOAPIC_DEFAULT_BASE + 0x10, 4, 0);
	phys_write(m->mmu, IOAPIC_DEFAULT_BASE, 4, 0x10 + 2 * (unsigned)pin);
	phys_write(m->mmu, IOAPIC_DEFAULT_BASE + 0x10, 4, 0x8000u | (unsigned)vec);
}

START_TEST(intx_routing)
{
	q35_firmware_setup(b);
	/* The edu function in slot 1: INTA -> PIRQ F (5) -> GSI 21, and in
	 * PIC mode IRQ 10 as the firmware routed PIRQ F. */
	struct pci_dev *d = pci_find(b->pci, PCI_DEVFN(1, 0));
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(cfgr(PCI_DEVFN(1, 0), 0, 4), 0x11e81234u);
	ck_assert_int_eq(ich9_lpc_intx_pirq(b->lpc, 1, 1), 5);
	ck_assert_uint_eq(cfgr(PCI_DEVFN(1, 0), PCI_INTERRUPT_LINE, 1), 10);
	uint32_t bar = cfgr(PCI_DEVFN(1, 0), PCI_BAR0, 4);
	ck_assert_uint_eq(bar, 0xc0000000u);
	ck_assert(cfgr(PCI_DEVFN(1, 0), PCI_COMMAND, 2) & PCI_CMD_MEM);
	level_rte(21, 0x71);
	level_rte(10, 0x72);
	pci_cfg_write(b->pci, PCI_DEVFN(1, 0), PCI_COMMAND, PCI_CMD_MEM, 2);
	phys_write(m->mmu, bar + EDU_INTR_RAISE, 4, 1);
	ck_assert(remote_irr(21));
	ck_assert(remote_irr(10));
	ck_assert(!remote_irr(22));
	ck_assert(!remote_irr(11));
	/* Acknowledged: the pins drop; their EOIs send nothing again. */
	phys_write(m->mmu, bar + EDU_INTR_ACK, 4, 1);
	ioapic_eoi(b->ioapic, 0x71);
	ioapic_eoi(b->ioapic, 0x72);
	ck_assert(!remote_irr(21));
	ck_assert(!remote_irr(10));
	/* PIRQ F routed to IRQ 11 instead, then not at all. */
	cfgw(LPC, ICH9_PIRQE_ROUT + 1, 11, 1);
	level_rte(11, 0x73);
	phys_write(m->mmu, bar + EDU_INTR_RAISE, 4, 1);
	ck_assert(remote_irr(11));
	ck_assert(!remote_irr(10));
	ck_assert(remote_irr(21));
	phys_write(m->mmu, bar + EDU_INTR_ACK, 4, 1);
	ioapic_eoi(b->ioapic, 0x73);
	ioapic_eoi(b->ioapic, 0x71);
	cfgw(LPC, ICH9_PIRQE_ROUT + 1, 0x80, 1);
	ck_assert_int_eq(ich9_lpc_intx_irq(b->lpc, PCI_DEVFN(1, 0), 1), -1);
	phys_write(m->mmu, bar + EDU_INTR_RAISE, 4, 1);
	ck_assert(!remote_irr(11));
	ck_assert(remote_irr(21)); /* APIC-mode wiring stays */
	/* INTx disable in the command register lowers the pin: its EOI
	 * sends nothing again. */
	cfgw(PCI_DEVFN(1, 0), PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_INTX_DISABLE, 2);
	ioapic_eoi(b->ioapic, 0x71);
	ck_assert(!remote_irr(21));
	/* Slot swizzle for slots 0-24 and the D31IR register for slot 31. */
	ck_assert_int_eq(ich9_lpc_intx_pirq(b->lpc, 2, 1), 6);
	ck_assert_int_eq(ich9_lpc_intx_pirq(b->lpc, 2, 4), 5);
	ck_assert_int_eq(ich9_lpc_intx_pirq(b->lpc, 31, 2), 1);
}
END_TEST

START_TEST(rcba)
{
	uint64_t r = ICH9_RCBA_DEFAULT;
	ck_assert_uint_eq(phys_read(m->mmu, r + 0x3140, 2), 0xffff); /* not decoded */
	q35_firmware_setup(b);
	ck_assert_uint_eq(cfgr(LPC, ICH9_RCBA, 4), ICH9_RCBA_DEFAULT | 1);
	ck_assert_uint_eq(phys_read(m->mmu, r + 0x3140, 2), 0x3210);
	ck_assert_uint_eq(phys_read(m->mmu, r + 0x3150, 2), 0x3210);
	phys_write(m->mmu, r + 0x3140, 2, 0x0007); /* D31IR: INTA -> PIRQH */
	ck_assert_int_eq(ich9_lpc_intx_pirq(b->lpc, 31, 1), 7);
	/* GCS keeps NO_REBOOT. */
	phys_write(m->mmu, r + 0x3410, 4, 0);
	ck_assert_uint_eq(phys_read(m->mmu, r + 0x3410, 4) & 0x20, 0x20);
	/* Other registers hold what is written. */
	phys_write(m->mmu, r + 0x3404, 4, 0x80);
	ck_assert_uint_eq(phys_read(m->mmu, r + 0x3404, 4), 0x80);
	/* Disabled, or placed over RAM: not decoded. */
	cfgw(LPC, ICH9_RCBA, ICH9_RCBA_DEFAULT, 4);
	ck_assert_uint_eq(phys_read(m->mmu, r + 0x3404, 4), 0xffffffffu);
	phys_write(m->mmu, 0x200000, 4, 0x77);
	cfgw(LPC, ICH9_RCBA, 0x200001, 4);
	ck_assert_uint_eq(phys_read(m->mmu, 0x200000, 4), 0x77);
}
END_TEST

START_TEST(sci_routing)
{
	q35_firmware_setup(b);
	acpi_pm_set_sci_en(b->pm, true);
	ioport_write(m->io, 0x602, 2, ACPI_PM1_PWRBTN); /* PM1_EN */
	level_rte(9, 0x79);
	level_rte(20, 0x7a);
	acpi_pm_power_button(b->pm);
	ck_assert(remote_irr(9));
	ck_assert(!remote_irr(20));
	cfgw(LPC, ICH9_ACPI_CNTL, 0x84, 1); /* SCI on IRQ 20 */
	ioapic_eoi(b->ioapic, 0x79);
	ck_assert(remote_irr(20));
	ck_assert(!remote_irr(9));
	ioport_write(m->io, 0x600, 2, ACPI_PM1_PWRBTN); /* clear the status */
	ioapic_eoi(b->ioapic, 0x7a);
	ck_assert(!remote_irr(20));
}
END_TEST

static const uint8_t *find_table(const uint8_t *buf, uint32_t len, const char *sig)
{
	for (uint32_t i = 0; i + 36 <= len; i += 4)
		if (!memcmp(buf + i, sig, 4)) {
			uint32_t l;
			memcpy(&l, buf + i + 4, 4);
			uint8_t s = 0;
			for (uint32_t k = 0; k < l && i + k < len; k++)
				s = (uint8_t)(s + buf[i + k]);
			if (s == 0)
				return buf + i;
		}
	return NULL;
}

START_TEST(acpi_tables)
{
	teardown();
	make(false, true);
	struct acpi_config ac = { .ncpus = 1,
				  .ioapic_addr = 0xfec00000,
				  .hpet_addr = 0xfed00000,
				  .hpet_id = 0x8086a201,
				  .pm_base = 0x600,
				  .sci_irq = 9 };
	q35_acpi_config(b, &ac);
	static uint8_t buf[0x10000];
	uint32_t len = acpi_build(&ac, buf, sizeof(buf), 0xe0000);
	ck_assert_uint_gt(len, 0);
	const uint8_t *mcfg = find_table(buf, len, "MCFG");
	ck_assert_ptr_nonnull(mcfg);
	uint64_t base;
	memcpy(&base, mcfg + 44, 8);
	ck_assert_uint_eq(base, ECAM);
	ck_assert_uint_eq(mcfg[55], 255); /* end bus */
	const uint8_t *dmar = find_table(buf, len, "DMAR");
	ck_assert_ptr_nonnull(dmar);
	ck_assert_uint_eq(dmar[36], INTEL_IOMMU_HAW - 1);
	ck_assert_uint_eq(dmar[37] & 1, 1); /* INTR_REMAP */
	ck_assert_uint_eq(dmar[48], 0);     /* DRHD */
	ck_assert_uint_eq(dmar[52] & 1, 1); /* INCLUDE_PCI_ALL */
	memcpy(&base, dmar + 56, 8);
	ck_assert_uint_eq(base, INTEL_IOMMU_BASE);
	ck_assert_uint_eq(dmar[64], 3);  /* IOAPIC scope */
	ck_assert_uint_eq(dmar[69], 0);  /* bus 0 */
	ck_assert_uint_eq(dmar[70], 31); /* 1f.0 */
	const uint8_t *fadt = find_table(buf, len, "FACP");
	ck_assert_ptr_nonnull(fadt);
	uint32_t gpe0;
	memcpy(&gpe0, fadt + 80, 4);
	ck_assert_uint_eq(gpe0, 0x620);
	ck_assert_uint_eq(fadt[92], 16);
	const uint8_t *dsdt = find_table(buf, len, "DSDT");
	ck_assert_ptr_nonnull(dsdt);
	uint32_t dl;
	memcpy(&dl, dsdt + 4, 4);
	/* PNP0A08 as an EISA id, and the LPC's _ADR 0x001F0000. */
	static const uint8_t pnp0a08[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	static const uint8_t lpc_adr[] = { 0x0c, 0x00, 0x00, 0x1f, 0x00 };
	ck_assert_ptr_nonnull(memmem(dsdt, dl, pnp0a08, sizeof(pnp0a08)));
	ck_assert_ptr_nonnull(memmem(dsdt, dl, lpc_adr, sizeof(lpc_adr)));
	ck_assert_ptr_nonnull(memmem(dsdt, dl, "PRTA", 4));
	ck_assert_ptr_nonnull(memmem(dsdt, dl, "_PIC", 4));
	/* The board's description says the same (intel-iommu present). */
	ck_assert_uint_eq(ac.dmar_base, INTEL_IOMMU_BASE);
}
END_TEST

START_TEST(no_ide)
{
	teardown();
	struct machine_config cfg = { .ram_size = 64 << 20, .ncpus = 1, .ndrives = 1 };
	cfg.drives[0] = (struct drive_config){ .file = "/nonexistent.img", .index = -1 };
	m = machine_new_q35(&cfg);
	ck_assert_ptr_null(m);
	make(false, false);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("q35");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, identities);
	tcase_add_test(t, ecam);
	tcase_add_test(t, config_address_low_bits);
	tcase_add_test(t, pam_and_smram);
	tcase_add_test(t, pm_block);
	tcase_add_test(t, intx_routing);
	tcase_add_test(t, rcba);
	tcase_add_test(t, sci_routing);
	tcase_add_test(t, acpi_tables);
	tcase_add_test(t, no_ide);
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
