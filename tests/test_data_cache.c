/* The on-disk cache of decoded images: reuse, invalidation, damage.
 *
 * Whether a load decoded a file is seen through the progress callback,
 * which is called once per decoded file (cached files are not decoded). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "clfit/data.h"
#include "test_data_util.h"

typedef struct dirs {
    char data[256], cache[300];
    size_t decoded; /* progress calls of the last load */
    captured_log log;
} dirs;

static int setup(void **state)
{
    dirs *d = calloc(1, sizeof *d);

    if (!d || !temp_dir(d->data, sizeof d->data))
        return -1;
    snprintf(d->cache, sizeof d->cache, "%s/.cache", d->data); /* hidden: not a class */
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    dirs *d = *state;

    remove_tree(d->data);
    free(d);
    return 0;
}

static void count_decoded(size_t done, size_t total, void *user)
{
    (void)done;
    (void)total;
    ((dirs *)user)->decoded++;
}

static clf_dataset *load(dirs *d, int size)
{
    clf_data_opts o;
    clf_dataset *ds = NULL;

    clf_data_opts_default(&o);
    o.height = o.width = size;
    o.threads = 2;
    o.cache_dir = d->cache;
    o.progress = count_decoded;
    o.progress_user = d;
    d->decoded = 0;
    capture_start(&d->log);
    assert_int_equal(clf_dataset_load(d->data, &o, &ds), CLF_OK);
    capture_stop();
    return ds;
}

/* a: 3 solid images (red 10, 20, 30), b: 2 (red 40, 50) and a bad file. */
static void make_tree(const char *root)
{
    assert_int_equal(make_dir(root, "a"), 0);
    assert_int_equal(make_dir(root, "b"), 0);
    for (int i = 0; i < 3; i++) {
        char rel[32];

        snprintf(rel, sizeof rel, "a/%d.png", i);
        assert_int_equal(put_solid_png(root, rel, 3 + i, 2, 10 * (i + 1), 1, 2), 0);
    }
    assert_int_equal(put_solid_png(root, "b/0.png", 5, 5, 40, 1, 2), 0);
    assert_int_equal(put_solid_png(root, "b/1.png", 1, 1, 50, 1, 2), 0);
    assert_int_equal(put_bytes(root, "b/2_bad.png", "nope", 4), 0);
}

static void expect_same(const clf_dataset *a, const clf_dataset *b)
{
    size_t n = clf_dataset_size(a);

    assert_int_equal(clf_dataset_size(b), n);
    assert_memory_equal(clf_dataset_image(a, 0), clf_dataset_image(b, 0),
                        n * (size_t)clf_dataset_height(a) * (size_t)clf_dataset_width(a) * 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(clf_dataset_label(a, i), clf_dataset_label(b, i));
        assert_string_equal(clf_dataset_path(a, i), clf_dataset_path(b, i));
    }
}

/* The second load decodes only the bad file (never cached) and gives the
 * same dataset; the bad file is reported again. */
static void second_load_uses_cache(void **state)
{
    dirs *d = *state;
    clf_dataset *first, *second;

    make_tree(d->data);
    first = load(d, 6);
    assert_int_equal(d->decoded, 6);
    second = load(d, 6);
    assert_int_equal(d->decoded, 1);
    assert_non_null(strstr(d->log.text, "5 of 6 images came from the image cache"));
    assert_non_null(strstr(d->log.text, "2_bad.png': not an image"));
    expect_same(first, second);
    clf_dataset_free(first);
    clf_dataset_free(second);
}

/* Another image size is another cache: nothing is reused across sizes. */
static void size_has_own_cache(void **state)
{
    dirs *d = *state;
    clf_dataset *ds;

    make_tree(d->data);
    clf_dataset_free(load(d, 6));
    ds = load(d, 4);
    assert_int_equal(d->decoded, 6);
    assert_int_equal(clf_dataset_height(ds), 4);
    clf_dataset_free(ds);
    clf_dataset_free(load(d, 4));
    assert_int_equal(d->decoded, 1);
}

/* A rewritten file (new content, new mtime) is decoded again; a removed
 * one is gone; an added one is decoded. The rest come from the cache. */
static void changed_files_decoded_again(void **state)
{
    static const struct timespec later[2] = {{0, UTIME_OMIT}, {2000000000, 0}};
    dirs *d = *state;
    clf_dataset *ds;
    char path[512];

    make_tree(d->data);
    clf_dataset_free(load(d, 6));
    assert_int_equal(put_solid_png(d->data, "a/1.png", 4, 2, 99, 1, 2), 0);
    snprintf(path, sizeof path, "%s/a/1.png", d->data);
    assert_int_equal(utimensat(AT_FDCWD, path, later, 0), 0); /* mtime surely differs */
    snprintf(path, sizeof path, "%s/b/0.png", d->data);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(put_solid_png(d->data, "b/9.png", 2, 2, 77, 1, 2), 0);

    ds = load(d, 6);
    assert_int_equal(d->decoded, 3); /* a/1.png, b/9.png and the bad file */
    assert_int_equal(clf_dataset_size(ds), 5);
    assert_int_equal(clf_dataset_image(ds, 1)[0], 99); /* a/1.png's new colour */
    assert_int_equal(clf_dataset_image(ds, 4)[0], 77); /* b/9.png */
    clf_dataset_free(ds);

    clf_dataset_free(load(d, 6)); /* the rewritten cache has them all */
    assert_int_equal(d->decoded, 1);
}

