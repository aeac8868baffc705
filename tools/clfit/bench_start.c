#include "bench.h"
int bench_start(int argc, char **argv) { (void)argc; (void)argv; return 1; }
