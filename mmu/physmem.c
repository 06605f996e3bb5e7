/*
 * mmu/physmem.c — the guest-physical address space (implements mmu/mmu.h).
 *
 * Three layers of data:
 *
 *   regions   one per mmu_map_* call: what a guest-physical range means (RAM
 *             at a host address, a ROM copy, or MMIO callbacks). A region's
 *             translation is defined over its whole original range, so it
 *             stays valid when later mappings hide parts of it.
 *   segments  the visible map: a sorted list of non-overlapping [start, end)
 *             ranges, each naming the region that answers there. Mapping a
 *             range first carves it out of every segment ("the most recent
 *             mapping wins"); mmu_unmap carves without inserting, so it
 *             leaves the range unmapped (hidden older mappings do not come
 *             back). A region whose last segment disappears is freed.
 *   pmap      a flat per-4K-page table for the low 4 GiB: region id when one
 *             region covers the whole page, 0 when nothing does, PM_MIXED
 *             (a sentinel region of its own kind) when the page is shared,
 *             e.g. by a 1 KiB MMIO window: then the segment list is
 *             searched. Above 4 GiB the segment list is always searched (a
 *             handful of entries: high RAM, 64-bit BARs).
 *
 * So a RAM access is: one compare, one pmap load, one region load, the host
 * access. Mappings change rarely (boot, PCI BAR programming), so map/unmap
 * may do O(pages in the range) work, then call the map-change hook so the
 * owner can flush soft TLBs holding host pointers of the old mapping.
 *
 * Code pages: one bit per guest-physical 4K page, for RAM/ROM up to the
 * highest mapped RAM/ROM address (at least 4 GiB). A write that touches a
 * marked page clears the bit and calls the code-write hook once, so the block
 * cache can drop what it decoded there. Remapping a marked page does the same
 * (its contents change without a write). A RAM page mapped at two addresses
 * is tracked per address: the block cache keys blocks by gpa too.
 *
 * Physical addresses are limited to 52 bits (the architectural maximum);
 * accesses beyond every mapping read all ones and drop writes, like a PC bus.
 */
#include "mmu/mmu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PHYS_LIMIT  (1ull << 52)
#define LOW_LIMIT   (1ull << 32) /* range covered by pmap */
#define LOW_PAGES   (LOW_LIMIT >> 12)
#define MAX_REGIONS 4096              /* slots; 0 = unmapped */
#define PM_MIXED    (MAX_REGIONS - 1) /* sentinel slot: page shared */
#define CODE_LIMIT  (1ull << 40)      /* code bitmap covers at most this */

enum rkind {
	RK_NONE,
	RK_RAM,
	RK_ROM,
	RK_MMIO,
	RK_MIXED
};

struct region {
	uint8_t kind;     /* RK_*; RK_NONE = free slot (or id 0) */
	uintptr_t addend; /* RAM/ROM: host address = addend + gpa */
	uint64_t base;    /* guest-physical start of the original mapping */
	uint64_t size;
	uint8_t *host; /* RAM/ROM: host address of byte `base` */
	uint8_t *rom;  /* ROM: our copy (freed with the region) */
	const struct mmio_ops *ops;
	void *opaque;
	char *name;
};

struct seg {
	uint64_t start, end; /* [start, end), end <= PHYS_LIMIT */
	uint32_t rid;
};

struct mmu {
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t ram_alloc; /* ram_size rounded up to pages (mmap length) */

	uint16_t *pmap;         /* LOW_PAGES entries */
	struct region *regions; /* MAX_REGIONS slots, regions[0] = unmapped */

	struct seg *segs;
	size_t nsegs, segs_cap;

	uint64_t *code;      /* code bitmap, one bit per page */
	uint64_t code_pages; /* pages covered (multiple of 64) */
	void (*code_hook)(void *opaque, uint64_t page_gpa);
	void *code_opaque;
	void (*map_hook)(void *opaque, uint64_t gpa, uint64_t size);
	void *map_opaque;
	unsigned maxphyaddr;

	/* The last answer of mmu_ram_span (span_hi = 0: none), so that each
	 * page walk does not search the segment list again; dropped by carve,
	 * i.e. by every change of the map. */
	uint64_t span_lo, span_hi;
	uintptr_t span_addend;
};

/* ---------------------------------------------------------------- lookup */

/* Binary search of the segment list: the index of the first segment that
 * starts above gpa (so segs[i - 1], if any, is the one that may hold it). */
