// The Pauli-frame engine: every Clifford's frame action against the Pauli conjugation computed here
// from explicit matrices, noiseless circuits with zero detection events, analytic detector rates of
// the repetition code, agreement with the dense engine on random noisy Clifford circuits, identical
// bits for any thread count and word split, and errors with locations.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <complex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "host/dense_engine.h"
#include "host/errors.h"
#include "host/frame_engine.h"
#include "host/parse.h"

namespace {
using namespace qw;
using cd = std::complex<double>;
using Dense = std::vector<cd>;  // row-major square matrix
const cd kI(0, 1);

Dense sigma(int c) {  // I, X, Y, Z
  switch (c) {
    case 1: return {0, 1, 1, 0};
    case 2: return {0, -kI, kI, 0};
    case 3: return {1, 0, 0, -1};
    default: return {1, 0, 0, 1};
  }
}
Dense kron(const Dense& on_q1, const Dense& on_q0) {  // index bit 0 = q0
  Dense m(16);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) m[r * 4 + c] = on_q0[(r & 1) * 2 + (c & 1)] * on_q1[(r >> 1) * 2 + (c >> 1)];
  return m;
}
Dense mul(const Dense& a, const Dense& b) {
  const std::size_t d = static_cast<std::size_t>(std::lround(std::sqrt(a.size())));
  Dense m(d * d);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t k = 0; k < d; ++k)
      for (std::size_t j = 0; j < d; ++j) m[i * d + j] += a[i * d + k] * b[k * d + j];
  return m;
}
Dense adj(const Dense& a) {
  const std::size_t d = static_cast<std::size_t>(std::lround(std::sqrt(a.size())));
  Dense m(d * d);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j) m[j * d + i] = std::conj(a[i * d + j]);
  return m;
}
// a = phase * b for some unit phase
bool equal_up_to_phase(const Dense& a, const Dense& b) {
  std::size_t big = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (std::abs(b[i]) > std::abs(b[big])) big = i;
  }
  const cd phase = a[big] / b[big];
  if (std::abs(std::abs(phase) - 1) > 1e-9) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::abs(a[i] - phase * b[i]) > 1e-9) return false;
  }
  return true;
}
// Frame bits (x, z) of Pauli code c (I, X, Y, Z).
unsigned bits_of(int c) { return (c == 1 || c == 2 ? 1u : 0u) | (c >= 2 ? 2u : 0u); }

// Expected GF(2) rows from U sigma U^dag, by matching against all Pauli products.
std::optional<frame::Gf2Map> expected_action(GateId g, const std::vector<double>& args) {
  const unsigned n = gate_info(g).group;
  const auto mat = gate_matrix(g, args);
  const Dense u(mat.begin(), mat.end());
  frame::Gf2Map m{};
  // Generators in the order x0, z0, x1, z1 as Pauli matrices.
  std::vector<Dense> gens;
  if (n == 1) {
    gens = {sigma(1), sigma(3)};
  } else {
    gens = {kron(sigma(0), sigma(1)), kron(sigma(0), sigma(3)), kron(sigma(1), sigma(0)), kron(sigma(3), sigma(0))};
  }
  for (unsigned i = 0; i < gens.size(); ++i) {
    const Dense v = mul(mul(u, gens[i]), adj(u));
    bool found = false;
    for (int a = 0; a < 4 && !found; ++a) {
      for (int b = 0; b < (n == 1 ? 1 : 4) && !found; ++b) {
        const Dense q = n == 1 ? sigma(a) : kron(sigma(b), sigma(a));  // a on qubit 0, b on qubit 1
        if (!equal_up_to_phase(v, q)) continue;
        found = true;
        const unsigned img = bits_of(a) | (bits_of(b) << 2);
        for (unsigned j = 0; j < 2 * n; ++j) {
          if ((img >> j) & 1) m.rows[j] |= static_cast<std::uint8_t>(1u << i);
        }
      }
    }
    if (!found) return std::nullopt;
  }
  return m;
}

