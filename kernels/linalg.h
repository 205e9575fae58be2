// Dense linear algebra on the active backend's device memory (kernels/linalg.cu): cuBLAS/cuSOLVER on
// cuda, CBLAS/LAPACK from OpenBLAS on cpu. Matrices are row-major, complex in the build's precision.
// Used for reduced density matrices and their spectra (host/diagnostics.cc), so sizes are modest
// (at most 2^14 x 2^14): these calls favour simplicity over streams or batching.
#pragma once
#include <vector>

#include "kernels/bits.h"
#include "kernels/complex.h"

namespace qw::linalg {

// out = A A† (rows x rows, Hermitian, both triangles written); A is row-major rows x cols.
// a and out are device pointers and must not overlap. rows and cols must fit a 32-bit BLAS int.
void gram_rows(const cplx* a, index_t rows, index_t cols, cplx* out);

// Eigenvalues of the Hermitian dim x dim matrix h (device pointer, row-major; not modified), in
// ascending order. Only h's upper triangle (row <= column) is read.
std::vector<double> hermitian_eigenvalues(const cplx* h, index_t dim);

}  // namespace qw::linalg
