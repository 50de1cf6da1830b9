; arch/x86_64/trapentry.asm - one small stub per IDT vector. Each makes the
; stack look the same (an error code, real or 0, and the vector number), then
; trap_common saves every register as a struct trapframe and calls
; trap_dispatch(tf) in C.

bits 64
%include "frame.inc"
section .text
extern trap_dispatch

; Vectors for which the CPU pushes an error code itself.
%define HAS_ERR(v) ((v) == 8 || (v) == 10 || (v) == 11 || (v) == 12 || (v) == 13 || (v) == 14 || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

%assign v 0
%rep 256
align 16
trap_stub_ %+ v:
%if HAS_ERR(v) == 0
    push 0
%endif
    push v
    jmp trap_common
%assign v v + 1
%endrep

; CS sits at trapframe offset 18*8 (15 registers, vector, error, rip).
%define TF_CS 18*8

trap_common:
    PUSH_GPRS
    ; From ring 3, GS holds the user's base: swap in the kernel's.
    test byte [rsp + TF_CS], 3
    jz .kernel_gs
    swapgs
.kernel_gs:
    cld
    mov rdi, rsp
    call trap_dispatch

global trap_return
trap_return:
    test byte [rsp + TF_CS], 3
    jz .restore
    swapgs
.restore:
    POP_GPRS
    add rsp, 16                     ; vector and error code
    iretq

section .rodata
global trap_stubs
trap_stubs:
%assign v 0
%rep 256
    dq trap_stub_ %+ v
%assign v v + 1
%endrep
