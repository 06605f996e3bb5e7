/*
 * devices/pci.h — PCI bus 0 (PCI Local Bus 3.0), configuration mechanism #1
 * (0xCF8 CONFIG_ADDRESS, dword only; 0xCFC-0xCFF CONFIG_DATA, any size), and
 * the i440FX/PIIX3/PIIX4 functions of the "pc" board:
 *   00.0 i440FX host bridge 8086:1237 (PAM registers 59h-5Fh -> pam hook)
 *   01.0 PIIX3 PCI-to-ISA bridge 8086:7000 (PIRQ route registers 60h-63h)
 *   01.1 PIIX3 IDE 8086:7010 (header only; the IDE model fills it in)
 *   01.3 PIIX4 ACPI 8086:7113 (PMBA 40h + PMREGMISC 80h move the PM block)
 *
 * A device is a struct pci_dev with a 256-byte configuration space and a
 * per-byte write mask; BARs are declared with pci_set_bar() (their write
 * masks implement sizing) and reported through bar_moved whenever their
 * address or decode enable (command register I/O / memory bits) changes.
 *
 * INTx: a device asserts its pin with pci_set_irq(); the pin of slot s,
 * INTx pin p (1 = INTA .. 4 = INTD) reaches PIRQ[(s + p - 2) & 3] (slot 1
 * INTA = PIRQA: the i440FX board wiring SeaBIOS assumes; the board's ACPI
 * _PRT / $PIR must use the same swizzle), PIRQs are wired-OR, and the
 * PIIX3 route register 60h + n (bit 7 = disabled, bits 3:0 = ISA IRQ)
 * forwards PIRQn to the board's isa_irq hook (levels are wired-OR per ISA
 * IRQ; active-high here: the board drives the PIC/IOAPIC input). A chipset
 * with another INTx wiring (the q35's ICH9, devices/ich9_lpc.c) installs
 * pci_set_intx_hook() and routes the functions' outputs itself.
 *
 * PCI Express enhanced configuration access (ECAM, PCIe Base 4.0 §7.2.2):
 * pci_ecam_read/pci_ecam_write take an offset into the window (bits 27:20
 * bus, 19:15 device, 14:12 function, 11:0 register); only bus 0 exists, and
 * the registers 100h-FFFh of these conventional functions read all ones.
 * The chipset maps the window (devices/q35_mch.c: PCIEXBAR).
 *
 * DMA and interrupt messages of bus masters: device models call
 * pci_dma_read/pci_dma_write and pci_msi_send (or pci_msi_notify for the
 * function's MSI capability); nothing moves while the function's Bus Master
 * Enable is clear (PCI 3.0 §6.2.2). An IOMMU (devices/intel_iommu.c)
 * attaches with pci_set_iommu() and then sees every such request with the
 * function's requester ID (bus 0: devfn); without one, bus addresses are
 * guest-physical addresses and messages go to the LAPICs.
 */
#ifndef NESTBOX_DEVICES_PCI_H
#define NESTBOX_DEVICES_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct pci_bus;
struct acpi_pm;

#define PCI_DEVFN(slot, fn) ((uint8_t)((slot) << 3 | (fn)))

/* BAR kinds for pci_set_bar. */
enum {
	PCI_BAR_IO = 1,
	PCI_BAR_MEM32 = 2,
	PCI_BAR_MEM64 = 3,   /* uses this BAR and the next */
	PCI_BAR_PREFETCH = 8 /* OR with a memory kind */
};

/* Standard header offsets. */
#define PCI_VENDOR_ID        0x00
#define PCI_COMMAND          0x04
#define PCI_STATUS           0x06
#define PCI_CLASS_REV        0x08
#define PCI_HEADER_TYPE      0x0e
#define PCI_BAR0             0x10
#define PCI_INTERRUPT_LINE   0x3c
#define PCI_INTERRUPT_PIN    0x3d
#define PCI_CMD_IO           0x1
#define PCI_CMD_MEM          0x2
#define PCI_CMD_MASTER       0x4
#define PCI_CMD_INTX_DISABLE 0x400

