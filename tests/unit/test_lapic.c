/*
 * tests/unit/test_lapic.c — the local APIC (devices/lapic.c) on a bare
 * machine with two vCPUs: reset state, interrupt acceptance and priorities,
 * EOI broadcast, the timer in its three modes, IPIs (fixed, NMI, INIT,
 * SIPI, shorthands, logical destinations), ExtINT through LINT0 and the
 * x2APIC MSR interface with its #GP rules.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/tsc.h"
#include "devices/clock.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

#define BASE 0xfee00000ull

static struct machine *m;
static struct lapic_sys *ls;
static int eoi_vec, eoi_count, pic_acks;

static void eoi_hook(void *opaque, int vector)
{
	eoi_vec = vector;
	eoi_count++;
}

static int pic_ack(void *opaque)
{
	pic_acks++;
	return 0x20;
}

static void setup(void)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 2 };
	m = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(m);
	/* The bare board disables the APIC; this test wants it back. */
	for (int i = 0; i < m->ncpus; i++)
		m->cpu[i]->msr.apic_base = BASE | (1u << 11) | (i == 0 ? 1u << 8 : 0);
	ls = lapic_init(m);
	ck_assert_ptr_nonnull(ls);
	/* APs start waiting for SIPI; most tests want vCPU 1 running. */
	ck_assert_int_eq(m->cpu[1]->halted, LAPIC_WAIT_SIPI);
	ck_assert_int_eq(m->cpu[0]->halted, 0);
	m->cpu[1]->halted = 0;
	lapic_set_eoi_hook(ls, eoi_hook, NULL);
	lapic_set_extint(ls, pic_ack, NULL);
	eoi_vec = -1;
	eoi_count = pic_acks = 0;
	m->current_cpu = 0;
}

static void teardown(void)
{
	lapic_free(ls);
	machine_free(m);
}

/* MMIO of vCPU c. */
static uint32_t rd(int c, unsigned off)
{
	m->current_cpu = c;
	return (uint32_t)phys_read(m->mmu, BASE + off, 4);
}
static void wr(int c, unsigned off, uint32_t v)
{
	m->current_cpu = c;
	phys_write(m->mmu, BASE + off, 4, v);
}

static void advance(uint64_t ns)
{
	for (int i = 0; i < m->ncpus; i++)
		m->cpu[i]->clock_offset += (int64_t)ns;
	m->current_cpu = 0;
	clock_run_timers(m);
}

static bool irr(int c, int v)
{
	return lapic_peek(ls, c, 0x200 + (v >> 5) * 0x10) >> (v & 31) & 1;
}
static bool isr(int c, int v)
{
	return lapic_peek(ls, c, 0x100 + (v >> 5) * 0x10) >> (v & 31) & 1;
}

START_TEST(reset_state)
{
	ck_assert_uint_eq(rd(0, 0x20), 0);
	ck_assert_uint_eq(rd(1, 0x20), 1u << 24);
	ck_assert_uint_eq(rd(0, 0x30) & 0xff, 0x14);
	ck_assert_uint_eq((rd(0, 0x30) >> 16) & 0xff, 5);
	ck_assert_uint_eq(rd(0, 0xf0), 0xff);
	ck_assert_uint_eq(rd(0, 0xe0), 0xffffffffu);
	/* BSP in virtual-wire mode, AP fully masked. */
	ck_assert_uint_eq(rd(0, 0x350), 0x700);
	ck_assert_uint_eq(rd(1, 0x350), 0x10000);
	ck_assert_uint_eq(rd(1, 0x320), 0x10000);
}
END_TEST

