// Reader for Stim's circuit format (doc/file_format_stim_circuit.md in quantumlib/Stim) plus
// qweave's extension gates from the gate table. Line based and iterative: REPEAT blocks are kept on
// an explicit stack (capped depth), so no input can blow the call stack or loop forever.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "host/circuit.h"
#include "host/errors.h"
#include "host/gates.h"
#include "host/parse.h"

namespace qw {
namespace {

constexpr std::uint32_t kMaxIndex = (1u << 24) - 1;       // qubits, rec lookbacks, sweep bits
constexpr std::uint64_t kMaxRepeat = 1'000'000'000'000'000'000ull;
constexpr std::size_t kMaxNesting = 64;                    // REPEAT blocks inside one another
// Slack for sums of probabilities written with a few decimals (0.1 + 0.2 + 0.7 > 1 in doubles).
constexpr double kProbabilitySlack = 1e-12;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_name_char(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }

// Quotes user text in messages, keeping it printable and short.
std::string quoted(std::string_view s) {
  std::string out = "'";
  const std::size_t n = std::min<std::size_t>(s.size(), 40);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > n) out += "...";
  out += "'";
  return out;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}
std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

// A target as written, before the gate's rules are applied.
struct TargetToken {
  Target target;
  std::uint32_t column;
  std::string_view text;
};

// One open block: the circuit being filled and how many measurement results a rec[-k] inside it may
// reach (results before the block plus those so far in one iteration).
struct Frame {
  Circuit body;
  std::uint64_t repeat_count = 0;
  SourceLocation where;
  std::uint64_t results_before = 0;
  std::uint64_t results_inside = 0;  // one iteration, saturating
};

class StimParser {
 public:
  StimParser(std::string_view text, const std::string& source_name)
      : text_(text), source_(source_name) {}

  Circuit parse() {
    stack_.emplace_back();
    std::size_t pos = 0;
    while (pos <= text_.size()) {
      const std::size_t end = std::min(text_.find('\n', pos), text_.size());
      ++line_no_;
      std::string_view line = text_.substr(pos, end - pos);
      if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
        line = line.substr(0, hash);
      }
      parse_line(line);
      if (end == text_.size()) break;
      pos = end + 1;
    }
    if (stack_.size() > 1) {
      const Frame& open = stack_.back();
      fail(open.where.line, open.where.column, "REPEAT block is never closed: expected '}'");
    }
    Circuit out = std::move(stack_.back().body);
    out.source_name = source_;
    out.source_text = std::string(text_);
    return out;
  }

 private:
  [[noreturn]] void fail(std::size_t line, std::size_t column, const std::string& what) const {
    throw InputError(source_, static_cast<unsigned>(line), static_cast<unsigned>(column), what);
  }
  [[noreturn]] void fail_at(std::size_t index, const std::string& what) const {
    fail(line_no_, index + 1, what);
  }

  std::size_t skip_space(std::string_view line, std::size_t i) const {
    while (i < line.size() && is_space(line[i])) ++i;
    return i;
  }

