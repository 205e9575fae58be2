#include "host/link_deliveries.h"

#include <array>
#include <cmath>

#include <fmt/format.h>

#include "host/errors.h"
#include "kernels/link_maps.h"

namespace qw {
namespace {

void count_uses(const Circuit& c, std::uint64_t times, const CircuitLinks& links,
                std::map<std::string, std::uint64_t>& uses) {
  for (const Instruction& op : c.instructions()) {
    if (op.gate == GateId::REPEAT) {
      count_uses(c.block(op), times * op.repeat_count, links, uses);
      continue;
    }
    if (op.gate != GateId::LINK) continue;
    const std::string& name = c.link_names.at(static_cast<std::size_t>(c.args(op)[0]));
    if (!links.links.count(name)) {
      std::string known;
      for (const auto& [n, e] : links.links) known += (known.empty() ? "" : ", ") + n;
      throw InputError(c.source_name, op.where.line, op.where.column,
                       fmt::format("LINK({}): no link named '{}' is defined (give --link {}=FILE.toml, a link "
                                   "experiment file){}", name, name, name,
                                   known.empty() ? "" : fmt::format("; defined: {}", known)));
    }
    uses[name] += times * (c.targets(op).size() / 2);
  }
}

// A 64-bit mix of the name (FNV-1a), so each link's episodes have their own key.
std::uint64_t name_key(const std::string& name) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char ch : name) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

void add_link_definition(CircuitLinks& links, const std::string& spec) {
  const std::size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    throw InputError(fmt::format("--link '{}': expected NAME=FILE.toml (a link experiment file)", spec));
  }
  const std::string name = spec.substr(0, eq), path = spec.substr(eq + 1);
  if (links.links.count(name)) throw InputError(fmt::format("--link '{}': link '{}' is defined twice", spec, name));
  const Experiment e = read_experiment_file(path);
  if (e.kind != "link") {
    throw InputError(fmt::format("{}: --link needs an experiment of kind = \"link\", this one is \"{}\"", path, e.kind));
  }
  links.links[name] = e.link;
}

std::map<std::string, std::uint64_t> link_uses(const Circuit& c, const CircuitLinks& links) {
  std::map<std::string, std::uint64_t> uses;
  count_uses(c, 1, links, uses);
  return uses;
}

void sample_link_deliveries(CircuitLinks& links, const Circuit& c, std::uint64_t seed, std::uint64_t first_shot,
                            std::uint64_t shots) {
  links.first_shot = first_shot;
  links.shots = shots;
  links.deliveries.clear();
  links.elapsed_s.assign(shots, 0.0);
  for (const auto& [name, per_shot] : link_uses(c, links)) {
    LinkExperiment e = links.links.at(name);
    // Episodes [0, (first_shot + shots) * per_shot): the leading ones belong to other ranks' shots
    // and are dropped, so a shot's pairs do not depend on how the shots were split.
    e.episodes = (first_shot + shots) * per_shot;
    e.seed = seed ^ name_key(name);
    const LinkExperimentResult r = run_link_experiment(e);
    if (r.failed_episodes) {
      throw InputError(fmt::format("link '{}': {} of {} episodes delivered no pair (restart guard); the link "
                                   "cannot serve this circuit", name, r.failed_episodes, e.episodes));
    }
    LinkDeliveries& d = links.deliveries[name];
    d.per_shot = per_shot;
    const std::uint64_t skip = first_shot * per_shot;
    d.time_s.assign(r.time_s.begin() + static_cast<std::ptrdiff_t>(skip), r.time_s.end());
    d.weights.assign(r.bell_diagonal.begin() + static_cast<std::ptrdiff_t>(4 * skip), r.bell_diagonal.end());
    for (std::uint64_t s = 0; s < shots; ++s)
      for (std::uint64_t k = 0; k < per_shot; ++k) links.elapsed_s[s] += d.time(s, k);
  }
}

std::array<double, 4> waiting_pauli(const CircuitLinks& links, double t_s) {
  if (!links.waiting_decoheres() || !(t_s > 0)) return {1, 0, 0, 0};
  const PauliProbs p = memory_pauli_twirl(t_s, links.t1_s, links.t2_s);
  return {p.p[0], p.p[1], p.p[2], p.p[3]};
}

}  // namespace qw
