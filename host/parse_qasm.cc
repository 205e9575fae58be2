// OpenQASM 2.0 reader (Cross, Bishop, Smolin, Gambetta, arXiv:1707.03429) with Qiskit's qelib1.inc.
// qelib1 gates that have a gate-table equivalent map to it directly; the relative-phase and
// composite ones (rccx, rc3x, c3sqrtx) are expanded from their qelib1.inc definitions, kept below as
// QASM text. User gates are inlined at each call. Every limit below exists so that no input can make
// the parser recurse without bound, hang or allocate without bound (it is fuzzed).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/circuit.h"
#include "host/errors.h"
#include "host/gates.h"
#include "host/parse.h"

namespace qw {
namespace {

constexpr int kMaxExprDepth = 200;   // nesting of parentheses/operators in one expression
constexpr int kMaxGateNesting = 64;  // user gates calling user gates
constexpr std::uint64_t kMaxRegisterSize = 1u << 24;
constexpr std::uint64_t kMaxQubits = 1u << 24;  // all qregs together (same for all cregs)
constexpr std::uint64_t kMaxWork = 1u << 23;    // gate applications + gate-body statements expanded

// qelib1.inc definitions (Qiskit, qiskit/qasm/libs/qelib1.inc) of the gates with no gate-table
// equivalent. The gates they call are all mapped natively.
constexpr std::string_view kQelib1Expanded = R"QASM(
gate rccx a,b,c
{
  u2(0,pi) c;
  u1(pi/4) c;
  cx b, c;
  u1(-pi/4) c;
  cx a, c;
  u1(pi/4) c;
  cx b, c;
  u1(-pi/4) c;
  u2(0,pi) c;
}
gate rc3x a,b,c,d
{
  u2(0,pi) d;
  u1(pi/4) d;
  cx c,d;
  u1(-pi/4) d;
  u2(0,pi) d;
  cx a,d;
  u1(pi/4) d;
  cx b,d;
  u1(-pi/4) d;
  cx a,d;
  u1(pi/4) d;
  cx b,d;
  u1(-pi/4) d;
  u2(0,pi) d;
  u1(pi/4) d;
  cx c,d;
  u1(-pi/4) d;
  u2(0,pi) d;
}
gate c3sqrtx a,b,c,d
{
  h d; cu1(pi/8) a,d; h d;
  cx a,b;
  h d; cu1(-pi/8) b,d; h d;
  cx a,b;
  h d; cu1(pi/8) b,d; h d;
  cx b,c;
  h d; cu1(-pi/8) c,d; h d;
  cx a,c;
  h d; cu1(pi/8) c,d; h d;
  cx b,c;
  h d; cu1(-pi/8) c,d; h d;
  cx a,c;
  h d; cu1(pi/8) c,d; h d;
}
)QASM";

// How a native gate's QASM parameters become gate-table arguments.
enum class ArgMap : std::uint8_t {
  Same,  // parameters passed through
  None,  // parameters dropped (u0(γ) is an idle of duration γ: identity)
  U2,    // u2(φ,λ) = U3(π/2, φ, λ)
  CU3,   // cu3(θ,φ,λ) = CU(θ, φ, λ, 0)
};

struct NativeGate {
  std::string_view name;
  GateId id;
  int params;
  int qubits;
  ArgMap map;
};

// The qelib1.inc gates with a gate-table equivalent. Equal up to a global phase where uncontrolled
// (rz = u1 up to e^{iφ/2}, sx = SQRT_X up to e^{iπ/4}); exactly equal where controlled.
constexpr NativeGate kQelib1Native[] = {
    {"u3", GateId::U3, 3, 1, ArgMap::Same},       {"u", GateId::U3, 3, 1, ArgMap::Same},
    {"u2", GateId::U3, 2, 1, ArgMap::U2},         {"u1", GateId::PHASE, 1, 1, ArgMap::Same},
    {"p", GateId::PHASE, 1, 1, ArgMap::Same},     {"u0", GateId::I, 1, 1, ArgMap::None},
    {"id", GateId::I, 0, 1, ArgMap::Same},        {"cx", GateId::CX, 0, 2, ArgMap::Same},
    {"x", GateId::X, 0, 1, ArgMap::Same},         {"y", GateId::Y, 0, 1, ArgMap::Same},
    {"z", GateId::Z, 0, 1, ArgMap::Same},         {"h", GateId::H, 0, 1, ArgMap::Same},
    {"s", GateId::S, 0, 1, ArgMap::Same},         {"sdg", GateId::S_DAG, 0, 1, ArgMap::Same},
    {"t", GateId::T, 0, 1, ArgMap::Same},         {"tdg", GateId::T_DAG, 0, 1, ArgMap::Same},
    {"sx", GateId::SQRT_X, 0, 1, ArgMap::Same},   {"sxdg", GateId::SQRT_X_DAG, 0, 1, ArgMap::Same},
    {"rx", GateId::ROT_X, 1, 1, ArgMap::Same},    {"ry", GateId::ROT_Y, 1, 1, ArgMap::Same},
    {"rz", GateId::ROT_Z, 1, 1, ArgMap::Same},    {"cz", GateId::CZ, 0, 2, ArgMap::Same},
    {"cy", GateId::CY, 0, 2, ArgMap::Same},       {"swap", GateId::SWAP, 0, 2, ArgMap::Same},
    {"ch", GateId::CH, 0, 2, ArgMap::Same},       {"ccx", GateId::CCX, 0, 3, ArgMap::Same},
    {"cswap", GateId::CSWAP, 0, 3, ArgMap::Same}, {"crx", GateId::CRX, 1, 2, ArgMap::Same},
    {"cry", GateId::CRY, 1, 2, ArgMap::Same},     {"crz", GateId::CRZ, 1, 2, ArgMap::Same},
    {"cu1", GateId::CPHASE, 1, 2, ArgMap::Same},  {"cp", GateId::CPHASE, 1, 2, ArgMap::Same},
    {"cu3", GateId::CU, 3, 2, ArgMap::CU3},       {"csx", GateId::CSX, 0, 2, ArgMap::Same},
    {"cu", GateId::CU, 4, 2, ArgMap::Same},       {"rxx", GateId::ROT_XX, 1, 2, ArgMap::Same},
    {"rzz", GateId::ROT_ZZ, 1, 2, ArgMap::Same},  {"c3x", GateId::C3X, 0, 4, ArgMap::Same},
    {"c4x", GateId::C4X, 0, 5, ArgMap::Same},
};
// The language's two built-in gates, available without any include.
constexpr NativeGate kBuiltinU{"U", GateId::U3, 3, 1, ArgMap::Same};
constexpr NativeGate kBuiltinCX{"CX", GateId::CX, 0, 2, ArgMap::Same};

// ---------------------------------------------------------------------------------------------
// Tokens

enum class Tok : std::uint8_t { End, Ident, Int, Real, String, Punct, Arrow, EqEq };

struct Token {
  Tok kind = Tok::End;
  std::string_view text;
  std::uint32_t line = 0, column = 0;
  double number = 0;
  char punct = 0;
};

struct Loc {
  std::uint32_t line = 0, column = 0;
};

Loc loc_of(const Token& t) { return {t.line, t.column}; }

std::string plural(std::uint64_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// Words with a fixed meaning in OpenQASM 2.0; they cannot name gates, registers or parameters.
bool is_reserved(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "OPENQASM", "include", "qreg", "creg", "gate", "opaque", "measure", "reset", "barrier", "if",
      "pi",       "sin",     "cos",  "tan",  "exp",  "ln",     "sqrt",    "U",     "CX"};
  for (auto k : kWords)
    if (k == w) return true;
  return false;
}

std::string describe(const Token& t) {
  if (t.kind == Tok::End) return "end of input";
  if (t.kind == Tok::String) return std::string(t.text);
  return fmt::format("'{}'", t.text);
}

// ---------------------------------------------------------------------------------------------
// Expressions: parsed once into an arena of nodes, evaluated with the parameters of each call.

enum class Op : std::uint8_t { Num, Param, Neg, Add, Sub, Mul, Div, Pow, Sin, Cos, Tan, Exp, Ln, Sqrt };

struct Node {
  Op op;
  std::int32_t a = -1, b = -1;  // operand node indices
  std::int32_t param = -1;      // Param: index into the call's parameter values
  std::int32_t depth = 1;       // height of the subtree, bounded by kMaxExprDepth
  double value = 0;
  Loc where;
  std::uint32_t size = 1;  // nodes in the subtree: the cost of evaluating it
};

struct Expr {
  std::int32_t root = -1;
  Loc where;  // first token of the expression
};

using NameIndex = std::map<std::string_view, std::uint32_t>;

// Index of the first entry equal to an earlier one, or -1. Sorts for long lists so that a gate with
// thousands of qubit arguments stays linear-logarithmic.
std::ptrdiff_t find_repeat(const std::vector<std::uint32_t>& v) {
  if (v.size() <= 16) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j)
        if (v[i] == v[j]) return static_cast<std::ptrdiff_t>(i);
    }
    return -1;
  }
  std::vector<std::pair<std::uint32_t, std::uint32_t>> s;
  s.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) s.emplace_back(v[i], static_cast<std::uint32_t>(i));
  std::sort(s.begin(), s.end());
  std::ptrdiff_t best = -1;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i].first == s[i - 1].first && (best < 0 || s[i].second < best)) best = s[i].second;
  }
  return best;
}

