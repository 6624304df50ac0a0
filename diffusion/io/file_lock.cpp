// diffusion/io/file_lock.cpp — flock on "<path>.lock", checked against the name so a removed file is never held.
#include "diffusion/io/file_lock.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace diffuscope::io {

namespace {

// The pid the holder wrote into the lock file, or "unknown" (it may be between its open and its write).
std::string holder_pid(int fd) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, size_t(n)) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return pid.empty() ? "unknown" : pid;
}

}  // namespace

FileLock::FileLock(const std::filesystem::path& path, const std::string& who) : lock_path_(path.string() + ".lock") {
    const std::string lp = lock_path_.string();
    // A releasing holder removes the file before it lets go: a lock taken on a file that is no longer under
    // the name guards nothing, so the loop opens the name again until the locked file is the named one.
    for (int attempt = 0; attempt < 100; ++attempt) {
        const int fd = ::open(lp.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
        if (fd < 0)
            throw std::runtime_error(path.string() + ": cannot open the lock file " + lp + ": " + std::strerror(errno) +
                                     " (may you write to its folder? is it a symlink?)");
        struct stat held{}, named{};
        if (::fstat(fd, &held) != 0 || !S_ISREG(held.st_mode)) {
            ::close(fd);
            throw std::runtime_error(path.string() + ": the lock file " + lp + " is not a regular file; remove it");
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            const std::string pid = err == EWOULDBLOCK ? holder_pid(fd) : "";
            ::close(fd);
            if (err == EWOULDBLOCK)
                throw std::runtime_error(path.string() + ": another " + who + " run holds " + lp + " (pid " + pid +
                                         "); wait for it, or pick another output");
            throw std::runtime_error(path.string() + ": cannot lock " + lp + ": " + std::strerror(err));
        }
        if (::stat(lp.c_str(), &named) == 0 && named.st_ino == held.st_ino && named.st_dev == held.st_dev) {
            const std::string pid = std::to_string(::getpid()) + "\n";
            if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
                // The pid is only for the message of a second run; the lock holds without it.
            }
            fd_ = fd;
            return;
        }
        ::close(fd);  // the previous holder removed it between our open and our lock: try the new name
    }
    throw std::runtime_error(path.string() + ": cannot lock " + lp + ": it keeps being replaced");
}

FileLock::~FileLock() {
    if (fd_ < 0) return;
    ::unlink(lock_path_.c_str());  // while still held: a waiting run then finds the name gone and starts afresh
    ::close(fd_);
}

}  // namespace diffuscope::io
