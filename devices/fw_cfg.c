/*
 * devices/fw_cfg.c — QEMU's fw_cfg device (docs/specs/fw_cfg.rst): item
 * store, selector/data ports, DMA interface, file directory, and the pc
 * board's standard items (see fw_cfg.h for the guest-visible interface).
 * The ACPI linker/loader files are written by devices/fw_cfg_acpi.c.
 *
 * Items live in one small array searched linearly (a guest selects an item
 * a few dozen times per boot; SeaBIOS then reads it by DMA in one go).
 */
#include "devices/fw_cfg.h"

#include <stdlib.h>
#include <string.h>

#include "devices/ioport.h"
#include "devices/machine.h"
#include "mmu/mmu.h"

struct fw_item {
	uint16_t key;
	bool writable;
	uint8_t *data;
	uint32_t len;
	char name[FW_CFG_MAX_FILE_PATH]; /* files only */
};

struct fw_cfg {
	struct machine *m;
	struct fw_item *items;
	unsigned nitems, cap;
	unsigned nfiles;
	int cur;         /* selected item index, -1 = none */
	uint32_t offset; /* data offset in the selected item */
	uint8_t dma[8];  /* DMA address register, big-endian */
	uint16_t base;
};

static const uint8_t dma_signature[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int find_key(const struct fw_cfg *f, uint16_t key)
{
	for (unsigned i = 0; i < f->nitems; i++)
		if (f->items[i].key == key)
			return (int)i;
	return -1;
}

static int find_name(const struct fw_cfg *f, const char *name)
{
	for (unsigned i = 0; i < f->nitems; i++)
		if (f->items[i].key >= FW_CFG_FILE_FIRST && f->items[i].key < FW_CFG_ARCH_LOCAL &&
		    !strncmp(f->items[i].name, name, FW_CFG_MAX_FILE_PATH))
			return (int)i;
	return -1;
}

/* Store a copy of data as item key (replacing an older one). */
static int set_item(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	if (len)
		memcpy(copy, data, len);
	int i = find_key(f, key);
	if (i < 0) {
		if (f->nitems == f->cap) {
			unsigned cap = f->cap ? f->cap * 2 : 32;
			struct fw_item *n = realloc(f->items, cap * sizeof(*n));
			if (!n) {
				free(copy);
				return -1;
			}
			f->items = n;
			f->cap = cap;
		}
		i = (int)f->nitems++;
		f->items[i] = (struct fw_item){ .key = key };
	}
	free(f->items[i].data);
	f->items[i].data = copy;
	f->items[i].len = len;
	if (f->cur == i && f->offset > len)
		f->offset = len;
	return i;
}

/* FW_CFG_FILE_DIR: be32 count, then per file be32 size, be16 key, u16 0,
 * char name[56]. */
static bool rebuild_dir(struct fw_cfg *f)
{
	uint32_t len = 4 + FW_CFG_DIR_ENTRY_SIZE * f->nfiles;
	uint8_t *d = calloc(1, len);
	if (!d)
		return false;
	put_be32(d, f->nfiles);
	for (unsigned i = 0; i < f->nitems; i++) {
		const struct fw_item *it = &f->items[i];
		if (it->key < FW_CFG_FILE_FIRST || it->key >= FW_CFG_ARCH_LOCAL)
			continue;
		uint8_t *e = d + 4 + FW_CFG_DIR_ENTRY_SIZE * (it->key - FW_CFG_FILE_FIRST);
		put_be32(e, it->len);
		e[4] = (uint8_t)(it->key >> 8);
		e[5] = (uint8_t)it->key;
		memcpy(e + 8, it->name, FW_CFG_MAX_FILE_PATH);
	}
	bool ok = set_item(f, FW_CFG_FILE_DIR, d, len) >= 0;
	free(d);
	return ok;
}

bool fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len)
{
	key &= (uint16_t)~FW_CFG_WRITE_CHANNEL;
	if (key == FW_CFG_FILE_DIR || (key >= FW_CFG_FILE_FIRST && key < FW_CFG_ARCH_LOCAL))
		return false;
	return set_item(f, key, data, len) >= 0;
}

bool fw_cfg_add_i16(struct fw_cfg *f, uint16_t key, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	return fw_cfg_add_bytes(f, key, b, 2);
}

bool fw_cfg_add_i32(struct fw_cfg *f, uint16_t key, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add_bytes(f, key, b, 4);
}

bool fw_cfg_add_i64(struct fw_cfg *f, uint16_t key, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add_bytes(f, key, b, 8);
}

