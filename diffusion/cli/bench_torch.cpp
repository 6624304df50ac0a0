#include "diffusion/cli/bench_torch.hpp"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sys/wait.h>
#include <vector>

namespace diffuscope::cli {

namespace fs = std::filesystem;

namespace {

constexpr int k_skip_status = 77;  // bench_torch.py: torch cannot be imported

// <dir>/python/bench_torch.py for the first dir at or above `start` that has it.
fs::path find_upward(fs::path start, const fs::path& relative) {
    std::error_code ec;
    for (fs::path p = start;; p = p.parent_path()) {
        if (fs::is_regular_file(p / relative, ec)) return p / relative;
        if (p == p.parent_path()) return {};
    }
}

// 'text' for a POSIX shell ('\'' for each quote inside).
std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

struct Ran {
    int rc = -1;
    std::string out;
};

Ran run_shell(const std::string& command) {
    Ran r;
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    if (!p) return {-1, "cannot start a shell for: " + command};
    std::array<char, 4096> buf;
    while (size_t n = std::fread(buf.data(), 1, buf.size(), p)) r.out.append(buf.data(), n);
    const int status = pclose(p);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string last_lines(const std::string& text, size_t lines) {
    size_t pos = text.size();
    while (pos > 0 && (text[pos - 1] == '\n' || text[pos - 1] == ' ')) --pos;
    const size_t end = pos;
    for (size_t seen = 0; pos > 0; --pos)
        if (text[pos - 1] == '\n' && ++seen == lines) break;
    return text.substr(pos, end - pos);
}

const nlohmann::json* find_row(const nlohmann::json& rows, const nlohmann::json& want) {
    if (!rows.is_array()) return nullptr;
    for (const auto& r : rows) {
        bool same = true;
        for (const auto& [k, v] : want.items()) same = same && r.contains(k) && r[k] == v;
        if (same) return &r;
    }
    return nullptr;
}

double number(const nlohmann::json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

// One comparison row: diffuscope's and PyTorch's figure in `unit`; `ratio` = ours / theirs; `higher_is_better`
// for throughputs. Absent (null) when either side lacks a positive figure.
nlohmann::json row(const std::string& task, const std::string& unit, double ours, double theirs,
                   bool higher_is_better = false) {
    if (!(ours > 0) || !(theirs > 0)) return nullptr;
    return {{"task", task}, {"unit", unit}, {"diffuscope", ours}, {"pytorch", theirs}, {"ratio", ours / theirs},
            {"ratio_means", higher_is_better ? "diffuscope throughput / PyTorch throughput"
                                             : "diffuscope time / PyTorch time (< 1: diffuscope faster)"}};
}

}  // namespace

TorchBench find_torch_bench(const std::string& option) {
    TorchBench t;
    if (option == "off") {
        t.skipped = "--torch off";
        return t;
    }
    t.python = option == "auto" ? "/usr/bin/python3" : option;
    std::error_code ec;
    if (!fs::exists(t.python, ec)) {
        t.skipped = t.python + " does not exist" +
                    (option == "auto" ? " (Debian: apt install python3-torch; or pass --torch PATH-TO-PYTHON)"
                                      : " (pass --torch auto, off, or the path of a python with torch)");
        return t;
    }
    const fs::path relative = fs::path("python") / "bench_torch.py";
    std::vector<fs::path> starts;
    if (const char* env = std::getenv("DIFFUSCOPE_SOURCE"); env && *env) starts.push_back(env);
    if (auto exe = fs::read_symlink("/proc/self/exe", ec); !ec) starts.push_back(exe.parent_path());
    if (auto cwd = fs::current_path(ec); !ec) starts.push_back(cwd);
    for (const auto& s : starts)
        if (t.script = find_upward(s, relative); !t.script.empty()) return t;
    t.skipped = "python/bench_torch.py was not found at or above the executable's folder or the current folder "
                "(run from the source tree, or set DIFFUSCOPE_SOURCE to it)";
    return t;
}

nlohmann::json run_torch_bench(const TorchBench& t, bool quick) {
    if (!t.skipped.empty()) return {{"skipped", t.skipped}};
    const fs::path json_path = fs::temp_directory_path() / ("diffuscope-bench-torch-" + std::to_string(getpid()) + ".json");
    const std::string command = shell_quote(t.python) + " " + shell_quote(t.script.string()) + " --json " +
                                shell_quote(json_path.string()) + (quick ? " --quick" : "");
    const Ran r = run_shell(command);
    nlohmann::json out;
    if (r.rc == k_skip_status) {
        out = {{"skipped", t.python + " cannot import torch: " + last_lines(r.out, 1)}};
    } else if (r.rc != 0) {
        out = {{"skipped", t.script.string() + " failed (exit status " + std::to_string(r.rc) + "): " + last_lines(r.out, 3)}};
    } else {
        std::ifstream f(json_path);
        try {
            out = nlohmann::json::parse(f);
            if (!out.is_object()) throw std::runtime_error("not a JSON object");
        } catch (const std::exception& e) {
            out = {{"skipped", "the JSON written by " + t.script.string() + " (" + json_path.string() +
                                   ") is unreadable: " + e.what()}};
        }
        out["script"] = t.script.string();
        out["python"] = t.python;
    }
    std::error_code ec;
    fs::remove(json_path, ec);
    return out;
}

nlohmann::json compare_with_torch(const nlohmann::json& ours, const nlohmann::json& torch) {
    nlohmann::json c = nlohmann::json::object();
    if (!torch.is_object() || torch.contains("skipped")) return c;
    const nlohmann::json empty = nlohmann::json::object();
    auto at = [&](const nlohmann::json& j, const char* key) -> const nlohmann::json& {
        return j.is_object() && j.contains(key) ? j[key] : empty;
    };
    for (int b : {1, 16, 64}) {
        const auto* o = find_row(at(at(ours, "unet"), "forward"), {{"batch", b}});
        const auto* p = find_row(at(torch, "forward"), {{"batch", b}});
        if (o && p) c["forward_b" + std::to_string(b)] = row("forward, batch " + std::to_string(b), "ms", number(*o, "ms"), number(*p, "ms"));
    }
    const auto& ot = at(ours, "trainer");
    const auto& pt = at(torch, "train_step");
    if (number(ot, "batch") > 0 && number(ot, "batch") == number(pt, "batch")) {
        auto r = row("training throughput, batch " + std::to_string(int(number(ot, "batch"))), "img/s",
                     number(ot, "images_per_s"), number(pt, "images_per_s"), true);
        if (!r.is_null()) {
            r["target"] = 0.30;
            r["target_means"] = "diffuscope img/s ≥ 30 % of PyTorch CPU's";
            r["met"] = r["ratio"].get<double>() >= 0.30;
            c["train_images_per_s"] = r;
        }
    }
    for (bool guided : {false, true}) {
        const auto* o = find_row(at(ours, "sampling"), {{"steps", 50}, {"digits", 16}, {"guided", guided}});
        const auto* p = find_row(at(torch, "sampling"), {{"steps", 50}, {"digits", 16}, {"guided", guided}});
        if (o && p)
            c[guided ? "ddim50_16_guided" : "ddim50_16"] =
                row(std::string("DDIM-50 sample of 16 digits") + (guided ? ", guidance 2" : ""), "s",
                    number(*o, "seconds"), number(*p, "seconds"));
    }
    // The same digits task on both sides: kernels against kernels.
    auto same_task = [&](const nlohmann::json& o, const nlohmann::json& p) {
        return number(o, "count") == 100 && number(p, "count") == 100 && number(o, "steps") > 0 &&
               number(o, "steps") == number(p, "steps") && number(o, "guidance") == number(p, "guidance") &&
               o.value("sampler", std::string("ddim")) == p.value("sampler", std::string("ddim"));
    };
    for (const char* key : {"digits", "digits_fast"}) {
        const auto& od = at(ours, key);
        const auto& pd = at(torch, key);
        if (!same_task(od, pd)) continue;
        auto r = row("100 digits judged correct, " + digits_config(od), "s", number(od, "seconds_per_100_correct"),
                     number(pd, "seconds_per_100_correct"));
        if (r.is_null()) continue;
        r["config"] = digits_config(od);
        r["diffuscope_label_accuracy"] = od["label_accuracy"];
        r["pytorch_label_accuracy"] = pd["label_accuracy"];
        r["diffuscope_seconds_per_100"] = od["seconds_per_100"];
        r["pytorch_seconds_per_100"] = pd["seconds_per_100"];
        c[std::string(key) + "_100_correct"] = r;
    }
    // The end-to-end target: diffuscope's fastest route against PyTorch's baseline task (which we ran too).
    const auto& baseline = at(torch, "digits");
    if (same_task(at(ours, "digits"), baseline) && number(baseline, "seconds_per_100_correct") > 0) {
        const char* best = nullptr;
        for (const char* key : {"digits", "digits_fast"}) {
            const double t = number(at(ours, key), "seconds_per_100_correct");
            if (number(at(ours, key), "count") == 100 && t > 0 &&
                (!best || t < number(at(ours, best), "seconds_per_100_correct")))
                best = key;
        }
        const auto& od = at(ours, best ? best : "digits");
        auto r = row("time to 100 digits judged correct (target)", "s", number(od, "seconds_per_100_correct"),
                     number(baseline, "seconds_per_100_correct"));
        if (best && !r.is_null()) {
            r["target"] = 1.0;
            r["target_means"] = "diffuscope's fastest route to 100 correct digits (model, sampler and kernels together) "
                                "takes no longer than PyTorch CPU's baseline task";
            r["met"] = r["ratio"].get<double>() <= 1.0;
            r["diffuscope_task"] = best;
            r["diffuscope_config"] = digits_config(od);
            r["pytorch_task"] = "digits";
            r["pytorch_config"] = digits_config(baseline);
            c["time_to_100_correct"] = r;
        }
    }
    for (auto it = c.begin(); it != c.end();) it = it->is_null() ? c.erase(it) : std::next(it);
    return c;
}

void print_torch_comparison(const nlohmann::json& torch, const nlohmann::json& c) {
    if (!torch.is_object() || torch.contains("skipped")) {
        std::printf("PyTorch CPU baseline: skipped: %s\n",
                    torch.is_object() ? torch["skipped"].get<std::string>().c_str() : "no result");
        return;
    }
    std::printf("PyTorch %s CPU baseline, the same UNet in the same run (%s, %d threads on the %s):\n",
                torch.value("torch", std::string("?")).c_str(), torch.value("script", std::string("?")).c_str(),
                torch.value("threads", 0), torch.value("device", std::string("CPU")).c_str());
    if (c.empty()) {
        std::printf("  no task in common (a --quick run of the script?)\n");
        return;
    }
    std::printf("  %-44s %16s %16s  %s\n", "task", "diffuscope", "PyTorch", "diffuscope / PyTorch");
    for (const char* key : {"forward_b1", "forward_b16", "forward_b64", "train_images_per_s", "ddim50_16",
                            "ddim50_16_guided", "digits_100_correct", "digits_fast_100_correct", "time_to_100_correct"}) {
        if (!c.contains(key)) continue;
        const auto& r = c[key];
        const std::string unit = r["unit"];
        const double ratio = r["ratio"].get<double>();
        const int digits = unit == "ms" ? 1 : unit == "s" ? 2 : 0;
        std::printf("  %-44s %10.*f %-5s %10.*f %-5s  ", r["task"].get<std::string>().c_str(), digits,
                    r["diffuscope"].get<double>(), unit.c_str(), digits, r["pytorch"].get<double>(), unit.c_str());
        if (r.contains("target") && unit == "img/s")
            std::printf("%.0f %% (target ≥ %.0f %%: %s)\n", 100 * ratio, 100 * r["target"].get<double>(),
                        r["met"].get<bool>() ? "met" : "not met");
        else if (r.contains("target"))
            std::printf("%.2f× the time (target ≤ %.0f×: %s)\n", ratio, r["target"].get<double>(),
                        r["met"].get<bool>() ? "met" : "not met");
        else
            std::printf("%.2f× the time\n", ratio);
    }
    for (const char* key : {"digits_100_correct", "digits_fast_100_correct"}) {
        if (!c.contains(key)) continue;
        const auto& r = c[key];
        std::printf("    %s: s per 100 digits / label accuracy: diffuscope %.2f s / %.0f %%, PyTorch %.2f s / %.0f %%\n",
                    r["config"].get<std::string>().c_str(), r["diffuscope_seconds_per_100"].get<double>(),
                    100 * r["diffuscope_label_accuracy"].get<double>(), r["pytorch_seconds_per_100"].get<double>(),
                    100 * r["pytorch_label_accuracy"].get<double>());
    }
    if (c.contains("digits_100_correct"))
        std::printf("    (each side samples its own digits; both are judged by assets/classifier.safetensors)\n");
    if (c.contains("time_to_100_correct")) {
        const auto& r = c["time_to_100_correct"];
        std::printf("    target: diffuscope's fastest route (%s) against PyTorch's baseline task (%s): model, sampler and "
                    "kernels together\n",
                    r["diffuscope_config"].get<std::string>().c_str(), r["pytorch_config"].get<std::string>().c_str());
    }
}

std::string digits_config(const nlohmann::json& task) {
    const std::string sampler = task.is_object() ? task.value("sampler", std::string("ddim")) : "ddim";
    const std::string name = sampler == "ddim" ? "DDIM" : sampler == "dpmpp2m" ? "DPM++2M" : sampler;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s-%d, w = %g", name.c_str(), int(number(task, "steps")), number(task, "guidance"));
    return buf;
}

}  // namespace diffuscope::cli
