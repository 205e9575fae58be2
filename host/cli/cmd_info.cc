// qweave info FILE.h5: a readable summary of a result file.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "host/cli/commands.h"
#include "host/errors.h"
#include "host/result_file.h"

namespace qw::cli {

void add_info(CLI::App& app, InfoArgs& a) {
  auto* cmd = app.add_subcommand("info", "Print a readable summary of a qweave result file");
  cmd->add_option("file", a.file, "Result file (.h5)")->required();
}

int run_info(const InfoArgs& a) {
  fmt::print("{}", describe_result_file(a.file));
  return kExitOk;
}

}  // namespace qw::cli