START_TEST(accept_priority_eoi)
{
	struct cpu *c = m->cpu[0];
	wr(0, 0xf0, 0x1ff);
	ck_assert(!c->irq_pending(c));
	lapic_deliver(m, 0, 0, APIC_DM_FIXED, 0x40, false);
	ck_assert(irr(0, 0x40));
	ck_assert(!irr(1, 0x40));
	ck_assert(c->pending & PEND_IRQ);
	ck_assert(c->irq_pending(c));
	ck_assert_int_eq(c->irq_ack(c), 0x40);
	ck_assert(!irr(0, 0x40));
	ck_assert(isr(0, 0x40));
	ck_assert_uint_eq(rd(0, 0xa0), 0x40);
	/* Same priority class as the one in service: held. */
	lapic_deliver(m, 0, 0, APIC_DM_FIXED, 0x45, false);
	ck_assert(!c->irq_pending(c));
	ck_assert_int_eq(c->irq_ack(c), -1);
	/* A higher class nests. */
	lapic_deliver(m, 0, 0, APIC_DM_FIXED, 0x61, false);
	ck_assert(c->irq_pending(c));
	/* ...unless TPR blocks it. */
	wr(0, 0x80, 0x70);
	ck_assert_uint_eq(c->cr8, 7);
	ck_assert(!c->irq_pending(c));
	ck_assert_uint_eq(rd(0, 0xa0), 0x70);
	c->cr8 = 0; /* MOV CR8 */
	ck_assert_uint_eq(rd(0, 0x80), 0);
	ck_assert_int_eq(c->irq_ack(c), 0x61);
	ck_assert_uint_eq(rd(0, 0xa0), 0x60);
	wr(0, 0xb0, 0); /* EOI 0x61 */
	ck_assert(!isr(0, 0x61));
	ck_assert(isr(0, 0x40));
	wr(0, 0xb0, 0); /* EOI 0x40: now 0x45 may come */
	ck_assert_uint_eq(rd(0, 0xa0), 0);
	ck_assert_int_eq(c->irq_ack(c), 0x45);
	wr(0, 0xb0, 0);
	ck_assert_int_eq(eoi_count, 0); /* edge: no broadcast */
	ck_assert_int_eq(c->irq_ack(c), -1);
}
END_TEST

START_TEST(level_eoi_broadcast)
{
	struct cpu *c = m->cpu[1];
	wr(1, 0xf0, 0x1ff);
	lapic_deliver(m, 1, 0, APIC_DM_FIXED, 0x33, true);
	ck_assert(lapic_peek(ls, 1, 0x190) >> 19 & 1); /* TMR bit 0x33 */
	ck_assert_int_eq(c->irq_ack(c), 0x33);
	wr(1, 0xb0, 0);
	ck_assert_int_eq(eoi_count, 1);
	ck_assert_int_eq(eoi_vec, 0x33);
	/* Suppression (SVR bit 12) stops the broadcast. */
	wr(1, 0xf0, 0x11ff);
	lapic_deliver(m, 1, 0, APIC_DM_FIXED, 0x34, true);
	ck_assert_int_eq(c->irq_ack(c), 0x34);
	wr(1, 0xb0, 0);
	ck_assert_int_eq(eoi_count, 1);
	/* Illegal vector: ESR bit 6 after the ESR write latches it. */
	lapic_deliver(m, 1, 0, APIC_DM_FIXED, 3, false);
	ck_assert(!irr(1, 3));
	wr(1, 0x280, 0);
	ck_assert_uint_eq(rd(1, 0x280), 1u << 6);
}
END_TEST

START_TEST(timer_oneshot_periodic)
{
	struct cpu *c = m->cpu[0];
	wr(0, 0xf0, 0x1ff);
	const uint64_t T = LAPIC_BUS_NS; /* ns per timer tick at divide by 1 */
	wr(0, 0x3e0, 0xb);               /* divide by 1 */
	wr(0, 0x320, 0x50);              /* one-shot, vector 0x50 */
	wr(0, 0x380, 100);               /* fires after 100 ticks */
	ck_assert_uint_eq(rd(0, 0x390), 100);
	advance(50 * T);
	ck_assert_uint_eq(rd(0, 0x390), 50);
	advance(50 * T - 1);
	ck_assert(!irr(0, 0x50));
	advance(1);
	ck_assert(irr(0, 0x50));
	ck_assert_uint_eq(rd(0, 0x390), 0);
	ck_assert_int_eq(c->irq_ack(c), 0x50);
	wr(0, 0xb0, 0);
	advance(100000);
	ck_assert(!irr(0, 0x50)); /* one-shot: once */

	/* Periodic, divide by 2 (2T per tick), 10 ticks = 20T. */
	wr(0, 0x3e0, 0x0);
	wr(0, 0x320, 0x20051);
	wr(0, 0x380, 10);
	advance(20 * T - 1);
	ck_assert(!irr(0, 0x51));
	advance(1);
	ck_assert(irr(0, 0x51));
	ck_assert_int_eq(c->irq_ack(c), 0x51);
	wr(0, 0xb0, 0);
	ck_assert_uint_eq(rd(0, 0x390), 10);
	advance(20 * T);
	ck_assert(irr(0, 0x51));
	/* Masked: counts but does not interrupt. */
	ck_assert_int_eq(c->irq_ack(c), 0x51);
	wr(0, 0xb0, 0);
	wr(0, 0x320, 0x30051);
	advance(20 * T);
	ck_assert(!irr(0, 0x51));
	wr(0, 0x380, 0); /* stop */
	ck_assert_uint_eq(rd(0, 0x390), 0);
}
END_TEST

