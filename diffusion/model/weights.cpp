#include "diffusion/model/weights.hpp"

#include <cmath>
#include <stdexcept>

namespace diffuscope::nn {

static std::string shape_string(const std::vector<int64_t>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
    return out + "]";
}

void put_weights(io::SafeTensors& st, const ParamTable& t, const std::vector<float>& flat, const std::string& prefix) {
    if (flat.size() < t.total()) throw std::invalid_argument("put_weights: flat buffer shorter than the table");
    for (const auto& p : t.all()) {
        io::Tensor tensor;
        tensor.shape = p.shape;
        tensor.data.assign(flat.begin() + p.offset, flat.begin() + p.offset + p.count);
        st.tensors[prefix + p.name] = std::move(tensor);
    }
}

std::vector<float> take_weights(const io::SafeTensors& st, const ParamTable& t, const std::string& prefix) {
    std::vector<float> flat(t.total(), 0.0f);
    const std::string file = st.source.empty() ? "weights" : st.source;
    for (const auto& p : t.all()) {
        auto it = st.tensors.find(prefix + p.name);
        if (it == st.tensors.end())
            throw std::runtime_error(file + ": tensor \"" + prefix + p.name + "\" " + shape_string(p.shape) +
                                     " is missing — is this a diffuscope UNet file (docs/model.md)?");
        if (it->second.shape != p.shape)
            throw std::runtime_error(file + ": tensor \"" + prefix + p.name + "\" has shape " +
                                     shape_string(it->second.shape) + ", the model expects " + shape_string(p.shape) +
                                     " — was it trained with another --base/--emb-dim/--cond-dim?");
        const auto& data = it->second.data;
        for (size_t i = 0; i < data.size(); ++i)
            if (!std::isfinite(data[i]))
                throw std::runtime_error(file + ": tensor \"" + prefix + p.name + "\" holds " + std::to_string(data[i]) +
                                         " at index " + std::to_string(i) + "; every value must be finite");
        std::copy(data.begin(), data.end(), flat.begin() + p.offset);
    }
    return flat;
}

Weights load_weights(const std::filesystem::path& path) {
    auto st = io::read_safetensors(path);
    Weights w;
    w.config = UNetConfig::from_metadata(st.metadata, path.string());
    auto table = unet_params(w.config);
    bool checkpoint = st.tensors.count("ema/" + table.all().front().name) != 0;
    w.flat = take_weights(st, table, checkpoint ? "ema/" : "");
    return w;
}

void save_weights(const std::filesystem::path& path, const UNetConfig& cfg, const std::vector<float>& flat,
                  std::map<std::string, std::string> extra) {
    io::SafeTensors st;
    st.metadata = cfg.to_metadata();
    for (auto& [k, v] : extra) st.metadata[k] = v;
    put_weights(st, unet_params(cfg), flat);
    io::write_safetensors(path, st);
}

}  // namespace diffuscope::nn
