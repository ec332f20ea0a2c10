// Arithmetic right shift by `shift` rounding half to even, then saturation to int8 (when
// `sat`; otherwise the value passes unchanged). Combinational; holds nothing.
module gemmini_round_sat (
    input  logic signed [31:0] in,
    input  logic        [ 4:0] shift,
    input  logic               sat,
    output logic signed [31:0] out
);
  logic signed [31:0] q, rounded;
  logic half, rest;
  logic [31:0] below;  // the bits shifted out below the half bit
  assign q = in >>> shift;
  assign half = shift == 0 ? 1'b0 : in[shift-5'd1];
  assign below = shift <= 1 ? 32'b0 : (32'(1) << (shift - 5'd1)) - 32'd1;
  assign rest = |(in & below);
  assign rounded = q + {31'b0, half & (rest | q[0])};
  always_comb begin
    if (!sat) out = in;
    else if (rounded > 32'sd127) out = 32'sd127;
    else if (rounded < -32'sd128) out = -32'sd128;
    else out = rounded;
  end
endmodule
