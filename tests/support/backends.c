/* Opening backends in tests, skipping cleanly without an OpenCL device. */
#include "support/backends.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/opencl/ocl.h"

bool clf_test_have_opencl(void)
{
    static int known = -1;
    cl_platform_id *plats = NULL;
    cl_uint np = 0;

    if (known >= 0)
        return known == 1;
    known = 0;
    if (clf_ocl_platforms(true, &plats, &np) != CLF_OK)
        return false;
    for (cl_uint p = 0; p < np && !known; p++) {
        cl_device_id *devs = NULL;
        cl_uint nd = 0;

        if (clf_ocl_devices(plats[p], &devs, &nd) == CLF_OK && nd > 0)
            known = 1;
        free(devs);
    }
    free(plats);
    return known == 1;
}

clf_backend *clf_test_backend(const char *spec)
{
    clf_backend *be = NULL;
    clf_status st;

    if (strncmp(spec, "opencl", 6) == 0 && !clf_test_have_opencl()) {
        printf("skipping: no OpenCL device (install pocl-opencl-icd to run this test)\n");
        skip();
    }
    st = clf_backend_open(spec, &be);
    if (st != CLF_OK)
        fail_msg("opening backend \"%s\" failed: %s", spec, clf_status_name(st));
    return be;
}
