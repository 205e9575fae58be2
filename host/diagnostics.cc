// Module entanglement diagnostics (host/diagnostics.h). Formulas and sources: docs/diagnostics.md.
#include "host/diagnostics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>

#include "host/errors.h"
#include "kernels/bits.h"
#include "kernels/linalg.h"
#include "kernels/memory.h"

namespace qw::diag {
namespace {

constexpr index_t bit(unsigned q) { return index_t{1} << q; }

void check_subset(std::span<const unsigned> s, unsigned n, const char* who) {
  index_t seen = 0;
  for (unsigned q : s) {
    if (q >= n || q >= 64) {
      throw std::invalid_argument(std::string(who) + ": qubit " + std::to_string(q) +
                                  " out of range for " + std::to_string(n) + " qubits");
    }
    if (seen & bit(q)) {
      throw std::invalid_argument(std::string(who) + ": qubit " + std::to_string(q) + " repeated");
    }
    seen |= bit(q);
  }
}

// The qubits of 0..n-1 not in s, ascending.
std::vector<unsigned> complement(std::span<const unsigned> s, unsigned n) {
  std::vector<bool> in(n, false);
  for (unsigned q : s) in[q] = true;
  std::vector<unsigned> rest;
  for (unsigned q = 0; q < n; ++q) {
    if (!in[q]) rest.push_back(q);
  }
  return rest;
}

// deposit[v] = the index with bit qubits[j] equal to bit j of v, for v < 2^|qubits|.
std::vector<index_t> deposit_table(std::span<const unsigned> qubits) {
  std::vector<index_t> t(index_t{1} << qubits.size(), 0);
  for (std::size_t j = 0; j < qubits.size(); ++j) {
    const index_t half = index_t{1} << j;
    for (index_t v = 0; v < half; ++v) t[v + half] = t[v] | bit(qubits[j]);
  }
  return t;
}

index_t matrix_dim(std::span<const cplx> m, const char* who) {
  index_t d = 0;
  while (d * d < m.size()) d = d ? 2 * d : 1;
  if (m.empty() || d * d != m.size()) {
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(m.size()) +
                                " entries is not a 2^k x 2^k matrix");
  }
  return d;
}

std::vector<double> eigenvalues_host(std::span<const cplx> m, index_t dim) {
  DeviceArray<cplx> d(m.size());
  copy_to_device(d.data(), m.data(), m.size() * sizeof(cplx));
  return linalg::hermitian_eigenvalues(d.data(), dim);
}

}  // namespace

std::vector<cplx> reduced_density_matrix(const cplx* state_device, unsigned n,
                                         std::span<const unsigned> subset) {
  check_subset(subset, n, "reduced_density_matrix");
  const unsigned k = static_cast<unsigned>(subset.size());
  const index_t rows = index_t{1} << k, cols = index_t{1} << (n - k);
  std::vector<cplx> rho(rows * rows);
  DeviceArray<cplx> rho_device(rows * rows);

  // Ψ[row][col] = ψ[i] with row = the subset's bits of i and col = the other bits, ascending.
  // When the subset is the top k qubits in order, Ψ is the state itself.
  bool top = true;
  for (unsigned j = 0; j < k; ++j) top = top && subset[j] == n - k + j;
  if (top) {
    linalg::gram_rows(state_device, rows, cols, rho_device.data());
  } else {
    const index_t size = index_t{1} << n;
    DeviceArray<cplx> psi_device(size);
    {
      std::vector<cplx> psi(size);
      copy_to_host(psi.data(), state_device, size * sizeof(cplx));
      std::vector<cplx> permuted(size);
      // Gather by lookup: one table per byte of the index, giving that byte's row and column bits.
      std::vector<int> row_pos(n, -1), col_pos(n, -1);
      for (unsigned j = 0; j < k; ++j) row_pos[subset[j]] = static_cast<int>(j);
      {
        unsigned c = 0;
        for (unsigned q = 0; q < n; ++q) {
          if (row_pos[q] < 0) col_pos[q] = static_cast<int>(c++);
        }
      }
      const unsigned bytes = (n + 7) / 8;
      std::vector<index_t> row_of(bytes * 256, 0), col_of(bytes * 256, 0);
      for (unsigned p = 0; p < bytes; ++p) {
        for (unsigned v = 0; v < 256; ++v) {
          for (unsigned t = 0; t < 8 && 8 * p + t < n; ++t) {
            if (!((v >> t) & 1u)) continue;
            const unsigned q = 8 * p + t;
            if (row_pos[q] >= 0) row_of[p * 256 + v] |= bit(unsigned(row_pos[q]));
            else col_of[p * 256 + v] |= bit(unsigned(col_pos[q]));
          }
        }
      }
#pragma omp parallel for schedule(static) if (size >= (index_t{1} << 16))
      for (index_t i = 0; i < size; ++i) {
        index_t r = 0, c = 0;
        for (unsigned p = 0; p < bytes; ++p) {
          const unsigned v = static_cast<unsigned>((i >> (8 * p)) & 255u);
          r |= row_of[p * 256 + v];
          c |= col_of[p * 256 + v];
        }
        permuted[r * cols + c] = psi[i];
      }
      psi = {};
      copy_to_device(psi_device.data(), permuted.data(), size * sizeof(cplx));
    }
    linalg::gram_rows(psi_device.data(), rows, cols, rho_device.data());
  }
  copy_to_host(rho.data(), rho_device.data(), rho.size() * sizeof(cplx));
  return rho;
}

