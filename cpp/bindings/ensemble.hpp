// The ensemble loop from Python: many runs advanced in rounds on OpenMP threads (optionally in lane
// groups), the GIL released during a round and Python's signal handlers run between rounds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <implicit_bias/implicit_bias.hpp>

#include "advance.hpp"
#include "bindings.hpp"

namespace bindings_detail {

namespace ib = implicit_bias;

// lanes: None (every run alone) or a partition of range(len(runs)) into groups of lane-compatible runs
// (RunBase::lane_compatible, at most kMaxLanes each); each group is advanced step-interleaved in one
// thread (lanes.hpp), the groups spread over the threads (ib::thread_count: at most ib::kMaxThreads).
template <class T>
void advance_ensemble(const std::vector<ib::RunBase<T>*>& runs, const std::vector<std::uint64_t>& targets, int threads,
                      const std::optional<std::vector<std::vector<std::size_t>>>& lanes) {
    if (runs.size() != targets.size()) throw py::value_error("targets: need one target step per run");
    for (auto* r : runs)
        if (r == nullptr) throw py::type_error("runs: None is not a run");
    {
        std::vector<ib::RunBase<T>*> sorted(runs);
        std::sort(sorted.begin(), sorted.end());
        if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
            throw py::value_error("runs: the same run appears twice (it cannot advance on two threads)");
    }
    std::vector<std::vector<std::size_t>> groups;
    if (lanes) {
        std::vector<char> seen(runs.size(), 0);
        for (const auto& g : *lanes) {
            if (g.empty() || g.size() > ib::kMaxLanes)
                throw py::value_error("lanes: every group needs 1 to " + std::to_string(ib::kMaxLanes) + " runs");
            for (std::size_t k : g) {
                if (k >= runs.size() || seen[k]) throw py::value_error("lanes: must partition the run indices");
                seen[k] = 1;
                if (!runs[g[0]]->lane_compatible(*runs[k]))
                    throw py::value_error(
                        "lanes: runs of one group must share optimizer kind, loss, dtype and batch path");
            }
        }
        if (std::find(seen.begin(), seen.end(), 0) != seen.end())
            throw py::value_error("lanes: must partition the run indices");
        groups = *lanes;
    } else {
        for (std::size_t k = 0; k < runs.size(); ++k) groups.push_back({k});
    }
    {
        Busy<T> busy(runs);
        const int workers = ib::thread_count(threads, static_cast<std::int64_t>(groups.size()));
        std::vector<std::uint64_t> stops(runs.size());
        std::vector<std::vector<std::size_t>> active;
        while (true) {
            std::size_t count = 0;
            for (std::size_t k = 0; k < runs.size(); ++k) count += runs[k]->t() < targets[k];
            if (count == 0) break;
            // One round costs ~chunk_budget multiply-adds per worker, then signals are checked.
            const double share = chunk_budget<T>() * workers / static_cast<double>(count);
            for (std::size_t k = 0; k < runs.size(); ++k) {
                const std::uint64_t t = runs[k]->t();
                const auto chunk = static_cast<std::uint64_t>(std::max(1.0, share / runs[k]->cost_per_step()));
                stops[k] = t >= targets[k] ? t : t + std::min(chunk, targets[k] - t);
            }
            active.clear();
            for (const auto& g : groups) {
                std::vector<std::size_t> members;
                for (std::size_t k : g)
                    if (runs[k]->t() < targets[k]) members.push_back(k);
                if (!members.empty()) active.push_back(std::move(members));
            }
            {
                py::gil_scoped_release release;
                ib::advance_groups(runs, stops, active, workers);
            }
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        }
    }
    warn_if_saturated(runs);
}

}  // namespace bindings_detail
