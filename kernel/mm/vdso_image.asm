; mm/vdso_image.asm - the vDSO's bytes (build/vdso/vdso.so, from vdso/vdso.c),
; in the kernel's read-only data: kernel/mm/vdso.c copies them into the
; frames every process maps as [vdso].
section .rodata
align 16
global vdso_image, vdso_image_end
vdso_image:
    incbin "build/vdso/vdso.so"
vdso_image_end:
