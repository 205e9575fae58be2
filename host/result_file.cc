// The HDF5 result file, schema "qweave/1" (docs/hdf5.md). Serial HDF5 C API with the default file
// driver; every HDF5 failure becomes a std::runtime_error naming the file and the step that failed,
// with HDF5's innermost error description appended (its own stack printing is switched off).
#include "host/result_file.h"

#include "mpi/runtime.h"

#include <hdf5.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "host/errors.h"

#ifndef QWEAVE_VERSION
#define QWEAVE_VERSION "0.0.0"
#endif

namespace qw {
namespace {

static_assert(std::is_same_v<hid_t, std::int64_t>, "ResultFile stores hid_t as std::int64_t");

constexpr const char* kFormat = "qweave/1";
// Amplitudes are converted (single precision) and written this many at a time, so a huge state
// never needs a second full copy; 1 Mi elements = 16 MiB of float64 pairs.
constexpr std::uint64_t kAmplitudeSlab = std::uint64_t{1} << 20;
// Chunks of about 1 MiB: whole-chunk writes bypass the chunk cache, and readers of a slice do not
// have to read much more than they asked for.
constexpr std::uint64_t kAmplitudeChunk = std::uint64_t{1} << 16;
constexpr std::uint64_t kChunkBytes = std::uint64_t{1} << 20;

struct Float64Pair {
  double r;
  double i;
};
// In double precision the state is written in place, so cplx must be laid out as the compound.
static_assert(!std::is_same_v<real, double> ||
                  (sizeof(cplx) == sizeof(Float64Pair) && offsetof(cplx, im) == offsetof(Float64Pair, i)),
              "cplx must have the layout of the compound {r, i}");

void silence_hdf5_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// The innermost description on HDF5's error stack (the most specific one), or "".
std::string hdf5_detail() {
  std::string detail;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* out) -> herr_t {
        if (n == 0 && err->desc != nullptr) *static_cast<std::string*>(out) = err->desc;
        return 0;
      },
      &detail);
  return detail;
}

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, -1)), closer_(o.closer_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, -1);
      closer_ = o.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  void reset() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = -1;
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Checks an HDF5 result for a writer: throws "<path>: <what>: <hdf5 detail>".
[[noreturn]] void fail(const std::string& path, const std::string& what) {
  std::string detail = hdf5_detail();
  throw std::runtime_error(detail.empty() ? fmt::format("{}: {}", path, what)
                                          : fmt::format("{}: {}: {}", path, what, detail));
}
Handle check(hid_t id, Handle::Closer closer, const std::string& path, const std::string& what) {
  if (id < 0) fail(path, what);
  return Handle(id, closer);
}
void check(herr_t status, const std::string& path, const std::string& what) {
  if (status < 0) fail(path, what);
}

// Variable-length UTF-8 string: h5py reads it as str, and empty or long texts need no size.
Handle string_type(const std::string& path) {
  Handle t = check(H5Tcopy(H5T_C_S1), H5Tclose, path, "cannot create a string type");
  check(H5Tset_size(t.get(), H5T_VARIABLE), path, "cannot create a string type");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), path, "cannot create a string type");
  return t;
}

// The file type of /state/amplitudes, and the memory type of Float64Pair (the same layout).
Handle complex128_type(const std::string& path) {
  Handle t = check(H5Tcreate(H5T_COMPOUND, sizeof(Float64Pair)), H5Tclose, path,
                   "cannot create the complex type");
  check(H5Tinsert(t.get(), "r", offsetof(Float64Pair, r), H5T_NATIVE_DOUBLE), path,
        "cannot create the complex type");
  check(H5Tinsert(t.get(), "i", offsetof(Float64Pair, i), H5T_NATIVE_DOUBLE), path,
        "cannot create the complex type");
  return t;
}

