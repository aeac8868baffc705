/* The convolutional layer kinds, their fusion, the memory planner and the
 * batch chunks, on the small frozen net of support/convnet.h (11x11x3
 * images, 3 classes), on every backend.
 *
 * References and tolerances:
 * - Every layer against a float64 forward written from Keras's
 *   definitions (support/convnet.c), per tensor:
 *   max |x - ref| <= 1e-5 * max |ref|. Each value here is a sum of at
 *   most 144 float32 products through at most 5 such layers; float32
 *   rounding of that is of order 1e-6 of the largest value, while any
 *   geometry or formula mistake (a padding split the wrong way, a channel
 *   off by one, a BN without its epsilon) shows at 1e-3 or more.
 * - Folded (conv + BN + ReLU as one op) against unfolded (three ops):
 *   the same math rounded in another order, same criterion, 1e-5.
 * - Planned against unplanned storage, and C-row passes against one pass:
 *   the same ops on the same values in the same order, so bit-identical.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rng.h"
#include "support/backends.h"
#include "support/convnet.h"
#include "support/logcap.h"

enum { S = 11, K = 3, NIMG = 4 };

static clf_model *compiled(clf_backend *be, const convnet *t, bool fold, bool plan, int batch)
{
    clf_model *m = convnet_model(t, 5);
    clf_optimizer opt;

    m->no_fold = !fold;
    m->no_plan = !plan;
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, batch), CLF_OK);
    return m;
}

/* Runs n images forward; returns the logits (n x K), and the features
 * (n x feature size) when feats is not NULL. */
static float *forward(clf_model *m, const uint8_t *img, int n, float **feats)
{
    float *logits = malloc((size_t)n * K * sizeof *logits);

    assert_non_null(logits);
    assert_int_equal(clf_model_load_images(m, img, n), CLF_OK);
    assert_int_equal(clf_model_forward(m, n, false), CLF_OK);
    assert_int_equal(clf_model_read_output(m, m->logits, n, logits), CLF_OK);
    if (feats) {
        *feats = malloc((size_t)n * m->feat_size * sizeof **feats);
        assert_non_null(*feats);
        assert_int_equal(clf_model_read_features(m, n, *feats), CLF_OK);
    }
    return logits;
}

static void close_enough(const char *what, const float *a, const float *b, size_t n)
{
    double big = 0.0, diff = 0.0;

    for (size_t i = 0; i < n; i++) {
        big = fmax(big, fabs(b[i]));
        diff = fmax(diff, fabs((double)a[i] - b[i]));
    }
    print_message("%s: relative difference %.2e\n", what, diff / big);
    if (!(diff <= 1e-5 * big))
        fail_msg("%s differ by %.3e of the largest value", what, diff / big);
}

/* ---- shapes and what compile fuses ---- */

static void test_shapes_and_fusion(void **state)
{
    static const char *const aliases[] = {"conv_bn", "conv_relu", "dw_bn", "dw_relu",
                                          "dil_bn", "add_relu", "flatten"};
    convnet t;
    clf_model *m;
    clf_backend *be = clf_test_backend("cpu");

    (void)state;
    convnet_init(&t, S, K);
    m = compiled(be, &t, true, true, 2);
    /* 11 + 1 padded = 12; (12 - 3) / 2 + 1 = 5; 'same' keeps 5; pool 'same'
     * stride 2: ceil(5 / 2) = 3 */
    assert_int_equal(m->layers[2].shape.dim[0], 5);
    assert_int_equal(m->layers[5].shape.dim[2], 16);
    assert_int_equal(m->layers[13].shape.dim[0], 3);
    assert_int_equal(m->layers[14].size, 3 * 3 * 8);

    assert_true(m->layers[1].skip); /* the padding, folded into conv */
    assert_int_equal(m->layers[2].src, 0);
    assert_int_equal(m->layers[2].pad[0], 0); /* top: 0 from the ZeroPadding2D */
    for (size_t k = 0; k < sizeof aliases / sizeof *aliases; k++)
        assert_true(m->layers[clf_graph_find(&m->desc, aliases[k])].alias);
    /* BN after an activation cannot fold: it runs as channel_affine */
    assert_false(m->layers[12].alias);
    assert_int_equal(m->layers[2].act.kind, CLF_ACT_RELU);
    assert_true(m->layers[2].act.max == 6.0f);
    assert_true(isinf(m->layers[5].act.max));
    assert_int_equal(m->layers[10].act.kind, CLF_ACT_RELU);
    /* conv, dw, dil, add, add_bn, pool */
    assert_int_equal(m->static_ops, 6);
    assert_int_equal(m->n_feats, 1);
    assert_int_equal(m->feats[0], 14);
    assert_int_equal(clf_model_feature_size(m), 72);
    clf_model_free(m);
    clf_backend_close(be);
}

/* ---- against the float64 reference ---- */

static void check_against_ref(clf_model *m, const uint8_t *img, bool every_layer)
{
    size_t px = (size_t)S * S * 3;

    assert_int_equal(clf_model_load_images(m, img, NIMG), CLF_OK);
    assert_int_equal(clf_model_forward(m, NIMG, false), CLF_OK);
    for (int b = 0; b < NIMG; b++) {
        double **ref = convnet_ref(m, img + b * px);

        for (int i = 1; i < m->desc.n_layers; i++) {
            const clf_layer *l = &m->layers[i];
            float *x = malloc(NIMG * l->size * sizeof *x);
            double err;

            if (!every_layer && i != m->logits && !l->feature) {
                free(x);
                continue;
            }
            if (l->skip) {
                free(x);
                continue;
            }
            assert_int_equal(clf_model_read_output(m, i, NIMG, x), CLF_OK);
            err = convnet_error(x + b * l->size, ref[i], l->size);
            if (!(err <= 1e-5))
                fail_msg("image %d, layer %s: relative error %.3e", b, l->d->name, err);
            free(x);
        }
        convnet_ref_free(m, ref);
    }
}

static void test_reference(void **state)
{
    clf_backend *be = clf_test_backend(*state);
    uint8_t *img = convnet_images(S, NIMG, 11);
    convnet t;
    clf_model *m;

    convnet_init(&t, S, K);
    m = compiled(be, &t, false, false, NIMG); /* every layer on its own */
    check_against_ref(m, img, true);
    clf_model_free(m);
    m = compiled(be, &t, true, true, NIMG);   /* as training runs it */
    check_against_ref(m, img, false);
    clf_model_free(m);
    free(img);
    clf_backend_close(be);
}

/* ---- folding ---- */

static void test_fold_equals_unfolded(void **state)
{
    clf_backend *be = clf_test_backend(*state);
    uint8_t *img = convnet_images(S, NIMG, 12);
    convnet t;
    clf_model *folded, *plain;
    float *fa, *fb, *la, *lb;

    convnet_init(&t, S, K);
    folded = compiled(be, &t, true, true, NIMG);
    plain = compiled(be, &t, false, true, NIMG);
    assert_true(folded->static_ops < plain->static_ops);
    la = forward(folded, img, NIMG, &fa);
    lb = forward(plain, img, NIMG, &fb);
    close_enough("folded vs unfolded features", fa, fb, NIMG * folded->feat_size);
    close_enough("folded vs unfolded logits", la, lb, NIMG * K);
    free(fa), free(fb), free(la), free(lb);
    clf_model_free(folded);
    clf_model_free(plain);
    free(img);
    clf_backend_close(be);
}

/* ---- planning ---- */

/* No buffer is shared by two layers whose lifetimes overlap: a shared
 * layer's output is last read before the next occupant is written. Reads
 * are taken from the graph: each running layer reads its inputs (a
 * convolution reads src), through aliases to their storage owner. */
static void check_no_live_alias(const clf_model *m)
{
    int n = m->desc.n_layers, last[CONVNET_MAX_LAYERS], own[CONVNET_MAX_LAYERS];

    for (int i = 0; i < n; i++) {
        own[i] = i;
        while (m->layers[own[i]].alias)
            own[i] = m->desc.layers[own[i]].inputs[0];
        last[i] = i;
    }
    for (int j = 1; j < n; j++) {
        const clf_layer *l = &m->layers[j];
        bool conv = l->d->kind == CLF_LAYER_CONV2D ||
                    l->d->kind == CLF_LAYER_DEPTHWISE_CONV2D;

        if (!l->live || l->alias || l->skip)
            continue;
        for (int k = 0; k < (conv ? 1 : l->d->n_inputs); k++) {
            int o = own[conv ? l->src : l->d->inputs[k]];

            last[o] = last[o] > j ? last[o] : j;
        }
    }
    for (int i = 1; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            const clf_layer *a = &m->layers[i], *b = &m->layers[j];

            if (own[i] != i || own[j] != j || a->skip || b->skip || !a->live || !b->live)
                continue;
            if (a->out.buf == b->out.buf && last[i] >= j)
                fail_msg("%s and %s share a buffer while %s is still read by layer %d",
                         a->d->name, b->d->name, a->d->name, last[i]);
        }
}

