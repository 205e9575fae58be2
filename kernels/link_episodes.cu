// Elementary-link episodes (kernels/link_episodes.h): one thread per episode.
#include "kernels/link_episodes.h"

#include "kernels/launch.h"
#include "kernels/rng.h"

namespace qw::link {
namespace {

struct ElementaryEpisode {
  ElementaryLinkParams p;
  std::uint64_t seed, first_episode;
  EpisodeOutputs out;
  QW_HD void operator()(index_t i) const {
    const std::uint64_t episode = first_episode + i;
    const std::uint64_t n =
        geometric_attempts(uniform01(seed, episode, kDrawAttempts), p.success_probability);
    const BellDiagonal b = delivered_pair(p);
    out.attempts[i] = n;
    out.time_s[i] = static_cast<double>(n) * p.attempt_time_s + p.delay_s;
    out.fidelity[i] = b.phi_plus;
    for (int k = 0; k < 4; ++k) out.bell_diagonal[4 * i + k] = b[k];
  }
};

}  // namespace

void run_elementary_episodes(const ElementaryLinkParams& params, std::uint64_t seed,
                             std::uint64_t first_episode, index_t count, const EpisodeOutputs& out) {
  for_each_index(count, ElementaryEpisode{params, seed, first_episode, out});
}

}  // namespace qw::link
