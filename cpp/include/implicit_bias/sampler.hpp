// Which samples form the batch of each step.
//
//   cyclic:      epoch = ceil(n/b) batches; batch k = rows k*b .. min(k*b+b, n)-1 in the given order.
//                When b does not divide n the last batch of every epoch is smaller (n mod b rows),
//                as with PyTorch's DataLoader(drop_last=False); its gradient is the mean over its size.
//   reshuffle:   as cyclic, but each epoch (the first included) uses a fresh permutation:
//                identity, then Fisher-Yates for i = n-1 .. 1 with j = bounded(i+1).
//   replacement: no epochs; each step draws b indices uniformly with replacement, in draw order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

#include "numerics.hpp"
#include "rng.hpp"

namespace implicit_bias {

enum class Order : int { cyclic = 0, reshuffle = 1, replacement = 2 };

struct Batch {
    const std::int64_t* indices;
    std::int64_t size;
};

class BatchSampler {
   public:
    BatchSampler(Order order, std::int64_t n, std::int64_t batch_size, std::uint64_t seed)
        : order_(order), n_(n), b_(batch_size), perm_(static_cast<std::size_t>(n)), rng_(seed) {
        if (n < 1) throw std::invalid_argument("n must be >= 1");
        if (batch_size < 1 || batch_size > n) throw std::invalid_argument("batch_size must be in [1, n]");
        std::iota(perm_.begin(), perm_.end(), std::int64_t(0));
        if (order_ == Order::replacement) perm_.assign(static_cast<std::size_t>(b_), 0);
    }

    IB_HOT Batch next() {
        if (order_ == Order::replacement) {
            for (std::int64_t k = 0; k < b_; ++k)
                perm_[static_cast<std::size_t>(k)] =
                    static_cast<std::int64_t>(rng_.bounded(static_cast<std::uint64_t>(n_)));
            return {perm_.data(), b_};
        }
        if (position_ == 0 && order_ == Order::reshuffle) shuffle();
        const Batch batch{perm_.data() + position_, std::min(b_, n_ - position_)};
        position_ += batch.size;
        if (position_ == n_) position_ = 0;
        return batch;
    }

    // --- state, for bit-exact save / resume ---
    std::int64_t position() const { return position_; }
    const std::vector<std::int64_t>& permutation() const { return perm_; }
    const Xoshiro256ss::State& rng_state() const { return rng_.state(); }
    void set_state(std::int64_t position, const std::vector<std::int64_t>& perm, const Xoshiro256ss::State& rng) {
        if (perm.size() != perm_.size()) throw std::invalid_argument("saved permutation has the wrong length");
        if (position < 0 || position >= n_) throw std::invalid_argument("saved sampler position out of range");
        for (auto i : perm)
            if (i < 0 || i >= n_) throw std::invalid_argument("saved permutation has an index out of range");
        position_ = position;
        perm_ = perm;
        rng_.set_state(rng);
    }

   private:
    void shuffle() {
        std::iota(perm_.begin(), perm_.end(), std::int64_t(0));
        for (std::int64_t i = n_ - 1; i >= 1; --i) {
            const auto j = static_cast<std::int64_t>(rng_.bounded(static_cast<std::uint64_t>(i + 1)));
            std::swap(perm_[static_cast<std::size_t>(i)], perm_[static_cast<std::size_t>(j)]);
        }
    }

    Order order_;
    std::int64_t n_, b_;
    std::vector<std::int64_t> perm_;  // the epoch's permutation, or the last draw (replacement)
    std::int64_t position_ = 0;       // first row of the next batch within the epoch
    Xoshiro256ss rng_;
};

}  // namespace implicit_bias
