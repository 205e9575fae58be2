// Running the qweave binary (or mpirun) from a test: the output (stdout and stderr together) and the
// exit status.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

namespace qw::testing {

// Runs `cmd` through the shell; *out gets what it printed. Returns its exit status, or -1 when it
// did not exit normally.
inline int run_command(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  std::string text;
  while (std::size_t k = fread(buf.data(), 1, buf.size(), p)) text.append(buf.data(), k);
  const int st = pclose(p);
  if (out) *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#if defined(QWEAVE_MPIEXEC)
// `mpiexec ARGS`: as root (CI) OpenMPI needs --allow-run-as-root; --oversubscribe lets 4 ranks share
// 2 cores.
inline int run_mpi(const std::string& args, std::string* out = nullptr) {
  return run_command(std::string(QWEAVE_MPIEXEC) + (geteuid() == 0 ? " --allow-run-as-root" : "") +
                         " --oversubscribe " + args,
                     out);
}
#endif

}  // namespace qw::testing
