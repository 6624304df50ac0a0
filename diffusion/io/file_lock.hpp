// diffusion/io/file_lock.hpp — one run per output: an advisory lock on "<path>.lock" held for a whole run.
#pragma once
#include <filesystem>
#include <string>

namespace diffuscope::io {

// Takes an exclusive, non-blocking flock on "<path>.lock" (created beside `path`, holding the owner's pid) and
// keeps it until destruction, which removes the lock file while still holding the lock. When another process
// holds it, the constructor throws std::runtime_error at once:
//   "<path>: another <who> run holds <path>.lock (pid N)".
// A lock file left by a killed run holds no lock and is simply taken over. The lock is advisory: it keeps two
// diffuscope runs apart, not other programs.
class FileLock {
public:
    FileLock(const std::filesystem::path& path, const std::string& who);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    const std::filesystem::path& lock_path() const { return lock_path_; }

private:
    std::filesystem::path lock_path_;
    int fd_ = -1;
};

}  // namespace diffuscope::io
