/* mm/mm_test.c - in-kernel tests of the frame allocator, the page tables
 * and the heap. */
#include "mm.h"
#include "../ktest/ktest.h"
#include "../lib/string.h"
#include "../arch/x86_64/cpu.h"
#include "../debug/debug.h"

extern char _text[], _etext[], _rodata[], _erodata[], _data[], _end[];

/* ---- pmm ---- */

KTEST(pmm, alloc_returns_distinct_aligned_frames)
{
    uint64_t f[64];
    for (int i = 0; i < 64; i++) {
        f[i] = pmm_alloc();
        KT_ASSERT(t, f[i] != 0);
        KT_EXPECT_EQ(t, f[i] & (PAGE_SIZE - 1), 0);
        KT_EXPECT(t, f[i] >= 0x100000);          /* the first MiB is never handed out */
        for (int j = 0; j < i; j++)
            KT_EXPECT(t, f[j] != f[i]);
    }
    for (int i = 0; i < 64; i++)
        pmm_free(f[i]);
}

KTEST(pmm, free_restores_count)
{
    uint64_t before = pmm_free_frames();
    uint64_t a = pmm_alloc(), b = pmm_alloc();
    KT_EXPECT_EQ(t, pmm_free_frames(), before - 2);
    pmm_free(a);
    pmm_free(b);
    KT_EXPECT_EQ(t, pmm_free_frames(), before);
}

KTEST(pmm, frames_hold_data_independently)
{
    uint64_t a = pmm_alloc(), b = pmm_alloc();
    KT_ASSERT(t, a && b);
    memset(P2V(a), 0xaa, PAGE_SIZE);
    memset(P2V(b), 0x55, PAGE_SIZE);
    KT_EXPECT_EQ(t, ((uint8_t *)P2V(a))[PAGE_SIZE - 1], 0xaa);
    KT_EXPECT_EQ(t, ((uint8_t *)P2V(b))[0], 0x55);
    pmm_free(a);
    pmm_free(b);
}

KTEST(pmm, contig_run_is_consecutive_and_free)
{
    uint64_t before = pmm_free_frames();
    uint64_t run = pmm_alloc_contig(16);
    KT_ASSERT(t, run != 0);
    KT_EXPECT_EQ(t, pmm_free_frames(), before - 16);
    /* No single allocation may land inside the run. */
    uint64_t x = pmm_alloc();
    KT_EXPECT(t, x < run || x >= run + 16 * PAGE_SIZE);
    pmm_free(x);
    pmm_free_contig(run, 16);
    KT_EXPECT_EQ(t, pmm_free_frames(), before);
}

KTEST(pmm, exhaustion_returns_zero_then_recovers)
{
    /* Take every free frame, chaining them through their own first word. */
    uint64_t before = pmm_free_frames(), head = 0, n = 0, pa;
    while ((pa = pmm_alloc()) != 0) {
        *(uint64_t *)P2V(pa) = head;
        head = pa;
        n++;
    }
    KT_EXPECT_EQ(t, n, before);
    KT_EXPECT_EQ(t, pmm_free_frames(), 0);
    KT_EXPECT_EQ(t, pmm_alloc_contig(2), 0);
    while (head) {
        uint64_t next = *(uint64_t *)P2V(head);
        pmm_free(head);
        head = next;
    }
    KT_EXPECT_EQ(t, pmm_free_frames(), before);
}

/* ---- vmm ---- */

