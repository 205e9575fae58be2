#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <filesystem>

#include "host/errors.h"
#include "host/parse.h"

namespace qw {

CircuitFormat format_from_name(std::string_view name) {
  if (name == "stim") return CircuitFormat::Stim;
  if (name == "qasm" || name == "openqasm") return CircuitFormat::Qasm;
  if (name == "auto") return CircuitFormat::Auto;
  throw InputError("unknown circuit format '" + std::string(name) + "' (use stim or qasm)");
}

Circuit read_circuit_file(const std::string& path, CircuitFormat format) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path + ": is a directory, not a circuit file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (format == CircuitFormat::Auto) {
    const std::string ext = std::filesystem::path(path).extension().string();
    if (ext == ".stim") {
      format = CircuitFormat::Stim;
    } else if (ext == ".qasm") {
      format = CircuitFormat::Qasm;
    } else {
      throw InputError(path + ": cannot tell the circuit format from the extension '" + ext +
                       "' (use .stim or .qasm, or --format stim|qasm)");
    }
  }
  return format == CircuitFormat::Stim ? parse_stim(text, path) : parse_qasm(text, path);
}

}  // namespace qw
