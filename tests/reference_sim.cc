#include "tests/reference_sim.h"

#include <algorithm>
#include <cmath>

namespace qw::testing {

Vec ref_zero_state(unsigned n) {
  Vec v(std::size_t{1} << n, 0.0);
  v[0] = 1.0;
  return v;
}

void ref_apply(Vec& psi, const std::vector<cd>& u, const std::vector<unsigned>& qubits) {
  const std::size_t g = qubits.size(), dim = std::size_t{1} << g;
  std::size_t mask = 0;
  for (unsigned q : qubits) mask |= std::size_t{1} << q;
  std::vector<std::size_t> idx(dim);
  Vec in(dim);
  for (std::size_t base = 0; base < psi.size(); ++base) {
    if (base & mask) continue;
    for (std::size_t k = 0; k < dim; ++k) {
      std::size_t i = base;
      for (std::size_t j = 0; j < g; ++j) if ((k >> j) & 1) i |= std::size_t{1} << qubits[j];
      idx[k] = i;
      in[k] = psi[i];
    }
    for (std::size_t r = 0; r < dim; ++r) {
      cd s = 0;
      for (std::size_t c = 0; c < dim; ++c) s += u[r * dim + c] * in[c];
      psi[idx[r]] = s;
    }
  }
}

double max_abs_diff(const Vec& a, const Vec& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

double max_abs_diff_up_to_phase(const Vec& a, const Vec& b) {
  cd overlap = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) overlap += std::conj(b[i]) * a[i];
  const cd phase = std::abs(overlap) > 0 ? overlap / std::abs(overlap) : 1.0;
  Vec c(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) c[i] = b[i] * phase;
  return max_abs_diff(a, c);
}

}  // namespace qw::testing
