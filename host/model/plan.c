/* Which layers are static, where every layer's output lives, and the
 * forward pass in its two phases.
 *
 * Storage. A non-static layer, a feature layer, the input, the logits and
 * any layer kept for reading own B rows ("full"). Every other static
 * layer that runs an op gets a slot: a buffer of C rows shared over time.
 * Slots are handed out in layer order; a slot is free again once every
 * reader of its occupant has run (interval [i, last reader], inclusive,
 * so an op never writes over an input it still reads). A free slot that
 * is big enough is preferred, the smallest such; else the biggest free
 * one grows. MobileNetV2 needs four slots where one buffer per layer
 * would be about 150.
 *
 * C (the chunk) is B unless one slot of B rows would exceed the device's
 * largest allocation, or all slots half its memory: then the static
 * phase runs in passes of C rows. Full static layers are addressed
 * per pass by shifting their offsets by the pass's first row.
 */
#include <stdio.h>
#include <stdlib.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "model/model_internal.h"

/* ---- static layers and features ---- */

static bool is_static(const clf_model *m, int i)
{
    const clf_layer *l = &m->layers[i];
    const clf_layer_desc *d = l->d;

    if (l->needs_grad || (d->kind == CLF_LAYER_DROPOUT && d->rate > 0.0f))
        return false;
    for (int k = 0; k < d->n_inputs; k++)
        if (!m->layers[d->inputs[k]].stat)
            return false;
    return true;
}

void clf_plan_mark_static(clf_model *m)
{
    for (int i = 0; i < m->desc.n_layers; i++)
        m->layers[i].stat = m->layers[i].live && is_static(m, i);
}

/* The layer whose buffer holds layer i's output. */
static int owner(const clf_model *m, int i)
{
    while (m->layers[i].alias)
        i = m->desc.layers[i].inputs[0];
    return i;
}

/* A static layer that runs an op (not the input, an alias or folded). */
static bool runs_static(const clf_layer *l)
{
    return l->live && l->stat && !l->alias && !l->skip;
}

static clf_status add_feature(clf_model *m, int i)
{
    clf_layer *l = &m->layers[i];

    if (l->feature)
        return CLF_OK;
    TRY(clf_realloc_array((void **)&m->feats, (size_t)m->n_feats + 1, sizeof *m->feats,
                          "feature layers"));
    l->feature = true;
    m->feats[m->n_feats++] = i;
    m->feat_size += l->size;
    return CLF_OK;
}

/* Static layers read by a non-static one, and static logits; kept in
 * layer order. */
static clf_status find_features(clf_model *m)
{
    for (int j = 1; j < m->desc.n_layers; j++) {
        const clf_layer_desc *d = &m->desc.layers[j];

        if (!m->layers[j].live || m->layers[j].stat)
            continue;
        for (int k = 0; k < d->n_inputs; k++)
            if (m->layers[d->inputs[k]].stat)
                TRY(add_feature(m, d->inputs[k]));
    }
    if (m->layers[m->logits].stat)
        TRY(add_feature(m, m->logits));
    for (int a = 0; a < m->n_feats; a++) /* insertion sort: few entries */
        for (int b = a; b > 0 && m->feats[b - 1] > m->feats[b]; b--) {
            int t = m->feats[b];
            m->feats[b] = m->feats[b - 1];
            m->feats[b - 1] = t;
        }
    return CLF_OK;
}

/* Marks which static owners hold B rows of their own. */
static void mark_full(clf_model *m)
{
    for (int i = 0; i < m->desc.n_layers; i++) {
        clf_layer *l = &m->layers[i];

        if (l->live && !l->skip && (!l->stat || m->no_plan))
            l->full = true;
    }
    m->layers[owner(m, 0)].full = true;
    m->layers[owner(m, m->logits)].full = true;
    m->layers[owner(m, m->desc.output)].full = true;
    for (int i = 0; i < m->desc.n_layers; i++)
        if (m->layers[i].live && (m->layers[i].feature || m->layers[i].keep))
            m->layers[owner(m, i)].full = true;
    for (int i = 0; i < m->desc.n_layers; i++)
        if (m->layers[i].live && m->layers[i].alias)
            m->layers[i].full = m->layers[owner(m, i)].full;
}

/* ---- slots ---- */

