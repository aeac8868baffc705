/* Loading image folders: order, labels, hidden entries, bad files, empty
 * classes, symlinks, non-ASCII names, threads.
 *
 * Each test builds its tree in a fresh temporary folder. Images are solid
 * colour PNGs written here (put_solid_png) or fixtures from
 * tools/make_image_fixtures.py; a solid image resizes to the same colour,
 * so its first pixel tells which file an entry came from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clfit/data.h"
#include "test_data_util.h"

typedef struct fixture_dir {
    char root[256];
} fixture_dir;

static int setup(void **state)
{
    fixture_dir *f = calloc(1, sizeof *f);

    if (!f || !temp_dir(f->root, sizeof f->root))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_dir *f = *state;

    remove_tree(f->root);
    free(f);
    return 0;
}

static clf_data_opts small_opts(void)
{
    clf_data_opts o;

    clf_data_opts_default(&o);
    o.height = 4;
    o.width = 5;
    o.threads = 2;
    return o;
}

/* Loads with `o`, capturing the log; returns the status. */
static clf_status load(const char *root, const clf_data_opts *o, clf_dataset **ds,
                       captured_log *log)
{
    clf_status st;

    capture_start(log);
    st = clf_dataset_load(root, o, ds);
    capture_stop();
    return st;
}

/* Entry i is a solid image of colour (r, g, b) with label `label`. */
static void expect_entry(const clf_dataset *ds, size_t i, int label, int r, int g, int b)
{
    const uint8_t *px = clf_dataset_image(ds, i);
    int n = clf_dataset_height(ds) * clf_dataset_width(ds);

    assert_non_null(px);
    assert_int_equal(clf_dataset_label(ds, i), label);
    for (int p = 0; p < n; p++)
        if (px[3 * p] != r || px[3 * p + 1] != g || px[3 * p + 2] != b)
            fail_msg("entry %zu (%s) pixel %d = (%d,%d,%d), want (%d,%d,%d)", i,
                     clf_dataset_path(ds, i), p, px[3 * p], px[3 * p + 1], px[3 * p + 2], r,
                     g, b);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);

    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* ---- order and labels ------------------------------------------------------ */

/* The tree of tools/ref/imagefolder_order.py; the expected order is what
 * it prints for torchvision's ImageFolder. Image i has red = 10 * i. */
static void folder_order(void **state)
{
    static const char *const order[] = {
        "C_upper/deep/er/e.png", "a_dog/B.png",       "a_dog/a.png",
        "a_dog/z.png",           "a_dog/sub/b.png",   "a_dog/sub x/d.png",
        "a_dog/sub-x/c.png",     "b_cat/1.png",       "b_cat/10.png",
        "b_cat/2.png",
    };
    static const int labels[] = {0, 1, 1, 1, 1, 1, 1, 2, 2, 2};
    static const char *const dirs[] = {"C_upper", "C_upper/deep", "C_upper/deep/er",
                                       "a_dog",   "a_dog/sub",    "a_dog/sub-x",
                                       "a_dog/sub x", "b_cat"};
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;

    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        assert_int_equal(make_dir(f->root, dirs[i]), 0);
    for (int i = 9; i >= 0; i--) /* written in reverse: order must not come from disk */
        assert_int_equal(put_solid_png(f->root, order[i], 3, 2, 10 * i, 1, 2), 0);

    assert_int_equal(load(f->root, &o, &ds, &log), CLF_OK);
    assert_int_equal(clf_dataset_size(ds), 10);
    assert_int_equal(clf_dataset_classes(ds), 3);
    assert_string_equal(clf_dataset_class_name(ds, 0), "C_upper");
    assert_string_equal(clf_dataset_class_name(ds, 1), "a_dog");
    assert_string_equal(clf_dataset_class_name(ds, 2), "b_cat");
    for (size_t i = 0; i < 10; i++) {
        assert_true(ends_with(clf_dataset_path(ds, i), order[i]));
        expect_entry(ds, i, labels[i], 10 * (int)i, 1, 2);
    }
    assert_non_null(strstr(log.text, "found 10 images in 3 classes"));
    assert_non_null(strstr(log.text, "(0 skipped)"));
    clf_dataset_free(ds);
}

/* Extensions in any case; content decides: a PNG named .jpg and a JPEG
 * named .png both decode; other extensions are counted in one line. */
