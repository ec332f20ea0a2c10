// RTL testbench: drives the RTL mesh backend (rtl_mesh.cc) with jobs read from stdin and
// writes every result tile to stdout, for the numpy unit tests (tests/test_rtl_mesh.py).
// Input (little-endian): records of int32 op; op 0 = a job: int32 ws, new_weights, rows,
// a_rows, a_cols, tag, shift, sat, then int8 a[DIM*DIM], int32 preload[DIM*DIM],
// int32 bd[DIM*DIM]; op 1 = drain. Output: per result, int32 tag + int32 values[DIM*DIM];
// then one JSON line of statistics on stderr.
#include <cstdio>
#include <cstring>
#include <memory>

#include "mesh_backend.h"

using gemmini::MeshJob;

namespace {
bool read_all(void* dst, size_t n) { return std::fread(dst, 1, n, stdin) == n; }
}  // namespace

int main() {
  auto mesh = gemmini::make_mesh_backend([](int tag, const int32_t v[DIM][DIM]) {
    const int32_t t = tag;
    std::fwrite(&t, 4, 1, stdout);
    std::fwrite(v, 4, DIM * DIM, stdout);
  });
  auto job = std::make_unique<MeshJob>();
  int32_t op;
  try {
    while (read_all(&op, 4)) {
      if (op == 1) {
        mesh->drain();
        continue;
      }
      int32_t f[8];
      if (!read_all(f, sizeof f) || !read_all(job->a, sizeof job->a) ||
          !read_all(job->preload, sizeof job->preload) || !read_all(job->bd, sizeof job->bd)) {
        std::fprintf(stderr, "tb_mesh: truncated job\n");
        return 2;
      }
      job->ws = f[0];
      job->new_weights = f[1];
      job->rows = f[2];
      job->a_rows = f[3];
      job->a_cols = f[4];
      job->tag = f[5];
      job->shift = static_cast<uint32_t>(f[6]);
      job->sat = f[7];
      mesh->submit(*job);
    }
    mesh->drain();
  } catch (const gemmini::MeshError& e) {
    std::fprintf(stderr, "tb_mesh: error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "%s\n", mesh->stats_json(0).c_str());
  return 0;
}
