/* The model outlives the process: model files, checkpoints, the training
 * history as CSV, and pictures of it.
 *
 * Model files and checkpoints are safetensors files (8-byte little-endian
 * header length, JSON header, raw little-endian float32 data), readable by
 * Python's safetensors and by any reader of that format (the source tree's
 * tools/ref/read_safetensors.py uses only json, struct and numpy). Their
 * "__metadata__" (strings only, as the format requires) carries:
 *
 *   clfit.format          "model" or "checkpoint"
 *   clfit.format_version  "1"
 *   clfit.model_config    the Keras model config (Functional), in the
 *                         JSON form of Keras's model.to_json()
 *   clfit.input           {"height", "width", "channels", "layout":
 *                         "channels_first" | "channels_last"}; Keras
 *                         configs have no place for the input layout
 *   clfit.class_names     JSON array of the class names, label order
 *   clfit.preprocess      "unit", "symmetric" or "none"
 *   clfit.base            where a frozen base came from, or ""
 *   clfit.crc32           CRC-32 (zlib's) of every other metadata entry
 *                         (key, NUL, value, NUL; keys sorted bytewise),
 *                         then of the whole data section: 8 hex digits
 *
 * Tensors are named as Keras names them ("dense/kernel"). A transfer
 * model's frozen base is part of the model's graph, so its weights (and
 * BatchNormalization statistics) are in the same file as the head's: a
 * model file needs nothing else to predict. That costs the base's size
 * (about 9 MB for MobileNetV2) per file, which buys independence from
 * the base's files moving or changing.
 *
 * Checkpoints add the optimizer state ("optimizer/<tensor>/m", ".../v" or
 * ".../momentum"), the fit position, the history so far and the run's
 * settings. Every write goes to a temporary file that is renamed into
 * place, so a crash leaves the previous file intact.
 */
#ifndef CLFIT_IO_H
#define CLFIT_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clfit/fit.h"
#include "clfit/model.h"
#include "clfit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The model-file format this clfit writes; it reads this one and older. */
enum { CLF_MODEL_FORMAT_VERSION = 1 };

/* ---- Model files ---- */

/* Writes m (compiled or not) with its config, all its tensors and the
 * metadata above to path, atomically. class_names has one entry per
 * class (clf_model_classes); base may be NULL. Fails with CLF_ERR_ARG for
 * a non-finite weight (naming the tensor), CLF_ERR_UNSUPPORTED for a graph
 * Keras configs cannot express, CLF_ERR_IO when the file cannot be
 * written (the previous file is then unchanged). */
clf_status clf_model_save(clf_model *m, const char *path, const char *const *class_names,
                          clf_preprocess pre, const char *base);

/* How the images a model was trained on were split: clfit train records
 * it in the model file so that evaluate --subset can remake the subsets. */
typedef struct clf_split_record {
    double fractions[3];
    int n;                       /* fractions given, 1..3 */
    uint64_t seed;
    size_t images;               /* usable images the split was made of */
} clf_split_record;

/* clf_model_save, also recording the training split (NULL: none). */
clf_status clf_model_save_split(clf_model *m, const char *path,
                                const char *const *class_names, clf_preprocess pre,
                                const char *base, const clf_split_record *split);

/* What a model file says besides its tensors. */
typedef struct clf_model_info {
    int classes;
    char **class_names;          /* classes strings */
    clf_preprocess preprocess;
    int height, width;           /* the input images' size */
    char *base;                  /* "" when the model has no frozen base */
    int format_version;
    bool has_split;              /* the file records its training split */
    clf_split_record split;
} clf_model_info;

void clf_model_info_free(clf_model_info *info);

/* Reads a model file and builds the model it holds (not compiled: compile
 * it with info->preprocess). Every check is logged with the file name and,
 * where one is concerned, the tensor and what was expected: CLF_ERR_IO
 * (cannot read), CLF_ERR_FORMAT (not a clfit model file, damaged,
 * truncated, missing or extra tensors, non-finite values), CLF_ERR_SHAPE
 * (a tensor's shape differs from what the config needs), CLF_ERR_UNSUPPORTED
 * (a newer format version or a layer this clfit lacks). On failure *out
 * is NULL and *info empty. info may be NULL. */
