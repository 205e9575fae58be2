#pragma once
#include <string>

namespace qw {
// "qweave 0.1.0 (backend cpu, double precision, MPI on)"
std::string version_string();
const char* version_number();
}  // namespace qw
