/*
 * frontend/chardev.h — host ends of the guest's serial consoles (-serial,
 * -debugcon): stdio, file:PATH, pty, unix:PATH[,server][,nowait], none.
 * Output goes through a FILE*; input (when the host end has one) is an fd
 * the runner polls between slices.
 */
#ifndef NESTBOX_FRONTEND_CHARDEV_H
#define NESTBOX_FRONTEND_CHARDEV_H

#include <stdbool.h>
#include <stdio.h>

struct chardev {
	FILE *out;  /* NULL = output discarded */
	int in_fd;  /* -1 = no input */
	bool owned; /* out/in_fd are ours to close */
};

/* Open spec for the option named what; on error prints one line naming the
 * problem and returns false. */
bool chardev_open(struct chardev *c, const char *spec, const char *what);
void chardev_close(struct chardev *c);

#endif
