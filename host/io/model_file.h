/* A model inside a safetensors file (internal): the pieces that
 * clf_model_save / clf_model_load (include/clfit/io.h) are made of,
 * shared with checkpoints, which hold a model plus training state.
 */
#ifndef CLFIT_IO_MODEL_FILE_H
#define CLFIT_IO_MODEL_FILE_H

#include "clfit/io.h"
#include "clfit/model.h"
#include "io/safetensors.h"

/* Metadata keys (see include/clfit/io.h). */
#define CLF_MF_FORMAT "clfit.format"
#define CLF_MF_VERSION "clfit.format_version"
#define CLF_MF_CONFIG "clfit.model_config"
#define CLF_MF_INPUT "clfit.input"
#define CLF_MF_CLASSES "clfit.class_names"
#define CLF_MF_PREPROCESS "clfit.preprocess"
#define CLF_MF_BASE "clfit.base"
#define CLF_MF_SPLIT "clfit.split" /* optional: the training split (model files) */

/* Largest class count and class-name length a file may declare. */
enum { CLF_MF_MAX_CLASSES = 100000, CLF_MF_MAX_NAME = 4096 };

/* Adds to w the metadata every clfit file carries (format `kind`, version,
 * config, input, class names, preprocessing, base; the training split when
 * `split` is not NULL) and every tensor of m under its Keras name. A
 * non-finite weight is CLF_ERR_ARG naming it. */
clf_status clf_mf_put_model(clf_st_writer *w, clf_model *m, const char *kind,
                            const char *const *class_names, clf_preprocess pre,
                            const char *base, const clf_split_record *split);

/* Checks the CRC, that the file is a clfit file of `kind` ("model",
 * "checkpoint") and that its version is one this clfit reads. */
clf_status clf_mf_check_kind(const clf_st_file *f, const char *kind);

/* Builds the (uncompiled) model f's config and input entry describe.
 * Tensors keep their initial values; see clf_mf_check_weights. */
clf_status clf_mf_build(const clf_st_file *f, clf_model **out);

/* Whether f holds m's model: the same config and input entries as m
 * would write. CLF_ERR_ARG (logged) when not. */
clf_status clf_mf_same_model(const clf_st_file *f, const clf_model *m);

/* Class names, preprocessing, input size and base of f, checked against
 * m (class count, input size). Free with clf_model_info_free. */
clf_status clf_mf_info(const clf_st_file *f, const clf_model *m, clf_model_info *info);

/* Checks that f holds every tensor of m as F32 of the same shape, and
 * nothing else except tensors whose names start with extra_prefix (NULL:
 * none allowed). Logs each problem with the tensor, the shape found and
 * the shape m's config needs: CLF_ERR_FORMAT (missing, extra, wrong
 * dtype), CLF_ERR_SHAPE (wrong shape). Nothing is written. */
clf_status clf_mf_check_weights(const clf_st_file *f, const clf_model *m,
                                const char *extra_prefix);

/* Copies every tensor of m from f (after clf_mf_check_weights). */
clf_status clf_mf_load_weights(const clf_st_file *f, clf_model *m);

/* clf_model_load on a file already read and parsed (tests load damaged
 * copies from memory this way). */
clf_status clf_mf_load_parsed(const clf_st_file *f, clf_model **out, clf_model_info *info);

/* A tensor's shape as "[2352, 10]" into buf; returns buf. */
const char *clf_mf_shape_str(const size_t *shape, int rank, char *buf, size_t size);

#endif