static size_t seg_after(const struct mmu *m, uint64_t gpa)
{
	size_t lo = 0, hi = m->nsegs; /* first seg with start > gpa is in [lo, hi] */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->segs[mid].start <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The region answering at gpa and the end of the range over which it keeps
 * answering. */
static const struct region *resolve_segs(const struct mmu *m, uint64_t gpa, uint64_t *end)
{
	size_t i = seg_after(m, gpa);
	if (i > 0 && gpa < m->segs[i - 1].end) {
		*end = m->segs[i - 1].end;
		return &m->regions[m->segs[i - 1].rid];
	}
	*end = i < m->nsegs ? m->segs[i].start : UINT64_MAX;
	return &m->regions[0];
}

/* The region at gpa; *end = the first address where the answer may differ
 * (always > gpa). */
static inline const struct region *resolve(const struct mmu *m, uint64_t gpa, uint64_t *end)
{
	if (gpa < LOW_LIMIT) {
		unsigned id = m->pmap[gpa >> 12];
		if (id != PM_MIXED) {
			*end = (gpa | 0xfff) + 1;
			return &m->regions[id];
		}
	}
	return resolve_segs(m, gpa, end);
}

static inline uint64_t ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Little-endian host assumed (DESIGN.md §3: portable core on LE hosts). */
static inline uint64_t host_load(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1:
		return *p;
	case 2: {
		uint16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	case 8: {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	default: {
		uint64_t v = 0;
		memcpy(&v, p, size);
		return v;
	}
	}
}

static inline void host_store(uint8_t *p, unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		break;
	}
	case 8:
		memcpy(p, &v, 8);
		break;
	default:
		memcpy(p, &v, size);
		break;
	}
}

/* ------------------------------------------------------------ code pages */

static inline bool code_bit(const struct mmu *m, uint64_t page)
{
	return page < m->code_pages && (m->code[page >> 6] >> (page & 63) & 1);
}

static void code_fire(struct mmu *m, uint64_t page)
{
	m->code[page >> 6] &= ~(1ull << (page & 63));
	if (m->code_hook)
		m->code_hook(m->code_opaque, page << 12);
}

/* A write to [gpa, gpa+n) is happening: fire the hook for marked pages. */
static inline void code_check(struct mmu *m, uint64_t gpa, uint64_t n)
{
	uint64_t first = gpa >> 12;
	if (first >= m->code_pages || n == 0)
		return;
	uint64_t last = (gpa + n - 1) >> 12;
	if (last < first) /* wrapped past 2^64 */
		last = UINT64_MAX >> 12;
	for (uint64_t p = first; p <= last && p < m->code_pages; p++)
		if (code_bit(m, p))
			code_fire(m, p);
}

void mmu_mark_code(struct mmu *m, uint64_t gpa)
{
	uint64_t p = gpa >> 12;
	if (p < m->code_pages)
		m->code[p >> 6] |= 1ull << (p & 63);
}

bool mmu_is_code(const struct mmu *m, uint64_t gpa)
{
	return code_bit(m, gpa >> 12);
}

void mmu_set_code_write_hook(struct mmu *m, void (*fn)(void *opaque, uint64_t page_gpa),
			     void *opaque)
{
	m->code_hook = fn;
	m->code_opaque = opaque;
}

void mmu_note_write(struct mmu *m, uint64_t gpa, size_t n)
{
	code_check(m, gpa, n);
}

/* Make the code bitmap cover pages below end (RAM/ROM mappings only). */
static void code_grow(struct mmu *m, uint64_t end)
{
	if (end > CODE_LIMIT)
		end = CODE_LIMIT;
	uint64_t pages = (((end + 0xfff) >> 12) + 63) & ~63ull;
	if (pages <= m->code_pages)
		return;
	uint64_t *n = calloc(pages / 64, 8);
	if (!n) {
		fprintf(stderr, "nestbox: out of memory for the code-page bitmap\n");
		return; /* keep the old coverage: pages above it are not tracked */
	}
	if (m->code)
		memcpy(n, m->code, m->code_pages / 8);
	free(m->code);
	m->code = n;
	m->code_pages = pages;
}

/* ------------------------------------------------------------- accesses */

