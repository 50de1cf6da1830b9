; arch/x86_64/usercopy.asm - the only instructions that touch user memory on
; a syscall's behalf. A fault in one of them (a bad user pointer) does not
; oops: the page-fault handler finds the faulting address in __ex_table and
; resumes at the fixup, which reports how much was not copied.

bits 64
section .text

; size_t uaccess_copy(void *dst, const void *src, size_t n)
; Returns the number of bytes NOT copied (0 on success).
global uaccess_copy
uaccess_copy:
    mov rcx, rdx
.copy:
    rep movsb
    xor eax, eax
    ret
.fixup:
    mov rax, rcx
    ret

; long uaccess_strncpy(char *dst, const char *src, size_t max)
; Copies up to max bytes including the NUL. Returns the string length, max
; if no NUL was found within max bytes, or -1 on a fault.
global uaccess_strncpy
uaccess_strncpy:
    xor eax, eax
.loop:
    cmp rax, rdx
    je .done
.load:
    mov cl, [rsi + rax]
    mov [rdi + rax], cl
    test cl, cl
    jz .done
    inc rax
    jmp .loop
.done:
    ret
.sfixup:
    mov rax, -1
    ret

; int uaccess_cmpxchg32(uint32_t *uaddr, uint32_t old, uint32_t new, uint32_t *cur)
; Atomically: if *uaddr == old, *uaddr = new. *cur gets what was there.
; Returns 0, or -1 on a fault.
global uaccess_cmpxchg32
uaccess_cmpxchg32:
    mov eax, esi
.cas:
    lock cmpxchg [rdi], edx
    mov [rcx], eax
    xor eax, eax
    ret
.cfixup:
    mov eax, -1
    ret

section .ex_table progbits alloc noexec nowrite align=8
    dq uaccess_copy.copy, uaccess_copy.fixup
    dq uaccess_strncpy.load, uaccess_strncpy.sfixup
    dq uaccess_cmpxchg32.cas, uaccess_cmpxchg32.cfixup
