/* Checkpoints: a model file plus optimizer state, fit position, history
 * and the run's settings, replaced atomically after every epoch. */
#include "io/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "io/file_read.h"
#include "io/json_num.h"
#include "io/keras_json.h"
#include "io/model_file.h"
#include "model/model_internal.h"

/* ---- training state ---- */

clf_status clf_train_state_add(clf_train_state *ts, const clf_epoch_logs *logs)
{
    if (ts->n_history == ts->cap_history) {
        int cap = ts->cap_history ? 2 * ts->cap_history : 16;
        clf_status st = clf_realloc_array((void **)&ts->history, (size_t)cap,
                                          sizeof *ts->history, "history");

        if (st != CLF_OK)
            return st;
        ts->cap_history = cap;
    }
    ts->history[ts->n_history++] = *logs;
    return CLF_OK;
}

void clf_train_state_free(clf_train_state *ts)
{
    free(ts->history);
    memset(ts, 0, sizeof *ts);
}

char *clf_checkpoint_path(const char *dir)
{
    return clf_path_join(dir, CLF_CKPT_FILE);
}

bool clf_checkpoint_exists(const char *dir)
{
    char *path = clf_checkpoint_path(dir);
    struct stat sb;
    bool yes = path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);

    free(path);
    return yes;
}

/* ---- JSON helpers: exact doubles and 64-bit counters ---- */

/* A double as a JSON number with 17 significant digits (reads back
 * exactly); null for NaN and infinities, which JSON lacks. */
static bool add_exact(cJSON *obj, const char *key, double v)
{
    char text[40];

    if (!isfinite(v))
        return cJSON_AddNullToObject(obj, key) != NULL;
    snprintf(text, sizeof text, "%.17g", v);
    return cJSON_AddRawToObject(obj, key, text) != NULL;
}

void clf_ckpt_slot_name(char *buf, size_t size, const char *tensor, const char *slot)
{
    snprintf(buf, size, "%s%s/%s", CLF_CKPT_OPT_PREFIX, tensor, slot);
}

/* ---- writing ---- */

static char *position_json(const clf_train_state *ts, uint64_t opt_step)
{
    const clf_fit_position *p = &ts->pos;
    cJSON *j = cJSON_CreateObject();
    char *text = NULL;

    if (j && cJSON_AddNumberToObject(j, "epoch", p->epoch) &&
        add_exact(j, "step", (double)p->step) && add_exact(j, "loss_sum", p->partial.loss_sum) &&
        add_exact(j, "correct", p->partial.correct) &&
        add_exact(j, "count", (double)p->partial.count) &&
        add_exact(j, "seconds", p->partial_seconds) &&
        clf_json_add_u64(j, "optimizer_step", opt_step))
        text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

static bool add_epoch(cJSON *arr, const clf_epoch_logs *e)
{
    cJSON *j = cJSON_CreateObject();
    bool ok = j && cJSON_AddNumberToObject(j, "epoch", e->epoch) &&
              add_exact(j, "steps", (double)e->steps) && add_exact(j, "loss", e->loss) &&
              add_exact(j, "accuracy", e->accuracy) &&
              add_exact(j, "val_loss", e->has_val ? e->val_loss : NAN) &&
              add_exact(j, "val_accuracy", e->has_val ? e->val_accuracy : NAN) &&
              cJSON_AddBoolToObject(j, "has_val", e->has_val) &&
              add_exact(j, "seconds", e->seconds);

    if (ok && cJSON_AddItemToArray(arr, j))
        return true;
    cJSON_Delete(j);
    return false;
}

static char *history_json(const clf_train_state *ts)
{
    cJSON *a = cJSON_CreateArray();
    char *text = NULL;
    bool ok = a != NULL;

    for (int i = 0; ok && i < ts->n_history; i++)
        ok = add_epoch(a, &ts->history[i]);
    if (ok)
        text = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return text;
}

/* The run's JSON entries. */
static clf_status put_state(clf_st_writer *w, clf_model *m, const clf_run_settings *rs,
                            const clf_train_state *ts)
{
    cJSON *sj = clf_ckpt_settings_json(rs);
    char *settings = sj ? cJSON_PrintUnformatted(sj) : NULL;
    char *pos = position_json(ts, clf_model_step(m)), *hist = history_json(ts);
    clf_status st = CLF_ERR_NOMEM;

    if (settings && pos && hist) {
        clf_st_writer_meta(w, CLF_CKPT_SETTINGS, settings);
        clf_st_writer_meta(w, CLF_CKPT_POSITION, pos);
        st = clf_st_writer_meta(w, CLF_CKPT_HISTORY, hist);
    } else {
        CLF_LOG_ERROR("checkpoint: out of memory");
    }
    cJSON_Delete(sj);
    cJSON_free(settings);
    cJSON_free(pos);
    cJSON_free(hist);
    return st;
}

static clf_status put_optimizer(clf_st_writer *w, clf_model *m)
{
    clf_status st = CLF_OK;

    for (size_t k = 0; st == CLF_OK && k < clf_model_tensor_count(m); k++) {
        clf_tensor_info ti;

        st = clf_model_tensor_info(m, k, &ti);
        for (int s = 0; st == CLF_OK && ti.trainable && s < clf_model_opt_slots(m); s++) {
            char name[CLF_PARAM_NAME_MAX + 32];
            float *v = clf_malloc_array(ti.count, sizeof *v, "optimizer state");

            st = v ? clf_model_opt_read(m, k, s, v, ti.count) : CLF_ERR_NOMEM;
            clf_ckpt_slot_name(name, sizeof name, ti.name, clf_model_opt_slot_name(m, s));
            if (st == CLF_OK)
                st = clf_st_writer_take_f32(w, name, ti.rank, ti.shape, v);
            else
                free(v);
        }
    }
    return st;
}

/* Creates dir when missing (one level). */
static clf_status ensure_dir(const char *dir)
{
    struct stat sb;

    if (mkdir(dir, 0777) == 0 || (errno == EEXIST && stat(dir, &sb) == 0 &&
                                  S_ISDIR(sb.st_mode)))
        return CLF_OK;
    CLF_LOG_ERROR("%s: cannot use as the checkpoint folder: %s", dir,
                  errno == EEXIST ? "a file of that name exists" : strerror(errno));
    return CLF_ERR_IO;
}

clf_status clf_checkpoint_save(const char *dir, clf_model *m, const clf_run_settings *rs,
                               const clf_train_state *ts)
{
    char *path = clf_checkpoint_path(dir);
    clf_st_writer w;
    clf_status st = path ? ensure_dir(dir) : CLF_ERR_NOMEM;

    if (st == CLF_OK && (!rs->class_names || rs->classes != clf_model_classes(m))) {
        CLF_LOG_ERROR("checkpoint: the run's settings need the %d class names",
                      clf_model_classes(m));
        st = CLF_ERR_ARG;
    }

    clf_st_writer_init(&w);
    if (st == CLF_OK)
        st = clf_mf_put_model(&w, m, "checkpoint", rs->class_names, rs->preprocess,
                              rs->base, NULL);
    if (st == CLF_OK)
        st = put_optimizer(&w, m);
    if (st == CLF_OK)
        st = put_state(&w, m, rs, ts);
    if (st == CLF_OK)
        st = clf_st_writer_save(&w, path);
    if (st != CLF_OK)
        CLF_LOG_ERROR("%s: the checkpoint was not written; the previous one, if any, is "
                      "kept", path ? path : dir);
    clf_st_writer_free(&w);
    free(path);
    return st;
}
