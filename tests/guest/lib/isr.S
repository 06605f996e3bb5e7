/*
 * tests/guest/lib/isr.S — the 256 interrupt stubs of the trap harness
 * (lib/trap.h). Each stub pushes a dummy error code when the CPU pushes none
 * (SDM Vol. 3 Table 6-1: 8, 10-14, 17, 21, 29, 30 push one), then its vector,
 * and joins the common path, which saves the registers, calls
 * trap_dispatch(frame) and IRETs to the frame (possibly changed by a hook).
 * Also: user_exit (where ring-3 functions return to) and trap_enter_user.
 */
	.text
	.altmacro
	.macro STUB v
	.align 16
isr_\v:
	.if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21) || \
	    (\v == 29) || (\v == 30)
	.else
	push $0
	.endif
	push $\v
	jmp isr_common
	.endm

	.set vec, 0
	.rept 256
	STUB %vec
	.set vec, vec + 1
	.endr

	.macro ADDR v
#if GUEST_BITS == 64
	.quad isr_\v
#else
	.long isr_\v
#endif
	.endm
	.data
	.align 8
	.globl isr_table
isr_table:
	.set vec, 0
	.rept 256
	ADDR %vec
	.set vec, vec + 1
	.endr

	.text
#if GUEST_BITS == 64
	.code64
isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	mov %rsp, %rbx
	and $-16, %rsp
	cld
	call trap_dispatch
	mov %rbx, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

	/* trap_enter_user(ip, cs, sp, ss): IRET to another privilege level. */
	.globl trap_enter_user
trap_enter_user:
	push %rcx
	push %rdx
	pushf
	mov trap_user_flags(%rip), %rax
	or %rax, (%rsp)
	push %rsi
	push %rdi
	iretq

	.globl user_exit
user_exit:
	int $0x7f
	ud2
#else
	.code32
isr_common:
	pusha
	push %ds
	push %es
	push %fs
	push %gs
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	push %esp
	cld
	call trap_dispatch
	add $4, %esp
	pop %gs
	pop %fs
	pop %es
	pop %ds
	popa
	add $8, %esp
	iret

	/* trap_enter_user(ip, cs, sp, ss): data segments become ss, then IRET. */
	.globl trap_enter_user
trap_enter_user:
	mov 16(%esp), %eax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	push %eax
	push 16(%esp)
	pushf
	mov trap_user_flags, %eax
	or %eax, (%esp)
	push 20(%esp)
	push 20(%esp)
	iret

	.globl user_exit
user_exit:
	int $0x7f
	ud2
#endif
	.section .note.GNU-stack, "", @progbits
