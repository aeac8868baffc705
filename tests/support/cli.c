/* The clfit binary run from tests on a scratch image folder. */
#include "support/cli.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <png.h>

#include "support/tmpdir.h"

const char *const cli_classes[3] = {"circle", "cross", "square"};

void cli_write_png(const char *path, int k, int i)
{
    png_image img;
    uint8_t px[CLI_SIDE * CLI_SIDE * 3];

    for (int p = 0; p < CLI_SIDE * CLI_SIDE; p++) {
        int y = p / CLI_SIDE, x = p % CLI_SIDE;
        bool on = y / 3 == k && x >= 2 && x < 6;

        for (int c = 0; c < 3; c++)
            px[3 * p + c] = (uint8_t)((on ? 200 : 30) + (p * 7 + i * 13 + c) % 40);
    }
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = img.height = CLI_SIDE;
    img.format = PNG_FORMAT_RGB;
    assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
}

void cli_run(cli *c, const char *fmt, ...)
{
    char args[2048], cmd[8192];
    size_t used = 0, n;
    va_list ap;
    FILE *p;
    int status;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", c->dir, CLFIT_EXE_PATH, args);
    p = popen(cmd, "r");
    assert_non_null(p);
    while ((n = fread(c->out + used, 1, sizeof c->out - 1 - used, p)) > 0)
        used += n;
    c->out[used] = 0;
    status = pclose(p);
    c->rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void cli_expect(const cli *c, int rc, const char *text)
{
    if (c->rc != rc || (text && !strstr(c->out, text)))
        fail_msg("exit %d (want %d), output lacks '%s':\n%s", c->rc, rc, text ? text : "",
                 c->out);
}

int cli_setup(void **state)
{
    cli *c = calloc(1, sizeof *c);
    char path[4300];

    *state = NULL;
    if (!c || access(CLFIT_EXE_PATH, X_OK) != 0) {
        free(c);
        return 0;
    }
    snprintf(c->dir, sizeof c->dir, "%s", tmpdir_make("cli"));
    snprintf(c->data, sizeof c->data, "%s/data", c->dir);
    mkdir(c->data, 0755);
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", c->data, cli_classes[k]);
        mkdir(path, 0755);
        for (int i = 0; i < CLI_PER_CLASS; i++) {
            snprintf(path, sizeof path, "%s/%s/%02d.png", c->data, cli_classes[k], i);
            cli_write_png(path, k, i);
        }
    }
    *state = c;
    return 0;
}

int cli_teardown(void **state)
{
    cli *c = *state;

    if (c) {
        char cmd[4200];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
        assert_int_equal(system(cmd), 0);
    }
    free(c);
    return 0;
}
