// A deterministic mutation fuzzer over every file parser (IDX plain and gzipped, .npy, safetensors, the
// visualiser's --config JSON).
// From valid seed files it makes thousands of damaged ones — bit flips, interesting bytes, truncations,
// insertions, deletions, copied chunks, huge length fields, random header text re-wrapped with a correct
// length so the damage reaches deep into the parser — and requires of each: a clean parse whose result is
// self-consistent, or a std::runtime_error that names the file. Never a crash, never another exception
// type, never an allocation out of proportion to the input (a header claiming 2^40 elements in a 100-byte
// file must be rejected before allocating).
//
//   DIFFUSCOPE_FUZZ_ITERS=N    iterations per seed (default 10000: ~1 s in the debug build)
//   DIFFUSCOPE_FUZZ_DUMP=path  write every input there before parsing it: after a crash, it holds the culprit
#include "diffusion/cli/vis_options.hpp"
#include "diffusion/data/mnist.hpp"
#include "diffusion/io/npy.hpp"
#include "diffusion/io/safetensors.hpp"
#include "tests/io_util.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <cstdlib>
#include <functional>
#include <new>
#include <typeinfo>

using namespace diffuscope;
using namespace iotest;

// ---- Allocation watch: the test binary's operator new records the largest request while armed.
// (Not under AddressSanitizer, which replaces operator new itself and reports absurd requests on its own.)
#if defined(__SANITIZE_ADDRESS__)
#define DIFFUSCOPE_WATCH_ALLOCATIONS 0
#else
#define DIFFUSCOPE_WATCH_ALLOCATIONS 1
#endif

namespace {
std::atomic<bool> g_watching{false};
std::atomic<size_t> g_largest_request{0};
}  // namespace

#if DIFFUSCOPE_WATCH_ALLOCATIONS
// Same behaviour as the default (malloc, std::bad_alloc on failure), plus the record. The default
// operator delete (free) matches it; new[] and the nothrow forms call this one in libstdc++.
void* operator new(std::size_t n) {
    if (g_watching.load(std::memory_order_relaxed)) {
        size_t seen = g_largest_request.load(std::memory_order_relaxed);
        while (n > seen && !g_largest_request.compare_exchange_weak(seen, n)) {
        }
    }
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
#endif

namespace {

// splitmix64: a tiny, fully specified generator, so a case (seed, iteration) is the same on every machine.
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) { return n ? size_t(next() % n) : 0; }
    bool chance(int percent) { return below(100) < size_t(percent); }
};

// A seed file. Formats with a text header also give the header and the data apart, and how to wrap
// them back into a file with a correct length field.
struct Seed {
    std::string name;
    Bytes file;
    std::function<void(io::ByteSpan, const std::string&)> parse;  // parses and checks the result's consistency
    std::string header;
    Bytes data;
    std::function<Bytes(const std::string&, const Bytes&)> wrap;
    std::vector<std::string> tokens;  // header fragments worth splicing in
    bool gzip = false;
};