void write_string_attr(hid_t obj, const char* name, const std::string& value,
                       const std::string& path) {
  const std::string what = fmt::format("cannot write attribute {}", name);
  Handle type = string_type(path);
  Handle space = check(H5Screate(H5S_SCALAR), H5Sclose, path, what);
  Handle attr = check(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                      H5Aclose, path, what);
  const char* data = value.c_str();
  check(H5Awrite(attr.get(), type.get(), &data), path, what);
}

template <typename T>
void write_scalar_attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, T value,
                       const std::string& path) {
  const std::string what = fmt::format("cannot write attribute {}", name);
  Handle space = check(H5Screate(H5S_SCALAR), H5Sclose, path, what);
  Handle attr;
  if (H5Aexists(obj, name) > 0) {
    attr = check(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, path, what);
  } else {
    attr = check(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                 path, what);
  }
  check(H5Awrite(attr.get(), mem_type, &value), path, what);
}

// Link creation that makes missing intermediate groups ("/links/a/b" without "/links").
Handle intermediate_groups_lcpl(const std::string& path) {
  Handle lcpl = check(H5Pcreate(H5P_LINK_CREATE), H5Pclose, path, "cannot create property list");
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), path, "cannot create property list");
  return lcpl;
}

// ---- reading, for describe_result_file ----------------------------------------------------------

std::string integer_name(hid_t type) {
  const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
  return fmt::format("{}int{}", is_signed ? "" : "u", 8 * H5Tget_size(type));
}

std::string type_name(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: return integer_name(type);
    case H5T_FLOAT: return fmt::format("float{}", 8 * H5Tget_size(type));
    case H5T_STRING: return "string";
    case H5T_COMPOUND: {
      const int n = H5Tget_nmembers(type);
      std::vector<std::string> names;
      bool all_float = true;
      for (int k = 0; k < n; ++k) {
        char* member = H5Tget_member_name(type, static_cast<unsigned>(k));
        names.emplace_back(member != nullptr ? member : "?");
        H5free_memory(member);
        all_float = all_float && H5Tget_member_class(type, static_cast<unsigned>(k)) == H5T_FLOAT;
      }
      if (n == 2 && all_float && names[0] == "r" && names[1] == "i") {
        return fmt::format("complex{} {{r, i}}", 8 * H5Tget_size(type));
      }
      return fmt::format("compound {{{}}}", fmt::join(names, ", "));
    }
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    default: return "other";
  }
}

// An attribute's value as text (scalar strings, integers and floats), or nullopt when absent.
std::optional<std::string> read_attr_text(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) return std::nullopt;
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (!type.valid() || !space.valid()) return std::nullopt;
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return "(array)";
  switch (H5Tget_class(type.get())) {
    case H5T_STRING: {
      if (H5Tis_variable_str(type.get()) > 0) {
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.get(), H5T_VARIABLE);
        H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
        char* data = nullptr;
        if (H5Aread(attr.get(), mem.get(), &data) < 0) return std::nullopt;
        std::string value = data != nullptr ? data : "";
        H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, &data);
        return value;
      }
      const size_t size = H5Tget_size(type.get());
      std::vector<char> buffer(size + 1, '\0');
      Handle mem(H5Tcopy(type.get()), H5Tclose);
      if (H5Aread(attr.get(), mem.get(), buffer.data()) < 0) return std::nullopt;
      return std::string(buffer.data(), strnlen(buffer.data(), size));
    }
    case H5T_INTEGER: {
      if (H5Tget_sign(type.get()) == H5T_SGN_2) {
        long long v = 0;
        if (H5Aread(attr.get(), H5T_NATIVE_LLONG, &v) < 0) return std::nullopt;
        return fmt::format("{}", v);
      }
      unsigned long long v = 0;
      if (H5Aread(attr.get(), H5T_NATIVE_ULLONG, &v) < 0) return std::nullopt;
      return fmt::format("{}", v);
    }
    case H5T_FLOAT: {
      double v = 0;
      if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v) < 0) return std::nullopt;
      return fmt::format("{}", v);
    }
    default: return "(" + type_name(type.get()) + ")";
  }
}

