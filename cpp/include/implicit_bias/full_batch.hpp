// The full-batch path: the sums over all n samples that AdamProxy (one step = one pass) and
// AdamEpochMap (one step = one epoch of cyclic batches) take at the step's starting w.
//
// Every product is a plain loop in a fixed, documented order, never an Eigen matrix-vector product:
// Eigen picks its packet size (and so its summation order) from the compile flags, so a portable and
// a -march=native build would give different bits, and the run loop's target_clones (IB_DISPATCH)
// do not vectorize Eigen's baseline (SSE2) kernels. The functions here are IB_HOT, inlined into the
// dispatched loop: the AVX2 / AVX-512 clones vectorize the element-wise loops over the d coordinates
// while every clone computes the same bits (-ffp-contract=off). The orders:
//
//   margins    u_i = dot(z_i, w)                   (dataset.hpp: 8 partial sums in a fixed tree)
//   gradient   grad_j = 0 - a_0 z_0j - a_1 z_1j - ... - a_{n-1} z_{n-1,j}   (samples in row order)
//   squares    sq_j   = 0 + (a_0 z_0j)^2 + ... + (a_{n-1} z_{n-1,j})^2     (the same order)
//   bound      max_i a_i row_max_i
//
// Shapes: z is n x d row-major (Dataset<T>), w and the outputs grad / sq_sum are d-vectors, the
// margins u and the coefficients a (|l'(u_i)| 2^-E, scale.hpp) are n-vectors.
#pragma once

#include "eigen.hpp"
#include <algorithm>
#include <cstdint>
#include <vector>

#include "dataset.hpp"
#include "numerics.hpp"

namespace implicit_bias {

// u[i] = <z_i, w>, i = 0 .. n-1: n fixed-order dot products (dot(), dataset.hpp).
template <class T>
IB_HOT void full_batch_margins(const Dataset<T>& data, const T* __restrict w, T* __restrict u) {
    const std::int64_t n = data.n(), d = data.d();
    for (std::int64_t i = 0; i < n; ++i) u[i] = dot(data.row(i), w, d);
}

// max_i a[i] row_max[i]: bounds every scaled per-sample gradient entry |a_i z_ij|.
template <class T>
IB_HOT T full_batch_bound(const Dataset<T>& data, const T* __restrict a) {
    T bound = T(0);
    for (std::int64_t i = 0; i < data.n(); ++i) bound = std::max(bound, a[i] * data.row_max[i]);
    return bound;
}

// AdamProxy's two sums at the step's w: grad = -Z^T a (the scaled full gradient sum_i g_i 2^-E) and
// sq_sum = sum_i (a_i z_i)^2 (sum_i g_i^2 2^-2E), both in sample order (header comment). The update itself
// is AdamProxy::full_update (optimizers.hpp).
template <class T>
class ProxySums {
   public:
    explicit ProxySums(const Dataset<T>& data) : grad_(data.d()), sq_sum_(data.d()) {}

    // Both sums for the n coefficients a (n-vector); the results are grad() and sq_sum() (d-vectors).
    // One pass over z: the product a_i z_ij is formed once and feeds both sums, so the squares are
    // those of the scaled per-sample gradients, (a_i z_ij)^2 (in range whatever the data's scale:
    // |a_i z_ij| <= 2^kScaleBits).
    IB_HOT void compute(const Dataset<T>& data, const T* __restrict a) {
        const std::int64_t n = data.n(), d = data.d();
        T* __restrict g = grad_.data();
        T* __restrict s = sq_sum_.data();
        for (std::int64_t j = 0; j < d; ++j) g[j] = T(0), s[j] = T(0);
        for (std::int64_t i = 0; i < n; ++i) {
            const T ai = a[i];
            const T* __restrict zi = data.row(i);
            for (std::int64_t j = 0; j < d; ++j) {
                const T gij = ai * zi[j];
                g[j] -= gij;
                s[j] += gij * gij;
            }
        }
    }

    const T* grad() const { return grad_.data(); }
    const T* sq_sum() const { return sq_sum_.data(); }

   private:
    Vector<T> grad_, sq_sum_;
};

// AdamEpochMap's K cyclic batch gradients (K = ceil(n/b), the last batch smaller when b does not divide
// n) as (multiplier, direction) pairs g_j = mult[j] * G[j] (optimizers.hpp, AdamEpochMap). For b = 1
// G is z itself and mult[j] = -a_j (no buffer); for b > 1 G[j] = -sum_{i in B_j} a_i z_i (K x d, samples
// in row order, as the gradient above) and mult[j] = 1 / |B_j|.
template <class T>
class EpochGradients {
   public:
    EpochGradients(const Dataset<T>& data, std::int64_t batch_size)
        : batch_size_(batch_size), batches_(batch_count(data.n(), batch_size)) {
        mult_.resize(static_cast<std::size_t>(batches_));
        if (batch_size_ != 1) sums_.resize(batches_, data.d());
    }

    static std::int64_t batch_count(std::int64_t n, std::int64_t b) { return b >= 1 ? (n + b - 1) / b : 1; }

    // From the n coefficients a; then directions() (K x d row-major) and multipliers() (K).
    IB_HOT void compute(const Dataset<T>& data, const T* __restrict a) {
        const std::int64_t n = data.n(), d = data.d();
        if (batch_size_ == 1) {
            for (std::int64_t i = 0; i < n; ++i) mult_[static_cast<std::size_t>(i)] = -a[i];
            return;
        }
        for (std::int64_t j = 0; j < batches_; ++j) {
            const std::int64_t begin = j * batch_size_, end = std::min(n, begin + batch_size_);
            T* __restrict gj = sums_.data() + j * d;
            for (std::int64_t k = 0; k < d; ++k) gj[k] = T(0);
            for (std::int64_t i = begin; i < end; ++i) {
                const T ai = a[i];
                const T* __restrict zi = data.row(i);
                for (std::int64_t k = 0; k < d; ++k) gj[k] -= ai * zi[k];
            }
            mult_[static_cast<std::size_t>(j)] = T(1) / static_cast<T>(end - begin);
        }
    }

    const T* directions(const Dataset<T>& data) const { return batch_size_ == 1 ? data.z.data() : sums_.data(); }
    const T* multipliers() const { return mult_.data(); }
    std::int64_t batches() const { return batches_; }

   private:
    std::int64_t batch_size_, batches_;
    RowMatrix<T> sums_;    // b > 1: K x d batch gradient sums, scaled
    std::vector<T> mult_;  // K multipliers (1/|B_j|, or -a_j when b = 1)
};

}  // namespace implicit_bias
