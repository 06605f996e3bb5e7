/*
 * devices/boot_common.c — what the direct-boot loaders share: reading a
 * user's file with a clear error, and the flat 32-bit protected-mode state
 * (GDT with code 0x10 / data 0x18) both Multiboot and the Linux 32-bit boot
 * protocol start a kernel in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "devices/boot.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

uint8_t *boot_read_file(const char *path, size_t *size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0) {
		snprintf(err, errlen, "cannot read '%s': not a regular file", path);
		fclose(f);
		return NULL;
	}
	long n = ftell(f);
	rewind(f);
	if (n < 0) {
		snprintf(err, errlen, "cannot read '%s'", path);
		fclose(f);
		return NULL;
	}
	uint8_t *buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, errlen, "cannot read '%s'", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

void boot_set_flat32(struct machine *m, uint32_t gdt_addr, uint32_t entry)
{
	static const uint64_t gdt[4] = { 0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };
	phys_write_buf(m->mmu, gdt_addr, gdt, sizeof(gdt));
	struct cpu *c = m->cpu[0];
	c->cr0 = CR0_PE | CR0_ET;
	c->gdtr.base = gdt_addr;
	c->gdtr.limit = sizeof(gdt) - 1;
	for (int s = 0; s < S_NSEG; s++) {
		c->seg[s].sel = 0x18;
		c->seg[s].base = 0;
		c->seg[s].limit = 0xffffffff;
		c->seg[s].attr = 0xc093;
	}
	c->seg[S_CS].sel = 0x10;
	c->seg[S_CS].attr = 0xc09b;
	c->rflags = F_FIXED1;
	c->cpl = 0;
	c->rip = entry;
	memset(c->gpr, 0, sizeof(c->gpr));
	cpu_update_mode(c);
	cpu_tlb_flush_all(c);
}