TEST(FrameEngine, EveryCliffordGateActionMatchesPauliConjugation) {
  int cliffords = 0;
  for (const GateInfo& info : all_gates()) {
    if (info.kind != GateKind::Unitary || info.group == 0 || info.group > 2) continue;
    std::vector<double> args(static_cast<std::size_t>(info.min_args), 0.3);
    const auto want = expected_action(info.id, args);
    const auto got = clifford_frame_action(info.id, args);
    ASSERT_EQ(want.has_value(), got.has_value()) << info.name;
    EXPECT_EQ(!got.has_value(), (info.flags & kNonClifford) != 0) << info.name;
    if (!got) continue;
    ++cliffords;
    for (unsigned j = 0; j < 2 * info.group; ++j) EXPECT_EQ(got->rows[j], want->rows[j]) << info.name << " row " << j;
  }
  EXPECT_EQ(cliffords, 46);  // Stim's 1- and 2-qubit unitaries incl. I and II
  // Every alias of a Stim Clifford resolves to a gate with a frame action.
  for (const char* alias : {"H_XZ", "SQRT_Z", "SQRT_Z_DAG", "CNOT", "ZCX", "ZCY", "ZCZ", "SWAPCZ", "SX"}) {
    const GateInfo* g = find_gate(alias, 0);
    ASSERT_NE(g, nullptr) << alias;
    EXPECT_TRUE(clifford_frame_action(g->id, {}).has_value()) << alias;
  }
  // Rotations by multiples of pi/2 are Clifford; the action is the one of the matrix.
  const std::vector<double> quarter = {M_PI / 2};
  EXPECT_TRUE(clifford_frame_action(GateId::ROT_X, quarter).has_value());
  const auto rzz = clifford_frame_action(GateId::ROT_ZZ, quarter);
  ASSERT_TRUE(rzz.has_value());
  const auto sqrt_zz = clifford_frame_action(GateId::SQRT_ZZ, {});
  for (int j = 0; j < 4; ++j) EXPECT_EQ(rzz->rows[j], sqrt_zz->rows[j]);
  // Spot checks against the textbook: H swaps x and z; CX: x1 ^= x0, z0 ^= z1.
  const auto h = clifford_frame_action(GateId::H, {});
  EXPECT_EQ(h->rows[0], 2);
  EXPECT_EQ(h->rows[1], 1);
  const auto cx = clifford_frame_action(GateId::CX, {});
  EXPECT_EQ(cx->rows[0], 0b0001);
  EXPECT_EQ(cx->rows[1], 0b1010);
  EXPECT_EQ(cx->rows[2], 0b0101);
  EXPECT_EQ(cx->rows[3], 0b1000);
}

// Distance-d repetition code memory, `rounds` noisy rounds; X_ERROR(p) on the data before every
// round and before the final data measurement.
std::string repetition_code(int d, int rounds, double p) {
  std::string data, anc, cx1, cx2, first_dets, dets, final_dets;
  for (int i = 0; i < d; ++i) data += fmt::format(" {}", 2 * i);
  for (int i = 0; i + 1 < d; ++i) {
    anc += fmt::format(" {}", 2 * i + 1);
    cx1 += fmt::format(" {} {}", 2 * i, 2 * i + 1);
    cx2 += fmt::format(" {} {}", 2 * i + 2, 2 * i + 1);
    first_dets += fmt::format("DETECTOR rec[-{}]\n", d - 1 - i);
    dets += fmt::format("DETECTOR rec[-{}] rec[-{}]\n", d - 1 - i, 2 * (d - 1) - i);
    // Data i and i+1 (at rec[-(d-i)] and rec[-(d-i-1)]) vs the last syndrome of ancilla i.
    final_dets += fmt::format("DETECTOR rec[-{}] rec[-{}] rec[-{}]\n", d - i, d - i - 1, d + (d - 1) - i);
  }
  const std::string noise = p > 0 ? fmt::format("X_ERROR({})", p) + data + "\n" : "";
  std::string s = "R" + data + anc + "\n";
  s += "CX" + cx1 + "\nCX" + cx2 + "\nMR" + anc + "\n" + first_dets;
  s += fmt::format("REPEAT {} {{\n", rounds) + noise + "CX" + cx1 + "\nCX" + cx2 + "\nMR" + anc + "\n" + dets + "}\n";
  s += noise + "M" + data + "\n" + final_dets + "OBSERVABLE_INCLUDE(0) rec[-1]\n";
  return s;
}

