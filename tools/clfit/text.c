/* Class names made safe for the terminal. */
#include "text.h"

#include <stdio.h>

void print_name(const char *name, int width)
{
    int shown = 0;

    for (const unsigned char *p = (const unsigned char *)name;
         *p && (width <= 0 || shown < width); shown++) {
        size_t len = 1;

        while ((p[len] & 0xC0) == 0x80 && *p >= 0xC0)
            len++; /* the continuation bytes of one character */
        if (*p < 0x20 || *p == 0x7F)
            putchar('?');
        else
            fwrite(p, 1, len, stdout);
        p += len;
    }
    if (width > shown)
        printf("%*s", width - shown, "");
}