static void extensions_and_content(void **state)
{
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;

    assert_int_equal(make_dir(f->root, "k"), 0);
    assert_int_equal(put_solid_png(f->root, "k/a.PNG", 2, 2, 1, 2, 3), 0);
    assert_int_equal(put_solid_png(f->root, "k/b.JpEg", 2, 2, 4, 5, 6), 0);
    assert_int_equal(put_fixture(f->root, "k/c.png", "odd.jpg"), 0);
    assert_int_equal(put_bytes(f->root, "k/notes.txt", "hi", 2), 0);
    assert_int_equal(put_bytes(f->root, "k/README", "hi", 2), 0);
    assert_int_equal(put_solid_png(f->root, "k/d.webp", 2, 2, 7, 8, 9), 0);

    assert_int_equal(load(f->root, &o, &ds, &log), CLF_OK);
    assert_int_equal(clf_dataset_size(ds), 3);
    expect_entry(ds, 0, 0, 1, 2, 3);
    expect_entry(ds, 1, 0, 4, 5, 6);
    assert_true(ends_with(clf_dataset_path(ds, 2), "k/c.png"));
    assert_int_equal(capture_count(&log, "ignoring 3 files without an image extension"), 1);
    assert_int_equal(log.warnings, 0);
    clf_dataset_free(ds);
}

/* .DS_Store, .ipynb_checkpoints/, a hidden class and a hidden image are
 * not looked at (none of them even counts as skipped). */
static void hidden_entries_ignored(void **state)
{
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;

    assert_int_equal(make_dir(f->root, "k"), 0);
    assert_int_equal(make_dir(f->root, "k/.ipynb_checkpoints"), 0);
    assert_int_equal(make_dir(f->root, ".hidden_class"), 0);
    assert_int_equal(put_solid_png(f->root, "k/x.png", 2, 2, 9, 9, 9), 0);
    assert_int_equal(put_bytes(f->root, "k/.DS_Store", "\0\0\0\1Bud1", 8), 0);
    assert_int_equal(put_bytes(f->root, "k/.broken.png", "junk", 4), 0);
    assert_int_equal(put_solid_png(f->root, "k/.ipynb_checkpoints/y.png", 2, 2, 1, 1, 1), 0);
    assert_int_equal(put_solid_png(f->root, ".hidden_class/z.png", 2, 2, 1, 1, 1), 0);
    assert_int_equal(put_bytes(f->root, ".DS_Store", "junk", 4), 0);

    assert_int_equal(load(f->root, &o, &ds, &log), CLF_OK);
    assert_int_equal(clf_dataset_classes(ds), 1);
    assert_int_equal(clf_dataset_size(ds), 1);
    assert_int_equal(clf_dataset_skipped(ds), 0);
    expect_entry(ds, 0, 0, 9, 9, 9);
    assert_int_equal(log.warnings, 0);
    assert_null(strstr(log.text, "ignoring")); /* hidden files are not even counted */
    clf_dataset_free(ds);
}

/* Non-ASCII class and file names (UTF-8): "Ünïcödé_类" and "ß_ファイル.png". */
#define CLASS_UTF8 "\xc3\x9c" "n" "\xc3\xaf" "c" "\xc3\xb6" "d" "\xc3\xa9" "_" "\xe7\xb1\xbb"
#define FILE_UTF8 "\xc3\x9f" "_" "\xe3\x83\x95\xe3\x82\xa1\xe3\x82\xa4\xe3\x83\xab" ".png"

static void non_ascii_names(void **state)
{
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;

    assert_int_equal(make_dir(f->root, CLASS_UTF8), 0);
    assert_int_equal(make_dir(f->root, "plain"), 0);
    assert_int_equal(put_solid_png(f->root, CLASS_UTF8 "/" FILE_UTF8, 2, 3, 200, 100, 50), 0);
    assert_int_equal(put_solid_png(f->root, "plain/a.png", 2, 3, 1, 1, 1), 0);

    assert_int_equal(load(f->root, &o, &ds, &log), CLF_OK);
    /* "plain" < "\xc3..." byte-wise, as Python sorts code points */
    assert_string_equal(clf_dataset_class_name(ds, 1), CLASS_UTF8);
    expect_entry(ds, 1, 1, 200, 100, 50);
    assert_true(ends_with(clf_dataset_path(ds, 1), FILE_UTF8));
    clf_dataset_free(ds);
}

/* ---- bad files ----------------------------------------------------------------- */

