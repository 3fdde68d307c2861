// The type-erased run: its configuration, state (iterate, sampler, schedule, gradient scale, step
// counter), checkpoint grid and checkpoints, saving and loading, and the loop that advances it between
// stops (grid points and the target). RunBase<T> hides the compiled (optimizer, loss) pair (run.hpp)
// so that runs of different configurations share one ensemble loop. Knows nothing of Python.
#pragma once

#include "eigen.hpp"
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "loss.hpp"
#include "numerics.hpp"
#include "optimizers.hpp"
#include "recorder.hpp"
#include "sampler.hpp"
#include "scale.hpp"
#include "schedule.hpp"

namespace implicit_bias {

struct RunConfig {
    OptimizerParams optimizer;
    LossKind loss = LossKind::logistic;
    ScheduleKind schedule = ScheduleKind::constant;
    double eta0 = 0.1;
    double power = 0.5;
    double factor = 1.0;
    std::uint64_t every = 1;
    Order order = Order::cyclic;
    std::int64_t batch_size = 1;
    std::uint64_t seed = 0;
};

// Everything needed to resume a run bit for bit.
template <class T>
struct SavedState {
    std::uint64_t t = 0;
    std::vector<T> w;
    std::int64_t scale_exponent = 0;
    Xoshiro256ss::State rng{};
    std::int64_t sampler_position = 0;
    std::vector<std::int64_t> permutation;
    NamedArrays<T> optimizer;
    std::vector<std::uint64_t> grid;
    Checkpoints<T> checkpoints;
};

template <class T>
class RunBase {
   public:
    RunBase(std::shared_ptr<const Dataset<T>> data, const Vector<T>& w0, const RunConfig& config)
        : data_(std::move(data)),
          w_(w0),
          config_(config),
          sampler_(config.order, data_->n(), config.batch_size, config.seed) {
        if (w_.size() != data_->d()) throw std::invalid_argument("w0 must have d entries");
        schedule_.kind = config.schedule;
        schedule_.eta0 = static_cast<T>(config.eta0);
        schedule_.power = static_cast<T>(config.power);
        schedule_.factor = static_cast<T>(config.factor);
        schedule_.every = config.every;
        if (config.schedule == ScheduleKind::step_decay && config.every < 1)
            throw std::invalid_argument("every must be >= 1");
    }
    virtual ~RunBase() = default;
    RunBase(const RunBase&) = delete;
    RunBase& operator=(const RunBase&) = delete;

    // Advance to step t_end (no-op if already there), recording at every grid point passed.
    void advance(std::uint64_t t_end) {
        while (t_ < t_end) {
            const std::uint64_t stop = next_stop(t_end);
            if (stop <= t_) throw std::logic_error("advance: checkpoint grid behind the step counter");
            advance_steps(stop - t_);
            record_if_due();
        }
    }

    // The first step at which advancing toward t_end must pause: the next grid point, or t_end.
    std::uint64_t next_stop(std::uint64_t t_end) const {
        return next_grid_ < grid_.size() && grid_[next_grid_] < t_end ? grid_[next_grid_] : t_end;
    }
    // Record a checkpoint if the current step is the next grid point.
    void record_if_due() {
        if (next_grid_ < grid_.size() && t_ == grid_[next_grid_]) {
            record();
            ++next_grid_;
        }
    }

    // Lanes (lanes.hpp): advance runs[k] to stops[k], k < K, step-interleaved in this thread. Every
    // runs[k] must have this run's concrete type and batch path (lane_compatible); each result is
    // bit-identical to advancing that run alone.
    virtual void advance_lanes(RunBase* const* runs, std::size_t K, const std::uint64_t* stops) = 0;
    // True when `other` can share a lane group with this run (same compiled type and batch path).
    virtual bool lane_compatible(const RunBase& other) const = 0;

    // Checkpoint steps (absolute, sorted ascending); points <= t() are taken as already recorded.
    void set_grid(std::vector<std::uint64_t> grid) {
        if (!std::is_sorted(grid.begin(), grid.end())) throw std::invalid_argument("checkpoint grid must be sorted");
        grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
        grid_ = std::move(grid);
        next_grid_ = static_cast<std::size_t>(std::upper_bound(grid_.begin(), grid_.end(), t_) - grid_.begin());
    }
    // Add checkpoint steps (sorted ascending, each after the current step) to the grid, which stays
    // sorted and without repeats; adding a step already there changes nothing.
    void extend_grid(const std::vector<std::uint64_t>& points) {
        if (!std::is_sorted(points.begin(), points.end()))
            throw std::invalid_argument("checkpoint grid points must be sorted");
        if (!points.empty() && points.front() <= t_)
            throw std::invalid_argument("checkpoint grid points must come after the current step");
        std::vector<std::uint64_t> merged;
        merged.reserve(grid_.size() + points.size());
        std::set_union(grid_.begin(), grid_.end(), points.begin(), points.end(), std::back_inserter(merged));
        set_grid(std::move(merged));
    }
    // The last planned checkpoint step (0 with no grid).
    std::uint64_t grid_end() const { return grid_.empty() ? 0 : grid_.back(); }
    // True when the last recorded checkpoint is at the current step.
    bool recorded_now() const { return !checkpoints_.steps.empty() && checkpoints_.steps.back() == t_; }

    std::uint64_t t() const { return t_; }
    const Vector<T>& w() const { return w_; }
    std::int64_t scale_exponent() const { return scale_.exponent(); }
    const Checkpoints<T>& checkpoints() const { return checkpoints_; }
    const RunConfig& config() const { return config_; }
    const Dataset<T>& data() const { return *data_; }

    // Multiply-adds per step; used to size interruptible chunks.
    virtual double cost_per_step() const = 0;
    // Record a checkpoint at the current step now.
    virtual void record() = 0;

    SavedState<T> save() const {
        SavedState<T> s;
        s.t = t_;
        s.w.assign(w_.data(), w_.data() + w_.size());
        s.scale_exponent = scale_.exponent();
        s.rng = sampler_.rng_state();
        s.sampler_position = sampler_.position();
        s.permutation = sampler_.permutation();
        save_optimizer(s.optimizer);
        s.grid = grid_;
        s.checkpoints = checkpoints_;
        return s;
    }

    // Every size and invariant is checked before anything changes (std::invalid_argument naming the
    // field), so a damaged state leaves the run as it was.
    void load(const SavedState<T>& s) {
        const auto d = static_cast<std::size_t>(w_.size());
        if (s.w.size() != d)
            throw std::invalid_argument("w: saved with " + std::to_string(s.w.size()) +
                                        " entries, d = " + std::to_string(d));
        if (s.scale_exponent > kMaxScaleExponent || s.scale_exponent < -kMaxScaleExponent)
            throw std::invalid_argument("scale_exponent: outside [-2^60, 2^60]");
        sampler_.check_state(s.sampler_position, s.permutation, s.rng);
        NamedArrays<T> fresh;
        save_optimizer(fresh);
        for (const auto& item : s.optimizer)
            if (fresh.find(item.first) == fresh.end())
                throw std::invalid_argument("optimizer: saved state has an unknown array '" + item.first + "'");
        for (const auto& item : fresh) {
            const auto it = s.optimizer.find(item.first);
            if (it == s.optimizer.end())
                throw std::invalid_argument("optimizer: saved state lacks '" + item.first + "'");
            if (it->second.size() != item.second.size())
                throw std::invalid_argument("optimizer/" + item.first + ": saved with " +
                                            std::to_string(it->second.size()) + " entries, this run needs " +
                                            std::to_string(item.second.size()));
        }
        if (!std::is_sorted(s.grid.begin(), s.grid.end())) throw std::invalid_argument("grid: must be sorted");
        const Checkpoints<T>& c = s.checkpoints;
        const std::size_t k = c.steps.size();
        if (c.w.size() != k * d)
            throw std::invalid_argument("checkpoints/w: " + std::to_string(c.w.size()) + " values for " +
                                        std::to_string(k) + " checkpoints of d = " + std::to_string(d));
        const std::pair<const char*, std::size_t> sizes[] = {{"norm", c.norm.size()},
                                                             {"log_loss", c.log_loss.size()},
                                                             {"margin_l2", c.margin_l2.size()},
                                                             {"margin_linf", c.margin_linf.size()},
                                                             {"min_margin", c.min_margin.size()},
                                                             {"scale_exponent", c.scale_exponent.size()}};
        for (const auto& [name, size] : sizes)
            if (size != k)
                throw std::invalid_argument(std::string("checkpoints/") + name + ": " + std::to_string(size) +
                                            " values for " + std::to_string(k) + " checkpoints");
        sampler_.set_state(s.sampler_position, s.permutation, s.rng);
        load_optimizer(s.optimizer);
        t_ = s.t;
        w_ = Eigen::Map<const Vector<T>>(s.w.data(), static_cast<Eigen::Index>(s.w.size()));
        scale_.set_exponent(s.scale_exponent);
        after_load();
        checkpoints_ = s.checkpoints;
        set_grid(s.grid);
    }

    // True when the shared scale sits at its cap while the optimizer needs it (scale.hpp): the run's
    // gradients are no longer exact. False for GD and the stateless scale-invariant optimizers.
    virtual bool scale_saturated() const = 0;

    // One user at a time: the bindings release the GIL while advancing, so a second Python thread
    // could otherwise use the run concurrently. try_acquire() is false while another use is running.
    bool try_acquire() const { return !busy_.exchange(true, std::memory_order_acquire); }
    void release() const { busy_.store(false, std::memory_order_release); }

   protected:
    virtual void advance_steps(std::uint64_t count) = 0;
    virtual void save_optimizer(NamedArrays<T>& out) const = 0;
    virtual void load_optimizer(const NamedArrays<T>& in) = 0;
    virtual void after_load() = 0;

    std::shared_ptr<const Dataset<T>> data_;
    Vector<T> w_;
    RunConfig config_;
    BatchSampler sampler_;
    Schedule<T> schedule_;
    GradientScale<T> scale_;
    std::uint64_t t_ = 0;
    std::vector<std::uint64_t> grid_;
    std::size_t next_grid_ = 0;
    Checkpoints<T> checkpoints_;
    mutable std::atomic<bool> busy_{false};
};

}  // namespace implicit_bias
