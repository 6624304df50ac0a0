// tests/nn_arena.hpp — one GPU buffer holding a test's named tensors at odd offsets (or, when asked, at multiples
// of an alignment) with poisoned guard gaps between them, the way the app packs tensors into flat buffers. The whole buffer starts as NaN, so
// an output a kernel forgets stays NaN, and a write outside an output lands in a guard (guards_intact).
#pragma once
#include "diffusion/model/kernel.hpp"
#include "tests/gpu.hpp"
#include "tests/nn_check.hpp"

#include <cstring>
#include <map>
#include <stdexcept>
#include <string>

namespace test {

class Arena {
public:
    static constexpr uint32_t k_guard = 3, k_poison = 0x7fc00000u;

    Arena() = default;
    // Every tensor at a multiple of `align` floats (still after a guard gap): for kernels that take a
    // 4-value path only on aligned tensors.
    explicit Arena(uint32_t align) : align_(align) {
        if (align < 1) throw std::invalid_argument("arena: alignment 0");
    }

    // Lays out tensors; call allocate() once they are all added.
    void add(const std::string& name, size_t count) {
        const uint32_t at = (end_ + k_guard + align_ - 1) / align_ * align_;
        offset_[name] = {at, uint32_t(count)};
        end_ = at + uint32_t(count);
    }
    void allocate(engine::Context& ctx) {
        buf_ = engine::Buffer(ctx, (end_ + k_guard) * 4);
        poison(buf_);
    }
    diffuscope::nn::View view(const std::string& name) const { return {buf_, at(name).first}; }
    engine::Buffer& buffer() { return buf_; }

    void put(const std::string& name, std::span<const double> v) {
        check(name, v.size());
        auto f = nncheck::to_float(v);
        buf_.upload(f.data(), f.size() * 4, uint64_t(at(name).first) * 4);
    }
    void put_int(const std::string& name, std::span<const int32_t> v) {
        check(name, v.size());
        buf_.upload(v.data(), v.size() * 4, uint64_t(at(name).first) * 4);
    }
    std::vector<float> get(const std::string& name) const {
        auto [off, n] = at(name);
        return buf_.download_as<float>(n, uint64_t(off) * 4);
    }
    // True when every float outside the tensors still holds the poison pattern.
    bool guards_intact() const {
        auto all = buf_.download_as<uint32_t>();
        std::vector<bool> inside(all.size(), false);
        for (auto& [name, r] : offset_)
            for (uint32_t i = 0; i < r.second; ++i) inside[r.first + i] = true;
        for (size_t i = 0; i < all.size(); ++i)
            if (!inside[i] && all[i] != k_poison) return false;
        return true;
    }

private:
    std::pair<uint32_t, uint32_t> at(const std::string& name) const {
        auto it = offset_.find(name);
        if (it == offset_.end()) throw std::runtime_error("arena: no tensor " + name);
        return it->second;
    }
    void check(const std::string& name, size_t n) const {
        if (at(name).second != n) throw std::runtime_error("arena: " + name + " has another size");
    }
    std::map<std::string, std::pair<uint32_t, uint32_t>> offset_;
    uint32_t end_ = 2;  // the first tensor starts at an odd offset (unless aligned)
    uint32_t align_ = 1;
    engine::Buffer buf_;
};

}  // namespace test
