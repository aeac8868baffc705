/* Loader for the reference fixtures listed in index.json. */
#include "support/fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

void *fixture_index(void)
{
    size_t len;
    char *text = slurp(FIXTURE_MOBILENET_DIR "/index.json", &len);
    cJSON *root;

    if (!text) {
        fprintf(stderr, "fixture: cannot read %s/index.json\n", FIXTURE_MOBILENET_DIR);
        return NULL;
    }
    root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root)
        fprintf(stderr, "fixture: %s/index.json is not valid JSON\n", FIXTURE_MOBILENET_DIR);
    return root;
}

void fixture_index_free(void *index)
{
    cJSON_Delete(index);
}

static void copy_str(char *dst, size_t size, const cJSON *obj, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));

    snprintf(dst, size, "%s", s ? s : "");
}

/* Fills out's description from its index entry; false if malformed. */
static bool describe(const cJSON *e, fixture_tensor *out)
{
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape"), *d;
    char model[64];

    copy_str(out->name, sizeof out->name, e, "name");
    copy_str(out->input, sizeof out->input, e, "input");
    copy_str(out->layer, sizeof out->layer, e, "layer");
    copy_str(model, sizeof model, e, "model");
    out->cut = strncmp(model, "cut:", 4) == 0;
    out->count = 1;
    if (cJSON_GetArraySize(shape) > 4)
        return false;
    cJSON_ArrayForEach(d, shape) {
        if (!cJSON_IsNumber(d) || d->valueint < 1)
            return false;
        out->shape[out->rank++] = d->valueint;
        out->count *= (size_t)d->valueint;
    }
    return out->rank > 0;
}

static const cJSON *find_entry(const cJSON *root, const char *name)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "tensors")) {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));

        if (n && strcmp(n, name) == 0)
            return e;
    }
    return NULL;
}

/* Reads the tensor's file into out->f32 or out->u8. */
static bool load_data(const cJSON *e, fixture_tensor *out)
{
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "file"));
    const char *dtype = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "dtype"));
    bool u8 = dtype && strcmp(dtype, "uint8") == 0;
    char path[1024];
    size_t len = 0;
    char *data;

    snprintf(path, sizeof path, "%s/%s", FIXTURE_MOBILENET_DIR, file ? file : "?");
    data = slurp(path, &len);
    if (!data || len != out->count * (u8 ? 1 : 4)) {
        fprintf(stderr, "fixture: %s: missing or not %zu values\n", path, out->count);
        free(data);
        return false;
    }
    if (u8)
        out->u8 = (uint8_t *)data;
    else
        out->f32 = (float *)data;  /* little-endian float32, as on the hosts we run */
    return true;
}

bool fixture_load(const char *name, fixture_tensor *out)
{
    cJSON *root = fixture_index();
    const cJSON *e;
    bool ok;

    memset(out, 0, sizeof *out);
    if (!root)
        return false;
    e = find_entry(root, name);
    ok = e && describe(e, out) && load_data(e, out);
    if (!e)
        fprintf(stderr, "fixture: no tensor '%s' in index.json\n", name);
    cJSON_Delete(root);
    return ok;
}

void fixture_free(fixture_tensor *t)
{
    free(t->f32);
    free(t->u8);
    t->f32 = NULL;
    t->u8 = NULL;
}

const char *fixture_mobilenet_json(void)
{
    static char path[1024];
    const char *dir = getenv("CLFIT_MOBILENET_DIR");
    FILE *f;

    snprintf(path, sizeof path, "%s/model.json",
             dir && *dir ? dir : CLFIT_SOURCE_DIR "/models/mobilenet_v2");
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    fclose(f);
    return path;
}