std::size_t count_lines(const std::string& text) {
  if (text.empty()) return 0;
  std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  if (text.back() != '\n') ++lines;
  return lines;
}

struct DatasetInfo {
  std::string path;  // "/state/amplitudes"
  std::string shape;  // "[8]", "scalar"
  std::string type;
  std::vector<std::pair<std::string, std::string>> attributes;  // name, value text
  std::optional<double> scalar;  // the value of a scalar float dataset
};

herr_t collect_attribute(hid_t obj, const char* name, const H5A_info_t*, void* out) {
  auto* info = static_cast<DatasetInfo*>(out);
  info->attributes.emplace_back(name, read_attr_text(obj, name).value_or("?"));
  return 0;
}

herr_t collect_dataset(hid_t group, const char* name, const H5L_info_t* link, void* out) {
  if (link->type != H5L_TYPE_HARD) return 0;
  Handle obj(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  if (!obj.valid() || H5Iget_type(obj.get()) != H5I_DATASET) return 0;
  DatasetInfo info;
  info.path = std::string("/") + name;
  Handle type(H5Dget_type(obj.get()), H5Tclose);
  Handle space(H5Dget_space(obj.get()), H5Sclose);
  info.type = type.valid() ? type_name(type.get()) : "?";
  const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank == 0) {
    info.shape = "scalar";
    if (H5Tget_class(type.get()) == H5T_FLOAT) {
      double v = 0;
      if (H5Dread(obj.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0) {
        info.scalar = v;
      }
    }
  } else if (rank > 0) {
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    info.shape = fmt::format("[{}]", fmt::join(dims, ", "));
  } else {
    info.shape = "?";
  }
  hsize_t index = 0;
  H5Aiterate2(obj.get(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &info);
  static_cast<std::vector<DatasetInfo>*>(out)->push_back(std::move(info));
  return 0;
}

}  // namespace

// ---- ResultFile ---------------------------------------------------------------------------------

ResultFile::ResultFile(const std::string& path, const RunAttributes& attrs) : path_(path) {
  silence_hdf5_errors();
  // Under MPI every rank opens the one file with the MPI-IO driver; metadata calls (attributes,
  // dataset creation) are then made by all ranks alike, data is written by the ranks that hold it.
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  mpi::hdf5_file_access(fapl);
  file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (file_ < 0) fail(path_, "cannot create the result file");
  try {
    write_string_attr(file_, "format", kFormat, path_);
    write_string_attr(file_, "version", QWEAVE_VERSION, path_);
    write_string_attr(file_, "engine", attrs.engine, path_);
    write_string_attr(file_, "backend", attrs.backend, path_);
    write_string_attr(file_, "precision", attrs.precision, path_);
    write_scalar_attr<std::int32_t>(file_, "ranks", H5T_STD_I32LE, H5T_NATIVE_INT32,
                                    static_cast<std::int32_t>(attrs.ranks), path_);
    write_scalar_attr<std::uint64_t>(file_, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, attrs.seed,
                                     path_);
    write_scalar_attr<std::uint64_t>(file_, "shots", H5T_STD_U64LE, H5T_NATIVE_UINT64, attrs.shots,
                                     path_);
    write_scalar_attr<std::uint32_t>(file_, "qubits", H5T_STD_U32LE, H5T_NATIVE_UINT32,
                                     attrs.qubits, path_);
    write_string_attr(file_, "config", attrs.config, path_);
    write_string_attr(file_, "circuit", attrs.circuit, path_);
    write_scalar_attr<std::uint8_t>(file_, "complete", H5T_STD_U8LE, H5T_NATIVE_UINT8, 0, path_);
    // Make the incomplete header visible on disk before any long computation runs.
    check(H5Fflush(file_, H5F_SCOPE_GLOBAL), path_, "cannot flush the result file");
  } catch (...) {
    H5Fclose(file_);
    file_ = -1;
    throw;
  }
}

ResultFile::~ResultFile() {
  if (file_ >= 0) H5Fclose(file_);
}

void ResultFile::write_amplitudes(const cplx* amps, std::uint64_t count) {
  write_complex("/state/amplitudes", amps, count, 1);
}

void ResultFile::write_amplitudes_slab(const cplx* slab, std::uint64_t first, std::uint64_t count,
                                       std::uint64_t total) {
  const std::string what = "cannot write /state/amplitudes";
  if (file_ < 0) throw std::runtime_error(path_ + ": " + what + ": file closed");
  Handle type = complex128_type(path_);
  const hsize_t dims[1] = {total};
  Handle space = check(H5Screate_simple(1, dims, nullptr), H5Sclose, path_, what);
  Handle dcpl = check(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, path_, what);
  if (total > 0) {
    const hsize_t chunk[1] = {std::min<std::uint64_t>(total, kAmplitudeChunk)};
    check(H5Pset_chunk(dcpl.get(), 1, chunk), path_, what);
  }
  Handle lcpl = intermediate_groups_lcpl(path_);
  Handle dset = check(H5Dcreate2(file_, "/state/amplitudes", type.get(), space.get(), lcpl.get(),
                                 dcpl.get(), H5P_DEFAULT),
                      H5Dclose, path_, what);
  // Every rank writes its own slab in one collective write per round of kAmplitudeSlab elements;
  // ranks with fewer rounds take part with an empty selection.
  const std::uint64_t rounds = (count + kAmplitudeSlab - 1) / kAmplitudeSlab;
  std::uint64_t all_rounds = rounds;
  mpi::max_over_ranks(&all_rounds);
  std::vector<Float64Pair> buffer;
  for (std::uint64_t k = 0; k < all_rounds; ++k) {
    const std::uint64_t start = k * kAmplitudeSlab;
    const std::uint64_t n = start < count ? std::min(kAmplitudeSlab, count - start) : 0;
    Handle file_space = check(H5Dget_space(dset.get()), H5Sclose, path_, what);
    const hsize_t offset[1] = {first + start}, extent[1] = {std::max<std::uint64_t>(n, 1)};
    Handle mem_space = check(H5Screate_simple(1, extent, nullptr), H5Sclose, path_, what);
    if (n > 0) {
      check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset, nullptr, extent, nullptr), path_, what);
    } else {
      check(H5Sselect_none(file_space.get()), path_, what);
      check(H5Sselect_none(mem_space.get()), path_, what);
    }
    buffer.resize(std::max<std::uint64_t>(n, 1));
    for (std::uint64_t i = 0; i < n; ++i) {
      buffer[i] = {static_cast<double>(slab[start + i].re), static_cast<double>(slab[start + i].im)};
    }
    Handle dxpl = check(H5Pcreate(H5P_DATASET_XFER), H5Pclose, path_, what);
    mpi::hdf5_collective_transfer(dxpl.get());
    check(H5Dwrite(dset.get(), type.get(), mem_space.get(), file_space.get(), dxpl.get(), buffer.data()),
          path_, what);
  }
}

