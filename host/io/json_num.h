/* Numbers in clfit's JSON metadata (internal): counts as whole JSON
 * numbers, 64-bit integers as decimal strings (a JSON number, a double,
 * would lose their low bits). */
#ifndef CLFIT_IO_JSON_NUM_H
#define CLFIT_IO_JSON_NUM_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

/* obj[key] as a number; null reads as NaN. False when it is neither. */
bool clf_json_get_double(const cJSON *obj, const char *key, double *out);

/* obj[key] as a whole number in [0, max]. */
bool clf_json_get_count(const cJSON *obj, const char *key, double max, double *out);

/* obj[key] as a decimal string of a uint64. */
bool clf_json_get_u64(const cJSON *obj, const char *key, uint64_t *out);

/* Adds v to obj as a decimal string under key. */
bool clf_json_add_u64(cJSON *obj, const char *key, uint64_t v);

#endif