KTEST(vmm, map_translate_unmap)
{
    uint64_t root = vmm_new_space();
    KT_ASSERT(t, root != 0);
    uint64_t frame = pmm_alloc();
    uintptr_t va = 0x400000;
    KT_EXPECT_EQ(t, vmm_map(root, va, frame, PTE_U | PTE_W), 0);
    uint64_t pa = 0, fl = 0;
    KT_ASSERT(t, vmm_translate(root, va + 0x123, &pa, &fl));
    KT_EXPECT_EQ(t, pa, frame + 0x123);
    KT_EXPECT(t, (fl & (PTE_P | PTE_U | PTE_W)) == (PTE_P | PTE_U | PTE_W));
    KT_EXPECT(t, !vmm_translate(root, va + PAGE_SIZE, NULL, NULL));
    KT_EXPECT_EQ(t, vmm_map(root, va, frame, PTE_U), -17);     /* already mapped */
    KT_EXPECT_EQ(t, vmm_unmap(root, va), frame);
    KT_EXPECT(t, !vmm_translate(root, va, NULL, NULL));
    KT_EXPECT_EQ(t, vmm_unmap(root, va), 0);
    pmm_free(frame);
    vmm_destroy_space(root);
}

KTEST(vmm, spaces_are_separate)
{
    uint64_t a = vmm_new_space(), b = vmm_new_space();
    KT_ASSERT(t, a && b);
    uint64_t fa = pmm_alloc(), fb = pmm_alloc();
    vmm_map(a, 0x10000, fa, PTE_U | PTE_W);
    vmm_map(b, 0x10000, fb, PTE_U | PTE_W);
    uint64_t pa = 0, pb = 0;
    KT_EXPECT(t, vmm_translate(a, 0x10000, &pa, NULL));
    KT_EXPECT(t, vmm_translate(b, 0x10000, &pb, NULL));
    KT_EXPECT_EQ(t, pa, fa);
    KT_EXPECT_EQ(t, pb, fb);
    /* Both still see the kernel, mapped identically. */
    uint64_t ka = 0, kb = 0;
    KT_EXPECT(t, vmm_translate(a, (uintptr_t)_text, &ka, NULL));
    KT_EXPECT(t, vmm_translate(b, (uintptr_t)_text, &kb, NULL));
    KT_EXPECT_EQ(t, ka, kb);
    vmm_unmap(a, 0x10000);
    vmm_unmap(b, 0x10000);
    pmm_free(fa);
    pmm_free(fb);
    vmm_destroy_space(a);
    vmm_destroy_space(b);
}

KTEST(vmm, destroy_frees_every_table)
{
    uint64_t before = pmm_free_frames();
    uint64_t root = vmm_new_space();
    uint64_t frame = pmm_alloc();
    /* Addresses far apart need separate PDPT, PD and PT pages. */
    uintptr_t vas[] = { 0x1000, 0x40000000, 0x8000000000, 0x7fffffffe000 };
    for (size_t i = 0; i < ARRAY_SIZE(vas); i++)
        KT_EXPECT_EQ(t, vmm_map(root, vas[i], frame, PTE_U), 0);
    KT_EXPECT(t, pmm_free_frames() < before - 4);
    for (size_t i = 0; i < ARRAY_SIZE(vas); i++)
        vmm_unmap(root, vas[i]);
    pmm_free(frame);
    vmm_destroy_space(root);
    KT_EXPECT_EQ(t, pmm_free_frames(), before);
}

KTEST(vmm, kernel_image_is_wx_separated)
{
    uint64_t root = vmm_kernel_root(), fl;
    for (uintptr_t va = (uintptr_t)_text; va < (uintptr_t)_end; va += PAGE_SIZE) {
        KT_ASSERT(t, vmm_translate(root, va, NULL, &fl));
        bool w = fl & PTE_W, x = !(fl & PTE_NX);
        KT_EXPECT(t, !(w && x));
        KT_EXPECT(t, !(fl & PTE_U));
        if (va < (uintptr_t)_rodata)
            KT_EXPECT(t, x && !w);
        else if (va < (uintptr_t)_data)
            KT_EXPECT(t, !x && !w);
        else
            KT_EXPECT(t, !x && w);
    }
}

