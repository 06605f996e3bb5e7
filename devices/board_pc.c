/*
 * devices/board_pc.c — the "pc" board: an i440FX/PIIX-style PC as SeaBIOS
 * and Linux know it. It creates the devices and wires them:
 *
 *   ISA IRQ n ──┬── i8259 pair (IR n) ── INTR ── BSP LAPIC LINT0 (ExtINT)
 *               └── IOAPIC pin n (IRQ0 → pin 2, as the MADT override says)
 *   IOAPIC / MSI / IPIs ── lapic_deliver ── per-vCPU LAPIC ── cpu irq hooks
 *   PCI INTx ── PIIX PIRQ routing ── ISA IRQ
 *   HPET legacy replacement takes IRQ0/IRQ8 from the PIT/RTC while on.
 *   BSP FERR# ── IRQ 13 latch (port F0h clears it, asserts IGNNE#)
 *
 * Memory: RAM below min(RAM, 3 GiB) and the rest from 4 GiB; firmware at the
 * top of the 4 GiB space (its last 128 KiB also at 0xE0000); APIC windows.
 * Direct kernel boot (no firmware) puts ACPI tables at 0xE0000 and describes
 * memory to the kernel through the e820 map in its boot parameters.
 *
 * The q35 machine is this board with the Q35 MCH / ICH9 chipset in place of
 * the i440FX / PIIX functions (devices/board_q35.c supplies the chipset
 * parts; the legacy devices, memory map, boot and reset are shared).
 */
#include "devices/board_pc.h"
#include "devices/board_pc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "devices/acpi_pm.h"
#include "devices/acpi_tables.h"
#include "devices/debug_ports.h"
#include "devices/edu.h"
#include "devices/fw_cfg.h"
#include "devices/hpet.h"
#include "devices/i8254.h"
#include "devices/blockdev.h"
#include "devices/i8042.h"
#include "devices/ide.h"
#include "devices/i8259.h"
#include "devices/ioapic.h"
#include "devices/ioport.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "devices/mc146818.h"
#include "devices/pci.h"
#include "devices/port92.h"
#include "devices/testdev.h"
#include "devices/uart16550.h"
#include "devices/vga.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"
#include "devices/virtio_net_backend.h"
#include "mmu/mmu.h"

#define LOWMEM_MAX 0xc0000000ull /* the PCI hole starts at 3 GiB */
#define ACPI_BASE  0xe0000u
#define ACPI_SIZE  0x10000u

static struct pc_board *board_of(struct machine *m)
{
	return m->board;
}

/* ---- interrupt wiring ---- */

static void isa_irq(void *opaque, int irq, int level)
{
	struct pc_board *b = opaque;
	pic_set_irq(&b->pic, irq, level);
	ioapic_set_irq(b->ioapic, irq == 0 ? 2 : irq, level);
}

void pc_isa_irq(void *opaque, int irq, int level)
{
	isa_irq(opaque, irq, level);
}

/* The PIT and the RTC lose IRQ0/IRQ8 while the HPET's legacy replacement
 * route is on (IA-PC HPET spec §2.4). */
static void pit_irq(void *opaque, int n, int level)
{
	struct pc_board *b = opaque;
	if (!b->hpet_legacy)
		isa_irq(b, 0, level);
}

static void rtc_irq(void *opaque, int n, int level)
{
	struct pc_board *b = opaque;
	if (!b->hpet_legacy)
		isa_irq(b, 8, level);
}

static void isa_line(void *opaque, int n, int level)
{
	isa_irq(opaque, n, level);
}

static void hpet_legacy_changed(void *opaque, bool on)
{
	struct pc_board *b = opaque;
	b->hpet_legacy = on;
}

static void hpet_pin(void *opaque, int n, int level)
{
	struct pc_board *b = opaque;
	ioapic_set_irq(b->ioapic, n, level);
	if (n < 16 && n != 2)
		pic_set_irq(&b->pic, n, level);
}

/* The BSP's FERR# and IGNNE# (struct cpu's ferr hook). Only the BSP's
 * are wired: compatibility-mode x87 error reporting is for one processor
 * (SDM Vol. 1 §D.2.1; the MP specification supports native mode only). */
