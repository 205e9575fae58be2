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

int run_dem(const DemArgs& a) {
  const Circuit circuit = read_circuit_file(a.circuit, format_from_name(a.format));
  const std::string text = detector_error_model(circuit).str();
  if (a.output.empty() || a.output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return kExitOk;
  }
  std::ofstream out(a.output, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write the detector error model", a.output));
  return kExitOk;
}

}  // namespace qw::cli
