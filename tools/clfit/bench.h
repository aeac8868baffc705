/* Helpers shared by the `clfit bench` sections (bench_*.c).
 *
 * Every figure is printed twice: once as a sentence for people, once as a
 * "result NAME VALUE UNIT" line that tools/bench/report.py collects. No
 * figure is checked against a target here: the benchmark only measures.
 */
#ifndef CLFIT_TOOL_BENCH_H
#define CLFIT_TOOL_BENCH_H

#include <stddef.h>

#include "clfit/device.h"

/* Seconds on a monotonic clock. */
double bench_now(void);

/* Median of n values (sorts them in place); 0 for n == 0. */
double bench_median(double *v, size_t n);

/* Prints "result NAME VALUE UNIT". */
void bench_result(const char *name, double value, const char *unit);

/* CPU seconds (user + system) this process has used, all threads. */
double bench_cpu_seconds(void);

/* Peak resident memory of this process so far, in MiB (getrusage). */
double bench_peak_rss_mib(void);

/* Opens `device`, runs body(opts, backend) and closes it; a failure is
 * reported as "bench SECTION failed: why" plus `hint` (may be NULL).
 * Returns the process exit code. */
int bench_on_device(const char *device, const char *section,
                    clf_status (*body)(const void *opts, struct clf_backend *be),
                    const void *opts, const char *hint);

/* The sections; each returns the process exit code. */
int bench_step(int argc, char **argv);
int bench_gemm(int argc, char **argv);
int bench_data(int argc, char **argv);
int bench_start(int argc, char **argv);
int bench_mobilenet(int argc, char **argv);

#endif
