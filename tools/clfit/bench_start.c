/* clfit bench start: time from the start of this process to the end of
 * the first training step of the seed model on random images (no data
 * loading), with its parts: opening the device (the kernel build, or the
 * program binary cache), compiling the model, the first step (where a
 * driver like PoCL compiles each kernel at its first launch). Run it with
 * empty caches (POCL_CACHE_DIR, CLFIT_CACHE_DIR) for a cold start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clfit/log.h"
#include "clfit/model.h"

#include "args.h"
#include "bench.h"
#include "commands.h"

/* Seconds since this process started: /proc/self/stat's start time (in
 * clock ticks since boot) against CLOCK_BOOTTIME; -1 when unknown. */
static double process_age(void)
{
    char buf[1024], *p;
    unsigned long long start = 0;
    struct timespec ts;
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

    if (f)
        fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    /* after ") ": fields 3..22 of stat(5); start time is field 22 */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                            "%*d %*d %*d %*d %llu", &start) != 1 ||
        clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
        return -1.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 -
           (double)start / (double)sysconf(_SC_CLK_TCK);
}

static clf_status first_step(const char *device, int classes, double t[3], double *age)
{
    enum { B = 12, H = 224, W = 224 };
    static uint8_t px[B * H * W * 3];
    int32_t labels[B];
    clf_backend *be = NULL;
    clf_model *m = NULL;
    clf_optimizer opt;
    clf_metrics mt;
    double t0 = bench_now();
    clf_status st = clf_backend_open(device, &be);

    t[0] = bench_now() - t0;
    for (int i = 0; i < B; i++)
        labels[i] = i % classes;
    memset(px, 128, sizeof px);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    if (st == CLF_OK)
        st = clf_model_create("linear", H, W, classes, 20, &m);
    if (st == CLF_OK)
        st = clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, B);
    t[1] = bench_now() - t0 - t[0];
    if (st == CLF_OK)
        st = clf_model_train_batch(m, px, labels, B);
    if (st == CLF_OK)
        st = clf_model_metrics(m, &mt);
    t[2] = bench_now() - t0 - t[0] - t[1];
    *age = process_age();
    clf_model_free(m);
    clf_backend_close(be);
    return st;
}

int bench_start(int argc, char **argv)
{
    static const struct option opts[] = {
        {"device", required_argument, NULL, 'd'},
        {"classes", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *device = NULL;
    long classes = 10;
    double t[3], age;
    int c;

    optind = 1;
    while ((c = next_option(argc, argv, opts)) != -1)
        if (c == '?' || (c == 'c' && !parse_int("--classes", optarg, 2, 1000, &classes)) ||
            (c == 'd' && !valid_device_spec("--device", optarg)))
            return EXIT_USAGE;
        else if (c == 'd')
            device = optarg;
    if (optind != argc)
        return usage_error("bench start", "takes no positional arguments");
    if (first_step(device, (int)classes, t, &age) != CLF_OK) {
        fprintf(stderr, "clfit: bench start failed\n");
        return 1;
    }
    printf("start to first step: %.0f ms (open device %.0f ms, compile model %.0f ms, first "
           "step %.0f ms)\n", age * 1e3, t[0] * 1e3, t[1] * 1e3, t[2] * 1e3);
    bench_result("start_to_first_step_ms", age * 1e3, "ms");
    bench_result("start_open_device_ms", t[0] * 1e3, "ms");
    bench_result("start_first_step_ms", t[2] * 1e3, "ms");
    return 0;
}
