/*
 * tests/diff/diff_native.c — runs generated sequences on the host CPU.
 *
 * A forked child maps the test area at AREA_VA (fixed, below 2 GiB), then
 * for each sequence copies code and data in, and calls a small machine-code
 * trampoline that loads DS/ES, the FXSAVE image (FXRSTOR64), RFLAGS (POPFQ)
 * and every GPR from a state block and enters the sequence: a near JMP for
 * 64-bit mode, a far JMP through memory to Linux's USER32_CS (0x23) for
 * compatibility mode. The sequence ends with INT3; the SIGTRAP handler takes
 * the GPRs, RFLAGS and the FXSAVE area from the ucontext, stores them into
 * shared memory and siglongjmps back to the loop. Any other signal is recorded
 * as a fault. If the child dies (or the alarm fires) the parent records the
 * sequence it was running and starts a new child for the rest.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "tests/diff/diff.h"

#if defined(__x86_64__) && defined(__linux__)

#define PRO64_VA  0x30040000u
#define PRO32_VA  0x30040100u
#define STATE_VA  0x30050000u
#define ST_GPR    0
#define ST_FLAGS  128
#define ST_FAR    144
#define ST_FX     256
#define USER32_CS 0x23
#define USER_DS   0x2b

/* State of the child's signal handler: a signal handler cannot take
 * arguments, so the child (a separate process) keeps these in statics. */
static sigjmp_buf g_jb;
static struct dresult *g_cur;
static uint32_t g_end_rip;

static const int greg_of[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct dresult *r = g_cur;
	for (int i = 0; i < 16; i++)
		r->st.gpr[i] = (uint64_t)uc->uc_mcontext.gregs[greg_of[i]];
	r->st.rflags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
	r->fault_rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	if (uc->uc_mcontext.fpregs)
		memcpy(r->st.fx, uc->uc_mcontext.fpregs, 512);
	r->skip_lo = r->skip_hi = 0;
	if (sig == SIGTRAP && r->fault_rip == g_end_rip) {
		r->status = RES_OK;
	} else {
		r->status = RES_FAULT;
		r->vector = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
		r->errcode = (uint32_t)uc->uc_mcontext.gregs[REG_ERR];
	}
	siglongjmp(g_jb, 1);
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return p + 4;
}

/* The trampoline (see the file comment); mode 64 or 32. */
static void write_prologue(uint8_t *p, int mode)
{
	static const uint8_t seg[] = { 0xb8, USER_DS, 0, 0, 0, 0x8e, 0xd8, 0x8e, 0xc0 };
	memcpy(p, seg, sizeof(seg));
	p += sizeof(seg);
	/* fxrstor64 [STATE+ST_FX] */
	*p++ = 0x48, *p++ = 0x0f, *p++ = 0xae, *p++ = 0x0c, *p++ = 0x25;
	p = put32(p, STATE_VA + ST_FX);
	/* mov rsp, STATE+ST_FLAGS; popfq */
	*p++ = 0x48, *p++ = 0xc7, *p++ = 0xc4;
	p = put32(p, STATE_VA + ST_FLAGS);
	*p++ = 0x9d;
	for (int i = 0; i < 16; i++) {
		int r = i == 15 ? 4 : i == 4 ? 15 : i; /* RSP last */
		*p++ = (uint8_t)(0x48 | (r >= 8 ? 4 : 0));
		*p++ = 0x8b;
		*p++ = (uint8_t)((r & 7) << 3 | 4);
		*p++ = 0x25;
		p = put32(p, STATE_VA + ST_GPR + 8u * (unsigned)r);
	}
	if (mode == 64) {
		uint32_t next = (uint32_t)((uintptr_t)p + 5);
		*p++ = 0xe9;
		p = put32(p, CODE_VA - next);
	} else {
		*p++ = 0xff, *p++ = 0x2c, *p++ = 0x25;
		p = put32(p, STATE_VA + ST_FAR);
	}
}

static void child_setup(void)
{
	void *a = mmap((void *)(uintptr_t)AREA_VA, 0x200000, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (a != (void *)(uintptr_t)AREA_VA) {
		perror("diff: mmap test area");
		_exit(90);
	}
	/* read once so the page is present: a write then faults with P=1 */
	mprotect((void *)(uintptr_t)RO_VA, 4096, PROT_READ);
	(void)*(volatile uint8_t *)(uintptr_t)RO_VA;
	write_prologue((uint8_t *)(uintptr_t)PRO64_VA, 64);
	write_prologue((uint8_t *)(uintptr_t)PRO32_VA, 32);
	uint8_t *far = (uint8_t *)(uintptr_t)(STATE_VA + ST_FAR);
	uint32_t off = CODE_VA;
	uint16_t sel = USER32_CS;
	memcpy(far, &off, 4);
	memcpy(far + 4, &sel, 2);

	static uint8_t altstack[65536];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGTRAP, SIGSEGV, SIGBUS, SIGILL, SIGFPE };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	struct rlimit rl = { 60, 60 };
	setrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
}

static void child_run(const struct seq *s, struct dresult *r)
{
	uint8_t *code = (uint8_t *)(uintptr_t)CODE_VA;
	memcpy(code, s->code, (size_t)s->len);
	code[s->len] = 0xcc;
	g_end_rip = CODE_VA + (uint32_t)s->len + 1;
	memcpy((void *)(uintptr_t)DATA_VA, s->init.data, DATA_SIZE);
	uint8_t *st = (uint8_t *)(uintptr_t)STATE_VA;
	memcpy(st + ST_GPR, s->init.gpr, sizeof(s->init.gpr));
	memcpy(st + ST_FLAGS, &s->init.rflags, 8);
	memcpy(st + ST_FX, s->init.fx, 512);
	g_cur = r;
	r->status = RES_DIED;
	if (sigsetjmp(g_jb, 0) == 0) {
		void (*entry)(void) =
			(void (*)(void))(uintptr_t)(s->mode == 64 ? PRO64_VA : PRO32_VA);
		entry();
	}
	memcpy(r->st.data, (void *)(uintptr_t)DATA_VA, DATA_SIZE);
}

bool native_run_batch(const struct seq *s, int n, struct dresult *out)
{
	size_t sz = sizeof(struct dresult) * (size_t)n + 64;
	void *shm = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return false;
	volatile int *progress = shm;
	struct dresult *res = (struct dresult *)((uint8_t *)shm + 64);
	int start = 0;
	while (start < n) {
		*progress = start;
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			munmap(shm, sz);
			return false;
		}
		if (pid == 0) {
			child_setup();
			alarm(30);
			for (int i = start; i < n; i++) {
				*progress = i;
				child_run(&s[i], &res[i]);
			}
			_exit(0);
		}
		int wst = 0;
		waitpid(pid, &wst, 0);
		if (WIFEXITED(wst) && WEXITSTATUS(wst) == 0)
			break;
		if (WIFEXITED(wst) && WEXITSTATUS(wst) == 90) {
			munmap(shm, sz);
			return false;
		}
		int bad = *progress;
		res[bad].status =
			WIFSIGNALED(wst) && WTERMSIG(wst) == SIGALRM ? RES_TIMEOUT : RES_DIED;
		res[bad].vector = WIFSIGNALED(wst) ? WTERMSIG(wst) : WEXITSTATUS(wst);
		start = bad + 1;
	}
	memcpy(out, res, sizeof(struct dresult) * (size_t)n);
	munmap(shm, sz);
	return true;
}

#else

bool native_run_batch(const struct seq *s, int n, struct dresult *out)
{
	return false;
}

#endif
