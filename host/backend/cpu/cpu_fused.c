/* Reference for the fused dense_update op: the gradient of one weight at
 * a time, then the same arithmetic as clf_cpu_adam / clf_cpu_sgd. */
#include "cpu.h"

#include <math.h>

#include "cpu_fpenv.h"

/* Views of the parameter buffers the step touches; NULL after logging. */
typedef struct upd_views {
    float *w, *s0, *s1;
} upd_views;

static bool views(clf_buf *w, clf_buf *const *slot, size_t n, const clf_opt_step *opt,
                  upd_views *v)
{
    bool needs_s0 = opt->adam || opt->momentum != 0.0f;

    v->w = clf_cpu_f32(w, 0, n, "dense_update weights");
    v->s0 = needs_s0 ? clf_cpu_f32(slot[0], 0, n, "dense_update slot 0") : NULL;
    v->s1 = opt->adam ? clf_cpu_f32(slot[1], 0, n, "dense_update slot 1") : NULL;
    return v->w && (!needs_s0 || v->s0) && (!opt->adam || v->s1);
}

/* One weight i with gradient g. */
static void step_one(const clf_opt_step *o, const upd_views *v, size_t i, float g)
{
    if (o->adam) {
        v->s0[i] += (g - v->s0[i]) * (1.0f - o->b1);
        v->s1[i] += (g * g - v->s1[i]) * (1.0f - o->b2);
        v->w[i] -= o->lr * v->s0[i] / (sqrtf(v->s1[i]) + o->eps);
    } else if (o->momentum == 0.0f) {
        v->w[i] -= o->lr * g;
    } else {
        v->s0[i] = o->momentum * v->s0[i] - o->lr * g;
        v->w[i] += o->nesterov ? o->momentum * v->s0[i] - o->lr * g : v->s0[i];
    }
}

clf_status clf_cpu_dense_update(clf_backend *be, int rows, int in, int units, clf_buf *x,
                                size_t xo, int ldx, clf_buf *dy, size_t dyo,
                                const clf_opt_step *opt, clf_buf *w, clf_buf *const *w_slot,
                                clf_buf *b, clf_buf *const *b_slot)
{
    size_t nw = (size_t)in * (size_t)units;
    const float *X = NULL, *D = NULL;
    upd_views vw, vb = {0};
    clf_fpenv env;

    (void)be;
    if (rows < 0 || in < 0 || units < 0 || ldx < in)
        return CLF_ERR_ARG;
    if (rows > 0) {
        X = clf_cpu_f32(x, xo, (size_t)(rows - 1) * (size_t)ldx + (size_t)in, "dense_update x");
        D = clf_cpu_f32(dy, dyo, (size_t)rows * (size_t)units, "dense_update dy");
    }
    if ((rows > 0 && (!X || !D)) || !views(w, w_slot, nw, opt, &vw) ||
        (b && !views(b, b_slot, (size_t)units, opt, &vb)))
        return CLF_ERR_ARG;

    env = clf_fpenv_flush_begin();
    for (int p = 0; p <= in; p++) {
        if (p == in && !b)
            break;
        for (int j = 0; j < units; j++) {
            float g = 0.0f;

            for (int r = 0; r < rows; r++)
                g += (p < in ? X[(size_t)r * ldx + p] : 1.0f) * D[(size_t)r * units + j];
            if (p < in)
                step_one(opt, &vw, (size_t)p * units + j, g);
            else
                step_one(opt, &vb, (size_t)j, g);
        }
    }
    clf_fpenv_flush_end(env);
    return CLF_OK;
}
