/* TF.js weights: a model.json's weightsManifest plus its binary shards
 * -> named float32 tensors (internal).
 *
 * The manifest is a list of groups {"paths": [shard files, relative to
 * model.json], "weights": [{"name", "shape", "dtype", "quantization"?}]}.
 * A group's shards are concatenated in order and its weights lie in that
 * data one after another. Stored types:
 *   float32                          4 bytes, little-endian
 *   quantization {dtype: float16}    2 bytes, IEEE half precision
 *   quantization {dtype: uint8 | uint16, min, scale}
 *                                    value = min + q * scale (as TF.js
 *                                    computes it: in double, then rounded
 *                                    to float32)
 * Weights must be float32 in the model (dtype, and original_dtype when the
 * quantization gives one).
 */
#ifndef CLFIT_IO_TFJS_WEIGHTS_H
#define CLFIT_IO_TFJS_WEIGHTS_H

#include <stdint.h>

#include <cJSON.h>

#include "io/weight_set.h"

/* Caps: bytes of one shard file, bytes of all shards of one group, and
 * tensors in a manifest. */
#define CLF_TFJS_MAX_SHARD_BYTES ((size_t)1 << 31)
#define CLF_TFJS_MAX_GROUP_BYTES ((size_t)1 << 32)
enum { CLF_TFJS_MAX_TENSORS = 20000 };   /* names are checked pairwise */

/* Reads the weights of the TF.js model at model_json_path (its manifest
 * and the shard files next to it). On success *out holds every tensor in
 * manifest order (free with clf_weight_set_free). On failure *out is
 * empty and the log names the file and tensor: CLF_ERR_IO for a missing
 * or unreadable shard, CLF_ERR_FORMAT for a bad manifest, short shards or
 * non-finite values, CLF_ERR_UNSUPPORTED for other dtypes. */
clf_status clf_tfjs_weights_read(const char *model_json_path, clf_weight_set *out);

/* As above from a parsed weightsManifest (borrowed); shard paths are
 * relative to dir; `what` names the model file in messages. */
clf_status clf_tfjs_weights_from_manifest(const cJSON *manifest, const char *dir,
                                          const char *what, clf_weight_set *out);

/* IEEE 754 half-precision bits -> float (exact; keeps subnormals, infinities
 * and NaN). */
float clf_half_to_float(uint16_t h);

#endif