std::vector<cplx> pair_density_matrix(const cplx* state_device, unsigned n,
                                      std::span<const unsigned> a, std::span<const unsigned> b) {
  std::vector<unsigned> ab(a.begin(), a.end());
  ab.insert(ab.end(), b.begin(), b.end());
  return reduced_density_matrix(state_device, n, ab);
}

std::vector<cplx> partial_trace(const cplx* rho_host, unsigned n, std::span<const unsigned> keep) {
  check_subset(keep, n, "partial_trace");
  const std::vector<unsigned> rest = complement(keep, n);
  const std::vector<index_t> dk = deposit_table(keep), dr = deposit_table(rest);
  const index_t full = index_t{1} << n, dim = dk.size();
  std::vector<cplx> out(dim * dim);
#pragma omp parallel for schedule(static) if (dim * dim * dr.size() >= (index_t{1} << 16))
  for (index_t rc = 0; rc < dim * dim; ++rc) {
    const index_t r = rc / dim, c = rc % dim;
    double re = 0, im = 0;
    for (index_t e : dr) {
      const cplx v = rho_host[(dk[r] | e) * full + (dk[c] | e)];
      re += v.re;
      im += v.im;
    }
    out[rc] = cplx{static_cast<real>(re), static_cast<real>(im)};
  }
  return out;
}

double purity(std::span<const cplx> rho) {
  matrix_dim(rho, "purity");
  // Tr ρ² = Σ_ij ρ_ij ρ_ji = Σ_ij |ρ_ij|² for Hermitian ρ.
  double s = 0;
  for (const cplx& v : rho) s += static_cast<double>(v.re) * v.re + static_cast<double>(v.im) * v.im;
  return s;
}

double von_neumann_entropy_bits(std::span<const cplx> rho) {
  const index_t dim = matrix_dim(rho, "von_neumann_entropy_bits");
  double s = 0;
  // Eigenvalues that round below zero are zero: lim λ→0 of λ log λ is 0.
  for (double l : eigenvalues_host(rho, dim)) {
    if (l > 0) s -= l * std::log2(l);
  }
  return s;
}

double fidelity_pure(std::span<const cplx> rho, std::span<const cplx> phi) {
  const index_t dim = matrix_dim(rho, "fidelity_pure");
  if (phi.size() != dim) {
    throw std::invalid_argument("fidelity_pure: target has " + std::to_string(phi.size()) +
                                " amplitudes, the matrix is " + std::to_string(dim) + " wide");
  }
  double re = 0;
  for (index_t i = 0; i < dim; ++i) {
    double row_re = 0, row_im = 0;  // (ρ φ)_i
    for (index_t j = 0; j < dim; ++j) {
      const cplx r = rho[i * dim + j], p = phi[j];
      row_re += static_cast<double>(r.re) * p.re - static_cast<double>(r.im) * p.im;
      row_im += static_cast<double>(r.re) * p.im + static_cast<double>(r.im) * p.re;
    }
    re += static_cast<double>(phi[i].re) * row_re + static_cast<double>(phi[i].im) * row_im;
  }
  return re;
}