/* Writes the first `keep` bytes of fixture `name` to dir/rel. */
static void put_cut(const char *dir, const char *rel, const char *name, size_t keep)
{
    size_t len;
    unsigned char *d = fixture(name, &len);

    assert_non_null(d);
    assert_true(keep < len);
    assert_int_equal(put_bytes(dir, rel, d, keep), 0);
    free(d);
}

/* Three classes with good and bad files interleaved (names sort as listed):
 *   a: 0_good (10), 1_zero.png (0 bytes), 2_good (20), 3_text.png
 *   b: 0_cut.png (half of noise.png), 1_good (30)
 *   c: 0_good (40), 1_cut.jpg (half of noise.jpg), 2_fifo.png (a FIFO),
 *      3_dangling.png (symlink to nowhere)
 * Usable: 10, 20 (label 0), 30 (label 1), 40 (label 2); 6 skipped. */
static void bad_tree(const char *root)
{
    char path[512];

    assert_int_equal(make_dir(root, "a"), 0);
    assert_int_equal(make_dir(root, "b"), 0);
    assert_int_equal(make_dir(root, "c"), 0);
    assert_int_equal(put_solid_png(root, "a/0_good.png", 3, 3, 10, 0, 0), 0);
    assert_int_equal(put_bytes(root, "a/1_zero.png", "", 0), 0);
    assert_int_equal(put_solid_png(root, "a/2_good.png", 7, 1, 20, 0, 0), 0);
    assert_int_equal(put_fixture(root, "a/3_text.png", "text.png"), 0);
    put_cut(root, "b/0_cut.png", "noise.png", 2000);
    assert_int_equal(put_solid_png(root, "b/1_good.png", 1, 1, 30, 0, 0), 0);
    assert_int_equal(put_solid_png(root, "c/0_good.png", 9, 9, 40, 0, 0), 0);
    put_cut(root, "c/1_cut.jpg", "noise.jpg", 1000);
    snprintf(path, sizeof path, "%s/c/2_fifo.png", root);
    assert_int_equal(mkfifo(path, 0644), 0);
    snprintf(path, sizeof path, "%s/c/3_dangling.png", root);
    assert_int_equal(symlink("/nonexistent/clfit/x.png", path), 0);
}

static void skip_keeps_labels(void **state)
{
    static const char *const reasons[] = {
        "1_zero.png': empty file (0 bytes)",
        "3_text.png': not an image",
        "0_cut.png': PNG decoding failed",
        "1_cut.jpg': JPEG decoding failed: Premature end of JPEG file",
        "2_fifo.png': not a regular file",
        "3_dangling.png': cannot open: No such file or directory",
    };
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;
    const char *prev = NULL;

    bad_tree(f->root);
    assert_int_equal(load(f->root, &o, &ds, &log), CLF_OK);
    assert_int_equal(clf_dataset_size(ds), 4);
    assert_int_equal(clf_dataset_skipped(ds), 6);
    expect_entry(ds, 0, 0, 10, 0, 0);
    expect_entry(ds, 1, 0, 20, 0, 0);
    expect_entry(ds, 2, 1, 30, 0, 0);
    expect_entry(ds, 3, 2, 40, 0, 0);

    /* one warning per bad file, naming it and why, in file order */
    assert_int_equal(log.warnings, 6);
    for (size_t i = 0; i < 6; i++) {
        const char *at = strstr(log.text, reasons[i]);

        if (!at)
            fail_msg("no warning '%s' in:\n%s", reasons[i], log.text);
        assert_true(prev == NULL || at > prev);
        prev = at;
    }
    assert_non_null(strstr(log.text, "found 4 images in 3 classes"));
    assert_non_null(strstr(log.text, "(6 skipped)"));
    clf_dataset_free(ds);
}

/* Under the fail policy the first bad file in order stops the load, on
 * any number of threads, and nothing after it is reported. */
static void fail_stops_at_first(void **state)
{
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = (clf_dataset *)&o; /* must be reset to NULL */
    captured_log log;

    bad_tree(f->root);
    o.on_bad_image = CLF_BAD_IMAGE_FAIL;
    for (int threads = 1; threads <= 3; threads++) {
        o.threads = threads;
        assert_int_equal(load(f->root, &o, &ds, &log), CLF_ERR_IMAGE);
        assert_null(ds);
        assert_int_equal(log.errors, 1);
        assert_int_equal(log.warnings, 0);
        assert_non_null(strstr(log.text, "a/1_zero.png': empty file (0 bytes)"));
        assert_null(strstr(log.text, "3_text.png"));
    }
}

