/*
 * tests/e2e/kvm/kvm_l2.c — a minimal KVM user (built static, run inside the
 * L1 Linux on nestbox): create a VM with one memory slot and one vCPU, run a
 * real-mode L2 guest that writes two bytes to port 0x10 and halts, and check
 * the exits KVM reports. Prints "kvm_l2: PASS" on success.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0) {
		perror("kvm_l2: open /dev/kvm");
		return 1;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("kvm_l2: KVM_CREATE_VM");
		return 1;
	}
	unsigned char *mem =
		mmap(0, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	/* mov al,0x42; out 0x10,al; mov al,0x43; out 0x10,al; hlt */
	static const unsigned char code[] = {
		0xb0, 0x42, 0xe6, 0x10, 0xb0, 0x43, 0xe6, 0x10, 0xf4
	};
	memcpy(mem + 0x1000, code, sizeof(code));
	struct kvm_userspace_memory_region r = { .slot = 0,
						 .guest_phys_addr = 0,
						 .memory_size = 0x10000,
						 .userspace_addr = (unsigned long)mem };
	if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000) < 0 ||
	    ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		perror("kvm_l2: VM setup");
		return 1;
	}
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		perror("kvm_l2: KVM_CREATE_VCPU");
		return 1;
	}
	int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(0, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
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