std::vector<int> unpack(const std::vector<std::uint8_t>& bytes, std::uint64_t bytes_per_shot, std::uint64_t shot,
                        std::uint64_t bits) {
  std::vector<int> out(bits);
  for (std::uint64_t b = 0; b < bits; ++b) out[b] = (bytes[shot * bytes_per_shot + b / 8] >> (b % 8)) & 1;
  return out;
}

TEST(FrameEngine, NoiselessRepetitionCodeHasNoDetectionEvents) {
  const Circuit c = parse_stim(repetition_code(5, 20, 0), "rep.stim");
  FrameOptions o;
  o.shots = 1000;
  o.seed = 7;
  const auto r = run_frames(c, o);
  EXPECT_EQ(r.num_detectors, 4u + 20u * 4u + 4u);
  EXPECT_EQ(r.num_observables, 1u);
  ASSERT_EQ(r.detectors.size(), o.shots * r.detector_bytes_per_shot);
  for (auto b : r.detectors) ASSERT_EQ(b, 0);
  for (auto b : r.observables) ASSERT_EQ(b, 0);
  for (auto n : r.detector_flip_counts) ASSERT_EQ(n, 0u);
}

// Random Clifford layers followed by their inverses, with bases and products measured between:
// every detector is deterministic, so a noiseless run must have none fire (the randomised gauge of
// collapses must never leak into a detector).
std::vector<GateId> clifford_gates(unsigned group) {
  std::vector<GateId> out;
  for (const GateInfo& info : all_gates()) {
    if (info.kind == GateKind::Unitary && info.group == group && !(info.flags & kNonClifford) &&
        info.id != GateId::I && info.id != GateId::II) {
      out.push_back(info.id);
    }
  }
  return out;
}
GateId inverse_of(GateId g) {
  const auto u = gate_matrix(g, {});
  const Dense want = adj(Dense(u.begin(), u.end()));
  for (GateId h : clifford_gates(gate_info(g).group)) {
    const auto v = gate_matrix(h, {});
    if (equal_up_to_phase(Dense(v.begin(), v.end()), want)) return h;
  }
  ADD_FAILURE() << "no inverse for " << gate_info(g).name;
  return g;
}

