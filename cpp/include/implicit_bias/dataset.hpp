// The data a run sees: z_i = y_i x_i, stored row-major so a sample is one contiguous row.
#pragma once

#include "eigen.hpp"
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "numerics.hpp"
#include "scale.hpp"

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
        if (!z.allFinite()) throw std::invalid_argument("X: must be finite (no NaN or infinity)");
        row_max = z.cwiseAbs().rowwise().maxCoeff();
        log_row_max = row_max.array().log();
        // The range the shared gradient scale can represent (scale.hpp); zero rows are left to the caller.
        const T low = std::ldexp(T(1), kDataExponentMin<T>), high = std::ldexp(T(1), kDataExponentMax<T>);
        for (Eigen::Index i = 0; i < row_max.size(); ++i) {
            const T r = row_max[i];
            if (r != T(0) && (r < low || r >= high))
                throw std::invalid_argument(
                    "X: row " + std::to_string(i) + " has max |x_ij| = 2^" + std::to_string(std::ilogb(r)) +
                    ", outside the range [2^" + std::to_string(kDataExponentMin<T>) + ", 2^" +
                    std::to_string(kDataExponentMax<T>) +
                    ") of this dtype's underflow protection (the scaled gradient coefficient ~ 1 / max |x_ij| must "
                    "be representable); rescale X");
        }
    }
    std::int64_t n() const { return z.rows(); }
    std::int64_t d() const { return z.cols(); }
    const T* row(std::int64_t i) const { return z.data() + i * z.cols(); }
};

// <a, b> over d entries, inlined into the step. Eight independent partial sums (two AVX registers
// after vectorization) hide the FMA latency without reassociating anything at run time: the
// summation order is fixed by the code, identical on every call.
template <class T>
IB_HOT T dot(const T* __restrict a, const T* __restrict b, std::int64_t d) {
    constexpr std::int64_t lanes = 8;
    if (d < lanes) {
        T s = T(0);
        for (std::int64_t j = 0; j < d; ++j) s += a[j] * b[j];
        return s;
    }
    T acc[lanes] = {};
    std::int64_t j = 0;
    for (; j + lanes <= d; j += lanes)
        for (std::int64_t k = 0; k < lanes; ++k) acc[k] += a[j + k] * b[j + k];
    T s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; j < d; ++j) s += a[j] * b[j];
    return s;
}

}  // namespace implicit_bias
