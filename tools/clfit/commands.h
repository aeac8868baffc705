/* The clfit subcommands; each returns the process exit code. */
#ifndef CLFIT_TOOL_COMMANDS_H
#define CLFIT_TOOL_COMMANDS_H

int cmd_devices(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv);

/* Opens the backend for --device (NULL: CLFIT_DEVICE or the default) and
 * prints which device runs; NULL after printing why not. */
struct clf_backend *open_device(const char *spec);

/* How many OpenCL devices exist, found quietly: 0 with no platform,
 * -1 when listing them failed otherwise (opening one will say why). */
long opencl_device_count(void);

#endif
