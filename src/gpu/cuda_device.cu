// The CUDA backend of gpu::Device: cudaMalloc'd memory, one stream, cuBLAS
// SGEMMs (strided batched, full float32: no TF32) and the op bodies of
// op_bodies.hpp as grid-stride kernels. What it computes is tested on any
// machine through the emulated device, which runs the same op bodies and
// the same cuBLAS arguments; this file is the thin part only a GPU runs
// (tests/cpp/test_cuda.cpp, skipped without one).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <memory>
#include <string>

#include "clipcaer/gpu/open_device.hpp"

namespace clipcaer::gpu {
namespace {

void check_cuda(cudaError_t e, const char* call) {
  if (e != cudaSuccess) throw_error(ErrorCode::io, "CUDA: ", call, " failed: ", cudaGetErrorString(e));
}
void check_cublas(cublasStatus_t s, const char* call) {
  if (s != CUBLAS_STATUS_SUCCESS) throw_error(ErrorCode::io, "cuBLAS: ", call, " failed: ", cublasGetStatusString(s));
}

template <class Op>
__global__ void run_op(Op op, size_t count) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) op(i);
}

// The butterflies warp_sum_emulated / warp_max_emulated compute on the host.
__device__ float warp_sum(float v) {
  for (unsigned o = kWarpLanes / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ float warp_max(float v) {
  for (unsigned o = kWarpLanes / 2; o > 0; o /= 2) {
    const float w = __shfl_xor_sync(0xffffffffu, v, o);
    v = v > w ? v : w;
  }
  return v;
}

// One warp per row (EmulatedDevice::run_rows on the host); the row index
// is the same across a warp, so every lane reaches every shuffle.
template <class Op>
__global__ void run_rows(Op op) {
  const unsigned lane = threadIdx.x % kWarpLanes, warps = blockDim.x / kWarpLanes;
  const size_t stride = static_cast<size_t>(gridDim.x) * warps;
  for (size_t r = static_cast<size_t>(blockIdx.x) * warps + threadIdx.x / kWarpLanes; r < op.rows; r += stride) {
    const float part = op.part1(r, lane);
    const float a = Op::kFirstIsMax ? warp_max(part) : warp_sum(part);
    const float b = warp_sum(op.part2(r, lane, a));
    op.part3(r, lane, a, b);
  }
}

class CudaDevice final : public Device {
 public:
  explicit CudaDevice(int ordinal) : ordinal_(ordinal) {
    select();
    cudaDeviceProp prop{};
    check_cuda(cudaGetDeviceProperties(&prop, ordinal), "cudaGetDeviceProperties");
    name_ = "cuda:" + std::to_string(ordinal) + " (" + prop.name + ")";
    sms_ = prop.multiProcessorCount > 0 ? prop.multiProcessorCount : 1;
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    const cublasStatus_t s = cublasCreate(&blas_);
    if (s != CUBLAS_STATUS_SUCCESS) {
      cudaStreamDestroy(stream_);
      check_cublas(s, "cublasCreate");
    }
    try {
      check_cublas(cublasSetStream(blas_, stream_), "cublasSetStream");
      // Parity first: the default mode keeps SGEMM in float32 (TF32 only when asked for).
      check_cublas(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    } catch (...) {
      cublasDestroy(blas_);
      cudaStreamDestroy(stream_);
      throw;
    }
  }
  ~CudaDevice() override {
    cudaSetDevice(ordinal_);
    cudaStreamSynchronize(stream_);
    cublasDestroy(blas_);
    cudaStreamDestroy(stream_);
  }

  std::string name() const override { return name_; }

  void* allocate(std::size_t bytes) override {
    select();
    void* p = nullptr;
    check_cuda(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
  }
  void release(void* p) noexcept override {
    if (!p) return;
    cudaSetDevice(ordinal_);
    cudaStreamSynchronize(stream_);  // no kernel may still read it
    cudaFree(p);
  }
  void upload(void* dst, const void* src, std::size_t bytes) override {
    select();
    check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync (upload)");
    // The caller may reuse its host buffer at once.
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (upload)");
  }
  void download(void* dst, const void* src, std::size_t bytes) override {
    select();
    check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync (download)");
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (download)");
  }

  void gemm(const GemmArgs& args) override {
    select();
    const ColumnMajorGemm g = to_column_major(args);
    check_column_major(g);
    check_cublas(cublasSgemmStridedBatched(blas_, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                           g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, g.m, g.n, g.k, &g.alpha, g.a,
                                           g.lda, g.stride_a, g.b, g.ldb, g.stride_b, &g.beta, g.c, g.ldc,
                                           g.stride_c, g.batch),
                 "cublasSgemmStridedBatched");
  }
  void launch(const Im2colOp& op) override { run(op); }
  void launch(const EmbedTokensOp& op) override { run(op); }
  void launch(const LayerNormOp& op) override { rows(op); }
  void launch(const BiasActOp& op) override { run(op); }
  void launch(const SplitHeadsOp& op) override { run(op); }
  void launch(const SoftmaxRowsOp& op) override { rows(op); }
  void launch(const MergeHeadsOp& op) override { run(op); }

 private:
  void select() const { check_cuda(cudaSetDevice(ordinal_), "cudaSetDevice"); }

  static constexpr unsigned kThreads = 256;  // a multiple of the warp size (row ops)

  // Enough blocks to fill every SM several times; the kernels' loops stride past that.
  unsigned blocks_for(size_t threads_wanted) const {
    const size_t want = (threads_wanted + kThreads - 1) / kThreads, most = static_cast<size_t>(sms_) * 32;
    return static_cast<unsigned>(want < most ? want : most);
  }

  template <class Op>
  void run(const Op& op) {
    const size_t count = op.count();
    if (count == 0) return;
    select();
    run_op<<<blocks_for(count), kThreads, 0, stream_>>>(op, count);
    check_cuda(cudaGetLastError(), "kernel launch");
  }
  template <class Op>
  void rows(const Op& op) {
    if (op.rows == 0) return;
    select();
    run_rows<<<blocks_for(op.rows * kWarpLanes), kThreads, 0, stream_>>>(op);
    check_cuda(cudaGetLastError(), "kernel launch (row op)");
  }

  int ordinal_ = 0;
  int sms_ = 1;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
};

}  // namespace

bool cuda_built() noexcept { return true; }

int cuda_device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver / no device" state
    return 0;
  }
  return n;
}

std::unique_ptr<Device> make_cuda_device(int ordinal) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw_error(ErrorCode::unsupported, "device 'cuda:", ordinal, "': no usable CUDA device (", cudaGetErrorString(e),
                ")");
  }
  require(ordinal >= 0 && ordinal < n, ErrorCode::invalid_argument, "device 'cuda:", ordinal, "': this machine has ",
          n, " CUDA device(s)");
  return std::make_unique<CudaDevice>(ordinal);
}

}  // namespace clipcaer::gpu
