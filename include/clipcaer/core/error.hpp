// Errors: one exception type carrying a code, so every front end (C++, Python,
// C ABI) can map failures the same way. Messages name the culprit (file,
// tensor, shape, value); see docs/architecture.md "Errors".
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace clipcaer {

enum class ErrorCode : int {
  invalid_argument = 1,  // caller passed a bad value or shape (Python: ValueError)
  file_not_found = 2,    // a path that does not exist (Python: FileNotFoundError)
  io = 3,                // reading or writing failed (Python: RuntimeError / OSError)
  format = 4,            // a file exists but is malformed: weights, JSON, image (RuntimeError)
  unsupported = 5,       // valid but not handled by this build or CPU (RuntimeError)
  internal = 6,          // a bug: an invariant of ours broke (RuntimeError)
};

inline const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid argument";
    case ErrorCode::file_not_found: return "file not found";
    case ErrorCode::io: return "I/O error";
    case ErrorCode::format: return "format error";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::internal: return "internal error";
  }
  return "unknown error";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

namespace detail {
template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

// throw_error(ErrorCode::format, "weights file '", path, "': tensor '", name, "' ...")
template <class... Parts>
[[noreturn]] void throw_error(ErrorCode code, Parts&&... parts) {
  throw Error(code, detail::concat(std::forward<Parts>(parts)...));
}

// Checks a caller-supplied condition; the message parts are only formatted on failure.
template <class... Parts>
void require(bool condition, ErrorCode code, Parts&&... parts) {
  if (!condition) throw_error(code, std::forward<Parts>(parts)...);
}

}  // namespace clipcaer
