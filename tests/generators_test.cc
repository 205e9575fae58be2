// Circuit generators (host/generators.h, docs/generators.md): detector counts, determinism, noiseless
// runs, the circuit distance from the detector error model, split and GHZ-distributed partitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "host/dem.h"
#include "host/errors.h"
#include "host/frame_engine.h"
#include "host/generators.h"
#include "host/parse.h"

namespace {
using namespace qw;
using gen::MemorySpec;

MemorySpec spec(const std::string& code, unsigned d, unsigned rounds, char basis, double p = 0) {
  MemorySpec s;
  s.code = code;
  s.distance = d;
  s.rounds = rounds;
  s.basis = basis;
  s.p = p;
  return s;
}

std::string label(const MemorySpec& s) {
  return s.code + " d=" + std::to_string(s.distance) + " r=" + std::to_string(s.rounds) + " " + s.basis + " " +
         s.partition + " k=" + std::to_string(s.modules);
}

// Shortest logical error of a DEM seen as a graph: nodes are the detectors with keep[d] plus one
// boundary node; a mechanism is an edge between its (one or two) kept detectors, or to the boundary,
// labelled by whether it flips L0. The answer is the fewest edges in a closed walk of odd L0 parity
// (a set of mechanisms that cancels on every kept detector and flips L0 contains such a cycle), by
// BFS on (node, parity) from every node. Mechanisms with more than two kept detectors are left out
// and counted in *hyperedges.
std::optional<unsigned> graph_distance(const DetectorErrorModel& dem, const std::vector<bool>& keep,
                                       unsigned* hyperedges) {
  const std::size_t n = dem.num_detectors, boundary = n;
  std::vector<std::vector<std::pair<std::size_t, int>>> adj(n + 1);
  *hyperedges = 0;
  std::optional<unsigned> best;
  for (const DemError& e : dem.errors) {
    std::vector<std::size_t> ds;
    for (auto d : e.detectors)
      if (keep[d]) ds.push_back(d);
    const int flips = std::count(e.observables.begin(), e.observables.end(), 0u) % 2;
    if (ds.size() > 2) {
      ++*hyperedges;
      continue;
    }
    if (ds.empty()) {
      if (flips) best = 1;
      continue;
    }
    const std::size_t a = ds[0], b = ds.size() == 2 ? ds[1] : boundary;
    adj[a].push_back({b, flips});
    adj[b].push_back({a, flips});
  }
  for (std::size_t s = 0; s <= n; ++s) {
    if (adj[s].empty()) continue;
    std::vector<std::array<int, 2>> dist(n + 1, {-1, -1});
    std::deque<std::pair<std::size_t, int>> queue{{s, 0}};
    dist[s][0] = 0;
    while (!queue.empty()) {
      const auto [v, par] = queue.front();
      queue.pop_front();
      if (best && static_cast<unsigned>(dist[v][par]) >= *best) break;
      for (const auto& [u, f] : adj[v]) {
        const int q = par ^ f;
        if (dist[u][q] >= 0) continue;
        dist[u][q] = dist[v][par] + 1;
        queue.push_back({u, q});
      }
    }
    if (dist[s][1] > 0 && (!best || static_cast<unsigned>(dist[s][1]) < *best)) best = dist[s][1];
  }
  return best;
}

// The circuit distance, bounded from both sides: below by the graph of the memory-basis detectors only
// (every logical error restricted to them is still one; the test requires that graph to have no
// hyperedges), above by the full graph's graphlike mechanisms (every cycle there is a logical error).
void expect_distance(const MemorySpec& s, unsigned expected) {
  const DetectorErrorModel dem = detector_error_model(gen::memory_circuit(s));
  const std::vector<char> basis = gen::detector_basis(s);
  ASSERT_EQ(basis.size(), dem.num_detectors) << label(s);
  std::vector<bool> same(dem.num_detectors), all(dem.num_detectors, true);
  for (std::size_t d = 0; d < basis.size(); ++d) same[d] = basis[d] == s.basis;
  unsigned hyper_lower = 0, hyper_upper = 0;
  const auto lower = graph_distance(dem, same, &hyper_lower);
  const auto upper = graph_distance(dem, all, &hyper_upper);
  EXPECT_EQ(hyper_lower, 0u) << label(s);
  ASSERT_TRUE(lower && upper) << label(s);
  EXPECT_EQ(*lower, expected) << label(s);
  EXPECT_EQ(*upper, expected) << label(s);
}

std::vector<MemorySpec> all_kinds() {
  std::vector<MemorySpec> out;
  for (const char* code : {"surface", "repetition"})
    for (char b : {'X', 'Z'})
      for (unsigned d : {2u, 3u, 4u, 5u}) {
        out.push_back(spec(code, d, 3, b, 0.001));
        MemorySpec split = spec(code, d, 2, b, 0.001);
        split.modules = 2;
        split.interface_error = 0.01;
        split.interface_idle = 0.001;
        out.push_back(split);
        if (d <= 3) {
          MemorySpec dist = spec(code, d, 2, b, 0.001);
          dist.partition = "distributed";
          dist.bell_fidelity = 0.95;
          out.push_back(dist);
        }
      }
  return out;
}

TEST(Generators, DetectorAndQubitCounts) {
  for (unsigned d : {3u, 5u, 7u})
    for (unsigned r : {1u, 3u, 6u})
      for (char b : {'X', 'Z'}) {
        const Circuit c = gen::memory_circuit(spec("surface", d, r, b));
        EXPECT_EQ(c.num_detectors(), (d * d - 1) * r) << d << " " << r << " " << b;
        EXPECT_EQ(c.num_observables(), 1u);
        EXPECT_EQ(c.num_qubits(), 2 * d * d - 1);
        EXPECT_EQ(c.num_measurements(), (d * d - 1) * r + d * d);
        const Circuit rep = gen::memory_circuit(spec("repetition", d, r, b));
        EXPECT_EQ(rep.num_detectors(), (d - 1) * (r + 1));
        EXPECT_EQ(rep.num_qubits(), 2 * d - 1);
        EXPECT_EQ(gen::detector_basis(spec("surface", d, r, b)).size(), c.num_detectors());
      }
  // GHZ-distributed: per weight-w check w GHZ qubits and w - 1 link qubits.
  MemorySpec s = spec("surface", 3, 2, 'Z');
  s.partition = "distributed";
  const Circuit c = gen::memory_circuit(s);
  EXPECT_EQ(c.num_qubits(), 9u + 4 * (4 + 3) + 4 * (2 + 1));
  EXPECT_EQ(c.num_detectors(), 8u * 2);
}

TEST(Generators, TextHasCoordinatesModulesAndObservable) {
  MemorySpec s = spec("surface", 3, 2, 'Z', 0.001);
  s.modules = 3;
  const std::string t = gen::memory_circuit_text(s);
  EXPECT_NE(t.find("QUBIT_COORDS(1, 1) 0\n"), std::string::npos);
  EXPECT_NE(t.find("# module 2: qubits"), std::string::npos);
  EXPECT_NE(t.find("DETECTOR(0, 2, 0) rec["), std::string::npos);
  EXPECT_NE(t.find("SHIFT_COORDS(0, 0, 1)"), std::string::npos);
  EXPECT_NE(t.find("OBSERVABLE_INCLUDE(0) rec[-9] rec[-8] rec[-7]\n"), std::string::npos);
  // Every detector has three coordinates.
  const DetectorErrorModel dem = detector_error_model(gen::memory_circuit(s));
  for (const auto& c : dem.detector_coords) EXPECT_EQ(c.size(), 3u);
}

TEST(Generators, EveryKindIsDeterministicAndQuietWithoutNoise) {
  for (MemorySpec s : all_kinds()) {
    // detector_error_model throws for a detector or observable that is not deterministic.
    EXPECT_NO_THROW(detector_error_model(gen::memory_circuit(s))) << label(s);
    s.p = 0;
    s.interface_error = 0;
    s.interface_idle = 0;
    s.bell_fidelity = 1;
    const FrameResult r = run_frames(gen::memory_circuit(s), {.shots = 1024, .seed = 3});
    for (std::uint64_t k : r.detector_flip_counts) EXPECT_EQ(k, 0u) << label(s);
    EXPECT_TRUE(std::all_of(r.observables.begin(), r.observables.end(), [](auto b) { return b == 0; }))
        << label(s);
    EXPECT_TRUE(detector_error_model(gen::memory_circuit(s)).errors.empty()) << label(s);
  }
}

// The frame engine and the DEM see flips only; the signs (a stabiliser read as +1, the GHZ parity,
// the feed-forward) are checked on raw records: a stabiliser-tableau reference sample XOR gauge flips
// must satisfy every DETECTOR and leave the observable 0.
TEST(Generators, RawNoiselessRecordsSatisfyEveryDetector) {
  for (MemorySpec s : all_kinds()) {
    s.p = s.interface_error = s.interface_idle = 0;
    s.bell_fidelity = 1;
    s.rounds = 1;  // a flat circuit: detectors evaluated by walking it
    const Circuit c = gen::memory_circuit(s);
    const FrameResult r = run_frames(c, {.shots = 64, .seed = 5, .measurements = true});
    ASSERT_EQ(r.num_measurements, c.num_measurements());
    for (std::uint64_t shot = 0; shot < 64; ++shot) {
      auto bit = [&](std::uint64_t m) {
        return (r.measurements[shot * r.measurement_bytes_per_shot + m / 8] >> (m % 8)) & 1;
      };
      std::uint64_t m = 0;
      int observable = 0;
      for (const Instruction& op : c.instructions()) {
        ASSERT_NE(op.gate, GateId::REPEAT);
        if (op.gate == GateId::DETECTOR || op.gate == GateId::OBSERVABLE_INCLUDE) {
          int parity = 0;
          for (const Target& t : c.targets(op)) parity ^= bit(m - t.value);
          if (op.gate == GateId::DETECTOR) EXPECT_EQ(parity, 0) << label(s) << " shot " << shot;
          else observable ^= parity;
        }
        m += results_of(c, op);
      }
      EXPECT_EQ(observable, 0) << label(s) << " shot " << shot;
    }
  }
}

TEST(Generators, SurfaceAndRepetitionDistanceIsD) {
  for (unsigned d : {2u, 3u, 4u, 5u})
    for (char b : {'X', 'Z'}) {
      expect_distance(spec("surface", d, d, b, 0.001), d);
      expect_distance(spec("repetition", d, d, b, 0.01), d);
    }
}

// The distance check can fail: the same circuit with the two middle CX layers of every round swapped
// (hook errors now run along the logicals, and the checks still commute) has a logical error of 3
// mechanisms at d = 5, which the full graph finds.
TEST(Generators, HookOrderMattersToTheDistanceCheck) {
  for (char b : {'X', 'Z'}) {
    const MemorySpec s = spec("surface", 5, 5, b, 0.001);
    const std::string text = gen::memory_circuit_text(s);
    std::vector<std::string> blocks;
    for (std::size_t start = 0; start < text.size();) {
      const std::size_t end = text.find("TICK\n", start);
      blocks.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 5;
    }
    auto is_cx = [](const std::string& bl) { return bl.find_first_not_of(' ') != std::string::npos &&
                                                    bl.compare(bl.find_first_not_of(' '), 3, "CX ") == 0; };
    std::size_t swapped = 0;
    for (std::size_t i = 0; i + 3 < blocks.size(); ++i)
      if (is_cx(blocks[i]) && is_cx(blocks[i + 1]) && is_cx(blocks[i + 2]) && is_cx(blocks[i + 3])) {
        std::swap(blocks[i + 1], blocks[i + 2]);
        ++swapped;
        i += 3;
      }
    ASSERT_EQ(swapped, 2u);  // round 1 and the REPEAT body
    std::string bad;
    for (std::size_t i = 0; i < blocks.size(); ++i) bad += blocks[i] + (i + 1 < blocks.size() ? "TICK\n" : "");
    const DetectorErrorModel dem = detector_error_model(parse_stim(bad, "swapped.stim"));
    unsigned hyper = 0;
    const auto upper = graph_distance(dem, std::vector<bool>(dem.num_detectors, true), &hyper);
    ASSERT_TRUE(upper);
    EXPECT_EQ(*upper, 3u) << b;
  }
}

TEST(Generators, DistanceSurvivesSplitAndInterfaceNoise) {
  for (unsigned k : {2u, 3u})
    for (char b : {'X', 'Z'}) {
      MemorySpec s = spec("surface", 5, 3, b, 0.001);
      s.modules = k;
      s.interface_error = 0.02;
      s.interface_idle = 0.001;
      expect_distance(s, 5);
    }
}

TEST(Generators, DistributedDistanceIsD) {
  for (unsigned d : {3u, 5u})
    for (char b : {'X', 'Z'}) {
      MemorySpec s = spec("surface", d, 3, b, 0.001);
      s.partition = "distributed";
      s.bell_fidelity = 0.9;
      s.purification_rounds = 1;
      s.interface_idle = 0.001;
      expect_distance(s, d);
      s.code = "repetition";
      expect_distance(s, d);
    }
}

// Every bulk round adds the same mechanisms (shifted in time), so from 3 rounds on (the first and the
// last round differ: no detectors on the first round's other-basis checks, the data measurement after
// the last) the DEM grows linearly in the rounds; and with p it grows only in probability.
TEST(Generators, DemGrowsLinearlyInRounds) {
  for (const char* code : {"surface", "repetition"})
    for (char b : {'X', 'Z'}) {
      std::vector<std::size_t> count;
      for (unsigned r = 3; r <= 7; ++r)
        count.push_back(detector_error_model(gen::memory_circuit(spec(code, 5, r, b, 0.001))).errors.size());
      const std::size_t step = count[1] - count[0];
      EXPECT_GT(step, 0u);
      for (std::size_t i = 1; i + 1 < count.size(); ++i) EXPECT_EQ(count[i + 1] - count[i], step) << code << b;
      // Larger distance, more mechanisms.
      EXPECT_GT(detector_error_model(gen::memory_circuit(spec(code, 7, 2, b, 0.001))).errors.size(), count[0]);
    }
  const auto a = detector_error_model(gen::memory_circuit(spec("surface", 3, 3, 'Z', 0.001)));
  const auto c = detector_error_model(gen::memory_circuit(spec("surface", 3, 3, 'Z', 0.004)));
  ASSERT_EQ(a.errors.size(), c.errors.size());
  for (std::size_t i = 0; i < a.errors.size(); ++i) {
    EXPECT_EQ(a.errors[i].detectors, c.errors[i].detectors);
    EXPECT_GT(c.errors[i].probability, 3 * a.errors[i].probability);
  }
}

TEST(Generators, SplitModulesOwnContiguousColumns) {
  for (unsigned d : {3u, 5u, 7u})
    for (unsigned k = 1; k <= d; ++k) {
      MemorySpec s = spec("surface", d, 2, 'Z');
      s.modules = k;
      const auto mod = gen::module_of_qubit(s);
      ASSERT_EQ(mod.size(), 2 * d * d - 1);
      std::set<unsigned> used(mod.begin(), mod.end());
      EXPECT_EQ(used.size(), k);
      EXPECT_EQ(*used.rbegin(), k - 1);
      for (unsigned y = 0; y < d; ++y)
        for (unsigned x = 0; x + 1 < d; ++x) {
          EXPECT_EQ(mod[y * d + x], mod[x]);                          // a column is in one module
          EXPECT_LE(mod[y * d + x], mod[y * d + x + 1]);              // modules left to right
          EXPECT_LE(mod[y * d + x + 1] - mod[y * d + x], 1u);
        }
    }
}

// With no interface noise a split patch is the monolithic circuit (DEM identical); interface errors
// change only mechanisms whose detectors all lie next to a seam, and only upwards.
TEST(Generators, SplitChangesOnlySeamMechanisms) {
  for (char b : {'X', 'Z'})
    for (unsigned k : {2u, 3u}) {
      const unsigned d = 5;
      const MemorySpec mono = spec("surface", d, 3, b, 0.001);
      MemorySpec s = mono;
      s.modules = k;
      const DetectorErrorModel ref = detector_error_model(gen::memory_circuit(mono));
      EXPECT_EQ(detector_error_model(gen::memory_circuit(s)).str(), ref.str());

      // Seams at the x coordinate between the last column of one module and the first of the next.
      const auto mod = gen::module_of_qubit(s);
      std::vector<double> seams;
      for (unsigned x = 0; x + 1 < d; ++x)
        if (mod[x] != mod[x + 1]) seams.push_back(2.0 * x + 2);
      ASSERT_EQ(seams.size(), k - 1);

      s.interface_error = 0.01;
      const DetectorErrorModel split = detector_error_model(gen::memory_circuit(s));
      std::map<std::pair<std::vector<std::uint64_t>, std::vector<std::uint64_t>>, double> before;
      for (const auto& e : ref.errors) before[{e.detectors, e.observables}] = e.probability;
      std::size_t changed = 0;
      for (const auto& e : split.errors) {
        const auto it = before.find({e.detectors, e.observables});
        const double p0 = it == before.end() ? 0 : it->second;
        if (std::abs(e.probability - p0) <= 1e-15) continue;
        ++changed;
        EXPECT_GT(e.probability, p0);
        for (auto det : e.detectors) {
          const double x = split.detector_coords[det][0];
          const bool near = std::any_of(seams.begin(), seams.end(), [&](double sx) { return std::abs(x - sx) <= 2; });
          EXPECT_TRUE(near) << "D" << det << " at x = " << x << " changed by the interface, b=" << b << " k=" << k;
        }
      }
      EXPECT_GT(changed, 0u);
      // Every mechanism of the monolithic circuit is still there.
      EXPECT_GE(split.errors.size(), ref.errors.size());
    }
}

// The seam's Bell-pair channel is what a teleported CX (the reader's TELEPORTED_CX macro) through a
// Werner pair of fidelity F does: on a Bell state made by the remote CX, XX flips with Z_c or Z_c X_t
// and ZZ with X_t or Z_c X_t, each (1 - F)/3: rates 2(1 - F)/3, both together (1 - F)/3. The generator
// writes it as X_ERROR(q) on the targets, Z_ERROR(q) on the controls and E(q) Z_c X_t per pair; that
// q is read from its text (with p = 0 the only E lines are the seam's).
TEST(Generators, SplitSeamChannelIsATeleportedCxThroughAWernerPair) {
  const double f = 0.91, e = 1 - f;
  MemorySpec s = spec("surface", 3, 2, 'Z');
  s.modules = 2;
  s.bell_fidelity = f;
  const std::string t = gen::memory_circuit_text(s);
  const std::size_t at = t.find("\nE(");
  ASSERT_NE(at, std::string::npos);
  const std::string q = t.substr(at + 3, t.find(')', at) - at - 3);
  const std::string model = "R 0 1\nH 0\nCX 0 1\nX_ERROR(" + q + ") 1\nZ_ERROR(" + q + ") 0\nE(" + q +
                            ") Z0 X1\nMPP X0*X1 Z0*Z1\nDETECTOR rec[-2]\nDETECTOR rec[-1]\n";
  const std::string teleported = "R 0 1 2 3\nH 0 2\nCX 2 3\nDEPOLARIZE1(" + std::to_string(e) +
                                 ") 3\nTELEPORTED_CX 0 1 2 3\nMPP X0*X1 Z0*Z1\nDETECTOR rec[-2]\nDETECTOR rec[-1]\n";
  const std::uint64_t shots = 200000;
  for (const std::string& text : {model, teleported}) {
    const FrameResult r = run_frames(parse_stim(text, "seam.stim"), {.shots = shots, .seed = 9});
    std::uint64_t both = 0;
    for (std::uint64_t k = 0; k < shots; ++k) both += (r.detectors[k] & 3) == 3;
    const double p1 = 2 * e / 3, p2 = e / 3;
    const double tol1 = 5 * std::sqrt(p1 * (1 - p1) / shots), tol2 = 5 * std::sqrt(p2 * (1 - p2) / shots);
    EXPECT_NEAR(double(r.detector_flip_counts[0]) / shots, p1, tol1) << text;
    EXPECT_NEAR(double(r.detector_flip_counts[1]) / shots, p1, tol1) << text;
    EXPECT_NEAR(double(both) / shots, p2, tol2) << text;
  }
  // The E lines sit on the cross-module CNOTs only, one per remote CNOT.
  const auto mod = gen::module_of_qubit(s);
  std::size_t pairs = 0;
  std::istringstream lines(t);
  for (std::string line; std::getline(lines, line);) {
    line.erase(0, line.find_first_not_of(' '));
    if (line.rfind("E(", 0) != 0) continue;
    unsigned c = 0, x = 0;
    ASSERT_EQ(std::sscanf(line.c_str() + line.find(')') + 1, " Z%u X%u", &c, &x), 2) << line;
    EXPECT_NE(mod[c], mod[x]);
    ++pairs;
  }
  // d = 3 cut between columns 1 and 2: the seam checks X(2,0), Z(2,1), X(2,2) (plaquette indices) have
  // their ancillas on the right and 1, 2, 2 data qubits in column 1; written for round 1 and once in
  // the REPEAT body.
  EXPECT_EQ(pairs, 5u * 2);
  expect_distance(s, 3);
}

TEST(Generators, DistributedModulesAndNoise) {
  MemorySpec s = spec("surface", 3, 3, 'Z', 0);
  s.partition = "distributed";
  const auto mod = gen::module_of_qubit(s);
  EXPECT_EQ(std::set<unsigned>(mod.begin(), mod.end()).size(), 9u);
  for (unsigned q = 0; q < 9; ++q) EXPECT_EQ(mod[q], q);
  // Bell-pair noise alone makes detectors fire; purification lowers the rate.
  s.bell_fidelity = 0.9;
  const FrameResult raw = run_frames(gen::memory_circuit(s), {.shots = 20000, .seed = 1});
  s.purification_rounds = 2;
  const FrameResult pur = run_frames(gen::memory_circuit(s), {.shots = 20000, .seed = 1});
  std::uint64_t a = 0, b = 0;
  for (auto k : raw.detector_flip_counts) a += k;
  for (auto k : pur.detector_flip_counts) b += k;
  EXPECT_GT(a, 0u);
  EXPECT_LT(b, a);
}

// The GHZ model quantitatively: a distributed bit-flip repetition code with Bell-pair noise only
// (p = 0). A ZZ check's GHZ pair is |+> fused with one Werner pair, i.e. DEPOLARIZE1(e = 1 - F) on g_1;
// Z or Y there flips the check's value (q = 2e/3), X becomes Z on the data through the CZ and flips
// nothing in a Z memory. So each round's value is wrong independently with q: the first and the final
// detectors fire with q, the ones between two rounds with 2q(1 - q).
TEST(Generators, DistributedCheckErrorsFollowTheBellPairs) {
  MemorySpec s = spec("repetition", 3, 4, 'Z');
  s.partition = "distributed";
  s.bell_fidelity = 0.9;
  const double q = 2 * (1 - s.bell_fidelity) / 3;
  const std::uint64_t shots = 200000;
  const FrameResult r = run_frames(gen::memory_circuit(s), {.shots = shots, .seed = 4});
  ASSERT_EQ(r.num_detectors, 2u * 5);
  for (std::uint64_t d = 0; d < r.num_detectors; ++d) {
    const bool edge = d < 2 || d >= 8;  // round 1 and the final data measurement
    const double expected = edge ? q : 2 * q * (1 - q);
    EXPECT_NEAR(double(r.detector_flip_counts[d]) / shots, expected, 5 * std::sqrt(expected * (1 - expected) / shots))
        << "D" << d;
  }
  EXPECT_TRUE(std::all_of(r.observables.begin(), r.observables.end(), [](auto b) { return b == 0; }));
}

TEST(Generators, PurifiedWernerFidelity) {
  EXPECT_DOUBLE_EQ(gen::purified_werner_fidelity(0.8, 0), 0.8);
  EXPECT_DOUBLE_EQ(gen::purified_werner_fidelity(1.0, 3), 1.0);
  EXPECT_NEAR(gen::purified_werner_fidelity(0.5, 2), 0.5, 1e-15);  // BBPSSW's fixed point
  // One round from F = 0.75, e = (1 - F)/3 = 1/12: (F^2 + e^2)/(F^2 + 2Fe + 5e^2) = (82/144)/(104/144).
  EXPECT_NEAR(gen::purified_werner_fidelity(0.75, 1), 82.0 / 104.0, 1e-15);
  EXPECT_GT(gen::purified_werner_fidelity(0.9, 2), gen::purified_werner_fidelity(0.9, 1));
}

// The disjoint (pX, pY, pZ) of independent X_ERROR(qx), Y_ERROR(qy), Z_ERROR(qz) in sequence.
std::array<double, 3> compose_flips(double qx, double qy, double qz) {
  std::array<double, 4> p{};  // I, X, Y, Z
  for (int fx = 0; fx < 2; ++fx)
    for (int fy = 0; fy < 2; ++fy)
      for (int fz = 0; fz < 2; ++fz) {
        const double w = (fx ? qx : 1 - qx) * (fy ? qy : 1 - qy) * (fz ? qz : 1 - qz);
        // X = (1,0), Y = (1,1), Z = (0,1) as (x, z) bits: the product is the XOR.
        const int x = fx ^ fy, z = fy ^ fz;
        p[x && z ? 2 : x ? 1 : z ? 3 : 0] += w;
      }
  return {p[1], p[2], p[3]};
}

// The X_ERROR, Y_ERROR, Z_ERROR arguments of lines whose targets are exactly `targets`.
std::array<double, 3> flips_on(const std::string& text, const std::string& targets) {
  std::array<double, 3> q{};
  const char* names[3] = {"X_ERROR(", "Y_ERROR(", "Z_ERROR("};
  for (int k = 0; k < 3; ++k)
    for (std::size_t at = text.find(names[k]); at != std::string::npos; at = text.find(names[k], at + 1)) {
      const std::size_t close = text.find(')', at), end = text.find('\n', at);
      if (text.substr(close + 1, end - close - 1) == " " + targets) q[k] = std::stod(text.substr(at + 8, close - at - 8));
    }
  return q;
}

TEST(Generators, PlatformPresetReplacesP) {
  MemorySpec s = spec("surface", 3, 2, 'Z');
  s.platform = "superconducting";
  const std::string t = gen::memory_circuit_text(s);
  EXPECT_NE(t.find("DEPOLARIZE2(0.0033)"), std::string::npos);
  EXPECT_EQ(t.find("PAULI_CHANNEL_1("), std::string::npos);  // written as independent flips
  EXPECT_NE(t.find("X_ERROR(0.0077)"), std::string::npos);
  EXPECT_NO_THROW(detector_error_model(gen::memory_circuit(s)));
  // DEPOLARIZE1 only as the 1-qubit gate error: idling is T1/T2, not SD6.
  for (std::size_t at = t.find("DEPOLARIZE1("); at != std::string::npos; at = t.find("DEPOLARIZE1(", at + 1))
    EXPECT_EQ(t.compare(at, 20, "DEPOLARIZE1(0.00035)"), 0) << t.substr(at, 30);

  // Waiting 10 us for links on a split patch (every qubit waits): amplitude and phase damping
  // twirled to Paulis, pX = pY = (1 - e^(-t/T1))/4, pZ = (1 - e^(-t/T2))/2 - pX, T1 = 68 us,
  // T2 = 89 us (the preset), written as independent X, Y, Z flips that compose to exactly that.
  s.modules = 2;
  s.link_wait_s = 1e-5;
  const std::string waited = gen::memory_circuit_text(s);
  std::string everyone;
  for (unsigned q = 0; q < 17; ++q) everyone += (q ? " " : "") + std::to_string(q);
  const auto q = flips_on(waited, everyone);
  EXPECT_GT(q[0], 0);
  const auto p = compose_flips(q[0], q[1], q[2]);
  const double px = (1 - std::exp(-1e-5 / 68e-6)) / 4, pz = (1 - std::exp(-1e-5 / 89e-6)) / 2 - px;
  EXPECT_NEAR(p[0], px, 1e-12 * px);
  EXPECT_NEAR(p[1], px, 1e-12 * px);
  EXPECT_NEAR(p[2], pz, 1e-12 * pz);
  EXPECT_EQ(flips_on(t, everyone), (std::array<double, 3>{}));
  EXPECT_NO_THROW(detector_error_model(gen::memory_circuit(s)));
}

// Bell pairs per round, counted from the layouts: d = 3 cut after column 1 has 5 remote CNOTs (see the
// seam test); d = 5 cut after column 2 has the seam checks at plaquette column 3: four weight-4 checks
// with 2 data in column 2 and the bottom weight-2 X check with 1; distributed d = 3: 3 fusions for
// each of the 4 weight-4 checks, 1 for each of the 4 weight-2 checks.
TEST(Generators, BellPairsPerRound) {
  MemorySpec s = spec("surface", 3, 2, 'Z');
  EXPECT_EQ(gen::bell_pairs_per_round(s), 0u);
  s.modules = 2;
  EXPECT_EQ(gen::bell_pairs_per_round(s), 5u);
  s.distance = 5;
  EXPECT_EQ(gen::bell_pairs_per_round(s), 9u);
  s = spec("surface", 3, 2, 'X');
  s.partition = "distributed";
  EXPECT_EQ(gen::bell_pairs_per_round(s), 16u);
}

// A Werner source with success probability p per attempt of tau seconds: delivery after a geometric
// number of attempts, so the mean is tau/p and the last of N parallel pairs arrives after
// E[M] = tau sum_k>=0 (1 - (1 - (1-p)^k)^N). The estimate from n episodes is the plug-in mean of the
// largest of N draws; its standard error is at most N sd(M)/sqrt(n) (the first-order term of a
// V-statistic of degree N, whose kernel's projection has variance <= Var M).
TEST(Generators, LinkInterfaceFromTheLinkEngine) {
  const auto dir = std::filesystem::temp_directory_path() / "qweave_gen_link_test";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "werner.toml").string();
  const double p = 0.5, tau = 1e-3, f = 0.9;
  const std::uint64_t n = 100000;
  std::ofstream(file) << "[experiment]\nkind = \"link\"\nepisodes = " << n << "\nseed = 3\n[link]\nsource = \"werner\"\n"
                      << "fidelity = " << f << "\nsuccess_probability = " << p << "\nattempt_time_s = " << tau << "\n";
  for (unsigned pairs : {1u, 10u}) {
    const gen::LinkInterface li = gen::link_interface(file, pairs);
    EXPECT_EQ(li.episodes, n);
    EXPECT_NEAR(li.bell_fidelity, f, 1e-9);
    const double sd_attempts = std::sqrt(1 - p) / p;
    EXPECT_NEAR(li.mean_time_s, tau / p, 5 * tau * sd_attempts / std::sqrt(double(n)));
    double em = 0, em2 = 0;
    for (int k = 0; k < 200; ++k) {
      const double above = 1 - std::pow(1 - std::pow(1 - p, k), pairs);  // P(M > k), M in attempts
      em += above;
      em2 += (2 * k + 1) * above;
    }
    const double sd = std::sqrt(em2 - em * em);
    EXPECT_NEAR(li.round_wait_s, tau * em, 5 * tau * pairs * sd / std::sqrt(double(n))) << pairs;
    if (pairs == 1) EXPECT_NEAR(li.round_wait_s, li.mean_time_s, 1e-12 * li.mean_time_s);
  }

