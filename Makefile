# Vigil's build. `make` builds build/kernel.elf (ELF64, symbols: for gdb and
# the harness) and build/kernel.mb.elf (the elf32 copy QEMU's -kernel boots
# through Multiboot). Incremental: a second `make` with nothing changed does
# nothing. BUILD=dir puts everything elsewhere (one dir per configuration).

BUILD   ?= build
# User programs and the initrd are the same for every kernel.
UBUILD  := build

# Break switches (docs/invariants.md, harness/matrix.py): `make BREAK=cow`
# builds a kernel with exactly that mechanism removed, in build/break-cow.
# One entry per line (keep them sorted), so additions merge cleanly.
BREAKS  :=
BREAKS  += commit-order
BREAKS  += core-limit
BREAKS  += cow
BREAKS  += cow-kwrite
BREAKS  += cow-mprotect
BREAKS  += debugreg-user
BREAKS  += chroot
BREAKS  += cred
BREAKS  += disk-checks
BREAKS  += evict-order
BREAKS  += iset-order
BREAKS  += parent-put
BREAKS  += realpath-early
BREAKS  += rename-dots
BREAKS  += dead-dir
BREAKS  += signal-restart
BREAKS  += ext2-one-inode
BREAKS  += fair
BREAKS  += fault-region
BREAKS  += fd-ref
BREAKS  += fdatasync-flush
BREAKS  += file-perm
BREAKS  += flush-wait
BREAKS  += fsync-flush
BREAKS  += futex
BREAKS  += hungtask
BREAKS  += init-signal
BREAKS  += iopb
BREAKS  += ipc-perm
BREAKS  += ioport-owner
BREAKS  += journal
BREAKS  += journal-abort
BREAKS  += journal-reuse
BREAKS  += journal-reclaim
BREAKS  += kernel-wx
BREAKS  += kill-perm
BREAKS  += klock
BREAKS  += kstack-guard
BREAKS  += lock-conflict
BREAKS  += lockdep
BREAKS  += mlock-pin
BREAKS  += mmap-min-addr
BREAKS  += nr-open
BREAKS  += nx
BREAKS  += oom-adj
BREAKS  += opath
BREAKS  += pi
BREAKS  += pkey-pte
BREAKS  += pkru-switch
BREAKS  += poll-wake
BREAKS  += epoll-excl
BREAKS  += preempt
BREAKS  += private-file
BREAKS  += proc-perm
BREAKS  += ptrace-perm
BREAKS  += ptrace-setid
BREAKS  += reclaim-dirty
BREAKS  += rlimit-nofile
BREAKS  += rlimit-perm
BREAKS  += rt-prio
BREAKS  += rt-queue
BREAKS  += smap
BREAKS  += smep
BREAKS  += spinlock
BREAKS  += sysret-regs
BREAKS  += threads-max
BREAKS  += tlb
BREAKS  += tmpfs-truncate
BREAKS  += tty-background
BREAKS  += tty-isig
BREAKS  += txtbsy
BREAKS  += umip
BREAKS  += user-fault
BREAKS  += user-pages
BREAKS  += usercopy
BREAKS  += vvar-live
BREAKS  += vvar-ro
BREAKS  += watchdog
BREAK   ?=
# A broken kernel compiles with -DBREAK_X only the sources that mention
# BREAK_X and links the default build's objects for the rest (a header
# that mentions it recompiles everything).
BASE    := $(BUILD)
ifneq ($(BREAK),)
ifeq ($(filter $(BREAK),$(BREAKS)),)
$(error unknown BREAK=$(BREAK); one of: $(BREAKS))
endif
BUILD   := $(BASE)/break-$(BREAK)
BDEF    := BREAK_$(shell echo '$(BREAK)' | tr 'a-z-' 'A-Z_')
BSRCS   := $(shell grep -rlw '$(BDEF)' kernel boot)
ifneq ($(filter %.h,$(BSRCS)),)
BSRCS   := $(shell find kernel -name '*.c' -o -name '*.asm') $(wildcard boot/*.asm)
endif
endif
CC      := gcc
NASM    := nasm
LD      := ld
OBJCOPY := objcopy
PYTHON  ?= python3

CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-stack-protector -fno-pic -fno-pie \
          -mno-red-zone -mcmodel=kernel -mgeneral-regs-only -mno-mmx -mno-sse -mno-sse2 \
          -mno-80387 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
          -fno-asynchronous-unwind-tables -fno-strict-aliasing \
          -Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP $(KDEFS)
# Bounded kernel stacks (issue 14): no function's frame over 1 KiB of the
# 16 KiB kernel stack (big buffers live on the heap), and -fstack-usage
# leaves each function's frame size in build/obj/**/*.su. The deepest stack
# actually used is measured at run time (painted stacks, kstack_deepest) and
# checked by the tests. One exception: blk_test.c's stack_buffers ktest
# exists to put 2 KiB of disk buffers on a kernel stack (the boot stack,
# once, at boot), to prove the driver translates stack addresses.
FRAME_LIMIT := 1024
KSTACK_FLAGS = -Wframe-larger-than=$(FRAME_LIMIT) -fstack-usage
NASMFLAGS := -f elf64 -g -F dwarf -i kernel/arch/x86_64/
LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T linker.ld

CSRCS   := $(shell find kernel -name '*.c' | sort)
ASRCS   := $(sort $(wildcard boot/*.asm)) $(shell find kernel -name '*.asm' | sort)
SRCS    := $(CSRCS) $(ASRCS)
# Each source's object: its own build's if it mentions the switch, else the
# default build's (BASE == BUILD without BREAK).
obj      = $(if $(filter $(1),$(BSRCS)),$(BUILD),$(BASE))/obj/$(basename $(1)).o
OBJS    := $(foreach s,$(SRCS),$(call obj,$(s)))

all: $(BUILD)/kernel.elf $(BUILD)/kernel.mb.elf $(UBUILD)/initrd.cpio $(UBUILD)/root.img

$(BASE)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KSTACK_FLAGS) -c $< -o $@

$(BASE)/obj/%.o: %.asm Makefile
	@mkdir -p $(dir $@)
	$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) $< -o $@

ifneq ($(BREAK),)
$(BUILD)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KSTACK_FLAGS) -D$(BDEF) -c $< -o $@

$(BUILD)/obj/%.o: %.asm Makefile
	@mkdir -p $(dir $@)
	$(NASM) $(NASMFLAGS) -D$(BDEF) -MD $(@:.o=.d) $< -o $@
endif

$(BASE)/obj/kernel/drivers/blk_test.o $(BUILD)/obj/kernel/drivers/blk_test.o: FRAME_LIMIT := 2304

# Symbol table, in two passes: link without names, list the text symbols of
# that image, link again with the list. ksyms.o goes last in .rodata, which
# follows .text, so no text address moves between the passes (checked).
$(BUILD)/ksyms0.c: harness/ksyms.py
	@mkdir -p $(BUILD)
	$(PYTHON) harness/ksyms.py --empty > $@

$(BUILD)/%.o: $(BUILD)/%.c
	$(CC) $(CFLAGS) -iquote . -c $< -o $@

$(BUILD)/kernel.pass1.elf: $(OBJS) $(BUILD)/ksyms0.o linker.ld
	$(LD) $(LDFLAGS) -o $@ $(OBJS) $(BUILD)/ksyms0.o

$(BUILD)/ksyms.c: $(BUILD)/kernel.pass1.elf harness/ksyms.py
	$(PYTHON) harness/ksyms.py $< > $@

$(BUILD)/kernel.elf: $(OBJS) $(BUILD)/ksyms.o linker.ld
	$(LD) $(LDFLAGS) -o $@ $(OBJS) $(BUILD)/ksyms.o
	$(PYTHON) harness/ksyms.py --check $(BUILD)/kernel.pass1.elf $@

# QEMU's Multiboot loader takes only 32-bit ELF: same segments, physical
# addresses, entry at the 32-bit _start.
$(BUILD)/kernel.mb.elf: $(BUILD)/kernel.elf
	$(OBJCOPY) -O elf32-i386 --set-start=0x$$(nm $< | awk '$$3 == "_start" { print $$1 }') $< $@

# ---- the vDSO (vdso/vdso.c): a shared object of its own, embedded in the
# kernel (kernel/mm/vdso_image.asm) and mapped into every process. Built
# once for every kernel (no break switch touches it); harness/vdsocheck.py
# refuses an image that would need relocating or lacks the LINUX_2.6
# symbols. vdso.dbg keeps the symbols for gdb; vdso.so is what is mapped.
VDSO_CFLAGS  := -std=gnu11 -O2 -g -fPIC -ffreestanding -fno-builtin -fno-stack-protector -fno-plt \
                -fcf-protection=none -Wall -Wextra -Werror -Wno-unused-parameter
VDSO_LDFLAGS := -nostdlib -shared -Wl,-T,vdso/vdso.lds -Wl,--version-script=vdso/vdso.map \
                -Wl,--hash-style=both -Wl,-soname=linux-vdso.so.1 -Wl,--eh-frame-hdr \
                -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--no-undefined -Wl,-Bsymbolic
$(UBUILD)/vdso/vdso.so: vdso/vdso.c vdso/vdso.lds vdso/vdso.map kernel/sys/vvar.h kernel/lib/abi.h \
                        kernel/lib/errno.h kernel/lib/types.h kernel/sys/syscalls.def harness/vdsocheck.py
	@mkdir -p $(dir $@)
	$(CC) $(VDSO_CFLAGS) $(VDSO_LDFLAGS) vdso/vdso.c -o $(UBUILD)/vdso/vdso.dbg
	$(OBJCOPY) -S $(UBUILD)/vdso/vdso.dbg $@.tmp
	$(PYTHON) harness/vdsocheck.py $@.tmp
	mv $@.tmp $@

$(BASE)/obj/kernel/mm/vdso_image.o: $(UBUILD)/vdso/vdso.so

# ---- user programs: plain C against musl, linked statically ----
MUSLCC  := musl-gcc
UWARN   := -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter
UCFLAGS := -static $(UWARN)
USER_TESTS := $(patsubst user/tests/%.c,%,$(sort $(wildcard user/tests/*.c)))
# Micro-benchmarks (invoke bench): user/bench/NAME.c is /bin/bench-NAME.
USER_BENCH := $(patsubst user/bench/%.c,%,$(sort $(wildcard user/bench/*.c)))
USER_BINS  := $(UBUILD)/rootfs/sbin/init $(UBUILD)/rootfs/bin/sh $(UBUILD)/rootfs/bin/pie \
              $(UBUILD)/rootfs/bin/auxinterp \
              $(USER_TESTS:%=$(UBUILD)/rootfs/bin/%) $(USER_BENCH:%=$(UBUILD)/rootfs/bin/bench-%)
MUSL_LIB   := /usr/lib/x86_64-linux-musl

$(UBUILD)/rootfs/sbin/%: user/%.c
	@mkdir -p $(dir $@)
	$(MUSLCC) $(UCFLAGS) -o $@ $<

$(UBUILD)/rootfs/bin/sh: user/sh.c
	@mkdir -p $(dir $@)
	$(MUSLCC) $(UCFLAGS) -o $@ $<

# A true static PIE (ET_DYN without PT_INTERP): musl-gcc's -static-pie alone
# makes a dynamic one, so link by hand with the self-relocating rcrt1.o.
$(UBUILD)/rootfs/bin/pie: user/pie.c
	@mkdir -p $(dir $@)
	$(MUSLCC) $(UWARN) -fPIE -static-pie -nostartfiles -Wl,--no-dynamic-linker -Wl,-Bstatic \
	    $(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o $< $(MUSL_LIB)/crtn.o -o $@

# The same kind of file, as a stand-in ELF interpreter (PT_INTERP) for tests.
$(UBUILD)/rootfs/bin/auxinterp: user/auxinterp.c
	@mkdir -p $(dir $@)
	$(MUSLCC) $(UWARN) -fPIE -static-pie -nostartfiles -Wl,--no-dynamic-linker -Wl,-Bstatic \
	    $(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o $< $(MUSL_LIB)/crtn.o -o $@

$(UBUILD)/rootfs/bin/%: user/tests/%.c $(wildcard user/tests/*.h)
	@mkdir -p $(dir $@)
	$(MUSLCC) $(UCFLAGS) -o $@ $<

# gdbme is Debian's gdb's patient (tests/test_gdb.py): unoptimised, so every
# line is a place to stop and every variable is there to print; its source
# is named as /usr/src/vigil/user/tests/gdbme.c, where the test puts it.
$(UBUILD)/rootfs/bin/gdbme: UCFLAGS := -static -O0 -g -Wall -Wextra -Werror \
    -fdebug-prefix-map=$(CURDIR)=/usr/src/vigil

$(UBUILD)/rootfs/bin/bench-%: user/bench/%.c $(wildcard user/bench/*.h)
	@mkdir -p $(dir $@)
	$(MUSLCC) $(UCFLAGS) -o $@ $<

# The root disk: Debian's packages (rootfs/packages.txt, downloaded and
# unpacked once into build/debian), the overlay (rootfs/overlay), Vigil's
# init as /sbin/init and its programs in /usr/lib/vigil/bin, as an ext3
# image made by mke2fs (harness/debian.py).
DEBIAN_INPUTS := rootfs/packages.txt $(shell find rootfs/overlay -type f) harness/debian.py \
                 harness/image.py
$(UBUILD)/root.img: $(USER_BINS) $(DEBIAN_INPUTS)
	$(PYTHON) -m harness.debian image $@ $(UBUILD)/rootfs

# The initrd: the root tree above as a newc cpio archive (a Multiboot module).
$(UBUILD)/initrd.cpio: $(USER_BINS) harness/initrd.py
	@mkdir -p $(UBUILD)/rootfs/mnt $(UBUILD)/rootfs/dev $(UBUILD)/rootfs/tmp $(UBUILD)/rootfs/run $(UBUILD)/rootfs/proc $(UBUILD)/rootfs/sys
	$(PYTHON) harness/initrd.py $@ $(UBUILD)/rootfs

clean:
	rm -rf $(BUILD)

.PHONY: all clean
-include $(OBJS:.o=.d)
