/* lib/string.h - the freestanding subset of <string.h> the kernel needs. */
#pragma once
#include "types.h"

void  *memset(void *dst, int c, size_t n);
void  *memcpy(void *dst, const void *src, size_t n);
void  *memmove(void *dst, const void *src, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int    strcmp(const char *a, const char *b);
int    strncmp(const char *a, const char *b, size_t n);
char  *strchr(const char *s, int c);
char  *strstr(const char *s, const char *needle);
size_t strlcpy(char *dst, const char *src, size_t size);
/* Shell-style match of '*' and '?' (no character classes). */
bool   glob_match(const char *pattern, const char *s);
/* Next component of a slash-separated path: skips slashes, sets *comp and
 * *len (0 at the end of the path), returns where the next search starts. */
const char *path_next(const char *p, const char **comp, size_t *len);
