// The shared gradient scale: the one piece of underflow protection every optimizer uses.
//
// Late in training |l'(u)| ~ exp(-margin) leaves the range of double (exp(-745) = 0), and (1-beta2) g^2
// goes subnormal at margin ~350. Instead of the true gradient the core works with
//
//     g_scaled = g * 2^-E,      state_scaled = state * 2^-E  (first-moment-like)  or * 2^-2E (second moment)
//
// for one integer exponent E per run. Powers of two rescale exactly, so for the scale-invariant
// optimizers (Adam with eps scaled alongside, SignGD, Signum, Lion, AdamProxy, AdaGrad) every update is
// bit-identical to the unscaled one wherever the unscaled one does not underflow. E is moved so that
// the optimizer's state bound (an upper bound of max |state| in gradient units) stays in
// [2^-kScaleBits, 2^kScaleBits]; this happens about once per 89 units of margin growth.
//
// Limitation (documented): the scale is shared by all coordinates. A coordinate whose state is below
// ~2^-800 of the largest coordinate's state (a dynamic range of ~e^290 in |g|) loses precision; on
// data where every sample touches every coordinate this cannot happen.
//
// Data range (checked by Dataset, documented in docs/math.md): the scaled coefficient a = |l'(u)| 2^-E
// of the leading sample is kept near 1 / max_j |z_ij| (a * row max in [2^-kScaleBits, 2^kScaleBits]), so
// it must be a normal number: every nonzero row of the data needs max_j |z_ij| in
// [2^kDataExponentMin<T>, 2^kDataExponentMax<T>) (double: [2^-878, 2^880), x87 long double:
// [2^-16238, 2^16240)), the exponent range less kScaleBits + 16 bits at each end. Below, a would
// overflow; above, it would be subnormal. Data outside is refused with that reason instead of training
// on silently lost gradients. On data beyond 2^(emax - 512) the dynamic range of the shared scale (the
// limitation above) shrinks: coefficients below ~2^(emin + e) of the largest, for data of scale 2^e, go
// subnormal.
//
// Saturation: E is capped at +-kMaxScaleExponent (margins ~ 8e17). The stateless scale-invariant
// optimizers (SignGD, AdamProxy, AdamEpochMap) do not need E there (their coefficients are normalized
// per batch); GD's gradients at the lower cap are exp(-8e17) times smaller than one ulp of w (exact);
// the optimizers with state (Adam, AdaGrad, Signum, Lion) lose their gradients, and the run reports
// it (RunBase::scale_saturated, a RuntimeWarning from the bindings).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "numerics.hpp"

namespace implicit_bias {

// Largest |E| the scale takes. Only a diverged iterate gets near it (margins ~ 2^60 ln 2 ~ 8e17): there
// the shift arithmetic would leave int64 (and the search for a fitting E would never end), so E stops at
// the cap and gradients that would need more are taken as they come out (0 below, inf above).
inline constexpr std::int64_t kMaxScaleExponent = std::int64_t(1) << 60;

// floor(x) as a scale exponent, clamped to [-kMaxScaleExponent, kMaxScaleExponent]; NaN gives 0.
template <class T>
inline std::int64_t clamped_exponent(T x) {
    constexpr T cap = static_cast<T>(kMaxScaleExponent);
    if (!(x == x)) return 0;
    if (x >= cap) return kMaxScaleExponent;
    if (x <= -cap) return -kMaxScaleExponent;
    return static_cast<std::int64_t>(std::floor(x));
}

// Largest / smallest binary exponent of a nonzero row maximum max_j |z_ij| the core accepts (see above).
template <class T>
inline constexpr int kDataExponentMin = std::numeric_limits<T>::min_exponent - 1 + kScaleBits + 16;
template <class T>
inline constexpr int kDataExponentMax = std::numeric_limits<T>::max_exponent - kScaleBits - 16;

template <class T>
class GradientScale {
   public:
    GradientScale() { set_exponent(0); }

    std::int64_t exponent() const { return exponent_; }
    // True when E sits at one of its caps (a diverged iterate or margins beyond ~8e17, see above).
    bool saturated() const { return exponent_ >= kMaxScaleExponent || exponent_ <= -kMaxScaleExponent; }

