// Bad files in, bad files out: nothing is silently lost or made NaN. Each case reproduces a tester's bad
// input and expects a clear error (exit ≠ 0) that names where, with nothing written and nothing destroyed:
//   - the atomic writer refuses to replace a FIFO or a folder (a symlink is written through to its file),
//   - two `train` runs on one --out: the second refuses at once, naming the lock and the holder's pid,
//   - a checkpoint with a negative step or a corrupt Adam moment / NaN EMA is refused at --resume,
//   - NaN, corrupt or overflowing (3e38) weights are refused by render, sample and forward,
//   - non-finite samples (an absurd guidance) are refused by sample and sample2d, naming sample and step.
#include "diffusion/io/atomic_file.hpp"
#include "diffusion/io/file_lock.hpp"
#include "diffusion/io/safetensors.hpp"
#include "tests/io_util.hpp"
#include "tests/model_cli.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace diffuscope;
using modeltest::run_diffuscope;

namespace {

const std::string mnist = std::string(DIFFUSCOPE_SOURCE_DIR) + "/data/mnist";

bool has(const std::string& out, const std::string& what) { return out.find(what) != std::string::npos; }

bool is_a_fifo(const fs::path& p) {
    struct stat st{};
    return ::lstat(p.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

// A tiny UNet's weights with `poison` applied to the flat parameters.
fs::path write_weights(const fs::path& path, const std::function<void(std::vector<float>&)>& poison) {
    const auto cfg = modeltest::tiny_config();
    auto flat = modeltest::random_params(cfg, 7);
    poison(flat);
    nn::save_weights(path, cfg, flat);
    return path;
}

}  // namespace

// 1a. --out onto a FIFO or a folder: refused, naming the path and what it is; the FIFO and the folder stay. A
// symlink to a regular file is written through: the link stays a link, its file gets the bytes.
TEST(HardeningFiles, AtomicWriterRefusesAFifoOrAFolderAndWritesThroughASymlink) {
    iotest::TempDir tmp;
    const fs::path fifo = tmp / "pipe", folder = tmp / "folder", file = tmp / "file.bin", link = tmp / "link.bin";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    fs::create_directories(folder);
    const std::vector<std::byte> bytes(8, std::byte{42});
    for (const auto& [path, kind] : {std::pair{fifo, std::string("FIFO")}, std::pair{folder, std::string("folder")}}) {
        try {
            io::write_file_atomically(path, bytes);
            ADD_FAILURE() << path << " was replaced";
        } catch (const std::runtime_error& e) {
            EXPECT_TRUE(has(e.what(), path.string()) && has(e.what(), kind)) << e.what();
        }
    }
    EXPECT_TRUE(is_a_fifo(fifo)) << "the FIFO is still a FIFO";
    EXPECT_TRUE(fs::is_directory(folder)) << "the folder is still a folder";
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator()), 2) << "no temporary left";

    // The same refusal from a command, before any work: sample2d and train onto the FIFO.
    auto r = run_diffuscope("sample2d --toy gmm8 --count 16 --steps 4 --out " + fifo.string());
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_TRUE(has(r.out, fifo.string()) && has(r.out, "FIFO")) << r.out;
    r = run_diffuscope("train --data " + mnist + " --steps 1 --batch 4 --out " + folder.string());
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_TRUE(has(r.out, folder.string()) && has(r.out, "folder")) << r.out;
    EXPECT_FALSE(has(r.out, "train: step")) << "refused before training\n" << r.out;
    EXPECT_TRUE(is_a_fifo(fifo) && fs::is_directory(folder));

    std::ofstream(file) << "old";
    fs::create_symlink(file, link);
    io::write_file_atomically(link, bytes);
    EXPECT_TRUE(fs::is_symlink(link)) << "the link stays a link";
    EXPECT_EQ(fs::file_size(file), bytes.size()) << "its file got the bytes";
}