START_TEST(timer_tsc_deadline)
{
	struct cpu *c = m->cpu[0];
	uint64_t v;
	wr(0, 0xf0, 0x1ff);
	/* Ignored outside deadline mode. */
	ck_assert(c->apic_msr_write(c, 0x6e0, 12345));
	ck_assert(c->apic_msr_read(c, 0x6e0, &v));
	ck_assert_uint_eq(v, 0);
	wr(0, 0x320, 0x40060);
	uint64_t t0 = cpu_tsc(c);
	uint64_t hz = c->model->tsc_hz ? c->model->tsc_hz : 1000000000ull;
	uint64_t delta = hz / 1000; /* 1 ms of TSC ticks */
	ck_assert(c->apic_msr_write(c, 0x6e0, t0 + delta));
	ck_assert(c->apic_msr_read(c, 0x6e0, &v));
	ck_assert_uint_eq(v, t0 + delta);
	advance(999000);
	ck_assert(!irr(0, 0x60));
	advance(1000);
	ck_assert(irr(0, 0x60));
	ck_assert(c->apic_msr_read(c, 0x6e0, &v));
	ck_assert_uint_eq(v, 0);
	/* A deadline in the past fires at once; 0 disarms. */
	ck_assert_int_eq(c->irq_ack(c), 0x60);
	wr(0, 0xb0, 0);
	ck_assert(c->apic_msr_write(c, 0x6e0, 1));
	advance(0);
	ck_assert(irr(0, 0x60));
	ck_assert_int_eq(c->irq_ack(c), 0x60);
	wr(0, 0xb0, 0);
	ck_assert(c->apic_msr_write(c, 0x6e0, cpu_tsc(c) + delta));
	ck_assert(c->apic_msr_write(c, 0x6e0, 0));
	advance(2000000);
	ck_assert(!irr(0, 0x60));
}
END_TEST

