/* A small pthread pool that decodes image files into fixed slots. */
#include "data/decode_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "data/image.h"

#define MAX_THREADS 256

clf_status clf_decode_one(const char *path, int height, int width, uint8_t *dst, char *why,
                          size_t why_size)
{
    uint8_t *data;
    size_t len;
    clf_image im;
    clf_status st;

    st = clf_read_file(path, CLF_MAX_IMAGE_FILE_BYTES, &data, &len, why, why_size);
    if (st != CLF_OK)
        return st;
    st = clf_image_decode_min(data, len, path, width, height, &im, why, why_size);
    free(data);
    if (st != CLF_OK)
        return st;
    st = clf_image_resize(im.rgb, im.w, im.h, dst, width, height);
    if (st != CLF_OK)
        clf_why(why, why_size, "out of memory resizing %d x %d to %d x %d", im.w, im.h,
                width, height);
    clf_image_free(&im);
    return st;
}

int clf_decode_threads(int threads, size_t jobs)
{
    long t = threads;

    if (t <= 0)
        t = sysconf(_SC_NPROCESSORS_ONLN);
    if (t < 1)
        t = 1;
    if (t > MAX_THREADS)
        t = MAX_THREADS;
    if ((size_t)t > jobs)
        t = jobs > 0 ? (long)jobs : 1;
    return (int)t;
}

/* ---- the pool ---------------------------------------------------------- */

typedef struct slot {
    bool done;
    clf_status status;
    char *why; /* malloc'd reason when status != CLF_OK */
} slot;

typedef struct pool {
    const clf_decode_req *req;
    uint8_t *pixels;
    size_t slot_bytes;
    slot *slots;
    size_t next; /* first file not yet claimed */
    bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a slot became done */
} pool;

/* Claims the next file, or returns false when there is none or work stops. */
static bool claim(pool *p, size_t *i)
{
    bool ok;

    pthread_mutex_lock(&p->mu);
    ok = !p->stop && p->next < p->req->n;
    if (ok)
        *i = p->next++;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

static void *worker(void *arg)
{
    pool *p = arg;
    const clf_decode_req *req = p->req;
    char why[CLF_WHY_SIZE];
    size_t i;

    while (claim(p, &i)) {
        clf_status st;
        char *copy = NULL;

        why[0] = '\0';
        st = clf_decode_one(req->paths[i], req->height, req->width,
                            p->pixels + (req->slots ? req->slots[i] : i) * p->slot_bytes, why,
                            sizeof why);
        if (st != CLF_OK)
            copy = strdup(why); /* NULL is tolerated: the report says less */

        pthread_mutex_lock(&p->mu);
        p->slots[i] = (slot){true, st, copy};
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

static void wait_slot(pool *p, size_t i)
{
    pthread_mutex_lock(&p->mu);
    while (!p->slots[i].done)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* Logs file i's outcome; returns the status that ends the work, or OK. */
static clf_status report(const clf_decode_req *req, size_t i, const slot *s)
{
    const char *path = req->paths[i];
    const char *why = s->why ? s->why : "reason unknown (out of memory)";

    if (s->status == CLF_OK)
        return CLF_OK;
    if (s->status == CLF_ERR_NOMEM) {
        CLF_LOG_ERROR("'%s': %s", path, why);
        return CLF_ERR_NOMEM;
    }
    if (req->on_bad_image == CLF_BAD_IMAGE_FAIL) {
        CLF_LOG_ERROR("bad image '%s': %s (stopping: the bad-image policy is 'fail'; "
                      "with 'skip' such files are left out)",
                      path, why);
        return CLF_ERR_IMAGE;
    }
    CLF_LOG_WARN("skipping '%s': %s", path, why);
    return CLF_OK;
}

static int start_workers(pool *p, pthread_t *tids, int want)
{
    int started = 0;

    while (started < want && pthread_create(&tids[started], NULL, worker, p) == 0)
        started++;
    if (started < want)
        CLF_LOG_WARN("could start only %d of %d decoding threads", started, want);
    return started;
}

/* Waits for each slot in file order and reports it. */
static clf_status collect(pool *p, bool *ok)
{
    const clf_decode_req *req = p->req;

    for (size_t i = 0; i < req->n; i++) {
        clf_status st;

        wait_slot(p, i);
        st = report(req, i, &p->slots[i]);
        ok[i] = p->slots[i].status == CLF_OK;
        if (req->progress)
            req->progress(i + 1, req->n, req->progress_user);
        if (st != CLF_OK)
            return st;
    }
    return CLF_OK;
}

clf_status clf_decode_files(const clf_decode_req *req, uint8_t *pixels, bool *ok)
{
    pool p = {.req = req, .pixels = pixels};
    int want = clf_decode_threads(req->threads, req->n), started;
    pthread_t *tids;
    clf_status st;

    memset(ok, 0, req->n * sizeof *ok);
    p.slot_bytes = (size_t)req->height * (size_t)req->width * 3;
    p.slots = clf_calloc_array(req->n, sizeof *p.slots, "decode results");
    tids = clf_malloc_array((size_t)want, sizeof *tids, "decode threads");
    if (!p.slots || !tids) {
        free(p.slots);
        free(tids);
        return CLF_ERR_NOMEM;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);

    started = start_workers(&p, tids, want);
    st = started > 0 ? collect(&p, ok) : CLF_ERR_NOMEM;

    /* Stop handing out files; those in flight finish before the join. */
    pthread_mutex_lock(&p.mu);
    p.stop = true;
    pthread_mutex_unlock(&p.mu);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);

    for (size_t i = 0; i < req->n; i++)
        free(p.slots[i].why);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    free(p.slots);
    free(tids);
    return st;
}
