/* stdout/stderr for picolibc: a line buffer flushed through HTIF SYS_write (one host round
 * trip per line instead of per character). */
#include <stdio.h>

#include "htif.h"
#include "ivit_runtime.h"

#define LINE_MAX_BYTES 256

static char line[LINE_MAX_BYTES];
static size_t line_len;
static char last_char = '\n';

int ivit_console_at_line_start(void)
{
    return last_char == '\n';
}

void ivit_console_flush(void)
{
    if (line_len > 0) {
        htif_write(1, line, line_len);
        line_len = 0;
    }
}

static int console_putc(char c, FILE *file)
{
    (void)file;
    line[line_len++] = c;
    last_char = c;
    if (c == '\n' || line_len == LINE_MAX_BYTES)
        ivit_console_flush();
    return (unsigned char)c;
}

static int console_flush(FILE *file)
{
    (void)file;
    ivit_console_flush();
    return 0;
}

static FILE console = FDEV_SETUP_STREAM(console_putc, NULL, console_flush, _FDEV_SETUP_WRITE);

FILE *const stdout = &console;
FILE *const stderr = &console;
FILE *const stdin = NULL;
