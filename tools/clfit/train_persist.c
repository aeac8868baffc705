/* --save, --checkpoint-dir, --resume, --log and --plot for clfit train. */
#include "train_persist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clfit/log.h"
#include "clfit/plot.h"

#include "args.h"

bool persist_set_option(persist_opts *o, int c, const char *v)
{
    switch (c) {
    case PERSIST_OPT_SAVE: o->save = v; return true;
    case PERSIST_OPT_CKPT: o->checkpoint_dir = v; return true;
    case PERSIST_OPT_RESUME: o->resume = true; return true;
    case PERSIST_OPT_LOG: o->log = v; return true;
    case PERSIST_OPT_PLOT: o->plot = v; return true;
    default: return false;
    }
}

static clf_status check_places(const persist_opts *o)
{
    bool ok = !o->save || writable_place("--save", o->save, false);

    ok &= !o->log || writable_place("--log", o->log, false);
    ok &= !o->plot || writable_place("--plot", o->plot, false);
    ok &= !o->checkpoint_dir || writable_place("--checkpoint-dir", o->checkpoint_dir, true);
    return ok ? CLF_OK : CLF_ERR_IO;
}

/* Two outputs on one file, or an output inside the data folder (it would
 * overwrite an image or become a class folder), are refused up front. */
static bool outputs_apart(const persist_opts *o, const char *data_dir)
{
    const char *flag[4] = {"--save", "--log", "--plot", "--checkpoint-dir"};
    const char *given[4] = {o->save, o->log, o->plot, o->checkpoint_dir};
    char *path[4] = {NULL};
    bool ok = true;

    for (int i = 0; i < 4 && ok; i++) {
        if (!given[i])
            continue;
        path[i] = resolved_path(given[i]);
        for (int j = 0; j < i && path[i]; j++)
            if (path[j] && !strcmp(path[i], path[j])) {
                fprintf(stderr, "clfit: %s and %s both name %s; give each its own file\n",
                        flag[j], flag[i], path[i]);
                ok = false;
            }
        ok = ok && outside_data(flag[i], given[i], data_dir, i == 3);
    }
    for (int i = 0; i < 4; i++)
        free(path[i]);
    return ok;
}

/* No output may replace a file the run reads: the checkpoint it resumes
 * (or will write), the --base model.json or a weight shard beside it, a
 * --model head. */
static bool inputs_spared(const persist_opts *o, const char *base, const char *head)
{
    const char *flag[3] = {"--save", "--log", "--plot"};
    const char *given[3] = {o->save, o->log, o->plot};
    char *ckpt = o->checkpoint_dir ? clf_checkpoint_path(o->checkpoint_dir) : NULL;
    bool ok = !o->checkpoint_dir || ckpt;

    if (ckpt && access(ckpt, F_OK) == 0)
        ok = writable_place("--checkpoint-dir", ckpt, false);
    for (int i = 0; i < 3 && ok; i++) {
        if (!given[i])
            continue;
        ok = !ckpt || spares_input(flag[i], given[i], "the checkpoint file of --checkpoint-dir",
                                   ckpt); /* resumed, or about to be written */
        ok = ok && (!base || spares_input(flag[i], given[i], "--base", base));
        ok = ok && (!base || spares_folder_of(flag[i], given[i], "--base", base));
        ok = ok && (!head || spares_input(flag[i], given[i], "--model", head));
    }
    free(ckpt);
    return ok;
}

int persist_check(const persist_opts *o, const char *data_dir, const char *base,
                  const char *head)
{
    const char *empty = o->save && !*o->save ? "--save" : o->log && !*o->log ? "--log"
                      : o->plot && !*o->plot ? "--plot"
                      : o->checkpoint_dir && !*o->checkpoint_dir ? "--checkpoint-dir" : NULL;

    if (empty)
        return usage_error(empty, "needs a file or folder name, not an empty string");
    if (o->resume && !o->checkpoint_dir)
        return usage_error("--resume", "needs --checkpoint-dir DIR, the folder of the run to "
                                       "continue");
    if (o->resume && !clf_checkpoint_exists(o->checkpoint_dir)) {
        fprintf(stderr, "clfit: --resume: %s holds no checkpoint (checkpoint.safetensors) "
                        "yet; run without --resume to start training\n", o->checkpoint_dir);
        return 1;
    }
    /* an earlier run's checkpoint is kept unless the user says otherwise */
    if (!o->resume && o->checkpoint_dir && clf_checkpoint_exists(o->checkpoint_dir)) {
        fprintf(stderr, "clfit: --checkpoint-dir %s already holds a checkpoint of another run; "
                        "add --resume to continue it, or move it away (or choose another "
                        "folder) to start over\n", o->checkpoint_dir);
        return 1;
    }
    if (check_places(o) != CLF_OK || !outputs_apart(o, data_dir) ||
        !inputs_spared(o, base, head))
        return 1;
    return 0;
}

clf_status persist_data(persist *p, const clf_dataset *ds)
{
    int n = clf_dataset_classes(ds);

    p->names = calloc((size_t)n, sizeof *p->names);
    if (!p->names)
        return CLF_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        p->names[i] = clf_dataset_class_name(ds, i);
    p->rs.classes = n;
    p->rs.class_names = p->names;
    p->rs.images = clf_dataset_size(ds);
    return CLF_OK;
}

