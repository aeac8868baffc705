/* Profiling events: kept while recording, summed per name at the end. */
#include "backend/opencl/ocl_profile.h"

#include <stdlib.h>
#include <string.h>

#include "backend/opencl/ocl.h"
#include "clfit/log.h"
#include "core/alloc.h"

struct clf_ocl_prof {
    cl_event pending;   /* filled by the enqueue call in flight */
    cl_event *events;
    const char **names; /* static strings: kernel names, op names */
    size_t n, cap;
};

cl_event *clf_ocl_prof_event(clf_ocl *o)
{
    if (!o->prof)
        return NULL;
    o->prof->pending = NULL;
    return &o->prof->pending;
}

void clf_ocl_prof_keep(clf_ocl *o, const char *name)
{
    struct clf_ocl_prof *p = o->prof;

    if (!p || !p->pending)
        return;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;

        if (clf_realloc_array((void **)&p->events, cap, sizeof *p->events, "profile") !=
                CLF_OK ||
            clf_realloc_array((void **)&p->names, cap, sizeof *p->names, "profile") !=
                CLF_OK) {
            CLF_CL_WARN(clReleaseEvent(p->pending)); /* this command goes untimed */
            p->pending = NULL;
            return;
        }
        p->cap = cap;
    }
    p->events[p->n] = p->pending;
    p->names[p->n++] = name;
    p->pending = NULL;
}

static void prof_free(struct clf_ocl_prof *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        CLF_CL_WARN(clReleaseEvent(p->events[i]));
    free(p->events);
    free(p->names);
    free(p);
}

void clf_ocl_prof_close(clf_ocl *o)
{
    prof_free(o->prof);
    o->prof = NULL;
}

static clf_ocl *opencl_of(clf_backend *be)
{
    if (!be || strcmp(be->ops->kind, "opencl") != 0) {
        CLF_LOG_ERROR("profiling: only the opencl backend records per-op times");
        return NULL;
    }
    return clf_ocl_of(be);
}

clf_status clf_opencl_profile_begin(clf_backend *be)
{
    clf_ocl *o = opencl_of(be);

    if (!o)
        return CLF_ERR_UNSUPPORTED;
    clf_ocl_prof_close(o);
    o->prof = calloc(1, sizeof *o->prof);
    return o->prof ? CLF_OK : CLF_ERR_NOMEM;
}

/* Device time of one finished command, in ms (0 when not available). */
static double event_ms(cl_event ev)
{
    cl_ulong t0 = 0, t1 = 0;

    if (clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) !=
            CL_SUCCESS ||
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) !=
            CL_SUCCESS ||
        t1 < t0)
        return 0.0;
    return (double)(t1 - t0) * 1e-6;
}

/* Adds one command to the table; a name past `max` entries is dropped. */
static void add_time(clf_op_time *out, size_t max, size_t *n, const char *name, double ms)
{
    size_t i = 0;

    while (i < *n && strcmp(out[i].name, name) != 0)
        i++;
    if (i == *n) {
        if (*n == max)
            return;
        memset(&out[i], 0, sizeof out[i]);
        strncpy(out[i].name, name, sizeof out[i].name - 1);
        out[i].min_ms = ms;
        (*n)++;
    }
    out[i].count++;
    out[i].ms += ms;
    out[i].min_ms = ms < out[i].min_ms ? ms : out[i].min_ms;
}

clf_status clf_opencl_profile_end(clf_backend *be, clf_op_time *out, size_t max, size_t *n)
{
    clf_ocl *o = opencl_of(be);
    clf_status st = CLF_OK;

    *n = 0;
    if (!o)
        return CLF_ERR_UNSUPPORTED;
    if (!o->prof) {
        CLF_LOG_ERROR("profiling: clf_opencl_profile_end without a begin");
        return CLF_ERR_ARG;
    }
    CLF_CL_CHECK(clFinish(o->queue));
    for (size_t i = 0; i < o->prof->n; i++)
        add_time(out, max, n, o->prof->names[i], event_ms(o->prof->events[i]));
cleanup:
    clf_ocl_prof_close(o);
    return st;
}
