// qweave sim CIRCUIT: run a circuit file and write the result file.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <omp.h>
#include <unordered_map>
#include <unistd.h>
#include <cstdio>
#include <cstring>

#include "host/cli/commands.h"
#include "host/diagnostics.h"
#include "host/errors.h"
#include "host/frame_engine.h"
#include "host/link_deliveries.h"
#include "host/parse.h"
#include "host/result_file.h"
#include "host/dense_engine.h"
#include "kernels/config.h"
#include "kernels/memory.h"
#include "models/platform.h"
#include "mpi/runtime.h"

namespace qw::cli {

namespace {
const CLI::Validator kCount(
    [](std::string& v) -> std::string {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 19) {
        return "must be a whole number from 0 to 10^19, got '" + v + "'";
      }
      return {};
    },
    "COUNT");
}  // namespace

void add_sim(CLI::App& app, SimArgs& a) {
  auto* cmd = app.add_subcommand("sim", "Run a circuit (Stim format or OpenQASM 2.0)");
  cmd->add_option("circuit", a.circuit, "Circuit file (.stim or .qasm)")->required();
  cmd->add_option("--engine", a.engine,
                  "Engine: sv (state vector, noise as trajectories), dm (density matrix, exact) or "
                  "frame (Pauli frames: detection events and observables of Clifford circuits)")
      ->check(CLI::IsMember({"sv", "dm", "frame"}))->capture_default_str();
  cmd->add_option("--format", a.format, "Circuit format: auto (by extension), stim, qasm")
      ->check(CLI::IsMember({"auto", "stim", "qasm"}))->capture_default_str();
  cmd->add_option("--shots", a.shots, "Number of shots")->check(kCount)->capture_default_str();
  cmd->add_option("--seed", a.seed, "Seed of the counter-based RNG (results depend only on it)")->check(kCount)
      ->capture_default_str();
  cmd->add_option("-o,--output", a.output, "Result file (default: <circuit name>.h5 here)");
  cmd->add_flag("--no-output", a.no_output, "Do not write a result file");
  cmd->add_flag("--save-state", a.save_state, "Write the state to /state/amplitudes");
  cmd->add_option("--threads", a.threads, "CPU threads (default: OpenMP's choice)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--memory-limit", a.memory_limit_gib,
                  "Memory the state may use, GiB (default: what is available)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--t1", a.t1_s, "T1 of every qubit for IDLE(t), seconds")->check(CLI::PositiveNumber);
  cmd->add_option("--t2", a.t2_s, "T2 of every qubit for IDLE(t), seconds (<= 2 T1)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--module", a.modules,
                  "A module's qubits (0-5, or 0,2,7-9); repeat per module. A sharded state places the "
                  "modules in this order from the lowest physical bit, so the first ones stay local");
  cmd->add_flag("--measurements", a.frame_measurements,
                 "--engine frame: also write the raw measurement records (/measurements: a tableau "
                 "reference sample XOR each shot's flips)");
  cmd->add_option("--link", a.links,
                  "NAME=FILE.toml: LINK(NAME) in the circuit takes its pairs from this link experiment "
                  "(kind = \"link\"), one episode per shot and use; qubits that wait decohere with --t1/--t2 "
                  "(docs/physics.md, \"Pairs in circuits\")");
  cmd->add_option("--format-out", a.format_out,
                  "--engine frame: hdf5 (the result file), or Stim's shot formats 01 (one line of 0/1 per "
                  "shot) or b8 (bit-packed bytes per shot): detection events, then the observables unless "
                  "--obs-out is given (docs/frame.md)")
      ->check(CLI::IsMember({"hdf5", "01", "b8"}))->capture_default_str();
  cmd->add_option("--obs-out", a.obs_out, "With --format-out 01/b8: write the observable flips to this file");
  cmd->add_option("--split", a.split,
                  "--engine frame under MPI: 'shots' (each rank runs its share of the shots) or 'modules' "
                  "(one module per rank: the --module lists, one per rank, or equal contiguous blocks of "
                  "qubits; gates across modules exchange frames between ranks)")
      ->check(CLI::IsMember({"shots", "modules"}))->capture_default_str();
  cmd->add_flag("--dry-run", a.dry_run,
                 "Print the plan (memory per rank, global qubits, how shots run) and stop");
  cmd->add_flag("--shard", a.shard,
                 "Under MPI: shard the state vector over the ranks (2^k ranks; the top k qubits "
                 "global) instead of splitting the shots");
  cmd->add_option("--batch", a.batch, "Shots simulated together (default: from the memory)")
      ->check(kCount);
  cmd->add_option("--platform", a.platform,
                  "Add a platform's noise (gate errors, T1/T2 idling, readout): a preset (nv_centre, "
                  "trapped_ion, superconducting, neutral_atom) or a TOML file (docs/models.md)");
  cmd->add_option("--report", a.reports,
                  "Module diagnostic of the final state: entropy:Q, purity:Q, negativity:Q|Q, "
                  "fidelity:ghz:Q (Q like 0-4 or 0,2,5; docs/diagnostics.md); repeatable");
  cmd->add_flag("--no-fusion", a.no_fusion,
                "Dense engines: apply every gate on its own instead of fusing runs of gates into "
                "larger blocks (docs/performance.md)");
  cmd->add_option("--fusion-qubits", a.fusion_qubits,
                  "Dense engines: largest fused block in qubits (default 5 for a state vector, 2 for a "
                  "density matrix)")->check(CLI::Range(2, 6));
  cmd->add_flag("-q,--quiet", a.quiet, "Print nothing on success");
}

