/*
 * devices/uart16550.c — PC16550D UART (see uart16550.h).
 *
 * Written from the National Semiconductor PC16550D datasheet. Registers
 * (offset from base; DLAB = LCR bit 7):
 *   0  RBR (read) / THR (write); DLL when DLAB
 *   1  IER: 0 ERBFI, 1 ETBEI, 2 ELSI, 3 EDSSI; DLM when DLAB
 *   2  IIR (read): bit 0 = no interrupt, 3:1 id, 7:6 = 11 with FIFOs
 *      FCR (write): 0 enable, 1 clear RX, 2 clear TX, 3 DMA, 7:6 trigger
 *   3  LCR   4  MCR: 0 DTR, 1 RTS, 2 OUT1, 3 OUT2, 4 LOOP
 *   5  LSR: 0 DR, 1 OE, 2 PE, 3 FE, 4 BI, 5 THRE, 6 TEMT, 7 RX FIFO error
 *   6  MSR: 0 DCTS, 1 DDSR, 2 TERI, 3 DDCD, 4 CTS, 5 DSR, 6 RI, 7 DCD
 *   7  SCR
 * Interrupt priorities (datasheet Table IV): line status (06) > received
 * data at trigger level (04) > character timeout (0C) > THR empty (02) >
 * modem status (00). The THRE interrupt is cleared by reading IIR when it
 * is the source or by writing THR, and is set when THR empties or when
 * ETBEI goes from 0 to 1 while THR is empty. Since transmission here is
 * instantaneous, a THR write clears and re-sets it at once (the IRQ line
 * falls and rises, which an edge-triggered PIC sees as a new interrupt).
 */
#include "devices/uart16550.h"

#include "devices/ioport.h"
#include "devices/machine.h"

#define IER_ERBFI  0x01
#define IER_ETBEI  0x02
#define IER_ELSI   0x04
#define IER_EDSSI  0x08
#define LSR_DR     0x01
#define LSR_OE     0x02
#define LSR_ERR    0x1e /* OE | PE | FE | BI */
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define MCR_OUT2   0x08
#define MCR_LOOP   0x10
#define FCR_ENABLE 0x01

static inline bool fifo_on(const struct uart16550 *u)
{
	return u->fcr & FCR_ENABLE;
}

static unsigned rx_trigger(const struct uart16550 *u)
{
	static const unsigned trig[4] = { 1, 4, 8, 14 };
	return fifo_on(u) ? trig[u->fcr >> 6] : 1;
}

/* Current interrupt identification (IIR bits 3:0). */
static uint8_t intr_id(const struct uart16550 *u)
{
	if ((u->ier & IER_ELSI) && (u->lsr & LSR_ERR))
		return 0x06;
	if ((u->ier & IER_ERBFI) && u->rx_count >= rx_trigger(u))
		return 0x04;
	if ((u->ier & IER_ERBFI) && u->timeout_ip)
		return 0x0c;
	if ((u->ier & IER_ETBEI) && u->thre_ip)
		return 0x02;
	if ((u->ier & IER_EDSSI) && (u->msr & 0x0f))
		return 0x00;
	return 0x01;
}

static void update_irq(struct uart16550 *u)
{
	/* On a PC, OUT2 gates the UART's interrupt onto the bus; in loopback
	 * the OUT2 pin is forced inactive (datasheet, MCR bit 4). */
	bool level = intr_id(u) != 0x01 && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set(&u->irq, level);
	}
}

/* Four character times at the programmed rate and frame. */
static uint64_t timeout_ns(const struct uart16550 *u)
{
	unsigned bits = 1 + 5 + (u->lcr & 3) + ((u->lcr >> 3) & 1) + ((u->lcr & 4) ? 2 : 1);
	uint64_t div = u->divisor ? u->divisor : 65536;
	return 4ull * bits * div * 1000000000ull / 115200;
}

static void restart_timeout(struct uart16550 *u)
{
	if (fifo_on(u) && u->rx_count)
		vtimer_arm(u->m, &u->timer, clock_now(u->m) + timeout_ns(u));
	else
		vtimer_cancel(u->m, &u->timer);
}

static void uart_timeout(void *opaque)
{
	struct uart16550 *u = opaque;
	if (fifo_on(u) && u->rx_count) {
		u->timeout_ip = true;
		update_irq(u);
	}
}

/* A character arrives at the receiver. */
static void rx_char(struct uart16550 *u, uint8_t b)
{
	unsigned cap = fifo_on(u) ? UART_FIFO_SIZE : 1;
	if (u->rx_count >= cap) {
		u->lsr |= LSR_OE;
		if (!fifo_on(u))
			u->rx[u->rx_head] = b; /* non-FIFO: RBR is overwritten */
		/* FIFO mode: the shift register's character is lost. */
	} else {
		u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
		u->rx_count++;
	}
	u->lsr |= LSR_DR;
	restart_timeout(u);
}

static void rx_clear(struct uart16550 *u)
{
	u->rx_head = u->rx_count = 0;
	u->lsr &= (uint8_t)~LSR_DR;
	u->timeout_ip = false;
	vtimer_cancel(u->m, &u->timer);
}

/* Recompute MSR status bits from the modem inputs (or, in loopback, from
 * MCR) and set the delta bits for what changed. */
