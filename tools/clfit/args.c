/* Value parsing shared by the clfit subcommands. */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clfit/io.h"
#include "clfit/log.h"
#include "core/alloc.h"
#include "io/model_file.h"

int usage_error(const char *flag, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "clfit: %s: ", flag);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'clfit --help' for usage.\n");
    return EXIT_USAGE;
}

bool parse_int(const char *flag, const char *text, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (end == text || *end) {
        usage_error(flag, "'%s' is not a whole number", text);
        return false;
    }
    if (errno == ERANGE) { /* digits past what a long holds */
        usage_error(flag, "'%s' is out of range; use %ld to %ld", text, min, max);
        return false;
    }
    if (v < min || v > max) {
        usage_error(flag, "%ld is out of range; use %ld to %ld", v, min, max);
        return false;
    }
    *out = v;
    return true;
}

bool parse_u64(const char *flag, const char *text, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(text, &end, 10);
    /* strtoull skips blanks and negates "-1" to 2^64 - 1: digits only */
    if (end == text || *end || !isdigit((unsigned char)text[0])) {
        usage_error(flag, "'%s' is not a non-negative whole number", text);
        return false;
    }
    if (errno == ERANGE) {
        usage_error(flag, "'%s' is out of range; use 0 to %llu", text, ULLONG_MAX);
        return false;
    }
    *out = v;
    return true;
}

bool parse_float(const char *flag, const char *text, double min, double max, double *out)
{
    char *end;
    double v;

    /* decimal only: strtod would also take hex (0x10 = 16) and leading blanks */
    if (strspn(text, "0123456789+-.eE") != strlen(text)) {
        usage_error(flag, "'%s' is not a decimal number", text);
        return false;
    }
    errno = 0;
    v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v)) {
        usage_error(flag, "'%s' is not a number", text);
        return false;
    }
    if (v < min || v > max) {
        usage_error(flag, "%g is out of range; use %g to %g", v, min, max);
        return false;
    }
    *out = v;
    return true;
}

/* One side of N or HxW, digits only; errors quote the whole value. */
static bool image_side(const char *flag, const char *text, const char *side, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(side, &end, 10);
    if (!isdigit((unsigned char)*side) || *end) {
        usage_error(flag, "'%s' is not N or HxW (like 224 or 224x160)", text);
        return false;
    }
    if (errno == ERANGE || v < 1 || v > 8192) {
        usage_error(flag, "'%s' is out of range; each side must be 1 to 8192", text);
        return false;
    }
    *out = (int)v;
    return true;
}

bool parse_image_size(const char *flag, const char *text, int *h, int *w)
{
    char buf[64], *x;

    if (strlen(text) >= sizeof buf) {
        usage_error(flag, "'%s' is not N or HxW", text);
        return false;
    }
    strcpy(buf, text);
    x = strchr(buf, 'x');
    if (x)
        *x = '\0';
    return image_side(flag, text, buf, h) && image_side(flag, text, x ? x + 1 : buf, w);
}

bool parse_model_spec(const char *flag, const char *spec, bool allow_json)
{
    size_t n = strlen(spec);
    long units;
    char *end;

    if (!strcmp(spec, "linear") || (allow_json && n > 5 && !strcmp(spec + n - 5, ".json")))
        return true;
    if (strncmp(spec, "mlp:", 4) != 0) {
        usage_error(flag, "'%s' is not a model; use linear, mlp:N (N hidden units, 1 to "
                    "%d)%s", spec, CLI_MLP_MAX_UNITS, allow_json ? " or a .json head" : "");
        return false;
    }
    errno = 0;
    units = strtol(spec + 4, &end, 10);
    if (!isdigit((unsigned char)spec[4]) || *end) {
        usage_error(flag, "'%s': N in mlp:N must be a whole number of hidden units", spec);
        return false;
    }
    if (errno == ERANGE || units < 1 || units > CLI_MLP_MAX_UNITS) {
        usage_error(flag, "'%s' is out of range; use mlp:1 to mlp:%d", spec,
                    CLI_MLP_MAX_UNITS);
        return false;
    }
    return true;
}

