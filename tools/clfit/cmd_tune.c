/* clfit tune: measures GEMM parameters for an OpenCL device and keeps the
 * fastest in the device's tuning file, which training reads from then on
 * (backend/opencl/ocl_tune.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/opencl/ocl_tune.h"
#include "clfit/log.h"

#include "args.h"
#include "commands.h"

static void say(void *user, const char *line)
{
    (void)user;
    printf("  %s\n", line);
    fflush(stdout);
}

static void print_result(const clf_tune *t)
{
    printf("best: gemm_tile %d x %d, k_slice %d", t->gemm_r, 16 * t->gemm_v, t->k_slice);
    for (int i = 0; i < t->n_clblast; i++)
        printf("%s%s", i ? ", " : "; CLBlast: ", t->clblast[i].kernel);
    printf("\n");
}

static const char tune_usage[] =
    "usage: clfit tune [--device SPEC] [--quick] [--no-clblast]\n"
    "\n"
    "Measures GEMM parameters (clfit's tiled GEMM and k-slices, CLBlast's Xgemm,\n"
    "XgemmDirect and helper kernels) on an OpenCL device, checks each candidate\n"
    "against the host, and stores the fastest per device name and driver in the\n"
    "cache folder ($CLFIT_CACHE_DIR, else $XDG_CACHE_HOME/clfit, else\n"
    "~/.cache/clfit). Later runs on that device read it when they start.\n"
    "  --quick       fewer candidates (minutes instead of tens of minutes)\n"
    "  --no-clblast  only clfit's own kernels\n";

/* tune measures OpenCL kernels; the cpu backend has none. Refuses it
 * before any device opens or anything is printed: 0 to go on, else the
 * exit code. */
static int refuse_cpu(const char *device)
{
    const char *env = getenv("CLFIT_DEVICE");

    if (device && !strcasecmp(device, "cpu"))
        return usage_error("--device", "cpu has no GEMM parameters to tune; give an OpenCL "
                                       "device (clfit devices lists them)");
    if (!device && env && !strcasecmp(env, "cpu"))
        return usage_error("CLFIT_DEVICE=cpu", "cpu has no GEMM parameters to tune; give "
                           "--device with an OpenCL device (clfit devices lists them)");
    if (opencl_device_count() != 0)
        return 0; /* a spec that names no device is the library's to say */
    fprintf(stderr, "clfit: tune: no OpenCL device found, and only OpenCL devices have GEMM "
                    "parameters to tune. Install an OpenCL driver (for the CPU, e.g. "
                    "`apt-get install pocl-opencl-icd`), then check with 'clfit devices'.\n");
    return 1;
}

int cmd_tune(int argc, char **argv)
{
    static const struct option opts[] = {
        {"device", required_argument, NULL, 'd'},
        {"quick", no_argument, NULL, 'q'},
        {"no-clblast", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    clf_tune_opts to = {false, true, say, NULL};
    const char *device = NULL;
    clf_backend *be;
    clf_tune best;
    clf_status st;
    int c;

    optind = 1;
    while ((c = next_option(argc, argv, opts)) != -1) {
        if (c == '?')
            return EXIT_USAGE;
        if (c == 'h') {
            fputs(tune_usage, stdout);
            return 0;
        }
        if (c == 'd' && !valid_device_spec("--device", optarg))
            return EXIT_USAGE;
        if (c == 'd')
            device = optarg;
        else if (c == 'q')
            to.quick = true;
        else
            to.clblast = false;
    }
    if (optind != argc)
        return usage_error("tune", "takes no positional arguments");
    if ((c = refuse_cpu(device)) != 0)
        return c;
    be = open_device(device);
    if (!be)
        return 1;
    printf("Measuring GEMM candidates; each is checked against the host, then timed%s:\n",
           to.clblast ? " (CLBlast's compile one by one: this takes minutes)" : "");
    st = clf_opencl_tune(be, &to, &best);
    if (st == CLF_OK) {
        print_result(&best);
        st = clf_tune_save(clf_backend_device(be), &best);
    }
    clf_backend_close(be);
    if (st != CLF_OK) {
        fprintf(stderr, "clfit: tune failed: %s\n", clf_status_message(st));
        return 1;
    }
    printf("Training on this device uses these parameters from its next start.\n");
    return 0;
}