clf_status clf_model_load(const char *path, clf_model **out, clf_model_info *info);

/* ---- Checkpoints ---- */

/* What makes two training runs the same run: a checkpoint records these
 * and resuming with different ones is refused, naming each difference and
 * the flag to change. Strings may be NULL where a setting does not apply. */
typedef struct clf_run_settings {
    const char *data_dir;        /* compared after resolving the real path */
    const char *model_spec;      /* --model as given */
    const char *base;            /* --base (NULL: none) */
    const char *base_layer;      /* --base-layer (NULL: none) */
    int height, width;           /* --image-size */
    int batch_size;
    double split[3];
    int n_split;
    clf_optimizer optimizer;
    clf_preprocess preprocess;
    uint64_t seed;
    size_t images;               /* usable images found in data_dir */
    int classes;
    const char *const *class_names;
} clf_run_settings;

/* Where training stands and what it has produced so far. */
typedef struct clf_train_state {
    clf_fit_position pos;
    clf_epoch_logs *history;     /* one entry per finished epoch, in order */
    int n_history, cap_history;
} clf_train_state;

/* Appends an epoch's logs (copied). CLF_ERR_NOMEM. */
clf_status clf_train_state_add(clf_train_state *ts, const clf_epoch_logs *logs);
void clf_train_state_free(clf_train_state *ts);

/* The checkpoint file in dir: "<dir>/checkpoint.safetensors", malloc'd
 * (NULL after logging when out of memory). */
char *clf_checkpoint_path(const char *dir);

/* True when dir holds a checkpoint file. */
bool clf_checkpoint_exists(const char *dir);

/* Writes a checkpoint of m (compiled) at ts's position into dir, creating
 * dir when it is missing (its parent must exist). The model's weights,
 * optimizer state and step counter are read from the device. Replaces the
 * previous checkpoint atomically. CLF_ERR_IO when it cannot be written. */
clf_status clf_checkpoint_save(const char *dir, clf_model *m, const clf_run_settings *rs,
                               const clf_train_state *ts);

/* Compares the settings recorded in dir's checkpoint with rs, as
 * clf_checkpoint_load does, without a model: a run about to resume can
 * be refused before it loads its images. rs->class_names NULL skips what
 * needs the images (their count, the class names, the batch size, which a
 * small set lowers). CLF_ERR_ARG when any
 * differs (each logged with its flag); CLF_ERR_IO / CLF_ERR_FORMAT for a
 * file that cannot be read or is damaged. */
clf_status clf_checkpoint_check_settings(const char *dir, const clf_run_settings *rs);

/* Reads dir's checkpoint into m, which must be compiled from the same
 * settings: checks the file (as clf_model_load does), that rs matches the
 * recorded settings (every difference is logged with its flag; then
 * CLF_ERR_ARG) and that the model config and optimizer are the same; then
 * writes the weights and optimizer state, sets the step counter and fills
 * *ts (position and history; free with clf_train_state_free). On failure m
 * is unchanged unless the failure came from the device. */
clf_status clf_checkpoint_load(const char *dir, clf_model *m, const clf_run_settings *rs,
                               clf_train_state *ts);

/* ---- History as CSV (Keras's CSVLogger) ----
 * Columns: epoch,accuracy,loss,val_accuracy,val_loss,seconds. epoch counts
 * from 0 as Keras writes it; a run without validation writes NA in the
 * val_ columns. Numbers are written with the fewest digits that read back
 * to the same double. */

/* Starts the log: writes the header and the rows of `history` (a resumed
 * run's earlier epochs, so the file matches the checkpoint even if the
 * previous run died between its last row and its checkpoint), replacing
 * the file atomically. */
clf_status clf_history_csv_start(const char *path, const clf_epoch_logs *history, int n);

/* Appends one epoch's row, flushed to disk. */
clf_status clf_history_csv_append(const char *path, const clf_epoch_logs *logs);

#ifdef __cplusplus
}
#endif
#endif
