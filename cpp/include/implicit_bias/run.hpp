// The compiled run: Run<T, Opt, Loss> is one optimizer with one loss on one data set, its step (the
// per-sample step in the phases lanes.hpp interleaves, mini-batch, full-batch and epoch-map steps)
// with the gradient scale kept out of underflow; make_run maps a runtime configuration to it. The
// state, grid and advance loop it shares with every configuration are RunBase<T> (run_base.hpp);
// checkpoints are recorded by recorder.hpp, the full-batch sums live in full_batch.hpp.
#pragma once

#include "eigen.hpp"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
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
#include "run_base.hpp"
#include "sampler.hpp"
#include "scale.hpp"
#include "schedule.hpp"

namespace implicit_bias {

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
            batch_step<D>(lr);
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
    // D > 0: d known at compile time (as in the phased step), so GCC unrolls the d = 2 loops instead of
    // emitting vector loops with runtime trip counts (GD at d = 2: 1.10x of -march=native before).
    template <int D = 0>
    IB_HOT void batch_step(T lr) {
        const std::int64_t d = columns<D>();
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
    IB_HOT void compute_coefficients(const std::int64_t* indices, std::int64_t size) {
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
