/* Resuming: a checkpoint read back into a freshly compiled model, after
 * checking that it comes from the same run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "io/checkpoint.h"
#include "io/json_num.h"
#include "io/model_file.h"
#include "model/model_internal.h"

static clf_status bad_entry(const char *what, const char *key, const char *expected)
{
    CLF_LOG_ERROR("%s: metadata \"%s\" %s", what, key, expected);
    return CLF_ERR_FORMAT;
}

static clf_status parse_position(const clf_st_file *f, clf_train_state *ts, uint64_t *opt)
{
    const char *text = clf_st_meta(f, CLF_CKPT_POSITION);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    clf_fit_position *p = &ts->pos;
    double epoch, step, count;
    bool ok = clf_json_get_count(j, "epoch", 1e9, &epoch) &&
              clf_json_get_count(j, "step", 1e15, &step) &&
              clf_json_get_double(j, "loss_sum", &p->partial.loss_sum) &&
              isfinite(p->partial.loss_sum) &&
              clf_json_get_count(j, "correct", 1e15, &p->partial.correct) &&
              clf_json_get_count(j, "count", 1e15, &count) &&
              clf_json_get_double(j, "seconds", &p->partial_seconds) && p->partial_seconds >= 0 &&
              clf_json_get_u64(j, "optimizer_step", opt);

    cJSON_Delete(j);
    if (!ok)
        return bad_entry(f->what, CLF_CKPT_POSITION, "is missing or malformed: expected "
                         "{\"epoch\", \"step\", \"loss_sum\", \"correct\", \"count\", "
                         "\"seconds\", \"optimizer_step\"} with whole numbers >= 0");
    p->epoch = (int)epoch;
    p->step = (size_t)step;
    p->partial.count = (size_t)count;
    return CLF_OK;
}

static bool parse_epoch(const cJSON *j, int index, clf_epoch_logs *e)
{
    double epoch, steps;
    bool ok = clf_json_get_count(j, "epoch", 1e9, &epoch) && epoch == index &&
              clf_json_get_count(j, "steps", 1e15, &steps) &&
              clf_json_get_double(j, "loss", &e->loss) &&
              clf_json_get_double(j, "accuracy", &e->accuracy) &&
              clf_json_get_double(j, "val_loss", &e->val_loss) &&
              clf_json_get_double(j, "val_accuracy", &e->val_accuracy) &&
              clf_json_get_double(j, "seconds", &e->seconds) &&
              cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "has_val"));

    e->epoch = index;
    e->steps = ok ? (size_t)steps : 0;
    e->has_val = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "has_val"));
    return ok;
}

/* One entry per finished epoch: as many as the position's epoch. */
static clf_status parse_history(const clf_st_file *f, clf_train_state *ts)
{
    const char *text = clf_st_meta(f, CLF_CKPT_HISTORY);
    cJSON *a = text ? cJSON_Parse(text) : NULL, *e;
    clf_status st = CLF_OK;
    int i = 0;

    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != ts->pos.epoch) {
        cJSON_Delete(a);
        CLF_LOG_ERROR("%s: metadata \"%s\" must list the %d finished epochs", f->what,
                      CLF_CKPT_HISTORY, ts->pos.epoch);
        return CLF_ERR_FORMAT;
    }
    cJSON_ArrayForEach(e, a) {
        clf_epoch_logs logs = {0};

        if (!parse_epoch(e, i, &logs)) {
            CLF_LOG_ERROR("%s: entry %d of metadata \"%s\" is malformed", f->what, i,
                          CLF_CKPT_HISTORY);
            st = CLF_ERR_FORMAT;
            break;
        }
        st = clf_train_state_add(ts, &logs);
        if (st != CLF_OK)
            break;
        i++;
    }
    cJSON_Delete(a);
    return st;
}

/* ---- optimizer state ---- */

/* Every state tensor the model's optimizer keeps, of its tensor's shape,
 * and no others. */
