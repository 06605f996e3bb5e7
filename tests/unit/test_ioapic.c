/*
 * tests/unit/test_ioapic.c — the I/O APIC (devices/ioapic.c) driving the
 * LAPICs of a two-vCPU bare machine: ID/version registers, masks, edge and
 * level pins with Remote IRR and EOI (LAPIC broadcast and the EOI register),
 * physical and logical destinations, NMI delivery.
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/cpu.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

#define IOBASE 0xfec00000ull
#define LBASE  0xfee00000ull

static struct machine *m;
static struct lapic_sys *ls;
static struct ioapic *io;

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 2 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	for (int i = 0; i < m->ncpus; i++)
		m->cpu[i]->msr.apic_base = LBASE | (1u << 11) | (i == 0 ? 1u << 8 : 0);
	ls = lapic_init(m);
	m->cpu[1]->halted = 0; /* as if started by SIPI */
	io = ioapic_init(m, IOBASE, 2);
	ck_assert_ptr_nonnull(ls);
	ck_assert_ptr_nonnull(io);
	lapic_set_eoi_hook(ls, ioapic_eoi, io);
	for (int i = 0; i < m->ncpus; i++) {
		m->current_cpu = i;
		phys_write(m->mmu, LBASE + 0xf0, 4, 0x1ff);
	}
	m->current_cpu = 0;
}

static void teardown(void)
{
	lapic_free(ls);
	machine_free(m);
	ioapic_free(io);
}

static uint32_t ioread(uint32_t reg)
{
	phys_write(m->mmu, IOBASE, 4, reg);
	return (uint32_t)phys_read(m->mmu, IOBASE + 0x10, 4);
}
static void iowrite(uint32_t reg, uint32_t v)
{
	phys_write(m->mmu, IOBASE, 4, reg);
	phys_write(m->mmu, IOBASE + 0x10, 4, v);
}
static void set_rte(int pin, uint64_t v)
{
	iowrite(0x11 + 2 * pin, (uint32_t)(v >> 32));
	iowrite(0x10 + 2 * pin, (uint32_t)v);
}

static bool irr(int c, int v)
{
	return lapic_peek(ls, c, 0x200 + (v >> 5) * 0x10) >> (v & 31) & 1;
}

static void lapic_eoi(int c)
{
	m->current_cpu = c;
	phys_write(m->mmu, LBASE + 0xb0, 4, 0);
	m->current_cpu = 0;
}

START_TEST(id_version)
{
	ck_assert_uint_eq(ioread(0), 2u << 24);
	ck_assert_uint_eq(ioread(1), 0x170020);
	iowrite(0, 5u << 24);
	ck_assert_uint_eq(ioread(0), 5u << 24);
	iowrite(1, 0);
	ck_assert_uint_eq(ioread(1), 0x170020);
	/* Every entry masked after reset. */
	for (int p = 0; p < 24; p++)
		ck_assert_uint_eq(ioread(0x10 + 2 * p), 0x10000);
	ck_assert_uint_eq(phys_read(m->mmu, IOBASE, 4), 0x3e); /* IOREGSEL reads back */
}
END_TEST

START_TEST(edge_pin)
{
	ioapic_set_irq(io, 2, 1);
	ioapic_set_irq(io, 2, 0);
	ck_assert(!irr(0, 0x30)); /* masked: lost */
	set_rte(2, 0x30);         /* fixed, physical dest 0, edge */
	ck_assert(!irr(0, 0x30)); /* no edge yet */
	ioapic_set_irq(io, 2, 1);
	ck_assert(irr(0, 0x30));
	ck_assert(!irr(1, 0x30));
	ck_assert(m->cpu[0]->pending & PEND_IRQ);
	ck_assert_int_eq(m->cpu[0]->irq_ack(m->cpu[0]), 0x30);
	lapic_eoi(0);
	ioapic_set_irq(io, 2, 1); /* no new edge */
	ck_assert(!irr(0, 0x30));
	ioapic_set_irq(io, 2, 0);
	ioapic_set_irq(io, 2, 1);
	ck_assert(irr(0, 0x30));
	/* Physical destination 1. */
	set_rte(3, 1ull << 56 | 0x31);
	ioapic_set_irq(io, 3, 1);
	ck_assert(irr(1, 0x31) && !irr(0, 0x31));
}
END_TEST

