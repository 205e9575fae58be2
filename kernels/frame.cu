#include "kernels/frame.h"

#include <cmath>

#include "kernels/launch.h"
#include "kernels/memory.h"
#include "kernels/rng.h"

namespace qw::frame {
namespace {

QW_HD inline std::uint64_t random_word(const Frames& f, index_t w, std::uint64_t draw) {
  const auto r = philox_block(f.seed, f.first_word + w, draw);
  return static_cast<std::uint64_t>(r.v[0]) | (static_cast<std::uint64_t>(r.v[1]) << 32);
}

// Shot j of the word fires when its 32-bit uniform (block j / 4, lane j % 4) is below t.
QW_HD inline std::uint64_t bernoulli_word(const Frames& f, index_t w, std::uint64_t draw,
                                          std::uint64_t t) {
  if (t == 0) return 0;
  std::uint64_t m = 0;
  for (unsigned k = 0; k < 16; ++k) {
    const auto r = philox_block(f.seed, f.first_word + w, draw + k);
    for (unsigned j = 0; j < 4; ++j) {
      if (r.v[j] < t) m |= std::uint64_t{1} << (4 * k + j);
    }
  }
  return m;
}

QW_HD inline std::uint64_t parity4(std::uint64_t b0, std::uint64_t b1, std::uint64_t b2,
                                   std::uint64_t b3, std::uint8_t row) {
  std::uint64_t out = 0;
  if (row & 1) out ^= b0;
  if (row & 2) out ^= b1;
  if (row & 4) out ^= b2;
  if (row & 8) out ^= b3;
  return out;
}

struct CliffordKernel {
  Frames f;
  const std::uint32_t* qubits;
  std::uint32_t count;
  unsigned group;
  Gf2Map m;
  QW_HD void operator()(index_t w) const {
    const index_t W = f.words;
    for (std::uint32_t i = 0; i < count; ++i) {
      if (group == 1) {
        const index_t a = qubits[i] * W + w;
        const std::uint64_t x = f.x[a], z = f.z[a];
        f.x[a] = parity4(x, z, 0, 0, m.rows[0]);
        f.z[a] = parity4(x, z, 0, 0, m.rows[1]);
      } else {
        const index_t a = qubits[2 * i] * W + w, b = qubits[2 * i + 1] * W + w;
        const std::uint64_t x0 = f.x[a], z0 = f.z[a], x1 = f.x[b], z1 = f.z[b];
        f.x[a] = parity4(x0, z0, x1, z1, m.rows[0]);
        f.z[a] = parity4(x0, z0, x1, z1, m.rows[1]);
        f.x[b] = parity4(x0, z0, x1, z1, m.rows[2]);
        f.z[b] = parity4(x0, z0, x1, z1, m.rows[3]);
      }
    }
  }
};

// Anticommutation of the frame with a product's factors: X factor vs z bit, Z factor vs x bit.
QW_HD inline std::uint64_t anticommutation(const Frames& f, index_t w, const std::uint32_t* factors,
                                           std::uint32_t begin, std::uint32_t end) {
  std::uint64_t s = 0;
  for (std::uint32_t k = begin; k < end; ++k) {
    const index_t a = (factors[k] & kQubitMask) * f.words + w;
    if (factors[k] & kFactorX) s ^= f.z[a];
    if (factors[k] & kFactorZ) s ^= f.x[a];
  }
  return s;
}

QW_HD inline void xor_product(const Frames& f, index_t w, const std::uint32_t* factors,
                              std::uint32_t begin, std::uint32_t end, std::uint64_t mask) {
  for (std::uint32_t k = begin; k < end; ++k) {
    const index_t a = (factors[k] & kQubitMask) * f.words + w;
    if (factors[k] & kFactorX) f.x[a] ^= mask;
    if (factors[k] & kFactorZ) f.z[a] ^= mask;
  }
}

struct SppKernel {
  Frames f;
  const std::uint32_t *factors, *offsets;
  std::uint32_t products;
  QW_HD void operator()(index_t w) const {
    for (std::uint32_t i = 0; i < products; ++i) {
      const std::uint64_t s = anticommutation(f, w, factors, offsets[i], offsets[i + 1]);
      xor_product(f, w, factors, offsets[i], offsets[i + 1], s);
    }
  }
};

struct MeasureKernel {
  Frames f;
  const std::uint32_t *factors, *offsets;
  std::uint32_t products;
  Record rec;
  std::uint64_t first_result, flip_threshold, draw_base;
  QW_HD void operator()(index_t w) const {
    for (std::uint32_t i = 0; i < products; ++i) {
      const std::uint64_t draw = draw_base + kDrawsPerTarget * i;
      std::uint64_t s = anticommutation(f, w, factors, offsets[i], offsets[i + 1]);
      s ^= bernoulli_word(f, w, draw, flip_threshold);
      rec.bits[((first_result + i) % rec.slots) * f.words + w] = s;
      xor_product(f, w, factors, offsets[i], offsets[i + 1], random_word(f, w, draw + 16));
    }
  }
};

struct ResetKernel {
  Frames f;
  const std::uint32_t* factors;
  std::uint32_t count;
  std::uint64_t draw_base;
  QW_HD void operator()(index_t w) const {
    for (std::uint32_t i = 0; i < count; ++i) {
      const index_t a = (factors[i] & kQubitMask) * f.words + w;
      const std::uint64_t r = random_word(f, w, draw_base + kDrawsPerTarget * i + 16);
      f.x[a] = (factors[i] & kFactorX) ? r : 0;
      f.z[a] = (factors[i] & kFactorZ) ? r : 0;
    }
  }
};

struct ChannelKernel {
  Frames f;
  const std::uint32_t* qubits;
  std::uint32_t count;
  unsigned group;
  PauliTable t;
  Record rec;
  std::uint64_t first_result, draw_base;
  QW_HD void operator()(index_t w) const {
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint64_t draw = draw_base + kDrawsPerTarget * i;
      std::uint64_t e[4] = {0, 0, 0, 0}, herald = 0;
      for (unsigned k = 0; k < 16; ++k) {
        const auto r = philox_block(f.seed, f.first_word + w, draw + k);
        for (unsigned j = 0; j < 4; ++j) {
          const std::uint32_t u = r.v[j];
          unsigned c = 0;
          while (c < t.outcomes && u >= t.threshold[c]) ++c;
          if (c == t.outcomes) continue;  // no error
          const std::uint64_t bit = std::uint64_t{1} << (4 * k + j);
          const std::uint8_t p = t.pauli[c];
          for (unsigned b = 0; b < 4; ++b) {
            if (p & (1u << b)) e[b] |= bit;
          }
          if (t.herald[c]) herald |= bit;
        }
      }
      const index_t a = qubits[group * i] * f.words + w;
      f.x[a] ^= e[0];
      f.z[a] ^= e[1];
      if (group == 2) {
        const index_t b = qubits[group * i + 1] * f.words + w;
        f.x[b] ^= e[2];
        f.z[b] ^= e[3];
      }
      if (t.heralded) rec.bits[((first_result + i) % rec.slots) * f.words + w] = herald;
    }
  }
};

struct CorrelatedKernel {
  Frames f;
  const std::uint32_t* factors;
  std::uint32_t count;
  std::uint64_t threshold;
  bool else_branch;
  std::uint64_t* fired;
  std::uint64_t draw_base;
  QW_HD void operator()(index_t w) const {
    std::uint64_t fire = bernoulli_word(f, w, draw_base, threshold);
    if (else_branch) {
      fire &= ~fired[w];
      fired[w] |= fire;
    } else {
      fired[w] = fire;
    }
    xor_product(f, w, factors, 0, count, fire);
  }
};

struct ControlledPauliKernel {
  Frames f;
  Record rec;
  std::uint64_t slot;
  std::uint32_t qubit;
  bool x, z;
  QW_HD void operator()(index_t w) const {
    const std::uint64_t on = rec.bits[slot * f.words + w];
    const index_t a = qubit * f.words + w;
    if (x) f.x[a] ^= on;
    if (z) f.z[a] ^= on;
  }
};

struct XorRowsKernel {
  std::uint64_t* dst;
  Record rec;
  index_t words;
  std::uint64_t slots[64];
  unsigned count;
  QW_HD void operator()(index_t w) const {
    std::uint64_t s = dst[w];
    for (unsigned k = 0; k < count; ++k) s ^= rec.bits[slots[k] * words + w];
    dst[w] = s;
  }
};

struct ZeroKernel {
  std::uint64_t* p;
  QW_HD void operator()(index_t i) const { p[i] = 0; }
};

struct PackKernel {
  const std::uint64_t* bits;
  std::uint64_t rows;
  index_t words, bytes_per_shot;
  std::uint8_t* out;
  QW_HD void operator()(index_t shot) const {
    const index_t w = shot / 64;
    const unsigned b = static_cast<unsigned>(shot % 64);
    for (index_t byte = 0; byte < bytes_per_shot; ++byte) {
      unsigned v = 0;
      for (unsigned k = 0; k < 8; ++k) {
        const index_t r = byte * 8 + k;
        if (r < rows) v |= static_cast<unsigned>((bits[r * words + w] >> b) & 1u) << k;
      }
      out[shot * bytes_per_shot + byte] = static_cast<std::uint8_t>(v);
    }
  }
};

struct CountKernel {
  const std::uint64_t* bits;
  index_t words;
  std::uint64_t shots;
  std::uint64_t* out;
  QW_HD void operator()(index_t r) const {
    std::uint64_t n = 0;
    for (index_t w = 0; w < words; ++w) {
      std::uint64_t v = bits[r * words + w];
      const std::uint64_t valid = shots - w * 64;
      if (valid < 64) v &= (std::uint64_t{1} << valid) - 1;
      n += popcount64(v);
    }
    out[r] = n;
  }
};

}  // namespace