  void parse_line(std::string_view line) {
    std::size_t i = skip_space(line, 0);
    if (i == line.size()) return;
    if (line[i] == '}') {
      const std::size_t rest = skip_space(line, i + 1);
      if (rest != line.size()) fail_at(rest, "unexpected text after '}': " + quoted(line.substr(rest)));
      close_block(i);
      return;
    }
    if (!is_alpha(line[i])) {
      fail_at(i, "expected an instruction name, got " + quoted(line.substr(i)));
    }
    const std::size_t name_begin = i;
    while (i < line.size() && is_name_char(line[i])) ++i;
    const std::string_view name = line.substr(name_begin, i - name_begin);
    if (i < line.size() && !is_space(line[i]) && line[i] != '(' && line[i] != '[' && line[i] != '{') {
      fail_at(i, fmt::format("unexpected character {} after the instruction name {}",
                             quoted(line.substr(i, 1)), quoted(name)));
    }

    // Stim 1.15 tags (NAME[tag]) carry no meaning for simulation; qweave accepts and drops them.
    if (i < line.size() && line[i] == '[') {
      const std::size_t close = line.find(']', i);
      if (close == std::string_view::npos) fail_at(i, "instruction tag is missing its closing ']'");
      i = close + 1;
    }

    std::vector<double> args;
    std::vector<std::size_t> arg_columns;  // index of each argument in the line, for messages
    std::size_t args_column = name_begin;
    bool has_parens = false;
    std::string link_name;
    {
      const std::size_t j = skip_space(line, i);
      if (j < line.size() && line[j] == '(') {
        has_parens = true;
        args_column = j;
        if (is_macro(name, "LINK")) {
          i = parse_link_name(line, j, link_name);
          args.push_back(0);  // replaced by the name's index below
          arg_columns.push_back(j + 1);
        } else {
          i = parse_args(line, j, args, arg_columns);
        }
      }
    }

    const SourceLocation where{static_cast<std::uint32_t>(line_no_),
                               static_cast<std::uint32_t>(name_begin + 1)};
    if (is_macro(name, "TELEPORTED_CX")) {
      if (has_parens) fail_at(args_column, "TELEPORTED_CX takes no parenthesised arguments");
      teleported_cx(line, i, where);
      return;
    }
    const GateInfo* info = find_gate(name, static_cast<int>(args.size()));
    if (!info) fail_at(name_begin, "unknown instruction " + quoted(name));
    if (info->id == GateId::REPEAT) {
      if (has_parens) fail_at(args_column, "REPEAT takes no parenthesised arguments");
      open_block(line, i, where);
      return;
    }
    check_arg_count(*info, args, args_column);
    check_arg_values(*info, args, arg_columns);

    std::vector<TargetToken> tokens = tokenize_targets(line, i);
    std::vector<Target> targets;
    targets.reserve(tokens.size());
    check_targets(*info, tokens);
    for (const auto& t : tokens) targets.push_back(t.target);

    Frame& frame = stack_.back();
    if (info->id == GateId::LINK) args[0] = frame.body.link_index(link_name);
    frame.body.append(info->id, args, targets, where);
    const auto& ops = frame.body.instructions();
    frame.results_inside = saturating_add(frame.results_inside, results_of(frame.body, ops.back()));
  }

