/* Strict UTF-8 validation (internal): safetensors headers must be UTF-8,
 * and names that go into them (class folders, paths) are checked first. */
#ifndef CLFIT_CORE_UTF8_H
#define CLFIT_CORE_UTF8_H

#include <stddef.h>

/* The offset of the first byte of s[0..n) that is not part of strict
 * UTF-8 (no overlong forms, surrogates or values past U+10FFFF); n when
 * all of it is. */
size_t clf_utf8_check(const unsigned char *s, size_t n);

#endif