bool parse_split(const char *flag, const char *text, double *fr, int *k)
{
    char buf[128], *tok, *next;
    double sum = 0.0;

    if (strlen(text) >= sizeof buf) {
        usage_error(flag, "'%s' is too long", text);
        return false;
    }
    strcpy(buf, text);
    *k = 0;
    /* strsep, not strtok: an empty field (",0.5,0.5", "0.5,,0.5") is an
     * error, not skipped, or the parts would shift */
    for (next = buf; (tok = strsep(&next, ",")) != NULL;) {
        if (!*tok) {
            usage_error(flag, "'%s' has an empty fraction; give 1 to 3 numbers separated by "
                              "commas, like 0.7,0.2,0.1", text);
            return false;
        }
        if (*k == 3) {
            usage_error(flag, "'%s' has more than 3 fractions (train,val,test)", text);
            return false;
        }
        if (!parse_float(flag, tok, 0.0, 1.0, &fr[*k]))
            return false;
        sum += fr[(*k)++];
    }
    if (*k == 0 || fabs(sum - 1.0) > 1e-6) {
        usage_error(flag, "fractions '%s' must sum to 1, like 0.7,0.2,0.1", text);
        return false;
    }
    return true;
}

bool parse_choice(const char *flag, const char *text, const char *const *choices, int *out)
{
    char list[256] = "";

    for (int i = 0; choices[i]; i++) {
        if (strcmp(text, choices[i]) == 0) {
            *out = i;
            return true;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 choices[i]);
    }
    usage_error(flag, "'%s' is not one of: %s", text, list);
    return false;
}

const char *option_name(const struct option *opts, int val)
{
    static char name[64];

    for (int i = 0; opts[i].name; i++)
        if (opts[i].val == val) {
            snprintf(name, sizeof name, "--%s", opts[i].name);
            return name;
        }
    return "option";
}

static bool is_flag(const struct option *opts, int val)
{
    for (int i = 0; opts[i].name; i++)
        if (opts[i].val == val)
            return true;
    return false;
}

int next_option(int argc, char **argv, const struct option *opts)
{
    int c;

    opterr = 0;
    c = getopt_long(argc, argv, ":", opts, NULL);
    if (c == ':') {
        usage_error(option_name(opts, optopt), "needs a value");
        return '?';
    }
    if (c == '?' && is_flag(opts, optopt)) { /* a flag that takes no value got one */
        usage_error(option_name(opts, optopt), "takes no value");
        return '?';
    }
    if (c == '?') {
        usage_error(argv[optind - 1], "unknown option (or an ambiguous abbreviation)");
        return '?';
    }
    /* "--save --verbose": the next flag was taken as the value */
    if (optarg && optarg == argv[optind - 1] && strncmp(optarg, "--", 2) == 0) {
        usage_error(option_name(opts, c), "needs a value, got the option '%s' (for a value that "
                    "starts with '--', write %s=VALUE)", optarg, option_name(opts, c));
        return '?';
    }
    return c;
}

bool not_empty(const char *flag, const char *text)
{
    if (*text)
        return true;
    usage_error(flag, "needs a value, not an empty string");
    return false;
}

bool valid_device_spec(const char *flag, const char *spec)
{
    const char *p = spec + 7;
    size_t a, b;

    if (!*spec) {
        usage_error(flag, "is empty; use cpu, opencl, opencl:P:D or part of a device name");
        return false;
    }
    if (strncasecmp(spec, "opencl:", 7) != 0)
        return true;
    a = strspn(p, "0123456789");
    b = p[a] == ':' ? strspn(p + a + 1, "0123456789") : 0;
    if (a == 0 || a > 6 || b == 0 || b > 6 || p[a + 1 + b] != '\0') {
        usage_error(flag, "'%s' is not opencl:P:D with a platform and a device number (see "
                          "clfit devices)", spec);
        return false;
    }
    return true;
}

bool readable_file(const char *flag, const char *path)
{
    struct stat sb;

    if (stat(path, &sb) != 0 || access(path, R_OK) != 0) {
        fprintf(stderr, "clfit: %s %s: cannot read it: %s\n", flag, path, strerror(errno));
        return false;
    }
    if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "clfit: %s %s: not a regular file\n", flag, path);
        return false;
    }
    return true;
}

