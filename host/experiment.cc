#include "host/experiment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <toml++/toml.h>

#include "host/decoder.h"
#include "host/errors.h"
#include "host/result_file.h"
#include "kernels/link_episodes.h"
#include "kernels/memory.h"
#include "mpi/runtime.h"

namespace qw {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// bdcz: refuse chains whose every episode needs more than 2^this elementary pairs (hours per episode).
constexpr std::int64_t kMaxLog2PairsPerEpisode = 32;
constexpr std::int64_t kMaxMemoriesPerNode = 1024;  // memory.qubits_per_node

enum class Type { String, Integer, Number };

struct Key {
  const char* table;
  const char* key;
  Type type;
  const char* meaning;
};

// The schema; docs/experiments.md documents each key (a test checks that it lists all of them).
constexpr Key kKeys[] = {
    {"experiment", "kind", Type::String, "what to run: \"link\", \"memory\" or \"circuit\""},
    {"experiment", "circuit", Type::String, "circuit: the circuit file (Stim or OpenQASM), relative to the experiment file"},
    {"experiment", "engine", Type::String, "circuit: \"sv\" (default), \"dm\" or \"frame\""},
    {"experiment", "shots", Type::Integer, "memory: shots to sample and decode"},
    {"code", "type", Type::String, "memory: \"surface\" (rotated) or \"repetition\""},
    {"code", "distance", Type::Integer, "memory: code distance"},
    {"code", "rounds", Type::Integer, "memory: stabiliser measurement rounds (default: the distance)"},
    {"code", "basis", Type::String, "memory: \"Z\" or \"X\""},
    {"noise", "p", Type::Number, "memory: SD6 circuit noise strength"},
    {"noise", "platform", Type::String, "memory: platform preset or TOML file; its gate errors and T1/T2 replace p"},
    {"modules", "link_wait_s", Type::Number, "memory: seconds per round that qubits wait for links (needs a platform)"},
    {"modules", "link", Type::String, "memory: a link experiment file whose pairs give bell_fidelity and link_wait_s"},
    {"modules", "count", Type::Integer, "memory: modules the code is spread over"},
    {"modules", "partition", Type::String, "memory: \"split\" or \"distributed\""},
    {"modules", "interface_error", Type::Number, "memory, split: DEPOLARIZE2 on every cross-module CNOT"},
    {"modules", "interface_idle", Type::Number, "memory: DEPOLARIZE1 per round on qubits waiting for a link"},
    {"modules", "bell_fidelity", Type::Number, "memory, distributed: Werner fidelity of each Bell pair"},
    {"modules", "purification_rounds", Type::Integer, "memory, distributed: BBPSSW rounds on each Bell pair"},
    {"decoder", "kind", Type::String, "memory: \"mwpm\" or \"union_find\""},
    {"decoder", "threads", Type::Integer, "memory: decoding threads per rank (0: all)"},
    {"experiment", "episodes", Type::Integer, "delivered pairs to simulate"},
    {"experiment", "seed", Type::Integer, "seed of the counter-based RNG"},
    {"link", "name", Type::String, "name of the link in the result file (/links/<name>)"},
    {"link", "source", Type::String, "\"werner\" (abstract source) or \"fiber\" (heralded over fibre)"},
    {"link", "fidelity", Type::Number, "werner: fidelity of each elementary pair"},
    {"link", "success_probability", Type::Number, "werner: heralding success per attempt"},
    {"link", "scheme", Type::String, "fiber: \"double_click\" or \"single_click\""},
    {"link", "length_km", Type::Number, "total length of the chain; stations mid-segment"},
    {"link", "attenuation_db_per_km", Type::Number, "fiber: loss"},
    {"link", "efficiency", Type::Number, "fiber: collection x detector efficiency"},
    {"link", "visibility", Type::Number, "fiber: two-photon visibility"},
    {"link", "dark_count_probability", Type::Number, "fiber: per detector per window"},
    {"link", "bright_state_alpha", Type::Number, "single_click: bright-state population"},
    {"link", "fibre_index", Type::Number, "fiber: refractive index (speed of light c/n)"},
    {"link", "attempt_time_s", Type::Number, "local operations of one attempt (fiber: plus the photon's flight and the herald)"},
    {"link", "segments", Type::Integer, "elementary links in the chain, joined by swapping"},
    {"link", "protocol", Type::String, "repeater protocol: \"swap_asap\" or \"bdcz\" (nested, 2^n segments)"},
    {"link", "purification", Type::String, "\"none\", \"bbpssw\", \"dejmps\" (recurrence) or \"pumping\" (DEJMPS with fresh pairs)"},
    {"link", "purification_rounds", Type::Integer, "recurrence rounds (or pumping steps) on every segment"},
    {"link", "state", Type::String, "\"bell_diagonal\" (twirled) or \"density\" (exact 4x4 memories, swaps and purification)"},
    {"memory", "t1_s", Type::Number, "T1 of the memory qubits (inf: no decay)"},
    {"memory", "t2_s", Type::Number, "T2 of the memory qubits (<= 2 T1)"},
    {"memory", "cutoff_s", Type::Number, "a stored pair waiting longer is discarded"},
    {"memory", "qubits_per_node", Type::Integer, "memory qubits per node at each segment end: pairs generated at once (multiplexing)"},
    {"noise", "two_qubit_depolarising", Type::Number, "DEPOLARIZE2 after each two-qubit gate of swaps and purification"},
    {"noise", "readout_error", Type::Number, "flip probability of each measured bit in swaps and purification"},
};

const Key* find_key(std::string_view table, std::string_view key) {
  for (const auto& k : kKeys) {
    if (table == k.table && key == k.key) return &k;
  }
  return nullptr;
}

std::string keys_of(std::string_view table) {
  std::string s;
  for (const auto& k : kKeys) {
    if (table == k.table) s += fmt::format("{}{}", s.empty() ? "" : ", ", k.key);
  }
  return s;
}

[[noreturn]] void fail_at(const toml::source_region& where, const std::string& fallback_file,
                          const std::string& what) {
  const std::string file = where.path ? std::string(*where.path) : fallback_file;
  throw InputError(file, static_cast<unsigned>(where.begin.line), static_cast<unsigned>(where.begin.column), what);
}

const char* type_name(const toml::node& n) {
  if (n.is_string()) return "a string";
  if (n.is_integer()) return "an integer";
  if (n.is_floating_point()) return "a float";
  if (n.is_boolean()) return "a boolean";
  if (n.is_table()) return "a table";
  if (n.is_array()) return "an array";
  return "a date or time";
}

toml::table parse_toml(const std::string& text, const std::string& name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    fail_at(e.source(), name, std::string(e.description()));
  }
}

