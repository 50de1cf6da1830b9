/* main.c - kmain: bring the machine up in dependency order, then do what
 * the command line asks.
 *
 *   serial -> multiboot info -> GDT/IDT -> frames -> page tables -> heap
 *   -> a guarded kernel stack -> ACPI, APICs, timer -> tests / crash / idle
 */
#include "lib/types.h"
#include "lib/kprintf.h"
#include "lib/cmdline.h"
#include "lib/string.h"
#include "lib/lockdep.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "mm/mm.h"
#include "debug/debug.h"
#include "ktest/ktest.h"
#include "proc/proc.h"
#include "fs/file.h"
#include "fs/vfs.h"
#include "drivers/block.h"
#include "sys/syscall.h"

#define TIMER_HZ 100

extern char _kernel_start[], _end[];

struct kstack boot_kstack;

static void kmain_on_guarded_stack(void);
static void start_user_space(void);

static void setup_memory(void)
{
    /* Static: 2 KiB is more than a kernel frame may take (-Wframe-larger-than),
     * and this runs once, before there is anything else. */
    static struct mem_range usable[64], direct[64], reserved[16];
    int nusable = 0, ndirect = 0, nreserved = 0;
    /* The first MiB (BIOS data, EBDA, the ROM where ACPI's RSDP hides) is
     * read by the kernel whatever the map says about it. */
    direct[ndirect++] = (struct mem_range){ 0, 0x100000 };
    uint64_t usable_bytes = 0;
    for (int i = 0; i < bootinfo.nmmap; i++) {
        const struct mem_region *r = &bootinfo.mmap[i];
        if (r->type == MEM_USABLE && nusable < (int)ARRAY_SIZE(usable)) {
            usable[nusable++] = (struct mem_range){ r->base, r->len };
            usable_bytes += r->len;
        }
        if ((r->type == MEM_USABLE || r->type == MEM_ACPI || r->type == MEM_ACPI_NVS) &&
            ndirect < (int)ARRAY_SIZE(direct))
            direct[ndirect++] = (struct mem_range){ r->base, r->len };
    }
    kprintf("mm: memory map: %d entries, %lu KiB usable\n", bootinfo.nmmap, usable_bytes / 1024);
    for (int i = 0; i < bootinfo.nmmap; i++)
        kprintf("mm:   [0x%012lx-0x%012lx) type %u\n", bootinfo.mmap[i].base,
                bootinfo.mmap[i].base + bootinfo.mmap[i].len, bootinfo.mmap[i].type);

    /* The kernel image and the boot modules are in use before anyone asks. */
    reserved[nreserved++] = (struct mem_range){ 0x100000, V2P(_end) - 0x100000 };
    for (int i = 0; i < bootinfo.nmods && nreserved < (int)ARRAY_SIZE(reserved); i++)
        reserved[nreserved++] = (struct mem_range){ bootinfo.mods[i].start,
                                                    bootinfo.mods[i].end - bootinfo.mods[i].start };
    pmm_init(usable, nusable, reserved, nreserved);
    vmm_init(direct, ndirect);
    kprintf("mm: %lu frames free of %lu; kernel page tables loaded\n",
            pmm_free_frames(), pmm_total_frames());
}

/* Continue on a stack that has a guard page below it. */
static __noreturn void switch_to_guarded_stack(void)
{
    if (!kstack_alloc(&boot_kstack))
        panic("no memory for the kernel stack");
    tss_set_rsp0(boot_kstack.top);
    __asm__ volatile(
        "mov %0, %%rsp\n"
        "xor %%ebp, %%ebp\n"
        "call *%1\n"
        "ud2\n"
        :
        : "r"(boot_kstack.top), "r"(kmain_on_guarded_stack));
    __builtin_unreachable();
}

void kmain(uint32_t mb_magic, uint64_t mb_info)
{
    /* Mask the legacy PICs before anything else: the firmware may leave the
     * PIT ticking into them. */
    pic_disable();
    serial_init();
    kprintf("\nVigil booting\n");
    multiboot_parse(mb_magic, mb_info);
    cmdline_set(bootinfo.cmdline);
    kprintf("boot: cmdline \"%s\"\n", bootinfo.cmdline);

    gdt_init(0);
    idt_init();
    cpu_init(0);
    lockdep_init();
    setup_memory();
    switch_to_guarded_stack();
}

