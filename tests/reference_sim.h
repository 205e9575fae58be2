// An independent, deliberately plain simulator for tests: std::complex<double>, a full 2^g x 2^g
// matrix per gate applied by explicit index gathering. Shares no kernel code with qweave.
#pragma once
#include <complex>
#include <cstdint>
#include <vector>

namespace qw::testing {

using cd = std::complex<double>;
using Vec = std::vector<cd>;

// Applies the dim x dim matrix u (row-major, index bit j = qubits[j]) to psi.
void ref_apply(Vec& psi, const std::vector<cd>& u, const std::vector<unsigned>& qubits);
Vec ref_zero_state(unsigned n);
// max_i |a_i - b_i|
double max_abs_diff(const Vec& a, const Vec& b);
// Same, after removing the global phase that best aligns b with a.
double max_abs_diff_up_to_phase(const Vec& a, const Vec& b);

}  // namespace qw::testing
