#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/io/weight_reader.hpp"
#include "error_test_util.hpp"
#include "test_util.hpp"

using namespace clipcaer;
using clipcaer::test::SafetensorsBuilder;
using clipcaer::test::TempFile;
using clipcaer::test::contains;

namespace {
// The message of the error opening the file at path.
std::string load_error(const std::string& path) {
  return clipcaer::test::error_of([&] { io::SafetensorsFile f(path); }).what();
}
}  // namespace

TEST_CASE("safetensors: reads tensors and metadata") {
  TempFile f("ok.safetensors");
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::uint16_t b[2] = {0x3f80, 0xc000};  // bf16 1.0, -2.0
  SafetensorsBuilder().add_f32("a", {2, 3}, a).add("b", "BF16", {2}, b, 4).meta("format", "clipcaer").write(f.path);
  io::SafetensorsFile st(f.path);
  CHECK(st.has("a"));
  CHECK_FALSE(st.has("c"));
  const auto& ta = st.tensor("a");
  CHECK(ta.dtype == DType::f32);
  CHECK(ta.shape == Shape{2, 3});
  float back[6];
  std::memcpy(back, ta.data, sizeof back);
  CHECK(back[5] == 6.0f);
  CHECK(st.tensor("b").dtype == DType::bf16);
  CHECK(st.metadata("format") == "clipcaer");
  CHECK_THROWS_WITH_AS(st.tensor("c"), doctest::Contains("has no tensor 'c'"), Error);
  CHECK_THROWS_WITH_AS(st.metadata("nope"), doctest::Contains("no metadata key 'nope'"), Error);
  st.release(ta);  // harmless on a small tensor
}

TEST_CASE("WeightReader::with_floats: F32 straight from the file, BF16 widened, shapes checked") {
  TempFile f("reader.safetensors");
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::uint16_t b[2] = {0x3f80, 0xc000};  // bf16 1.0, -2.0
  SafetensorsBuilder().add_f32("a", {2, 3}, a).add("b", "BF16", {2}, b, 4).write(f.path);
  io::SafetensorsFile st(f.path);
  io::WeightReader reader(st);
  std::vector<float> got;
  const float* seen = nullptr;
  reader.with_floats("a", {2, 3}, [&](const float* v) { seen = v, got.assign(v, v + 6); });
  CHECK(got == a);
  // Aligned F32 data is read in place (the builder aligns tensors to 8 bytes).
  CHECK(static_cast<const void*>(seen) == static_cast<const void*>(st.tensor("a").data));
  reader.with_floats("b", {2}, [&](const float* v) { got.assign(v, v + 2); });
  CHECK(got == std::vector<float>{1.0f, -2.0f});
  bool called = false;
  CHECK_THROWS_WITH_AS(reader.with_floats("a", {3, 2}, [&](const float*) { called = true; }),
                       doctest::Contains("tensor 'a' has shape (2, 3); expected (3, 2)"), Error);
  CHECK_THROWS_WITH_AS(reader.with_floats("zz", {1}, [&](const float*) { called = true; }),
                       doctest::Contains("has no tensor 'zz'"), Error);
  CHECK_FALSE(called);

  // F32 data that is not 4-byte aligned in the file (after a 2-byte tensor) is copied first.
  TempFile g("unaligned.safetensors");
  const std::uint16_t one = 0x3f80;
  SafetensorsBuilder().add("h", "BF16", {1}, &one, 2).add_f32("a", {2, 3}, a).write(g.path);
  io::SafetensorsFile su(g.path);
  io::WeightReader unaligned(su);
  REQUIRE(reinterpret_cast<std::uintptr_t>(su.tensor("a").data) % alignof(float) != 0);
  unaligned.with_floats("a", {2, 3}, [&](const float* v) {
    CHECK(reinterpret_cast<std::uintptr_t>(v) % alignof(float) == 0);
    got.assign(v, v + 6);
  });
  CHECK(got == a);
}

TEST_CASE("safetensors: missing file") {
  try {
    io::SafetensorsFile st("/nonexistent/model.safetensors");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::file_not_found);
    CHECK(contains(e.what(), "/nonexistent/model.safetensors"));
  }
}

TEST_CASE("safetensors: malformed files give named errors") {
  TempFile f("bad.safetensors");
  std::vector<float> a = {1, 2, 3, 4};
  SUBCASE("too short") {
    test::write_bytes(f.path, "abc");
    CHECK(contains(load_error(f.path), "not a safetensors file"));
  }
  SUBCASE("not safetensors at all") {
    test::write_bytes(f.path, "PK\x03\x04 this is a zip file, not safetensors........");
    CHECK(contains(load_error(f.path), "not a safetensors file"));
  }
  SUBCASE("header JSON broken") {
    std::string bytes = SafetensorsBuilder().add_f32("a", {4}, a).bytes();
    bytes[12] = '#';
    test::write_bytes(f.path, bytes);
    CHECK(contains(load_error(f.path), "malformed JSON header"));
  }
  SUBCASE("truncated data") {
    std::string bytes = SafetensorsBuilder().add_f32("a", {4}, a).bytes();
    test::write_bytes(f.path, bytes.substr(0, bytes.size() - 3));
    std::string e = load_error(f.path);
    CHECK(contains(e, "truncated"));
    CHECK(contains(e, "'a'"));
  }
  SUBCASE("shape does not match byte count") {
    SafetensorsBuilder b;
    b.add_f32("a", {4}, a);
    b.header()["a"]["shape"] = {5};
    b.write(f.path);
    CHECK(contains(load_error(f.path), "tensor 'a' holds 16 bytes"));
  }
  SUBCASE("unknown dtype") {
    SafetensorsBuilder b;
    b.add_f32("a", {4}, a);
    b.header()["a"]["dtype"] = "F64X";
    b.write(f.path);
    CHECK(contains(load_error(f.path), "unsupported dtype 'F64X'"));
  }
  SUBCASE("overlapping tensors") {
    SafetensorsBuilder b;
    b.add_f32("a", {4}, a).add_f32("b", {4}, a);
    b.header()["b"]["data_offsets"] = {8, 24};
    b.write(f.path);
    CHECK(contains(load_error(f.path), "overlap"));
  }
  SUBCASE("gap after the last tensor") {
    SafetensorsBuilder b;
    b.add_f32("a", {4}, a).add_f32("b", {2}, {1.0f, 2.0f});
    b.header()["b"]["shape"] = {1};
    b.header()["b"]["data_offsets"] = {16, 20};
    b.write(f.path);
    CHECK(contains(load_error(f.path), "cover 20 bytes of a 24-byte data section"));
  }
  SUBCASE("huge header size") {
    std::string bytes(16, '\0');
    bytes[7] = 0x7f;
    test::write_bytes(f.path, bytes);
    CHECK(contains(load_error(f.path), "limit"));
  }
  SUBCASE("metadata not strings") {
    SafetensorsBuilder b;
    b.add_f32("a", {4}, a);
    b.header()["__metadata__"] = {{"x", 3}};
    b.write(f.path);
    CHECK(contains(load_error(f.path), "metadata key 'x'"));
  }
  SUBCASE("negative shape") {
    SafetensorsBuilder b;
    b.add_f32("a", {4}, a);
    b.header()["a"]["shape"] = {-4};
    b.write(f.path);
    CHECK(contains(load_error(f.path), "non-negative integer"));
  }
}
