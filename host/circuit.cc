#include "host/circuit.h"

#include <algorithm>
#include <stdexcept>
#include <fmt/format.h>

#include "host/errors.h"

namespace qw {

Target Target::pauli(char p, std::uint32_t q, bool inverted) {
  std::uint32_t f = inverted ? kInverted : 0u;
  switch (p) {
    case 'X': case 'x': f |= kPauliX; break;
    case 'Y': case 'y': f |= kPauliX | kPauliZ; break;
    case 'Z': case 'z': f |= kPauliZ; break;
    default: break;
  }
  return {q, f};
}

char Target::pauli_char() const {
  const bool x = flags & kPauliX, z = flags & kPauliZ;
  if (x && z) return 'Y';
  if (x) return 'X';
  if (z) return 'Z';
  return 0;
}

void Circuit::append(GateId gate, std::span<const double> args, std::span<const Target> targets,
                     SourceLocation where) {
  Instruction op{gate};
  op.arg_begin = static_cast<std::uint32_t>(args_.size());
  op.arg_count = static_cast<std::uint32_t>(args.size());
  op.target_begin = static_cast<std::uint32_t>(targets_.size());
  op.target_count = static_cast<std::uint32_t>(targets.size());
  op.where = where;
  args_.insert(args_.end(), args.begin(), args.end());
  targets_.insert(targets_.end(), targets.begin(), targets.end());
  ops_.push_back(op);
}

void Circuit::append_repeat(std::uint64_t count, Circuit body, SourceLocation where) {
  Instruction op{GateId::REPEAT};
  op.block = static_cast<std::uint32_t>(blocks_.size());
  op.repeat_count = count;
  op.where = where;
  blocks_.push_back(std::move(body));
  ops_.push_back(op);
}

std::uint32_t Circuit::num_qubits() const {
  std::uint32_t n = 0;
  for (const auto& op : ops_) {
    if (op.gate == GateId::REPEAT) {
      n = std::max(n, block(op).num_qubits());
      continue;
    }
    const auto& info = gate_info(op.gate);
    if (info.flags & (kRecTargets | kValueTargets)) {
      if (op.gate != GateId::OBSERVABLE_INCLUDE) continue;
    }
    for (const Target& t : targets(op)) {
      if (t.is_qubit()) n = std::max(n, t.value + 1);
    }
  }
  return n;
}

void append_teleported_cx(Circuit& c, std::uint32_t control, std::uint32_t target, std::uint32_t comm_a,
                          std::uint32_t comm_b, SourceLocation where) {
  const std::uint32_t q[4] = {control, target, comm_a, comm_b};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < i; ++j)
      if (q[i] == q[j]) {
        throw std::invalid_argument(fmt::format(
            "append_teleported_cx: control {}, target {}, pair ({}, {}) must be four different qubits",
            control, target, comm_a, comm_b));
      }
  const Target cx_local[] = {Target::qubit(control), Target::qubit(comm_a)};
  const Target m_a[] = {Target::qubit(comm_a)};
  const Target x_fix[] = {Target::rec(1), Target::qubit(comm_b)};
  const Target cx_remote[] = {Target::qubit(comm_b), Target::qubit(target)};
  const Target mx_b[] = {Target::qubit(comm_b)};
  const Target z_fix[] = {Target::rec(1), Target::qubit(control)};
  c.append(GateId::CX, {}, cx_local, where);
  c.append(GateId::M, {}, m_a, where);
  c.append(GateId::CX, {}, x_fix, where);
  c.append(GateId::CX, {}, cx_remote, where);
  c.append(GateId::MX, {}, mx_b, where);
  c.append(GateId::CZ, {}, z_fix, where);
}

std::uint64_t results_of(const Circuit& c, const Instruction& op) {
  const auto& info = gate_info(op.gate);
  if (!(info.flags & kProducesResults)) return 0;
  const auto ts = c.targets(op);
  if (info.flags & kTargetsPauliProducts) {
    std::uint64_t products = 0, combiners = 0;
    for (const Target& t : ts) (t.is_combiner() ? combiners : products)++;
    return products - combiners;
  }
  return ts.size() / info.group;
}

namespace {
template <class F>
std::uint64_t sum_over(const Circuit& c, F f) {
  std::uint64_t n = 0;
  for (const auto& op : c.instructions()) {
    if (op.gate == GateId::REPEAT) {
      n += op.repeat_count * sum_over(c.block(op), f);
    } else {
      n += f(c, op);
    }
  }
  return n;
}
}  // namespace