START_TEST(ipis)
{
	struct cpu *c1 = m->cpu[1];
	wr(0, 0xf0, 0x1ff);
	wr(1, 0xf0, 0x1ff);
	/* Fixed, physical destination 1. */
	wr(0, 0x310, 1u << 24);
	wr(0, 0x300, 0x4041);
	ck_assert(irr(1, 0x41));
	ck_assert(!irr(0, 0x41));
	ck_assert_uint_eq(rd(0, 0x300) & (1u << 12), 0); /* idle */
	ck_assert(c1->pending & PEND_IRQ);
	/* All excluding self. */
	wr(1, 0x300, 0xc4042);
	ck_assert(irr(0, 0x42));
	ck_assert(!irr(1, 0x42));
	/* Self. */
	wr(1, 0x300, 0x44043);
	ck_assert(irr(1, 0x43));
	/* Logical flat: LDR bit 1 on vCPU 1, bit 0 on vCPU 0. */
	wr(0, 0xd0, 0x01000000);
	wr(1, 0xd0, 0x02000000);
	wr(0, 0x310, 0x02000000);
	wr(0, 0x300, 0x4844);
	ck_assert(irr(1, 0x44));
	ck_assert(!irr(0, 0x44));
	wr(0, 0x310, 0x03000000);
	wr(0, 0x300, 0x4845);
	ck_assert(irr(0, 0x45) && irr(1, 0x45));
	/* Logical cluster: cluster 1, member bit 1 on vCPU 1. */
	wr(0, 0xe0, 0x0fffffff);
	wr(1, 0xe0, 0x0fffffff);
	wr(1, 0xd0, 0x12000000);
	wr(0, 0xd0, 0x11000000);
	wr(0, 0x310, 0x12000000);
	wr(0, 0x300, 0x4846);
	ck_assert(irr(1, 0x46) && !irr(0, 0x46));
	/* MSI: physical destination 1, vector 0x47. */
	lapic_msi(m, 0xfee01000ull, 0x47);
	ck_assert(irr(1, 0x47) && !irr(0, 0x47));
	/* Send illegal vector: ESR bit 5. */
	wr(0, 0x300, 0x4005);
	wr(0, 0x280, 0);
	ck_assert_uint_eq(rd(0, 0x280), 1u << 5);
	/* NMI. */
	wr(0, 0x310, 1u << 24);
	wr(0, 0x300, 0x4400);
	ck_assert(c1->pending & PEND_NMI);
	c1->pending &= ~PEND_NMI;
	/* INIT (assert), de-assert (no effect), SIPI 0x9a. */
	wr(0, 0x300, 0x4500);
	ck_assert(c1->pending & PEND_INIT);
	wr(0, 0x300, 0x8500);
	c1->rip = 0x1234;
	lapic_do_init_sipi(c1);
	ck_assert(!(c1->pending & PEND_INIT));
	ck_assert_int_eq(c1->halted, LAPIC_WAIT_SIPI);
	ck_assert(!irr(1, 0x41)); /* INIT cleared the LAPIC */
	ck_assert_uint_eq(rd(1, 0xf0), 0xff);
	ck_assert_uint_eq(rd(1, 0x20), 1u << 24);
	/* Interrupts and NMIs do not reach a vCPU waiting for SIPI. */
	lapic_deliver(m, 1, 0, APIC_DM_NMI, 0, false);
	ck_assert(!(c1->pending & PEND_NMI));
	wr(0, 0x300, 0x469a);
	ck_assert(c1->pending & PEND_SIPI);
	lapic_do_init_sipi(c1);
	ck_assert_int_eq(c1->halted, 0);
	ck_assert_uint_eq(c1->seg[S_CS].sel, 0x9a00);
	ck_assert_uint_eq(c1->seg[S_CS].base, 0x9a000);
	ck_assert_uint_eq(c1->rip, 0);
	/* A second SIPI while running is ignored. */
	wr(0, 0x300, 0x4610);
	lapic_do_init_sipi(c1);
	ck_assert_uint_eq(c1->seg[S_CS].sel, 0x9a00);
}
END_TEST

START_TEST(extint_lint)
{
	struct cpu *c = m->cpu[0];
	lapic_lint_set(ls, 0, 1); /* PIC INTR high -> BSP LINT0 (ExtINT) */
	ck_assert(c->pending & PEND_IRQ);
	ck_assert(c->irq_pending(c));
	ck_assert_int_eq(c->irq_ack(c), 0x20);
	ck_assert_int_eq(pic_acks, 1);
	lapic_lint_set(ls, 0, 0);
	ck_assert(!c->irq_pending(c));
	/* Masked LINT0 blocks the PIC. */
	wr(0, 0xf0, 0x1ff);
	wr(0, 0x350, 0x10700);
	lapic_lint_set(ls, 0, 1);
	ck_assert(!c->irq_pending(c));
	/* LINT1 NMI on a rising edge. */
	lapic_lint_set(ls, 1, 1);
	ck_assert(c->pending & PEND_NMI);
	/* AP's LINT0 is masked after reset. */
	lapic_lint_set(ls, 2, 1);
	ck_assert(!m->cpu[1]->irq_pending(m->cpu[1]));
	/* Globally disabled APIC: LINT0 is INTR. */
	uint64_t old = c->msr.apic_base;
	c->msr.apic_base &= ~(1ull << 11);
	c->apic_base_changed(c, old);
	ck_assert(c->irq_pending(c));
	ck_assert_int_eq(c->irq_ack(c), 0x20);
}
END_TEST

static void to_x2apic(struct cpu *c)
{
	uint64_t old = c->msr.apic_base;
	c->msr.apic_base |= 1ull << 10;
	c->apic_base_changed(c, old);
}

