/* clfit: train image classifiers on any OpenCL device.
 * Parses the subcommand and hands over; all work happens in the library. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"

static const char usage_text[] =
    "usage: clfit COMMAND [options]      (clfit --version: the version)\n"
    "\n"
    "commands:\n"
    "  devices                 list every OpenCL platform and device\n"
    "  train DATA_DIR          train on a folder of class subfolders, then test\n"
    "  evaluate MODEL DATA_DIR loss, accuracy and confusion matrix of a saved model\n"
    "  predict MODEL IMAGE...  top classes of each image, with probabilities\n"
    "  bench SECTION           measure speed (clfit bench --help)\n"
    "  tune [--quick] [--no-clblast] [--device SPEC]\n"
    "                          measure GEMM parameters for a device and keep the\n"
    "                          fastest for later runs\n"
    "\n"
    "train options:\n"
    "  --device SPEC           cpu | opencl | opencl:P:D | part of a device name\n"
    "                          (default: $CLFIT_DEVICE, else opencl, else cpu)\n"
    "  --model SPEC            linear (default) | mlp:N | FILE.json (a Keras head,\n"
    "                          with --base)\n"
    "  --base MODEL.json       a pretrained TF.js layers model (weight shards beside\n"
    "                          it), frozen, under the --model head; its features\n"
    "                          are computed once per image and cached in memory\n"
    "  --base-layer NAME       cut the base after this layer (default out_relu)\n"
    "  --preprocess MODE       unit: [0,1] (default) | symmetric: [-1,1] | none: 0..255\n"
    "  --image-size N|HxW      resize target (default 224)\n"
    "  --epochs N              default 5\n"
    "  --batch-size N          default 12\n"
    "  --optimizer NAME        adam (default) | sgd\n"
    "  --learning-rate F       default 0.001 for adam, 0.01 for sgd\n"
    "  --seed N                split, shuffle, initialisation and dropout seed\n"
    "                          (default 20)\n"
    "  --split TRAIN,VAL,TEST  fractions (default 0.7,0.2,0.1)\n"
    "  --on-bad-image POLICY   skip (default: warn and go on) | fail\n"
    "  --threads N             image decoding threads (default: all cores)\n"
    "  --image-cache DIR       keep decoded, resized images on disk in DIR, so a\n"
    "                          later run (train or evaluate) skips decoding them\n"
    "  --verbose               more messages on stderr\n"
    "  --save FILE             the trained model, one .safetensors file\n"
    "  --checkpoint-dir DIR    a checkpoint after every epoch and at Ctrl-C\n"
    "  --resume                continue from DIR's checkpoint (--epochs is the total)\n"
    "  --log FILE.csv          per-epoch history (Keras CSVLogger columns + seconds)\n"
    "  --plot FILE.png         loss and accuracy curves, updated every epoch\n"
    "\n"
    "evaluate options: --device, --batch-size N (default 32), --plot FILE.png (the\n"
    "  confusion matrix), --subset all|train|val|test (default all: every image;\n"
    "  test: the test split of train, with its --split and --seed), --split, --seed,\n"
    "  --threads, --on-bad-image, --image-cache, --verbose\n"
    "predict options: --device, --top K (default 3), --verbose\n"
    "\n"
    "exit codes: 0 success, 1 runtime failure, 2 usage error, 130 interrupted\n";

/* "--help" or "-h" among a command's arguments (bench and tune have
 * their own help texts). */
static bool wants_help(int argc, char **argv)
{
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return strcmp(argv[1], "bench") && strcmp(argv[1], "tune");
    return false;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;

    /* stdout and stderr keep their order when both go to one file */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (cmd && !strcmp(cmd, "--version")) {
        printf("clfit %s\n", CLFIT_VERSION);
        return 0;
    }
    if (!cmd || !strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help") ||
        wants_help(argc, argv)) {
        fputs(usage_text, cmd ? stdout : stderr);
        return cmd ? 0 : EXIT_USAGE;
    }
    if (!strcmp(cmd, "devices"))
        return cmd_devices(argc - 1, argv + 1);
    if (!strcmp(cmd, "train"))
        return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "evaluate"))
        return cmd_evaluate(argc - 1, argv + 1);
    if (!strcmp(cmd, "predict"))
        return cmd_predict(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "tune"))
        return cmd_tune(argc - 1, argv + 1);
    fprintf(stderr, "clfit: unknown command '%s'\n\n%s", cmd, usage_text);
    return EXIT_USAGE;
}
