/* Models in safetensors files: metadata and tensors out, checked back in. */
#include "io/model_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "io/json_num.h"
#include "io/keras_json.h"
#include "model/model_internal.h"

const char *clf_mf_shape_str(const size_t *shape, int rank, char *buf, size_t size)
{
    size_t at = (size_t)snprintf(buf, size, "[");

    for (int i = 0; i < rank && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%zu", i ? ", " : "", shape[i]);
    if (at < size)
        snprintf(buf + at, size - at, "]");
    return buf;
}

/* ---- writing ---- */

/* JSON text of a cJSON item (deleted here); NULL when out of memory. */
static char *print_and_delete(cJSON *item)
{
    char *text = item ? cJSON_PrintUnformatted(item) : NULL;

    cJSON_Delete(item);
    if (!text)
        CLF_LOG_ERROR("model file: out of memory");
    return text;
}

static char *input_json(const clf_model *m)
{
    const clf_layer_desc *in = &clf_model_desc(m)->layers[0];
    cJSON *o = cJSON_CreateObject();
    int h, w;

    clf_model_input_size(m, &h, &w);
    if (o && (!cJSON_AddNumberToObject(o, "height", h) ||
              !cJSON_AddNumberToObject(o, "width", w) ||
              !cJSON_AddNumberToObject(o, "channels", 3) ||
              !cJSON_AddStringToObject(o, "layout", in->channels_first ? "channels_first"
                                                                        : "channels_last"))) {
        cJSON_Delete(o);
        o = NULL;
    }
    return print_and_delete(o);
}

static char *classes_json(const char *const *names, int n)
{
    cJSON *a = cJSON_CreateArray();

    for (int i = 0; a && i < n; i++)
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(names[i]))) {
            cJSON_Delete(a);
            a = NULL;
        }
    return print_and_delete(a);
}

/* {"fractions":[0.7,0.2,0.1],"seed":"20","images":3000}; the seed as a
 * string, as JSON numbers lose 64-bit integers. */
static char *split_json(const clf_split_record *s)
{
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "fractions");
    bool ok = a != NULL;

    for (int i = 0; ok && i < s->n; i++)
        ok = cJSON_AddItemToArray(a, cJSON_CreateNumber(s->fractions[i]));
    if (!ok || !clf_json_add_u64(o, "seed", s->seed) ||
        !cJSON_AddNumberToObject(o, "images", (double)s->images)) {
        cJSON_Delete(o);
        o = NULL;
    }
    return print_and_delete(o);
}

/* Each metadata value; the JSON ones are made here. */
static clf_status put_meta(clf_st_writer *w, const clf_model *m, const char *kind,
                           const char *const *class_names, clf_preprocess pre,
                           const char *base, const clf_split_record *split)
{
    char *split_text = split ? split_json(split) : NULL;

    char version[16], *config = NULL, *input = input_json(m);
    char *classes = classes_json(class_names, clf_model_classes(m));
    clf_status st = clf_keras_json_write(clf_model_desc(m), &config);

    snprintf(version, sizeof version, "%d", CLF_MODEL_FORMAT_VERSION);
    if (st == CLF_OK && (!input || !classes || (split && !split_text)))
        st = CLF_ERR_NOMEM;
    if (st == CLF_OK && !clf_preprocess_name(pre)) {
        CLF_LOG_ERROR("model file: unknown preprocessing mode %d", (int)pre);
        st = CLF_ERR_ARG;
    }
    if (st == CLF_OK) {
        clf_st_writer_meta(w, CLF_MF_FORMAT, kind);
        clf_st_writer_meta(w, CLF_MF_VERSION, version);
        clf_st_writer_meta(w, CLF_MF_CONFIG, config);
        clf_st_writer_meta(w, CLF_MF_INPUT, input);
        clf_st_writer_meta(w, CLF_MF_CLASSES, classes);
        clf_st_writer_meta(w, CLF_MF_PREPROCESS, clf_preprocess_name(pre));
        st = clf_st_writer_meta(w, CLF_MF_BASE, base ? base : "");
        if (st == CLF_OK && split_text)
            st = clf_st_writer_meta(w, CLF_MF_SPLIT, split_text);
    }
    cJSON_free(split_text);
    free(config);
    cJSON_free(input);
    cJSON_free(classes);
    return st != CLF_OK ? st : w->error;
}

