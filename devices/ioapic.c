/*
 * devices/ioapic.c — I/O APIC (82093AA datasheet §3; version 20h adds the
 * EOI register at offset 40h). Owns the redirection table and turns pin
 * levels into messages for lapic_deliver().
 *
 * Redirection entry (datasheet §3.2.4):
 *   bits 7:0  vector          10:8 delivery mode   11 destination mode
 *   bit  12   delivery status 13   polarity        14 remote IRR (RO)
 *   bit  15   trigger (1 = level)   16 mask        63:56 destination
 *
 * Edge-triggered pins send one message per 0->1 transition while unmasked
 * (a masked edge is lost). Level-triggered pins send while asserted and
 * Remote IRR is clear; Remote IRR is set on delivery and cleared by the EOI
 * of that vector, after which a still-asserted pin sends again.
 */
#include "devices/ioapic.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "devices/lapic.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

#define IOAPIC_VERSION 0x20

#define RTE_DEST_MODE  (1ull << 11)
#define RTE_POLARITY   (1ull << 13)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL      (1ull << 15)
#define RTE_MASKED     (1ull << 16)
/* Bits software may write: everything but delivery status and remote IRR. */
#define RTE_WMASK (0xff00000000000000ull | 0x1afffull)

struct ioapic {
	struct machine *m;
	uint64_t base;
	uint32_t regsel;
	uint8_t id;
	uint32_t levels; /* current input level of each pin */
	uint64_t rte[IOAPIC_NPINS];
	bool extint_logged;
	void (*msi)(void *opaque, uint64_t addr, uint32_t data); /* ioapic_set_msi_hook */
	void *msi_opaque;
	uint64_t wmask; /* RTE_WMASK, plus bits 55:48 with a message hook */
};

static void deliver(struct ioapic *io, int pin)
{
	uint64_t e = io->rte[pin];
	int dm = (int)(e >> 8) & 7;
	if (dm == APIC_DM_EXTINT || dm == APIC_DM_SIPI || dm == 3) {
		if (!io->extint_logged)
			fprintf(stderr,
				"nestbox: warning: ioapic: delivery mode %d on pin %d "
				"unsupported\n",
				dm, pin);
		io->extint_logged = true;
		return;
	}
	bool level = e & RTE_LEVEL;
	if (level)
		io->rte[pin] |= RTE_REMOTE_IRR;
	if (io->msi) {
		uint64_t addr = 0xfee00000ull | ((e >> 48) & 0xffff) << 4 |
				(uint64_t) !!(e & RTE_DEST_MODE) << 2 |
				(uint64_t)(dm == APIC_DM_LOWEST) << 3;
		uint32_t data = (uint32_t)(e & 0x7ff) | (level ? 0xc000u : 0);
		io->msi(io->msi_opaque, addr, data);
		return;
	}
	lapic_deliver(io->m, (uint32_t)(e >> 56), !!(e & RTE_DEST_MODE), dm, (int)(e & 0xff),
		      level);
}

/* Send again a level-triggered pin that is still asserted. */
static void service_level(struct ioapic *io, int pin)
{
	uint64_t e = io->rte[pin];
	if ((e & RTE_LEVEL) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) && (io->levels >> pin & 1))
		deliver(io, pin);
}

void ioapic_set_irq(void *opaque, int pin, int level)
{
	struct ioapic *io = opaque;
	if (pin < 0 || pin >= IOAPIC_NPINS)
		return;
	uint32_t bit = 1u << pin;
	bool old = io->levels & bit;
	if (level)
		io->levels |= bit;
	else
		io->levels &= ~bit;
	uint64_t e = io->rte[pin];
	if (e & RTE_LEVEL)
		service_level(io, pin);
	else if (level && !old && !(e & RTE_MASKED))
		deliver(io, pin);
}