static void update_msr(struct uart16550 *u)
{
	uint8_t st;
	if (u->mcr & MCR_LOOP) {
		st = (uint8_t)(((u->mcr & 0x02) ? 0x10 : 0) | ((u->mcr & 0x01) ? 0x20 : 0) |
			       ((u->mcr & 0x04) ? 0x40 : 0) | ((u->mcr & 0x08) ? 0x80 : 0));
	} else {
		st = u->modem_in & 0xf0;
	}
	uint8_t old = u->msr & 0xf0, chg = old ^ st, d = 0;
	if (chg & 0x10)
		d |= 0x01;
	if (chg & 0x20)
		d |= 0x02;
	if ((old & 0x40) && !(st & 0x40))
		d |= 0x04; /* TERI: trailing edge of RI */
	if (chg & 0x80)
		d |= 0x08;
	u->msr = (uint8_t)(st | (u->msr & 0x0f) | d);
}

static void transmit(struct uart16550 *u, uint8_t b)
{
	if (u->mcr & MCR_LOOP) {
		rx_char(u, b);
	} else {
		if (u->out) {
			fputc(b, u->out);
			fflush(u->out);
		}
		if (u->tee)
			u->tee(u->tee_opaque, b);
	}
}

static uint32_t uart_read(void *opaque, uint16_t port, unsigned size)
{
	struct uart16550 *u = opaque;
	uint8_t v;
	switch (port - u->base) {
	case 0:
		if (u->lcr & 0x80)
			return u->divisor & 0xff;
		v = u->rx[u->rx_head];
		if (u->rx_count) {
			u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
			u->rx_count--;
		}
		if (!u->rx_count)
			u->lsr &= (uint8_t)~LSR_DR;
		u->timeout_ip = false;
		restart_timeout(u);
		update_irq(u);
		return v;
	case 1:
		return u->lcr & 0x80 ? u->divisor >> 8 : u->ier;
	case 2:
		v = intr_id(u);
		if (v == 0x02)
			u->thre_ip = false;
		update_irq(u);
		return v | (fifo_on(u) ? 0xc0 : 0);
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		v = u->lsr;
		u->lsr &= (uint8_t)~LSR_ERR;
		update_irq(u);
		return v;
	case 6:
		v = u->msr;
		u->msr &= 0xf0;
		update_irq(u);
		return v;
	default:
		return u->scr;
	}
}

static void uart_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
	struct uart16550 *u = opaque;
	uint8_t v = (uint8_t)val;
	switch (port - u->base) {
	case 0:
		if (u->lcr & 0x80) {
			u->divisor = (uint16_t)((u->divisor & 0xff00) | v);
			return;
		}
		u->thre_ip = false;
		update_irq(u);
		transmit(u, v);
		/* Sent at once: THR and the shift register are empty again. */
		u->lsr |= LSR_THRE | LSR_TEMT;
		u->thre_ip = true;
		break;
	case 1:
		if (u->lcr & 0x80) {
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | v << 8);
			return;
		}
		if ((v & IER_ETBEI) && !(u->ier & IER_ETBEI) && (u->lsr & LSR_THRE))
			u->thre_ip = true;
		u->ier = v & 0x0f;
		break;
	case 2:
		if ((v ^ u->fcr) & FCR_ENABLE)
			rx_clear(u); /* changing the FIFO mode empties both FIFOs */
		if (v & 0x02)
			rx_clear(u);
		/* Bits other than 0 are programmed only with bit 0 set. */
		u->fcr = (v & FCR_ENABLE) ? v & 0xc9 : 0;
		break;
	case 3:
		u->lcr = v;
		break;
	case 4:
		u->mcr = v & 0x1f;
		update_msr(u);
		break;
	case 5:
	case 6:
		return; /* LSR/MSR writes: factory test only */
	default:
		u->scr = v;
		return;
	}
	update_irq(u);
}

static const struct ioport_ops uart_ops = {
	.read = uart_read,
	.write = uart_write,
	.byte_only = true,
};

size_t uart_rx_space(const struct uart16550 *u)
{
	if (u->mcr & MCR_LOOP)
		return UART_FIFO_SIZE;
	unsigned cap = fifo_on(u) ? UART_FIFO_SIZE : 1;
	return u->rx_count < cap ? cap - u->rx_count : 0;
}

size_t uart_receive(struct uart16550 *u, const uint8_t *buf, size_t n)
{
	if (u->mcr & MCR_LOOP)
		return n; /* receiver disconnected from the line */
	size_t k = uart_rx_space(u);
	if (k > n)
		k = n;
	for (size_t i = 0; i < k; i++)
		rx_char(u, buf[i]);
	if (k)
		update_irq(u);
	return k;
}

void uart_set_modem_inputs(struct uart16550 *u, uint8_t msr_bits)
{
	u->modem_in = msr_bits & 0xf0;
	update_msr(u);
	update_irq(u);
}

void uart16550_reset(struct uart16550 *u)
{
	vtimer_cancel(u->m, &u->timer);
	u->ier = u->fcr = u->lcr = u->mcr = u->scr = 0;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->divisor = 12; /* 9600 baud */
	u->rx_head = u->rx_count = 0;
	u->thre_ip = false;
	u->timeout_ip = false;
	u->msr = u->modem_in & 0xf0;
	update_irq(u);
}

void uart16550_init(struct machine *m, struct uart16550 *u, uint16_t base, FILE *out)
{
	u->m = m;
	u->base = base;
	u->out = out;
	u->irq_level = false;
	u->modem_in = 0xb0; /* DCD, DSR, CTS: a terminal is connected */
	vtimer_init(&u->timer, uart_timeout, u);
	uart16550_reset(u);
	ioport_register(m->io, base, 8, &uart_ops, u, "uart16550");
}