namespace {

// "0-5", "0,2,7-9" -> qubits.
std::vector<unsigned> parse_qubit_list(const std::string& spec) {
  std::vector<unsigned> out;
  std::size_t pos = 0;
  auto bad = [&](const std::string& why) { return InputError("--module '" + spec + "': " + why); };
  if (spec.empty()) throw bad("empty");
  while (pos <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', pos), spec.size());
    const std::string item = spec.substr(pos, comma - pos);
    const std::size_t dash = item.find('-');
    auto number = [&](const std::string& t) {
      if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos) {
        throw bad("'" + t + "' is not a qubit index");
      }
      return static_cast<unsigned>(std::stoul(t));
    };
    const unsigned lo = number(dash == std::string::npos ? item : item.substr(0, dash));
    const unsigned hi = dash == std::string::npos ? lo : number(item.substr(dash + 1));
    if (hi < lo) throw bad("empty range " + item);
    for (unsigned q = lo; q <= hi; ++q) out.push_back(q);
    pos = comma + 1;
  }
  return out;
}

std::string record_string(const std::uint8_t* row, std::uint64_t bits) {
  std::string s(bits, '0');
  for (std::uint64_t j = 0; j < bits; ++j) {
    if ((row[j / 8] >> (j % 8)) & 1u) s[j] = '1';
  }
  return s;
}

void print_histogram(const DenseResult& r, std::uint64_t shots) {
  if (r.num_measurements == 0 || shots == 0) return;
  if (r.num_measurements > 64) {
    fmt::print("  measurement records: {} bits per shot (too wide for a histogram)\n",
               r.num_measurements);
    return;
  }
  std::unordered_map<std::string, std::uint64_t> counts;
  for (std::uint64_t s = 0; s < shots; ++s) {
    counts[record_string(r.measurements.data() + s * r.bytes_per_shot, r.num_measurements)]++;
  }
  std::vector<std::pair<std::string, std::uint64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  fmt::print("  outcomes (record bits in measurement order, {} distinct):\n", v.size());
  for (std::size_t i = 0; i < std::min<std::size_t>(v.size(), 8); ++i) {
    fmt::print("    {}  {:>10}  {:6.2f}%\n", v[i].first, v[i].second, 100.0 * v[i].second / shots);
  }
  if (v.size() > 8) fmt::print("    ... {} more\n", v.size() - 8);
}

bool circuit_uses_links(const Circuit& c) {
  for (const Instruction& op : c.instructions()) {
    if (op.gate == GateId::LINK) return true;
    if (op.gate == GateId::REPEAT && circuit_uses_links(c.block(op))) return true;
  }
  return false;
}

