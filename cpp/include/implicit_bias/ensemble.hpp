// Many independent runs advanced together, spread over OpenMP threads when available, optionally in
// lane groups (lanes.hpp: several runs step-interleaved in one thread). Each run owns all of its
// state, so the result of every run is identical to running it alone.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
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

// Most threads an ensemble starts: far beyond any machine's cores, far below what the OpenMP runtime
// can allocate (2^31 - 1 threads end in an allocation failure inside libgomp, 10^5 in a crash).
inline constexpr int kMaxThreads = 1024;

// The thread count actually used for `work` independent items: threads <= 0 means OpenMP's default;
// never more than the items or kMaxThreads, never fewer than 1.
inline int thread_count(int threads, std::int64_t work) {
    std::int64_t t = threads > 0 ? threads : max_threads();
    t = std::min<std::int64_t>({t, work, kMaxThreads});
    return static_cast<int>(std::max<std::int64_t>(t, 1));
}

// An exception must not leave an OpenMP region (std::terminate): the first one is kept and rethrown
// after the loop.
class FirstError {
   public:
    void capture() {
#ifdef _OPENMP
#pragma omp critical(implicit_bias_first_error)
#endif
        if (!error_) error_ = std::current_exception();
    }
    void rethrow() const {
        if (error_) std::rethrow_exception(error_);
    }

   private:
    std::exception_ptr error_;
};

// Advance runs[k] to targets[k] for every k, with `threads` threads (thread_count).
template <class T>
void advance_all(const std::vector<RunBase<T>*>& runs, const std::vector<std::uint64_t>& targets, int threads) {
    const auto count = static_cast<std::int64_t>(runs.size());
    threads = thread_count(threads, count);
    FirstError errors;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
    for (std::int64_t k = 0; k < count; ++k) {
        try {
            runs[static_cast<std::size_t>(k)]->advance(targets[static_cast<std::size_t>(k)]);
        } catch (...) {
            errors.capture();
        }
    }
    (void)threads;
    errors.rethrow();
}

// Lane groups (lanes.hpp): groups[g] lists indices into runs whose runs are lane-compatible (checked
// by the caller with RunBase::lane_compatible, at most kMaxLanes per group). Each group advances its
// runs to stops[k] step-interleaved in one thread; the groups are spread over `threads` threads.
template <class T>
void advance_groups(const std::vector<RunBase<T>*>& runs, const std::vector<std::uint64_t>& stops,
                    const std::vector<std::vector<std::size_t>>& groups, int threads) {
    const auto count = static_cast<std::int64_t>(groups.size());
    threads = thread_count(threads, count);
    FirstError errors;
#ifdef _OPENMP
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
        try {
            if (size > 0) lane[0]->advance_lanes(lane, size, stop);
        } catch (...) {
            errors.capture();
        }
    }
    (void)threads;
    errors.rethrow();
}

}  // namespace implicit_bias
