// The run loop: advances one optimizer on one data set by k steps, recording at checkpoints
// (recorder.hpp); the full-batch sums of AdamProxy and AdamEpochMap live in full_batch.hpp.
// Knows nothing of Python. RunBase<T> type-erases the (optimizer, loss) pair so that runs of
// different configurations can share one ensemble loop.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "dataset.hpp"
#include "full_batch.hpp"
#include "lanes.hpp"
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

template <class T, template <class> class Opt, class Loss>
class Run final : public RunBase<T> {
    using Base = RunBase<T>;
    using Base::data_;
    using Base::sampler_;
    using Base::scale_;
    using Base::schedule_;
    using Base::t_;
    using Base::w_;

   public:
    Run(std::shared_ptr<const Dataset<T>> data, const Vector<T>& w0, const RunConfig& config)
        : Base(std::move(data), w0, config),
          opt_(make_optimizer(config, data_->d(), epoch_batches(data_->n(), config.batch_size))),
          batch_size_(config.batch_size),
          single_(config.batch_size == 1),
          margins_(static_cast<std::size_t>(kWholePass ? data_->n() : config.batch_size)),
          coefs_(margins_.size()),
          grad_(data_->d()),
          low_(pow2<T>(-kScaleBits)),
          proxy_(make_proxy_sums(*data_)),
          epoch_(make_epoch_gradients(*data_, config.batch_size)) {
        if constexpr (kWholePass) {
            all_indices_.resize(static_cast<std::size_t>(data_->n()));
            for (std::int64_t i = 0; i < data_->n(); ++i) all_indices_[static_cast<std::size_t>(i)] = i;
        }
        if constexpr (kEpochMap) {
            // The map is defined on the fixed cyclic partition only.
            if (config.order != Order::cyclic) throw std::invalid_argument("order: AdamEpochMap needs order 'cyclic'");
        }
    }

    double cost_per_step() const override {
        const double n = static_cast<double>(data_->n()), d = static_cast<double>(data_->d());
        if constexpr (kEpochMap) {
            // margins n d, batch sums n d (b > 1 only), S_0 2 K d, recurrence ~2 K d (sqrt and division
            // counted as one multiply-add, as for Adam)
            const double k = static_cast<double>(epoch_batches(data_->n(), batch_size_));
            return (single_ ? 1.0 : 2.0) * n * d + 4.0 * k * d + n;
        }
        return Opt<T>::full_batch ? 3.0 * n * d + n : static_cast<double>(batch_size_ + 1) * d + 10.0;
    }

    void advance_lanes(Base* const* runs, std::size_t K, const std::uint64_t* stops) override {
        if (K > kMaxLanes) throw std::invalid_argument("lanes: too many runs in one group");
        Run* lanes[kMaxLanes];
        for (std::size_t k = 0; k < K; ++k) {
            if (!lane_compatible(*runs[k]))
                throw std::invalid_argument(
                    "lanes: runs of one group must share optimizer kind, loss, dtype and batch path");
            lanes[k] = static_cast<Run*>(runs[k]);
        }
        implicit_bias::advance_lanes(lanes, K, stops);
    }
    bool lane_compatible(const Base& other) const override {
        return typeid(other) == typeid(Run) && static_cast<const Run&>(other).phased() == phased();
    }

    // --- the per-sample step in three phases (lanes.hpp); step() is exactly these in order ---
    static constexpr bool kPhased = !detail::is_epoch_map<Opt<T>> && !Opt<T>::full_batch && !Opt<T>::stateless;
    // True when step() is the phased per-sample step (batch size 1, an optimizer with state).
    bool phased() const { return kPhased && single_; }
    struct Pending {
        T lr, u, a;
        const T* zi;
        std::int64_t i;
    };
    // D > 0: the data has exactly D columns, known at compile time (small d: the coordinate loops
    // unroll); the operations are those of D = 0 (d read at run time), in the same order.
    template <int D = 0>
    IB_HOT void phase_margin(Pending& p) {
        p.lr = schedule_(t_);
        p.i = sampler_.next().indices[0];
        p.zi = data_->row(p.i);
        p.u = dot(p.zi, w_.data(), columns<D>());
    }
    IB_HOT void phase_coefficient(Pending& p) { p.a = coefficient(p.u, p.i); }
    template <int D = 0>
    IB_HOT void phase_update(const Pending& p) {
        opt_.update(w_.data(), p.zi, -p.a, p.a * data_->row_max[p.i], columns<D>(), p.lr, t_, scale_);
        end_step();
    }
    // `count` steps of this run alone (what advance() does between stops).
    void advance_steps_public(std::uint64_t count) { advance_steps(count); }
    // `steps` interleaved steps of runs[0 .. K) (lanes.hpp), all of this type; not virtual, so that GCC
    // can clone it per instruction set (IB_DISPATCH), as the single-run loop.
    IB_DISPATCH void interleave_dispatched(Run* const* runs, std::size_t K, std::uint64_t steps) {
        if (fixed_columns(data_->d()) == 2)
            lanes_detail::interleave_d<2>(runs, K, steps);
        else
            lanes_detail::interleave_d<0>(runs, K, steps);
    }
    // The column count D > 0 for which step<D>() has a compile-time specialization (0: none).
    static constexpr int fixed_columns(std::int64_t d) { return d == 2 ? 2 : 0; }

