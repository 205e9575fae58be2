// One file per qweave command; main.cc wires them into CLI11.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace CLI { class App; }

namespace qw::cli {

struct SimArgs {
  std::string circuit;
  std::string engine = "sv";
  std::string format = "auto";
  std::uint64_t shots = 1;
  std::uint64_t seed = 0;
  std::string output;  // "" -> <circuit stem>.h5 in the current directory
  bool no_output = false;
  bool save_state = false;
  int threads = 0;
  double memory_limit_gib = 0;
  double t1_s = 0;  // 0: not given (infinite)
  double t2_s = 0;
  std::uint64_t batch = 0;
  bool shard = false;
  bool dry_run = false;
  bool frame_measurements = false;  // --engine frame: also write /measurements
  std::vector<std::string> links;   // --link NAME=FILE.toml: the links LINK(NAME) draws pairs from
  std::string format_out = "hdf5";  // --engine frame: "hdf5" | "01" | "b8" (Stim's shot formats)
  std::string obs_out;              // with 01/b8: observables to this file instead of appended
  std::string split = "shots";      // under MPI, --engine frame: "shots" | "modules" (one module per rank)
  bool no_fusion = false;            // dense engines: run every gate on its own
  unsigned fusion_qubits = 0;        // largest fused block (0: the engine's default)
  std::vector<std::string> modules;  // --module 0-5 --module 6-11: qubit lists
  std::string platform;
  std::vector<std::string> reports;  // module diagnostics (docs/diagnostics.md)  // preset name or TOML file: adds its noise to the circuit
  bool quiet = false;
};
void add_sim(CLI::App& app, SimArgs& args);
int run_sim(const SimArgs& args);

struct RunArgs {
  std::string file;
  std::string output;
  bool no_output = false;
  std::vector<std::string> overrides;
  bool quiet = false;
};
void add_run(CLI::App& app, RunArgs& args);
int run_run(const RunArgs& args);

struct InfoArgs {
  std::string file;
};
void add_info(CLI::App& app, InfoArgs& args);
int run_info(const InfoArgs& args);

struct DemArgs {
  std::string circuit;
  std::string format = "auto";
  std::string output;  // "" or "-": standard output
};
void add_dem(CLI::App& app, DemArgs& args);
// Writes text to `path`, or to standard output for "" or "-" (qweave dem, qweave gen); `what` names
// it in the error when the file cannot be written.
void write_text_output(const std::string& path, const std::string& text, const char* what);
int run_dem(const DemArgs& args);

struct GenArgs {
  std::string code;  // surface | repetition
  unsigned distance = 3;
  unsigned rounds = 3;
  std::string basis = "Z";
  double p = 0;
  std::string platform;
  std::string partition = "split";
  unsigned modules = 1;
  double interface_error = 0;
  double interface_idle = 0;
  double bell_fidelity = 1;
  unsigned purification_rounds = 0;
  double link_wait_s = 0;
  std::string link;    // link experiment file: bell fidelity and waiting time from the link engine
  std::string output;  // "" or "-": standard output
};
void add_gen(CLI::App& app, GenArgs& args);
int run_gen(const GenArgs& args);

}  // namespace qw::cli
