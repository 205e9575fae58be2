// Pauli-frame kernels: X and Z frame bits of every qubit for every shot, bit-packed 64 shots per
// word, qubit-major (x[q * words + w]). Every kernel runs over the words of the table and loops over
// its instruction's targets in order inside one word, so broadcasts that reuse a qubit (CX 0 1 1 2)
// act in sequence exactly as written. All pointers are device memory unless marked host.
//
// Randomness: Philox4x32-10 (kernels/rng.h) keyed by the seed, stream = the global 64-shot word
// index (first_word + w), counter = draw_base + kDrawsPerTarget * (target index in the call) + k.
// The host advances draw_base by kDrawsPerTarget per target after every call, in circuit order, so a
// shot's bits depend only on (seed, word, instruction, target): never on the thread count, the
// backend, or how many words run together (a rank split at word boundaries gives the same bits).
// Draws are 32-bit uniforms (4 lanes per Philox block). Events with per-shot probability p <=
// kGapBelow are placed by geometric gap skipping inside the word: one uniform gives the gap to the
// next event, by integer comparison with host-computed tables (no floating point on the device, so
// every backend gives the same bits); at p = 0.001 that is a quarter of a Philox block per word and
// target (4 targets share a screening block) instead of 16 blocks. The n-th event of a
// multi-outcome channel takes its outcome from lane n % 4 of block kOutcomeBlock + n / 4. Larger p:
// shot j fires when lane j % 4 of block j / 4 is below the threshold. A probability p acts as
// ceil(p * 2^32) / 2^32 (absolute error below 2.4e-10).
#pragma once
#include <cstdint>

#include "kernels/bits.h"