    template <int D = 0>
    IB_HOT void step() {
        if constexpr (kPhased) {
            if (single_) {
                Pending p;
                phase_margin<D>(p);
                phase_coefficient(p);
                phase_update<D>(p);
                return;
            }
        }
        const T lr = schedule_(t_);
        if constexpr (kEpochMap) {
            epoch_step(lr);
        } else if constexpr (Opt<T>::full_batch) {
            full_step(lr);
        } else {
            batch_step(lr);
        }
        end_step();
    }

    void record() override {
        record_checkpoint<T, Loss>(this->checkpoints_, *data_, w_, t_, scale_.exponent(), record_margins_);
    }

   protected:
    void advance_steps(std::uint64_t count) override { advance_steps_dispatched(count); }
    // Not virtual, so that GCC can clone it per instruction set (IB_DISPATCH, numerics.hpp).
    IB_DISPATCH void advance_steps_dispatched(std::uint64_t count) {
        if (fixed_columns(data_->d()) == 2) {
            for (std::uint64_t s = 0; s < count; ++s) step<2>();
            return;
        }
        for (std::uint64_t s = 0; s < count; ++s) step();
    }
    void save_optimizer(NamedArrays<T>& out) const override { opt_.save(out); }
    void load_optimizer(const NamedArrays<T>& in) override { opt_.load(in); }
    void after_load() override {
        opt_.rescale(0, scale_);
        fresh_ = !Opt<T>::stateless && opt_.state_bound() == T(0);
    }

   public:
    bool scale_saturated() const override { return !Opt<T>::stateless && scale_.saturated(); }

   private:
    void rescale(std::int64_t k) {
        scale_.set_exponent(scale_.exponent() + k);
        opt_.rescale(k, scale_);
    }

    // |l'(u)| 2^-E for sample i, moving the scale up first if that would overflow it. Before the
    // optimizer holds any state (fresh_) the scale is also moved down onto a gradient far below it,
    // so that the first step is not lost to underflow (tiny data, or a w0 with large margins).
    IB_HOT T coefficient(T u, std::int64_t i) {
        T a = scaled_coefficient(u, i);
        if (IB_UNLIKELY(fresh_) && a * data_->row_max[i] < low_) {
            const T log_top = Loss::log_abs_deriv(u) + data_->log_row_max[i];
            if (log_top > -std::numeric_limits<T>::infinity()) {
                const std::int64_t target = clamped_exponent(log_top / ln2<T>);
                if (target != scale_.exponent()) {
                    rescale(target - scale_.exponent());
                    a = scaled_coefficient(u, i);
                }
            }
        }
        return a;
    }

    // Each shift moves E to where the gradient fits; a second one is only needed after rounding at
    // the boundary, so the loop is bounded (then the coefficient is taken as it comes out).
    IB_HOT T scaled_coefficient(T u, std::int64_t i) {
        T a = std::numeric_limits<T>::quiet_NaN();  // unreachable fallback: visible, never silent
        std::int64_t shift;
        for (int tries = 0; tries < kMaxShifts; ++tries) {
            if (scale_.template coefficient<Loss>(u, data_->row_max[i], data_->log_row_max[i], a, shift)) return a;
            rescale(shift);
        }
        return a;
    }
    static constexpr int kMaxShifts = 8;

    template <int D>
    IB_HOT std::int64_t columns() const {
        if constexpr (D > 0)
            return D;
        else
            return data_->d();
    }

    IB_HOT void end_step() {
        ++t_;
        if (IB_UNLIKELY(fresh_)) fresh_ = opt_.state_bound() == T(0);
        if (opt_.state_below(low_)) rescale(exponent_of(opt_.state_bound()));
    }

