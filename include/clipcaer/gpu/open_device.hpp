// Device names as ModelOptions::device, the CLI's --device and the Python
// and C APIs take them: "" or "cpu" (no GPU device), "cuda" (= "cuda:0"),
// "cuda:N", or "emulated" (the GPU code path run on the host, for tests).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "clipcaer/core/error.hpp"
#include "clipcaer/gpu/device.hpp"
#include "clipcaer/gpu/emulated_device.hpp"

namespace clipcaer::gpu {

// Defined in clipcaer::runtime: src/gpu/cuda_device.cu with CLIPCAER_CUDA=ON,
// else src/gpu/cuda_none.cpp (cuda_built() false, the rest throws unsupported).
bool cuda_built() noexcept;
// CUDA devices this process sees; 0 without a driver or a GPU, or in a build without CUDA.
int cuda_device_count() noexcept;
std::unique_ptr<Device> make_cuda_device(int ordinal);

inline bool is_cpu_device(const std::string& spec) { return spec.empty() || spec == "cpu"; }

// Null for the CPU; throws invalid_argument for a name it does not know.
inline std::unique_ptr<Device> open_device(const std::string& spec) {
  if (is_cpu_device(spec)) return nullptr;
  if (spec == "emulated") return std::make_unique<EmulatedDevice>();
  if (spec == "cuda") return make_cuda_device(0);
  if (spec.rfind("cuda:", 0) == 0) {
    const std::string num = spec.substr(5);
    const bool digits = !num.empty() && num.size() <= 4 && num.find_first_not_of("0123456789") == std::string::npos;
    require(digits, ErrorCode::invalid_argument, "device '", spec, "': expected cuda:N with N a device number");
    return make_cuda_device(std::stoi(num));
  }
  throw_error(ErrorCode::invalid_argument, "unknown device '", spec, "': expected cpu, cuda, cuda:N or emulated");
}

}  // namespace clipcaer::gpu
