// Where scripts/fetch-test-pictures.sh puts the test photographs (as
// tests/python/helpers.py looks for them): $CLIPCAER_TEST_PICTURES, else
// $XDG_CACHE_HOME (or ~/.cache)/clipcaer/test-pictures. Used by tests and benchmarks.
#pragma once

#include <cstdlib>
#include <filesystem>

namespace clipcaer::test {

inline std::filesystem::path test_pictures_dir() {
  if (const char* p = std::getenv("CLIPCAER_TEST_PICTURES"); p && *p) return p;
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  return (cache && *cache ? std::filesystem::path(cache) : std::filesystem::path(home ? home : ".") / ".cache") /
         "clipcaer" / "test-pictures";
}

}  // namespace clipcaer::test
