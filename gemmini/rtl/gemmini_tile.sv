// A TILE x TILE block of PEs wired combinationally (Gemmini's Tile.scala): a crosses a whole
// tile row, and b, c and the control a whole tile column, in the same cycle.
//
// Holds: nothing of its own (the PEs' c1/c2 registers).
// Each cycle it passes on: a out of its right edge, b / c / control out of its bottom edge.
module gemmini_tile #(
    parameter int TILE = 1,
    parameter bit BROKEN_SIGN = 1'b0  // test build only: PE (0,0) of this tile zero-extends a
) (
    input  logic               clk,
    input  logic               rst,
    input  logic signed [ 7:0] in_a    [TILE],  // one per PE row, from the left
    input  logic signed [31:0] in_b    [TILE],  // one per PE column, from above
    input  logic signed [31:0] in_d    [TILE],
    input  logic        [ 3:0] in_ctrl [TILE],
    output logic signed [ 7:0] out_a   [TILE],  // to the right
    output logic signed [31:0] out_b   [TILE],  // downwards
    output logic signed [31:0] out_c   [TILE],
    output logic        [ 3:0] out_ctrl[TILE]
);
  // Each PE's outputs live in its own generate block (no shared array: Verilator then orders
  // the combinational chain without iterating).
  for (genvar r = 0; r < TILE; r++) begin : g_pe_row
    for (genvar c = 0; c < TILE; c++) begin : g_pe
      logic signed [ 7:0] a, oa;
      logic signed [31:0] b, d, ob, oc;
      logic        [ 3:0] k, ok;
      if (c == 0) begin : g_left
        assign a = in_a[r];
      end else begin : g_from_left
        assign a = g_pe_row[r].g_pe[c-1].oa;
      end
      if (r == 0) begin : g_top
        assign b = in_b[c];
        assign d = in_d[c];
        assign k = in_ctrl[c];
      end else begin : g_from_above
        assign b = g_pe_row[r-1].g_pe[c].ob;
        assign d = g_pe_row[r-1].g_pe[c].oc;
        assign k = g_pe_row[r-1].g_pe[c].ok;
      end
      if (c == TILE - 1) begin : g_right
        assign out_a[r] = oa;
      end
      if (r == TILE - 1) begin : g_bottom
        assign out_b[c] = ob;
        assign out_c[c] = oc;
        assign out_ctrl[c] = ok;
      end
      gemmini_pe #(
          .BROKEN_SIGN(BROKEN_SIGN && r == 0 && c == 0)
      ) pe (
          .clk(clk),
          .rst(rst),
          .in_a(a),
          .in_b(b),
          .in_d(d),
          .in_ctrl(k),
          .out_a(oa),
          .out_b(ob),
          .out_c(oc),
          .out_ctrl(ok)
      );
    end
  end
endmodule
