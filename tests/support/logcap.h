/* Captures what the library logs, so a test can assert that an error
 * message names the right layer, field or file. */
#ifndef CLFIT_TEST_LOGCAP_H
#define CLFIT_TEST_LOGCAP_H

#include <stdbool.h>

/* Starts capturing (clearing earlier text); messages are not printed. */
void logcap_begin(void);

/* Everything logged since logcap_begin, one message per line. */
const char *logcap_text(void);

/* True when the captured text contains every string of the NULL-ended
 * list; LOGCAP_HAS("a", "b") adds the NULL. */
bool logcap_has(const char *first, ...);
#define LOGCAP_HAS(...) logcap_has(__VA_ARGS__, (const char *)NULL)

/* Stops capturing and restores the stderr sink. */
void logcap_end(void);

#endif
