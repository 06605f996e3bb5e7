/*
 * g64_salc — SALC (D6): AL = CF ? FFh : 00h, flags unchanged. Blank in the
 * SDM opcode map but executed outside 64-bit mode by Intel and AMD CPUs
 * (kvm-unit-tests' realmode test uses it); #UD in 64-bit mode (AMD APM
 * Vol. 3). Checked in compatibility mode (CPL 3, 32-bit code segment) and
 * in 64-bit mode.
 */
#include "trap.h"

static volatile uint32_t res[4];

/* 32-bit code run at CPL 3 in compatibility mode; results through RBX
 * (the low 4 GiB are identity-mapped and user-accessible). */
__asm__(".text\n.code32\n"
	".globl c_salc\n"
	/* DS may hold a null selector from 64-bit mode: unusable here */
	"c_salc: mov $0x2b, %eax\n mov %eax, %ds\n mov $res, %ebx\n"
	" mov $0x12345678, %eax\n stc\n .byte 0xd6\n mov %eax, (%ebx)\n"
	" pushf\n pop %eax\n mov %eax, 4(%ebx)\n"
	" mov $0x87654321, %eax\n clc\n .byte 0xd6\n mov %eax, 8(%ebx)\n"
	" int $0x7f\n"
	".code64\n");
void c_salc(void);

static void f_salc64(void)
{
	__asm__ volatile(".byte 0xd6" ::: "rax");
}

int guest_main(void)
{
	trap_init();
	long v = trap_run_user(c_salc, SEL_UCODE32, SEL_UDATA);
	check(v == VEC_USER_EXIT, "compatibility-mode SALC ran (vector %d err %lx at %lx:%lx)",
	      (int)v, trap.err, trap.cs, trap.ip);
	check(res[0] == 0x123456ff, "SALC with CF = 1: EAX %x (want 123456ff)", res[0]);
	check(res[1] & 1, "SALC leaves CF set (flags %x)", res[1]);
	check(res[2] == 0x87654300, "SALC with CF = 0: EAX %x (want 87654300)", res[2]);
	v = trap_run(f_salc64);
	check(v == 6, "SALC in 64-bit mode: vector %d (want #UD)", (int)v);
	return report("g64_salc");
}