START_TEST(x2apic_msrs)
{
	struct cpu *c0 = m->cpu[0], *c1 = m->cpu[1];
	uint64_t v;
	/* xAPIC mode: the MSRs #GP. */
	ck_assert(!c1->apic_msr_read(c1, 0x802, &v));
	to_x2apic(c0);
	to_x2apic(c1);
	ck_assert(c1->apic_msr_read(c1, 0x802, &v));
	ck_assert_uint_eq(v, 1);
	ck_assert(c1->apic_msr_read(c1, 0x80d, &v));
	ck_assert_uint_eq(v, 2); /* cluster 0, bit 1 */
	ck_assert(c1->apic_msr_read(c1, 0x803, &v));
	ck_assert_uint_eq(v & 0xff, 0x14);
	/* #GP: write-only / absent / read-only / reserved bits. */
	ck_assert(!c1->apic_msr_read(c1, 0x80b, &v));
	ck_assert(!c1->apic_msr_read(c1, 0x83f, &v));
	ck_assert(!c1->apic_msr_read(c1, 0x80e, &v));
	ck_assert(!c1->apic_msr_read(c1, 0x831, &v));
	ck_assert(!c1->apic_msr_write(c1, 0x802, 5));
	ck_assert(!c1->apic_msr_write(c1, 0x80b, 1));
	ck_assert(!c1->apic_msr_write(c1, 0x808, 0x100));
	ck_assert(!c1->apic_msr_write(c1, 0x80f, 1ull << 32));
	ck_assert(c1->apic_msr_write(c1, 0x80f, 0x1ff));
	ck_assert(c0->apic_msr_write(c0, 0x80f, 0x1ff));
	/* LVT LINT0: read-only delivery status / remote IRR written back are
	 * ignored; a reserved bit is #GP. */
	uint64_t lint0;
	ck_assert(c1->apic_msr_write(c1, 0x835, 0x10000 | 1u << 14 | 1u << 12 | 0x700));
	ck_assert(c1->apic_msr_read(c1, 0x835, &lint0));
	ck_assert_uint_eq(lint0 & (1u << 12), 0);
	ck_assert(!c1->apic_msr_write(c1, 0x835, 1u << 20));
	ck_assert(!c1->apic_msr_write(c1, 0x832, 1u << 14)); /* timer: bit 14 reserved */
	/* The xAPIC page no longer answers: reads end as unclaimed bus reads
	 * (all ones) and writes go nowhere (SDM Vol. 3A §11.12.1.2). */
	ck_assert_uint_eq(rd(1, 0xf0), 0xffffffffu);
	wr(1, 0x80, 0x20);
	ck_assert_uint_eq(rd(1, 0x80), 0xffffffffu);
	ck_assert_uint_eq(lapic_peek(ls, 1, 0x80), 0);
	/* 64-bit ICR: fixed vector 0x70 to x2APIC ID 1. */
	ck_assert(c0->apic_msr_write(c0, 0x830, 1ull << 32 | 0x4070));
	ck_assert(irr(1, 0x70));
	ck_assert(c0->apic_msr_read(c0, 0x830, &v));
	ck_assert_uint_eq(v, 1ull << 32 | 0x4070);
	/* Logical x2APIC: cluster 0, bits 0 and 1. */
	ck_assert(c0->apic_msr_write(c0, 0x830, 3ull << 32 | 0x4871));
	ck_assert(irr(0, 0x71) && irr(1, 0x71));
	/* SELF IPI. */
	ck_assert(c1->apic_msr_write(c1, 0x83f, 0x72));
	ck_assert(irr(1, 0x72));
	ck_assert(!c1->apic_msr_write(c1, 0x83f, 0x172));
	ck_assert_int_eq(c1->irq_ack(c1), 0x72);
	ck_assert(c1->apic_msr_read(c1, 0x80a, &v));
	ck_assert_uint_eq(v, 0x70);
	ck_assert(c1->apic_msr_write(c1, 0x80b, 0));
	ck_assert(c1->apic_msr_read(c1, 0x80a, &v));
	ck_assert_uint_eq(v, 0);
	/* Disabling resets; the MSRs #GP again. */
	uint64_t old = c1->msr.apic_base;
	c1->msr.apic_base &= ~((1ull << 11) | (1ull << 10));
	c1->apic_base_changed(c1, old);
	ck_assert(!irr(1, 0x70));
	ck_assert(!c1->apic_msr_read(c1, 0x802, &v));
	/* Globally disabled: no MMIO either (SDM Vol. 3A §11.4.3). */
	ck_assert_uint_eq(rd(1, 0x30), 0xffffffffu);
	m->current_cpu = 1;
	ck_assert_uint_eq(phys_read(m->mmu, BASE + 0x80, 1), 0xff);
}
END_TEST