// A random noisy Clifford circuit on n qubits with deterministic detectors; `noise` scales every
// probability (0: the noiseless reference with the same record layout).
std::string random_circuit(std::mt19937_64& rng, unsigned n, int layers, double noise) {
  const auto g1 = clifford_gates(1), g2 = clifford_gates(2);
  std::uniform_int_distribution<unsigned> pick_q(0, n - 1);
  std::uniform_real_distribution<double> u01(0, 1);
  auto pair = [&] {
    unsigned a = pick_q(rng), b = pick_q(rng);
    while (b == a) b = pick_q(rng);
    return std::make_pair(a, b);
  };
  auto noise_line = [&]() -> std::string {
    const double p = noise * (0.02 + 0.08 * u01(rng));
    const auto [a, b] = pair();
    switch (rng() % 9) {
      case 0: return fmt::format("X_ERROR({}) {}\n", p, a);
      case 1: return fmt::format("Y_ERROR({}) {}\n", p, a);
      case 2: return fmt::format("Z_ERROR({}) {}\n", p, a);
      case 3: return fmt::format("DEPOLARIZE1({}) {} {}\n", p, a, b);
      case 4: return fmt::format("DEPOLARIZE2({}) {} {}\n", p, a, b);
      case 5: return fmt::format("PAULI_CHANNEL_1({}, {}, {}) {}\n", p / 2, p / 3, p, a);
      case 6: {
        std::string args;
        for (int k = 0; k < 15; ++k) args += fmt::format("{}{}", k ? ", " : "", p / 15 * (k % 4 + 1) / 2.5);
        return fmt::format("PAULI_CHANNEL_2({}) {} {}\n", args, a, b);
      }
      case 7: return fmt::format("E({}) X{} Z{}\nELSE_CORRELATED_ERROR({}) Y{}\n", p, a, b, 2 * p, b);
      default: return fmt::format("HERALDED_ERASE({}) {}\nHERALDED_PAULI_CHANNEL_1({}, {}, {}, {}) {}\n", p, a,
                                  p / 4, p / 4, p / 4, p / 4, b);
    }
  };
  std::string s = "R";
  for (unsigned q = 0; q < n; ++q) s += fmt::format(" {}", q);
  s += "\n";
  std::vector<std::string> undo;
  for (int l = 0; l < layers; ++l) {
    if (rng() % 3 == 0) {
      const GateId g = g1[rng() % g1.size()];
      const unsigned a = pick_q(rng);
      s += fmt::format("{} {}\n", gate_info(g).name, a);
      undo.push_back(fmt::format("{} {}\n", gate_info(inverse_of(g)).name, a));
    } else {
      const GateId g = g2[rng() % g2.size()];
      const auto [a, b] = pair();
      s += fmt::format("{} {} {}\n", gate_info(g).name, a, b);
      undo.push_back(fmt::format("{} {} {}\n", gate_info(inverse_of(g)).name, a, b));
    }
    s += noise_line();
  }
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) s += *it;
  // Back in |0...0>: a Bell pair on (0, 1) measured by products, a random-outcome measurement fed
  // forward, then every qubit in Z.
  s += "H 0\nCX 0 1\n" + noise_line();
  s += fmt::format("MXX({}) 0 1\nMZZ 0 1\nMYY 0 1\nMPP X0*X1 Z0*Z1\n", noise * 0.03);
  s += "DETECTOR rec[-1] rec[-4]\nDETECTOR rec[-2] rec[-5]\nDETECTOR rec[-3]\nCX 0 1\nH 0\n";
  s += "MX 2\nCZ rec[-1] 2\n" + noise_line() + "MX 2\nDETECTOR rec[-1]\nH 2\n";  // random MX, fixed to |+>
  s += fmt::format("RY 3\nMY({}) 3\nDETECTOR rec[-1]\nMRY 3\nDETECTOR rec[-1]\nRX 3\nMRX 3\nDETECTOR rec[-1]\n", noise * 0.05);
  s += "H 3\nM 0 1 2 3\n";
  for (unsigned q = 0; q < n; ++q) s += fmt::format("DETECTOR rec[-{}]\n", q + 1);
  return s;
}

TEST(FrameEngine, NoiselessRandomCliffordCircuitsHaveNoDetectionEvents) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 30; ++trial) {
    const std::string text = random_circuit(rng, 4, 40, 0);
    const Circuit c = parse_stim(text, "random.stim");
    FrameOptions o;
    o.shots = 256;
    o.seed = static_cast<std::uint64_t>(trial);
    const auto r = run_frames(c, o);
    for (auto n : r.detector_flip_counts) ASSERT_EQ(n, 0u) << text;
  }
}

// Repetition code with X_ERROR(p) before each of R rounds and before the final measurement: a
// detector compares two syndromes (or the last syndrome with the data), which differ by the errors
// on its two data qubits in between, so it fires with 2p(1-p) in every noisy round and never in the
// first; the observable (data qubit 0) flips with (1 - (1-2p)^(R+1)) / 2.
TEST(FrameEngine, RepetitionCodeDetectorRatesMatchAnalytic) {
  const int d = 5, rounds = 6;
  const double p = 0.04;
  const Circuit c = parse_stim(repetition_code(d, rounds, p), "rep.stim");
  FrameOptions o;
  o.shots = 100000;
  o.seed = 2024;
  const auto r = run_frames(c, o);
  const double n = static_cast<double>(o.shots);
  for (std::uint64_t k = 0; k < r.num_detectors; ++k) {
    const double want = k < static_cast<std::uint64_t>(d - 1) ? 0.0 : 2 * p * (1 - p);
    const double got = static_cast<double>(r.detector_flip_counts[k]) / n;
    if (want == 0) {
      EXPECT_EQ(r.detector_flip_counts[k], 0u) << "detector " << k;
    } else {
      EXPECT_NEAR(got, want, 5 * std::sqrt(want * (1 - want) / n)) << "detector " << k;
    }
  }
  // Flip counts agree with the packed bits.
  std::uint64_t ones = 0, obs = 0;
  for (std::uint64_t s = 0; s < o.shots; ++s) {
    ones += unpack(r.detectors, r.detector_bytes_per_shot, s, r.num_detectors)[d - 1];
    obs += r.observables[s] & 1;
  }
  EXPECT_EQ(ones, r.detector_flip_counts[d - 1]);
  const double want_obs = (1 - std::pow(1 - 2 * p, rounds + 1)) / 2;
  EXPECT_NEAR(static_cast<double>(obs) / n, want_obs, 5 * std::sqrt(want_obs * (1 - want_obs) / n));
}

