/* What `clfit train` keeps beyond the process: --save, --checkpoint-dir,
 * --resume, --log and --plot. cmd_train.c calls these hooks at fixed
 * points of a run; everything about files lives here. */
#ifndef CLFIT_TOOL_TRAIN_PERSIST_H
#define CLFIT_TOOL_TRAIN_PERSIST_H

#include <getopt.h>
#include <stdbool.h>

#include "clfit/data.h"
#include "clfit/fit.h"
#include "clfit/io.h"
#include "clfit/model.h"

enum {
    PERSIST_OPT_SAVE = 400, PERSIST_OPT_CKPT, PERSIST_OPT_RESUME, PERSIST_OPT_LOG,
    PERSIST_OPT_PLOT
};

/* getopt entries for the flags above, spliced into train's table. */
#define PERSIST_OPTIONS                                                        \
    {"save", required_argument, NULL, PERSIST_OPT_SAVE},                       \
    {"checkpoint-dir", required_argument, NULL, PERSIST_OPT_CKPT},             \
    {"resume", no_argument, NULL, PERSIST_OPT_RESUME},                         \
    {"log", required_argument, NULL, PERSIST_OPT_LOG},                         \
    {"plot", required_argument, NULL, PERSIST_OPT_PLOT}

typedef struct persist_opts {
    const char *save, *checkpoint_dir, *log, *plot;
    bool resume;
} persist_opts;

/* Takes option c's value; false (after a usage error) for a bad value or
 * an option that is not one of these. */
bool persist_set_option(persist_opts *o, int c, const char *v);

/* Checks the combination (--resume needs --checkpoint-dir and a checkpoint
 * in it) and, before anything is loaded or trained, that every file and
 * folder named can be written, that no two name the same file, that none
 * lies inside data_dir and that none replaces a file the run reads (the
 * checkpoint, `base` and the files beside it, the JSON `head`; either may
 * be NULL). Returns 0, the usage exit code or 1 (a place that cannot be
 * used) after printing why. */
int persist_check(const persist_opts *o, const char *data_dir, const char *base,
                  const char *head);

/* With --resume, the checkpoint's recorded settings against rs (filled
 * but for what the images give) before the images load: each difference
 * named with its flag; a damaged checkpoint with what to do. */
clf_status persist_check_resume(const persist_opts *o, const clf_run_settings *rs);

/* The run as a checkpoint sees it, and what has been done so far. */
typedef struct persist {
    const persist_opts *o;
    clf_run_settings rs;         /* filled by the caller before persist_begin */
    clf_train_state ts;          /* ts.pos is the position clf_fit advances */
    clf_model *model;
    const char **names;          /* class names (the dataset's strings) */
    char title[256];             /* plot title */
    bool plot_failed;            /* warned once; no more tries */
} persist;

/* Fills p->rs's dataset entries (images, classes, class names). */
clf_status persist_data(persist *p, const clf_dataset *ds);

/* Starts a run on a compiled model: with --resume, loads the checkpoint
 * (position, history, weights, optimizer state) and says where training
 * continues; starts the --log file. p->rs must be filled; steps is the
 * number of training batches per epoch. */
clf_status persist_begin(persist *p, const persist_opts *o, clf_model *m, int epochs,
                         size_t steps);

/* After each epoch: history, --log row, --plot, checkpoint. */
clf_status persist_epoch_end(persist *p, const clf_epoch_logs *logs);

/* After Ctrl-C: a checkpoint of the exact position (when checkpointing),
 * and a line saying where training stopped. */
void persist_interrupted(persist *p, int epochs, size_t steps);

/* After training: --save. */
clf_status persist_finish(persist *p);

void persist_release(persist *p);

#endif
