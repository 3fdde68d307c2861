// Optimizer states and updates, one struct each, templated on the scalar T.
//
// Every update receives the batch gradient in scaled units (see scale.hpp) as
//     g_j = g_mult * g_dir[j],   j = 0 .. d-1,     with   g_bound >= max_j |g_j|,
// so that a one-sample batch needs no gradient buffer (g_dir is the row z_i, g_mult = l'(u_i) 2^-E).
// Conventions (SPEC.md): sign(0) = 0; a coordinate whose second moment is 0 gets no update; Adam's
// eps is added outside the square root; bias correction uses the step count t + 1.
//
// Two optimizers take a whole pass per step instead: AdamProxy (full_batch, full_update) and
// AdamEpochMap (epoch_map, epoch_update), see their comments.
//
// Each struct also keeps a cheap O(1) upper bound of its state's magnitude in gradient units
// (state_bound, state_below) so the run can keep the shared scale centred without scanning the state.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "numerics.hpp"
#include "scale.hpp"

namespace implicit_bias {

enum class OptimizerKind : int {
    gd = 0,
    sign_gd = 1,
    adam = 2,
    adam_proxy = 3,
    signum = 4,
    adagrad = 5,
    lion = 6,
    adam_epoch_map = 7
};

// Hyper-parameters as given by the user (Python floats), converted to T by each optimizer.
struct OptimizerParams {
    OptimizerKind kind = OptimizerKind::gd;
    double beta1 = 0.9;            // Adam, Lion, AdamEpochMap
    double beta2 = 0.999;          // Adam, Lion, AdamEpochMap
    double eps = 0.0;              // Adam, AdaGrad (outside the square root)
    double beta = 0.9;             // Signum
    bool bias_correction = false;  // Adam
};

template <class T>
using NamedArrays = std::map<std::string, std::vector<T>>;

namespace detail {

template <class Array>
void rescale_vector(Array& x, std::int64_t k) {
    for (auto& xi : x) xi = std::ldexp(xi, static_cast<int>(-k));
}

template <class T>
const std::vector<T>& get_saved(const NamedArrays<T>& in, const std::string& name, std::size_t size) {
    const auto it = in.find(name);
    if (it == in.end()) throw std::invalid_argument("saved optimizer state lacks '" + name + "'");
    if (it->second.size() != size)
        throw std::invalid_argument("saved optimizer state '" + name + "' has the wrong size");
    return it->second;
}

// Copy a saved array of the expected size into an optimizer's aligned state.
template <class T>
void load_saved(const NamedArrays<T>& in, const std::string& name, AlignedVector<T>& target) {
    const auto& saved = get_saved(in, name, target.size());
    target.assign(saved.begin(), saved.end());
}

template <class T>
std::vector<T> to_saved(const AlignedVector<T>& x) {
    return std::vector<T>(x.begin(), x.end());
}

// First t from which 1 - beta^(t+1) rounds to exactly 1 in every supported precision (beta^(t+1) < 2^-66),
// so pow() can be skipped from then on without changing a bit.
inline std::uint64_t bias_saturation_step(double beta) {
    if (beta <= 0.0) return 0;
    const double k = std::ceil(-66.0 * 0.6931471805599453 / std::log(beta));
    return k > 1.8e19 ? ~std::uint64_t(0) : static_cast<std::uint64_t>(k) + 1;
}

template <class T>
IB_HOT bool below(T bound, T low) {
    return bound < low && bound > T(0);
}

// 1 - beta^k to full relative precision also when beta^k is close to 1 (1 - pow(beta, k) would lose
// up to -log2(1 - beta^k) bits to cancellation). beta = 0 gives 1.
template <class T>
T one_minus_pow(T beta, std::int64_t k) {
    return -std::expm1(static_cast<T>(k) * std::log(beta));
}

// True for an optimizer that declares `static constexpr bool epoch_map = true` (one step = one epoch
// of cyclic batch gradients, all at the same w); false for every other optimizer.
template <class O, class = void>
inline constexpr bool is_epoch_map = false;
template <class O>
inline constexpr bool is_epoch_map<O, std::void_t<decltype(O::epoch_map)>> = O::epoch_map;

}  // namespace detail

// Bookkeeping of the stateless optimizers: the only "state" is the last batch gradient's bound,
// and the run re-centres the scale on every batch.
template <class T>
struct StatelessBase {
    static constexpr bool stateless = true;
    T last_bound = 0;