Bytes npy_wrap(const std::string& header, const Bytes& data, int major) {
    Bytes b = bytes_of(std::string_view("\x93NUMPY", 6));
    b.push_back(std::byte(major));
    b.push_back(std::byte{0});
    if (major == 1) {
        io::append_u16_le(b, uint16_t(std::min<size_t>(header.size(), 65535)));
    } else {
        io::append_u32_le(b, uint32_t(header.size()));
    }
    io::append_text(b, header);
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

Bytes st_wrap(const std::string& header, const Bytes& data) {
    Bytes b;
    io::append_u64_le(b, header.size());
    io::append_text(b, header);
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

std::vector<Seed> make_seeds() {
    std::vector<Seed> seeds;
    auto check_images = [](io::ByteSpan b, const std::string& n) {
        auto im = data::parse_idx_images(b, n);
        ASSERT_EQ(im.pixels.size(), size_t(im.count) * im.rows * im.cols);
    };
    auto check_labels = [](io::ByteSpan b, const std::string& n) {
        for (uint8_t l : data::parse_idx_labels(b, n)) ASSERT_LE(l, 9);
    };
    std::vector<uint8_t> labels{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 3};
    seeds.push_back({"images-idx3-ubyte", idx_images(4, 5, 6), check_images});
    seeds.push_back({"labels-idx1-ubyte", idx_labels(labels), check_labels});
    seeds.push_back({"images-idx3-ubyte.gz", gzip(idx_images(3, 7, 4)), check_images});
    seeds.back().gzip = true;
    seeds.push_back({"labels-idx1-ubyte.gz", gzip(idx_labels(labels)), check_labels});
    seeds.back().gzip = true;

    auto check_npy = [](io::ByteSpan b, const std::string& n) {
        auto a = io::parse_npy(b, n);
        auto count = io::element_count(a.shape);
        ASSERT_TRUE(count);
        ASSERT_EQ(a.bytes.size(), *count * io::dtype_size(a.dtype));
    };
    const std::vector<std::string> npy_tokens = {
        "'descr'", "'shape'", "'fortran_order'", "'<f4'", "'<i4'", "'|u1'", "'<f8'", "True", "False", "(", ")", ",",
        ":", "{", "}", " ", "'", "\"", "0", "7", "65536", "4294967296", "99999999999999999999", "-1", "L", "\n"};
    Bytes f32(6 * 4), u8{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}}, i32(4);
    for (size_t i = 0; i < f32.size(); ++i) f32[i] = std::byte(i * 37);
    struct NpySeed {
        const char* name;
        const char* header;
        Bytes data;
        int major;
    };
    for (const auto& s : {NpySeed{"f32.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32, 1},
                          NpySeed{"u8.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }\n", u8, 2},
                          NpySeed{"i32.npy", "{'descr':'<i4','fortran_order':False,'shape':()}", i32, 1}}) {
        int major = s.major;
        auto wrap = [major](const std::string& h, const Bytes& d) { return npy_wrap(h, d, major); };
        seeds.push_back({s.name, wrap(s.header, s.data), check_npy, s.header, s.data, wrap, npy_tokens});
    }

    auto check_st = [](io::ByteSpan b, const std::string& n) {
        auto st = io::parse_safetensors(b, n);
        for (const auto& [name, t] : st.tensors) {
            auto count = io::element_count(t.shape);
            ASSERT_TRUE(count) << name;
            ASSERT_EQ(t.data.size(), *count) << name;
        }
    };
    const std::string st_header =
        R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
        R"("b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},"c":{"dtype":"BF16","shape":[],"data_offsets":[22,24]}})";
    Bytes st_data(24);
    for (size_t i = 0; i < st_data.size(); ++i) st_data[i] = std::byte(i * 11 + 60);
    const std::vector<std::string> st_tokens = {
        "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"", "\"BF16\"",
        "\"I64\"", "[", "]", "{", "}", ",", ":", "\"", "0", "16", "-1", "1.5", "1e999", "18446744073709551615",
        "4294967296", "null", "true", "\"a\"", "\\u0000", "\\ud800", " "};
    seeds.push_back({"w.safetensors", st_wrap(st_header, st_data), check_st, st_header, st_data, st_wrap, st_tokens});

    // The visualiser's settings file: read from disk, so each case is written to <tmp>/fuzz/config.json first.
    auto check_config = [](io::ByteSpan b, const std::string& name) {
        static const auto dir = std::filesystem::temp_directory_path() / ("diffuscope_fuzz_" + std::to_string(::getpid()));
        const auto path = dir / name;
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
        CLI::App app{"fuzz"};
        cli::VisOptions o;
        cli::add_vis_options(app, o);
        app.parse(std::string(), false);
        cli::apply_config_file(app, o, path.string());
    };
    const std::string cfg =
        R"({"chains": 16, "label": 7, "labels": "fixed", "guidance": 2.0, "seed": 3, "eta": 0.5, "view": "x0",)"
        R"( "sampler": "ddim", "T": 1000, "steps": 50, "schedule": "cosine", "lecture": false,)"
        R"( "curve-beta": [1e-4, 2e-3, 5e-3, 8.5e-3, 1.2e-2, 1.6e-2, 2e-2]})";
    const std::vector<std::string> cfg_tokens = {"\"chains\"", "\"label\"", "\"steps\"", "\"T\"", "\"curve-beta\"",
                                                 "\"sampler\"", "\"schedule\"", "[", "]", "{", "}", ",", ":", "\"",
                                                 "-1", "1e999", "64", "true", "null", "\"dpmpp2m\"", "4000", "0.5"};
    auto cfg_wrap = [](const std::string& h, const Bytes&) { return bytes_of(h); };
    seeds.push_back({"config.json", bytes_of(cfg), check_config, cfg, Bytes{}, cfg_wrap, cfg_tokens});
    return seeds;
}

