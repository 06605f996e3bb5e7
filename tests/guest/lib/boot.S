/*
 * tests/guest/lib/boot.S — Multiboot entry for the project's test guests.
 *
 * 32-bit guests (GUEST_BITS=32): set up a stack and call guest_main().
 * 64-bit guests (GUEST_BITS=64): build identity-mapped page tables for the
 * first 4 GiB with 2 MiB pages, enable PAE + long mode + paging, load a
 * 64-bit GDT and call guest_main() in 64-bit mode.
 * guest_main's return value is passed to guest_exit().
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	mov $boot_stack_top, %esp
	mov %ebx, mb_info
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	/* x87 and SSE usable: CR0.EM=0, MP=1, NE=1; CR4.OSFXSR, OSXMMEXCPT */
	mov %cr0, %eax
	and $~0x4, %eax
	or $0x22, %eax
	mov %eax, %cr0
	mov %cr4, %eax
	or $0x600, %eax
	mov %eax, %cr4
	fninit
#if GUEST_BITS == 64
	/* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; each PD maps 1 GiB with 2M pages */
	mov $pml4, %edi
	mov $pdpt, %eax
	or $3, %eax
	mov %eax, (%edi)
	mov $pdpt, %edi
	mov $pd, %eax
	or $3, %eax
	mov $4, %ecx
2:	mov %eax, (%edi)
	add $0x1000, %eax
	add $8, %edi
	loop 2b
	mov $pd, %edi
	mov $0x83, %eax       /* present, writable, 2 MiB */
	xor %edx, %edx
	mov $2048, %ecx
3:	mov %eax, (%edi)
	mov %edx, 4(%edi)
	add $0x200000, %eax
	adc $0, %edx
	add $8, %edi
	loop 3b
	mov %cr4, %eax
	or $0x20, %eax        /* PAE */
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx /* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax  /* PG | PE */
	mov %eax, %cr0
	ljmp $0x18, $long_entry
	.code64
long_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $boot_stack_top, %rsp
	call guest_main
	mov %eax, %edi
	call guest_exit
4:	hlt
	jmp 4b
#else
	call guest_main
	push %eax
	call guest_exit
4:	hlt
	jmp 4b
#endif

	.data
	.align 8
	.globl gdt
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff  /* 0x08: 32-bit code */
	.quad 0x00cf93000000ffff  /* 0x10: data */
	.quad 0x00af9b000000ffff  /* 0x18: 64-bit code */
	.quad 0x00cffb000000ffff  /* 0x20: 32-bit code DPL3 */
	.quad 0x00cff3000000ffff  /* 0x28: data DPL3 */
	.quad 0x00affb000000ffff  /* 0x30: 64-bit code DPL3 */
	.quad 0, 0                /* 0x38: TSS (filled by tests) */
	.quad 0, 0, 0, 0          /* 0x48..: spare for tests */
gdt_end:
	.globl gdt_desc
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
	.long 0
	.globl mb_info
mb_info:
	.long 0

	.bss
	.align 4096
	.globl pml4, pdpt, pd
pml4:	.space 4096
pdpt:	.space 4096
pd:	.space 4096 * 4
	.space 16384
boot_stack_top:
	.section .note.GNU-stack, "", @progbits