void ResultFile::write_density(const cplx* rho, std::uint64_t dim) {
  write_complex("/state/density", rho, dim, dim);
}

// A complex128 dataset of rows x cols (cols == 1: 1-D), written in slabs of whole rows.
void ResultFile::write_complex(const char* name, const cplx* amps, std::uint64_t rows,
                               std::uint64_t cols) {
  const std::string what = std::string("cannot write ") + name;
  if (file_ < 0) throw std::runtime_error(path_ + ": " + what + ": file closed");
  const int rank = cols == 1 ? 1 : 2;
  Handle type = complex128_type(path_);
  const hsize_t dims[2] = {rows, cols};
  Handle space = check(H5Screate_simple(rank, dims, nullptr), H5Sclose, path_, what);
  Handle dcpl = check(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, path_, what);
  const std::uint64_t rows_per_slab = std::max<std::uint64_t>(1, kAmplitudeSlab / cols);
  if (rows > 0 && cols > 0) {
    // Chunk dimensions must not exceed fixed dataset dimensions, and must be positive.
    const hsize_t chunk[2] = {std::min<std::uint64_t>(rows, std::max<std::uint64_t>(1, kAmplitudeChunk / cols)),
                              std::min<std::uint64_t>(cols, kAmplitudeChunk)};
    check(H5Pset_chunk(dcpl.get(), rank, chunk), path_, what);
  }
  Handle lcpl = intermediate_groups_lcpl(path_);
  Handle dset = check(H5Dcreate2(file_, name, type.get(), space.get(), lcpl.get(), dcpl.get(),
                                 H5P_DEFAULT),
                      H5Dclose, path_, what);
  std::vector<Float64Pair> buffer;
  if constexpr (!std::is_same_v<real, double>) {
    buffer.resize(std::min<std::uint64_t>(rows, rows_per_slab) * cols);
  }
  // Rank 0 holds the state to write (the sharded layout comes with the scale-out work).
  for (std::uint64_t start = 0; start < rows && cols > 0 && mpi::rank() == 0; start += rows_per_slab) {
    const std::uint64_t n = std::min(rows_per_slab, rows - start);
    const hsize_t offset[2] = {start, 0};
    const hsize_t extent[2] = {n, cols};
    Handle file_space = check(H5Dget_space(dset.get()), H5Sclose, path_, what);
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset, nullptr, extent, nullptr),
          path_, what);
    Handle mem_space = check(H5Screate_simple(rank, extent, nullptr), H5Sclose, path_, what);
    const void* data = nullptr;
    const cplx* src = amps + start * cols;
    if constexpr (std::is_same_v<real, double>) {
      data = src;  // already {float64 r, float64 i}: written in place, no copy
    } else {
      for (std::uint64_t k = 0; k < n * cols; ++k) {
        buffer[k] = {static_cast<double>(src[k].re), static_cast<double>(src[k].im)};
      }
      data = buffer.data();
    }
    check(H5Dwrite(dset.get(), type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, data),
          path_, what);
  }
}

