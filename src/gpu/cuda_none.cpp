// Builds without CLIPCAER_CUDA: the CUDA entry points exist and say why there is no GPU.
#include "clipcaer/gpu/open_device.hpp"

namespace clipcaer::gpu {
bool cuda_built() noexcept { return false; }
int cuda_device_count() noexcept { return 0; }
std::unique_ptr<Device> make_cuda_device(int) {
  throw_error(ErrorCode::unsupported,
              "this build of clipcaer has no CUDA backend: rebuild with -DCLIPCAER_CUDA=ON (needs the CUDA toolkit)");
}
}  // namespace clipcaer::gpu
