// A fixed delay of DELAY cycles (0: a wire): a chain of DELAY registers.
//
// Holds: the last DELAY values of `in`. Each cycle it passes on the value from DELAY cycles ago.
module gemmini_delay #(
    parameter int WIDTH = 32,
    parameter int DELAY = 1
) (
    /* verilator lint_off UNUSEDSIGNAL */  // unused when DELAY is 0
    input  logic             clk,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [WIDTH-1:0] in,
    output logic [WIDTH-1:0] out
);
  if (DELAY == 0) begin : g_wire
    assign out = in;
  end else begin : g_regs
    logic [WIDTH-1:0] stage[DELAY];
    always_ff @(posedge clk) begin
      stage[0] <= in;
      for (int i = 1; i < DELAY; i++) stage[i] <= stage[i-1];
    end
    assign out = stage[DELAY-1];
  end
endmodule
