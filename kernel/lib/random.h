/* lib/random.h - the kernel's CSPRNG (why and how: random.c). */
#pragma once
#include "types.h"

void random_bytes(void *buf, size_t n);
/* len random bytes to user memory: bytes written, or -EFAULT if none were. */
long random_read_user(void *ubuf, size_t len);
