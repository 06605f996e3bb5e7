/*
 * frontend/cli.c — parse the qemu-compatible command line (see cli.h).
 * Every option is validated here with a message naming the problem; unknown
 * options are an error, never silently ignored.
 */
#include "frontend/cli.h"

#include "cpu/cpuid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: nestbox [options]\n"
	"\n"
	"QEMU-compatible options:\n"
	"  -m SIZE[M|G]          guest RAM (default 128M)\n"
	"  -smp N                number of vCPUs\n"
	"  -cpu MODEL[,+f,-f]    intel, amd or max, with feature edits\n"
	"  -machine TYPE[,accel=...][,pit=on|off][,kernel-irqchip=...]\n"
	"                        board: pc (default), q35 or bare; accel and\n"
	"                        kernel-irqchip are accepted and ignored\n"
	"  -M TYPE               same as -machine\n"
	"  -accel NAME           accepted (nestbox is its own accelerator)\n"
	"  -kernel FILE          Linux bzImage or Multiboot kernel to boot directly\n"
	"  -append STRING        kernel command line\n"
	"  -initrd FILE[,FILE]   Linux initrd, or Multiboot modules\n"
	"  -bios FILE            firmware image (pc board)\n"
	"  -debugcon DEV         port 0xe9 console: stdio, file:PATH or none\n"
	"  -serial DEV           COM1: stdio, file:PATH or none\n"
	"  -device isa-debug-exit[,iobase=N][,iosize=N]\n"
	"  -device pc-testdev, -device pci-testdev (kvm-unit-tests devices)\n"
	"  -device intel-iommu[,intremap=on|off][,eim=on|off]  VT-d unit (q35)\n"
	"  -device edu[,dma_mask=N]  QEMU's educational PCI device\n"
	"  -device virtio-net-pci[,netdev=ID][,mac=MAC]\n"
	"  -netdev user,id=ID[,net=A/N][,host=A][,dhcpstart=A][,dns=A][,restrict=on]\n"
	"          [,hostfwd=tcp|udp:[HADDR]:HPORT-[GADDR]:GPORT]...\n"
	"  -netdev hubport,id=ID,hubid=N\n"
	"  -nic none|user|hubport[,model=virtio-net-pci][,mac=MAC][,...]\n"
	"  -net none|nic[,model=virtio][,macaddr=MAC]|user[,...]   (hub 0)\n"
	"  -vga std|none         Bochs VBE display adapter (default std)\n"
	"  -global kvm-DEV.PROP=VALUE  accepted and inert (no KVM devices)\n"
	"  -vnc none\n"
	"  -nographic, -display none, -nodefaults, -no-reboot, -enable-kvm (refused)\n"
	"\n"
	"Runner options:\n"
	"  --timeout SECONDS     stop after this much host time (status 124)\n"
	"  --guest-timeout SECONDS  stop after this much guest (virtual) time\n"
	"  --realtime            idle guest time passes at host speed (default when\n"
	"                        COM1 is stdio on a terminal)\n"
	"  --deterministic       idle guest time jumps to the next timer (default)\n"
	"  --max-insns N         stop after N guest instructions (status 124)\n"
	"  --expect REGEX        pass only if the console output matches\n"
	"  --fail-on REGEX       fail as soon as the console output matches\n"
	"  --log FILE            save the console output to FILE\n"
	"  --quiet               no summary line on stderr\n"
	"  --summary             print it (the default with a runner option above)\n"
	"\n"
	"Exit status: the guest's isa-debug-exit code ((value << 1) | 1) if it used\n"
	"it; otherwise 0 = passed, 1 = --expect not seen or --fail-on seen,\n"
	"2 = bad command line or input, 3 = guest crashed (triple fault),\n"
	"4 = all vCPUs halted for good, 124 = time limit.\n";

static int bad(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "nestbox: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
	return -1;
}

static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return false;
	uint64_t mul = 1ull << 20; /* QEMU: plain numbers are MiB */
	if (*end == 'M' || *end == 'm')
		end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1ull << 30, end++;
	else if (*end == 'K' || *end == 'k')
		mul = 1ull << 10, end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return false;
	*out = (uint64_t)(v * (double)mul);
	return true;
}

