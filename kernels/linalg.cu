// Dense linear algebra for reduced density matrices (kernels/linalg.h).
// cuda: cuBLAS herk and cuSOLVER heevd. cpu: CBLAS herk (OpenBLAS) and LAPACK heev, declared here
// by its Fortran symbol because Debian's OpenBLAS ships no LAPACKE header.
//
// BLAS and LAPACK are column-major. A row-major buffer read column-major is the transpose, so:
// * gram: the row-major rows x cols A is the column-major B = A^T (cols x rows, ld = cols), and
//   B^H B = conj(A) A^T = (A A†)^T, which read back row-major is A A†.
// * eigenvalues: the row-major H read column-major is H^T = conj(H), which has H's (real) spectrum;
//   its lower triangle is H's upper triangle.
#include "kernels/linalg.h"

#include <climits>
#include <stdexcept>
#include <string>

#include "kernels/launch.h"
#include "kernels/memory.h"

#if defined(__CUDACC__)
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>
#else
#include <cblas.h>
#include <cstddef>

extern "C" {
// LAPACK (Fortran ABI, gfortran's trailing hidden string lengths).
void zheev_(const char* jobz, const char* uplo, const int* n, void* a, const int* lda, double* w,
            void* work, const int* lwork, double* rwork, int* info, std::size_t jobz_len,
            std::size_t uplo_len);
void cheev_(const char* jobz, const char* uplo, const int* n, void* a, const int* lda, float* w,
            void* work, const int* lwork, float* rwork, int* info, std::size_t jobz_len,
            std::size_t uplo_len);
}
#endif

namespace qw::linalg {
namespace {

int blas_int(index_t v, const char* what) {
  if (v > static_cast<index_t>(INT_MAX)) {
    throw std::length_error(std::string("linalg: ") + what + " = " + std::to_string(v) +
                            " does not fit a 32-bit BLAS/LAPACK integer");
  }
  return static_cast<int>(v);
}

// herk writes one triangle (the row-major upper one here, column >= row); mirror it.
struct MirrorUpperToLower {
  cplx* m;
  index_t dim;
  QW_HD void operator()(index_t k) const {
    const index_t r = k / dim, c = k % dim;
    if (c < r) m[k] = conj(m[c * dim + r]);
  }
};

#if defined(__CUDACC__)
void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string(what) + " failed: cuBLAS status " + std::to_string(int(s)));
  }
}
void check_cusolver(cusolverStatus_t s, const char* what) {
  if (s != CUSOLVER_STATUS_SUCCESS) {
    throw std::runtime_error(std::string(what) + " failed: cuSOLVER status " +
                             std::to_string(int(s)));
  }
}

// One handle each for the process. Never destroyed: destroying at static-destruction time can run
// after the CUDA runtime has shut down.
cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t x{};
    check_cublas(cublasCreate(&x), "cublasCreate");
    return x;
  }();
  return h;
}
cusolverDnHandle_t cusolver() {
  static cusolverDnHandle_t h = [] {
    cusolverDnHandle_t x{};
    check_cusolver(cusolverDnCreate(&x), "cusolverDnCreate");
    return x;
  }();
  return h;
}
#endif

}  // namespace

