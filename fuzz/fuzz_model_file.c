/* Fuzzes the model-file loader (clf_model_load on bytes in memory): the
 * safetensors container, clfit's metadata (format, version, config,
 * input, class names, preprocessing, base), the model config (Keras JSON)
 * and the weights checked against it. The CRC entry is recomputed first
 * (fuzz_fix_crc) so mutations reach the parsers behind it.
 *
 * Seeds: FUZZ_WRITE_SEEDS=DIR fuzz_model_file writes model files saved by
 * clfit itself (linear, mlp and a small convolutional net) into DIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/io.h"
#include "harness.h"
#include "io/keras_json.h"
#include "io/model_file.h"
#include "model/model_internal.h"

/* Input 8x8x3 -> ZeroPadding2D -> Conv2D relu6 -> DepthwiseConv2D ->
 * BatchNormalization -> Add -> AveragePooling2D -> GlobalAveragePooling2D
 * -> Dropout -> Dense softmax: every layer kind the loader knows. */
static const char conv_net[] =
    "{\"class_name\":\"Functional\",\"config\":{\"name\":\"conv\",\"layers\":["
    "{\"class_name\":\"InputLayer\",\"name\":\"in\",\"config\":{\"name\":\"in\","
    "\"batch_input_shape\":[null,8,8,3]},\"inbound_nodes\":[]},"
    "{\"class_name\":\"ZeroPadding2D\",\"name\":\"pad\",\"config\":{\"name\":\"pad\","
    "\"padding\":[[1,0],[0,1]]},\"inbound_nodes\":[[[\"in\",0,0,{}]]]},"
    "{\"class_name\":\"Conv2D\",\"name\":\"c\",\"config\":{\"name\":\"c\",\"filters\":4,"
    "\"kernel_size\":3,\"strides\":2,\"padding\":\"same\",\"activation\":\"relu6\"},"
    "\"inbound_nodes\":[[[\"pad\",0,0,{}]]]},"
    "{\"class_name\":\"DepthwiseConv2D\",\"name\":\"dw\",\"config\":{\"name\":\"dw\","
    "\"kernel_size\":3,\"padding\":\"same\",\"use_bias\":false},"
    "\"inbound_nodes\":[[[\"c\",0,0,{}]]]},"
    "{\"class_name\":\"BatchNormalization\",\"name\":\"bn\",\"config\":{\"name\":\"bn\","
    "\"axis\":-1,\"epsilon\":0.001},\"inbound_nodes\":[[[\"dw\",0,0,{}]]]},"
    "{\"class_name\":\"Add\",\"name\":\"add\",\"config\":{\"name\":\"add\"},"
    "\"inbound_nodes\":[[[\"c\",0,0,{}],[\"bn\",0,0,{}]]]},"
    "{\"class_name\":\"AveragePooling2D\",\"name\":\"ap\",\"config\":{\"name\":\"ap\","
    "\"pool_size\":2,\"strides\":1,\"padding\":\"valid\"},"
    "\"inbound_nodes\":[[[\"add\",0,0,{}]]]},"
    "{\"class_name\":\"GlobalAveragePooling2D\",\"name\":\"gap\",\"config\":{\"name\":"
    "\"gap\"},\"inbound_nodes\":[[[\"ap\",0,0,{}]]]},"
    "{\"class_name\":\"Dropout\",\"name\":\"drop\",\"config\":{\"name\":\"drop\","
    "\"rate\":0.2},\"inbound_nodes\":[[[\"gap\",0,0,{}]]]},"
    "{\"class_name\":\"Dense\",\"name\":\"out\",\"config\":{\"name\":\"out\",\"units\":3,"
    "\"activation\":\"softmax\"},\"inbound_nodes\":[[[\"drop\",0,0,{}]]]}],"
    "\"input_layers\":[[\"in\",0,0]],\"output_layers\":[[\"out\",0,0]]}}";

static void save(clf_model *m, const char *name, int classes, clf_preprocess pre)
{
    static const char *const names[] = {"cat", "dog", "\xc3\xa9t\xc3\xa9 / summer"};
    char path[1024];

    snprintf(path, sizeof path, "%s/%s", fuzz_seed_dir(), name);
    if (!m || classes > 3 || clf_model_save(m, path, names, pre, NULL) != CLF_OK) {
        fprintf(stderr, "fuzz_model_file: could not write seed %s\n", path);
        exit(1);
    }
    clf_model_free(m);
}

static void write_seeds(void)
{
    clf_graph_desc g = {0};
    clf_model *m = NULL;

    clf_model_create("linear", 4, 4, 2, 1, &m);
    save(m, "linear.safetensors", 2, CLF_PREPROCESS_UNIT);
    clf_model_create("mlp:3", 5, 3, 3, 2, &m);
    save(m, "mlp.safetensors", 3, CLF_PREPROCESS_SYMMETRIC);
    if (clf_keras_json_parse(conv_net, strlen(conv_net), "conv", &g) != CLF_OK ||
        clf_model_from_desc(&g, 3, &m) != CLF_OK)
        m = NULL;
    clf_graph_desc_free(&g);
    save(m, "conv.safetensors", 3, CLF_PREPROCESS_NONE);
    exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (fuzz_seed_dir())
        write_seeds();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fuzz_fix_crc(data, size);
    clf_model_info info;
    clf_model *m = NULL;
    clf_st_file f;
    char *summary = NULL;

    fuzz_quiet_log();
    if (clf_st_parse(buf, size, "fuzz.safetensors", &f) == CLF_OK) {
        if (clf_mf_load_parsed(&f, &m, &info) == CLF_OK) {
            if (!m || info.classes != clf_model_classes(m))
                abort();
            if (clf_model_summary(m, &summary) == CLF_OK)
                free(summary);
            clf_model_info_free(&info);
            clf_model_free(m);
        } else if (m) {
            abort(); /* on failure no model is handed out */
        }
        clf_st_free(&f);
    }
    free(buf);
    return 0;
}
