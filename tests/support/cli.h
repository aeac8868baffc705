/* Running the built clfit binary in tests, as a user runs it, on a small
 * folder of PNG files.
 *
 * cli_setup (a cmocka group setup) makes a scratch folder holding
 * data/{circle,cross,square}/NN.png, CLI_PER_CLASS images of CLI_SIDE
 * pixels per class, separable by where a bright block sits; the state is
 * a cli, or NULL when the binary has not been built (CLI_NEED skips
 * then). cli_run runs "clfit ARGS" in that folder with stdout and stderr
 * together in c->out and the exit code in c->rc. */
#ifndef CLFIT_TEST_CLI_H
#define CLFIT_TEST_CLI_H

#define CLFIT_EXE_PATH CLFIT_BINARY_DIR "/clfit"

enum { CLI_SIDE = 8, CLI_PER_CLASS = 12 };

typedef struct cli {
    char dir[4096], data[4200];
    char out[65536];
    int rc;
} cli;

extern const char *const cli_classes[3];

/* Writes the image of class k, variant i, as an RGB PNG. */
void cli_write_png(const char *path, int k, int i);

void cli_run(cli *c, const char *fmt, ...);

/* Fails, printing the output, unless the exit code is rc and the output
 * holds text (NULL: anything). */
void cli_expect(const cli *c, int rc, const char *text);

int cli_setup(void **state);
int cli_teardown(void **state);

#define CLI_NEED(c)                                                            \
    do {                                                                       \
        if (!(c)) {                                                            \
            print_message("%s not built: the CLI test is skipped\n",           \
                          CLFIT_EXE_PATH);                                     \
            skip();                                                            \
        }                                                                      \
    } while (0)

#endif
