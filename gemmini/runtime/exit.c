/* Program end: picolibc's exit() ends here. Print the counters and the done marker, then stop
 * Spike with the exit status. */
#include <stdio.h>

#include "counters.h"
#include "htif.h"
#include "ivit_runtime.h"

void _exit(int status)
{
    if (!ivit_console_at_line_start())
        putchar('\n');
    printf(IVIT_COUNTERS_MARKER " cycles=%llu instret=%llu\n",
           (unsigned long long)ivit_read_cycles(), (unsigned long long)ivit_read_instret());
    printf(IVIT_DONE_MARKER " status=%d\n", status);
    ivit_console_flush();
    htif_exit(status);
}
