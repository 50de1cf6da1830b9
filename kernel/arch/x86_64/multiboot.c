/* arch/x86_64/multiboot.c - read what the boot loader handed over
 * (Multiboot 1: memory map, command line, modules) into struct bootinfo,
 * copying it all so the loader's memory can be reused. */
#include "arch.h"
#include "../../lib/string.h"
#include "../../debug/debug.h"
#include "../../mm/mm.h"

#define MULTIBOOT_LOADER_MAGIC 0x2BADB002

struct mb_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} __packed;

struct mb_mmap_entry {
    uint32_t size;              /* of the rest of the entry */
    uint64_t base, len;
    uint32_t type;
} __packed;

struct mb_module {
    uint32_t start, end, string, reserved;
} __packed;

struct bootinfo bootinfo;

void multiboot_parse(uint32_t magic, uint64_t info_pa)
{
    if (magic != MULTIBOOT_LOADER_MAGIC)
        panic("not started by a Multiboot loader (magic 0x%x)", magic);
    const struct mb_info *mb = P2V(info_pa);

    /* Multiboot loaders (GRUB, QEMU) put the kernel's path first, then the
     * arguments: split the two. */
    if (mb->flags & (1 << 2)) {
        const char *line = P2V(mb->cmdline), *args = strchr(line, ' ');
        size_t n = args ? (size_t)(args - line) : strlen(line);
        strlcpy(bootinfo.image, line, MIN(n + 1, sizeof(bootinfo.image)));
        while (args && *args == ' ')
            args++;
        strlcpy(bootinfo.cmdline, args ? args : "", sizeof(bootinfo.cmdline));
    }

    if (!(mb->flags & (1 << 6)))
        panic("the boot loader gave no memory map");
    uint64_t p = mb->mmap_addr, end = p + mb->mmap_length;
    while (p < end && bootinfo.nmmap < (int)ARRAY_SIZE(bootinfo.mmap)) {
        const struct mb_mmap_entry *e = P2V(p);
        if (e->len)                     /* some firmware pads with empty entries */
            bootinfo.mmap[bootinfo.nmmap++] = (struct mem_region){ e->base, e->len, e->type };
        p += e->size + sizeof(e->size);
    }

    if (mb->flags & (1 << 3)) {
        const struct mb_module *m = P2V(mb->mods_addr);
        for (uint32_t i = 0; i < mb->mods_count && i < ARRAY_SIZE(bootinfo.mods); i++) {
            struct boot_module *bm = &bootinfo.mods[bootinfo.nmods++];
            bm->start = m[i].start;
            bm->end = m[i].end;
            if (m[i].string)
                strlcpy(bm->cmdline, P2V(m[i].string), sizeof(bm->cmdline));
        }
    }
}
