/* The SIGINT handler shared by train and evaluate. */
#include "interrupt.h"

#include <time.h>

volatile sig_atomic_t interrupt_requested;
static struct timespec first_sigint;

static long ms_since(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now); /* async-signal-safe */
    return (long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* A repeat within a second is the same Ctrl-C delivered twice (as
 * timeout(1) and other wrappers do, to the process and to its group), so it
 * is ignored; a later one ends the process. */
static void on_sigint(int sig)
{
    (void)sig;
    if (!interrupt_requested) {
        clock_gettime(CLOCK_MONOTONIC, &first_sigint);
        interrupt_requested = 1;
        return;
    }
    if (ms_since(&first_sigint) < 1000)
        return;
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
}

void interrupt_install(void)
{
    signal(SIGINT, on_sigint);
}
