// 32-bit integer lanes for the int8 GEMM tiles, one set per vector width.
// xsimd 8 has no multiply-add of 16-bit pairs (pmaddwd) and no saturating
// narrowing, so these use the intrinsics of the TU's instruction set; other
// targets get a portable fallback with the same results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "clipcaer/kernels/impl/namespace.hpp"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

// The value unchanged, but the compiler may neither merge it with an equal
// one nor move its computation across other opaque values: a register tile
// loads each row's operand where it is used instead of hoisting them all.
template <class V>
inline V lanes_opaque(V v) {
#if defined(__GNUC__)
  asm volatile("" : "+v"(v));
#endif
  return v;
}

// Portable fallback: W lanes in an array.
template <std::size_t W>
struct IntLanes {
  struct V {
    std::int32_t x[W];
  };
  static V zero() { return V{}; }
  static V load(const void* p) {
    V v;
    std::memcpy(v.x, p, sizeof(v.x));
    return v;
  }
  static V broadcast(const void* p) {
    std::int32_t s;
    std::memcpy(&s, p, 4);
    V v;
    for (std::size_t i = 0; i < W; ++i) v.x[i] = s;
    return v;
  }
  static V add(V a, V b) {
    for (std::size_t i = 0; i < W; ++i) a.x[i] += b.x[i];
    return a;
  }
  // Per lane: lo16(a) * lo16(b) + hi16(a) * hi16(b), signed (pmaddwd).
  static V madd16(V a, V b) {
    for (std::size_t i = 0; i < W; ++i) {
      const auto lo = [](std::int32_t x) { return static_cast<std::int32_t>(static_cast<std::int16_t>(x & 0xffff)); };
      const auto hi = [](std::int32_t x) { return static_cast<std::int32_t>(static_cast<std::int16_t>(x >> 16)); };
      a.x[i] = lo(a.x[i]) * lo(b.x[i]) + hi(a.x[i]) * hi(b.x[i]);
    }
    return a;
  }
  // Bytes 0 and 2 (even_bytes) or 1 and 3 (odd_bytes) of each lane,
  // sign-extended into its two 16-bit halves.
  static V even_bytes(V a) {
    for (std::size_t i = 0; i < W; ++i) {
      const auto u = static_cast<std::uint32_t>(a.x[i]);
      const auto b0 = static_cast<std::uint16_t>(static_cast<std::int16_t>(static_cast<std::int8_t>(u & 0xff)));
      const auto b2 = static_cast<std::uint16_t>(static_cast<std::int16_t>(static_cast<std::int8_t>((u >> 16) & 0xff)));
      a.x[i] = static_cast<std::int32_t>(b0 | (static_cast<std::uint32_t>(b2) << 16));
    }
    return a;
  }
  static V odd_bytes(V a) {
    for (std::size_t i = 0; i < W; ++i) {
      const auto u = static_cast<std::uint32_t>(a.x[i]);
      const auto b1 = static_cast<std::uint16_t>(static_cast<std::int16_t>(static_cast<std::int8_t>((u >> 8) & 0xff)));
      const auto b3 = static_cast<std::uint16_t>(static_cast<std::int16_t>(static_cast<std::int8_t>(u >> 24)));
      a.x[i] = static_cast<std::int32_t>(b1 | (static_cast<std::uint32_t>(b3) << 16));
    }
    return a;
  }
  static V opaque(V v) { return v; }
  static void store(std::int32_t* p, V v) { std::memcpy(p, v.x, sizeof(v.x)); }
};

#if defined(__AVX512BW__)
template <>
struct IntLanes<16> {
  using V = __m512i;
  static V zero() { return _mm512_setzero_si512(); }
  static V load(const void* p) { return _mm512_load_si512(p); }
  static V broadcast(const void* p) {
    std::int32_t s;
    std::memcpy(&s, p, 4);
    return _mm512_set1_epi32(s);
  }
  static V add(V a, V b) { return _mm512_add_epi32(a, b); }
  static V madd16(V a, V b) { return _mm512_madd_epi16(a, b); }
  static V even_bytes(V a) { return _mm512_srai_epi16(_mm512_slli_epi16(a, 8), 8); }
  static V odd_bytes(V a) { return _mm512_srai_epi16(a, 8); }
  static V opaque(V v) { return lanes_opaque(v); }
  static void store(std::int32_t* p, V v) { _mm512_store_si512(p, v); }
};
#endif

#if defined(__AVX2__)
template <>
struct IntLanes<8> {
  using V = __m256i;
  static V zero() { return _mm256_setzero_si256(); }
  static V load(const void* p) { return _mm256_load_si256(static_cast<const __m256i*>(p)); }
  static V broadcast(const void* p) {
    std::int32_t s;
    std::memcpy(&s, p, 4);
    return _mm256_set1_epi32(s);
  }
  static V add(V a, V b) { return _mm256_add_epi32(a, b); }
  static V madd16(V a, V b) { return _mm256_madd_epi16(a, b); }
  static V even_bytes(V a) { return _mm256_srai_epi16(_mm256_slli_epi16(a, 8), 8); }
  static V odd_bytes(V a) { return _mm256_srai_epi16(a, 8); }
  static V opaque(V v) { return lanes_opaque(v); }
  static void store(std::int32_t* p, V v) { _mm256_store_si256(reinterpret_cast<__m256i*>(p), v); }
};
#endif

#if defined(__SSE2__)
template <>
struct IntLanes<4> {
  using V = __m128i;
  static V zero() { return _mm_setzero_si128(); }
  static V load(const void* p) { return _mm_load_si128(static_cast<const __m128i*>(p)); }
  static V broadcast(const void* p) {
    std::int32_t s;
    std::memcpy(&s, p, 4);
    return _mm_set1_epi32(s);
  }
  static V add(V a, V b) { return _mm_add_epi32(a, b); }
  static V madd16(V a, V b) { return _mm_madd_epi16(a, b); }
  static V even_bytes(V a) { return _mm_srai_epi16(_mm_slli_epi16(a, 8), 8); }
  static V odd_bytes(V a) { return _mm_srai_epi16(a, 8); }
  static V opaque(V v) { return lanes_opaque(v); }
  static void store(std::int32_t* p, V v) { _mm_store_si128(reinterpret_cast<__m128i*>(p), v); }
};
#endif

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
