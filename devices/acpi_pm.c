/*
 * devices/acpi_pm.c — PIIX4 power-management I/O block (PM1a event/control,
 * PM timer, GPE0), the APM control port handshake for SCI_EN and the PIIX
 * reset control register (0xCF9). See acpi_pm.h for the register map.
 *
 * The PM timer is a pure function of virtual time (ACPI spec §4.8.2.1:
 * 3.579545 MHz, 24 bits here, TMR_VAL_EXT = 0); a vtimer fires whenever bit
 * 23 toggles to set TMR_STS (the carry the OS uses to extend the counter).
 */
#include "devices/acpi_pm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "devices/clock.h"
#include "devices/ioport.h"
#include "devices/machine.h"

#define MAX_BASES 8
#define PM1_STS_MASK                                                                               \
	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_RTC | ACPI_PM1_WAK | (1u << 4) | \
	 (1u << 11))
#define PM1_EN_MASK (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_RTC)
/* SCI_EN, BM_RLD, SLP_TYP (PIIX4 SUS_TYP, bits 12:10). */
#define PM1_CNT_MASK (ACPI_PM1_SCI_EN | (1u << 1) | (7u << 10))
#define TMR_HALF     (1u << 23)

struct acpi_pm {
	struct machine *m;
	struct irq_line sci;
	uint16_t base;
	bool enabled;
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint16_t gpe_sts, gpe_en;
	uint8_t regs[ACPI_PM_SIZE]; /* +10h..+3Fh, no effect */
	bool sci_level;
	bool sleep_logged;
	struct vtimer tmr;
	/* APM control port. */
	uint8_t apm_cnt, apm_sts, apm_enable, apm_disable;
	/* PIIX reset control register. */
	uint8_t rcr;
	int nbases;
	uint16_t bases[MAX_BASES];
};

/* PM timer ticks since time 0. */
static uint64_t tmr_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * ACPI_PM_TMR_HZ / 1000000000u);
}
/* First ns at which the tick count reaches t. */
static uint64_t tmr_time(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * 1000000000u + ACPI_PM_TMR_HZ - 1) /
			  ACPI_PM_TMR_HZ);
}

static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->pm1_cnt & ACPI_PM1_SCI_EN) &&
		     ((pm->pm1_sts & pm->pm1_en & PM1_EN_MASK) || (pm->gpe_sts & pm->gpe_en));
	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_set(&pm->sci, level);
	}
}

static void tmr_arm(struct acpi_pm *pm)
{
	uint64_t t = tmr_ticks(clock_now(pm->m));
	vtimer_arm(pm->m, &pm->tmr, tmr_time((t / TMR_HALF + 1) * TMR_HALF));
}

static void tmr_cb(void *opaque)
{
	struct acpi_pm *pm = opaque;
	pm->pm1_sts |= ACPI_PM1_TMR;
	update_sci(pm);
	tmr_arm(pm);
}

static void do_sleep(struct acpi_pm *pm)
{
	unsigned typ = (pm->pm1_cnt >> 10) & 7;
	if (typ == 0) {
		/* PIIX4 SUS_TYP 000: soft off (S5). */
		machine_request_exit(pm->m, 0);
		return;
	}
	if (!pm->sleep_logged)
		fprintf(stderr, "nestbox: warning: acpi: sleep type %u not supported, ignored\n",
			typ);
	pm->sleep_logged = true;
}

static uint32_t pm_read(void *opaque, uint16_t port, unsigned size)
{
	struct acpi_pm *pm = opaque;
	if (!pm->enabled || port < pm->base || port >= pm->base + ACPI_PM_SIZE)
		return 0xffffffffu;
	unsigned off = port - pm->base;
	uint32_t v;
	switch (off & ~1u) {
	case 0x00:
		v = pm->pm1_sts | (uint32_t)pm->pm1_en << 16;
		break;
	case 0x02:
		v = pm->pm1_en;
		break;
	case 0x04:
		v = pm->pm1_cnt;
		break;
	case 0x08:
	case 0x0a:
		v = (uint32_t)tmr_ticks(clock_now(pm->m)) & 0xffffff;
		if (off & 2)
			v >>= 16;
		break;
	case 0x0c:
		v = pm->gpe_sts | (uint32_t)pm->gpe_en << 16;
		break;
	case 0x0e:
		v = pm->gpe_en;
		break;
	case 0x14: /* P_LVL2 / P_LVL3: reading enters C2/C3; we just return */
		v = 0;
		break;
	default:
		v = 0;
		for (unsigned i = 0; i < size && off + i < ACPI_PM_SIZE; i++)
			v |= (uint32_t)pm->regs[off + i] << (8 * i);
		return v;
	}
	return v >> ((off & 1) * 8);
}