START_TEST(relocate_base)
{
	struct cpu *c = m->cpu[0];
	uint64_t old = c->msr.apic_base;
	c->msr.apic_base = 0xfed40000ull | (old & 0xfff);
	c->apic_base_changed(c, old);
	m->current_cpu = 0;
	phys_write(m->mmu, 0xfed400f0ull, 4, 0x1ff);
	ck_assert_uint_eq(phys_read(m->mmu, 0xfed400f0ull, 4), 0x1ff);
	ck_assert_uint_eq(lapic_peek(ls, 0, 0xf0), 0x1ff);
	/* vCPU 1 still sees its own LAPIC at the default base. */
	ck_assert_uint_eq(rd(1, 0xf0), 0xff);
}
END_TEST

/* End to end on a running guest: a real-mode loop "sti; hlt" on a one-vCPU
 * machine takes periodic APIC timer interrupts through the CPU's
 * irq_pending/irq_ack hooks; the handler counts and EOIs through the x2APIC
 * EOI MSR. Checks that HLT wakes, EOI re-opens delivery and the interrupts
 * come at the programmed period of virtual time. */
START_TEST(guest_timer_irqs)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 1 };
	struct machine *g = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(g);
	struct cpu *c = g->cpu[0];
	c->msr.apic_base = BASE | (1u << 11) | (1u << 8);
	struct lapic_sys *gs = lapic_init(g);
	ck_assert_ptr_nonnull(gs);
	uint8_t *ram = mmu_ram(g->mmu);
	static const uint8_t loop[] = { 0xfb, 0xf4, 0xeb, 0xfc }; /* sti; hlt; jmp sti */
	static const uint8_t handler[] = {
		0xfe, 0x06, 0x00, 0x05,             /* inc byte [0x500] */
		0x66, 0xb9, 0x0b, 0x08, 0x00, 0x00, /* mov ecx, 0x80b (EOI) */
		0x66, 0x31, 0xc0,                   /* xor eax, eax */
		0x66, 0x31, 0xd2,                   /* xor edx, edx */
		0x0f, 0x30,                         /* wrmsr */
		0xcf                                /* iret */
	};
	memcpy(ram + 0x1000, loop, sizeof(loop));
	memcpy(ram + 0x2000, handler, sizeof(handler));
	ram[0x40 * 4 + 0] = 0x00; /* IVT[0x40] = 0000:2000 */
	ram[0x40 * 4 + 1] = 0x20;
	ram[0x40 * 4 + 2] = 0;
	ram[0x40 * 4 + 3] = 0;
	for (int i = 0; i < S_NSEG; i++)
		c->seg[i] = (struct seg){ .base = 0, .limit = 0xffff, .attr = 0x93, .sel = 0 };
	c->seg[S_CS].attr = 0x9b;
	c->rip = 0x1000;
	c->gpr[R_SP] = 0x8000;
	cpu_update_mode(c);
	/* Program the LAPIC, then switch to x2APIC mode for the MSR EOI. */
	g->current_cpu = 0;
	phys_write(g->mmu, BASE + 0xf0, 4, 0x1ff);
	uint64_t old = c->msr.apic_base;
	c->msr.apic_base |= 1ull << 10;
	c->apic_base_changed(c, old);
	ck_assert(c->apic_msr_write(c, 0x83e, 0xb));     /* divide by 1 */
	ck_assert(c->apic_msr_write(c, 0x832, 0x20040)); /* periodic, vector 0x40 */
	uint64_t t0 = cpu_clock_ns(c);
	ck_assert(c->apic_msr_write(c, 0x838, 10000 / LAPIC_BUS_NS)); /* 10 us */
	for (int i = 0; i < 1000 && ram[0x500] < 5; i++)
		machine_run(g, 1);
	uint64_t n = ram[0x500];
	ck_assert_uint_ge(n, 5);
	ck_assert_uint_lt(n, 10);
	/* The n-th interrupt is taken at t0 + n * 10 us (+ a few instructions);
	 * once the guest halts again, time may have jumped to the next one. */
	uint64_t dt = cpu_clock_ns(c) - t0;
	ck_assert_uint_ge(dt, n * 10000);
	ck_assert_uint_le(dt, (n + 1) * 10000 + 100);
	lapic_free(gs);
	machine_free(g);
}
END_TEST