  // In a circuit: the same detector error model as the numbers given by hand.
  MemorySpec s = spec("surface", 3, 2, 'Z');
  s.platform = "superconducting";
  s.modules = 2;
  s.link = file;
  const gen::LinkInterface li = gen::link_interface(file, gen::bell_pairs_per_round(s));
  MemorySpec by_hand = s;
  by_hand.link.clear();
  by_hand.bell_fidelity = li.bell_fidelity;
  by_hand.link_wait_s = li.round_wait_s;
  EXPECT_EQ(detector_error_model(gen::memory_circuit(s)).str(), detector_error_model(gen::memory_circuit(by_hand)).str());
  EXPECT_NE(gen::memory_circuit_text(s).find("from link"), std::string::npos);

  auto error = [](MemorySpec m) {
    try {
      gen::memory_circuit_text(m);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  MemorySpec bad = s;
  bad.platform.clear();
  EXPECT_NE(error(bad).find("needs a platform"), std::string::npos);
  bad = s;
  bad.bell_fidelity = 0.9;
  EXPECT_NE(error(bad).find("either the link or"), std::string::npos);
  bad = s;
  bad.modules = 1;
  EXPECT_NE(error(bad).find("no Bell pairs"), std::string::npos);
  bad = s;
  bad.link = (dir / "missing.toml").string();
  EXPECT_NE(error(bad).find("cannot open"), std::string::npos);
  std::filesystem::remove_all(dir);
}

std::string error_of(const MemorySpec& s) {
  try {
    gen::memory_circuit_text(s);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Generators, BadSpecsAreInputErrors) {
  auto with = [](auto f) {
    MemorySpec s;
    f(s);
    return error_of(s);
  };
  EXPECT_NE(with([](MemorySpec& s) { s.code = "color"; }).find("code 'color'"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.distance = 1; }).find("distance 1"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.rounds = 0; }).find("rounds 0"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.basis = 'Y'; }).find("basis 'Y'"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.p = 1.5; }).find("p 1.5"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.interface_error = -0.1; }).find("interface_error"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.modules = 4; }).find("modules 4"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.modules = 0; }).find("modules 0"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.partition = "star"; }).find("partition 'star'"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.partition = "distributed"; s.modules = 3; }).find("modules 3"),
            std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.bell_fidelity = 0.2; }).find("bell_fidelity"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.platform = "superconducting"; s.p = 0.001; }).find("platform"),
            std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.platform = "no_such_preset"; }).find("no_such_preset"), std::string::npos);
  EXPECT_NE(with([](MemorySpec& s) { s.link_wait_s = 1e-6; }).find("link_wait_s"), std::string::npos);
  EXPECT_EQ(with([](MemorySpec&) {}), "");
}