// The --link definitions and the waiting qubits' memory (--t1/--t2); checks that every LINK name
// is defined (InputError at the LINK otherwise).
CircuitLinks circuit_links(const SimArgs& a, const Circuit& c) {
  CircuitLinks links;
  for (const auto& spec : a.links) add_link_definition(links, spec);
  if (!a.platform.empty() && !(a.t1_s > 0) && !(a.t2_s > 0)) {
    // The platform's memories wait for the links (docs/models.md) unless --t1/--t2 say otherwise.
    const models::Platform p = models::load_platform(a.platform);
    links.t1_s = p.t1_s;
    links.t2_s = p.t2_s;
  }
  if (a.t1_s > 0) links.t1_s = a.t1_s;
  if (a.t2_s > 0) links.t2_s = a.t2_s;
  if (links.t2_s > 2 * links.t1_s) {
    throw InputError(fmt::format("--t2 {} s exceeds 2 T1 = {} s", links.t2_s, 2 * links.t1_s));
  }
  link_uses(c, links);
  return links;
}

// Mean over all shots of the summed delivery times of each shot's LINKs; `local` when this rank
// holds every shot (one module per rank), else the ranks' shares are added.
double mean_link_time(const CircuitLinks& links, std::uint64_t total_shots, bool local) {
  double mine = 0;
  for (double t : links.elapsed_s) mine += t;
  double sum = mine;
  if (!local) {
    sum = 0;
    for (double v : mpi::allgather(mine)) sum += v;
  }
  return total_shots ? sum / static_cast<double>(total_shots) : 0.0;
}

// Stim's shot formats (01: '0'/'1' per bit and a newline per shot; b8: ceil(bits/8) bytes per shot,
// bit k in byte k/8 at position k%8): the concatenation of each part's bits for every shot. The
// file appears under its name only when complete (written to NAME.partial, then renamed).
struct BitPart {
  const std::uint8_t* rows;  // shot-major, bytes_per_shot each
  std::uint64_t bits, bytes_per_shot;
};
void write_shot_file(const std::string& path, const std::string& format, std::uint64_t shots,
                     const std::vector<BitPart>& parts) {
  const std::string tmp = path + ".partial";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw InputError(path + ": cannot open for writing");
  std::uint64_t total = 0;
  for (const BitPart& p : parts) total += p.bits;
  std::vector<std::uint8_t> line(format == "01" ? total + 1 : (total + 7) / 8);
  for (std::uint64_t s = 0; s < shots; ++s) {
    std::fill(line.begin(), line.end(), format == "01" ? '0' : 0);
    std::uint64_t k = 0;
    for (const BitPart& p : parts) {
      const std::uint8_t* row = p.rows + s * p.bytes_per_shot;
      for (std::uint64_t b = 0; b < p.bits; ++b, ++k) {
        if (!((row[b / 8] >> (b % 8)) & 1u)) continue;
        if (format == "01") line[k] = '1';
        else line[k / 8] |= static_cast<std::uint8_t>(1u << (k % 8));
      }
    }
    if (format == "01") line[total] = '\n';
    if (std::fwrite(line.data(), 1, line.size(), f) != line.size()) {
      std::fclose(f);
      throw InputError(path + ": write failed (disk full?)");
    }
  }
  if (std::fclose(f) != 0) throw InputError(path + ": write failed");
  std::filesystem::rename(tmp, path);
}

}  // namespace

