/*
 * devices/acpi_dsdt.c — the DSDT's AML for the pc board (ACPI 6.x §20.2
 * grammar), produced by a tiny emitter so every PkgLength is computed, not
 * hand-counted. The namespace (ASL equivalent):
 *
 *   Name (\_S5, Package (4) { 0, 0, 0, 0 })      PIIX4 SLP_TYP 0 = soft off
 *   Scope (\_SB) {
 *     Device (PCI0) {                             host bridge, bus 0
 *       Name (_HID, EisaId ("PNP0A03"))  Name (_ADR, 0)  Name (_UID, 0)
 *       Name (_CRS, ResourceTemplate () {         windows decoded on bus 0
 *         WordBusNumber 0-FFh; IO 0CF8h len 8 (consumer);
 *         WordIO 0-0CF7h; WordIO 0D00h-FFFFh; DWordMemory A0000h-BFFFFh;
 *         DWordMemory <PCI hole>; [QWordMemory <64-bit window>] })
 *       Name (_PRT, Package () { Package () { 0xSSSSFFFF, pin, 0, GSI } ...})
 *       Device (ISA) { Name (_ADR, 0x00010000)    PIIX3 function 01.0
 *         Device (KBD)  PNP0303 IO 60h, 64h, IRQ 1
 *         Device (MOU)  PNP0F13 IRQ 12
 *         Device (RTC)  PNP0B00 IO 70h-71h, IRQ 8
 *         Device (COM1) PNP0501 _UID 1, IO 3F8h-3FFh, IRQ 4 }
 *       Device (FWCF) "QEMU0002" _STA 0Bh, IO <fw_cfg> len 12   (if present)
 *     }
 *     Device (Cnnn) { Name (_HID, "ACPI0007") Name (_UID, n) }  per vCPU
 *   }
 *
 * Why these: SeaBIOS parses the DSDT it receives over fw_cfg and skips its
 * PS/2 keyboard setup when no PNP0303 device is listed (src/hw/ps2port.c),
 * so KBD is required for the boot menu; Linux takes PCI windows from
 * PCI0._CRS and INTx routing from _PRT (see acpi_tables.h for the GSI
 * choice), binds serial/RTC/i8042 drivers through their PNP ids, finds
 * fw_cfg through QEMU0002 and the processors through ACPI0007 _UIDs, which
 * equal the MADT processor UIDs. SeaBIOS's parser only understands a subset
 * of AML (Name, Scope, Device, Method, Buffer, Package, byte/word/dword
 * integers): no QWord integers are used outside buffers.
 *
 * The q35 variant (cfg->q35) differs in the PCI root and its children:
 *
 *   Name (PICF, 0)  Method (\_PIC, 1) { Store (Arg0, PICF) }
 *   Scope (\_SB) { Device (PCI0) {
 *       Name (_HID, EisaId ("PNP0A08"))  Name (_CID, EisaId ("PNP0A03")) ...
 *       _CRS as above
 *       Name (PRTP, Package () { {0xSSSSFFFF, pin, 0, IRQ 10/11} ... })  PIC mode
 *       Name (PRTA, Package () { {0xSSSSFFFF, pin, 0, GSI 16-23} ... })  APIC mode
 *       Method (_PRT) { If (PICF) { Return (PRTA) } Return (PRTP) }
 *       Device (LPC) { Name (_ADR, 0x001F0000)  KBD, MOU, RTC, COM1 as above }
 *       Device (FWCF) ...
 *       Device (PDRC) PNP0C02 Memory32Fixed <ECAM window>  (reserves it)
 *   } ... }
 *
 * ICH9 wiring (devices/ich9_lpc.h): slot s (1-24) pin p (0 = INTA) drives
 * PIRQ E-H ((s + p) & 3) + 4, slots 25-31 PIRQ A-D (the DxxIR defaults);
 * PIRQ n reaches GSI 16 + n, and in PIC mode the ISA IRQ the firmware routed
 * it to (10, 10, 11, 11 for A-D and again for E-H).
 */
#include "devices/acpi_dsdt.h"

#include <stdbool.h>
#include <string.h>