static uint64_t region_read(const struct region *r, uint64_t gpa, unsigned size)
{
	switch (r->kind) {
	case RK_RAM:
	case RK_ROM:
		return host_load(r->host + (gpa - r->base), size);
	case RK_MMIO:
		return r->ops->read ? r->ops->read(r->opaque, gpa - r->base, size) & ones(size)
				    : ones(size);
	default:
		return ones(size);
	}
}

/* Anything but an access that lies inside one RAM page of the low 4 GiB. */
static __attribute__((noinline)) uint64_t read_slow(struct mmu *m, uint64_t gpa, unsigned size)
{
	uint64_t end;
	const struct region *r = resolve(m, gpa, &end);
	if (end - gpa >= size)
		return region_read(r, gpa, size);
	/* Crosses into another region (or page of another region): split into
	 * bytes, each answered by whatever is mapped there. Nothing lives at or
	 * above 2^52, which also stops the split at the top of the space. */
	if (gpa >= PHYS_LIMIT)
		return ones(size);
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= read_slow(m, gpa + i, 1) << (8 * i);
	return v;
}

uint64_t phys_read(struct mmu *m, uint64_t gpa, unsigned size)
{
	if (__builtin_expect(gpa < LOW_LIMIT && (gpa & 0xfff) + size <= 0x1000, 1)) {
		const struct region *r = &m->regions[m->pmap[gpa >> 12]];
		if (__builtin_expect(r->kind == RK_RAM, 1))
			return host_load((const uint8_t *)(r->addend + (uintptr_t)gpa), size);
	}
	return read_slow(m, gpa, size);
}

static void region_write(struct mmu *m, const struct region *r, uint64_t gpa, unsigned size,
			 uint64_t val)
{
	switch (r->kind) {
	case RK_RAM:
		code_check(m, gpa, size);
		host_store(r->host + (gpa - r->base), size, val);
		break;
	case RK_MMIO:
		if (r->ops->write)
			r->ops->write(r->opaque, gpa - r->base, val & ones(size), size);
		break;
	default: /* ROM and unmapped: dropped */
		break;
	}
}

static __attribute__((noinline)) void write_slow(struct mmu *m, uint64_t gpa, unsigned size,
						 uint64_t val)
{
	uint64_t end;
	const struct region *r = resolve(m, gpa, &end);
	if (end - gpa >= size) {
		region_write(m, r, gpa, size, val);
		return;
	}
	if (gpa >= PHYS_LIMIT)
		return;
	for (unsigned i = 0; i < size; i++)
		write_slow(m, gpa + i, 1, val >> (8 * i));
}

void phys_write(struct mmu *m, uint64_t gpa, unsigned size, uint64_t val)
{
	if (__builtin_expect(gpa < LOW_LIMIT && (gpa & 0xfff) + size <= 0x1000, 1)) {
		const struct region *r = &m->regions[m->pmap[gpa >> 12]];
		/* RAM, and no code page among the 64 around it (one bitmap word;
		 * the low 4 GiB is always covered by the bitmap). */
		if (__builtin_expect(r->kind == RK_RAM && m->code[gpa >> 18] == 0, 1)) {
			host_store((uint8_t *)(r->addend + (uintptr_t)gpa), size, val);
			return;
		}
	}
	write_slow(m, gpa, size, val);
}

void phys_read_buf(struct mmu *m, uint64_t gpa, void *buf, size_t n)
{
	uint8_t *d = buf;
	while (n) {
		uint64_t end;
		const struct region *r = resolve(m, gpa, &end);
		uint64_t chunk = gpa >= PHYS_LIMIT ? n : end - gpa; /* no wrap at 2^64 */
		if (chunk > n)
			chunk = n;
		if (r->kind == RK_RAM || r->kind == RK_ROM) {
			memcpy(d, r->host + (gpa - r->base), chunk);
		} else if (r->kind == RK_MMIO) {
			for (uint64_t i = 0; i < chunk; i++)
				d[i] = (uint8_t)region_read(r, gpa + i, 1);
		} else {
			memset(d, 0xff, chunk);
		}
		d += chunk;
		gpa += chunk;
		n -= chunk;
	}
}

void phys_write_buf(struct mmu *m, uint64_t gpa, const void *buf, size_t n)
{
	const uint8_t *s = buf;
	while (n) {
		uint64_t end;
		const struct region *r = resolve(m, gpa, &end);
		if (gpa >= PHYS_LIMIT)
			return; /* nothing up there, and no wrap at 2^64 */
		uint64_t chunk = end - gpa;
		if (chunk > n)
			chunk = n;
		if (r->kind == RK_RAM) {
			code_check(m, gpa, chunk);
			memcpy(r->host + (gpa - r->base), s, chunk);
		} else if (r->kind == RK_MMIO) {
			for (uint64_t i = 0; i < chunk; i++)
				region_write(m, r, gpa + i, 1, s[i]);
		}
		s += chunk;
		gpa += chunk;
		n -= chunk;
	}
}