    T state_bound() const { return last_bound; }
    IB_HOT bool state_below(T low) const { return detail::below(last_bound, low); }
    void rescale(std::int64_t k, const GradientScale<T>&) { last_bound = std::ldexp(last_bound, static_cast<int>(-k)); }
    void save(NamedArrays<T>& out) const { out["bound"] = {last_bound}; }
    void load(const NamedArrays<T>& in) { last_bound = detail::get_saved(in, "bound", 1)[0]; }
};

// A first-moment vector m (scaled by 2^-E) with its running bound: the state of Signum and Lion.
template <class T>
struct MomentumBase {
    static constexpr bool stateless = false;
    AlignedVector<T> m;
    T bound_m = 0;  // >= max_j |m_j|

    explicit MomentumBase(std::int64_t d) : m(static_cast<std::size_t>(d), T(0)) {}

    T state_bound() const { return bound_m; }
    IB_HOT bool state_below(T low) const { return detail::below(bound_m, low); }
    void rescale(std::int64_t k, const GradientScale<T>&) {
        detail::rescale_vector(m, k);
        bound_m = std::ldexp(bound_m, static_cast<int>(-k));
    }
    void save(NamedArrays<T>& out) const {
        out["m"] = detail::to_saved(m);
        out["bound"] = {bound_m};
    }
    void load(const NamedArrays<T>& in) {
        detail::load_saved(in, "m", m);
        bound_m = detail::get_saved(in, "bound", 1)[0];
    }
};

// Plain (stochastic) gradient descent: w -= eta_t g_B. The only optimizer that is not scale invariant:
// the scaled gradient is brought back with 2^E.
template <class T>
struct GD : StatelessBase<T> {
    using StatelessBase<T>::last_bound;
    static constexpr bool full_batch = false;

    GD(const OptimizerParams&, std::int64_t) {}

    IB_HOT void update(T* __restrict w, const T* __restrict g_dir, T g_mult, T g_bound, std::int64_t d, T lr,
                       std::uint64_t, const GradientScale<T>& scale) {
        const T coef = scale.to_true(lr * g_mult);
        for (std::int64_t j = 0; j < d; ++j) w[j] -= coef * g_dir[j];
        last_bound = g_bound;
    }
};

// w -= eta_t sign(g_B).
template <class T>
struct SignGD : StatelessBase<T> {
    using StatelessBase<T>::last_bound;
    static constexpr bool full_batch = false;

    SignGD(const OptimizerParams&, std::int64_t) {}

    IB_HOT void update(T* __restrict w, const T* __restrict g_dir, T g_mult, T g_bound, std::int64_t d, T lr,
                       std::uint64_t, const GradientScale<T>&) {
        const T s = lr * sign(g_mult);
        for (std::int64_t j = 0; j < d; ++j) w[j] -= s * sign(g_dir[j]);
        last_bound = g_bound;
    }
};

// Adam(beta1, beta2, eps, bias_correction); RMSProp is beta1 = 0.
template <class T>
struct Adam {
    static constexpr bool full_batch = false;
    static constexpr bool stateless = false;
    T beta1, beta2, eps;
    bool bias_correction;
    AlignedVector<T> m, v;  // scaled by 2^-E and 2^-2E
    T bound_m = 0;          // >= max_j |m_j|
    T bound_v = 0;          // >= max_j v_j
    T eps_scaled;           // eps * 2^-E
    std::uint64_t bc1_saturation, bc2_saturation;

