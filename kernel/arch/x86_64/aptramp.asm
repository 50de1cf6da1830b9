; arch/x86_64/aptramp.asm - where an application processor starts.
;
; A CPU woken by INIT-SIPI-SIPI begins in 16-bit real mode at physical
; address SIPI_vector * 4096 with CS = vector * 256, IP = 0. smp.c copies
; this blob to AP_TRAMPOLINE (0x8000), fills in its parameters, and maps that
; page at its own physical address so the instructions after paging is
; switched on can still be fetched. The CPU goes straight from real mode to
; long mode (PAE + LME + NXE, then PE and PG together), then jumps to the
; kernel proper on the stack smp.c gave it.

bits 16
section .rodata

%define AP_TRAMPOLINE 0x8000
%define TR(x) ((x) - ap_trampoline + AP_TRAMPOLINE)

global ap_trampoline, ap_trampoline_end
global ap_param_cr3, ap_param_stack, ap_param_entry, ap_param_id

ap_trampoline:
    cli
    xor ax, ax
    mov ds, ax
    lgdt [TR(ap_gdtr)]
    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, [TR(ap_param_cr3)]
    mov cr3, eax
    mov ecx, 0xC0000080             ; EFER
    rdmsr
    or eax, (1 << 8) | (1 << 11)    ; LME, NXE (the kernel's tables use NX)
    wrmsr
    mov eax, cr0
    or eax, 0x80000001              ; PG | PE
    mov cr0, eax
    jmp dword 0x08:TR(ap_long)

bits 64
ap_long:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rsp, [TR(ap_param_stack)]
    mov edi, [TR(ap_param_id)]
    xor ebp, ebp
    mov rax, [TR(ap_param_entry)]
    jmp rax

align 8
ap_gdt:
    dq 0
    dq 0x00af9a000000ffff           ; 0x08: 64-bit code
    dq 0x00cf92000000ffff           ; 0x10: data
ap_gdtr:
    dw ap_gdtr - ap_gdt - 1
    dd TR(ap_gdt)
align 8
ap_param_cr3:   dq 0
ap_param_stack: dq 0
ap_param_entry: dq 0
ap_param_id:    dq 0
ap_trampoline_end:
