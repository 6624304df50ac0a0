// The visualiser in a real window under Xvfb: it survives keys, resize, minimise and lecture mode with zero
// validation messages, and the training panel trains in slices (skipped with a message when Xvfb is not
// installed). Minimise is requested too, but a bare Xvfb has no window manager to iconify the window, so the 0×0
// path is not reached there (the JSON records it).
#include "tests/app_util.hpp"
#include "tests/run_binary.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <set>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using test::Image;
using test::load_png;
using test::Run;
using test::temp_dir;
using test::training_digits;

namespace {
Run run(const std::string& args, const std::string& env = "") { return test::run_diffuscope(args, env); }
}  // namespace

namespace {
// Connects to display :n the way libxcb does on Linux, the abstract socket first, then the socket file, and hangs
// up without the connection setup: a client that completed its setup and left would make Xvfb reset itself, and
// the test's real client would then connect into that reset. "" when one of the two sockets accepts.
std::string x11_connect(int n) {
    const std::string path = "/tmp/.X11-unix/X" + std::to_string(n);
    std::string why;
    for (bool abstract : {true, false}) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path + (abstract ? 1 : 0), path.data(), path.size());
        const socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + (abstract ? 1 : 0) + path.size());
        const int sock = socket(AF_UNIX, SOCK_STREAM, 0);
        if (sock < 0) return "socket() failed";
        const bool ok = connect(sock, reinterpret_cast<sockaddr*>(&addr), len) == 0;
        close(sock);
        if (ok) return "";
        why += (abstract ? "@" : "") + path + " accepts no connection; ";
    }
    return why;
}

// A private X server for one test; skips (with the reason) when Xvfb is missing or does not start.
// Xvfb picks a free display itself and writes its number to a pipe once it accepts connections (-displayfd):
// waiting for a socket file instead could see a stale one left by an earlier server, and a display number derived
// from the pid could collide with another server's. The display is handed out once a socket a client would use
// accepts a connection. The server's stderr is kept for the failure messages.
struct Xvfb {
    int display = -1;
    pid_t pid = -1;
    std::string skip;
    fs::path log = fs::temp_directory_path() / ("diffuscope_xvfb_" + std::to_string(getpid()) + ".log");
    Xvfb() { start(); }
    ~Xvfb() {
        stop();
        std::error_code ec;
        fs::remove(log, ec);
    }
    void start() {
        skip.clear();
        if (system("command -v Xvfb >/dev/null 2>&1") != 0) {
            skip = "Xvfb is not installed (apt-get install xvfb)";
            return;
        }
        int fd[2];
        if (pipe(fd) != 0) {
            skip = "pipe() failed";
            return;
        }
        const std::string out = std::to_string(fd[1]);  // before fork: the child only execs
        pid = fork();
        if (pid == 0) {
            close(fd[0]);
            if (!freopen(log.c_str(), "w", stderr)) _exit(126);
            execlp("Xvfb", "Xvfb", "-displayfd", out.c_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-audit", "4",
                   nullptr);
            _exit(127);
        }
        close(fd[1]);
        std::string got;
        pollfd p{fd[0], POLLIN, 0};
        for (int waited = 0; waited < 20000 && got.find('\n') == std::string::npos;) {
            if (poll(&p, 1, 200) > 0) {
                char buf[16];
                const ssize_t n = read(fd[0], buf, sizeof buf);
                if (n <= 0) break;  // Xvfb exited without a display
                got.append(buf, size_t(n));
            } else {
                waited += 200;
            }
        }
        close(fd[0]);
        if (got.find('\n') == std::string::npos) {
            skip = "Xvfb did not start (no display number within 20 s)\n" + server_log();
            stop();
            return;
        }
        display = std::stoi(got);
        // Wait until a socket accepts, or the server has gone. ("Failed to open display :0" comes from a client
        // reconnecting into the reset that Xvfb performs when its last client leaves, not from this wait; see
        // engine/window/window.cpp.)
        std::string why;
        for (int waited = 0;; waited += 50) {
            why = x11_connect(display);
            if (why.empty()) break;
            const bool gone = waitpid(pid, nullptr, WNOHANG) == pid;
            if (gone) pid = -1;  // reaped: nothing left to stop
            if (gone || waited >= 10000) {
                skip = "Xvfb reported display :" + std::to_string(display) + " but a client cannot use it (" + why + ")\n" + server_log();
                stop();
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    void stop() {
        if (pid <= 0) return;
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
        pid = -1;
    }
    bool alive() {
        if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == pid) pid = -1;  // reaped: nothing left to stop
        return pid > 0;
    }
    std::string server_log() const {
        std::ifstream f(log);
        return "Xvfb's stderr:\n" + std::string(std::istreambuf_iterator<char>(f), {});
    }
    std::string env() const { return "DISPLAY=:" + std::to_string(display); }
};

// Runs the client on a fresh private X server; a failure carries the server's stderr. The server audits every
// connection (-audit 4). `connections` counts the clients that completed a connection setup (GLFW's, and the
// Vulkan driver's own), and `emptied` the times all of them had left while another was still to come: the tests
// expect 0: a client that closes its only X connection and opens a new one meets Xvfb resetting as its last
// client leaves, and is refused (engine/window/window.cpp keeps one connection open).
// A start with a single connection can still be refused at once ("Failed to open display", the server alive and
// accepting), for a cause not known: such a start is logged with the server's stderr and repeated on a new
// server, at most twice. Any other failure is returned as it is.
// Seen in 1 of about 20 full-suite runs of the two window tests on a loaded 2-core host; not in 40 starts under load.
struct WindowRun {
    Run r;
    std::string skip;
    int connections = 0, emptied = 0;
};
// From Xvfb's audit lines "client N connected from …" and "client N disconnected" (a client that left before its
// setup, as the readiness check does, has only the second and is ignored).
void count_clients(const std::string& log, int& connections, int& emptied) {
    std::set<int> open;
    bool was_empty_after_use = false;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        const size_t at = line.find("client ");
        if (at == std::string::npos) continue;
        const int id = std::atoi(line.c_str() + at + 7);
        if (line.find(" connected from") != std::string::npos) {
            if (was_empty_after_use) ++emptied;
            was_empty_after_use = false;
            open.insert(id);
            ++connections;
        } else if (line.find(" disconnected") != std::string::npos && open.erase(id) && open.empty()) {
            was_empty_after_use = true;
        }
    }
}
WindowRun run_in_xvfb(const std::string& args) {
    for (int attempt = 1;; ++attempt) {
        Xvfb x;
        if (!x.skip.empty()) return {{}, x.skip, 0, 0};
        Run r = run(args, x.env());
        const bool alive = x.alive();
        const std::string log = x.server_log();
        int connections = 0, emptied = 0;
        count_clients(log, connections, emptied);
        const bool refused = r.rc != 0 && r.out.find("Failed to open display") != std::string::npos && connections == 0;
        if (refused && alive && attempt < 3) {
            std::printf("attempt %d: the client could not open display :%d, a server that is running; retrying on a new "
                        "server\n%s\n", attempt, x.display, log.c_str());
            continue;
        }
        if (r.rc != 0) r.out += "\nXvfb " + std::string(alive ? "is still running" : "has gone") + "; " + log;
        return {r, "", connections, emptied};
    }
}
}  // namespace

