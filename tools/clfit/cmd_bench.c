/* clfit bench SECTION: the clfit side of tools/bench (step, gemm, data,
 * start); see bench.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "args.h"
#include "bench.h"
#include "commands.h"

static const char bench_usage[] =
    "usage: clfit bench SECTION [options]\n"
    "\n"
    "sections:\n"
    "  step   training step time of a built-in model on random images\n"
    "         [--device D] [--model linear|mlp:N] [--classes N] [--batch-size N]\n"
    "         [--image-size N] [--steps N] [--warmup N] [--profile]\n"
    "  gemm   SGEMM GFLOP/s  [--device D] [--shape MxNxK[:TA TB as NN|NT|TN|TT]]...\n"
    "         [--repeat N]\n"
    "  data   DATA_DIR: images/s of decoding (first epoch) and of cached epochs\n"
    "         [--image-size N] [--threads N] [--epochs N] [--batch-size N]\n"
    "  start  time from process start to the end of the first training step\n"
    "         [--device D] [--classes N]\n"
    "  mobilenet  images/s of MobileNetV2's frozen base, batch 12, 224x224\n"
    "         [--device D] [--base MODEL.json] [--base-layer NAME] [--batches N]\n"
    "         [--profile]\n"
    "\n"
    "Each figure is printed as a sentence and as a 'result NAME VALUE UNIT' line.\n";

double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void bench_result(const char *name, double value, const char *unit)
{
    printf("result %s %.6g %s\n", name, value, unit);
    fflush(stdout);
}

double bench_cpu_seconds(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0.0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

double bench_peak_rss_mib(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0.0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

int bench_on_device(const char *device, const char *section,
                    clf_status (*body)(const void *opts, clf_backend *be),
                    const void *opts, const char *hint)
{
    clf_backend *be = open_device(device);
    clf_status st;

    if (!be)
        return 1;
    st = body(opts, be);
    clf_backend_close(be);
    if (st != CLF_OK)
        fprintf(stderr, "clfit: bench %s failed: %s%s%s\n", section, clf_status_message(st),
                hint ? " " : "", hint ? hint : "");
    return st == CLF_OK ? 0 : 1;
}

int cmd_bench(int argc, char **argv)
{
    const char *sec = argc > 1 ? argv[1] : NULL;
    int rc;

    if (!sec || !strcmp(sec, "--help") || !strcmp(sec, "-h")) {
        fputs(bench_usage, sec ? stdout : stderr);
        return sec ? 0 : EXIT_USAGE;
    }
    if (!strcmp(sec, "step"))
        rc = bench_step(argc - 1, argv + 1);
    else if (!strcmp(sec, "gemm"))
        rc = bench_gemm(argc - 1, argv + 1);
    else if (!strcmp(sec, "data"))
        rc = bench_data(argc - 1, argv + 1);
    else if (!strcmp(sec, "start"))
        rc = bench_start(argc - 1, argv + 1);
    else if (!strcmp(sec, "mobilenet"))
        rc = bench_mobilenet(argc - 1, argv + 1);
    else {
        fprintf(stderr, "clfit: bench: unknown section '%s'\n\n%s", sec, bench_usage);
        return EXIT_USAGE;
    }
    if (rc == 0) {
        printf("peak resident memory of this run: %.1f MiB\n", bench_peak_rss_mib());
        bench_result("peak_rss_mib", bench_peak_rss_mib(), "MiB");
    }
    return rc;
}
