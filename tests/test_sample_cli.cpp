// `diffuscope sample` and `sample2d` as a user runs them, on a synthetic IDX data set written here (the tests must
// not need the real MNIST files): validated run exits 0; the .npy files have the promised shape, range and labels;
// the oracle's samples are training images of the asked class (it memorises); the same seed gives the same bytes
// for any --batch; bad arguments are refused with a reason.
#include "diffusion/io/npy.hpp"
#include "tests/reference/empirical_ref.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

struct Run {
    int rc;
    std::string out;
};
Run run(const std::string& args) {
    std::string cmd = std::string(DIFFUSCOPE_BINARY) + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

void be32(std::ofstream& f, uint32_t v) {
    const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    f.write(b, 4);
}

// 200 synthetic 28×28 digits as IDX files in a fresh folder; returns the folder.
fs::path synthetic_mnist(std::vector<uint8_t>& pixels, std::vector<uint8_t>& labels) {
    ref::synthetic_images(200, 28, 5, pixels, labels);
    fs::path dir = fs::temp_directory_path() / ("diffuscope_sample_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream im(dir / "train-images-idx3-ubyte", std::ios::binary), lb(dir / "train-labels-idx1-ubyte", std::ios::binary);
    be32(im, 0x803);
    be32(im, 200);
    be32(im, 28);
    be32(im, 28);
    im.write(reinterpret_cast<const char*>(pixels.data()), std::streamsize(pixels.size()));
    be32(lb, 0x801);
    be32(lb, 200);
    lb.write(reinterpret_cast<const char*>(labels.data()), std::streamsize(labels.size()));
    return dir;
}

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

}  // namespace

TEST(SampleCli, OracleSamplesAreTrainingImagesOfTheClassAndReplayFromTheSeed) {
    std::vector<uint8_t> pixels, labels;
    const fs::path dir = synthetic_mnist(pixels, labels), a = dir / "a.npy", b = dir / "b.npy", png = dir / "a.png";
    const std::string common = "sample --oracle --data " + dir.string() +
                               " --heldout-per-class 0 --label 3 --count 5 --sampler ddim --steps 8 --seed 9 ";
    auto r = run("--validate " + common + "--out " + a.string() + " --png " + png.string());
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
    auto x = diffuscope::io::read_npy_f32(a, std::vector<int64_t>{5, 1, 28, 28});
    auto l = diffuscope::io::read_npy_i32(dir / "a.labels.npy", std::vector<int64_t>{5});
    EXPECT_TRUE(fs::file_size(png) > 100);
    for (int32_t v : l.data) EXPECT_EQ(v, 3);
    // Each sample is a class-3 training image, to the 8-bit quantum.
    for (int s = 0; s < 5; ++s) {
        double best = 1e9;
        for (size_t i = 0; i < labels.size(); ++i) {
            if (labels[i] != 3) continue;
            double worst = 0;
            for (int p = 0; p < 784; ++p) {
                float v = x.data[s * 784 + p];
                ASSERT_TRUE(v >= 0 && v <= 1);
                worst = std::max(worst, std::abs(v - pixels[i * 784 + p] / 255.0));
            }
            best = std::min(best, worst);
        }
        EXPECT_LT(best, 1.0 / 255) << "sample " << s << " is not a class-3 training image";
    }
    // Same seed, other batch size: the same bytes.
    r = run(common + "--batch 2 --out " + b.string());
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_EQ(slurp(a), slurp(b));
    EXPECT_EQ(slurp(dir / "a.labels.npy"), slurp(dir / "b.labels.npy"));
    fs::remove_all(dir);
}

TEST(SampleCli, BadArgumentsAreRefusedWithAReason) {
    std::vector<uint8_t> pixels, labels;
    const fs::path dir = synthetic_mnist(pixels, labels);
    const std::string base = "sample --data " + dir.string() + " --heldout-per-class 0 --out " + (dir / "x.npy").string();
    struct Case {
        std::string args, must_say;
    };
    for (const auto& c : {Case{"", "--oracle"}, Case{" --oracle --label 12", "--label 12"},
                          Case{" --oracle --steps 0", "--steps: 0"}, Case{" --oracle --sampler rk4", "unknown sampler"},
                          Case{" --oracle --schedule nope", "neither a preset"}, Case{" --oracle --eta 2", "--eta"},
                          Case{" --oracle --timesteps 1", "allowed: 2 to 4000"}}) {
        auto r = run(base + c.args);
        EXPECT_NE(r.rc, 0) << c.args;
        EXPECT_NE(r.out.find(c.must_say), std::string::npos) << c.args << "\n" << r.out;
    }
    fs::remove_all(dir);
}

TEST(SampleCli, Sample2dWritesPointsAndAScatter) {
    const fs::path dir = fs::temp_directory_path() / ("diffuscope_sample2d_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto r = run("--validate sample2d --toy moons --label all --count 300 --sampler heun --steps 10 --prediction v --out " +
                 (dir / "p.npy").string() + " --png " + (dir / "p.png").string());
    ASSERT_EQ(r.rc, 0) << r.out;
    auto p = diffuscope::io::read_npy_f32(dir / "p.npy", std::vector<int64_t>{300, 2});
    for (float v : p.data) ASSERT_TRUE(std::abs(v) < 3) << v;
    EXPECT_TRUE(fs::file_size(dir / "p.png") > 1000);
    r = run("sample2d --toy moons --label 5 --count 10 --out " + (dir / "q.npy").string());
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("--label 5"), std::string::npos) << r.out;
    fs::remove_all(dir);
}