int fw_cfg_add_file_rw(struct fw_cfg *f, const char *name, const void *data, uint32_t len,
		       bool writable)
{
	if (!name || !*name || strlen(name) >= FW_CFG_MAX_FILE_PATH)
		return -1;
	int i = find_name(f, name);
	uint16_t key;
	if (i >= 0) {
		key = f->items[i].key;
	} else {
		if (f->nfiles >= FW_CFG_ARCH_LOCAL - FW_CFG_FILE_FIRST)
			return -1;
		key = (uint16_t)(FW_CFG_FILE_FIRST + f->nfiles);
	}
	i = set_item(f, key, data, len);
	if (i < 0)
		return -1;
	struct fw_item *it = &f->items[i];
	if (!it->name[0]) {
		strncpy(it->name, name, FW_CFG_MAX_FILE_PATH - 1);
		f->nfiles++;
	}
	it->writable = writable;
	return rebuild_dir(f) ? key : -1;
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len)
{
	return fw_cfg_add_file_rw(f, name, data, len, false);
}

int fw_cfg_add_file_int(struct fw_cfg *f, const char *name, uint64_t v, unsigned size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -1;
	uint8_t b[8];
	for (unsigned i = 0; i < size; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add_file(f, name, b, size);
}

const uint8_t *fw_cfg_item(const struct fw_cfg *f, uint16_t key, uint32_t *len)
{
	int i = find_key(f, key & (uint16_t)~FW_CFG_WRITE_CHANNEL);
	if (i < 0)
		return NULL;
	if (len)
		*len = f->items[i].len;
	return f->items[i].data;
}

const uint8_t *fw_cfg_file(const struct fw_cfg *f, const char *name, uint32_t *len)
{
	int i = find_name(f, name);
	if (i < 0)
		return NULL;
	if (len)
		*len = f->items[i].len;
	return f->items[i].data;
}

/* ---- guest interface ---- */

static void select_key(struct fw_cfg *f, uint16_t key)
{
	f->cur = find_key(f, key & (uint16_t)~FW_CFG_WRITE_CHANNEL);
	f->offset = 0;
}

static uint8_t next_byte(struct fw_cfg *f)
{
	if (f->cur < 0)
		return 0;
	const struct fw_item *it = &f->items[f->cur];
	if (f->offset >= it->len)
		return 0;
	return it->data[f->offset++];
}

static uint32_t io_read(void *opaque, uint16_t port, unsigned size)
{
	struct fw_cfg *f = opaque;
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)next_byte(f) << (8 * i);
	return v;
}

static void io_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct fw_cfg *f = opaque;
	/* Only a 16-bit (or wider) write to the selector port selects; byte
	 * writes are legacy data writes, ignored since QEMU 2.4. */
	if (port == f->base && size >= 2)
		select_key(f, (uint16_t)val);
}

static const struct ioport_ops io_ops = {
	.read = io_read,
	.write = io_write,
};

/* Copy n bytes of the selected item to guest memory (zeros past its end). */
static void dma_read(struct fw_cfg *f, uint64_t gpa, uint32_t n)
{
	static const uint8_t zeros[4096];
	const struct fw_item *it = f->cur >= 0 ? &f->items[f->cur] : NULL;
	if (it && f->offset < it->len) {
		uint32_t k = it->len - f->offset < n ? it->len - f->offset : n;
		phys_write_buf(f->m->mmu, gpa, it->data + f->offset, k);
		f->offset += k;
		gpa += k;
		n -= k;
	}
	while (n) {
		uint32_t k = n < sizeof(zeros) ? n : (uint32_t)sizeof(zeros);
		phys_write_buf(f->m->mmu, gpa, zeros, k);
		gpa += k;
		n -= k;
	}
}

/* Run the FWCfgDmaAccess at gpa; returns the control word to write back. */
static uint32_t dma_run(struct fw_cfg *f, uint64_t gpa)
{
	uint8_t d[16];
	phys_read_buf(f->m->mmu, gpa, d, sizeof(d));
	uint32_t control = be32(d), length = be32(d + 4);
	uint64_t addr = (uint64_t)be32(d + 8) << 32 | be32(d + 12);

	if (control & FW_CFG_DMA_CTL_SELECT)
		select_key(f, (uint16_t)(control >> 16));
	if (control & FW_CFG_DMA_CTL_READ) {
		dma_read(f, addr, length);
	} else if (control & FW_CFG_DMA_CTL_WRITE) {
		/* Writes must fit inside a writable item; otherwise dropped. */
		struct fw_item *it = f->cur >= 0 ? &f->items[f->cur] : NULL;
		if (!it || !it->writable || f->offset > it->len || length > it->len - f->offset)
			return FW_CFG_DMA_CTL_ERROR;
		phys_read_buf(f->m->mmu, addr, it->data + f->offset, length);
		f->offset += length;
	} else if (control & FW_CFG_DMA_CTL_SKIP) {
		uint32_t len = f->cur >= 0 ? f->items[f->cur].len : 0;
		f->offset = length > len - f->offset ? len : f->offset + length;
	}
	return 0;
}

static uint32_t dma_io_read(void *opaque, uint16_t port, unsigned size)
{
	struct fw_cfg *f = opaque;
	unsigned off = (unsigned)(port - f->base - 4) & 7;
	uint32_t v = 0;
	for (unsigned i = 0; i < size && off + i < 8; i++)
		v |= (uint32_t)dma_signature[off + i] << (8 * i);
	return v;
}

