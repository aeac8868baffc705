/* Keras model configs (Sequential and functional) and TF.js model.json
 * files -> clf_graph_desc: find the Keras config in the document, read
 * every layer, connect the layers by name and sort them topologically.
 * One layer's config is read by io/keras_layers.c. */
#include "io/keras_json.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "core/excerpt.h"
#include "io/file_read.h"
#include "io/keras_layers.h"

/* A layer as read from the file, before sorting. */
typedef struct raw_layer {
    clf_layer_desc d;
    const char *in_names[CLF_MAX_INPUTS];    /* borrowed from the cJSON tree */
    int in_idx[CLF_MAX_INPUTS];              /* raw indices, once resolved */
    int sorted;                              /* index in the result, or -1 */
} raw_layer;

typedef struct parser {
    const char *what;
    raw_layer *raw;
    int n;
    const char *input, *output;              /* names of the model's ends */
} parser;

static const cJSON *get(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsNull(v) ? NULL : v;
}

static const char *get_str(const cJSON *obj, const char *key)
{
    const cJSON *v = get(obj, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool str_is(const cJSON *obj, const char *key, const char *value)
{
    const char *s = get_str(obj, key);

    return s && strcmp(s, value) == 0;
}

/* ---- Layers: names, configs and inbound nodes ---- */

static clf_status set_name(parser *p, raw_layer *r, const char *name, int i)
{
    if (!name || !*name) {
        CLF_LOG_ERROR("%s: layer %d has no name", p->what, i);
        return CLF_ERR_FORMAT;
    }
    if (strlen(name) >= CLF_NAME_MAX) {
        CLF_LOG_ERROR("%s: layer %d: name '%.40s...' is longer than %d characters", p->what,
                      i, name, CLF_NAME_MAX - 1);
        return CLF_ERR_FORMAT;
    }
    for (int k = 0; k < i; k++)
        if (strcmp(p->raw[k].d.name, name) == 0) {
            CLF_LOG_ERROR("%s: two layers are named '%s'", p->what, name);
            return CLF_ERR_FORMAT;
        }
    snprintf(r->d.name, sizeof r->d.name, "%s", name);
    return CLF_OK;
}

static bool name_taken(const parser *p, const char *name)
{
    for (int k = 0; k < p->n; k++)
        if (strcmp(p->raw[k].d.name, name) == 0)
            return true;
    return false;
}

/* A Sequential layer without a name gets the one Keras would give it: the
 * class name in snake case ("GlobalAveragePooling2D" ->
 * "global_average_pooling2d", "ReLU" -> "re_lu"), then "_1", "_2"... while
 * taken. Writes into buf (CLF_NAME_MAX bytes). */
static const char *default_name(const parser *p, const char *cls, char *buf)
{
    char base[CLF_NAME_MAX - 12];
    size_t len = 0;

    for (size_t i = 0; cls && cls[i] && len + 2 < sizeof base; i++) {
        bool up = cls[i] >= 'A' && cls[i] <= 'Z';
        bool next_low = cls[i + 1] >= 'a' && cls[i + 1] <= 'z';
        bool prev_low = i > 0 && cls[i - 1] >= 'a' && cls[i - 1] <= 'z';

        if (i > 0 && up && (next_low || prev_low))
            base[len++] = '_';
        base[len++] = up ? (char)(cls[i] - 'A' + 'a') : cls[i];
    }
    base[len] = 0;
    if (!len)
        return NULL;
    snprintf(buf, CLF_NAME_MAX, "%s", base);
    for (int k = 1; name_taken(p, buf) && k < INT_MAX; k++)
        snprintf(buf, CLF_NAME_MAX, "%s_%d", base, k);
    return buf;
}

/* Fills r->d from one {"class_name", "config"} entry; r->d.name is set. */
static clf_status parse_layer(parser *p, raw_layer *r, const cJSON *entry)
{
    const char *cls = get_str(entry, "class_name");
    const cJSON *cfg = get(entry, "config");

    if (!cls) {
        CLF_LOG_ERROR("%s: layer '%s' has no class_name", p->what, r->d.name);
        return CLF_ERR_FORMAT;
    }
    if (strcmp(cls, "InputLayer") == 0) {
        const cJSON *shape = get(cfg, "batch_input_shape");

        return clf_keras_input_from_shape(p->what, shape ? shape : get(cfg, "batch_shape"),
                                          &r->d);
    }
    if (!strcmp(cls, "Sequential") || !strcmp(cls, "Functional") || !strcmp(cls, "Model")) {
        CLF_LOG_ERROR("%s: layer '%s' is a nested %s model, which is not supported; save "
                      "the model with its layers inlined", p->what, r->d.name, cls);
        return CLF_ERR_UNSUPPORTED;
    }
    return clf_keras_layer_parse(p->what, cls, cfg, &r->d);
}

static clf_status add_input(parser *p, raw_layer *r, const char *name, int node, int tensor)
{
    if (!name) {
        CLF_LOG_ERROR("%s: layer '%s': an inbound node does not name a layer", p->what,
                      r->d.name);
        return CLF_ERR_FORMAT;
    }
    if (node < 0 || tensor < 0) {
        CLF_LOG_ERROR("%s: layer '%s': input '%s' needs a node and a tensor index that are "
                      "whole numbers >= 0", p->what, r->d.name, name);
        return CLF_ERR_FORMAT;
    }
    if (node != 0 || tensor != 0) {
        CLF_LOG_ERROR("%s: layer '%s': input '%s' refers to its call %d, output %d; only "
                      "layers called once with one output are supported", p->what,
                      r->d.name, name, node, tensor);
        return CLF_ERR_UNSUPPORTED;
    }
    if (r->d.n_inputs == CLF_MAX_INPUTS) {
        CLF_LOG_ERROR("%s: layer '%s' has more than %d inputs", p->what, r->d.name,
                      CLF_MAX_INPUTS);
        return CLF_ERR_UNSUPPORTED;
    }
    r->in_names[r->d.n_inputs++] = name;
    return CLF_OK;
}

/* Entry i of arr as a non-negative int; -1 for anything else (not a
 * number, fractional, or beyond int: converting 1e300 to int is undefined
 * behaviour, found by fuzzing), which add_input refuses. */
static int int_at(const cJSON *arr, int i)
{
    const cJSON *v = cJSON_GetArrayItem(arr, i);
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1.0;

    return d >= 0.0 && d <= INT_MAX && d == floor(d) ? (int)d : -1;
}

/* Keras 3 node: {"args": [...], "kwargs": {...}}; every keras tensor found
 * in args (also inside lists, as Add's are) is an input. */
static clf_status keras3_args(parser *p, raw_layer *r, const cJSON *v, int depth)
{
    const cJSON *hist, *item;
    clf_status st;

    if (depth > 4)
        return CLF_OK;
    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(item, v) {
            if ((st = keras3_args(p, r, item, depth + 1)) != CLF_OK)
                return st;
        }
        return CLF_OK;
    }
    if (!cJSON_IsObject(v) || !str_is(v, "class_name", "__keras_tensor__"))
        return CLF_OK;
    hist = get(get(v, "config"), "keras_history");
    if (!cJSON_IsArray(hist) || cJSON_GetArraySize(hist) != 3) {
        CLF_LOG_ERROR("%s: layer '%s': a keras tensor has no valid keras_history", p->what,
                      r->d.name);
        return CLF_ERR_FORMAT;
    }
    return add_input(p, r, cJSON_GetStringValue(cJSON_GetArrayItem(hist, 0)),
                     int_at(hist, 1), int_at(hist, 2));
}

/* One node: Keras 2 [["name", node, tensor, {kwargs}], ...] or Keras 3. */
static clf_status parse_node(parser *p, raw_layer *r, const cJSON *node)
{
    const cJSON *ref;
    clf_status st;

    if (cJSON_IsObject(node))
        return keras3_args(p, r, get(node, "args"), 0);
    if (!cJSON_IsArray(node)) {
        CLF_LOG_ERROR("%s: layer '%s': inbound node is neither a list nor an object",
                      p->what, r->d.name);
        return CLF_ERR_FORMAT;
    }
    cJSON_ArrayForEach(ref, node) {
        int n = cJSON_GetArraySize(ref);

        if (!cJSON_IsArray(ref) || n < 3 || n > 4) {
            CLF_LOG_ERROR("%s: layer '%s': inbound node entries must be [\"layer\", node, "
                          "tensor, {...}]", p->what, r->d.name);
            return CLF_ERR_FORMAT;
        }
        st = add_input(p, r, cJSON_GetStringValue(cJSON_GetArrayItem(ref, 0)),
                       int_at(ref, 1), int_at(ref, 2));
        if (st != CLF_OK)
            return st;
    }
    return CLF_OK;
}

static clf_status parse_inbound(parser *p, raw_layer *r, const cJSON *nodes)
{
    int n = cJSON_GetArraySize(nodes);
    bool input = r->d.kind == CLF_LAYER_INPUT;

    if (nodes && !cJSON_IsArray(nodes)) {
        CLF_LOG_ERROR("%s: layer '%s': inbound_nodes must be a list", p->what, r->d.name);
        return CLF_ERR_FORMAT;
    }
    if (n > 1) {
        CLF_LOG_ERROR("%s: layer '%s' is called %d times; shared layers are not supported",
                      p->what, r->d.name, n);
        return CLF_ERR_UNSUPPORTED;
    }
    if (input != (n == 0)) {
        CLF_LOG_ERROR("%s: layer '%s' (%s) %s", p->what, r->d.name,
                      clf_layer_kind_name(r->d.kind),
                      input ? "is an input layer but has inbound nodes" : "has no inputs");
        return CLF_ERR_FORMAT;
    }
    return n ? parse_node(p, r, cJSON_GetArrayItem(nodes, 0)) : CLF_OK;
}

/* ---- Connecting and sorting ---- */

static int find_raw(const parser *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->raw[i].d.name, name) == 0)
            return i;
    return -1;
}

