/*
 * utf8: strict UTF-8 decoding (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
 *
 * The service stores and echoes user text; it must be valid UTF-8 so every JSON document and log
 * line it writes is valid too. These helpers never read past the given length.
 */
#ifndef TASKBENCH_UTF8_H
#define TASKBENCH_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point from s[0..n). Returns the number of bytes it takes (1..4) and stores
 * the code point in *cp, or returns 0 when the bytes are not a valid sequence (n == 0 included). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Returns the number of code points in s[0..n), or -1 when it is not valid UTF-8. */
long utf8_count(const char *s, size_t n);

#endif
