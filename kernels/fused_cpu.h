// cpu backend only: the fused-block loops compiled for AVX-512 (kernels/fused_cpu_avx512.cc, built
// with -mavx512f -mavx512vl -mavx512dq) and the run-time choice between them and the generic build
// of the same functions (kernels/fused_math.h). Results are bit-identical either way (no FMA: the
// build passes -ffp-contract=off; the loops only vectorise across rows, never reorder a sum).
#pragma once
#include "kernels/fused_math.h"

namespace qw::sv {

// True when the processor has AVX-512 (F, VL, DQ) and neither QWEAVE_FUSED_ISA=generic nor
// fused_cpu_force_generic(true) asks for the generic loops.
bool fused_cpu_has_avx512();
void fused_cpu_force_generic(bool generic);

void dense_range_avx512(const fused::DenseArgs& f, index_t g0, index_t g1);
void diagonal_range_avx512(const fused::DiagonalArgs& f, index_t i0, index_t i1);

}  // namespace qw::sv
