// .npy: byte-exact numpy-style output, round trips of every dtype, headers numpy (or a person) might
// write, and every malformed header with its message.
#include "diffusion/io/npy.hpp"
#include "tests/io_util.hpp"

using namespace diffuscope::io;
using namespace iotest;

namespace {

// A .npy file with the given header text (not padded), version and data.
Bytes npy_file(std::string_view header, const Bytes& data = {}, int major = 1) {
    Bytes b = bytes_of(std::string_view("\x93NUMPY", 6));
    b.push_back(std::byte(major));
    b.push_back(std::byte{0});
    if (major == 1) {
        append_u16_le(b, uint16_t(header.size()));
    } else {
        append_u32_le(b, uint32_t(header.size()));
    }
    append_text(b, header);
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

Bytes floats(std::initializer_list<float> v) {
    Bytes b;
    append_raw(b, std::span<const float>(v.begin(), v.size()));
    return b;
}

}  // namespace

TEST(Npy, WritesWhatNumpyWrites) {
    // np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3)): this header, spaces, '\n', data at byte 128.
    const float v[6] = {0, 1, 2, 3, 4, 5};
    const int64_t shape[2] = {2, 3};
    Bytes file = encode_npy(DType::f32, shape, std::as_bytes(std::span(v)));
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    header += std::string(128 - 10 - header.size() - 1, ' ') + "\n";
    Bytes expected = npy_file(header, floats({0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(file, expected);
    EXPECT_EQ(file.size(), 128u + 24);
}

TEST(Npy, RoundTripsEveryDtypeAndShape) {
    TempDir d;
    std::vector<float> f{1.5f, -2.25f, 3e-8f, 1e30f, 0.0f, -0.0f};
    write_npy_f32(d / "f.npy", std::vector<int64_t>{3, 2}, f);
    auto rf = read_npy_f32(d / "f.npy", std::vector<int64_t>{-1, 2});
    EXPECT_EQ(rf.shape, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(rf.data, f);

    std::vector<int32_t> i{-7, 0, 10, INT32_MAX, INT32_MIN};
    write_npy_i32(d / "i.npy", std::vector<int64_t>{5}, i);
    auto ri = read_npy_i32(d / "i.npy", std::vector<int64_t>{5});
    EXPECT_EQ(ri.data, i);
    EXPECT_EQ(read_npy(d / "i.npy").shape, (std::vector<int64_t>{5}));

    std::vector<uint8_t> u(1 * 1 * 28 * 28);
    for (size_t k = 0; k < u.size(); ++k) u[k] = uint8_t(k);
    write_npy_u8(d / "u.npy", std::vector<int64_t>{1, 1, 28, 28}, u);
    EXPECT_EQ(read_npy_u8(d / "u.npy").data, u);

    write_npy_f32(d / "scalar.npy", std::vector<int64_t>{}, std::vector<float>{42.0f});
    auto s = read_npy_f32(d / "scalar.npy", std::vector<int64_t>{});
    EXPECT_TRUE(s.shape.empty());
    EXPECT_EQ(s.data, std::vector<float>{42.0f});

    write_npy_f32(d / "empty.npy", std::vector<int64_t>{0, 4}, std::vector<float>{});
    EXPECT_EQ(read_npy_f32(d / "empty.npy").shape, (std::vector<int64_t>{0, 4}));

    for (const auto& e : std::filesystem::directory_iterator(d.path))  // the atomic writes left no temp files
        EXPECT_EQ(e.path().extension(), ".npy") << e.path();
}

TEST(Npy, ReadsVersion2AndToleratesSpacingQuotesAndCommas) {
    Bytes data = floats({1, 2, 3});
    for (std::string_view h : {
             "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }          \n",
             "{ \"shape\" :( 3 , ) ,'fortran_order':False,\t'descr' : '<f4'}",
             "{'descr':'<f4','fortran_order':False,'shape':(3,)}\n",
             "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }\n",  // Python 2 numpy
         }) {
        for (int major : {1, 2, 3}) {
            NpyArray a = parse_npy(npy_file(h, data, major), "h.npy");
            EXPECT_EQ(a.dtype, DType::f32) << h;
            EXPECT_EQ(a.shape, std::vector<int64_t>{3}) << h;
            EXPECT_EQ(a.bytes, data) << h;
        }
    }
    NpyArray a = parse_npy(npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1, ), }", bytes_of("ab")), "x");
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 1}));
}

TEST(Npy, MalformedHeadersSayWhereAndWhat) {
    Bytes data = floats({1, 2, 3});
    auto err = [&](std::string_view header, std::initializer_list<std::string_view> parts) {
        expect_error([&] { parse_npy(npy_file(header, data), "x.npy"); }, parts);
    };
    err("{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", {"x.npy: the array is in Fortran order"});
    err("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", {"x.npy: dtype '<f8'", "astype(np.float32)"});
    err("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", {"big-endian"});
    err("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", {"structured dtypes"});
    err("{'descr': '<f4', 'fortran_order': False}", {"missing key"});
    err("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}", {"unexpected key 'extra'"});
    err("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", {"bad .npy header at byte", "non-negative integer"});
    err("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } junk", {"unexpected text after the header dict"});
    err("{'descr': '<f4, 'fortran_order': False, 'shape': (3,), }", {"at byte 27: expected ',' or '}' in the header dict"});
    err("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3,), }", {"expected True or False"});
    err("{'descr': '<f4', 'fortran_order': False, 'shape': (3 4), }", {"expected ',' or ')' in the shape tuple"});
    err("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", {"integer too large"});
    err("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }", {"overflows"});
    err("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
        {"x.npy: truncated at byte", "shape [4] of float32 needs 16 bytes of data", "found 12"});
    err("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", {"too long", "needs 8 bytes", "found 12"});
    err("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), ", {"expected a quoted string"});
    // The byte offset points into the header: the '(' is missing at header byte 50, file byte 60.
    err("{'descr': '<f4', 'fortran_order': False, 'shape': 3, }", {"at byte 60: expected '(' opening the shape tuple"});
    err("{'descr': '<f4' 'fortran_order': False, 'shape': (3,), }", {"expected ',' or '}'"});
    err("{'descr' '<f4', 'fortran_order': False, 'shape': (3,), }", {"expected ':' after a key"});

    expect_error([] { parse_npy(bytes_of("PK\x03\x04 not numpy at all"), "z.npy"); },
                 {"z.npy: not a .npy file: expected the 6 bytes \\x93NUMPY"});
    Bytes v4 = npy_file("{}", {}, 1);
    v4[6] = std::byte{4};
    expect_error([&] { parse_npy(v4, "v.npy"); }, {"v.npy: .npy format version 4.0 at byte 6"});
    Bytes lying = npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data);
    lying[8] = std::byte{0xff};
    lying[9] = std::byte{0xff};
    expect_error([&] { parse_npy(lying, "l.npy"); }, {"l.npy: truncated at byte", "expected a 65535-byte header"});
    Bytes huge = npy_file("{}", {}, 2);
    for (int k = 8; k < 12; ++k) huge[k] = std::byte{0xff};
    expect_error([&] { parse_npy(huge, "h.npy"); }, {"claim a 4294967295-byte header"});
}

