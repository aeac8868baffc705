/* Strict UTF-8 validation. */
#include "core/utf8.h"

/* Bytes in the UTF-8 sequence that starts with c; 0 for a byte that
 * cannot start one (continuations, overlong 0xc0/0xc1, past U+10FFFF). */
static unsigned utf8_length(unsigned c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c < 0xe0)
        return 2;
    if (c >= 0xe0 && c < 0xf0)
        return 3;
    return c >= 0xf0 && c < 0xf5 ? 4 : 0;
}

size_t clf_utf8_check(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], len = utf8_length(c);
        /* the second byte's range rules out the overlong and surrogate
         * forms the lead byte alone cannot */
        unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
        unsigned hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;

        if (!len || len > n - i)
            return i;
        for (unsigned k = 1; k < len; k++, lo = 0x80, hi = 0xbf)
            if (s[i + k] < lo || s[i + k] > hi)
                return i;
        i += len;
    }
    return n;
}