double log_negativity(std::span<const cplx> rho_ab, unsigned n_a, unsigned n_b) {
  const index_t dim = matrix_dim(rho_ab, "log_negativity");
  if (dim != index_t{1} << (n_a + n_b)) {
    throw std::invalid_argument("log_negativity: a " + std::to_string(dim) + "-wide matrix is not " +
                                std::to_string(n_a) + " + " + std::to_string(n_b) + " qubits");
  }
  // ρ^{T_A}[(a,b)][(a',b')] = ρ[(a',b)][(a,b')], A = the low n_a bits.
  const index_t ma = (index_t{1} << n_a) - 1;
  std::vector<cplx> pt(rho_ab.size());
  for (index_t i = 0; i < dim; ++i) {
    for (index_t j = 0; j < dim; ++j) {
      pt[i * dim + j] = rho_ab[((j & ma) | (i & ~ma)) * dim + ((i & ma) | (j & ~ma))];
    }
  }
  double trace_norm = 0;
  for (double l : eigenvalues_host(pt, dim)) trace_norm += std::fabs(l);
  // ||ρ^{T_A}||_1 >= Tr ρ = 1; rounding may put it a few ulps below.
  return std::max(0.0, std::log2(trace_norm));
}

// ---- --report specs ------------------------------------------------------------------------

namespace {

[[noreturn]] void bad_spec(const std::string& spec, const std::string& what) {
  throw InputError("--report '" + spec + "': " + what);
}

// "0-4,7" -> {0,1,2,3,4,7}.
std::vector<unsigned> parse_qubits(const std::string& spec, const std::string& text) {
  constexpr std::size_t kMaxListed = 4096;
  if (text.empty()) bad_spec(spec, "empty qubit list; expected e.g. 0-4 or 0,2,5");
  std::vector<unsigned> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    auto number = [&](const std::string& s) {
      unsigned v = 0;
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
        bad_spec(spec, "'" + item + "' is not a qubit index or a range LO-HI");
      }
      return v;
    };
    const std::size_t dash = item.find('-');
    unsigned lo = 0, hi = 0;
    if (dash == std::string::npos) {
      lo = hi = number(item);
    } else {
      lo = number(item.substr(0, dash));
      hi = number(item.substr(dash + 1));
      if (lo > hi) bad_spec(spec, "'" + item + "': empty range");
    }
    if (hi - lo >= kMaxListed || out.size() + (hi - lo) >= kMaxListed) {
      bad_spec(spec, "more than " + std::to_string(kMaxListed) + " qubits listed");
    }
    for (unsigned q = lo; q <= hi; ++q) out.push_back(q);
    pos = comma + 1;
  }
  return out;
}

// Sorted qubits as text with consecutive runs as ranges: {0,1,2,5} -> "0-2,5".
std::string qubits_text(const std::vector<unsigned>& q) {
  std::string s;
  for (std::size_t i = 0; i < q.size();) {
    std::size_t j = i;
    while (j + 1 < q.size() && q[j + 1] == q[j] + 1) ++j;
    if (!s.empty()) s += ',';
    s += std::to_string(q[i]);
    if (j > i) s += '-' + std::to_string(q[j]);
    i = j + 1;
  }
  return s;
}

const char* kind_word(Report::Kind k) {
  switch (k) {
    case Report::Kind::Entropy: return "entropy";
    case Report::Kind::Purity: return "purity";
    case Report::Kind::Negativity: return "log negativity";
    default: return "fidelity";
  }
}