static clf_status check_optimizer(const clf_st_file *f, const clf_model *m)
{
    size_t want = 0, have = 0, plen = strlen(CLF_CKPT_OPT_PREFIX);

    for (size_t k = 0; k < clf_model_tensor_count(m); k++) {
        clf_tensor_info ti;
        char name[CLF_PARAM_NAME_MAX + 32];

        clf_model_tensor_info(m, k, &ti);
        for (int s = 0; ti.trainable && s < clf_model_opt_slots(m); s++, want++) {
            const clf_st_tensor *t;

            clf_ckpt_slot_name(name, sizeof name, ti.name, clf_model_opt_slot_name(m, s));
            t = clf_st_find(f, name);
            if (!t || t->dtype != CLF_ST_F32 || t->count != ti.count) {
                CLF_LOG_ERROR("%s: optimizer state '%s' is %s; expected F32 with %zu values "
                              "like tensor '%s'", f->what, name, t ? "of another size"
                              : "missing", ti.count, ti.name);
                return CLF_ERR_FORMAT;
            }
        }
    }
    for (int i = 0; i < f->n; i++)
        have += strncmp(f->tensors[i].name, CLF_CKPT_OPT_PREFIX, plen) == 0;
    if (have != want) {
        CLF_LOG_ERROR("%s: %zu optimizer state tensors; this run's optimizer keeps %zu",
                      f->what, have, want);
        return CLF_ERR_FORMAT;
    }
    return CLF_OK;
}

static clf_status load_optimizer(const clf_st_file *f, clf_model *m)
{
    clf_status st = CLF_OK;

    for (size_t k = 0; st == CLF_OK && k < clf_model_tensor_count(m); k++) {
        clf_tensor_info ti;

        st = clf_model_tensor_info(m, k, &ti);
        for (int s = 0; st == CLF_OK && ti.trainable && s < clf_model_opt_slots(m); s++) {
            char name[CLF_PARAM_NAME_MAX + 32];
            float *v = clf_malloc_array(ti.count, sizeof *v, "optimizer state");

            clf_ckpt_slot_name(name, sizeof name, ti.name, clf_model_opt_slot_name(m, s));
            st = v ? clf_st_get_f32(f, clf_st_find(f, name), v, ti.count) : CLF_ERR_NOMEM;
            if (st == CLF_OK)
                st = clf_model_opt_write(m, k, s, v, ti.count);
            free(v);
        }
    }
    return st;
}

/* ---- the whole ---- */

/* Everything that can be checked before the model is touched. */
static clf_status check_all(const clf_st_file *f, const clf_model *m,
                            const clf_run_settings *rs, clf_train_state *ts, uint64_t *opt)
{
    const char *settings = clf_st_meta(f, CLF_CKPT_SETTINGS);
    clf_status st = clf_mf_check_kind(f, "checkpoint");

    if (st == CLF_OK && !settings)
        st = bad_entry(f->what, CLF_CKPT_SETTINGS, "is missing");
    if (st == CLF_OK)
        st = clf_ckpt_settings_compare(settings, rs, f->what);
    if (st == CLF_OK)
        st = clf_mf_same_model(f, m);
    if (st == CLF_OK)
        st = clf_mf_check_weights(f, m, CLF_CKPT_OPT_PREFIX);
    if (st == CLF_OK)
        st = check_optimizer(f, m);
    if (st == CLF_OK)
        st = parse_position(f, ts, opt);
    if (st == CLF_OK)
        st = parse_history(f, ts);
    return st;
}

clf_status clf_checkpoint_check_settings(const char *dir, const clf_run_settings *rs)
{
    char *path = clf_checkpoint_path(dir);
    clf_st_file f = {0};
    clf_status st = path ? clf_st_read(path, &f) : CLF_ERR_NOMEM;
    const char *settings = NULL;

    if (st == CLF_OK)
        st = clf_mf_check_kind(&f, "checkpoint");
    if (st == CLF_OK && !(settings = clf_st_meta(&f, CLF_CKPT_SETTINGS)))
        st = bad_entry(f.what, CLF_CKPT_SETTINGS, "is missing");
    if (st == CLF_OK)
        st = clf_ckpt_settings_compare(settings, rs, f.what);
    clf_st_free(&f);
    free(path);
    return st;
}

clf_status clf_checkpoint_load(const char *dir, clf_model *m, const clf_run_settings *rs,
                               clf_train_state *ts)
{
    char *path = clf_checkpoint_path(dir);
    clf_st_file f = {0};
    uint64_t opt = 0;
    clf_status st = path ? clf_st_read(path, &f) : CLF_ERR_NOMEM;

    memset(ts, 0, sizeof *ts);
    if (st == CLF_OK && !m->ready) {
        CLF_LOG_ERROR("checkpoint: compile the model before loading a checkpoint into it");
        st = CLF_ERR_ARG;
    }
    if (st == CLF_OK)
        st = check_all(&f, m, rs, ts, &opt);
    if (st == CLF_OK)
        st = clf_mf_load_weights(&f, m);
    if (st == CLF_OK)
        st = load_optimizer(&f, m);
    if (st == CLF_OK)
        clf_model_set_step(m, opt);
    else
        clf_train_state_free(ts);
    clf_st_free(&f);
    free(path);
    return st;
}
