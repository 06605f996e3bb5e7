/*
 * devices/blockdev.c — raw disk-image backend (implements devices/blockdev.h).
 *
 * Snapshot overlay: the image is cut into 64 KiB chunks; the first write to
 * a chunk copies it from the file into RAM (copy-on-write), later reads and
 * writes of that chunk use the RAM copy. Chunk pointers live in a two-level
 * table (1024 chunks = 64 MiB per leaf), so a large, mostly untouched image
 * costs a few KiB of pointers.
 */
#define _FILE_OFFSET_BITS 64
#include "devices/blockdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_SHIFT 16
#define CHUNK_SIZE  (1u << CHUNK_SHIFT)
#define LEAF_SHIFT  10
#define LEAF_SIZE   (1u << LEAF_SHIFT)

struct blockdev {
	int fd;
	uint64_t size;
	unsigned flags;
	char *path;
	/* Snapshot overlay: top[i][j] is chunk (i << LEAF_SHIFT | j) or NULL. */
	uint8_t ***top;
	size_t ntop;
};

static void set_err(char *err, size_t errlen, const char *fmt, const char *path, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, path, what);
}

struct blockdev *blockdev_open(const char *path, unsigned flags, char *err, size_t errlen)
{
	bool rdonly = flags & (BLOCKDEV_READONLY | BLOCKDEV_SNAPSHOT);
	int fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			set_err(err, errlen, "disk image '%s': %s", path, "no such file");
		else if (e == EISDIR)
			set_err(err, errlen, "disk image '%s': %s", path,
				"is a directory, not a regular file");
		else if ((e == EACCES || e == EROFS || e == EPERM) && !rdonly)
			set_err(err, errlen,
				"disk image '%s': %s (opening read-write; use readonly=on or "
				"snapshot=on)",
				path, e == EROFS ? "read-only file system" : "permission denied");
		else
			set_err(err, errlen, "disk image '%s': %s", path, strerror(e));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		set_err(err, errlen, "disk image '%s': %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "disk image '%s': %s", path,
			S_ISDIR(st.st_mode) ? "is a directory, not a regular file"
					    : "not a regular file");
		close(fd);
		return NULL;
	}
	uint8_t magic[4] = { 0 };
	if (st.st_size >= 4 && pread(fd, magic, 4, 0) == 4 && !memcmp(magic, "QFI\xfb", 4)) {
		set_err(err, errlen, "disk image '%s': %s", path,
			"is a qcow2 image; only raw images are supported (convert it with "
			"'qemu-img convert -O raw')");
		close(fd);
		return NULL;
	}
	if (!(flags & BLOCKDEV_CDROM) && (st.st_size % 512 || st.st_size == 0)) {
		char what[96];
		snprintf(what, sizeof(what), "size %lld bytes is not a %s of 512",
			 (long long)st.st_size, st.st_size ? "multiple" : "positive multiple");
		set_err(err, errlen, "disk image '%s': %s", path, what);
		close(fd);
		return NULL;
	}
	struct blockdev *b = calloc(1, sizeof(*b));
	char *p = strdup(path);
	if (!b || !p) {
		free(b);
		free(p);
		close(fd);
		set_err(err, errlen, "disk image '%s': %s", path, "out of memory");
		return NULL;
	}
	b->fd = fd;
	b->size = (uint64_t)st.st_size;
	b->flags = flags;
	b->path = p;
	if (flags & BLOCKDEV_SNAPSHOT) {
		uint64_t nchunks = (b->size + CHUNK_SIZE - 1) >> CHUNK_SHIFT;
		b->ntop = (size_t)((nchunks + LEAF_SIZE - 1) >> LEAF_SHIFT);
		b->top = calloc(b->ntop ? b->ntop : 1, sizeof(*b->top));
		if (!b->top) {
			blockdev_close(b);
			set_err(err, errlen, "disk image '%s': %s", path, "out of memory");
			return NULL;
		}
	}
	return b;
}

void blockdev_close(struct blockdev *b)
{
	if (!b)
		return;
	if (b->top) {
		for (size_t i = 0; i < b->ntop; i++) {
			if (!b->top[i])
				continue;
			for (unsigned j = 0; j < LEAF_SIZE; j++)
				free(b->top[i][j]);
			free(b->top[i]);
		}
		free(b->top);
	}
	if (b->fd >= 0)
		close(b->fd);
	free(b->path);
	free(b);
}

