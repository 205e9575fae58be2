// Pairs for LINK(name) instructions in circuits: each named link is a link experiment (a
// kind = "link" TOML file, docs/experiments.md) whose episodes deliver the pairs, one episode per
// shot and execution of the instruction, with its delivery time and Bell-diagonal state. While a
// link delivers, the other qubits wait: they decohere for the delivery time under the memory's T1
// and T2, Pauli-twirled (docs/physics.md, "Pairs in circuits"), the same in every engine.
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "host/circuit.h"
#include "host/experiment.h"

namespace qw {

struct LinkDeliveries {
  std::uint64_t per_shot = 0;   // executions of LINK(name) per shot (REPEAT counts included)
  std::vector<double> time_s;   // [shots][per_shot]: delivery time
  std::vector<double> weights;  // [shots][per_shot][4]: (Phi+, Psi+, Psi-, Phi-)
  double time(std::uint64_t shot, std::uint64_t k) const { return time_s[shot * per_shot + k]; }
  const double* state(std::uint64_t shot, std::uint64_t k) const { return &weights[4 * (shot * per_shot + k)]; }
};

struct CircuitLinks {
  std::map<std::string, LinkExperiment> links;  // by the name LINK(name) uses
  // Memory of the qubits that wait while a link delivers (infinite: they do not decohere).
  double t1_s = std::numeric_limits<double>::infinity();
  double t2_s = std::numeric_limits<double>::infinity();

  // Sampled by sample_link_deliveries for shots [first_shot, first_shot + shots).
  std::uint64_t first_shot = 0, shots = 0;
  std::map<std::string, LinkDeliveries> deliveries;
  std::vector<double> elapsed_s;  // per shot: the summed delivery times of its LINKs

  bool waiting_decoheres() const { return t1_s < std::numeric_limits<double>::infinity() ||
                                          t2_s < std::numeric_limits<double>::infinity(); }
};

// Parses "name=FILE.toml" (the --link option): reads and validates the link experiment (kind =
// "link"; its episodes and seed are replaced per run). InputError for a bad spec or file.
void add_link_definition(CircuitLinks& links, const std::string& spec);

// Executions per shot of each link name the circuit uses. InputError at the first LINK whose name
// has no definition in `links`.
std::map<std::string, std::uint64_t> link_uses(const Circuit& c, const CircuitLinks& links);

// Runs every used link's episodes for the shots [first_shot, first_shot + shots): episode
// shot * per_shot + k delivers the k-th LINK(name) of that shot (the episodes of link `name` use the
// run's seed mixed with the name, so they do not depend on which other links exist). Fills
// deliveries and elapsed_s.
void sample_link_deliveries(CircuitLinks& links, const Circuit& c, std::uint64_t seed, std::uint64_t first_shot,
                            std::uint64_t shots);

// The twirled memory channel of a qubit that waits t seconds: probabilities of (I, X, Y, Z).
std::array<double, 4> waiting_pauli(const CircuitLinks& links, double t_s);

}  // namespace qw
