; proc/swtch.asm - switch kernel stacks. Saves the callee-saved registers
; on the old stack and its stack pointer in *old, then does the reverse
; from new. Everything else was already saved by the C caller (ABI).
bits 64
section .text

; void swtch(uint64_t *old_rsp, uint64_t new_rsp)
global swtch
swtch:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

; First code a new process runs: finish the switch in C (drop the
; scheduler lock), then leave for user mode through the trapframe that sits
; right above this point on the stack.
extern fork_finish
extern trap_return
global fork_trampoline
fork_trampoline:
    call fork_finish
    jmp trap_return