START_TEST(level_pin)
{
	set_rte(9, 1ull << 56 | 1u << 15 | 0x49); /* level, dest 1 */
	struct cpu *c = m->cpu[1];
	ioapic_set_irq(io, 9, 1);
	ck_assert(irr(1, 0x49));
	ck_assert(ioapic_peek_entry(io, 9) & (1u << 14)); /* remote IRR */
	ck_assert_uint_eq(ioread(0x10 + 18) & (1u << 14), 1u << 14);
	ck_assert_int_eq(c->irq_ack(c), 0x49);
	/* Still asserted: EOI re-sends. */
	lapic_eoi(1);
	ck_assert(irr(1, 0x49));
	ck_assert_int_eq(c->irq_ack(c), 0x49);
	ioapic_set_irq(io, 9, 0);
	lapic_eoi(1);
	ck_assert(!irr(1, 0x49));
	ck_assert(!(ioapic_peek_entry(io, 9) & (1u << 14)));
	/* Writes cannot set remote IRR. */
	set_rte(9, 1ull << 56 | 1u << 15 | 1u << 14 | 0x49);
	ck_assert(!(ioapic_peek_entry(io, 9) & (1u << 14)));

	/* Masked while asserted: unmask sends. */
	set_rte(10, 1u << 16 | 1u << 15 | 0x4a);
	ioapic_set_irq(io, 10, 1);
	ck_assert(!irr(0, 0x4a));
	set_rte(10, 1u << 15 | 0x4a);
	ck_assert(irr(0, 0x4a));
	/* Directed EOI through the EOI register (with broadcast suppressed). */
	m->current_cpu = 0;
	phys_write(m->mmu, LBASE + 0xf0, 4, 0x11ff);
	ck_assert_int_eq(m->cpu[0]->irq_ack(m->cpu[0]), 0x4a);
	ioapic_set_irq(io, 10, 0);
	lapic_eoi(0);
	ck_assert(ioapic_peek_entry(io, 10) & (1u << 14));
	phys_write(m->mmu, IOBASE + 0x40, 4, 0x4a);
	ck_assert(!(ioapic_peek_entry(io, 10) & (1u << 14)));
}
END_TEST

START_TEST(logical_and_nmi)
{
	/* Flat logical: vCPU0 LDR bit 0, vCPU1 bit 1. */
	for (int i = 0; i < 2; i++) {
		m->current_cpu = i;
		phys_write(m->mmu, LBASE + 0xd0, 4, (1u << i) << 24);
	}
	m->current_cpu = 0;
	set_rte(4, 2ull << 56 | 1u << 11 | 0x54);
	ioapic_set_irq(io, 4, 1);
	ck_assert(irr(1, 0x54) && !irr(0, 0x54));
	/* Lowest priority to both: exactly one receives it. */
	set_rte(5, 3ull << 56 | 1u << 11 | 1u << 8 | 0x55);
	ioapic_set_irq(io, 5, 1);
	ck_assert(irr(0, 0x55) != irr(1, 0x55));
	/* NMI delivery. */
	set_rte(6, 1ull << 56 | 4u << 8);
	ioapic_set_irq(io, 6, 1);
	ck_assert(m->cpu[1]->pending & PEND_NMI);
	ck_assert(!(m->cpu[0]->pending & PEND_NMI));
	/* Broadcast 0xff. */
	set_rte(7, 0xffull << 56 | 0x57);
	ioapic_set_irq(io, 7, 1);
	ck_assert(irr(0, 0x57) && irr(1, 0x57));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ioapic");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, id_version);
	tcase_add_test(t, edge_pin);
	tcase_add_test(t, level_pin);
	tcase_add_test(t, logical_and_nmi);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