/* Tensor k of m, read from wherever it lives, finite. */
static clf_status put_tensor(clf_st_writer *w, clf_model *m, size_t k)
{
    clf_tensor_info ti;
    float *v;
    clf_status st = clf_model_tensor_info(m, k, &ti);

    if (st != CLF_OK)
        return st;
    v = clf_malloc_array(ti.count, sizeof *v, ti.name);
    if (!v)
        return CLF_ERR_NOMEM;
    st = clf_model_tensor_read(m, k, v, ti.count);
    for (size_t i = 0; st == CLF_OK && i < ti.count; i++)
        if (!isfinite(v[i])) {
            CLF_LOG_ERROR("model file: value %zu of tensor %s is %s; a model with "
                          "non-finite weights cannot be saved (lower the learning rate?)", i,
                          ti.name, isnan(v[i]) ? "NaN" : "infinite");
            st = CLF_ERR_ARG;
        }
    if (st != CLF_OK) {
        free(v);
        return st;
    }
    return clf_st_writer_take_f32(w, ti.name, ti.rank, ti.shape, v);
}

clf_status clf_mf_put_model(clf_st_writer *w, clf_model *m, const char *kind,
                            const char *const *class_names, clf_preprocess pre,
                            const char *base, const clf_split_record *split)
{
    clf_status st = put_meta(w, m, kind, class_names, pre, base, split);

    for (size_t k = 0; st == CLF_OK && k < clf_model_tensor_count(m); k++)
        st = put_tensor(w, m, k);
    return st;
}

clf_status clf_model_save(clf_model *m, const char *path, const char *const *class_names,
                          clf_preprocess pre, const char *base)
{
    return clf_model_save_split(m, path, class_names, pre, base, NULL);
}

clf_status clf_model_save_split(clf_model *m, const char *path,
                                const char *const *class_names, clf_preprocess pre,
                                const char *base, const clf_split_record *split)
{
    clf_st_writer w;
    clf_status st;

    if (!m || !path || !class_names || (split && (split->n < 1 || split->n > 3))) {
        CLF_LOG_ERROR("model save: a model, a path and class names are needed (and a split "
                      "of 1 to 3 fractions)");
        return CLF_ERR_ARG;
    }
    clf_st_writer_init(&w);
    st = clf_mf_put_model(&w, m, "model", class_names, pre, base, split);
    if (st == CLF_OK)
        st = clf_st_writer_save(&w, path);
    clf_st_writer_free(&w);
    if (st != CLF_OK)
        CLF_LOG_ERROR("%s: the model was not saved", path);
    return st;
}

/* ---- reading ---- */

/* A metadata entry that must be there. */
static const char *need_meta(const clf_st_file *f, const char *key)
{
    const char *v = clf_st_meta(f, key);

    if (!v)
        CLF_LOG_ERROR("%s: metadata entry \"%s\" is missing; it is not a complete clfit "
                      "file", f->what, key);
    return v;
}

clf_status clf_mf_check_kind(const clf_st_file *f, const char *kind)
{
    const char *got = clf_st_meta(f, CLF_MF_FORMAT), *ver;
    char *end;
    long v;

    if (!got || !clf_st_meta(f, CLF_MF_CONFIG)) {
        CLF_LOG_ERROR("%s: a safetensors file, but not one clfit wrote (its metadata has no "
                      "%s and %s); clfit loads only its own model files", f->what,
                      CLF_MF_FORMAT, CLF_MF_CONFIG);
        return CLF_ERR_FORMAT;
    }
    if (clf_st_check_crc(f) != CLF_OK)
        return CLF_ERR_FORMAT;
    if (strcmp(got, kind) != 0) {
        CLF_LOG_ERROR("%s: a clfit %s file, where a %s file was expected", f->what, got,
                      kind);
        return CLF_ERR_FORMAT;
    }
    ver = need_meta(f, CLF_MF_VERSION);
    if (!ver)
        return CLF_ERR_FORMAT;
    v = strtol(ver, &end, 10);
    if (!*end && end != ver && v > CLF_MODEL_FORMAT_VERSION) {
        CLF_LOG_ERROR("%s: format version \"%s\" is newer than this clfit, which reads "
                      "versions 1 to %d: a newer clfit wrote it; load it with that one",
                      f->what, ver, CLF_MODEL_FORMAT_VERSION);
        return CLF_ERR_UNSUPPORTED;
    }
    if (*end || end == ver || v < 1) {
        CLF_LOG_ERROR("%s: unsupported format version \"%s\" in metadata \"%s\"; this clfit "
                      "reads versions 1 to %d (is the file damaged or edited?)", f->what, ver,
                      CLF_MF_VERSION, CLF_MODEL_FORMAT_VERSION);
        return CLF_ERR_FORMAT;
    }
    return CLF_OK;
}

