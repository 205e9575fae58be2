// The stabilizer-tableau reference sample: on random Clifford circuits (every gate of the table,
// measurements in all bases, products, resets, feedback, SPP, REPEAT, noise that must be ignored) the
// reference record is one the dense engine can produce (it satisfies every parity the dense shots
// never violate), results constant over dense shots match, and random ones take raw outcome 0; GHZ
// states; a 1000-qubit repetition code; errors with locations.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "host/dense_engine.h"
#include "host/errors.h"
#include "host/parse.h"
#include "host/tableau.h"

namespace {
using namespace qw;

std::vector<GateId> clifford_gates(unsigned group) {
  std::vector<GateId> out;
  for (const GateInfo& info : all_gates()) {
    if (info.kind == GateKind::Unitary && info.group == group && !(info.flags & kNonClifford)) {
      out.push_back(info.id);
    }
  }
  return out;
}

// A random Clifford circuit on n qubits. `noisy` text has noise channels, heralds and noisy-result
// arguments with p = 0.2; `clean` has the same with p = 0 (same record layout, no effect).
// inverted[k]: result k's target inversion parity (a random raw outcome 0 records this).
struct RandomCircuit {
  std::string noisy, clean;
  std::vector<std::uint8_t> inverted;
};

class Generator {
 public:
  Generator(std::mt19937_64& rng, unsigned n) : rng_(rng), n_(n), g1_(clifford_gates(1)), g2_(clifford_gates(2)) {}

  RandomCircuit make(int ops) {
    RandomCircuit rc;
    Body top = body(ops, /*allow_repeat=*/true);
    rc.noisy = top.text(0.2);
    rc.clean = top.text(0);
    rc.inverted = top.inverted;
    return rc;
  }

 private:
  // Lines where "@p" stands for the noise probability.
  struct Body {
    std::vector<std::string> lines;
    std::vector<std::uint8_t> inverted;
    std::string text(double p) const {
      std::string s;
      const std::string ps = fmt::format("{}", p);
      for (std::string l : lines) {
        for (std::size_t at; (at = l.find("@p")) != std::string::npos;) l.replace(at, 2, ps);
        s += l + "\n";
      }
      return s;
    }
  };

  unsigned q() { return static_cast<unsigned>(rng_() % n_); }
  std::pair<unsigned, unsigned> pair() {
    unsigned a = q(), b = q();
    while (b == a) b = q();
    return {a, b};
  }
  bool coin() { return rng_() % 2; }
  std::string inv(bool i) { return i ? "!" : ""; }