static void test_planned_equals_unplanned(void **state)
{
    clf_backend *be = clf_test_backend(*state);
    uint8_t *img = convnet_images(S, NIMG, 13);
    convnet t;
    clf_model *planned, *plain;
    float *fa, *fb, *la, *lb;
    int shared = 0;

    convnet_init(&t, S, K);
    planned = compiled(be, &t, true, true, NIMG);
    plain = compiled(be, &t, true, false, NIMG);
    check_no_live_alias(planned);
    for (int i = 1; i < planned->desc.n_layers; i++)
        shared += planned->layers[i].live && !planned->layers[i].full;
    assert_true(shared >= 4); /* the plan did share storage */

    la = forward(planned, img, NIMG, &fa);
    lb = forward(plain, img, NIMG, &fb);
    assert_memory_equal(fa, fb, NIMG * planned->feat_size * sizeof *fa);
    assert_memory_equal(la, lb, NIMG * K * sizeof *la);
    free(fa), free(fb), free(la), free(lb);
    clf_model_free(planned);
    clf_model_free(plain);
    free(img);
    clf_backend_close(be);
}

/* A device whose largest allocation holds the input batch but only 2 rows
 * of the biggest shared buffer: the static layers run 2 images at a time
 * (passes of 2, 2, 1) and give the very same results. cpu only: the
 * planner is the same for every backend, and lowering a real device's
 * limit would also refuse its other buffers. */
static void test_batch_chunks(void **state)
{
    clf_backend *be = clf_test_backend("cpu");
    uint8_t *img = convnet_images(S, 5, 14);
    size_t row = 5 * 5 * 16 * sizeof(float); /* dw's output, the largest */
    convnet t;
    clf_model *whole, *chunked;
    float *fa, *fb, *la, *lb;

    (void)state;
    convnet_init(&t, S, K);
    whole = compiled(be, &t, true, true, 5);
    be->desc.max_alloc = 2 * row + 1;
    chunked = compiled(be, &t, true, true, 5);
    assert_int_equal(whole->chunk, 5);
    assert_int_equal(chunked->chunk, 2);
    la = forward(whole, img, 5, &fa);
    lb = forward(chunked, img, 5, &fb);
    assert_memory_equal(fa, fb, 5 * whole->feat_size * sizeof *fa);
    assert_memory_equal(la, lb, 5 * K * sizeof *la);

    /* less than one image's activations: refused, saying so */
    {
        clf_model *m = convnet_model(&t, 5);
        clf_optimizer opt;

        be->desc.max_alloc = row - 4;
        clf_optimizer_default(&opt, CLF_OPT_ADAM);
        logcap_begin();
        assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, 5),
                         CLF_ERR_DEVICE_MEM);
        assert_true(LOGCAP_HAS("one image's activations", "smaller image size"));
        logcap_end();
        clf_model_free(m);
    }
    free(fa), free(fb), free(la), free(lb);
    clf_model_free(whole);
    clf_model_free(chunked);
    free(img);
    clf_backend_close(be);
}

/* ---- GlobalAveragePooling2D's backward (heads may train through it) ----
 * Input (2, 3, 4) -> GAP -> Dense(3, softmax), the input gradient against
 * central differences of the model's own loss. The net is linear up to
 * the softmax, so with eps = 1e-2 the truncation error is tiny and the
 * float32 rounding about 6e-8 * |loss| / eps = 1e-5: a tolerance of
 * 1e-4 + 1e-2 |g| holds it, while a wrong 1/hw scale is off by 6x. */
static double gap_loss(clf_model *m, const float *x, const int32_t *y)
{
    clf_metrics mt;

    assert_int_equal(clf_model_reset_metrics(m), CLF_OK);
    assert_int_equal(clf_model_load_floats(m, x, 2), CLF_OK);
    assert_int_equal(clf_model_load_labels(m, y, 2), CLF_OK);
    assert_int_equal(clf_model_forward(m, 2, true), CLF_OK);
    assert_int_equal(clf_model_loss(m, 2, false), CLF_OK);
    assert_int_equal(clf_model_metrics(m, &mt), CLF_OK);
    return mt.loss_sum / 2;
}

