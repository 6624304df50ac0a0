// safetensors: round trip with metadata, F16/BF16 files built by hand, the conversions checked on every
// one of the 65,536 half values, and every header error naming its tensor.
#include "diffusion/io/safetensors.hpp"
#include "tests/io_util.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

using namespace diffuscope::io;
using namespace iotest;

namespace {

// A file from a header text and raw data, as the format lays them out.
Bytes st_file(const std::string& header, const Bytes& data) {
    Bytes b;
    append_u64_le(b, header.size());
    append_text(b, header);
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

Bytes halves(std::initializer_list<uint16_t> v) {
    Bytes b;
    for (uint16_t h : v) append_u16_le(b, h);
    return b;
}

SafeTensors example() {
    SafeTensors st;
    st.tensors["down.0.conv1.w"] = {{4, 1, 3, 3}, {}};
    for (int i = 0; i < 36; ++i) st.tensors["down.0.conv1.w"].data.push_back(0.25f * float(i) - 3.0f);
    st.tensors["down.0.conv1.b"] = {{4}, {1.0f, -1.0f, 1e-20f, 3.4e38f}};
    st.tensors["step"] = {{}, {1234.0f}};   // a scalar
    st.tensors["empty"] = {{0, 3}, {}};     // no elements
    st.metadata["format"] = "diffuscope";
    st.metadata["config"] = R"({"channels": [32, 64]})";
    return st;
}

}  // namespace

TEST(SafeTensors, RoundTripKeepsTensorsAndMetadata) {
    TempDir d;
    SafeTensors st = example();
    write_safetensors(d / "w.safetensors", st);
    SafeTensors back = read_safetensors(d / "w.safetensors");
    ASSERT_EQ(back.tensors.size(), st.tensors.size());
    for (const auto& [name, t] : st.tensors) {
        ASSERT_TRUE(back.tensors.count(name)) << name;
        EXPECT_EQ(back.tensors[name].shape, t.shape) << name;
        EXPECT_EQ(back.tensors[name].data, t.data) << name;
    }
    EXPECT_EQ(back.metadata, st.metadata);
    EXPECT_EQ(back.source, (d / "w.safetensors").string());
}

TEST(SafeTensors, WrittenLayoutFollowsTheFormat) {
    Bytes b = encode_safetensors(example());
    const uint64_t n = load_u64_le(b, 0);
    EXPECT_EQ(n % 8, 0u) << "header padded to 8 bytes";
    auto header = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(b.data() + 8), n));
    // Tensors packed back to back in name order; the data region ends exactly at the end of the file.
    uint64_t expect_begin = 0;
    for (const char* name : {"down.0.conv1.b", "down.0.conv1.w", "empty", "step"}) {
        const auto& t = header.at(name);
        EXPECT_EQ(t.at("dtype"), "F32");
        uint64_t begin = t.at("data_offsets")[0], end = t.at("data_offsets")[1];
        EXPECT_EQ(begin, expect_begin) << name;
        expect_begin = end;
    }
    EXPECT_EQ(8 + n + expect_begin, b.size());
    EXPECT_EQ(header.at("down.0.conv1.w").at("shape"), nlohmann::json({4, 1, 3, 3}));
    EXPECT_EQ(header.at("__metadata__").at("format"), "diffuscope");
    // The bytes of a tensor are its floats, little-endian.
    uint64_t begin = header.at("down.0.conv1.b").at("data_offsets")[0];
    float first;
    std::memcpy(&first, b.data() + 8 + n + begin, 4);
    EXPECT_EQ(first, 1.0f);
}

TEST(SafeTensors, ReadsF16AndBF16ByHand) {
    const std::string header =
        R"({"h":{"dtype":"F16","shape":[2,4],"data_offsets":[0,16]},)"
        R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}, "__metadata__": {"k": "v"}})";
    Bytes data = halves({0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x8000, 0x7c00, 0x3555,   // F16
                         0x3f80, 0xc020, 0x4049});                                          // BF16
    SafeTensors st = parse_safetensors(st_file(header, data), "half.safetensors");
    const auto& h = st.tensors.at("h").data;
    EXPECT_EQ(h[0], 1.0f);
    EXPECT_EQ(h[1], -2.0f);
    EXPECT_EQ(h[2], 65504.0f);                      // largest half
    EXPECT_EQ(h[3], std::ldexp(1.0f, -24));         // smallest subnormal
    EXPECT_EQ(h[4], std::ldexp(1023.0f, -24));      // largest subnormal
    EXPECT_TRUE(h[5] == 0.0f && std::signbit(h[5])); // −0
    EXPECT_TRUE(std::isinf(h[6]) && h[6] > 0);
    EXPECT_EQ(h[7], 0.333251953125f);               // 0x3555, the half nearest 1/3
    EXPECT_EQ(st.tensors.at("b").data, (std::vector<float>{1.0f, -2.5f, 3.140625f}));
    EXPECT_EQ(st.tensors.at("b").shape, std::vector<int64_t>{3});
    EXPECT_EQ(st.metadata.at("k"), "v");
}