std::uint64_t Circuit::num_measurements() const { return sum_over(*this, results_of); }

std::uint64_t Circuit::num_detectors() const {
  return sum_over(*this, [](const Circuit&, const Instruction& op) -> std::uint64_t {
    return op.gate == GateId::DETECTOR ? 1 : 0;
  });
}

std::uint64_t Circuit::num_observables() const {
  std::uint64_t n = 0;
  for (const auto& op : ops_) {
    if (op.gate == GateId::REPEAT) {
      n = std::max(n, block(op).num_observables());
    } else if (op.gate == GateId::OBSERVABLE_INCLUDE && op.arg_count == 1) {
      n = std::max(n, static_cast<std::uint64_t>(args(op)[0]) + 1);
    }
  }
  return n;
}

bool Circuit::has_kind(GateKind kind) const {
  for (const auto& op : ops_) {
    if (op.gate == GateId::REPEAT) {
      if (block(op).has_kind(kind)) return true;
    } else if (gate_info(op.gate).kind == kind) {
      return true;
    }
  }
  return false;
}

static void write_circuit(const Circuit& c, std::string& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  for (const auto& op : c.instructions()) {
    if (op.gate == GateId::REPEAT) {
      out += fmt::format("{}REPEAT {} {{\n", pad, op.repeat_count);
      write_circuit(c.block(op), out, indent + 4);
      out += pad + "}\n";
      continue;
    }
    out += pad;
    out += gate_info(op.gate).name;
    const auto args = c.args(op);
    if (op.gate == GateId::LINK) {
      out += '(' + c.link_names.at(static_cast<std::size_t>(args[0])) + ')';
    } else if (!args.empty()) {
      out += '(';
      for (std::size_t i = 0; i < args.size(); ++i) {
        if (i) out += ", ";
        out += fmt::format("{}", args[i]);  // shortest text that reads back to the same double
      }
      out += ')';
    }
    bool joined = false;
    for (const Target& t : c.targets(op)) {
      if (t.is_combiner()) {
        out += '*';
        joined = true;
        continue;
      }
      if (!joined) out += ' ';
      joined = false;
      if (t.inverted()) out += '!';
      if (t.is_rec()) {
        out += fmt::format("rec[-{}]", t.value);
      } else if (t.is_sweep()) {
        out += fmt::format("sweep[{}]", t.value);
      } else {
        if (char p = t.pauli_char()) out += p;
        out += fmt::format("{}", t.value);
      }
    }
    out += '\n';
  }
}

std::string Circuit::str() const {
  std::string out;
  write_circuit(*this, out, 0);
  return out;
}

std::uint32_t Circuit::link_index(const std::string& name) {
  for (std::size_t i = 0; i < link_names.size(); ++i) {
    if (link_names[i] == name) return static_cast<std::uint32_t>(i);
  }
  link_names.push_back(name);
  return static_cast<std::uint32_t>(link_names.size() - 1);
}

bool Circuit::operator==(const Circuit& o) const {
  if (ops_.size() != o.ops_.size()) return false;
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    const auto &a = ops_[i], &b = o.ops_[i];
    if (a.gate != b.gate || a.repeat_count != b.repeat_count) return false;
    if (a.gate == GateId::REPEAT) {
      if (!(block(a) == o.block(b))) return false;
      continue;
    }
    if (a.gate == GateId::LINK &&
        link_names.at(static_cast<std::size_t>(args(a)[0])) != o.link_names.at(static_cast<std::size_t>(o.args(b)[0]))) {
      return false;
    }
    const auto aa = a.gate == GateId::LINK ? std::span<const double>{} : args(a);
    const auto ba = b.gate == GateId::LINK ? std::span<const double>{} : o.args(b);
    const auto at = targets(a), bt = o.targets(b);
    if (!std::equal(aa.begin(), aa.end(), ba.begin(), ba.end())) return false;
    if (!std::equal(at.begin(), at.end(), bt.begin(), bt.end())) return false;
  }
  return true;
}

InputError::InputError(const std::string& file, unsigned line, unsigned column,
                       const std::string& what)
    : std::runtime_error(format_location(file, line, column) + ": " + what) {}

std::string format_location(const std::string& file, unsigned line, unsigned column) {
  if (line == 0) return file;
  if (column == 0) return fmt::format("{}:{}", file, line);
  return fmt::format("{}:{}:{}", file, line, column);
}

}  // namespace qw
