/*
 * g64_triple — a deliberate triple fault: with an empty IDT (limit 0) an
 * INT3 raises #GP, delivering that #GP fails again (#DF), and delivering
 * the #DF fails too: the CPU shuts down (SDM Vol. 3 §6.15, interrupt 8).
 * nestbox must end the run with its "guest crashed" status 3 (ctest runs
 * this through run_guest_status.sh); QEMU resets (or, with -no-reboot, quits).
 * Reaching the code after the INT3 is a failure.
 */
#include "guest.h"

int guest_main(void)
{
	struct __attribute__((packed)) {
		uint16_t lim;
		unsigned long base;
	} d = { 0, 0 };
	guest_puts("g64_triple: triple-faulting now\n");
	__asm__ volatile("lidt %0; int3" ::"m"(d));
	guest_puts("g64_triple: FAIL still running after the triple fault\n");
	return 1;
}
