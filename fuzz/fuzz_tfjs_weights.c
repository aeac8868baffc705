/* Fuzzes the TF.js weights reader: the weightsManifest JSON and the
 * binary shard data it describes.
 *
 * Input: manifest JSON, a NUL byte, then the bytes of the shards. The
 * shard bytes are written to files "s0" and "s1" (split in the middle) in
 * a scratch directory, so that one or two shard paths find data; the
 * reader opens them the way it opens a real model's shards. Without a NUL
 * byte the whole input is the manifest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "harness.h"
#include "io/tfjs_weights.h"

static void write_shards(const char *dir, const uint8_t *bin, size_t n)
{
    char path[600];

    snprintf(path, sizeof path, "%s/s0", dir);
    fuzz_write_file(path, bin, n / 2);
    snprintf(path, sizeof path, "%s/s1", dir);
    fuzz_write_file(path, bin + n / 2, n - n / 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t json_len = nul ? (size_t)(nul - data) : size;
    const char *dir = fuzz_scratch_dir();
    clf_weight_set ws;
    cJSON *root;

    fuzz_quiet_log();
    root = cJSON_ParseWithLength((const char *)data, json_len);
    if (!root)
        return 0;
    if (nul)
        write_shards(dir, nul + 1, size - json_len - 1);
    else
        write_shards(dir, data, 0);

    /* The manifest itself, or the weightsManifest of a whole model.json. */
    if (clf_tfjs_weights_from_manifest(
            cJSON_IsArray(root) ? root : cJSON_GetObjectItem(root, "weightsManifest"), dir,
            "fuzz/model.json", &ws) == CLF_OK)
        clf_weight_set_free(&ws);
    else if (ws.tensors || ws.n)
        abort(); /* on failure the set must be empty */
    cJSON_Delete(root);
    return 0;
}
