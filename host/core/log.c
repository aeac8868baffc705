/* The leveled logger: a level check, a formatter, one sink. */
#include "clfit/log.h"

#include <stdarg.h>
#include <stdio.h>

static clf_log_level current_level = CLF_LOG_INFO;
static clf_log_fn sink;
static void *sink_user;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void clf_log_set_level(clf_log_level level)
{
    current_level = level;
}

clf_log_level clf_log_get_level(void)
{
    return current_level;
}

void clf_log_set_callback(clf_log_fn fn, void *user)
{
    sink = fn;
    sink_user = user;
}

void clf_log_write(clf_log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    if (sink) {
        sink(level, msg, sink_user);
        return;
    }
    if ((unsigned)level > CLF_LOG_DEBUG)
        level = CLF_LOG_DEBUG;
    fprintf(stderr, "clfit: %s: %s\n", level_names[level], msg);
}
