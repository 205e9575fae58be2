#include "host/memory_experiment.h"

#include <hdf5.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include <fmt/format.h>

#include "host/decoder.h"
#include "host/dem.h"
#include "host/errors.h"
#include "host/frame_engine.h"
#include "host/result_file.h"
#include "host/version.h"
#include "kernels/config.h"
#include "kernels/memory.h"
#include "mpi/runtime.h"

namespace qw {
namespace {

// Frame shots per chunk: bounds the memory of the detector table (chunk x detectors / 8 bytes).
constexpr std::uint64_t kChunkShots = std::uint64_t{1} << 16;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The numbers of a point's result group, in the order they are written.
struct Field {
  const char* name;
  double MemoryPointResult::*value;
  const char* meaning;
};
constexpr Field kFields[] = {
    {"logical_error_rate", &MemoryPointResult::logical_error_rate, "logical errors per shot"},
    {"logical_error_rate_low", &MemoryPointResult::logical_error_rate_low, "Wilson 95% interval, lower end"},
    {"logical_error_rate_high", &MemoryPointResult::logical_error_rate_high, "Wilson 95% interval, upper end"},
    {"logical_error_rate_per_round", &MemoryPointResult::logical_error_rate_per_round, "per round"},
    {"logical_error_rate_per_round_low", &MemoryPointResult::per_round_low, "per round, lower end"},
    {"logical_error_rate_per_round_high", &MemoryPointResult::per_round_high, "per round, upper end"},
    {"detection_fraction", &MemoryPointResult::detection_fraction, "fired detectors per detector per shot"},
    {"decode_time_per_shot_s", &MemoryPointResult::decode_time_per_shot_s, "decoding time per shot (one core)"},
    {"sample_time_s", &MemoryPointResult::sample_time_s, "frame sampling, wall clock"},
    {"decode_wall_s", &MemoryPointResult::decode_wall_s, "decoding, wall clock"},
    {"total_time_s", &MemoryPointResult::total_time_s, "the whole point, wall clock"},
};
struct CountField {
  const char* name;
  std::uint64_t MemoryPointResult::*value;
};
constexpr CountField kCounts[] = {
    {"shots", &MemoryPointResult::shots},
    {"logical_errors", &MemoryPointResult::logical_errors},
    {"num_detectors", &MemoryPointResult::num_detectors},
    {"num_dem_errors", &MemoryPointResult::num_dem_errors},
    {"num_qubits", &MemoryPointResult::num_qubits},
};

// ---- reading finished points of an earlier run -------------------------------------------------

bool read_attr(hid_t obj, const char* name, double& out) {
  if (H5Aexists(obj, name) <= 0) return false;
  const hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return false;
  const bool ok = H5Aread(a, H5T_NATIVE_DOUBLE, &out) >= 0;
  H5Aclose(a);
  return ok;
}
bool read_attr(hid_t obj, const char* name, std::uint64_t& out) {
  if (H5Aexists(obj, name) <= 0) return false;
  const hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return false;
  const bool ok = H5Aread(a, H5T_NATIVE_UINT64, &out) >= 0;
  H5Aclose(a);
  return ok;
}
bool read_attr(hid_t obj, const char* name, std::string& out) {
  if (H5Aexists(obj, name) <= 0) return false;
  const hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return false;
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  char* s = nullptr;
  const bool ok = H5Aread(a, t, &s) >= 0 && s;
  if (ok) out = s;
  if (s) H5free_memory(s);
  H5Tclose(t);
  H5Aclose(a);
  return ok;
}

// settings -> result of every point marked complete in an existing file (empty when none).
std::map<std::string, MemoryPointResult> finished_points(const std::string& path) {
  std::map<std::string, MemoryPointResult> out;
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return out;
  H5E_auto2_t func;
  void* data;
  H5Eget_auto2(H5E_DEFAULT, &func, &data);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f >= 0) {
    if (H5Lexists(f, "/points", H5P_DEFAULT) > 0) {
      const hid_t points = H5Gopen2(f, "/points", H5P_DEFAULT);
      H5G_info_t info;
      if (points >= 0 && H5Gget_info(points, &info) >= 0) {
        for (hsize_t i = 0; i < info.nlinks; ++i) {
          char name[64];
          if (H5Lget_name_by_idx(points, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0) continue;
          const hid_t g = H5Gopen2(points, name, H5P_DEFAULT);
          if (g < 0) continue;
          std::uint64_t complete = 0;
          std::string settings;
          MemoryPointResult r;
          bool ok = read_attr(g, "complete", complete) && complete == 1 && read_attr(g, "settings", settings);
          for (const auto& fld : kFields) ok = ok && read_attr(g, fld.name, r.*fld.value);
          for (const auto& c : kCounts) ok = ok && read_attr(g, c.name, r.*c.value);
          if (ok) out[settings] = r;
          H5Gclose(g);
        }
      }
      if (points >= 0) H5Gclose(points);
    }
    H5Fclose(f);
  }
  H5Eset_auto2(H5E_DEFAULT, func, data);
  return out;
}

void write_point(ResultFile& file, std::size_t index, const SweepPoint& p, const MemoryPointResult& r) {
  const std::string g = fmt::format("/points/{}", index);
  write_sweep_values(file, g, p.values);
  const MemoryExperiment& e = p.memory;
  file.write_group_attribute(g, "settings", memory_settings(e));
  file.write_group_attribute(g, "code", e.spec.code);
  file.write_group_attribute(g, "distance", static_cast<std::uint64_t>(e.spec.distance));
  file.write_group_attribute(g, "rounds", static_cast<std::uint64_t>(e.spec.rounds));
  file.write_group_attribute(g, "basis", std::string(1, e.spec.basis));
  file.write_group_attribute(g, "p", e.spec.p);
  file.write_group_attribute(g, "modules", static_cast<std::uint64_t>(e.spec.modules));
  file.write_group_attribute(g, "partition", e.spec.partition);
  file.write_group_attribute(g, "interface_error", e.spec.interface_error);
  file.write_group_attribute(g, "interface_idle", e.spec.interface_idle);
  file.write_group_attribute(g, "bell_fidelity", e.spec.bell_fidelity);
  file.write_group_attribute(g, "purification_rounds", static_cast<std::uint64_t>(e.spec.purification_rounds));
  file.write_group_attribute(g, "link_wait_s", e.spec.link_wait_s);
  file.write_group_attribute(g, "platform", e.spec.platform);
  file.write_group_attribute(g, "link", e.spec.link);
  file.write_group_attribute(g, "decoder", e.decoder);
  file.write_group_attribute(g, "seed", e.seed);
  for (const auto& c : kCounts) file.write_group_attribute(g, c.name, r.*c.value);
  for (const auto& fld : kFields) file.write_group_attribute(g, fld.name, r.*fld.value);
  file.flush();
  // Marked complete only once everything above is on disk.
  file.write_group_attribute(g, "complete", std::uint64_t{1});
  file.flush();
}

void write_single(ResultFile& file, const MemoryPointResult& r) {
  file.write_summary("logical_error_rate", r.logical_error_rate, "per shot",
                     "shots whose decoded observables differ from the actual flips, per shot");
  file.write_summary("logical_error_rate_low", r.logical_error_rate_low, "per shot", "Wilson 95% interval, lower end");
  file.write_summary("logical_error_rate_high", r.logical_error_rate_high, "per shot", "Wilson 95% interval, upper end");
  file.write_summary("logical_error_rate_per_round", r.logical_error_rate_per_round, "per round",
                     "r with (1 - (1 - 2r)^rounds) / 2 = logical_error_rate");
  file.write_summary("logical_error_rate_per_round_low", r.per_round_low, "per round", "Wilson 95% interval, lower end");
  file.write_summary("logical_error_rate_per_round_high", r.per_round_high, "per round", "Wilson 95% interval, upper end");
  file.write_summary("logical_errors", static_cast<double>(r.logical_errors), "shots", "shots with a logical error");
  file.write_summary("detection_fraction", r.detection_fraction, "", "fired detectors per detector per shot");
  file.write_summary("decode_time_per_shot_s", r.decode_time_per_shot_s, "s",
                     "decoding time per shot on one core (summed over threads and ranks / shots)");
  file.write_summary("sample_time_s", r.sample_time_s, "s", "frame sampling, wall clock");
  file.write_summary("decode_wall_s", r.decode_wall_s, "s", "decoding, wall clock");
}

std::string values_label(const SweepPoint& p) { return sweep_values_label(p.values); }

struct Line {
  double a = 0, b = 0;  // y = a + b x
  bool ok = false;
};

Line fit(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& w) {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sw += w[i];
    sx += w[i] * x[i];
    sy += w[i] * y[i];
    sxx += w[i] * x[i] * x[i];
    sxy += w[i] * x[i] * y[i];
  }
  const double det = sw * sxx - sx * sx;
  Line l;
  if (x.size() < 2 || !(std::abs(det) > 1e-300)) return l;
  l.b = (sw * sxy - sx * sy) / det;
  l.a = (sy - l.b * sx) / sw;
  l.ok = true;
  return l;
}

// Crossings of successive distances' fitted lines for one set of counts; NaN when a pair has none.
std::vector<double> crossings_of(const std::vector<unsigned>& distances,
                                 const std::vector<std::vector<const ThresholdPoint*>>& by_d,
                                 const std::vector<std::vector<std::uint64_t>>& counts) {
  std::vector<Line> lines;
  for (std::size_t k = 0; k < distances.size(); ++k) {
    std::vector<double> x, y, w;
    for (std::size_t i = 0; i < by_d[k].size(); ++i) {
      const ThresholdPoint& p = *by_d[k][i];
      const double n = static_cast<double>(p.shots), c = static_cast<double>(counts[k][i]);
      const double rate = c / n;
      if (!(rate > 0 && rate < 0.5) || !(p.x > 0)) continue;
      x.push_back(std::log(p.x));
      y.push_back(std::log(per_round_rate(rate, p.rounds)));
      w.push_back(c * (1 - rate));  // 1 / var(log rate) = n rate / (1 - rate), to first order
    }
    lines.push_back(fit(x, y, w));
  }
  std::vector<double> out;
  for (std::size_t k = 0; k + 1 < distances.size(); ++k) {
    const Line &l1 = lines[k], &l2 = lines[k + 1];
    if (!l1.ok || !l2.ok || std::abs(l2.b - l1.b) < 1e-12) {
      out.push_back(std::nan(""));
      continue;
    }
    out.push_back(std::exp((l1.a - l2.a) / (l2.b - l1.b)));
  }
  return out;
}

}  // namespace

