; arch/x86_64/syscall.asm - the `syscall` instruction's entry and the way
; back. Entry builds the same struct trapframe an interrupt does, so fork,
; exec and signals see one frame format, and either return path can be used.

bits 64
%include "frame.inc"
section .text
extern syscall_dispatch
extern trap_return

%define CPU_KERNEL_RSP 8
%define CPU_USER_RSP   16
%define GDT_UDATA_RPL3 (0x28 | 3)   ; arch.h's GDT_UDATA
%define GDT_UCODE_RPL3 (0x30 | 3)   ; arch.h's GDT_UCODE
%define SYSCALL_VECTOR 256
; trapframe offsets once the 15 registers are popped
%define F_RIP    16
%define F_CS     24
%define F_RFLAGS 32
%define F_RSP    40
; saved registers (struct trapframe's order, frame.inc)
%define F_R11    4*8
%define F_RCX    12*8

global syscall_entry
syscall_entry:
    ; IF is already clear (SFMASK). RSP is still the user's: switch first.
    swapgs
    mov [gs:CPU_USER_RSP], rsp
    mov rsp, [gs:CPU_KERNEL_RSP]
    push GDT_UDATA_RPL3             ; ss
    push qword [gs:CPU_USER_RSP]    ; rsp
    push r11                        ; rflags (saved by syscall)
    push GDT_UCODE_RPL3             ; cs
    push rcx                        ; rip (saved by syscall)
    push 0                          ; error
    push SYSCALL_VECTOR             ; vector
    PUSH_GPRS
    cld
    mov rdi, rsp
    sti
    call syscall_dispatch
    ; fall through

; Return to user from a syscall frame. sysret is faster than iretq but
; unsafe when the return address is not canonical (Intel CPUs raise #GP in
; ring 0 on user's stack) or the frame was changed to another segment:
; those go out through iretq.
;
; INVARIANT(process isolation): a program gets back every register it had.
; sysret loads rip from rcx and rflags from r11, so it returns the frame's
; rcx and r11 only when they equal its rip and rflags - true of the frame the
; syscall instruction made, false of one the kernel replaced: rt_sigreturn
; going back into code a signal interrupted anywhere, a signal handler's
; frame, ptrace's SETREGS. Those go out through iretq, every register as the
; frame says (an interrupted malloc lost its rcx and r11 otherwise).
global syscall_return
syscall_return:
    cli
    mov rcx, [rsp + 15*8 + F_RIP]
    shr rcx, 47
    jnz .slow
    cmp qword [rsp + 15*8 + F_CS], GDT_UCODE_RPL3
    jne .slow
    ; A trap flag (a tracer's single step) goes back by iretq: sysret would
    ; trap at once, before the next instruction ran; iretq lets it run. RF
    ; sysret cannot restore at all.
    test qword [rsp + 15*8 + F_RFLAGS], 0x10100
    jnz .slow
%ifndef BREAK_SYSRET_REGS
    mov rcx, [rsp + F_RCX]
    cmp rcx, [rsp + 15*8 + F_RIP]
    jne .slow
    mov rcx, [rsp + F_R11]
    cmp rcx, [rsp + 15*8 + F_RFLAGS]
    jne .slow
%endif
    POP_GPRS
    mov rcx, [rsp + F_RIP]
    mov r11, [rsp + F_RFLAGS]
    mov rsp, [rsp + F_RSP]
    swapgs
    o64 sysret
.slow:
    jmp trap_return
