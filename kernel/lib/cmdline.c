/* lib/cmdline.c - look words up in the kernel command line. */
#include "cmdline.h"
#include "string.h"

static const char *line = "";

void cmdline_set(const char *l) { line = l; }
const char *cmdline_line(void) { return line; }

/* Find the word starting with name and followed by end-of-word or '='.
 * Returns a pointer just after name, or NULL. */
static const char *find(const char *name)
{
    size_t n = strlen(name);
    for (const char *p = line; *p;) {
        while (*p == ' ')
            p++;
        if (!strncmp(p, name, n) && (p[n] == 0 || p[n] == ' ' || p[n] == '='))
            return p + n;
        while (*p && *p != ' ')
            p++;
    }
    return NULL;
}

bool cmdline_has(const char *flag)
{
    const char *p = find(flag);
    return p && *p != '=';
}

bool cmdline_get(const char *key, char *buf, size_t size)
{
    const char *p = find(key);
    if (!p || *p != '=' || !size)
        return false;
    p++;
    size_t i = 0;
    while (p[i] && p[i] != ' ' && i + 1 < size) {
        buf[i] = p[i];
        i++;
    }
    buf[i] = 0;
    return true;
}
