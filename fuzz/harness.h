/* Shared by the libFuzzer harnesses. */
#ifndef CLFIT_FUZZ_HARNESS_H
#define CLFIT_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* The entry point libFuzzer calls; declared here for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sends the library's log to a sink that formats every message (so bad
 * format arguments are still caught) but prints nothing; with
 * FUZZ_VERBOSE set, the log goes to stderr as usual. Idempotent. */
void fuzz_quiet_log(void);

/* A private scratch directory for this process, created on first use
 * (under $TMPDIR, else /tmp); the harness writes its files there. */
const char *fuzz_scratch_dir(void);

/* Writes data[0..size) to path; aborts on failure (a harness bug). */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* libFuzzer's optional start-up hook (declared for -Wmissing-prototypes). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A malloc'd copy of data[0..size). When it parses as a safetensors file
 * whose metadata holds a "clfit.crc32" entry of 8 hex digits, that entry
 * is rewritten (same length) to the CRC the reader computes, so mutated
 * inputs get past the checksum into the parsers behind it. */
uint8_t *fuzz_fix_crc(const uint8_t *data, size_t size);

/* $FUZZ_WRITE_SEEDS: when set, a harness writes its generated seed files
 * into that folder from LLVMFuzzerInitialize and exits. NULL otherwise. */
const char *fuzz_seed_dir(void);

#endif