static bool bsp_ferr(struct cpu *cpu, bool asserted)
{
	return pc_ferr_signal(&board_of(cpu->machine)->ferr, asserted);
}

static int pic_extint_ack(void *opaque)
{
	struct pc_board *b = opaque;
	return pic_ack(&b->pic);
}

/* One PAM field (i440FX datasheet §3.2.18): 0xC0000-0xFFFFF in 16 KiB
 * pieces (64 KiB for 0xF0000) decode to DRAM for reads when RE (bit 0) is
 * set and for writes when WE (bit 1) is set; otherwise to the firmware ROM
 * (0xE0000-0xFFFFF) or the PCI bus. Read-only DRAM (RE without WE, what
 * firmware sets after shadowing itself) is a ROM copy of the DRAM contents;
 * write-only DRAM (WE without RE, used briefly while copying) decodes as
 * DRAM. */
static void pam_region(struct pc_board *b, uint64_t base, uint64_t size, unsigned mode)
{
	struct mmu *mmu = b->m->mmu;
	if (mode & 2) {
		mmu_map_ram(mmu, base, size, base);
		return;
	}
	if (mode & 1) {
		mmu_map_rom(mmu, base, mmu_ram(mmu) + base, size);
		return;
	}
	/* Firmware side: the ROM's last 128 KiB alias 0xE0000-0xFFFFF; below
	 * that the PCI bus (nothing). */
	uint64_t rom_base = 0x100000 - (b->bios_size < 0x20000 ? b->bios_size : 0x20000);
	if (base >= rom_base)
		mmu_map_rom(mmu, base, b->bios + b->bios_size - (0x100000 - base), size);
	else
		mmu_unmap(mmu, base, size);
}

static void pam_write(void *opaque, unsigned reg, uint8_t val)
{
	struct pc_board *b = opaque;
	if (!b->bios)
		return; /* direct kernel boot: 0xC0000-0xFFFFF stays RAM */
	if (reg == 0x59) {
		pam_region(b, 0xf0000, 0x10000, val >> 4);
		return;
	}
	if (reg < 0x5a || reg > 0x5f)
		return;
	uint64_t base = 0xc0000 + (uint64_t)(reg - 0x5a) * 0x8000;
	pam_region(b, base, 0x4000, val & 3);
	pam_region(b, base + 0x4000, 0x4000, (val >> 4) & 3);
}

void pc_pam_write(void *opaque, unsigned reg, uint8_t val)
{
	pam_write(opaque, reg, val);
}

/* ---- tables ---- */

/* One description of the machine for the ACPI tables, used both by direct
 * boot and by the firmware's linker/loader (fw_cfg). */
static struct acpi_config acpi_config_of(const struct machine *m, const struct pc_board *b,
					 bool firmware)
{
	struct acpi_config ac = {
		.ncpus = m->ncpus,
		.ioapic_addr = (uint32_t)IOAPIC_DEFAULT_BASE,
		.ioapic_id = 0,
		.hpet_addr = b->hpet ? (uint32_t)HPET_DEFAULT_BASE : 0,
		.hpet_id = 0x8086a201u,
		.pm_base = PM_BASE,
		.sci_irq = SCI_IRQ,
		.fw_cfg_port = b->fwcfg ? 0x510 : 0,
	};
	if (firmware) {
		/* SeaBIOS hands ACPI to the OS through the APM port handshake. */
		ac.smi_cmd = 0xb2;
		ac.acpi_enable = 0xf1;
		ac.acpi_disable = 0xf0;
	}
	if (m->cfg.q35)
		q35_acpi_config(b, &ac);
	return ac;
}

/* ---- memory map ---- */