struct pci_dev {
	struct pci_bus *bus;
	uint8_t devfn;
	const char *name;
	uint8_t cfg[256];
	uint8_t wmask[256];     /* bits software may write */
	uint8_t w1cmask[256];   /* bits cleared by writing 1 */
	uint8_t reset_cfg[256]; /* power-on image (pci_snapshot) */
	struct {
		uint64_t size; /* 0 = not implemented */
		int kind;
		uint64_t addr; /* last address reported to bar_moved */
		bool mapped;   /* last decode state reported */
	} bar[6];
	bool irq_level; /* the function's INTx output */
	/* Optional device hooks (opaque is the device model's). */
	void *opaque;
	/* After a config write has been applied to cfg[] (off/size of the
	 * access as the guest made it, val aligned to off). */
	void (*cfg_write)(struct pci_dev *d, unsigned off, uint32_t val, unsigned size);
	/* Replace a config read (NULL = cfg[] as stored). */
	uint32_t (*cfg_read)(struct pci_dev *d, unsigned off, unsigned size);
	/* A BAR's decoded address or enable changed (addr valid if mapped). */
	void (*bar_moved)(struct pci_dev *d, int bar, uint64_t addr, bool mapped);
	/* After pci_reset restored cfg[] to its power-on image. */
	void (*reset)(struct pci_dev *d);
	uint8_t msi_cap; /* offset of the MSI capability (pci_add_msi_cap), 0 = none */
};

/* An IOMMU in front of the bus masters (pci_set_iommu). rid is the
 * requester ID (bus << 8 | devfn). */
struct pci_iommu_ops {
	/* Translate the DMA address addr of a read (write = false) or write:
	 * on success return true with the physical address in *pa and in
	 * *len how many bytes from addr translate contiguously (at least 1);
	 * on a fault (recorded by the IOMMU) return false. */
	bool (*translate)(void *opaque, uint16_t rid, uint64_t addr, bool write, uint64_t *pa,
			  uint64_t *len);
	/* An interrupt message: a DWORD write of data to 0xFEEx_xxxx. */
	void (*msi)(void *opaque, uint16_t rid, uint64_t addr, uint32_t data);
};

/* Board hooks of the i440FX/PIIX3 functions. */
struct pci_board_hooks {
	void *opaque;
	/* ISA IRQ irq (0-15) level from the PIRQ routing. */
	void (*isa_irq)(void *opaque, int irq, int level);
	/* PAM register reg (0x59-0x5F) written with val: the board switches
	 * the matching 0xC0000-0xFFFFF ranges between ROM and RAM
	 * (per 2-bit field: bit 0 read enable = RAM, bit 1 write enable). */
	void (*pam)(void *opaque, unsigned reg, uint8_t val);
};

struct pci_bus *pci_init(struct machine *m);
void pci_free(struct pci_bus *b);
/* Add a function at devfn with its identification (class = base class << 16
 * | subclass << 8 | prog-if). Returns NULL if devfn is taken. */
struct pci_dev *pci_register(struct pci_bus *b, uint8_t devfn, uint16_t vendor, uint16_t device,
			     uint32_t cls, uint8_t rev, const char *name);
struct pci_dev *pci_find(struct pci_bus *b, uint8_t devfn);
/* Declare BAR n (size a power of two; I/O >= 4, memory >= 16). */
void pci_set_bar(struct pci_dev *d, int n, uint64_t size, int kind);
/* Record the current cfg[] as the power-on image pci_reset restores (call
 * after setting up a device's registers; pci_register and the helpers here
 * already do). */
void pci_snapshot(struct pci_dev *d);
/* INTx pin (1 = INTA .. 4 = INTD, 0 = none). */
void pci_set_irq_pin(struct pci_dev *d, int pin);
/* Drive the function's INTx output. */
void pci_set_irq(struct pci_dev *d, int level);
/* Current level of PIRQ n (0-3), before routing (for boards that also
 * wire PIRQs to IOAPIC pins). */
