/*
 * tests/guest/lib/guest.h — tiny runtime for the project's bare-metal test
 * guests: console on the debug port (0xe9), exit through isa-debug-exit
 * (port 0xf4), a minimal printf and a pass/fail reporter.
 *
 * A guest defines int guest_main(void); its return value is the exit code:
 * 0 means every check passed (nestbox/QEMU then exit with status 1).
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void guest_putc(char c);
void guest_puts(const char *s);
void guest_printf(const char *fmt, ...);
__attribute__((noreturn)) void guest_exit(int code);

/* check(cond, "what"): counts and prints failures; report() returns the
 * number of failures (use as guest_main's return value). */
#define check(cond, ...) guest_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
void guest_check(int ok, const char *file, int line, const char *fmt, ...);
int report(const char *name);

extern uint32_t mb_info;

#endif