static int build_e820(const struct pc_board *b, struct e820_entry *e)
{
	int n = 0;
	e[n++] = (struct e820_entry){ 0, 0x9fc00, 1 };
	e[n++] = (struct e820_entry){ 0x9fc00, 0x400, 2 };
	e[n++] = (struct e820_entry){ 0xe0000, 0x20000, 2 };
	e[n++] = (struct e820_entry){ 0x100000, b->lowmem - 0x100000, 1 };
	if (b->m->cfg.q35)
		n += q35_e820(b, e + n);
	e[n++] = (struct e820_entry){ 0xfec00000, 0x1000, 2 };
	e[n++] = (struct e820_entry){ 0xfed00000, 0x400, 2 };
	e[n++] = (struct e820_entry){ 0xfee00000, 0x1000, 2 };
	e[n++] = (struct e820_entry){ 0xfffc0000, 0x40000, 2 };
	if (b->highmem)
		e[n++] = (struct e820_entry){ 1ull << 32, b->highmem, 1 };
	return n;
}

/* Devices with timers or hooks into the vCPUs go first (lapic_free needs
 * m->cpu); machine_free frees the board struct itself afterwards. */
static void pc_board_free(struct machine *m)
{
	struct pc_board *b = board_of(m);
	if (!b)
		return;
	for (int i = 0; i < MAX_DRIVES; i++)
		if (b->vblk[i])
			virtio_blk_free(b->vblk[i]);
	if (b->ide)
		ide_free(b->ide);
	if (b->vga)
		vga_free(b->vga);
	b->vga = NULL;
	for (int i = 0; i < MAX_NICS; i++) {
		if (b->vnet[i])
			virtio_net_free(b->vnet[i]);
		b->vnet[i] = NULL;
	}
	for (int i = 0; i < MAX_DRIVES; i++)
		if (b->bd[i])
			blockdev_close(b->bd[i]);
	memset(b->vblk, 0, sizeof(b->vblk));
	memset(b->bd, 0, sizeof(b->bd));
	b->ide = NULL;
	free(b->bootorder);
	b->bootorder = NULL;
	if (b->pc_testdev)
		pc_testdev_free(b->pc_testdev);
	if (b->lapic)
		lapic_free(b->lapic);
	if (b->hpet)
		hpet_free(b->hpet);
	if (b->pm)
		acpi_pm_free(b->pm);
	if (b->ioapic)
		ioapic_free(b->ioapic);
	if (b->pci)
		pci_free(b->pci);
	if (b->pci_testdev)
		pci_testdev_free(b->pci_testdev);
	if (b->edu)
		edu_free(b->edu);
	b->edu = NULL;
	q35_free(b);
	if (b->fwcfg)
		fw_cfg_free(b->fwcfg);
	for (int i = 0; i < MAX_NICS; i++) {
		if (b->nbe[i])
			net_backend_free(b->nbe[i]);
		b->nbe[i] = NULL;
	}
	for (int i = 0; i < b->nhubs; i++)
		net_hub_free(b->hub[i]);
	b->nhubs = 0;
	free(b->bios);
	b->bios = NULL;
	b->fwcfg = NULL;
	b->pc_testdev = NULL;
	b->pci_testdev = NULL;
	b->lapic = NULL;
	b->hpet = NULL;
	b->pm = NULL;
	b->ioapic = NULL;
	b->pci = NULL;
}

/* Open the user's images and attach them: IDE disks/CD-ROMs at their index
 * (first free one when not given; CD-ROMs default to the secondary master),
 * virtio-blk disks in PCI slots 8 and up. Builds SeaBIOS's bootorder from
 * -boot (c = disks, d = CD-ROMs) with OpenFirmware device paths. */