// Detector record indices of a circuit, REPEAT blocks included.
void detector_records(const Circuit& c, std::uint64_t& m, std::vector<std::vector<std::uint64_t>>& out) {
  for (const Instruction& op : c.instructions()) {
    if (op.gate == GateId::REPEAT) {
      for (std::uint64_t i = 0; i < op.repeat_count; ++i) detector_records(c.block(op), m, out);
      continue;
    }
    if (op.gate == GateId::DETECTOR) {
      out.emplace_back();
      for (const Target& t : c.targets(op)) out.back().push_back(m - t.value);
    }
    m += results_of(c, op);
  }
}

// Detector fire counts of a dense run: XOR of the listed records, relative to the noiseless run.
std::vector<double> dense_detector_rates(const std::string& noisy, const std::string& noiseless,
                                         std::uint64_t shots, std::uint64_t seed) {
  const Circuit c = parse_stim(noisy, "dense.stim");
  std::uint64_t m = 0;
  std::vector<std::vector<std::uint64_t>> dets;
  detector_records(c, m, dets);
  DenseOptions ref_o;
  ref_o.shots = 1;
  const auto ref = run_dense(parse_stim(noiseless, "ref.stim"), ref_o);
  DenseOptions o;
  o.shots = shots;
  o.seed = seed;
  const auto r = run_dense(c, o);
  EXPECT_EQ(r.num_measurements, m);
  std::vector<double> rate(dets.size(), 0.0);
  auto bit = [&](const std::vector<std::uint8_t>& rec, std::uint64_t shot, std::uint64_t k) {
    return (rec[shot * r.bytes_per_shot + k / 8] >> (k % 8)) & 1;
  };
  for (std::uint64_t s = 0; s < shots; ++s) {
    for (std::size_t d = 0; d < dets.size(); ++d) {
      int v = 0;
      for (auto k : dets[d]) v ^= bit(r.measurements, s, k) ^ bit(ref.measurements, 0, k);
      rate[d] += v;
    }
  }
  for (auto& x : rate) x /= static_cast<double>(shots);
  return rate;
}

void expect_rates_agree(const std::vector<double>& a, double na, const std::vector<double>& b, double nb,
                        const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t d = 0; d < a.size(); ++d) {
    const double pooled = (a[d] * na + b[d] * nb) / (na + nb);
    if (pooled == 0) continue;
    const double sigma = std::sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
    EXPECT_NEAR(a[d], b[d], 5 * sigma) << what << "\ndetector " << d;
  }
}

std::vector<double> frame_rates(const std::string& text, std::uint64_t shots, std::uint64_t seed) {
  FrameOptions o;
  o.shots = shots;
  o.seed = seed;
  const auto r = run_frames(parse_stim(text, "frame.stim"), o);
  std::vector<double> rate;
  for (auto n : r.detector_flip_counts) rate.push_back(static_cast<double>(n) / static_cast<double>(shots));
  return rate;
}

TEST(FrameEngine, AgreesWithDenseEngineOnNoisyCliffordCircuits) {
  const std::uint64_t dense_shots = 8000, frame_shots = 100000;
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 6; ++trial) {
    std::mt19937_64 copy = rng;
    const std::string noisy = random_circuit(rng, 4, 12, 1.0);
    const std::string noiseless = random_circuit(copy, 4, 12, 0.0);
    expect_rates_agree(frame_rates(noisy, frame_shots, 100 + trial), static_cast<double>(frame_shots),
                       dense_detector_rates(noisy, noiseless, dense_shots, 200 + trial),
                       static_cast<double>(dense_shots), noisy);
  }
  // The repetition code with measurement noise, depolarising noise and REPEAT.
  std::string rep = repetition_code(3, 3, 0.05);
  std::string rep_noisy = rep;
  for (auto at = rep_noisy.find("MR 1 3"); at != std::string::npos; at = rep_noisy.find("MR 1 3", at + 30)) {
    rep_noisy.replace(at, 6, "DEPOLARIZE1(0.03) 0 2 4\nMR(0.02) 1 3");
  }
  expect_rates_agree(frame_rates(rep_noisy, frame_shots, 1), static_cast<double>(frame_shots),
                     dense_detector_rates(rep_noisy, repetition_code(3, 3, 0), dense_shots, 2),
                     static_cast<double>(dense_shots), rep_noisy);
}

