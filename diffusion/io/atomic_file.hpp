// diffusion/io/atomic_file.hpp — the one way diffuscope writes a file: all of it or none of it.
#pragma once
#include "diffusion/io/bytes.hpp"

#include <filesystem>
#include <span>
#include <stdexcept>

namespace diffuscope::io {

// Writes `bytes` to `path` so that a reader (or a crash, or Ctrl-C) never sees a half-written file:
//   1. write everything to "<path>.tmp.<pid>" in the same folder,
//   2. fsync it (the data is on disk before its name is),
//   3. rename() it over `path` (atomic on POSIX file systems),
//   4. fsync the folder (the new name itself survives a power cut).
// On any failure the temporary file is removed, `path` is left as it was, and std::runtime_error says
// which step failed and why. `path` must be replaceable (see below): the rename never goes over a device, a
// folder, a FIFO or a socket.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);

// What write_file_atomically really replaces for `path`: `path` itself when it does not exist yet or is a
// regular file; for a symlink, the regular file it finally points to (the write goes through it and the link
// stays a link). Anything else — a device, a folder, a FIFO, a socket, a dangling link or a link to one of
// those — is refused with std::runtime_error naming the path and what it is. Commands call it before long
// work (`train`) so that a bad --out fails at once, not after the work.
std::filesystem::path replaceable_target(const std::filesystem::path& path);

// How every format's write_xxx(path, …) is built: encode in memory, then write atomically. An encoding
// error (a std::runtime_error from `encode`) comes back prefixed with the path, and nothing is written.
template <class Encode>
void write_encoded_atomically(const std::filesystem::path& path, Encode&& encode) {
    Bytes bytes;
    try {
        bytes = encode();
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(path.string() + ": " + e.what());
    }
    write_file_atomically(path, bytes);
}

}  // namespace diffuscope::io