static bool attach_drives(struct machine *m, struct pc_board *b, const struct machine_config *cfg)
{
	struct irq_line irq[2] = { { isa_line, b, 14 }, { isa_line, b, 15 } };
	if (cfg->q35) {
		/* No ICH9 AHCI yet, and the q35 has no IDE: virtio disks only. */
		for (int i = 0; i < cfg->ndrives; i++)
			if (!cfg->drives[i].virtio) {
				fprintf(stderr,
					"nestbox: -drive %s: the q35 machine has no IDE/AHCI "
					"controller in nestbox yet; use if=virtio\n",
					cfg->drives[i].file);
				return false;
			}
	}
	b->ide = cfg->q35 ? NULL : ide_init(m, b->pci, irq);
	if (!b->ide && !cfg->q35) {
		fprintf(stderr, "nestbox: out of memory creating the IDE controller\n");
		return false;
	}
	bool used[4] = { false };
	for (int i = 0; i < cfg->ndrives; i++)
		if (!cfg->drives[i].virtio && cfg->drives[i].index >= 0) {
			if (used[cfg->drives[i].index]) {
				fprintf(stderr, "nestbox: -drive %s: IDE index %d is taken twice\n",
					cfg->drives[i].file, cfg->drives[i].index);
				return false;
			}
			used[cfg->drives[i].index] = true;
		}
	char order[512] = "";
	int vslot = 8; /* after the NICs (3-7) */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < cfg->ndrives; i++) {
			const struct drive_config *d = &cfg->drives[i];
			if (pass == 0) {
				char err[512];
				unsigned flags =
					(d->readonly ? BLOCKDEV_READONLY : 0) |
					(d->snapshot ? BLOCKDEV_SNAPSHOT : 0) |
					(d->cdrom ? BLOCKDEV_CDROM | BLOCKDEV_READONLY : 0);
				b->bd[i] = blockdev_open(d->file, flags, err, sizeof(err));
				if (!b->bd[i]) {
					fprintf(stderr, "nestbox: -drive: %s\n", err);
					return false;
				}
				continue;
			}
			if (d->virtio) {
				b->vblk[i] = virtio_blk_new_blockdev(m, b->pci, PCI_DEVFN(vslot, 0),
								     b->bd[i], NULL);
				if (!b->vblk[i]) {
					fprintf(stderr, "nestbox: -drive %s: no free PCI slot\n",
						d->file);
					return false;
				}
				vslot++;
				continue;
			}
			int idx = d->index;
			if (idx < 0) {
				idx = d->cdrom && !used[2] ? 2 : 0;
				while (idx < 4 && used[idx])
					idx++;
				if (idx == 4) {
					fprintf(stderr,
						"nestbox: -drive %s: all four IDE positions "
						"are taken\n",
						d->file);
					return false;
				}
				used[idx] = true;
			}
			struct ide_drive_config ic = { .bd = b->bd[i], .cdrom = d->cdrom };
			if (!ide_attach(b->ide, idx, &ic))
				return false;
		}
	}
	/* bootorder: one path per line, in the -boot letters' order. */
	const char *letters = cfg->boot_order ? cfg->boot_order : "";
	for (const char *l = letters; *l; l++) {
		for (int i = 0; i < cfg->ndrives; i++) {
			const struct drive_config *d = &cfg->drives[i];
			if (d->virtio || (*l == 'c') == d->cdrom || (*l != 'c' && *l != 'd'))
				continue;
			int idx = d->index >= 0 ? d->index : -1;
			if (idx < 0)
				continue; /* auto-placed drives keep SeaBIOS's default order */
			size_t n = strlen(order);
			snprintf(order + n, sizeof(order) - n,
				 "/pci@i0cf8/ide@1,1/drive@%d/disk@%d\n", idx / 2, idx % 2);
		}
	}
	if (*order) {
		b->bootorder = strdup(order);
		if (b->bootorder)
			fw_cfg_add_file(b->fwcfg, "bootorder", b->bootorder,
					(uint32_t)strlen(b->bootorder) + 1);
	}
	return true;
}

struct machine *machine_new_pc(const struct machine_config *cfg)
{
	struct machine *m = machine_alloc(cfg);
	if (!m)
		return NULL;
	struct pc_board *b = calloc(1, sizeof(*b));
	if (!b) {
		machine_free(m);
		return NULL;
	}
	m->board = b;
	m->board_free = pc_board_free;
	b->m = m;

	b->lowmem = cfg->ram_size < LOWMEM_MAX ? cfg->ram_size : LOWMEM_MAX;
	if (cfg->q35)
		b->lowmem = q35_lowmem(cfg->ram_size);
	b->highmem = cfg->ram_size - b->lowmem;
	mmu_map_ram(m->mmu, 0, b->lowmem, 0);
	if (b->highmem)
		mmu_map_ram(m->mmu, 1ull << 32, b->highmem, b->lowmem);