TEST(FrameEngine, SameBitsForAnyThreadCountAndWordSplit) {
  const Circuit c = parse_stim(repetition_code(3, 4, 0.1), "rep.stim");
  FrameOptions o;
  o.shots = 64 * 20000;  // above kSerialBelow words: the parallel path runs
  o.seed = 99;
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one = run_frames(c, o);
  omp_set_num_threads(2);
  const auto two = run_frames(c, o);
  omp_set_num_threads(saved);
  EXPECT_EQ(one.detectors, two.detectors);
  EXPECT_EQ(one.observables, two.observables);
  EXPECT_EQ(one.detector_flip_counts, two.detector_flip_counts);

  // A run of words [3, 7) gives the same bits as those shots of the whole run.
  FrameOptions part = o;
  part.first_shot = 64 * 3;
  part.shots = 64 * 4 - 5;
  const auto sub = run_frames(c, part);
  const std::uint64_t B = one.detector_bytes_per_shot;
  ASSERT_EQ(sub.detectors.size(), part.shots * B);
  for (std::uint64_t i = 0; i < sub.detectors.size(); ++i) {
    ASSERT_EQ(sub.detectors[i], one.detectors[part.first_shot * B + i]) << i;
  }
  part.first_shot = 5;
  EXPECT_THROW(run_frames(c, part), std::invalid_argument);
}

void expect_input_error(const std::string& text, const std::string& where, const std::string& what) {
  try {
    run_frames(parse_stim(text, "bad.stim"), FrameOptions{});
    ADD_FAILURE() << "no error for\n" << text;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.stim:" + where), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST(FrameEngine, RejectsNonCliffordGatesAndNonPauliNoiseWithLocations) {
  expect_input_error("H 0\nT 1\n", "2:1", "T is not a Clifford gate");
  expect_input_error("H 0\nREPEAT 2 {\n  CX 0 1\n  RX(0.3) 1\n}\n", "4:3", "RX is not a Clifford gate");
  expect_input_error("CCX 0 1 2\n", "1:1", "not a Clifford gate");
  expect_input_error("R 0\nAMPLITUDE_DAMP(0.1) 0\n", "2:1", "AMPLITUDE_DAMP is not a Pauli channel");
  expect_input_error("R 0\nKRAUS1(1, 0, 0, 0, 0, 0, 1, 0) 0\n", "2:1", "not a Pauli channel");
  expect_input_error("M 0\nOBSERVABLE_INCLUDE(0) X0\n", "2:1", "Pauli targets");
  // The reader rejects such a lookback already; a circuit built in code reaches the engine.
  Circuit c;
  c.source_name = "bad.stim";
  const Target q0 = Target::qubit(0), back2 = Target::rec(2);
  c.append(GateId::M, {}, {&q0, 1}, {1, 1});
  c.append(GateId::DETECTOR, {}, {&back2, 1}, {2, 1});
  try {
    run_frames(c, FrameOptions{});
    ADD_FAILURE() << "no error for a lookback before the first measurement";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.stim:2:1: rec[-2] reaches before the first measurement"),
              std::string::npos) << e.what();
  }
  // Clifford rotations are accepted.
  EXPECT_NO_THROW(run_frames(parse_stim("RX(1.5707963267948966) 0\nM 0\n"), FrameOptions{}));
}

