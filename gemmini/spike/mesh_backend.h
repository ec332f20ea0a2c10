// The one interface between the model and whatever computes on the mesh: the C++ functional
// mesh (mesh_functional.cc, the default build) or our SystemVerilog mesh simulated by
// Verilator (gemmini/rtl/driver/rtl_mesh.cc, the `spike-rtl` build, IVIT_RTL_MESH defined).
// No Spike headers: the RTL unit tests drive the same interface from a plain testbench.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "gemmini_params.h"

namespace gemmini {

// Invalid use of the accelerator (the model's ModelError): reported with the instruction.
struct MeshError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One COMPUTE as the mesh sees it: operands already gathered from the scratchpad (transposes
// applied; rows and columns the operands do not name are zero).
struct MeshJob {
  bool ws = true;           // dataflow: weight- (true) or output-stationary
  bool new_weights = true;  // COMPUTE_PRELOADED: `preload` replaces the weights (WS) / sums (OS)
  int rows = 0;             // WS: rows of A to stream (the output rows); OS: inner steps (k)
  int a_rows = 0, a_cols = 0;  // the part of `a` that holds data (the rest is zero)
  int tag = -1;             // where the results go (the model's output table); -1: nowhere
  uint32_t shift = 0;       // OS only: results leave rounded-shifted right by `shift` and
  bool sat = false;         //   saturated to int8 when `sat` (the path to the scratchpad)
  int8_t a[DIM][DIM];       // A[i][k]
  int32_t preload[DIM][DIM];  // WS: the weights B[k][j] (int8 values); OS: D[i][j]
  int32_t bd[DIM][DIM];       // WS: D[i][j], the partial sums to start from; OS: B[k][j]
};

// Called with a finished DIM x DIM result tile (WS: D + A*B; OS: the sums) and its tag.
using MeshOutput = std::function<void(int tag, const int32_t values[DIM][DIM])>;

class MeshBackend {
 public:
  virtual ~MeshBackend() = default;
  // Start a compute; its results may arrive later, through the output callback, in order.
  virtual void submit(const MeshJob& job) = 0;
  // Deliver every result still in flight (before anything reads what they write).
  virtual void drain() = 0;
  // Results in flight that have not been delivered yet.
  virtual bool busy() const = 0;
  // Backend statistics as a JSON object ("" if none); `macs_useful` for the utilization.
  virtual std::string stats_json(uint64_t macs_useful) const {
    (void)macs_useful;
    return "";
  }
};

// Defined once per build: the functional mesh, or the RTL mesh when IVIT_RTL_MESH is set.
std::unique_ptr<MeshBackend> make_mesh_backend(MeshOutput output);

}  // namespace gemmini