void apply_override(toml::table& root, const std::string& spec) {
  const auto eq = spec.find('=');
  const std::string label = "--set " + spec;
  if (eq == std::string::npos) throw InputError(label + ": expected table.key=value");
  const std::string path = spec.substr(0, eq), value = spec.substr(eq + 1);
  const auto dot = path.find('.');
  if (dot == std::string::npos) throw InputError(label + ": expected table.key=value (e.g. link.length_km=50)");
  const std::string table = path.substr(0, dot), key = path.substr(dot + 1);
  if (!find_key(table, key)) {
    throw InputError(fmt::format("{}: unknown key '{}' in [{}] (keys: {})", label, key, table, keys_of(table)));
  }
  toml::table snippet = parse_toml("v = " + value, label);
  auto* t = root[table].as_table();
  if (!t) {
    root.insert_or_assign(table, toml::table{});
    t = root[table].as_table();
  }
  t->insert_or_assign(key, std::move(*snippet.get("v")));
}

struct Reader {
  const toml::table& root;
  std::string file;
  const std::map<std::string, toml::source_region>* swept = nullptr;  // "table.key" -> its [sweep] value

  const toml::node* node(const char* table, const char* key) const {
    const auto* t = root[table].as_table();
    return t ? t->get(key) : nullptr;
  }
  double number(const char* table, const char* key, double fallback) const {
    const toml::node* n = node(table, key);
    if (!n) return fallback;
    if (n->is_floating_point()) return n->as_floating_point()->get();
    if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
    fail_at(n->source(), file, fmt::format("{}.{} must be a number, got {}", table, key, type_name(*n)));
  }
  std::int64_t integer(const char* table, const char* key, std::int64_t fallback) const {
    const toml::node* n = node(table, key);
    if (!n) return fallback;
    if (n->is_integer()) return n->as_integer()->get();
    fail_at(n->source(), file, fmt::format("{}.{} must be an integer, got {}", table, key, type_name(*n)));
  }
  std::string string(const char* table, const char* key, const std::string& fallback) const {
    const toml::node* n = node(table, key);
    if (!n) return fallback;
    if (n->is_string()) return n->as_string()->get();
    fail_at(n->source(), file, fmt::format("{}.{} must be a string, got {}", table, key, type_name(*n)));
  }
  // Fails at the key's place (or the file when the key is absent).
  [[noreturn]] void bad(const char* table, const char* key, const std::string& why) const {
    const toml::node* n = node(table, key);
    if (swept) {
      // A value put in by [sweep]: report it where it stands in the sweep's array.
      const auto it = swept->find(std::string(table) + "." + key);
      if (it != swept->end()) fail_at(it->second, file, fmt::format("{}.{} {}", table, key, why));
    }
    if (n) fail_at(n->source(), file, fmt::format("{}.{} {}", table, key, why));
    throw InputError(fmt::format("{}: {}.{} {}", file, table, key, why));
  }
};


// [sweep]: "table.key" = [values] (or table.key = [...] as a dotted key); in file order.
using SweepEntry = std::pair<std::string, const toml::array*>;
std::vector<SweepEntry> sweep_entries(const toml::table& root, const std::string& file) {
  std::vector<SweepEntry> out;
  const auto* sweep = root["sweep"].as_table();
  if (!sweep) return out;
  for (auto&& [kname, knode] : *sweep) {
    std::vector<std::pair<std::string, const toml::node*>> items;
    if (const auto* sub = knode.as_table()) {
      for (auto&& [k2, n2] : *sub) items.push_back({std::string(kname.str()) + "." + std::string(k2.str()), &n2});
    } else {
      items.push_back({std::string(kname.str()), &knode});
    }
    for (const auto& [path, node] : items) {
      const auto dot = path.find('.');
      const std::string table = dot == std::string::npos ? "" : path.substr(0, dot);
      const std::string key = dot == std::string::npos ? path : path.substr(dot + 1);
      if (!find_key(table, key)) {
        fail_at(node->source(), file, fmt::format("[sweep] '{}' is not a key: give \"table.key\" = [values], "
                                                  "e.g. \"noise.p\" = [0.001, 0.002]", path));
      }
      if (table == "experiment" && key == "kind") fail_at(node->source(), file, "[sweep] cannot sweep experiment.kind");
      const auto* values = node->as_array();
      if (!values || values->empty()) {
        fail_at(node->source(), file, fmt::format("[sweep] {} must be a non-empty array of values", path));
      }
      for (const auto& [p, a] : out) {
        if (p == path) fail_at(node->source(), file, fmt::format("[sweep] {} is given twice", path));
      }
      out.push_back({path, values});
    }
  }
  return out;
}