typedef struct plan {
    int *last;     /* per layer: last layer that reads its buffer */
    int *slot;     /* per layer: slot index, or -1 */
    size_t *cap;   /* per slot: floats per row */
    int *busy;     /* per slot: last reader of its occupant */
    int n_slots;
} plan;

/* The layers a running static layer reads at run time. */
static int reads(const clf_model *m, int j, int *in)
{
    const clf_layer *l = &m->layers[j];
    const clf_layer_desc *d = l->d;

    if (d->kind == CLF_LAYER_CONV2D || d->kind == CLF_LAYER_DEPTHWISE_CONV2D) {
        in[0] = l->src;
        return 1;
    }
    for (int k = 0; k < d->n_inputs; k++)
        in[k] = d->inputs[k];
    return d->n_inputs;
}

static void find_last_reads(const clf_model *m, plan *p)
{
    int in[CLF_MAX_INPUTS];

    for (int i = 0; i < m->desc.n_layers; i++)
        p->last[i] = i;
    for (int j = 1; j < m->desc.n_layers; j++) {
        if (!runs_static(&m->layers[j]))
            continue;
        for (int k = 0, n = reads(m, j, in); k < n; k++) {
            int o = owner(m, in[k]);

            p->last[o] = p->last[o] > j ? p->last[o] : j;
        }
    }
}

/* Best free slot for `need` floats per row at layer i, or a new one. */
static int pick_slot(plan *p, int i, size_t need)
{
    int fit = -1, big = -1;

    for (int s = 0; s < p->n_slots; s++) {
        if (p->busy[s] >= i)
            continue;
        if (p->cap[s] >= need && (fit < 0 || p->cap[s] < p->cap[fit]))
            fit = s;
        if (big < 0 || p->cap[s] > p->cap[big])
            big = s;
    }
    if (fit >= 0)
        return fit;
    if (big >= 0) {
        p->cap[big] = need;
        return big;
    }
    p->cap[p->n_slots] = need;
    return p->n_slots++;
}

static void assign_slots(const clf_model *m, plan *p)
{
    for (int i = 0; i < m->desc.n_layers; i++) {
        const clf_layer *l = &m->layers[i];

        p->slot[i] = -1;
        if (!runs_static(l) || l->full)
            continue;
        p->slot[i] = pick_slot(p, i, l->size);
        p->busy[p->slot[i]] = p->last[i];
    }
}

/* Largest C <= B whose slots fit the device. */
static clf_status choose_chunk(clf_model *m, const plan *p)
{
    const clf_device_desc *dev = &m->be->desc;
    size_t rows = (size_t)m->max_batch, total = 0;

    for (int s = 0; s < p->n_slots; s++) {
        size_t per_row = p->cap[s] * sizeof(float);

        if (per_row > dev->max_alloc) {
            CLF_LOG_ERROR("model: one image's activations need %zu bytes in one buffer; "
                          "%s allows at most %llu: use a smaller image size", per_row,
                          dev->name, (unsigned long long)dev->max_alloc);
            return CLF_ERR_DEVICE_MEM;
        }
        rows = rows < dev->max_alloc / per_row ? rows : dev->max_alloc / per_row;
        total += per_row;
    }
    if (total > 0 && rows > dev->global_mem / 2 / total)
        rows = dev->global_mem / 2 / total > 0 ? dev->global_mem / 2 / total : 1;
    m->chunk = (int)rows;
    if (m->chunk < m->max_batch)
        CLF_LOG_INFO("model: the frozen layers run %d of %d images at a time to respect "
                     "%s's memory limits", m->chunk, m->max_batch, dev->name);
    return CLF_OK;
}

static clf_status alloc_slots(clf_model *m, const plan *p)
{
    clf_buf **bufs = clf_calloc_array((size_t)p->n_slots + 1, sizeof *bufs, "slots");
    size_t bytes = 0;
    clf_status st = bufs ? CLF_OK : CLF_ERR_NOMEM;

    for (int s = 0; s < p->n_slots && st == CLF_OK; s++) {
        st = clf_model_new_buf(m, (size_t)m->chunk * p->cap[s], sizeof(float),
                               "shared activations", &bufs[s]);
        bytes += (size_t)m->chunk * p->cap[s] * sizeof(float);
    }
    for (int i = 0; i < m->desc.n_layers && st == CLF_OK; i++)
        if (p->slot[i] >= 0)
            m->layers[i].out = (clf_tref){bufs[p->slot[i]], 0};
    if (st == CLF_OK && p->n_slots)
        CLF_LOG_DEBUG("model: %d static layers share %d buffers (%.1f MB, %d rows each)",
                      m->static_ops, p->n_slots, (double)bytes / 1e6, m->chunk);
    free(bufs);
    return st;
}