bool readable_dir(const char *flag, const char *path)
{
    struct stat sb;

    if (stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "clfit: %s %s: not a folder; give a folder of class subfolders\n",
                flag, path);
        return false;
    }
    if (stat(path, &sb) != 0 || access(path, R_OK | X_OK) != 0) {
        fprintf(stderr, "clfit: %s %s: cannot read it: %s\n", flag, path, strerror(errno));
        return false;
    }
    return true;
}

static void discard(clf_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)msg;
    (void)user;
}

/* Whether path is a clfit checkpoint file. Quiet: the failed load has
 * already said what is wrong with the file. */
static bool is_checkpoint(const char *path)
{
    clf_st_file f = {0};
    const char *kind;
    bool yes;

    clf_log_set_callback(discard, NULL);
    yes = clf_st_read(path, &f) == CLF_OK && (kind = clf_st_meta(&f, CLF_MF_FORMAT)) &&
          strcmp(kind, "checkpoint") == 0;
    clf_log_set_callback(NULL, NULL);
    clf_st_free(&f);
    return yes;
}

void checkpoint_hint(const char *path)
{
    struct stat sb;
    bool is_dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    char *dir = strdup(path), *slash;
    const char *name;

    if (!dir || !(is_dir ? clf_checkpoint_exists(path) : is_checkpoint(path))) {
        free(dir);
        return;
    }
    slash = is_dir ? NULL : strrchr(dir, '/');
    name = slash ? slash + 1 : dir;
    fprintf(stderr, "clfit: %s %s a training checkpoint, not a model file. A model file comes "
                    "from 'clfit train DATA_DIR ... --save FILE'.\n",
            path, is_dir ? "holds" : "is");
    if (!is_dir && strcmp(name, "checkpoint.safetensors") != 0) {
        fprintf(stderr, "clfit: to make one from it, put it in a folder as "
                        "checkpoint.safetensors and rerun the same train command with "
                        "'--checkpoint-dir FOLDER --resume --save FILE'.\n");
        free(dir);
        return;
    }
    if (slash == dir)
        slash[1] = '\0'; /* "/x" is in "/" */
    else if (slash)
        *slash = '\0';
    fprintf(stderr, "clfit: to make one from it, rerun the same train command with "
                    "'--checkpoint-dir %s --resume --save FILE' (when all its epochs are "
                    "done, that only saves the model).\n",
            is_dir ? path : slash ? dir : ".");
    free(dir);
}

/* What an existing `path` is when an output cannot take its place: for a
 * file, anything but a regular file (renaming a new file into place would
 * replace a device, FIFO or link, not write to it); for a folder, anything
 * but a folder (or a link to one). NULL when it is fine or absent. */
static const char *wrong_kind(const char *path, bool is_dir)
{
    struct stat sb;

    if (is_dir)
        return stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode) ? "a file, not a folder" : NULL;
    if (lstat(path, &sb) != 0 || S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))
        return NULL;
    return S_ISLNK(sb.st_mode) ? "a symbolic link; clfit would replace the link, not write "
                                 "through it: give the path it points to"
         : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode)
             ? "a device; clfit writes a new file and renames it into place, which would "
               "replace the device: give the path of a regular file"
             : "not a regular file (a FIFO or socket); clfit writes a new file and renames "
               "it into place, which would replace it: give the path of a regular file";
}

