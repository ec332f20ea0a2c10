// The default mesh backend: the DIM x DIM mesh computed functionally (vectorised kernel),
// results delivered at once. Holds what the PEs hold: the weights (WS) or the sums (OS).
#include <cstring>

#include "kernels.h"
#include "mesh_backend.h"
#include "rounding.h"

namespace gemmini {

namespace {

class FunctionalMesh final : public MeshBackend {
 public:
  explicit FunctionalMesh(MeshOutput output) : output_(std::move(output)) {}

  void submit(const MeshJob& job) override {
    if (job.new_weights) std::memcpy(pe_, job.preload, sizeof pe_);
    if (job.ws) {
      int32_t results[DIM][DIM];
      std::memcpy(results, job.bd, sizeof results);
      if (job.a_rows > 0 && job.a_cols > 0)
        mac_tile(&job.a[0][0], DIM, job.a_rows, job.a_cols, pe_, results);
      if (job.tag >= 0) output_(job.tag, results);
      return;
    }
    if (job.a_rows > 0 && job.a_cols > 0)
      mac_tile(&job.a[0][0], DIM, job.a_rows, job.a_cols, job.bd, pe_);
    if (job.tag < 0) return;
    if (!job.sat) return output_(job.tag, pe_);
    int32_t out[DIM][DIM];
    for (int i = 0; i < DIM; ++i)
      for (int j = 0; j < DIM; ++j) out[i][j] = rounding_shift_to_elem(pe_[i][j], job.shift);
    output_(job.tag, out);
  }
  void drain() override {}
  bool busy() const override { return false; }

 private:
  MeshOutput output_;
  int32_t pe_[DIM][DIM] = {};  // WS: the stationary weights; OS: the running sums
};

}  // namespace

#ifndef IVIT_RTL_MESH
std::unique_ptr<MeshBackend> make_mesh_backend(MeshOutput output) {
  return std::make_unique<FunctionalMesh>(std::move(output));
}
#endif

}  // namespace gemmini