uint64_t blockdev_size(const struct blockdev *b)
{
	return b->size;
}

bool blockdev_readonly(const struct blockdev *b)
{
	return (b->flags & BLOCKDEV_READONLY) && !(b->flags & BLOCKDEV_SNAPSHOT);
}

const char *blockdev_path(const struct blockdev *b)
{
	return b->path;
}

static bool in_range(const struct blockdev *b, uint64_t off, size_t n)
{
	return off <= b->size && n <= b->size - off;
}

/* pread/pwrite the whole range, retrying short transfers and EINTR. */
static int file_read(int fd, uint64_t off, uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t r = pread(fd, buf, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			/* The file shrank under us: read zeros. */
			memset(buf, 0, n);
			return 0;
		}
		buf += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

static int file_write(int fd, uint64_t off, const uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t r = pwrite(fd, buf, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		buf += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

/* Overlay chunk c, or NULL when it was never written. */
static uint8_t *chunk_get(const struct blockdev *b, uint64_t c)
{
	uint8_t **leaf = b->top[c >> LEAF_SHIFT];
	return leaf ? leaf[c & (LEAF_SIZE - 1)] : NULL;
}

/* Overlay chunk c, copied from the file on first use. */
static int chunk_make(struct blockdev *b, uint64_t c, uint8_t **out)
{
	uint8_t ***slot = &b->top[c >> LEAF_SHIFT];
	if (!*slot && !(*slot = calloc(LEAF_SIZE, sizeof(**slot))))
		return -ENOMEM;
	uint8_t **p = &(*slot)[c & (LEAF_SIZE - 1)];
	if (!*p) {
		uint8_t *d = calloc(1, CHUNK_SIZE);
		if (!d)
			return -ENOMEM;
		uint64_t off = c << CHUNK_SHIFT;
		uint64_t len = b->size - off < CHUNK_SIZE ? b->size - off : CHUNK_SIZE;
		int r = file_read(b->fd, off, d, (size_t)len);
		if (r < 0) {
			free(d);
			return r;
		}
		*p = d;
	}
	*out = *p;
	return 0;
}

int blockdev_read(struct blockdev *b, uint64_t off, void *buf, size_t n)
{
	if (!in_range(b, off, n))
		return -EINVAL;
	if (!b->top)
		return file_read(b->fd, off, buf, n);
	uint8_t *dst = buf;
	while (n) {
		uint64_t c = off >> CHUNK_SHIFT;
		size_t in = (size_t)(off & (CHUNK_SIZE - 1));
		size_t len = CHUNK_SIZE - in < n ? CHUNK_SIZE - in : n;
		const uint8_t *d = chunk_get(b, c);
		int r = 0;
		if (d)
			memcpy(dst, d + in, len);
		else
			r = file_read(b->fd, off, dst, len);
		if (r < 0)
			return r;
		dst += len;
		off += len;
		n -= len;
	}
	return 0;
}

int blockdev_write(struct blockdev *b, uint64_t off, const void *buf, size_t n)
{
	if (!in_range(b, off, n))
		return -EINVAL;
	if (!b->top) {
		if (b->flags & BLOCKDEV_READONLY)
			return -EROFS;
		return file_write(b->fd, off, buf, n);
	}
	const uint8_t *src = buf;
	while (n) {
		uint64_t c = off >> CHUNK_SHIFT;
		size_t in = (size_t)(off & (CHUNK_SIZE - 1));
		size_t len = CHUNK_SIZE - in < n ? CHUNK_SIZE - in : n;
		uint8_t *d;
		int r = chunk_make(b, c, &d);
		if (r < 0)
			return r;
		memcpy(d + in, src, len);
		src += len;
		off += len;
		n -= len;
	}
	return 0;
}

int blockdev_flush(struct blockdev *b)
{
	if (b->flags & (BLOCKDEV_READONLY | BLOCKDEV_SNAPSHOT))
		return 0;
	return fdatasync(b->fd) < 0 ? -errno : 0;
}
