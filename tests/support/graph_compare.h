/* Field-by-field comparison of graph descriptions, for round-trip tests. */
#ifndef CLFIT_TEST_GRAPH_COMPARE_H
#define CLFIT_TEST_GRAPH_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "model/graph_desc.h"

/* True when a and b describe the same graph: name, output, and every
 * layer's every field. Otherwise writes the first difference into why. */
bool graph_desc_equal(const clf_graph_desc *a, const clf_graph_desc *b, char *why,
                      size_t why_size);

#endif
