// `diffuscope data [--data DIR] [--grid FILE.png]`: what the MNIST loader finds — the files, the image size,
// the count of each digit overall and in the fixed train / held-out split — and optionally a labelled grid
// of the first training examples of each digit.
#include "diffusion/cli/cli.hpp"
#include "diffusion/data/mnist.hpp"
#include "diffusion/io/png.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace diffuscope::cli {

namespace {

struct DataOptions {
    std::string dir;
    size_t heldout_per_class = 100;
    std::string grid;
    bool json = false;
};

// 10 rows, one per digit: the first `per_digit` training examples of that digit, labelled.
io::Image digit_grid(const data::Mnist& m, int per_digit) {
    std::vector<float> px;
    std::vector<int> labels;
    for (int d = 0; d < 10; ++d) {
        int found = 0;
        for (size_t i = 0; i < m.count && found < per_digit; ++i) {
            if (m.labels[i] != d) continue;
            for (uint8_t v : m.image(i)) px.push_back(float(v) / 255.0f);
            labels.push_back(d);
            ++found;
        }
        for (; found < per_digit; ++found) {  // a digit with fewer examples: blank tiles
            px.insert(px.end(), size_t(m.rows) * m.cols, 0.0f);
            labels.push_back(-1);
        }
    }
    return io::image_grid(px, int(m.rows), int(m.cols), {.columns = per_digit, .margin = 2, .scale = 2}, labels);
}

}  // namespace

void register_data(CLI::App& app, GlobalOptions&, Command& run) {
    auto o = std::make_shared<DataOptions>();
    auto* cmd = app.add_subcommand("data", "Show the MNIST data diffuscope would train on: files, digit counts, split");
    cmd->add_option("--data", o->dir,
                    "Folder with MNIST IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                    "t10k-… when present); default: $DIFFUSCOPE_DATA, else data/mnist of this checkout");
    cmd->add_option("--heldout-per-class", o->heldout_per_class,
                    "Examples of each digit held out (the last ones of each digit in file order)")
        ->check(whole_of<size_t>())
        ->capture_default_str();
    cmd->add_option("--grid", o->grid, "Also write a PNG with the first 10 training examples of each digit");
    cmd->add_flag("--json", o->json, "Print the counts as JSON");
    cmd->callback([&run, o] {
        run = [o] {
            const std::filesystem::path dir = o->dir.empty() ? data::default_data_dir() : std::filesystem::path(o->dir);
            const data::Mnist m = data::load_mnist_dir(dir);
            const data::MnistSplit split = data::split_mnist(m, o->heldout_per_class);
            const auto all = data::class_counts(m), train = data::class_counts(split.train),
                       held = data::class_counts(split.heldout);
            if (!o->grid.empty()) io::write_png(o->grid, digit_grid(split.train, 10));
            if (o->json) {
                nlohmann::json j = {{"dir", dir.string()},     {"files", m.sources},      {"count", m.count},
                                    {"rows", m.rows},          {"cols", m.cols},          {"per_digit", all},
                                    {"train", split.train.count}, {"train_per_digit", train},
                                    {"heldout", split.heldout.count}, {"heldout_per_digit", held}};
                std::cout << j.dump(2) << "\n";
                return 0;
            }
            std::printf("data: %s\n", dir.string().c_str());
            for (const auto& f : m.sources) std::printf("  %s\n", f.c_str());
            std::printf("%u images of %ux%u pixels\n\n", m.count, m.rows, m.cols);
            std::printf("%-8s", "digit");
            for (int d = 0; d < 10; ++d) std::printf("%6d", d);
            std::printf("%8s\n", "total");
            auto row = [](const char* name, const std::array<size_t, 10>& n, uint32_t total) {
                std::printf("%-8s", name);
                for (size_t v : n) std::printf("%6zu", v);
                std::printf("%8u\n", total);
            };
            row("all", all, m.count);
            row("train", train, split.train.count);
            row("heldout", held, split.heldout.count);
            std::printf("\nheld out: the last %zu examples of each digit in file order (fixed; see split_mnist)\n",
                        o->heldout_per_class);
            if (!o->grid.empty()) std::printf("wrote %s\n", o->grid.c_str());
            return 0;
        };
    });
}

}  // namespace diffuscope::cli