	debugcon_init(m, &b->con, 0xe9, cfg->debugcon);
	b->con.tee = cfg->console_tee;
	b->con.tee_opaque =
		cfg->debugcon_tee_opaque ? cfg->debugcon_tee_opaque : cfg->console_opaque;
	if (cfg->debug_exit_size)
		debug_exit_init(m, cfg->debug_exit_base, cfg->debug_exit_size);

	/* Interrupt controllers. */
	i8259_init(m, &b->pic);
	b->ioapic = ioapic_init(m, IOAPIC_DEFAULT_BASE, 0);
	b->lapic = lapic_init(m);
	if (!b->ioapic || !b->lapic) {
		fprintf(stderr, "nestbox: out of memory creating the interrupt controllers\n");
		machine_free(m);
		return NULL;
	}
	b->pic.intr = (struct irq_line){ lapic_lint_set, b->lapic, 0 }; /* BSP LINT0 */
	lapic_set_extint(b->lapic, pic_extint_ack, b);
	lapic_set_eoi_hook(b->lapic, ioapic_eoi, b->ioapic);
	for (int i = 0; i < m->ncpus; i++)
		m->cpu[i]->init_sipi = lapic_do_init_sipi;
	/* x87 errors in compatibility mode (CR0.NE = 0): FERR# to ISA IRQ 13,
	 * IGNNE# from port F0h. */
	pc_ferr_init(m, &b->ferr, (struct irq_line){ isa_line, b, 13 });
	m->cpu[0]->ferr = bsp_ferr;

	/* Timers and the RTC. */
	if (!cfg->no_pit) {
		i8254_init(m, &b->pit);
		b->pit.irq0 = (struct irq_line){ pit_irq, b, 0 };
	}
	mc146818_init(m, &b->rtc);
	b->rtc.irq = (struct irq_line){ rtc_irq, b, 8 };
	b->hpet = hpet_init(m, HPET_DEFAULT_BASE);
	if (b->hpet) {
		struct irq_line pins[HPET_NPINS], legacy[2];
		for (int i = 0; i < HPET_NPINS; i++)
			pins[i] = (struct irq_line){ hpet_pin, b, i };
		legacy[0] = (struct irq_line){ isa_line, b, 0 };
		legacy[1] = (struct irq_line){ isa_line, b, 8 };
		hpet_connect(b->hpet, pins, legacy, hpet_legacy_changed, b);
	}

	/* COM1. */
	uart16550_init(m, &b->com[0], 0x3f8, cfg->serial);
	b->com[0].tee = cfg->console_tee;
	b->com[0].tee_opaque = cfg->console_opaque;
	b->com[0].irq = (struct irq_line){ isa_line, b, 4 };

	/* Keyboard controller and System Control Port A (A20, reset). */
	i8042_init(m, &b->kbc);
	b->kbc.irq_kbd = (struct irq_line){ isa_line, b, 1 };
	b->kbc.irq_aux = (struct irq_line){ isa_line, b, 12 };
	port92_init(m, &b->p92);

	/* ACPI PM block and PCI (the q35's: MCH, LPC bridge, ICH9 PM). */
	if (cfg->q35) {
		if (!q35_chipset_init(b)) {
			machine_free(m);
			return NULL;
		}
	} else {
		struct irq_line sci = { isa_line, b, SCI_IRQ };
		b->pm = acpi_pm_init(m, PM_BASE, &sci);
		b->pci = pci_init(m);
		if (!b->pm || !b->pci) {
			fprintf(stderr, "nestbox: out of memory creating the PCI bus\n");
			machine_free(m);
			return NULL;
		}
		struct pci_board_hooks hooks = { .opaque = b,
						 .isa_irq = isa_irq,
						 .pam = pam_write };
		pci_add_i440fx_piix(b->pci, &hooks, b->pm);
	}