static void pm_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct acpi_pm *pm = opaque;
	if (!pm->enabled || port < pm->base || port >= pm->base + ACPI_PM_SIZE)
		return;
	unsigned off = port - pm->base;
	/* Spread the access over 16-bit registers byte by byte. */
	for (unsigned i = 0; i < size; i++, off++) {
		uint16_t b = (uint16_t)((val >> (8 * i)) & 0xff);
		uint16_t sh = (off & 1) ? 8 : 0, mask = (uint16_t)(0xff << sh);
		uint16_t v = (uint16_t)(b << sh);
		switch (off & ~1u) {
		case 0x00: /* write 1 to clear */
			pm->pm1_sts &= (uint16_t) ~(v & PM1_STS_MASK);
			break;
		case 0x02:
			pm->pm1_en = (uint16_t)((pm->pm1_en & ~mask) | (v & PM1_EN_MASK));
			break;
		case 0x04:
			pm->pm1_cnt = (uint16_t)((pm->pm1_cnt & ~mask) | (v & PM1_CNT_MASK & mask));
			if (v & ACPI_PM1_SLP_EN) /* write-only, self-clearing */
				do_sleep(pm);
			break;
		case 0x08:
		case 0x0a:
			break; /* the PM timer is read-only */
		case 0x0c:
			pm->gpe_sts &= (uint16_t)~v;
			break;
		case 0x0e:
			pm->gpe_en = (uint16_t)((pm->gpe_en & ~mask) | v);
			break;
		default:
			if (off < ACPI_PM_SIZE)
				pm->regs[off] = (uint8_t)b;
			break;
		}
	}
	update_sci(pm);
}

static const struct ioport_ops pm_ops = { pm_read, pm_write, false };

void acpi_pm_set_base(struct acpi_pm *pm, uint16_t base, bool enabled)
{
	base &= 0xffc0;
	pm->base = base;
	pm->enabled = enabled && base;
	if (!pm->enabled)
		return;
	for (int i = 0; i < pm->nbases; i++)
		if (pm->bases[i] == base)
			return;
	/* The I/O space has no unregister: an old range stays registered to
	 * us and answers like an unclaimed port (pm_read checks the base). */
	if (pm->nbases < MAX_BASES)
		pm->bases[pm->nbases++] = base;
	ioport_register(pm->m->io, base, ACPI_PM_SIZE, &pm_ops, pm, "acpi-pm");
}

/* ---- APM control / status ports (0xB2/0xB3) ---- */

static uint32_t apm_read(void *opaque, uint16_t port, unsigned size)
{
	struct acpi_pm *pm = opaque;
	return port == 0xb2 ? pm->apm_cnt : pm->apm_sts;
}

static void apm_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct acpi_pm *pm = opaque;
	if (port == 0xb3) {
		pm->apm_sts = (uint8_t)val;
		return;
	}
	pm->apm_cnt = (uint8_t)val;
	if (pm->apm_cnt == pm->apm_enable)
		acpi_pm_set_sci_en(pm, true);
	else if (pm->apm_cnt == pm->apm_disable)
		acpi_pm_set_sci_en(pm, false);
}

static const struct ioport_ops apm_ops = { apm_read, apm_write, true };

void acpi_pm_map_apm(struct acpi_pm *pm, uint8_t enable_val, uint8_t disable_val)
{
	pm->apm_enable = enable_val;
	pm->apm_disable = disable_val;
	ioport_register(pm->m->io, 0xb2, 2, &apm_ops, pm, "apm");
}

void acpi_pm_set_sci_en(struct acpi_pm *pm, bool on)
{
	if (on)
		pm->pm1_cnt |= ACPI_PM1_SCI_EN;
	else
		pm->pm1_cnt &= (uint16_t)~ACPI_PM1_SCI_EN;
	update_sci(pm);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pm->pm1_sts |= ACPI_PM1_PWRBTN;
	update_sci(pm);
}

void acpi_pm_set_gpe(struct acpi_pm *pm, int n)
{
	if (n >= 0 && n < 16)
		pm->gpe_sts |= (uint16_t)(1u << n);
	update_sci(pm);
}

/* ---- reset control register (PIIX4 datasheet §4.1.x "RC") ---- */

static uint32_t rcr_read(void *opaque, uint16_t port, unsigned size)
{
	struct acpi_pm *pm = opaque;
	return pm->rcr;
}

static void rcr_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint8_t old = pm->rcr;
	pm->rcr = (uint8_t)val & 0x0a; /* SYS_RST, FULL_RST; RST_CPU self-clears */
	/* A 0->1 transition of RST_CPU resets; SYS_RST picks a hard reset,
	 * which is the only kind we have (a soft reset is an INIT). */
	if ((val & 4) && !(old & 4)) {
		struct machine *m = pm->m;
		m->reset_requested = true;
		for (int i = 0; i < m->ncpus; i++)
			if (m->cpu[i])
				m->cpu[i]->pending |= PEND_EXIT;
	}
}

static const struct ioport_ops rcr_ops = { rcr_read, rcr_write, true };

/* ---- life cycle ---- */

void acpi_pm_reset(struct acpi_pm *pm)
{
	pm->pm1_sts = pm->pm1_en = pm->pm1_cnt = 0;
	pm->gpe_sts = pm->gpe_en = 0;
	memset(pm->regs, 0, sizeof(pm->regs));
	pm->rcr = 0;
	pm->apm_cnt = pm->apm_sts = 0;
	update_sci(pm);
	tmr_arm(pm);
}

struct acpi_pm *acpi_pm_init(struct machine *m, uint16_t base, const struct irq_line *sci)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return NULL;
	pm->m = m;
	if (sci)
		pm->sci = *sci;
	vtimer_init(&pm->tmr, tmr_cb, pm);
	acpi_pm_reset(pm);
	acpi_pm_set_base(pm, base, base != 0);
	ioport_register(m->io, 0xcf9, 1, &rcr_ops, pm, "reset-control");
	return pm;
}

void acpi_pm_free(struct acpi_pm *pm)
{
	if (!pm)
		return;
	vtimer_cancel(pm->m, &pm->tmr);
	free(pm);
}
