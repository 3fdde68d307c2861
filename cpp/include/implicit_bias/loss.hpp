// Losses as functions of the margin u = y <x, w>. Only this header knows about sigmoid / exp.
//
// Each loss provides, exactly to full relative precision for every finite u:
//   abs_deriv(u)     = |l'(u)|            (may underflow to 0 or a subnormal only when the true value does)
//   log_abs_deriv(u) = log |l'(u)|        (never underflows: used by the log-space slow path)
//   log_loss(u)      = log l(u)           (never rounded to -inf: used for the recorded log-loss)
//   tail_start       : for u > tail_start, |l'(u)| = exp(-u) exactly (to the last bit)
#pragma once

#include <cmath>
#include <limits>

#include "numerics.hpp"

namespace implicit_bias {

enum class LossKind : int { logistic = 0, exponential = 1 };

// log(1 + exp(x)) without overflow or cancellation.
template <class T>
inline T softplus(T x) {
    using std::exp;
    using std::log1p;
    return x > T(0) ? x + log1p(exp(-x)) : log1p(exp(x));
}

struct Logistic {
    static constexpr LossKind kind = LossKind::logistic;
    // Beyond this margin |l'(u)| = exp(-u) / (1 + exp(-u)) equals exp(-u) to the last bit in double and
    // in x87 long double (exp(-50) < 2^-65), so the scaled coefficient needs a single exp.
    static constexpr double tail_start = 50.0;

    // sigmoid(-u), never computed as 1 - sigmoid(u) (that dies at u ~ 37). Forced inline (IB_HOT): GCC
    // does not inline a plain inline function into the run loop's per-ISA clones (numerics.hpp), and the
    // call cost Signum 1.27x at d = 2 against a -march=native build.
    template <class T>
    IB_HOT static T abs_deriv(T u) {
        using std::exp;
        if (u >= T(0)) {
            const T e = exp(-u);
            return e / (T(1) + e);
        }
        return T(1) / (T(1) + exp(u));
    }

    template <class T>
    static T log_abs_deriv(T u) {
        return -softplus(u);
    }

    template <class T>
    static T log_loss(T u) {
        using std::log;
        // l(u) = exp(-u) (1 - exp(-u)/2 + ...): beyond u = 50 the correction is below 1e-22 absolute.
        if (u > T(50)) return -u;
        return log(softplus(-u));
    }
};

struct Exponential {
    static constexpr LossKind kind = LossKind::exponential;
    static constexpr double tail_start = -std::numeric_limits<double>::infinity();  // |l'(u)| = exp(-u) everywhere

    template <class T>
    IB_HOT static T abs_deriv(T u) {
        return std::exp(-u);
    }
    template <class T>
    static T log_abs_deriv(T u) {
        return -u;
    }
    template <class T>
    static T log_loss(T u) {
        return -u;
    }
};

}  // namespace implicit_bias
