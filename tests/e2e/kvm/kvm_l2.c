/*
 * tests/e2e/kvm/kvm_l2.c — a minimal KVM user (built static, run inside the
 * L1 Linux on nestbox), two L2 guests, each in its own VM with one memory
 * slot and one vCPU, checking the exits KVM reports:
 *   1. real mode: writes two bytes to port 0x10 and halts;
 *   2. 64-bit mode with paging: CPUID (handled by KVM), an OUT, a store to
 *      an address outside the slot (KVM emulates the MMIO instruction: with
 *      NPT from the decode-assist bytes or its own fetch), a loop over a
 *      page of memory (shadow paging faults with npt=0 / ept=0), the sum
 *      out on port 0x14, HLT.
 * Prints "kvm_l2: all phases PASS" on success.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* A VM with one memory slot of size bytes at guest-physical 0 (mem) and
 * one vCPU: returns the vCPU's run area and its fd in *vcpu, or NULL. */
static struct kvm_run *vm_create(int kvm, void *mem, size_t size, int *vcpu)
{
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("kvm_l2: KVM_CREATE_VM");
		return NULL;
	}
	struct kvm_userspace_memory_region r = { .slot = 0,
						 .guest_phys_addr = 0,
						 .memory_size = size,
						 .userspace_addr = (unsigned long)mem };
	if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000) < 0 ||
	    ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		perror("kvm_l2: VM setup");
		return NULL;
	}
	*vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (*vcpu < 0) {
		perror("kvm_l2: KVM_CREATE_VCPU");
		return NULL;
	}
	int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(0, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, *vcpu, 0);
	return run == MAP_FAILED ? NULL : run;
}

/* Phase 1: a real-mode L2. */
static int phase_real(int kvm)
{
	unsigned char *mem =
		mmap(0, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	/* mov al,0x42; out 0x10,al; mov al,0x43; out 0x10,al; hlt */
	static const unsigned char code[] = {
		0xb0, 0x42, 0xe6, 0x10, 0xb0, 0x43, 0xe6, 0x10, 0xf4
	};
	memcpy(mem + 0x1000, code, sizeof(code));
	int vcpu;
	struct kvm_run *run = vm_create(kvm, mem, 0x10000, &vcpu);
	if (!run)
		return 1;
	struct kvm_sregs s;
	ioctl(vcpu, KVM_GET_SREGS, &s);
	s.cs.base = 0;
	s.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &s);
	struct kvm_regs g = { 0 };
	g.rip = 0x1000;
	g.rflags = 2;
	ioctl(vcpu, KVM_SET_REGS, &g);
	unsigned char seen[2];
	int outs = 0;
	for (int i = 0; i < 16; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			perror("kvm_l2: KVM_RUN");
			return 1;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x10 && outs < 2) {
			seen[outs++] = *((unsigned char *)run + run->io.data_offset);
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT) {
			int ok = outs == 2 && seen[0] == 0x42 && seen[1] == 0x43;
			printf("kvm_l2: L2 wrote %d bytes and halted: %s\n", outs,
			       ok ? "PASS" : "FAIL");
			return ok ? 0 : 1;
		}
		printf("kvm_l2: unexpected exit reason %u\n", run->exit_reason);
		return 1;
	}
	printf("kvm_l2: FAIL (no HLT)\n");
	return 1;
}

/* Phase 2: a 64-bit L2 (identity-mapped first 2 MiB, code at 0x5000). */
#define L2_MMIO 0x400000
__asm__(".pushsection .rodata\n"
	".globl l2_long, l2_long_end\n"
	"l2_long: xor %eax, %eax\n cpuid\n"
	" mov $0x41, %al\n out %al, $0x10\n"
	" movl $0x1234, 0x400000\n"
	" mov $0x6000, %edi\n mov $512, %ecx\n"
	"1: mov %rcx, (%rdi)\n add $8, %rdi\n loop 1b\n"
	" mov $0x6000, %esi\n xor %edx, %edx\n mov $512, %ecx\n"
	"2: add (%rsi), %rdx\n add $8, %rsi\n loop 2b\n"
	" mov %edx, %eax\n out %eax, $0x14\n"
	" hlt\n"
	"l2_long_end:\n"
	".popsection\n");
