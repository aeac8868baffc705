/* Numbers in clfit's JSON metadata. */
#include "io/json_num.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

bool clf_json_get_double(const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (cJSON_IsNull(v)) {
        *out = NAN;
        return true;
    }
    if (!cJSON_IsNumber(v))
        return false;
    *out = v->valuedouble;
    return true;
}

bool clf_json_get_count(const cJSON *obj, const char *key, double max, double *out)
{
    return clf_json_get_double(obj, key, out) && *out >= 0 && *out <= max && *out == floor(*out);
}

bool clf_json_get_u64(const cJSON *obj, const char *key, uint64_t *out)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
    char *end;

    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return !errno && !*end;
}

bool clf_json_add_u64(cJSON *obj, const char *key, uint64_t v)
{
    char text[32];

    snprintf(text, sizeof text, "%llu", (unsigned long long)v);
    return cJSON_AddStringToObject(obj, key, text) != NULL;
}
