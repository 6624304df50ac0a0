// IDX / MNIST loading: good files (plain and .gz), every kind of damage with the message it must give,
// the directory loader, the fixed split, and the bundled data when it is there.
#include "diffusion/data/mnist.hpp"
#include "tests/io_util.hpp"

#include <numeric>

#include <sys/wait.h>

using namespace diffuscope;
using namespace iotest;

namespace {

std::vector<uint8_t> cycling_labels(size_t n) {
    std::vector<uint8_t> l(n);
    for (size_t i = 0; i < n; ++i) l[i] = uint8_t(i * 7 % 10);
    return l;
}

void expect_test_pixels(const data::Mnist& m, size_t first_index_in_file, size_t from, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        auto img = m.image(from + i);
        for (size_t y = 0; y < m.rows; ++y)
            for (size_t x = 0; x < m.cols; ++x)
                ASSERT_EQ(img[y * m.cols + x], test_pixel(first_index_in_file + i, y, x)) << "image " << from + i;
    }
}

}  // namespace

TEST(Idx, ReadsPlainFiles) {
    TempDir d;
    write_raw(d / "train-images-idx3-ubyte", idx_images(5));
    write_raw(d / "train-labels-idx1-ubyte", idx_labels(cycling_labels(5)));
    auto m = data::load_mnist_dir(d.path);
    EXPECT_EQ(m.count, 5u);
    EXPECT_EQ(m.rows, 28u);
    EXPECT_EQ(m.cols, 28u);
    EXPECT_EQ(m.labels, cycling_labels(5));
    ASSERT_EQ(m.pixels.size(), 5u * 28 * 28);
    expect_test_pixels(m, 0, 0, 5);
    EXPECT_EQ(m.sources.size(), 2u);
}

TEST(Idx, ReportsTheSizeItFinds) {
    TempDir d;
    write_raw(d / "im", idx_images(3, 5, 7));
    auto im = data::read_idx_images(d / "im");
    EXPECT_EQ(im.count, 3u);
    EXPECT_EQ(im.rows, 5u);
    EXPECT_EQ(im.cols, 7u);
    EXPECT_EQ(im.pixels[2 * 35 + 4 * 7 + 6], test_pixel(2, 4, 6));
}

TEST(Idx, ReadsGzipAndConcatenatesTrainThenT10k) {
    TempDir d;
    write_raw(d / "train-images-idx3-ubyte.gz", gzip(idx_images(4)));
    write_raw(d / "train-labels-idx1-ubyte.gz", gzip(idx_labels(cycling_labels(4))));
    write_raw(d / "t10k-images-idx3-ubyte", idx_images(3));
    write_raw(d / "t10k-labels-idx1-ubyte", idx_labels({9, 9, 1}));
    auto m = data::load_mnist_dir(d.path);
    ASSERT_EQ(m.count, 7u);
    EXPECT_EQ(m.labels, (std::vector<uint8_t>{0, 7, 4, 1, 9, 9, 1}));
    expect_test_pixels(m, 0, 0, 4);
    expect_test_pixels(m, 0, 4, 3);  // t10k's own image 0 follows train's last
    EXPECT_EQ(m.sources.size(), 4u);
}

TEST(Idx, SniffsGzipWhateverTheName) {
    auto im = data::parse_idx_images(gzip(idx_images(2, 3, 3)), "x");
    EXPECT_EQ(im.count, 2u);
}

TEST(Idx, TruncatedPixels) {
    Bytes b = idx_images(5);
    b.resize(16 + 1000);
    expect_error([&] { data::parse_idx_images(b, "data/train-images-idx3-ubyte"); },
                 {"data/train-images-idx3-ubyte: truncated at byte 1016: expected 3920 bytes of pixels",
                  "after the 16-byte header, found 1000"});
}

TEST(Idx, TruncatedHeaderAndEmptyFile) {
    Bytes b = idx_images(5);
    b.resize(11);
    expect_error([&] { data::parse_idx_images(b, "f"); }, {"f: truncated at byte 11: expected a 16-byte header"});
    expect_error([&] { data::parse_idx_labels(Bytes{}, "g"); }, {"g: truncated at byte 0", "00 00 08 01"});
}

TEST(Idx, TrailingBytes) {
    Bytes b = idx_labels({1, 2, 3});
    b.push_back(std::byte{0});
    expect_error([&] { data::parse_idx_labels(b, "l"); }, {"l: 1 unexpected bytes after byte 11"});
}