std::pair<double, double> wilson_interval(std::uint64_t k, std::uint64_t n, double z) {
  if (n == 0) return {0, 1};
  const double nn = static_cast<double>(n), p = static_cast<double>(k) / nn, z2 = z * z;
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

double per_round_rate(double per_shot, unsigned rounds) {
  if (per_shot >= 0.5) return 0.5;
  return (1 - std::pow(1 - 2 * per_shot, 1.0 / rounds)) / 2;
}

std::string memory_settings(const MemoryExperiment& e) {
  const auto& s = e.spec;
  return fmt::format("code={} distance={} rounds={} basis={} p={} platform={} modules={} partition={} "
                     "interface_error={} interface_idle={} bell_fidelity={} purification_rounds={} link_wait_s={} "
                     "link={} decoder={} shots={} seed={}",
                     s.code, s.distance, s.rounds, s.basis, s.p, s.platform.empty() ? "none" : s.platform, s.modules,
                     s.partition, s.interface_error, s.interface_idle, s.bell_fidelity, s.purification_rounds,
                     s.link_wait_s, s.link.empty() ? "none" : s.link, e.decoder, e.shots, e.seed);
}

MemoryPointResult run_memory_point(const MemoryExperiment& e) {
  const auto t0 = std::chrono::steady_clock::now();
  const Circuit circuit = gen::memory_circuit(e.spec);
  const DetectorErrorModel dem = detector_error_model(circuit);
  const auto decoder = make_decoder(dem, e.decoder, gen::detector_basis(e.spec));
  MemoryPointResult r;
  r.shots = e.shots;
  r.num_detectors = dem.num_detectors;
  r.num_dem_errors = dem.errors.size();
  r.num_qubits = circuit.num_qubits();
  // Ranks split the 64-shot words: the RNG stream is the word, so the samples do not depend on
  // the rank count.
  const std::uint64_t words = (e.shots + 63) / 64;
  const mpi::ShotRange w = mpi::my_shots(words);
  const std::uint64_t first = std::min(e.shots, w.first * 64);
  const std::uint64_t last = std::min(e.shots, (w.first + w.count) * 64);
  // counts: logical errors, fired detectors.
  std::uint64_t counts[2] = {0, 0};
  double sample_s = 0, decode_wall_s = 0, decode_thread_s = 0;
  for (std::uint64_t start = first; start < last; start += kChunkShots) {
    FrameOptions o;
    o.seed = e.seed;
    o.first_shot = start;
    o.shots = std::min(kChunkShots, last - start);
    const auto ts = std::chrono::steady_clock::now();
    const FrameResult f = run_frames(circuit, o);
    sample_s += seconds_since(ts);
    for (auto c : f.detector_flip_counts) counts[1] += c;
    const BatchDecodeResult d = decode_batch(*decoder, f.detectors.data(), f.shots, f.observables.data(), e.threads);
    counts[0] += d.logical_errors;
    decode_wall_s += d.wall_s;
    decode_thread_s += d.thread_s;
  }
  mpi::allreduce_sum(counts, 2);
  const std::vector<double> thread_s = mpi::allgather(decode_thread_s);
  decode_thread_s = std::accumulate(thread_s.begin(), thread_s.end(), 0.0);
  r.logical_errors = counts[0];
  r.logical_error_rate = static_cast<double>(counts[0]) / static_cast<double>(e.shots);
  std::tie(r.logical_error_rate_low, r.logical_error_rate_high) = wilson_interval(counts[0], e.shots);
  r.logical_error_rate_per_round = per_round_rate(r.logical_error_rate, e.spec.rounds);
  r.per_round_low = per_round_rate(r.logical_error_rate_low, e.spec.rounds);
  r.per_round_high = per_round_rate(r.logical_error_rate_high, e.spec.rounds);
  r.detection_fraction = dem.num_detectors ? static_cast<double>(counts[1]) / (static_cast<double>(dem.num_detectors) *
                                                                               static_cast<double>(e.shots))
                                           : 0.0;
  r.decode_time_per_shot_s = decode_thread_s / static_cast<double>(e.shots);
  r.sample_time_s = mpi::max_over_ranks(sample_s);
  r.decode_wall_s = mpi::max_over_ranks(decode_wall_s);
  r.total_time_s = mpi::max_over_ranks(seconds_since(t0));
  return r;
}

ThresholdEstimate estimate_threshold(const std::vector<ThresholdPoint>& points, std::uint64_t seed, int resamples) {
  ThresholdEstimate t;
  std::vector<unsigned> distances;
  for (const auto& p : points) distances.push_back(p.distance);
  std::sort(distances.begin(), distances.end());
  distances.erase(std::unique(distances.begin(), distances.end()), distances.end());
  if (distances.size() < 2) {
    t.why_not = "needs at least two distances";
    return t;
  }
  std::vector<std::vector<const ThresholdPoint*>> by_d(distances.size());
  std::vector<std::vector<std::uint64_t>> counts(distances.size());
  for (const auto& p : points) {
    const std::size_t k = static_cast<std::size_t>(std::lower_bound(distances.begin(), distances.end(), p.distance) - distances.begin());
    by_d[k].push_back(&p);
    counts[k].push_back(p.logical_errors);
  }
  const std::vector<double> cross = crossings_of(distances, by_d, counts);
  // The crossing of the largest two distances that cross: the least finite-size drift (the
  // crossings of smaller pairs move with d).
  auto mean_of = [](const std::vector<double>& c) {
    for (std::size_t k = c.size(); k-- > 0;) {
      if (std::isfinite(c[k])) return c[k];
    }
    return std::nan("");
  };
  for (std::size_t k = 0; k < cross.size(); ++k) {
    if (std::isfinite(cross[k])) t.crossings.push_back({{distances[k], distances[k + 1]}, cross[k]});
  }
  t.threshold = mean_of(cross);
  if (!std::isfinite(t.threshold)) {
    t.why_not = "no two successive distances have fitted lines that cross (need two points with 0 < rate < 1/2 each)";
    return t;
  }
  // Parametric bootstrap: every point's count redrawn from Binomial(shots, observed rate).
  std::mt19937_64 rng(seed);
  std::vector<double> samples;
  for (int b = 0; b < resamples; ++b) {
    auto redrawn = counts;
    for (std::size_t k = 0; k < by_d.size(); ++k) {
      for (std::size_t i = 0; i < by_d[k].size(); ++i) {
        const double rate = static_cast<double>(counts[k][i]) / static_cast<double>(by_d[k][i]->shots);
        std::binomial_distribution<std::uint64_t> draw(by_d[k][i]->shots, rate);
        redrawn[k][i] = draw(rng);
      }
    }
    const double x = mean_of(crossings_of(distances, by_d, redrawn));
    if (std::isfinite(x)) samples.push_back(x);
  }
  t.found = true;
  if (samples.size() >= 10) {
    std::sort(samples.begin(), samples.end());
    t.low = samples[static_cast<std::size_t>(0.025 * (samples.size() - 1))];
    t.high = samples[static_cast<std::size_t>(0.975 * (samples.size() - 1))];
    double m = 0, v = 0;
    for (double x : samples) m += x;
    m /= static_cast<double>(samples.size());
    for (double x : samples) v += (x - m) * (x - m);
    t.standard_error = std::sqrt(v / static_cast<double>(samples.size() - 1));
  } else {
    t.low = t.high = t.threshold;
  }
  return t;
}

MemoryRunResult run_memory_experiment(const MemoryExperiment& single, const std::vector<SweepPoint>& sweep,
                                      const MemoryRunOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool is_sweep = !sweep.empty();
  std::vector<SweepPoint> points = sweep;
  if (!is_sweep) points.push_back({{}, single});
  // Each point of a sweep gets its own seed, a function of the experiment seed and its values.
  if (is_sweep) {
    for (auto& p : points) p.memory.seed = sweep_point_seed(p.memory.seed, p.values);
  }
  const std::map<std::string, MemoryPointResult> done = is_sweep ? finished_points(options.output)
                                                                 : std::map<std::string, MemoryPointResult>{};
  std::unique_ptr<ResultFile> file;
  if (!options.output.empty()) {
    RunAttributes attrs;
    attrs.engine = "memory";
    attrs.backend = backend_name();
    attrs.precision = kPrecisionName;
    attrs.ranks = mpi::size();
    attrs.seed = single.seed;
    attrs.shots = single.shots;
    attrs.config = options.config;
    if (!is_sweep) {
      attrs.circuit = gen::memory_circuit_text(single.spec);
      attrs.qubits = static_cast<std::uint32_t>(gen::memory_circuit(single.spec).num_qubits());
    }
    file = std::make_unique<ResultFile>(options.output, attrs);
  }
  const bool talk = !options.quiet && mpi::rank() == 0;
  MemoryRunResult out;
  out.points.resize(points.size());
  out.reused.assign(points.size(), false);
  // Finished points of an earlier run go back into the new file first.
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto it = done.find(memory_settings(points[i].memory));
    if (it == done.end()) continue;
    out.points[i] = it->second;
    out.reused[i] = true;
    if (file) write_point(*file, i, points[i], out.points[i]);
  }
  const std::size_t reused = static_cast<std::size_t>(std::count(out.reused.begin(), out.reused.end(), true));
  if (talk && reused) fmt::print(stderr, "qweave: {} of {} points complete in {}: kept, not rerun\n", reused, points.size(), options.output);
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (out.reused[i]) continue;
    const MemoryPointResult r = run_memory_point(points[i].memory);
    out.points[i] = r;
    if (file) {
      if (is_sweep) {
        write_point(*file, i, points[i], r);
      } else {
        write_single(*file, r);
      }
    }
    if (talk && is_sweep) {
      fmt::print(stderr, "[{}/{}] {}: logical error rate {:.4g} [{:.3g}, {:.3g}] per shot, {:.3g} s\n", i + 1,
                 points.size(), values_label(points[i]), r.logical_error_rate, r.logical_error_rate_low,
                 r.logical_error_rate_high, r.total_time_s);
    }
  }
  if (is_sweep) {
    // Threshold: "code.distance" and one other swept numeric key, every other setting fixed.
    std::set<std::string> keys;
    for (const auto& p : points) {
      for (const auto& [k, v] : p.values) keys.insert(k);
    }
    std::vector<std::string> axes;
    for (const auto& k : keys) {
      if (k == "code.distance") continue;
      std::set<std::string> values;
      for (const auto& p : points) {
        for (const auto& [kk, v] : p.values) {
          if (kk == k) values.insert(v);
        }
      }
      if (values.size() > 1) axes.push_back(k);
    }
    if (keys.count("code.distance") && axes.size() == 1) {
      std::vector<ThresholdPoint> tp;
      for (std::size_t i = 0; i < points.size(); ++i) {
        double x = std::nan("");
        for (const auto& [k, v] : points[i].values) {
          if (k == axes[0]) x = std::strtod(v.c_str(), nullptr);
        }
        tp.push_back({points[i].memory.spec.distance, points[i].memory.spec.rounds, x, out.points[i].shots,
                      out.points[i].logical_errors});
      }
      out.threshold = estimate_threshold(tp, single.seed + 1);
      out.threshold.axis = axes[0];
    } else {
      out.threshold.why_not = "a threshold needs a sweep over code.distance and exactly one other key";
    }
    if (file && out.threshold.found) {
      const auto& t = out.threshold;
      const std::string desc = fmt::format("crossing of the logical error rates of successive distances along {}", t.axis);
      file->write_summary("threshold", t.threshold, "",
                          desc + " (per-round rates; the largest two distances that cross)");
      file->write_summary("threshold_low", t.low, "", "2.5% quantile of the parametric bootstrap");
      file->write_summary("threshold_high", t.high, "", "97.5% quantile of the parametric bootstrap");
      file->write_summary("threshold_standard_error", t.standard_error, "", "standard deviation of the bootstrap");
      file->write_group_attribute("/summary", "threshold_axis", t.axis);
      for (const auto& [ds, x] : t.crossings) {
        file->write_summary(fmt::format("threshold_d{}_d{}", ds.first, ds.second), x, "",
                            fmt::format("crossing of the d = {} and d = {} fits", ds.first, ds.second));
      }
    }
  }
  out.wall_time_s = seconds_since(t0);
  if (file) {
    file->write_summary("wall_time", out.wall_time_s, "s", "wall-clock time of the run");
    file->close();
  }
  return out;
}

std::string sweep_values_label(const std::vector<std::pair<std::string, std::string>>& values) {
  std::string s;
  for (const auto& [k, v] : values) s += fmt::format("{}{}={}", s.empty() ? "" : " ", k, v);
  return s;
}

std::uint64_t sweep_point_seed(std::uint64_t seed, const std::vector<std::pair<std::string, std::string>>& values) {
  return splitmix64(seed ^ fnv1a(sweep_values_label(values)));
}

void write_sweep_values(ResultFile& file, const std::string& group,
                        const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [key, value] : values) {
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end && *end == '\0' && !value.empty()) {
      file.write_group_attribute(group, key, v);
    } else {
      file.write_group_attribute(group, key, value);
    }
  }
}

}  // namespace qw
