// Errors that reach the user. InputError is bad input (exit status 2), always with where and what.
#pragma once
#include <stdexcept>
#include <string>

namespace qw {

// "FILE:LINE:COL: message" (line/column omitted when 0).
class InputError : public std::runtime_error {
 public:
  InputError(const std::string& file, unsigned line, unsigned column, const std::string& what);
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

std::string format_location(const std::string& file, unsigned line, unsigned column);

// Exit statuses of the qweave command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;   // I/O failure, internal error
inline constexpr int kExitBadInput = 2;  // bad circuit, experiment, parameters, too large a state

}  // namespace qw
