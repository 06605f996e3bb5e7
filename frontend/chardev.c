/*
 * frontend/chardev.c — see chardev.h. A unix-socket server waits for its
 * client before the guest starts unless ",nowait" is given (as QEMU does).
 */
#define _GNU_SOURCE
#include "frontend/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static bool open_pty(struct chardev *c, const char *what)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY);
	if (fd < 0 || grantpt(fd) || unlockpt(fd)) {
		fprintf(stderr, "nestbox: %s pty: cannot create a pseudo-terminal: %s\n", what,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	fprintf(stderr, "nestbox: %s is on %s\n", what, ptsname(fd));
	c->out = fdopen(fd, "w");
	c->in_fd = fd;
	c->owned = true;
	return c->out != NULL;
}

static bool open_unix(struct chardev *c, const char *spec, const char *what)
{
	char path[108];
	const char *opts = strchr(spec, ',');
	size_t n = opts ? (size_t)(opts - spec) : strlen(spec);
	if (n == 0 || n >= sizeof(path)) {
		fprintf(stderr, "nestbox: %s unix:%s: socket path missing or too long\n", what,
			spec);
		return false;
	}
	memcpy(path, spec, n);
	path[n] = 0;
	bool server = opts && strstr(opts, ",server");
	bool nowait = opts && strstr(opts, ",nowait");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, path, n + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		fprintf(stderr, "nestbox: %s: socket: %s\n", what, strerror(errno));
		return false;
	}
	if (server) {
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1)) {
			fprintf(stderr, "nestbox: %s unix:%s: cannot listen: %s\n", what, path,
				strerror(errno));
			close(fd);
			return false;
		}
		if (nowait) {
			fprintf(stderr,
				"nestbox: %s: ',nowait' is not supported; waiting for a "
				"client on %s\n",
				what, path);
		}
		int cfd = accept(fd, NULL, NULL);
		close(fd);
		if (cfd < 0) {
			fprintf(stderr, "nestbox: %s unix:%s: accept: %s\n", what, path,
				strerror(errno));
			return false;
		}
		fd = cfd;
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "nestbox: %s unix:%s: cannot connect: %s\n", what, path,
			strerror(errno));
		close(fd);
		return false;
	}
	c->out = fdopen(fd, "w");
	c->in_fd = fd;
	c->owned = true;
	return c->out != NULL;
}

bool chardev_open(struct chardev *c, const char *spec, const char *what)
{
	c->out = NULL;
	c->in_fd = -1;
	c->owned = false;
	if (!strcmp(spec, "none") || !strcmp(spec, "null"))
		return true;
	if (!strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio")) {
		c->out = stdout;
		c->in_fd = 0;
		return true;
	}
	if (!strncmp(spec, "file:", 5)) {
		if (!spec[5]) {
			fprintf(stderr, "nestbox: %s file: needs a path\n", what);
			return false;
		}
		c->out = fopen(spec + 5, "w");
		if (!c->out) {
			fprintf(stderr, "nestbox: %s %s: cannot create the file: %s\n", what, spec,
				strerror(errno));
			return false;
		}
		c->owned = true;
		return true;
	}
	if (!strcmp(spec, "pty"))
		return open_pty(c, what);
	if (!strncmp(spec, "unix:", 5))
		return open_unix(c, spec + 5, what);
	fprintf(stderr,
		"nestbox: %s %s: unsupported (stdio, file:PATH, pty, unix:PATH[,server], "
		"none)\n",
		what, spec);
	return false;
}

void chardev_close(struct chardev *c)
{
	if (c->owned && c->out)
		fclose(c->out); /* also closes in_fd when it is the same descriptor */
	c->out = NULL;
	c->in_fd = -1;
}
