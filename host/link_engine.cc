// Link engine, first slice: elementary-link episodes (host/link_engine.h).
#include "host/link_engine.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "host/result_file.h"
#include "kernels/link_episodes.h"
#include "kernels/memory.h"

namespace qw {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& m : v) s += (s.empty() ? "" : "; ") + m;
  return s;
}

}  // namespace

LinkRunResult run_link(const models::LinkParams& link, const models::MemoryParams& memory,
                       std::uint64_t episodes, std::uint64_t seed, bool full_density,
                       std::uint64_t first_episode, std::uint64_t chunk_episodes) {
  const models::LinkModel model = models::link_model(link);  // throws with the validate() messages
  if (const auto errors = models::validate(memory); !errors.empty())
    throw std::invalid_argument(join(errors));
  if (episodes == 0) throw std::invalid_argument("episodes = 0: must be at least 1");
  if (chunk_episodes == 0) throw std::invalid_argument("chunk_episodes = 0: must be at least 1");
  if (!(model.success_probability >= link::kMinSuccessProbability))
    throw std::invalid_argument(fmt::format(
        "success probability per attempt {:g} (scheme {}, {:g} km) is below {:g}: the mean "
        "generation time would be {:g} s",
        model.success_probability, models::scheme_name(link.scheme), link.length_km,
        link::kMinSuccessProbability,
        models::mean_generation_time_s(model.success_probability, model.attempt_time_s)));
  if (!(model.attempt_time_s > 0))
    throw std::invalid_argument(fmt::format(
        "attempt time {:g} s: set preparation_time_s or length_km above 0", model.attempt_time_s));

  LinkRunResult r;
  r.success_probability = model.success_probability;
  r.attempt_time_s = model.attempt_time_s;
  r.signalling_delay_s = model.signalling_delay_s;
  r.rounds_per_attempt = link.scheme == models::HeraldScheme::double_click ? 2 : 1;
  // From the last emission: the herald's round trip inside the attempt, then the confirmation.
  r.memory_wait_s = (model.attempt_time_s - r.rounds_per_attempt * link.preparation_time_s) +
                    model.signalling_delay_s;
  r.full_density = full_density;
  if (!within_cutoff(r.memory_wait_s, memory.cutoff_s))
    throw std::invalid_argument(fmt::format(
        "cutoff_s = {:g} is shorter than the memory wait {:g} s of every delivered pair (2 L/c_f "
        "for {:g} km): every pair would be discarded",
        memory.cutoff_s, r.memory_wait_s, link.length_km));

  link::ElementaryLinkParams p;
  p.success_probability = model.success_probability;
  p.attempt_time_s = model.attempt_time_s;
  p.delay_s = model.signalling_delay_s;
  p.wait_s = r.memory_wait_s;
  p.t1_s = memory.t1_s;
  p.t2_s = memory.t2_s;
  p.full_density = full_density;
  p.state = model.state;
  p.bell_diagonal = model.bell_diagonal;

  r.time_s.resize(episodes);
  r.attempts.resize(episodes);
  r.fidelity.resize(episodes);
  r.bell_diagonal.resize(episodes * 4);
  const std::uint64_t chunk = std::min(chunk_episodes, episodes);
  DeviceArray<double> d_time(chunk), d_fid(chunk), d_bell(chunk * 4);
  DeviceArray<std::uint64_t> d_att(chunk);
  const link::EpisodeOutputs out{d_time.data(), d_att.data(), d_fid.data(), d_bell.data()};
  for (std::uint64_t done = 0; done < episodes; done += chunk) {
    const std::uint64_t n = std::min(chunk, episodes - done);
    link::run_elementary_episodes(p, seed, first_episode + done, n, out);
    copy_to_host(r.time_s.data() + done, d_time.data(), n * sizeof(double));
    copy_to_host(r.attempts.data() + done, d_att.data(), n * sizeof(std::uint64_t));
    copy_to_host(r.fidelity.data() + done, d_fid.data(), n * sizeof(double));
    copy_to_host(r.bell_diagonal.data() + 4 * done, d_bell.data(), 4 * n * sizeof(double));
  }

  // Summaries on the host, in episode order (deterministic).
  const double ne = static_cast<double>(episodes);
  double sum_f = 0, sum_t = 0, sum_a = 0;
  for (std::uint64_t i = 0; i < episodes; ++i) {
    sum_f += r.fidelity[i];
    sum_t += r.time_s[i];
    sum_a += static_cast<double>(r.attempts[i]);
  }
  r.mean_fidelity = sum_f / ne;
  r.mean_time_s = sum_t / ne;
  r.mean_attempts = sum_a / ne;
  double ss = 0;
  for (double f : r.fidelity) ss += (f - r.mean_fidelity) * (f - r.mean_fidelity);
  r.fidelity_standard_error = episodes > 1 ? std::sqrt(ss / (ne - 1) / ne) : 0.0;
  r.rate_per_s = 1 / r.mean_time_s;
  r.rate_per_channel_use = 1 / (r.mean_attempts * r.rounds_per_attempt);
  r.transmissivity = models::fibre_transmissivity(link.length_km, link.attenuation_db_per_km);
  r.plob_per_channel_use = models::plob_bound(r.transmissivity);
  r.plob_per_s = models::plob_bound_per_second(r.transmissivity,
                                               r.rounds_per_attempt / model.attempt_time_s);
  return r;
}