// 1b. Two train runs on one --out: the second exits at once naming the lock file and the first run's pid.
TEST(HardeningFiles, ASecondTrainOnTheSameOutRefusesAtOnce) {
    iotest::TempDir tmp;
    const fs::path out = tmp / "ck.safetensors", lock = tmp / "ck.safetensors.lock";
    {  // in-process: a second lock on the same path, even from this process, is refused
        io::FileLock first(out, "train");
        EXPECT_THROW(io::FileLock(out, "train"), std::runtime_error);
    }
    EXPECT_FALSE(fs::exists(lock)) << "a released lock removes its file";

    auto bg = modeltest::run(std::string(DIFFUSCOPE_BINARY) + " train --data " + mnist +
                             " --steps 100000 --batch 4 --checkpoint-every 0 --out " + out.string() + " >" +
                             (tmp / "first.log").string() + " 2>&1 & echo $!");
    const pid_t pid = pid_t(std::stol(bg.out));
    for (int i = 0; i < 300 && !fs::exists(lock); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(fs::exists(lock)) << modeltest::slurp(tmp / "first.log");

    const auto t0 = std::chrono::steady_clock::now();
    auto r = run_diffuscope("train --data " + mnist + " --steps 1 --batch 4 --out " + out.string());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::kill(pid, SIGKILL);
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_TRUE(has(r.out, "another train run holds " + lock.string() + " (pid ")) << r.out;
    EXPECT_LT(secs, 5.0) << "refused at once, before the data and the GPU";
    EXPECT_FALSE(fs::exists(out)) << "the second run wrote nothing";

    // A lock file left by a killed run holds no lock: the next run takes it over.
    bool taken = false;
    for (int i = 0; i < 50 && !taken; ++i) {
        try {
            io::FileLock again(out, "train");
            taken = true;
        } catch (const std::runtime_error&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    EXPECT_TRUE(taken);
}

// 2. --resume of a checkpoint whose "step" is "-5", whose Adam second moment holds a negative entry, or whose
// EMA holds a NaN: refused naming the file and the key or tensor (and index); the file is left as it was.
TEST(HardeningFiles, ResumeRefusesABadStepOrACorruptOptimiserState) {
    iotest::TempDir tmp;
    const fs::path good = tmp / "good.safetensors";
    const std::string common = "train --data " + mnist + " --steps 1 --batch 4 --checkpoint-every 0 --out ";
    auto r = run_diffuscope("train --data " + mnist + " --steps 2 --batch 4 --out " + good.string());
    ASSERT_EQ(r.rc, 0) << r.out;
    const auto ck = io::read_safetensors(good);
    const std::string first = ck.tensors.begin()->first.substr(ck.tensors.begin()->first.find('/') + 1);

    struct Case {
        std::string name, expect;
        std::function<void(io::SafeTensors&)> poison;
    };
    const std::vector<Case> cases = {
        {"step", "\"step\" = \"-5\"", [](io::SafeTensors& s) { s.metadata["step"] = "-5"; }},
        {"step_huge", "\"step\" = \"99999999999999999999\"",
         [](io::SafeTensors& s) { s.metadata["step"] = "99999999999999999999"; }},
        {"adam_v", "\"adam_v/" + first + "\" holds -1", [&](io::SafeTensors& s) { s.tensors["adam_v/" + first].data[3] = -1; }},
        {"ema", "\"ema/" + first + "\" holds nan", [&](io::SafeTensors& s) { s.tensors["ema/" + first].data[5] = NAN; }},
    };
    for (const auto& c : cases) {
        auto bad = ck;
        c.poison(bad);
        const fs::path path = tmp / (c.name + ".safetensors"), out = tmp / (c.name + "-out.safetensors");
        io::write_safetensors(path, bad);
        const std::string before = modeltest::slurp(path);
        r = run_diffuscope(common + out.string() + " --resume " + path.string());
        EXPECT_NE(r.rc, 0) << c.name << ": " << r.out;
        EXPECT_TRUE(has(r.out, path.string()) && has(r.out, c.expect)) << c.name << ": " << r.out;
        EXPECT_FALSE(has(r.out, "resumed")) << c.name << ": " << r.out;
        EXPECT_FALSE(fs::exists(out)) << c.name << ": nothing written";
        EXPECT_EQ(modeltest::slurp(path), before) << c.name << ": the checkpoint is left as it was";
    }
}

// 3. Weights that make NaN are refused, not used: render (also through --config) fails on a NaN, a corrupt and an
// overflowing file instead of rendering the oracle; sample and forward refuse the overflowing one at load.
TEST(HardeningFiles, RenderSampleAndForwardRefuseWeightsThatMakeNaN) {
    iotest::TempDir tmp;
    const auto nan_w = write_weights(tmp / "nan.safetensors", [](std::vector<float>& f) { f[100] = NAN; });
    const auto huge_w = write_weights(tmp / "huge.safetensors", [](std::vector<float>& f) { std::fill(f.begin(), f.end(), 3e38f); });
    const fs::path corrupt = tmp / "corrupt.safetensors", png = tmp / "f.png", cfg = tmp / "cfg.json";
    std::ofstream(corrupt) << "not a safetensors file at all";
    std::ofstream(cfg) << "{\"weights\": \"" << huge_w.string() << "\"}";
    const std::string render = "render --frames 1 --steps 4 --width 320 --height 240 --out " + png.string();
    for (const auto& [args, file, expect] :
         {std::tuple{"--weights " + nan_w.string(), nan_w, std::string("holds nan at index")},
          std::tuple{"--weights " + corrupt.string(), corrupt, std::string("")},
          std::tuple{"--weights " + huge_w.string(), huge_w, std::string("overflow")},
          std::tuple{"--config " + cfg.string(), huge_w, std::string("overflow")}}) {
        auto r = run_diffuscope(render + " " + args);
        EXPECT_NE(r.rc, 0) << args << ": " << r.out;
        EXPECT_TRUE(has(r.out, file.filename().string()) && has(r.out, expect)) << args << ": " << r.out;
        EXPECT_FALSE(fs::exists(png)) << args << ": nothing rendered";
    }

    const fs::path npy = tmp / "s.npy";
    auto r = run_diffuscope("sample --weights " + huge_w.string() + " --count 2 --steps 4 --out " + npy.string());
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_TRUE(has(r.out, huge_w.string()) && has(r.out, "overflow")) << r.out;
    EXPECT_FALSE(fs::exists(npy));

    const auto in = modeltest::write_forward_inputs(tmp.path, 2, 5);
    const std::string inputs = " --x " + in.x.string() + " --level " + in.level.string() + " --label " + in.label.string();
    r = run_diffuscope("forward --weights " + huge_w.string() + inputs + " --out " + npy.string());
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_TRUE(has(r.out, huge_w.string()) && has(r.out, "overflow")) << r.out;
    EXPECT_FALSE(fs::exists(npy));
}

// 4. Outputs are checked. An absurd guidance (the tester's 1e30, here 1e38) no longer reaches the chain: the option's
// range refuses it, and nothing is written. An input of 3e38 makes forward's output overflow; it fails naming where,
// and writes nothing. (The samplers' own output check, require_finite_samples, has no input left that reaches it
// through the command line's checks.)
TEST(HardeningFiles, NonFiniteOutputsAreRefusedAndNothingIsWritten) {
    iotest::TempDir tmp;
    const auto w = write_weights(tmp / "w.safetensors", [](std::vector<float>&) {});
    const fs::path npy = tmp / "s.npy", png = tmp / "s.png";
    auto r = run_diffuscope("sample --weights " + w.string() + " --count 3 --label 3 --guidance 1e38 --steps 6 --out " +
                            npy.string() + " --png " + png.string());
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_TRUE(has(r.out, "--guidance") && has(r.out, "1e38") && has(r.out, "allowed")) << r.out;
    EXPECT_FALSE(fs::exists(npy) || fs::exists(png)) << "nothing written";

    r = run_diffuscope("sample2d --toy gmm8 --label 2 --count 16 --guidance 1e38 --steps 6 --out " + npy.string());
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_TRUE(has(r.out, "--guidance") && has(r.out, "allowed")) << r.out;
    EXPECT_FALSE(fs::exists(npy));

    const fs::path big_x = tmp / "big.npy";
    const auto in = modeltest::write_forward_inputs(tmp.path, 2, 5);
    io::write_npy_f32(big_x, std::vector<int64_t>{2, 1, 28, 28}, std::vector<float>(2 * 784, 3e38f));
    r = run_diffuscope("forward --weights " + w.string() + " --x " + big_x.string() + " --level " + in.level.string() +
                       " --label " + in.label.string() + " --out " + npy.string());
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_TRUE(has(r.out, "forward: the output (--out) is ") && has(r.out, "(image 0, pixel 0); nothing written"))
        << r.out;
    EXPECT_FALSE(fs::exists(npy));
}