TEST(VisualiserWindow, XvfbSelftestKeysResizeLectureScreenshotIsValidationClean) {
    auto dir = temp_dir("window");
    auto [r, skip, connections, emptied] = run_in_xvfb("--validate --frames 90 --selftest --screenshot " + (dir / "w.png").string() +
                                                       " --stats-json " + (dir / "s.json").string());
    if (!skip.empty()) GTEST_SKIP() << skip;
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_GE(connections, 1);
    EXPECT_EQ(emptied, 0) << "diffuscope left the X server without clients, then connected again (Xvfb resets then)";
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
    std::stringstream json;
    json << std::ifstream(dir / "s.json").rdbuf();
    EXPECT_NE(json.str().find("\"frames\": 90"), std::string::npos) << json.str();
    EXPECT_EQ(json.str().find("\"recreations\": 0"), std::string::npos) << "resizing did not rebuild the swapchain\n" << json.str();
    Image w = load_png(dir / "w.png");
    ASSERT_EQ(w.w, 1280) << "the window is back at 1280×800 after the resize";
    ASSERT_EQ(w.h, 800);
    size_t lit = 0;
    for (size_t i = 0; i < w.rgba.size(); i += 4) lit += w.rgba[i + 1] > 128;
    EXPECT_GT(lit, w.rgba.size() / 4 / 100) << "the screenshot is (almost) empty";
}

// The training panel in a real window: a UNet trains a budgeted slice per frame while the chains sample, with zero
// validation messages; the frame times are reported (a benchmark, not a pass/fail timing).
TEST(VisualiserWindow, XvfbTrainingPanelTrainsInSlicesAndIsValidationClean) {
    if (!training_digits()) GTEST_SKIP() << "no MNIST data (run scripts/run.sh, or set DIFFUSCOPE_DATA)";
    auto dir = temp_dir("window_train");
    // The chains on the compute queue's submissions (the main queue again on lavapipe) while the training slices and
    // the draws stay on the main queue, two frames in flight.
    auto [r, skip, connections, emptied] = run_in_xvfb(
        "--validate visualise --train --budget 40 --frames 120 --chains 4 --async-compute on --stats-json " + (dir / "s.json").string());
    if (!skip.empty()) GTEST_SKIP() << skip;
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_GE(connections, 1);
    EXPECT_EQ(emptied, 0) << "diffuscope left the X server without clients, then connected again (Xvfb resets then)";
    EXPECT_NE(r.out.find("validation: 0 errors, 0 warnings"), std::string::npos) << r.out;
    nlohmann::json j = nlohmann::json::parse(std::ifstream(dir / "s.json"));
    EXPECT_GE(j.value("training_steps", 0), 1) << j.dump();
    EXPECT_GT(j["gpu_ms_mean"].value("train", 0.0), 0.0) << "no training pass was timed\n" << j.dump();
    EXPECT_EQ(j.value("async_frames", 0), 120) << j.dump();
    EXPECT_GT(j["gpu_ms_mean"].value("sampler", 0.0), 0.0) << "the compute queue's passes were not timed\n" << j.dump();
    std::printf("window with training: %d training steps, %d sampling steps in 120 frames, frame p50 %.1f ms, p99 %.1f ms\n",
                j.value("training_steps", 0), j.value("steps_done", 0), j.value("frame_ms_p50", 0.0),
                j.value("frame_ms_p99", 0.0));
}

