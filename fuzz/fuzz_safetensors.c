/* Fuzzes the safetensors container reader: header length, JSON header,
 * dtypes, shapes, offsets, metadata, the F32 finiteness check and the
 * CRC, then reads every tensor back the way the model loader does. */
#include <stdlib.h>

#include "harness.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clf_st_file f;

    fuzz_quiet_log();
    if (clf_st_parse(data, size, "fuzz.safetensors", &f) != CLF_OK) {
        if (f.tensors || f.header || f.n)
            abort(); /* on failure the result must be empty */
        return 0;
    }
    (void)clf_st_check_crc(&f);
    for (int i = 0; i < f.n; i++) {
        const clf_st_tensor *t = &f.tensors[i];
        float *v;

        if (t->end < t->begin || t->end > f.data_len || clf_st_find(&f, t->name) == NULL)
            abort(); /* the reader promised offsets inside the data */
        if (t->dtype != CLF_ST_F32)
            continue;
        v = malloc(t->count ? t->count * sizeof *v : 1);
        if (v && clf_st_get_f32(&f, t, v, t->count) != CLF_OK)
            abort(); /* a checked F32 tensor must read back */
        free(v);
    }
    clf_st_free(&f);
    return 0;
}
