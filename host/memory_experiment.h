// Memory experiments (experiment kind = "memory", docs/experiments.md): a generated surface or
// repetition code memory circuit (host/generators.h) sampled by the frame engine, its detector
// error model decoded shot by shot, the logical error rate with a Wilson interval; sweeps over any
// keys, one result group per point, resumable; a threshold estimate from the distances' crossings.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "host/generators.h"
#include "host/result_file.h"

namespace qw {

struct MemoryExperiment {
  gen::MemorySpec spec;
  std::uint64_t shots = 10000;
  std::uint64_t seed = 0;
  std::string decoder = "mwpm";  // "mwpm" | "union_find"
  int threads = 0;               // decoding threads per rank (0: OpenMP's default)
};

// A sweep point's swept values as "table.key=value ..." (in [sweep] order), and its seed: a function
// of the experiment's seed and that label, so a point's samples do not depend on the other points.
std::string sweep_values_label(const std::vector<std::pair<std::string, std::string>>& values);
std::uint64_t sweep_point_seed(std::uint64_t seed, const std::vector<std::pair<std::string, std::string>>& values);
// The swept values as attributes of a point's group (numbers as float64, other values as strings).
void write_sweep_values(ResultFile& file, const std::string& group,
                        const std::vector<std::pair<std::string, std::string>>& values);

// One point of a sweep: the swept keys' values ("noise.p", "0.002") and the experiment they give.
struct SweepPoint {
  std::vector<std::pair<std::string, std::string>> values;
  MemoryExperiment memory;
};

struct MemoryPointResult {
  std::uint64_t shots = 0;
  std::uint64_t logical_errors = 0;
  double logical_error_rate = 0, logical_error_rate_low = 0, logical_error_rate_high = 0;  // per shot
  double logical_error_rate_per_round = 0, per_round_low = 0, per_round_high = 0;
  double detection_fraction = 0;       // fired detectors / (detectors x shots)
  double decode_time_per_shot_s = 0;   // decoding time summed over threads and ranks, per shot
  double sample_time_s = 0, decode_wall_s = 0, total_time_s = 0;  // wall clock (slowest rank)
  std::uint64_t num_detectors = 0, num_dem_errors = 0, num_qubits = 0;
};

// The Wilson score interval of k successes in n trials at z = 1.96 (95%): E. B. Wilson, JASA 22,
// 209 (1927).
std::pair<double, double> wilson_interval(std::uint64_t k, std::uint64_t n, double z = 1.959963984540054);
// Per-round rate r of a per-shot rate P over `rounds` rounds: P = (1 - (1 - 2r)^rounds) / 2.
double per_round_rate(double per_shot, unsigned rounds);

// Runs one point: this rank's share of the shots (64-shot words split over ranks), the counts
// summed over ranks. Every rank must call it.
MemoryPointResult run_memory_point(const MemoryExperiment& e);

// Threshold estimate from points at several distances along one physical error axis: per distance
// a weighted least-squares line of log(logical error rate per round) against log(x) (points whose
// rate per shot is in (0, 1/2)), the crossing of each pair of successive distances; the threshold is
// the crossing of the largest two distances that cross (crossings drift with d); the uncertainty from
// a parametric bootstrap (binomial resamples of every point's count). With rounds = distance,
// per-round rates are the usual threshold criterion.
struct ThresholdEstimate {
  bool found = false;
  std::string axis;  // the swept key used as physical error, e.g. "noise.p"
  double threshold = 0, low = 0, high = 0, standard_error = 0;  // low/high: 2.5% / 97.5% of the bootstrap
  std::vector<std::pair<std::pair<unsigned, unsigned>, double>> crossings;  // (d1, d2) -> x
  std::string why_not;  // when not found
};
struct ThresholdPoint {
  unsigned distance;
  unsigned rounds;
  double x;
  std::uint64_t shots, logical_errors;
};
ThresholdEstimate estimate_threshold(const std::vector<ThresholdPoint>& points, std::uint64_t seed = 1,
                                     int resamples = 400);

struct MemoryRunOptions {
  std::string output;  // "" : no file
  std::string config;  // the experiment text for the file's config attribute
  bool quiet = false;  // no progress on stderr
};

// Runs every point (or the single experiment when `points` is empty) and writes the result file:
// /summary/* for a single experiment; /points/<i> groups (attributes: the swept values, the
// settings, the summary, complete = 1 last) and /summary/threshold* for a sweep. A sweep resumes:
// points complete in an existing output file with the same settings are kept and not rerun.
struct MemoryRunResult {
  std::vector<MemoryPointResult> points;
  std::vector<bool> reused;
  ThresholdEstimate threshold;
  double wall_time_s = 0;
};
MemoryRunResult run_memory_experiment(const MemoryExperiment& single, const std::vector<SweepPoint>& points,
                                      const MemoryRunOptions& options);

// One line naming every setting of a point (its identity when resuming).
std::string memory_settings(const MemoryExperiment& e);

}  // namespace qw
