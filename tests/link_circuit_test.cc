// LINK(name) in circuits (host/link_deliveries.h): pairs from a link experiment, per shot, in the
// frame engine and the dense engines; the qubits that wait decohere for the delivery time.
// Statistics are checked against closed forms within 5 standard errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "host/dense_engine.h"
#include "host/errors.h"
#include "host/experiment.h"
#include "host/frame_engine.h"
#include "host/link_deliveries.h"
#include "host/parse.h"
#include "models/platform.h"

namespace qw {
namespace {

// A Werner source: F = 0.8, success probability 0.05 per attempt of 10 us.
constexpr double kF = 0.8, kP = 0.05, kTau = 1e-5;
CircuitLinks werner_link(double t1, double t2) {
  const Experiment e = parse_experiment(R"([experiment]
kind = "link"
episodes = 1
[link]
source = "werner"
fidelity = 0.8
success_probability = 0.05
attempt_time_s = 1e-5
)", "link.toml");
  CircuitLinks links;
  links.links["ab"] = e.link;
  links.t1_s = t1;
  links.t2_s = t2;
  return links;
}

// Qubit 2 waits in |+> while the link delivers to (0, 1); ZZ and XX of the pair, X of qubit 2.
constexpr const char* kCircuit = R"(RX 2
LINK(ab) 0 1
MZZ 0 1
MXX 0 1
MX 2
DETECTOR rec[-3]
DETECTOR rec[-2]
DETECTOR rec[-1]
)";

// E[(1 - exp(-t/T2)) / 2] for t = n tau, n ~ Geometric(p): the waiting qubit's X flip (Y or Z).
double expected_wait_flip(double t2) {
  const double x = std::exp(-kTau / t2);
  const double mgf = kP * x / (1 - (1 - kP) * x);
  return (1 - mgf) / 2;
}

void expect_rate(double observed, double expected, std::uint64_t shots, const char* what) {
  const double se = std::sqrt(expected * (1 - expected) / static_cast<double>(shots));
  EXPECT_NEAR(observed, expected, 5 * se + 1e-12) << what;
}

TEST(LinkCircuit, ParsesWritesAndComparesByName) {
  const Circuit c = parse_stim("LINK(ab) 0 1 2 3\nREPEAT 2 {\n    LINK(cd) 1 2\n}\nLINK(ab) 4 5\n");
  EXPECT_EQ(c.link_names, std::vector<std::string>{"ab"});
  EXPECT_EQ(c.str(), "LINK(ab) 0 1 2 3\nREPEAT 2 {\n    LINK(cd) 1 2\n}\nLINK(ab) 4 5\n");
  EXPECT_EQ(parse_stim(c.str()), c);
  EXPECT_FALSE(parse_stim("LINK(ab) 0 1\n") == parse_stim("LINK(ba) 0 1\n"));
  CircuitLinks links = werner_link(INFINITY, INFINITY);
  links.links["cd"] = links.links["ab"];
  const auto uses = link_uses(c, links);
  EXPECT_EQ(uses.at("ab"), 3u);  // two pairs on the first line, one on the last
  EXPECT_EQ(uses.at("cd"), 2u);  // REPEAT 2
}

TEST(LinkCircuit, BadNamesAndMissingDefinitionsAreInputErrors) {
  try {
    parse_stim("LINK(1ab) 0 1\n", "c.stim");
    FAIL() << "a name starting with a digit parsed";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("c.stim:1:6"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_stim("LINK(ab 0 1\n"), InputError);
  EXPECT_THROW(parse_stim("LINK 0 1\n"), InputError);
  const Circuit c = parse_stim("H 0\nLINK(xy) 0 1\n", "c.stim");
  try {
    link_uses(c, werner_link(INFINITY, INFINITY));
    FAIL() << "an undefined link was accepted";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("c.stim:2:1"), std::string::npos) << m;
    EXPECT_NE(m.find("--link xy=FILE.toml"), std::string::npos) << m;
  }
  FrameOptions fo;
  fo.shots = 64;
  EXPECT_THROW(run_frames(c, fo), InputError);  // no deliveries given
}

TEST(LinkCircuit, FrameEngineMatchesTheWernerPairAndTheWaitingQubitsDecay) {
  const double t2 = 5e-4;
  CircuitLinks links = werner_link(1e-3, t2);
  const Circuit c = parse_stim(kCircuit);
  const std::uint64_t shots = 100000;
  sample_link_deliveries(links, c, 7, 0, shots);
  ASSERT_EQ(links.elapsed_s.size(), shots);
  double mean_t = 0;
  for (double t : links.elapsed_s) mean_t += t / shots;
  EXPECT_NEAR(mean_t, kTau / kP, 5 * kTau * std::sqrt(1 - kP) / kP / std::sqrt(double(shots)));
  FrameOptions fo;
  fo.shots = shots;
  fo.seed = 7;
  fo.links = &links;
  const FrameResult r = run_frames(c, fo);
  const double psi = 2 * (1 - kF) / 3;  // Psi+ and Psi- flip ZZ; Psi- and Phi- flip XX
  expect_rate(r.detector_flip_counts[0] / double(shots), psi, shots, "ZZ");
  expect_rate(r.detector_flip_counts[1] / double(shots), psi, shots, "XX");
  expect_rate(r.detector_flip_counts[2] / double(shots), expected_wait_flip(t2), shots, "waiting qubit");
  // Without the memory's T1/T2 nothing waits.
  CircuitLinks quiet = werner_link(INFINITY, INFINITY);
  sample_link_deliveries(quiet, c, 7, 0, shots);
  fo.links = &quiet;
  EXPECT_EQ(run_frames(c, fo).detector_flip_counts[2], 0u);
}

TEST(LinkCircuit, DenseEnginesMatchTheSameLaws) {
  const double t2 = 5e-4;
  CircuitLinks links = werner_link(1e-3, t2);
  const Circuit c = parse_stim(kCircuit);
  const std::uint64_t shots = 20000;
  sample_link_deliveries(links, c, 3, 0, shots);
  DenseOptions o;
  o.shots = shots;
  o.seed = 3;
  o.links = &links;
  const DenseResult r = run_dense(c, o);
  double n[3] = {0, 0, 0};
  for (std::uint64_t s = 0; s < shots; ++s)
    for (int k = 0; k < 3; ++k) n[k] += (r.measurements[s * r.bytes_per_shot] >> k) & 1u;
  const double psi = 2 * (1 - kF) / 3;
  expect_rate(n[0] / shots, psi, shots, "ZZ (trajectories)");
  expect_rate(n[1] / shots, psi, shots, "XX (trajectories)");
  expect_rate(n[2] / shots, expected_wait_flip(t2), shots, "waiting qubit (trajectories)");
  // Density matrix: the pair is exact with the mean weights; waiting decay needs trajectories.
  o.representation = Representation::DensityMatrix;
  EXPECT_THROW(run_dense(c, o), InputError);
  CircuitLinks quiet = werner_link(INFINITY, INFINITY);
  sample_link_deliveries(quiet, c, 3, 0, shots);
  o.links = &quiet;
  const DenseResult d = run_dense(c, o);
  double zz = 0;
  for (std::uint64_t s = 0; s < shots; ++s) zz += d.measurements[s * d.bytes_per_shot] & 1u;
  expect_rate(zz / shots, psi, shots, "ZZ (density matrix)");
}

TEST(LinkCircuit, PlatformNoiseKeepsTheLinkNames) {
  // The platform pass rebuilds the circuit: LINK's argument must still name the same link.
  models::Platform p;
  p.gate1_error = 0.01;
  p.gate1_duration_s = 1e-6;
  const Circuit c = parse_stim("H 0\nLINK(ab) 1 2\nREPEAT 2 {\n    LINK(cd) 0 1\n    TICK\n}\n");
  const Circuit noisy = models::add_platform_noise(c, p);
  const std::string text = noisy.str();
  EXPECT_NE(text.find("LINK(ab) 1 2"), std::string::npos) << text;
  EXPECT_NE(text.find("LINK(cd) 0 1"), std::string::npos) << text;
  EXPECT_NE(text.find("DEPOLARIZE1(0.01) 0"), std::string::npos) << text;
}

TEST(LinkCircuit, PlatformDurationSumsLayersAndRepeats) {
  models::Platform p;
  p.gate1_duration_s = 1e-6;
  p.gate2_duration_s = 2e-6;
  p.measure_duration_s = 5e-6;
  // H (1 us) | CX (2 us) | 3 x M (5 us each): 18 us; LINK takes no gate time.
  const Circuit c = parse_stim("H 0\nTICK\nCX 0 1\nLINK(ab) 2 3\nTICK\nREPEAT 3 {\n    M 0\n    TICK\n}\n");
  EXPECT_NEAR(models::circuit_duration_s(c, p), 18e-6, 1e-15);
  // Two 1-qubit gates in a row on one qubit in one layer: 2 us; a parallel gate elsewhere does not add.
  EXPECT_NEAR(models::circuit_duration_s(parse_stim("H 0\nX 0\nH 1\n"), p), 2e-6, 1e-15);
}

TEST(LinkCircuit, CircuitExperimentFilesResolvePathsAndCheckKeys) {
  const Experiment e = parse_experiment(R"([experiment]
kind = "circuit"
circuit = "c.stim"
engine = "frame"
shots = 640
seed = 3
[links]
ab = "links/x.toml"
cd = "/abs/y.toml"
[memory]
t1_s = 2.0
t2_s = 1.0
)", "dir/exp.toml");
  EXPECT_EQ(e.kind, "circuit");
  EXPECT_EQ(e.circuit.circuit, "dir/c.stim");
  EXPECT_EQ(e.circuit.engine, "frame");
  EXPECT_EQ(e.circuit.shots, 640u);
  EXPECT_EQ(e.circuit.links, (std::vector<std::string>{"ab=dir/links/x.toml", "cd=/abs/y.toml"}));
  EXPECT_EQ(e.circuit.t2_s, 1.0);
  EXPECT_THROW(parse_experiment("[experiment]\nkind = \"circuit\"\n", "e.toml"), InputError);  // no circuit
  EXPECT_THROW(parse_experiment("[experiment]\nkind = \"circuit\"\ncircuit = \"c\"\nengine = \"gpu\"\n", "e.toml"),
               InputError);
  EXPECT_THROW(parse_experiment("[experiment]\nkind = \"circuit\"\ncircuit = \"c\"\n[links]\nab = 3\n", "e.toml"),
               InputError);
}

TEST(LinkCircuit, FrameEngineRunsBellPairs) {
  // BELL_PAIR(w) on frames: ZZ flips with w(Psi+) + w(Psi-), XX with w(Psi-) + w(Phi-); a second
  // pair reuses the qubits (the reset must clear the first pair's errors).
  const Circuit c = parse_stim("BELL_PAIR(0.7, 0.1, 0.05, 0.15) 0 1\nBELL_PAIR(0.7, 0.1, 0.05, 0.15) 0 1\n"
                               "MZZ 0 1\nMXX 0 1\nDETECTOR rec[-2]\nDETECTOR rec[-1]\n");
  FrameOptions fo;
  fo.shots = 100000;
  fo.seed = 2;
  const FrameResult r = run_frames(c, fo);
  expect_rate(r.detector_flip_counts[0] / double(fo.shots), 0.15, fo.shots, "ZZ");
  expect_rate(r.detector_flip_counts[1] / double(fo.shots), 0.20, fo.shots, "XX");
}

TEST(LinkCircuit, FrameIdleIsTheTwirledT1T2Channel) {
  // |+> and |0> idle for t: X flips with p_Y + p_Z = (1 - e^{-t/T2})/2, Z-basis flips with
  // p_X + p_Y = gamma/2 = (1 - e^{-t/T1})/2.
  const double t = 1e-3, t1 = 2e-3, t2 = 1e-3;
  const Circuit c = parse_stim("RX 0\nR 1\nIDLE(0.001) 0 1\nMX 0\nM 1\nDETECTOR rec[-2]\nDETECTOR rec[-1]\n");
  FrameOptions fo;
  fo.shots = 200000;
  fo.seed = 5;
  EXPECT_EQ(run_frames(c, fo).detector_flip_counts[0], 0u);  // no T1/T2: IDLE does nothing
  fo.t1_s = t1;
  fo.t2_s = t2;
  const FrameResult r = run_frames(c, fo);
  expect_rate(r.detector_flip_counts[0] / double(fo.shots), (1 - std::exp(-t / t2)) / 2, fo.shots, "X after idling");
  expect_rate(r.detector_flip_counts[1] / double(fo.shots), (1 - std::exp(-t / t1)) / 2, fo.shots, "Z after idling");
}

}  // namespace
}  // namespace qw
