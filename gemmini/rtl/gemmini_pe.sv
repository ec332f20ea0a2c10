// One processing element (Gemmini's PE.scala, re-written; combinational outputs, the mesh
// puts a register between PEs).
//
// Holds: two 32-bit registers c1, c2 (double buffering). The control bit `prop` selects which
// one is *active* (prop=1: c2, prop=0: c1); the other one is the *chain* buffer, a link of a
// per-column shift register that moves only on cycles with `d_v` set.
//  - weight-stationary (ws=1): the active register holds this PE's int8 weight; the next
//    tile's weight shifts into the chain buffer while the current one computes.
//  - output-stationary (ws=0): the active register holds the running int32 sum; the chain
//    buffer shifts the previous tile's sums out (and the next tile's D in).
// Each cycle it passes on: a (to the right, unchanged), b (down: WS the partial sum
// in_b + a * weight, OS the B operand unchanged), c (down: the chain buffer's value) and the
// control word (down, unchanged). Products are int8 x int8 sign-extended, sums wrap at 32 bits.
module gemmini_pe #(
    parameter bit BROKEN_SIGN = 1'b0  // test build only: zero-extend `a` (a deliberate bug)
) (
    input  logic               clk,
    input  logic               rst,
    input  logic signed [ 7:0] in_a,
    input  logic signed [31:0] in_b,
    input  logic signed [31:0] in_d,
    input  logic        [ 3:0] in_ctrl,   // {ws, prop, d_v, mac_v}
    output logic signed [ 7:0] out_a,
    output logic signed [31:0] out_b,
    output logic signed [31:0] out_c,
    output logic        [ 3:0] out_ctrl
);
  logic signed [31:0] c1, c2;
  logic mac_v, d_v, prop, ws;
  assign {ws, prop, d_v, mac_v} = in_ctrl;

  logic signed [31:0] active, chain, addend;
  // Operands sign-extended by hand and multiplied unsigned: the low 32 bits of the product
  // are the same, and Verilator inlines an unsigned multiply (a signed one is a call).
  logic [31:0] a_ext, mul_b, mac;
  assign active = prop ? c2 : c1;
  assign chain = prop ? c1 : c2;
  assign a_ext = BROKEN_SIGN ? {24'b0, in_a} : {{24{in_a[7]}}, in_a};
  // WS multiplies by the stationary weight and adds the partial sum from above;
  // OS multiplies by the B element from above and adds the sum held here.
  assign mul_b = ws ? {{24{active[7]}}, active[7:0]} : {{24{in_b[7]}}, in_b[7:0]};
  assign addend = ws ? in_b : active;
  assign mac = addend + a_ext * mul_b;

  assign out_a = in_a;
  assign out_b = ws ? mac : in_b;
  assign out_c = chain;
  assign out_ctrl = in_ctrl;

  always_ff @(posedge clk) begin
    if (rst) begin
      c1 <= '0;
      c2 <= '0;
    end else begin
      // chain buffer: shift in from above; active buffer: OS accumulation
      if (prop) begin
        if (d_v) c1 <= in_d;
        if (mac_v && !ws) c2 <= mac;
      end else begin
        if (d_v) c2 <= in_d;
        if (mac_v && !ws) c1 <= mac;
      end
    end
  end
endmodule