    // Inlined into the dispatched run loop (IB_HOT), so the clones vectorize its loops too (mini-batch
    // and full-batch GD / SignGD / Signum / Adam; stateless optimizers at b = 1). The gradient sum is a
    // plain loop, not an Eigen expression: Eigen picks its packets from the baseline's macros (SSE2)
    // whatever the clone; the operations (grad_j - c z_ij, in sample order) are the same.
    IB_HOT void batch_step(T lr) {
        const std::int64_t d = data_->d();
        const Batch batch = sampler_.next();
        for (std::int64_t k = 0; k < batch.size; ++k)
            margins_[static_cast<std::size_t>(k)] = dot(data_->row(batch.indices[k]), w_.data(), d);
        compute_coefficients(batch.indices, batch.size);
        T* __restrict g = grad_.data();
        for (std::int64_t j = 0; j < d; ++j) g[j] = T(0);
        T bound = T(0);
        for (std::int64_t k = 0; k < batch.size; ++k) {
            const std::int64_t i = batch.indices[k];
            const T c = coefs_[static_cast<std::size_t>(k)];
            const T* __restrict zi = data_->row(i);
            for (std::int64_t j = 0; j < d; ++j) g[j] -= c * zi[j];
            bound += c * data_->row_max[i];
        }
        const T inv_size = T(1) / static_cast<T>(batch.size);
        opt_.update(w_.data(), grad_.data(), inv_size, bound * inv_size, d, lr, t_, scale_);
    }

    // All coefficients of a batch on one common scale. A rescale mid-batch restarts the batch. A
    // stateless optimizer (nothing to compare with but this batch), or one that holds no state yet,
    // also re-centres the scale on the batch's largest gradient when all of them fall below
    // 2^-kScaleBits, so none underflows to 0. Every pass either returns or moves E (bounded: E moves
    // to its target at once, a further pass only follows rounding), and after kMaxShifts passes the
    // coefficients are taken as they are.
    void compute_coefficients(const std::int64_t* indices, std::int64_t size) {
        const auto& data = *data_;
        for (int pass = 0; pass < kMaxShifts; ++pass) {
            bool restart = false;
            T top = T(0);
            for (std::int64_t k = 0; k < size; ++k) {
                const std::int64_t i = indices[k];
                std::int64_t shift;
                if (!scale_.template coefficient<Loss>(margins_[k], data.row_max[i], data.log_row_max[i], coefs_[k],
                                                       shift)) {
                    rescale(shift);
                    restart = true;
                    break;
                }
                top = std::max(top, coefs_[k] * data.row_max[i]);
            }
            if (restart) continue;
            if (Opt<T>::stateless || fresh_) {
                if (top < low_ || (Opt<T>::stateless && !(top <= high_))) {
                    T log_top = -std::numeric_limits<T>::infinity();
                    for (std::int64_t k = 0; k < size; ++k)
                        log_top = std::max(log_top, Loss::log_abs_deriv(margins_[k]) + data.log_row_max[indices[k]]);
                    if (log_top == -std::numeric_limits<T>::infinity()) return;  // only all-zero rows
                    if (!(top <= high_) && !scale_.saturated()) return;          // inf / NaN margins
                    const std::int64_t target = clamped_exponent(log_top / ln2<T>);
                    if (target == scale_.exponent()) {
                        // E at its cap (margins beyond ~8e17, or a diverged iterate).
                        if constexpr (kNormalizeAtCap) normalize_coefficients(indices, size, log_top);
                        return;
                    }
                    rescale(target - scale_.exponent());
                    continue;
                }
            }
            return;
        }
    }

    // SignGD, AdamProxy, AdamEpochMap: the update is invariant to one positive factor on all
    // coefficients and keeps no state, so at E's cap the batch is normalized by its own largest
    // gradient instead (the largest coefficient times its row max is 1): exact at any margin.
    static constexpr bool kNormalizeAtCap = Opt<T>::stateless && !std::is_same_v<Opt<T>, GD<T>>;
    void normalize_coefficients(const std::int64_t* indices, std::int64_t size, T log_top) {
        if (!(std::abs(log_top) < std::numeric_limits<T>::max())) return;
        // The leading sample k*: log |l'| and log row max are kept apart, since at such margins
        // log |l'| + log row max rounds to log |l'| (the row max would be lost: a = 1, not 1 / row max).
        std::int64_t lead = 0;
        T lead_sum = -std::numeric_limits<T>::infinity();
        for (std::int64_t k = 0; k < size; ++k) {
            const T sum = Loss::log_abs_deriv(margins_[k]) + data_->log_row_max[indices[k]];
            if (sum > lead_sum) lead_sum = sum, lead = k;
        }
        const T lead_log = Loss::log_abs_deriv(margins_[lead]), lead_row = data_->log_row_max[indices[lead]];
        for (std::int64_t k = 0; k < size; ++k) {
            const T log_a = (Loss::log_abs_deriv(margins_[k]) - lead_log) - lead_row;
            coefs_[k] = log_a < Limits<T>::exp_zero_below ? T(0) : std::exp(log_a);
        }
    }