void ResultFile::write_bits(const std::string& dataset, const std::uint8_t* packed,
                            std::uint64_t shots, std::uint64_t bits) {
  write_bits_rows(dataset, packed, mpi::rank() == 0 ? 0 : shots, mpi::rank() == 0 ? shots : 0, shots,
                  bits);
}

void ResultFile::write_bits_rows(const std::string& dataset, const std::uint8_t* packed,
                                 std::uint64_t first_row, std::uint64_t rows, std::uint64_t shots,
                                 std::uint64_t bits) {
  const std::string what = fmt::format("cannot write {}", dataset);
  if (file_ < 0) throw std::runtime_error(path_ + ": " + what + ": file closed");
  const std::uint64_t row_bytes = (bits + 7) / 8;
  const hsize_t dims[2] = {shots, row_bytes};
  Handle space = check(H5Screate_simple(2, dims, nullptr), H5Sclose, path_, what);
  Handle dcpl = check(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, path_, what);
  if (shots > 0 && row_bytes > 0) {
    // Chunked along shots: whole rows, about kChunkBytes per chunk.
    const hsize_t chunk_cols = std::min(row_bytes, kChunkBytes);
    const hsize_t chunk_rows = std::clamp<std::uint64_t>(kChunkBytes / chunk_cols, 1, shots);
    const hsize_t chunk[2] = {chunk_rows, chunk_cols};
    check(H5Pset_chunk(dcpl.get(), 2, chunk), path_, what);
  }
  Handle lcpl = intermediate_groups_lcpl(path_);
  Handle dset = check(H5Dcreate2(file_, dataset.c_str(), H5T_STD_U8LE, space.get(), lcpl.get(),
                                 dcpl.get(), H5P_DEFAULT),
                      H5Dclose, path_, what);
  write_scalar_attr<std::uint64_t>(dset.get(), "bits", H5T_STD_U64LE, H5T_NATIVE_UINT64, bits,
                                   path_);
  if (shots == 0 || row_bytes == 0) return;
  // Every rank takes part in the (collective) write, with its own rows or with none.
  Handle file_space = check(H5Dget_space(dset.get()), H5Sclose, path_, what);
  const hsize_t offset[2] = {first_row, 0}, extent[2] = {rows, row_bytes};
  Handle mem_space = check(H5Screate_simple(2, extent, nullptr), H5Sclose, path_, what);
  if (rows > 0) {
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset, nullptr, extent, nullptr), path_, what);
  } else {
    check(H5Sselect_none(file_space.get()), path_, what);
    check(H5Sselect_none(mem_space.get()), path_, what);
  }
  Handle dxpl = check(H5Pcreate(H5P_DATASET_XFER), H5Pclose, path_, what);
  mpi::hdf5_collective_transfer(dxpl.get());
  static const std::uint8_t kNothing = 0;
  check(H5Dwrite(dset.get(), H5T_NATIVE_UINT8, mem_space.get(), file_space.get(), dxpl.get(),
                 rows > 0 ? packed : &kNothing),
        path_, what);
}

