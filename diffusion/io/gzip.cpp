// diffusion/io/gzip.cpp — zlib's inflate in gzip mode, member after member.
#include "diffusion/io/gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace diffuscope::io {

Bytes gunzip(ByteSpan in, const std::string& name, size_t max_bytes) {
    z_stream z{};
    // 16 + MAX_WBITS: expect a gzip wrapper (header + CRC-32 + length trailer), which zlib checks.
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error(name + ": zlib inflateInit2 failed");
    struct End {
        z_stream* z;
        ~End() { inflateEnd(z); }
    } end{&z};

    Bytes out;
    size_t consumed = 0;  // compressed bytes handed to zlib so far
    auto fail = [&](const std::string& what, const std::string& more = "") {
        throw std::runtime_error(name + ": " + what + " at compressed byte " + std::to_string(consumed - z.avail_in) +
                                 more);
    };
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    // zlib counts in uInt (32 bits): feed the input in slices.
    auto refill = [&] {
        if (z.avail_in == 0 && consumed < in.size()) {
            uInt n = uInt(std::min<size_t>(in.size() - consumed, 1u << 30));
            z.avail_in = n;
            consumed += n;
        }
    };
    for (;;) {
        refill();
        if (out.size() == max_bytes)
            fail("inflates to more than " + std::to_string(max_bytes) + " bytes (not a file diffuscope expects)");
        size_t old = out.size();
        size_t grow = std::min(max_bytes - old, std::max<size_t>(old, 1 << 16));
        out.resize(old + grow);
        z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
        z.avail_out = uInt(std::min<size_t>(grow, 1u << 30));
        size_t offered = z.avail_out;
        int rc = inflate(&z, Z_NO_FLUSH);
        out.resize(old + (offered - z.avail_out));
        if (rc == Z_STREAM_END) {
            refill();
            if (z.avail_in == 0) break;  // the whole input was used: done
            // Another gzip member may follow (`cat a.gz b.gz` is a valid .gz); anything else is an error.
            if (z.avail_in < 2 || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b)
                fail("unexpected data after the end of the gzip stream");
            if (inflateReset(&z) != Z_OK) fail("zlib inflateReset failed");
            continue;
        }
        if (rc == Z_BUF_ERROR && z.avail_in == 0 && consumed == in.size())
            fail("truncated gzip stream", ": the file ends before the compressed data does (an interrupted download?)");
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            fail(std::string("corrupt gzip data (") + (z.msg ? z.msg : "zlib error " + std::to_string(rc)) + ")");
    }
    return out;
}

}  // namespace diffuscope::io