    void set_exponent(std::int64_t e) {
        exponent_ = e;
        fast_ = e <= Limits<T>::fast_exponent && e >= -Limits<T>::fast_exponent;
        inv_factor_ = fast_ ? pow2<T>(-e) : T(0);
        factor_ = fast_ ? pow2<T>(e) : T(0);
    }

    // x * 2^E: a scaled quantity back in true units (0 / inf when the true value is out of range).
    T to_true(T x) const { return fast_ ? x * factor_ : std::ldexp(x, clamp_int(exponent_)); }

    // x * 2^-E: a true quantity in scaled units.
    T to_scaled(T x) const { return fast_ ? x * inv_factor_ : std::ldexp(x, clamp_int(-exponent_)); }

    // a = |l'(u)| 2^-E for a sample whose row has max |z_ij| = row_max (log_row_max = its log).
    // Returns false, with the exponent shift that would bring a * row_max to ~1 in `shift`, when a *
    // row_max would exceed 2^kScaleBits (the caller rescales and asks again).
    template <class Loss>
    IB_HOT bool coefficient(T u, T row_max, T log_row_max, T& a, std::int64_t& shift) const {
        constexpr T high = static_cast<T>(0x1p128L);  // 2^kScaleBits
        static_assert(kScaleBits == 128, "update the literal above");
        T log_a;
        if (u > static_cast<T>(Loss::tail_start)) {
            if (fast_ && u <= T(kExactMargin)) {
                // exp(-u) is a normal number: scale it exactly (bit-identical to the unscaled step at
                // E = 0, and invariant to a power-of-two scale of the data otherwise, where
                // exp(-u - E ln 2) would round differently).
                a = std::exp(-u) * inv_factor_;
                if (a * row_max <= high) return true;
            }
            // The common late-training case: one exp of the margin shifted by E ln 2, never underflowing early.
            log_a = subtract_k_ln2(-u, exponent_);
        } else {
            if (fast_) {
                a = Loss::abs_deriv(u) * inv_factor_;
                if (a * row_max <= high) return true;
            }
            // Log-space: an exponent beyond the cached factors, or a gradient above the scale.
            log_a = subtract_k_ln2(Loss::log_abs_deriv(u), exponent_);
        }
        const T log_top = log_a + log_row_max;
        // A diverged iterate (u = -inf or NaN) cannot be rescaled: let inf / NaN propagate to w,
        // where the Python layer reports it, instead of looping on an impossible shift.
        if (!(std::abs(log_top) < std::numeric_limits<T>::max())) {
            a = std::exp(log_a);
            return true;
        }
        if (log_top > static_cast<T>(kScaleBits) * ln2<T>) {
            shift = clamped_exponent(static_cast<T>(exponent_) + std::floor(log_top / ln2<T>)) - exponent_;
            if (shift > 0) return false;
            a = std::exp(log_a);  // E is at its cap: a diverged iterate, let inf propagate
            return true;
        }
        // Far below the scale the contribution is exactly 0 (and libm's underflow path is slow).
        a = log_a < Limits<T>::exp_zero_below ? T(0) : std::exp(log_a);
        // A small margin with E beyond the cached factors (only on data far from 1 in scale: on other
        // data such a gradient is far above the scale and was shifted above): |l'(u)| is a normal
        // number, so scale it exactly instead of through exp(log_a), whose rounding of a ~700 argument
        // would cost ~10 bits.
        if (!fast_ && u <= T(kExactMargin) && u >= -T(kExactMargin) && a > T(0) && a < std::numeric_limits<T>::max())
            a = std::ldexp(Loss::abs_deriv(u), clamp_int(-exponent_));
        return true;
    }

   private:
    // |l'(u)| >= e^-50 (both losses) for |u| <= kExactMargin: a normal number in every supported T.
    static constexpr int kExactMargin = 50;
    static int clamp_int(std::int64_t k) {
        constexpr std::int64_t cap = 1 << 20;
        return static_cast<int>(k > cap ? cap : (k < -cap ? -cap : k));
    }

    std::int64_t exponent_ = 0;
    bool fast_ = true;
    T inv_factor_ = T(1);  // 2^-E when fast_
    T factor_ = T(1);      // 2^E when fast_
};

// The shift k that brings a positive bound b to [1, 2): b * 2^-k.
template <class T>
inline std::int64_t exponent_of(T b) {
    return static_cast<std::int64_t>(std::ilogb(b));
}

}  // namespace implicit_bias
