/* Fuzzes the Keras / TF.js model JSON reader, then everything that works
 * on the description alone: layer shapes (at the model's own input size
 * and at 32 x 32), parameter counts, a cut after a middle layer, and the
 * writer, whose output must parse back to as many layers. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "io/graph_shapes.h"
#include "io/keras_json.h"

/* Shapes and counts at one input size; failures are fine. */
static void shapes_at(const clf_graph_desc *g, int h, int w)
{
    clf_shape *shapes = calloc((size_t)g->n_layers, sizeof *shapes);
    size_t trainable, frozen;

    if (shapes && clf_graph_shapes_hw(g, h, w, shapes) == CLF_OK)
        clf_graph_count_params(g, shapes, &trainable, &frozen);
    free(shapes);
}

static void round_trip(const clf_graph_desc *g)
{
    clf_graph_desc back = {0};
    char *json = NULL;

    if (clf_keras_json_write(g, &json) != CLF_OK)
        return;
    if (clf_keras_json_parse(json, strlen(json), "written", &back) != CLF_OK ||
        back.n_layers != g->n_layers)
        abort(); /* clfit must read back what it writes */
    clf_graph_desc_free(&back);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clf_graph_desc g = {0}, cut = {0};

    fuzz_quiet_log();
    if (clf_keras_json_parse((const char *)data, size, "fuzz.json", &g) != CLF_OK) {
        if (g.layers || g.n_layers)
            abort(); /* on failure the result must be empty */
        return 0;
    }
    if (g.n_layers < 1 || g.output < 0 || g.output >= g.n_layers)
        abort();
    shapes_at(&g, 0, 0);
    shapes_at(&g, 32, 32);
    if (clf_graph_cut(&g, g.layers[g.n_layers / 2].name, &cut) == CLF_OK) {
        shapes_at(&cut, 0, 0);
        clf_graph_desc_free(&cut);
    }
    round_trip(&g);
    clf_graph_desc_free(&g);
    return 0;
}
