/* Optimizers as Keras defines them (DESIGN.md, "Numbers"): the host
 * computes the step's scalars, the backend's fused ops update the tensors
 * where they live. */
#include <math.h>

#include "clfit/log.h"
#include "model/model_internal.h"

void clf_optimizer_default(clf_optimizer *o, clf_optimizer_kind kind)
{
    o->kind = kind;
    o->learning_rate = kind == CLF_OPT_ADAM ? 1e-3f : 0.01f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->epsilon = 1e-7f;
    o->momentum = 0.0f;
    o->nesterov = false;
}

static bool in_unit(float x)
{
    return x >= 0.0f && x < 1.0f;
}

clf_status clf_optimizer_check(const clf_optimizer *o)
{
    if (o->kind != CLF_OPT_ADAM && o->kind != CLF_OPT_SGD) {
        CLF_LOG_ERROR("optimizer: unknown kind %d", (int)o->kind);
        return CLF_ERR_ARG;
    }
    if (!(o->learning_rate > 0.0f) || !isfinite(o->learning_rate)) {
        CLF_LOG_ERROR("optimizer: learning rate %g must be a positive number",
                      (double)o->learning_rate);
        return CLF_ERR_ARG;
    }
    if (o->kind == CLF_OPT_SGD && !(o->momentum >= 0.0f && o->momentum <= 1.0f)) {
        CLF_LOG_ERROR("optimizer: sgd momentum %g must be in [0, 1]", (double)o->momentum);
        return CLF_ERR_ARG;
    }
    if (o->kind == CLF_OPT_ADAM &&
        (!in_unit(o->beta1) || !in_unit(o->beta2) || !(o->epsilon >= 0.0f) ||
         !isfinite(o->epsilon))) {
        CLF_LOG_ERROR("optimizer: adam needs beta1 and beta2 in [0, 1) and epsilon >= 0; "
                      "got %g, %g, %g", (double)o->beta1, (double)o->beta2,
                      (double)o->epsilon);
        return CLF_ERR_ARG;
    }
    return CLF_OK;
}

int clf_optimizer_slots(const clf_optimizer *o)
{
    if (o->kind == CLF_OPT_ADAM)
        return 2;
    return o->momentum != 0.0f ? 1 : 0;
}

/* Keras's Adam: the bias corrections fold into the step size,
 *   lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t),
 * computed in double; epsilon is added to sqrt(v) without correction. */
static float adam_step_size(const clf_optimizer *o, uint64_t t)
{
    double b1t = pow((double)o->beta1, (double)t);
    double b2t = pow((double)o->beta2, (double)t);

    return (float)((double)o->learning_rate * sqrt(1.0 - b2t) / (1.0 - b1t));
}

void clf_optimizer_step_args(const clf_optimizer *o, uint64_t t, clf_opt_step *out)
{
    out->adam = o->kind == CLF_OPT_ADAM;
    out->lr = out->adam ? adam_step_size(o, t) : o->learning_rate;
    out->b1 = o->beta1;
    out->b2 = o->beta2;
    out->eps = o->epsilon;
    out->momentum = o->momentum;
    out->nesterov = o->nesterov;
}

clf_status clf_optimizer_apply(clf_backend *be, const clf_optimizer *o, uint64_t t,
                               clf_param *p)
{
    if (o->kind == CLF_OPT_ADAM)
        return be->ops->adam(be, p->count, p->w, 0, p->g, 0, p->slot[0], 0, p->slot[1], 0,
                             adam_step_size(o, t), o->beta1, o->beta2, o->epsilon);
    return be->ops->sgd(be, p->count, p->w, 0, p->g, 0, p->slot[0], 0, o->learning_rate,
                        o->momentum, o->nesterov);
}
