// The checkpoint recorder: what a run stores at each grid point (w, ||w||, margins, log loss).
// K checkpoints take O(K d) memory whatever the number of steps.
#pragma once

#include "eigen.hpp"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "dataset.hpp"
#include "full_batch.hpp"
#include "numerics.hpp"

namespace implicit_bias {

template <class T>
struct Checkpoints {
    std::vector<std::uint64_t> steps;
    std::vector<T> w;  // K x d, row-major
    std::vector<T> norm, log_loss, margin_l2, margin_linf, min_margin;
    std::vector<std::int64_t> scale_exponent;

    std::size_t size() const { return steps.size(); }
};

// Append the checkpoint of step t (iterate w, a d-vector; the run's scale exponent) to c.
// margins (n) is scratch space; the margins are the fixed-order ones of full_batch.hpp.
template <class T, class Loss>
void record_checkpoint(Checkpoints<T>& c, const Dataset<T>& data, const Vector<T>& w, std::uint64_t t,
                       std::int64_t scale_exponent, std::vector<T>& margins) {
    margins.resize(static_cast<std::size_t>(data.n()));
    full_batch_margins(data, w.data(), margins.data());
    const Eigen::Map<const Vector<T>> u(margins.data(), data.n());
    c.steps.push_back(t);
    c.w.insert(c.w.end(), w.data(), w.data() + w.size());
    const T norm_inf = w.cwiseAbs().maxCoeff();
    // The plain sum of squares overflows once |w| > ~2^(max_exponent/2) (and underflows below
    // the square root of the smallest normal); there the norm is taken of w / ||w||_inf.
    constexpr int half_range = std::numeric_limits<T>::max_exponent / 2 - 8;
    const bool plain = norm_inf == T(0) || (norm_inf < pow2<T>(half_range) && norm_inf > pow2<T>(-half_range));
    const T norm2 = plain ? w.norm() : norm_inf * (w / norm_inf).norm();
    const T min_u = u.minCoeff();
    const T nan = std::numeric_limits<T>::quiet_NaN();
    c.norm.push_back(norm2);
    c.min_margin.push_back(min_u);
    c.margin_l2.push_back(norm2 > T(0) ? min_u / norm2 : nan);
    c.margin_linf.push_back(norm_inf > T(0) ? min_u / norm_inf : nan);
    // log L = logsumexp_i log l(u_i) - log n: exact even when every l(u_i) underflows.
    T top = -std::numeric_limits<T>::infinity();
    for (Eigen::Index i = 0; i < u.size(); ++i) top = std::max(top, Loss::log_loss(u[i]));
    T sum = T(0);
    for (Eigen::Index i = 0; i < u.size(); ++i) sum += std::exp(Loss::log_loss(u[i]) - top);
    // top = +inf (a margin -inf) would give inf - inf = NaN in the sum: the loss is +inf.
    c.log_loss.push_back(
        top == std::numeric_limits<T>::infinity() ? top : top + std::log(sum) - std::log(static_cast<T>(u.size())));
    c.scale_exponent.push_back(scale_exponent);
}

}  // namespace implicit_bias
