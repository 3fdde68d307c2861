// Learning-rate schedules eta_t for a 64-bit step counter t = 0, 1, 2, ...
//
//   constant:    eta_t = eta0
//   polynomial:  eta_t = eta0 * (t + 1)^(-power), 0 < power <= 1
//   step_decay:  eta_t = eta0 * factor^floor(t / every)   (per-epoch decay: every = steps per epoch)
//
// Adding a schedule = one enum value + one case. pow() is avoided in the hot loop where an exact
// cheaper form exists (power 1 or 1/2; step_decay caches factor^k between changes of k).
#pragma once

#include <cmath>
#include <cstdint>

#include "numerics.hpp"

namespace implicit_bias {

enum class ScheduleKind : int { constant = 0, polynomial = 1, step_decay = 2 };

template <class T>
struct Schedule {
    ScheduleKind kind = ScheduleKind::constant;
    T eta0 = T(0.1);
    T power = T(0.5);
    T factor = T(1);
    std::uint64_t every = 1;

    IB_HOT T operator()(std::uint64_t t) {
        switch (kind) {
            case ScheduleKind::constant:
                return eta0;
            case ScheduleKind::polynomial: {
                const T s = static_cast<T>(t + 1);
                if (power == T(1)) return eta0 / s;
                if (power == T(0.5)) return eta0 / std::sqrt(s);
                return eta0 * std::pow(s, -power);
            }
            case ScheduleKind::step_decay: {
                const std::uint64_t k = t / every;
                if (k != cached_k_) {
                    cached_k_ = k;
                    cached_eta_ = eta0 * std::pow(factor, static_cast<T>(k));
                }
                return cached_eta_;
            }
        }
        return eta0;
    }

   private:
    // Cache of the step_decay value; recomputed from (eta0, factor, k), so it is not run state.
    std::uint64_t cached_k_ = ~std::uint64_t(0);
    T cached_eta_ = T(0);
};

}  // namespace implicit_bias
