// qweave run EXPERIMENT.toml: run an experiment file (docs/experiments.md).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <fmt/format.h>

#include "host/cli/commands.h"
#include "host/errors.h"
#include "host/experiment.h"
#include "host/generators.h"
#include "host/memory_experiment.h"
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

namespace {

int run_memory(const RunArgs& a, const Experiment& ex) {
  MemoryRunOptions o;
  o.output = a.no_output ? "" : (a.output.empty() ? std::filesystem::path(a.file).stem().string() + ".h5" : a.output);
  o.config = ex.text;
  o.quiet = a.quiet;
  const MemoryRunResult r = run_memory_experiment(ex.memory, ex.points, o);
  if (a.quiet || mpi::rank() != 0) return kExitOk;
  const auto& s = ex.memory.spec;
  if (ex.points.empty()) {
    const MemoryPointResult& p = r.points.front();
    fmt::print("qweave run {}: {} code memory ({}), d = {}, {} rounds, {}, {} module{} ({}), decoder {}\n", a.file,
               s.code, s.basis, s.distance, s.rounds,
               s.platform.empty() ? fmt::format("SD6 p = {}", s.p) : fmt::format("platform {}", s.platform), s.modules,
               s.modules == 1 ? "" : "s", s.partition, ex.memory.decoder);
    if (!s.link.empty()) {
      const gen::LinkInterface li = gen::link_interface(s.link, gen::bell_pairs_per_round(s));
      fmt::print("  link {}: Bell pairs of fidelity {:.4f}, {:.3g} s each; {} per round, the last after {:.3g} s\n",
                 s.link, li.bell_fidelity, li.mean_time_s, li.pairs, li.round_wait_s);
    }
    fmt::print("  {} qubits, {} detectors, {} error mechanisms; detection fraction {:.4g}\n", p.num_qubits,
               p.num_detectors, p.num_dem_errors, p.detection_fraction);
    fmt::print("  logical error rate {:.4g} per shot [{:.4g}, {:.4g}] (95%, {} of {} shots), {:.4g} per round\n",
               p.logical_error_rate, p.logical_error_rate_low, p.logical_error_rate_high, p.logical_errors, p.shots,
               p.logical_error_rate_per_round);
    fmt::print("  decoding {:.3g} us per shot; sampling {:.3g} s, decoding {:.3g} s\n", p.decode_time_per_shot_s * 1e6,
               p.sample_time_s, p.decode_wall_s);
  } else {
    const auto reused = std::count(r.reused.begin(), r.reused.end(), true);
    fmt::print("qweave run {}: sweep of {} points ({} kept from an earlier run)\n", a.file, ex.points.size(), reused);
    if (r.threshold.found) {
      fmt::print("  threshold along {}: {:.4g} [{:.4g}, {:.4g}] (95% bootstrap)", r.threshold.axis, r.threshold.threshold,
                 r.threshold.low, r.threshold.high);
      for (const auto& [ds, x] : r.threshold.crossings) fmt::print("; d={}/{} cross at {:.4g}", ds.first, ds.second, x);
      fmt::print("\n");
    } else if (!r.threshold.why_not.empty()) {
      fmt::print("  no threshold: {}\n", r.threshold.why_not);
    }
  }
  fmt::print("  time {:.3f} s{}\n", r.wall_time_s, o.output.empty() ? "" : fmt::format(", results in {}", o.output));
  return kExitOk;
}

// The result file of a link run ("" with --no-output) and its root attributes.
std::string link_output(const RunArgs& a) {
  return a.no_output ? "" : (a.output.empty() ? std::filesystem::path(a.file).stem().string() + ".h5" : a.output);
}
RunAttributes link_attributes(const Experiment& ex) {
  RunAttributes attrs;
  attrs.engine = "link";
  attrs.backend = backend_name();
  attrs.precision = kPrecisionName;
  attrs.ranks = mpi::size();
  attrs.seed = ex.link.seed;
  attrs.shots = ex.link.episodes;
  attrs.config = ex.text;
  return attrs;
}

// kind = "link" with a [sweep]: the points in order, each with its own seed (from the experiment
// seed and its values), written as /points/<i> as they finish; complete = 1 at a clean end.
int run_link_sweep(const RunArgs& a, const Experiment& ex) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string out = link_output(a);
  std::unique_ptr<ResultFile> file;
  if (!out.empty()) {
    file = std::make_unique<ResultFile>(out, link_attributes(ex));
  }
  const bool talk = !a.quiet && mpi::rank() == 0;
  if (talk) fmt::print("qweave run {}: link sweep of {} points\n", a.file, ex.link_points.size());
  for (std::size_t i = 0; i < ex.link_points.size(); ++i) {
    LinkSweepPoint p = ex.link_points[i];
    p.link.seed = sweep_point_seed(p.link.seed, p.values);
    const LinkExperimentResult r = run_link_experiment(p.link, true);
    if (file) write_link_point(*file, i, p, r);
    if (talk) {
      fmt::print("  [{}/{}] {}: fidelity {:.6f} +- {:.2g}, rate {:.4g} Hz, PLOB {:.4g} ebit per use{}\n", i + 1,
                 ex.link_points.size(), sweep_values_label(p.values), r.fidelity_mean, r.fidelity_standard_error,
                 r.rate_hz, r.plob_bound,
                 r.failed_episodes ? fmt::format(" ({} episodes over the restart guard)", r.failed_episodes) : "");
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (file) {
    file->write_summary("wall_time", seconds, "s", "wall-clock time of the run");
    file->close();
  }
  if (talk) fmt::print("  time {:.3f} s{}\n", seconds, out.empty() ? "" : fmt::format(", results in {}", out));
  return kExitOk;
}

}  // namespace

int run_run(const RunArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const Experiment ex = read_experiment_file(a.file, a.overrides);
  if (ex.kind == "memory") return run_memory(a, ex);
  if (ex.kind == "circuit") {
    // The same run as qweave sim with the file's settings (docs/experiments.md, kind = "circuit").
    const CircuitExperiment& c = ex.circuit;
    SimArgs s;
    s.circuit = c.circuit;
    s.engine = c.engine;
    s.shots = c.shots;
    s.seed = c.seed;
    s.links = c.links;
    s.t1_s = c.t1_s;
    s.t2_s = c.t2_s;
    s.platform = c.platform;
    s.no_output = a.no_output;
    s.output = a.output.empty() ? std::filesystem::path(a.file).stem().string() + ".h5" : a.output;
    s.quiet = a.quiet;
    return run_sim(s);
  }
  if (!ex.link_points.empty()) return run_link_sweep(a, ex);
  const LinkExperiment& e = ex.link;
  const LinkExperimentResult r = run_link_experiment(e, true);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string out = link_output(a);
  if (!out.empty()) {
    ResultFile file(out, link_attributes(ex));
    write_link_experiment(file, e, r);
    file.write_summary("wall_time", seconds, "s", "wall-clock time of the run");
    file.close();
  }
  if (!a.quiet && mpi::rank() == 0) {
    fmt::print("qweave run {}: link '{}', {} episodes, {} segment{} ({}), purification {} x{}, {} states, "
               "{} memor{} per node\n", a.file,
               e.name, e.episodes, e.segments, e.segments == 1 ? "" : "s", e.protocol == link::Protocol::bdcz ? "bdcz" : "swap_asap",
               e.purification == link::Purification::none ? "none"
               : e.purification == link::Purification::dejmps  ? "dejmps"
               : e.purification == link::Purification::pumping ? "pumping"
                                                               : "bbpssw",
               e.purification_rounds, e.full_density ? "4x4" : "Bell-diagonal", e.memories,
               e.memories == 1 ? "y" : "ies");
    fmt::print("  elementary pair: fidelity {:.6f}, success probability {:.4g} per attempt of {:.4g} s\n",
               r.elementary_fidelity, r.success_probability, r.attempt_time_s);
    fmt::print("  delivered: fidelity {:.6f} +- {:.2g}, {:.4g} attempts ({:.3g} pairs per attempt), {:.4g} s per "
               "pair, rate {:.4g} Hz\n",
               r.fidelity_mean, r.fidelity_standard_error, r.attempts_mean, r.attempts_mean > 0 ? 1 / r.attempts_mean : 0.0,
               r.time_mean_s, r.rate_hz);
    fmt::print("  repeaterless (PLOB) bound: {:.4g} ebit per channel use (eta = {:.4g})\n", r.plob_bound, r.transmissivity);
    if (r.failed_episodes) fmt::print("  {} episodes exceeded the restart guard (time NaN)\n", r.failed_episodes);
    fmt::print("  time {:.3f} s{}\n", seconds, out.empty() ? "" : fmt::format(", results in {}", out));
  }
  return kExitOk;
}

}  // namespace qw::cli