/* Input counts per kind, and names -> indices. */
static clf_status resolve(parser *p)
{
    for (int i = 0; i < p->n; i++) {
        raw_layer *r = &p->raw[i];
        int n = r->d.n_inputs;

        if (r->d.kind == CLF_LAYER_ADD ? n < 2 : r->d.kind != CLF_LAYER_INPUT && n != 1) {
            CLF_LOG_ERROR("%s: layer '%s' (%s) has %d inputs; it needs %s", p->what,
                          r->d.name, clf_layer_kind_name(r->d.kind), n,
                          r->d.kind == CLF_LAYER_ADD ? "at least 2" : "exactly 1");
            return CLF_ERR_FORMAT;
        }
        for (int k = 0; k < n; k++) {
            r->in_idx[k] = find_raw(p, r->in_names[k]);
            if (r->in_idx[k] < 0) {
                CLF_LOG_ERROR("%s: layer '%s': input '%s' is not a layer of this model",
                              p->what, r->d.name, r->in_names[k]);
                return CLF_ERR_FORMAT;
            }
        }
    }
    return CLF_OK;
}

/* Marks, in keep[], the layers the output depends on. */
static clf_status mark_needed(parser *p, int out, char *keep)
{
    int *stack = clf_malloc_array((size_t)p->n, sizeof *stack, "layer stack"), top = 0;

    if (!stack)
        return CLF_ERR_NOMEM;
    memset(keep, 0, (size_t)p->n);
    keep[out] = 1;
    stack[top++] = out;
    while (top > 0) {
        raw_layer *r = &p->raw[stack[--top]];

        for (int k = 0; k < r->d.n_inputs; k++)
            if (!keep[r->in_idx[k]]) {
                keep[r->in_idx[k]] = 1;
                stack[top++] = r->in_idx[k];
            }
    }
    free(stack);
    return CLF_OK;
}