extern const unsigned char l2_long[], l2_long_end[];

static int phase_long(int kvm)
{
	unsigned char *mem =
		mmap(0, 0x200000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long long *pt = (unsigned long long *)mem;
	pt[0x1000 / 8] = 0x2000 | 3;                /* PML4E -> PDPT */
	pt[0x2000 / 8] = 0x3000 | 3;                /* PDPTE -> PD */
	pt[0x3000 / 8] = 0 | 3 | 0x80;              /* 2 MiB page at 0 */
	pt[0x3000 / 8 + 2] = L2_MMIO | 3 | 0x80;    /* and at 4 MiB (no memory) */
	pt[0x4000 / 8 + 1] = 0x00af9b000000ffffull; /* 08h: 64-bit code */
	pt[0x4000 / 8 + 2] = 0x00cf93000000ffffull; /* 10h: data */
	memcpy(mem + 0x5000, l2_long, (size_t)(l2_long_end - l2_long));
	int vcpu;
	struct kvm_run *run = vm_create(kvm, mem, 0x200000, &vcpu);
	if (!run)
		return 1;
	struct kvm_sregs s;
	ioctl(vcpu, KVM_GET_SREGS, &s);
	struct kvm_segment cs = { .base = 0,
				  .limit = 0xffffffff,
				  .selector = 8,
				  .type = 11,
				  .present = 1,
				  .dpl = 0,
				  .db = 0,
				  .s = 1,
				  .l = 1,
				  .g = 1 };
	struct kvm_segment ds = { .base = 0,
				  .limit = 0xffffffff,
				  .selector = 0x10,
				  .type = 3,
				  .present = 1,
				  .dpl = 0,
				  .db = 1,
				  .s = 1,
				  .l = 0,
				  .g = 1 };
	s.cs = cs;
	s.ds = s.es = s.fs = s.gs = s.ss = ds;
	s.gdt.base = 0x4000;
	s.gdt.limit = 23;
	s.cr0 = 0x80000011; /* PG, ET, PE */
	s.cr3 = 0x1000;
	s.cr4 = 0x20;   /* PAE */
	s.efer = 0x500; /* LME, LMA */
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0) {
		perror("kvm_l2: KVM_SET_SREGS (long mode)");
		return 1;
	}
	struct kvm_regs g = { 0 };
	g.rip = 0x5000;
	g.rsp = 0x8000;
	g.rflags = 2;
	ioctl(vcpu, KVM_SET_REGS, &g);
	int step = 0;
	for (int i = 0; i < 64; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			perror("kvm_l2: KVM_RUN (long mode)");
			return 1;
		}
		unsigned char *io = (unsigned char *)run + run->io.data_offset;
		if (step == 0 && run->exit_reason == KVM_EXIT_IO && run->io.port == 0x10 &&
		    io[0] == 0x41) {
			step = 1;
			continue;
		}
		if (step == 1 && run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write &&
		    run->mmio.phys_addr == L2_MMIO && run->mmio.len == 4 &&
		    run->mmio.data[0] == 0x34 && run->mmio.data[1] == 0x12) {
			step = 2;
			continue;
		}
		if (step == 2 && run->exit_reason == KVM_EXIT_IO && run->io.port == 0x14 &&
		    run->io.size == 4) {
			unsigned v = io[0] | io[1] << 8 | io[2] << 16 | (unsigned)io[3] << 24;
			if (v != 512 * 513 / 2) {
				printf("kvm_l2: 64-bit L2 sum %u: FAIL\n", v);
				return 1;
			}
			step = 3;
			continue;
		}
		if (step == 3 && run->exit_reason == KVM_EXIT_HLT) {
			printf("kvm_l2: 64-bit L2 (OUT, MMIO, memory loop) halted: PASS\n");
			return 0;
		}
		printf("kvm_l2: 64-bit L2 step %d: unexpected exit reason %u: FAIL\n", step,
		       run->exit_reason);
		return 1;
	}
	printf("kvm_l2: 64-bit L2: FAIL (no HLT)\n");
	return 1;
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0) {
		perror("kvm_l2: open /dev/kvm");
		return 1;
	}
	if (phase_real(kvm) || phase_long(kvm))
		return 1;
	printf("kvm_l2: all phases PASS\n");
	return 0;
}