void ResultFile::write_summary(const std::string& name, double value, const std::string& units,
                               const std::string& description) {
  const std::string dataset = "/summary/" + name;
  const std::string what = fmt::format("cannot write {}", dataset);
  if (file_ < 0) throw std::runtime_error(path_ + ": " + what + ": file closed");
  Handle space = check(H5Screate(H5S_SCALAR), H5Sclose, path_, what);
  Handle lcpl = intermediate_groups_lcpl(path_);
  Handle dset = check(H5Dcreate2(file_, dataset.c_str(), H5T_IEEE_F64LE, space.get(), lcpl.get(),
                                 H5P_DEFAULT, H5P_DEFAULT),
                      H5Dclose, path_, what);
  if (mpi::rank() == 0) {
    check(H5Dwrite(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), path_, what);
  }
  write_string_attr(dset.get(), "units", units, path_);
  write_string_attr(dset.get(), "description", description, path_);
}

namespace {
// A numeric array dataset (float64 or uint64), chunked along the first axis, with units and
// description attributes.
void write_numeric(hid_t file, const std::string& path_, const std::string& dataset, const void* data,
                   hid_t file_type, hid_t mem_type, std::size_t elem_size,
                   const std::vector<std::uint64_t>& dims, const std::string& units,
                   const std::string& description) {
  const std::string what = fmt::format("cannot write {}", dataset);
  if (file < 0) throw std::runtime_error(path_ + ": " + what + ": file closed");
  std::vector<hsize_t> d(dims.begin(), dims.end());
  std::uint64_t total = 1, row = 1;
  for (std::size_t i = 0; i < d.size(); ++i) {
    total *= d[i];
    if (i > 0) row *= d[i];
  }
  Handle space = check(H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr), H5Sclose, path_, what);
  Handle dcpl = check(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, path_, what);
  if (total > 0) {
    std::vector<hsize_t> chunk(d);
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(d[0], (std::uint64_t{1} << 20) / (elem_size * row) + 1));
    check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), path_, what);
  }
  Handle lcpl = intermediate_groups_lcpl(path_);
  Handle dset = check(H5Dcreate2(file, dataset.c_str(), file_type, space.get(), lcpl.get(), dcpl.get(),
                                 H5P_DEFAULT),
                      H5Dclose, path_, what);
  if (total > 0 && mpi::rank() == 0) {
    check(H5Dwrite(dset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path_, what);
  }
  write_string_attr(dset.get(), "units", units, path_);
  write_string_attr(dset.get(), "description", description, path_);
}
}  // namespace

