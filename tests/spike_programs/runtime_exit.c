/* Exits with the status given at build time (-DEXIT_STATUS=n). */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("exiting with %d\n", EXIT_STATUS);
    exit(EXIT_STATUS);
}
