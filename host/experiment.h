// Experiment files (TOML, docs/experiments.md): the user-facing description of a run. Every key is
// validated; unknown keys, wrong types and impossible values are InputError with file:line:col.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/memory_experiment.h"
#include "kernels/link_chain.h"
#include "models/link_physics.h"

namespace qw {

class ResultFile;

// kind = "link": deliver entangled pairs between two modules over an elementary link or a
// repeater chain.
struct LinkExperiment {
  std::string name = "link";  // /links/<name>/ in the result file
  std::uint64_t episodes = 1;
  std::uint64_t seed = 0;
  std::string source = "werner";  // "werner" | "fiber"
  // "bell_diagonal" (twirled states, every protocol) or "density" (exact 4x4 states through memories
  // swaps and purification, swap_asap or bdcz, any number of segments).
  bool full_density = false;
  models::LinkParams link;        // one elementary link (segment) of the chain
  double total_length_km = 0;
  unsigned segments = 1;
  link::Protocol protocol = link::Protocol::swap_asap;  // "swap_asap" | "bdcz"
  link::Purification purification = link::Purification::none;
  unsigned purification_rounds = 0;
  LocalNoise local;               // swaps and purification
  unsigned memories = 1;          // memory.qubits_per_node (kernels/link_chain.h, ChainParams::memories)
  models::MemoryParams memory;
  double attempt_time_s = 0;      // as given: local operations of one attempt (plus flight for fiber)
};

// kind = "circuit": run a circuit file (docs/experiments.md), its LINK(name) pairs from [links].
struct CircuitExperiment {
  std::string circuit;             // path (relative paths already resolved against the file's folder)
  std::string engine = "sv";       // "sv" | "dm" | "frame"
  std::uint64_t shots = 1000, seed = 0;
  std::vector<std::string> links;  // "NAME=path" as qweave sim --link takes them
  double t1_s = 0, t2_s = 0;       // [memory]: waiting qubits and IDLE (0: not given)
  std::string platform;            // [noise] platform: preset name or file
};

// One point of a link sweep: the swept keys' values and the link experiment they give.
struct LinkSweepPoint {
  std::vector<std::pair<std::string, std::string>> values;
  LinkExperiment link;
};

struct Experiment {
  std::string kind;  // "link" | "memory" | "circuit"
  CircuitExperiment circuit;
  std::string text;  // the experiment file as given, with the --set overrides appended as comments
  LinkExperiment link;
  MemoryExperiment memory;          // kind = "memory": the file without [sweep]
  std::vector<SweepPoint> points;   // kind = "memory" with a [sweep]: every point, in order
  std::vector<LinkSweepPoint> link_points;  // kind = "link" with a [sweep]: every point, in order
};

// Parses and validates an experiment; overrides are "table.key=value" (TOML values) applied before
// validation ("--set link.length_km=50").
Experiment parse_experiment(const std::string& toml_text, const std::string& source_name,
                            const std::vector<std::string>& overrides = {});
Experiment read_experiment_file(const std::string& path, const std::vector<std::string>& overrides = {});

struct LinkExperimentResult {
  std::vector<double> time_s;
  std::vector<std::uint64_t> attempts;
  std::vector<double> fidelity;
  std::vector<double> bell_diagonal;  // [episodes, 4]
  double fidelity_mean = 0, fidelity_standard_error = 0;
  double attempts_mean = 0, time_mean_s = 0, rate_hz = 0;
  double success_probability = 0, attempt_time_s = 0, elementary_fidelity = 0;
  double transmissivity = 0;  // of the whole distance (fiber); the success probability (werner)
  double plob_bound = 0;      // -log2(1 - transmissivity), ebits per channel use
  std::uint64_t failed_episodes = 0;  // exceeded the restart guard (time NaN)
};

// Runs the episodes. split_over_ranks: under MPI every rank of the job must call it alike; each runs
// an even share of the episodes and every rank gets all of them (the same arrays and summaries as
// one rank). Otherwise the calling rank runs them all (e.g. a rank's own shots' links).
LinkExperimentResult run_link_experiment(const LinkExperiment& e, bool split_over_ranks = false);
void write_link_experiment(ResultFile& file, const LinkExperiment& e, const LinkExperimentResult& r);
// One point of a link sweep as the group /points/<index>: attributes for the swept values, seed,
// episodes, failed_episodes and every /summary quantity of a single run (fidelity_mean, rate_hz,
// plob_bound, ...), then complete = 1 (no per-episode arrays).
void write_link_point(ResultFile& file, std::size_t index, const LinkSweepPoint& p, const LinkExperimentResult& r);

}  // namespace qw