TEST(Npy, TypedReadersCheckDtypeAndShape) {
    TempDir d;
    write_npy_i32(d / "label.npy", std::vector<int64_t>{4}, std::vector<int32_t>{1, 2, 3, 10});
    expect_error([&] { read_npy_f32(d / "label.npy"); },
                 {"label.npy: holds int32 ('<i4'); expected float32 ('<f4'): convert it with arr.astype(np.float32)"});
    write_npy_f32(d / "x.npy", std::vector<int64_t>{3, 28, 28}, std::vector<float>(3 * 28 * 28));
    expect_error([&] { read_npy_f32(d / "x.npy", std::vector<int64_t>{-1, 1, 28, 28}); },
                 {"x.npy: has shape [3,28,28]; expected [N,1,28,28] (N: any size)"});
    EXPECT_EQ(read_npy_f32(d / "x.npy", std::vector<int64_t>{-1, 28, 28}).data.size(), 3u * 28 * 28);
    expect_error([&] { read_npy_f32(d / "nope.npy"); }, {"nope.npy: cannot open: No such file"});
}

TEST(Npy, WriteErrorsNameTheFile) {
    TempDir d;
    expect_error([&] { write_npy_f32(d / "no-such-dir" / "x.npy", std::vector<int64_t>{1}, std::vector<float>{1}); },
                 {"x.npy: cannot create", "does the folder exist"});
    expect_error([&] { write_npy_f32(d / "x.npy", std::vector<int64_t>{2}, std::vector<float>{1}); },
                 {"x.npy: encode_npy: shape [2] of float32 needs 8 bytes, given 4"});
    EXPECT_FALSE(std::filesystem::exists(d / "x.npy"));
}
