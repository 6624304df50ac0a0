#include "tests/reference/empirical_ref.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace ref {

std::vector<double> empirical_denoise(const std::vector<uint8_t>& pixels, const std::vector<uint8_t>& labels,
                                      uint32_t dim, const std::vector<double>& x, double ab, int label) {
    const size_t M = labels.size();
    bool any = false;
    for (uint8_t l : labels) any = any || l == label;
    std::vector<double> logw(M, -INFINITY);
    const double a = std::sqrt(ab), om = std::max(1 - ab, 1e-10);
    for (size_t i = 0; i < M; ++i) {
        if (any && labels[i] != label) continue;
        double d2 = 0;
        for (uint32_t p = 0; p < dim; ++p) {
            double d = x[p] - a * (pixels[i * dim + p] * (2.0 / 255.0) - 1.0);
            d2 += d * d;
        }
        logw[i] = -d2 / (2 * om);
    }
    double m = *std::max_element(logw.begin(), logw.end()), s = 0;
    for (double v : logw) s += std::exp(v - m);
    std::vector<double> out(dim, 0.0);
    for (size_t i = 0; i < M; ++i) {
        double w = std::exp(logw[i] - m) / s;
        if (w == 0) continue;
        for (uint32_t p = 0; p < dim; ++p) out[p] += w * (pixels[i * dim + p] * (2.0 / 255.0) - 1.0);
    }
    return out;
}

void synthetic_images(uint32_t count, uint32_t side, uint64_t seed, std::vector<uint8_t>& pixels,
                      std::vector<uint8_t>& labels) {
    std::mt19937_64 g(seed);
    std::uniform_real_distribution<double> u(0.2, 0.8);
    pixels.assign(size_t(count) * side * side, 0);
    labels.resize(count);
    for (uint32_t n = 0; n < count; ++n) {
        labels[n] = uint8_t(g() % 10);
        for (int stroke = 0; stroke < 3; ++stroke) {  // a soft line segment
            double x0 = u(g) * side, y0 = u(g) * side, x1 = u(g) * side, y1 = u(g) * side;
            for (uint32_t y = 0; y < side; ++y) {
                for (uint32_t x = 0; x < side; ++x) {
                    double dx = x1 - x0, dy = y1 - y0, L2 = dx * dx + dy * dy + 1e-9;
                    double t = std::clamp(((x - x0) * dx + (y - y0) * dy) / L2, 0.0, 1.0);
                    double ex = x - (x0 + t * dx), ey = y - (y0 + t * dy);
                    double v = 255 * std::exp(-(ex * ex + ey * ey) / 2.0);
                    auto& px = pixels[size_t(n) * side * side + y * side + x];
                    px = uint8_t(std::max<double>(px, std::min(255.0, v)));
                }
            }
        }
    }
}

}  // namespace ref