#include "devices/acpi_tables.h"

/* AML opcodes (§20.2). */
#define AML_ZERO    0x00
#define AML_ONE     0x01
#define AML_NAME    0x08
#define AML_BYTE    0x0a
#define AML_WORD    0x0b
#define AML_DWORD   0x0c
#define AML_STRING  0x0d
#define AML_SCOPE   0x10
#define AML_BUFFER  0x11
#define AML_PACKAGE 0x12
#define AML_METHOD  0x14
#define AML_ARG0    0x68
#define AML_STORE   0x70
#define AML_IF      0xa0
#define AML_RETURN  0xa4
#define AML_EXT     0x5b
#define AML_DEVICE  0x82 /* after AML_EXT */

#define AML_MAX_DEPTH 8

struct aml {
	uint8_t *b;
	uint32_t len, cap;
	bool overflow;
	uint32_t open[AML_MAX_DEPTH]; /* where each open package's body starts */
	int depth;
};

static void emit(struct aml *a, const void *p, uint32_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->b + a->len, p, n);
	a->len += n;
}

static void byte(struct aml *a, uint8_t v)
{
	emit(a, &v, 1);
}

static void le(struct aml *a, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		byte(a, (uint8_t)(v >> (8 * i)));
}

/* NameSeg: four characters, padded with '_' (§20.2.2). */
static void nameseg(struct aml *a, const char *s)
{
	char seg[4] = { '_', '_', '_', '_' };
	for (int i = 0; i < 4 && s[i]; i++)
		seg[i] = s[i];
	emit(a, seg, 4);
}