/* Kahn's algorithm, stable: each round places the first needed layer
 * (in file order) whose inputs are all placed. Quadratic, on <= 4096. */
static clf_status sort_layers(parser *p, const char *keep, clf_graph_desc *g)
{
    int placed = 0, wanted = 0;

    for (int i = 0; i < p->n; i++)
        wanted += keep[i];
    while (placed < wanted) {
        int i;

        for (i = 0; i < p->n; i++) {
            raw_layer *r = &p->raw[i];
            int k = 0;

            if (!keep[i] || r->sorted >= 0)
                continue;
            while (k < r->d.n_inputs && p->raw[r->in_idx[k]].sorted >= 0)
                k++;
            if (k == r->d.n_inputs)
                break;
        }
        if (i == p->n) {
            CLF_LOG_ERROR("%s: the layers' connections form a cycle", p->what);
            return CLF_ERR_FORMAT;
        }
        p->raw[i].sorted = placed;
        g->layers[placed] = p->raw[i].d;
        for (int k = 0; k < p->raw[i].d.n_inputs; k++)
            g->layers[placed].inputs[k] = p->raw[p->raw[i].in_idx[k]].sorted;
        placed++;
    }
    g->n_layers = placed;
    return CLF_OK;
}

/* The one input layer must be the declared input and come first. */
static clf_status check_ends(parser *p, const clf_graph_desc *g)
{
    for (int i = 0; i < g->n_layers; i++)
        if (g->layers[i].kind == CLF_LAYER_INPUT &&
            (i != 0 || (p->input && strcmp(g->layers[i].name, p->input) != 0))) {
            CLF_LOG_ERROR("%s: the output depends on input layer '%s'; models with more "
                          "than one input are not supported", p->what, g->layers[i].name);
            return CLF_ERR_UNSUPPORTED;
        }
    if (g->layers[0].kind != CLF_LAYER_INPUT) {
        CLF_LOG_ERROR("%s: the output does not depend on an input layer", p->what);
        return CLF_ERR_FORMAT;
    }
    return CLF_OK;
}

