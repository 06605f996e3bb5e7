/*
 * frontend/main.c — the headless runner: build the machine the command line
 * describes, boot the kernel, run until the guest exits, crashes, halts for
 * good or a limit is hit, watch the console for --expect/--fail-on, and end
 * with one summary line and an exit status that tells what happened.
 */
#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "devices/board_pc.h"
#include "devices/boot.h"
#include "devices/machine.h"
#include "frontend/chardev.h"
#include "frontend/cli.h"
#include "frontend/net.h"

struct console_watch {
	FILE *log;
	regex_t expect, fail_on;
	bool has_expect, has_fail;
	bool expect_seen, fail_seen;
	struct machine *m;
};

/* One console's current line: COM1 and debugcon each have their own, so
 * a guest writing to both does not interleave them. */
struct console_line {
	struct console_watch *w;
	char line[4096];
	size_t len;
};

static void check_line(struct console_line *l)
{
	struct console_watch *w = l->w;
	l->line[l->len] = 0;
	if (w->has_expect && !w->expect_seen && regexec(&w->expect, l->line, 0, NULL, 0) == 0)
		w->expect_seen = true;
	if (w->has_fail && !w->fail_seen && regexec(&w->fail_on, l->line, 0, NULL, 0) == 0) {
		w->fail_seen = true;
		if (w->m)
			machine_request_exit(w->m, 1);
	}
}

static void console_tee(void *opaque, uint8_t b)
{
	struct console_line *l = opaque;
	if (l->w->log)
		fputc(b, l->w->log);
	if (b == '\n' || l->len == sizeof(l->line) - 1) {
		check_line(l);
		l->len = 0;
		if (b == '\n')
			return;
	}
	l->line[l->len++] = (char)b;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process (user + system), for MIPS figures that do not
 * depend on what else the host is running. */
static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Feed what is waiting on stdin to COM1 (pc board, -serial stdio). Bytes
 * the UART cannot take yet stay in buf for the next call. Returns false at
 * end of input. */
struct serial_in {
	uint8_t buf[256];
	size_t len;
	bool eof;
};

static void pump_stdin(struct machine *m, struct serial_in *in, int fd)
{
	if (!in->eof && in->len < sizeof(in->buf)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) > 0) {
			ssize_t n = read(fd, in->buf + in->len, sizeof(in->buf) - in->len);
			if (n <= 0)
				in->eof = true;
			else
				in->len += (size_t)n;
		}
	}
	if (in->len) {
		size_t took = pc_serial_input(m, in->buf, in->len);
		memmove(in->buf, in->buf + took, in->len - took);
		in->len -= took;
	}
}

/* Real-time idle (--realtime): every vCPU is halted and the next timer is
 * gap ns of guest time away. Let that much host time pass — in steps of at
 * most 20 ms, and no longer once input arrives on fd — then move the
 * guest's clocks forward by the time that really passed. */
static void idle_wait(struct machine *m, int fd, uint64_t gap)
{
	uint64_t step = gap < 20000000 ? gap : 20000000;
	double t = now();
	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		poll(&p, 1, (int)((step + 999999) / 1000000));
	} else {
		struct timespec ts = { 0, (long)step };
		nanosleep(&ts, NULL);
	}
	machine_idle_advance(m, (uint64_t)((now() - t) * 1e9));
}