  Body body(int ops, bool allow_repeat) {
    Body b;
    for (int k = 0; k < ops; ++k) {
      const unsigned kind = static_cast<unsigned>(rng_() % 16);
      switch (kind) {
        case 0: case 1: case 2: {
          const GateId g = g1_[rng_() % g1_.size()];
          b.lines.push_back(fmt::format("{} {}", gate_info(g).name, q()));
          break;
        }
        case 3: case 4: case 5: {
          const GateId g = g2_[rng_() % g2_.size()];
          const auto [x, y] = pair();
          b.lines.push_back(fmt::format("{} {} {}", gate_info(g).name, x, y));
          break;
        }
        case 6: {  // single-qubit measurements, sometimes noisy-result
          static const char* names[] = {"M", "MX", "MY", "MR", "MRX", "MRY"};
          const bool i = coin();
          b.lines.push_back(fmt::format("{}{} {}{}", names[rng_() % 6], coin() ? "(@p)" : "", inv(i), q()));
          b.inverted.push_back(i);
          break;
        }
        case 7: {
          static const char* names[] = {"R", "RX", "RY"};
          b.lines.push_back(fmt::format("{} {}", names[rng_() % 3], q()));
          break;
        }
        case 8: {  // MPP with 1..3 factors on distinct qubits
          const unsigned w = 1 + static_cast<unsigned>(rng_() % std::min(3u, n_));
          std::vector<unsigned> qs;
          while (qs.size() < w) {
            const unsigned c = q();
            if (std::find(qs.begin(), qs.end(), c) == qs.end()) qs.push_back(c);
          }
          std::string s = "MPP";
          bool parity = false;
          for (std::size_t j = 0; j < qs.size(); ++j) {
            const bool i = rng_() % 4 == 0;
            parity ^= i;
            s += fmt::format("{}{}{}{}", j ? "*" : " ", inv(i), "XYZ"[rng_() % 3], qs[j]);
          }
          b.lines.push_back(s);
          b.inverted.push_back(parity);
          break;
        }
        case 9: {
          static const char* names[] = {"MXX", "MYY", "MZZ"};
          const auto [x, y] = pair();
          const bool i = coin(), j = rng_() % 4 == 0;
          b.lines.push_back(fmt::format("{} {}{} {}{}", names[rng_() % 3], inv(i), x, inv(j), y));
          b.inverted.push_back(i != j);
          break;
        }
        case 10: {  // feedback on a recent result
          if (b.inverted.empty()) break;
          static const char* names[] = {"CX", "CY", "CZ", "XCZ", "YCZ"};
          const unsigned lb = 1 + static_cast<unsigned>(rng_() % std::min<std::size_t>(3, b.inverted.size()));
          const unsigned t = q();
          const std::string name = names[rng_() % 5];
          // CZ is symmetric; XCZ/YCZ take the control second in Stim, as CX/CY take it first.
          if (name == "XCZ" || name == "YCZ" || (name == "CZ" && coin())) {
            b.lines.push_back(fmt::format("{} {} rec[-{}]", name, t, lb));
          } else {
            b.lines.push_back(fmt::format("{} rec[-{}] {}", name, lb, t));
          }
          break;
        }
        case 11: {  // SPP / SPP_DAG
          const auto [x, y] = pair();
          b.lines.push_back(fmt::format("{} {}{}{}*{}{}", coin() ? "SPP" : "SPP_DAG", coin() ? "!" : "",
                                        "XYZ"[rng_() % 3], x, "XYZ"[rng_() % 3], y));
          break;
        }
        case 12: {  // noise that the reference ignores (p = 0 in the dense run)
          const auto [x, y] = pair();
          switch (rng_() % 5) {
            case 0: b.lines.push_back(fmt::format("X_ERROR(@p) {}", x)); break;
            case 1: b.lines.push_back(fmt::format("DEPOLARIZE2(@p) {} {}", x, y)); break;
            case 2: b.lines.push_back(fmt::format("E(@p) X{} Z{}", x, y)); break;
            case 3:
              b.lines.push_back(fmt::format("HERALDED_ERASE(@p) {}", x));
              b.inverted.push_back(0);
              break;
            default: b.lines.push_back(fmt::format("Z_ERROR(@p) {}", x)); break;
          }
          break;
        }
        case 13: {  // Clifford rotations
          static const char* rots[] = {"RX(1.5707963267948966)", "RY(-1.5707963267948966)",
                                       "RZ(3.141592653589793)"};
          b.lines.push_back(fmt::format("{} {}", rots[rng_() % 3], q()));
          break;
        }
        case 14: {
          const bool v = coin();
          b.lines.push_back(fmt::format("MPAD {}", v ? 1 : 0));
          b.inverted.push_back(v);  // not random; the value
          break;
        }
        default: {
          if (!allow_repeat) break;
          Body inner = body(6, false);
          b.lines.push_back("REPEAT 3 {");
          for (const auto& l : inner.lines) b.lines.push_back(l);
          b.lines.push_back("}");
          for (int r = 0; r < 3; ++r) b.inverted.insert(b.inverted.end(), inner.inverted.begin(), inner.inverted.end());
          break;
        }
      }
    }
    // Every qubit measured at the end in a random basis.
    for (unsigned k = 0; k < n_; ++k) {
      static const char* names[] = {"M", "MX", "MY"};
      b.lines.push_back(fmt::format("{} {}", names[rng_() % 3], k));
      b.inverted.push_back(0);
    }
    return b;
  }

  std::mt19937_64& rng_;
  unsigned n_;
  std::vector<GateId> g1_, g2_;
};

int bit(const std::vector<std::uint8_t>& bytes, std::uint64_t bytes_per_shot, std::uint64_t shot, std::uint64_t k) {
  return (bytes[shot * bytes_per_shot + k / 8] >> (k % 8)) & 1;
}

// GF(2) span of vectors of m bits, reduced in insertion order.
class Span {
 public:
  explicit Span(std::size_t m) : words_((m + 63) / 64) {}
  // Reduces v against the basis; returns true if it was (now is) zero.
  bool reduce(std::vector<std::uint64_t>& v) const {
    for (std::size_t j = 0; j < basis_.size(); ++j) {
      if ((v[pivot_[j] / 64] >> (pivot_[j] % 64)) & 1) {
        for (std::size_t w = 0; w < words_; ++w) v[w] ^= basis_[j][w];
      }
    }
    for (auto w : v) if (w) return false;
    return true;
  }
  void insert(std::vector<std::uint64_t> v) {
    if (reduce(v)) return;
    std::size_t p = 0;
    while (!((v[p / 64] >> (p % 64)) & 1)) ++p;
    basis_.push_back(std::move(v));
    pivot_.push_back(p);
  }
  std::size_t dim() const { return basis_.size(); }