std::string value_text(const toml::node& n) {
  if (n.is_string()) return n.as_string()->get();
  if (n.is_integer()) return std::to_string(n.as_integer()->get());
  if (n.is_floating_point()) return fmt::format("{}", n.as_floating_point()->get());
  if (n.is_boolean()) return n.as_boolean()->get() ? "true" : "false";
  return "?";
}

MemoryExperiment parse_memory(const Reader& r) {
  MemoryExperiment m;
  gen::MemorySpec& s = m.spec;
  const std::int64_t shots = r.integer("experiment", "shots", 10000);
  if (shots < 1) r.bad("experiment", "shots", fmt::format("= {} must be at least 1", shots));
  m.shots = static_cast<std::uint64_t>(shots);
  const std::int64_t seed = r.integer("experiment", "seed", 0);
  if (seed < 0) r.bad("experiment", "seed", fmt::format("= {} must be >= 0", seed));
  m.seed = static_cast<std::uint64_t>(seed);
  s.code = r.string("code", "type", "surface");
  if (s.code != "surface" && s.code != "repetition") {
    r.bad("code", "type", fmt::format("= \"{}\": use \"surface\" or \"repetition\"", s.code));
  }
  const std::int64_t d = r.integer("code", "distance", 3);
  if (d < 2 || d > 99) r.bad("code", "distance", fmt::format("= {} must be in [2, 99]", d));
  s.distance = static_cast<unsigned>(d);
  const std::int64_t rounds = r.integer("code", "rounds", d);
  if (rounds < 1 || rounds > 100000) r.bad("code", "rounds", fmt::format("= {} must be in [1, 100000]", rounds));
  s.rounds = static_cast<unsigned>(rounds);
  const std::string basis = r.string("code", "basis", "Z");
  if (basis != "X" && basis != "Z") r.bad("code", "basis", fmt::format("= \"{}\": use \"X\" or \"Z\"", basis));
  s.basis = basis[0];
  auto probability = [&](const char* t, const char* k, double fallback) {
    const double v = r.number(t, k, fallback);
    if (!(v >= 0 && v <= 1)) r.bad(t, k, fmt::format("= {} must be in [0, 1]", v));
    return v;
  };
  s.platform = r.string("noise", "platform", "");
  s.p = probability("noise", "p", s.platform.empty() ? 0.001 : 0.0);
  if (!s.platform.empty() && s.p != 0) {
    r.bad("noise", "p", fmt::format("= {} and platform = \"{}\": the platform's gate errors replace p; give one of them",
                                    s.p, s.platform));
  }
  const std::int64_t count = r.integer("modules", "count", 1);
  if (count < 1) r.bad("modules", "count", fmt::format("= {} must be at least 1", count));
  s.modules = static_cast<unsigned>(count);
  s.partition = r.string("modules", "partition", "split");
  if (s.partition != "split" && s.partition != "distributed") {
    r.bad("modules", "partition", fmt::format("= \"{}\": use \"split\" or \"distributed\"", s.partition));
  }
  s.interface_error = probability("modules", "interface_error", 0);
  s.interface_idle = probability("modules", "interface_idle", 0);
  s.bell_fidelity = r.number("modules", "bell_fidelity", 1);
  s.link_wait_s = r.number("modules", "link_wait_s", 0);
  if (!(s.link_wait_s >= 0) || std::isinf(s.link_wait_s)) {
    r.bad("modules", "link_wait_s", fmt::format("= {} must be a duration >= 0", s.link_wait_s));
  }
  if (s.link_wait_s > 0 && s.platform.empty()) {
    r.bad("modules", "link_wait_s", "needs noise.platform (its T1/T2 give the idle noise); without one give interface_idle");
  }
  s.link = r.string("modules", "link", "");
  if (!s.link.empty()) {
    // Relative to the experiment file's folder, like an include.
    std::filesystem::path link(s.link);
    if (link.is_relative()) {
      const std::filesystem::path near = std::filesystem::path(r.file).parent_path() / link;
      std::error_code ec;
      if (std::filesystem::exists(near, ec)) s.link = near.string();
    }
    std::error_code ec;
    if (!std::filesystem::exists(s.link, ec)) {
      r.bad("modules", "link", fmt::format("= \"{}\": no such file (a link experiment, e.g. examples/links/*.toml; "
                                           "relative to the experiment file)", r.string("modules", "link", "")));
    }
    if (s.platform.empty()) r.bad("modules", "link", "needs noise.platform (its T1/T2 give the idle noise while waiting)");
  }
  const std::int64_t pr = r.integer("modules", "purification_rounds", 0);
  if (pr < 0 || pr > 16) r.bad("modules", "purification_rounds", fmt::format("= {} must be in [0, 16]", pr));
  s.purification_rounds = static_cast<unsigned>(pr);
  m.decoder = r.string("decoder", "kind", "mwpm");
  if (m.decoder != "mwpm" && m.decoder != "union_find") {
    r.bad("decoder", "kind", fmt::format("= \"{}\": use \"mwpm\" or \"union_find\"", m.decoder));
  }
  if (m.decoder == "mwpm" && !have_mwpm_decoder()) {
    r.bad("decoder", "kind", "= \"mwpm\" needs LEMON, which this build lacks: use \"union_find\"");
  }
  const std::int64_t threads = r.integer("decoder", "threads", 0);
  if (threads < 0 || threads > 4096) r.bad("decoder", "threads", fmt::format("= {} must be in [0, 4096]", threads));
  m.threads = static_cast<int>(threads);
  // The generator's own checks (module counts against the distance, keys of the other partition).
  try {
    gen::validate(s);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: [code]/[modules]/[noise]: {}", r.file, e.what()));
  }
  return m;
}

