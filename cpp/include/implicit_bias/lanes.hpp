// Lanes: K runs of one compiled type (same scalar, optimizer kind, loss and batch path) advanced
// step-interleaved in one thread.
//
// One run is latency-bound at small d: each step is one dependency chain w -> dot -> exp -> sqrt ->
// divide -> w, and the next step needs the new w. K independent runs have K independent chains, so
// advancing them one step each in turn lets the core overlap the chains (out-of-order execution; the
// divider and sqrt units stay busy). The per-sample step is split into three phases (margin,
// coefficient, update); a lane round runs each phase for every lane before the next phase, so the K
// dots, the K exps and the K updates sit next to each other in program order. Every lane executes
// exactly the operations of Run::step() in the same order: step() itself is these three phases, and a
// lane never reads another lane's state, so each run's result is bit-identical to running it alone.
// Paths without the split (mini-batches, full-batch and epoch-map steps, stateless optimizers) are
// interleaved one whole step per lane.
//
// Checkpoints, horizons and the underflow scale stay per run: the group is advanced in segments up to
// the nearest stop of any lane (its next grid point or its target); at a stop the lanes that reached a
// grid point record, and lanes that reached their target leave the group.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "numerics.hpp"

namespace implicit_bias {

// Upper bound on the lanes of one group (the pending per-lane values live on the stack).
inline constexpr std::size_t kMaxLanes = 32;

namespace lanes_detail {

// `steps` interleaved steps of each of the K runs (all of concrete type R, no stop in between); D as
// in Run::step<D>.
template <int D, class R>
IB_HOT void interleave_d(R* const* runs, std::size_t K, std::uint64_t steps) {
    if constexpr (R::kPhased) {
        if (runs[0]->phased()) {
            typename R::Pending p[kMaxLanes];
            for (std::uint64_t s = 0; s < steps; ++s) {
                for (std::size_t k = 0; k < K; ++k) runs[k]->template phase_margin<D>(p[k]);
                for (std::size_t k = 0; k < K; ++k) runs[k]->phase_coefficient(p[k]);
                for (std::size_t k = 0; k < K; ++k) runs[k]->template phase_update<D>(p[k]);
            }
            return;
        }
    }
    for (std::uint64_t s = 0; s < steps; ++s)
        for (std::size_t k = 0; k < K; ++k) runs[k]->template step<D>();
}

template <class R>
void interleave(R* const* runs, std::size_t K, std::uint64_t steps) {
    if (K == 1)  // the single-run loop itself
        runs[0]->advance_steps_public(steps);
    else  // Run::interleave_dispatched: interleave_d, cloned per instruction set like the single loop
        runs[0]->interleave_dispatched(runs, K, steps);
}

}  // namespace lanes_detail

// Advance runs[k] to stops[k] for k < K, interleaved; recording at every grid point passed, exactly as
// RunBase::advance does for one run. All runs must be of type R and share the batch path (phased()).
template <class R>
void advance_lanes(R* const* runs, std::size_t K, const std::uint64_t* stops) {
    if (K > kMaxLanes) throw std::invalid_argument("lanes: at most kMaxLanes runs per group");
    R* active[kMaxLanes];
    std::uint64_t target[kMaxLanes];
    std::size_t count = 0;
    for (std::size_t k = 0; k < K; ++k) {
        if (runs[k]->phased() != runs[0]->phased())
            throw std::invalid_argument("lanes: runs must share the batch path");
        if (runs[k]->t() < stops[k]) {
            active[count] = runs[k];
            target[count] = stops[k];
            ++count;
        }
    }
    while (count > 0) {
        std::uint64_t segment = ~std::uint64_t(0);
        for (std::size_t k = 0; k < count; ++k)
            segment = std::min(segment, active[k]->next_stop(target[k]) - active[k]->t());
        if (segment == 0) throw std::logic_error("lanes: checkpoint grid behind the step counter");
        lanes_detail::interleave(active, count, segment);
        std::size_t kept = 0;
        for (std::size_t k = 0; k < count; ++k) {
            active[k]->record_if_due();
            if (active[k]->t() < target[k]) {
                active[kept] = active[k];
                target[kept] = target[k];
                ++kept;
            }
        }
        count = kept;
    }
}

}  // namespace implicit_bias
