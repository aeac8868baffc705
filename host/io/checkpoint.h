/* Checkpoint pieces (internal): the JSON entries a checkpoint adds to a
 * model file. The public API is in include/clfit/io.h; these are here for
 * tests and for the CLI's messages.
 *
 *   clfit.settings  {"data_dir", "model", "base", "base_layer",
 *                   "image_size": [h, w], "batch_size", "split": [...],
 *                   "optimizer": {...}, "preprocess", "seed", "images",
 *                   "class_names"}
 *   clfit.position  {"epoch", "step", "loss_sum", "correct", "count",
 *                   "seconds", "optimizer_step"}
 *   clfit.history   [{"epoch", "steps", "loss", "accuracy", "val_loss",
 *                   "val_accuracy", "seconds"}, ...]
 *
 * Doubles are written with 17 significant digits and read with strtod,
 * so a resumed epoch continues from bit-identical partial sums; 64-bit
 * counters (seed, optimizer step) are strings, which JSON numbers cannot
 * hold exactly.
 */
#ifndef CLFIT_IO_CHECKPOINT_H
#define CLFIT_IO_CHECKPOINT_H

#include <cJSON.h>

#include "clfit/io.h"

#define CLF_CKPT_FILE "checkpoint.safetensors"
#define CLF_CKPT_SETTINGS "clfit.settings"
#define CLF_CKPT_POSITION "clfit.position"
#define CLF_CKPT_HISTORY "clfit.history"
#define CLF_CKPT_OPT_PREFIX "optimizer/"

/* The settings as the JSON object stored in a checkpoint (NULL when out of
 * memory). data_dir is resolved to its real path when it exists. */
cJSON *clf_ckpt_settings_json(const clf_run_settings *rs);

/* Compares a checkpoint's settings (JSON text) with rs; logs every
 * difference with the flag that sets it. CLF_ERR_ARG when any differs,
 * CLF_ERR_FORMAT when the text is not a settings object. `what` names the
 * checkpoint file. rs->class_names NULL: the entries known only once the
 * images are loaded (their count, the class names, the batch size, which
 * a small set lowers) are not compared. */
clf_status clf_ckpt_settings_compare(const char *stored, const clf_run_settings *rs,
                                     const char *what);

/* "optimizer/<tensor>/<slot>" into buf. */
void clf_ckpt_slot_name(char *buf, size_t size, const char *tensor, const char *slot);

#endif