/* SMP start-up on running vCPUs: the BSP sends INIT and a SIPI (vector 9)
 * through the x2APIC ICR; the AP, waiting for SIPI since power-on, starts
 * at 0900:0000, stores a flag and halts. */
START_TEST(guest_init_sipi)
{
	struct machine_config cfg = { .ram_size = 1 << 20, .ncpus = 2 };
	struct machine *g = machine_new_bare(&cfg);
	ck_assert_ptr_nonnull(g);
	for (int i = 0; i < 2; i++)
		g->cpu[i]->msr.apic_base = BASE | (1u << 11) | (i == 0 ? 1u << 8 : 0);
	struct lapic_sys *gs = lapic_init(g);
	ck_assert_ptr_nonnull(gs);
	struct cpu *bsp = g->cpu[0], *ap = g->cpu[1];
	ck_assert_int_eq(ap->halted, LAPIC_WAIT_SIPI);
	uint8_t *ram = mmu_ram(g->mmu);
	static const uint8_t bsp_code[] = {
		0x66, 0xb9, 0x30, 0x08, 0x00, 0x00, /* mov ecx, 0x830 (ICR) */
		0x66, 0xba, 0x01, 0x00, 0x00, 0x00, /* mov edx, 1 (x2APIC ID 1) */
		0x66, 0xb8, 0x00, 0x45, 0x00, 0x00, /* mov eax, 0x4500 (INIT) */
		0x0f, 0x30,                         /* wrmsr */
		0x66, 0xb8, 0x09, 0x46, 0x00, 0x00, /* mov eax, 0x4609 (SIPI 9) */
		0x0f, 0x30,                         /* wrmsr */
		0xfa, 0xf4                          /* cli; hlt */
	};
	static const uint8_t ap_code[] = {
		0xc6, 0x06, 0x00, 0x06, 0x5a, /* mov byte [0x600], 0x5a */
		0xfa, 0xf4                    /* cli; hlt */
	};
	memcpy(ram + 0x1000, bsp_code, sizeof(bsp_code));
	memcpy(ram + 0x9000, ap_code, sizeof(ap_code));
	for (int i = 0; i < S_NSEG; i++)
		bsp->seg[i] = (struct seg){ .base = 0, .limit = 0xffff, .attr = 0x93, .sel = 0 };
	bsp->seg[S_CS].attr = 0x9b;
	bsp->rip = 0x1000;
	cpu_update_mode(bsp);
	uint64_t old = bsp->msr.apic_base;
	bsp->msr.apic_base |= 1ull << 10;
	bsp->apic_base_changed(bsp, old);
	ck_assert_int_eq(machine_run(g, 100000), MSTOP_HALTED);
	ck_assert_uint_eq(ram[0x600], 0x5a);
	ck_assert_uint_eq(ap->seg[S_CS].sel, 0x0900);
	ck_assert_int_eq(ap->halted, 1);
	lapic_free(gs);
	machine_free(g);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("lapic");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, reset_state);
	tcase_add_test(t, accept_priority_eoi);
	tcase_add_test(t, level_eoi_broadcast);
	tcase_add_test(t, timer_oneshot_periodic);
	tcase_add_test(t, timer_tsc_deadline);
	tcase_add_test(t, ipis);
	tcase_add_test(t, extint_lint);
	tcase_add_test(t, x2apic_msrs);
	tcase_add_test(t, relocate_base);
	suite_add_tcase(s, t);
	TCase *g = tcase_create("guest");
	tcase_add_test(g, guest_timer_irqs);
	tcase_add_test(g, guest_init_sipi);
	suite_add_tcase(s, g);
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
