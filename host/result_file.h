// The HDF5 result file (schema "qweave/1", docs/hdf5.md). Root attributes are written at creation
// with complete = 0; close() writes complete = 1 last. A file not closed cleanly stays incomplete.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/complex.h"

namespace qw {

struct RunAttributes {
  std::string engine;     // "sv", ...
  std::string backend;    // "cpu" or "cuda"
  std::string precision;  // "double" or "single"
  int ranks = 1;
  std::uint64_t seed = 0;
  std::uint64_t shots = 0;
  std::uint32_t qubits = 0;
  std::string config;   // experiment text ("" when run from a bare circuit)
  std::string circuit;  // circuit text
};

class ResultFile {
 public:
  // Creates (truncates) path and writes the root attributes. Throws std::runtime_error naming the
  // path when the file cannot be created.
  ResultFile(const std::string& path, const RunAttributes& attrs);
  ~ResultFile();  // closes without marking complete unless close() ran
  ResultFile(const ResultFile&) = delete;
  ResultFile& operator=(const ResultFile&) = delete;

  // /state/amplitudes: count complex values as the compound {r: float64, i: float64}.
  void write_amplitudes(const cplx* amps, std::uint64_t count);
  // /state/amplitudes written by all MPI ranks together: this rank's `count` amplitudes start at
  // index `first` of `total`. Every rank must call it (no rank gathers the whole state).
  void write_amplitudes_slab(const cplx* slab, std::uint64_t first, std::uint64_t count,
                             std::uint64_t total);
  // /state/density: dim x dim complex (compound {r, i}), row-major, row index = ket.
  void write_density(const cplx* rho, std::uint64_t dim);
  // dataset (e.g. "/measurements"): uint8 [shots, ceil(bits/8)], little-endian bit order inside a
  // byte, attribute bits.
  void write_bits(const std::string& dataset, const std::uint8_t* packed, std::uint64_t shots,
                  std::uint64_t bits);
  // The same table written by several MPI ranks together: this rank's rows [first_row, first_row +
  // rows) of `shots`. Every rank must call it (rows = 0 for a rank with none).
  void write_bits_rows(const std::string& dataset, const std::uint8_t* packed_rows,
                       std::uint64_t first_row, std::uint64_t rows, std::uint64_t shots,
                       std::uint64_t bits);
  // /summary/<name>: float64 scalar with attributes units and description.
  void write_summary(const std::string& name, double value, const std::string& units,
                     const std::string& description);
  // A float64 or uint64 array dataset of the given shape (row-major; e.g. "/links/ab/time_s" with
  // dims {episodes}), chunked along the first axis, with string attributes units and description.
  // Intermediate groups are created.
  void write_array(const std::string& dataset, const double* data,
                   const std::vector<std::uint64_t>& dims, const std::string& units,
                   const std::string& description);
  void write_array(const std::string& dataset, const std::uint64_t* data,
                   const std::vector<std::uint64_t>& dims, const std::string& units,
                   const std::string& description);
  // A scalar attribute on a group (e.g. "/points/3"), the group and its parents created when
  // missing; an existing numeric attribute of that name is overwritten. All ranks call it alike.
  void write_group_attribute(const std::string& group, const std::string& name, double value);
  void write_group_attribute(const std::string& group, const std::string& name, std::uint64_t value);
  void write_group_attribute(const std::string& group, const std::string& name, const std::string& value);
  // Pushes everything written so far to disk (e.g. after each point of a sweep).
  void flush();
  // Writes complete = 1 and closes. Only a clean end of a run calls this.
  void close();

  const std::string& path() const { return path_; }

 private:
  void write_complex(const char* name, const cplx* data, std::uint64_t rows, std::uint64_t cols);
  std::string path_;
  std::int64_t file_ = -1;  // hid_t
};

// A readable multi-line summary of a result file, for `qweave info`. Throws InputError when the
// file does not exist or is not a qweave result file.
std::string describe_result_file(const std::string& path);

}  // namespace qw