/* clfit.input: sizes and layout; *chw is the layout. */
static clf_status parse_input(const clf_st_file *f, int *h, int *w, bool *chw)
{
    const char *text = need_meta(f, CLF_MF_INPUT);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    const cJSON *hv = cJSON_GetObjectItemCaseSensitive(o, "height");
    const cJSON *wv = cJSON_GetObjectItemCaseSensitive(o, "width");
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(o, "channels");
    const char *layout = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "layout"));
    bool ok = cJSON_IsNumber(hv) && cJSON_IsNumber(wv) && cJSON_IsNumber(cv) && layout &&
              (!strcmp(layout, "channels_first") || !strcmp(layout, "channels_last")) &&
              hv->valuedouble >= 1 && hv->valuedouble <= CLF_MAX_DIM &&
              wv->valuedouble >= 1 && wv->valuedouble <= CLF_MAX_DIM && cv->valuedouble == 3;

    if (ok) {
        *h = (int)hv->valuedouble;
        *w = (int)wv->valuedouble;
        *chw = strcmp(layout, "channels_first") == 0;
    } else if (text) {
        CLF_LOG_ERROR("%s: metadata \"%s\" is '%.200s'; expected {\"height\": H, \"width\": "
                      "W, \"channels\": 3, \"layout\": \"channels_first\" or "
                      "\"channels_last\"}", f->what, CLF_MF_INPUT, text);
    }
    cJSON_Delete(o);
    return ok ? CLF_OK : CLF_ERR_FORMAT;
}

/* The config's input layer must be the image clfit.input describes. */
static clf_status apply_input(const clf_st_file *f, clf_graph_desc *g)
{
    clf_layer_desc *in = &g->layers[0];
    int h, w, want[3];
    bool chw;
    clf_status st = parse_input(f, &h, &w, &chw);

    if (st != CLF_OK)
        return st;
    want[0] = chw ? 3 : h, want[1] = chw ? h : w, want[2] = chw ? w : 3;
    if (in->kind != CLF_LAYER_INPUT || in->input_rank != 3 ||
        memcmp(in->input_shape, want, sizeof want) != 0) {
        CLF_LOG_ERROR("%s: the config's input layer '%s' has shape (%d, %d, %d) of rank %d; "
                      "metadata \"%s\" says (%d, %d, %d)", f->what, in->name,
                      in->input_shape[0], in->input_shape[1], in->input_shape[2],
                      in->input_rank, CLF_MF_INPUT, want[0], want[1], want[2]);
        return CLF_ERR_FORMAT;
    }
    in->channels_first = chw;
    return CLF_OK;
}

clf_status clf_mf_build(const clf_st_file *f, clf_model **out)
{
    const char *config = need_meta(f, CLF_MF_CONFIG);
    clf_graph_desc g = {0};
    clf_status st;

    *out = NULL;
    if (!config)
        return CLF_ERR_FORMAT;
    st = clf_keras_json_parse(config, strlen(config), f->what, &g);
    if (st == CLF_OK)
        st = apply_input(f, &g);
    if (st == CLF_OK)
        st = clf_model_from_desc(&g, 0, out);
    if (st != CLF_OK)
        CLF_LOG_ERROR("%s: the model config in metadata \"%s\" cannot be built", f->what,
                      CLF_MF_CONFIG);
    clf_graph_desc_free(&g);
    return st;
}

clf_status clf_mf_same_model(const clf_st_file *f, const clf_model *m)
{
    const char *config = need_meta(f, CLF_MF_CONFIG), *input = need_meta(f, CLF_MF_INPUT);
    char *want = NULL, *want_input = input_json(m);
    clf_status st = clf_keras_json_write(clf_model_desc(m), &want);

    if (st == CLF_OK && !want_input)
        st = CLF_ERR_NOMEM;
    if (st == CLF_OK && (!config || !input || strcmp(config, want) != 0 ||
                         strcmp(input, want_input) != 0)) {
        CLF_LOG_ERROR("%s: its model differs from this run's (metadata \"%s\" or \"%s\"); "
                      "was the --model file changed?", f->what, CLF_MF_CONFIG, CLF_MF_INPUT);
        st = CLF_ERR_ARG;
    }
    free(want);
    cJSON_free(want_input);
    return st;
}