void gram_rows(const cplx* a, index_t rows, index_t cols, cplx* out) {
  if (rows == 0) return;
  const int n = blas_int(rows, "rows");
  if (cols == 0) {
    std::vector<cplx> zeros(rows * rows, cplx{0, 0});
    copy_to_device(out, zeros.data(), zeros.size() * sizeof(cplx));
    return;
  }
  const int k = blas_int(cols, "cols");
#if defined(__CUDACC__)
  const real one = 1, zero = 0;
#if defined(QWEAVE_SINGLE_PRECISION)
  check_cublas(cublasCherk(cublas(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_C, n, k, &one,
                           reinterpret_cast<const cuComplex*>(a), k, &zero,
                           reinterpret_cast<cuComplex*>(out), n),
               "cublasCherk");
#else
  check_cublas(cublasZherk(cublas(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_C, n, k, &one,
                           reinterpret_cast<const cuDoubleComplex*>(a), k, &zero,
                           reinterpret_cast<cuDoubleComplex*>(out), n),
               "cublasZherk");
#endif
#else
  // CBLAS takes the row-major layout directly.
#if defined(QWEAVE_SINGLE_PRECISION)
  cblas_cherk(CblasRowMajor, CblasUpper, CblasNoTrans, n, k, 1.0f, a, k, 0.0f, out, n);
#else
  cblas_zherk(CblasRowMajor, CblasUpper, CblasNoTrans, n, k, 1.0, a, k, 0.0, out, n);
#endif
#endif
  for_each_index(rows * rows, MirrorUpperToLower{out, rows});
}

std::vector<double> hermitian_eigenvalues(const cplx* h, index_t dim) {
  if (dim == 0) return {};
  const int n = blas_int(dim, "dim");
  blas_int(dim * dim, "dim^2");
#if defined(__CUDACC__)
  DeviceArray<cplx> work_matrix(dim * dim);  // heevd overwrites its input
  copy_device_to_device(work_matrix.data(), h, dim * dim * sizeof(cplx));
  DeviceArray<real> w(dim);
  DeviceArray<int> info(1);
  int lwork = 0;
  const auto jobz = CUSOLVER_EIG_MODE_NOVECTOR;
  const auto uplo = CUBLAS_FILL_MODE_LOWER;
#if defined(QWEAVE_SINGLE_PRECISION)
  auto* m = reinterpret_cast<cuComplex*>(work_matrix.data());
  check_cusolver(cusolverDnCheevd_bufferSize(cusolver(), jobz, uplo, n, m, n, w.data(), &lwork),
                 "cusolverDnCheevd_bufferSize");
  DeviceArray<cuComplex> work(static_cast<std::size_t>(lwork > 0 ? lwork : 1));
  check_cusolver(cusolverDnCheevd(cusolver(), jobz, uplo, n, m, n, w.data(), work.data(), lwork,
                                  info.data()),
                 "cusolverDnCheevd");
#else
  auto* m = reinterpret_cast<cuDoubleComplex*>(work_matrix.data());
  check_cusolver(cusolverDnZheevd_bufferSize(cusolver(), jobz, uplo, n, m, n, w.data(), &lwork),
                 "cusolverDnZheevd_bufferSize");
  DeviceArray<cuDoubleComplex> work(static_cast<std::size_t>(lwork > 0 ? lwork : 1));
  check_cusolver(cusolverDnZheevd(cusolver(), jobz, uplo, n, m, n, w.data(), work.data(), lwork,
                                  info.data()),
                 "cusolverDnZheevd");
#endif
  int info_host = 0;
  copy_to_host(&info_host, info.data(), sizeof(int));
  std::vector<real> w_host(dim);
  copy_to_host(w_host.data(), w.data(), dim * sizeof(real));
#else
  std::vector<cplx> m(dim * dim);  // heev overwrites its input
  copy_to_host(m.data(), h, m.size() * sizeof(cplx));
  std::vector<real> w_host(dim);
  std::vector<real> rwork(dim > 1 ? 3 * dim - 2 : 1);
  int info_host = 0, lwork = -1;
  cplx query{};
  const char jobz = 'N', uplo = 'L';
#if defined(QWEAVE_SINGLE_PRECISION)
  cheev_(&jobz, &uplo, &n, m.data(), &n, w_host.data(), &query, &lwork, rwork.data(), &info_host, 1, 1);
#else
  zheev_(&jobz, &uplo, &n, m.data(), &n, w_host.data(), &query, &lwork, rwork.data(), &info_host, 1, 1);
#endif
  lwork = query.re > 1 ? static_cast<int>(query.re) : 2 * n;
  std::vector<cplx> work(static_cast<std::size_t>(lwork));
#if defined(QWEAVE_SINGLE_PRECISION)
  cheev_(&jobz, &uplo, &n, m.data(), &n, w_host.data(), work.data(), &lwork, rwork.data(), &info_host, 1, 1);
#else
  zheev_(&jobz, &uplo, &n, m.data(), &n, w_host.data(), work.data(), &lwork, rwork.data(), &info_host, 1, 1);
#endif
#endif
  if (info_host != 0) {
    throw std::runtime_error("hermitian_eigenvalues: eigensolver failed to converge (info = " +
                             std::to_string(info_host) + ", dim = " + std::to_string(dim) + ")");
  }
  return std::vector<double>(w_host.begin(), w_host.end());
}

}  // namespace qw::linalg