// Qubits whose RDM evaluating r forms (for a pure state, the smaller side of an entropy or purity
// cut: both sides have the same nonzero spectrum).
unsigned formed_qubits(const Report& r, unsigned n, bool pure_state) {
  const unsigned k = static_cast<unsigned>(r.a.size());
  switch (r.kind) {
    case Report::Kind::Entropy:
    case Report::Kind::Purity: return pure_state ? std::min(k, n - k) : k;
    case Report::Kind::Negativity: return k + static_cast<unsigned>(r.b.size());
    default: return k;
  }
}

std::vector<cplx> ghz(unsigned k) {
  std::vector<cplx> phi(index_t{1} << k, cplx{0, 0});
  const real h = static_cast<real>(1 / std::sqrt(2.0));
  phi.front() = cplx{h, 0};
  phi.back() = cplx{h, 0};
  return phi;
}

ReportValue describe(const Report& r, double value) {
  const std::string qa = qubits_text(r.a);
  switch (r.kind) {
    case Report::Kind::Entropy:
      return {r.name, value, "bit",
              "von Neumann entropy -Tr(rho log2 rho) of the reduced state of qubits " + qa};
    case Report::Kind::Purity:
      return {r.name, value, "1", "purity Tr(rho^2) of the reduced state of qubits " + qa};
    case Report::Kind::Negativity:
      return {r.name, value, "ebit",
              "logarithmic negativity log2 ||rho^(T_A)||_1 between qubits " + qa + " (A) and " +
                  qubits_text(r.b) + " (B)"};
    default:
      return {r.name, value, "1",
              "fidelity <GHZ|rho|GHZ> of the reduced state of qubits " + qa +
                  " with GHZ = (|0...0> + |1...1>)/sqrt(2)"};
  }
}

}  // namespace

std::vector<Report> parse_reports(const std::vector<std::string>& specs) {
  std::vector<Report> out;
  std::set<std::string> names;
  for (const std::string& spec : specs) {
    Report r;
    r.spec = spec;
    const std::size_t colon = spec.find(':');
    if (colon == std::string::npos) {
      bad_spec(spec, "expected KIND:QUBITS, e.g. entropy:0-4, purity:0,2,5, negativity:0-1|2-3 or "
                     "fidelity:ghz:0-3");
    }
    const std::string kind = spec.substr(0, colon);
    std::string rest = spec.substr(colon + 1);
    std::string prefix;
    std::size_t groups = 1;
    if (kind == "entropy") {
      r.kind = Report::Kind::Entropy;
      prefix = "entropy";
    } else if (kind == "purity") {
      r.kind = Report::Kind::Purity;
      prefix = "purity";
    } else if (kind == "negativity") {
      r.kind = Report::Kind::Negativity;
      prefix = "log_negativity";
      groups = 2;
    } else if (kind == "fidelity") {
      const std::size_t c2 = rest.find(':');
      const std::string target = rest.substr(0, c2);
      if (c2 == std::string::npos || target != "ghz") {
        bad_spec(spec, "expected fidelity:TARGET:QUBITS with TARGET ghz, e.g. fidelity:ghz:0-3");
      }
      r.kind = Report::Kind::FidelityGhz;
      prefix = "fidelity_ghz";
      rest = rest.substr(c2 + 1);
    } else {
      bad_spec(spec, "unknown report '" + kind + "'; expected entropy, purity, negativity or fidelity");
    }
    const std::size_t bar = rest.find('|');
    if (groups == 1 && bar != std::string::npos) {
      bad_spec(spec, std::string("'|' separates the two subsets of a negativity report; ") +
                         kind + " takes one qubit list");
    }
    if (groups == 2 && (bar == std::string::npos || rest.find('|', bar + 1) != std::string::npos)) {
      bad_spec(spec, "expected two qubit lists separated by '|', e.g. negativity:0-1|2-3");
    }
    r.a = parse_qubits(spec, groups == 2 ? rest.substr(0, bar) : rest);
    if (groups == 2) r.b = parse_qubits(spec, rest.substr(bar + 1));
    std::set<unsigned> seen;
    for (const auto* g : {&r.a, &r.b}) {
      for (unsigned q : *g) {
        if (!seen.insert(q).second) bad_spec(spec, "qubit " + std::to_string(q) + " is listed twice");
      }
    }
    std::sort(r.a.begin(), r.a.end());
    std::sort(r.b.begin(), r.b.end());
    r.name = prefix + "_" + qubits_text(r.a);
    if (groups == 2) r.name += "_" + qubits_text(r.b);
    if (!names.insert(r.name).second) bad_spec(spec, "asks again for /summary/" + r.name);
    out.push_back(std::move(r));
  }
  return out;
}