void put_le(Bytes& b, size_t at, uint64_t v, size_t n) {
    for (size_t k = 0; k < n && at + k < b.size(); ++k) b[at + k] = std::byte(v >> (8 * k));
}
void put_be(Bytes& b, size_t at, uint64_t v, size_t n) {
    for (size_t k = 0; k < n && at + k < b.size(); ++k) b[at + k] = std::byte(v >> (8 * (n - 1 - k)));
}

// One raw mutation of the bytes.
void mutate_bytes(Bytes& b, Rng& r, bool idx) {
    static const uint8_t interesting[] = {0, 1, 2, 7, 8, 9, 10, 0x0d, 0x1f, 0x20, 0x7f, 0x80, 0x8b, 0xfe, 0xff};
    static const uint64_t huge[] = {0, 1, 0xff, 0xffff, 0x7fffffff, 0x80000000u, 0xffffffffu, 1ull << 40,
                                    0x7fffffffffffffffull, ~0ull, 10000, 60000};
    switch (r.below(8)) {
        case 0:
            if (!b.empty()) b[r.below(b.size())] ^= std::byte(1 << r.below(8));
            break;
        case 1:
            if (!b.empty()) b[r.below(b.size())] = std::byte(interesting[r.below(sizeof interesting)]);
            break;
        case 2: b.resize(r.below(b.size() + 1)); break;
        case 3: {
            size_t at = r.below(b.size() + 1), n = 1 + r.below(16);
            Bytes ins(n);
            for (auto& x : ins) x = std::byte(r.next());
            b.insert(b.begin() + long(at), ins.begin(), ins.end());
            break;
        }
        case 4: {
            if (b.empty()) break;
            size_t at = r.below(b.size()), n = 1 + r.below(std::min<size_t>(b.size() - at, 32));
            b.erase(b.begin() + long(at), b.begin() + long(at + n));
            break;
        }
        case 5:
        case 6: {  // a huge length or count, often where the header keeps its sizes
            size_t n = r.chance(50) ? 4 : 8;
            size_t at = r.chance(60) ? 4 * r.below(4) : r.below(b.size() + 1);
            uint64_t v = huge[r.below(std::size(huge))];
            if (idx || r.chance(30)) put_be(b, at, v, n);
            else put_le(b, at, v, n);
            break;
        }
        case 7: {  // copy a chunk over another place
            if (b.size() < 2) break;
            size_t from = r.below(b.size()), to = r.below(b.size()), n = 1 + r.below(std::min<size_t>(b.size() - from, 24));
            Bytes chunk(b.begin() + long(from), b.begin() + long(from + n));
            for (size_t k = 0; k < n && to + k < b.size(); ++k) b[to + k] = chunk[k];
            break;
        }
    }
}

