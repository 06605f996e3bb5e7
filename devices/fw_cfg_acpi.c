/*
 * devices/fw_cfg_acpi.c — hands the ACPI tables to firmware the way QEMU
 * does: two fw_cfg files with the position-independent blobs
 * ("etc/acpi/rsdp", "etc/acpi/tables", built by devices/acpi_tables.c) and
 * "etc/table-loader", a script for the firmware's BIOS linker/loader
 * (SeaBIOS src/fw/romfile_loader.c) that places and patches them.
 *
 * Script format: an array of 128-byte little-endian commands,
 *   +0 le32 command, then per command:
 *   1 ALLOCATE      +4 file[56]   +60 le32 align   +64 u8 zone (1 high, 2 F-seg)
 *   2 ADD_POINTER   +4 dest[56]   +60 src[56]      +116 le32 offset  +120 u8 size
 *                   (dest's field at offset += address of src)
 *   3 ADD_CHECKSUM  +4 file[56]   +60 le32 offset  +64 le32 start    +68 le32 length
 *                   (byte at offset -= sum of bytes [start, start+length))
 * Files must be allocated before they are referenced; commands run in
 * order, so every ADD_POINTER precedes the checksums covering its field.
 * The RSDP goes to the F-segment (0xE0000-0xFFFFF) because that is where
 * SeaBIOS (find_acpi_rsdp) and OSes look for it.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/acpi_tables.h"
#include "devices/fw_cfg.h"

#define LOADER_ENTRY 128
enum {
	CMD_ALLOCATE = 1,
	CMD_ADD_POINTER = 2,
	CMD_ADD_CHECKSUM = 3
};
enum {
	ZONE_HIGH = 1,
	ZONE_FSEG = 2
};

static const char *const blob_file[2] = { "etc/acpi/rsdp", "etc/acpi/tables" };

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_name(uint8_t *p, const char *name)
{
	strncpy((char *)p, name, FW_CFG_MAX_FILE_PATH - 1);
}

bool fw_cfg_add_acpi(struct fw_cfg *f, const struct acpi_config *cfg)
{
	enum {
		CAP = 0x10000
	};
	uint8_t rsdp[ACPI_RSDP_SIZE];
	uint8_t *tables = malloc(CAP);
	struct acpi_links *links = malloc(sizeof(*links));
	uint8_t *script = NULL;
	bool ok = false;
	if (!tables || !links)
		goto out;
	uint32_t len = acpi_build_blobs(cfg, rsdp, tables, CAP, links);
	if (!len)
		goto out;

	unsigned ncmd = 2 + links->npointers + links->nchecksums;
	script = calloc(ncmd, LOADER_ENTRY);
	if (!script)
		goto out;
	uint8_t *e = script;
	put32(e, CMD_ALLOCATE);
	put_name(e + 4, blob_file[ACPI_BLOB_RSDP]);
	put32(e + 60, 16);
	e[64] = ZONE_FSEG;
	e += LOADER_ENTRY;
	put32(e, CMD_ALLOCATE);
	put_name(e + 4, blob_file[ACPI_BLOB_TABLES]);
	put32(e + 60, ACPI_TABLES_ALIGN);
	e[64] = ZONE_HIGH;
	e += LOADER_ENTRY;
	for (unsigned i = 0; i < links->npointers; i++, e += LOADER_ENTRY) {
		const struct acpi_pointer *p = &links->pointer[i];
		put32(e, CMD_ADD_POINTER);
		put_name(e + 4, blob_file[p->blob]);
		put_name(e + 60, blob_file[p->target]);
		put32(e + 116, p->offset);
		e[120] = p->size;
	}
	for (unsigned i = 0; i < links->nchecksums; i++, e += LOADER_ENTRY) {
		const struct acpi_checksum *c = &links->checksum[i];
		put32(e, CMD_ADD_CHECKSUM);
		put_name(e + 4, blob_file[c->blob]);
		put32(e + 60, c->offset);
		put32(e + 64, c->start);
		put32(e + 68, c->len);
	}

	ok = fw_cfg_add_file(f, blob_file[ACPI_BLOB_RSDP], rsdp, ACPI_RSDP_SIZE) >= 0 &&
	     fw_cfg_add_file(f, blob_file[ACPI_BLOB_TABLES], tables, len) >= 0 &&
	     fw_cfg_add_file(f, "etc/table-loader", script, ncmd * LOADER_ENTRY) >= 0;
out:
	free(script);
	free(links);
	free(tables);
	return ok;
}
