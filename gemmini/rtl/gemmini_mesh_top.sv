// The mesh with its input skew and output de-skew (Gemmini's MeshWithDelays.scala): the
// top level that Verilator builds and the Spike extension drives, one row per clock.
//
// Each cycle it takes one row (unskewed): in_a[r] = A element for mesh row r (WS: row i of
// A; OS: column k of A), in_b[c] (WS: the partial sum to start from, i.e. D / bias; OS: the B
// element), in_d[c] (a row of the next weights (WS) or of D (OS), shifted into the chain
// buffers when d_v is set; rows go in last row first), and the control: mac_v (the a/b row is
// real), d_v (shift the chain), prop (which of c1/c2 is active; flipping it swaps the double
// buffers), ws (dataflow). Row r of a is delayed r/TILE cycles and column c of b, d and the
// control c/TILE cycles, so element (r, c) meets its operands in PE (r, c).
// Every input is registered first (so nothing in the mesh depends combinationally on the
// ports: Verilator then has no input-driven logic to re-evaluate on every call).
// LATENCY = 2 * (DIM/TILE - 1) + 1 cycles later the same row leaves the bottom, de-skewed:
// out_b (WS results) and out_c (the chain: OS results). OS results leaving the chain are
// rounded-shifted right by `shift` and saturated to int8 when `sat` is set (the
// output-stationary path to the scratchpad), as the C++ model does; shift and sat travel
// with the row. This is done once at the bottom edge (DIM shifters, not DIM^2 as upstream's
// PEs do): every value leaves through the bottom exactly once, so the result is the same.
//
// Holds: the skew and de-skew delay registers and the mesh.
module gemmini_mesh_top #(
    parameter int DIM = 16,
    parameter int TILE = 1,
    parameter bit BROKEN_SIGN = 1'b0  // test build only: PE (0,0) zero-extends a
) (
    input  logic               clk,
    input  logic               rst,
    input  logic signed [ 7:0] in_a     [DIM],
    input  logic signed [31:0] in_b     [DIM],
    input  logic signed [31:0] in_d     [DIM],
    input  logic               mac_v,
    input  logic               d_v,
    input  logic               prop,
    input  logic               ws,
    input  logic        [ 4:0] shift,
    input  logic               sat,
    output logic signed [31:0] out_b    [DIM],
    output logic signed [31:0] out_c    [DIM],
    output logic               out_mac_v,
    output logic               out_d_v
);
  localparam int NT = DIM / TILE;
  localparam int LATENCY = 2 * (NT - 1) + 1;

  // the input register
  logic signed [ 7:0] a_r[DIM];
  logic signed [31:0] b_r[DIM], d_r[DIM];
  logic        [ 3:0] ctrl;
  logic        [ 7:0] edge_r;  // {mac_v, d_v, sat, shift} for the bottom edge
  always_ff @(posedge clk) begin
    a_r <= in_a;
    b_r <= in_b;
    d_r <= in_d;
    ctrl <= rst ? 4'b0 : {ws, prop, d_v, mac_v};
    edge_r <= {rst ? 2'b0 : {mac_v, d_v}, sat, shift};
  end

  logic signed [ 7:0] a_sk[DIM];
  logic signed [31:0] b_sk[DIM], d_sk[DIM], b_mesh[DIM], c_mesh[DIM], b_de[DIM], c_de[DIM];
  logic        [ 3:0] k_sk[DIM];

  for (genvar i = 0; i < DIM; i++) begin : g_lane
    localparam int SKEW = i / TILE;
    gemmini_delay #(.WIDTH(8), .DELAY(SKEW)) a_delay (.clk(clk), .in(a_r[i]), .out(a_sk[i]));
    gemmini_delay #(.WIDTH(32), .DELAY(SKEW)) b_delay (.clk(clk), .in(b_r[i]), .out(b_sk[i]));
    gemmini_delay #(.WIDTH(32), .DELAY(SKEW)) d_delay (.clk(clk), .in(d_r[i]), .out(d_sk[i]));
    gemmini_delay #(.WIDTH(4), .DELAY(SKEW)) k_delay (.clk(clk), .in(ctrl), .out(k_sk[i]));
    gemmini_delay #(.WIDTH(32), .DELAY(NT-1-SKEW)) b_deskew (.clk(clk), .in(b_mesh[i]), .out(b_de[i]));
    gemmini_delay #(.WIDTH(32), .DELAY(NT-1-SKEW)) c_deskew (.clk(clk), .in(c_mesh[i]), .out(c_de[i]));
  end

  gemmini_mesh #(
      .DIM(DIM),
      .TILE(TILE),
      .BROKEN_SIGN(BROKEN_SIGN)
  ) mesh (
      .clk(clk),
      .rst(rst),
      .in_a(a_sk),
      .in_b(b_sk),
      .in_d(d_sk),
      .in_ctrl(k_sk),
      .out_b(b_mesh),
      .out_c(c_mesh)
  );

  // The row's own controls for the bottom edge, delayed by the mesh's latency.
  logic [4:0] shift_out;
  logic sat_out;
  gemmini_delay #(.WIDTH(8), .DELAY(LATENCY - 1)) edge_delay (
      .clk(clk),
      .in (edge_r),
      .out({out_mac_v, out_d_v, sat_out, shift_out})
  );

  for (genvar i = 0; i < DIM; i++) begin : g_out
    assign out_b[i] = b_de[i];
    gemmini_round_sat round (.in(c_de[i]), .shift(shift_out), .sat(sat_out), .out(out_c[i]));
  end
endmodule