// Outcomes that are random in the ideal circuit must come out uniformly random relative to any
// reference: the initial frame (z random: |0> is a Z eigenstate) and the gauge randomisation after
// collapses provide it. Deterministic ones stay fixed.
TEST(FrameEngine, RandomOutcomesAreUniform) {
  const std::string text =
      "MX 0\nDETECTOR rec[-1]\n"                     // |0> in X: random
      "H 1\nCX 1 2\nM 1\nDETECTOR rec[-1]\n"         // half a Bell pair: random
      "M 2\nDETECTOR rec[-1] rec[-2]\n"               // its partner agrees
      "MY 1\nDETECTOR rec[-1]\n"                     // Z eigenstate measured in Y: random
      "MPP X3*X4 Z3*Z4\nDETECTOR rec[-2]\nDETECTOR rec[-1]\n"  // XX random on |00>, ZZ fixed
      "MXX 3 4\nDETECTOR rec[-1] rec[-3]\n";          // repeated XX agrees
  const std::uint64_t n = 100000;
  const auto rate = frame_rates(text, n, 17);
  const double sigma = std::sqrt(0.25 / static_cast<double>(n));
  for (int d : {0, 1, 3, 4}) EXPECT_NEAR(rate[static_cast<std::size_t>(d)], 0.5, 5 * sigma) << "detector " << d;
  for (int d : {2, 5, 6}) EXPECT_EQ(rate[static_cast<std::size_t>(d)], 0.0) << "detector " << d;
}

TEST(FrameEngine, ClassicalFeedbackAndHeraldsFollowTheRecord) {
  // The herald is a record bit: a detector on it fires with the erasure probability, and a flip
  // fed forward from it is seen by a later detector on the data.
  const std::string text =
      "R 0 1\nHERALDED_ERASE(0.3) 0\nDETECTOR rec[-1]\nCX rec[-1] 1\nM 1\nDETECTOR rec[-1] rec[-2]\n"
      "X_ERROR(0.2) 0\nM 0\nCX rec[-1] 1\nM 1\nDETECTOR rec[-1] rec[-3]\n";
  // Detector 1: M 1 flipped exactly where the herald fired -> never. Detector 2: the second M 1 vs
  // the first differ by what M 0 fed forward: the X error (0.2) XOR an erasure's X or Y (0.3 / 2).
  const std::uint64_t n = 200000;
  const auto rate = frame_rates(text, n, 3);
  const double want0 = 0.3, want2 = 0.2 * (1 - 0.15) + 0.8 * 0.15;
  EXPECT_NEAR(rate[0], want0, 5 * std::sqrt(want0 * (1 - want0) / n));
  EXPECT_EQ(rate[1], 0.0);
  EXPECT_NEAR(rate[2], want2, 5 * std::sqrt(want2 * (1 - want2) / n));
}

}  // namespace

// Gap skipping (p <= 1/4) and per-shot draws (p > 1/4): every channel's marginal flip rate on
// every detector, over the two halves of each 64-shot word (a position bias in the gaps would show),
// and the packed shot-major bytes agree with the per-detector counts.
TEST(FrameEngine, LowAndHighNoiseRatesMatchAndPackingAgreesWithCounts) {
  struct Case {
    std::string op;
    double p, rate;  // rate: probability that the measured (first) qubit flips
    unsigned group;
  };
  const std::vector<Case> cases = {
      {"X_ERROR", 0.001, 0.001, 1},        {"X_ERROR", 0.2, 0.2, 1},
      {"X_ERROR", 0.3, 0.3, 1},            {"DEPOLARIZE1", 0.003, 0.002, 1},
      {"DEPOLARIZE1", 0.6, 0.4, 1},        {"DEPOLARIZE2", 0.003, 0.0016, 2},
      {"M", 0.002, 0.002, 1},              {"E", 0.002, 0.002, 1},
  };
  for (const Case& k : cases) {
    const unsigned n = 24;
    std::string text;
    if (k.op == "M") {
      text = fmt::format("M({})", k.p);
      for (unsigned q = 0; q < n; ++q) text += fmt::format(" {}", q);
      text += "\n";
    } else if (k.op == "E") {
      for (unsigned q = 0; q < n; ++q) text += fmt::format("E({}) X{}\n", k.p, q);
      text += "M";
      for (unsigned q = 0; q < n; ++q) text += fmt::format(" {}", q);
      text += "\n";
    } else {
      text = fmt::format("{}({})", k.op, k.p);
      for (unsigned q = 0; q < n * k.group; ++q) text += fmt::format(" {}", q);
      text += "\nM";
      for (unsigned q = 0; q < n * k.group; q += k.group) text += fmt::format(" {}", q);
      text += "\n";
    }
    for (unsigned q = 0; q < n; ++q) text += fmt::format("DETECTOR rec[-{}]\n", n - q);
    FrameOptions o;
    o.shots = 64 * 1000 + 17;
    o.seed = 5;
    const auto r = run_frames(parse_stim(text, "noise.stim"), o);
    ASSERT_EQ(r.num_detectors, n);
    std::vector<std::uint64_t> count(n, 0), half(2, 0);
    for (std::uint64_t s = 0; s < o.shots; ++s) {
      for (unsigned d = 0; d < n; ++d) {
        const bool bit = (r.detectors[s * r.detector_bytes_per_shot + d / 8] >> (d % 8)) & 1;
        count[d] += bit;
        half[(s % 64) / 32] += bit;
      }
    }
    std::uint64_t total = 0;
    for (unsigned d = 0; d < n; ++d) {
      EXPECT_EQ(count[d], r.detector_flip_counts[d]) << k.op << " detector " << d;
      total += count[d];
    }
    const double trials = static_cast<double>(o.shots) * n;
    const double sigma = std::sqrt(trials * k.rate * (1 - k.rate));
    EXPECT_NEAR(static_cast<double>(total), trials * k.rate, 5 * sigma) << k.op << "(" << k.p << ")";
    const double h = static_cast<double>(half[0] + half[1]) / 2;
    EXPECT_NEAR(static_cast<double>(half[0]), h, 5 * std::sqrt(h)) << k.op << "(" << k.p << ")";
  }
}

