/*
 * g32_pc_bios — what a Multiboot kernel finds on the pc board after direct
 * boot (devices/boot_multiboot.c), as under GRUB or QEMU's loader on a PC
 * BIOS: an interrupt vector table whose hardware-IRQ vectors 08h-0Fh and
 * 70h-77h point at EOI-and-IRET stubs and every other vector at an IRET in
 * the reserved BIOS area, 8259s with vector bases 08h/70h and only IRQ0 and
 * the cascade unmasked, and the PIT ticking at 18.2 Hz (kvm-unit-tests'
 * realmode test halts with IF = 1 and relies on that tick). Runs with
 * -machine pc (tests/guest/CMakeLists.txt: g*_pc_*). The stub addresses and
 * masks are nestbox's choices: on QEMU (SeaBIOS) only the tick check holds.
 */
#include "trap.h"

volatile int ticks;

/* Vector 08h is #DF for the library's stubs, which expect an error code;
 * an external interrupt pushes none, so it gets its own handler. */
__asm__(".text\n.globl irq0_entry\n"
	"irq0_entry: incl ticks\n push %eax\n mov $0x20, %al\n out %al, $0x20\n pop %eax\n"
	" iret\n");
void irq0_entry(void);

int guest_main(void)
{
	/* Before trap_init: nothing of ours has touched the 8259s yet. */
	uint8_t imr1 = inb(0x21), imr2 = inb(0xa1);
	check(imr1 == 0xfa, "master IMR %x (want fa: IRQ0 and the cascade open)", imr1);
	check(imr2 == 0xff, "slave IMR %x (want ff)", imr2);

	uintptr_t zero = 0;
	__asm__("" : "+r"(zero)); /* address 0 is real memory here */
	const volatile uint32_t *ivt = (const volatile uint32_t *)zero;
	check(ivt[0x08] == 0xf000ff01u, "IVT[08h] %x (master EOI stub F000:FF01)", ivt[0x08]);
	check(ivt[0x0f] == 0xf000ff01u, "IVT[0Fh] %x", ivt[0x0f]);
	check(ivt[0x70] == 0xf000ff08u, "IVT[70h] %x (slave EOI stub F000:FF08)", ivt[0x70]);
	check(ivt[0x10] == 0xf000ff00u && ivt[0xff] == 0xf000ff00u, "IVT[10h] %x IVT[FFh] %x",
	      ivt[0x10], ivt[0xff]);
	const volatile uint8_t *stub = (const volatile uint8_t *)0xfff00;
	check(stub[0] == 0xcf && stub[7] == 0xcf && stub[16] == 0xcf, "IRET stubs at F000:FF00");

	/* The timer interrupt arrives as vector 08h through the master PIC. */
	trap_init();
	idt_set(8, (ureg)irq0_entry, SEL_CODE32, GATE_INT, 0, 0);
	for (int i = 0; i < 3 && ticks < 2; i++)
		__asm__ volatile("sti; hlt; cli");
	check(ticks >= 2, "PIT ticks on vector 08h: %d", ticks);
	pic_mask_all();
	return report("g32_pc_bios");
}
