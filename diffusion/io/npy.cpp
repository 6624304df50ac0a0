// diffusion/io/npy.cpp — the .npy header is a Python dict literal; this parses exactly the subset numpy
// writes (quoted keys, a quoted descr, True/False, a tuple of ints), tolerant of spacing and trailing
// commas, and nothing more.
#include "diffusion/io/npy.hpp"

#include "diffusion/io/atomic_file.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace diffuscope::io {

namespace {
struct DTypeInfo {
    const char* name;
    const char* descr;
    size_t size;
};
constexpr DTypeInfo kDTypes[] = {{"float32", "<f4", 4}, {"int32", "<i4", 4}, {"uint8", "|u1", 1}};  // by DType
}  // namespace

const char* dtype_name(DType t) { return kDTypes[size_t(t)].name; }
const char* dtype_descr(DType t) { return kDTypes[size_t(t)].descr; }
size_t dtype_size(DType t) { return kDTypes[size_t(t)].size; }

namespace {

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes, then major and minor version
constexpr size_t kMaxHeader = 1 << 20;  // numpy itself refuses headers over 10 kB unless told otherwise

// A cursor over the header text. Offsets in errors are byte offsets in the file.
struct HeaderParser {
    std::string_view s;
    size_t file_offset;  // where s starts in the file
    const std::string& name;

    size_t i = 0;

    [[noreturn]] void fail(const std::string& what) const {
        std::string shown(s.substr(0, 200));  // the header as printable text, for the message
        for (char& c : shown)
            if (c < 32 || c > 126) c = '?';
        throw std::runtime_error(name + ": bad .npy header at byte " + std::to_string(file_offset + i) + ": " +
                                 what + " (header: " + shown + ")");
    }
    void skip_space() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    }
    bool eat(char c) {
        skip_space();
        if (i < s.size() && s[i] == c) {
            ++i;
            return true;
        }
        return false;
    }
    void expect(char c, const char* what) {
        if (!eat(c)) fail(std::string("expected ") + what);
    }
    std::string quoted() {
        skip_space();
        if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) fail("expected a quoted string");
        char q = s[i++];
        size_t start = i;
        while (i < s.size() && s[i] != q) {
            if (s[i] == '\\') fail("escapes in strings are not supported");
            ++i;
        }
        if (i >= s.size()) fail("unterminated string");
        return std::string(s.substr(start, i++ - start));
    }
    bool boolean() {
        skip_space();
        for (bool v : {true, false}) {
            std::string_view word = v ? "True" : "False";
            if (s.substr(i, word.size()) == word) {
                i += word.size();
                return v;
            }
        }
        fail("expected True or False");
    }
    int64_t integer() {
        skip_space();
        if (i >= s.size() || s[i] < '0' || s[i] > '9') fail("expected a non-negative integer");
        int64_t v = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (v > (INT64_MAX - 9) / 10) fail("integer too large");
            v = v * 10 + (s[i++] - '0');
        }
        if (i < s.size() && s[i] == 'L') ++i;  // Python 2 numpy wrote 3L
        return v;
    }
    // (), (3,), (3, 4), (3, 4,)
    std::vector<int64_t> tuple() {
        expect('(', "'(' opening the shape tuple");
        std::vector<int64_t> t;
        while (!eat(')')) {
            if (t.size() >= 32) fail("more than 32 dimensions");
            t.push_back(integer());
            if (!eat(',')) {  // "(3)" is not a tuple in Python; numpy never writes it, and it reads fine here
                expect(')', "',' or ')' in the shape tuple");
                break;
            }
        }
        return t;
    }
};

DType parse_descr(const std::string& d, const std::string& name) {
    // '|' means "byte order not applicable" and '=' native (little-endian here); both fine for 1-byte types.
    if (d == "<f4") return DType::f32;
    if (d == "<i4") return DType::i32;
    if (d == "|u1" || d == "<u1" || d == "=u1" || d == ">u1") return DType::u8;
    std::string hint;
    if (d == ">f4" || d == ">i4") hint = " (big-endian: save it with arr.astype('<" + d.substr(1) + "'))";
    else if (d == "<f8") hint = " (float64: save it with arr.astype(np.float32))";
    else if (d == "<i8") hint = " (int64: save it with arr.astype(np.int32))";
    throw std::runtime_error(name + ": dtype '" + d + "'" + hint +
                             " is not supported; expected float32 '<f4', int32 '<i4' or uint8 '|u1'");
}

}  // namespace

