/*
 * devices/lapic.h — the local APIC of every vCPU (Intel SDM Vol. 3 ch. 11).
 *
 * lapic_init() gives each vCPU of a machine its LAPIC, installs the cpu hooks
 * (irq_pending/irq_ack, apic_msr_read/apic_msr_write for the x2APIC MSRs
 * 800h-8FFh and IA32_TSC_DEADLINE, apic_base_changed) and maps one 4 KiB
 * xAPIC MMIO page at the APIC base (0xFEE00000 after reset); an access to it
 * goes to the LAPIC of the vCPU that makes it (m->cpu[m->current_cpu]).
 *
 * Time: the APIC timer counts at 25 MHz (40 ns of virtual time per tick before
 * the divider), the "core crystal clock" that CPUID leaf 15h advertises, so a
 * guest that trusts CPUID needs no calibration.
 *
 * Wiring a board does:
 *  - lapic_set_extint(): how to fetch the 8259 PIC's vector (INTA cycle) when
 *    LINT0 is in ExtINT mode (virtual-wire mode) or the APIC is disabled;
 *  - lapic_set_eoi_hook(): called with the vector when the guest EOIs a
 *    level-triggered interrupt (unless EOI-broadcast suppression is on); the
 *    board passes it to ioapic_eoi();
 *  - lapic_lint_set() as an irq_line callback for the LINT0/LINT1 pins:
 *    n = cpu_index * 2 + pin (pin 0 = LINT0 <- PIC INTR, pin 1 = LINT1 <- NMI);
 *  - lapic_init() installs lapic_do_init_sipi() as cpu->init_sipi, which the
 *    execution loop calls when a vCPU has PEND_INIT or PEND_SIPI set.
 *
 * After INIT an application processor waits for a start-up IPI: it then has
 * cpu->halted == LAPIC_WAIT_SIPI (2). In that state it must not take NMIs or
 * interrupts (the LAPIC never raises PEND_IRQ/PEND_NMI for it) and only a
 * SIPI (or another INIT) wakes it.
 */
#ifndef NESTBOX_DEVICES_LAPIC_H
#define NESTBOX_DEVICES_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct cpu;
struct lapic_sys;

#define LAPIC_DEFAULT_BASE 0xfee00000ull
/* cpu->halted value of a vCPU in the wait-for-SIPI state. */
#define LAPIC_WAIT_SIPI 2
/* APIC timer input clock (Hz) and its period in ns: 1 GHz, the rate KVM
 * and QEMU give their APIC timers (guests and kvm-unit-tests written against
 * them assume a counter that moves between two reads). CPUID leaf 15h
 * reports it as the core crystal clock (cpu/cpuid.c). */
#define LAPIC_BUS_HZ 1000000000u
#define LAPIC_BUS_NS 1u

/* Delivery modes (ICR, LVT, IOAPIC redirection entries, MSI data). */
enum {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_SIPI = 6,
	APIC_DM_EXTINT = 7
};

/* Create the LAPICs of every vCPU of m, install the cpu hooks, map the
 * MMIO page and do lapic_reset_all(). Returns NULL on allocation failure. */
struct lapic_sys *lapic_init(struct machine *m);
/* Cancel timers, unhook the vCPUs and free (the MMIO mapping stays). */
void lapic_free(struct lapic_sys *s);
/* Power-on reset of every LAPIC (call after cpu_reset on a machine reset):
 * the BSP's LINT0 starts in ExtINT mode (LINT1 NMI) so the PIC reaches it
 * before firmware programs the LAPIC; every AP (IA32_APIC_BASE.BSP clear) is
 * put in the wait-for-SIPI state (cpu->halted = LAPIC_WAIT_SIPI). */
void lapic_reset_all(struct lapic_sys *s);

void lapic_set_extint(struct lapic_sys *s, int (*ack)(void *opaque), void *opaque);
void lapic_set_eoi_hook(struct lapic_sys *s, void (*eoi)(void *opaque, int vector), void *opaque);

/* irq_line callback: opaque = struct lapic_sys *, n = cpu_index * 2 + pin. */
void lapic_lint_set(void *opaque, int n, int level);

/* Deliver an interrupt message (IOAPIC redirection entry, MSI, IPI) to every
 * LAPIC the destination names. dest: APIC ID or logical destination (8 bits
 * for xAPIC targets, 32 for x2APIC ones; 0xff resp. 0xffffffff broadcast);
 * dest_mode 0 physical, 1 logical; delivery_mode APIC_DM_*; level true for
 * level-triggered (the TMR bit is set and EOI is broadcast). */
void lapic_deliver(struct machine *m, uint32_t dest, int dest_mode, int delivery_mode, int vector,
		   bool level);

/* Deliver a PCI MSI (address 0xFEExxxxx, data) as the chipset decodes it:
 * destination ID = address bits 19:12, destination mode = bit 2 (redirection
 * hint bit 3 ignored), vector = data 7:0, delivery mode = data 10:8,
 * trigger = data bit 15. Devices call this instead of writing the LAPIC
 * page (a physical write there would hit the current vCPU's registers). */
void lapic_msi(struct machine *m, uint64_t addr, uint32_t data);

/* Perform a pending INIT (cpu_reset(init) + LAPIC INIT; APs then wait for a
 * SIPI, the BSP restarts at the reset vector) and/or SIPI (a vCPU waiting
 * for SIPI starts in real mode at CS = V << 8, IP = 0). Clears PEND_INIT and
 * PEND_SIPI. */
void lapic_do_init_sipi(struct cpu *cpu);

/* Introspection for tests and debugging: xAPIC register at MMIO offset off
 * of vCPU cpu_index, read without side effects. */
uint32_t lapic_peek(struct lapic_sys *s, int cpu_index, unsigned off);

#endif
