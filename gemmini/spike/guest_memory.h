// The model's window onto guest DRAM. Spike's implementation (extension.cc) goes through the
// MMU so a bad address traps precisely; the model itself never sees Spike headers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gemmini {

class GuestMemory {
 public:
  virtual ~GuestMemory() = default;
  virtual void read(uint64_t addr, void* dst, size_t len) = 0;
  virtual void write(uint64_t addr, const void* src, size_t len) = 0;
};

}  // namespace gemmini