// examples/surface_split.stim is `qweave gen surface -d 5 -r 5 -p 0.001 --modules 2
// --interface-error 0.005 --bell-fidelity 0.98`: regenerate it when the generator changes on purpose.
TEST(Generators, ExampleIsCurrent) {
  std::ifstream in(std::string(QWEAVE_SOURCE_DIR) + "/examples/surface_split.stim");
  std::stringstream text;
  text << in.rdbuf();
  MemorySpec s = spec("surface", 5, 5, 'Z', 0.001);
  s.modules = 2;
  s.interface_error = 0.005;
  s.bell_fidelity = 0.98;
  EXPECT_TRUE(text.str() == gen::memory_circuit_text(s))
      << "examples/surface_split.stim is not what the generator writes now; regenerate it with the command above";
}

struct CmdResult {
  int status;
  std::string out;
};

CmdResult run_qweave(const std::string& args) {
  const std::string cmd = std::string(QWEAVE_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  CmdResult r{-1, {}};
  if (!p) return r;
  char buf[4096];
  while (std::size_t k = fread(buf, 1, sizeof buf, p)) r.out.append(buf, k);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(GeneratorsCli, WritesTheApiText) {
  const auto dir = std::filesystem::temp_directory_path() / "qweave_gen_cli_test";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "s.stim").string();
  const CmdResult r = run_qweave("gen surface --distance 5 --rounds 4 --basis x --p 0.001 --modules 2 "
                                 "--interface-error 0.01 -o " + file);
  EXPECT_EQ(r.status, 0) << r.out;
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  MemorySpec s = spec("surface", 5, 4, 'X', 0.001);
  s.modules = 2;
  s.interface_error = 0.01;
  EXPECT_EQ(text.str(), gen::memory_circuit_text(s));
  const CmdResult out = run_qweave("gen repetition -d 3 -r 1");
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.out, gen::memory_circuit_text(spec("repetition", 3, 1, 'Z')));
  std::filesystem::remove_all(dir);

  const CmdResult bad = run_qweave("gen surface --distance 1");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("distance 1"), std::string::npos) << bad.out;
  EXPECT_EQ(run_qweave("gen surface --basis XZ").status, 2);
  EXPECT_EQ(run_qweave("gen surface --partition distributed --modules 4").status, 2);
}

}  // namespace
