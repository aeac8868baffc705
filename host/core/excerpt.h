/* A file's first bytes quoted in a message (internal).
 *
 * Messages about files that are not what they should be show how the
 * file starts; raw bytes would reach the user's terminal, where control
 * bytes can garble it. These escape everything that is not printable
 * ASCII.
 */
#ifndef CLFIT_CORE_EXCERPT_H
#define CLFIT_CORE_EXCERPT_H

#include <stdbool.h>
#include <stddef.h>

/* Up to `max` bytes of data[0..len) into out[0..size), always
 * NUL-terminated (cut short when out is too small): printable ASCII as
 * is, '"' and '\' with a backslash, tab, CR and LF as \t \r \n, any other
 * byte as \xNN. */
void clf_excerpt(const void *data, size_t len, size_t max, char *out, size_t size);

/* Whether the first `max` bytes of data[0..len) are all printable ASCII
 * or tab, CR or LF (text rather than binary data); false for len 0. */
bool clf_is_text(const void *data, size_t len, size_t max);

/* Up to `max` bytes as hex, "89 50 4e 47", into out[0..size). */
void clf_hex_bytes(const void *data, size_t len, size_t max, char *out, size_t size);

#endif
