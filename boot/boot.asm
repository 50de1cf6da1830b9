; boot/boot.asm - from the Multiboot hand-off (32-bit protected mode, paging
; off) to the higher-half 64-bit kernel.
;
; The stub builds the smallest page tables that let it jump: the first 1 GiB
; of physical memory mapped three times with 2 MiB pages:
;   identity          (0x0 ...)                 so the next instruction after
;                                               enabling paging still exists,
;   direct map        (0xffff800000000000 ...)  where the kernel reaches RAM,
;   kernel image      (0xffffffff80000000 ...)  where the kernel is linked.
; kernel/mm/vmm.c replaces all of this with tables of its own (W^X, no
; identity map) before anything else runs.

MB_MAGIC     equ 0x1BADB002
MB_FLAGS     equ 0x00000003          ; page-align modules, give memory info
KERNEL_VMA   equ 0xffffffff80000000

extern kernel_entry64

section .multiboot progbits alloc noexec nowrite align=4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .boot.bss nobits alloc noexec write align=4096
boot_pml4:      resb 4096
boot_pdpt_low:  resb 4096
boot_pdpt_dmap: resb 4096
boot_pdpt_high: resb 4096
boot_pd:        resb 4096
boot_stack32:   resb 4096
boot_stack32_top:

section .boot.rodata progbits alloc noexec nowrite align=16
; Temporary GDT: null, 64-bit code, data. The accessed bits are preset so
; the CPU never writes to this read-only table.
boot_gdt:
    dq 0
    dq 0x00af9b000000ffff           ; 0x08: code, long mode, present, accessed
    dq 0x00cf93000000ffff           ; 0x10: data, present, writable, accessed
boot_gdt_end:
boot_gdt_ptr:
    dw boot_gdt_end - boot_gdt - 1
    dq boot_gdt
no_lm_msg: db "vigil: this CPU has no long mode", 0

section .boot.text progbits alloc exec nowrite align=16
bits 32
global _start
_start:
    cli
    cld
    mov esp, boot_stack32_top
    mov edi, eax                    ; Multiboot magic  -> kmain arg 1
    mov esi, ebx                    ; Multiboot info   -> kmain arg 2

    ; Long mode present? (CPUID 0x80000001 EDX bit 29)
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode

    ; Zero the tables (the loader clears bss, but don't rely on it).
    push edi
    mov edi, boot_pml4
    mov ecx, (5 * 4096) / 4
    xor eax, eax
    rep stosd
    pop edi

    ; PD: 512 x 2 MiB = first 1 GiB, present|writable|large.
    mov ebx, boot_pd
    xor ecx, ecx
.fill_pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov [ebx + ecx * 8], eax
    mov dword [ebx + ecx * 8 + 4], 0
    inc ecx
    cmp ecx, 512
    jne .fill_pd

    mov eax, boot_pd
    or eax, 0x3
    mov [boot_pdpt_low], eax                ; 0x0                -> PD
    mov [boot_pdpt_dmap], eax               ; 0xffff800000000000 -> PD
    mov [boot_pdpt_high + 510 * 8], eax     ; 0xffffffff80000000 -> PD

    mov eax, boot_pdpt_low
    or eax, 0x3
    mov [boot_pml4], eax
    mov eax, boot_pdpt_dmap
    or eax, 0x3
    mov [boot_pml4 + 256 * 8], eax
    mov eax, boot_pdpt_high
    or eax, 0x3
    mov [boot_pml4 + 511 * 8], eax

    mov eax, boot_pml4
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov ecx, 0xC0000080             ; EFER
    rdmsr
    or eax, (1 << 8) | (1 << 11)    ; LME, NXE
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16)   ; PG, WP (kernel honours read-only pages)
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    jmp 0x08:.long_mode

.no_long_mode:
    ; Say why on COM1 (polled) and stop.
    mov esi, no_lm_msg
.putc:
    lodsb
    test al, al
    jz .halt
    mov dx, 0x3F8
    out dx, al
    jmp .putc
.halt:
    hlt
    jmp .halt

bits 64
.long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov edi, edi                    ; zero-extend the Multiboot arguments
    mov esi, esi
    mov rax, kernel_entry64         ; boot/entry64.asm
    jmp rax
