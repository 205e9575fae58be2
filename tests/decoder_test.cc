// Decoders (host/decoder.h): exact MWPM against brute force on small graphs, single faults always
// corrected, logical error rates of repetition codes below p and falling with distance.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "host/decoder.h"
#include "host/dem.h"
#include "host/errors.h"
#include "host/frame_engine.h"
#include "host/generators.h"
#include "host/parse.h"

namespace {
using namespace qw;

// Repetition code memory experiment under circuit noise: data 0, 2, ..., 2(d-1), ancillas between
// them; DEPOLARIZE1 on data before each round, DEPOLARIZE2 after each CX, X_ERROR before
// measurements and after resets.
std::string repetition_code(unsigned d, unsigned rounds, double p) {
  std::string data, anc, cx1, cx2;
  for (unsigned i = 0; i < d; ++i) data += fmt::format(" {}", 2 * i);
  for (unsigned i = 0; i + 1 < d; ++i) {
    anc += fmt::format(" {}", 2 * i + 1);
    cx1 += fmt::format(" {} {}", 2 * i, 2 * i + 1);
    cx2 += fmt::format(" {} {}", 2 * i + 2, 2 * i + 1);
  }
  const unsigned a = d - 1;
  auto round = [&](bool first) {
    std::string s = fmt::format("DEPOLARIZE1({}){}\nCX{}\nDEPOLARIZE2({}){}\nCX{}\nDEPOLARIZE2({}){}\n"
                                "X_ERROR({}){}\nMR{}\nX_ERROR({}){}\n",
                                p, data, cx1, p, cx1, cx2, p, cx2, p, anc, anc, p, anc);
    for (unsigned i = 0; i < a; ++i) {
      s += first ? fmt::format("DETECTOR rec[-{}]\n", a - i)
                 : fmt::format("DETECTOR rec[-{}] rec[-{}]\n", a - i, 2 * a - i);
    }
    return s;
  };
  std::string c = fmt::format("R{}{}\nX_ERROR({}){}{}\n", data, anc, p, data, anc);
  c += round(true);
  if (rounds > 1) c += fmt::format("REPEAT {} {{\n{}}}\n", rounds - 1, round(false));
  c += fmt::format("X_ERROR({}){}\nM{}\n", p, data, data);
  for (unsigned i = 0; i < a; ++i) {
    c += fmt::format("DETECTOR rec[-{}] rec[-{}] rec[-{}]\n", d - i, d - i - 1, d + a - i);
  }
  c += "OBSERVABLE_INCLUDE(0) rec[-1]\n";
  return c;
}

DetectorErrorModel dem_of(const std::string& text) { return detector_error_model(parse_stim(text, "t.stim")); }

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(QWEAVE_TEST_DATA_DIR) + "/decoder/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::uint8_t> packed(std::uint64_t bits, const std::vector<std::uint64_t>& set) {
  std::vector<std::uint8_t> out((bits + 7) / 8, 0);
  for (auto b : set) out[b / 8] ^= static_cast<std::uint8_t>(1u << (b % 8));
  return out;
}

std::uint64_t obs_mask(const std::vector<std::uint64_t>& obs) {
  std::uint64_t m = 0;
  for (auto o : obs) m |= std::uint64_t{1} << o;
  return m;
}

std::vector<std::string> kinds() {
  std::vector<std::string> k = {"union_find"};
  if (have_mwpm_decoder()) k.insert(k.begin(), "mwpm");
  return k;
}

TEST(Decoder, GraphSplitsYErrorsIntoTheirXAndZEdges) {
  DetectorErrorModel dem;
  dem.num_detectors = 5;
  dem.num_observables = 1;
  dem.errors = {{0.01, {0, 1}, {}}, {0.02, {2, 3}, {0}}, {0.03, {4}, {}}, {0.005, {0, 1, 2, 3}, {0}},
                {0.004, {0, 1, 4}, {}}, {0.001, {0, 2, 4}, {0}}};
  const MatchingGraph g = matching_graph(dem);
  EXPECT_EQ(g.hyperedges_decomposed, 2u);
  EXPECT_EQ(g.hyperedges_cut, 1u);  // {0, 2, 4}: no edge 0-2 or 2-4
  auto find = [&](std::uint32_t a, std::uint32_t b) -> const MatchingEdge* {
    for (const auto& e : g.edges) {
      if (e.a == a && e.b == b) return &e;
    }
    return nullptr;
  };
  auto x = [](double p, double q) { return p * (1 - q) + q * (1 - p); };
  ASSERT_TRUE(find(0, 1) && find(2, 3) && find(4, 5));
  EXPECT_NEAR(find(0, 1)->probability, x(x(0.01, 0.005), 0.004), 1e-15);
  EXPECT_NEAR(find(2, 3)->probability, x(0.02, 0.005), 1e-15);
  EXPECT_EQ(find(2, 3)->observables, 1u);
  // The cut one: consecutive pairs, 0-2 (new, with the observable), then 4 to the boundary.
  ASSERT_TRUE(find(0, 2));
  EXPECT_EQ(find(0, 2)->observables, 1u);
  EXPECT_NEAR(find(0, 2)->probability, 0.001, 1e-15);
  EXPECT_NEAR(find(4, 5)->probability, x(x(0.03, 0.004), 0.001), 1e-15);
  EXPECT_NEAR(find(0, 1)->weight, std::log((1 - find(0, 1)->probability) / find(0, 1)->probability), 1e-12);
  // Boundary distances: 4 reaches it directly; 0..3 do not.
  EXPECT_EQ(g.boundary_distance[4], find(4, 5)->weight_units);
  EXPECT_EQ(g.boundary_distance[1], -1);
}

