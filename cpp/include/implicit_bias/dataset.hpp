// The data a run sees: z_i = y_i x_i, stored row-major so a sample is one contiguous row.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "numerics.hpp"

namespace implicit_bias {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

template <class T>
struct Dataset {
    RowMatrix<T> z;         // (n, d): row i is y_i x_i
    Vector<T> row_max;      // (n,): max_j |z_ij|, bounds the gradient of sample i per unit |l'|
    Vector<T> log_row_max;  // (n,): log(row_max), -inf for an all-zero row

    explicit Dataset(RowMatrix<T> signed_rows) : z(std::move(signed_rows)) {
        if (z.rows() < 1 || z.cols() < 1) throw std::invalid_argument("the data needs n >= 1 rows and d >= 1 columns");
        row_max = z.cwiseAbs().rowwise().maxCoeff();
        log_row_max = row_max.array().log();
    }
    std::int64_t n() const { return z.rows(); }
    std::int64_t d() const { return z.cols(); }
    const T* row(std::int64_t i) const { return z.data() + i * z.cols(); }
};

// <a, b> over d entries. Short vectors: plain loop (no call overhead); long: Eigen's SIMD reduction.
template <class T>
IB_HOT T dot(const T* a, const T* b, std::int64_t d) {
    if (d <= 8) {
        T s = T(0);
        for (std::int64_t j = 0; j < d; ++j) s += a[j] * b[j];
        return s;
    }
    using Map = Eigen::Map<const Vector<T>>;
    return Map(a, d).dot(Map(b, d));
}

}  // namespace implicit_bias