    Adam(const OptimizerParams& p, std::int64_t d)
        : beta1(static_cast<T>(p.beta1)),
          beta2(static_cast<T>(p.beta2)),
          eps(static_cast<T>(p.eps)),
          bias_correction(p.bias_correction),
          m(static_cast<std::size_t>(d), T(0)),
          v(static_cast<std::size_t>(d), T(0)),
          eps_scaled(eps),
          bc1_saturation(detail::bias_saturation_step(p.beta1)),
          bc2_saturation(detail::bias_saturation_step(p.beta2)) {}

    IB_HOT void update(T* __restrict w, const T* __restrict g_dir, T g_mult, T g_bound, std::int64_t d, T lr,
                       std::uint64_t t, const GradientScale<T>&) {
        // Once beta^(t+1) < 2^-66 both bias corrections are exactly 1 (see bias_saturation_step): the
        // plain loop then gives bit-identical results without the extra division per coordinate.
        if (!bias_correction || (t >= bc1_saturation && t >= bc2_saturation)) {
            if (eps_scaled == T(0))
                update_loop<false, false>(w, g_dir, g_mult, d, lr, T(1));
            else
                update_loop<true, false>(w, g_dir, g_mult, d, lr, T(1));
        } else {
            // PyTorch's form: step = lr / (1 - beta1^k), denom = sqrt(v) / sqrt(1 - beta2^k) + eps, k = t + 1.
            const T k = static_cast<T>(t + 1);
            const T step = t < bc1_saturation ? lr / (T(1) - std::pow(beta1, k)) : lr;
            const T sqrt_bc2 = t < bc2_saturation ? std::sqrt(T(1) - std::pow(beta2, k)) : T(1);
            update_loop<true, true>(w, g_dir, g_mult, d, step, sqrt_bc2);
        }
        bound_m = beta1 * bound_m + (T(1) - beta1) * g_bound;
        bound_v = beta2 * bound_v + (T(1) - beta2) * (g_bound * g_bound);
    }

    // One pass over the coordinates; the flags drop the eps addition and the bias-correction division
    // at compile time (eps = 0, no bias correction is the theory's setting and the hot one).
    template <bool kEps, bool kBias>
    IB_HOT void update_loop(T* __restrict w, const T* __restrict g_dir, T g_mult, std::int64_t d, T step, T sqrt_bc2) {
        const T b1 = beta1, c1 = T(1) - beta1, b2 = beta2, c2 = T(1) - beta2, e = eps_scaled;
        T* __restrict mm = m.data();
        T* __restrict vv = v.data();
        for (std::int64_t j = 0; j < d; ++j) {
            const T g = g_mult * g_dir[j];
            const T mj = b1 * mm[j] + c1 * g;
            const T vj = b2 * vv[j] + c2 * (g * g);
            mm[j] = mj;
            vv[j] = vj;
            T denom = std::sqrt(vj);
            if constexpr (kBias) denom = denom / sqrt_bc2;
            if constexpr (kEps) denom = denom + e;
            const T delta = (step * mj) / denom;  // step * m is off the sqrt's critical path
            w[j] -= vj > T(0) ? delta : T(0);
        }
    }

    T state_bound() const { return std::max(bound_m, std::sqrt(bound_v)); }
    IB_HOT bool state_below(T low) const {
        return bound_m < low && bound_v < low * low && (bound_m > T(0) || bound_v > T(0));
    }
    void rescale(std::int64_t k, const GradientScale<T>& scale) {
        detail::rescale_vector(m, k);
        detail::rescale_vector(v, 2 * k);
        bound_m = std::ldexp(bound_m, static_cast<int>(-k));
        bound_v = std::ldexp(bound_v, static_cast<int>(-2 * k));
        eps_scaled = scale.to_scaled(eps);
    }
    void save(NamedArrays<T>& out) const {
        out["m"] = detail::to_saved(m);
        out["v"] = detail::to_saved(v);
        out["bound"] = {bound_m, bound_v};
    }
    void load(const NamedArrays<T>& in) {
        detail::load_saved(in, "m", m);
        detail::load_saved(in, "v", v);
        const auto& b = detail::get_saved(in, "bound", 2);
        bound_m = b[0];
        bound_v = b[1];
    }
};

// AdaGrad: v += g^2; w -= eta_t g / (sqrt(v) + eps).
template <class T>
struct AdaGrad {
    static constexpr bool full_batch = false;
    static constexpr bool stateless = false;
    T eps;
    AlignedVector<T> v;
    T bound_v = 0;
    T eps_scaled;