 private:
  std::size_t words_;
  std::vector<std::vector<std::uint64_t>> basis_;
  std::vector<std::size_t> pivot_;
};

TEST(Tableau, RandomCliffordCircuitsAgreeWithDenseEngine) {
  std::mt19937_64 rng(5);
  int random_seen = 0, deterministic_seen = 0, ones_seen = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const unsigned n = 2 + static_cast<unsigned>(trial % 7);  // 2..8 qubits
    Generator gen(rng, n);
    const RandomCircuit rc = gen.make(40);
    std::vector<std::uint8_t> random;
    const auto ref = reference_sample(parse_stim(rc.noisy, "noisy.stim"), &random);
    const Circuit clean = parse_stim(rc.clean, "clean.stim");
    const std::uint64_t m = clean.num_measurements();
    ASSERT_EQ(ref.size(), m) << rc.noisy;
    ASSERT_EQ(random.size(), m);
    ASSERT_EQ(rc.inverted.size(), m);
    DenseOptions o;
    o.shots = 600;
    o.seed = static_cast<std::uint64_t>(trial) + 100;
    const auto d = run_dense(clean, o);
    ASSERT_EQ(d.num_measurements, m);
    const std::uint64_t bps = d.bytes_per_shot;
    // Results constant over the dense shots are deterministic: the reference must agree.
    for (std::uint64_t k = 0; k < m; ++k) {
      bool constant = true;
      for (std::uint64_t s = 1; s < o.shots && constant; ++s) constant = bit(d.measurements, bps, s, k) == bit(d.measurements, bps, 0, k);
      if (constant) {
        ++deterministic_seen;
        ones_seen += bit(d.measurements, bps, 0, k);
        EXPECT_EQ(ref[k], bit(d.measurements, bps, 0, k)) << "result " << k << "\n" << rc.noisy;
        EXPECT_EQ(random[k], 0) << "result " << k << " constant in the dense engine\n" << rc.noisy;
      }
      if (random[k]) {
        ++random_seen;
        EXPECT_EQ(ref[k], rc.inverted[k]) << "random result " << k << " must take raw outcome 0\n" << rc.noisy;
      }
    }
    // The records of a Clifford circuit with Pauli feedback form an affine space (shot 0 + span of
    // the differences); the reference must lie in it.
    const std::size_t words = (m + 63) / 64;
    auto row = [&](std::uint64_t s) {
      std::vector<std::uint64_t> v(words);
      for (std::uint64_t k = 0; k < m; ++k) v[k / 64] |= std::uint64_t(bit(d.measurements, bps, s, k)) << (k % 64);
      return v;
    };
    const auto base = row(0);
    Span span(m);
    for (std::uint64_t s = 1; s < o.shots; ++s) {
      auto v = row(s);
      for (std::size_t w = 0; w < words; ++w) v[w] ^= base[w];
      span.insert(std::move(v));
    }
    std::vector<std::uint64_t> r(words);
    for (std::uint64_t k = 0; k < m; ++k) r[k / 64] |= std::uint64_t(ref[k]) << (k % 64);
    for (std::size_t w = 0; w < words; ++w) r[w] ^= base[w];
    EXPECT_TRUE(span.reduce(r)) << "reference record violates a parity every dense shot satisfies\n" << rc.noisy;
  }
  // The generator exercises both kinds, and deterministic ones.
  EXPECT_GT(random_seen, 100);
  EXPECT_GT(deterministic_seen, 100);
  EXPECT_GT(ones_seen, 20);
}

TEST(Tableau, GhzState) {
  const unsigned n = 40;
  std::string prep = "H 0\nCX";
  for (unsigned q = 0; q + 1 < n; ++q) prep += fmt::format(" {} {}", q, q + 1);
  std::string all;
  for (unsigned q = 0; q < n; ++q) all += fmt::format(" {}", q);
  {
    std::vector<std::uint8_t> random;
    const auto ref = reference_sample(parse_stim(prep + "\nM" + all + "\n"), &random);
    ASSERT_EQ(ref.size(), n);
    for (unsigned q = 0; q < n; ++q) EXPECT_EQ(ref[q], 0);
    EXPECT_EQ(random[0], 1);
    for (unsigned q = 1; q < n; ++q) EXPECT_EQ(random[q], 0);
  }
  for (int inverted = 0; inverted < 2; ++inverted) {
    // X^n stabilises GHZ: the MX results have even parity (odd with one inverted target).
    std::vector<std::uint8_t> random;
    const std::string text = prep + "\nMX" + (inverted ? " !0" : " 0") + all.substr(2) + "\nMPP X0*X1\n";
    const auto ref = reference_sample(parse_stim(text), &random);
    ASSERT_EQ(ref.size(), n + 1);
    int parity = 0;
    for (unsigned q = 0; q < n; ++q) parity ^= ref[q];
    EXPECT_EQ(parity, inverted);
    for (unsigned q = 0; q + 1 < n; ++q) EXPECT_EQ(random[q], 1);
    EXPECT_EQ(random[n - 1], 0);
    EXPECT_EQ(ref[n], ref[0] ^ ref[1] ^ inverted);
  }
  // Y-type parities with signs: GHZ on 2 qubits has -Y0*Y1 as a stabiliser.
  const auto yy = reference_sample(parse_stim("H 0\nCX 0 1\nMPP Y0*Y1 X0*X1 Z0*Z1\nMYY 0 1\n"));
  EXPECT_EQ(yy, (std::vector<std::uint8_t>{1, 0, 0, 1}));
}