static void make_title(persist *p)
{
    const clf_run_settings *rs = &p->rs;
    const char *dir = rs->data_dir ? rs->data_dir : "", *slash;
    size_t len = strlen(dir);

    while (len > 1 && dir[len - 1] == '/')
        len--;
    for (slash = dir + len; slash > dir && slash[-1] != '/'; slash--)
        ;
    snprintf(p->title, sizeof p->title, "%.*s: %s%s, %dx%d, %s lr %g, batch %d",
             (int)(dir + len - slash), slash, rs->base ? "base + " : "",
             rs->model_spec ? rs->model_spec : "model", rs->height, rs->width,
             rs->optimizer.kind == CLF_OPT_ADAM ? "adam" : "sgd",
             (double)rs->optimizer.learning_rate, rs->batch_size);
}

/* After a checkpoint failed to load: a damaged or foreign one is in the
 * way; other settings (CLF_ERR_ARG) were named with their flags already. */
static void unusable_hint(const char *dir, clf_status st)
{
    if (st == CLF_ERR_FORMAT || st == CLF_ERR_IO || st == CLF_ERR_SHAPE)
        fprintf(stderr, "clfit: --resume: the checkpoint in %s cannot be used; move it away "
                        "and run without --resume to start over\n", dir);
}

clf_status persist_check_resume(const persist_opts *o, const clf_run_settings *rs)
{
    clf_status st;

    if (!o->resume)
        return CLF_OK;
    st = clf_checkpoint_check_settings(o->checkpoint_dir, rs);
    unusable_hint(o->checkpoint_dir, st);
    return st;
}

/* --resume: the checkpoint into the model, and where training goes on. */
static clf_status resume(persist *p, int epochs, size_t steps)
{
    const char *dir = p->o->checkpoint_dir;
    const clf_fit_position *pos = &p->ts.pos;
    clf_status st;

    st = clf_checkpoint_load(dir, p->model, &p->rs, &p->ts);
    if (st == CLF_OK && pos->step > steps) {
        CLF_LOG_ERROR("%s: the checkpoint is at step %zu of an epoch of %zu steps", dir,
                      pos->step, steps);
        st = CLF_ERR_FORMAT;
    }
    unusable_hint(dir, st);
    if (st != CLF_OK)
        return st;
    printf("Resuming from %s: %d epoch%s done", dir, pos->epoch, pos->epoch == 1 ? "" : "s");
    if (pos->step)
        printf(", epoch %d stopped after step %zu/%zu", pos->epoch + 1, pos->step, steps);
    printf(" (%llu optimizer steps).\n", (unsigned long long)clf_model_step(p->model));
    if (pos->epoch >= epochs)
        printf("The checkpoint has finished %d epochs; --epochs %d leaves nothing to "
               "train.\n", pos->epoch, epochs);
    return CLF_OK;
}

clf_status persist_begin(persist *p, const persist_opts *o, clf_model *m, int epochs,
                         size_t steps)
{
    clf_status st = CLF_OK;

    p->o = o;
    p->model = m;
    memset(&p->ts, 0, sizeof p->ts);
    make_title(p);
    if (o->resume)
        st = resume(p, epochs, steps);
    if (st == CLF_OK && o->log)
        st = clf_history_csv_start(o->log, p->ts.history, p->ts.n_history);
    return st;
}

/* A plot that fails is a warning, once: training matters more. */
static void plot(persist *p)
{
    if (!p->o->plot || p->plot_failed || p->ts.n_history == 0)
        return;
    if (clf_plot_history(p->o->plot, p->ts.history, p->ts.n_history, p->title) != CLF_OK) {
        fprintf(stderr, "clfit: warning: --plot %s could not be drawn (see above); training "
                        "goes on without it\n", p->o->plot);
        p->plot_failed = true;
    }
}

clf_status persist_epoch_end(persist *p, const clf_epoch_logs *logs)
{
    clf_status st = clf_train_state_add(&p->ts, logs);

    if (st == CLF_OK && p->o->checkpoint_dir)
        st = clf_checkpoint_save(p->o->checkpoint_dir, p->model, &p->rs, &p->ts);
    if (st == CLF_OK && p->o->log)
        st = clf_history_csv_append(p->o->log, logs);
    if (st == CLF_OK)
        plot(p);
    return st;
}

void persist_interrupted(persist *p, int epochs, size_t steps)
{
    const clf_fit_position *pos = &p->ts.pos;

    if (!p->o->checkpoint_dir) {
        printf("Interrupted at epoch %d/%d, step %zu/%zu; nothing saved (no "
               "--checkpoint-dir).\n", pos->epoch + 1, epochs, pos->step, steps);
        return;
    }
    if (clf_checkpoint_save(p->o->checkpoint_dir, p->model, &p->rs, &p->ts) != CLF_OK)
        return;
    printf("Interrupted at epoch %d/%d, step %zu/%zu: checkpoint written to %s; run the "
           "same command with --resume to continue.\n", pos->epoch + 1, epochs, pos->step,
           steps, p->o->checkpoint_dir);
}

clf_status persist_finish(persist *p)
{
    clf_status st = CLF_OK;

    plot(p);
    if (p->o->save) {
        /* evaluate --subset remakes the split from it */
        clf_split_record split = {.n = p->rs.n_split, .seed = p->rs.seed,
                                  .images = p->rs.images};

        memcpy(split.fractions, p->rs.split, sizeof split.fractions);
        st = clf_model_save_split(p->model, p->o->save, p->rs.class_names, p->rs.preprocess,
                                  p->rs.base, &split);
        if (st == CLF_OK)
            printf("Saved the model to %s (%zu parameters, %d classes).\n", p->o->save,
                   clf_model_param_count(p->model, false), p->rs.classes);
    }
    return st;
}

void persist_release(persist *p)
{
    clf_train_state_free(&p->ts);
    free(p->names);
    p->names = NULL;
}
