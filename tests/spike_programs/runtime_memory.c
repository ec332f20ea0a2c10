/* Memory failures on purpose (tests/test_runtime_memory.py): -DSTACK_OVERFLOW recurses
 * without end, -DPAST_HEAP stores one byte past the heap's end (= the end of memory),
 * -DBIG_BSS=N adds an N MiB buffer (a model too large for the memory), -DHEAP_FILL mallocs
 * 1 MiB blocks (and writes them) until malloc says no; none: prints ok. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char __heap_end[];

#ifdef STACK_OVERFLOW
static int deep(int n)
{
    volatile char frame[512];
    memset((char *)frame, n, sizeof frame);
    return deep(n + 1) + frame[n % 512];
}
#endif

#ifdef BIG_BSS
static volatile char big[(uint64_t)(BIG_BSS) << 20];
#endif

int main(void)
{
#ifdef STACK_OVERFLOW
    return deep(0);
#endif
#ifdef PAST_HEAP
    volatile char *p = __heap_end;
    *p = 1;
#endif
#ifdef BIG_BSS
    big[0] = 1;
#endif
#ifdef HEAP_FILL
    int blocks = 0;
    for (void *p; (p = malloc(1 << 20)) != NULL; blocks++)
        memset(p, 1, 1 << 20);
    printf("heap blocks %d\n", blocks);
#endif
    printf("memory ok\n");
    return 0;
}
