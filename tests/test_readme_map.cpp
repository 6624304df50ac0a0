// README.md's map and its concept table (concept → shader → host → CPU reference → test) name real files: every
// path in backticks in those two sections exists in the source tree (in the map, maybe relative to its row's folder), and every row of the concept table names a
// shader, a host file, a reference and a test. A file moved without its row fails here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string readme() {
    std::ifstream f(fs::path(DIFFUSCOPE_SOURCE_DIR) / "README.md");
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

// The lines of the section that starts with `heading`, up to the next "## " heading.
std::vector<std::string> section(const std::string& text, const std::string& heading) {
    std::vector<std::string> out;
    std::istringstream in(text);
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("## ", 0) == 0) inside = line == heading;
        else if (inside) out.push_back(line);
    }
    return out;
}

// Backticked tokens that look like paths: a '/' or a file extension, no spaces; "a/{b,c}.hpp" and "x.*" are
// expanded / matched by prefix.
std::vector<std::string> paths_in(const std::string& line) {
    std::vector<std::string> out;
    static const std::regex tick("`([^`]+)`");
    for (auto it = std::sregex_iterator(line.begin(), line.end(), tick); it != std::sregex_iterator(); ++it) {
        std::string p = (*it)[1];
        if (p.find(' ') != std::string::npos || p.find('/') == std::string::npos) continue;
        const auto brace = p.find('{');
        if (brace != std::string::npos) {
            const auto close = p.find('}', brace);
            std::stringstream alts(p.substr(brace + 1, close - brace - 1));
            for (std::string alt; std::getline(alts, alt, ',');)
                out.push_back(p.substr(0, brace) + alt + p.substr(close + 1));
        } else {
            out.push_back(p);
        }
    }
    return out;
}

bool exists(const std::string& p) {
    const fs::path root(DIFFUSCOPE_SOURCE_DIR);
    if (p.size() > 2 && p.substr(p.size() - 2) == ".*") {  // "dir/name.*": some file name.<ext>
        const fs::path stem = root / p.substr(0, p.size() - 2);
        if (!fs::is_directory(stem.parent_path())) return false;
        for (const auto& e : fs::directory_iterator(stem.parent_path()))
            if (e.path().stem() == stem.filename()) return true;
        return false;
    }
    return fs::exists(root / p);
}

}  // namespace

TEST(ReadmeMap, EveryPathInTheMapExists) {
    const auto lines = section(readme(), "## Map");
    ASSERT_FALSE(lines.empty()) << "README.md has no \"## Map\" section";
    size_t checked = 0;
    for (const auto& line : lines) {
        // A row's folder is its first path; the row's other paths may be relative to it ("shaders/" … "nn/").
        const auto paths = paths_in(line);
        for (const auto& p : paths) {
            if (p.rfind("data/", 0) == 0) continue;  // downloaded by setup, git-ignored
            EXPECT_TRUE(exists(p) || exists(paths.front() + p)) << "README.md's map names " << p << ", which does not exist";
            ++checked;
        }
    }
    EXPECT_GE(checked, 10u);
}

TEST(ReadmeMap, EveryConceptRowResolvesToFilesThatExist) {
    const auto lines = section(readme(), "## Where each concept lives");
    ASSERT_FALSE(lines.empty()) << "README.md has no \"## Where each concept lives\" section";
    size_t rows = 0;
    for (const auto& line : lines) {
        if (line.rfind("| ", 0) != 0 || line.rfind("| ---", 0) == 0 || line.rfind("| concept", 0) == 0) continue;
        ++rows;
        // | concept | shader | host | reference | test |
        std::vector<std::string> cells;
        std::stringstream cs(line.substr(1));
        for (std::string c; std::getline(cs, c, '|');) cells.push_back(c);
        ASSERT_GE(cells.size(), 5u) << line;
        for (size_t col = 1; col < 5; ++col) {
            const auto paths = paths_in(cells[col]);
            EXPECT_FALSE(paths.empty()) << "column " << col << " of this row names no file: " << line;
            for (const auto& p : paths) EXPECT_TRUE(exists(p)) << p << " (in: " << line << ")";
        }
    }
    EXPECT_GE(rows, 20u) << "the concept table has too few rows";
}
