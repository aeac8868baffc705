/* Flush-to-zero for the cpu backend's hot loops (internal).
 *
 * Once a softmax saturates, gradients fill with subnormal floats, which
 * x86 processors handle in microcode about 100 times slower; a training
 * step then slows 15-fold. GPUs flush subnormals to zero anyway, so the
 * cpu backend does the same inside its own ops and restores the caller's
 * floating-point mode afterwards. On other processors this is a no-op and
 * the slowdown remains (stated in README's Limitations). */
#ifndef CLFIT_CPU_FPENV_H
#define CLFIT_CPU_FPENV_H

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>

typedef unsigned int clf_fpenv;

static inline clf_fpenv clf_fpenv_flush_begin(void)
{
    unsigned int saved = _mm_getcsr();

    _mm_setcsr(saved | 0x8040u); /* FTZ (bit 15) and DAZ (bit 6) */
    return saved;
}

static inline void clf_fpenv_flush_end(clf_fpenv saved)
{
    _mm_setcsr(saved);
}
#else
typedef int clf_fpenv;

static inline clf_fpenv clf_fpenv_flush_begin(void)
{
    return 0;
}

static inline void clf_fpenv_flush_end(clf_fpenv saved)
{
    (void)saved;
}
#endif

#endif