static clf_status build(parser *p, clf_graph_desc *g)
{
    int out = p->output ? find_raw(p, p->output) : p->n - 1;
    char *keep;
    clf_status st;

    if (out < 0) {
        CLF_LOG_ERROR("%s: output layer '%s' is not a layer of this model", p->what,
                      p->output);
        return CLF_ERR_FORMAT;
    }
    if ((st = resolve(p)) != CLF_OK)
        return st;
    keep = clf_malloc_array((size_t)p->n, 1, "layer marks");
    g->layers = clf_calloc_array((size_t)p->n, sizeof *g->layers, "layers");
    if (!keep || !g->layers) {
        free(keep);
        return CLF_ERR_NOMEM;
    }
    st = mark_needed(p, out, keep);
    if (st == CLF_OK)
        st = sort_layers(p, keep, g);
    free(keep);
    if (st == CLF_OK)
        st = check_ends(p, g);
    g->output = g->n_layers - 1;
    return st;
}

/* ---- Functional and Sequential configs ---- */

/* The single layer name in input_layers / output_layers: Keras 2 writes
 * [["name", 0, 0]], Keras 3 also ["name", 0, 0] for one tensor. */
static clf_status end_name(parser *p, const cJSON *cfg, const char *key, const char **out)
{
    const cJSON *v = get(cfg, key), *first = cJSON_GetArrayItem(v, 0);

    *out = NULL;
    if (!v)
        return CLF_OK;
    if (cJSON_IsString(first)) {
        *out = first->valuestring;
        return CLF_OK;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 1 || !cJSON_IsArray(first) ||
        !cJSON_IsString(cJSON_GetArrayItem(first, 0))) {
        CLF_LOG_ERROR("%s: '%s' must name exactly one layer (models with several inputs or "
                      "outputs are not supported)", p->what, key);
        return cJSON_IsArray(v) && cJSON_GetArraySize(v) > 1 ? CLF_ERR_UNSUPPORTED
                                                              : CLF_ERR_FORMAT;
    }
    *out = cJSON_GetArrayItem(first, 0)->valuestring;
    return CLF_OK;
}

static clf_status alloc_raw(parser *p, const cJSON *layers)
{
    int n = cJSON_GetArraySize(layers);

    if (!cJSON_IsArray(layers) || n < 1) {
        CLF_LOG_ERROR("%s: the model config has no 'layers' list", p->what);
        return CLF_ERR_FORMAT;
    }
    if (n > CLF_KERAS_MAX_LAYERS) {
        CLF_LOG_ERROR("%s: %d layers, more than the %d supported", p->what, n,
                      CLF_KERAS_MAX_LAYERS);
        return CLF_ERR_UNSUPPORTED;
    }
    /* One spare slot for the input layer a Sequential may lack. */
    p->raw = clf_calloc_array((size_t)n + 1, sizeof *p->raw, "layers");
    if (!p->raw)
        return CLF_ERR_NOMEM;
    for (int i = 0; i <= n; i++)
        p->raw[i].sorted = -1;
    return CLF_OK;
}

static clf_status parse_functional(parser *p, const cJSON *cfg)
{
    const cJSON *layers = get(cfg, "layers"), *entry;
    clf_status st;
    int in;

    if ((st = alloc_raw(p, layers)) != CLF_OK)
        return st;
    cJSON_ArrayForEach(entry, layers) {
        raw_layer *r = &p->raw[p->n];
        const char *name = get_str(entry, "name");

        if (!name)
            name = get_str(get(entry, "config"), "name");
        if ((st = set_name(p, r, name, p->n)) != CLF_OK ||
            (st = parse_layer(p, r, entry)) != CLF_OK ||
            (st = parse_inbound(p, r, get(entry, "inbound_nodes"))) != CLF_OK)
            return st;
        p->n++;
    }
    if ((st = end_name(p, cfg, "input_layers", &p->input)) != CLF_OK ||
        (st = end_name(p, cfg, "output_layers", &p->output)) != CLF_OK)
        return st;
    in = p->input ? find_raw(p, p->input) : -1;
    if (p->input && (in < 0 || p->raw[in].d.kind != CLF_LAYER_INPUT)) {
        CLF_LOG_ERROR("%s: input_layers names '%s', which is not an input layer of this "
                      "model", p->what, p->input);
        return CLF_ERR_FORMAT;
    }
    return CLF_OK;
}

