/* Whole training steps of the built-in "mlp:4" model against PyTorch
 * autograd: pixels in, CHW flatten, relu, softmax cross-entropy with the
 * short-batch weighting, the gradients (seen through one SGD step) and two
 * Keras-Adam steps. Reference numbers from tools/ref/step_ref.py (float64
 * torch); images, weights and labels come from the same closed formulas
 * in both. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "clfit/model.h"
#include "support/backends.h"

enum { H = 2, W = 3, C = 3, D = C * H * W, HID = 4, K = 3, NPARAM = D * HID + HID + HID * K + K };

/* Printed by /usr/bin/python3 tools/ref/step_ref.py: */
/* mean loss of batch A at the start: */
static const double loss_a = 1.1028983499e+00;
static const double after_sgd[91] = {
    1.4577488021e-01, 2.5593114708e-01, 2.8389003873e-01, 1.5465040505e-01,
    3.0205014463e-01, 2.0440866146e-01, 4.4365653780e-02, -1.6361270995e-01,
    1.3062288678e-01, -9.1587549719e-02, -2.4142382664e-01, -3.0817312303e-01,
    -1.8119861757e-01, -3.0913591321e-01, -2.6141832917e-01, -1.2047329789e-01,
    -2.9471571488e-01, -1.6963058064e-01, 1.0691897108e-02, 1.8412380232e-01,
    -8.3573719256e-02, 1.4558207071e-01, 2.7728981006e-01, 2.7333291075e-01,
    2.1904201054e-01, 3.1747105191e-01, 2.4581158204e-01, 5.2475967348e-02,
    2.8280132957e-01, 1.7259200059e-01, -4.4002936876e-02, -2.4935862450e-01,
    3.8149340926e-02, -1.3654290535e-01, -2.7666574265e-01, -2.9951331314e-01,
    -2.4758511030e-01, -2.7265400893e-01, -1.9817400050e-01, -4.2597871789e-02,
    -2.6164196467e-01, -7.7379336761e-02, 1.1015550892e-01, 2.3038536706e-01,
    1.1311453852e-02, 2.3533806343e-01, 3.1112502785e-01, 2.2169898734e-01,
    2.7311133293e-01, 3.1794541858e-01, 1.8388995615e-01, -5.6354062825e-02,
    2.3803138383e-01, 9.4566029832e-02, -1.2716605257e-01, -3.1218109970e-01,
    -5.5470951168e-02, -1.9650215186e-01, -2.8334213365e-01, -2.6340192613e-01,
    -2.8668280982e-01, -2.3772294409e-01, -1.1422072446e-01, 3.7257954475e-02,
    -2.0242683915e-01, 2.5568794640e-02, 1.9984058500e-01, 2.5099197355e-01,
    1.0519262774e-01, 3.0510038777e-01, 3.1538027905e-01, 1.4481072341e-01,
    1.0255948926e-01, 1.0256544035e-01, -1.9112024599e-02, -1.5068524552e-01,
    4.7918635664e-01, 1.6958222131e-01, -4.4346355297e-01, 3.0716100402e-01,
    -2.7902615387e-01, -4.7980874527e-01, -9.8810109582e-02, -5.0630673471e-01,
    -1.6171820450e-01, -4.3435349451e-01, -3.3487848950e-01, 2.6756126581e-01,
    -3.8740608624e-03, 5.4375709626e-02, 9.9498353471e-02,
};
static const double after_adam[91] = {
    1.4671767448e-01, 2.5960095988e-01, 2.9132906877e-01, 1.6209141975e-01,
    3.0265075472e-01, 2.0423835938e-01, 6.1141288057e-02, -1.6209673497e-01,
    1.3094538897e-01, -9.5443891489e-02, -2.2625625812e-01, -3.0226509747e-01,
    -1.8081813688e-01, -3.1217964988e-01, -2.4587186558e-01, -1.1553357336e-01,
    -2.9290598254e-01, -1.8492917843e-01, 2.4428210074e-02, 1.9355470407e-01,
    -8.1316315857e-02, 1.2588859927e-01, 2.8911305736e-01, 2.8731833354e-01,
    2.2121901801e-01, 3.0326062616e-01, 2.5859777588e-01, 6.3574015039e-02,
    2.8477140332e-01, 1.5409337001e-01, -3.3086467487e-02, -2.3370900078e-01,
    3.9900947849e-02, -1.5935099886e-01, -2.6766932369e-01, -2.7928620205e-01,
    -2.4578551732e-01, -2.9452384701e-01, -1.8875708476e-01, -2.3367598677e-02,
    -2.6006453753e-01, -1.0357040315e-01, 1.1762737430e-01, 2.5420753923e-01,
    1.2664138604e-02, 2.0481468542e-01, 3.1663030423e-01, 2.5012667938e-01,
    2.7436412490e-01, 2.9327184074e-01, 1.9056572891e-01, -3.0971356877e-02,
    2.3945849211e-01, 7.4407108026e-02, -1.2360077041e-01, -2.9046862385e-01,
    -5.4467191991e-02, -2.2376439532e-01, -2.8098744021e-01, -2.3419189415e-01,
    -2.8560620426e-01, -2.6357671737e-01, -1.1156248088e-01, 6.5002892897e-02,
    -2.0165504477e-01, -6.3489665085e-03, 2.0097663391e-01, 2.8502252714e-01,
    1.0569978570e-01, 2.6782809728e-01, 3.1477017206e-01, 1.8439344261e-01,
    1.0261243161e-01, 5.8389684042e-02, -2.1768761767e-02, -1.0311705572e-01,
    4.8081965936e-01, 1.4256512292e-01, -4.3204454355e-01, 2.9310201213e-01,
    -2.8977818696e-01, -4.7132919195e-01, -1.0978814177e-01, -5.1775374923e-01,
    -1.5661665381e-01, -4.3993813373e-01, -3.4672612624e-01, 2.7032581714e-01,
    -1.7554390184e-02, 5.2761898527e-02, 9.7463502556e-02,
};

