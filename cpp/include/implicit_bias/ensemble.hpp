// Many independent runs advanced together, spread over OpenMP threads when available, optionally in
// lane groups (lanes.hpp: several runs step-interleaved in one thread). Each run owns all of its
// state, so the result of every run is identical to running it alone.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "run.hpp"

namespace implicit_bias {

inline bool openmp_enabled() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

inline int max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// Advance runs[k] to targets[k] for every k, with `threads` threads (<= 0: OpenMP's default).
template <class T>
void advance_all(const std::vector<RunBase<T>*>& runs, const std::vector<std::uint64_t>& targets, int threads) {
    const auto count = static_cast<std::int64_t>(runs.size());
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
    for (std::int64_t k = 0; k < count; ++k)
        runs[static_cast<std::size_t>(k)]->advance(targets[static_cast<std::size_t>(k)]);
    (void)threads;
}

// Lane groups (lanes.hpp): groups[g] lists indices into runs whose runs are lane-compatible (checked
// by the caller with RunBase::lane_compatible, at most kMaxLanes per group). Each group advances its
// runs to stops[k] step-interleaved in one thread; the groups are spread over `threads` threads.
template <class T>
void advance_groups(const std::vector<RunBase<T>*>& runs, const std::vector<std::uint64_t>& stops,
                    const std::vector<std::vector<std::size_t>>& groups, int threads) {
    const auto count = static_cast<std::int64_t>(groups.size());
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
    for (std::int64_t g = 0; g < count; ++g) {
        const auto& members = groups[static_cast<std::size_t>(g)];
        RunBase<T>* lane[kMaxLanes];
        std::uint64_t stop[kMaxLanes];
        const std::size_t size = std::min(members.size(), kMaxLanes);
        for (std::size_t k = 0; k < size; ++k) {
            lane[k] = runs[members[k]];
            stop[k] = stops[members[k]];
        }
        if (size > 0) lane[0]->advance_lanes(lane, size, stop);
    }
    (void)threads;
}

}  // namespace implicit_bias
