/*
 * devices/edu.c — QEMU's "edu" educational PCI device (see edu.h; register
 * semantics from QEMU's docs/specs/edu.rst).
 *
 * PCI: class 00FFh (unclassified), revision 10h, BAR 0 = 1 MiB 32-bit
 * MMIO, INTx pin A, an MSI capability (one 64-bit message) at 40h.
 * Registers below 80h take 32-bit accesses only; the DMA registers 80h-9Fh
 * take 32- or 64-bit ones (a 32-bit access at +4 reaches the high half).
 * Other accesses read all ones and write nothing.
 *
 * Interrupts: writing the raise register ORs the value into the interrupt
 * status and signals it, as INTx (held while the status is nonzero) or, when
 * MSI is enabled, as one message per raise; the acknowledge register clears
 * bits and drops INTx when the status becomes 0.
 *
 * The factorial and the DMA run "in the background": they finish on a
 * timer shortly after the command (EDU_WORK_NS of virtual time), while the
 * busy bits (status 01h, DMA command 01h) read set. A DMA's bus address is
 * cut to the device's dma_mask (it drives only those address lines); a
 * transfer that does not fit the 4 KiB buffer is refused with a message.
 */
#include "devices/edu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/clock.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

#define EDU_WORK_NS 1000 /* virtual time a factorial or DMA takes */
#define EDU_MSI_CAP 0x40

struct edu {
	struct machine *m;
	struct pci_dev *pci;
	uint64_t dma_mask;
	uint32_t liveness, fact, status, irq_status;
	uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
	struct vtimer fact_timer, dma_timer;
	bool mapped;
	uint64_t base;
	bool logged_clamp, logged_range;
	uint8_t buf[EDU_DMA_SIZE];
};

static void raise_irq(struct edu *e, uint32_t val)
{
	e->irq_status |= val;
	if (!e->irq_status)
		return;
	if (pci_msi_enabled(e->pci))
		pci_msi_notify(e->pci);
	else
		pci_set_irq(e->pci, 1);
}

static void lower_irq(struct edu *e, uint32_t val)
{
	e->irq_status &= ~val;
	if (!e->irq_status && !pci_msi_enabled(e->pci))
		pci_set_irq(e->pci, 0);
}

static void fact_done(void *opaque)
{
	struct edu *e = opaque;
	uint32_t r = 1;
	for (uint32_t i = 2; i <= e->fact && r; i++)
		r *= i; /* modulo 2^32, as a 32-bit register holds it */
	e->fact = r;
	e->status &= ~EDU_STATUS_COMPUTING;
	if (e->status & EDU_STATUS_IRQFACT)
		raise_irq(e, 0x1);
}

static uint64_t clamp(struct edu *e, uint64_t addr)
{
	uint64_t a = addr & e->dma_mask;
	if (a != addr && !e->logged_clamp) {
		e->logged_clamp = true;
		fprintf(stderr, "nestbox: edu: DMA address %#llx cut to the DMA mask: %#llx\n",
			(unsigned long long)addr, (unsigned long long)a);
	}
	return a;
}

static bool in_buffer(uint64_t off, uint64_t cnt)
{
	return off >= EDU_DMA_BASE && cnt <= EDU_DMA_SIZE &&
	       off - EDU_DMA_BASE <= EDU_DMA_SIZE - cnt;
}

static void dma_done(void *opaque)
{
	struct edu *e = opaque;
	uint64_t cnt = e->dma_cnt;
	if (e->dma_cmd & EDU_DMA_FROM_DEV) {
		if (in_buffer(e->dma_src, cnt))
			pci_dma_write(e->pci, clamp(e, e->dma_dst),
				      e->buf + (e->dma_src - EDU_DMA_BASE), cnt);
		else
			goto bad;
	} else {
		if (in_buffer(e->dma_dst, cnt))
			pci_dma_read(e->pci, clamp(e, e->dma_src),
				     e->buf + (e->dma_dst - EDU_DMA_BASE), cnt);
		else
			goto bad;
	}
	e->dma_cmd &= ~(uint64_t)EDU_DMA_RUN;
	if (e->dma_cmd & EDU_DMA_IRQ)
		raise_irq(e, 0x100);
	return;
bad:
	if (!e->logged_range) {
		e->logged_range = true;
		fprintf(stderr,
			"nestbox: edu: DMA of %#llx bytes outside the buffer at 0x40000-0x40fff "
			"refused\n",
			(unsigned long long)cnt);
	}
	e->dma_cmd &= ~(uint64_t)EDU_DMA_RUN;
}

