/* A run's settings as JSON, and the comparison that lets --resume refuse a
 * run that is not the one the checkpoint came from. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "io/checkpoint.h"

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *optimizer_json(const clf_optimizer *o)
{
    cJSON *j = cJSON_CreateObject();
    bool adam = o->kind == CLF_OPT_ADAM;
    bool ok = j && cJSON_AddStringToObject(j, "name", adam ? "adam" : "sgd") &&
              cJSON_AddNumberToObject(j, "learning_rate", o->learning_rate);

    if (ok && adam)
        ok = cJSON_AddNumberToObject(j, "beta_1", o->beta1) &&
             cJSON_AddNumberToObject(j, "beta_2", o->beta2) &&
             cJSON_AddNumberToObject(j, "epsilon", o->epsilon);
    else if (ok)
        ok = cJSON_AddNumberToObject(j, "momentum", o->momentum) &&
             cJSON_AddBoolToObject(j, "nesterov", o->nesterov);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* The folder as an absolute path without links, so "data" and
 * "./data/" compare equal; as given when it cannot be resolved. */
static cJSON *folder_json(const char *dir)
{
    char *real = dir ? realpath(dir, NULL) : NULL;
    cJSON *j = str_or_null(real ? real : dir);

    free(real);
    return j;
}

static bool add(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return false;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

cJSON *clf_ckpt_settings_json(const clf_run_settings *rs)
{
    cJSON *j = cJSON_CreateObject();
    int size[2] = {rs->height, rs->width};
    char seed[32];
    bool ok;

    snprintf(seed, sizeof seed, "%llu", (unsigned long long)rs->seed);
    ok = j && add(j, "data_dir", folder_json(rs->data_dir)) &&
         add(j, "model", str_or_null(rs->model_spec)) && add(j, "base", str_or_null(rs->base)) &&
         add(j, "base_layer", str_or_null(rs->base_layer)) &&
         add(j, "image_size", cJSON_CreateIntArray(size, 2)) &&
         add(j, "batch_size", cJSON_CreateNumber(rs->batch_size)) &&
         add(j, "split", cJSON_CreateDoubleArray(rs->split, rs->n_split)) &&
         add(j, "optimizer", optimizer_json(&rs->optimizer)) &&
         add(j, "preprocess", str_or_null(clf_preprocess_name(rs->preprocess))) &&
         add(j, "seed", cJSON_CreateString(seed)) &&
         add(j, "images", cJSON_CreateNumber((double)rs->images)) &&
         add(j, "class_names", rs->class_names
                                   ? cJSON_CreateStringArray(rs->class_names, rs->classes)
                                   : cJSON_CreateArray()); /* not known yet */
    if (!ok) {
        CLF_LOG_ERROR("checkpoint: out of memory describing the run's settings");
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* Which flag sets each entry, for the message. */
static const struct {
    const char *key, *flag;
} flags[] = {
    {"data_dir", "DATA_DIR"},
    {"model", "--model"},
    {"base", "--base"},
    {"base_layer", "--base-layer"},
    {"image_size", "--image-size"},
    {"batch_size", "--batch-size"},
    {"split", "--split"},
    {"optimizer", "--optimizer / --learning-rate"},
    {"preprocess", "--preprocess"},
    {"seed", "--seed"},
    {"images", "the images found in DATA_DIR"},
    {"class_names", "the class folders in DATA_DIR"},
};

/* j as text with every number at float precision: the settings hold
 * floats, and 0.0010000000474974513 reads worse than 0.001. */
static char *print_rounded(const cJSON *j)
{
    cJSON *copy = j ? cJSON_Duplicate(j, true) : NULL;
    char num[32], *text;

    if (!copy)
        return NULL;
    for (cJSON *it = cJSON_IsObject(copy) ? copy->child : NULL; it; it = it->next)
        if (cJSON_IsNumber(it)) {
            snprintf(num, sizeof num, "%.7g", it->valuedouble);
            cJSON_SetNumberValue(it, strtod(num, NULL));
        }
    text = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    return text;
}

/* One entry; logs and returns false when the two differ. */
static bool same_entry(const cJSON *stored, const cJSON *now, const char *key,
                       const char *flag, const char *what)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(stored, key);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(now, key);
    char *ta, *tb;

    if (a && b && cJSON_Compare(a, b, true))
        return true;
    ta = print_rounded(a);
    tb = print_rounded(b);
    CLF_LOG_ERROR("%s: %s differs: the checkpoint's run had %.300s, this run has %.300s",
                  what, flag, ta ? ta : "(nothing)", tb ? tb : "(nothing)");
    cJSON_free(ta);
    cJSON_free(tb);
    return false;
}

clf_status clf_ckpt_settings_compare(const char *stored, const clf_run_settings *rs,
                                     const char *what)
{
    cJSON *a = cJSON_Parse(stored), *b = clf_ckpt_settings_json(rs);
    int differ = 0;

    if (!cJSON_IsObject(a) || !b) {
        if (b)
            CLF_LOG_ERROR("%s: metadata \"%s\" is not a JSON object", what,
                          CLF_CKPT_SETTINGS);
        cJSON_Delete(a);
        cJSON_Delete(b);
        return b ? CLF_ERR_FORMAT : CLF_ERR_NOMEM;
    }
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        bool needs_images = !strcmp(flags[i].key, "images") ||
                            !strcmp(flags[i].key, "class_names") ||
                            !strcmp(flags[i].key, "batch_size"); /* lowered for small sets */

        if (!needs_images || rs->class_names)
            differ += !same_entry(a, b, flags[i].key, flags[i].flag, what);
    }
    if (differ)
        CLF_LOG_ERROR("%s: the checkpoint comes from a run with other settings (%d "
                      "difference%s above); resume with the same settings, or start a new "
                      "run without --resume (or with another --checkpoint-dir)", what, differ,
                      differ > 1 ? "s" : "");
    cJSON_Delete(a);
    cJSON_Delete(b);
    return differ ? CLF_ERR_ARG : CLF_OK;
}