void ioapic_eoi(void *opaque, int vector)
{
	struct ioapic *io = opaque;
	for (int pin = 0; pin < IOAPIC_NPINS; pin++) {
		uint64_t e = io->rte[pin];
		if ((e & RTE_REMOTE_IRR) && (int)(e & 0xff) == vector) {
			io->rte[pin] &= ~RTE_REMOTE_IRR;
			service_level(io, pin);
		}
	}
}

static uint32_t reg_read(struct ioapic *io)
{
	uint32_t r = io->regsel & 0xff;
	switch (r) {
	case 0x00:
		return (uint32_t)io->id << 24;
	case 0x01:
		return IOAPIC_VERSION | (IOAPIC_NPINS - 1) << 16;
	case 0x02:
		return (uint32_t)io->id << 24; /* arbitration ID */
	default:
		if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_NPINS) {
			uint64_t e = io->rte[(r - 0x10) >> 1];
			return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
		}
		return 0;
	}
}

static void reg_write(struct ioapic *io, uint32_t v)
{
	uint32_t r = io->regsel & 0xff;
	if (r == 0x00) {
		io->id = (v >> 24) & 0xf;
		return;
	}
	if (r < 0x10 || r >= 0x10 + 2 * IOAPIC_NPINS)
		return; /* version and arbitration are read-only */
	int pin = (int)(r - 0x10) >> 1;
	uint64_t e = io->rte[pin];
	uint64_t nv = (r & 1) ? (e & 0xffffffffull) | (uint64_t)v << 32 : (e & ~0xffffffffull) | v;
	io->rte[pin] = (nv & io->wmask) | (e & RTE_REMOTE_IRR);
	/* Switching to edge drops a stale Remote IRR. */
	if (!(io->rte[pin] & RTE_LEVEL))
		io->rte[pin] &= ~RTE_REMOTE_IRR;
	/* Unmasking (or switching to level) an asserted level pin sends it. */
	service_level(io, pin);
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct ioapic *io = opaque;
	uint64_t v;
	switch (off & ~3ull) {
	case 0x00:
		v = io->regsel;
		break;
	case 0x10:
		v = reg_read(io);
		break;
	default:
		return 0;
	}
	v >>= (off & 3) * 8;
	return size >= 4 ? v : v & ((1ull << (size * 8)) - 1);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct ioapic *io = opaque;
	switch (off) {
	case 0x00:
		io->regsel = (uint32_t)val & 0xff;
		break;
	case 0x10:
		reg_write(io, (uint32_t)val);
		break;
	case 0x40:
		ioapic_eoi(io, (int)(val & 0xff));
		break;
	default:
		break;
	}
}

static const struct mmio_ops ioapic_ops = { mmio_read, mmio_write };

void ioapic_reset(struct ioapic *io)
{
	io->regsel = 0;
	for (int i = 0; i < IOAPIC_NPINS; i++)
		io->rte[i] = RTE_MASKED;
}

struct ioapic *ioapic_init(struct machine *m, uint64_t base, uint8_t id)
{
	struct ioapic *io = calloc(1, sizeof(*io));
	if (!io)
		return NULL;
	io->m = m;
	io->base = base;
	io->id = id & 0xf;
	io->wmask = RTE_WMASK;
	ioapic_reset(io);
	mmu_map_mmio(m->mmu, base, 0x1000, &ioapic_ops, io, "ioapic");
	return io;
}

void ioapic_free(struct ioapic *io)
{
	free(io);
}

void ioapic_set_msi_hook(struct ioapic *io, void (*fn)(void *opaque, uint64_t addr, uint32_t data),
			 void *opaque)
{
	io->msi = fn;
	io->msi_opaque = opaque;
	/* Such an IOxAPIC keeps bits 55:48 (extended destination ID; in the
	 * remappable format bit 48 and interrupt index 6:0). */
	io->wmask = fn ? RTE_WMASK | 0x00ff000000000000ull : RTE_WMASK;
}

uint64_t ioapic_peek_entry(const struct ioapic *io, int pin)
{
	return pin >= 0 && pin < IOAPIC_NPINS ? io->rte[pin] : 0;
}