namespace qw::frame {

// Philox counter values (blocks) reserved per (instruction, target) i: 0..15 per-shot uniforms
// (large p), or with gap skipping: block 0 of i = 4j screens targets 4j..4j+3 (lane i % 4 is the
// first gap of target i) and blocks 1..16 hold later gaps; block kGaugeBlock of i = 2j holds the
// gauge (randomisation) bits of targets 2j, 2j+1 (lanes 0-1, 2-3); blocks kOutcomeBlock.. +15 the
// outcomes of a multi-outcome channel's events.
inline constexpr std::uint64_t kDrawsPerTarget = 64;
inline constexpr std::uint64_t kGaugeBlock = 32;
inline constexpr std::uint64_t kOutcomeBlock = 40;

// Factor encoding for Pauli-product operands: qubit | kFactorX | kFactorZ (Y = both).
inline constexpr std::uint32_t kFactorX = 1u << 31;
inline constexpr std::uint32_t kFactorZ = 1u << 30;
inline constexpr std::uint32_t kQubitMask = kFactorZ - 1;

struct Frames {
  std::uint64_t* x;  // [qubits][words]
  std::uint64_t* z;
  index_t words;
  std::uint64_t first_word;  // global index of word 0: its RNG stream
  std::uint64_t seed;
  // Module ownership (one module per MPI rank): owned[q] != 0 for the qubits whose frames this
  // rank keeps; nullptr: all of them. Kernels skip targets this rank does not own but draw the
  // same random numbers for those it does (the counter is the target's index in the call), so the
  // owned rows equal a single-rank run's. A measurement record holds the parity of the owned
  // factors, plus the flip (and a channel's herald) on the rank that owns the product's first
  // factor (rank 0 for an empty product: `lead`), so the XOR over ranks is the record.
  const std::uint8_t* owned = nullptr;
  bool lead = true;
};

// Whether this rank keeps qubit q's frame.
QW_HD inline bool owns(const Frames& f, std::uint32_t q) { return f.owned == nullptr || f.owned[q] != 0; }

// Measurement-record flips: ring buffer of `slots` rows, result m in row m % slots.
struct Record {
  std::uint64_t* bits;  // [slots][words]
  std::uint64_t slots;
};

// A Clifford's action on the frame bits of its group, in the order (x0, z0, x1, z1):
// new bit j = parity(old bits & rows[j]).
struct Gf2Map {
  std::uint8_t rows[4];
};

// Probability thresholds are probabilities scaled by 2^32 (a 32-bit uniform u fires when u < t).
std::uint64_t threshold32(double p);

// Gap skipping is used for per-shot probabilities up to this (2^32-scaled: 1/4).
inline constexpr std::uint64_t kGapBelow = std::uint64_t{1} << 30;

// A per-shot Bernoulli(threshold / 2^32) event. With gap skipping (skip), run[k] is 2^32 (1-p)^k,
// rounded: a uniform r gives the gap g (misses before the next event) = the largest k with
// r < run[k], so P(g >= k) = run[k] / 2^32.
struct Bernoulli {
  std::uint64_t threshold = 0;
  bool skip = false;
  std::uint64_t run[65] = {};
};
Bernoulli make_bernoulli(std::uint64_t threshold);

// Clifford on `count` groups of `group` (1 or 2) qubits each (qubits: count * group entries).
void apply_clifford(Frames f, const std::uint32_t* qubits, std::uint32_t count, unsigned group,
                    Gf2Map m);

// SPP / SPP_DAG (exp(-+i pi/4 P)): P is XORed into the frame where the frame anticommutes with P.
// Product i has factors [offsets[i], offsets[i+1]).
void apply_spp(Frames f, const std::uint32_t* factors, const std::uint32_t* offsets,
               std::uint32_t products);

// Pauli-product measurements (M, MX, MY, MXX…, MPP, MPAD as empty products): result first_result + i
// gets the frame's anticommutation parity with product i, XOR a Bernoulli(flip) bit when flip > 0;
// then product i is XORed into the frame with random bits (the post-measurement state is an
// eigenstate of P, so P is a stabiliser and multiplying the frame by it changes no deterministic
// outcome; the randomisation makes later non-deterministic outcomes uniformly random, as in Stim).
// gauge = false skips the randomisation (MR*: the reset that follows overwrites the frame anyway).
void measure_products(Frames f, const std::uint32_t* factors, const std::uint32_t* offsets,
                      std::uint32_t products, Record rec, std::uint64_t first_result,
                      const Bernoulli& flip, bool gauge, std::uint64_t draw_base);

// Resets to the +1 eigenstate of each factor's Pauli (Z: R, X: RX, Y: RY): the frame is cleared and
// then randomised by that Pauli (a stabiliser of the reset state).
void reset_factors(Frames f, const std::uint32_t* factors, std::uint32_t count,
                   std::uint64_t draw_base);

// A Pauli channel with up to 16 outcomes per group: each shot draws u and takes the first outcome
// with u < threshold[c] (cumulative thresholds); outcome c XORs pauli[c] (bits x0, z0, x1, z1) into
// the group's frame. Heralded channels write herald[c] as result first_result + i.
// finish_table fills `any` (some outcome happens: gap skipping when small) and `given` (cumulative
// thresholds of the outcome given that one happens); call it once the outcomes are added.
struct PauliTable {
  std::uint32_t outcomes = 0;
  std::uint64_t threshold[16] = {};
  std::uint8_t pauli[16] = {};
  bool herald[16] = {};
  bool heralded = false;
  Bernoulli any;
  std::uint64_t given[16] = {};
};
void finish_table(PauliTable& t);
void pauli_channel(Frames f, const std::uint32_t* qubits, std::uint32_t count, unsigned group,
                   const PauliTable& table, Record rec, std::uint64_t first_result,
                   std::uint64_t draw_base);

// E(p) / ELSE_CORRELATED_ERROR(p) with one product: fire = Bernoulli(p) (ELSE: and not fired yet);
// fired[w] tracks the chain (E restarts it).
void correlated_error(Frames f, const std::uint32_t* factors, std::uint32_t count,
                      const Bernoulli& fire, bool else_branch, std::uint64_t* fired,
                      std::uint64_t draw_base);

// Pauli channels whose probabilities differ from shot to shot (LINK: the delivered pair's state and
// the waiting qubits' decoherence depend on the shot's delivery time). cum[3 * s + c], s the shot
// index within this run (words * 64 entries, zero past the last shot), holds the 2^32-scaled
// cumulative thresholds of X, X+Y, X+Y+Z; every target draws one 32-bit uniform per shot (lane
// s % 4 of block (s % 64) / 4 of its draws, as the large-p channels) and takes the first Pauli
// whose threshold it is below.
void per_shot_pauli(Frames f, const std::uint32_t* qubits, std::uint32_t count, const std::uint64_t* cum,
                    std::uint64_t draw_base);

// Classically controlled Pauli: XORs (x, z) into qubit's frame where record row `slot` is 1.
void controlled_pauli(Frames f, Record rec, std::uint64_t slot, std::uint32_t qubit, bool x, bool z);

// dst[w] ^= XOR over k of rec row slots[k] (slots in host memory, count <= 64 per call).
void xor_rows(std::uint64_t* dst, Record rec, index_t words, const std::uint64_t* slots, unsigned count);

void fill_zero(std::uint64_t* p, index_t n);

// bits[r][words] (row-major) to shot-major bytes out[shot][ceil(rows/8)] (host memory),
// little-endian bit order, for shots [0, shots).
void pack_shot_major(const std::uint64_t* bits, std::uint64_t rows, index_t words,
                     std::uint64_t shots, std::uint8_t* out);
// out[r] = number of ones of row r among the first `shots` bits (host memory).
void count_row_ones(const std::uint64_t* bits, std::uint64_t rows, index_t words,
                    std::uint64_t shots, std::uint64_t* out);

}  // namespace qw::frame
