/* clfit's one leveled logger.
 *
 * Library code reports through it and never writes to stdout. By default,
 * messages at CLF_LOG_INFO and above go to stderr as "clfit: level: text".
 * A callback replaces that sink (tests use it to capture what was said).
 */
#ifndef CLFIT_LOG_H
#define CLFIT_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clf_log_level {
    CLF_LOG_ERROR = 0,
    CLF_LOG_WARN = 1,
    CLF_LOG_INFO = 2,
    CLF_LOG_DEBUG = 3
} clf_log_level;

/* Receives one formatted message without a trailing newline. */
typedef void (*clf_log_fn)(clf_log_level level, const char *msg, void *user);

/* Messages above `level` are dropped before they are formatted. */
void clf_log_set_level(clf_log_level level);
clf_log_level clf_log_get_level(void);

/* NULL restores the stderr sink. The callback may be called from any
 * thread that logs; it must be thread-safe if the caller uses threads. */
void clf_log_set_callback(clf_log_fn fn, void *user);

/* Internal entry point behind the CLF_LOG_* macros. */
void clf_log_write(clf_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#define CLF_LOG_AT_(lvl, ...)                                                  \
    do {                                                                       \
        if ((lvl) <= clf_log_get_level())                                      \
            clf_log_write((lvl), __VA_ARGS__);                                 \
    } while (0)

#define CLF_LOG_ERROR(...) CLF_LOG_AT_(CLF_LOG_ERROR, __VA_ARGS__)
#define CLF_LOG_WARN(...) CLF_LOG_AT_(CLF_LOG_WARN, __VA_ARGS__)
#define CLF_LOG_INFO(...) CLF_LOG_AT_(CLF_LOG_INFO, __VA_ARGS__)
#define CLF_LOG_DEBUG(...) CLF_LOG_AT_(CLF_LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
