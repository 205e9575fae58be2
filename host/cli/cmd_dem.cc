// qweave dem CIRCUIT [-o FILE.dem]: the circuit's detector error model in Stim's DEM text format.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <fmt/format.h>

#include "host/cli/commands.h"
#include "host/dem.h"
#include "host/errors.h"
#include "host/parse.h"

namespace qw::cli {

void add_dem(CLI::App& app, DemArgs& a) {
  auto* cmd = app.add_subcommand(
      "dem", "Write the detector error model of a Clifford circuit with Pauli noise (Stim's DEM format)");
  cmd->add_option("circuit", a.circuit, "Circuit file (.stim or .qasm)")->required();
  cmd->add_option("--format", a.format, "Circuit format: auto (by extension), stim, qasm")
      ->check(CLI::IsMember({"auto", "stim", "qasm"}))->capture_default_str();
  cmd->add_option("-o,--output", a.output, "Output file (default: standard output)");
}

void write_text_output(const std::string& path, const std::string& text, const char* what) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write the {}", path, what));
}

int run_dem(const DemArgs& a) {
  const Circuit circuit = read_circuit_file(a.circuit, format_from_name(a.format));
  write_text_output(a.output, detector_error_model(circuit).str(), "detector error model");
  return kExitOk;
}

}  // namespace qw::cli