static int load_kernel(struct machine *m, const struct cli_options *o)
{
	char err[512];
	size_t size;
	uint8_t *img = boot_read_file(o->kernel, &size, err, sizeof(err));
	if (!img) {
		fprintf(stderr, "nestbox: -kernel: %s\n", err);
		return -1;
	}
	int rc = 0;
	if (!strcmp(o->machine, "pc")) {
		if (!pc_boot_kernel(m, img, size, o->append, o->initrd, err, sizeof(err))) {
			fprintf(stderr, "nestbox: -kernel %s: %s\n", o->kernel, err);
			rc = -1;
		}
		free(img);
		return rc;
	}
	struct boot_module mods[CLI_MAX_MODULES];
	int nmods = 0;
	char *list = o->initrd ? strdup(o->initrd) : NULL;
	if (list) {
		char *save;
		for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
			if (nmods == CLI_MAX_MODULES) {
				fprintf(stderr, "nestbox: -initrd: at most %d modules\n",
					CLI_MAX_MODULES);
				free(list);
				free(img);
				return -1;
			}
			mods[nmods].path = p;
			mods[nmods].cmdline = p;
			nmods++;
		}
	}
	if (!multiboot_probe(img, size)) {
		fprintf(stderr,
			"nestbox: -kernel %s: not a Multiboot kernel (the bare board boots "
			"only Multiboot; use -machine pc for Linux)\n",
			o->kernel);
		rc = -1;
	} else {
		/* "kernel-path arguments", as GRUB and QEMU pass it. */
		char *full = malloc(strlen(o->kernel) + 2 + (o->append ? strlen(o->append) : 0));
		if (full)
			sprintf(full, "%s%s%s", o->kernel, o->append && *o->append ? " " : "",
				o->append ? o->append : "");
		if (!full || !multiboot_load(m, img, size, full, mods, nmods, err, sizeof(err))) {
			fprintf(stderr, "nestbox: -kernel %s: %s\n", o->kernel,
				full ? err : "out of memory");
			rc = -1;
		}
		free(full);
	}
	free(list);
	free(img);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli_options o;
	int r = cli_parse(argc, argv, &o);
	if (r)
		return r > 0 ? 0 : 2;

	struct console_watch w = { 0 };
	struct console_line serial_line = { .w = &w }, debugcon_line = { .w = &w };
	if (o.expect) {
		if (regcomp(&w.expect, o.expect, REG_EXTENDED | REG_NOSUB)) {
			fprintf(stderr, "nestbox: --expect '%s': not a valid regular expression\n",
				o.expect);
			return 2;
		}
		w.has_expect = true;
	}
	if (o.fail_on) {
		if (regcomp(&w.fail_on, o.fail_on, REG_EXTENDED | REG_NOSUB)) {
			fprintf(stderr, "nestbox: --fail-on '%s': not a valid regular expression\n",
				o.fail_on);
			return 2;
		}
		w.has_fail = true;
	}
	if (o.log) {
		w.log = fopen(o.log, "w");
		if (!w.log) {
			fprintf(stderr, "nestbox: --log %s: cannot create the file\n", o.log);
			return 2;
		}
	}

	struct machine_config cfg = {
		.ram_size = o.ram_size,
		.ncpus = o.smp,
		.cpu_model = o.cpu,
		.deterministic = true,
		.debug_exit_base = o.debug_exit_base,
		.debug_exit_size = o.debug_exit_size,
		.bios = o.bios,
		/* Until a display exists, SeaBIOS keeps its console on COM1. */
		.nographic = true,
		.console_tee = console_tee,
		.console_opaque = &serial_line,
		.debugcon_tee_opaque = &debugcon_line,
	};
	cfg.boot_order = o.boot_order;
	cfg.pc_testdev = o.pc_testdev;
	cfg.kernel_path = o.kernel;
	cfg.pci_testdev = o.pci_testdev;
	cfg.no_pit = o.no_pit;
	cfg.q35 = o.q35;
	cfg.intel_iommu = o.intel_iommu;
	cfg.iommu_intremap = o.iommu_intremap;
	cfg.iommu_eim = o.iommu_eim;
	cfg.edu = o.edu;
	cfg.edu_dma_mask = o.edu_dma_mask;
	cfg.boot_menu = o.boot_menu;
	cfg.ndrives = o.ndrives;
	for (int i = 0; i < o.ndrives; i++) {
		cfg.drives[i] = o.drives[i];
		if (o.snapshot)
			cfg.drives[i].snapshot = true;
	}
	if (o.ndrives && strcmp(o.machine, "pc")) {
		fprintf(stderr, "nestbox: disks need the pc board (-machine pc)\n");
		return 2;
	}
	cfg.no_vga = o.no_vga;
	if ((o.net.nnics || o.net.nnetdevs) && strcmp(o.machine, "pc")) {
		fprintf(stderr, "nestbox: network devices need the pc board (-machine pc)\n");
		return 2;
	}
	struct chardev con_dev, ser_dev;
	if (!chardev_open(&con_dev, o.debugcon, "-debugcon"))
		return 2;
	if (!chardev_open(&ser_dev, o.serial, "-serial")) {
		chardev_close(&con_dev);
		return 2;
	}
	cfg.debugcon = con_dev.out;
	cfg.serial = ser_dev.out;
	cfg.realtime_idle =
		o.realtime > 0 || (o.realtime < 0 && ser_dev.in_fd >= 0 && isatty(ser_dev.in_fd));
	/* Backends outlive the machine (net_free after machine_free). */
	struct net_runtime *net = net_setup(&o.net, &cfg);
	if (!net)
		return 2;
	struct machine *m =
		!strcmp(o.machine, "pc") ? machine_new_pc(&cfg) : machine_new_bare(&cfg);
	if (!m) {
		net_free(net);
		return 2;
	}
	w.m = m;
	/* -overcommit mem-lock=on: guest RAM (and everything after it) stays
	 * in host memory, as with QEMU's mlock. */
	if (o.mem_lock && mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
		fprintf(stderr,
			"nestbox: -overcommit mem-lock=on: cannot lock guest memory: %s "
			"(raise the memlock limit, ulimit -l)\n",
			strerror(errno));
		machine_free(m);
		net_free(net);
		return 2;
	}
	if (o.kernel) {
		if (load_kernel(m, &o) < 0) {
			machine_free(m);
			net_free(net);
			return 2;
		}
	} else {
		/* pc board without -kernel: firmware boot (disks, CD-ROMs). */
		char err[512];
		const char *bios = o.bios ? o.bios : "/usr/share/seabios/bios-256k.bin";
		if (!pc_boot_firmware(m, bios, err, sizeof(err))) {
			fprintf(stderr, "nestbox: -bios: %s%s\n", err,
				o.bios ? ""
				       : " (install Debian's seabios package, or give -bios FILE)");
			machine_free(m);
			net_free(net);
			return 2;
		}
	}

	double t0 = now(), c0 = cpu_seconds();
	int status = 0;
	const char *what = "passed";
	uint64_t total = 0;
	bool serial_stdin = !strcmp(o.machine, "pc") && ser_dev.in_fd >= 0;
	struct serial_in sin = { .eof = !serial_stdin };
	for (;;) {
		/* Short chunks while the guest may be reading the console. */
		bool interactive = serial_stdin || net_active(net);
		uint64_t chunk = interactive ? 2u * 1000 * 1000 : 50u * 1000 * 1000;
		if (serial_stdin)
			pump_stdin(m, &sin, ser_dev.in_fd);
		net_poll(net);
		if (o.max_insns && o.max_insns - total < chunk)
			chunk = o.max_insns - total;
		uint64_t before = 0;
		for (int i = 0; i < m->ncpus; i++)
			before += m->cpu[i]->icount;
		enum machine_stop s = machine_run(m, chunk);
		uint64_t after = 0;
		for (int i = 0; i < m->ncpus; i++)
			after += m->cpu[i]->icount;
		total += after - before;
		if (s == MSTOP_EXIT) {
			status = m->exit_code;
			what = w.fail_seen ? "failed (--fail-on matched)" : "guest exited";
			if (w.fail_seen)
				status = 1;
			break;
		}
		/* A reset (or a triple fault, which resets a PC) restarts the
		 * firmware unless -no-reboot; a directly booted kernel has nothing
		 * to restart, so the run ends, as after a power-off. */
		if ((s == MSTOP_RESET || (s == MSTOP_SHUTDOWN && !o.kernel)) && !o.no_reboot &&
		    !strcmp(o.machine, "pc") && pc_reset(m))
			continue;
		if (s == MSTOP_RESET) {
			status = 0;
			what = "guest requested a reset";
			break;
		}
		if (s == MSTOP_SHUTDOWN) {
			status = 3;
			what = "guest crashed (triple fault)";
			break;
		}
		if (s == MSTOP_IDLE) {
			bool input = (serial_stdin && !sin.eof) || net_active(net);
			uint64_t gap = machine_idle_gap(m);
			if (gap == UINT64_MAX && !input) {
				s = MSTOP_HALTED;
			} else {
				idle_wait(m, serial_stdin && !sin.eof ? ser_dev.in_fd : -1, gap);
			}
		}
		if (s == MSTOP_HALTED) {
			status = w.has_expect ? 0 : 4;
			what = "all vCPUs halted";
			break;
		}
		if (o.max_insns && total >= o.max_insns) {
			status = 124;
			what = "instruction limit reached";
			break;
		}
		if (o.guest_timeout && (double)cpu_clock_ns(m->cpu[0]) >= o.guest_timeout * 1e9) {
			status = 124;
			what = "guest time limit reached";
			break;
		}
		if (o.timeout && now() - t0 >= o.timeout) {
			status = 124;
			what = "timed out";
			break;
		}
	}
	if (serial_line.len)
		check_line(&serial_line);
	if (debugcon_line.len)
		check_line(&debugcon_line);
	if (status != 124 && status != 3 && !w.fail_seen && w.has_expect) {
		if (w.expect_seen) {
			status = m->exit_requested ? status : 0;
			if (!m->exit_requested)
				what = "passed (--expect matched)";
		} else {
			status = 1;
			what = "failed (--expect not seen)";
		}
	}
	double secs = now() - t0, csecs = cpu_seconds() - c0;
	if (!o.quiet)
		fprintf(stderr,
			"nestbox: %s, status %d, %llu instructions in %.2f s (%.2f s CPU, %.0f "
			"MIPS)\n",
			what, status, (unsigned long long)total, secs, csecs,
			csecs > 0 ? (double)total / csecs / 1e6 : 0.0);
	/* Where each vCPU stood, when the run did not end by itself. */
	if (status == 124 || status == 3)
		for (int i = 0; i < m->ncpus; i++) {
			const struct cpu *c = m->cpu[i];
			fprintf(stderr,
				"nestbox: vCPU %d at %04x:%016llx (CPL %d, %s)%s, rflags %llx, "
				"%llu instructions\n",
				i, c->seg[S_CS].sel, (unsigned long long)c->rip, c->cpl,
				c->mode == MODE_REAL     ? "real mode"
				: c->mode == MODE_V86    ? "virtual-8086 mode"
				: c->mode == MODE_PROT   ? (c->code32 ? "32-bit protected mode"
								      : "16-bit protected mode")
				: c->mode == MODE_COMPAT ? "compatibility mode"
							 : "64-bit mode",
				c->halted == 2 ? ", waiting for SIPI"
				: c->halted    ? ", halted"
					       : "",
				(unsigned long long)flags_get(c), (unsigned long long)c->icount);
		}
	if (w.log)
		fclose(w.log);
	chardev_close(&con_dev);
	chardev_close(&ser_dev);
	fflush(stdout);
	machine_free(m);
	net_free(net);
	return status;
}
