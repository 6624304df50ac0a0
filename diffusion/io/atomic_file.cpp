// diffusion/io/atomic_file.cpp — temp file, fsync, rename, fsync the folder.
#include "diffusion/io/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace diffuscope::io {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Closes the descriptor and removes the temporary file unless `keep` was set (after the rename).
struct TempFile {
    std::string path;
    int fd = -1;
    bool keep = false;
    ~TempFile() {
        if (fd >= 0) ::close(fd);
        if (!keep) ::unlink(path.c_str());
    }
};

// "a FIFO", "a folder", …: what a file of mode `m` is, for the refusal.
std::string kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a folder";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISLNK(m)) return "a symlink";
    return "not a regular file";
}

}  // namespace

std::filesystem::path replaceable_target(const std::filesystem::path& path) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) return path;  // nothing there yet (or unreadable: the create says why)
    if (S_ISREG(st.st_mode)) return path;
    const std::string allowed = "; only a regular file (or a new name) is replaced";
    if (!S_ISLNK(st.st_mode))
        throw std::runtime_error(path.string() + " is " + kind_of(st.st_mode) + ", not a regular file: refusing to " +
                                 "replace it" + allowed);
    std::error_code ec;
    const auto real = std::filesystem::canonical(path, ec);
    if (ec)
        throw std::runtime_error(path.string() + " is a symlink that leads nowhere (" + ec.message() +
                                 "): refusing to replace it" + allowed);
    if (::stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        throw std::runtime_error(path.string() + " is a symlink to " + real.string() + ", which is " +
                                 kind_of(st.st_mode) + ": refusing to replace it" + allowed);
    return real;
}

void write_file_atomically(const std::filesystem::path& requested, std::span<const std::byte> bytes) {
    const std::filesystem::path path = replaceable_target(requested);
    const std::string target = path.string();
    TempFile tmp{target + ".tmp." + std::to_string(::getpid())};
    tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (tmp.fd < 0)
        throw std::runtime_error(target + ": cannot create " + tmp.path + ": " + errno_text() +
                                 " (does the folder exist, and may you write to it?)");

    const std::byte* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
        ssize_t n = ::write(tmp.fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            throw std::runtime_error(target + ": write failed after " + std::to_string(bytes.size() - left) +
                                     " of " + std::to_string(bytes.size()) + " bytes: " + errno_text() +
                                     " (is the disk full?)");
        p += n;
        left -= size_t(n);
    }
    if (::fsync(tmp.fd) != 0) throw std::runtime_error(target + ": fsync of " + tmp.path + " failed: " + errno_text());
    int fd = tmp.fd;
    tmp.fd = -1;
    if (::close(fd) != 0) throw std::runtime_error(target + ": close of " + tmp.path + " failed: " + errno_text());
    if (::rename(tmp.path.c_str(), target.c_str()) != 0)
        throw std::runtime_error(target + ": cannot rename " + tmp.path + " over it: " + errno_text());
    tmp.keep = true;

    // The rename is atomic but lives in the folder's metadata: fsync the folder so it is durable too.
    // Some file systems refuse fsync on a directory (EINVAL); the file is in place either way, so only
    // real I/O errors are reported.
    std::filesystem::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        int rc = ::fsync(dfd);
        int err = errno;
        ::close(dfd);
        if (rc != 0 && err == EIO)
            throw std::runtime_error(target + ": fsync of folder " + dir.string() + " failed: " + std::strerror(err));
    }
}

}  // namespace diffuscope::io
