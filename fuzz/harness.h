/* Shared by the libFuzzer harnesses. */
#ifndef CLFIT_FUZZ_HARNESS_H
#define CLFIT_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* The entry point libFuzzer calls; declared here for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sends the library's log to a sink that formats every message (so bad
 * format arguments are still caught) but prints nothing. Idempotent. */
void fuzz_quiet_log(void);

/* A private scratch directory for this process, created on first use
 * (under $TMPDIR, else /tmp); the harness writes its files there. */
const char *fuzz_scratch_dir(void);

/* Writes data[0..size) to path; aborts on failure (a harness bug). */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

#endif