	/* fw_cfg: what SeaBIOS (and kvm-unit-tests) read about the machine. */
	b->fwcfg = fw_cfg_init(m, 0x510);
	if (!b->fwcfg) {
		fprintf(stderr, "nestbox: out of memory creating fw_cfg\n");
		machine_free(m);
		return NULL;
	}
	struct fw_cfg_pc_config fc = {
		.ram_below_4g = b->lowmem,
		.ram_above_4g = b->highmem,
		.ncpus = m->ncpus,
		.boot_menu = cfg->boot_menu,
		.boot_fail_wait = -1,
		.nographic = cfg->nographic,
	};
	if (!fw_cfg_add_pc_items(b->fwcfg, &fc)) {
		fprintf(stderr, "nestbox: out of memory filling fw_cfg\n");
		machine_free(m);
		return NULL;
	}

	/* Standard VGA with Bochs VBE at 00:02.0 (00:01.0 on q35, as QEMU
	 * places it; its BIOS in the ROM BAR). */
	if (!cfg->no_vga) {
		b->vga = vga_init(m, b->pci, PCI_DEVFN(cfg->q35 ? 1 : 2, 0), NULL);
		if (!b->vga) {
			machine_free(m);
			return NULL;
		}
	}

	if (!attach_drives(m, b, cfg)) {
		machine_free(m);
		return NULL;
	}

	/* virtio-net NICs in slots 3 and up (slot 4 is pci-testdev's when
	 * present: skip it). Hub backends connect NICs with the same hub id. */
	int nslot = 3;
	for (int i = 0; i < cfg->nnics && i < MAX_NICS; i++) {
		struct net_backend *be = NULL;
		if (cfg->nics[i].backend) {
			be = cfg->nics[i].backend;
		} else if (cfg->nics[i].hub) {
			int h = 0;
			while (h < b->nhubs && b->hubid[h] != cfg->nics[i].hubid)
				h++;
			if (h == b->nhubs) {
				b->hub[h] = net_hub_new();
				b->hubid[h] = cfg->nics[i].hubid;
				b->nhubs++;
			}
			be = b->hub[h] ? net_hub_port(b->hub[h]) : NULL;
		} else {
			be = b->nbe[i] = net_backend_none_new();
		}
		if (nslot == 4 && cfg->pci_testdev)
			nslot++;
		b->vnet[i] = virtio_net_new(m, b->pci, PCI_DEVFN(nslot, 0), cfg->nics[i].mac, be);
		nslot++;
		if (!b->vnet[i]) {
			fprintf(stderr, "nestbox: cannot create virtio-net NIC %d\n", i);
			machine_free(m);
			return NULL;
		}
	}

	/* kvm-unit-tests' devices. */
	if (cfg->pc_testdev) {
		struct irq_line lines[PC_TESTDEV_NLINES];
		for (int i = 0; i < PC_TESTDEV_NLINES; i++)
			lines[i] = i < 16 ? (struct irq_line){ isa_line, b, i }
					  : (struct irq_line){ ioapic_set_irq, b->ioapic, i };
		b->pc_testdev = pc_testdev_init(m, lines, NULL, NULL);
	}
	if (cfg->pci_testdev)
		b->pci_testdev = pci_testdev_init(m, b->pci, PCI_DEVFN(4, 0));

	/* QEMU's edu in the first free slot (QEMU's placement too). */
	if (cfg->edu) {
		int slot = 1;
		while (slot < 25 && pci_find(b->pci, PCI_DEVFN(slot, 0)))
			slot++;
		b->edu = slot < 25 ? edu_init(m, b->pci, PCI_DEVFN(slot, 0), cfg->edu_dma_mask)
				   : NULL;
		if (!b->edu) {
			fprintf(stderr, "nestbox: cannot create the edu device\n");
			machine_free(m);
			return NULL;
		}
	}
	if (cfg->q35 && !q35_iommu_init(b)) {
		machine_free(m);
		return NULL;
	}

