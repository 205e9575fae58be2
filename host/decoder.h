// Decoders of detector error models (docs/decoders.md): the DEM as a matching graph, minimum-weight
// perfect matching (exact, LEMON's blossom on the fired detectors' distance graph) and union-find
// (Delfosse & Nickerson, Quantum 5, 595 (2021), weighted growth and peeling). Shots are bit-packed
// like FrameResult: little-endian bit order, ceil(bits/8) bytes per shot.
#pragma once
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "host/dem.h"

namespace qw {

// One edge of the matching graph: an error mechanism that flips one or two detectors (b ==
// MatchingGraph::boundary() for one), its observables as a bit mask (observable k is bit k).
struct MatchingEdge {
  std::uint32_t a = 0, b = 0;
  double probability = 0;
  double weight = 0;              // log((1 - p) / p), 0 for p >= 1/2
  std::int64_t weight_units = 0;  // weight quantised: round(weight * MatchingGraph::units_per_weight)
  std::uint64_t observables = 0;
};

struct MatchingGraph {
  std::uint32_t num_detectors = 0;
  std::uint32_t num_observables = 0;
  std::vector<MatchingEdge> edges;
  // Edges incident to node v (detectors, then the boundary node): incident[offsets[v] ..
  // offsets[v + 1]) are edge indices.
  std::vector<std::uint32_t> offsets, incident;
  // Integer weights keep sums of path weights exact: the largest edge weight maps to 2^20 units.
  double units_per_weight = 1;
  // Per node: the lightest path to the boundary (units; -1: none) and the observables along it.
  std::vector<std::int64_t> boundary_distance;
  std::vector<std::uint64_t> boundary_observables;

  // DEM errors with more than two detectors, split into existing edges whose detectors partition
  // the error's and whose observables XOR to the error's; those without such a split are cut into
  // consecutive pairs (plus one boundary edge when odd) with the observables on the first piece.
  std::uint64_t hyperedges_decomposed = 0;
  std::uint64_t hyperedges_cut = 0;
  // Errors flipping detectors of both types (with detector types given), split into two parts.
  std::uint64_t errors_split_by_type = 0;
  // Errors that flip observables but no detector: invisible to any decoder.
  std::uint64_t undetectable_errors = 0;

  std::uint32_t boundary() const { return num_detectors; }
  std::uint32_t num_nodes() const { return num_detectors + 1; }
};

// Builds the graph. Parallel edges (same detectors) with the same observables are merged as
// independent mechanisms (p xor q); with different observables the more likely one is kept.
// detector_basis ('X'/'Z' per detector, e.g. gen::detector_basis; empty: unknown) splits errors
// that flip detectors of both types into their X and Z parts first, as Stim's decompose_errors
// does from the circuit; without it a Y fault at a boundary flipping one detector of each type
// stays an edge joining the two graphs. Throws InputError for more than 64 observables.
MatchingGraph matching_graph(const DetectorErrorModel& dem, const std::vector<char>& detector_basis = {});

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Predicts the observable flips of one shot from its detection events; returns the weight of the
  // chosen correction (sum of its edges' weights, from the quantised weights).
  virtual double decode(const std::uint8_t* detectors_packed, std::uint8_t* observables_packed) = 0;
  // A decoder with the same graph and its own scratch space (one per thread).
  virtual std::unique_ptr<Decoder> clone() const = 0;
  virtual const MatchingGraph& graph() const = 0;
};

// MWPM keeps a table of the lightest paths between all detectors (16 bytes per pair, built once,
// shared by clones) when it fits in table_bytes; otherwise it searches per shot.
inline constexpr std::uint64_t kMwpmTableBytes = std::uint64_t{256} << 20;
std::unique_ptr<Decoder> make_mwpm_decoder(std::shared_ptr<const MatchingGraph> graph,
                                           std::uint64_t table_bytes = kMwpmTableBytes);
std::unique_ptr<Decoder> make_union_find_decoder(std::shared_ptr<const MatchingGraph> graph);
// kind: "mwpm" or "union_find". Throws InputError for another kind.
std::unique_ptr<Decoder> make_decoder(const DetectorErrorModel& dem, std::string_view kind,
                                      const std::vector<char>& detector_basis = {});
std::unique_ptr<Decoder> make_decoder(std::shared_ptr<const MatchingGraph> graph, std::string_view kind);
// Whether this build has the MWPM decoder (LEMON found at configure time).
bool have_mwpm_decoder();

struct BatchDecodeResult {
  std::vector<std::uint8_t> predicted_observables;  // [shots][ceil(num_observables / 8)]
  std::uint64_t logical_errors = 0;  // shots whose prediction differs from the actual flips (when given)
  double wall_s = 0;                 // wall-clock time of the whole batch
  double thread_s = 0;               // decoding time summed over threads
  int threads = 1;
};

// Decodes shots [0, shots) of a shot-major detector table in parallel (OpenMP, `threads` <= 0:
// OpenMP's default). actual_observables (optional) counts logical errors.
BatchDecodeResult decode_batch(const Decoder& decoder, const std::uint8_t* detectors, std::uint64_t shots,
                               const std::uint8_t* actual_observables = nullptr, int threads = 0);

}  // namespace qw
