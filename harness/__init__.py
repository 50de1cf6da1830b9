"""Vigil's harness: build the kernel and user programs, boot them in QEMU,
drive the serial console, and check what comes out."""