/* A Sequential without an InputLayer gets one named as Keras 2 names it,
 * "<first layer>_input", shaped from the first layer's batch_input_shape,
 * the config's build_input_shape or (Keras 3) build_config. */
static clf_status seq_input(parser *p, const cJSON *model, const cJSON *first)
{
    const cJSON *fcfg = get(first, "config"), *shape = get(fcfg, "batch_input_shape");
    const char *fname = get_str(fcfg, "name");
    raw_layer *r = &p->raw[p->n];
    char name[CLF_NAME_MAX], first_name[CLF_NAME_MAX];
    clf_status st;

    if (!fname || !*fname)
        fname = default_name(p, get_str(first, "class_name"), first_name);

    if (!shape)
        shape = get(fcfg, "batch_shape");
    if (!shape)
        shape = get(get(model, "config"), "build_input_shape");
    if (!shape)
        shape = get(get(model, "build_config"), "input_shape");
    snprintf(name, sizeof name, "%.100s_input", fname ? fname : "sequential");
    if ((st = set_name(p, r, name, p->n)) != CLF_OK ||
        (st = clf_keras_input_from_shape(p->what, shape, &r->d)) != CLF_OK)
        return st;
    p->n++;
    return CLF_OK;
}

static clf_status parse_sequential(parser *p, const cJSON *model)
{
    const cJSON *cfg = get(model, "config"), *entry;
    /* Keras 2.0-2.1 wrote the layer list as the config itself. */
    const cJSON *layers = cJSON_IsArray(cfg) ? cfg : get(cfg, "layers");
    clf_status st;

    if ((st = alloc_raw(p, layers)) != CLF_OK)
        return st;
    if (!str_is(cJSON_GetArrayItem(layers, 0), "class_name", "InputLayer") &&
        (st = seq_input(p, model, cJSON_GetArrayItem(layers, 0))) != CLF_OK)
        return st;
    cJSON_ArrayForEach(entry, layers) {
        raw_layer *r = &p->raw[p->n];
        const char *name = get_str(get(entry, "config"), "name");
        char auto_name[CLF_NAME_MAX];

        if (!name || !*name) /* layers are joined by order here, not by name */
            name = default_name(p, get_str(entry, "class_name"), auto_name);
        if ((st = set_name(p, r, name, p->n)) != CLF_OK ||
            (st = parse_layer(p, r, entry)) != CLF_OK)
            return st;
        if (p->n > 0 && r->d.kind == CLF_LAYER_INPUT) {
            CLF_LOG_ERROR("%s: input layer '%s' in the middle of a Sequential model",
                          p->what, r->d.name);
            return CLF_ERR_FORMAT;
        }
        if (p->n > 0)
            r->in_names[r->d.n_inputs++] = p->raw[p->n - 1].d.name;
        p->n++;
    }
    return CLF_OK;
}

/* ---- The document ---- */

/* The {"class_name", "config"} object inside a TF.js model.json or a
 * Keras config; NULL after logging when there is none. */
static const cJSON *model_config(const cJSON *root, const char *what)
{
    const cJSON *topo = get(root, "modelTopology");
    const char *format = get_str(root, "format");

    if (format && strcmp(format, "graph-model") == 0) {
        CLF_LOG_ERROR("%s: a TF.js graph model; only layers models (Keras topology) can be "
                      "read", what);
        return NULL;
    }
    if (cJSON_IsObject(topo))
        root = topo;
    if (cJSON_IsObject(get(root, "model_config")))
        root = get(root, "model_config");
    if (!get_str(root, "class_name")) {
        CLF_LOG_ERROR("%s: neither a TF.js model.json (modelTopology) nor a Keras model "
                      "config (class_name, config)", what);
        return NULL;
    }
    return root;
}