static uint64_t *dma_reg(struct edu *e, uint64_t off)
{
	switch (off & ~7ull) {
	case EDU_DMA_SRC:
		return &e->dma_src;
	case EDU_DMA_DST:
		return &e->dma_dst;
	case EDU_DMA_COUNT:
		return &e->dma_cnt;
	case EDU_DMA_CMD:
		return &e->dma_cmd;
	default:
		return NULL;
	}
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct edu *e = opaque;
	if (off < 0x80) {
		if (size != 4 || (off & 3))
			return ~0ull;
		switch (off) {
		case EDU_ID:
			return 0x010000edu; /* version 1.0 */
		case EDU_LIVENESS:
			return ~e->liveness;
		case EDU_FACTORIAL:
			return e->fact;
		case EDU_STATUS:
			return e->status;
		case EDU_INTR_STATUS:
			return e->irq_status;
		default:
			return ~0ull;
		}
	}
	uint64_t *r = dma_reg(e, off);
	if (!r || (size != 4 && size != 8) || (off & (size - 1)))
		return ~0ull;
	if (size == 8)
		return *r;
	return (uint32_t)(*r >> (8 * (off & 4)));
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct edu *e = opaque;
	if (off < 0x80) {
		if (size != 4 || (off & 3))
			return;
		uint32_t v = (uint32_t)val;
		switch (off) {
		case EDU_LIVENESS:
			e->liveness = v;
			break;
		case EDU_FACTORIAL:
			if (e->status & EDU_STATUS_COMPUTING)
				break;
			e->fact = v;
			e->status |= EDU_STATUS_COMPUTING;
			vtimer_arm(e->m, &e->fact_timer, clock_now(e->m) + EDU_WORK_NS);
			break;
		case EDU_STATUS:
			e->status = (e->status & EDU_STATUS_COMPUTING) | (v & EDU_STATUS_IRQFACT);
			break;
		case EDU_INTR_RAISE:
			raise_irq(e, v);
			break;
		case EDU_INTR_ACK:
			lower_irq(e, v);
			break;
		default:
			break;
		}
		return;
	}
	uint64_t *r = dma_reg(e, off);
	if (!r || (size != 4 && size != 8) || (off & (size - 1)))
		return;
	/* The registers hold still while a transfer runs. */
	if (e->dma_cmd & EDU_DMA_RUN)
		return;
	uint64_t nv = val;
	if (size == 4) {
		unsigned sh = 8 * (unsigned)(off & 4);
		nv = (*r & ~(0xffffffffull << sh)) | (uint64_t)(uint32_t)val << sh;
	}
	if (r == &e->dma_cmd) {
		if (!(nv & EDU_DMA_RUN))
			return; /* only a start command is taken */
		e->dma_cmd = nv;
		vtimer_arm(e->m, &e->dma_timer, clock_now(e->m) + EDU_WORK_NS + e->dma_cnt);
		return;
	}
	*r = nv;
}

static const struct mmio_ops edu_ops = { mmio_read, mmio_write };

static void bar_moved(struct pci_dev *d, int bar, uint64_t addr, bool mapped)
{
	struct edu *e = d->opaque;
	if (bar != 0)
		return;
	if (e->mapped)
		mmu_unmap(e->m->mmu, e->base, EDU_BAR_SIZE);
	e->mapped = mapped;
	e->base = addr;
	if (mapped)
		mmu_map_mmio(e->m->mmu, addr, EDU_BAR_SIZE, &edu_ops, e, "edu");
}

void edu_reset(struct edu *e)
{
	vtimer_cancel(e->m, &e->fact_timer);
	vtimer_cancel(e->m, &e->dma_timer);
	e->liveness = e->fact = e->status = e->irq_status = 0;
	e->dma_src = e->dma_dst = e->dma_cnt = e->dma_cmd = 0;
	memset(e->buf, 0, sizeof(e->buf));
	pci_set_irq(e->pci, 0);
}

struct edu *edu_init(struct machine *m, struct pci_bus *bus, uint8_t devfn, uint64_t dma_mask)
{
	struct edu *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->m = m;
	e->dma_mask = dma_mask ? dma_mask : EDU_DEFAULT_DMA_MASK;
	e->pci = pci_register(bus, devfn, EDU_VENDOR, EDU_DEVICE, 0x00ff00, 0x10, "edu");
	if (!e->pci) {
		free(e);
		return NULL;
	}
	e->pci->opaque = e;
	e->pci->bar_moved = bar_moved;
	pci_set_bar(e->pci, 0, EDU_BAR_SIZE, PCI_BAR_MEM32);
	pci_set_irq_pin(e->pci, 1);
	pci_add_msi_cap(e->pci, EDU_MSI_CAP, true);
	vtimer_init(&e->fact_timer, fact_done, e);
	vtimer_init(&e->dma_timer, dma_done, e);
	return e;
}

void edu_free(struct edu *e)
{
	if (!e)
		return;
	vtimer_cancel(e->m, &e->fact_timer);
	vtimer_cancel(e->m, &e->dma_timer);
	free(e);
}