static void image(int n, uint8_t *img)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++)
                img[(y * W + x) * C + c] =
                    (uint8_t)((n * 97 + y * 41 + x * 23 + c * 71 + 13 * n * c) % 256);
}

/* dense/kernel (18, 4), dense/bias, dense_1/kernel (4, 3), dense_1/bias */
static clf_model *start(clf_backend *be, clf_optimizer_kind kind, float lr)
{
    float w1[D * HID], b1[HID], w2[HID * K], b2[K];
    clf_optimizer opt;
    clf_model *m;

    for (int i = 0; i < D; i++)
        for (int j = 0; j < HID; j++)
            w1[i * HID + j] = (float)(0.3 * sin(1.1 * i + 0.7 * j + 0.5));
    for (int j = 0; j < HID; j++) {
        b1[j] = (float)(0.1 * cos(j));
        for (int k = 0; k < K; k++)
            w2[j * K + k] = (float)(0.5 * cos(0.9 * j + 1.3 * k));
    }
    for (int k = 0; k < K; k++)
        b2[k] = (float)(0.05 * k);
    assert_int_equal(clf_model_create("mlp:4", H, W, K, 1, &m), CLF_OK);
    assert_int_equal(clf_model_tensor_write(m, 0, w1, D * HID), CLF_OK);
    assert_int_equal(clf_model_tensor_write(m, 1, b1, HID), CLF_OK);
    assert_int_equal(clf_model_tensor_write(m, 2, w2, HID * K), CLF_OK);
    assert_int_equal(clf_model_tensor_write(m, 3, b2, K), CLF_OK);
    clf_optimizer_default(&opt, kind);
    opt.learning_rate = lr;
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, 4), CLF_OK);
    return m;
}

/* Batch A: images 0, 1, 2 with labels 0, 2, 1; batch B: image 3, label 2. */
static void train(clf_model *m, int first, int n, const int32_t *labels)
{
    uint8_t img[4 * H * W * C];

    for (int i = 0; i < n; i++)
        image(first + i, img + i * H * W * C);
    assert_int_equal(clf_model_train_batch(m, img, labels, n), CLF_OK);
}

/* float32 steps against float64: weights are O(0.5), so a few ulps are
 * 1e-7; 2e-6 leaves room for other summation orders while any wrong
 * gradient moves a weight by lr * |g|, around 1e-2 here. */
static void expect_weights(clf_model *m, const double *want)
{
    float got[NPARAM];
    size_t at = 0;

    for (size_t t = 0; t < 4; t++) {
        clf_tensor_info info;

        assert_int_equal(clf_model_tensor_info(m, t, &info), CLF_OK);
        assert_int_equal(clf_model_tensor_read(m, t, got + at, info.count), CLF_OK);
        at += info.count;
    }
    assert_int_equal(at, NPARAM);
    for (int i = 0; i < NPARAM; i++)
        if (fabs(got[i] - want[i]) > 2e-6)
            fail_msg("weight %d = %.9g, want %.9g", i, (double)got[i], want[i]);
}

static void test_sgd_step_matches_autograd(void **state)
{
    static const int32_t labels_a[3] = {0, 2, 1};
    clf_model *m = start(*state, CLF_OPT_SGD, 0.5f);
    clf_metrics mt;

    train(m, 0, 3, labels_a);
    assert_int_equal(clf_model_metrics(m, &mt), CLF_OK);
    assert_int_equal(mt.count, 3);
    if (fabs(mt.loss_sum / 3 - loss_a) > 1e-6 * loss_a)
        fail_msg("mean loss %.9g, want %.9g", mt.loss_sum / 3, loss_a);
    expect_weights(m, after_sgd);
    clf_model_free(m);
}

static void test_adam_steps_match_autograd(void **state)
{
    static const int32_t labels_a[3] = {0, 2, 1}, labels_b[1] = {2};
    clf_model *m = start(*state, CLF_OPT_ADAM, 0.01f);

    train(m, 0, 3, labels_a);
    train(m, 3, 1, labels_b);
    expect_weights(m, after_adam);
    clf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_step_matches_autograd),
        cmocka_unit_test(test_adam_steps_match_autograd),
    };

    return CLF_TEST_ON_BACKENDS(tests);
}
