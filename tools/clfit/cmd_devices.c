/* clfit devices: one line per OpenCL device, plus the cpu backend. */
#include <stdio.h>
#include <stdlib.h>

#include "clfit/device.h"
#include "clfit/log.h"

#include "args.h"
#include "commands.h"

int cmd_devices(int argc, char **argv)
{
    clf_device_desc *devs = NULL;
    size_t n = 0;
    clf_status st;

    (void)argv;
    if (argc > 1)
        return usage_error("devices", "takes no arguments");
    st = clf_devices_list(&devs, &n);
    printf("cpu        plain C reference backend (--device cpu)\n");
    if (st != CLF_OK)
        return st == CLF_ERR_NO_PLATFORM ? 0 : 1;

    for (size_t i = 0; i < n; i++) {
        const clf_device_desc *d = &devs[i];

        printf("opencl:%d:%d %s [%s] platform \"%s\"\n", d->platform, d->device, d->name,
               d->type, d->platform_name);
        printf("  global memory %llu MiB, max allocation %llu MiB, %u compute units, %s, "
               "driver %s\n",
               (unsigned long long)(d->global_mem >> 20),
               (unsigned long long)(d->max_alloc >> 20), d->compute_units, d->opencl_c,
               d->driver);
    }
    free(devs);
    return 0;
}

clf_backend *open_device(const char *spec)
{
    clf_backend *be = NULL;
    const clf_device_desc *d;

    if (clf_backend_open(spec, &be) != CLF_OK)
        return NULL;
    d = clf_backend_device(be);
    if (d->platform < 0)
        printf("Device: cpu, %s\n", d->name);
    else
        printf("Device: opencl:%d:%d %s [%s]\n", d->platform, d->device, d->name, d->type);
    return be;
}

static void quiet(clf_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)msg;
    (void)user;
}

long opencl_device_count(void)
{
    clf_device_desc *devs = NULL;
    size_t n = 0;
    clf_status st;

    clf_log_set_callback(quiet, NULL);
    st = clf_devices_list(&devs, &n);
    clf_log_set_callback(NULL, NULL);
    free(devs);
    if (st == CLF_ERR_NO_PLATFORM)
        return 0;
    return st == CLF_OK ? (long)n : -1;
}