NpyArray parse_npy(ByteSpan b, const std::string& name) {
    if (b.size() < 10 || std::memcmp(b.data(), kMagic, 6) != 0)
        throw std::runtime_error(name + ": not a .npy file: expected the 6 bytes \\x93NUMPY at byte 0" +
                                 std::string(b.size() < 10 ? " and at least 10 bytes, found " + std::to_string(b.size())
                                                           : ""));
    const unsigned major = unsigned(b[6]), minor = unsigned(b[7]);
    if (major < 1 || major > 3 || minor != 0)
        throw std::runtime_error(name + ": .npy format version " + std::to_string(major) + "." +
                                 std::to_string(minor) + " at byte 6; expected 1.0, 2.0 or 3.0");
    const size_t len_bytes = major == 1 ? 2 : 4;
    if (b.size() < 8 + len_bytes)
        throw std::runtime_error(name + ": truncated at byte " + std::to_string(b.size()) +
                                 ": expected the header length at byte 8");
    const size_t header_len = major == 1 ? load_u16_le(b, 8) : load_u32_le(b, 8);
    const size_t header_start = 8 + len_bytes;
    if (header_len > kMaxHeader)
        throw std::runtime_error(name + ": bytes 8-" + std::to_string(header_start - 1) + " claim a " +
                                 std::to_string(header_len) + "-byte header; expected at most " +
                                 std::to_string(kMaxHeader));
    if (b.size() - header_start < header_len)
        throw std::runtime_error(name + ": truncated at byte " + std::to_string(b.size()) + ": expected a " +
                                 std::to_string(header_len) + "-byte header from byte " + std::to_string(header_start));

    std::string_view text(reinterpret_cast<const char*>(b.data() + header_start), header_len);
    HeaderParser p{text, header_start, name};
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<std::vector<int64_t>> shape;
    p.expect('{', "'{' opening the header dict");
    while (!p.eat('}')) {
        std::string key = p.quoted();
        p.expect(':', "':' after a key");
        if (key == "descr") {
            p.skip_space();
            if (p.i < text.size() && text[p.i] == '[') p.fail("structured dtypes (a list descr) are not supported");
            descr = p.quoted();
        } else if (key == "fortran_order") {
            fortran_order = p.boolean();
        } else if (key == "shape") {
            shape = p.tuple();
        } else {
            p.fail("unexpected key '" + key + "'; expected only 'descr', 'fortran_order' and 'shape'");
        }
        if (!p.eat(',')) {
            p.expect('}', "',' or '}' in the header dict");
            break;
        }
    }
    p.skip_space();
    if (p.i != text.size()) p.fail("unexpected text after the header dict");
    if (!descr || !fortran_order || !shape) p.fail("missing key: expected 'descr', 'fortran_order' and 'shape'");
    if (*fortran_order)
        throw std::runtime_error(name + ": the array is in Fortran order; diffuscope reads C order only "
                                        "(save it with np.save(path, np.ascontiguousarray(arr)))");

    NpyArray a;
    a.dtype = parse_descr(*descr, name);
    a.shape = std::move(*shape);
    const size_t data_start = header_start + header_len;
    const uint64_t have = b.size() - data_start;
    auto count = element_count(a.shape);
    auto need = count ? checked_mul(*count, dtype_size(a.dtype)) : std::nullopt;
    if (!need)
        throw std::runtime_error(name + ": shape " + format_shape(a.shape) + " overflows; the file holds " +
                                 std::to_string(have) + " bytes of data");
    if (*need != have)
        throw std::runtime_error(name + ": " + std::string(have < *need ? "truncated" : "too long") + " at byte " +
                                 std::to_string(b.size()) + ": shape " + format_shape(a.shape) + " of " +
                                 dtype_name(a.dtype) + " needs " + std::to_string(*need) + " bytes of data after the " +
                                 std::to_string(data_start) + "-byte header, found " + std::to_string(have));
    a.bytes.assign(b.begin() + data_start, b.end());
    return a;
}

