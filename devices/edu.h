/*
 * devices/edu.h — QEMU's educational PCI device "edu" (1234:11e8), as
 * QEMU's docs/specs/edu.rst documents it: a 1 MiB MMIO BAR with an
 * identification register, a liveness check, factorial computation, an
 * interrupt raise/acknowledge pair (INTx pin A or one MSI), and a DMA engine
 * moving data between bus addresses and a 4 KiB buffer at device offset
 * 0x40000. kvm-unit-tests' intel-iommu test drives it. Its DMA and MSIs go
 * through pci_dma_* / pci_msi_notify, so an IOMMU remaps them.
 */
#ifndef NESTBOX_DEVICES_EDU_H
#define NESTBOX_DEVICES_EDU_H

#include <stdint.h>

struct machine;
struct pci_bus;
struct edu;

#define EDU_VENDOR   0x1234
#define EDU_DEVICE   0x11e8
#define EDU_BAR_SIZE (1u << 20)
#define EDU_DMA_BASE 0x40000u
#define EDU_DMA_SIZE 4096u
/* Default DMA mask: the device drives 28 address bits (256 MiB). */
#define EDU_DEFAULT_DMA_MASK ((1ull << 28) - 1)

/* MMIO registers (offsets in BAR 0). */
enum {
	EDU_ID = 0x00,
	EDU_LIVENESS = 0x04,
	EDU_FACTORIAL = 0x08,
	EDU_STATUS = 0x20,
	EDU_INTR_STATUS = 0x24,
	EDU_INTR_RAISE = 0x60,
	EDU_INTR_ACK = 0x64,
	EDU_DMA_SRC = 0x80,
	EDU_DMA_DST = 0x88,
	EDU_DMA_COUNT = 0x90,
	EDU_DMA_CMD = 0x98
};
#define EDU_STATUS_COMPUTING 0x01
#define EDU_STATUS_IRQFACT   0x80
#define EDU_DMA_RUN          0x01
#define EDU_DMA_FROM_DEV     0x02
#define EDU_DMA_IRQ          0x04

/* Register the function at devfn of bus (dma_mask 0 = the default).
 * NULL if devfn is taken or out of memory. */
struct edu *edu_init(struct machine *m, struct pci_bus *bus, uint8_t devfn, uint64_t dma_mask);
void edu_reset(struct edu *e);
void edu_free(struct edu *e);

#endif
