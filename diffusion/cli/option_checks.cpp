#include "diffusion/cli/option_checks.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace diffuscope::cli {

namespace {

std::string number_text(double v) {
    std::ostringstream s;
    s << v;  // shortest of %g's six digits: 1e-06, 0.99999, 10000
    return s.str();
}

std::string unit_suffix(const std::string& unit) { return unit.empty() ? "" : " (" + unit + ")"; }

// How the text the user gave is quoted back: as typed, or "" when it was empty.
std::string shown(const std::string& text) { return text.empty() ? "\"\"" : text; }

CLI::Validator real_range(double lo, double hi, bool open_low, const std::string& unit) {
    const std::string allowed = (open_low ? "more than " + number_text(lo) + ", up to " : number_text(lo) + " to ") +
                                number_text(hi) + unit_suffix(unit);
    const std::string help = (open_low ? "in (" : "in [") + number_text(lo) + ", " + number_text(hi) + "]" +
                             (unit.empty() ? "" : " " + unit);
    auto check = [=](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);  // what CLI11's own conversion (strtold) reads
        if (text.empty() || end != text.c_str() + text.size())
            return shown(text) + " is not a number; allowed: " + allowed;
        if (!std::isfinite(v)) return text + " is not a finite number; allowed: " + allowed;
        if (v < lo || (open_low && v == lo)) return text + " is too small; allowed: " + allowed;
        if (v > hi) return text + " is too large; allowed: " + allowed;
        return {};
    };
    return CLI::Validator(check, help);
}

bool less(WholeBound a, WholeBound b) {
    if (a.negative != b.negative) return a.negative;
    return a.negative ? a.magnitude > b.magnitude : a.magnitude < b.magnitude;
}

std::string bound_text(WholeBound b) { return (b.negative ? "-" : "") + std::to_string(b.magnitude); }

}  // namespace

CLI::Validator finite_range(double lo, double hi, const std::string& unit) { return real_range(lo, hi, false, unit); }

CLI::Validator finite_above(double lo, double hi, const std::string& unit) { return real_range(lo, hi, true, unit); }

CLI::Validator whole_range(WholeBound lo, WholeBound hi, const std::string& unit, bool describe) {
    const std::string allowed = bound_text(lo) + " to " + bound_text(hi) + unit_suffix(unit);
    const std::string help =
        describe ? "in [" + bound_text(lo) + ", " + bound_text(hi) + "]" + (unit.empty() ? "" : " " + unit) : "";
    auto check = [=](std::string& text) -> std::string {
        const std::string refused = shown(text) + " is not a whole number; allowed: " + allowed;
        size_t i = 0;
        WholeBound v;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) v.negative = text[i++] == '-';
        if (i == text.size()) return refused;
        bool overflow = false;
        for (; i < text.size(); ++i) {
            if (text[i] < '0' || text[i] > '9') return refused;
            const uint64_t digit = uint64_t(text[i] - '0');
            if (v.magnitude > (UINT64_MAX - digit) / 10) overflow = true;
            else v.magnitude = v.magnitude * 10 + digit;
        }
        if (v.magnitude == 0 && !overflow) v.negative = false;  // -0 is 0
        if (v.negative && !lo.negative) return text + " is negative; allowed: " + allowed;
        if (overflow || less(hi, v))
            return text + (v.negative ? " is too small" : " is too large") + "; allowed: " + allowed;
        if (less(v, lo)) return text + " is too small; allowed: " + allowed;
        text = bound_text(v);  // canonical decimal for CLI11's conversion
        return {};
    };
    return CLI::Validator(check, help);
}

}  // namespace diffuscope::cli