// The cartesian product of the sweep's values, first key slowest: every point's tables, its swept
// values and where they stand in [sweep] (so that a bad value is reported at its place there).
struct SweepTable {
  std::vector<std::pair<std::string, std::string>> values;
  toml::table table;
  std::map<std::string, toml::source_region> where;
};

std::vector<SweepTable> sweep_tables(const toml::table& root, const std::string& file,
                                     const std::vector<SweepEntry>& sweep) {
  std::vector<SweepTable> out;
  if (sweep.empty()) return out;
  std::uint64_t total = 1;
  for (const auto& [k, a] : sweep) {
    total *= a->size();
    if (total > 100000) throw InputError(file + ": [sweep] has more than 100000 points");
  }
  for (std::uint64_t i = 0; i < total; ++i) {
    SweepTable sp;
    sp.table = root;
    sp.table.erase("sweep");
    std::uint64_t rest = i;
    std::vector<std::size_t> pick(sweep.size());
    for (std::size_t k = sweep.size(); k-- > 0;) {
      pick[k] = rest % sweep[k].second->size();
      rest /= sweep[k].second->size();
    }
    for (std::size_t k = 0; k < sweep.size(); ++k) {
      const std::string& path = sweep[k].first;
      const auto dot = path.find('.');
      const std::string table = path.substr(0, dot), key = path.substr(dot + 1);
      const toml::node& v = *sweep[k].second->get(pick[k]);
      if (!sp.table[table].as_table()) sp.table.insert_or_assign(table, toml::table{});
      v.visit([&](const auto& value) { sp.table[table].as_table()->insert_or_assign(key, value); });
      sp.values.push_back({path, value_text(v)});
      sp.where[path] = v.source();
    }
    out.push_back(std::move(sp));
  }
  return out;
}

// Each point parsed and checked like a file of its own: Point{values, parse(reader)}.
template <class Point, class Parse>
std::vector<Point> sweep_points(const toml::table& root, const std::string& file, const std::vector<SweepEntry>& sweep,
                                Parse parse) {
  std::vector<Point> out;
  for (const SweepTable& t : sweep_tables(root, file, sweep)) out.push_back(Point{t.values, parse(Reader{t.table, file, &t.where})});
  return out;
}