/* Loads root, expecting `want`; then judge (NULL: none) looks at the
 * dataset and the log. Returns a description of the first mismatch, or
 * NULL. (Runs in a child process as root, so it reports, not asserts.) */
static const char *check_load(const char *root, clf_status want,
                              const char *(*judge)(const clf_dataset *, const char *))
{
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log *log = malloc(sizeof *log);
    const char *bad = NULL;

    if (!log)
        return "out of memory";
    if (load(root, &o, &ds, log) != want)
        bad = "the load did not end as expected";
    else if (judge)
        bad = judge(ds, log->text);
    clf_dataset_free(ds);
    free(log);
    return bad;
}

static const char *judge_unreadable(const clf_dataset *ds, const char *log)
{
    if (clf_dataset_size(ds) != 1 || clf_dataset_skipped(ds) != 1)
        return "want 1 image and 1 skipped";
    if (!strstr(log, "b.png': cannot open: Permission denied"))
        return "no 'Permission denied' warning for b.png";
    if (!strstr(log, "cannot read folder"))
        return "no warning for the unreadable folder";
    return NULL;
}

/* k/b.png (mode 000) is skipped and k/locked/ (mode 000) warned about;
 * k/a.png loads. */
static const char *check_unreadable(const char *root)
{
    return check_load(root, CLF_OK, judge_unreadable);
}

/* Class folders k (one image) and locked (mode 000): the load fails
 * naming locked as unreadable, not as empty. */
static const char *judge_unreadable_class(const clf_dataset *ds, const char *log)
{
    (void)ds;
    if (!strstr(log, "class folder 'locked' cannot be read (permissions)"))
        return "the unreadable class folder is not named as unreadable";
    if (strstr(log, "empty class folder"))
        return "the unreadable class folder is called empty";
    return NULL;
}

static const char *check_unreadable_class(const char *root)
{
    return check_load(root, CLF_ERR_DATA, judge_unreadable_class);
}

/* Root reads through permissions, so as root the check runs in a child
 * process that has switched to the unprivileged user "nobody" (65534). */