/* ---- the tensors ---- */

static clf_status check_one(const clf_st_file *f, const clf_tensor_info *ti)
{
    const clf_st_tensor *t = clf_st_find(f, ti->name);
    size_t want[CLF_TENSOR_RANK_MAX];
    char a[96], b[96];
    bool same;

    for (int i = 0; i < ti->rank; i++)
        want[i] = (size_t)ti->shape[i];
    clf_mf_shape_str(want, ti->rank, b, sizeof b);
    if (!t) {
        CLF_LOG_ERROR("%s: tensor '%s' is missing; the model config needs it, F32 %s",
                      f->what, ti->name, b);
        return CLF_ERR_FORMAT;
    }
    same = t->rank == ti->rank && memcmp(t->shape, want, (size_t)ti->rank * sizeof *want) == 0;
    if (t->dtype != CLF_ST_F32 || !same) {
        CLF_LOG_ERROR("%s: tensor '%s' is %s %s; the model config needs F32 %s", f->what,
                      ti->name, clf_st_dtype_name(t->dtype),
                      clf_mf_shape_str(t->shape, t->rank, a, sizeof a), b);
        return same ? CLF_ERR_FORMAT : CLF_ERR_SHAPE;
    }
    return CLF_OK;
}

/* Tensors in the file that are neither the model's nor allowed extras. */
static clf_status check_extras(const clf_st_file *f, const clf_model *m, const char *prefix)
{
    size_t k, plen = prefix ? strlen(prefix) : 0;

    for (int i = 0; i < f->n; i++) {
        const char *name = f->tensors[i].name;

        if (prefix && strncmp(name, prefix, plen) == 0)
            continue;
        if (clf_model_tensor_find(m, name, &k) != CLF_OK) {
            CLF_LOG_ERROR("%s: tensor '%s' is not part of the model its config describes "
                          "(a file from another model, or an edited config?)", f->what, name);
            return CLF_ERR_FORMAT;
        }
    }
    return CLF_OK;
}

clf_status clf_mf_check_weights(const clf_st_file *f, const clf_model *m,
                                const char *extra_prefix)
{
    clf_status first = CLF_OK;

    for (size_t k = 0; k < clf_model_tensor_count(m); k++) {
        clf_tensor_info ti;
        clf_status st = clf_model_tensor_info(m, k, &ti);

        if (st == CLF_OK)
            st = check_one(f, &ti);
        if (first == CLF_OK)
            first = st;
    }
    return first != CLF_OK ? first : check_extras(f, m, extra_prefix);
}

clf_status clf_mf_load_weights(const clf_st_file *f, clf_model *m)
{
    clf_status st = CLF_OK;

    for (size_t k = 0; st == CLF_OK && k < clf_model_tensor_count(m); k++) {
        clf_tensor_info ti;
        float *v = NULL;

        st = clf_model_tensor_info(m, k, &ti);
        if (st == CLF_OK) {
            v = clf_malloc_array(ti.count, sizeof *v, ti.name);
            st = v ? clf_st_get_f32(f, clf_st_find(f, ti.name), v, ti.count) : CLF_ERR_NOMEM;
        }
        if (st == CLF_OK)
            st = clf_model_tensor_write(m, k, v, ti.count);
        free(v);
    }
    return st;
}

/* ---- the rest of the metadata ---- */

static clf_status parse_classes(const clf_st_file *f, int classes, clf_model_info *info)
{
    const char *text = need_meta(f, CLF_MF_CLASSES);
    cJSON *a = text ? cJSON_Parse(text) : NULL;
    const cJSON *v;
    int n = 0;

    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != classes) {
        if (text)
            CLF_LOG_ERROR("%s: metadata \"%s\" must be a JSON array of %d class names (the "
                          "model's output has %d classes); it is '%.200s'", f->what,
                          CLF_MF_CLASSES, classes, classes, text);
        cJSON_Delete(a);
        return CLF_ERR_FORMAT;
    }
    info->class_names = clf_calloc_array((size_t)classes, sizeof(char *), "class names");
    cJSON_ArrayForEach(v, a) {
        if (!info->class_names)
            break;
        if (!cJSON_IsString(v) || strlen(v->valuestring) > CLF_MF_MAX_NAME) {
            CLF_LOG_ERROR("%s: class name %d in \"%s\" is not a string of at most %d bytes",
                          f->what, n, CLF_MF_CLASSES, CLF_MF_MAX_NAME);
            break;
        }
        info->class_names[n] = clf_strdup(v->valuestring);
        if (!info->class_names[n++])
            break;
    }
    info->classes = n;
    cJSON_Delete(a);
    return n == classes ? CLF_OK : CLF_ERR_FORMAT;
}

