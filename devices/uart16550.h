/*
 * devices/uart16550.h — a National PC16550D UART (16550A-compatible) at one
 * of the PC's COM ports: COM1 0x3f8/IRQ4, COM2 0x2f8/IRQ3, COM3 0x3e8/IRQ4,
 * COM4 0x2e8/IRQ3 (eight ports from base).
 *
 * Transmission is instantaneous: a byte written to THR goes at once to the
 * host stream (out) and to the optional tee (the machine's console_tee for
 * COM1), and THR is empty again. Reception: the frontend hands bytes in
 * with uart_receive(); they enter the receiver FIFO and raise the usual
 * interrupts (data available at the trigger level, character timeout after
 * four character times). The modem inputs default to a connected terminal
 * (CTS, DSR, DCD asserted). IRQ: field irq; the line is driven only while
 * MCR.OUT2 is set (the PC's interrupt gate) and not in loopback.
 */
#ifndef NESTBOX_DEVICES_UART16550_H
#define NESTBOX_DEVICES_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/clock.h"
#include "devices/irq.h"

struct machine;

#define UART_FIFO_SIZE 16

/* Standard I/O bases and IRQs of COM1-COM4. */
#define UART_COM1_BASE 0x3f8
#define UART_COM2_BASE 0x2f8
#define UART_COM3_BASE 0x3e8
#define UART_COM4_BASE 0x2e8
#define UART_COM1_IRQ  4
#define UART_COM2_IRQ  3
#define UART_COM3_IRQ  4
#define UART_COM4_IRQ  3

struct uart16550 {
	uint16_t base;
	uint8_t ier, fcr, lcr, mcr, lsr, scr;
	uint8_t msr;      /* status bits 7:4 and delta bits 3:0 */
	uint8_t modem_in; /* external CTS/DSR/RI/DCD in MSR bit positions */
	uint16_t divisor;
	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	bool thre_ip;    /* THR-empty interrupt pending */
	bool timeout_ip; /* character timeout pending */
	/* Output: host stream (NULL = none) and tee (console_tee for COM1). */
	FILE *out;
	void (*tee)(void *opaque, uint8_t byte);
	void *tee_opaque;
	struct irq_line irq;
	bool irq_level;
	struct vtimer timer; /* character timeout */
	struct machine *m;
};

/* Register ports base..base+7; out may be NULL. */
void uart16550_init(struct machine *m, struct uart16550 *u, uint16_t base, FILE *out);
void uart16550_reset(struct uart16550 *u);
/* Bytes arriving on the serial line: returns how many were taken (the
 * receiver FIFO has room for uart_rx_space() bytes; the rest should be
 * offered again later). In loopback mode the line is disconnected and
 * everything is dropped (returns n). */
size_t uart_receive(struct uart16550 *u, const uint8_t *buf, size_t n);
size_t uart_rx_space(const struct uart16550 *u);
/* Set the external modem inputs (MSR bits 4-7: CTS, DSR, RI, DCD). */
void uart_set_modem_inputs(struct uart16550 *u, uint8_t msr_bits);

#endif
