/* Ctrl-C during `clfit train`: the step in progress finishes, a checkpoint
 * of that exact position is written, the exit code is 130, and --resume
 * continues from it. The signal is sent once epoch 3 has started; each
 * epoch takes milliseconds here, so the run has 100000 to go. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/cli.h"

#define TRAIN_ARGS "--device", "cpu", "--image-size", "8", "--batch-size", "4"
#define WAIT_MS 120000

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&t, NULL);
}

/* Starts `clfit train data ... --epochs 100000 --checkpoint-dir ck` in the
 * scratch folder, its output going to out.txt there. */
static pid_t start_training(const cli *c)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(c->dir) != 0 || !freopen("out.txt", "w", stdout) || dup2(1, 2) < 0)
            _exit(127);
        execl(CLFIT_EXE_PATH, "clfit", "train", "data", TRAIN_ARGS, "--epochs", "100000",
              "--checkpoint-dir", "ck", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void read_output(const cli *c, char *buf, size_t size)
{
    char path[4400];
    FILE *f;
    size_t n = 0;

    snprintf(path, sizeof path, "%s/out.txt", c->dir);
    f = fopen(path, "r");
    if (f) {
        n = fread(buf, 1, size - 1, f);
        fclose(f);
    }
    buf[n] = 0;
}

/* Waits until the output holds `text`; fails (ending the child) after
 * WAIT_MS or when the child exits first. */
static void wait_for_text(const cli *c, pid_t pid, const char *text, char *buf, size_t size)
{
    for (long waited = 0; waited < WAIT_MS; waited += 20) {
        int status;

        read_output(c, buf, size);
        if (strstr(buf, text))
            return;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("clfit ended before printing '%s':\n%s", text, buf);
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("no '%s' after %d ms:\n%s", text, WAIT_MS, buf);
}

/* The exit code, or -signal when a signal ended the child. */
static int wait_exit(pid_t pid)
{
    int status;

    for (long waited = 0; waited < WAIT_MS; waited += 20) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("clfit did not stop within %d ms of Ctrl-C", WAIT_MS);
    return -1;
}

static void clean(const cli *c)
{
    char cmd[8300];

    snprintf(cmd, sizeof cmd, "rm -rf '%s/ck' '%s/out.txt'", c->dir, c->dir);
    assert_int_equal(system(cmd), 0);
}

/* Interrupts a run with `signals` SIGINTs sent back to back, checks the
 * checkpoint message and exit 130, then resumes up to the interrupted
 * epoch. */
static void interrupt_and_resume(cli *c, int signals)
{
    static char out[65536];
    const char *at;
    int epoch = 0, rc;
    pid_t pid;

    clean(c);
    pid = start_training(c);
    wait_for_text(c, pid, "Epoch 3/100000", out, sizeof out);
    for (int i = 0; i < signals; i++)
        kill(pid, SIGINT);
    rc = wait_exit(pid);
    read_output(c, out, sizeof out);
    if (rc != 130)
        fail_msg("exit %d after Ctrl-C (want 130):\n%s", rc, out);
    at = strstr(out, "Interrupted at epoch ");
    if (!at || !strstr(at, "checkpoint written to ck; run the same command with --resume"))
        fail_msg("no checkpoint message:\n%s", out);
    assert_int_equal(sscanf(at, "Interrupted at epoch %d/", &epoch), 1);
    assert_true(epoch >= 3);

    cli_run(c, "train data --device cpu --image-size 8 --batch-size 4 --epochs %d "
               "--checkpoint-dir ck --resume", epoch);
    cli_expect(c, 0, "Resuming from ck");
    cli_expect(c, 0, "test_accuracy");
}

static void test_ctrl_c_checkpoints_and_resumes(void **state)
{
    CLI_NEED(*state);
    interrupt_and_resume(*state, 1);
}

/* Wrappers such as timeout(1) deliver one Ctrl-C to the process and to its
 * group: two signals at once must still checkpoint, not kill. */
static void test_doubled_ctrl_c_still_checkpoints(void **state)
{
    CLI_NEED(*state);
    interrupt_and_resume(*state, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctrl_c_checkpoints_and_resumes),
        cmocka_unit_test(test_doubled_ctrl_c_still_checkpoints),
    };

    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
