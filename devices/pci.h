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
 * IRQ; active-high here: the board drives the PIC/IOAPIC input).
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

/* The i440FX + PIIX3 (+ IDE header) + PIIX4 ACPI functions. pm may be NULL. */
void pci_add_i440fx_piix(struct pci_bus *b, const struct pci_board_hooks *hooks,
			 struct acpi_pm *pm);
/* Reset every function's writable state to power-on values. */
void pci_reset(struct pci_bus *b);

#endif
