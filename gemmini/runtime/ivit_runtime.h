/* The bare-metal runtime for Spike: console, exit, trap report, done marker.
 *
 * Contract with the host runner (ivit_gemmini.simulate.spike):
 *   - a normal end (return from main or exit(n)) prints
 *     "IVIT-COUNTERS cycles=<c> instret=<i>" and then "IVIT-DONE status=<n>", each on its own
 *     line, and exits with code n;
 *   - a trap prints "IVIT-TRAP mcause=0x.. mepc=0x.. mtval=0x.." (an access fault then
 *     "IVIT-TRAP-WHY <what it means>") and exits with 128 + mcause.
 */
#ifndef IVIT_RUNTIME_H
#define IVIT_RUNTIME_H

#define IVIT_DONE_MARKER "IVIT-DONE"
#define IVIT_TRAP_MARKER "IVIT-TRAP"
/* After an access fault's IVIT-TRAP line: what it means and which config key changes it. */
#define IVIT_TRAP_WHY_MARKER "IVIT-TRAP-WHY"
#define IVIT_COUNTERS_MARKER "IVIT-COUNTERS"

/* Send buffered console output to the host now. */
void ivit_console_flush(void);

/* Whether the next console character starts a new line. */
int ivit_console_at_line_start(void);

#endif
