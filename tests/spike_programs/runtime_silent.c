/* Stops Spike with exit code 0 without the done marker (as a bypassed exit path would);
 * or spins forever with -DSPIN. */
#include "htif.h"

int main(void)
{
#ifdef SPIN
    for (;;)
        __asm__ volatile("");
#endif
    htif_exit(0);
}