static void check_as_nobody(const char *root, const char *(*check)(const char *))
{
    int status = 0;
    pid_t pid;

    assert_int_equal(chmod(root, 0755), 0); /* mkdtemp made it 0700 */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *bad;

        if (setgid(65534) != 0 || setuid(65534) != 0 || access(root, R_OK | X_OK) != 0)
            _exit(77); /* no such user, or $TMPDIR closed to it */
        bad = check(root);
        if (bad)
            fprintf(stderr, "as nobody: %s\n", bad);
        _exit(bad ? 1 : 0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        print_message("running as root, and user nobody cannot be used: case skipped\n");
        skip();
    }
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* An unreadable file is skipped with the reason; an unreadable subfolder
 * is a warning. */
static void unreadable_file(void **state)
{
    fixture_dir *f = *state;
    const char *bad;
    char path[512];

    assert_int_equal(make_dir(f->root, "k"), 0);
    assert_int_equal(make_dir(f->root, "k/locked"), 0);
    assert_int_equal(put_solid_png(f->root, "k/a.png", 1, 1, 1, 2, 3), 0);
    assert_int_equal(put_solid_png(f->root, "k/b.png", 1, 1, 4, 5, 6), 0);
    assert_int_equal(put_solid_png(f->root, "k/locked/c.png", 1, 1, 4, 5, 6), 0);
    snprintf(path, sizeof path, "%s/k/b.png", f->root);
    assert_int_equal(chmod(path, 0), 0);
    snprintf(path, sizeof path, "%s/k/locked", f->root);
    assert_int_equal(chmod(path, 0), 0);

    if (geteuid() == 0) {
        check_as_nobody(f->root, check_unreadable);
        return;
    }
    bad = check_unreadable(f->root);
    if (bad)
        fail_msg("%s", bad);
}

static void unreadable_class_folder(void **state)
{
    fixture_dir *f = *state;
    const char *bad;
    char path[512];

    assert_int_equal(make_dir(f->root, "k"), 0);
    assert_int_equal(make_dir(f->root, "locked"), 0);
    assert_int_equal(put_solid_png(f->root, "k/a.png", 1, 1, 1, 2, 3), 0);
    assert_int_equal(put_solid_png(f->root, "locked/b.png", 1, 1, 4, 5, 6), 0);
    snprintf(path, sizeof path, "%s/locked", f->root);
    assert_int_equal(chmod(path, 0), 0);

    if (geteuid() == 0) {
        check_as_nobody(f->root, check_unreadable_class);
        return;
    }
    bad = check_unreadable_class(f->root);
    if (bad)
        fail_msg("%s", bad);
}

/* ---- empty and missing ------------------------------------------------------- */

/* b holds only a text file, c only a hidden file and a zero-byte image:
 * both are listed in one error; allowed, each is a warning instead. */
static void empty_classes(void **state)
{
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;

    assert_int_equal(make_dir(f->root, "a"), 0);
    assert_int_equal(make_dir(f->root, "b"), 0);
    assert_int_equal(make_dir(f->root, "c"), 0);
    assert_int_equal(put_solid_png(f->root, "a/x.png", 2, 2, 1, 2, 3), 0);
    assert_int_equal(put_bytes(f->root, "b/notes.txt", "x", 1), 0);
    assert_int_equal(put_bytes(f->root, "c/.DS_Store", "x", 1), 0);
    assert_int_equal(put_bytes(f->root, "c/zero.jpg", "", 0), 0);

    assert_int_equal(load(f->root, &o, &ds, &log), CLF_ERR_DATA);
    assert_null(ds);
    assert_non_null(strstr(log.text, "2 of 3 class folders in"));
    assert_non_null(strstr(log.text, "empty class folder: 'b'"));
    assert_non_null(strstr(log.text, "empty class folder: 'c'"));
    assert_null(strstr(log.text, "empty class folder: 'a'"));
    assert_non_null(strstr(log.text, "add images to them or remove them"));
    assert_null(strstr(log.text, "allow_empty_classes")); /* CLI users read it too */

    o.allow_empty_classes = true;
    assert_int_equal(load(f->root, &o, &ds, &log), CLF_OK);
    assert_int_equal(clf_dataset_classes(ds), 3);
    assert_int_equal(clf_dataset_size(ds), 1);
    assert_int_equal(log.warnings, 3); /* c/zero.jpg, then b and c empty */
    assert_non_null(strstr(log.text, "class folder 'b'"));
    assert_non_null(strstr(log.text, "class folder 'c'"));
    clf_dataset_free(ds);
}

/* One class and one image in words; a text file named .jpg is quoted as
 * text, not as hex bytes. */
static void one_class_in_words(void **state)
{
    static const char csv[] = "name,size\nx,1\n";
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;

    assert_int_equal(make_dir(f->root, "only"), 0);
    assert_int_equal(put_solid_png(f->root, "only/x.png", 2, 2, 1, 2, 3), 0);
    assert_int_equal(put_bytes(f->root, "only/list.jpg", csv, sizeof csv - 1), 0);
    assert_int_equal(load(f->root, &o, &ds, &log), CLF_OK);
    if (!strstr(log.text, "found 1 image in 1 class in"))
        fail_msg("no singular count in:\n%s", log.text);
    if (!strstr(log.text, "list.jpg': not an image: it starts with the text "
                          "\"name,size\\nx,1\\n\""))
        fail_msg("the text file is not quoted as text in:\n%s", log.text);
    clf_dataset_free(ds);
}

static void no_class_folders(void **state)
{
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;
    char missing[512];

    assert_int_equal(load(f->root, &o, &ds, &log), CLF_ERR_DATA);
    assert_non_null(strstr(log.text, "has no class subfolders; expected one subfolder"));
    assert_non_null(strstr(log.text, f->root));

    assert_int_equal(put_solid_png(f->root, "x.png", 2, 2, 1, 2, 3), 0);
    assert_int_equal(put_solid_png(f->root, "y.jpg", 2, 2, 1, 2, 3), 0);
    assert_int_equal(load(f->root, &o, &ds, &log), CLF_ERR_DATA);
    assert_non_null(strstr(log.text, "no class subfolders, only 2 image files directly"));

    snprintf(missing, sizeof missing, "%s/does-not-exist", f->root);
    assert_int_equal(load(missing, &o, &ds, &log), CLF_ERR_IO);
    assert_non_null(strstr(log.text, "cannot open the data folder"));
    assert_non_null(strstr(log.text, "No such file or directory"));
}

static void no_usable_images(void **state)
{
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;

    assert_int_equal(make_dir(f->root, "a"), 0);
    assert_int_equal(make_dir(f->root, "b"), 0);
    assert_int_equal(put_bytes(f->root, "a/readme.txt", "x", 1), 0);
    assert_int_equal(load(f->root, &o, &ds, &log), CLF_ERR_DATA);
    assert_non_null(strstr(log.text, "no image files in the 2 class folders"));

    assert_int_equal(put_bytes(f->root, "a/bad.png", "x", 1), 0);
    assert_int_equal(put_bytes(f->root, "b/bad.jpg", "", 0), 0);
    assert_int_equal(load(f->root, &o, &ds, &log), CLF_ERR_DATA);
    assert_null(ds);
    assert_non_null(strstr(log.text, "no usable image in"));
    assert_non_null(strstr(log.text, "all 2 image files were skipped"));
}

static void bad_options(void **state)
{
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;

    o.height = 0;
    assert_int_equal(load(f->root, &o, &ds, &log), CLF_ERR_ARG);
    assert_non_null(strstr(log.text, "image size 0 x 5 is out of range"));
    o.height = 40000;
    assert_int_equal(load(f->root, &o, &ds, &log), CLF_ERR_ARG);
    o = small_opts();
    o.on_bad_image = (clf_bad_image_policy)7;
    assert_int_equal(load(f->root, &o, &ds, &log), CLF_ERR_ARG);
}

/* ---- symlinks ------------------------------------------------------------------ */

/* .store/s.png (hidden folder, so not a class) is reached twice: through
 * the class symlink "linked" and the file symlink a/l.png. a/up -> ..
 * (the data folder) and a/self -> . are loops: warned about, not walked.
 * "gone", a link to nothing, is no class, with a warning. */
static void symlinks_followed_loops_stopped(void **state)
{
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;
    char path[512];

    assert_int_equal(make_dir(f->root, ".store"), 0);
    assert_int_equal(make_dir(f->root, "a"), 0);
    assert_int_equal(put_solid_png(f->root, ".store/s.png", 2, 2, 5, 5, 5), 0);
    assert_int_equal(put_solid_png(f->root, "a/x.png", 2, 2, 1, 1, 1), 0);
    snprintf(path, sizeof path, "%s/linked", f->root);
    assert_int_equal(symlink(".store", path), 0);
    snprintf(path, sizeof path, "%s/a/l.png", f->root);
    assert_int_equal(symlink("../.store/s.png", path), 0);
    snprintf(path, sizeof path, "%s/a/up", f->root);
    assert_int_equal(symlink("..", path), 0);
    snprintf(path, sizeof path, "%s/a/self", f->root);
    assert_int_equal(symlink(".", path), 0);
    snprintf(path, sizeof path, "%s/gone", f->root); /* a class behind a dead link */
    assert_int_equal(symlink("/nonexistent/clfit/class", path), 0);

    assert_int_equal(load(f->root, &o, &ds, &log), CLF_OK);
    assert_non_null(strstr(log.text, "gone' is a link to nothing (No such file or directory) "
                                     "and is not used as a class folder"));
    assert_int_equal(clf_dataset_classes(ds), 2);
    assert_string_equal(clf_dataset_class_name(ds, 1), "linked");
    assert_int_equal(clf_dataset_size(ds), 3);
    expect_entry(ds, 0, 0, 5, 5, 5); /* a/l.png */
    expect_entry(ds, 1, 0, 1, 1, 1); /* a/x.png */
    expect_entry(ds, 2, 1, 5, 5, 5); /* linked/s.png */
    assert_int_equal(capture_count(&log, "symlink loop"), 2);
    assert_non_null(strstr(log.text, "a/up' leads back"));
    assert_non_null(strstr(log.text, "a/self' leads back"));
    clf_dataset_free(ds);
}

/* ---- threads --------------------------------------------------------------------- */

/* 60 files of different sizes and formats, some bad: the pixels, labels,
 * paths and log are the same for 1, 2, 3 and "all cores" threads. */
static void same_result_any_threads(void **state)
{
    static const char *const fixtures[] = {"noise.png", "noise.jpg", "quads.jpg",
                                           "interlaced.png", "anim.gif", "rgb.bmp"};
    static const int thread_counts[] = {2, 3, 0};
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ref = NULL;
    captured_log *log = malloc(2 * sizeof *log);
    char rel[64];

    o.height = 16;
    o.width = 12;
    for (int c = 0; c < 3; c++) {
        snprintf(rel, sizeof rel, "class%d", c);
        assert_int_equal(make_dir(f->root, rel), 0);
        for (int i = 0; i < 20; i++) {
            snprintf(rel, sizeof rel, "class%d/%02d.png", c, i);
            if (i % 7 == 3)
                assert_int_equal(put_bytes(f->root, rel, "bad", 3), 0);
            else if (i % 3 == 0)
                assert_int_equal(put_fixture(f->root, rel, fixtures[(c + i) % 6]), 0);
            else
                assert_int_equal(put_solid_png(f->root, rel, 1 + i, 1 + c, 10 * i, c, 7), 0);
        }
    }
    o.threads = 1;
    assert_int_equal(load(f->root, &o, &ref, &log[0]), CLF_OK);
    assert_int_equal(clf_dataset_skipped(ref), 9);
    for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
        clf_dataset *ds = NULL;

        o.threads = thread_counts[t];
        assert_int_equal(load(f->root, &o, &ds, &log[1]), CLF_OK);
        assert_int_equal(clf_dataset_size(ds), clf_dataset_size(ref));
        assert_memory_equal(clf_dataset_image(ds, 0), clf_dataset_image(ref, 0),
                            clf_dataset_size(ds) * 16 * 12 * 3);
        for (size_t i = 0; i < clf_dataset_size(ds); i++) {
            assert_int_equal(clf_dataset_label(ds, i), clf_dataset_label(ref, i));
            assert_string_equal(clf_dataset_path(ds, i), clf_dataset_path(ref, i));
        }
        assert_string_equal(log[1].text, log[0].text);
        clf_dataset_free(ds);
    }
    clf_dataset_free(ref);
    free(log);
}

