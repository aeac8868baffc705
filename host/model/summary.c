/* The Keras-style model summary: one row per layer with its output shape
 * and parameter count, then the totals with their size in memory.
 * A chain of layers prints like a Sequential model (no input row); any
 * other graph like a functional one, with an input row and the layers
 * each row is connected to. A transfer model whose head is a chain shows
 * its base as one row, as Keras shows a nested model. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "model/model_internal.h"

typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool failed;
} strbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->failed || n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->len + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);

        if (!s) {
            b->failed = true;
            return;
        }
        b->s = s, b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void put_line(strbuf *b, char c, int width)
{
    for (int i = 0; i < width; i++)
        put(b, "%c", c);
    put(b, "\n");
}

/* 1505290 -> "1,505,290" */
static void with_commas(size_t v, char *out, size_t cap)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%zu", v), o = 0;

    for (int i = 0; i < n && (size_t)o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = 0;
}

/* Keras's readable_memory_size: float32 bytes in 1024 steps. */
static void memory_size(size_t params, char *out, size_t cap)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    double bytes = (double)params * 4.0;
    int u = 0;

    while (u < 5 && bytes / 1024.0 >= 1.0) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(out, cap, "%.2f %s", bytes, units[u]);
}

static void shape_text(const clf_layer *l, bool list, char *out, size_t cap)
{
    int o = snprintf(out, cap, "%s(None", list ? "[" : "");

    for (int k = 0; k < l->shape.rank && (size_t)o < cap; k++)
        o += snprintf(out + o, cap - (size_t)o, ", %d", l->shape.dim[k]);
    if ((size_t)o < cap)
        snprintf(out + o, cap - (size_t)o, ")%s", list ? "]" : "");
}

static size_t layer_params(const clf_model *m, const clf_layer *l)
{
    size_t n = 0;

    for (int k = 0; k < l->n_params; k++)
        n += m->params[l->param0 + k].count;
    return n;
}

/* The first row: the input (functional), the base (a transfer model
 * whose head is a chain) or the first layer. */
static int first_row(const clf_model *m, bool functional)
{
    if (functional)
        return 0;
    return m->base_end > 0 ? m->base_end - 1 : 1;
}

/* A chain: every live layer after the input (or the base) reads the
 * previous one. */
static bool is_chain(const clf_model *m)
{
    int prev = m->base_end > 0 ? m->base_end - 1 : 0;

    for (int i = prev + 1; i < m->desc.n_layers; i++) {
        const clf_layer_desc *d = &m->desc.layers[i];

        if (!m->layers[i].live)
            continue;
        if (d->n_inputs != 1 || d->inputs[0] != prev)
            return false;
        prev = i;
    }
    return true;
}

typedef struct row {
    char name[CLF_NAME_MAX + 40];
    char shape[64];
    char params[32];
    char links[4 * (CLF_NAME_MAX + 8)];
} row;

/* A pretrained base as one row, as Keras shows a nested model. */
static void fill_base_row(const clf_model *m, row *r)
{
    size_t n = 0;

    for (int i = 0; i < m->base_end; i++)
        n += layer_params(m, &m->layers[i]);
    snprintf(r->name, sizeof r->name, "%s (Functional)", m->base_name);
    shape_text(&m->layers[m->base_end - 1], false, r->shape, sizeof r->shape);
    snprintf(r->params, sizeof r->params, "%zu", n);
    r->links[0] = 0;
}