NpyArray read_npy(const std::filesystem::path& path) { return parse_npy(read_file(path), path.string()); }

Bytes encode_npy(DType t, std::span<const int64_t> shape, ByteSpan data) {
    auto count = element_count(shape);
    if (!count || *count * dtype_size(t) != data.size())
        throw std::runtime_error("encode_npy: shape " + format_shape(shape) + " of " + dtype_name(t) + " needs " +
                                 (count ? std::to_string(*count * dtype_size(t)) : std::string("too many")) +
                                 " bytes, given " + std::to_string(data.size()));
    std::string dims;  // Python's tuple repr: (), (3,), (2, 3)
    for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) dims += ",";
    std::string header = std::string("{'descr': '") + dtype_descr(t) + "', 'fortran_order': False, 'shape': (" +
                         dims + "), }";
    // Pad with spaces and a final '\n' so that the data starts at a multiple of 64 bytes, as numpy does.
    const size_t preamble = 10;
    size_t total = preamble + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    if (header.size() > 65535) throw std::runtime_error("encode_npy: header too long for format 1.0");

    Bytes out;
    out.reserve(preamble + header.size() + data.size());
    append_text(out, std::string_view(kMagic, 6));
    out.push_back(std::byte{1});
    out.push_back(std::byte{0});
    append_u16_le(out, uint16_t(header.size()));
    append_text(out, header);
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

void write_npy(const std::filesystem::path& path, DType t, std::span<const int64_t> shape, ByteSpan data) {
    write_encoded_atomically(path, [&] { return encode_npy(t, shape, data); });
}

namespace {

template <class T>
NpyTyped<T> read_typed(const std::filesystem::path& path, DType want, const ShapePattern& expected) {
    NpyArray a = read_npy(path);
    if (a.dtype != want)
        throw std::runtime_error(path.string() + ": holds " + dtype_name(a.dtype) + " ('" + dtype_descr(a.dtype) +
                                 "'); expected " + dtype_name(want) + " ('" + dtype_descr(want) +
                                 "'): convert it with arr.astype(np." + dtype_name(want) + ")");
    if (expected && !shape_matches(a.shape, *expected))
        throw std::runtime_error(path.string() + ": has shape " + format_shape(a.shape) + "; expected " +
                                 format_shape(*expected) + (std::find(expected->begin(), expected->end(), -1) !=
                                                                    expected->end()
                                                                ? " (N: any size)"
                                                                : ""));
    NpyTyped<T> out{std::move(a.shape), std::vector<T>(a.bytes.size() / sizeof(T))};
    if (!a.bytes.empty()) std::memcpy(out.data.data(), a.bytes.data(), a.bytes.size());  // memcpy(nullptr, …, 0) is UB
    return out;
}

}  // namespace

NpyTyped<float> read_npy_f32(const std::filesystem::path& p, const ShapePattern& e) {
    return read_typed<float>(p, DType::f32, e);
}
NpyTyped<int32_t> read_npy_i32(const std::filesystem::path& p, const ShapePattern& e) {
    return read_typed<int32_t>(p, DType::i32, e);
}
NpyTyped<uint8_t> read_npy_u8(const std::filesystem::path& p, const ShapePattern& e) {
    return read_typed<uint8_t>(p, DType::u8, e);
}

void write_npy_f32(const std::filesystem::path& p, std::span<const int64_t> shape, std::span<const float> v) {
    write_npy(p, DType::f32, shape, std::as_bytes(v));
}
void write_npy_i32(const std::filesystem::path& p, std::span<const int64_t> shape, std::span<const int32_t> v) {
    write_npy(p, DType::i32, shape, std::as_bytes(v));
}
void write_npy_u8(const std::filesystem::path& p, std::span<const int64_t> shape, std::span<const uint8_t> v) {
    write_npy(p, DType::u8, shape, std::as_bytes(v));
}

}  // namespace diffuscope::io
