// Link physics (models/link_physics.h); derivations in docs/physics.md.
#include "models/link_physics.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace qw::models {
namespace {

std::string format_value(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void check_range(std::vector<std::string>& errors, const char* key, double v, double lo,
                 double hi, bool lo_open, bool hi_open) {
  const bool ok = (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  if (ok) return;
  std::string range = std::string(lo_open ? "(" : "[") + format_value(lo) + ", " +
                      format_value(hi) + (hi_open ? ")" : "]");
  errors.push_back(std::string(key) + " = " + format_value(v) + ": must be in " + range);
}

void check_probability(std::vector<std::string>& e, const char* key, double v) {
  check_range(e, key, v, 0, 1, false, false);
}

void check_finite_nonnegative(std::vector<std::string>& e, const char* key, double v) {
  if (!(v >= 0) || !std::isfinite(v)) {
    e.push_back(std::string(key) + " = " + format_value(v) + ": must be finite and >= 0");
  }
}

// Probability that exactly one of two threshold detectors clicks in a window, given how many
// photons arrive at the beam splitter: none (a dark count in exactly one detector), one (the
// other detector stays dark), two (they leave by the same port with probability (1 + V)/2).
struct ClickModel {
  double none, one, two;
  ClickModel(double visibility, double p_dark)
      : none(2 * p_dark * (1 - p_dark)),
        one(1 - p_dark),
        two((1 + visibility) / 2 * (1 - p_dark)) {}
  // One photon emitted by a node with arm efficiency eta.
  double single(double eta) const { return eta * one + (1 - eta) * none; }
  // One photon emitted by each node.
  double pair(double eta_a, double eta_b) const {
    return eta_a * eta_b * two + (eta_a * (1 - eta_b) + eta_b * (1 - eta_a)) * one +
           (1 - eta_a) * (1 - eta_b) * none;
  }
};

HeraldOutcome normalised(Pair4 unnormalised) {
  HeraldOutcome o;
  o.success_probability = trace(unnormalised);
  o.state = unnormalised;
  if (o.success_probability > 0) {
    for (auto& x : o.state.rho) x = {x.re / o.success_probability, x.im / o.success_probability};
  }
  return o;
}

}  // namespace

const char* scheme_name(HeraldScheme s) {
  switch (s) {
    case HeraldScheme::double_click: return "double_click";
    case HeraldScheme::single_click: return "single_click";
    case HeraldScheme::werner: return "werner";
  }
  return "unknown";
}

std::vector<std::string> validate(const LinkParams& p) {
  std::vector<std::string> e;
  check_finite_nonnegative(e, "length_km", p.length_km);
  check_finite_nonnegative(e, "attenuation_db_per_km", p.attenuation_db_per_km);
  if (!(p.fibre_index >= 1) || !std::isfinite(p.fibre_index)) {
    e.push_back("fibre_index = " + format_value(p.fibre_index) + ": must be finite and >= 1");
  }
  check_finite_nonnegative(e, "preparation_time_s", p.preparation_time_s);
  switch (p.scheme) {
    case HeraldScheme::werner:
      check_probability(e, "werner_fidelity", p.werner_fidelity);
      check_range(e, "werner_success_probability", p.werner_success_probability, 0, 1, true, false);
      break;
    case HeraldScheme::single_click:
      check_range(e, "bright_state_alpha", p.bright_state_alpha, 0, 0.5, true, false);
      [[fallthrough]];
    case HeraldScheme::double_click:
      check_probability(e, "collection_efficiency", p.collection_efficiency);
      check_probability(e, "conversion_efficiency", p.conversion_efficiency);
      check_probability(e, "detector_efficiency", p.detector_efficiency);
      check_range(e, "dark_count_probability", p.dark_count_probability, 0, 1, false, true);
      check_probability(e, "visibility", p.visibility);
      break;
  }
  return e;
}

std::vector<std::string> validate(const MemoryParams& m) {
  std::vector<std::string> e;
  if (!(m.t1_s > 0)) {
    e.push_back("t1_s = " + format_value(m.t1_s) + ": must be > 0 (inf: no decay)");
  }
  if (!(m.t2_s > 0)) {
    e.push_back("t2_s = " + format_value(m.t2_s) + ": must be > 0 (inf: no decay)");
  }
  if (m.t1_s > 0 && m.t2_s > 0 && m.t2_s > 2 * m.t1_s) {
    e.push_back("t2_s = " + format_value(m.t2_s) + " exceeds 2 * t1_s = " +
                format_value(2 * m.t1_s) + ": lower t2_s or raise t1_s");
  }
  if (!(m.cutoff_s >= 0)) {
    e.push_back("cutoff_s = " + format_value(m.cutoff_s) + ": must be >= 0 (inf: no cut-off)");
  }
  return e;
}

double fibre_transmissivity(double length_km, double attenuation_db_per_km) {
  return std::pow(10.0, -attenuation_db_per_km * length_km / 10);
}

double fibre_light_speed_m_per_s(double fibre_index) {
  return kSpeedOfLightVacuum_m_per_s / fibre_index;
}

double signalling_delay_s(double length_km, double fibre_index) {
  return length_km * 1e3 / fibre_light_speed_m_per_s(fibre_index);
}

double arm_efficiency(const LinkParams& p) {
  return p.collection_efficiency * p.conversion_efficiency * p.detector_efficiency *
         fibre_transmissivity(p.length_km / 2, p.attenuation_db_per_km);
}

double attempt_time_s(const LinkParams& p) {
  const int rounds = p.scheme == HeraldScheme::double_click ? 2 : 1;
  return rounds * p.preparation_time_s + signalling_delay_s(p.length_km, p.fibre_index);
}

HeraldOutcome double_click(double eta_a, double eta_b, double visibility, double p_dark) {
  const ClickModel click(visibility, p_dark);
  // Spin configurations of round 1 (1/4 each; spin up emits). Good: one node emits in round 1,
  // the other (after the pi pulse) in round 2. Bad: both emit in one round, none in the other.
  const double good = click.single(eta_a) * click.single(eta_b) / 4;
  const double coherence = eta_a * eta_b * (1 - p_dark) * (1 - p_dark) * visibility / 4;
  const double bad = click.pair(eta_a, eta_b) * click.none / 4;
  Pair4 rho{};
  rho.at(0, 0) = rho.at(3, 3) = {good, 0};
  rho.at(0, 3) = rho.at(3, 0) = {coherence, 0};
  rho.at(1, 1) = rho.at(2, 2) = {bad, 0};
  return normalised(rho);
}

HeraldOutcome single_click(double eta_a, double eta_b, double alpha, double visibility,
                           double p_dark) {
  const ClickModel click(visibility, p_dark);
  const double one = alpha * (1 - alpha);
  Pair4 rho{};
  // After the X correction on B: A emitted -> |11>, B emitted -> |00>, both -> |10>, none -> |01>.
  rho.at(3, 3) = {one * click.single(eta_a), 0};
  rho.at(0, 0) = {one * click.single(eta_b), 0};
  const double coherence = one * (1 - p_dark) * std::sqrt(eta_a * eta_b * visibility);
  rho.at(0, 3) = rho.at(3, 0) = {coherence, 0};
  rho.at(1, 1) = {alpha * alpha * click.pair(eta_a, eta_b), 0};
  rho.at(2, 2) = {(1 - alpha) * (1 - alpha) * click.none, 0};
  return normalised(rho);
}

HeraldOutcome werner_source(double fidelity, double success_probability) {
  return {success_probability, to_pair4(werner(fidelity))};
}

LinkModel link_model(const LinkParams& p) {
  const auto errors = validate(p);
  if (!errors.empty()) {
    std::string msg;
    for (const auto& m : errors) msg += (msg.empty() ? "" : "; ") + m;
    throw std::invalid_argument(msg);
  }
  HeraldOutcome h;
  const double eta = arm_efficiency(p);
  switch (p.scheme) {
    case HeraldScheme::double_click:
      h = double_click(eta, eta, p.visibility, p.dark_count_probability);
      break;
    case HeraldScheme::single_click:
      h = single_click(eta, eta, p.bright_state_alpha, p.visibility, p.dark_count_probability);
      break;
    case HeraldScheme::werner:
      h = werner_source(p.werner_fidelity, p.werner_success_probability);
      break;
  }
  LinkModel m;
  m.success_probability = h.success_probability;
  m.attempt_time_s = attempt_time_s(p);
  m.signalling_delay_s = signalling_delay_s(p.length_km, p.fibre_index);
  m.state = h.state;
  m.bell_diagonal = bell_diagonal(h.state);
  return m;
}

double mean_generation_time_s(double success_probability, double attempt_time_s) {
  if (!(success_probability > 0)) return std::numeric_limits<double>::infinity();
  return attempt_time_s / success_probability;
}

double plob_bound(double eta) { return -std::log1p(-eta) / std::log(2.0); }

double plob_bound_per_second(double eta, double channel_uses_per_second) {
  return plob_bound(eta) * channel_uses_per_second;
}

}  // namespace qw::models