namespace {
// Raw measurements = tableau reference XOR frame flips: a GHZ state measured in Z gives all-equal
// bits per shot, balanced over shots; a noisy circuit's per-bit rates match the dense engine.
TEST(FrameMeasurements, ReferenceXorFlipsReproducesTheOutcomeDistribution) {
  qw::FrameOptions o;
  o.shots = 20000;
  o.seed = 4;
  o.measurements = true;
  const auto ghz = qw::run_frames(qw::parse_stim("H 0\nCX 0 1 1 2 2 3\nM 0 1 2 3\nMX 0\n", "g.stim"), o);
  ASSERT_EQ(ghz.num_measurements, 5u);
  double ones = 0;
  for (std::uint64_t s = 0; s < o.shots; ++s) {
    const std::uint8_t row = ghz.measurements[s];
    ASSERT_TRUE((row & 15) == 0 || (row & 15) == 15) << int(row);
    ones += row & 1;
  }
  EXPECT_NEAR(ones / o.shots, 0.5, 5 * std::sqrt(0.25 / o.shots));
  const char* noisy = "H 0\nCX 0 1\nX_ERROR(0.1) 1\nM 0 1\nR 2\nDEPOLARIZE1(0.2) 2\nMX 2\nMZ 2\n";
  const auto fr = qw::run_frames(qw::parse_stim(noisy, "n.stim"), o);
  qw::DenseOptions d;
  d.shots = o.shots;
  d.seed = 9;
  const auto dense = qw::run_dense(qw::parse_stim(noisy, "n.stim"), d);
  for (unsigned j = 0; j < 4; ++j) {
    double a = 0, b = 0;
    for (std::uint64_t s = 0; s < o.shots; ++s) {
      a += (fr.measurements[s] >> j) & 1;
      b += (dense.measurements[s] >> j) & 1;
    }
    a /= o.shots;
    b /= o.shots;
    const double sigma = std::sqrt((a * (1 - a) + b * (1 - b)) / o.shots) + 1e-9;
    EXPECT_LT(std::abs(a - b), 5 * sigma) << "bit " << j;
  }
}
}  // namespace

namespace {
TEST(FrameMeasurements, MeasureResetOfTheSameQubitTwiceActsInOrder) {
  // X_ERROR(1) then MR 0 0: the first result is 1, the reset clears it, the second is 0 (as Stim and
  // the dense engine).
  qw::FrameOptions o;
  o.shots = 128;
  o.measurements = true;
  const auto r = qw::run_frames(qw::parse_stim("X_ERROR(1) 0\nMR 0 0\nM 0\n", "mr.stim"), o);
  for (std::uint64_t s = 0; s < o.shots; ++s) EXPECT_EQ(r.measurements[s] & 7, 1) << s;
}
}  // namespace
