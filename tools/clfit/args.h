/* Command-line value parsing for the clfit tool: every malformed or
 * out-of-range value is a usage error that names the flag. */
#ifndef CLFIT_TOOL_ARGS_H
#define CLFIT_TOOL_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

enum { EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

/* Prints "clfit: <flag>: <message>" and a hint to stderr; returns EXIT_USAGE. */
int usage_error(const char *flag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Each returns true on success; otherwise it has already printed a usage
 * error naming `flag`. */
bool parse_int(const char *flag, const char *text, long min, long max, long *out);
bool parse_u64(const char *flag, const char *text, uint64_t *out);
bool parse_float(const char *flag, const char *text, double min, double max, double *out);
/* "N" (N x N) or "HxW" */
bool parse_image_size(const char *flag, const char *text, int *h, int *w);
/* A built-in model: "linear" or "mlp:N", N hidden units from 1 to
 * CLI_MLP_MAX_UNITS; with allow_json, also a name ending in ".json" (a
 * Keras head for --base). train and bench step share it. */
enum { CLI_MLP_MAX_UNITS = 1 << 16 };
bool parse_model_spec(const char *flag, const char *spec, bool allow_json);
/* "a,b,c": 1 to 3 fractions in [0, 1] summing to 1 */
bool parse_split(const char *flag, const char *text, double *fr, int *k);
/* One of the NULL-terminated `choices`; *out is its index. */
bool parse_choice(const char *flag, const char *text, const char *const *choices, int *out);

/* A non-empty value. */
bool not_empty(const char *flag, const char *text);

/* The spelling of a --device value: not empty, and "opencl:P:D" with
 * numbers when it starts with "opencl:". Whether the device exists is the
 * library's to say (a runtime error that lists the devices). */
bool valid_device_spec(const char *flag, const char *spec);

/* A regular file this process can read; otherwise prints
 * "clfit: <flag> <path>: ..." and returns false (a runtime error, exit 1:
 * the flag's value is well formed, the file is missing). */
bool readable_file(const char *flag, const char *path);

/* The same for a folder this process can list (a DATA_DIR): checked
 * before the device is opened, which can take seconds. */
bool readable_dir(const char *flag, const char *path);

/* After a model file failed to load: when `path` is a training checkpoint
 * (or a folder holding one), tells on stderr how to make a model file of
 * it. Says nothing otherwise. */
void checkpoint_hint(const char *path);

/* The folder that will hold `path` (path itself for a folder, is_dir,
 * that need not exist yet) exists and is writable, and a file's path does
 * not name a folder, an existing file is a regular file (not a device,
 * FIFO or symlink, which writing by rename would replace) and an existing
 * folder's path a folder; otherwise prints "clfit: <flag> <path>: ..." and
 * returns false. Checked before the work, not after hours of it. */
bool writable_place(const char *flag, const char *path, bool is_dir);

/* path with its folder resolved (symlinks, "..") as the kernel sees it;
 * the folder must exist. malloc'd; NULL when it cannot be resolved. */
char *resolved_path(const char *path);

/* An output file, or folder (is_dir), that would land among data_dir's
 * images (a file in a class folder or deeper, a folder anywhere inside:
 * it would be read as a class) is refused: prints why, returns false. */
bool outside_data(const char *flag, const char *path, const char *data_dir, bool is_dir);

/* An output `out` that is the file `in` (given as in_flag) that the
 * command reads or writes otherwise (in need not exist yet) is refused:
 * prints why, returns false. */
bool spares_input(const char *flag, const char *out, const char *in_flag, const char *in);

/* An output that would replace an existing .bin or .json file in the
 * folder of `in` (a TF.js model.json, whose weight shards lie beside it
 * as *.bin) is refused; other names there are fine. Prints why, returns
 * false. */
bool spares_folder_of(const char *flag, const char *out, const char *in_flag, const char *in);

/* --image-cache DIR (NULL: not given) can be created or written and lies
 * outside data_dir; otherwise prints why and returns false. */
bool image_cache_usable(const char *dir, const char *data_dir);

/* Runs getopt_long over argv and reports a missing value or an unknown
 * flag as a usage error. Returns the option's val, -1 at the end, or '?'
 * after such an error. */
int next_option(int argc, char **argv, const struct option *opts);

/* The "--name" of the option whose val is `val`. */
const char *option_name(const struct option *opts, int val);

#endif
