/*
 * tests/guest/lib/guest.c — console, printf, exit and check() for test guests.
 */
#include "guest.h"

static int checks, failures;

void guest_putc(char c)
{
	outb(0xe9, (uint8_t)c);
}

void guest_puts(const char *s)
{
	while (*s)
		guest_putc(*s++);
}

static void put_num(unsigned long long v, unsigned base, int width, char pad)
{
	char buf[24];
	int n = 0;
	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n < width--)
		guest_putc(pad);
	while (n)
		guest_putc(buf[--n]);
}

static void vprint(const char *f, va_list ap)
{
	for (; *f; f++) {
		if (*f != '%') {
			guest_putc(*f);
			continue;
		}
		f++;
		char pad = ' ';
		int width = 0, lng = 0;
		if (*f == '0')
			pad = '0', f++;
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (*f++ - '0');
		while (*f == 'l')
			lng++, f++;
		switch (*f) {
		case 'd': {
			long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
			if (v < 0) {
				guest_putc('-');
				v = -v;
			}
			put_num((unsigned long long)v, 10, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v =
				lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
			put_num(v, *f == 'x' ? 16 : 10, width, pad);
			break;
		}
		case 's':
			guest_puts(va_arg(ap, const char *));
			break;
		case 'c':
			guest_putc((char)va_arg(ap, int));
			break;
		default:
			guest_putc(*f);
		}
	}
}

void guest_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
}

void guest_exit(int code)
{
	outb(0xf4, (uint8_t)code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_check(int ok, const char *file, int line, const char *fmt, ...)
{
	checks++;
	if (ok)
		return;
	failures++;
	guest_printf("FAIL %s:%d: ", file, line);
	va_list ap;
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	guest_putc('\n');
}

int report(const char *name)
{
	guest_printf("%s: %d checks, %d failures: %s\n", name, checks, failures,
		     failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