clf_status clf_keras_json_from_cjson(const cJSON *root, const char *what, clf_graph_desc *out)
{
    parser p = {.what = what};
    const cJSON *model;
    const char *cls;
    clf_status st;

    memset(out, 0, sizeof *out);
    if (!(model = model_config(root, what)))
        return CLF_ERR_FORMAT;
    cls = get_str(model, "class_name");
    if (strcmp(cls, "Sequential") == 0) {
        st = parse_sequential(&p, model);
    } else if (!strcmp(cls, "Functional") || !strcmp(cls, "Model")) {
        st = parse_functional(&p, get(model, "config"));
    } else {
        CLF_LOG_ERROR("%s: model class '%s' is not supported (Sequential, Functional or "
                      "Model)", what, cls);
        st = CLF_ERR_UNSUPPORTED;
    }
    if (st == CLF_OK)
        st = build(&p, out);
    if (st == CLF_OK) {
        const char *name = get_str(get(model, "config"), "name");

        snprintf(out->name, sizeof out->name, "%s", name ? name : "model");
    }
    free(p.raw);
    if (st != CLF_OK)
        clf_graph_desc_free(out);
    return st;
}

/* Line and column of byte `at` in text, for parse errors. */
static void locate(const char *text, size_t at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at; i++, (*col)++)
        if (text[i] == '\n') {
            (*line)++;
            *col = 0;
        }
}

/* Whether b[0..len) holds the bytes of s (a bounded strstr). */
static bool has_bytes(const unsigned char *b, size_t len, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(b + i, s, n) == 0)
            return true;
    return false;
}

/* What a binary file given as JSON is, from its first bytes: a
 * safetensors file (a small little-endian header length, then '{'), a
 * PNG or a JPEG image; NULL when it is none of those. */
static const char *binary_kind(const unsigned char *b, size_t len)
{
    if (len >= 9 && b[8] == '{' && !b[4] && !b[5] && !b[6] && !b[7])
        return has_bytes(b, len < 65536 ? len : 65536, "\"clfit.format\"")
                   ? "a clfit model file (safetensors)"
                   : "a safetensors weights file";
    if (len >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "a PNG image";
    if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return "a JPEG image";
    return NULL;
}

/* Binary data rather than text: a NUL, or more than 4 other control
 * bytes (not tab, CR or LF), in the first 64 bytes. UTF-8 text has none;
 * a stray one is shown escaped in the excerpt instead. */
static bool looks_binary(const unsigned char *b, size_t len)
{
    int control = 0;

    for (size_t i = 0; i < len && i < 64; i++) {
        if (b[i] == 0)
            return true;
        control += (b[i] < 0x20 && !strchr("\t\r\n", b[i])) || b[i] == 0x7f;
    }
    return control > 4;
}

/* The parse error: a binary file is named for what it is, and the
 * excerpt of a text file has its control bytes escaped. */
static void log_not_json(const char *text, size_t len, const char *end, const char *what)
{
    size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
    char near[4 * 20 + 1];
    int line, col;

    if (looks_binary((const unsigned char *)text, len)) {
        clf_hex_bytes(text, len, 8, near, sizeof near);
        CLF_LOG_ERROR("%s: not valid JSON: binary data (starting %s), not a Keras/TF.js "
                      "model.json", what, near);
        return;
    }
    locate(text, at, &line, &col);
    clf_excerpt(text + at, len - at, 20, near, sizeof near);
    CLF_LOG_ERROR("%s: not valid JSON (error at line %d, column %d, near \"%s\")", what,
                  line, col, near);
}

clf_status clf_keras_json_parse(const char *text, size_t len, const char *what,
                                clf_graph_desc *out)
{
    const char *kind = binary_kind((const unsigned char *)text, len), *end = NULL;
    cJSON *root;
    clf_status st;

    memset(out, 0, sizeof *out);
    /* before parsing: cJSON skips NULs and control bytes as blanks, so a
     * safetensors file's JSON header can parse */
    if (kind) {
        CLF_LOG_ERROR("%s: not valid JSON: this is %s, not a Keras/TF.js model.json", what,
                      kind);
        return CLF_ERR_FORMAT;
    }
    root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        log_not_json(text, len, end, what);
        return CLF_ERR_FORMAT;
    }
    st = clf_keras_json_from_cjson(root, what, out);
    cJSON_Delete(root);
    return st;
}

clf_status clf_keras_json_read(const char *path, clf_graph_desc *out)
{
    char *text;
    size_t len;
    clf_status st = clf_file_read_all(path, CLF_KERAS_JSON_MAX_BYTES, &text, &len);

    memset(out, 0, sizeof *out);
    if (st != CLF_OK)
        return st;
    st = clf_keras_json_parse(text, len, path, out);
    free(text);
    return st;
}
