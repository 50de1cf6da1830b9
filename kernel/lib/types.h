/* lib/types.h - fixed-width types and the few compiler helpers every file uses. */
#pragma once

typedef unsigned char      uint8_t;
typedef unsigned short     uint16_t;
typedef unsigned int       uint32_t;
typedef unsigned long      uint64_t;
typedef signed char        int8_t;
typedef short              int16_t;
typedef int                int32_t;
typedef long               int64_t;
typedef unsigned long      uintptr_t;
typedef unsigned long      size_t;
typedef long               ssize_t;
typedef long               intptr_t;
typedef _Bool              bool;

#define UINT64_MAX         (~0ul)
#define INT64_MAX          ((int64_t)(~0ul >> 1))
#define INT32_MIN          (-2147483647 - 1)
#define INT32_MAX          2147483647

#define true  1
#define false 0
#define NULL  ((void *)0)

#define ARRAY_SIZE(a)      (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)     (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a)   ((x) & ~((uint64_t)(a) - 1))
#define MIN(a, b)          ((a) < (b) ? (a) : (b))
#define MAX(a, b)          ((a) > (b) ? (a) : (b))

#define __packed           __attribute__((packed))
#define __noreturn         __attribute__((noreturn))
#define __unused           __attribute__((unused))
#define __aligned(n)       __attribute__((aligned(n)))
#define likely(x)          __builtin_expect(!!(x), 1)
#define unlikely(x)        __builtin_expect(!!(x), 0)

typedef __builtin_va_list  va_list;
#define va_start(v, l)     __builtin_va_start(v, l)
#define va_end(v)          __builtin_va_end(v)
#define va_arg(v, t)       __builtin_va_arg(v, t)