std::uint64_t threshold32(double p) {
  if (!(p > 0)) return 0;
  if (p >= 1) return std::uint64_t{1} << 32;
  return static_cast<std::uint64_t>(std::ceil(std::ldexp(p, 32)));
}

void apply_clifford(Frames f, const std::uint32_t* qubits, std::uint32_t count, unsigned group,
                    Gf2Map m) {
  for_each_index(f.words, CliffordKernel{f, qubits, count, group, m});
}

void apply_spp(Frames f, const std::uint32_t* factors, const std::uint32_t* offsets,
               std::uint32_t products) {
  for_each_index(f.words, SppKernel{f, factors, offsets, products});
}

void measure_products(Frames f, const std::uint32_t* factors, const std::uint32_t* offsets,
                      std::uint32_t products, Record rec, std::uint64_t first_result,
                      std::uint64_t flip_threshold, std::uint64_t draw_base) {
  for_each_index(f.words, MeasureKernel{f, factors, offsets, products, rec, first_result,
                                        flip_threshold, draw_base});
}

void reset_factors(Frames f, const std::uint32_t* factors, std::uint32_t count,
                   std::uint64_t draw_base) {
  for_each_index(f.words, ResetKernel{f, factors, count, draw_base});
}

void pauli_channel(Frames f, const std::uint32_t* qubits, std::uint32_t count, unsigned group,
                   const PauliTable& table, Record rec, std::uint64_t first_result,
                   std::uint64_t draw_base) {
  for_each_index(f.words, ChannelKernel{f, qubits, count, group, table, rec, first_result, draw_base});
}