static bool parse_uint(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

/* -device help: the format QEMU prints (kvm-unit-tests' x86/run greps it for
 * "pc-testdev" and "pci-testdev"). */
static const char device_list[] = "Misc devices:\n"
				  "name \"isa-debug-exit\", bus ISA\n"
				  "name \"pc-testdev\", bus ISA\n"
				  "name \"pci-testdev\", bus PCI, desc \"PCI Test Device\"\n"
				  "name \"edu\", bus PCI\n"
				  "name \"intel-iommu\", bus System, desc \"Intel IOMMU (VT-d) DMA "
				  "Remapping device\"\n"
				  "\nNetwork devices:\n"
				  "name \"virtio-net-pci\", bus PCI, alias \"virtio-net\"\n";

/* A device that takes no properties (QEMU's own properties of these, such
 * as "membar" of pci-testdev, are not implemented and so refused). */
static int no_props(const char *name, char *save)
{
	char *kv = strtok_r(NULL, ",", &save);
	if (kv)
		return bad("-device %s: property '%s' is not supported", name, kv);
	return 0;
}

static int parse_onoff(const char *v, bool *out);

/* -device intel-iommu[,intremap=on|off][,eim=on|off]: as QEMU's "auto"
 * values resolve without KVM, interrupt remapping is on and x2APIC mode
 * (eim) off by default; eim=on needs intremap=on. */
static int parse_intel_iommu(char *save, struct cli_options *o)
{
	int eim = 0;
	o->intel_iommu = true;
	o->iommu_intremap = true;
	for (char *kv; (kv = strtok_r(NULL, ",", &save));) {
		char *eq = strchr(kv, '=');
		bool on;
		if (!eq || parse_onoff(eq + 1, &on))
			return bad("-device intel-iommu: bad property '%s' (intremap=on|off, "
				   "eim=on|off)%s",
				   kv, "");
		*eq = 0;
		if (!strcmp(kv, "intremap"))
			o->iommu_intremap = on;
		else if (!strcmp(kv, "eim"))
			eim = on;
		else
			return bad("-device intel-iommu: property '%s' is not supported (nestbox "
				   "has intremap and eim)%s",
				   kv, "");
	}
	if (eim == 1 && !o->iommu_intremap)
		return bad("-device intel-iommu: eim=on needs intremap=on%s%s", "", "");
	o->iommu_eim = eim == 1;
	return 0;
}

/* -device edu[,dma_mask=N] */
static int parse_edu(char *save, struct cli_options *o)
{
	o->edu = true;
	for (char *kv; (kv = strtok_r(NULL, ",", &save));) {
		uint64_t v;
		char *eq = strchr(kv, '=');
		if (!eq || strncmp(kv, "dma_mask=", 9) || !parse_uint(eq + 1, &v) || !v)
			return bad("-device edu: bad property '%s' (edu has dma_mask=N)%s", kv, "");
		o->edu_dma_mask = v;
	}
	return 0;
}

static int parse_device(const char *arg, struct cli_options *o)
{
	if (!strcmp(arg, "?") || !strcmp(arg, "help")) {
		fputs(device_list, stdout);
		return 1;
	}
	int nic = cli_parse_nic_device(arg, &o->net);
	if (nic <= 0)
		return nic;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", arg);
	char *save, *name = strtok_r(buf, ",", &save);
	if (name && !strcmp(name, "pc-testdev")) {
		o->pc_testdev = true;
		return no_props(name, save);
	}
	if (name && !strcmp(name, "pci-testdev")) {
		o->pci_testdev = true;
		return no_props(name, save);
	}
	if (name && !strcmp(name, "intel-iommu"))
		return parse_intel_iommu(save, o);
	if (name && !strcmp(name, "edu"))
		return parse_edu(save, o);
	if (!name || strcmp(name, "isa-debug-exit") != 0)
		return bad("-device %s: unknown device (nestbox has: isa-debug-exit, pc-testdev, "
			   "pci-testdev, edu, intel-iommu, virtio-net-pci)%s",
			   name ? name : "", "");
	o->debug_exit_base = 0x501;
	o->debug_exit_size = 2;
	for (char *kv; (kv = strtok_r(NULL, ",", &save));) {
		uint64_t v;
		char *eq = strchr(kv, '=');
		if (!eq || !parse_uint(eq + 1, &v))
			return bad("-device isa-debug-exit: bad property '%s'%s", kv, "");
		*eq = 0;
		if (!strcmp(kv, "iobase") && v <= 0xffff)
			o->debug_exit_base = (uint16_t)v;
		else if (!strcmp(kv, "iosize") && v >= 1 && v <= 4)
			o->debug_exit_size = (uint16_t)v;
		else
			return bad("-device isa-debug-exit: bad property '%s'%s", kv, "");
	}
	return 0;
}

/* QEMU's on/off spellings of a boolean property. */
static int parse_onoff(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"))
		*out = false;
	else
		return -1;
	return 0;
}

/* -global DRIVER.PROP=VALUE (or driver=D,property=P,value=V). Only the
 * in-kernel KVM devices' globals are accepted: QEMU itself creates no
 * kvm-pit/kvm-i8259/... without KVM, so with TCG such a global is inert, and
 * it is inert here too. A global for any other driver is refused, because
 * nestbox's devices have no settable properties. */
/* -overcommit mem-lock=on|off,cpu-pm=on|off (QEMU's spelling). mem-lock
 * locks guest RAM in host memory (main.c). cpu-pm=on asks a hypervisor not
 * to exit on the guest's idle instructions (HLT, MWAIT, PAUSE); nestbox has
 * no host hypervisor under it, so the guest's idle instructions are always
 * its own (PAUSE, HLT and MWAIT act as cpu/ describes) and either value is
 * accepted. */
static int parse_overcommit(const char *arg, struct cli_options *o)
{
	char buf[128];
	if (strlen(arg) >= sizeof(buf))
		return bad("-overcommit %s: option too long%s", arg, "");
	strcpy(buf, arg);
	for (char *save = 0, *it = strtok_r(buf, ",", &save); it; it = strtok_r(0, ",", &save)) {
		bool on;
		char *eq = strchr(it, '=');
		if (!eq)
			return bad("-overcommit %s: expected mem-lock=on|off or cpu-pm=on|off%s",
				   arg, "");
		*eq = 0;
		if (!strcmp(eq + 1, "on"))
			on = true;
		else if (!strcmp(eq + 1, "off"))
			on = false;
		else
			return bad("-overcommit %s: value must be on or off%s", arg, "");
		if (!strcmp(it, "mem-lock"))
			o->mem_lock = on;
		else if (strcmp(it, "cpu-pm"))
			return bad("-overcommit: unknown property '%s' (mem-lock, cpu-pm)%s", it,
				   "");
	}
	return 0;
}

static int parse_global(const char *arg)
{
	const char *drv = arg;
	size_t len;
	if (!strncmp(arg, "driver=", 7)) {
		drv = arg + 7;
		len = strcspn(drv, ",");
		if (!strstr(arg, ",property=") || !strstr(arg, ",value="))
			return bad("-global %s: expected driver=D,property=P,value=V%s", arg, "");
	} else {
		const char *dot = strchr(arg, '.');
		if (!dot || dot == arg || !strchr(dot, '='))
			return bad("-global %s: expected DRIVER.PROPERTY=VALUE%s", arg, "");
		len = (size_t)(dot - arg);
	}
	if (len > 4 && !strncmp(drv, "kvm-", 4))
		return 0;
	return bad("-global %s: nestbox's devices have no properties to set%s", arg, "");
}
static int parse_machine(const char *arg, struct cli_options *o)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", arg);
	char *save;
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			if (!strcmp(kv, "bare") || !strcmp(kv, "pc") || !strcmp(kv, "q35")) {
				/* q35 is the pc board family with the Q35 chipset. */
				o->machine = strcmp(kv, "bare") ? "pc" : "bare";
				o->q35 = !strcmp(kv, "q35");
			} else if (!strncmp(kv, "pc-", 3)) {
				return bad(
					"-machine %s: versioned types unsupported (use pc, q35)%s",
					kv, "");
			} else {
				return bad("-machine %s: unknown board (bare, pc, q35)%s", kv, "");
			}
		} else if (!strncmp(kv, "accel=", 6)) {
			/* Any accelerator name is accepted: nestbox always emulates. */
		} else if (!strncmp(kv, "pit=", 4)) {
			bool on;
			if (parse_onoff(eq + 1, &on))
				return bad("-machine %s: value must be on or off%s", kv, "");
			o->no_pit = !on;
		} else if (!strncmp(kv, "kernel-irqchip=", 15)) {
			/* A KVM property: QEMU ignores it without KVM, and so does
			 * nestbox (the irqchips are always emulated). */
			bool on;
			if (strcmp(eq + 1, "split") && parse_onoff(eq + 1, &on))
				return bad("-machine %s: value must be on, off or split%s", kv, "");
		} else if (!strncmp(kv, "type=", 5)) {
			if (strcmp(eq + 1, "pc") && strcmp(eq + 1, "bare") && strcmp(eq + 1, "q35"))
				return bad("-machine type=%s: unknown board%s", eq + 1, "");
			o->machine = strcmp(eq + 1, "bare") ? "pc" : "bare";
			o->q35 = !strcmp(eq + 1, "q35");
		} else {
			return bad("-machine: unknown property '%s'%s", kv, "");
		}
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_options *o)
{
	memset(o, 0, sizeof(*o));
	o->ram_size = 128ull << 20;
	o->smp = 1;
	o->cpu = "max";
	o->machine = "pc";
	o->realtime = -1;
	o->debugcon = "none";
	o->serial = "none";
	/* The summary line: on with --summary or any runner option, off with
	 * --quiet, and off by default so that a qemu-style invocation prints
	 * nothing on stderr when all is well (kvm-unit-tests' runner counts
	 * any stderr output as a failure). */
	int summary = -1;
	bool runner = false;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		/* QEMU accepts both -opt and --opt. */
		if (opt[0] == '-' && opt[1] == '-' && opt[2])
			opt++;
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_ARG()                                                                \
	do {                                                                      \
		if (!arg)                                                         \
			return bad("option %s needs an argument%s", argv[i], ""); \
		i++;                                                              \
	} while (0)
		if (!strcmp(opt, "-help") || !strcmp(opt, "-h")) {
			fputs(usage, stdout);
			return 1;
		} else if (!strcmp(opt, "-version")) {
			printf("nestbox version 0.1 (qemu-compatible command line)\n");
			return 1;
		} else if (!strcmp(opt, "-m")) {
			NEED_ARG();
			const char *s = arg;
			if (!strncmp(s, "size=", 5))
				s += 5;
			if (!parse_size(s, &o->ram_size) || o->ram_size < (1u << 20))
				return bad("-m %s: not a memory size of at least 1M%s", arg, "");
		} else if (!strcmp(opt, "-smp")) {
			NEED_ARG();
			uint64_t v;
			const char *s = arg;
			if (!strncmp(s, "cpus=", 5))
				s += 5;
			char tmp[32];
			snprintf(tmp, sizeof(tmp), "%s", s);
			char *comma = strchr(tmp, ',');
			if (comma)
				*comma = 0;
			if (!parse_uint(tmp, &v) || v < 1 || v > 64)
				return bad("-smp %s: need a vCPU count from 1 to 64%s", arg, "");
			o->smp = (int)v;
		} else if (!strcmp(opt, "-cpu")) {
			NEED_ARG();
			o->cpu = arg;
		} else if (!strcmp(opt, "-machine") || !strcmp(opt, "-M")) {
			NEED_ARG();
			if (parse_machine(arg, o) < 0)
				return -1;
		} else if (!strcmp(opt, "-accel")) {
			NEED_ARG();
		} else if (!strcmp(opt, "-enable-kvm")) {
			return bad("-enable-kvm: nestbox is an emulator; it does not use KVM%s%s",
				   "", "");
		} else if (!strcmp(opt, "-drive") || !strcmp(opt, "-cdrom") ||
			   !strcmp(opt, "-boot") ||
			   (!strncmp(opt, "-hd", 3) && opt[3] >= 'a' && opt[3] <= 'd' && !opt[4])) {
			NEED_ARG();
			if (cli_parse_drive_opt(opt, arg, o) < 0)
				return -1;
		} else if (!strcmp(opt, "-snapshot")) {
			o->snapshot = true;
		} else if (!strcmp(opt, "-kernel")) {
			NEED_ARG();
			o->kernel = arg;
		} else if (!strcmp(opt, "-append")) {
			NEED_ARG();
			o->append = arg;
		} else if (!strcmp(opt, "-initrd")) {
			NEED_ARG();
			o->initrd = arg;
		} else if (!strcmp(opt, "-bios")) {
			NEED_ARG();
			o->bios = arg;
		} else if (!strcmp(opt, "-debugcon")) {
			NEED_ARG();
			o->debugcon = arg;
		} else if (!strcmp(opt, "-serial")) {
			NEED_ARG();
			o->serial = arg;
		} else if (!strcmp(opt, "-device")) {
			NEED_ARG();
			int r = parse_device(arg, o);
			if (r)
				return r;
		} else if (!strcmp(opt, "-netdev") || !strcmp(opt, "-nic") ||
			   !strcmp(opt, "-net")) {
			NEED_ARG();
			if (cli_parse_net_opt(opt, arg, &o->net) < 0)
				return -1;
		} else if (!strcmp(opt, "-vga")) {
			NEED_ARG();
			if (!strcmp(arg, "none"))
				o->no_vga = true;
			else if (!strcmp(arg, "std"))
				o->no_vga = false;
			else
				return bad("-vga %s: nestbox has 'std' (Bochs VBE) and 'none'%s",
					   arg, "");
		} else if (!strcmp(opt, "-realtime")) {
			o->realtime = 1;
		} else if (!strcmp(opt, "-deterministic")) {
			o->realtime = 0;
		} else if (!strcmp(opt, "-guest-timeout")) {
			NEED_ARG();
			runner = true;
			char *end;
			o->guest_timeout = strtod(arg, &end);
			if (*end || o->guest_timeout <= 0)
				return bad(
					"--guest-timeout %s: need a positive number of seconds%s",
					arg, "");
		} else if (!strcmp(opt, "-display")) {
			NEED_ARG();
			if (strcmp(arg, "none"))
				return bad("-display %s: only 'none' is available in this build%s",
					   arg, "");
		} else if (!strcmp(opt, "-nographic")) {
			o->nographic = true;
			if (!strcmp(o->serial, "none"))
				o->serial = "stdio";
		} else if (!strcmp(opt, "-vnc")) {
			NEED_ARG();
			if (strcmp(arg, "none"))
				return bad("-vnc %s: nestbox has no VNC server (only 'none')%s",
					   arg, "");
		} else if (!strcmp(opt, "-global")) {
			NEED_ARG();
			if (parse_global(arg) < 0)
				return -1;
		} else if (!strcmp(opt, "-nodefaults")) {
		} else if (!strcmp(opt, "-overcommit")) {
			NEED_ARG();
			if (parse_overcommit(arg, o) < 0)
				return -1;
		} else if (!strcmp(opt, "-no-reboot")) {
			o->no_reboot = true;
		} else if (!strcmp(opt, "-timeout")) {
			NEED_ARG();
			runner = true;
			char *end;
			o->timeout = strtod(arg, &end);
			if (*end || o->timeout <= 0)
				return bad("--timeout %s: need a positive number of seconds%s", arg,
					   "");
		} else if (!strcmp(opt, "-max-insns")) {
			NEED_ARG();
			runner = true;
			if (!parse_uint(arg, &o->max_insns) || !o->max_insns)
				return bad("--max-insns %s: need a positive count%s", arg, "");
		} else if (!strcmp(opt, "-expect")) {
			NEED_ARG();
			runner = true;
			o->expect = arg;
		} else if (!strcmp(opt, "-fail-on")) {
			NEED_ARG();
			runner = true;
			o->fail_on = arg;
		} else if (!strcmp(opt, "-log")) {
			NEED_ARG();
			runner = true;
			o->log = arg;
		} else if (!strcmp(opt, "-quiet")) {
			o->quiet = true;
			summary = 0;
		} else if (!strcmp(opt, "-summary")) {
			summary = 1;
		} else {
			return bad("unknown option '%s' (see nestbox --help)%s", argv[i], "");
		}
#undef NEED_ARG
	}
	if (cli_net_check(&o->net) < 0)
		return -1;
	o->quiet = summary == 0 || (summary < 0 && !runner);
	/* The CPU model first, as qemu does: a model this build cannot provide
	 * is a configuration error, whatever the kernel. */
	struct cpu_model model;
	char err[160];
	if (!cpu_model_parse(o->cpu, &model, err, sizeof(err))) {
		fprintf(stderr, "nestbox: %s\n", err);
		return -1;
	}
	/* Checked here so the message has QEMU's wording, which scripts (such
	 * as kvm-unit-tests' runner) look for to tell a missing kernel from an
	 * unsupported option. */
	if (o->kernel && access(o->kernel, R_OK) != 0) {
		fprintf(stderr, "nestbox: could not load kernel '%s': %s\n", o->kernel,
			strerror(errno));
		return -1;
	}
	if (!o->kernel && strcmp(o->machine, "pc") != 0)
		return bad("no -kernel given: the %s board has no firmware to boot from%s",
			   o->machine, "");
	if (o->intel_iommu && !o->q35)
		return bad("-device intel-iommu: the VT-d unit needs -machine q35%s%s", "", "");
	if (o->edu && strcmp(o->machine, "pc") != 0)
		return bad("-device edu: needs a PCI bus (-machine pc or q35)%s%s", "", "");
	return 0;
}