static void install_guarded_ist_stacks(void)
{
    static struct kstack df, nmi;
    if (!kstack_alloc(&df) || !kstack_alloc(&nmi))
        panic("no memory for the IST stacks");
    tss_set_ist(IST_DOUBLE_FAULT, df.top);
    tss_set_ist(IST_NMI, nmi.top);
}

static void kmain_on_guarded_stack(void)
{
    install_guarded_ist_stacks();
    acpi_init();
    lapic_init();
    ioapic_init();
    timer_init(TIMER_HZ);
    timekeep_init();                            /* the clock (the vvar page): the TSC is calibrated */
    smp_init_ipis();
    watchdog_init();
    kprintf("timer: lapic %u Hz, tsc %lu kHz\n", timer_hz(), tsc_hz() / 1000);
    block_init();

    char arg[128];
    if (cmdline_get("crash", arg, sizeof(arg)))
        crash_run(arg);
    if (cmdline_get("ktest", arg, sizeof(arg)))
        qemu_exit(ktest_run(arg) ? EXIT_OK : EXIT_TEST_FAIL);
    if (cmdline_has("locktorture"))
        locktorture_run();
    if (cmdline_has("exit")) {
        kprintf("boot: done, exiting\n");
        qemu_exit(EXIT_OK);
    }

    start_user_space();
}

/* Split the words after " -- " on the command line into init's argv. */
static int init_args(char *buf, size_t size, char **argv, int max)
{
    const char *line = bootinfo.cmdline, *rest = strstr(line, " -- ");
    int n = 0;
    if (!strncmp(line, "-- ", 3))
        rest = line - 1;
    if (!rest)
        return 0;
    strlcpy(buf, rest + 4, size);
    for (char *p = buf; *p && n < max - 1;) {
        while (*p == ' ')
            *p++ = 0;
        if (!*p)
            break;
        argv[n++] = p;
        while (*p && *p != ' ')
            p++;
    }
    return n;
}

static void start_user_space(void)
{
    uvm_init();
    proc_init();
    /* The other CPUs start in their idle loops, ready for threads. */
    smp_boot(sched_ap_start);
    char late[16];
    if (cmdline_get("crash", late, sizeof(late)) && !strcmp(late, "stall-irq"))
        crash_stall_irq();                      /* needs another CPU to notice */
    console_init();
    /* The root file system: the disk with root=/dev/vda, else the initrd. */
    char root[32] = "";
    struct super *sb = NULL;
    int err;
    if (cmdline_get("root", root, sizeof(root)) &&
        !(sb = ext2_mount(MAX(vda_partition(root), 0), cmdline_has("ro"), &err)))
        kprintf("vigil: cannot mount %s (error %d); falling back to the initrd\n", root, err);
    if (!sb && bootinfo.nmods > 0)
        sb = initrd_mount(P2V(bootinfo.mods[0].start), bootinfo.mods[0].end - bootinfo.mods[0].start);
    if (!sb) {
        kprintf("vigil: no root file system: nothing to run (idle); Ctrl-A X leaves QEMU\n");
        idle_loop();
    }
    vfs_mount_root(sb);
    kprintf("vigil: root file system: %s\n", sb->type);
    kernel_lock();                  /* the file-system contract (uncontended: no process yet) */
    dev_mount_boot();
    procfs_mount_boot();
    vdso_init();                    /* [vvar] and [vdso], for every exec from now on */
    kernel_unlock();
    char init[128] = "/sbin/init", argbuf[256], *argv[32];
    cmdline_get("init", init, sizeof(init));
    argv[0] = init;
    int n = init_args(argbuf, sizeof(argbuf), argv + 1, 31);
    argv[n + 1] = NULL;
    int r = proc_spawn_init(init, argv);
    if (r < 0)
        panic("cannot run %s as init (error %d)", init, -r);
    kprintf("vigil: started %s as pid %d\n", init, r);
    idle_loop();
}