  static bool is_macro(std::string_view name, std::string_view macro) {
    if (name.size() != macro.size()) return false;
    for (std::size_t k = 0; k < name.size(); ++k) {
      char c = name[k];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c != macro[k]) return false;
    }
    return true;
  }

  // TELEPORTED_CX c t a b ...: a CX from c to t through the Bell pair on (a, b), expanded here into
  // the instructions of append_teleported_cx (groups of four targets, broadcast like a gate).
  void teleported_cx(std::string_view line, std::size_t i, SourceLocation where) {
    const std::vector<TargetToken> tokens = tokenize_targets(line, i);
    for (const auto& tok : tokens) {
      if (!tok.target.is_qubit() || tok.target.inverted() || tok.target.pauli_char()) {
        fail(line_no_, tok.column, fmt::format("TELEPORTED_CX takes qubit targets (control, target, "
                                               "pair qubit a, pair qubit b), got {}", quoted(tok.text)));
      }
    }
    if (tokens.empty() || tokens.size() % 4 != 0) {
      fail(line_no_, tokens.empty() ? where.column : tokens[tokens.size() - tokens.size() % 4].column,
           fmt::format("TELEPORTED_CX needs a multiple of 4 targets (control, target, pair qubit a, "
                       "pair qubit b), got {}", tokens.size()));
    }
    for (std::size_t base = 0; base < tokens.size(); base += 4) {
      for (std::size_t a = base; a < base + 4; ++a)
        for (std::size_t b = base; b < a; ++b)
          if (tokens[a].target.value == tokens[b].target.value) {
            fail(line_no_, tokens[a].column,
                 fmt::format("TELEPORTED_CX acts on qubit {} twice in one application", tokens[a].target.value));
          }
      Frame& frame = stack_.back();
      const std::size_t before = frame.body.instructions().size();
      append_teleported_cx(frame.body, tokens[base].target.value, tokens[base + 1].target.value,
                           tokens[base + 2].target.value, tokens[base + 3].target.value, where);
      const auto ops = frame.body.instructions();
      for (std::size_t k = before; k < ops.size(); ++k) {
        frame.results_inside = saturating_add(frame.results_inside, results_of(frame.body, ops[k]));
      }
    }
  }

  // Parses LINK's "( name )" starting at the '(': a name of letters, digits, '_', '-' and '.',
  // starting with a letter or '_'; returns the index after the ')'.
  std::size_t parse_link_name(std::string_view line, std::size_t open, std::string& out) {
    std::size_t i = skip_space(line, open + 1);
    const std::size_t begin = i;
    auto name_char = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
             c == '.';
    };
    while (i < line.size() && name_char(line[i])) ++i;
    out.assign(line.substr(begin, i - begin));
    if (out.empty() || (out[0] >= '0' && out[0] <= '9') || out[0] == '-' || out[0] == '.') {
      fail_at(begin, "LINK takes the name of a link, e.g. LINK(ab) 0 1, got " +
                         quoted(line.substr(begin, std::max<std::size_t>(1, i - begin))));
    }
    i = skip_space(line, i);
    if (i >= line.size() || line[i] != ')') fail_at(open, "missing ')' after the link name");
    return i + 1;
  }

  // Parses "( a, b, ... )" starting at the '('; returns the index after the ')'.
  std::size_t parse_args(std::string_view line, std::size_t open, std::vector<double>& args,
                         std::vector<std::size_t>& columns) {
    std::size_t i = skip_space(line, open + 1);
    if (i < line.size() && line[i] == ')') return i + 1;
    while (true) {
      i = skip_space(line, i);
      const std::size_t begin = i;
      while (i < line.size() && line[i] != ',' && line[i] != ')' && !is_space(line[i])) ++i;
      const std::string_view token = line.substr(begin, i - begin);
      if (token.empty()) {
        if (i >= line.size()) fail_at(open, "missing ')' after the arguments");
        fail_at(begin, "expected a number, got " + quoted(line.substr(begin, 1)));
      }
      args.push_back(parse_double(token, begin));
      columns.push_back(begin);
      i = skip_space(line, i);
      if (i >= line.size()) fail_at(open, "missing ')' after the arguments");
      if (line[i] == ')') return i + 1;
      if (line[i] != ',') fail_at(i, "expected ',' or ')' in the arguments, got " + quoted(line.substr(i, 1)));
      ++i;
    }
  }

  double parse_double(std::string_view token, std::size_t column_index) const {
    std::string_view body = token;
    if (body.size() > 1 && body[0] == '+' && (is_digit(body[1]) || body[1] == '.')) body.remove_prefix(1);
    // from_chars also reads "inf"/"nan"; only numbers that start like numbers are accepted.
    const bool looks_numeric =
        !body.empty() && (is_digit(body[0]) || body[0] == '.' ||
                          (body[0] == '-' && body.size() > 1 && (is_digit(body[1]) || body[1] == '.')));
    double value = 0;
    if (looks_numeric) {
      const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
      if (ec == std::errc::result_out_of_range) fail_at(column_index, "number out of range: " + quoted(token));
      if (ec == std::errc() && end == body.data() + body.size() && std::isfinite(value)) return value;
    }
    fail_at(column_index, "expected a finite number, got " + quoted(token));
  }

  void check_arg_count(const GateInfo& info, const std::vector<double>& args, std::size_t column) const {
    const int n = static_cast<int>(args.size());
    if (info.id == GateId::BELL_PAIR && n != 1 && n != 4) fail_at(column, bell_pair_problem(args));
    if (n >= info.min_args && (info.max_args < 0 || n <= info.max_args)) return;
    std::string wanted;
    if (info.max_args < 0) {
      wanted = fmt::format("at least {} argument{}", info.min_args, info.min_args == 1 ? "" : "s");
    } else if (info.min_args == info.max_args) {
      wanted = info.min_args == 0 ? std::string("no arguments")
                                  : fmt::format("{} argument{}", info.min_args, info.min_args == 1 ? "" : "s");
    } else {
      wanted = fmt::format("{} to {} arguments", info.min_args, info.max_args);
    }
    fail_at(column, fmt::format("{} takes {}, got {}", info.name, wanted, n));
  }

  void check_arg_values(const GateInfo& info, const std::vector<double>& args,
                        const std::vector<std::size_t>& columns) const {
    auto probability = [&](std::size_t k, std::string_view what) {
      if (!(args[k] >= 0 && args[k] <= 1)) {
        fail_at(columns[k], fmt::format("{} {} must be in [0, 1], got {}", info.name, what, args[k]));
      }
    };
    switch (info.id) {
      case GateId::X_ERROR: case GateId::Y_ERROR: case GateId::Z_ERROR:
      case GateId::DEPOLARIZE1: case GateId::DEPOLARIZE2:
      case GateId::CORRELATED_ERROR: case GateId::ELSE_CORRELATED_ERROR:
      case GateId::HERALDED_ERASE: case GateId::I_ERROR: case GateId::II_ERROR:
        for (std::size_t k = 0; k < args.size(); ++k) probability(k, "probability");
        return;
      case GateId::AMPLITUDE_DAMP: probability(0, "damping probability"); return;
      case GateId::PHASE_DAMP: probability(0, "damping probability"); return;
      case GateId::KRAUS1: case GateId::KRAUS2: {
        const std::string problem = kraus_problem(info.id, args);
        if (!problem.empty()) fail_at(columns[0], problem);
        return;
      }
      case GateId::BELL_PAIR: {
        std::size_t bad = 0;
        const std::string problem = bell_pair_problem(args, &bad);
        if (!problem.empty()) fail_at(columns[bad], problem);
        return;
      }
      case GateId::IDLE:
        if (args[0] < 0) fail_at(columns[0], fmt::format("IDLE duration must be >= 0, got {}", args[0]));
        return;
      case GateId::PAULI_CHANNEL_1: case GateId::PAULI_CHANNEL_2:
      case GateId::HERALDED_PAULI_CHANNEL_1: {
        double sum = 0;
        for (std::size_t k = 0; k < args.size(); ++k) {
          probability(k, "probability");
          sum += args[k];
        }
        if (sum > 1 + kProbabilitySlack) {
          fail_at(columns[0], fmt::format("{} probabilities must sum to at most 1, got {}", info.name, sum));
        }
        return;
      }
      case GateId::OBSERVABLE_INCLUDE:
        if (!(args[0] >= 0 && args[0] <= kMaxIndex && args[0] == std::floor(args[0]))) {
          fail_at(columns[0], fmt::format("OBSERVABLE_INCLUDE index must be an integer in [0, {}], got {}",
                                      kMaxIndex, args[0]));
        }
        return;
      default: break;
    }
    if (info.flags & kNoisyResultArg) {
      for (std::size_t k = 0; k < args.size(); ++k) probability(k, "result flip probability");
    }
  }

  // Reads an unsigned decimal of at most kMaxIndex; returns false when `s` is not all digits.
  bool parse_index(std::string_view s, std::size_t column_index, std::uint32_t& out,
                   std::string_view what) const {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (char c : s) {
      if (!is_digit(c)) return false;
      v = std::min<std::uint64_t>(v * 10 + static_cast<unsigned>(c - '0'), std::uint64_t{kMaxIndex} + 1);
    }
    if (v > kMaxIndex) {
      fail_at(column_index, fmt::format("{} {} is too large (at most {})", what, quoted(s), kMaxIndex));
    }
    out = static_cast<std::uint32_t>(v);
    return true;
  }

  std::vector<TargetToken> tokenize_targets(std::string_view line, std::size_t i) const {
    std::vector<TargetToken> out;
    while (true) {
      i = skip_space(line, i);
      if (i >= line.size()) return out;
      const std::size_t begin = i;
      if (line[i] == '*') {
        out.push_back({Target::combiner(), static_cast<std::uint32_t>(begin + 1), line.substr(i, 1)});
        ++i;
        continue;
      }
      while (i < line.size() && !is_space(line[i]) && line[i] != '*') ++i;
      const std::string_view text = line.substr(begin, i - begin);
      out.push_back({parse_target(text, begin), static_cast<std::uint32_t>(begin + 1), text});
    }
  }

  Target parse_target(std::string_view text, std::size_t column_index) const {
    std::string_view s = text;
    const bool inverted = !s.empty() && s[0] == '!';
    if (inverted) s.remove_prefix(1);
    std::uint32_t v = 0;
    if (s.starts_with("rec[") && s.ends_with("]")) {
      if (inverted) fail_at(column_index, "rec targets cannot be inverted: " + quoted(text));
      std::string_view inner = s.substr(4, s.size() - 5);
      if (!inner.starts_with('-') || !parse_index(inner.substr(1), column_index, v, "rec lookback")) {
        fail_at(column_index, "expected rec[-k] with k >= 1, got " + quoted(text));
      }
      if (v == 0) fail_at(column_index, "rec[-0] is not a measurement result; use rec[-k] with k >= 1");
      return Target::rec(v);
    }
    if (s.starts_with("sweep[") && s.ends_with("]")) {
      if (inverted) fail_at(column_index, "sweep targets cannot be inverted: " + quoted(text));
      if (!parse_index(s.substr(6, s.size() - 7), column_index, v, "sweep bit")) {
        fail_at(column_index, "expected sweep[k] with k >= 0, got " + quoted(text));
      }
      return Target::sweep(v);
    }
    if (!s.empty() && std::string_view("XYZxyz").find(s[0]) != std::string_view::npos) {
      if (parse_index(s.substr(1), column_index, v, "qubit")) return Target::pauli(s[0], v, inverted);
    } else if (parse_index(s, column_index, v, "qubit")) {
      return Target::qubit(v, inverted);
    }
    fail_at(column_index, "invalid target " + quoted(text));
  }

  void check_targets(const GateInfo& info, const std::vector<TargetToken>& tokens) const {
    const std::string_view name = info.name;
    if (info.flags & kNoTargets) {
      if (!tokens.empty()) fail(line_no_, tokens[0].column, fmt::format("{} takes no targets", name));
      return;
    }
    const bool products = info.flags & kTargetsPauliProducts;
    // Only MPP and SPP multiply Paulis together; E and OBSERVABLE_INCLUDE list single Paulis.
    const bool combiners_ok = products && (info.flags & kAllowsInvert);
    const Frame& frame = stack_.back();
    const std::uint64_t record = saturating_add(frame.results_before, frame.results_inside);

    for (std::size_t k = 0; k < tokens.size(); ++k) {
      const TargetToken& tok = tokens[k];
      const Target& t = tok.target;
      auto bad = [&](const std::string& what) { fail(line_no_, tok.column, what); };
      if (t.is_combiner()) {
        if (!combiners_ok) bad(fmt::format("{} does not take '*' combiners", name));
        const bool left = k > 0 && tokens[k - 1].target.pauli_char() != 0;
        const bool right = k + 1 < tokens.size() && tokens[k + 1].target.pauli_char() != 0;
        if (!left || !right) bad("'*' must join two Pauli targets, as in X0*Z1");
        continue;
      }
      if (t.inverted() && !(info.flags & kAllowsInvert)) {
        bad(fmt::format("{} does not take inverted targets, got {}", name, quoted(tok.text)));
      }
      if (t.is_rec() || t.is_sweep()) {
        const bool rec_ok = (info.flags & (kAllowsRecControl | kRecTargets)) && !(t.is_sweep() && (info.flags & kRecTargets));
        if (!rec_ok) bad(fmt::format("{} does not take {} targets, got {}", name,
                                     t.is_rec() ? "rec[-k]" : "sweep[k]", quoted(tok.text)));
        if (t.is_rec() && t.value > record) {
          bad(fmt::format("{} reaches before the start of the measurement record ({} result{} so far)",
                          tok.text, record, record == 1 ? "" : "s"));
        }
        continue;
      }
      if (info.flags & kValueTargets) {
        if (t.pauli_char() || t.value > 1) {
          bad(fmt::format("{} targets are the values 0 or 1, got {}", name, quoted(tok.text)));
        }
        continue;
      }
      if (info.flags & kRecTargets) {
        if (products && t.pauli_char()) continue;
        bad(fmt::format("{} takes rec[-k]{} targets, got {}", name, products ? " or Pauli" : "", quoted(tok.text)));
      }
      if (t.pauli_char()) {
        if (!products) bad(fmt::format("{} takes qubit targets, not Pauli targets like {}", name, quoted(tok.text)));
        continue;
      }
      if (products) bad(fmt::format("{} takes Pauli targets like X{}, got {}", name, t.value, quoted(tok.text)));
    }

    if (info.group <= 1) return;
    const std::size_t g = info.group;
    if (tokens.size() % g != 0) {
      const std::size_t dangling = tokens.size() - tokens.size() % g;
      const std::string need = g == 2 ? std::string("an even number of targets")
                                      : fmt::format("a multiple of {} targets", g);
      fail(line_no_, tokens[dangling].column, fmt::format("{} needs {}, got {}", name, need, tokens.size()));
    }
    for (std::size_t base = 0; base < tokens.size(); base += g) {
      // Classical controls: which positions of a pair may be rec/sweep.
      if (info.flags & kAllowsRecControl) {
        const bool c0 = !tokens[base].target.is_qubit(), c1 = !tokens[base + 1].target.is_qubit();
        const bool control_first = info.id == GateId::CX || info.id == GateId::CY;
        const bool control_second = info.id == GateId::XCZ || info.id == GateId::YCZ;
        if (c0 && c1) {
          fail(line_no_, tokens[base + 1].column,
               fmt::format("{} needs a qubit in each pair; both {} and {} are classical bits", name,
                           tokens[base].text, tokens[base + 1].text));
        }
        if (control_first && c1) {
          fail(line_no_, tokens[base + 1].column,
               fmt::format("{} takes {} only as the control (first of a pair)", name, tokens[base + 1].text));
        }
        if (control_second && c0) {
          fail(line_no_, tokens[base].column,
               fmt::format("{} takes {} only as the control (second of a pair)", name, tokens[base].text));
        }
      }
      for (std::size_t a = base; a < base + g; ++a) {
        if (!tokens[a].target.is_qubit()) continue;
        for (std::size_t b = base; b < a; ++b) {
          if (tokens[b].target.is_qubit() && tokens[b].target.value == tokens[a].target.value) {
            fail(line_no_, tokens[a].column,
                 fmt::format("{} acts on qubit {} twice in one application", name, tokens[a].target.value));
          }
        }
      }
    }
  }

  // "REPEAT N {" after the name; i is just past the name.
  void open_block(std::string_view line, std::size_t i, SourceLocation where) {
    i = skip_space(line, i);
    const std::size_t count_begin = i;
    while (i < line.size() && is_digit(line[i])) ++i;
    const std::string_view digits = line.substr(count_begin, i - count_begin);
    if (digits.empty()) {
      fail_at(count_begin, "REPEAT needs a repetition count, as in 'REPEAT 10 {'");
    }
    std::uint64_t count = 0;
    for (char c : digits) count = std::min(count * 10 + static_cast<unsigned>(c - '0'), kMaxRepeat + 1);
    if (count == 0) fail_at(count_begin, "REPEAT 0 is not allowed (the block would never run)");
    if (count > kMaxRepeat) fail_at(count_begin, fmt::format("REPEAT count is too large (at most {})", kMaxRepeat));
    i = skip_space(line, i);
    if (i >= line.size() || line[i] != '{') {
      fail_at(i, i >= line.size() ? "REPEAT needs '{' at the end of its line"
                                  : "expected '{' after the REPEAT count, got " + quoted(line.substr(i)));
    }
    const std::size_t after = skip_space(line, i + 1);
    if (after != line.size()) fail_at(after, "unexpected text after '{': " + quoted(line.substr(after)));
    if (stack_.size() > kMaxNesting) {
      fail(where.line, where.column, fmt::format("REPEAT blocks nested too deeply (at most {} levels)", kMaxNesting));
    }
    const Frame& parent = stack_.back();
    Frame frame;
    frame.repeat_count = count;
    frame.where = where;
    frame.results_before = saturating_add(parent.results_before, parent.results_inside);
    stack_.push_back(std::move(frame));
  }

  void close_block(std::size_t index) {
    if (stack_.size() == 1) fail_at(index, "'}' without a matching 'REPEAT ... {'");
    Frame done = std::move(stack_.back());
    stack_.pop_back();
    Frame& parent = stack_.back();
    parent.results_inside =
        saturating_add(parent.results_inside, saturating_mul(done.repeat_count, done.results_inside));
    parent.body.append_repeat(done.repeat_count, std::move(done.body), done.where);
  }

  std::string_view text_;
  const std::string& source_;
  std::size_t line_no_ = 0;
  std::vector<Frame> stack_;
};

}  // namespace

Circuit parse_stim(std::string_view text, const std::string& source_name) {
  return StimParser(text, source_name).parse();
}

}  // namespace qw
