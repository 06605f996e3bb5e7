/*
 * devices/irq.h — interrupt lines between devices and interrupt controllers.
 *
 * A device holds a struct irq_line set up by the board and calls
 * irq_set(line, level) whenever its output changes (one update_irq() per
 * device recomputes the level from its registers). Edge-triggered inputs see
 * the 0→1 transitions; level-triggered ones see the level. An unconnected
 * line (set == NULL) ignores changes.
 */
#ifndef NESTBOX_DEVICES_IRQ_H
#define NESTBOX_DEVICES_IRQ_H

struct irq_line {
	void (*set)(void *opaque, int n, int level);
	void *opaque;
	int n;
};

static inline void irq_set(const struct irq_line *l, int level)
{
	if (l && l->set)
		l->set(l->opaque, l->n, level);
}

#endif
