// diffusion/cli/option_checks.hpp — one rule for every number a user hands in, on the command line or in a
// --config file: CLI11 validators that run on the text before CLI11 converts it. CLI::Range lets NaN through (every
// comparison with NaN is false) and CLI11 wraps or clamps unsigned integers (-1 and 10^22 both become 2^64−1);
// these refuse both and say why. CLI11 prefixes the option's name, so a refusal reads
// "--budget: nan is not a finite number; allowed: 1 to 100 (ms)".
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

namespace diffuscope::cli {

// A real number in [lo, hi]: refuses text that is not a number, NaN, ±Inf and values too large for a double,
// then values outside the range. `unit` (e.g. "ms") is named in the message and the help.
CLI::Validator finite_range(double lo, double hi, const std::string& unit = "");
// The same with an open lower end, (lo, hi]: a duration, a percentile.
CLI::Validator finite_above(double lo, double hi, const std::string& unit = "");

// A whole number in [lo, hi], written in decimal: refuses a fraction, hex, a '-' on an unsigned range, and values
// beyond the range or the type instead of wrapping or clamping them. On success it rewrites the text in canonical
// decimal ("007" → "7"), so CLI11's own conversion (base 0) never reads a leading 0 as octal.
struct WholeBound {
    bool negative = false;
    uint64_t magnitude = 0;
};
CLI::Validator whole_range(WholeBound lo, WholeBound hi, const std::string& unit, bool describe);

template <class T>
WholeBound whole_bound(T v) {
    static_assert(std::is_integral_v<T>);
    if constexpr (std::is_signed_v<T>)
        if (v < 0) return {true, uint64_t(-(int64_t(v) + 1)) + 1};  // −INT64_MIN without overflow
    return {false, uint64_t(v)};
}

// A whole number of type T in [lo, hi].
template <class T>
CLI::Validator whole_range(T lo, T hi, const std::string& unit = "") {
    return whole_range(whole_bound(lo), whole_bound(hi), unit, true);
}

// Any value of type T (a seed, a count where 0 means "all"): only refuses what T cannot hold.
template <class T>
CLI::Validator whole_of() {
    return whole_range(whole_bound(std::numeric_limits<T>::min()), whole_bound(std::numeric_limits<T>::max()), "",
                       false);
}

}  // namespace diffuscope::cli
