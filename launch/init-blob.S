/* roost-init (launch/roost-init.c), built static, carried inside launch.
 * The path is the build tree's: the assembler runs at its top. */
        .section .rodata
        .balign 16
        .globl roost_init_start
        .hidden roost_init_start
roost_init_start:
        .incbin "launch/roost-init"
        .globl roost_init_end
        .hidden roost_init_end
roost_init_end:
        .section .note.GNU-stack,"",%progbits
