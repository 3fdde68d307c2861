// Advancing runs from Python: one user at a time (Busy), the GIL released in chunks with Python's
// signal handlers run between them, and a RuntimeWarning when a run's gradient scale saturated.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <implicit_bias/implicit_bias.hpp>

#include "bindings.hpp"

namespace bindings_detail {

namespace ib = implicit_bias;

// Multiply-adds per uninterrupted chunk: ~10-30 ms in double, so Ctrl-C is seen well within a second.
template <class T>
constexpr double chunk_budget() {
    return sizeof(T) > sizeof(double) ? double(1 << 21) : double(1 << 24);
}

// Holds runs for the duration of one use (advance, save, load, ...): a run already held by another
// Python thread (possible while the GIL is released) raises RuntimeError instead of a data race.
template <class T>
class Busy {
   public:
    explicit Busy(const ib::RunBase<T>& run) { acquire(run); }
    explicit Busy(const std::vector<ib::RunBase<T>*>& runs) {
        for (const auto* r : runs) acquire(*r);
    }
    ~Busy() {
        for (const auto* r : held_) r->release();
    }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    void acquire(const ib::RunBase<T>& run) {
        if (!run.try_acquire()) {
            for (const auto* r : held_) r->release();
            held_.clear();
            throw std::runtime_error(
                "Run is busy: it is being advanced, saved or loaded by another thread; a run serves one thread at "
                "a time");
        }
        held_.push_back(&run);
    }
    std::vector<const ib::RunBase<T>*> held_;
};

// The binding of a read-only property or method of a run: `get(run)` (a const member function or a
// callable) under the busy guard.
template <class T, class Get>
auto guarded(Get get) {
    return [get](const ib::RunBase<T>& run) {
        Busy<T> busy(run);
        return std::invoke(get, run);
    };
}

// A RuntimeWarning for runs whose gradient scale sits at its cap (scale.hpp): they continue, but
// their gradients are no longer exact.
template <class T>
void warn_if_saturated(const std::vector<ib::RunBase<T>*>& runs) {
    for (const auto* r : runs)
        if (r->scale_saturated()) {
            const std::string msg =
                "the margins passed ~8e17 at step " + std::to_string(r->t()) +
                " (the gradient scale's exponent reached its cap 2^60): from there this "
                "optimizer's gradients are no longer exact (learning rate or data scale too large?)";
            if (PyErr_WarnEx(PyExc_RuntimeWarning, msg.c_str(), 1) != 0) throw py::error_already_set();
            return;
        }
}

// Advance with the GIL released, in chunks; between chunks Python signal handlers run, so Ctrl-C
// raises KeyboardInterrupt with the run left consistent at a step boundary.
template <class T>
void advance_interruptible(ib::RunBase<T>& run, std::uint64_t t_end) {
    {
        Busy<T> busy(run);
        const auto chunk = static_cast<std::uint64_t>(std::max(1.0, chunk_budget<T>() / run.cost_per_step()));
        while (run.t() < t_end) {
            const std::uint64_t stop = std::min(t_end, run.t() + std::min(chunk, t_end - run.t()));
            {
                py::gil_scoped_release release;
                run.advance(stop);
            }
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        }
    }
    warn_if_saturated<T>({&run});
}

}  // namespace bindings_detail