// --engine frame: detection events and observable flips (docs/frame.md). Under MPI the ranks split
// the shots at 64-shot word boundaries (the frame engine's RNG stream is the word).
int run_frame_sim(const SimArgs& a, const Circuit& circuit, const std::string& out_path,
                  std::chrono::steady_clock::time_point t0) {
  if (a.save_state || !a.reports.empty() || a.shard || !a.platform.empty()) {
    throw InputError("--engine frame has no state: --save-state, --report, --shard and --platform "
                     "(non-Pauli idling) do not apply");
  }
  const std::uint64_t words = (a.shots + 63) / 64;
  const bool by_module = a.split == "modules";
  const mpi::ShotRange w = by_module ? mpi::ShotRange{0, words} : mpi::my_shots(words);
  FrameOptions fo;
  fo.seed = a.seed;
  fo.first_shot = w.first * 64;
  fo.measurements = a.frame_measurements;
  if (a.t1_s > 0) fo.t1_s = a.t1_s;
  if (a.t2_s > 0) fo.t2_s = a.t2_s;
  if (fo.t2_s > 2 * fo.t1_s) throw InputError(fmt::format("--t2 {} s exceeds 2 T1 = {} s", fo.t2_s, 2 * fo.t1_s));
  fo.shots = std::min<std::uint64_t>(a.shots, (w.first + w.count) * 64) - std::min<std::uint64_t>(a.shots, fo.first_shot);
  if (by_module) {
    if (a.modules.empty()) {
      fo.owner = contiguous_owners(circuit.num_qubits(), mpi::size());
    } else {
      if (a.modules.size() != static_cast<std::size_t>(mpi::size())) {
        throw InputError(fmt::format("--split modules: {} --module lists for {} ranks (one module per rank)",
                                     a.modules.size(), mpi::size()));
      }
      fo.owner.assign(circuit.num_qubits(), -1);
      for (std::size_t m = 0; m < a.modules.size(); ++m) {
        for (unsigned q : parse_qubit_list(a.modules[m])) {
          if (q >= circuit.num_qubits()) {
            throw InputError(fmt::format("--module '{}': qubit {} is outside the circuit's {} qubits", a.modules[m],
                                         q, circuit.num_qubits()));
          }
          if (fo.owner[q] != -1) {
            throw InputError(fmt::format("--module '{}': qubit {} is already in module {}", a.modules[m], q,
                                         fo.owner[q]));
          }
          fo.owner[q] = static_cast<int>(m);
        }
      }
      for (std::uint32_t q = 0; q < circuit.num_qubits(); ++q) {
        if (fo.owner[q] == -1) {
          throw InputError(fmt::format("--split modules: qubit {} is in no --module list", q));
        }
      }
    }
  } else if (!a.modules.empty()) {
    throw InputError("--engine frame: --module lists apply with --split modules only");
  }
  if (a.dry_run) {
    if (mpi::rank() == 0) {
      fmt::print("plan: frame engine, {} qubits, {} detectors, {} observables, {} shots in {} words of 64, "
                 "{} rank{}\n  frames: {} bytes per qubit per 64 shots (x and z)\n", circuit.num_qubits(),
                 circuit.num_detectors(), circuit.num_observables(), a.shots, words, mpi::size(),
                 mpi::size() == 1 ? "" : "s", 16);
    }
    return kExitOk;
  }
  CircuitLinks links;
  if (!a.links.empty() || circuit_uses_links(circuit)) {
    links = circuit_links(a, circuit);
    sample_link_deliveries(links, circuit, a.seed, fo.first_shot, fo.shots);
    fo.links = &links;
  }
  const FrameResult r = run_frames(circuit, fo);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Totals over ranks for the summary.
  std::uint64_t fired = 0;
  for (std::uint64_t c : r.detector_flip_counts) fired += c;
  std::vector<std::uint64_t> obs_flips(r.num_observables, 0);
  for (std::uint64_t s = 0; s < r.shots; ++s)
    for (std::uint64_t k = 0; k < r.num_observables; ++k)
      obs_flips[k] += (r.observables[s * r.observable_bytes_per_shot + k / 8] >> (k % 8)) & 1u;
  std::vector<std::uint64_t> totals(obs_flips);
  totals.push_back(fired);
  mpi::allreduce_sum(totals.data(), totals.size());  // each rank holds its share of the shots
  fired = totals.back();
  const double det_fraction = r.num_detectors && a.shots ? double(fired) / (double(r.num_detectors) * a.shots) : 0.0;
  if (!out_path.empty() && a.format_out != "hdf5") {
    // Stim's formats: rank 0 writes every shot (gathered in rank order = shot order).
    std::vector<std::uint8_t> dets = mpi::gather_to_root(r.detectors);
    std::vector<std::uint8_t> obs = mpi::gather_to_root(r.observables);
    if (mpi::rank() == 0) {
      const BitPart d{dets.data(), r.num_detectors, r.detector_bytes_per_shot};
      const BitPart o{obs.data(), r.num_observables, r.observable_bytes_per_shot};
      if (a.obs_out.empty()) {
        write_shot_file(out_path, a.format_out, a.shots, {d, o});
      } else {
        write_shot_file(out_path, a.format_out, a.shots, {d});
        write_shot_file(a.obs_out, a.format_out, a.shots, {o});
      }
    }
  } else if (!out_path.empty()) {
    RunAttributes attrs;
    attrs.engine = "frame";
    attrs.backend = backend_name();
    attrs.precision = kPrecisionName;
    attrs.ranks = mpi::size();
    attrs.seed = a.seed;
    attrs.shots = a.shots;
    attrs.qubits = circuit.num_qubits();
    attrs.circuit = circuit.source_text;
    ResultFile file(out_path, attrs);
    // Each rank writes its own shots (with one module per rank, its share after the shot-major
    // redistribution), in one collective write per dataset.
    file.write_bits_rows("/detectors", r.detectors.data(), r.first_shot, r.shots, a.shots, r.num_detectors);
    file.write_bits_rows("/observables", r.observables.data(), r.first_shot, r.shots, a.shots, r.num_observables);
    if (fo.measurements) {
      file.write_bits_rows("/measurements", r.measurements.data(), r.first_shot, r.shots, a.shots,
                           circuit.num_measurements());
    }
    file.write_summary("detection_fraction", det_fraction, "", "fraction of detector bits that fired, over all shots");
    if (fo.links) {
      file.write_summary("link_time_mean_s", mean_link_time(links, a.shots, by_module), "s",
                         "mean over shots of the summed delivery times of the shot's LINK pairs");
    }
    for (std::uint64_t k = 0; k < r.num_observables; ++k) {
      file.write_summary(fmt::format("observable_flip_rate_{}", k), a.shots ? double(totals[k]) / a.shots : 0.0, "",
                         fmt::format("fraction of shots in which observable {} flipped", k));
    }
    file.write_summary("wall_time", seconds, "s", "wall-clock time of the run, parse to results");
    file.close();
  }
  if (!a.quiet && mpi::rank() == 0) {
    fmt::print("qweave sim {}: {} qubits, {} detectors, {} observables, {} shots\n", a.circuit,
               circuit.num_qubits(), r.num_detectors, r.num_observables, a.shots);
    fmt::print("  engine frame on {}, seed {}{}\n", backend_name(), a.seed,
               mpi::size() == 1 ? std::string()
               : by_module      ? fmt::format(", one module per rank ({} ranks)", mpi::size())
                                : fmt::format(", shots split over {} ranks", mpi::size()));
    fmt::print("  detection fraction {:.6g}\n", det_fraction);
    for (std::uint64_t k = 0; k < r.num_observables; ++k) {
      fmt::print("  observable {} flipped in {:.6g} of shots\n", k, a.shots ? double(totals[k]) / a.shots : 0.0);
    }
    fmt::print("  time {:.3f} s{}\n", seconds, out_path.empty() ? "" : fmt::format(", results in {}", out_path));
  }
  return kExitOk;
}

