/*
 * mapped_read: a SIGBUS during a mapped read becomes a failed read. See mapped_read.h.
 *
 * The handler only does async-signal-safe work: it reads and writes this thread's flags
 * (initial-exec TLS in the executable, so no allocation), and calls mmap(2) and sigaction(2).
 * Returning from it re-runs the faulting load, which then reads the zero page.
 */
#include "mapped_read.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static _Thread_local volatile sig_atomic_t reading;
static _Thread_local volatile sig_atomic_t failed;
static uintptr_t page_mask;
static struct sigaction previous;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int install_errno;

/* Not inside a mapped read, or the zero page cannot be mapped: the signal is not ours to
 * absorb. Putting the previous action back and returning re-runs the faulting access, which
 * then gets that action (by default: the process dies, as it would have without us). */
static void pass_on(void)
{
    sigaction(SIGBUS, &previous, NULL);
}

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)context;
    if (!reading || !info) {
        pass_on();
        return;
    }
    void *page = (void *)((uintptr_t)info->si_addr & page_mask);
    void *zeros =
        mmap(page, ~page_mask + 1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (zeros == MAP_FAILED) {
        pass_on();
        return;
    }
    failed = 1;
}

static void install(void)
{
    long page = sysconf(_SC_PAGESIZE);
    page_mask = ~((uintptr_t)(page > 0 ? page : 4096) - 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &previous) < 0)
        install_errno = errno;
}

int mapped_read_install(void)
{
    pthread_once(&once, install);
    if (install_errno) {
        errno = install_errno;
        return -1;
    }
    return 0;
}

void mapped_read_begin(void)
{
    failed = 0;
    reading = 1;
}

int mapped_read_end(void)
{
    reading = 0;
    return failed != 0;
}
