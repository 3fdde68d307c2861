// A named, portable generator so that saved state resumes identically on every platform:
// xoshiro256** (Blackman & Vigna), seeded by four splitmix64 outputs, with Lemire's unbiased
// bounded integers. The Python test-suite re-implements exactly this (tests/reference.py).
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>

namespace implicit_bias {

class Xoshiro256ss {
   public:
    using State = std::array<std::uint64_t, 4>;

    explicit Xoshiro256ss(std::uint64_t seed = 0) { reseed(seed); }

    void reseed(std::uint64_t seed) {
        std::uint64_t x = seed;
        for (auto& word : s_) {
            x += 0x9E3779B97F4A7C15ULL;
            std::uint64_t z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            word = z ^ (z >> 31);
        }
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform integer in [0, k), k >= 1 (Lemire 2019, multiply-shift with rejection).
    std::uint64_t bounded(std::uint64_t k) {
        std::uint64_t x = next();
        unsigned __int128 m = static_cast<unsigned __int128>(x) * k;
        std::uint64_t low = static_cast<std::uint64_t>(m);
        if (low < k) {
            const std::uint64_t threshold = (0 - k) % k;
            while (low < threshold) {
                x = next();
                m = static_cast<unsigned __int128>(x) * k;
                low = static_cast<std::uint64_t>(m);
            }
        }
        return static_cast<std::uint64_t>(m >> 64);
    }

    const State& state() const { return s_; }
    // The all-zero state is xoshiro's fixed point (next() returns 0 for ever, and bounded() would
    // reject for ever); reseed() never produces it, so a state holding it was not saved by a run.
    void set_state(const State& s) {
        if (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0)
            throw std::invalid_argument(
                "rng: an all-zero xoshiro256** state is not a generator state (its fixed point)");
        s_ = s;
    }

   private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    State s_{};
};

}  // namespace implicit_bias
