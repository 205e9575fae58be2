// qweave gen surface|repetition [options] [-o FILE.stim]: memory-experiment circuits (docs/generators.md).
#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <fmt/format.h>

#include "host/cli/commands.h"
#include "host/errors.h"
#include "host/generators.h"

namespace qw::cli {

void add_gen(CLI::App& app, GenArgs& a) {
  auto* cmd = app.add_subcommand(
      "gen", "Write a quantum-memory circuit (rotated surface or repetition code; monolithic, split across "
             "modules, or distributed with GHZ states) in Stim's format");
  cmd->add_option("code", a.code, "surface (rotated) or repetition")->required();
  cmd->add_option("-d,--distance", a.distance, "Code distance")->capture_default_str();
  cmd->add_option("-r,--rounds", a.rounds, "Stabiliser measurement rounds")->capture_default_str();
  cmd->add_option("-b,--basis", a.basis, "Memory basis: X or Z")->capture_default_str();
  cmd->add_option("-p,--p", a.p, "SD6 circuit-level noise strength")->capture_default_str();
  cmd->add_option("--platform", a.platform, "Platform preset or TOML file: its gate, readout and T1/T2 numbers "
                                            "instead of --p");
  cmd->add_option("--partition", a.partition, "split (vertical cuts) or distributed (GHZ states)")
      ->capture_default_str();
  cmd->add_option("--modules", a.modules, "split: number of modules the patch is cut into")
      ->capture_default_str();
  cmd->add_option("--interface-error", a.interface_error,
                  "split: extra DEPOLARIZE2 on every cross-module CNOT")->capture_default_str();
  cmd->add_option("--interface-idle", a.interface_idle,
                  "extra DEPOLARIZE1 per round on qubits that wait for links")->capture_default_str();
  cmd->add_option("--bell-fidelity", a.bell_fidelity,
                  "Werner fidelity of the Bell pairs (split: teleported seam CNOTs; distributed: GHZ states)")
      ->capture_default_str();
  cmd->add_option("--purification-rounds", a.purification_rounds,
                  "BBPSSW rounds applied to each Bell pair")->capture_default_str();
  cmd->add_option("--link-wait", a.link_wait_s,
                  "seconds per round that qubits wait for links (with --platform: T1/T2 idle noise)")
      ->capture_default_str();
  cmd->add_option("--link", a.link,
                  "Link experiment file (kind = \"link\"): the link engine gives the Bell-pair fidelity and the "
                  "wait per round (needs --platform)");
  cmd->add_option("-o,--output", a.output, "Output file (default: standard output)");
}

int run_gen(const GenArgs& a) {
  gen::MemorySpec spec;
  spec.code = a.code;
  spec.distance = a.distance;
  spec.rounds = a.rounds;
  if (a.basis.size() != 1)
    throw InputError(fmt::format("--basis '{}': use X or Z", a.basis));
  spec.basis = static_cast<char>(std::toupper(static_cast<unsigned char>(a.basis[0])));
  spec.p = a.p;
  spec.platform = a.platform;
  spec.partition = a.partition;
  spec.modules = a.modules;
  spec.interface_error = a.interface_error;
  spec.interface_idle = a.interface_idle;
  spec.bell_fidelity = a.bell_fidelity;
  spec.purification_rounds = a.purification_rounds;
  spec.link_wait_s = a.link_wait_s;
  spec.link = a.link;
  write_text_output(a.output, gen::memory_circuit_text(spec), "circuit");
  return kExitOk;
}

}  // namespace qw::cli