void ResultFile::write_array(const std::string& dataset, const double* data,
                             const std::vector<std::uint64_t>& dims, const std::string& units,
                             const std::string& description) {
  write_numeric(file_, path_, dataset, data, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sizeof(double), dims,
                units, description);
}

void ResultFile::write_array(const std::string& dataset, const std::uint64_t* data,
                             const std::vector<std::uint64_t>& dims, const std::string& units,
                             const std::string& description) {
  write_numeric(file_, path_, dataset, data, H5T_STD_U64LE, H5T_NATIVE_UINT64, sizeof(std::uint64_t),
                dims, units, description);
}

namespace {
Handle open_or_create_group(hid_t file, const std::string& group, const std::string& path) {
  const std::string what = fmt::format("cannot create group {}", group);
  if (H5Lexists(file, group.c_str(), H5P_DEFAULT) > 0) {
    return check(H5Gopen2(file, group.c_str(), H5P_DEFAULT), H5Gclose, path, what);
  }
  Handle lcpl = intermediate_groups_lcpl(path);
  return check(H5Gcreate2(file, group.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose, path, what);
}
}  // namespace

void ResultFile::write_group_attribute(const std::string& group, const std::string& name, double value) {
  if (file_ < 0) throw std::runtime_error(path_ + ": cannot write " + group + ": file closed");
  Handle g = open_or_create_group(file_, group, path_);
  write_scalar_attr<double>(g.get(), name.c_str(), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, value, path_);
}

void ResultFile::write_group_attribute(const std::string& group, const std::string& name, std::uint64_t value) {
  if (file_ < 0) throw std::runtime_error(path_ + ": cannot write " + group + ": file closed");
  Handle g = open_or_create_group(file_, group, path_);
  write_scalar_attr<std::uint64_t>(g.get(), name.c_str(), H5T_STD_U64LE, H5T_NATIVE_UINT64, value, path_);
}

void ResultFile::write_group_attribute(const std::string& group, const std::string& name, const std::string& value) {
  if (file_ < 0) throw std::runtime_error(path_ + ": cannot write " + group + ": file closed");
  Handle g = open_or_create_group(file_, group, path_);
  write_string_attr(g.get(), name.c_str(), value, path_);
}

void ResultFile::flush() {
  if (file_ < 0) return;
  check(H5Fflush(file_, H5F_SCOPE_GLOBAL), path_, "cannot flush the result file");
}

void ResultFile::close() {
  if (file_ < 0) return;
  const hid_t file = std::exchange(file_, -1);
  try {
    // Everything else reaches the disk before complete = 1 does.
    check(H5Fflush(file, H5F_SCOPE_GLOBAL), path_, "cannot flush the result file");
    write_scalar_attr<std::uint8_t>(file, "complete", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, path_);
  } catch (...) {
    H5Fclose(file);
    throw;
  }
  check(H5Fclose(file), path_, "cannot close the result file");
}

// ---- describe_result_file -----------------------------------------------------------------------

namespace {
herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

// The sweep points of a file (/points/<i>), one line each: the swept values (attributes named
// "table.key") and the headline result; "" when the file has none.
std::string describe_points(hid_t file) {
  if (H5Lexists(file, "/points", H5P_DEFAULT) <= 0) return "";
  Handle points(H5Gopen2(file, "/points", H5P_DEFAULT), H5Gclose);
  if (!points.valid()) return "";
  std::vector<std::string> names;
  H5Literate(points.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;  // numerical order of "0", "1", ..., "10"
  });
  std::string lines;
  std::size_t complete = 0;
  for (const std::string& name : names) {
    Handle g(H5Gopen2(points.get(), name.c_str(), H5P_DEFAULT), H5Gclose);
    if (!g.valid()) continue;
    DatasetInfo info;
    H5Aiterate2(g.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attribute, &info);
    std::string swept, result;
    bool done = false;
    for (const auto& [k, v] : info.attributes) {
      if (k.find('.') != std::string::npos) swept += fmt::format(" {}={}", k, v);
      if (k == "logical_error_rate" || k == "fidelity_mean" || k == "rate_hz") {
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        result += end && *end == '\0' ? fmt::format(" {}={:.6g}", k, x) : fmt::format(" {}={}", k, v);
      }
      if (k == "complete" && v != "0") done = true;
    }
    complete += done ? 1 : 0;
    lines += fmt::format("  {}:{} ->{}{}\n", name, swept, result, done ? "" : "  (not complete)");
  }
  return fmt::format("points: {} ({} complete)\n", names.size(), complete) + lines;
}
}  // namespace

