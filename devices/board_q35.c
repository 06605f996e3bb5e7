/*
 * devices/board_q35.c — the chipset half of the "q35" machine (the rest is
 * the pc board, devices/board_pc.c):
 *
 *   00:00.0 Q35 MCH host bridge (devices/q35_mch.c): PAM shadowing through
 *           the pc board's PAM routine, PCIEXBAR placing the ECAM window
 *           (firmware, or pc_boot_kernel for a direct boot, puts it at
 *           0xB0000000: 256 buses);
 *   00:1f.0 ICH9 LPC bridge (devices/ich9_lpc.c): the ACPI PM block
 *           (devices/acpi_pm.c plus the ICH9 registers) at PMBASE, the SCI
 *           on IRQ 9, PIRQA-H to ISA IRQs and to IOAPIC pins 16-23, RCBA;
 *   the pc board's legacy devices (PIC, PIT, RTC, COM1, i8042, HPET, IOAPIC,
 *   LAPICs, fw_cfg, VGA at 00:01.0, debug and test devices) unchanged;
 *   with -device intel-iommu: the VT-d unit at 0xFED90000 in front of every
 *   PCI function and (intremap) of the IOAPIC's messages, and a DMAR table.
 *
 * Memory: RAM below 4 GiB up to 0xB0000000 when it fits there, else 2 GiB
 * (QEMU's q35 split), the rest from 4 GiB. No AHCI controller yet (disks
 * must be virtio).
 */
#include "devices/board_q35.h"

#include <stdio.h>
#include <stdlib.h>

#include "devices/acpi_pm.h"
#include "devices/board_pc.h"
#include "devices/board_pc_int.h"
#include "devices/hpet.h"
#include "devices/ich9_lpc.h"
#include "devices/intel_iommu.h"
#include "devices/ioapic.h"
#include "devices/pci.h"
#include "devices/q35_mch.h"

/* PCI resources a direct boot assigns (SeaBIOS uses the same ranges): I/O
 * from 0xC000, memory above the ECAM window up to the chipset range. */
#define Q35_PCI_IO_BASE  0xc000u
#define Q35_PCI_MEM_BASE 0xc0000000ull
#define Q35_PCI_MEM_END  0xfec00000ull

struct machine *machine_new_q35(const struct machine_config *cfg)
{
	struct machine_config c = *cfg;
	c.q35 = true;
	return machine_new_pc(&c);
}

uint64_t q35_lowmem(uint64_t ram)
{
	return ram < Q35_ECAM_BASE ? ram : 0x80000000ull;
}

static void lpc_isa_irq(void *opaque, int irq, int level)
{
	pc_isa_irq(opaque, irq, level);
}

bool q35_chipset_init(struct pc_board *b)
{
	struct machine *m = b->m;
	b->pci = pci_init(m);
	if (!b->pci)
		goto oom;
	struct q35_mch_config mc = {
		.lowmem = b->lowmem,
		.highmem = b->highmem,
		.opaque = b,
		.pam = pc_pam_write,
	};
	b->mch = q35_mch_init(m, b->pci, &mc);
	struct ich9_lpc_config lc = {
		.opaque = b,
		.isa_irq = lpc_isa_irq,
		.ioapic = b->ioapic,
		.lowmem = b->lowmem,
	};
	b->lpc = b->mch ? ich9_lpc_init(m, b->pci, &lc) : NULL;
	if (!b->lpc)
		goto oom;
	/* The PM block decodes once firmware sets PMBASE and ACPI_EN. */
	struct irq_line sci = ich9_lpc_sci_line(b->lpc);
	b->pm = acpi_pm_init(m, 0, &sci);
	if (!b->pm)
		goto oom;
	ich9_lpc_set_pm(b->lpc, b->pm);
	return true;
oom:
	fprintf(stderr, "nestbox: out of memory creating the q35 chipset\n");
	return false;
}

bool q35_iommu_init(struct pc_board *b)
{
	const struct machine_config *cfg = &b->m->cfg;
	if (!cfg->intel_iommu)
		return true;
	struct intel_iommu_config ic = {
		.intremap = cfg->iommu_intremap,
		.eim = cfg->iommu_intremap && cfg->iommu_eim,
		.ioapic_sid = PCI_DEVFN(31, 0), /* ICH9 LPC_IBDF default */
	};
	b->iommu = intel_iommu_init(b->m, INTEL_IOMMU_BASE, &ic);
	if (!b->iommu) {
		fprintf(stderr, "nestbox: out of memory creating the intel-iommu\n");
		return false;
	}
	intel_iommu_attach(b->iommu, b->pci);
	/* The ICH9 IOxAPIC writes its interrupts to 0xFEEx_xxxx: with
	 * interrupt remapping they go through the unit. */
	if (ic.intremap)
		ioapic_set_msi_hook(b->ioapic, intel_iommu_ioapic_msi, b->iommu);
	return true;
}

void q35_acpi_config(const struct pc_board *b, struct acpi_config *ac)
{
	const struct machine_config *cfg = &b->m->cfg;
	ac->q35 = true;
	ac->mcfg_base = Q35_ECAM_BASE;
	ac->mcfg_end_bus = (uint8_t)((Q35_ECAM_SIZE >> 20) - 1);
	if (ac->smi_cmd) {
		ac->acpi_enable = ICH9_APM_ENABLE;
		ac->acpi_disable = ICH9_APM_DISABLE;
	}
	if (b->iommu) {
		ac->dmar_base = INTEL_IOMMU_BASE;
		ac->dmar_haw = INTEL_IOMMU_HAW;
		ac->dmar_intremap = cfg->iommu_intremap;
		ac->dmar_ioapic_sid = PCI_DEVFN(31, 0);
	}
}

static int intx_irq(void *opaque, uint8_t devfn, int pin)
{
	return ich9_lpc_intx_irq(opaque, devfn, pin);
}

void q35_firmware_setup(struct pc_board *b)
{
	/* ECAM at 0xB0000000 (PCIEXBAR: 256 MiB, enabled), the LPC's PM block,
	 * RCBA and PIRQ routing, then the BARs and Interrupt Lines, as
	 * SeaBIOS leaves them for an OS. */
	pci_cfg_write(b->pci, PCI_DEVFN(0, 0), Q35_PCIEXBAR + 4, (uint32_t)(Q35_ECAM_BASE >> 32),
		      4);
	pci_cfg_write(b->pci, PCI_DEVFN(0, 0), Q35_PCIEXBAR, (uint32_t)Q35_ECAM_BASE | 1, 4);
	ich9_lpc_firmware_setup(b->lpc, PM_BASE);
	pci_assign_resources(b->pci, Q35_PCI_IO_BASE, 0x10000, Q35_PCI_MEM_BASE, Q35_PCI_MEM_END,
			     intx_irq, b->lpc);
}

int q35_e820(const struct pc_board *b, struct e820_entry *e)
{
	e[0] = (struct e820_entry){ Q35_ECAM_BASE, Q35_ECAM_SIZE, 2 };
	e[1] = (struct e820_entry){ ICH9_RCBA_DEFAULT, ICH9_RCBA_SIZE, 2 };
	return 2;
}

void q35_reset(struct pc_board *b)
{
	if (b->iommu)
		intel_iommu_reset(b->iommu);
}

void q35_free(struct pc_board *b)
{
	if (b->iommu)
		intel_iommu_free(b->iommu);
	if (b->lpc)
		ich9_lpc_free(b->lpc);
	if (b->mch)
		q35_mch_free(b->mch);
	b->iommu = NULL;
	b->lpc = NULL;
	b->mch = NULL;
}
