/*
 * devices/blockdev.h — disk-image backend shared by the IDE model (and any
 * other block device a board adapts to it, e.g. virtio-blk's backend).
 *
 * A blockdev is a raw image file accessed with byte offsets. Modes:
 *   read-write  the file is opened O_RDWR and written in place;
 *   read-only   O_RDONLY, writes fail with -EROFS;
 *   snapshot    O_RDONLY, writes go to an in-memory copy-on-write overlay
 *               (64 KiB chunks) and the user's file is never modified;
 *               reads see the overlay, so the guest sees its own writes.
 * Only raw images are supported; a file starting with the qcow2 magic
 * ("QFI\xfb") is refused with a message saying so. Disks must be a whole
 * number of 512-byte sectors; CD-ROM images may have any size (the tail of
 * a partial 2048-byte block reads as zeros via blockdev_read's bounds).
 *
 * All I/O is synchronous (pread/pwrite): the emulator is single-threaded
 * and devices complete requests inside the guest's port access.
 */
#ifndef NESTBOX_DEVICES_BLOCKDEV_H
#define NESTBOX_DEVICES_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blockdev;

/* blockdev_open flags. */
#define BLOCKDEV_READONLY 1u /* never write; writes return -EROFS */
#define BLOCKDEV_SNAPSHOT 2u /* writes go to a RAM overlay, file untouched */
#define BLOCKDEV_CDROM    4u /* size need not be a multiple of 512 */

/* Open path. On failure returns NULL and writes a one-line message naming
 * the file and the problem (missing, not a regular file, permission, size,
 * qcow2) into err (which may be NULL). */
struct blockdev *blockdev_open(const char *path, unsigned flags, char *err, size_t errlen);
void blockdev_close(struct blockdev *b);

/* Size in bytes (of the image as opened). */
uint64_t blockdev_size(const struct blockdev *b);
/* True if writes fail (BLOCKDEV_READONLY without BLOCKDEV_SNAPSHOT). */
bool blockdev_readonly(const struct blockdev *b);
const char *blockdev_path(const struct blockdev *b);

/* Byte-granular I/O; the whole range must lie inside the image. Return 0
 * or a negative errno (-EINVAL out of range, -EROFS read-only, -EIO...). */
int blockdev_read(struct blockdev *b, uint64_t off, void *buf, size_t n);
int blockdev_write(struct blockdev *b, uint64_t off, const void *buf, size_t n);
/* fdatasync the file (nothing to do in read-only / snapshot mode). */
int blockdev_flush(struct blockdev *b);

/* 512-byte sector helpers. */
static inline int blockdev_read_sectors(struct blockdev *b, uint64_t lba, void *buf, uint32_t count)
{
	return blockdev_read(b, lba * 512, buf, (size_t)count * 512);
}
static inline int blockdev_write_sectors(struct blockdev *b, uint64_t lba, const void *buf,
					 uint32_t count)
{
	return blockdev_write(b, lba * 512, buf, (size_t)count * 512);
}

#endif