    AdaGrad(const OptimizerParams& p, std::int64_t d)
        : eps(static_cast<T>(p.eps)), v(static_cast<std::size_t>(d), T(0)), eps_scaled(eps) {}

    IB_HOT void update(T* __restrict w, const T* __restrict g_dir, T g_mult, T g_bound, std::int64_t d, T lr,
                       std::uint64_t, const GradientScale<T>&) {
        T* __restrict vv = v.data();
        const T e = eps_scaled;
        for (std::int64_t j = 0; j < d; ++j) {
            const T g = g_mult * g_dir[j];
            const T vj = vv[j] + g * g;
            vv[j] = vj;
            const T delta = lr * (g / (std::sqrt(vj) + e));
            w[j] -= vj > T(0) ? delta : T(0);
        }
        bound_v += g_bound * g_bound;
    }
    T state_bound() const { return std::sqrt(bound_v); }
    IB_HOT bool state_below(T low) const { return bound_v < low * low && bound_v > T(0); }
    void rescale(std::int64_t k, const GradientScale<T>& scale) {
        detail::rescale_vector(v, 2 * k);
        bound_v = std::ldexp(bound_v, static_cast<int>(-2 * k));
        eps_scaled = scale.to_scaled(eps);
    }
    void save(NamedArrays<T>& out) const {
        out["v"] = detail::to_saved(v);
        out["bound"] = {bound_v};
    }
    void load(const NamedArrays<T>& in) {
        detail::load_saved(in, "v", v);
        bound_v = detail::get_saved(in, "bound", 1)[0];
    }
};

// Signum(beta): m = beta m + (1-beta) g; w -= eta_t sign(m). beta = 0 is SignGD.
template <class T>
struct Signum : MomentumBase<T> {
    using MomentumBase<T>::m;
    using MomentumBase<T>::bound_m;
    static constexpr bool full_batch = false;
    T beta;

    Signum(const OptimizerParams& p, std::int64_t d) : MomentumBase<T>(d), beta(static_cast<T>(p.beta)) {}

    IB_HOT void update(T* __restrict w, const T* __restrict g_dir, T g_mult, T g_bound, std::int64_t d, T lr,
                       std::uint64_t, const GradientScale<T>&) {
        T* __restrict mm = m.data();
        const T b = beta, c = T(1) - beta;
        for (std::int64_t j = 0; j < d; ++j) {
            const T mj = b * mm[j] + c * (g_mult * g_dir[j]);
            mm[j] = mj;
            w[j] -= lr * sign(mj);
        }
        bound_m = b * bound_m + c * g_bound;
    }
};

// Lion(beta1, beta2): c = beta1 m + (1-beta1) g; w -= eta_t sign(c); m = beta2 m + (1-beta2) g.
template <class T>
struct Lion : MomentumBase<T> {
    using MomentumBase<T>::m;
    using MomentumBase<T>::bound_m;
    static constexpr bool full_batch = false;
    T beta1, beta2;

    Lion(const OptimizerParams& p, std::int64_t d)
        : MomentumBase<T>(d), beta1(static_cast<T>(p.beta1)), beta2(static_cast<T>(p.beta2)) {}