typedef struct progress_seen {
    size_t calls, last_done, last_total;
    bool monotonic;
} progress_seen;

static void on_progress(size_t done, size_t total, void *user)
{
    progress_seen *p = user;

    p->monotonic = p->monotonic && done == p->last_done + 1;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

/* One call per file found (bad ones too), counting up to the total. */
static void progress_reported(void **state)
{
    fixture_dir *f = *state;
    clf_data_opts o = small_opts();
    clf_dataset *ds = NULL;
    captured_log log;
    progress_seen seen = {0, 0, 0, true};

    bad_tree(f->root);
    o.progress = on_progress;
    o.progress_user = &seen;
    assert_int_equal(load(f->root, &o, &ds, &log), CLF_OK);
    assert_int_equal(seen.calls, 10);
    assert_int_equal(seen.last_done, 10);
    assert_int_equal(seen.last_total, 10);
    assert_true(seen.monotonic);
    clf_dataset_free(ds);
}

/* clf_image_load: one file, the same decode and resize, errors logged. */
static void single_image(void **state)
{
    fixture_dir *f = *state;
    uint8_t px[4 * 5 * 3];
    captured_log log;
    char path[512];

    assert_int_equal(put_solid_png(f->root, "one.png", 3, 3, 7, 8, 9), 0);
    snprintf(path, sizeof path, "%s/one.png", f->root);
    assert_int_equal(clf_image_load(path, 4, 5, px), CLF_OK);
    for (int i = 0; i < 20; i++)
        assert_int_equal(px[3 * i] + px[3 * i + 1] + px[3 * i + 2], 7 + 8 + 9);

    snprintf(path, sizeof path, "%s/missing.png", f->root);
    capture_start(&log);
    assert_int_equal(clf_image_load(path, 4, 5, px), CLF_ERR_IO);
    capture_stop();
    assert_non_null(strstr(log.text, "missing.png': cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(folder_order, setup, teardown),
        cmocka_unit_test_setup_teardown(extensions_and_content, setup, teardown),
        cmocka_unit_test_setup_teardown(hidden_entries_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(non_ascii_names, setup, teardown),
        cmocka_unit_test_setup_teardown(skip_keeps_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_stops_at_first, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_class_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(one_class_in_words, setup, teardown),
        cmocka_unit_test_setup_teardown(no_class_folders, setup, teardown),
        cmocka_unit_test_setup_teardown(no_usable_images, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(symlinks_followed_loops_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(same_result_any_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(progress_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(single_image, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
