/*
 * devices/acpi_dsdt.h — the pc board's DSDT body (AML, ACPI 6.x ch. 20),
 * used by devices/acpi_tables.c. See acpi_dsdt.c for the namespace.
 */
#ifndef NESTBOX_DEVICES_ACPI_DSDT_H
#define NESTBOX_DEVICES_ACPI_DSDT_H

#include <stdint.h>

struct acpi_config;

/* Write the AML that follows the DSDT's 36-byte header into buf. Returns
 * its length, or 0 if cap is too small. */
uint32_t acpi_dsdt_aml(const struct acpi_config *cfg, uint8_t *buf, uint32_t cap);

#endif