    // AdamProxy: all n margins at the step's w (fixed order, full_batch.hpp), their coefficients on one
    // scale (compute_coefficients), the two sums, the update.
    IB_HOT void full_step(T lr) {
        const auto& data = *data_;
        full_batch_margins(data, w_.data(), margins_.data());
        compute_coefficients(all_indices_.data(), data.n());
        proxy_->compute(data, coefs_.data());
        opt_.full_update(w_.data(), proxy_->grad(), proxy_->sq_sum(), full_batch_bound(data, coefs_.data()), data.d(),
                         lr);
    }

    // AdamEpochMap: all n margins at the epoch's w, their coefficients on one scale (re-centred as for
    // AdamProxy), then the K cyclic batch gradients as (multiplier, direction) pairs (full_batch.hpp).
    IB_HOT void epoch_step(T lr) {
        const auto& data = *data_;
        full_batch_margins(data, w_.data(), margins_.data());
        compute_coefficients(all_indices_.data(), data.n());
        const T bound = full_batch_bound(data, coefs_.data());
        epoch_->compute(data, coefs_.data());
        opt_.epoch_update(w_.data(), epoch_->directions(data), epoch_->multipliers(), bound, data.d(), lr);
    }

    static constexpr bool kEpochMap = detail::is_epoch_map<Opt<T>>;
    static constexpr bool kWholePass = Opt<T>::full_batch || kEpochMap;  // every step sees all n samples

    static std::int64_t epoch_batches(std::int64_t n, std::int64_t b) { return EpochGradients<T>::batch_count(n, b); }
    static std::unique_ptr<ProxySums<T>> make_proxy_sums(const Dataset<T>& data) {
        if constexpr (Opt<T>::full_batch) return std::make_unique<ProxySums<T>>(data);
        return nullptr;
    }
    static std::unique_ptr<EpochGradients<T>> make_epoch_gradients(const Dataset<T>& data, std::int64_t b) {
        if constexpr (kEpochMap) return std::make_unique<EpochGradients<T>>(data, b);
        return nullptr;
    }

    static Opt<T> make_optimizer(const RunConfig& c, std::int64_t d, std::int64_t batches) {
        if constexpr (kEpochMap)
            return Opt<T>(c.optimizer, d, batches);
        else
            return Opt<T>(c.optimizer, d);
    }

    Opt<T> opt_;
    std::int64_t batch_size_;
    bool single_;
    std::vector<T> margins_, coefs_;  // per batch sample
    Vector<T> grad_;                  // batch gradient (sum), scaled
    T low_;
    T high_ = pow2<T>(kScaleBits);
    bool fresh_ = !Opt<T>::stateless;           // the optimizer holds no state yet (see coefficient())
    std::vector<std::int64_t> all_indices_;     // AdamProxy and AdamEpochMap: 0 .. n-1
    std::vector<T> record_margins_;             // record(): the n margins
    std::unique_ptr<ProxySums<T>> proxy_;       // AdamProxy only (full_batch.hpp)
    std::unique_ptr<EpochGradients<T>> epoch_;  // AdamEpochMap only (full_batch.hpp)
};

namespace detail {
template <class T, template <class> class Opt>
std::unique_ptr<RunBase<T>> make_run_with(std::shared_ptr<const Dataset<T>> data, const Vector<T>& w0,
                                          const RunConfig& c) {
    switch (c.loss) {
        case LossKind::logistic:
            return std::make_unique<Run<T, Opt, Logistic>>(std::move(data), w0, c);
        case LossKind::exponential:
            return std::make_unique<Run<T, Opt, Exponential>>(std::move(data), w0, c);
    }
    throw std::invalid_argument("unknown loss");
}
}  // namespace detail

// The one place that maps a runtime configuration to a compiled (optimizer, loss) pair.
template <class T>
std::unique_ptr<RunBase<T>> make_run(std::shared_ptr<const Dataset<T>> data, const Vector<T>& w0, const RunConfig& c) {
    switch (c.optimizer.kind) {
        case OptimizerKind::gd:
            return detail::make_run_with<T, GD>(std::move(data), w0, c);
        case OptimizerKind::sign_gd:
            return detail::make_run_with<T, SignGD>(std::move(data), w0, c);
        case OptimizerKind::adam:
            return detail::make_run_with<T, Adam>(std::move(data), w0, c);
        case OptimizerKind::adam_proxy:
            return detail::make_run_with<T, AdamProxy>(std::move(data), w0, c);
        case OptimizerKind::signum:
            return detail::make_run_with<T, Signum>(std::move(data), w0, c);
        case OptimizerKind::adagrad:
            return detail::make_run_with<T, AdaGrad>(std::move(data), w0, c);
        case OptimizerKind::lion:
            return detail::make_run_with<T, Lion>(std::move(data), w0, c);
        case OptimizerKind::adam_epoch_map:
            return detail::make_run_with<T, AdamEpochMap>(std::move(data), w0, c);
    }
    throw std::invalid_argument("unknown optimizer");
}

}  // namespace implicit_bias