// kind = "link": the [link], [memory] and [noise] tables, checked.
LinkExperiment parse_link(const Reader& r) {
  LinkExperiment e;
  const std::int64_t episodes = r.integer("experiment", "episodes", 1000);
  if (episodes < 1) r.bad("experiment", "episodes", fmt::format("= {} must be at least 1", episodes));
  e.episodes = static_cast<std::uint64_t>(episodes);
  const std::int64_t seed = r.integer("experiment", "seed", 0);
  if (seed < 0) r.bad("experiment", "seed", fmt::format("= {} must be >= 0", seed));
  e.seed = static_cast<std::uint64_t>(seed);
  e.name = r.string("link", "name", "link");
  if (e.name.empty() || e.name.find('/') != std::string::npos) r.bad("link", "name", "must be a non-empty name without '/'");

  auto probability = [&](const char* t, const char* k, double v, bool zero_ok) {
    if (!(v >= 0 && v <= 1) || (!zero_ok && v == 0)) {
      r.bad(t, k, fmt::format("= {} must be in {}0, 1]", v, zero_ok ? "[" : "("));
    }
    return v;
  };
  e.source = r.string("link", "source", "werner");
  e.total_length_km = r.number("link", "length_km", 0);
  if (!(e.total_length_km >= 0) || std::isinf(e.total_length_km)) {
    r.bad("link", "length_km", fmt::format("= {} must be a length >= 0", e.total_length_km));
  }
  const std::int64_t segments = r.integer("link", "segments", 1);
  if (segments < 1 || segments > link::kMaxSegments) {
    r.bad("link", "segments", fmt::format("= {} must be in [1, {}]", segments, link::kMaxSegments));
  }
  e.segments = static_cast<unsigned>(segments);
  const std::string protocol = r.string("link", "protocol", "swap_asap");
  if (protocol == "swap_asap") {
    e.protocol = link::Protocol::swap_asap;
  } else if (protocol == "bdcz") {
    e.protocol = link::Protocol::bdcz;
    if (link::nesting_levels(e.segments) < 0) {
      r.bad("link", "segments", fmt::format("= {} must be a power of two (1, 2, 4, ..., {}) for protocol = \"bdcz\"",
                                            segments, link::kMaxSegments));
    }
  } else {
    r.bad("link", "protocol", fmt::format("= \"{}\": use \"swap_asap\" or \"bdcz\"", protocol));
  }
  e.attempt_time_s = r.number("link", "attempt_time_s", 0);
  if (!(e.attempt_time_s >= 0) || std::isinf(e.attempt_time_s)) {
    r.bad("link", "attempt_time_s", fmt::format("= {} must be >= 0", e.attempt_time_s));
  }
  models::LinkParams& p = e.link;
  p.length_km = e.total_length_km / e.segments;
  p.fibre_index = r.number("link", "fibre_index", models::kDefaultFibreIndex);
  if (!(p.fibre_index >= 1)) r.bad("link", "fibre_index", fmt::format("= {} must be >= 1", p.fibre_index));
  if (e.source == "werner") {
    p.scheme = models::HeraldScheme::werner;
    p.werner_fidelity = r.number("link", "fidelity", 1.0);
    probability("link", "fidelity", p.werner_fidelity, true);
    p.werner_success_probability = probability("link", "success_probability",
                                                r.number("link", "success_probability", 1.0), false);
  } else if (e.source == "fiber") {
    const std::string scheme = r.string("link", "scheme", "double_click");
    if (scheme == "double_click") {
      p.scheme = models::HeraldScheme::double_click;
    } else if (scheme == "single_click") {
      p.scheme = models::HeraldScheme::single_click;
    } else {
      r.bad("link", "scheme", fmt::format("= \"{}\": use \"double_click\" or \"single_click\"", scheme));
    }
    p.attenuation_db_per_km = r.number("link", "attenuation_db_per_km", 0.2);
    if (!(p.attenuation_db_per_km >= 0) || std::isinf(p.attenuation_db_per_km)) {
      r.bad("link", "attenuation_db_per_km", fmt::format("= {} must be >= 0", p.attenuation_db_per_km));
    }
    p.collection_efficiency = probability("link", "efficiency", r.number("link", "efficiency", 1.0), false);
    p.visibility = probability("link", "visibility", r.number("link", "visibility", 1.0), true);
    p.dark_count_probability = probability("link", "dark_count_probability",
                                           r.number("link", "dark_count_probability", 0.0), true);
    p.bright_state_alpha = r.number("link", "bright_state_alpha", 0.1);
    if (!(p.bright_state_alpha > 0 && p.bright_state_alpha <= 0.5)) {
      r.bad("link", "bright_state_alpha", fmt::format("= {} must be in (0, 0.5]", p.bright_state_alpha));
    }
    // attempt_time_s covers the local operations; the emission rounds share it.
    p.preparation_time_s = e.attempt_time_s / (p.scheme == models::HeraldScheme::double_click ? 2 : 1);
  } else {
    r.bad("link", "source", fmt::format("= \"{}\": use \"werner\" or \"fiber\"", e.source));
  }
  const std::string purification = r.string("link", "purification", "none");
  if (purification == "none") {
    e.purification = link::Purification::none;
  } else if (purification == "bbpssw") {
    e.purification = link::Purification::bbpssw;
  } else if (purification == "dejmps") {
    e.purification = link::Purification::dejmps;
  } else if (purification == "pumping") {
    e.purification = link::Purification::pumping;
  } else {
    r.bad("link", "purification",
          fmt::format("= \"{}\": use \"none\", \"bbpssw\", \"dejmps\" or \"pumping\"", purification));
  }
  const std::int64_t rounds = r.integer("link", "purification_rounds", 0);
  if (rounds < 0 || rounds > link::kMaxRounds) {
    r.bad("link", "purification_rounds", fmt::format("= {} must be in [0, {}]", rounds, link::kMaxRounds));
  }
  if (rounds > 0 && e.purification == link::Purification::none) {
    r.bad("link", "purification_rounds", fmt::format("= {} needs a protocol: set purification = \"dejmps\" or \"bbpssw\"", rounds));
  }
  e.purification_rounds = static_cast<unsigned>(rounds);
  if (e.protocol == link::Protocol::bdcz && e.purification != link::Purification::none &&
      e.purification != link::Purification::pumping) {
    // Even when every round succeeds, a level-L pair purified r times at every level takes
    // 2^(L + r (L + 1)) elementary pairs.
    const int levels = link::nesting_levels(e.segments);
    const std::int64_t log2_pairs = levels + rounds * (levels + 1);
    if (log2_pairs > kMaxLog2PairsPerEpisode) {
      r.bad("link", "purification_rounds",
            fmt::format("= {} with protocol = \"bdcz\" over {} segments needs at least 2^{} elementary pairs per "
                        "delivered pair (limit 2^{}): lower purification_rounds or segments",
                        rounds, e.segments, log2_pairs, kMaxLog2PairsPerEpisode));
    }
  }
  e.memory.t1_s = r.number("memory", "t1_s", kInf);
  e.memory.t2_s = r.number("memory", "t2_s", kInf);
  e.memory.cutoff_s = r.number("memory", "cutoff_s", kInf);
  if (!(e.memory.t1_s > 0)) r.bad("memory", "t1_s", fmt::format("= {} must be > 0 (inf for no decay)", e.memory.t1_s));
  if (!(e.memory.t2_s > 0)) r.bad("memory", "t2_s", fmt::format("= {} must be > 0 (inf for no decay)", e.memory.t2_s));
  if (e.memory.t2_s > 2 * e.memory.t1_s) {
    r.bad("memory", "t2_s", fmt::format("= {} exceeds 2 t1_s = {}, which no physical qubit allows", e.memory.t2_s, 2 * e.memory.t1_s));
  }
  if (!(e.memory.cutoff_s > 0)) r.bad("memory", "cutoff_s", fmt::format("= {} must be > 0 (inf: never)", e.memory.cutoff_s));
  const std::int64_t mem = r.integer("memory", "qubits_per_node", 1);
  if (mem < 1 || mem > kMaxMemoriesPerNode) {
    r.bad("memory", "qubits_per_node", fmt::format("= {} must be in [1, {}]", mem, kMaxMemoriesPerNode));
  }
  e.memories = static_cast<unsigned>(std::clamp<std::int64_t>(mem, 1, kMaxMemoriesPerNode));
  e.local.two_qubit_depolarising = probability("noise", "two_qubit_depolarising",
                                               r.number("noise", "two_qubit_depolarising", 0.0), true);
  e.local.readout_error = probability("noise", "readout_error", r.number("noise", "readout_error", 0.0), true);
  const std::string state = r.string("link", "state", "bell_diagonal");
  if (state == "density") {
    e.full_density = true;
  } else if (state != "bell_diagonal") {
    r.bad("link", "state", fmt::format("= \"{}\": use \"bell_diagonal\" or \"density\"", state));
  }
  const auto problems = models::validate(p);
  if (!problems.empty()) throw InputError(r.file + ": " + problems.front());
  return e;
}

}  // namespace