void write_link_results(ResultFile& file, const std::string& link_name, const LinkRunResult& r) {
  if (link_name.empty() || link_name.find('/') != std::string::npos)
    throw std::invalid_argument(fmt::format(
        "link name \"{}\": must be non-empty and without '/'", link_name));
  const std::string g = "/links/" + link_name + "/";
  const std::uint64_t n = r.attempts.size();
  if (r.time_s.size() != n || r.fidelity.size() != n || r.bell_diagonal.size() != 4 * n)
    throw std::invalid_argument(fmt::format(
        "link {}: inconsistent episode arrays (time_s {}, attempts {}, fidelity {}, "
        "bell_diagonal {})",
        link_name, r.time_s.size(), n, r.fidelity.size(), r.bell_diagonal.size()));
  const char* path = r.full_density ? "full 4x4 maps" : "Bell-diagonal (twirled) maps";
  file.write_array(g + "time_s", r.time_s.data(), {n}, "s",
                   "delivery time of each episode: attempts * attempt_time_s + L/c_f");
  file.write_array(g + "attempts", r.attempts.data(), {n}, "",
                   "heralding attempts up to and including the first success");
  file.write_array(g + "fidelity", r.fidelity.data(), {n}, "",
                   fmt::format("<Phi+|rho|Phi+> of the delivered pair ({})", path));
  file.write_array(g + "bell_diagonal", r.bell_diagonal.data(), {n, 4}, "",
                   fmt::format("Bell-basis diagonal (Phi+, Psi+, Psi-, Phi-) of the delivered "
                               "pair ({})",
                               path));
  const std::string s = "links/" + link_name + "/";
  file.write_summary(s + "mean_fidelity", r.mean_fidelity, "", "mean fidelity of delivered pairs");
  file.write_summary(s + "fidelity_standard_error", r.fidelity_standard_error, "",
                     "standard error of the mean fidelity");
  file.write_summary(s + "mean_attempts", r.mean_attempts, "", "mean attempts per pair");
  file.write_summary(s + "mean_time_s", r.mean_time_s, "s", "mean delivery time per pair");
  file.write_summary(s + "rate", r.rate_per_s, "Hz", "delivered pairs per second: 1/mean_time_s");
  file.write_summary(s + "rate_per_channel_use", r.rate_per_channel_use, "per channel use",
                     "pairs per emission round: 1/(mean_attempts * rounds per attempt)");
  file.write_summary(s + "success_probability", r.success_probability, "",
                     "success probability of one attempt");
  file.write_summary(s + "attempt_time_s", r.attempt_time_s, "s", "duration of one attempt");
  file.write_summary(s + "memory_wait_s", r.memory_wait_s, "s",
                     "each memory qubit's wait from emission to delivery: 2 L/c_f");
  file.write_summary(s + "transmissivity", r.transmissivity, "",
                     "fibre transmissivity node to node");
  file.write_summary(s + "plob_per_channel_use", r.plob_per_channel_use, "per channel use",
                     "repeaterless (PLOB) bound -log2(1 - eta)");
  file.write_summary(s + "plob_per_s", r.plob_per_s, "Hz",
                     "PLOB bound times channel uses per second");
}

}  // namespace qw
