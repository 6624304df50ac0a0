// tests/run_binary.hpp — run a command (the diffuscope binary, a script) and collect its exit code and its
// stdout + stderr, for the tests that meet the program as a user does.
#pragma once
#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace test {

struct Run {
    int rc;           // exit status; −1 when the command did not exit normally
    std::string out;  // stdout and stderr together
};

inline Run run_command(const std::string& command_line) {
    FILE* p = popen((command_line + " 2>&1").c_str(), "r");
    if (!p) return {-1, "popen failed: " + command_line};
    std::string out;
    std::array<char, 4096> buf;
    while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// `env` is prefixed as shell assignments, e.g. "VK_DRIVER_FILES=/nonexistent.json".
inline Run run_diffuscope(const std::string& args, const std::string& env = "") {
    return run_command(env + " " + DIFFUSCOPE_BINARY + " " + args);
}

}  // namespace test