KTEST(vmm, no_identity_map_and_direct_map_not_executable)
{
    uint64_t root = vmm_kernel_root(), fl;
    KT_EXPECT(t, !vmm_translate(root, 0x100000, NULL, NULL));  /* boot stub's identity map is gone */
    KT_EXPECT(t, !vmm_translate(root, 0, NULL, NULL));
    uint64_t frame = pmm_alloc();
    KT_ASSERT(t, vmm_translate(root, (uintptr_t)P2V(frame), NULL, &fl));
    KT_EXPECT(t, fl & PTE_NX);
    KT_EXPECT(t, !(fl & PTE_U));
    pmm_free(frame);
    KT_EXPECT_EQ(t, read_cr3() & PTE_ADDR, root);
}

/* The kernel's own page table has nothing in the user half: a kernel
 * thread running on it can reach no user address (vmm_init pre-creates
 * only the kernel half's 256 PDPTs). */
KTEST(vmm, kernel_root_is_empty_below_the_kernel_half)
{
    const pte_t *pml4 = P2V(vmm_kernel_root());
    int used = 0;
    for (int i = 0; i < 256; i++)
        used += pml4[i] != 0;
    KT_EXPECT_EQ(t, used, 0);
    for (int i = 256; i < 512; i++)
        KT_EXPECT(t, pml4[i] & PTE_P);
}

KTEST(vmm, kstack_has_unmapped_guard)
{
    uint64_t before = pmm_free_frames();
    struct kstack ks;
    KT_ASSERT(t, kstack_alloc(&ks));
    KT_EXPECT(t, !vmm_kernel_mapped(ks.guard));
    KT_EXPECT(t, !vmm_kernel_mapped(ks.guard + PAGE_SIZE - 1));
    KT_EXPECT(t, vmm_kernel_mapped(ks.bottom));
    KT_EXPECT(t, vmm_kernel_mapped(ks.top - 1));
    *(volatile uint64_t *)(ks.top - 8) = 42;
    kstack_free(&ks);
    KT_EXPECT(t, !vmm_kernel_mapped(ks.bottom));
    KT_EXPECT_EQ(t, pmm_free_frames(), before);
}

/* ---- kheap ---- */

KTEST(kheap, small_blocks_are_distinct_and_aligned)
{
    void *p[100];
    for (int i = 0; i < 100; i++) {
        p[i] = kmalloc(24);
        KT_ASSERT(t, p[i] != NULL);
        KT_EXPECT_EQ(t, (uintptr_t)p[i] & 15, 0);
        memset(p[i], i, 24);
    }
    for (int i = 0; i < 100; i++)
        for (int j = 0; j < 24; j++)
            if (((uint8_t *)p[i])[j] != i) {
                KT_EXPECT(t, !"block overwritten by a neighbour");
                j = 24, i = 100;
            }
    for (int i = 0; i < 100; i++)
        kfree(p[i]);
}

KTEST(kheap, accounting_returns_to_start)
{
    uint64_t pages = kheap_pages_in_use(), bytes = kheap_bytes_in_use();
    uint64_t frames = pmm_free_frames();
    static void *p[300];                    /* (frame size: static, ktests run one at a time) */
    for (int i = 0; i < 300; i++)
        p[i] = kmalloc((size_t)(i * 37) % 3000 + 1);
    KT_EXPECT(t, kheap_bytes_in_use() > bytes);
    for (int i = 0; i < 300; i++)
        kfree(p[i]);
    KT_EXPECT_EQ(t, kheap_bytes_in_use(), bytes);
    /* At most one cached empty page per size class may remain. */
    KT_EXPECT(t, kheap_pages_in_use() <= pages + 8);
    KT_EXPECT_EQ(t, pmm_free_frames() + (kheap_pages_in_use() - pages), frames);
}

/* The tracer names who holds blocks: three blocks asked for here show as
 * one site of this function with a count of 3, and are gone once freed. */
