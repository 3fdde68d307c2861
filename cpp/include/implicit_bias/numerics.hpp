// Floating-point constants and helpers shared by the core. Header-only, no Python.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

namespace implicit_bias {

// Per-scalar limits of the cached power-of-two factors 2^(+-E); beyond them the core uses ldexp/log space.
template <class T>
struct Limits;

template <>
struct Limits<double> {
    // 2^(+-512) times a gradient of moderate margin (|l'| >= e^-50) stays far from over/underflow.
    static constexpr std::int64_t fast_exponent = 512;
    // exp(x) is exactly 0 below this (smallest subnormal 2^-1074 ~ exp(-744.4)); calling exp there
    // would take libm's slow error-reporting path.
    static constexpr double exp_zero_below = -746.0;
};

template <>
struct Limits<long double> {
    static constexpr std::int64_t fast_exponent = 8192;
    static constexpr long double exp_zero_below = -11400.0L;  // smallest subnormal ~ exp(-11355)
};

// Force inlining of the few functions on the per-step critical path.
#if defined(__GNUC__)
#define IB_HOT inline __attribute__((always_inline))
#else
#define IB_HOT inline
#endif
#if defined(__GNUC__)
#define IB_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define IB_UNLIKELY(x) (x)
#endif

// Runtime dispatch of the run loop (portable builds on x86-64 Linux with GCC): one clone for the
// baseline, one for x86-64-v3 (AVX2) and one for x86-64-v4 (AVX-512), chosen by the loader (ifunc).
// With -ffp-contract=off and the fixed-order reductions of dataset.hpp, every clone computes the
// same bits: wider vectors only run the element-wise loops several coordinates at a time.
#if defined(IMPLICIT_BIAS_DISPATCH) && defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define IB_DISPATCH __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#define IB_DISPATCH_TARGETS "default,x86-64-v3,x86-64-v4"
#else
#define IB_DISPATCH
#define IB_DISPATCH_TARGETS ""
#endif

// Per-coordinate arrays (w, the data rows, m, v, the batch gradient) start on a 64-byte boundary: the
// x86-64-v4 clone's 64-byte loads and stores then never straddle two cache lines, which cost it 1.35x
// (full-batch GD, n x d = 100 x 1000) against a -march=native build whose Eigen aligns to 64 on its own
// (glibc's malloc and the SSE2 baseline's Eigen align to 16). Eigen's storage follows
// EIGEN_MAX_ALIGN_BYTES = 64 (set by CMakeLists.txt for the module, and by eigen.hpp when nothing set
// it before Eigen is included);
// std::vector storage uses AlignedVector. Alignment changes no result: every loop's operations and
// their order are fixed by the code.
inline constexpr std::size_t kAlignBytes = 64;

template <class T>
struct AlignedAllocator {
    using value_type = T;
    AlignedAllocator() = default;
    template <class U>
    AlignedAllocator(const AlignedAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kAlignBytes))); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t(kAlignBytes)); }
    template <class U>
    bool operator==(const AlignedAllocator<U>&) const noexcept {
        return true;
    }
    template <class U>
    bool operator!=(const AlignedAllocator<U>&) const noexcept {
        return false;
    }
};

template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

// The shared gradient scale keeps every scaled state magnitude inside [2^-kScaleBits, 2^kScaleBits].
inline constexpr int kScaleBits = 128;

// ln 2 split as hi + lo (Cody-Waite): hi has 32 trailing zero bits, so k * hi is exact for |k| < 2^20.
template <class T>
inline constexpr T ln2_hi = static_cast<T>(0.69314718036912381649017333984375L);
template <class T>
inline constexpr T ln2_lo = static_cast<T>(1.9082149292705878161442656807550013e-10L);
template <class T>
inline constexpr T ln2 = static_cast<T>(0.69314718055994530941723212145817657L);

// x - k ln2, accurate even when x and k ln2 are both large and nearly cancel.
template <class T>
inline T subtract_k_ln2(T x, std::int64_t k) {
    const T kk = static_cast<T>(k);
    return (x - kk * ln2_hi<T>)-kk * ln2_lo<T>;
}

// sign(x) with sign(0) = 0 (and sign(NaN) = 0).
template <class T>
inline T sign(T x) {
    return static_cast<T>((x > T(0)) - (x < T(0)));
}

// 2^k as T, exact whenever representable (0 or inf otherwise).
template <class T>
inline T pow2(std::int64_t k) {
    constexpr std::int64_t cap = 1 << 20;  // beyond every exponent range; avoids int overflow in ldexp
    if (k > cap) k = cap;
    if (k < -cap) k = -cap;
    return std::ldexp(T(1), static_cast<int>(k));
}

}  // namespace implicit_bias