    IB_HOT void update(T* __restrict w, const T* __restrict g_dir, T g_mult, T g_bound, std::int64_t d, T lr,
                       std::uint64_t, const GradientScale<T>&) {
        T* __restrict mm = m.data();
        const T b1 = beta1, c1 = T(1) - beta1, b2 = beta2, c2 = T(1) - beta2;
        for (std::int64_t j = 0; j < d; ++j) {
            const T g = g_mult * g_dir[j];
            w[j] -= lr * sign(b1 * mm[j] + c1 * g);
            mm[j] = b2 * mm[j] + c2 * g;
        }
        bound_m = b2 * bound_m + c2 * g_bound;
    }
};

// AdamProxy: one full pass per step, w -= eta_t P(w)^-1 sum_i g_i with P = diag(sqrt(sum_i g_i^2)).
// ProxySums (full_batch.hpp) computes the two sums (scaled by 2^-E and 2^-2E) in fixed order; the run
// calls full_update.
template <class T>
struct AdamProxy : StatelessBase<T> {
    using StatelessBase<T>::last_bound;
    static constexpr bool full_batch = true;

    AdamProxy(const OptimizerParams&, std::int64_t) {}

    IB_HOT void full_update(T* __restrict w, const T* __restrict grad_sum, const T* __restrict sq_sum, T g_bound,
                            std::int64_t d, T lr) {
        for (std::int64_t j = 0; j < d; ++j) {
            const T delta = lr * (grad_sum[j] / std::sqrt(sq_sum[j]));
            w[j] -= sq_sum[j] > T(0) ? delta : T(0);
        }
        last_bound = g_bound;
    }
};

// AdamEpochMap(beta1, beta2): the epoch map of SPEC.md ("Beyond the original study"; Prop. 2.5 of the
// study), one step = one epoch of the K = ceil(n/b) cyclic batches, all K batch gradients g_0 .. g_{K-1}
// (batch means) evaluated at the epoch's starting w:
//
//     w <- w - eta_t sum_{i=0}^{K-1} N_i / sqrt(D_i)      (elementwise; D_i[k] = 0: no update from i)
//     N_i = sum_j beta1^((i-j) mod K) g_j,   D_i = sum_j beta2^((i-j) mod K) g_j^2.
//
// The constant factors of Prop. 2.5 ((1 - beta1), sqrt(1 - beta2) and the geometric normalizations)
// are dropped as in SPEC: with eps = 0 they multiply every step by the same constant, i.e. they only
// rescale the learning rate.
//
// Work O(K d), not O(K^2 d): S_i = sum_j beta^((i-j) mod K) x_j satisfies
//     S_i = beta S_{i-1} + (1 - beta^K) x_i,      i = 1 .. K-1
// (beta S_{i-1} carries every term one lag further, and the term j = i wraps round from lag K to lag 0),
// so S_0 is summed directly (O(K d)) and the recurrence gives the rest, for N (beta1, x = g) and D
// (beta2, x = g^2). This equals the direct sums up to rounding: D's terms are all >= 0, so its relative
// error stays ~ min(K, 1/(1 - beta2)) ulps; N's absolute error is of that order relative to the sum of
// |terms|. 1 - beta^K is computed as -expm1(K log beta) (full relative precision even for beta^K ~ 1).
//
// Gradients arrive in scaled units (scale.hpp) as g_j = mult[j] * G[j*d .. j*d+d-1]: for b = 1 G is the
// data matrix z itself and mult[j] = -|l'(u_j)| 2^-E (no gradient buffer); for b > 1 G holds the batch
// sums -sum_{i in B_j} |l'(u_i)| z_i 2^-E and mult[j] = 1/|B_j|. The update is invariant to one positive
// factor on all g_j, and the map keeps no state across epochs, so like AdamProxy the run re-centres the
// shared scale from the epoch's largest |l'(u_i)| max_k |z_ik| (whenever it leaves
// [2^-kScaleBits, 2^kScaleBits]). Very small weights beta^p (beta2^(K-1) < 2^-1074 in double for large
// K and small beta2) contribute exactly 0, as in a direct evaluation.
//
// Memory: O(K + d) here (weight tables, three d-vectors), allocated once at construction; the run holds
// the K x d batch sums (b > 1 only).
template <class T>
struct AdamEpochMap : StatelessBase<T> {
    using StatelessBase<T>::last_bound;
    static constexpr bool full_batch = false;
    static constexpr bool epoch_map = true;
    T beta1, beta2;
    T c1, c2;                        // 1 - beta1^K, 1 - beta2^K
    std::int64_t batches;            // K
    std::vector<T> lag1, lag2;       // lag[j] = beta^((0 - j) mod K) = beta^(K - j) (j >= 1), lag[0] = 1
    std::vector<T> num, den, total;  // N_i, D_i, sum_i N_i / sqrt(D_i)