// A qubit argument at top level: q (whole register) or q[i].
struct QArg {
  std::string_view reg;
  std::optional<std::uint32_t> index;
  Loc where;
};

struct Register {
  std::uint32_t offset = 0, size = 0;
  std::uint32_t line = 0;
  bool quantum = true;
};

// One statement of a gate body: a call (qubits are indices into the gate's qubit arguments).
struct BodyCall {
  std::int32_t callee = -1;  // index into Parser::gates_
  std::vector<Expr> params;
  std::vector<std::uint32_t> qubits;
  Loc where;
  std::uint64_t cost = 1;  // work units charged per expansion (statement + expression nodes)
};

struct GateDef {
  std::string name;
  std::uint32_t num_params = 0, num_qubits = 0;
  const NativeGate* native = nullptr;  // mapped to the gate table
  bool opaque = false;
  bool library = false;  // from qelib1.inc (text not in the user's file)
  std::uint32_t line = 0;
  std::vector<BodyCall> body;
};

struct ErrorCtx {
  bool library = false;  // the current text is qelib1.inc's, not the user's
};

class Parser {
 public:
  Parser(std::string_view text, const std::string& source_name) : source_name_(source_name), text_(text) {}

  Circuit run() {
    out_.source_name = source_name_;
    out_.source_text = std::string(text_);
    advance();
    parse_header();
    while (tok_.kind != Tok::End) parse_statement();
    return std::move(out_);
  }

 private:
  // --- errors -------------------------------------------------------------------------------
  [[noreturn]] void fail(Loc at, const std::string& message) const {
    throw InputError(source_name_, at.line, at.column, message);
  }
  [[noreturn]] void fail(const Token& t, const std::string& message) const { fail(loc_of(t), message); }

  // --- lexer --------------------------------------------------------------------------------
  void advance() { tok_ = lex(); }