Experiment parse_experiment(const std::string& text, const std::string& source_name,
                            const std::vector<std::string>& overrides) {
  toml::table root = parse_toml(text, source_name);
  // Unknown tables and keys, and types, before anything else.
  for (auto&& [tname, tnode] : root) {
    const std::string t(tname.str());
    if (!tnode.is_table()) {
      fail_at(tnode.source(), source_name, fmt::format("'{}' must be a table ([{}])", t, t));
    }
    if (t == "sweep") continue;  // checked by sweep_entries
    if (t == "links") {          // kind = "circuit": NAME = "link-experiment.toml", any names
      for (auto&& [kname, knode] : *tnode.as_table()) {
        if (!knode.is_string()) {
          fail_at(knode.source(), source_name,
                  fmt::format("[links] {} must be the path of a link experiment file (a string)", kname.str()));
        }
      }
      continue;
    }
    if (keys_of(t).empty()) {
      fail_at(tname.source(), source_name,
              fmt::format("unknown table [{}] (tables: experiment, link, memory, noise, code, modules, decoder, "
                          "sweep)", t));
    }
    for (auto&& [kname, knode] : *tnode.as_table()) {
      const std::string k(kname.str());
      if (!find_key(t, k)) {
        fail_at(kname.source(), source_name, fmt::format("unknown key '{}' in [{}] (keys: {})", k, t, keys_of(t)));
      }
      (void)knode;
    }
  }
  for (const auto& o : overrides) apply_override(root, o);

  Experiment ex;
  ex.text = text;
  for (const auto& o : overrides) ex.text += "\n# --set " + o;
  const Reader r{root, source_name};
  ex.kind = r.string("experiment", "kind", "");
  if (ex.kind.empty()) {
    throw InputError(source_name + ": [experiment] needs kind = \"link\", \"memory\" or \"circuit\"");
  }
  const auto sweep = sweep_entries(root, source_name);
  if (ex.kind == "circuit") {
    if (!sweep.empty()) fail_at(sweep.front().second->source(), source_name, "[sweep] runs memory experiments only so far");
    CircuitExperiment& c = ex.circuit;
    const std::filesystem::path dir = std::filesystem::path(source_name).parent_path();
    auto relative = [&](const std::string& p) { return p.empty() || p[0] == '/' ? p : (dir / p).string(); };
    c.circuit = r.string("experiment", "circuit", "");
    if (c.circuit.empty()) r.bad("experiment", "circuit", "is needed: the circuit file to run");
    c.circuit = relative(c.circuit);
    c.engine = r.string("experiment", "engine", "sv");
    if (c.engine != "sv" && c.engine != "dm" && c.engine != "frame") {
      r.bad("experiment", "engine", fmt::format("= \"{}\": use \"sv\", \"dm\" or \"frame\"", c.engine));
    }
    const std::int64_t shots = r.integer("experiment", "shots", 1000);
    if (shots < 1) r.bad("experiment", "shots", fmt::format("= {} must be at least 1", shots));
    c.shots = static_cast<std::uint64_t>(shots);
    const std::int64_t seed = r.integer("experiment", "seed", 0);
    if (seed < 0) r.bad("experiment", "seed", fmt::format("= {} must be >= 0", seed));
    c.seed = static_cast<std::uint64_t>(seed);
    c.t1_s = r.number("memory", "t1_s", 0);
    c.t2_s = r.number("memory", "t2_s", 0);
    if (c.t1_s < 0 || c.t2_s < 0) r.bad("memory", c.t1_s < 0 ? "t1_s" : "t2_s", "must be > 0");
    c.platform = r.string("noise", "platform", "");
    if (!c.platform.empty() && c.platform.find('/') != std::string::npos) c.platform = relative(c.platform);
    if (const toml::table* links = root["links"].as_table()) {
      for (auto&& [kname, knode] : *links) {
        c.links.push_back(std::string(kname.str()) + "=" + relative(*knode.value<std::string>()));
      }
    }
    return ex;
  }
  if (ex.kind == "memory") {
    ex.memory = parse_memory(r);
    ex.points = sweep_points<SweepPoint>(root, source_name, sweep, parse_memory);
    return ex;
  }
  if (ex.kind != "link") {
    r.bad("experiment", "kind", fmt::format("= \"{}\": use \"link\", \"memory\" or \"circuit\"", ex.kind));
  }
  ex.link = parse_link(r);
  ex.link_points = sweep_points<LinkSweepPoint>(root, source_name, sweep, parse_link);
  return ex;
}