uint8_t *mmu_gpa_ptr(struct mmu *m, uint64_t gpa, bool write)
{
	/* The caller may use the pointer for the whole page (the soft TLB
	 * does), so the region must cover the page from its first byte. */
	uint64_t page = gpa & ~0xfffull, end;
	/* The soft TLB's fill asks right after a page walk, which left the
	 * RAM span of the tables in the cache, and the data is usually in the
	 * same span: then the answer needs no pmap load (which misses the
	 * host caches more often than not: 2 bytes per page, 2 MiB). */
	if (page - m->span_lo < m->span_hi - m->span_lo && m->span_hi - page >= 0x1000)
		return (uint8_t *)(m->span_addend + (uintptr_t)gpa);
	const struct region *r = resolve(m, page, &end);
	if (end - page < 0x1000)
		return NULL; /* the page is shared with another region */
	if (r->kind == RK_RAM || (r->kind == RK_ROM && !write))
		return r->host + (gpa - r->base);
	return NULL;
}

uint8_t *mmu_ram_span(struct mmu *m, uint64_t gpa, uint64_t *lo, uint64_t *hi)
{
	/* One segment is one region over its whole range, so the answer holds
	 * from its start to its end: the page walker then reaches every table
	 * in it with a compare instead of a lookup per entry. */
	if (gpa - m->span_lo >= m->span_hi - m->span_lo) {
		size_t i = seg_after(m, gpa);
		if (i == 0 || gpa >= m->segs[i - 1].end)
			return NULL;
		const struct seg *s = &m->segs[i - 1];
		const struct region *r = &m->regions[s->rid];
		if (r->kind != RK_RAM)
			return NULL;
		m->span_lo = s->start;
		m->span_hi = s->end;
		m->span_addend = r->addend;
	}
	*lo = m->span_lo;
	*hi = m->span_hi;
	return (uint8_t *)(m->span_addend + (uintptr_t)gpa);
}

/* ------------------------------------------------------------- the map */

/* The answer for one low page, from the segment list. */
static uint16_t page_id(const struct mmu *m, uint64_t page)
{
	uint64_t start = page << 12, end;
	const struct region *r = resolve_segs(m, start, &end);
	if (end >= start + 0x1000)
		return (uint16_t)(r - m->regions); /* one region (or nothing) */
	return PM_MIXED;
}

/* Recompute pmap over [start, end) after the segment list changed there:
 * pages wholly inside get `whole` (the new mapping's id, or 0 for an unmap),
 * the partial pages at the edges are recomputed. */
static void pmap_update(struct mmu *m, uint64_t start, uint64_t end, uint16_t whole)
{
	if (start >= LOW_LIMIT)
		return;
	uint64_t e = end < LOW_LIMIT ? end : LOW_LIMIT;
	uint64_t first = start >> 12, last = (e - 1) >> 12;
	for (uint64_t p = first; p <= last; p++) {
		uint64_t ps = p << 12;
		if (ps >= start && ps + 0x1000 <= end)
			m->pmap[p] = whole;
		else
			m->pmap[p] = page_id(m, p);
	}
}

static bool segs_reserve(struct mmu *m, size_t extra)
{
	if (m->nsegs + extra <= m->segs_cap)
		return true;
	size_t cap = m->segs_cap ? m->segs_cap * 2 : 64;
	while (cap < m->nsegs + extra)
		cap *= 2;
	struct seg *n = realloc(m->segs, cap * sizeof(*n));
	if (!n)
		return false;
	m->segs = n;
	m->segs_cap = cap;
	return true;
}

static void region_free(struct mmu *m, uint32_t rid)
{
	struct region *r = &m->regions[rid];
	free(r->rom);
	free(r->name);
	memset(r, 0, sizeof(*r));
}

/* Remove [start, end) from the visible map; returns false on OOM. Regions
 * left without any segment are freed. Code pages in the range fire the hook:
 * what the guest sees there changes without a write. */