static void fill_row(const clf_model *m, int i, bool functional, row *r)
{
    const clf_layer *l = &m->layers[i];
    const clf_layer_desc *d = l->d;
    int o = 0;

    if (!functional && m->base_end > 0 && i == m->base_end - 1) {
        fill_base_row(m, r);
        return;
    }
    snprintf(r->name, sizeof r->name, "%s (%s)", d->name, clf_layer_kind_name(d->kind));
    shape_text(l, functional && i == 0, r->shape, sizeof r->shape);
    snprintf(r->params, sizeof r->params, "%zu", layer_params(m, l));
    r->links[0] = 0;
    for (int k = 0; functional && k < d->n_inputs && (size_t)o < sizeof r->links; k++)
        o += snprintf(r->links + o, sizeof r->links - (size_t)o, "%s%s[0][0]",
                      k ? ", " : "", m->desc.layers[d->inputs[k]].name);
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static void put_row(strbuf *b, const int *w, int cols, const char *const *f)
{
    char line[2048];
    int o = 0;

    for (int c = 0; c < cols && o < (int)sizeof line; c++)
        o += snprintf(line + o, sizeof line - (size_t)o, c == 0 ? " %-*s" : "%-*s",
                      c == 0 ? w[c] - 1 : w[c], f[c]);
    while (o > 0 && line[o - 1] == ' ')
        line[--o] = 0;
    put(b, "%s\n", line);
}

static void put_totals(strbuf *b, const clf_model *m, int width)
{
    size_t all = clf_model_param_count(m, false), trained = clf_model_param_count(m, true);
    const char *labels[3] = {"Total", "Trainable", "Non-trainable"};
    size_t counts[3] = {all, trained, all - trained};

    put_line(b, '=', width);
    for (int k = 0; k < 3; k++) {
        char num[40], mem[40];

        with_commas(counts[k], num, sizeof num);
        memory_size(counts[k], mem, sizeof mem);
        put(b, "%s params: %s (%s)\n", labels[k], num, mem);
    }
    put_line(b, '_', width);
}

/* Rows of every live layer (the input only in functional style; a base
 * as one row in sequential style) and
 * column widths that fit them, at least Keras's. */
static void fill_rows(const clf_model *m, bool functional, row *rows, int *w)
{
    for (int i = first_row(m, functional); i < m->desc.n_layers; i++) {
        if (!m->layers[i].live)
            continue;
        fill_row(m, i, functional, &rows[i]);
        w[0] = max_int(w[0], (int)strlen(rows[i].name) + 3);
        w[1] = max_int(w[1], (int)strlen(rows[i].shape) + 2);
        w[2] = max_int(w[2], (int)strlen(rows[i].params) + 2);
    }
}

static void put_rows(strbuf *b, const clf_model *m, bool functional, const row *rows,
                     const int *w, int width)
{
    bool first = true;

    for (int i = first_row(m, functional); i < m->desc.n_layers; i++) {
        const char *f[4] = {rows[i].name, rows[i].shape, rows[i].params, rows[i].links};

        if (!m->layers[i].live)
            continue;
        if (!first)
            put_line(b, '_', width);
        first = false;
        put_row(b, w, functional ? 4 : 3, f);
    }
}

clf_status clf_model_summary(const clf_model *m, char **text)
{
    static const char *const head[4] = {"Layer (type)", "Output Shape", "Param #",
                                        "Connected to"};
    bool functional = !is_chain(m);
    int w[4] = {29, 26, 10, 30}, width = 0;
    strbuf b = {0};
    row *rows = calloc((size_t)m->desc.n_layers, sizeof *rows);

    *text = NULL;
    if (!rows) {
        CLF_LOG_ERROR("model summary: out of memory");
        return CLF_ERR_NOMEM;
    }
    fill_rows(m, functional, rows, w);
    for (int c = 0; c < (functional ? 4 : 3); c++)
        width += w[c];

    put(&b, "Model: \"%s\"\n", m->desc.name[0] ? m->desc.name : "model");
    put_line(&b, '_', width);
    put_row(&b, w, functional ? 4 : 3, head);
    put_line(&b, '=', width);
    put_rows(&b, m, functional, rows, w, width);
    put_totals(&b, m, width);
    free(rows);
    if (b.failed || !b.s) {
        free(b.s);
        CLF_LOG_ERROR("model summary: out of memory");
        return CLF_ERR_NOMEM;
    }
    *text = b.s;
    return CLF_OK;
}