	/* CMOS: memory sizes as the BIOS and some OSes read them. */
	uint64_t ext = b->lowmem > (1u << 20) ? (b->lowmem - (1u << 20)) >> 10 : 0;
	if (ext > 0xffff)
		ext = 0xffff;
	mc146818_set_byte(&b->rtc, 0x17, (uint8_t)ext);
	mc146818_set_byte(&b->rtc, 0x18, (uint8_t)(ext >> 8));
	mc146818_set_byte(&b->rtc, 0x30, (uint8_t)ext);
	mc146818_set_byte(&b->rtc, 0x31, (uint8_t)(ext >> 8));
	uint64_t above16 = b->lowmem > (16u << 20) ? (b->lowmem - (16u << 20)) >> 16 : 0;
	if (above16 > 0xffff)
		above16 = 0xffff;
	mc146818_set_byte(&b->rtc, 0x34, (uint8_t)above16);
	mc146818_set_byte(&b->rtc, 0x35, (uint8_t)(above16 >> 8));
	uint64_t above4g = b->highmem >> 16;
	mc146818_set_byte(&b->rtc, 0x5b, (uint8_t)above4g);
	mc146818_set_byte(&b->rtc, 0x5c, (uint8_t)(above4g >> 8));
	mc146818_set_byte(&b->rtc, 0x5d, (uint8_t)(above4g >> 16));
	mc146818_set_byte(&b->rtc, 0x5f, (uint8_t)(m->ncpus - 1));
	mc146818_update_checksum(&b->rtc);
	return m;
}

/* Direct kernel boot: ACPI tables at 0xE0000, then the loader. */
bool pc_boot_kernel(struct machine *m, const uint8_t *img, size_t size, const char *cmdline,
		    const char *initrd, char *err, size_t errlen)
{
	struct pc_board *b = board_of(m);
	struct acpi_config ac = acpi_config_of(m, b, false);
	/* What firmware would have done: PCI interrupt routing as the DSDT's
	 * _PRT describes it (PIRQA-D → IRQ 10, 10, 11, 11, level triggered),
	 * and ACPI mode on (no SMI_CMD handshake without firmware). */
	static const uint8_t pirq[4] = { 10, 10, 11, 11 };
	if (m->cfg.q35)
		q35_firmware_setup(b);
	else
		for (int i = 0; i < 4; i++)
			pci_cfg_write(b->pci, PCI_DEVFN(1, 0), 0x60 + (unsigned)i, pirq[i], 1);
	ioport_write(m->io, 0x4d1, 1, ioport_read(m->io, 0x4d1, 1) | 0x0c);
	acpi_pm_set_sci_en(b->pm, true);
	uint8_t *tables = malloc(ACPI_SIZE);
	uint32_t len = tables ? acpi_build(&ac, tables, ACPI_SIZE, ACPI_BASE) : 0;
	if (!len) {
		snprintf(err, errlen, "internal error: ACPI tables do not fit");
		free(tables);
		return false;
	}
	phys_write_buf(m->mmu, ACPI_BASE, tables, len);
	free(tables);

	if (linux_probe(img, size)) {
		struct e820_entry e820[16];
		int n = build_e820(b, e820);
		return linux_load(m, img, size, cmdline, initrd, e820, n, ACPI_BASE, err, errlen);
	}
	if (multiboot_probe(img, size)) {
		struct boot_module mods[16];
		int nmods = 0;
		char *list = initrd ? strdup(initrd) : NULL, *save = NULL;
		for (char *p = list ? strtok_r(list, ",", &save) : NULL; p && nmods < 16;
		     p = strtok_r(NULL, ",", &save)) {
			mods[nmods].path = p;
			mods[nmods].cmdline = p;
			nmods++;
		}
		/* Boot loaders (GRUB, QEMU) pass "kernel-path arguments": the
		 * kernel's name is argv[0] (kvm-unit-tests relies on it). */
		const char *kname = m->cfg.kernel_path ? m->cfg.kernel_path : "kernel";
		size_t cl = strlen(kname) + 2 + (cmdline ? strlen(cmdline) : 0);
		char *full = malloc(cl);
		if (!full) {
			free(list);
			snprintf(err, errlen, "out of memory");
			return false;
		}
		snprintf(full, cl, "%s%s%s", kname, cmdline && *cmdline ? " " : "",
			 cmdline ? cmdline : "");
		bool ok = multiboot_load(m, img, size, full, mods, nmods, err, errlen);
		free(full);
		free(list);
		return ok;
	}
	snprintf(err, errlen, "neither a Linux bzImage nor a Multiboot kernel");
	return false;
}

