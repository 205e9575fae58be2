#include "kernels/frame.h"

#include <algorithm>
#include <cmath>

#include "kernels/launch.h"
#include "kernels/memory.h"
#include "kernels/rng.h"

namespace qw::frame {
namespace {

// Shot j of the word fires when its 32-bit uniform (block j / 4, lane j % 4) is below t.
QW_HD inline std::uint64_t per_shot_word(const Frames& f, index_t w, std::uint64_t draw,
                                         std::uint64_t t) {
  std::uint64_t m = 0;
  for (unsigned k = 0; k < 16; ++k) {
    const auto r = philox_block(f.seed, f.first_word + w, draw + k);
    for (unsigned j = 0; j < 4; ++j) {
      if (r.v[j] < t) m |= std::uint64_t{1} << (4 * k + j);
    }
  }
  return m;
}

// Geometric gap skipping. The gap before the first event is `first` (a lane of a screening block
// shared by 4 targets, see screen_draw); the gap before event n + 1 (n >= 1 events so far, at most
// 63) is lane (n - 1) % 4 of block draw + 1 + (n - 1) / 4. The common case at small p is no event:
// one compare, and a quarter of a Philox block per word and target.
QW_HD inline std::uint64_t gap_word(const Frames& f, index_t w, std::uint64_t draw, std::uint32_t first,
                                    const Bernoulli& b) {
  std::uint64_t m = 0;
  unsigned pos = 0;
  std::uint64_t r = first;
  r123::Philox4x32::ctr_type blk{};
  for (unsigned n = 0;; ++n) {
    const unsigned left = 64 - pos;
    if (r < b.run[left]) break;  // no event in the rest of the word
    unsigned lo = 0, hi = left;  // r < run[lo] (run[0] = 2^32), r >= run[hi]
    while (hi - lo > 1) {
      const unsigned mid = (lo + hi) / 2;
      if (r < b.run[mid]) lo = mid; else hi = mid;
    }
    pos += lo;
    m |= std::uint64_t{1} << pos;
    if (++pos == 64) break;
    if ((n & 3) == 0) blk = philox_block(f.seed, f.first_word + w, draw + 1 + n / 4);
    r = blk.v[n & 3];
  }
  return m;
}

// Screening block of target i: block 0 of target i & ~3, lane i % 4 is target i's first gap draw.
// Targets are asked for in increasing order, possibly with gaps (targets another rank owns).
struct Screen {
  r123::Philox4x32::ctr_type blk{};
  std::uint32_t loaded = ~0u;  // i / 4 of the block in blk
  QW_HD std::uint32_t draw(const Frames& f, index_t w, std::uint64_t draw_base, std::uint32_t i) {
    if ((i >> 2) != loaded) {
      loaded = i >> 2;
      blk = philox_block(f.seed, f.first_word + w, draw_base + kDrawsPerTarget * (i & ~3u));
    }
    return blk.v[i & 3];
  }
};

// Gauge bits of target i: lanes 2 (i % 2), 2 (i % 2) + 1 of block kGaugeBlock of target i & ~1.
struct Gauge {
  r123::Philox4x32::ctr_type blk{};
  std::uint32_t loaded = ~0u;  // i / 2 of the block in blk
  QW_HD std::uint64_t word(const Frames& f, index_t w, std::uint64_t draw_base, std::uint32_t i) {
    if ((i >> 1) != loaded) {
      loaded = i >> 1;
      blk = philox_block(f.seed, f.first_word + w, draw_base + kDrawsPerTarget * (i & ~1u) + kGaugeBlock);
    }
    const unsigned l = 2 * (i & 1);
    return static_cast<std::uint64_t>(blk.v[l]) | (static_cast<std::uint64_t>(blk.v[l + 1]) << 32);
  }
};

// Events of target i of a call (per-shot uniforms from its own blocks 0..15 when p is large).
QW_HD inline std::uint64_t bernoulli_word(const Frames& f, index_t w, std::uint64_t draw_base,
                                          std::uint32_t i, const Bernoulli& b, Screen& screen) {
  if (b.threshold == 0) return 0;
  const std::uint64_t draw = draw_base + kDrawsPerTarget * i;
  if (!b.skip) return per_shot_word(f, w, draw, b.threshold);
  return gap_word(f, w, draw, screen.draw(f, w, draw_base, i), b);
}

QW_HD inline std::uint64_t bit_mask(std::uint8_t row, unsigned k) {
  return std::uint64_t{0} - static_cast<std::uint64_t>((row >> k) & 1u);
}

// The GF(2) map as all-ones / all-zero masks: new bit j = XOR over k of (old bit k & mask[j][k]).
struct Gf2Masks {
  std::uint64_t m[4][4];
};

inline Gf2Masks masks_of(const Gf2Map& map) {
  Gf2Masks g{};
  for (unsigned j = 0; j < 4; ++j)
    for (unsigned k = 0; k < 4; ++k) g.m[j][k] = bit_mask(map.rows[j], k);
  return g;
}

// Words [w0, w1) with the targets outer and the words inner: on a CPU a tile of words per call keeps
// each target's rows in cache lines and lets the word loop vectorise; on a GPU one word per thread.
template <unsigned Group>
struct CliffordKernel {
  Frames f;
  const std::uint32_t* qubits;
  std::uint32_t count;
  Gf2Masks g;
  index_t tile;
  QW_HD void operator()(index_t t) const {
    const index_t W = f.words, w0 = t * tile, w1 = w0 + tile < W ? w0 + tile : W;
    std::uint64_t* x = f.x;
    std::uint64_t* z = f.z;
    for (std::uint32_t i = 0; i < count; ++i) {
      if constexpr (Group == 1) {
        if (!owns(f, qubits[i])) continue;
        std::uint64_t* xa = x + qubits[i] * W;
        std::uint64_t* za = z + qubits[i] * W;
        for (index_t w = w0; w < w1; ++w) {
          const std::uint64_t a = xa[w], b = za[w];
          xa[w] = (a & g.m[0][0]) ^ (b & g.m[0][1]);
          za[w] = (a & g.m[1][0]) ^ (b & g.m[1][1]);
        }
      } else {
        // A pair across ranks: the partner's rows were exchanged in before the call (host); both
        // rows are updated, the one this rank does not own is discarded.
        if (!owns(f, qubits[2 * i]) && !owns(f, qubits[2 * i + 1])) continue;
        std::uint64_t* xa = x + qubits[2 * i] * W;
        std::uint64_t* za = z + qubits[2 * i] * W;
        std::uint64_t* xb = x + qubits[2 * i + 1] * W;
        std::uint64_t* zb = z + qubits[2 * i + 1] * W;
        for (index_t w = w0; w < w1; ++w) {
          const std::uint64_t v0 = xa[w], v1 = za[w], v2 = xb[w], v3 = zb[w];
          xa[w] = (v0 & g.m[0][0]) ^ (v1 & g.m[0][1]) ^ (v2 & g.m[0][2]) ^ (v3 & g.m[0][3]);
          za[w] = (v0 & g.m[1][0]) ^ (v1 & g.m[1][1]) ^ (v2 & g.m[1][2]) ^ (v3 & g.m[1][3]);
          xb[w] = (v0 & g.m[2][0]) ^ (v1 & g.m[2][1]) ^ (v2 & g.m[2][2]) ^ (v3 & g.m[2][3]);
          zb[w] = (v0 & g.m[3][0]) ^ (v1 & g.m[3][1]) ^ (v2 & g.m[3][2]) ^ (v3 & g.m[3][3]);
        }
      }
    }
  }
};

#if defined(__CUDACC__)
inline constexpr index_t kTile = 1;
#else
inline constexpr index_t kTile = 32;
#endif

// Launches k over tiles of kTile words; on a CPU the parallel path starts at the same number of
// words as for_each_index's (so thread counts split the same work), tiles run serially below it.
template <class K>
void for_each_tile(index_t words, K k) {
  const index_t tiles = (words + kTile - 1) / kTile;
  if (tiles == 0) return;
#if !defined(__CUDACC__)
  if (words < kSerialBelow) {
    for (index_t t = 0; t < tiles; ++t) k(t);
    return;
  }
#endif
  thrust::for_each(thrust::device, thrust::counting_iterator<index_t>(0),
                   thrust::counting_iterator<index_t>(tiles), k);
}

// Anticommutation of the frame with a product's factors: X factor vs z bit, Z factor vs x bit
// (the owned factors only: with modules on ranks, a partial parity).
QW_HD inline std::uint64_t anticommutation(const Frames& f, index_t w, const std::uint32_t* factors,
                                           std::uint32_t begin, std::uint32_t end) {
  std::uint64_t s = 0;
  for (std::uint32_t k = begin; k < end; ++k) {
    if (!owns(f, factors[k] & kQubitMask)) continue;
    const index_t a = (factors[k] & kQubitMask) * f.words + w;
    if (factors[k] & kFactorX) s ^= f.z[a];
    if (factors[k] & kFactorZ) s ^= f.x[a];
  }
  return s;
}

QW_HD inline void xor_product(const Frames& f, index_t w, const std::uint32_t* factors,
                              std::uint32_t begin, std::uint32_t end, std::uint64_t mask) {
  for (std::uint32_t k = begin; k < end; ++k) {
    if (!owns(f, factors[k] & kQubitMask)) continue;
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
  std::uint64_t first_result;
  Bernoulli flip;
  bool gauge;
  std::uint64_t draw_base;
  QW_HD void operator()(index_t w) const {
    Screen screen;
    Gauge g;
    for (std::uint32_t i = 0; i < products; ++i) {
      std::uint64_t s = anticommutation(f, w, factors, offsets[i], offsets[i + 1]);
      const bool first = offsets[i] < offsets[i + 1] ? owns(f, factors[offsets[i]] & kQubitMask) : f.lead;
      if (first) s ^= bernoulli_word(f, w, draw_base, i, flip, screen);
      rec.bits[((first_result + i) % rec.slots) * f.words + w] = s;
      if (gauge) xor_product(f, w, factors, offsets[i], offsets[i + 1], g.word(f, w, draw_base, i));
    }
  }
};

struct ResetKernel {
  Frames f;
  const std::uint32_t* factors;
  std::uint32_t count;
  std::uint64_t draw_base;
  QW_HD void operator()(index_t w) const {
    Gauge g;
    for (std::uint32_t i = 0; i < count; ++i) {
      if (!owns(f, factors[i] & kQubitMask)) continue;
      const index_t a = (factors[i] & kQubitMask) * f.words + w;
      const std::uint64_t r = g.word(f, w, draw_base, i);
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
    Screen screen;
    for (std::uint32_t i = 0; i < count; ++i) {
      const bool own_a = owns(f, qubits[group * i]);
      const bool own_b = group == 2 && owns(f, qubits[group * i + 1]);
      if (!own_a && !own_b) {
        if (t.heralded) rec.bits[((first_result + i) % rec.slots) * f.words + w] = 0;
        continue;
      }
      const std::uint64_t draw = draw_base + kDrawsPerTarget * i;
      std::uint64_t e[4] = {0, 0, 0, 0}, herald = 0;
      if (t.any.skip) {
        // Events placed by gap skipping; the n-th one takes its outcome from lane n % 4 of block
        // kOutcomeBlock + n / 4.
        std::uint64_t hits = gap_word(f, w, draw, screen.draw(f, w, draw_base, i), t.any);
        r123::Philox4x32::ctr_type blk{};
        for (unsigned n = 0; hits; ++n, hits &= hits - 1) {
          const std::uint64_t bit = hits & (~hits + 1);
          unsigned c = 0;
          if (t.outcomes > 1) {
            if ((n & 3) == 0) blk = philox_block(f.seed, f.first_word + w, draw + kOutcomeBlock + n / 4);
            const std::uint32_t u = blk.v[n & 3];
            while (c + 1 < t.outcomes && u >= t.given[c]) ++c;
          }
          const std::uint8_t p = t.pauli[c];
          for (unsigned b = 0; b < 4; ++b) {
            if (p & (1u << b)) e[b] |= bit;
          }
          if (t.herald[c]) herald |= bit;
        }
      } else if (t.any.threshold != 0) {
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
      }
      if (t.heralded) rec.bits[((first_result + i) % rec.slots) * f.words + w] = own_a ? herald : 0;
      if ((e[0] | e[1] | e[2] | e[3]) == 0) continue;
      const index_t a = qubits[group * i] * f.words + w;
      if (own_a) {
        f.x[a] ^= e[0];
        f.z[a] ^= e[1];
      }
      if (own_b) {
        const index_t b = qubits[group * i + 1] * f.words + w;
        f.x[b] ^= e[2];
        f.z[b] ^= e[3];
      }
    }
  }
};

struct CorrelatedKernel {
  Frames f;
  const std::uint32_t* factors;
  std::uint32_t count;
  Bernoulli b;
  bool else_branch;
  std::uint64_t* fired;
  std::uint64_t draw_base;
  QW_HD void operator()(index_t w) const {
    Screen screen;
    std::uint64_t fire = bernoulli_word(f, w, draw_base, 0, b, screen);
    if (else_branch) {
      fire &= ~fired[w];
      fired[w] |= fire;
    } else {
      fired[w] = fire;
    }
    xor_product(f, w, factors, 0, count, fire);
  }
};

struct PerShotPauliKernel {
  Frames f;
  const std::uint32_t* qubits;
  std::uint32_t count;
  const std::uint64_t* cum;
  std::uint64_t draw_base;
  QW_HD void operator()(index_t w) const {
    for (std::uint32_t i = 0; i < count; ++i) {
      if (!owns(f, qubits[i])) continue;
      const std::uint64_t draw = draw_base + kDrawsPerTarget * i;
      std::uint64_t x = 0, z = 0;
      for (unsigned k = 0; k < 16; ++k) {
        const auto r = philox_block(f.seed, f.first_word + w, draw + k);
        for (unsigned j = 0; j < 4; ++j) {
          const std::uint64_t* c = cum + 3 * (w * 64 + 4 * k + j);
          const std::uint64_t u = r.v[j];
          const std::uint64_t bit = std::uint64_t{1} << (4 * k + j);
          if (u < c[0]) x |= bit;                      // X
          else if (u < c[1]) { x |= bit; z |= bit; }   // Y
          else if (u < c[2]) z |= bit;                 // Z
        }
      }
      const index_t a = qubits[i] * f.words + w;
      f.x[a] ^= x;
      f.z[a] ^= z;
    }
  }
};

struct ControlledPauliKernel {
  Frames f;
  Record rec;
  std::uint64_t slot;
  std::uint32_t qubit;
  bool x, z;
  QW_HD void operator()(index_t w) const {
    if (!owns(f, qubit)) return;
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

// One (word, byte of the row index) per call: 8 row words in, 64 shot bytes out.
struct PackKernel {
  const std::uint64_t* bits;
  std::uint64_t rows;
  index_t words, bytes_per_shot;
  std::uint64_t shots;
  std::uint8_t* out;
  QW_HD void operator()(index_t j) const {
    const index_t w = j / bytes_per_shot, byte = j % bytes_per_shot;
    std::uint64_t r[8];
    for (unsigned k = 0; k < 8; ++k) {
      const index_t row = byte * 8 + k;
      r[k] = row < rows ? bits[row * words + w] : 0;
    }
    const std::uint64_t left = shots - w * 64;
    const unsigned n = left < 64 ? static_cast<unsigned>(left) : 64u;
    for (unsigned g = 0; g * 8 < n; ++g) {
      // 8x8 bit transpose (Hacker's Delight 7-3): byte k = row k's 8 shots -> byte b = shot b's 8 rows.
      std::uint64_t x = 0;
      for (unsigned k = 0; k < 8; ++k) x |= ((r[k] >> (8 * g)) & 0xFFu) << (8 * k);
      std::uint64_t t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
      x ^= t ^ (t << 7);
      t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
      x ^= t ^ (t << 14);
      t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
      x ^= t ^ (t << 28);
      const unsigned m = n - 8 * g < 8 ? n - 8 * g : 8u;
      for (unsigned b = 0; b < m; ++b)
        out[(w * 64 + 8 * g + b) * bytes_per_shot + byte] = static_cast<std::uint8_t>(x >> (8 * b));
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

Bernoulli make_bernoulli(std::uint64_t threshold) {
  Bernoulli b;
  b.threshold = threshold;
  b.skip = threshold > 0 && threshold <= kGapBelow;
  if (!b.skip) return b;
  const double p = std::ldexp(static_cast<double>(threshold), -32);
  const double l = std::log1p(-p);
  b.run[0] = std::uint64_t{1} << 32;
  for (unsigned k = 1; k <= 64; ++k) {
    const double v = std::ldexp(std::exp(l * k), 32);
    b.run[k] = std::min<std::uint64_t>(b.run[k - 1], static_cast<std::uint64_t>(std::llround(v)));
  }
  return b;
}

void finish_table(PauliTable& t) {
  const std::uint64_t total = t.outcomes ? t.threshold[t.outcomes - 1] : 0;
  t.any = make_bernoulli(total);
  for (std::uint32_t c = 0; c < t.outcomes; ++c) {
    // ceil(threshold[c] / total * 2^32): outcome c given an event when u < given[c].
    const unsigned __int128 num = static_cast<unsigned __int128>(t.threshold[c]) << 32;
    t.given[c] = total ? static_cast<std::uint64_t>((num + total - 1) / total) : 0;
  }
  if (t.outcomes) t.given[t.outcomes - 1] = std::uint64_t{1} << 32;
}

void apply_clifford(Frames f, const std::uint32_t* qubits, std::uint32_t count, unsigned group,
                    Gf2Map m) {
  if (group == 1) {
    for_each_tile(f.words, CliffordKernel<1>{f, qubits, count, masks_of(m), kTile});
  } else {
    for_each_tile(f.words, CliffordKernel<2>{f, qubits, count, masks_of(m), kTile});
  }
}

void apply_spp(Frames f, const std::uint32_t* factors, const std::uint32_t* offsets,
               std::uint32_t products) {
  for_each_index(f.words, SppKernel{f, factors, offsets, products});
}

void measure_products(Frames f, const std::uint32_t* factors, const std::uint32_t* offsets,
                      std::uint32_t products, Record rec, std::uint64_t first_result,
                      const Bernoulli& flip, bool gauge, std::uint64_t draw_base) {
  for_each_index(f.words, MeasureKernel{f, factors, offsets, products, rec, first_result, flip, gauge,
                                        draw_base});
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
                      const Bernoulli& fire, bool else_branch, std::uint64_t* fired,
                      std::uint64_t draw_base) {
  for_each_index(f.words, CorrelatedKernel{f, factors, count, fire, else_branch, fired, draw_base});
}

void per_shot_pauli(Frames f, const std::uint32_t* qubits, std::uint32_t count, const std::uint64_t* cum,
                    std::uint64_t draw_base) {
  for_each_index(f.words, PerShotPauliKernel{f, qubits, count, cum, draw_base});
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
  const index_t used_words = (shots + 63) / 64;
  for_each_index(used_words * bytes, PackKernel{bits, rows, words, bytes, shots, d.data()});
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
