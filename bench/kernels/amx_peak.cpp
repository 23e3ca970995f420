// AMX bf16 and int8 peak loops. This TU is compiled with -mamx-tile
// -mamx-bf16 -mamx-int8 (only when the compiler takes them) and called by
// fma_peak.cpp only after cpu_features().amx and the Linux tile permission
// (request_amx_permission). Like dot_peak_avx512.cpp it includes no std:: or
// clipcaer headers and keeps its functions under isa_avx512 (ISA leak check).
#include <immintrin.h>

#include <cstdint>

namespace clipcaer::bench::isa_avx512_amx {

namespace {

struct alignas(64) TileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

// Tiles 0-3: accumulators (16 x 16 f32 / int32); 4, 5: A; 6, 7: B; all 16 rows x 64 bytes.
void configure() {
  TileConfig c;
  for (int t = 0; t < 8; ++t) {
    c.colsb[t] = 64;
    c.rows[t] = 16;
  }
  _tile_loadconfig(&c);
}

// Four independent accumulators cover the instruction's latency (~4x its
// issue interval). a, b: 1024 bytes each (16 rows x 64 bytes); out: 4 x 256
// values (float for bf16, int32 for int8).
template <bool Int8>
void peak_loop(std::uint64_t iters, const void* a, const void* b, void* out) {
  configure();
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, a, 64);
  _tile_loadd(5, a, 64);
  _tile_loadd(6, b, 64);
  _tile_loadd(7, b, 64);
  for (std::uint64_t i = 0; i < iters; ++i) {
    if constexpr (Int8) {
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 4, 7);
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    } else {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  auto* o = static_cast<char*>(out);
  _tile_stored(0, o, 64);
  _tile_stored(1, o + 1024, 64);
  _tile_stored(2, o + 2048, 64);
  _tile_stored(3, o + 3072, 64);
  _tile_release();
}

}  // namespace

void bf16_loop(std::uint64_t iters, const void* a, const void* b, float* out) { peak_loop<false>(iters, a, b, out); }

void int8_loop(std::uint64_t iters, const void* a, const void* b, std::int32_t* out) {
  peak_loop<true>(iters, a, b, out);
}

}  // namespace clipcaer::bench::isa_avx512_amx