Experiment read_experiment_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the experiment file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_experiment(ss.str(), path, overrides);
}

namespace {
// Every rank's episodes [first, first + count) of r's arrays, on every rank: each rank sends its
// range (two uint64 of header, then times, attempts, fidelities, Bell-diagonal rows).
void gather_episodes(LinkExperimentResult& r, const mpi::ShotRange& mine) {
  auto put = [](std::vector<std::uint8_t>& out, const void* p, std::size_t bytes) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    out.insert(out.end(), b, b + bytes);
  };
  std::vector<std::uint8_t> bytes;
  put(bytes, &mine.first, 8);
  put(bytes, &mine.count, 8);
  put(bytes, r.time_s.data() + mine.first, mine.count * 8);
  put(bytes, r.attempts.data() + mine.first, mine.count * 8);
  put(bytes, r.fidelity.data() + mine.first, mine.count * 8);
  put(bytes, r.bell_diagonal.data() + 4 * mine.first, 4 * mine.count * 8);
  const std::vector<std::uint8_t> all = mpi::allgather_bytes(bytes);
  std::size_t at = 0;
  auto take = [&](void* p, std::size_t n) {
    if (at + n > all.size()) throw std::runtime_error("link: gathering the ranks' episodes: short message");
    std::memcpy(p, all.data() + at, n);
    at += n;
  };
  while (at < all.size()) {
    std::uint64_t first = 0, count = 0;
    take(&first, 8);
    take(&count, 8);
    if (first + count > r.time_s.size()) throw std::runtime_error("link: gathering the ranks' episodes: bad range");
    take(r.time_s.data() + first, count * 8);
    take(r.attempts.data() + first, count * 8);
    take(r.fidelity.data() + first, count * 8);
    take(r.bell_diagonal.data() + 4 * first, 4 * count * 8);
  }
}
}  // namespace

LinkExperimentResult run_link_experiment(const LinkExperiment& e, bool split_over_ranks) {
  models::LinkModel m;
  try {
    m = models::link_model(e.link);
  } catch (const std::invalid_argument& err) {
    throw InputError(std::string("link: ") + err.what());
  }
  if (!(m.success_probability >= link::kMinSuccessProbability)) {
    throw InputError(fmt::format("link: the success probability per attempt is {:.3g} (below {:.0g}): "
                                 "no pair would be delivered; shorten the link or raise the efficiency",
                                 m.success_probability, link::kMinSuccessProbability));
  }
  link::ChainParams c;
  c.segments = e.segments;
  c.protocol = e.protocol;
  c.success_probability = m.success_probability;
  c.attempt_time_s = e.source == "werner" ? e.attempt_time_s : m.attempt_time_s;
  c.segment_delay_s = models::signalling_delay_s(e.link.length_km, e.link.fibre_index);
  c.chain_delay_s = models::signalling_delay_s(e.total_length_km, e.link.fibre_index);
  c.herald_wait_s = e.source == "fiber" ? c.segment_delay_s : 0.0;
  c.elementary = m.bell_diagonal;
  c.full_density = e.full_density;
  c.elementary_density = m.state;
  c.purification = e.purification;
  c.rounds = e.purification_rounds;
  c.local = e.local;
  c.t1_s = e.memory.t1_s;
  c.t2_s = e.memory.t2_s;
  c.cutoff_s = e.memory.cutoff_s;
  c.memories = e.memories;

  LinkExperimentResult r;
  r.success_probability = m.success_probability;
  r.attempt_time_s = c.attempt_time_s;
  r.elementary_fidelity = m.bell_diagonal.phi_plus;
  const std::uint64_t n = e.episodes;
  r.time_s.resize(n);
  r.attempts.resize(n);
  r.fidelity.resize(n);
  r.bell_diagonal.resize(4 * n);
  const std::uint64_t chunk = std::uint64_t{1} << 20;
  // The exact path of one segment: the same attempts (draw 0 of the episode's stream) and times as
  // the chain kernel's single segment, the delivered 4x4 state decohering exactly for the herald
  // wait. Chains (segments > 1) and purified links run the chain kernel's 4x4 path (c.full_density).
  link::ElementaryLinkParams ep;
  ep.success_probability = c.success_probability;
  ep.attempt_time_s = c.attempt_time_s;
  ep.delay_s = 0;
  ep.wait_s = c.herald_wait_s;
  ep.t1_s = c.t1_s;
  ep.t2_s = c.t2_s;
  ep.full_density = true;
  ep.state = m.state;
  ep.bell_diagonal = m.bell_diagonal;
  // Under MPI (split_over_ranks) each rank runs an even share of the episodes, in rank order; the
  // episodes depend only on (seed, index), so the gathered arrays equal a single rank's.
  const mpi::ShotRange mine = split_over_ranks ? mpi::my_shots(n) : mpi::ShotRange{0, n};
  const std::uint64_t end = mine.first + mine.count;
  for (std::uint64_t first = mine.first; first < end; first += chunk) {
    const std::uint64_t cnt = std::min(chunk, end - first);
    DeviceArray<double> t(cnt), f(cnt), b(4 * cnt);
    DeviceArray<std::uint64_t> a(cnt);
    if (e.full_density && e.segments == 1 && e.purification_rounds == 0 && e.memories == 1) {
      link::run_elementary_episodes(ep, e.seed, first, cnt, {t.data(), a.data(), f.data(), b.data()});
    } else {
      link::run_chain_episodes(c, e.seed, first, cnt, {t.data(), a.data(), f.data(), b.data()});
    }
    copy_to_host(r.time_s.data() + first, t.data(), cnt * sizeof(double));
    copy_to_host(r.attempts.data() + first, a.data(), cnt * sizeof(std::uint64_t));
    copy_to_host(r.fidelity.data() + first, f.data(), cnt * sizeof(double));
    copy_to_host(r.bell_diagonal.data() + 4 * first, b.data(), 4 * cnt * sizeof(double));
  }
  if (split_over_ranks && mpi::size() > 1) gather_episodes(r, mine);
  double sf = 0, sf2 = 0, sa = 0, st = 0;
  std::uint64_t ok = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (std::isnan(r.time_s[i])) {
      ++r.failed_episodes;
      continue;
    }
    ++ok;
    sf += r.fidelity[i];
    sf2 += r.fidelity[i] * r.fidelity[i];
    sa += static_cast<double>(r.attempts[i]);
    st += r.time_s[i];
  }
  if (ok == 0) throw InputError("link: every episode exceeded the restart guard (cut-off far below the generation time?)");
  r.fidelity_mean = sf / ok;
  const double var = ok > 1 ? std::max(0.0, (sf2 - sf * sf / ok) / (ok - 1)) : 0.0;
  r.fidelity_standard_error = std::sqrt(var / ok);
  r.attempts_mean = sa / ok;
  r.time_mean_s = st / ok;
  r.rate_hz = r.time_mean_s > 0 ? 1 / r.time_mean_s : kInf;
  r.transmissivity = e.source == "fiber"
                         ? models::fibre_transmissivity(e.total_length_km, e.link.attenuation_db_per_km)
                         : m.success_probability;
  r.plob_bound = models::plob_bound(r.transmissivity);
  return r;
}