/* The optional training split; an entry that is there must be whole. */
static clf_status parse_split(const clf_st_file *f, clf_model_info *info)
{
    const char *text = clf_st_meta(f, CLF_MF_SPLIT);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "fractions"), *v;
    clf_split_record *s = &info->split;
    double images = 0;
    bool ok = cJSON_IsArray(a) && cJSON_GetArraySize(a) >= 1 && cJSON_GetArraySize(a) <= 3 &&
              clf_json_get_u64(o, "seed", &s->seed) &&
              clf_json_get_count(o, "images", 1e15, &images);

    if (!text)
        return CLF_OK;
    s->n = 0;
    if (ok)
        cJSON_ArrayForEach(v, a) {
            ok = ok && cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1;
            if (ok)
                s->fractions[s->n++] = v->valuedouble;
        }
    cJSON_Delete(o);
    if (!ok) {
        CLF_LOG_ERROR("%s: metadata \"%s\" must be {\"fractions\": 1 to 3 numbers in [0, 1], "
                      "\"seed\": a whole number, \"images\": a count}; it is '%.200s'",
                      f->what, CLF_MF_SPLIT, text);
        return CLF_ERR_FORMAT;
    }
    s->images = (size_t)images;
    info->has_split = true;
    return CLF_OK;
}

clf_status clf_mf_info(const clf_st_file *f, const clf_model *m, clf_model_info *info)
{
    const char *pre = need_meta(f, CLF_MF_PREPROCESS), *base = clf_st_meta(f, CLF_MF_BASE);
    clf_status st;

    memset(info, 0, sizeof *info);
    info->format_version = atoi(clf_st_meta(f, CLF_MF_VERSION) ? clf_st_meta(f, CLF_MF_VERSION)
                                                                : "0");
    clf_model_input_size(m, &info->height, &info->width);
    st = parse_classes(f, clf_model_classes(m), info);
    if (st == CLF_OK && (!pre || clf_preprocess_parse(pre, &info->preprocess) != CLF_OK)) {
        CLF_LOG_ERROR("%s: metadata \"%s\" must be unit, symmetric or none", f->what,
                      CLF_MF_PREPROCESS);
        st = CLF_ERR_FORMAT;
    }
    if (st == CLF_OK) {
        info->base = clf_strdup(base ? base : "");
        st = info->base ? CLF_OK : CLF_ERR_NOMEM;
    }
    if (st == CLF_OK)
        st = parse_split(f, info);
    if (st != CLF_OK)
        clf_model_info_free(info);
    return st;
}

void clf_model_info_free(clf_model_info *info)
{
    if (!info)
        return;
    for (int i = 0; info->class_names && i < info->classes; i++)
        free(info->class_names[i]);
    free(info->class_names);
    free(info->base);
    memset(info, 0, sizeof *info);
}

clf_status clf_mf_load_parsed(const clf_st_file *f, clf_model **out, clf_model_info *info)
{
    clf_model_info local;
    clf_status st;

    *out = NULL;
    if (info)
        memset(info, 0, sizeof *info);
    st = clf_mf_check_kind(f, "model");
    if (st == CLF_OK)
        st = clf_mf_build(f, out);
    if (st == CLF_OK)
        st = clf_mf_check_weights(f, *out, NULL);
    if (st == CLF_OK)
        st = clf_mf_info(f, *out, info ? info : &local);
    if (st == CLF_OK && !info)
        clf_model_info_free(&local);
    if (st == CLF_OK)
        st = clf_mf_load_weights(f, *out);
    if (st != CLF_OK) {
        clf_model_free(*out);
        *out = NULL;
        if (info)
            clf_model_info_free(info);
    }
    return st;
}

clf_status clf_model_load(const char *path, clf_model **out, clf_model_info *info)
{
    clf_st_file f;
    clf_status st;

    *out = NULL;
    if (info)
        memset(info, 0, sizeof *info);
    st = clf_st_read(path, &f);
    if (st == CLF_OK)
        st = clf_mf_load_parsed(&f, out, info);
    clf_st_free(&f);
    return st;
}
