; boot/entry64.asm - the 64-bit entry proper, in the higher half (it is the
; ELF entry): boot.asm's stub jumps here once in long mode, and this calls
; kmain on a boot stack.
;
; It is a file of its own because an assembler file's debug information
; describes one code section: with this code in boot.asm's second section,
; gdb found its addresses in that file's address map but not in its
; symbol table, and warned so at every stop whose backtrace reached here
; ("pc ... in address map, but not in symtab"). One code section per .asm.

section .text
extern kmain
global kernel_entry64
kernel_entry64:
    mov rsp, boot_stack_top
    xor ebp, ebp                    ; ends the frame-pointer chain
    call kmain
.hang:
    cli
    hlt
    jmp .hang

; The boot stack (no guard page) only runs kmain's first steps; kmain moves
; to a guarded stack as soon as page tables exist.
section .bss
align 16
boot_stack:
    resb 16384
boot_stack_top:
