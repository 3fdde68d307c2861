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
#include <string>
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
    // Checks everything memory safety and the sampler's invariants need before changing anything
    // (std::invalid_argument naming the field); the state is untouched when it throws.
    void check_state(std::int64_t position, const std::vector<std::int64_t>& perm,
                     const Xoshiro256ss::State& rng) const {
        if (perm.size() != perm_.size())
            throw std::invalid_argument("permutation: saved with " + std::to_string(perm.size()) +
                                        " entries, this run needs " + std::to_string(perm_.size()));
        if (position < 0 || position >= n_ || (order_ == Order::replacement && position != 0) || position % b_ != 0)
            throw std::invalid_argument("sampler_position: " + std::to_string(position) +
                                        " is not the start of a batch of this run");
        std::vector<char> seen(order_ == Order::replacement ? 0 : perm.size(), 0);
        for (auto i : perm) {
            if (i < 0 || i >= n_)
                throw std::invalid_argument("permutation: index " + std::to_string(i) + " outside [0, n)");
            if (order_ != Order::replacement) {
                if (seen[static_cast<std::size_t>(i)])
                    throw std::invalid_argument("permutation: is not a permutation of 0 .. n-1");
                seen[static_cast<std::size_t>(i)] = 1;
            }
        }
        if (rng[0] == 0 && rng[1] == 0 && rng[2] == 0 && rng[3] == 0)
            throw std::invalid_argument(
                "rng: an all-zero xoshiro256** state is not a generator state (its fixed point)");
    }
    void set_state(std::int64_t position, const std::vector<std::int64_t>& perm, const Xoshiro256ss::State& rng) {
        check_state(position, perm, rng);
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
