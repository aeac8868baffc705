/* Log capture for tests: a callback appending to one static buffer. */
#include "support/logcap.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clfit/log.h"

static char text[65536];
static size_t used;

static void capture(clf_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    if (used < sizeof text)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s\n", msg);
    if (used > sizeof text)
        used = sizeof text;
}

void logcap_begin(void)
{
    text[0] = '\0';
    used = 0;
    clf_log_set_callback(capture, NULL);
}

const char *logcap_text(void)
{
    return text;
}

bool logcap_has(const char *first, ...)
{
    va_list ap;
    bool ok = true;

    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        if (!strstr(text, s))
            ok = false;
    va_end(ap);
    return ok;
}

void logcap_end(void)
{
    clf_log_set_callback(NULL, NULL);
}