namespace {
struct LinkSummary {
  const char* name;
  double value;
  const char* units;
  const char* description;
};

// The summary quantities of a link run, as /summary datasets (single run) or point attributes (sweep).
std::vector<LinkSummary> link_summary(const LinkExperimentResult& r) {
  return {
      {"fidelity_mean", r.fidelity_mean, "", "mean fidelity of the delivered pairs"},
      {"fidelity_standard_error", r.fidelity_standard_error, "", "standard error of fidelity_mean"},
      {"attempts_mean", r.attempts_mean, "", "mean elementary attempts per delivered pair"},
      {"pairs_per_attempt", r.attempts_mean > 0 ? 1 / r.attempts_mean : 0.0, "",
       "delivered pairs per elementary attempt (1 / attempts_mean; every segment's and memory's attempts count)"},
      {"time_mean_s", r.time_mean_s, "s", "mean delivery time of a pair"},
      {"rate_hz", r.rate_hz, "Hz", "delivered pairs per second: 1 / time_mean_s"},
      {"plob_bound", r.plob_bound, "ebit per channel use",
       "repeaterless bound -log2(1 - eta) for the transmissivity of the whole distance "
       "(werner source: eta = success probability); Pirandola et al., Nat. Commun. 8, 15043 (2017)"},
      {"success_probability", r.success_probability, "", "success probability of one elementary attempt"},
      {"elementary_fidelity", r.elementary_fidelity, "", "fidelity of a fresh elementary pair"},
      {"attempt_time_s", r.attempt_time_s, "s", "one elementary attempt, herald included"},
  };
}
}  // namespace

void write_link_point(ResultFile& f, std::size_t index, const LinkSweepPoint& p, const LinkExperimentResult& r) {
  const std::string g = fmt::format("/points/{}", index);
  write_sweep_values(f, g, p.values);
  f.write_group_attribute(g, "seed", p.link.seed);
  f.write_group_attribute(g, "episodes", p.link.episodes);
  f.write_group_attribute(g, "failed_episodes", r.failed_episodes);
  for (const LinkSummary& q : link_summary(r)) f.write_group_attribute(g, q.name, q.value);
  f.flush();
  f.write_group_attribute(g, "complete", std::uint64_t{1});  // last: the point is whole
  f.flush();
}

void write_link_experiment(ResultFile& f, const LinkExperiment& e, const LinkExperimentResult& r) {
  const std::string base = "/links/" + e.name + "/";
  const std::uint64_t n = r.time_s.size();
  f.write_array(base + "time_s", r.time_s.data(), {n}, "s", "delivery time of each pair");
  f.write_array(base + "attempts", r.attempts.data(), {n}, "", "elementary attempts of each episode (all segments, all purification pairs)");
  f.write_array(base + "fidelity", r.fidelity.data(), {n}, "", "<Phi+|rho|Phi+> of each delivered pair");
  f.write_array(base + "bell_diagonal", r.bell_diagonal.data(), {n, 4}, "", "Bell-basis diagonal (Phi+, Psi+, Psi-, Phi-)");
  for (const LinkSummary& q : link_summary(r)) f.write_summary(q.name, q.value, q.units, q.description);
}

}  // namespace qw