bool writable_place(const char *flag, const char *path, bool is_dir)
{
    char *copy = strdup(path), *slash;
    const char *dir, *wrong = wrong_kind(path, is_dir);
    struct stat sb;
    bool ok;

    if (wrong) {
        fprintf(stderr, "clfit: %s %s: is %s\n", flag, path, wrong);
        return false;
    }
    if (!copy)
        return false;
    if (!is_dir && ((*path && path[strlen(path) - 1] == '/') ||
                    (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)))) {
        fprintf(stderr, "clfit: %s %s: names a folder; give a file name\n", flag, path);
        free(copy);
        return false;
    }
    if (is_dir && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        dir = path;
    } else {
        while ((slash = strrchr(copy, '/')) && slash > copy && !slash[1])
            *slash = '\0'; /* "dir/" names dir */
        slash = strrchr(copy, '/');
        dir = !slash ? "." : slash == copy ? "/" : (*slash = '\0', copy);
    }
    errno = 0;
    ok = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && access(dir, W_OK) == 0;
    if (!ok)
        fprintf(stderr, "clfit: %s %s: folder '%s' %s\n", flag, path, dir,
                errno == ENOENT || errno == ENOTDIR ? "does not exist"
                : errno == 0 && !S_ISDIR(sb.st_mode) ? "is a file, not a folder"
                                                     : "is not a writable folder");
    free(copy);
    return ok;
}

char *resolved_path(const char *path)
{
    char *copy = strdup(path), *slash, *dir, *out = NULL;
    const char *base;
    size_t len;

    if (!copy)
        return NULL;
    len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    slash = strrchr(copy, '/');
    base = slash ? slash + 1 : copy;
    if (slash == copy)
        dir = realpath("/", NULL);
    else
        dir = slash ? (*slash = '\0', realpath(copy, NULL)) : realpath(".", NULL);
    if (dir && clf_add_size(strlen(dir), strlen(base) + 2, &len) && (out = malloc(len)))
        snprintf(out, len, "%s/%s", strcmp(dir, "/") ? dir : "", base);
    free(dir);
    free(copy);
    return out;
}

/* The test of outside_data on resolved paths; a file at data's top level
 * is ignored by the scan. */
static bool inside_data(const char *path, const char *data, bool is_dir)
{
    size_t n = strlen(data);
    const char *rest = path + n;

    if (strncmp(path, data, n) != 0 || (*rest != '/' && *rest != '\0'))
        return false;
    return is_dir || (*rest == '/' && strchr(rest + 1, '/') != NULL);
}

/* path wholly resolved when it exists (a symlinked folder leads where it
 * points), else with its folder resolved; malloc'd, NULL when neither. */
static char *where(const char *path)
{
    char *real = realpath(path, NULL);

    return real ? real : resolved_path(path);
}

bool outside_data(const char *flag, const char *path, const char *data_dir, bool is_dir)
{
    char *out = where(path), *data = realpath(data_dir, NULL);
    bool inside = out && data && inside_data(out, data, is_dir);

    if (inside)
        fprintf(stderr, "clfit: %s %s is inside the data folder %s; write outputs elsewhere "
                        "(they would mix with the images)\n", flag, path, data_dir);
    free(out);
    free(data);
    return !inside;
}

bool spares_input(const char *flag, const char *out, const char *in_flag, const char *in)
{
    char *o = where(out), *i = where(in);
    bool same = o && i && strcmp(o, i) == 0;

    if (same)
        fprintf(stderr, "clfit: %s %s: is %s, which this command reads or writes; writing "
                        "both to one file would destroy one: choose another name\n", flag,
                out, in_flag);
    free(o);
    free(i);
    return !same;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);

    return n >= k && strcasecmp(s + n - k, tail) == 0;
}

bool spares_folder_of(const char *flag, const char *out, const char *in_flag, const char *in)
{
    char *o = resolved_path(out), *i = realpath(in, NULL);
    char *o_slash = o ? strrchr(o, '/') : NULL, *i_slash = i ? strrchr(i, '/') : NULL;
    struct stat sb;
    bool clash = o_slash && i_slash && o_slash - o == i_slash - i &&
                 strncmp(o, i, (size_t)(o_slash - o)) == 0 && stat(out, &sb) == 0 &&
                 (ends_with(o, ".bin") || ends_with(o, ".json"));

    if (clash)
        fprintf(stderr, "clfit: %s %s: would replace a file in the folder of %s %s, which "
                        "holds its weights: write it to another folder or a new name\n",
                flag, out, in_flag, in);
    free(o);
    free(i);
    return !clash;
}

bool image_cache_usable(const char *dir, const char *data_dir)
{
    return !dir || (writable_place("--image-cache", dir, true) &&
                    outside_data("--image-cache", dir, data_dir, true));
}