// Distance-d repetition code, `rounds` rounds, with noise that the reference ignores.
std::string repetition_code(int d, int rounds) {
  std::string data, anc, cx1, cx2;
  for (int i = 0; i < d; ++i) data += fmt::format(" {}", 2 * i);
  for (int i = 0; i + 1 < d; ++i) {
    anc += fmt::format(" {}", 2 * i + 1);
    cx1 += fmt::format(" {} {}", 2 * i, 2 * i + 1);
    cx2 += fmt::format(" {} {}", 2 * i + 2, 2 * i + 1);
  }
  std::string s = "R" + data + anc + "\n";
  s += fmt::format("REPEAT {} {{\nX_ERROR(0.1)", rounds) + data + "\nCX" + cx1 + "\nCX" + cx2 + "\nMR(0.05)" + anc +
       "\nDETECTOR rec[-1] rec[-2]\n}\n";
  s += "M" + data + "\n";
  return s;
}

TEST(Tableau, ThousandQubitRepetitionCodeIsFastAndZero) {
  const Circuit c = parse_stim(repetition_code(500, 10), "rep.stim");
  ASSERT_EQ(c.num_qubits(), 999u);
  const auto t0 = std::chrono::steady_clock::now();
  const auto ref = reference_sample(c);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(ref.size(), c.num_measurements());
  for (auto b : ref) ASSERT_EQ(b, 0);
  EXPECT_LT(s, 1.0);
  // An initial |1> on data qubit 0 (X 0): the first syndrome bit and data 0 read 1, everything else 0.
  std::string text = repetition_code(500, 2);
  text.insert(text.find('\n') + 1, "X 0\n");
  const auto flipped = reference_sample(parse_stim(text, "rep.stim"));
  for (std::size_t k = 0; k < flipped.size(); ++k) {
    const bool one = k == 0 || k == 499 || k == 2 * 499;
    EXPECT_EQ(flipped[k], one ? 1 : 0) << k;
  }
}

TEST(Tableau, ErrorsHaveLocations) {
  auto message = [](const std::string& text) -> std::string {
    try {
      reference_sample(parse_stim(text, "bad.stim"));
    } catch (const InputError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message("H 0\nM 0\n  T 1\n").find("bad.stim:3:3"), std::string::npos) << message("H 0\nM 0\n  T 1\n");
  EXPECT_NE(message("H 0\nT 1\n").find("not a Clifford"), std::string::npos);
  EXPECT_NE(message("RX(0.3) 0\n").find("bad.stim:1:1"), std::string::npos);
  EXPECT_NE(message("CCX 0 1 2\n").find("bad.stim:1:1"), std::string::npos);
  EXPECT_NE(message("REPEAT 2 {\n  H 0\n  CX 0 1\n  T_DAG 1\n}\n").find("bad.stim:4:3"), std::string::npos);
  {  // a lookback before the first measurement (the parser rejects it in text; built directly here)
    Circuit c;
    c.source_name = "built.stim";
    const Target m0[] = {Target::qubit(0)};
    c.append(GateId::M, {}, m0, {1, 1});
    const Target fb[] = {Target::rec(2), Target::qubit(1)};
    c.append(GateId::CX, {}, fb, {2, 1});
    try {
      reference_sample(c);
      ADD_FAILURE() << "no error";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("built.stim:2:1: rec[-2]"), std::string::npos) << e.what();
    }
  }
  EXPECT_NE(message("MPP X0*Z0\n").find("anti-Hermitian"), std::string::npos);
  EXPECT_EQ(message("RX(1.5707963267948966) 0\nM 0\n"), "(no error)");
}

}  // namespace
