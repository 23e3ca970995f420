// Helpers for checking errors in the doctest suites (not in test_util.hpp,
// which the benchmarks include without doctest).
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "clipcaer/core/error.hpp"

namespace clipcaer::test {

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The clipcaer::Error f throws (a test failure if it throws none).
template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no error thrown");
  return Error(ErrorCode::internal, "<no error>");
}

// The message of the clipcaer::Error f throws, after checking its code.
template <class F>
std::string message_of(F&& f, ErrorCode want = ErrorCode::invalid_argument) {
  const Error e = error_of(std::forward<F>(f));
  CHECK(e.code() == want);
  return e.what();
}

}  // namespace clipcaer::test