std::string describe_result_file(const std::string& path) {
  silence_hdf5_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw InputError(fmt::format("{}: cannot open: no such file", path));
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw InputError(fmt::format("{}: cannot open: not an HDF5 file", path));
  }
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) {
    const std::string detail = hdf5_detail();
    throw InputError(fmt::format("{}: cannot open{}", path, detail.empty() ? "" : ": " + detail));
  }
  const std::optional<std::string> format = read_attr_text(file.get(), "format");
  if (!format) {
    throw InputError(fmt::format("{}: not a qweave result file (no format attribute)", path));
  }
  if (format->rfind("qweave/", 0) != 0) {
    throw InputError(
        fmt::format("{}: not a qweave result file (format attribute is \"{}\")", path, *format));
  }

  std::string out = fmt::format("{}\n", path);
  const auto attr = [&](const char* name) {
    return read_attr_text(file.get(), name).value_or("(missing)");
  };
  for (const char* name : {"format", "version", "engine", "backend", "precision", "ranks", "seed",
                           "shots", "qubits"}) {
    out += fmt::format("  {:<10} {}\n", name, attr(name));
  }
  const std::optional<std::string> complete = read_attr_text(file.get(), "complete");
  out += fmt::format("  {:<10} {}\n", "complete",
                     complete && *complete != "0" ? "yes" : "NO — the run did not finish cleanly");
  for (const char* name : {"circuit", "config"}) {
    const std::optional<std::string> text = read_attr_text(file.get(), name);
    const std::size_t lines = text ? count_lines(*text) : 0;
    out += fmt::format("  {:<10} {}\n", name,
                       !text ? "(missing)"
                       : lines == 0 ? "(none)"
                                    : fmt::format("{} line{}", lines, lines == 1 ? "" : "s"));
  }

  std::vector<DatasetInfo> datasets;
  H5Lvisit(file.get(), H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &datasets);
  out += "datasets:\n";
  if (datasets.empty()) out += "  (none)\n";
  std::size_t width = 0;
  for (const DatasetInfo& d : datasets) width = std::max(width, d.path.size());
  for (const DatasetInfo& d : datasets) {
    std::string line = fmt::format("  {:<{}}  {} {}", d.path, width, d.type, d.shape);
    for (const auto& [name, value] : d.attributes) {
      if (name == "bits") line += fmt::format("  bits = {}", value);
    }
    out += line + "\n";
  }

  bool summary_header = false;
  for (const DatasetInfo& d : datasets) {
    if (d.path.rfind("/summary/", 0) != 0 || !d.scalar) continue;
    if (!summary_header) out += "summary:\n";
    summary_header = true;
    std::string units;
    std::string description;
    for (const auto& [name, value] : d.attributes) {
      if (name == "units") units = value;
      if (name == "description") description = value;
    }
    std::string line = fmt::format("  {} = {}", d.path.substr(9), *d.scalar);
    if (!units.empty()) line += " " + units;
    if (!description.empty()) line += "  (" + description + ")";
    out += line + "\n";
  }
  out += describe_points(file.get());
  return out;
}

}  // namespace qw
