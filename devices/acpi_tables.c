/*
 * devices/acpi_tables.c — the pc board's ACPI tables (ACPI 6.x ch. 5): RSDP
 * (revision 2) -> XSDT and RSDT -> FADT (-> FACS, DSDT), MADT, HPET.
 *
 * Tables are built as two position-independent blobs (acpi_build_blobs):
 * the RSDP alone, and every other table in one buffer, FACS first. A
 * pointer field holds the offset of its target inside the target's blob and
 * is recorded in struct acpi_links, as is every checksum byte (left 0);
 * the firmware's linker/loader (SeaBIOS src/fw/romfile_loader.c) then adds
 * the blobs' load addresses and computes the checksums. Direct kernel boot
 * (acpi_build) does the same patching here for a fixed base, with the RSDP
 * on a 16-byte boundary at the base (the board puts it in 0xE0000-0xFFFFF,
 * where Linux also scans, and passes it in boot_params.acpi_rsdp_addr).
 * The DSDT's AML comes from devices/acpi_dsdt.c. The q35 additions (MCFG,
 * DMAR, the ICH9 GPE0 block) are described in acpi_tables.h.
 */
#include "devices/acpi_tables.h"

#include <string.h>

#include "devices/acpi_dsdt.h"

#define MCFG_LEN (44 + 16)
#define DMAR_LEN (48 + 16 + 8)

struct tbuf {
	uint8_t *b;
	uint32_t len, cap;
	struct acpi_links *links;
};

