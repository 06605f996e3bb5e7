/* tests/e2e/bootsector.S — a boot sector (and El Torito no-emulation image) that
 * reports over COM1 and the debug console, then exits through isa-debug-exit
 * (port 0xf4): what the SeaBIOS e2e tests boot from a disk and a CD-ROM. */
	.code16
	.text
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x7c00, %sp
	call 1f
1:	pop %si
	sub $(1b - msg), %si     /* position-independent: %si = msg */
2:	lodsb
	test %al, %al
	jz 4f
	mov %al, %bl
	mov $0x3fd, %dx          /* wait for THR empty */
3:	in %dx, %al
	test $0x20, %al
	jz 3b
	mov $0x3f8, %dx
	mov %bl, %al
	out %al, %dx
	out %al, $0xe9
	jmp 2b
4:	mov $0, %al              /* exit status (0 << 1) | 1 = 1 */
	out %al, $0xf4
5:	hlt
	jmp 5b
msg:	.asciz "nestbox-bootsector: booted by the BIOS\r\n"
	.org 510
	.byte 0x55, 0xaa
