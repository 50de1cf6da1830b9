/* debug/ksyms.h - layout of the generated symbol table (build/ksyms.c). */
#pragma once

struct ksym {
    unsigned long addr;
    const char *name;
};

extern const struct ksym ksyms_table[];
extern const unsigned long ksyms_count;