// Every edge subset of a small graph: the lightest one with each syndrome, and the observable masks
// of the subsets that reach it.
struct BruteForce {
  std::vector<std::int64_t> best;                   // per syndrome (bit mask over detectors), -1: none
  std::vector<std::vector<std::uint64_t>> best_obs;  // observables of the subsets at that weight
  std::vector<std::vector<std::pair<std::int64_t, std::uint64_t>>> all;  // every (weight, obs)
};

BruteForce brute_force(const MatchingGraph& g) {
  const std::size_t m = g.edges.size();
  BruteForce b;
  b.best.assign(std::size_t{1} << g.num_detectors, -1);
  b.best_obs.resize(b.best.size());
  b.all.resize(b.best.size());
  for (std::uint64_t subset = 0; subset < (std::uint64_t{1} << m); ++subset) {
    std::uint64_t syndrome = 0, obs = 0;
    std::int64_t w = 0;
    for (std::size_t i = 0; i < m; ++i) {
      if (!((subset >> i) & 1)) continue;
      const MatchingEdge& e = g.edges[i];
      syndrome ^= std::uint64_t{1} << e.a;
      if (e.b != g.boundary()) syndrome ^= std::uint64_t{1} << e.b;
      obs ^= e.observables;
      w += e.weight_units;
    }
    b.all[syndrome].push_back({w, obs});
    if (b.best[syndrome] < 0 || w < b.best[syndrome]) {
      b.best[syndrome] = w;
      b.best_obs[syndrome] = {obs};
    } else if (w == b.best[syndrome]) {
      b.best_obs[syndrome].push_back(obs);
    }
  }
  return b;
}

DetectorErrorModel random_dem(std::mt19937_64& rng, unsigned detectors, unsigned edges, bool boundary) {
  DetectorErrorModel dem;
  dem.num_detectors = detectors;
  dem.num_observables = 2;
  std::uniform_real_distribution<double> p(0.005, 0.3);
  std::uniform_int_distribution<unsigned> node(0, detectors - 1), obs(0, 3);
  for (unsigned i = 0; i < edges; ++i) {
    DemError e;
    e.probability = p(rng);
    const unsigned a = node(rng), b = node(rng);
    if (a == b && !boundary) continue;
    e.detectors = a == b ? std::vector<std::uint64_t>{a} : std::vector<std::uint64_t>{std::min(a, b), std::max(a, b)};
    const unsigned o = obs(rng);
    if (o & 1) e.observables.push_back(0);
    if (o & 2) e.observables.push_back(1);
    dem.errors.push_back(e);
  }
  return dem;
}