int run_sim(const SimArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool dry = a.dry_run;
  if (a.threads > 0) omp_set_num_threads(a.threads);
  Circuit circuit = read_circuit_file(a.circuit, format_from_name(a.format));
  double gate_time_s = -1;  // the circuit's duration on the platform (none without --platform)
  if (!a.platform.empty()) {
    const models::Platform platform = models::load_platform(a.platform);
    gate_time_s = models::circuit_duration_s(circuit, platform);
    circuit = models::add_platform_noise(circuit, platform);
  }
  const auto reports = diag::parse_reports(a.reports);
  diag::check_reports(reports, circuit.num_qubits(), a.engine != "dm");

  std::string out_path;
  if (!a.no_output && !dry) {
    out_path = a.output.empty()
                   ? std::filesystem::path(a.circuit).stem().string() +
                         (a.format_out == "hdf5" ? ".h5" : "." + a.format_out)
                   : a.output;
  }

  if (!out_path.empty()) {
    // Fail before a long run, not after it, when the result file cannot be written.
    namespace fs = std::filesystem;
    const fs::path dir = fs::absolute(fs::path(out_path)).parent_path();
    std::error_code ec;
    if (!fs::is_directory(dir, ec) || access(dir.c_str(), W_OK) != 0) {
      throw InputError(out_path + ": cannot write the result file here (directory " + dir.string() +
                       " does not exist or is not writable)");
    }
  }

  if (a.engine != "frame" && a.format_out != "hdf5") {
    throw InputError("--format-out " + a.format_out + " applies to --engine frame (detection events); the "
                     "dense engines write HDF5");
  }
  if (!a.obs_out.empty() && a.format_out == "hdf5") {
    throw InputError("--obs-out applies with --format-out 01 or b8 (HDF5 files hold /observables)");
  }
  if (a.engine == "frame") return run_frame_sim(a, circuit, out_path, t0);
  if (a.split != "shots") {
    throw InputError("--split modules applies to --engine frame (the dense engines shard with --shard)");
  }

  DenseOptions opt;
  opt.representation = a.engine == "dm" ? Representation::DensityMatrix : Representation::StateVector;
  if (a.t1_s > 0) opt.t1_s = a.t1_s;
  if (a.t2_s > 0) opt.t2_s = a.t2_s;
  opt.max_batch = a.batch;
  opt.fusion = !a.no_fusion;
  opt.fusion_max_qubits = a.fusion_qubits;
  opt.memory_limit_bytes = static_cast<std::uint64_t>(a.memory_limit_gib * 1073741824.0);
  // Under MPI the ranks split the shots (each shot keeps its global index, its RNG stream, so the
  // samples do not depend on the rank count) when every rank can hold the whole state (the ranks of one
  // node share its memory); otherwise a state vector is sharded over them (or with --shard).
  bool shard = a.shard;
  if (!shard && mpi::size() > 1 && opt.representation == Representation::StateVector) {
    const std::uint64_t avail = opt.memory_limit_bytes ? opt.memory_limit_bytes : device_available_bytes();
    const std::uint64_t need = dense_required_bytes(circuit.num_qubits(), opt.representation, 1);
    const std::uint64_t sharers = static_cast<std::uint64_t>(mpi::ranks_on_this_node());
    if (circuit.num_qubits() < 62 && need > avail / sharers) shard = true;
  }
  if (shard && !reports.empty()) throw InputError("--report is not available on a sharded state yet");
  // Sharded: every rank takes part in every shot; rank 0 writes the rows.
  const mpi::ShotRange mine = shard ? mpi::ShotRange{0, a.shots} : mpi::my_shots(a.shots);
  opt.shard = shard;
  for (const auto& m : a.modules) opt.modules.push_back(parse_qubit_list(m));
  module_layout(circuit.num_qubits(), opt.modules);  // bad module lists fail here
  opt.shots = mine.count;
  opt.first_shot = mine.first;
  opt.seed = a.seed;
  CircuitLinks links;
  if (!a.links.empty() || circuit_uses_links(circuit)) {
    links = circuit_links(a, circuit);
    sample_link_deliveries(links, circuit, a.seed, opt.first_shot, opt.shots);
    opt.links = &links;
  }
  opt.keep_state = a.save_state || !reports.empty();
  const bool tty = isatty(STDERR_FILENO);
  auto last = std::chrono::steady_clock::now();
  opt.progress = [&](std::uint64_t done, std::uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(2) || a.quiet || mpi::rank() != 0) return;
    last = now;
    fmt::print(stderr, "{}qweave: {}/{} shots{}", tty ? "\r" : "", done, total, tty ? "" : "\n");
  };

  if (dry) {
    if (mpi::rank() == 0) fmt::print("{}", dense_plan(circuit, opt));
    return kExitOk;
  }
  // A sharded run reports its layout at start-up: the global qubits and the expected exchanges.
  if (shard && !a.quiet && mpi::rank() == 0) fmt::print("{}", dense_plan(circuit, opt));
  const DenseResult r = run_dense(circuit, opt);
  std::vector<diag::ReportValue> report_values;
  if (!reports.empty()) {
    if (opt.representation == Representation::DensityMatrix) {
      report_values = diag::evaluate_reports(reports, std::span<const cplx>(r.state), r.num_qubits);
    } else {
      DeviceArray<cplx> psi(r.state.size());
      copy_to_device(psi.data(), r.state.data(), r.state.size() * sizeof(cplx));
      report_values = diag::evaluate_reports(reports, psi.data(), r.num_qubits);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (!out_path.empty()) {
    RunAttributes attrs;
    attrs.engine = a.engine;
    attrs.backend = backend_name();
    attrs.precision = kPrecisionName;
    attrs.ranks = mpi::size();
    attrs.seed = a.seed;
    attrs.shots = a.shots;
    attrs.qubits = r.num_qubits;
    attrs.circuit = circuit.source_text;
    ResultFile file(out_path, attrs);
    if (shard) {
      file.write_bits("/measurements", r.measurements.data(), a.shots, r.num_measurements);
    } else {
      file.write_bits_rows("/measurements", r.measurements.data(), mine.first, mine.count, a.shots,
                           r.num_measurements);
    }
    if (a.save_state && opt.representation == Representation::DensityMatrix) {
      file.write_density(r.state.data(), std::uint64_t{1} << r.num_qubits);
    } else if (a.save_state && r.state_is_slab) {
      file.write_amplitudes_slab(r.state.data(), r.state_first, r.state.size(), std::uint64_t{1} << r.num_qubits);
    } else if (a.save_state) {
      file.write_amplitudes(r.state.data(), std::uint64_t{1} << r.num_qubits);
    }
    file.write_summary("wall_time", seconds, "s", "wall-clock time of the run, parse to results");
    const double link_time = opt.links ? mean_link_time(links, a.shots, shard) : 0.0;
    if (opt.links) {
      file.write_summary("link_time_mean_s", link_time, "s",
                         "mean over shots of the summed delivery times of the shot's LINK pairs");
    }
    if (gate_time_s >= 0) {
      file.write_summary("circuit_time_s", gate_time_s, "s",
                         "the circuit's duration on the platform: summed TICK-layer durations");
      file.write_summary("elapsed_time_mean_s", gate_time_s + link_time, "s",
                         "mean time per shot: circuit_time_s plus link_time_mean_s");
    }
    file.write_summary("sampled_from_final_state", r.sampled_from_final_state ? 1.0 : 0.0, "boolean",
                       "1 when all measurements were terminal and every shot was sampled from one "
                       "final state; 0 when the circuit ran once per shot");
    for (const auto& v : report_values) file.write_summary(v.name, v.value, v.units, v.description);
    file.close();
  }

  // Rank 0 prints, with every rank's shots gathered for the histogram.
  DenseResult all;
  const DenseResult* shown = &r;
  if (mpi::size() > 1 && !shard) {
    all = r;
    all.measurements = mpi::gather_to_root(r.measurements);
    shown = &all;
  }
  if (!a.quiet && mpi::rank() == 0) {
    if (mpi::size() > 1) {
      fmt::print("qweave: {} MPI ranks, {}\n", mpi::size(),
                 shard ? "state sharded over them" : "shots split between them");
    }
    fmt::print("qweave sim {}: {} qubits, {} measurement bits per shot, {} shots\n", a.circuit,
               r.num_qubits, r.num_measurements, a.shots);
    fmt::print("  engine {} on {} ({} precision), seed {}, {}\n", a.engine, backend_name(),
               kPrecisionName, a.seed,
               r.sampled_from_final_state
                   ? std::string("all shots sampled from one final state")
                   : fmt::format("one run per shot (mid-circuit measurement or noise), {} at a time",
                                 r.batch));
    print_histogram(*shown, a.shots);
    if (!report_values.empty()) fmt::print("  diagnostics ({}):\n", r.state_point);
    for (const auto& v : report_values) fmt::print("    {} = {:.6g} {}\n", v.name, v.value, v.units);
    fmt::print("  time {:.3f} s{}\n", seconds,
               out_path.empty() ? "" : fmt::format(", results in {}", out_path));
  }
  return kExitOk;
}

}  // namespace qw::cli
