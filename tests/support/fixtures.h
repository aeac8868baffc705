/* Test fixtures made by reference scripts (tools/ref/): the MobileNetV2
 * inputs and outputs in tests/fixtures/mobilenet/, listed with their
 * shapes in its index.json, and the fetched model itself. */
#ifndef CLFIT_TEST_FIXTURES_H
#define CLFIT_TEST_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIXTURE_MOBILENET_DIR CLFIT_SOURCE_DIR "/tests/fixtures/mobilenet"

typedef struct fixture_tensor {
    char name[64];
    char input[64];              /* the image it was computed from ("" for images) */
    char layer[128];             /* the layer whose output it is ("" for images) */
    bool cut;                    /* from the model cut at out_relu (else full) */
    int rank;
    int shape[4];
    size_t count;
    float *f32;                  /* exactly one of f32 / u8 is set */
    uint8_t *u8;
} fixture_tensor;

/* Loads tensor `name` of FIXTURE_MOBILENET_DIR/index.json ("img_a_96",
 * "out_relu_a_96", ...). Returns false after printing why. */
bool fixture_load(const char *name, fixture_tensor *out);
void fixture_free(fixture_tensor *t);

/* FIXTURE_MOBILENET_DIR/index.json, parsed (a cJSON *, as void * so that
 * tests need not include cJSON); NULL after printing why. Free it with
 * fixture_index_free. */
void *fixture_index(void);
void fixture_index_free(void *index);

/* Path of the fetched MobileNetV2 model.json ($CLFIT_MOBILENET_DIR or
 * models/mobilenet_v2 in the source tree), or NULL when it is not there;
 * tests then skip with FIXTURE_FETCH_HINT. */
const char *fixture_mobilenet_json(void);
#define FIXTURE_FETCH_HINT                                                     \
    "MobileNetV2 weights not found: run tools/fetch_mobilenet.sh (needs npm " \
    "and network) to put them in models/mobilenet_v2"

#endif