TEST(Decoder, MwpmFindsTheLightestCorrectionOnSmallGraphs) {
  if (!have_mwpm_decoder()) GTEST_SKIP() << "built without LEMON";
  std::mt19937_64 rng(7);
  int checked = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const bool boundary = trial % 4 != 3;
    const auto graph = std::make_shared<const MatchingGraph>(matching_graph(random_dem(rng, 7, 12, boundary)));
    if (graph->edges.size() > 16) continue;
    const BruteForce b = brute_force(*graph);
    auto mwpm = make_decoder(graph, "mwpm");             // the all-pairs table
    auto searching = make_mwpm_decoder(graph, 0);        // Dijkstra per shot
    auto uf = make_decoder(graph, "union_find");
    for (std::uint64_t s = 1; s < b.best.size(); ++s) {
      if (b.best[s] < 0) continue;  // no correction has this syndrome
      std::vector<std::uint64_t> fired;
      for (unsigned d = 0; d < graph->num_detectors; ++d) {
        if ((s >> d) & 1) fired.push_back(d);
      }
      const auto dets = packed(graph->num_detectors, fired);
      std::uint8_t obs = 0;
      const double w = mwpm->decode(dets.data(), &obs);
      const double want = static_cast<double>(b.best[s]) / graph->units_per_weight;
      ASSERT_NEAR(w, want, 1e-9) << "trial " << trial << " syndrome " << s;
      std::uint8_t searched_obs = 0;
      ASSERT_NEAR(searching->decode(dets.data(), &searched_obs), want, 1e-9) << "search: trial " << trial;
      EXPECT_NE(std::find(b.best_obs[s].begin(), b.best_obs[s].end(), searched_obs), b.best_obs[s].end());
      const auto& ok = b.best_obs[s];
      EXPECT_NE(std::find(ok.begin(), ok.end(), obs), ok.end()) << "trial " << trial << " syndrome " << s;
      // Union-find: some correction with this syndrome has its weight and observables, at least
      // as heavy as the lightest.
      std::uint8_t uf_obs = 0;
      const double uw = uf->decode(dets.data(), &uf_obs);
      EXPECT_GE(uw, want - 1e-9);
      bool exists = false;
      for (const auto& [cw, co] : b.all[s]) {
        exists |= std::abs(static_cast<double>(cw) / graph->units_per_weight - uw) < 1e-9 && co == uf_obs;
      }
      EXPECT_TRUE(exists) << "union-find: trial " << trial << " syndrome " << s;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
}

// Every mechanism alone is corrected, except at most `hyper_misses` of those flipping more than two
// detectors.
void expect_single_faults_corrected(const DetectorErrorModel& dem, const std::string& what, int hyper_misses = 0,
                                    const std::vector<char>& basis = {}) {
  const auto graph = std::make_shared<const MatchingGraph>(matching_graph(dem, basis));
  EXPECT_EQ(graph->hyperedges_cut, 0u) << what;
  for (const auto& kind : kinds()) {
    auto dec = make_decoder(graph, kind);
    int failures = 0, hyper_failures = 0;
    for (const DemError& e : dem.errors) {
      const auto dets = packed(dem.num_detectors, e.detectors);
      std::vector<std::uint8_t> obs((dem.num_observables + 7) / 8, 0);
      dec->decode(dets.data(), obs.data());
      const std::uint64_t got = obs.empty() ? 0 : obs[0];
      if (got != obs_mask(e.observables) && e.detectors.size() > 2) {
        ++hyper_failures;
      } else if (got != obs_mask(e.observables)) {
        ++failures;
        ADD_FAILURE() << what << " " << kind << ": error(" << e.probability << ") D" << fmt::format("{}", fmt::join(e.detectors, " D"))
                      << " L" << obs_mask(e.observables) << " decoded to observables " << got;
      }
    }
    EXPECT_EQ(failures, 0) << what << " " << kind;
    EXPECT_LE(hyper_failures, hyper_misses) << what << " " << kind;
  }
}

TEST(Decoder, EverySingleFaultIsCorrected) {
  for (unsigned d : {3u, 5u}) {
    expect_single_faults_corrected(dem_of(repetition_code(d, d, 0.001)), fmt::format("repetition d={}", d));
  }
  const auto surface = dem_of(read_data("surface_rotated_memory_x_d3_r3_p0.002.stim"));
  ASSERT_GT(surface.errors.size(), 100u);
  // Y faults on boundary qubits flip one X-type and one Z-type detector: the DEM alone does not
  // tell them from an edge inside one graph (Stim splits them using the circuit), so these edges
  // join the two graphs and a few three-detector faults next to them are matched across
  // (2 of 317 mechanisms for MWPM, 3 for union-find).
  expect_single_faults_corrected(surface, "surface d=3", 3);
  // With the generator's detector types every mechanism is corrected, split seams included.
  for (char basis : {'X', 'Z'}) {
    for (unsigned modules : {1u, 2u}) {
      gen::MemorySpec spec;
      spec.distance = 3;
      spec.rounds = 3;
      spec.basis = basis;
      spec.p = 0.002;
      spec.modules = modules;
      spec.interface_error = modules > 1 ? 0.01 : 0;
      const auto dem = detector_error_model(gen::memory_circuit(spec));
      const auto types = gen::detector_basis(spec);
      EXPECT_GT(matching_graph(dem, types).errors_split_by_type, 0u);
      expect_single_faults_corrected(dem, fmt::format("generated surface d=3 basis {} modules {}", basis, modules), 0,
                                     types);
    }
  }
}

struct Rate {
  double rate, sigma;
};

Rate logical_error_rate(const std::string& circuit, const std::string& kind, std::uint64_t shots, std::uint64_t seed) {
  const Circuit c = parse_stim(circuit, "rep.stim");
  FrameOptions o;
  o.shots = shots;
  o.seed = seed;
  const FrameResult f = run_frames(c, o);
  auto dec = make_decoder(detector_error_model(c), kind);
  const BatchDecodeResult r = decode_batch(*dec, f.detectors.data(), shots, f.observables.data());
  const double rate = static_cast<double>(r.logical_errors) / static_cast<double>(shots);
  return {rate, std::sqrt(std::max(rate, 1.0 / shots) * (1 - rate) / shots)};
}

TEST(Decoder, RepetitionCodeLogicalErrorsFallWithDistance) {
  // p = 0.02 is well below the repetition code's circuit-noise threshold (about 3% here), so the
  // logical error rate per shot falls with d and is below p from d = 5 on.
  const double p = 0.02;
  const std::uint64_t shots = 20000;
  for (const auto& kind : kinds()) {
    const Rate r3 = logical_error_rate(repetition_code(3, 3, p), kind, shots, 1);
    const Rate r5 = logical_error_rate(repetition_code(5, 5, p), kind, shots, 2);
    const Rate r7 = logical_error_rate(repetition_code(7, 7, p), kind, shots, 3);
    SCOPED_TRACE(fmt::format("{}: d=3 {:.4g} d=5 {:.4g} d=7 {:.4g}", kind, r3.rate, r5.rate, r7.rate));
    EXPECT_GT(r3.rate, 0);
    EXPECT_LT(r5.rate + 4 * r5.sigma, p);
    EXPECT_LT(r5.rate + 4 * std::hypot(r5.sigma, r3.sigma), r3.rate);
    EXPECT_LT(r7.rate + 4 * std::hypot(r7.sigma, r5.sigma), r5.rate);
  }
}

TEST(Decoder, MwpmIsNoWorseThanUnionFind) {
  if (!have_mwpm_decoder()) GTEST_SKIP() << "built without LEMON";
  // Same shots decoded by both: MWPM's logical error count is not significantly higher.
  const Circuit c = parse_stim(read_data("surface_rotated_memory_x_d3_r3_p0.002.stim"), "s.stim");
  FrameOptions o;
  o.shots = 50000;
  o.seed = 11;
  const FrameResult f = run_frames(c, o);
  const auto dem = detector_error_model(c);
  const auto m = decode_batch(*make_decoder(dem, "mwpm"), f.detectors.data(), o.shots, f.observables.data());
  const auto u = decode_batch(*make_decoder(dem, "union_find"), f.detectors.data(), o.shots, f.observables.data());
  EXPECT_GT(m.logical_errors, 0u);
  EXPECT_LE(static_cast<double>(m.logical_errors),
            static_cast<double>(u.logical_errors) + 3 * std::sqrt(static_cast<double>(u.logical_errors) + 1));
}

TEST(Decoder, BatchResultsDoNotDependOnThreads) {
  const Circuit c = parse_stim(repetition_code(5, 5, 0.03), "rep.stim");
  FrameOptions o;
  o.shots = 3000;
  const FrameResult f = run_frames(c, o);
  for (const auto& kind : kinds()) {
    auto dec = make_decoder(detector_error_model(c), kind);
    const auto one = decode_batch(*dec, f.detectors.data(), o.shots, f.observables.data(), 1);
    const auto two = decode_batch(*dec, f.detectors.data(), o.shots, f.observables.data(), 2);
    EXPECT_EQ(one.predicted_observables, two.predicted_observables) << kind;
    EXPECT_EQ(one.logical_errors, two.logical_errors) << kind;
    EXPECT_GT(one.thread_s, 0);
  }
}

TEST(Decoder, MwpmTableAndSearchGiveTheSameWeights) {
  if (!have_mwpm_decoder()) GTEST_SKIP() << "built without LEMON";
  gen::MemorySpec spec;
  spec.distance = 5;
  spec.rounds = 5;
  spec.p = 0.006;
  const Circuit c = gen::memory_circuit(spec);
  FrameOptions o;
  o.shots = 500;
  const FrameResult f = run_frames(c, o);
  const auto graph = std::make_shared<const MatchingGraph>(matching_graph(detector_error_model(c), gen::detector_basis(spec)));
  auto table = make_mwpm_decoder(graph);
  auto search = make_mwpm_decoder(graph, 0);
  for (std::uint64_t s = 0; s < o.shots; ++s) {
    std::uint8_t a = 0, b = 0;
    const std::uint8_t* dets = f.detectors.data() + s * f.detector_bytes_per_shot;
    ASSERT_NEAR(table->decode(dets, &a), search->decode(dets, &b), 1e-9) << s;
  }
}

TEST(Decoder, UnknownKindIsAnInputError) {
  EXPECT_THROW(make_decoder(dem_of(repetition_code(3, 1, 0.01)), "bp_osd"), InputError);
  DetectorErrorModel many;
  many.num_observables = 65;
  EXPECT_THROW(matching_graph(many), InputError);
}

}  // namespace
