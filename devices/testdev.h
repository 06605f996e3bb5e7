/*
 * devices/testdev.h — the two test devices kvm-unit-tests' x86 tests use
 * (QEMU's "-device pc-testdev" and "-device pci-testdev"; its x86/run adds
 * both, plus isa-debug-exit at 0xf4 which is devices/debug_ports.h).
 *
 * pc-testdev (ISA), as kvm-unit-tests uses it:
 *   I/O 0xe0-0xe3  a 32-bit scratch register with byte lanes: an access of
 *                  size n at 0xe0 + k reads/writes lanes k..k+n-1 (x86/
 *                  emulator.c: rep outsb/insb, outw then insb; amd_sev.c).
 *   I/O 0xe4       "flush page", 32-bit write of a guest-physical address
 *                  (x86/eventinj.c): under KVM it makes the host drop its
 *                  mapping of that page; here it calls the optional
 *                  flush_page hook (soft TLB / decoded-code flush). Reads 0.
 *   I/O 0xe8-0xeb  the same register as 0xe0, accessed byte by byte.
 *   I/O 0x2000-0x2017  interrupt lines: a byte write of v sets line n
 *                  (port - 0x2000) to (v != 0) (lib/x86/apic.c
 *                  set_irq_line, x86/ioapic.c uses lines 0x0e, 0x0d...).
 *                  QEMU's ISA IRQ n reaches 8259 input n (n < 16) and IOAPIC
 *                  pin n: the board wires lines[n] accordingly. Other sizes
 *                  are ignored, reads return 0.
 *   MMIO 0xff000000-0xff00ffff  64 KiB of RAM-like "iomem" (x86/ioram.h
 *                  IORAM_BASE_PHYS: emulator.c, cmpxchg8b.c, lam.c use it
 *                  to test instructions on MMIO).
 *
 * pci-testdev (PCI 1b36:0005, class ff0000, no INTx), as lib/pci-testdev.c
 * and x86/vmexit.c drive it: BAR0 4 KiB memory, BAR1 256 bytes I/O. Both
 * decode the same header of the selected test (all little-endian):
 *   +0  u8  test     write: select test n of this BAR (n >= 3: none)
 *   +1  u8  width    access width of the test (1); 0 when none selected
 *   +4  u32 offset   where the test writes go (mem 2048 + t, io 128 + t,
 *                    t = global test number 0-5)
 *   +8  u32 data     value to write (0xfa; 0xce for "wildcard-eventfd")
 *   +12 u32 count    writes seen since the test was selected
 *   +16 name[]       "mmio-no-eventfd", "portio-datamatch-eventfd", ...
 * A byte write at `offset` counts when its value equals `data` (any value
 * for the wildcard test). Tests per BAR: no-eventfd, wildcard-eventfd,
 * datamatch-eventfd. Every access is handled byte by byte.
 */
#ifndef NESTBOX_DEVICES_TESTDEV_H
#define NESTBOX_DEVICES_TESTDEV_H

#include <stdint.h>

#include "devices/irq.h"

struct machine;
struct pci_bus;
struct pc_testdev;
struct pci_testdev;

#define PC_TESTDEV_NLINES     24
#define PC_TESTDEV_IOMEM_BASE 0xff000000ull
#define PC_TESTDEV_IOMEM_SIZE 0x10000u

/* lines[n]: ISA IRQ n (PIC input n if n < 16, and IOAPIC pin n).
 * flush_page (may be NULL) gets the page-aligned gpa written to 0xe4. */
struct pc_testdev *pc_testdev_init(struct machine *m,
				   const struct irq_line lines[PC_TESTDEV_NLINES],
				   void (*flush_page)(void *opaque, uint64_t gpa), void *opaque);
void pc_testdev_reset(struct pc_testdev *t);
void pc_testdev_free(struct pc_testdev *t);

#define PCI_TESTDEV_VENDOR   0x1b36
#define PCI_TESTDEV_DEVICE   0x0005
#define PCI_TESTDEV_MEM_SIZE 4096
#define PCI_TESTDEV_IO_SIZE  256

/* Register the function at devfn on bus; NULL if taken / out of memory. */
struct pci_testdev *pci_testdev_init(struct machine *m, struct pci_bus *bus, uint8_t devfn);
void pci_testdev_reset(struct pci_testdev *t);
void pci_testdev_free(struct pci_testdev *t);

#endif