static void dma_io_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct fw_cfg *f = opaque;
	unsigned off = (unsigned)(port - f->base - 4) & 7;
	/* The bytes arrive in bus order: the register is big-endian. */
	for (unsigned i = 0; i < size && off + i < 8; i++)
		f->dma[off + i] = (uint8_t)(val >> (8 * i));
	if (off + size < 8)
		return;
	/* Writing the low half starts the transfer (fw_cfg.rst). */
	uint64_t gpa = (uint64_t)be32(f->dma) << 32 | be32(f->dma + 4);
	memset(f->dma, 0, sizeof(f->dma));
	uint32_t control = dma_run(f, gpa);
	uint8_t c[4];
	put_be32(c, control);
	phys_write_buf(f->m->mmu, gpa, c, 4);
}

static const struct ioport_ops dma_ops = {
	.read = dma_io_read,
	.write = dma_io_write,
};

/* ---- lifecycle ---- */

struct fw_cfg *fw_cfg_init(struct machine *m, uint16_t base)
{
	struct fw_cfg *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->m = m;
	f->cur = -1;
	if (!fw_cfg_add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4) ||
	    !fw_cfg_add_i32(f, FW_CFG_ID, FW_CFG_VERSION | FW_CFG_VERSION_DMA) || !rebuild_dir(f)) {
		fw_cfg_free(f);
		return NULL;
	}
	f->base = base;
	ioport_register(m->io, base, 2, &io_ops, f, "fw_cfg");
	ioport_register(m->io, (uint16_t)(base + 4), 8, &dma_ops, f, "fw_cfg-dma");
	return f;
}

void fw_cfg_reset(struct fw_cfg *f)
{
	f->cur = find_key(f, FW_CFG_SIGNATURE);
	f->offset = 0;
	memset(f->dma, 0, sizeof(f->dma));
}

void fw_cfg_free(struct fw_cfg *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->nitems; i++)
		free(f->items[i].data);
	free(f->items);
	free(f);
}

/* ---- the pc board's items ---- */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

bool fw_cfg_add_pc_items(struct fw_cfg *f, const struct fw_cfg_pc_config *c)
{
	int max = c->max_cpus > c->ncpus ? c->max_cpus : c->ncpus;
	bool ok = fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, c->ram_below_4g + c->ram_above_4g) &&
		  fw_cfg_add_i16(f, FW_CFG_NB_CPUS, (uint16_t)c->ncpus) &&
		  fw_cfg_add_i16(f, FW_CFG_MAX_CPUS, (uint16_t)max) &&
		  fw_cfg_add_i16(f, FW_CFG_BOOT_MENU, c->boot_menu) &&
		  fw_cfg_add_i16(f, FW_CFG_NOGRAPHIC, c->nographic) &&
		  fw_cfg_add_i32(f, FW_CFG_IRQ0_OVERRIDE, 1) &&
		  fw_cfg_add_i16(f, FW_CFG_ACPI_TABLES, 0) &&
		  fw_cfg_add_i16(f, FW_CFG_SMBIOS_ENTRIES, 0) &&
		  fw_cfg_add_i32(f, FW_CFG_E820_TABLE, 0);

	/* NUMA: le64 node count (0), one le64 node number per possible CPU,
	 * then one le64 size per node (none). */
	uint32_t numa_len = 8 * (1 + (uint32_t)max);
	uint8_t *numa = calloc(1, numa_len);
	ok = ok && numa && fw_cfg_add_bytes(f, FW_CFG_NUMA, numa, numa_len);
	free(numa);

	/* etc/e820: struct { le64 address, length; le32 type; } packed. */
	uint8_t e820[2 * 20] = { 0 };
	uint32_t n = 0;
	if (c->ram_below_4g) {
		put_le(e820 + 20 * n + 8, c->ram_below_4g, 8);
		put_le(e820 + 20 * n + 16, FW_CFG_E820_RAM, 4);
		n++;
	}
	if (c->ram_above_4g) {
		put_le(e820 + 20 * n, 1ull << 32, 8);
		put_le(e820 + 20 * n + 8, c->ram_above_4g, 8);
		put_le(e820 + 20 * n + 16, FW_CFG_E820_RAM, 4);
		n++;
	}
	ok = ok && fw_cfg_add_file(f, "etc/e820", e820, 20 * n) >= 0;

	if (c->bootorder)
		ok = ok && fw_cfg_add_file(f, "bootorder", c->bootorder,
					   (uint32_t)strlen(c->bootorder) + 1) >= 0;
	if (c->boot_fail_wait >= 0)
		ok = ok && fw_cfg_add_file_int(f, "etc/boot-fail-wait", (uint32_t)c->boot_fail_wait,
					       4) >= 0;
	if (c->boot_menu_wait)
		ok = ok && fw_cfg_add_file_int(
				   f, "etc/boot-menu-wait",
				   c->boot_menu_wait > 0xffff ? 0xffff : c->boot_menu_wait, 2) >= 0;
	return ok;
}