/* Firmware boot: map the image at the top of the 4 GiB space and its last
 * 128 KiB at 0xE0000 (PAM off), give SeaBIOS the ACPI tables through fw_cfg;
 * vCPU 0 starts at the reset vector F000:FFF0 (its reset state). */
bool pc_boot_firmware(struct machine *m, const char *path, char *err, size_t errlen)
{
	struct pc_board *b = board_of(m);
	size_t size;
	uint8_t *img = boot_read_file(path, &size, err, errlen);
	if (!img)
		return false;
	if (size < 0x10000 || size > (16u << 20) || (size & 0xffff)) {
		snprintf(err, errlen,
			 "'%s' is %zu bytes: a BIOS image must be a multiple of 64 KiB between "
			 "64 KiB and 16 MiB",
			 path, size);
		free(img);
		return false;
	}
	b->bios = img;
	b->bios_size = size;
	mmu_map_rom(m->mmu, (1ull << 32) - size, img, size);
	size_t low = size < 0x20000 ? size : 0x20000;
	mmu_map_rom(m->mmu, 0x100000 - low, img + size - low, low);
	struct acpi_config ac = acpi_config_of(m, b, true);
	acpi_pm_map_apm(b->pm, ac.acpi_enable, ac.acpi_disable);
	if (!fw_cfg_add_acpi(b->fwcfg, &ac)) {
		snprintf(err, errlen, "internal error: ACPI tables for the firmware");
		return false;
	}
	return true;
}

/* System reset (0xCF9, the i8042, port 0x92, or a triple fault the user
 * wants rebooted): every vCPU to its RESET state, every device to its
 * power-on state, the firmware ROM back at 0xE0000 (PAM cleared), then the
 * BSP runs the firmware's reset vector again. RAM is kept, as on a warm
 * reset. Only firmware boots can restart; returns false otherwise. */
bool pc_reset(struct machine *m)
{
	struct pc_board *b = board_of(m);
	if (!b->bios)
		return false;
	m->reset_requested = false;
	m->exit_requested = false;
	for (int i = 0; i < m->ncpus; i++) {
		cpu_reset(m->cpu[i], false);
		m->cpu[i]->pending &=
			~(uint32_t)(PEND_EXIT | PEND_IRQ | PEND_NMI | PEND_INIT | PEND_SIPI);
	}
	machine_set_a20(m, true);
	lapic_reset_all(b->lapic);
	i8259_reset(&b->pic);
	if (!b->m->cfg.no_pit)
		i8254_reset(&b->pit);
	mc146818_reset(&b->rtc);
	uart16550_reset(&b->com[0]);
	i8042_reset(&b->kbc);
	pc_ferr_reset(&b->ferr);
	ioapic_reset(b->ioapic);
	if (b->hpet)
		hpet_reset(b->hpet);
	acpi_pm_reset(b->pm);
	pci_reset(b->pci);
	if (b->ide)
		ide_reset(b->ide);
	if (b->vga)
		vga_reset(b->vga);
	for (int i = 0; i < MAX_DRIVES; i++)
		if (b->vblk[i])
			virtio_blk_reset(b->vblk[i]);
	for (int i = 0; i < MAX_NICS; i++)
		if (b->vnet[i])
			virtio_net_reset(b->vnet[i]);
	if (b->pc_testdev)
		pc_testdev_reset(b->pc_testdev);
	if (b->pci_testdev)
		pci_testdev_reset(b->pci_testdev);
	if (b->edu)
		edu_reset(b->edu);
	if (m->cfg.q35)
		q35_reset(b);
	fw_cfg_reset(b->fwcfg);
	b->hpet_legacy = false;
	/* PAM back to "everything to the ROM / PCI side". */
	for (unsigned reg = 0x59; reg <= 0x5f; reg++)
		pam_write(b, reg, 0);
	return true;
}

size_t pc_serial_input(struct machine *m, const uint8_t *buf, size_t n)
{
	struct pc_board *b = board_of(m);
	return uart_receive(&b->com[0], buf, n);
}