TEST(SafeTensors, HalfConversionIsExactForAll65536Values) {
    // Reference straight from the definition: (−1)^s · 2^(e−15) · (1 + m/1024), subnormals 2^−14 · m/1024.
    for (uint32_t h = 0; h < 65536; ++h) {
        const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
        float got = f16_to_f32(uint16_t(h));
        if (e == 31) {
            EXPECT_TRUE(m ? std::isnan(got) : std::isinf(got)) << h;
            continue;
        }
        double ref = e == 0 ? std::ldexp(double(m), -24) : std::ldexp(1024.0 + m, e - 25);
        if (s) ref = -ref;
        ASSERT_EQ(double(got), ref) << "half 0x" << std::hex << h;
        ASSERT_EQ(std::signbit(got), bool(s)) << h;
    }
    for (uint32_t b = 0; b < 65536; b += 97) {
        float f = bf16_to_f32(uint16_t(b));
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        ASSERT_EQ(bits, b << 16);
    }
}

TEST(SafeTensors, RequireNamesTensorAndShapes) {
    SafeTensors st = example();
    st.source = "weights.safetensors";
    EXPECT_EQ(require(st, "down.0.conv1.w", {4, 1, 3, 3}).data.size(), 36u);
    expect_error([&] { require(st, "down.0.conv1.w", {4, 3, 3, 3}); },
                 {"weights.safetensors: tensor \"down.0.conv1.w\" has shape [4,1,3,3], the model expects [4,3,3,3]"});
    expect_error([&] { require(st, "up.0.w", {8}); },
                 {"weights.safetensors: no tensor \"up.0.w\", which the model expects with shape [8]",
                  "the file has 4 tensors: down.0.conv1.b, down.0.conv1.w, empty, step"});
}

TEST(SafeTensors, HeaderErrorsNameTheTensor) {
    auto err = [](const std::string& header, size_t data_bytes, std::initializer_list<std::string_view> parts) {
        expect_error([&] { parse_safetensors(st_file(header, Bytes(data_bytes)), "m.safetensors"); }, parts);
    };
    err(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
        12, {"m.safetensors: tensor \"b\" (bytes 4-12 of the data) overlaps tensor \"a\" (bytes 0-8)"});
    err(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 12,
        {"tensor \"a\" has data_offsets [0, 16]; expected 0 <= begin <= end <= 12"});
    err(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[8,4]}})", 12, {"tensor \"a\" has data_offsets [8, 4]"});
    err(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 12,
        {"tensor \"a\" has shape [3] of F32, which needs 12 bytes, but data_offsets [0, 8] span 8"});
    err(R"({"a":{"dtype":"F16","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 12,
        {"tensor \"a\"", "more than 2^64"});
    err(R"({"step":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})", 8,
        {"tensor \"step\" has dtype I64; diffuscope reads F32, F16 and BF16"});
    err(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, {"tensor \"a\": shape [-1] holds -1"});
    err(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4, {"expected non-negative integers"});
    err(R"({"a":{"dtype":"F32","shape":[1]}})", 4, {"tensor \"a\": expected \"data_offsets\": [begin, end]"});
    err(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4, {"tensor \"a\": missing \"dtype\""});
    err(R"({"a":[1,2]})", 4, {"tensor \"a\": expected a JSON object"});
    err(R"({"__metadata__":{"k":1}})", 0, {"\"__metadata__\" entry \"k\" is a number; expected a string"});
    err(R"([1,2,3])", 0, {"m.safetensors: the JSON header is a array; expected an object"});
    err(R"({"a":{"dtype":"F32",)", 0, {"m.safetensors: the JSON header (bytes 8-", "is invalid"});

    expect_error([] { parse_safetensors(bytes_of("abc"), "t.safetensors"); },
                 {"t.safetensors: truncated at byte 3: expected the 8-byte header length"});
    Bytes lying = st_file("{}", {});
    lying[5] = std::byte{1};  // claims a 2^40-byte header
    expect_error([&] { parse_safetensors(lying, "l.safetensors"); },
                 {"l.safetensors: bytes 0-7 say the JSON header is 1099511627778 bytes, but the file has only 2"});
}

TEST(SafeTensors, WriterRejectsInconsistentTensorsAndLeavesTheOldFile) {
    TempDir d;
    write_safetensors(d / "w.safetensors", example());
    const Bytes before = read_file(d / "w.safetensors");
    SafeTensors bad;
    bad.tensors["x"] = {{2, 2}, {1, 2, 3}};
    expect_error([&] { write_safetensors(d / "w.safetensors", bad); },
                 {"w.safetensors: encode_safetensors: tensor \"x\" has shape [2,2] but holds 3 values"});
    EXPECT_EQ(read_file(d / "w.safetensors"), before);
    // Overwriting replaces the file whole and leaves no temporary behind.
    SafeTensors small;
    small.tensors["x"] = {{1}, {7}};
    write_safetensors(d / "w.safetensors", small);
    EXPECT_EQ(read_safetensors(d / "w.safetensors").tensors.size(), 1u);
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(d.path), {}), 1);
}
