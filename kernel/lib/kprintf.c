/* lib/kprintf.c - printf for the kernel, written against one "emit a
 * character" callback so the same code fills buffers and the console. */
#include "kprintf.h"
#include "string.h"
#include "spinlock.h"
#include "../arch/x86_64/arch.h"

struct sink {
    void (*put)(struct sink *, char);
    char *buf;
    size_t size, len;
};

static void put_buf(struct sink *s, char c)
{
    if (s->len + 1 < s->size)
        s->buf[s->len] = c;
    s->len++;
}

/* The kernel's log (syslog(2), dmesg): the last KLOG_SIZE bytes the
 * console printed, [console_lock]. klog_end counts every byte ever logged;
 * syslog's reader and its "clear" mark are positions in that count. */
static char klog[KLOG_SIZE];
static uint64_t klog_end, klog_read_pos, klog_clear_pos;

static void put_console(struct sink *s, char c)
{
    klog[klog_end++ % KLOG_SIZE] = c;
    if (c == '\n')
        serial_putc('\r');
    serial_putc(c);
    s->len++;
}

static void emit_number(struct sink *s, uint64_t v, int base, bool neg, bool upper,
                        int width, bool zero, bool left)
{
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + (neg ? 1 : 0);
    if (!left && !zero)
        for (; width > len; width--)
            s->put(s, ' ');
    if (neg)
        s->put(s, '-');
    if (!left && zero)
        for (; width > len; width--)
            s->put(s, '0');
    while (n)
        s->put(s, tmp[--n]);
    if (left)
        for (; width > len; width--)
            s->put(s, ' ');
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            s->put(s, *fmt);
            continue;
        }
        fmt++;
        bool zero = false, left = false;
        for (;; fmt++) {
            if (*fmt == '0')
                zero = true;
            else if (*fmt == '-')
                left = true;
            else
                break;
        }
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        int lng = 0;
        while (*fmt == 'l' || *fmt == 'z') {
            lng = 1;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            emit_number(s, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, false, width, zero, left);
            break;
        }
        case 'u':
            emit_number(s, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, false, false,
                        width, zero, left);
            break;
        case 'x':
        case 'X':
            emit_number(s, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, false,
                        *fmt == 'X', width, zero, left);
            break;
        case 'p':
            s->put(s, '0');
            s->put(s, 'x');
            emit_number(s, (uint64_t)va_arg(ap, void *), 16, false, false, 16, true, false);
            break;
        case 'c':
            s->put(s, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int len = (int)strlen(str);
            if (!left)
                for (; width > len; width--)
                    s->put(s, ' ');
            while (*str)
                s->put(s, *str++);
            for (; left && width > len; width--)
                s->put(s, ' ');
            break;
        }
        case '%':
            s->put(s, '%');
            break;
        case 0:
            return;
        default:
            s->put(s, '%');
            s->put(s, *fmt);
        }
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = { put_buf, buf, size, 0 };
    format(&s, fmt, ap);
    if (size)
        buf[s.len < size ? s.len : size - 1] = 0;
    return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* One lock around whole messages, so lines from different CPUs or from an
 * interrupt never interleave mid-line. */
static struct spinlock console_lock = SPINLOCK_INIT("console");

size_t klog_take(char *out, size_t n, int what)
{
    uint64_t f = spin_lock_irqsave(&console_lock);
    uint64_t oldest = klog_end > KLOG_SIZE ? klog_end - KLOG_SIZE : 0, from, avail;
    size_t got = 0;
    switch (what) {
    case KLOG_READ:                     /* the unread bytes, oldest first; they are read */
        from = klog_read_pos > oldest ? klog_read_pos : oldest;
        got = (size_t)MIN(n, klog_end - from);
        for (size_t i = 0; i < got; i++)
            out[i] = klog[(from + i) % KLOG_SIZE];
        klog_read_pos = from + got;
        break;
    case KLOG_READ_ALL:                 /* the newest n bytes since the last clear */
    case KLOG_READ_CLEAR:
        from = klog_clear_pos > oldest ? klog_clear_pos : oldest;
        avail = klog_end - from;
        if (avail > n)
            from += avail - n;
        got = (size_t)(klog_end - from);
        for (size_t i = 0; i < got; i++)
            out[i] = klog[(from + i) % KLOG_SIZE];
        if (what == KLOG_READ_CLEAR)
            klog_clear_pos = klog_end;
        break;
    case KLOG_CLEAR:
        klog_clear_pos = klog_end;
        break;
    case KLOG_UNREAD:
        from = klog_read_pos > oldest ? klog_read_pos : oldest;
        got = (size_t)(klog_end - from);
        break;
    }
    spin_unlock_irqrestore(&console_lock, f);
    return got;
}

int vkprintf(const char *fmt, va_list ap)
{
    struct sink s = { put_console, NULL, 0, 0 };
    uint64_t f = spin_lock_irqsave(&console_lock);
    format(&s, fmt, ap);
    spin_unlock_irqrestore(&console_lock, f);
    return (int)s.len;
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vkprintf(fmt, ap);
    va_end(ap);
    return n;
}

void console_write(const char *str, size_t n)
{
    struct sink s = { put_console, NULL, 0, 0 };
    uint64_t f = spin_lock_irqsave(&console_lock);
    for (size_t i = 0; i < n; i++)
        s.put(&s, str[i]);
    spin_unlock_irqrestore(&console_lock, f);
}

/* A terminal's output, already processed by its line discipline (tty.c):
 * the bytes as they are, no "\r" added. */
void console_write_raw(const char *str, size_t n)
{
    uint64_t f = spin_lock_irqsave(&console_lock);
    for (size_t i = 0; i < n; i++)
        serial_putc(str[i]);
    spin_unlock_irqrestore(&console_lock, f);
}

void console_unlock_for_panic(void)
{
    __atomic_store_n(&console_lock.locked, 0, __ATOMIC_RELEASE);
}
