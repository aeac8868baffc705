/* A small frozen convolutional base with a trainable head, built as a
 * graph description, and a float64 reference forward of any such graph
 * written from Keras's definitions (not from clfit's layer code), for the
 * tests of the convolutional layers, fusion, memory planning and the
 * feature cache.
 *
 * The net (input S x S x 3, channels last), one MobileNetV2-like block
 * and then some:
 *   pad      ZeroPadding2D ((0, 1), (0, 1))
 *   conv     Conv2D 8, 3x3, stride 2, valid, no bias -> BN -> ReLU6
 *   dw       DepthwiseConv2D 3x3, same, depth multiplier 2, bias
 *            -> BN -> ReLU (no cap)
 *   dil      Conv2D 8, 3x3, dilation 2, same, no bias -> BN
 *   add      Add(conv_relu, dil_bn) -> ReLU6 -> BN (not after a conv)
 *   pool     AveragePooling2D 2x2, stride 2, same
 *   flatten, dense (classes, softmax)   <- the trainable head
 */
#ifndef CLFIT_TEST_CONVNET_H
#define CLFIT_TEST_CONVNET_H

#include <stdbool.h>
#include <stdint.h>

#include "model/model_internal.h"

enum { CONVNET_MAX_LAYERS = 24 };

typedef struct convnet {
    clf_layer_desc layers[CONVNET_MAX_LAYERS];
    clf_graph_desc g;
} convnet;

/* Fills *t for S x S images and `classes` classes; base layers frozen. */
void convnet_init(convnet *t, int s, int classes);

/* A model of t (seed 7) whose every tensor is drawn from `seed`:
 * kernels U(-a, a) with a = 1 / sqrt(fan in), biases and betas U(-0.2,
 * 0.2), gammas U(0.5, 1.5), moving means U(-0.3, 0.3), moving variances
 * U(0.3, 1.3). Fails the test on error. */
clf_model *convnet_model(const convnet *t, uint64_t seed);

/* n images of S x S x 3 bytes from `seed`. Caller frees. */
uint8_t *convnet_images(int s, int n, uint64_t seed);

/* Keras's forward in double of every layer of m's graph, from m's tensor
 * values (read with clf_model_tensor_read) on one image scaled to [0, 1]:
 * out[i] is layer i's output (malloc'd, m->layers[i].size values; free
 * with convnet_ref_free). Softmax is not applied to the output. */
double **convnet_ref(clf_model *m, const uint8_t *image);
void convnet_ref_free(const clf_model *m, double **out);

/* max_i |x_i - ref_i| / max_i |ref_i| */
double convnet_error(const float *x, const double *ref, size_t n);

#endif