static bool carve(struct mmu *m, uint64_t start, uint64_t end)
{
	m->span_lo = m->span_hi = 0; /* the segment list changes */
	if (!segs_reserve(m, 1))
		return false;
	size_t out = 0;
	for (size_t i = 0; i < m->nsegs; i++) {
		struct seg s = m->segs[i];
		if (s.end <= start || s.start >= end) {
			m->segs[out++] = s;
			continue;
		}
		if (s.start < start && s.end > end) {
			/* The range is strictly inside: split in two. */
			memmove(&m->segs[i + 2], &m->segs[i + 1],
				(m->nsegs - i - 1) * sizeof(struct seg));
			m->nsegs++;
			m->segs[out++] = (struct seg){ s.start, start, s.rid };
			m->segs[out++] = (struct seg){ end, s.end, s.rid };
			i++; /* skip the copy we just made room for */
			continue;
		}
		if (s.start < start)
			m->segs[out++] = (struct seg){ s.start, start, s.rid };
		else if (s.end > end)
			m->segs[out++] = (struct seg){ end, s.end, s.rid };
		/* else: wholly inside, dropped */
	}
	m->nsegs = out;

	/* Free regions that lost their last segment. */
	bool used[MAX_REGIONS] = { false };
	for (size_t i = 0; i < m->nsegs; i++)
		used[m->segs[i].rid] = true;
	for (uint32_t rid = 1; rid < PM_MIXED; rid++)
		if (m->regions[rid].kind != RK_NONE && !used[rid])
			region_free(m, rid);

	if (m->code_pages && start < (m->code_pages << 12)) {
		uint64_t last = (end - 1) >> 12;
		for (uint64_t p = start >> 12; p <= last && p < m->code_pages; p++) {
			if ((p & 63) == 0 && m->code[p >> 6] == 0 && p + 63 <= last) {
				p += 63;
				continue;
			}
			if (code_bit(m, p))
				code_fire(m, p);
		}
	}
	return true;
}

/* Clamp [gpa, gpa+size) to the 52-bit physical space; false if empty. */
static bool clamp_range(uint64_t gpa, uint64_t *size)
{
	if (*size == 0 || gpa >= PHYS_LIMIT)
		return false;
	if (*size > PHYS_LIMIT - gpa)
		*size = PHYS_LIMIT - gpa;
	return true;
}

static void map_region(struct mmu *m, const struct region *proto)
{
	uint32_t rid = 1;
	while (rid < PM_MIXED && m->regions[rid].kind != RK_NONE)
		rid++;
	if (rid == PM_MIXED) {
		fprintf(stderr, "nestbox: too many memory regions, %s not mapped\n",
			proto->name ? proto->name : "?");
		free(proto->rom);
		free(proto->name);
		return;
	}
	uint64_t start = proto->base, end = proto->base + proto->size;
	if (!carve(m, start, end) || !segs_reserve(m, 1)) {
		fprintf(stderr, "nestbox: out of memory mapping %s\n",
			proto->name ? proto->name : "?");
		free(proto->rom);
		free(proto->name);
		return;
	}
	m->regions[rid] = *proto;
	m->regions[rid].addend = (uintptr_t)proto->host - (uintptr_t)proto->base;
	size_t i = 0;
	while (i < m->nsegs && m->segs[i].start < start)
		i++;
	memmove(&m->segs[i + 1], &m->segs[i], (m->nsegs - i) * sizeof(struct seg));
	m->segs[i] = (struct seg){ start, end, rid };
	m->nsegs++;
	pmap_update(m, start, end, (uint16_t)rid);
	if (proto->kind == RK_RAM || proto->kind == RK_ROM)
		code_grow(m, end);
	if (m->map_hook)
		m->map_hook(m->map_opaque, start, end - start);
}

void mmu_map_ram(struct mmu *m, uint64_t gpa, uint64_t size, uint64_t ram_off)
{
	if (ram_off >= m->ram_size || size > m->ram_size - ram_off) {
		fprintf(stderr, "nestbox: RAM mapping %#llx+%#llx beyond RAM size %#llx\n",
			(unsigned long long)ram_off, (unsigned long long)size,
			(unsigned long long)m->ram_size);
		if (ram_off >= m->ram_size)
			return;
		size = m->ram_size - ram_off;
	}
	if (!clamp_range(gpa, &size))
		return;
	map_region(m, &(struct region){ .kind = RK_RAM,
					.base = gpa,
					.size = size,
					.host = m->ram + ram_off,
					.name = strdup("ram") });
}