static void test_gap_backward(void **state)
{
    clf_backend *be = clf_test_backend(*state);
    clf_layer_desc l[3];
    clf_graph_desc g = {l, 3, 2, "gap"};
    float x[2 * 24], grad[2 * 24];
    int32_t y[2] = {0, 2};
    clf_optimizer opt;
    clf_model *m;
    clf_rng r;

    clf_layer_desc_init(&l[0], CLF_LAYER_INPUT, "in");
    l[0].input_rank = 3;
    l[0].input_shape[0] = 2, l[0].input_shape[1] = 3, l[0].input_shape[2] = 4;
    clf_layer_desc_init(&l[1], CLF_LAYER_GLOBAL_AVG_POOL2D, "gap");
    l[1].n_inputs = 1;
    clf_layer_desc_init(&l[2], CLF_LAYER_DENSE, "dense");
    l[2].n_inputs = 1, l[2].inputs[0] = 1, l[2].units = 3;
    l[2].activation = CLF_ACTIVATION_SOFTMAX;
    assert_int_equal(clf_model_from_desc(&g, 3, &m), CLF_OK);
    clf_model_want_input_grad(m);
    clf_optimizer_default(&opt, CLF_OPT_SGD);
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, 2), CLF_OK);
    clf_rng_seed(&r, 21);
    for (int i = 0; i < 48; i++)
        x[i] = 2.0f * (float)clf_rng_uniform(&r) - 1.0f;

    gap_loss(m, x, y);
    assert_int_equal(clf_model_loss(m, 2, true), CLF_OK);
    assert_int_equal(clf_model_backward(m, 2), CLF_OK);
    assert_int_equal(clf_model_read_input_grad(m, 2, grad), CLF_OK);
    for (int i = 0; i < 48; i++) {
        float keep = x[i];
        double up, down, num;

        x[i] = keep + 1e-2f;
        up = gap_loss(m, x, y);
        x[i] = keep - 1e-2f;
        down = gap_loss(m, x, y);
        x[i] = keep;
        num = (up - down) / 2e-2;
        if (fabs(num - grad[i]) > 1e-4 + 1e-2 * fabs(grad[i]))
            fail_msg("input gradient %d: numeric %.6g, analytic %.6g", i, num, grad[i]);
    }
    clf_model_free(m);
    clf_backend_close(be);
}

/* ---- refusals ---- */

static void test_errors(void **state)
{
    clf_backend *be = clf_test_backend("cpu");
    clf_optimizer opt;
    convnet t;
    clf_model *m;

    (void)state;
    /* a 3x3 'valid' kernel on a 2x2 map (image 3x3: padded 4x4, then
     * stride 2 -> 1x1... so use 1x1 images: padded 2x2) */
    convnet_init(&t, 1, K);
    logcap_begin();
    assert_int_equal(clf_model_from_desc(&t.g, 1, &m), CLF_ERR_SHAPE);
    assert_true(LOGCAP_HAS("'conv' (Conv2D)", "2x2x3 input from 'pad'"));
    logcap_end();

    /* gradients cannot flow through a convolution */
    convnet_init(&t, S, K);
    t.layers[5].trainable = true; /* dw */
    m = convnet_model(&t, 1);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    logcap_begin();
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, 2),
                     CLF_ERR_UNSUPPORTED);
    assert_true(LOGCAP_HAS("'dw' (DepthwiseConv2D) runs forward only"));
    logcap_end();
    clf_model_free(m);
    clf_backend_close(be);
}

#define ON(test, spec) {#test " on " spec, test, NULL, NULL, (void *)spec}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_and_fusion),
        ON(test_reference, "cpu"),
        ON(test_reference, "opencl"),
        ON(test_fold_equals_unfolded, "cpu"),
        ON(test_fold_equals_unfolded, "opencl"),
        ON(test_planned_equals_unplanned, "cpu"),
        ON(test_planned_equals_unplanned, "opencl"),
        cmocka_unit_test(test_batch_chunks),
        ON(test_gap_backward, "cpu"),
        ON(test_gap_backward, "opencl"),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
