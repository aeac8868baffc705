/* The dataset's layout, shared by the files of host/data (internal). */
#ifndef CLFIT_DATA_DATASET_IMPL_H
#define CLFIT_DATA_DATASET_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "clfit/data.h"

struct clf_dataset {
    size_t n;            /* usable images */
    size_t skipped;      /* bad files left out */
    int h, w;            /* every image is h x w x 3 bytes */
    int classes;
    uint8_t *pixels;     /* n * h * w * 3 bytes, image i at i * h * w * 3 */
    int32_t *labels;     /* n labels in [0, classes) */
    char **paths;        /* n file paths; NULL for in-memory datasets */
    char **class_names;  /* classes names */
};

#endif