static uint32_t tb_alloc(struct tbuf *t, uint32_t n, uint32_t align)
{
	uint32_t at = (t->len + align - 1) & ~(align - 1);
	if (at + n > t->cap)
		return 0;
	t->len = at + n;
	return at;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t checksum(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return (uint8_t)(0 - s);
}

/* Standard 36-byte description header (§5.2.6); its checksum byte is
 * recorded by table_checksum(). */
static void header(uint8_t *h, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(h, sig, 4);
	put32(h + 4, len);
	h[8] = rev;
	memcpy(h + 10, "NESTBX", 6);
	memcpy(h + 16, "NESTBOX ", 8);
	put32(h + 24, 1);
	memcpy(h + 28, "NBOX", 4);
	put32(h + 32, 1);
}

/* Generic Address Structure (ACPI §5.2.3.2) for a system-I/O register. */
static void gas_io(uint8_t *g, uint8_t bits, uint16_t port)
{
	g[0] = 1; /* system I/O */
	g[1] = bits;
	g[2] = 0;
	g[3] = bits == 8 ? 1 : bits == 16 ? 2 : 3; /* access size */
	put64(g + 4, port);
}

/* Record a pointer field of the tables blob that points into `target`. */
static void link_ptr(struct tbuf *t, uint8_t blob, uint32_t off, uint8_t size, uint8_t target)
{
	struct acpi_links *l = t->links;
	if (l->npointers < ACPI_MAX_POINTERS)
		l->pointer[l->npointers++] = (struct acpi_pointer){ blob, size, target, off };
}

static void link_cksum(struct tbuf *t, uint8_t blob, uint32_t off, uint32_t start, uint32_t len)
{
	struct acpi_links *l = t->links;
	if (l->nchecksums < ACPI_MAX_CHECKSUMS)
		l->checksum[l->nchecksums++] = (struct acpi_checksum){ blob, off, start, len };
}

/* Checksum of a whole table at offset at of the tables blob. */
static void table_checksum(struct tbuf *t, uint32_t at)
{
	uint32_t len;
	memcpy(&len, t->b + at + 4, 4);
	link_cksum(t, ACPI_BLOB_TABLES, at + 9, at, len);
}

uint32_t acpi_build_blobs(const struct acpi_config *cfg, uint8_t *rsdp_buf, uint8_t *buf,
			  uint32_t cap, struct acpi_links *links)
{
	enum {
		T = ACPI_BLOB_TABLES
	};
	struct tbuf t = { buf, 0, cap, links };
	memset(buf, 0, cap);
	memset(rsdp_buf, 0, ACPI_RSDP_SIZE);
	memset(links, 0, sizeof(*links));
	if (cfg->ncpus < 1 || cfg->ncpus > 255)
		return 0;

	/* DSDT body first into the tail of buf, to learn its size. */
	if (cap < 4096)
		return 0;
	uint32_t aml_cap = cap / 2;
	uint8_t *aml = buf + cap - aml_cap;
	uint32_t aml_len = acpi_dsdt_aml(cfg, aml, aml_cap);
	if (!aml_len)
		return 0;
	t.cap = cap - aml_cap;

	uint32_t facs = tb_alloc(&t, 64, 64); /* 0: FACS needs 64-byte alignment */
	uint32_t dsdt = tb_alloc(&t, 36 + aml_len, 8);
	uint32_t fadt = tb_alloc(&t, 276, 8);
	uint32_t madt_len = 44 + 8 * (uint32_t)cfg->ncpus + 12 + 10 * 2 + 6;
	uint32_t madt = tb_alloc(&t, madt_len, 8);
	uint32_t hpet = cfg->hpet_addr ? tb_alloc(&t, 56, 8) : 0;
	uint32_t mcfg = cfg->q35 ? tb_alloc(&t, MCFG_LEN, 8) : 0;
	uint32_t dmar = cfg->dmar_base ? tb_alloc(&t, DMAR_LEN, 8) : 0;
	uint32_t tables[5], ntables = 0;
	tables[ntables++] = fadt;
	tables[ntables++] = madt;
	if (cfg->hpet_addr)
		tables[ntables++] = hpet;
	if (cfg->q35)
		tables[ntables++] = mcfg;
	if (cfg->dmar_base)
		tables[ntables++] = dmar;
	uint32_t rsdt = tb_alloc(&t, 36 + 4 * ntables, 8);
	uint32_t xsdt = tb_alloc(&t, 36 + 8 * ntables, 8);
	if (!xsdt || (cfg->hpet_addr && !hpet) || !madt || !fadt || !dsdt || (cfg->q35 && !mcfg) ||
	    (cfg->dmar_base && !dmar))
		return 0;

	/* FACS (§5.2.10): no checksum. */
	memcpy(buf + facs, "FACS", 4);
	put32(buf + facs + 4, 64);

	/* DSDT */
	memmove(buf + dsdt + 36, aml, aml_len);
	header(buf + dsdt, "DSDT", 36 + aml_len, 2);
	table_checksum(&t, dsdt);

	/* FADT (§5.2.9), revision 6 layout, 276 bytes. */
	uint8_t *f = buf + fadt;
	header(f, "FACP", 276, 6);
	put32(f + 36, facs); /* FIRMWARE_CTRL */
	link_ptr(&t, T, fadt + 36, 4, T);
	put32(f + 40, dsdt); /* DSDT */
	link_ptr(&t, T, fadt + 40, 4, T);
	f[45] = 0; /* preferred PM profile: unspecified */
	put16(f + 46, cfg->sci_irq);
	put32(f + 48, cfg->smi_cmd);
	f[52] = cfg->acpi_enable;
	f[53] = cfg->acpi_disable;
	put32(f + 56, cfg->pm_base);     /* PM1a_EVT_BLK */
	put32(f + 64, cfg->pm_base + 4); /* PM1a_CNT_BLK */
	put32(f + 76, cfg->pm_base + 8); /* PM_TMR_BLK */
	/* GPE0_BLK: PIIX4 +0Ch, 4 bytes (devices/acpi_pm.h); ICH9 +20h, 16
	 * bytes (devices/ich9_lpc.h). */
	uint16_t gpe0 = (uint16_t)(cfg->pm_base + (cfg->q35 ? 0x20 : 0x0c));
	uint8_t gpe0_len = cfg->q35 ? 16 : 4;
	put32(f + 80, gpe0);
	f[88] = 4;              /* PM1_EVT_LEN */
	f[89] = 2;              /* PM1_CNT_LEN */
	f[91] = 4;              /* PM_TMR_LEN */
	f[92] = gpe0_len;       /* GPE0_BLK_LEN */
	put16(f + 96, 0xfff);   /* P_LVL2_LAT: C2 unsupported */
	put16(f + 98, 0xfff);   /* P_LVL3_LAT: C3 unsupported */
	f[108] = 0x32;          /* CENTURY in CMOS */
	put16(f + 109, 0x0003); /* IAPC_BOOT_ARCH: LEGACY_DEVICES | 8042 */
	/* Flags: WBINVD, PROC_C1, SLP_BUTTON (no fixed sleep button; the
	 * fixed power button stays: PWR_BUTTON clear), TMR_VAL_EXT,
	 * RESET_REG_SUP. */
	put32(f + 112, 1u << 0 | 1u << 2 | 1u << 5 | 1u << 8 | 1u << 10);
	gas_io(f + 116, 8, 0xcf9); /* RESET_REG */
	f[128] = 0x06;             /* RESET_VALUE */
	f[131] = 1;                /* FADT minor version */
	put64(f + 132, facs);      /* X_FIRMWARE_CTRL */
	link_ptr(&t, T, fadt + 132, 8, T);
	put64(f + 140, dsdt); /* X_DSDT */
	link_ptr(&t, T, fadt + 140, 8, T);
	gas_io(f + 148, 32, cfg->pm_base);
	gas_io(f + 172, 16, (uint16_t)(cfg->pm_base + 4));
	gas_io(f + 208, 32, (uint16_t)(cfg->pm_base + 8));
	if (cfg->q35) {
		gas_io(f + 220, (uint8_t)(gpe0_len * 8), gpe0);
		f[223] = 1; /* byte access */
	} else {
		gas_io(f + 220, 32, gpe0);
	}
	table_checksum(&t, fadt);

	/* MADT (§5.2.12) */
	uint8_t *m = buf + madt;
	header(m, "APIC", madt_len, 4);
	put32(m + 36, 0xfee00000);
	put32(m + 40, 1); /* PCAT_COMPAT: dual 8259s present */
	uint8_t *e = m + 44;
	for (int i = 0; i < cfg->ncpus; i++, e += 8) {
		e[0] = 0; /* processor local APIC: UID i = ACPI0007 _UID */
		e[1] = 8;
		e[2] = (uint8_t)i;
		e[3] = (uint8_t)i;
		put32(e + 4, 1); /* enabled */
	}
	e[0] = 1; /* IOAPIC */
	e[1] = 12;
	e[2] = cfg->ioapic_id;
	put32(e + 4, cfg->ioapic_addr);
	put32(e + 8, 0);
	e += 12;
	/* Interrupt source overrides: ISA IRQ0 -> GSI 2; the SCI is level,
	 * active high (flags 0x000d). */
	e[0] = 2;
	e[1] = 10;
	e[2] = 0;
	e[3] = 0;
	put32(e + 4, 2);
	put16(e + 8, 0);
	e += 10;
	e[0] = 2;
	e[1] = 10;
	e[2] = 0;
	e[3] = (uint8_t)cfg->sci_irq;
	put32(e + 4, cfg->sci_irq);
	put16(e + 8, 0x000d);
	e += 10;
	/* Local APIC NMI: LINT1 of all processors. */
	e[0] = 4;
	e[1] = 6;
	e[2] = 0xff;
	put16(e + 3, 0);
	e[5] = 1;
	table_checksum(&t, madt);

	/* HPET (IA-PC HPET spec 1.0a §3.2.4) */
	if (cfg->hpet_addr) {
		uint8_t *h = buf + hpet;
		header(h, "HPET", 56, 1);
		put32(h + 36, cfg->hpet_id);
		h[40] = 0; /* system memory */
		h[41] = 64;
		put64(h + 44, cfg->hpet_addr);
		h[52] = 0;
		put16(h + 53, 0x80); /* minimum tick */
		table_checksum(&t, hpet);
	}

	/* MCFG (PCI Firmware 3.0 §4.1.2): one ECAM window, segment 0. */
	if (cfg->q35) {
		uint8_t *c = buf + mcfg;
		header(c, "MCFG", MCFG_LEN, 1);
		put64(c + 44, cfg->mcfg_base);
		put16(c + 52, 0); /* segment group */
		c[54] = 0;        /* start bus */
		c[55] = cfg->mcfg_end_bus;
		table_checksum(&t, mcfg);
	}

	/* DMAR (VT-d spec §8.1, §8.3): one DRHD covering every PCI device
	 * (INCLUDE_PCI_ALL), whose device scope names the IOAPIC (the OS
	 * needs it to remap the IOAPIC's interrupts). */
	if (cfg->dmar_base) {
		uint8_t *d = buf + dmar;
		header(d, "DMAR", DMAR_LEN, 1);
		d[36] = (uint8_t)(cfg->dmar_haw - 1);
		d[37] = cfg->dmar_intremap ? 1 : 0; /* INTR_REMAP */
		uint8_t *h = d + 48;
		put16(h, 0); /* DRHD */
		put16(h + 2, 16 + 8);
		h[4] = 1; /* INCLUDE_PCI_ALL */
		h[5] = 0; /* register set: 2^0 pages */
		put16(h + 6, 0);
		put64(h + 8, cfg->dmar_base);
		uint8_t *sc = h + 16; /* device scope: IOAPIC */
		sc[0] = 3;
		sc[1] = 8;
		sc[4] = cfg->ioapic_id;
		sc[5] = (uint8_t)(cfg->dmar_ioapic_sid >> 8);
		sc[6] = (uint8_t)((cfg->dmar_ioapic_sid >> 3) & 0x1f);
		sc[7] = (uint8_t)(cfg->dmar_ioapic_sid & 7);
		table_checksum(&t, dmar);
	}

	/* RSDT and XSDT */
	header(buf + rsdt, "RSDT", 36 + 4 * ntables, 1);
	header(buf + xsdt, "XSDT", 36 + 8 * ntables, 1);
	for (uint32_t i = 0; i < ntables; i++) {
		put32(buf + rsdt + 36 + 4 * i, tables[i]);
		link_ptr(&t, T, rsdt + 36 + 4 * i, 4, T);
		put64(buf + xsdt + 36 + 8 * i, tables[i]);
		link_ptr(&t, T, xsdt + 36 + 8 * i, 8, T);
	}
	table_checksum(&t, rsdt);
	table_checksum(&t, xsdt);

	/* RSDP (§5.2.5), revision 2: the first 20 bytes carry their own
	 * checksum (byte 8), the whole 36 bytes the extended one (byte 32),
	 * which must come second as it covers byte 8. */
	uint8_t *r = rsdp_buf;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "NESTBX", 6);
	r[15] = 2;
	put32(r + 16, rsdt);
	link_ptr(&t, ACPI_BLOB_RSDP, 16, 4, T);
	put32(r + 20, ACPI_RSDP_SIZE);
	put64(r + 24, xsdt);
	link_ptr(&t, ACPI_BLOB_RSDP, 24, 8, T);
	link_cksum(&t, ACPI_BLOB_RSDP, 8, 0, 20);
	link_cksum(&t, ACPI_BLOB_RSDP, 32, 0, ACPI_RSDP_SIZE);

	memset(buf + t.len, 0, cap - t.len); /* drop the AML scratch copy */
	return t.len;
}

