// engine/timestamps.hpp — GPU timestamp queries turned into per-pass milliseconds.
// Record `begin(cmd, "pass")` / `end(cmd)` around each pass; after the fence, `read()`.
#pragma once
#include "engine/commands.hpp"

#include <string>
#include <vector>

namespace engine {

struct PassTime {
    std::string name;
    double ms = 0;
};

class Timestamps {
public:
    // `role`: the queue the passes are recorded for (its family's valid timestamp bits).
    Timestamps(Context&, uint32_t max_passes = 256, QueueRole role = QueueRole::main);
    ~Timestamps();
    Timestamps(const Timestamps&) = delete;
    Timestamps& operator=(const Timestamps&) = delete;

    bool supported() const { return period_ns_ > 0; }
    void reset(CommandBuffer&);                       // record before the first pass
    void begin(CommandBuffer&, std::string name);    // writes a timestamp at the top of the pipe
    void end(CommandBuffer&);                         // writes one after all earlier work completes
    std::vector<PassTime> read() const;               // after the submission's fence
    void clear_names() { names_.clear(); }

private:
    Context* ctx_;
    VkQueryPool pool_ = VK_NULL_HANDLE;
    uint32_t capacity_;
    double period_ns_ = 0;
    uint64_t mask_ = ~0ull;
    std::vector<std::string> names_;
    uint32_t open_ = 0;
};

}  // namespace engine
