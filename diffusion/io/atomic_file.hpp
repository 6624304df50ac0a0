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
// which step failed and why.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);

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