void acpi_link(const struct acpi_links *links, uint8_t *const blob[2], const uint64_t addr[2])
{
	for (unsigned i = 0; i < links->npointers; i++) {
		const struct acpi_pointer *p = &links->pointer[i];
		uint64_t v = 0;
		memcpy(&v, blob[p->blob] + p->offset, p->size);
		v += addr[p->target];
		memcpy(blob[p->blob] + p->offset, &v, p->size);
	}
	for (unsigned i = 0; i < links->nchecksums; i++) {
		const struct acpi_checksum *c = &links->checksum[i];
		uint8_t *b = blob[c->blob];
		b[c->offset] = 0;
		b[c->offset] = checksum(b + c->start, c->len);
	}
}

uint32_t acpi_build(const struct acpi_config *cfg, uint8_t *buf, uint32_t cap, uint32_t base)
{
	if (cap < ACPI_TABLES_ALIGN)
		return 0;
	struct acpi_links links;
	uint32_t len = acpi_build_blobs(cfg, buf, buf + ACPI_TABLES_ALIGN, cap - ACPI_TABLES_ALIGN,
					&links);
	if (!len)
		return 0;
	memset(buf + ACPI_RSDP_SIZE, 0, ACPI_TABLES_ALIGN - ACPI_RSDP_SIZE);
	uint8_t *const blob[2] = { buf, buf + ACPI_TABLES_ALIGN };
	const uint64_t addr[2] = { base, (uint64_t)base + ACPI_TABLES_ALIGN };
	acpi_link(&links, blob, addr);
	return ACPI_TABLES_ALIGN + len;
}
