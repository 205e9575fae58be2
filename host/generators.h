// Circuit generators for (distributed) quantum error correction: memory experiments of the rotated
// surface code and the repetition code, monolithic, split across modules along vertical cuts, or
// fully distributed with GHZ-state stabiliser measurements. Output is Stim circuit text with
// QUBIT_COORDS, DETECTOR coordinates and OBSERVABLE_INCLUDE (docs/generators.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/circuit.h"

namespace qw::gen {

struct Sd6Noise {
  double p = 0;  // uniform SD6 circuit-level noise
};

struct MemorySpec {
  std::string code = "surface";  // "surface" (rotated) | "repetition"
  unsigned distance = 3;
  unsigned rounds = 3;  // stabilizer measurement rounds (>= 1)
  char basis = 'Z';     // 'X' | 'Z': memory basis (logical observable)
  // "split": the patch cut into this many modules along vertical cuts (1: monolithic).
  // "distributed": one data qubit per module; leave at 1 or give the number of data qubits.
  unsigned modules = 1;
  std::string partition = "split";  // "split" | "distributed"
  double p = 0;                     // SD6 local noise strength
  // "split": extra DEPOLARIZE2 on every cross-module CNOT (a plain, symmetric stand-in for the
  // interface, as in Ramette et al. 2024).
  double interface_error = 0;
  // Extra DEPOLARIZE1 once per round on every qubit of a module that waits for a remote operation
  // (link generation time): "split": all qubits of modules on a seam; "distributed": the data.
  double interface_idle = 0;
  // Fidelity of the Werner Bell pairs the remote operations consume (1: perfect), and rounds of
  // BBPSSW recurrence purification applied to each before use (ideal local operations).
  // "split": every cross-module CNOT is a teleported CNOT (host/circuit.h) through one pair, whose
  // Pauli errors reach the gate's qubits as X on the target, Z on the control or both, each with
  // (1 - F)/3 (written as independent X_ERROR, Z_ERROR and E after the CX). "distributed": the GHZ
  // states are fused from pairs.
  double bell_fidelity = 1;
  unsigned purification_rounds = 0;
  // Optional platform preset name or TOML file (models/presets, docs/models.md): its gate, readout
  // and reset errors replace p, and its T1/T2 with the operation durations give Pauli-twirled idle
  // noise per layer.
  std::string platform;
  // Seconds per round that the qubits of interface_idle wait for links (needs a platform: its T1/T2
  // give the Pauli-twirled channel, added to interface_idle).
  double link_wait_s = 0;
  // Optional link experiment file (kind = "link", docs/experiments.md, e.g. examples/links/*.toml):
  // the link engine runs it; its mean delivered fidelity becomes bell_fidelity and the expected wait
  // for the last of the round's Bell pairs (generated in parallel) link_wait_s. Needs a platform
  // (T1/T2 for the wait); leave bell_fidelity, purification_rounds and link_wait_s at their defaults.
  std::string link;
};

// What a link experiment gives a memory circuit (MemorySpec::link).
struct LinkInterface {
  double bell_fidelity = 1;  // mean fidelity of a delivered pair
  double mean_time_s = 0;    // mean delivery time of one pair
  double round_wait_s = 0;   // expected time until the last of `pairs` independent pairs has arrived
  unsigned pairs = 0;
  std::uint64_t episodes = 0;  // delivered pairs the numbers come from
};
// Runs the link experiment in link_file (InputError for a bad file or another kind) and summarises
// it for `pairs` Bell pairs generated in parallel.
LinkInterface link_interface(const std::string& link_file, unsigned pairs);
// Bell pairs one round consumes: remote CNOTs ("split") or GHZ fusions ("distributed").
unsigned bell_pairs_per_round(const MemorySpec& spec);

// Throws InputError with a message naming the bad field.
void validate(const MemorySpec& spec);

std::string memory_circuit_text(const MemorySpec& spec);  // Stim text
Circuit memory_circuit(const MemorySpec& spec);           // parsed (through the Stim reader)
std::vector<unsigned> module_of_qubit(const MemorySpec& spec);  // module index of each qubit
// 'X' or 'Z' per detector (detector index order): the type of the stabiliser it compares.
std::vector<char> detector_basis(const MemorySpec& spec);
// Fidelity of a Werner pair after `rounds` rounds of BBPSSW purification with ideal local
// operations (Bennett et al., PRL 76, 722 (1996)), the output re-twirled to Werner form each round.
double purified_werner_fidelity(double fidelity, unsigned rounds);

}  // namespace qw::gen
