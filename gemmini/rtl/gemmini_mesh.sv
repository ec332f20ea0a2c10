// The DIM x DIM grid of tiles (Gemmini's Mesh.scala): (DIM/TILE)^2 tiles with a pipeline
// register between neighbouring tiles on every wire.
//
// Holds: the registers between tiles: a between tile columns, b / c / control between tile
// rows (plus the PEs' c1/c2).
// Each cycle it passes on: a one tile to the right, b / c / control one tile down; the bottom
// tile row's b and c leave the mesh combinationally (skewed by column: MeshWithDelays de-skews).
module gemmini_mesh #(
    parameter int DIM = 16,
    parameter int TILE = 1,
    parameter bit BROKEN_SIGN = 1'b0  // test build only: PE (0,0) zero-extends a
) (
    input  logic               clk,
    input  logic               rst,
    input  logic signed [ 7:0] in_a    [DIM],  // row r of the mesh, from the left
    input  logic signed [31:0] in_b    [DIM],  // column c, from the top
    input  logic signed [31:0] in_d    [DIM],
    input  logic        [ 3:0] in_ctrl [DIM],
    output logic signed [31:0] out_b   [DIM],  // column c, at the bottom
    output logic signed [31:0] out_c   [DIM]
);
  localparam int NT = DIM / TILE;

  // *_in[tr][tc]: what enters tile (tr, tc); *_out: what leaves it (before the register)
  // The a leaving the right edge and the control leaving the bottom go nowhere (as upstream).
  /* verilator lint_off UNUSEDSIGNAL */
  logic signed [ 7:0] a_in [NT][NT][TILE], a_out[NT][NT][TILE];
  logic signed [31:0] b_in [NT][NT][TILE], b_out[NT][NT][TILE];
  logic signed [31:0] d_in [NT][NT][TILE], d_out[NT][NT][TILE];
  logic        [ 3:0] k_in [NT][NT][TILE], k_out[NT][NT][TILE];
  /* verilator lint_on UNUSEDSIGNAL */

  for (genvar tr = 0; tr < NT; tr++) begin : g_tr
    for (genvar tc = 0; tc < NT; tc++) begin : g_tc
      gemmini_tile #(
          .TILE(TILE),
          .BROKEN_SIGN(BROKEN_SIGN && tr == 0 && tc == 0)
      ) tile (
          .clk(clk),
          .rst(rst),
          .in_a(a_in[tr][tc]),
          .in_b(b_in[tr][tc]),
          .in_d(d_in[tr][tc]),
          .in_ctrl(k_in[tr][tc]),
          .out_a(a_out[tr][tc]),
          .out_b(b_out[tr][tc]),
          .out_c(d_out[tr][tc]),
          .out_ctrl(k_out[tr][tc])
      );
      for (genvar i = 0; i < TILE; i++) begin : g_wire
        if (tc == 0) begin : g_left
          assign a_in[tr][tc][i] = in_a[tr*TILE+i];
        end else begin : g_a_reg
          always_ff @(posedge clk) a_in[tr][tc][i] <= a_out[tr][tc-1][i];
        end
        if (tr == 0) begin : g_top
          assign b_in[tr][tc][i] = in_b[tc*TILE+i];
          assign d_in[tr][tc][i] = in_d[tc*TILE+i];
          assign k_in[tr][tc][i] = in_ctrl[tc*TILE+i];
        end else begin : g_v_reg
          always_ff @(posedge clk) begin
            b_in[tr][tc][i] <= b_out[tr-1][tc][i];
            d_in[tr][tc][i] <= d_out[tr-1][tc][i];
            k_in[tr][tc][i] <= rst ? 4'b0 : k_out[tr-1][tc][i];
          end
        end
        if (tr == NT - 1) begin : g_bottom
          assign out_b[tc*TILE+i] = b_out[tr][tc][i];
          assign out_c[tc*TILE+i] = d_out[tr][tc][i];
        end
      end
    end
  end
endmodule
