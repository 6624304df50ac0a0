// --config: the visualiser's settings as JSON. Values pass the options' own validators, the command line wins,
// what the window saves reads back to the same settings, and bad files are refused naming the file and the key.
#include "diffusion/cli/vis_options.hpp"
#include "tests/run_binary.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace diffuscope::vis;
using namespace diffuscope::cli;
namespace fs = std::filesystem;

namespace {

fs::path write_file(const std::string& name, const std::string& text) {
    auto p = fs::temp_directory_path() / ("diffuscope_cfg_" + std::to_string(::getpid()) + "_" + name);
    std::ofstream(p) << text;
    return p;
}

struct Parsed {
    CLI::App app{"test"};
    VisOptions o;
    explicit Parsed(const std::string& args) {
        add_vis_options(app, o);
        app.parse(args, false);
    }
};

TEST(VisConfig, FileValuesApplyAndTheCommandLineWins) {
    auto path = write_file("a.json", R"({"label": 7, "steps": 20, "schedule": "cosine", "lecture": true, "guidance": 2.5,
                                        "curve-beta": [1e-4, 1e-3, 4e-3, 8e-3, 1.2e-2, 1.6e-2, 2e-2]})");
    Parsed p("--label 2");
    apply_config_file(p.app, p.o, path.string());
    EXPECT_EQ(p.o.label, 2);  // the command line
    EXPECT_EQ(p.o.steps, 20);
    EXPECT_EQ(p.o.schedule, "cosine");
    EXPECT_TRUE(p.o.lecture);
    EXPECT_FLOAT_EQ(p.o.guidance, 2.5f);
    auto s = to_settings(p.o);
    EXPECT_DOUBLE_EQ(s.schedule.beta_points[1], 1e-3);
    EXPECT_EQ(s.schedule.steps, 20);
    fs::remove(path);
}

TEST(VisConfig, WhatTheWindowSavesReadsBackTheSame) {
    Parsed a("--label 5 --sampler dpmpp2m --T 400 --steps 25 --labels per-chain --colours viridis --view x0 --seed 9");
    VisSettings s = to_settings(a.o);
    s.schedule.log_snr_points[3] = -1.25;  // as if dragged in the curve editor
    auto path = fs::temp_directory_path() / ("diffuscope_cfg_" + std::to_string(::getpid()) + "_saved.json");
    write_config_file(path.string(), s);
    Parsed b("");
    apply_config_file(b.app, b.o, path.string());
    EXPECT_EQ(settings_to_json(to_settings(b.o)), settings_to_json(s));
    EXPECT_EQ(b.o.sampler, "dpmpp2m");
    EXPECT_EQ(b.o.T, 400);
    fs::remove(path);
}

TEST(VisConfig, BadFilesAreRefusedNamingTheKey) {
    auto expect_error = [](const std::string& text, const std::string& needle) {
        auto path = write_file("bad.json", text);
        Parsed p("");
        try {
            apply_config_file(p.app, p.o, path.string());
            ADD_FAILURE() << "accepted: " << text;
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
        }
        fs::remove(path);
    };
    expect_error(R"({"chains": 5})", "chains");           // not one of 1, 4, 16, 64
    expect_error(R"({"sampler": "magic"})", "sampler");
    expect_error(R"({"nonsense": 1})", "nonsense");
    expect_error(R"({"curve-beta": [1, 2]})", "curve-beta");
    expect_error(R"({"label": [1]})", "label");
    expect_error(R"({"label": 3)", "JSON");
    expect_error(R"([1, 2])", "object");
    // No file yet is not an error: the window writes it when it closes.
    Parsed p("");
    EXPECT_NO_THROW(apply_config_file(p.app, p.o, "/nonexistent/settings.json"));
}

}  // namespace

// A bad --config file, handed to the window or to `render`, is a clear error naming the file: exit 2, never an
// abort (the file is read while the command line is parsed, outside the commands' own error handling).
TEST(VisConfig, BadConfigFilesAreClearErrorsNotAborts) {
    const auto dir = std::filesystem::temp_directory_path() / ("diffuscope_badcfg_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    struct Case {
        const char* name;
        const char* text;
    };
    const Case cases[] = {{"garbage", "garbage"},          {"empty", ""},
                          {"array", "[1,2]"},              {"unknown_key", "{\"no-such-option\": 1}"},
                          {"wrong_type", "{\"label\": \"seven\"}"}, {"short_curve", "{\"curve-beta\": [0.1, 0.2]}"},
                          {"huge_number", "{\"steps\": 1e400}"}};
    for (const auto& c : cases) {
        const auto path = dir / (std::string(c.name) + ".json");
        std::ofstream(path) << c.text;
        for (const std::string& cmd : {"render --frames 1 --out " + (dir / "x.png").string(), std::string("visualise --frames 1")}) {
            auto r = test::run_diffuscope(cmd + " --config " + path.string());
            EXPECT_EQ(r.rc, 2) << c.name << " (" << cmd << "): " << r.out;
            EXPECT_NE(r.out.find(path.string()), std::string::npos) << c.name << ": the message names the file\n" << r.out;
            EXPECT_EQ(r.out.find("terminate called"), std::string::npos) << c.name << ": " << r.out;
        }
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "x.png")) << "nothing is rendered from a refused config";
    std::filesystem::remove_all(dir);
}