void check_reports(const std::vector<Report>& reports, unsigned n, bool pure_state) {
  for (const Report& r : reports) {
    for (const auto* g : {&r.a, &r.b}) {
      for (unsigned q : *g) {
        if (q >= n) {
          bad_spec(r.spec, "qubit " + std::to_string(q) + " does not exist; the circuit has " +
                               std::to_string(n) + " qubit" + (n == 1 ? "" : "s") +
                               (n ? " (0-" + std::to_string(n - 1) + ")" : std::string()));
        }
      }
    }
    const unsigned m = formed_qubits(r, n, pure_state);
    if (m > kMaxRdmQubits) {
      bad_spec(r.spec, std::string("the ") + kind_word(r.kind) + " needs the RDM of " +
                           std::to_string(m) + " qubits, 2^" + std::to_string(2 * m) +
                           " entries; at most " + std::to_string(kMaxRdmQubits));
    }
  }
}

std::vector<ReportValue> evaluate_reports(const std::vector<Report>& reports,
                                          const cplx* state_device, unsigned n) {
  check_reports(reports, n, true);
  std::vector<ReportValue> out;
  for (const Report& r : reports) {
    double v = 0;
    switch (r.kind) {
      case Report::Kind::Entropy:
      case Report::Kind::Purity: {
        // Schmidt decomposition: ρ_A and ρ_complement share their nonzero spectrum; form the smaller.
        const std::vector<unsigned> other = complement(r.a, n);
        const auto rho = reduced_density_matrix(state_device, n, r.a.size() <= other.size()
                                                                     ? std::span<const unsigned>(r.a)
                                                                     : std::span<const unsigned>(other));
        v = r.kind == Report::Kind::Entropy ? von_neumann_entropy_bits(rho) : purity(rho);
        break;
      }
      case Report::Kind::Negativity:
        v = log_negativity(pair_density_matrix(state_device, n, r.a, r.b),
                           static_cast<unsigned>(r.a.size()), static_cast<unsigned>(r.b.size()));
        break;
      case Report::Kind::FidelityGhz:
        v = fidelity_pure(reduced_density_matrix(state_device, n, r.a),
                          ghz(static_cast<unsigned>(r.a.size())));
        break;
    }
    out.push_back(describe(r, v));
  }
  return out;
}

std::vector<ReportValue> evaluate_reports(const std::vector<Report>& reports,
                                          std::span<const cplx> rho_host, unsigned n) {
  if (n >= 32 || rho_host.size() != (index_t{1} << (2 * n))) {
    throw std::invalid_argument("evaluate_reports: density matrix has " +
                                std::to_string(rho_host.size()) + " entries, not 4^" +
                                std::to_string(n));
  }
  check_reports(reports, n, false);
  std::vector<ReportValue> out;
  for (const Report& r : reports) {
    double v = 0;
    switch (r.kind) {
      case Report::Kind::Entropy:
        v = von_neumann_entropy_bits(partial_trace(rho_host.data(), n, r.a));
        break;
      case Report::Kind::Purity:
        v = purity(partial_trace(rho_host.data(), n, r.a));
        break;
      case Report::Kind::Negativity: {
        std::vector<unsigned> ab = r.a;
        ab.insert(ab.end(), r.b.begin(), r.b.end());
        v = log_negativity(partial_trace(rho_host.data(), n, ab), static_cast<unsigned>(r.a.size()),
                           static_cast<unsigned>(r.b.size()));
        break;
      }
      case Report::Kind::FidelityGhz:
        v = fidelity_pure(partial_trace(rho_host.data(), n, r.a), ghz(static_cast<unsigned>(r.a.size())));
        break;
    }
    out.push_back(describe(r, v));
  }
  return out;
}

}  // namespace qw::diag
