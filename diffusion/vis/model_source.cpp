#include "diffusion/vis/model_source.hpp"

#include "diffusion/oracle/empirical_oracle.hpp"

namespace diffuscope::vis {

namespace {
struct OracleModel : LoadedModel {
    oracle::EmpiricalOracle oracle;
    OracleModel(engine::Context& ctx, const data::Mnist& train, uint32_t max_batch)
        : oracle(ctx, train.pixels, train.labels, 784, max_batch) {
        description = "empirical oracle (" + std::to_string(train.count) + " MNIST training images)";
    }
    Denoiser denoiser() override { return oracle.denoiser(); }
};
}  // namespace

std::unique_ptr<LoadedModel> load_oracle_model(engine::Context& ctx, const data::Mnist& train, uint32_t max_batch) {
    return std::make_unique<OracleModel>(ctx, train, max_batch);
}

std::optional<data::Mnist> load_training_digits(const std::filesystem::path& dir, std::string& why) {
    try {
        data::Mnist train = data::split_mnist(data::load_mnist_dir(dir)).train;
        if (train.rows * train.cols != 784) {
            why = dir.string() + " holds " + std::to_string(train.rows) + "×" + std::to_string(train.cols) +
                  " images; the visualiser expects 28×28";
            return std::nullopt;
        }
        return train;
    } catch (const std::exception& e) {
        why = e.what();
        return std::nullopt;
    }
}

}  // namespace diffuscope::vis
