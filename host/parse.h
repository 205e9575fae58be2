// Circuit readers. Both throw qw::InputError with "FILE:LINE:COL: what" on bad input.
#pragma once
#include <string>
#include <string_view>

#include "host/circuit.h"

namespace qw {

// Stim circuit format plus qweave's extension gates (see docs/circuits-stim.md).
Circuit parse_stim(std::string_view text, const std::string& source_name = "<string>");
// OpenQASM 2.0 with qelib1.inc; gates are mapped to the gate table (see docs/circuits-qasm.md).
Circuit parse_qasm(std::string_view text, const std::string& source_name = "<string>");

enum class CircuitFormat { Auto, Stim, Qasm };
CircuitFormat format_from_name(std::string_view name);  // "stim", "qasm"; throws InputError
// Reads a file (InputError "FILE: cannot open ..." when missing); Auto picks by extension.
Circuit read_circuit_file(const std::string& path, CircuitFormat format = CircuitFormat::Auto);

}  // namespace qw