int pci_pirq_level(struct pci_bus *b, int n);
/* ISA IRQ the PIIX3 routes PIRQ n to, or -1 if disabled. */
int pci_pirq_route(struct pci_bus *b, int n);

/* Config-space accessors as the guest sees them (tests, firmware helpers). */
uint32_t pci_cfg_read(struct pci_bus *b, uint8_t devfn, unsigned off, unsigned size);
void pci_cfg_write(struct pci_bus *b, uint8_t devfn, unsigned off, uint32_t val, unsigned size);

/* ---- PCI Express enhanced configuration access (ECAM) ---- */

/* An access of size 1, 2 or 4 at offset off of the ECAM window. */
uint32_t pci_ecam_read(struct pci_bus *b, uint64_t off, unsigned size);
void pci_ecam_write(struct pci_bus *b, uint64_t off, uint32_t val, unsigned size);

/* ---- INTx for other chipsets ---- */

/* Replace the PIIX3 PIRQ routing: fn(opaque) is called whenever a
 * function's INTx output (pci_intx_asserted) may have changed. */
void pci_set_intx_hook(struct pci_bus *b, void (*fn)(void *opaque), void *opaque);
/* Does d drive its INTx pin now (output asserted and not INTx-disabled)? */
bool pci_intx_asserted(const struct pci_dev *d);

/* ---- bus-master DMA, MSI, IOMMU ---- */

void pci_set_iommu(struct pci_bus *b, const struct pci_iommu_ops *ops, void *opaque);
static inline uint16_t pci_requester_id(const struct pci_dev *d)
{
	return d->devfn; /* bus 0 */
}
/* DMA of function d at bus address addr. Returns false if Bus Master
 * Enable is clear or (part of) the range faulted in the IOMMU: the parts
 * that failed are not read (the buffer gets all ones there) or written. */
bool pci_dma_read(struct pci_dev *d, uint64_t addr, void *buf, uint64_t len);
bool pci_dma_write(struct pci_dev *d, uint64_t addr, const void *buf, uint64_t len);
/* Send an interrupt message (a DWORD memory write: to 0xFEEx_xxxx it is an
 * interrupt request, elsewhere an ordinary DMA write). */
void pci_msi_send(struct pci_dev *d, uint64_t addr, uint32_t data);
/* Add an MSI capability (PCI 3.0 §6.8.1) for one message at offset off
 * (64-bit address capable when is64) to the capability list. */
void pci_add_msi_cap(struct pci_dev *d, uint8_t off, bool is64);
bool pci_msi_enabled(const struct pci_dev *d);
/* Send the message the MSI capability holds (nothing if disabled). */
void pci_msi_notify(struct pci_dev *d);

/* ---- what firmware does: resource assignment (direct kernel boot) ---- */

/* Give every BAR of bus 0 an address, largest first: I/O BARs from
 * io_base up to io_limit, memory BARs from mem_base up to mem_limit (both
 * limits exclusive), then enable I/O and memory decode; sets each
 * function's Interrupt Line to irq_of(opaque, devfn, pin) (pin 1-4; 0xFF
 * when it returns a negative number). BARs that do not fit stay 0. */
void pci_assign_resources(struct pci_bus *b, uint32_t io_base, uint32_t io_limit, uint64_t mem_base,
			  uint64_t mem_limit, int (*irq_of)(void *opaque, uint8_t devfn, int pin),
			  void *opaque);

/* The i440FX + PIIX3 (+ IDE header) + PIIX4 ACPI functions. pm may be NULL. */
void pci_add_i440fx_piix(struct pci_bus *b, const struct pci_board_hooks *hooks,
			 struct acpi_pm *pm);
/* Reset every function's writable state to power-on values. */
void pci_reset(struct pci_bus *b);

#endif