/* B rows of output (and gradient) for every full layer; aliases share
 * their input's. */
static clf_status alloc_full(clf_model *m)
{
    char what[CLF_PARAM_NAME_MAX + 16];

    for (int i = 0; i < m->desc.n_layers; i++) {
        clf_layer *l = &m->layers[i];
        size_t count = (size_t)m->max_batch * l->size;

        if (!l->live || l->skip)
            continue;
        if (l->alias) {
            l->out = m->layers[l->d->inputs[0]].out;
            l->grad = m->layers[l->d->inputs[0]].grad;
            continue;
        }
        if (!l->full)
            continue;
        snprintf(what, sizeof what, "%s output", l->d->name);
        TRY(clf_model_new_buf(m, count, sizeof(float), what, &l->out.buf));
        if (!l->needs_grad)
            continue;
        snprintf(what, sizeof what, "%s gradient", l->d->name);
        TRY(clf_model_new_buf(m, count, sizeof(float), what, &l->grad.buf));
    }
    return CLF_OK;
}

static void plan_free(plan *p)
{
    free(p->last);
    free(p->slot);
    free(p->cap);
    free(p->busy);
}

clf_status clf_plan_storage(clf_model *m)
{
    size_t n = (size_t)m->desc.n_layers;
    plan p = {0};
    clf_status st;

    TRY(find_features(m));
    mark_full(m);
    for (int i = 1; i < m->desc.n_layers; i++)
        m->static_ops += runs_static(&m->layers[i]);

    p.last = clf_malloc_array(n, sizeof *p.last, "plan");
    p.slot = clf_malloc_array(n, sizeof *p.slot, "plan");
    p.cap = clf_calloc_array(n, sizeof *p.cap, "plan");
    p.busy = clf_calloc_array(n, sizeof *p.busy, "plan");
    st = p.last && p.slot && p.cap && p.busy ? CLF_OK : CLF_ERR_NOMEM;
    if (st == CLF_OK) {
        find_last_reads(m, &p);
        assign_slots(m, &p);
        st = choose_chunk(m, &p);
    }
    if (st == CLF_OK)
        st = alloc_slots(m, &p);
    /* slots first: aliases copy their input's storage in alloc_full */
    if (st == CLF_OK)
        st = alloc_full(m);
    plan_free(&p);
    return st;
}

/* ---- the forward pass ---- */

/* Moves every full static layer's view by `rows` rows (may be negative). */
static void shift_full(clf_model *m, long rows)
{
    for (int i = 0; i < m->desc.n_layers; i++) {
        clf_layer *l = &m->layers[i];

        if (l->live && l->stat && l->full && !l->skip)
            l->out.off = (size_t)((long)l->out.off + rows * (long)l->size);
    }
}

static clf_status run_static(clf_model *m, int n)
{
    for (int i = 1; i < m->desc.n_layers; i++)
        if (runs_static(&m->layers[i]))
            TRY(clf_layer_impl_of(m->desc.layers[i].kind)->forward(m, i, n, false));
    return CLF_OK;
}

clf_status clf_model_static_forward(clf_model *m, int n)
{
    clf_status st = CLF_OK;

    if (m->derived_stale)
        TRY(clf_fuse_derive(m));
    m->base_images += (size_t)n;
    for (int r0 = 0; r0 < n && st == CLF_OK; r0 += m->chunk) {
        int rows = n - r0 < m->chunk ? n - r0 : m->chunk;

        shift_full(m, r0);
        st = run_static(m, rows);
        shift_full(m, -r0);
    }
    return st;
}

clf_status clf_model_dynamic_forward(clf_model *m, int n, bool training)
{
    for (int i = 1; i < m->desc.n_layers; i++) {
        const clf_layer *l = &m->layers[i];

        if (l->live && !l->stat)
            TRY(clf_layer_impl_of(l->d->kind)->forward(m, i, n, training));
    }
    return CLF_OK;
}
