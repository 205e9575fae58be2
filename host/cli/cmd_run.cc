// qweave run EXPERIMENT.toml: run an experiment file (docs/experiments.md).
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>

#include "host/cli/commands.h"
#include "host/errors.h"
#include "host/experiment.h"
#include "host/result_file.h"
#include "kernels/config.h"
#include "kernels/memory.h"
#include "mpi/runtime.h"

namespace qw::cli {

void add_run(CLI::App& app, RunArgs& a) {
  auto* cmd = app.add_subcommand("run", "Run an experiment file (TOML; docs/experiments.md)");
  cmd->add_option("experiment", a.file, "Experiment file (.toml)")->required();
  cmd->add_option("-o,--output", a.output, "Result file (default: <experiment name>.h5 here)");
  cmd->add_flag("--no-output", a.no_output, "Do not write a result file");
  cmd->add_option("--set", a.overrides, "Override a key: table.key=value (e.g. link.length_km=50)");
  cmd->add_flag("-q,--quiet", a.quiet, "Print nothing on success");
}

int run_run(const RunArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const Experiment ex = read_experiment_file(a.file, a.overrides);
  const LinkExperiment& e = ex.link;
  const LinkExperimentResult r = run_link_experiment(e);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string out = a.no_output ? "" : (a.output.empty() ? std::filesystem::path(a.file).stem().string() + ".h5" : a.output);
  if (!out.empty()) {
    RunAttributes attrs;
    attrs.engine = "link";
    attrs.backend = backend_name();
    attrs.precision = kPrecisionName;
    attrs.ranks = mpi::size();
    attrs.seed = e.seed;
    attrs.shots = e.episodes;
    attrs.config = ex.text;
    ResultFile file(out, attrs);
    write_link_experiment(file, e, r);
    file.write_summary("wall_time", seconds, "s", "wall-clock time of the run");
    file.close();
  }
  if (!a.quiet && mpi::rank() == 0) {
    fmt::print("qweave run {}: link '{}', {} episodes, {} segment{} ({}), purification {} x{}\n", a.file,
               e.name, e.episodes, e.segments, e.segments == 1 ? "" : "s", e.protocol == link::Protocol::bdcz ? "bdcz" : "swap_asap",
               e.purification == link::Purification::none ? "none"
               : e.purification == link::Purification::dejmps ? "dejmps" : "bbpssw",
               e.purification_rounds);
    fmt::print("  elementary pair: fidelity {:.6f}, success probability {:.4g} per attempt of {:.4g} s\n",
               r.elementary_fidelity, r.success_probability, r.attempt_time_s);
    fmt::print("  delivered: fidelity {:.6f} +- {:.2g}, {:.4g} attempts, {:.4g} s per pair, rate {:.4g} Hz\n",
               r.fidelity_mean, r.fidelity_standard_error, r.attempts_mean, r.time_mean_s, r.rate_hz);
    fmt::print("  repeaterless (PLOB) bound: {:.4g} ebit per channel use (eta = {:.4g})\n", r.plob_bound, r.transmissivity);
    if (r.failed_episodes) fmt::print("  {} episodes exceeded the restart guard (time NaN)\n", r.failed_episodes);
    fmt::print("  time {:.3f} s{}\n", seconds, out.empty() ? "" : fmt::format(", results in {}", out));
  }
  return kExitOk;
}

}  // namespace qw::cli
