/* A file's first bytes, escaped for a message: see excerpt.h. */
#include "core/excerpt.h"

#include <stdio.h>
#include <string.h>

/* The escaped form of byte c into e[0..5). */
static void escape(unsigned char c, char e[5])
{
    if (c == '"' || c == '\\')
        snprintf(e, 5, "\\%c", c);
    else if (c == '\n' || c == '\r' || c == '\t')
        snprintf(e, 5, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
    else if (c >= 0x20 && c < 0x7f)
        snprintf(e, 5, "%c", c);
    else
        snprintf(e, 5, "\\x%02x", c);
}

void clf_excerpt(const void *data, size_t len, size_t max, char *out, size_t size)
{
    const unsigned char *b = data;
    size_t at = 0;
    char e[5];

    if (size == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < len && i < max; i++) {
        size_t n;

        escape(b[i], e);
        n = strlen(e);
        if (at + n >= size)
            break;
        memcpy(out + at, e, n + 1);
        at += n;
    }
}

bool clf_is_text(const void *data, size_t len, size_t max)
{
    const unsigned char *b = data;

    for (size_t i = 0; i < len && i < max; i++) {
        unsigned char c = b[i];

        if ((c < 0x20 || c >= 0x7f) && c != '\t' && c != '\r' && c != '\n')
            return false;
    }
    return len > 0;
}

void clf_hex_bytes(const void *data, size_t len, size_t max, char *out, size_t size)
{
    const unsigned char *b = data;
    size_t at = 0;

    if (size == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < len && i < max && at + 4 <= size; i++)
        at += (size_t)snprintf(out + at, size - at, "%s%02x", i ? " " : "", b[i]);
}