TEST(Idx, WrongMagic) {
    expect_error([&] { data::parse_idx_images(bytes_of("PK\x03\x04 this is a zip file"), "a"); },
                 {"a: bytes 0-3 are 50 4b 03 04, not an IDX magic number: expected 00 00 08 03"});
    // A labels file where images are expected says so.
    expect_error([&] { data::parse_idx_images(idx_labels({1}), "b"); },
                 {"b: byte 3 says 1 dimensions; expected 3", "looks like a labels file"});
    Bytes c = idx_images(1);
    c[2] = std::byte{0x0D};  // float data
    expect_error([&] { data::parse_idx_images(c, "c"); }, {"c: byte 2 says data type 0x0d; expected 0x08"});
}

TEST(Idx, LabelOutOfRange) {
    expect_error([&] { data::parse_idx_labels(idx_labels({3, 1, 12, 0}), "l"); },
                 {"l: byte 10 holds label 12 (for image 2); expected a digit 0-9"});
}

TEST(Idx, HugeCountsAreRejectedBeforeAllocating) {
    Bytes b = idx_images(1, 2, 2);
    for (int i = 4; i < 16; ++i) b[i] = std::byte{0xff};  // 2^32−1 images of (2^32−1)² pixels: overflows
    expect_error([&] { data::parse_idx_images(b, "h"); }, {"h:", "overflow"});
    b = idx_images(1, 2, 2);
    b[4] = std::byte{0x40};  // ~1e9 images of 2×2
    expect_error([&] { data::parse_idx_images(b, "h"); }, {"h: truncated at byte 20: expected 4294967300 bytes"});
}

TEST(Idx, CorruptAndTruncatedGzip) {
    Bytes gz = gzip(idx_images(3));
    Bytes cut(gz.begin(), gz.begin() + long(gz.size() / 2));
    expect_error([&] { data::parse_idx_images(cut, "t.gz"); }, {"t.gz: truncated gzip stream"});
    Bytes bad = gz;
    for (size_t i = 20; i < 40; ++i) bad[i] ^= std::byte{0x5a};
    expect_error([&] { data::parse_idx_images(bad, "c.gz"); }, {"c.gz:", "compressed byte"});
    // Errors inside the inflated data count inflated bytes, and say so.
    Bytes inner = idx_images(3);
    inner.resize(100);
    expect_error([&] { data::parse_idx_images(gzip(inner), "i.gz"); },
                 {"i.gz (after gunzip): truncated at byte 100"});
}

TEST(Idx, CountsMustMatch) {
    TempDir d;
    write_raw(d / "train-images-idx3-ubyte", idx_images(5));
    write_raw(d / "train-labels-idx1-ubyte", idx_labels({1, 2, 3, 4}));
    expect_error([&] { data::load_mnist_dir(d.path); }, {"holds 5 images but", "holds 4 labels"});
}

TEST(Idx, DirectoryErrorsSayWhatWasLookedFor) {
    TempDir d;
    expect_error([&] { data::load_mnist_dir(d.path); },
                 {"no MNIST files found; looked for train-images-idx3-ubyte[.gz] with train-labels-idx1-ubyte[.gz]",
                  "t10k-labels-idx1-ubyte[.gz]", "scripts/run.sh", "--data DIR"});
    expect_error([&] { data::load_mnist_dir(d / "missing"); }, {"missing: not a folder", "--data DIR"});
    write_raw(d / "train-images-idx3-ubyte", idx_images(2));
    expect_error([&] { data::load_mnist_dir(d.path); },
                 {"train-images-idx3-ubyte has no partner", "looked for train-labels-idx1-ubyte"});
}

TEST(Idx, MissingFileNamesIt) {
    expect_error([] { data::read_idx_images("/nonexistent/train-images-idx3-ubyte"); },
                 {"/nonexistent/train-images-idx3-ubyte: cannot open: No such file"});
}

