// One run of the header-only core, for counting instructions per step (bench/instructions.py).
//
//   step_driver <kind> <n> <d> <batch> <warm-up steps> <steps> [eps] [bias_correction] [beta]
//
// kind is implicit_bias::OptimizerKind as an int. The data are n Gaussian rows (seeded), signed by a
// Gaussian teacher so that they are separable; lr = 0.1, cyclic order, logistic loss, w0 = 0. The run
// advances to <warm-up steps>, then to <warm-up steps> + <steps>; it prints a fingerprint of the bits
// of the final w (hex), so that builds can be compared for identical results, and the wall-clock ns
// per step of the second advance (steady_clock; bench/native.py --driver).
#include <implicit_bias/implicit_bias.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

namespace ib = implicit_bias;

int main(int argc, char** argv) {
    if (argc < 7) {
        std::fprintf(stderr, "usage: %s kind n d batch warm steps [eps] [bias_correction] [beta]\n", argv[0]);
        return 2;
    }
    const int kind = std::atoi(argv[1]), n = std::atoi(argv[2]), d = std::atoi(argv[3]), b = std::atoi(argv[4]);
    const std::uint64_t warm = std::strtoull(argv[5], nullptr, 10), steps = std::strtoull(argv[6], nullptr, 10);
    std::mt19937_64 gen(1);
    std::normal_distribution<double> normal;
    ib::RowMatrix<double> z(n, d);
    std::vector<double> teacher(static_cast<std::size_t>(d));
    for (auto& t : teacher) t = normal(gen);
    for (int i = 0; i < n; ++i) {
        double s = 0;
        for (int j = 0; j < d; ++j) s += (z(i, j) = normal(gen)) * teacher[static_cast<std::size_t>(j)];
        if (s < 0) z.row(i) = -z.row(i);
    }
    ib::RunConfig c;
    c.optimizer.kind = static_cast<ib::OptimizerKind>(kind);
    if (argc > 7) c.optimizer.eps = std::atof(argv[7]);
    if (argc > 8) c.optimizer.bias_correction = std::atoi(argv[8]) != 0;
    if (argc > 9) c.optimizer.beta = std::atof(argv[9]);
    c.batch_size = b;
    c.eta0 = 0.1;
    auto data = std::make_shared<ib::Dataset<double>>(z);
    auto run = ib::make_run<double>(data, ib::Vector<double>::Zero(d), c);
    run->advance(warm);
    const auto start = std::chrono::steady_clock::now();
    run->advance(warm + steps);
    const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the bits of w
    for (int j = 0; j < d; ++j) {
        std::uint64_t bits;
        std::memcpy(&bits, &run->w()[j], sizeof bits);
        h = (h ^ bits) * 1099511628211ull;
    }
    std::printf("%016llx %.3f\n", static_cast<unsigned long long>(h),
                elapsed.count() / static_cast<double>(steps ? steps : 1));
    return 0;
}