    AdamEpochMap(const OptimizerParams& p, std::int64_t d, std::int64_t k)
        : beta1(static_cast<T>(p.beta1)),
          beta2(static_cast<T>(p.beta2)),
          c1(detail::one_minus_pow(beta1, k)),
          c2(detail::one_minus_pow(beta2, k)),
          batches(k),
          lag1(static_cast<std::size_t>(k)),
          lag2(static_cast<std::size_t>(k)),
          num(static_cast<std::size_t>(d)),
          den(static_cast<std::size_t>(d)),
          total(static_cast<std::size_t>(d)) {
        if (k < 1) throw std::invalid_argument("AdamEpochMap needs at least one batch per epoch");
        for (std::int64_t j = 0; j < k; ++j) {
            const T lag = static_cast<T>(j == 0 ? 0 : k - j);
            lag1[static_cast<std::size_t>(j)] = std::pow(beta1, lag);  // pow(0, 0) = 1
            lag2[static_cast<std::size_t>(j)] = std::pow(beta2, lag);
        }
    }

    // One epoch: G is K x d row-major, g_j = mult[j] * G[j]; g_bound >= max_j max_k |g_j[k]|.
    IB_HOT void epoch_update(T* __restrict w, const T* __restrict G, const T* __restrict mult, T g_bound,
                             std::int64_t d, T lr) {
        T* __restrict nn = num.data();
        T* __restrict dd = den.data();
        T* __restrict acc = total.data();
        const std::int64_t K = batches;
        // S_0 directly: lag 0 for j = 0, lag K - j for j >= 1.
        {
            const T m = mult[0];
            for (std::int64_t k = 0; k < d; ++k) {
                const T g = m * G[k];
                nn[k] = g;
                dd[k] = g * g;
            }
        }
        for (std::int64_t j = 1; j < K; ++j) {
            const T m = mult[j], l1 = lag1[static_cast<std::size_t>(j)], l2 = lag2[static_cast<std::size_t>(j)];
            const T* __restrict gj = G + j * d;
            for (std::int64_t k = 0; k < d; ++k) {
                const T g = m * gj[k];
                nn[k] += l1 * g;
                dd[k] += l2 * (g * g);
            }
        }
        for (std::int64_t k = 0; k < d; ++k) {
            const T nk = nn[k], dk = dd[k];  // loaded unconditionally: the select then vectorizes
            acc[k] = dk > T(0) ? nk / std::sqrt(dk) : T(0);
        }
        // S_1 .. S_{K-1} by the recurrence, accumulating N_i / sqrt(D_i).
        const T b1 = beta1, b2 = beta2, k1 = c1, k2 = c2;
        for (std::int64_t i = 1; i < K; ++i) {
            const T m = mult[i];
            const T* __restrict gi = G + i * d;
            for (std::int64_t k = 0; k < d; ++k) {
                const T g = m * gi[k];
                const T ni = b1 * nn[k] + k1 * g;
                const T di = b2 * dd[k] + k2 * (g * g);
                nn[k] = ni;
                dd[k] = di;
                acc[k] += di > T(0) ? ni / std::sqrt(di) : T(0);
            }
        }
        for (std::int64_t k = 0; k < d; ++k) w[k] -= lr * acc[k];
        last_bound = g_bound;
    }
};

}  // namespace implicit_bias