  Token lex() {
    for (;;) {
      if (pos_ >= text_.size()) {
        Token t;
        t.line = line_;
        t.column = static_cast<std::uint32_t>(pos_ - line_start_ + 1);
        return t;
      }
      const char c = text_[pos_];
      if (c == '\n') {
        ++pos_;
        ++line_;
        line_start_ = pos_;
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
    Token t;
    t.line = line_;
    t.column = static_cast<std::uint32_t>(pos_ - line_start_ + 1);
    const std::size_t start = pos_;
    const char c = text_[pos_];
    auto is_alpha = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; };
    auto is_digit = [](char ch) { return ch >= '0' && ch <= '9'; };
    if (is_alpha(c)) {
      while (pos_ < text_.size() && (is_alpha(text_[pos_]) || is_digit(text_[pos_]))) ++pos_;
      t.kind = Tok::Ident;
      t.text = text_.substr(start, pos_ - start);
      return t;
    }
    if (is_digit(c) || (c == '.' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1]))) {
      bool real = false;
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '.') {
        real = true;
        ++pos_;
        while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
      }
      bool bad = false;
      if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
        real = true;
        ++pos_;
        if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
        if (pos_ >= text_.size() || !is_digit(text_[pos_])) bad = true;
        while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
      }
      // A number running into letters ("12abc", "1e3x") is a typo, not two tokens.
      while (pos_ < text_.size() && (is_alpha(text_[pos_]) || is_digit(text_[pos_]) || text_[pos_] == '.')) {
        ++pos_;
        bad = true;
      }
      t.text = text_.substr(start, pos_ - start);
      if (bad) fail(t, fmt::format("bad number '{}'", t.text));
      t.kind = real ? Tok::Real : Tok::Int;
      const auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.number);
      if (r.ec != std::errc() || !std::isfinite(t.number)) {
        fail(t, fmt::format("number '{}' is out of range", t.text));
      }
      return t;
    }
    if (c == '"') {
      ++pos_;
      while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\n') ++pos_;
      if (pos_ >= text_.size() || text_[pos_] != '"') fail(t, "unterminated string");
      ++pos_;
      t.kind = Tok::String;
      t.text = text_.substr(start, pos_ - start);
      return t;
    }
    if (c == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '>') {
      pos_ += 2;
      t.kind = Tok::Arrow;
      t.text = "->";
      return t;
    }
    if (c == '=' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '=') {
      pos_ += 2;
      t.kind = Tok::EqEq;
      t.text = "==";
      return t;
    }
    static constexpr std::string_view kPunct = ";,()[]{}+-*/^";
    if (kPunct.find(c) != std::string_view::npos) {
      ++pos_;
      t.kind = Tok::Punct;
      t.punct = c;
      t.text = text_.substr(start, 1);
      return t;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7f) fail(t, fmt::format("unexpected character '{}'", c));
    fail(t, fmt::format("unexpected character \\x{:02x}", u));
  }

  bool is_punct(char p) const { return tok_.kind == Tok::Punct && tok_.punct == p; }
  bool is_ident(std::string_view s) const { return tok_.kind == Tok::Ident && tok_.text == s; }

  void expect_punct(char p, std::string_view why) {
    if (!is_punct(p)) fail(tok_, fmt::format("expected '{}' {}, got {}", p, why, describe(tok_)));
    advance();
  }
  void expect_semicolon() { expect_punct(';', "at the end of the statement"); }

  Token expect_ident(std::string_view what) {
    if (tok_.kind != Tok::Ident) fail(tok_, fmt::format("expected {}, got {}", what, describe(tok_)));
    Token t = tok_;
    advance();
    return t;
  }

  std::uint64_t expect_uint(std::string_view what) {
    if (tok_.kind != Tok::Int)
      fail(tok_, fmt::format("expected {} (a non-negative integer), got {}", what, describe(tok_)));
    std::uint64_t v = 0;
    const auto r = std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), v);
    if (r.ec != std::errc() || r.ptr != tok_.text.data() + tok_.text.size()) {
      fail(tok_, fmt::format("{} '{}' is too large", what, tok_.text));
    }
    advance();
    return v;
  }

  // --- statements ---------------------------------------------------------------------------
  void parse_header() {
    if (!is_ident("OPENQASM")) {
      fail(tok_, fmt::format("expected 'OPENQASM 2.0;' as the first statement, got {}", describe(tok_)));
    }
    advance();
    if ((tok_.kind != Tok::Int && tok_.kind != Tok::Real) || tok_.number != 2.0) {
      fail(tok_, fmt::format("unsupported OpenQASM version {}; only 2.0 is supported", describe(tok_)));
    }
    advance();
    expect_semicolon();
  }

  void parse_statement() {
    const Token start = tok_;
    if (tok_.kind != Tok::Ident) fail(tok_, fmt::format("expected a statement, got {}", describe(tok_)));
    const std::string_view w = tok_.text;
    if (w == "OPENQASM") fail(tok_, "'OPENQASM' may only appear once, as the first statement");
    if (w == "include") return parse_include();
    if (w == "qreg" || w == "creg") return parse_register(w == "qreg");
    if (w == "gate") return parse_gate_definition(false);
    if (w == "opaque") return parse_gate_definition(true);
    if (w == "measure") return parse_measure();
    if (w == "reset") return parse_reset();
    if (w == "barrier") return parse_barrier();
    if (w == "if") fail(start, "if() is not supported yet");
    parse_gate_call(start);
  }

  void parse_include() {
    advance();
    if (tok_.kind != Tok::String)
      fail(tok_, fmt::format("expected a file name in quotes after include, got {}", describe(tok_)));
    const Token file = tok_;
    advance();
    expect_semicolon();
    const std::string_view name = file.text.substr(1, file.text.size() - 2);
    if (name != "qelib1.inc") {
      fail(file, fmt::format("cannot include \"{}\": only \"qelib1.inc\" is supported (paste other gate "
                             "definitions into the file)",
                             name));
    }
    if (qelib1_included_) return;
    qelib1_included_ = true;
    for (const NativeGate& g : kQelib1Native) {
      if (const auto it = gate_index_.find(g.name); it != gate_index_.end()) {
        fail(file, fmt::format("qelib1.inc defines gate '{}', which is already defined at line {}", g.name,
                               gates_[it->second].line));
      }
      GateDef def;
      def.name = std::string(g.name);
      def.num_params = static_cast<std::uint32_t>(g.params);
      def.num_qubits = static_cast<std::uint32_t>(g.qubits);
      def.native = &g;
      def.library = true;
      add_gate(std::move(def));
    }
    // Parse the expanded definitions as a nested text. Errors in it would be ours, not the user's;
    // a name clash with an earlier user gate is the user's, reported at the include.
    const std::string_view saved_text = text_;
    const std::size_t saved_pos = pos_, saved_line_start = line_start_;
    const std::uint32_t saved_line = line_;
    const Token saved_tok = tok_;
    text_ = kQelib1Expanded;
    pos_ = 0;
    line_start_ = 0;
    line_ = 1;
    in_library_ = true;
    include_loc_ = loc_of(file);
    advance();
    while (tok_.kind != Tok::End) parse_gate_definition(false);
    in_library_ = false;
    text_ = saved_text;
    pos_ = saved_pos;
    line_start_ = saved_line_start;
    line_ = saved_line;
    tok_ = saved_tok;
  }

  void parse_register(bool quantum) {
    advance();
    const Token name = expect_ident("a register name");
    if (is_reserved(name.text))
      fail(name, fmt::format("'{}' is a reserved word and cannot name a register", name.text));
    expect_punct('[', "after the register name");
    const Token size_tok = tok_;
    const std::uint64_t size = expect_uint("a register size");
    expect_punct(']', "after the register size");
    expect_semicolon();
    if (const auto it = registers_.find(name.text); it != registers_.end()) {
      fail(name, fmt::format("register '{}' is already declared at line {}", name.text, it->second.line));
    }
    if (size == 0)
      fail(size_tok,
           fmt::format("register '{}' must have at least 1 {}", name.text, quantum ? "qubit" : "bit"));
    std::uint64_t& total = quantum ? total_qubits_ : total_bits_;
    if (size > kMaxRegisterSize || total + size > kMaxQubits) {
      fail(size_tok, fmt::format("register '{}' is too large: at most {} {} in all", name.text, kMaxQubits,
                                 quantum ? "qubits" : "bits"));
    }
    Register r;
    r.offset = static_cast<std::uint32_t>(total);
    r.size = static_cast<std::uint32_t>(size);
    r.line = name.line;
    r.quantum = quantum;
    total += size;
    registers_.emplace(std::string(name.text), r);
  }

  // "gate name(params) qargs { body }" or "opaque name(params) qargs;".
  void parse_gate_definition(bool opaque) {
    if (!is_ident(opaque ? "opaque" : "gate")) fail(tok_, "expected a gate definition");  // library only
    advance();
    const Token name = expect_ident("a gate name");
    if (name.text == "U" || name.text == "CX")
      fail(name, fmt::format("'{}' is a built-in gate and cannot be redefined", name.text));
    if (is_reserved(name.text))
      fail(name, fmt::format("'{}' is a reserved word and cannot name a gate", name.text));
    if (const auto it = gate_index_.find(name.text); it != gate_index_.end()) {
      const GateDef& old = gates_[it->second];
      if (in_library_) {
        fail(include_loc_, fmt::format("qelib1.inc defines gate '{}', which is already defined at line {}",
                                       name.text, old.line));
      }
      if (old.library) fail(name, fmt::format("gate '{}' is already defined by qelib1.inc", name.text));
      fail(name, fmt::format("gate '{}' is already defined at line {}", name.text, old.line));
    }
    NameIndex params, qubits;
    if (is_punct('(')) {
      advance();
      if (!is_punct(')')) {
        for (;;) {
          const Token p = expect_ident("a parameter name");
          if (is_reserved(p.text))
            fail(p, fmt::format("'{}' is a reserved word and cannot name a parameter", p.text));
          if (!params.emplace(p.text, static_cast<std::uint32_t>(params.size())).second) {
            fail(p, fmt::format("parameter '{}' is declared twice", p.text));
          }
          if (!is_punct(',')) break;
          advance();
        }
      }
      expect_punct(')', "after the gate's parameters");
    }
    for (;;) {
      const Token q = expect_ident("a qubit argument name");
      if (is_reserved(q.text))
        fail(q, fmt::format("'{}' is a reserved word and cannot name a qubit argument", q.text));
      if (params.count(q.text)) fail(q, fmt::format("'{}' is both a parameter and a qubit argument", q.text));
      if (!qubits.emplace(q.text, static_cast<std::uint32_t>(qubits.size())).second) {
        fail(q, fmt::format("qubit argument '{}' is declared twice", q.text));
      }
      if (!is_punct(',')) break;
      advance();
    }
    GateDef def;
    def.name = std::string(name.text);
    def.num_params = static_cast<std::uint32_t>(params.size());
    def.num_qubits = static_cast<std::uint32_t>(qubits.size());
    def.opaque = opaque;
    def.library = in_library_;
    def.line = name.line;
    if (opaque) {
      expect_semicolon();
      add_gate(std::move(def));
      return;
    }
    if (!is_punct('{'))
      fail(tok_,
           fmt::format("expected '{{' to open the body of gate '{}', got {}", name.text, describe(tok_)));
    const Token open = tok_;
    advance();
    while (!is_punct('}')) {
      if (tok_.kind == Tok::End)
        fail(open, fmt::format("body of gate '{}' is not closed: missing '}}'", name.text));
      parse_body_statement(def, params, qubits);
    }
    advance();
    add_gate(std::move(def));
  }

  void parse_body_statement(GateDef& def, const NameIndex& params, const NameIndex& qubits) {
    const Token start = tok_;
    if (tok_.kind != Tok::Ident)
      fail(tok_,
           fmt::format("expected a gate call in the body of gate '{}', got {}", def.name, describe(tok_)));
    const std::string_view w = tok_.text;
    auto find_qubit = [&](const Token& t) -> std::uint32_t {
      const auto it = qubits.find(t.text);
      if (it == qubits.end())
        fail(t, fmt::format("'{}' is not a qubit argument of gate '{}'", t.text, def.name));
      return it->second;
    };
    if (w == "barrier") {  // no effect inside a gate: only checked
      advance();
      for (;;) {
        find_qubit(expect_ident("a qubit argument"));
        if (!is_punct(',')) break;
        advance();
      }
      expect_semicolon();
      return;
    }
    if (w == "measure" || w == "reset" || w == "if" || w == "gate" || w == "opaque" || w == "qreg" ||
        w == "creg" || w == "include") {
      fail(start, fmt::format("'{}' is not allowed inside the body of gate '{}'", w, def.name));
    }
    advance();
    BodyCall call;
    call.where = loc_of(start);
    if (start.text == def.name)
      fail(start, fmt::format("gate '{}' calls itself; recursive gates are not allowed", def.name));
    call.callee = lookup_gate(start);
    if (is_punct('(')) {
      advance();
      if (!is_punct(')')) {
        for (;;) {
          call.params.push_back(parse_expr(&params));
          if (!is_punct(',')) break;
          advance();
        }
      }
      expect_punct(')', "after the gate's parameters");
    }
    std::vector<Token> arg_toks;
    for (;;) {
      const Token q = expect_ident("a qubit argument");
      if (is_punct('['))
        fail(tok_,
             fmt::format("qubit arguments inside gate '{}' are names, not indexed registers", def.name));
      call.qubits.push_back(find_qubit(q));
      arg_toks.push_back(q);
      if (!is_punct(',')) break;
      advance();
    }
    expect_semicolon();
    check_arity(start, call.callee, call.params.size(), call.qubits.size());
    if (const auto i = find_repeat(call.qubits); i >= 0) {
      const Token& t = arg_toks[static_cast<std::size_t>(i)];
      fail(t, fmt::format("{} uses qubit '{}' twice", start.text, t.text));
    }
    call.cost = 1;
    for (const Expr& e : call.params) call.cost += nodes_[static_cast<std::size_t>(e.root)].size;
    def.body.push_back(std::move(call));
  }

  // Gate index, or -1 for U and -2 for CX.
  std::int32_t lookup_gate(const Token& name) {
    if (name.text == "U") return -1;
    if (name.text == "CX") return -2;
    const auto it = gate_index_.find(name.text);
    if (it == gate_index_.end()) {
      std::string hint;
      if (!qelib1_included_) {
        for (const NativeGate& g : kQelib1Native)
          if (g.name == name.text) hint = " (add 'include \"qelib1.inc\";' to use the standard gates)";
        if (name.text == "rccx" || name.text == "rc3x" || name.text == "c3sqrtx")
          hint = " (add 'include \"qelib1.inc\";' to use the standard gates)";
      }
      fail(name, fmt::format("unknown gate '{}'{}", name.text, hint));
    }
    return it->second;
  }

  std::string_view gate_name(std::int32_t g) const {
    if (g == -1) return "U";
    if (g == -2) return "CX";
    return gates_[static_cast<std::size_t>(g)].name;
  }

  void check_arity(const Token& name, std::int32_t g, std::size_t nparams, std::size_t nqubits) {
    std::uint32_t want_p, want_q;
    if (g < 0) {
      want_p = g == -1 ? 3 : 0;
      want_q = g == -1 ? 1 : 2;
    } else {
      want_p = gates_[static_cast<std::size_t>(g)].num_params;
      want_q = gates_[static_cast<std::size_t>(g)].num_qubits;
    }
    if (nparams != want_p) {
      fail(name, fmt::format("{} takes {} parameter{}, got {}", gate_name(g), want_p, want_p == 1 ? "" : "s",
                             nparams));
    }
    if (nqubits != want_q) {
      fail(name, fmt::format("{} takes {} qubit argument{}, got {}", gate_name(g), want_q,
                             want_q == 1 ? "" : "s", nqubits));
    }
  }

  void add_gate(GateDef def) {
    gate_index_.emplace(def.name, static_cast<std::int32_t>(gates_.size()));
    gates_.push_back(std::move(def));
  }

  // q or q[i], checked against the declared registers.
  QArg parse_arg(bool quantum) {
    QArg a;
    const Token name = expect_ident(quantum ? "a qubit or quantum register" : "a bit or classical register");
    a.reg = name.text;
    a.where = loc_of(name);
    const auto it = registers_.find(name.text);
    if (it == registers_.end()) {
      fail(name, fmt::format("undefined {} register '{}'", quantum ? "quantum" : "classical", name.text));
    }
    if (it->second.quantum != quantum) {
      fail(name,
           fmt::format("'{}' is a {} register, not a {} one", name.text,
                       it->second.quantum ? "quantum" : "classical", quantum ? "quantum" : "classical"));
    }
    if (is_punct('[')) {
      advance();
      const Token idx_tok = tok_;
      const std::uint64_t idx = expect_uint("an index");
      expect_punct(']', "after the index");
      if (idx >= it->second.size) {
        fail(idx_tok, fmt::format("index {} is out of range for {} {}[{}]", idx, quantum ? "qreg" : "creg",
                                  name.text, it->second.size));
      }
      a.index = static_cast<std::uint32_t>(idx);
    }
    return a;
  }

  const Register& reg(const QArg& a) const { return registers_.find(a.reg)->second; }
  std::uint32_t arg_size(const QArg& a) const { return a.index ? 1 : reg(a).size; }
  std::uint32_t element(const QArg& a, std::uint32_t i) const {
    return reg(a).offset + (a.index ? *a.index : i);
  }
  static std::string arg_text(const QArg& a, std::uint32_t i) {
    return fmt::format("{}[{}]", a.reg, a.index ? *a.index : i);
  }

  std::vector<QArg> parse_arg_list(bool quantum) {
    std::vector<QArg> args;
    for (;;) {
      args.push_back(parse_arg(quantum));
      if (!is_punct(',')) break;
      advance();
    }
    return args;
  }

  void spend(std::uint64_t work, Loc at) {
    work_ += work;
    if (work_ > kMaxWork) {
      fail(at, fmt::format("circuit too large: more than {} operations after expanding gates and registers",
                           kMaxWork));
    }
  }

  void parse_measure() {
    const Token start = tok_;
    advance();
    const QArg q = parse_arg(true);
    if (tok_.kind != Tok::Arrow)
      fail(tok_, fmt::format("expected '->' after the measured qubits, got {}", describe(tok_)));
    advance();
    const QArg c = parse_arg(false);
    expect_semicolon();
    if (q.index.has_value() != c.index.has_value()) {
      fail(start,
           q.index
               ? fmt::format("cannot measure one qubit {} into the whole register {}", arg_text(q, 0), c.reg)
               : fmt::format("cannot measure the whole register {} into one bit {}", q.reg, arg_text(c, 0)));
    }
    const std::uint32_t n = arg_size(q);
    if (n != arg_size(c)) {
      fail(start, fmt::format("measure: qreg {} has {} but creg {} has {}", q.reg, plural(n, "qubit"), c.reg,
                              plural(arg_size(c), "bit")));
    }
    spend(n, loc_of(start));
    std::vector<Target> targets;
    for (std::uint32_t i = 0; i < n; ++i) targets.push_back(Target::qubit(element(q, i)));
    out_.append(GateId::M, {}, targets, where(start));
  }

  void parse_reset() {
    const Token start = tok_;
    advance();
    const QArg q = parse_arg(true);
    expect_semicolon();
    const std::uint32_t n = arg_size(q);
    spend(n, loc_of(start));
    std::vector<Target> targets;
    for (std::uint32_t i = 0; i < n; ++i) targets.push_back(Target::qubit(element(q, i)));
    out_.append(GateId::R, {}, targets, where(start));
  }

  void parse_barrier() {
    const Token start = tok_;
    advance();
    parse_arg_list(true);
    expect_semicolon();
    spend(1, loc_of(start));
    out_.append(GateId::TICK, {}, {}, where(start));
  }

  static SourceLocation where(const Token& t) { return {t.line, t.column}; }

  void parse_gate_call(const Token& start) {
    advance();
    const std::int32_t g = lookup_gate(start);
    std::vector<Expr> param_exprs;
    const std::size_t arena_mark = nodes_.size();
    if (is_punct('(')) {
      advance();
      if (!is_punct(')')) {
        for (;;) {
          param_exprs.push_back(parse_expr(nullptr));
          if (!is_punct(',')) break;
          advance();
        }
      }
      expect_punct(')', "after the gate's parameters");
    }
    const std::vector<QArg> args = parse_arg_list(true);
    expect_semicolon();
    check_arity(start, g, param_exprs.size(), args.size());
    std::vector<double> params;
    for (std::size_t i = 0; i < param_exprs.size(); ++i) {
      params.push_back(eval_param(param_exprs[i], {}, gate_name(g), i, ErrorCtx{}));
    }
    nodes_.resize(arena_mark);  // top-level expressions are not needed again

    // Broadcasting: registers pair elementwise, single qubits repeat.
    std::uint32_t n = 1;
    const QArg* sized = nullptr;
    for (const QArg& a : args) {
      if (a.index) continue;
      if (sized && arg_size(a) != n) {
        fail(start, fmt::format("{}: registers {} and {} have different sizes ({} and {})", start.text,
                                sized->reg, a.reg, n, arg_size(a)));
      }
      n = arg_size(a);
      sized = &a;
    }
    const SourceLocation at = where(start);
    const GateDef* def = g >= 0 ? &gates_[static_cast<std::size_t>(g)] : nullptr;
    if (def && def->opaque) {
      fail(start, fmt::format("gate '{}' is opaque (declared at line {}) and cannot be simulated", def->name,
                              def->line));
    }
    const bool native = !def || def->native;
    if (native) spend(static_cast<std::uint64_t>(n) * args.size(), loc_of(start));
    std::vector<std::uint32_t> qubits(args.size());
    std::vector<Target> native_targets;
    for (std::uint32_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < args.size(); ++k) qubits[k] = element(args[k], i);
      if (const auto k = find_repeat(qubits); k >= 0) {
        fail(start, fmt::format("{} uses qubit {} twice", start.text,
                                arg_text(args[static_cast<std::size_t>(k)], i)));
      }
      if (native) {
        for (std::uint32_t q : qubits) native_targets.push_back(Target::qubit(q));
      } else {
        spend(args.size(), loc_of(start));
        expand(*def, params, qubits, at, 1);
      }
    }
    if (native) {
      const NativeGate& ng = def ? *def->native : (g == -1 ? kBuiltinU : kBuiltinCX);
      emit(ng, params, native_targets, at);
    }
  }

  void emit(const NativeGate& g, const std::vector<double>& params, const std::vector<Target>& targets,
            SourceLocation at) {
    switch (g.map) {
      case ArgMap::Same:
        out_.append(g.id, params, targets, at);
        break;
      case ArgMap::None:
        out_.append(g.id, {}, targets, at);
        break;
      case ArgMap::U2: {
        const double a[3] = {M_PI / 2, params[0], params[1]};
        out_.append(g.id, a, targets, at);
        break;
      }
      case ArgMap::CU3: {
        const double a[4] = {params[0], params[1], params[2], 0.0};
        out_.append(g.id, a, targets, at);
        break;
      }
    }
  }

  // Inlines one call of a user gate. `at` is the top-level statement every emitted gate is tagged with.
  void expand(const GateDef& def, const std::vector<double>& params, const std::vector<std::uint32_t>& qubits,
              SourceLocation at, int nesting) {
    if (nesting > kMaxGateNesting) {
      fail(Loc{at.line, at.column},
           fmt::format("gate calls nest more than {} levels deep (in '{}')", kMaxGateNesting, def.name));
    }
    const ErrorCtx ctx{def.library};
    std::vector<double> sub_params;
    std::vector<std::uint32_t> sub_qubits;
    std::vector<Target> targets;
    for (const BodyCall& call : def.body) {
      spend(call.cost + call.qubits.size(), Loc{at.line, at.column});
      sub_params.clear();
      for (std::size_t i = 0; i < call.params.size(); ++i) {
        sub_params.push_back(
            eval_param(call.params[i], params, gate_name(call.callee), i, ctx, at, def.name));
      }
      sub_qubits.clear();
      for (std::uint32_t k : call.qubits) sub_qubits.push_back(qubits[k]);
      const GateDef* callee = call.callee >= 0 ? &gates_[static_cast<std::size_t>(call.callee)] : nullptr;
      if (callee && callee->opaque) {
        fail(Loc{at.line, at.column},
             fmt::format("gate '{}' (used by '{}') is opaque and cannot be simulated", callee->name,
                         def.name));
      }
      if (!callee || callee->native) {
        targets.clear();
        for (std::uint32_t q : sub_qubits) targets.push_back(Target::qubit(q));
        const NativeGate& ng = callee ? *callee->native : (call.callee == -1 ? kBuiltinU : kBuiltinCX);
        emit(ng, sub_params, targets, at);
      } else {
        expand(*callee, sub_params, sub_qubits, at, nesting + 1);
      }
    }
  }

  // --- expressions --------------------------------------------------------------------------
  std::int32_t add_node(Node n) {
    for (std::int32_t c : {n.a, n.b}) {
      if (c < 0) continue;
      n.depth = std::max(n.depth, nodes_[static_cast<std::size_t>(c)].depth + 1);
      n.size += nodes_[static_cast<std::size_t>(c)].size;
    }
    if (n.depth > kMaxExprDepth)
      fail(n.where, fmt::format("expression is nested too deeply (more than {} levels)", kMaxExprDepth));
    nodes_.push_back(n);
    return static_cast<std::int32_t>(nodes_.size() - 1);
  }

  // params: names of the enclosing gate's parameters (nullptr at top level).
  Expr parse_expr(const NameIndex* params) {
    Expr e;
    e.where = loc_of(tok_);
    expr_params_ = params;
    expr_nesting_ = 0;
    e.root = parse_sum();
    return e;
  }

  void enter(const Token& t) {
    if (++expr_nesting_ > kMaxExprDepth)
      fail(t, fmt::format("expression is nested too deeply (more than {} levels)", kMaxExprDepth));
  }

  std::int32_t parse_sum() {
    std::int32_t lhs = parse_product();
    while (is_punct('+') || is_punct('-')) {
      const Token op = tok_;
      advance();
      const std::int32_t rhs = parse_product();
      lhs = add_node({op.punct == '+' ? Op::Add : Op::Sub, lhs, rhs, -1, 1, 0, loc_of(op)});
    }
    return lhs;
  }

  std::int32_t parse_product() {
    std::int32_t lhs = parse_unary();
    while (is_punct('*') || is_punct('/')) {
      const Token op = tok_;
      advance();
      const std::int32_t rhs = parse_unary();
      lhs = add_node({op.punct == '*' ? Op::Mul : Op::Div, lhs, rhs, -1, 1, 0, loc_of(op)});
    }
    return lhs;
  }

  // Unary minus binds looser than '^' (-2^2 = -4), as in Qiskit's reader.
  std::int32_t parse_unary() {
    if (is_punct('-') || is_punct('+')) {
      const Token op = tok_;
      enter(op);
      advance();
      const std::int32_t x = parse_unary();
      --expr_nesting_;
      return op.punct == '-' ? add_node({Op::Neg, x, -1, -1, 1, 0, loc_of(op)}) : x;
    }
    return parse_power();
  }

  // '^' is right-associative; its exponent may carry a sign (2^-1).
  std::int32_t parse_power() {
    const std::int32_t base = parse_primary();
    if (!is_punct('^')) return base;
    const Token op = tok_;
    enter(op);
    advance();
    const std::int32_t exponent = parse_unary();
    --expr_nesting_;
    return add_node({Op::Pow, base, exponent, -1, 1, 0, loc_of(op)});
  }

  std::int32_t parse_primary() {
    const Token t = tok_;
    if (t.kind == Tok::Int || t.kind == Tok::Real) {
      advance();
      return add_node({Op::Num, -1, -1, -1, 1, t.number, loc_of(t)});
    }
    if (is_punct('(')) {
      enter(t);
      advance();
      const std::int32_t x = parse_sum();
      expect_punct(')', "to close the parenthesis");
      --expr_nesting_;
      return x;
    }
    if (t.kind == Tok::Ident) {
      static constexpr std::pair<std::string_view, Op> kFuncs[] = {{"sin", Op::Sin}, {"cos", Op::Cos},
                                                                   {"tan", Op::Tan}, {"exp", Op::Exp},
                                                                   {"ln", Op::Ln},   {"sqrt", Op::Sqrt}};
      for (const auto& [fname, fop] : kFuncs) {
        if (t.text != fname) continue;
        advance();
        if (!is_punct('(')) fail(tok_, fmt::format("expected '(' after {}, got {}", fname, describe(tok_)));
        enter(t);
        advance();
        const std::int32_t x = parse_sum();
        expect_punct(')', fmt::format("to close {}(", fname));
        --expr_nesting_;
        return add_node({fop, x, -1, -1, 1, 0, loc_of(t)});
      }
      advance();
      if (t.text == "pi") return add_node({Op::Num, -1, -1, -1, 1, M_PI, loc_of(t)});
      if (expr_params_) {
        const auto it = expr_params_->find(t.text);
        if (it == expr_params_->end()) fail(t, fmt::format("unknown parameter '{}'", t.text));
        return add_node({Op::Param, -1, -1, static_cast<std::int32_t>(it->second), 1, 0, loc_of(t)});
      }
      fail(t, fmt::format("unknown identifier '{}' in expression (only gate definitions have parameters)",
                          t.text));
    }
    fail(t, fmt::format("expected an expression, got {}", describe(t)));
  }

  // Errors from qelib1.inc's own text are reported at the user's statement that expanded it.
  Loc error_loc(Loc in_text, const ErrorCtx& ctx, SourceLocation call_site) const {
    return ctx.library ? Loc{call_site.line, call_site.column} : in_text;
  }

  // Where an error in an expression is reported, and what is said about the call that evaluated it.
  struct EvalSite {
    const ErrorCtx& ctx;
    SourceLocation call_site;
    std::string_view in_gate;  // the user gate whose body holds the expression ("" at top level)
  };

  [[noreturn]] void fail_eval(Loc in_text, const EvalSite& site, const std::string& message) const {
    if (site.ctx.library || site.in_gate.empty()) fail(error_loc(in_text, site.ctx, site.call_site), message);
    fail(in_text,
         fmt::format("{} (in gate '{}' called at line {})", message, site.in_gate, site.call_site.line));
  }

  double eval(std::int32_t i, const std::vector<double>& params, const EvalSite& site) const {
    const Node& n = nodes_[static_cast<std::size_t>(i)];
    auto sub = [&](std::int32_t j) { return eval(j, params, site); };
    switch (n.op) {
      case Op::Num:
        return n.value;
      case Op::Param:
        return params[static_cast<std::size_t>(n.param)];
      case Op::Neg:
        return -sub(n.a);
      case Op::Add:
        return sub(n.a) + sub(n.b);
      case Op::Sub:
        return sub(n.a) - sub(n.b);
      case Op::Mul:
        return sub(n.a) * sub(n.b);
      case Op::Div: {
        const double num = sub(n.a), den = sub(n.b);
        if (den == 0) fail_eval(n.where, site, "division by zero");
        return num / den;
      }
      case Op::Pow:
        return std::pow(sub(n.a), sub(n.b));
      case Op::Sin:
        return std::sin(sub(n.a));
      case Op::Cos:
        return std::cos(sub(n.a));
      case Op::Tan:
        return std::tan(sub(n.a));
      case Op::Exp:
        return std::exp(sub(n.a));
      case Op::Ln:
        return std::log(sub(n.a));
      case Op::Sqrt:
        return std::sqrt(sub(n.a));
    }
    return 0;
  }

  double eval_param(const Expr& e, const std::vector<double>& params, std::string_view gate,
                    std::size_t index, const ErrorCtx& ctx, SourceLocation call_site = {},
                    std::string_view in_gate = {}) const {
    const EvalSite site{ctx, call_site, in_gate};
    const double v = eval(e.root, params, site);
    if (!std::isfinite(v)) {
      fail_eval(
          e.where, site,
          fmt::format("parameter {} of {} is not a finite number (it evaluates to {})", index + 1, gate, v));
    }
    return v;
  }

  // --- state --------------------------------------------------------------------------------
  const std::string& source_name_;
  std::string_view text_;
  std::size_t pos_ = 0, line_start_ = 0;
  std::uint32_t line_ = 1;
  Token tok_;

  bool qelib1_included_ = false;
  bool in_library_ = false;
  Loc include_loc_;
  std::map<std::string, Register, std::less<>> registers_;
  std::uint64_t total_qubits_ = 0, total_bits_ = 0;
  std::vector<GateDef> gates_;
  std::map<std::string, std::int32_t, std::less<>> gate_index_;
  std::vector<Node> nodes_;
  const NameIndex* expr_params_ = nullptr;
  int expr_nesting_ = 0;
  std::uint64_t work_ = 0;
  Circuit out_;
};

}  // namespace

Circuit parse_qasm(std::string_view text, const std::string& source_name) {
  return Parser(text, source_name).run();
}

}  // namespace qw