/* ComputationalData integer in its shortest form (no QWord: see top). */
static void integer(struct aml *a, uint32_t v)
{
	if (v == 0) {
		byte(a, AML_ZERO);
	} else if (v == 1) {
		byte(a, AML_ONE);
	} else if (v <= 0xff) {
		byte(a, AML_BYTE);
		byte(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		byte(a, AML_WORD);
		le(a, v, 2);
	} else {
		byte(a, AML_DWORD);
		le(a, v, 4);
	}
}

static void string(struct aml *a, const char *s)
{
	byte(a, AML_STRING);
	emit(a, s, (uint32_t)strlen(s) + 1);
}

/* EISA id "PNPxxxx" compressed into a DWordConst (§6.1.5 _HID). */
static void eisaid(struct aml *a, const char *id)
{
	uint8_t c1 = (uint8_t)(id[0] - 0x40), c2 = (uint8_t)(id[1] - 0x40);
	uint8_t c3 = (uint8_t)(id[2] - 0x40);
	uint8_t h[4];
	for (int i = 0; i < 4; i++) {
		char c = id[3 + i];
		h[i] = (uint8_t)(c <= '9' ? c - '0' : c - 'A' + 10);
	}
	byte(a, AML_DWORD);
	byte(a, (uint8_t)(c1 << 2 | c2 >> 3));
	byte(a, (uint8_t)((c2 & 7) << 5 | c3));
	byte(a, (uint8_t)(h[0] << 4 | h[1]));
	byte(a, (uint8_t)(h[2] << 4 | h[3]));
}

/* Open a package-length-prefixed construct after its opcode bytes. */
static void open_pkg(struct aml *a)
{
	if (a->depth == AML_MAX_DEPTH) {
		a->overflow = true;
		return;
	}
	a->open[a->depth++] = a->len;
}

/* Close it: insert the PkgLength (§20.2.4), which counts itself and the
 * body. One byte holds up to 63; n > 1 bytes hold 4 + 8 * (n - 1) bits,
 * the first byte carrying (n - 1) << 6 and the low nibble. */
static void close_pkg(struct aml *a)
{
	if (a->overflow || a->depth == 0) {
		a->overflow = true;
		return;
	}
	uint32_t start = a->open[--a->depth];
	uint32_t body = a->len - start;
	unsigned n = 1;
	while (n < 4 && body + n >= (n == 1 ? 64u : 1u << (4 + 8 * (n - 1))))
		n++;
	uint32_t total = body + n;
	if (n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memmove(a->b + start + n, a->b + start, body);
	if (n == 1) {
		a->b[start] = (uint8_t)total;
	} else {
		a->b[start] = (uint8_t)((n - 1) << 6 | (total & 0xf));
		for (unsigned i = 1; i < n; i++)
			a->b[start + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	a->len += n;
}

static void name_int(struct aml *a, const char *name, uint32_t v)
{
	byte(a, AML_NAME);
	nameseg(a, name);
	integer(a, v);
}

static void device_open(struct aml *a, const char *name)
{
	byte(a, AML_EXT);
	byte(a, AML_DEVICE);
	open_pkg(a);
	nameseg(a, name);
}

static void device_hid(struct aml *a, const char *name, const char *pnp)
{
	device_open(a, name);
	byte(a, AML_NAME);
	nameseg(a, "_HID");
	eisaid(a, pnp);
}

/* Name (_CRS, Buffer) around resource descriptors: call crs_open, emit the
 * descriptors, then crs_close (adds the end tag, §6.4.2.9). */
static uint32_t crs_open(struct aml *a)
{
	byte(a, AML_NAME);
	nameseg(a, "_CRS");
	byte(a, AML_BUFFER);
	open_pkg(a);
	byte(a, AML_WORD); /* buffer size, patched by crs_close */
	uint32_t at = a->len;
	le(a, 0, 2);
	return at;
}

static void crs_close(struct aml *a, uint32_t size_at)
{
	byte(a, 0x79); /* end tag */
	byte(a, 0);    /* checksum 0: treated as valid */
	if (!a->overflow) {
		uint32_t n = a->len - (size_at + 2);
		a->b[size_at] = (uint8_t)n;
		a->b[size_at + 1] = (uint8_t)(n >> 8);
	}
	close_pkg(a);
}

/* I/O port descriptor, 16-bit decode (§6.4.2.5). */
static void res_io(struct aml *a, uint16_t base, uint8_t align, uint8_t len)
{
	byte(a, 0x47);
	byte(a, 1);
	le(a, base, 2);
	le(a, base, 2);
	byte(a, align);
	byte(a, len);
}

/* IRQ descriptor without flags: edge, active high (§6.4.2.1). */
static void res_irq(struct aml *a, unsigned irq)
{
	byte(a, 0x22);
	le(a, 1u << irq, 2);
}

/* Word address space descriptor (§6.4.3.5.3), producer, min/max fixed. */
static void res_word(struct aml *a, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	byte(a, 0x88);
	le(a, 13, 2);
	byte(a, type); /* 1 = I/O, 2 = bus number */
	byte(a, 0x0c); /* MinFixed | MaxFixed, positive decode, producer */
	byte(a, tflags);
	le(a, 0, 2); /* granularity */
	le(a, min, 2);
	le(a, max, 2);
	le(a, 0, 2); /* translation */
	le(a, (uint32_t)(max - min + 1), 2);
}

/* DWord memory descriptor (§6.4.3.5.2), producer, read/write. */
static void res_dword_mem(struct aml *a, uint8_t cache, uint32_t min, uint32_t max)
{
	byte(a, 0x87);
	le(a, 23, 2);
	byte(a, 0); /* memory */
	byte(a, 0x0c);
	byte(a, (uint8_t)(cache << 1 | 1));
	le(a, 0, 4);
	le(a, min, 4);
	le(a, max, 4);
	le(a, 0, 4);
	le(a, max - min + 1, 4);
}

/* QWord memory descriptor (§6.4.3.5.1). */
static void res_qword_mem(struct aml *a, uint64_t min, uint64_t len)
{
	byte(a, 0x8a);
	le(a, 43, 2);
	byte(a, 0);
	byte(a, 0x0c);
	byte(a, 1); /* non-cacheable, read/write */
	le(a, 0, 8);
	le(a, min, 8);
	le(a, min + len - 1, 8);
	le(a, 0, 8);
	le(a, len, 8);
}

/* PIRQA..D -> GSI, as SeaBIOS programs the PIIX3 (acpi_tables.h). */
static const uint8_t pirq_gsi[4] = { 10, 10, 11, 11 };

/* Memory32Fixed, read/write (§6.4.3.4). */
static void res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
	byte(a, 0x86);
	le(a, 9, 2);
	byte(a, 1);
	le(a, base, 4);
	le(a, len, 4);
}

/* _PRT (§6.2.13) of the i440FX/PIIX board: {address 0xSSSSFFFF, pin,
 * source 0, GSI}. Slot 0 is the host bridge and has no INTx. */
static void piix_prt(struct aml *a)
{
	byte(a, AML_NAME);
	nameseg(a, "_PRT");
	byte(a, AML_PACKAGE);
	open_pkg(a);
	byte(a, 31 * 4);
	for (uint32_t slot = 1; slot < 32; slot++) {
		for (uint32_t pin = 0; pin < 4; pin++) {
			byte(a, AML_PACKAGE);
			open_pkg(a);
			byte(a, 4);
			integer(a, slot << 16 | 0xffff);
			integer(a, pin);
			integer(a, 0);
			integer(a, pirq_gsi[(slot + pin - 1) & 3]);
			close_pkg(a);
		}
	}
	close_pkg(a);
}

/* Name (name, Package () { {0xSSSSFFFF, pin, 0, gsi} ... }) for slots
 * 1-31 on the ICH9 wiring: apic selects GSI 16-23, else the PIC-mode ISA
 * IRQ. */
static void ich9_prt_table(struct aml *a, const char *name, bool apic)
{
	byte(a, AML_NAME);
	nameseg(a, name);
	byte(a, AML_PACKAGE);
	open_pkg(a);
	byte(a, 31 * 4);
	for (uint32_t slot = 1; slot < 32; slot++) {
		for (uint32_t pin = 0; pin < 4; pin++) {
			uint32_t pirq = slot >= 25 ? pin : ((slot + pin) & 3) + 4;
			byte(a, AML_PACKAGE);
			open_pkg(a);
			byte(a, 4);
			integer(a, slot << 16 | 0xffff);
			integer(a, pin);
			integer(a, 0);
			integer(a, apic ? 16 + pirq : pirq_gsi[pirq & 3]);
			close_pkg(a);
		}
	}
	close_pkg(a);
}

/* The q35's _PRT: Method (_PRT) { If (\PICF) { Return (PRTA) } Return (PRTP) }. */
static void q35_prt(struct aml *a)
{
	ich9_prt_table(a, "PRTP", false);
	ich9_prt_table(a, "PRTA", true);
	byte(a, AML_METHOD);
	open_pkg(a);
	nameseg(a, "_PRT");
	byte(a, 0); /* no arguments, not serialized */
	byte(a, AML_IF);
	open_pkg(a);
	byte(a, '\\');
	nameseg(a, "PICF");
	byte(a, AML_RETURN);
	nameseg(a, "PRTA");
	close_pkg(a);
	byte(a, AML_RETURN);
	nameseg(a, "PRTP");
	close_pkg(a);
}

static void pci0(struct aml *a, const struct acpi_config *cfg)
{
	device_hid(a, "PCI0", cfg->q35 ? "PNP0A08" : "PNP0A03");
	if (cfg->q35) {
		byte(a, AML_NAME);
		nameseg(a, "_CID");
		eisaid(a, "PNP0A03");
	}
	name_int(a, "_ADR", 0);
	name_int(a, "_UID", 0);

	uint32_t crs = crs_open(a);
	res_word(a, 2, 0, 0, 0xff);
	res_io(a, 0xcf8, 1, 8);
	res_word(a, 1, 3, 0, 0xcf7); /* EntireRange */
	res_word(a, 1, 3, 0xd00, 0xffff);
	res_dword_mem(a, 1, 0xa0000, 0xbffff);
	uint32_t lo = cfg->pci_hole_start ? cfg->pci_hole_start : 0xc0000000u;
	uint32_t hi = cfg->pci_hole_end ? cfg->pci_hole_end : 0xfebfffffu;
	res_dword_mem(a, 0, lo, hi);
	if (cfg->pci64_size)
		res_qword_mem(a, cfg->pci64_start, cfg->pci64_size);
	crs_close(a, crs);

	if (cfg->q35)
		q35_prt(a);
	else
		piix_prt(a);

	device_open(a, cfg->q35 ? "LPC" : "ISA");
	name_int(a, "_ADR", cfg->q35 ? 0x001f0000 : 0x00010000);
	uint32_t c;
	device_hid(a, "KBD", "PNP0303");
	c = crs_open(a);
	res_io(a, 0x60, 1, 1);
	res_io(a, 0x64, 1, 1);
	res_irq(a, 1);
	crs_close(a, c);
	close_pkg(a);
	device_hid(a, "MOU", "PNP0F13");
	c = crs_open(a);
	res_irq(a, 12);
	crs_close(a, c);
	close_pkg(a);
	device_hid(a, "RTC", "PNP0B00");
	c = crs_open(a);
	res_io(a, 0x70, 1, 2);
	res_irq(a, 8);
	crs_close(a, c);
	close_pkg(a);
	device_hid(a, "COM1", "PNP0501");
	name_int(a, "_UID", 1);
	c = crs_open(a);
	res_io(a, 0x3f8, 1, 8);
	res_irq(a, 4);
	crs_close(a, c);
	close_pkg(a);
	close_pkg(a); /* ISA */

	if (cfg->fw_cfg_port) {
		device_open(a, "FWCF");
		byte(a, AML_NAME);
		nameseg(a, "_HID");
		string(a, "QEMU0002");
		name_int(a, "_STA", 0x0b); /* present, enabled, not shown in UI */
		c = crs_open(a);
		res_io(a, cfg->fw_cfg_port, 1, 12);
		crs_close(a, c);
		close_pkg(a);
	}
	if (cfg->q35 && cfg->mcfg_base && cfg->mcfg_base < (1ull << 32)) {
		/* The ECAM window, a motherboard resource (Linux checks that
		 * MCFG's window is reserved this way). */
		device_hid(a, "PDRC", "PNP0C02");
		c = crs_open(a);
		res_mem32_fixed(a, (uint32_t)cfg->mcfg_base,
				(uint32_t)(cfg->mcfg_end_bus + 1) << 20);
		crs_close(a, c);
		close_pkg(a);
	}
	close_pkg(a); /* PCI0 */
}

uint32_t acpi_dsdt_aml(const struct acpi_config *cfg, uint8_t *buf, uint32_t cap)
{
	struct aml a = { .b = buf, .cap = cap };

	/* Name (_S5, Package (4) { 0, 0, 0, 0 }) */
	byte(&a, AML_NAME);
	nameseg(&a, "_S5");
	byte(&a, AML_PACKAGE);
	open_pkg(&a);
	byte(&a, 4);
	for (int i = 0; i < 4; i++)
		integer(&a, 0);
	close_pkg(&a);

	if (cfg->q35) {
		/* Name (PICF, 0)  Method (\_PIC, 1) { Store (Arg0, PICF) }:
		 * the OS says which interrupt model it uses (§5.8.1). */
		name_int(&a, "PICF", 0);
		byte(&a, AML_METHOD);
		open_pkg(&a);
		byte(&a, '\\');
		nameseg(&a, "_PIC");
		byte(&a, 1); /* one argument */
		byte(&a, AML_STORE);
		byte(&a, AML_ARG0);
		nameseg(&a, "PICF");
		close_pkg(&a);
	}

	/* Scope (\_SB) */
	byte(&a, AML_SCOPE);
	open_pkg(&a);
	byte(&a, '\\');
	nameseg(&a, "_SB");
	pci0(&a, cfg);
	for (int i = 0; i < cfg->ncpus; i++) {
		static const char hex[] = "0123456789ABCDEF";
		char name[5] = { 'C', hex[(i >> 8) & 15], hex[(i >> 4) & 15], hex[i & 15], 0 };
		device_open(&a, name);
		byte(&a, AML_NAME);
		nameseg(&a, "_HID");
		string(&a, "ACPI0007");
		name_int(&a, "_UID", (uint32_t)i);
		close_pkg(&a);
	}
	close_pkg(&a);

	if (a.overflow || a.depth != 0)
		return 0;
	return a.len;
}
