// qweave: simulator of modular quantum computers. Commands: sim, run, info, dem, gen.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <fmt/format.h>

#include "host/cli/commands.h"
#include "host/errors.h"
#include "host/version.h"
#include "kernels/memory.h"
#include "mpi/runtime.h"

namespace {
void report_error(const char* what) {
  if (qw::mpi::size() > 1) {
    fmt::print(stderr, "qweave: rank {} of {}: error: {}\n", qw::mpi::rank(), qw::mpi::size(), what);
  } else {
    fmt::print(stderr, "qweave: error: {}\n", what);
  }
}
}  // namespace

int main(int argc, char** argv) {
  qw::mpi::init(&argc, &argv);
  // Rank r of a node drives GPU r mod (visible GPUs) on the cuda backend.
  if (qw::mpi::size() > 1) qw::select_device(qw::mpi::rank_on_this_node());
  CLI::App app{"qweave: simulator of modular quantum computers (dense, frame and link engines)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", qw::version_string());

  qw::cli::SimArgs sim;
  qw::cli::add_sim(app, sim);
  qw::cli::RunArgs run;
  qw::cli::add_run(app, run);
  qw::cli::InfoArgs info;
  qw::cli::add_info(app, info);
  qw::cli::DemArgs dem;
  qw::cli::add_dem(app, dem);
  qw::cli::GenArgs gen;
  qw::cli::add_gen(app, gen);

  int status = qw::kExitOk;
  try {
    app.parse(argc, argv);
    if (app.got_subcommand("sim")) status = qw::cli::run_sim(sim);
    else if (app.got_subcommand("run")) status = qw::cli::run_run(run);
    else if (app.got_subcommand("info")) status = qw::cli::run_info(info);
    else if (app.got_subcommand("dem")) status = qw::cli::run_dem(dem);
    else if (app.got_subcommand("gen")) status = qw::cli::run_gen(gen);
  } catch (const CLI::Success& e) {
    status = app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    status = qw::kExitBadInput;
  } catch (const qw::InputError& e) {
    report_error(e.what());
    status = qw::kExitBadInput;
  } catch (const std::exception& e) {
    report_error(e.what());
    status = qw::kExitRuntime;
  }
  // A failing rank ends the whole job (its partners may wait in a collective call): no hang, and
  // the result file stays incomplete.
  if (status != qw::kExitOk && qw::mpi::size() > 1) qw::mpi::abort_all(status);
  qw::mpi::finalize();
  return status;
}
