// diffusion/schedule/schedule_json.cpp — schedule names and the curve JSON format (what the live editor saves).
#include "diffusion/schedule/schedule.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace diffuscope {

std::string curve_to_json(const ScheduleSpec& s) {
    nlohmann::json j;
    j["space"] = s.space == CurveSpace::beta ? "beta" : "log_snr";
    j["interpolation"] = s.interpolation == CurveInterpolation::linear ? "linear" : "monotone_cubic";
    j["timesteps"] = s.timesteps;
    j["zero_terminal_snr"] = s.zero_terminal_snr;
    j["points"] = nlohmann::json::array();
    for (const auto& p : s.points) j["points"].push_back({p.t, p.value});
    return j.dump(2);
}

ScheduleSpec curve_from_json(const std::string& text, const std::string& where) {
    auto bad = [&](const std::string& what) {
        throw ScheduleError(where + ": " + what +
                            R"( (expected {"space": "beta"|"log_snr", "interpolation": "linear"|"monotone_cubic", )"
                            R"("points": [[t, value], ...]}))");
    };
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        bad(std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object()) bad("the top level is not an object");
    ScheduleSpec s;
    s.preset = SchedulePreset::curve;
    std::string space = j.value("space", "beta"), interp = j.value("interpolation", "monotone_cubic");
    if (space == "beta") s.space = CurveSpace::beta;
    else if (space == "log_snr") s.space = CurveSpace::log_snr;
    else bad("unknown space \"" + space + "\"");
    if (interp == "linear") s.interpolation = CurveInterpolation::linear;
    else if (interp == "monotone_cubic") s.interpolation = CurveInterpolation::monotone_cubic;
    else bad("unknown interpolation \"" + interp + "\"");
    if (j.contains("timesteps")) {
        if (!j["timesteps"].is_number_unsigned()) bad("\"timesteps\" is not a positive integer");
        s.timesteps = j["timesteps"].get<uint32_t>();
    }
    if (j.contains("zero_terminal_snr")) s.zero_terminal_snr = j["zero_terminal_snr"].get<bool>();
    if (!j.contains("points") || !j["points"].is_array()) bad("no \"points\" array");
    for (size_t k = 0; k < j["points"].size(); ++k) {
        const auto& p = j["points"][k];
        if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
            bad("point " + std::to_string(k) + " is not a pair of numbers [t, value]");
        s.points.push_back({p[0].get<double>(), p[1].get<double>()});
    }
    return s;
}

ScheduleSpec schedule_from_name(const std::string& name) {
    ScheduleSpec s;
    if (name == "linear") s.preset = SchedulePreset::linear;
    else if (name == "scaled-linear" || name == "scaled_linear") s.preset = SchedulePreset::scaled_linear;
    else if (name == "quadratic") s.preset = SchedulePreset::quadratic;
    else if (name == "cosine") s.preset = SchedulePreset::cosine;
    else if (name == "sigmoid") s.preset = SchedulePreset::sigmoid;
    else {
        std::ifstream f(name);
        if (!f)
            throw ScheduleError("schedule \"" + name +
                                "\" is neither a preset (linear, scaled-linear, quadratic, cosine, sigmoid) nor a "
                                "readable curve JSON file");
        std::stringstream ss;
        ss << f.rdbuf();
        return curve_from_json(ss.str(), name);
    }
    return with_defaults(s);
}

}  // namespace diffuscope
