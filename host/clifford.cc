// The action of a Clifford gate on Pauli products, derived from its matrix (host/gates.cc) by
// conjugation: shared by the tableau (signs) and the frame engine (GF(2) part).
#include "host/clifford.h"

#include <complex>
#include <cstddef>
#include <vector>

namespace qw {
namespace {

using cd = std::complex<double>;

// The Hermitian Pauli product on g qubits with bits x_j (bit 2j) and z_j (bit 2j+1); x = z = 1 is Y.
// Matrix index bit j = qubit j (as gate_matrix).
std::vector<cd> hermitian_pauli(unsigned g, unsigned bits) {
  const std::size_t d = std::size_t{1} << g;
  std::vector<cd> m(d * d, 0.0);
  for (std::size_t c = 0; c < d; ++c) {
    cd v = 1;
    std::size_t r = c;
    for (unsigned j = 0; j < g; ++j) {
      const unsigned x = (bits >> (2 * j)) & 1, z = (bits >> (2 * j + 1)) & 1, cj = (c >> j) & 1;
      if (x) r ^= std::size_t{1} << j;
      if (x && z) {
        v *= cj ? cd(0, -1) : cd(0, 1);  // Y|0> = i|1>, Y|1> = -i|0>
      } else if (z && cj) {
        v = -v;
      }
    }
    m[r * d + c] = v;
  }
  return m;
}

}  // namespace

std::optional<CliffordAction> clifford_action(GateId id, std::span<const double> args) {
  const unsigned g = gate_info(id).group;
  if (g < 1 || g > 2) return std::nullopt;
  const std::size_t d = std::size_t{1} << g;
  const auto u = gate_matrix(id, args);
  CliffordAction a;
  a.group = g;
  const unsigned count = 1u << (2 * g);
  std::vector<std::vector<cd>> paulis(count);
  for (unsigned p = 0; p < count; ++p) paulis[p] = hermitian_pauli(g, p);
  for (unsigned p = 0; p < count; ++p) {
    // V = U P U^dag
    std::vector<cd> up(d * d, 0.0), v(d * d, 0.0);
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t k = 0; k < d; ++k)
        for (std::size_t j = 0; j < d; ++j) up[i * d + j] += u[i * d + k] * paulis[p][k * d + j];
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t k = 0; k < d; ++k)
        for (std::size_t j = 0; j < d; ++j) v[i * d + j] += up[i * d + k] * std::conj(u[j * d + k]);
    bool found = false;
    for (unsigned q = 0; q < count && !found; ++q) {
      cd overlap = 0;  // tr(Q^dag V) / d = +-1 iff V = +-Q
      for (std::size_t e = 0; e < d * d; ++e) overlap += std::conj(paulis[q][e]) * v[e];
      overlap /= static_cast<double>(d);
      if (std::abs(overlap - 1.0) < 1e-9 || std::abs(overlap + 1.0) < 1e-9) {
        found = true;
        a.image[p] = static_cast<std::uint8_t>(q);
        a.sign[p] = overlap.real() < 0 ? 1 : 0;
      }
    }
    if (!found) return std::nullopt;
  }
  return a;
}


}  // namespace qw