void correlated_error(Frames f, const std::uint32_t* factors, std::uint32_t count,
                      std::uint64_t threshold, bool else_branch, std::uint64_t* fired,
                      std::uint64_t draw_base) {
  for_each_index(f.words, CorrelatedKernel{f, factors, count, threshold, else_branch, fired, draw_base});
}

void controlled_pauli(Frames f, Record rec, std::uint64_t slot, std::uint32_t qubit, bool x, bool z) {
  for_each_index(f.words, ControlledPauliKernel{f, rec, slot, qubit, x, z});
}

void xor_rows(std::uint64_t* dst, Record rec, index_t words, const std::uint64_t* slots, unsigned count) {
  XorRowsKernel k{dst, rec, words, {}, count};
  for (unsigned i = 0; i < count; ++i) k.slots[i] = slots[i];
  for_each_index(words, k);
}

void fill_zero(std::uint64_t* p, index_t n) { for_each_index(n, ZeroKernel{p}); }

void pack_shot_major(const std::uint64_t* bits, std::uint64_t rows, index_t words,
                     std::uint64_t shots, std::uint8_t* out) {
  const index_t bytes = (rows + 7) / 8;
  if (bytes == 0 || shots == 0) return;
  DeviceArray<std::uint8_t> d(shots * bytes);
  for_each_index(shots, PackKernel{bits, rows, words, bytes, d.data()});
  copy_to_host(out, d.data(), shots * bytes);
}

void count_row_ones(const std::uint64_t* bits, std::uint64_t rows, index_t words,
                    std::uint64_t shots, std::uint64_t* out) {
  if (rows == 0) return;
  DeviceArray<std::uint64_t> d(rows);
  for_each_index(rows, CountKernel{bits, words, shots, d.data()});
  copy_to_host(out, d.data(), rows * sizeof(std::uint64_t));
}

}  // namespace qw::frame
