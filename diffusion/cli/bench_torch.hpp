// diffusion/cli/bench_torch.hpp — `diffuscope bench`'s optional PyTorch baseline: python/bench_torch.py times
// the same UNet (python/diffuscope_ref.py) on the CPU in the same run, and the bench reports diffuscope /
// PyTorch for the same tasks. Nothing here may fail the bench: every problem becomes a "skipped: why".
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace diffuscope::cli {

struct TorchBench {
    std::string python;              // the interpreter that runs the script
    std::filesystem::path script;    // python/bench_torch.py
    std::string skipped;             // non-empty: why there is no PyTorch baseline (then the rest is unset)
};

// `--torch auto|off|PATH`: auto = /usr/bin/python3 (Debian's python3-torch is importable only there), PATH =
// that interpreter; the script is python/bench_torch.py found at or above the executable's folder, then the
// current folder's ($DIFFUSCOPE_SOURCE first when set). Whether torch imports is learnt by running it.
TorchBench find_torch_bench(const std::string& option);

// Runs the script (`--quick` when asked) and returns its JSON, or {"skipped": why} — when torch cannot be
// imported (the script exits 77), when it fails (with the tail of its output), or when its JSON is unreadable.
nlohmann::json run_torch_bench(const TorchBench&, bool quick = false);

// diffuscope's figures (`bench --json`'s "unet", "trainer", "sampling", "digits", "digits_fast") against the
// script's, task by task, only where both ran the same task (same batch, steps, digits, sampler, guidance):
//   time ratio = diffuscope time / PyTorch time (< 1: diffuscope is faster)
//   training   = diffuscope img/s / PyTorch img/s against the target of ≥ 0.30
//   100 digits = time to 100 digits judged correct by the classifier, per sampler ("digits_100_correct",
//                "digits_fast_100_correct": kernels against kernels)
//   target     = "time_to_100_correct": diffuscope's fastest route to 100 correct digits (model, sampler and
//                kernels together) against PyTorch's baseline task ("digits"), target ≤ 1
nlohmann::json compare_with_torch(const nlohmann::json& ours, const nlohmann::json& torch);

// "DDIM-20, w = 2" for a digits task's JSON (sampler, steps, guidance).
std::string digits_config(const nlohmann::json& task);

// The comparison as a table on stdout (or the one line saying why it was skipped).
void print_torch_comparison(const nlohmann::json& torch, const nlohmann::json& comparison);

}  // namespace diffuscope::cli