// Random header text: splice tokens or random characters into the header, then wrap it with a correct
// length field (and sometimes leave a raw mutation on top).
Bytes mutate_header(const Seed& s, Rng& r) {
    std::string h = s.header;
    Bytes data = s.data;
    for (size_t k = 1 + r.below(3); k-- > 0;) {
        size_t at = r.below(h.size() + 1), cut = r.below(std::min<size_t>(h.size() - at, 12) + 1);
        std::string piece = r.chance(75) ? s.tokens[r.below(s.tokens.size())] : std::string(1, char(32 + r.below(95)));
        if (r.chance(10)) piece = std::string(1 + r.below(200), piece.empty() ? ' ' : piece[0]);  // long runs
        h.replace(at, cut, piece);
    }
    if (r.chance(20)) data.resize(r.below(data.size() * 2 + 8));
    return s.wrap(h, data);
}

size_t env_size(const char* name, size_t fallback) {
    const char* v = std::getenv(name);
    return v && *v ? size_t(std::strtoull(v, nullptr, 10)) : fallback;
}

}  // namespace

TEST(Fuzz, ParsersRejectDamagedFilesCleanly) {
    const size_t iterations = env_size("DIFFUSCOPE_FUZZ_ITERS", 10000);
    const char* dump = std::getenv("DIFFUSCOPE_FUZZ_DUMP");
    auto seeds = make_seeds();
    for (size_t si = 0; si < seeds.size(); ++si) {
        const Seed& s = seeds[si];
        ASSERT_NO_THROW(s.parse(s.file, s.name)) << "seed " << s.name << " must parse";
        size_t clean = 0, rejected = 0, largest = 0, largest_input = 0;
        for (size_t it = 0; it < iterations; ++it) {
            Rng r{si * 0x100000001b3ull + it};
            Bytes in = !s.header.empty() && r.chance(40) ? mutate_header(s, r) : s.file;
            for (size_t k = r.chance(30) ? 0 : 1 + r.below(4); k-- > 0;) mutate_bytes(in, r, s.header.empty());
            if (dump) write_raw(dump, in);

            const std::string name = "fuzz/" + s.name;
            g_largest_request = 0;
            g_watching = true;
            try {
                s.parse(in, name);
                ++clean;
            } catch (const std::runtime_error& e) {
                ++rejected;
                if (std::string(e.what()).find(name) == std::string::npos)
                    ADD_FAILURE() << s.name << " case " << it << ": error does not name the file: " << e.what();
            } catch (const std::exception& e) {
                ADD_FAILURE() << s.name << " case " << it << ": " << typeid(e).name() << " instead of std::runtime_error: "
                              << e.what();
            } catch (...) {
                ADD_FAILURE() << s.name << " case " << it << ": a non-std exception";
            }
            g_watching = false;
            // Allocations stay in proportion to the input: parsed tensors are at most 2× the file (F16 →
            // float), JSON trees a small multiple; inflated gzip at most ~1032× (deflate's limit), doubled
            // by vector growth. Anything beyond is a size taken from a header and trusted.
            const double factor = s.gzip ? 2 * 1032 + 64 : 64;
            const size_t bound = size_t(factor * double(in.size())) + (1 << 20);
            if (DIFFUSCOPE_WATCH_ALLOCATIONS && g_largest_request > bound)
                ADD_FAILURE() << s.name << " case " << it << ": allocated " << g_largest_request.load() << " bytes for a "
                              << in.size() << "-byte input";
            if (g_largest_request > largest) largest = g_largest_request, largest_input = in.size();
            if (HasFailure()) {
                if (dump) std::fprintf(stderr, "the failing input is in %s\n", dump);
                return;
            }
        }
        std::printf("fuzz %-22s %6zu cases: %5zu parsed, %5zu rejected", s.name.c_str(), iterations, clean, rejected);
        if (DIFFUSCOPE_WATCH_ALLOCATIONS)
            std::printf("; largest allocation %zu bytes (input %zu bytes)", largest, largest_input);
        std::printf("\n");
        // The fuzzer must reach both outcomes, or it is not exercising the parser.
        EXPECT_GT(clean, 0u) << s.name;
        EXPECT_GT(rejected, iterations / 4) << s.name;
    }
}
