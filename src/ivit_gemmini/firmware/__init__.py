"""Building RISC-V ELFs with Debian's GCC + picolibc."""