void mmu_map_rom(struct mmu *m, uint64_t gpa, const void *data, uint64_t size)
{
	if (!clamp_range(gpa, &size))
		return;
	uint8_t *copy = malloc(size);
	if (!copy) {
		fprintf(stderr, "nestbox: out of memory for a %llu-byte ROM\n",
			(unsigned long long)size);
		return;
	}
	if (data)
		memcpy(copy, data, size);
	else
		memset(copy, 0xff, size); /* no image: an erased ROM */
	map_region(m, &(struct region){ .kind = RK_ROM,
					.base = gpa,
					.size = size,
					.host = copy,
					.rom = copy,
					.name = strdup("rom") });
}

void mmu_map_mmio(struct mmu *m, uint64_t gpa, uint64_t size, const struct mmio_ops *ops,
		  void *opaque, const char *name)
{
	if (!clamp_range(gpa, &size))
		return;
	map_region(m, &(struct region){ .kind = RK_MMIO,
					.base = gpa,
					.size = size,
					.ops = ops,
					.opaque = opaque,
					.name = strdup(name ? name : "mmio") });
}

void mmu_unmap(struct mmu *m, uint64_t gpa, uint64_t size)
{
	if (!clamp_range(gpa, &size))
		return;
	if (!carve(m, gpa, gpa + size))
		return;
	pmap_update(m, gpa, gpa + size, 0);
	if (m->map_hook)
		m->map_hook(m->map_opaque, gpa, size);
}

void mmu_set_map_change_hook(struct mmu *m, void (*fn)(void *opaque, uint64_t gpa, uint64_t size),
			     void *opaque)
{
	m->map_hook = fn;
	m->map_opaque = opaque;
}

/* ------------------------------------------------------------ lifetime */

struct mmu *mmu_new(uint64_t ram_size)
{
	struct mmu *m = calloc(1, sizeof(*m));
	if (!m)
		goto oom;
	m->ram_size = ram_size;
	m->maxphyaddr = 52;
	m->ram_alloc = (ram_size + 0xfff) & ~0xfffull;
	if (ram_size > PHYS_LIMIT) {
		fprintf(stderr, "nestbox: RAM size %llu too large\n", (unsigned long long)ram_size);
		free(m);
		return NULL;
	}
	if (m->ram_alloc) {
		/* Anonymous mapping: host memory is committed on first touch, so
		 * a large guest costs only what it uses. */
		void *p = mmap(NULL, m->ram_alloc, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "nestbox: cannot allocate %llu bytes of guest RAM\n",
				(unsigned long long)ram_size);
			free(m);
			return NULL;
		}
		m->ram = p;
#ifdef MADV_HUGEPAGE
		/* Fewer host TLB misses for big guests; still committed lazily
		 * (per 2 MiB). Advisory: failure is harmless. */
		madvise(p, m->ram_alloc, MADV_HUGEPAGE);
#endif
	}
	m->pmap = calloc(LOW_PAGES, sizeof(uint16_t));
	m->regions = calloc(MAX_REGIONS, sizeof(struct region));
	if (!m->pmap || !m->regions) {
		mmu_free(m);
		goto oom;
	}
	m->regions[PM_MIXED].kind = RK_MIXED;
	code_grow(m, LOW_LIMIT);
	if (!m->code) {
		mmu_free(m);
		goto oom;
	}
	return m;
oom:
	fprintf(stderr, "nestbox: out of memory creating the address space\n");
	return NULL;
}

void mmu_free(struct mmu *m)
{
	if (!m)
		return;
	if (m->regions)
		for (uint32_t rid = 1; rid < PM_MIXED; rid++)
			if (m->regions[rid].kind != RK_NONE)
				region_free(m, rid);
	if (m->ram)
		munmap(m->ram, m->ram_alloc);
	free(m->regions);
	free(m->pmap);
	free(m->segs);
	free(m->code);
	free(m);
}

void mmu_set_maxphyaddr(struct mmu *m, unsigned bits)
{
	m->maxphyaddr = bits < 32 ? 32 : bits > 52 ? 52 : bits;
}

unsigned mmu_maxphyaddr(const struct mmu *m)
{
	return m->maxphyaddr;
}

uint8_t *mmu_ram(struct mmu *m)
{
	return m->ram;
}

uint64_t mmu_ram_size(const struct mmu *m)
{
	return m->ram_size;
}
