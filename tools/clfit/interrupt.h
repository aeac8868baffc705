/* Ctrl-C for long commands: the first asks the running loop to stop at
 * the next batch boundary (the command then saves what it can and exits
 * with 130); a second one, a second or more later, ends the process at
 * once. */
#ifndef CLFIT_TOOL_INTERRUPT_H
#define CLFIT_TOOL_INTERRUPT_H

#include <signal.h>

/* Set by the handler; give its address to a loop's `stop`. */
extern volatile sig_atomic_t interrupt_requested;

/* Installs the handler for SIGINT. */
void interrupt_install(void);

#endif
