// Fused-block kernels (single source, kernels/fused.cu; the math in kernels/fused_math.h): one pass
// over the state applies a dense 2^k x 2^k matrix (k <= 6) or a diagonal of 2^k entries (k <= 12)
// built by the fusion pass (host/fusion.h). Pointers are device pointers of the active backend;
// n is the number of amplitudes (a batch of segments works too: the segment index is high bits).
#pragma once
#include <cstdint>
#include "kernels/bits.h"
#include "kernels/complex.h"
#include "kernels/fused_math.h"

namespace qw::sv {

// matrix: 2 * 4^k reals in device memory, the real parts of the 2^k x 2^k matrix column-major
// (entry (r, c) at c * 2^k + r), then the imaginary parts. Bit j of r and c is qubits[j].
void apply_dense(cplx* a, index_t n, unsigned k, const unsigned* qubits, const real* matrix);

// diag: 2^k entries in device memory, entry t for the amplitudes whose bit qubits[j] is bit j of t.
void apply_diagonal(cplx* a, index_t n, unsigned k, const unsigned* qubits, const cplx* diag);

// The instruction set the cpu backend's fused kernels run with ("avx512", "generic"; "cuda").
const char* fused_kernel_isa();

}  // namespace qw::sv
