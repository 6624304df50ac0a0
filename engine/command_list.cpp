#include "engine/command_list.hpp"

#include "engine/commands.hpp"

#include <stdexcept>

namespace engine {

void CommandList::clear() {
    ops_.clear();
    push_.clear();
}

void CommandList::replay(CommandBuffer& cmd, size_t first, size_t last) const {
    if (first > last || last > ops_.size())
        throw std::out_of_range("CommandList::replay: [" + std::to_string(first) + ", " + std::to_string(last) +
                                ") outside a list of " + std::to_string(ops_.size()));
    for (size_t i = first; i < last; ++i) {
        const Op& o = ops_[i];
        switch (o.kind) {
            case Kind::dispatch:
                cmd.dispatch(*o.pipeline, o.set, o.push_bytes ? push_.data() + o.push_offset : nullptr, o.push_bytes,
                             o.groups[0], o.groups[1], o.groups[2]);
                break;
            case Kind::barrier: cmd.barrier(); break;
            case Kind::barrier_to_host: cmd.barrier_to_host(); break;
            case Kind::barrier_from_host: cmd.barrier_from_host(); break;
            case Kind::copy: cmd.copy(*o.src, *o.dst, o.bytes, o.src_offset, o.dst_offset); break;
            case Kind::fill: cmd.fill(*o.dst, o.word, o.dst_offset, o.bytes); break;
        }
    }
}

uint64_t CommandList::signature(size_t i) const {
    const Op& o = ops_.at(i);
    if (o.kind != Kind::dispatch) return 0;
    // FNV-1a over the identity of the work.
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const void* p, size_t n) {
        for (size_t k = 0; k < n; ++k) h = (h ^ static_cast<const uint8_t*>(p)[k]) * 1099511628211ull;
    };
    mix(&o.pipeline, sizeof o.pipeline);
    mix(&o.set, sizeof o.set);
    mix(o.groups, sizeof o.groups);
    mix(push_.data() + o.push_offset, o.push_bytes);
    return h | 1;  // never 0
}

}  // namespace engine