/* The path of the one cache file in d->cache. */
static void cache_file(const dirs *d, char *path, size_t size)
{
    DIR *dir = opendir(d->cache);
    struct dirent *e;

    assert_non_null(dir);
    path[0] = '\0';
    while ((e = readdir(dir)) != NULL)
        if (strstr(e->d_name, ".cache") && !strstr(e->d_name, ".tmp"))
            snprintf(path, size, "%s/%s", d->cache, e->d_name);
    closedir(dir);
    assert_true(path[0] != '\0');
}

/* Overwrites `len` bytes at `at` in the one cache file in d->cache. */
static void damage_cache(dirs *d, long at, const void *bytes, size_t len, bool truncate_it)
{
    char path[700];
    FILE *f;

    cache_file(d, path, sizeof path);
    if (truncate_it) {
        assert_int_equal(truncate(path, at), 0);
        return;
    }
    f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
}

/* A damaged cache is ignored with a warning, the images are decoded, and
 * the cache is rewritten. Damage: a wrong magic, a huge image count, a
 * huge name length, a cut-off file. */
static void damaged_cache_ignored(void **state)
{
    static const uint8_t huge[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    dirs *d = *state;
    clf_dataset *ref, *ds;

    make_tree(d->data);
    ref = load(d, 6);
    for (int kind = 0; kind < 4; kind++) {
        if (kind == 0)
            damage_cache(d, 0, "XLFCACHE", 8, false);
        else if (kind == 1)
            damage_cache(d, 24, huge, 8, false); /* image count */
        else if (kind == 2)
            damage_cache(d, 40 + 20, huge, 4, false); /* first name's length */
        else
            damage_cache(d, 500, NULL, 0, true);
        ds = load(d, 6);
        assert_int_equal(d->decoded, 6);
        assert_non_null(strstr(d->log.text, "ignoring the image cache"));
        expect_same(ref, ds);
        clf_dataset_free(ds);
        clf_dataset_free(load(d, 6)); /* rewritten: used again */
        assert_int_equal(d->decoded, 1);
    }
    clf_dataset_free(ref);
}

/* One flipped byte in an image's pixels: that image is decoded again
 * (its checksum fails), with a warning; the others come from the cache. A
 * flipped byte in a name: the index's checksum fails, all are decoded. */
static void damaged_pixels_decoded_again(void **state)
{
    dirs *d = *state;
    clf_dataset *ref, *ds;
    char path[700];
    struct stat sb;
    const uint8_t flip = 0x5a;

    make_tree(d->data);
    ref = load(d, 6);
    cache_file(d, path, sizeof path);
    assert_int_equal(stat(path, &sb), 0);
    damage_cache(d, (long)sb.st_size - 1, &flip, 1, false); /* the last image */
    ds = load(d, 6);
    assert_int_equal(d->decoded, 2); /* it and the bad file */
    assert_non_null(strstr(d->log.text, "are damaged (checksum mismatch); decoding it"));
    expect_same(ref, ds);
    clf_dataset_free(ds);

    damage_cache(d, 40 + 5 * 28, &flip, 1, false); /* the first name's first byte */
    ds = load(d, 6);
    assert_int_equal(d->decoded, 6);
    assert_non_null(strstr(d->log.text, "its index is damaged (checksum mismatch)"));
    expect_same(ref, ds);
    clf_dataset_free(ds);
    clf_dataset_free(ref);
}

/* A FIFO under the cache's name is not waited on: ignored, everything is
 * decoded, and it is left alone (never replaced by a file). */
static void fifo_cache_not_waited(void **state)
{
    dirs *d = *state;
    char path[700];
    struct stat sb;

    make_tree(d->data);
    clf_dataset_free(load(d, 6));
    cache_file(d, path, sizeof path);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    clf_dataset_free(load(d, 6));
    assert_int_equal(d->decoded, 6);
    assert_non_null(strstr(d->log.text, "ignoring the image cache"));
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    assert_int_equal(unlink(path), 0);
}

/* A temporary file left by a writer that died (Ctrl-C while loading) is
 * removed by the next writer; one of a live process is kept. */
static void stale_temporary_removed(void **state)
{
    dirs *d = *state;
    char path[700], dead[800], live[800];
    const uint8_t flip = 0x5a;
    struct stat sb;

    make_tree(d->data);
    clf_dataset_free(load(d, 6));
    cache_file(d, path, sizeof path);
    snprintf(dead, sizeof dead, "%s.tmp-999999999-0", path); /* above any pid_max */
    snprintf(live, sizeof live, "%s.tmp-%ld-7", path, (long)getpid());
    assert_int_equal(put_bytes("/", dead + 1, "x", 1), 0);
    assert_int_equal(put_bytes("/", live + 1, "x", 1), 0);
    assert_int_equal(stat(path, &sb), 0);
    damage_cache(d, (long)sb.st_size - 1, &flip, 1, false); /* forces a rewrite */
    clf_dataset_free(load(d, 6));
    assert_int_equal(access(dead, F_OK), -1);
    assert_int_equal(access(live, F_OK), 0);
    assert_int_equal(unlink(live), 0);
}

/* A cache folder that cannot be created is a warning; the load works. */
static void unwritable_cache_warns(void **state)
{
    dirs *d = *state;
    clf_dataset *ds;

    make_tree(d->data);
    assert_int_equal(put_bytes(d->data, ".cache", "a file", 6), 0); /* not a folder */
    ds = load(d, 6);
    assert_int_equal(clf_dataset_size(ds), 5);
    assert_non_null(strstr(d->log.text, "cannot create the image cache folder"));
    clf_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(second_load_uses_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(size_has_own_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(changed_files_decoded_again, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_cache_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_pixels_decoded_again, setup, teardown),
        cmocka_unit_test_setup_teardown(fifo_cache_not_waited, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_temporary_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(unwritable_cache_warns, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