KTEST(kheap, tracer_names_the_site_of_live_blocks)
{
    static struct kheap_site v[256];
    uint64_t untracked;
    KT_ASSERT(t, kheap_trace_control("mark\n", 5) == 5);
    KT_EXPECT(t, kheap_trace_control("bogus", 5) < 0);
    void *p[3];
    for (int i = 0; i < 3; i++)
        KT_ASSERT(t, (p[i] = kmalloc(43)) != NULL);
    size_t n = kheap_trace_report(v, 256, &untracked), hit = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].size == 43) {
            uintptr_t off;
            const char *name = ksym_lookup(v[i].site[0], &off);
            KT_EXPECT(t, name && strstr(name, "tracer_names_the_site"));
            hit += v[i].count;
        }
    KT_EXPECT_EQ(t, hit, 3);
    KT_EXPECT_EQ(t, untracked, 0);
    for (int i = 0; i < 3; i++)
        kfree(p[i]);
    n = kheap_trace_report(v, 256, &untracked);
    for (size_t i = 0; i < n; i++)
        KT_EXPECT(t, v[i].size != 43);
}

/* In quarantine a freed block is not handed out again at once, and it
 * names the function that freed it: what a use after free's crash report
 * says. The queue empties when the quarantine stops. */
KTEST(kheap, quarantine_keeps_a_freed_block_and_its_freer)
{
    uint64_t bytes = kheap_bytes_in_use();
    KT_ASSERT(t, kheap_trace_control("mark\n", 5) == 5);
    KT_ASSERT(t, kheap_trace_control("quarantine\n", 11) == 11);
    uint8_t *a = kmalloc(100);
    KT_ASSERT(t, a != NULL);
    kfree(a);
    KT_EXPECT_EQ(t, kheap_bytes_in_use(), bytes);   /* counted free at once */
    uint8_t *b = kmalloc(100);
    KT_EXPECT(t, a != b);                           /* not the same slot back */
    uintptr_t site[3] = { 0 };
    KT_EXPECT(t, kheap_freed_by(a, site));
    uintptr_t off;
    const char *name = ksym_lookup(site[0], &off);
    KT_EXPECT(t, name && strstr(name, "quarantine_keeps_a_freed"));
    KT_EXPECT(t, !kheap_freed_by(b, site));         /* a live block: nobody freed it */
    kfree(b);
    KT_ASSERT(t, kheap_trace_control("noquarantine\n", 13) == 13);
    KT_EXPECT_EQ(t, kheap_bytes_in_use(), bytes);
}

KTEST(kheap, large_blocks_use_whole_frames)
{
    uint64_t frames = pmm_free_frames();
    uint8_t *p = kmalloc(20000);
    KT_ASSERT(t, p != NULL);
    memset(p, 0x5a, 20000);
    KT_EXPECT_EQ(t, p[19999], 0x5a);
    KT_EXPECT_EQ(t, pmm_free_frames(), frames - 5);  /* 20000 + header -> 5 frames */
    kfree(p);
    KT_EXPECT_EQ(t, pmm_free_frames(), frames);
}

KTEST(kheap, freed_block_is_reused_and_poisoned)
{
    uint8_t *a = kmalloc(100);
    KT_ASSERT(t, a != NULL);
    memset(a, 0x11, 100);
    kfree(a);
    KT_EXPECT_EQ(t, a[64], 0x6b);          /* poison (the first word is the free link) */
    uint8_t *b = kmalloc(100);
    KT_EXPECT(t, a == b);                  /* LIFO free list: same slot back */
    kfree(b);
}

KTEST(kheap, kzalloc_zeroes)
{
    uint8_t *a = kmalloc(512);
    memset(a, 0xff, 512);
    kfree(a);
    uint8_t *b = kzalloc(512);
    int nonzero = 0;
    for (int i = 0; i < 512; i++)
        nonzero += b[i] != 0;
    KT_EXPECT_EQ(t, nonzero, 0);
    kfree(b);
}