TEST(MnistSplit, LastExamplesOfEachClassAreHeldOutInFileOrder) {
    // Class c appears 20 + c times (245 examples), the classes in a rotating order.
    data::Mnist m;
    m.rows = m.cols = 2;
    for (int round = 0; round < 29; ++round)
        for (int k = 0; k < 10; ++k)
            if (int c = (k + round) % 10; round < 20 + c) m.labels.push_back(uint8_t(c));
    m.count = uint32_t(m.labels.size());
    for (size_t i = 0; i < m.count; ++i)
        for (int k = 0; k < 4; ++k) m.pixels.push_back(uint8_t(i));  // pixel value = index in file (mod 256)

    auto s = data::split_mnist(m, 5);
    EXPECT_EQ(s.heldout.count, 50u);
    EXPECT_EQ(s.train.count, m.count - 50);
    auto held = data::class_counts(s.heldout), total = data::class_counts(m), train = data::class_counts(s.train);
    for (int c = 0; c < 10; ++c) {
        EXPECT_EQ(held[c], 5u);
        EXPECT_EQ(train[c] + held[c], total[c]);
    }
    // Which examples: for each class, the last 5 indices of that class in the file.
    std::vector<uint8_t> expected_heldout_pixels;
    std::array<size_t, 10> seen{};
    for (size_t i = 0; i < m.count; ++i)
        if (seen[m.labels[i]]++ >= total[m.labels[i]] - 5) expected_heldout_pixels.push_back(uint8_t(i));
    ASSERT_EQ(expected_heldout_pixels.size(), 50u);
    for (size_t j = 0; j < 50; ++j) EXPECT_EQ(s.heldout.image(j)[0], expected_heldout_pixels[j]) << j;
    // File order is kept in the training half.
    for (size_t j = 1; j < s.train.count; ++j) EXPECT_LT(s.train.image(j - 1)[0], s.train.image(j)[0]);

    expect_error([&] { data::split_mnist(m, 20); }, {"cannot hold out 20 examples of digit 0", "only 20"});
}

TEST(MnistBundled, LoadsAndSplits9000_1000) {
    std::filesystem::path dir;
    try {
        dir = data::default_data_dir();
    } catch (const std::runtime_error& e) {
        GTEST_SKIP() << "no bundled data (" << e.what() << ")";
    }
    if (!std::filesystem::exists(dir / "train-images-idx3-ubyte"))
        GTEST_SKIP() << dir << " has no train-images-idx3-ubyte; run scripts/run.sh";
    auto m = data::load_mnist_dir(dir);
    EXPECT_EQ(m.count, 10000u);
    EXPECT_EQ(m.rows, 28u);
    EXPECT_EQ(m.cols, 28u);
    auto s = data::split_mnist(m);
    EXPECT_EQ(s.train.count, 9000u);
    EXPECT_EQ(s.heldout.count, 1000u);
    for (size_t c : data::class_counts(s.heldout)) EXPECT_EQ(c, 100u);
    // MNIST digits: mostly background, some full ink.
    size_t zeros = std::count(m.pixels.begin(), m.pixels.end(), 0);
    EXPECT_GT(zeros, m.pixels.size() / 2);
    EXPECT_EQ(*std::max_element(m.pixels.begin(), m.pixels.end()), 255);
}

TEST(MnistBundled, DataEnvironmentVariableWins) {
    ::setenv("DIFFUSCOPE_DATA", "/some/where", 1);
    auto dir = data::default_data_dir();
    ::unsetenv("DIFFUSCOPE_DATA");
    EXPECT_EQ(dir, std::filesystem::path("/some/where"));
}

TEST(DataCommand, PrintsCountsAndSplitOrAClearError) {
    TempDir d;
    std::vector<uint8_t> labels;
    for (int i = 0; i < 30; ++i) labels.push_back(uint8_t(i % 10));  // 3 of each digit
    write_raw(d / "train-images-idx3-ubyte.gz", gzip(idx_images(30)));
    write_raw(d / "train-labels-idx1-ubyte", idx_labels(labels));
    auto run = [](const std::string& args, int& rc) {
        std::string out;
        FILE* p = ::popen((std::string(DIFFUSCOPE_BINARY) + " " + args + " 2>&1").c_str(), "r");
        char buf[4096];
        for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
        rc = WEXITSTATUS(::pclose(p));
        return out;
    };
    int rc = -1;
    std::string out = run("data --data " + d.path.string() + " --heldout-per-class 1 --grid " + (d / "g.png").string(), rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("30 images of 28x28 pixels"), std::string::npos) << out;
    EXPECT_NE(out.find("train        2     2     2     2     2     2     2     2     2     2      20"), std::string::npos)
        << out;
    EXPECT_NE(out.find("heldout      1     1     1     1     1     1     1     1     1     1      10"), std::string::npos)
        << out;
    EXPECT_TRUE(std::filesystem::exists(d / "g.png"));

    out = run("data --data " + (d / "nowhere").string(), rc);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find("nowhere: not a folder"), std::string::npos) << out;
    EXPECT_NE(out.find("--data DIR"), std::string::npos) << out;
}
