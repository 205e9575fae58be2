// Entanglement diagnostics of a module (a qubit subset): reduced density matrices, purity, von
// Neumann entropy, fidelity to a pure target and the logarithmic negativity between two subsets,
// plus the `--report` specs that ask for them and the /summary values they produce.
// Formulas and sources: docs/diagnostics.md.
//
// Matrices on the host are row-major std::vector<cplx> (row = ket). In an RDM of the subset S,
// bit j of the row/column index is qubit S[j].
#pragma once
#include <span>
#include <string>
#include <vector>

#include "kernels/complex.h"

namespace qw::diag {

// Largest subset whose RDM is formed: 2^14 x 2^14 complex entries (4 GiB in double precision).
inline constexpr unsigned kMaxRdmQubits = 14;

// ρ_S = Tr_rest |ψ><ψ| of the n-qubit pure state on the device (2^n amplitudes), computed as Ψ Ψ†
// with Ψ[s][rest] the permuted state, through linalg::gram_rows. Subset qubits must be distinct
// and < n (std::invalid_argument otherwise). Result: 2^|S| x 2^|S|.
std::vector<cplx> reduced_density_matrix(const cplx* state_device, unsigned n,
                                         std::span<const unsigned> subset);

// ρ_A for two disjoint subsets of a pure state: the RDM of A ∪ B with A's qubits in the low bits
// (bit j = a[j] for j < |a|, bit |a| + j = b[j]), the layout log_negativity expects.
std::vector<cplx> pair_density_matrix(const cplx* state_device, unsigned n,
                                      std::span<const unsigned> a, std::span<const unsigned> b);

// Tr_rest ρ of an n-qubit density matrix on the host (2^n x 2^n). Result: 2^|keep| x 2^|keep|.
std::vector<cplx> partial_trace(const cplx* rho_host, unsigned n, std::span<const unsigned> keep);

// rho: a square row-major host matrix (size a perfect square of a power of two).
double purity(std::span<const cplx> rho);                    // Tr ρ²
double von_neumann_entropy_bits(std::span<const cplx> rho);  // -Tr ρ log2 ρ
double fidelity_pure(std::span<const cplx> rho, std::span<const cplx> phi);  // Re <φ|ρ|φ>
// log2 ||ρ^{T_A}||_1 with A the low n_a bits of the index and B the next n_b bits.
double log_negativity(std::span<const cplx> rho_ab, unsigned n_a, unsigned n_b);

// ---- --report specs ------------------------------------------------------------------------

struct Report {
  enum class Kind { Entropy, Purity, Negativity, FidelityGhz };
  Kind kind = Kind::Entropy;
  std::vector<unsigned> a;  // the module (Negativity: the first subset)
  std::vector<unsigned> b;  // Negativity only: the second subset
  std::string spec;         // as given on the command line, for messages
  std::string name;         // the /summary dataset name, e.g. "entropy_0-4"
};

struct ReportValue {
  std::string name;
  double value = 0;
  std::string units;
  std::string description;
};

// Parses specs such as "entropy:0-4", "purity:0,2,5", "negativity:0-1|2-3", "fidelity:ghz:0-3".
// Throws InputError naming the spec for malformed specs, repeated or overlapping qubits, and a
// spec given twice.
std::vector<Report> parse_reports(const std::vector<std::string>& specs);

// Checks qubit indices against n and the RDM size limit (for a pure state the smaller side of an
// entropy/purity cut is what is formed). Throws InputError naming the spec. Call before the run so
// that bad input fails before the result file is created; evaluate_reports calls it again.
void check_reports(const std::vector<Report>& reports, unsigned n, bool pure_state);

// Values for a pure n-qubit state on the device (normalised).
std::vector<ReportValue> evaluate_reports(const std::vector<Report>& reports,
                                          const cplx* state_device, unsigned n);
// Values for an n-qubit density matrix on the host, 2^n x 2^n row-major.
std::vector<ReportValue> evaluate_reports(const std::vector<Report>& reports,
                                          std::span<const cplx> rho_host, unsigned n);

}  // namespace qw::diag
