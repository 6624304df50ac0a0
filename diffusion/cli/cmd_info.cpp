// `diffuscope info [--json]`: every Vulkan device the loader sees, and which one would be chosen and why.
#include "diffusion/cli/cli.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace diffuscope::cli {

static std::string version_string(uint32_t v) {
    return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
           std::to_string(VK_API_VERSION_PATCH(v));
}

void register_info(CLI::App& app, GlobalOptions& g, Command& run) {
    auto* cmd = app.add_subcommand("info", "List the Vulkan devices and the one diffuscope would choose");
    auto json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *json, "Print the same as JSON");
    cmd->callback([&g, &run, json] {
        run = [&g, json] {
            VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
            VkInstance instance = engine::create_instance(g.validate, {}, &messenger);
            std::vector<engine::DeviceInfo> devices;
            std::string why;
            uint32_t chosen = 0;
            try {
                devices = engine::Context::enumerate(instance);
                chosen = engine::Context::choose(devices, g.device, &why);
            } catch (...) {
                engine::destroy_instance(instance, messenger);
                throw;
            }
            engine::destroy_instance(instance, messenger);
            if (*json) {
                nlohmann::json j;
                j["chosen"] = chosen;
                j["reason"] = why;
                for (const auto& d : devices) {
                    j["devices"].push_back({
                        {"index", d.index}, {"name", d.name}, {"type", d.type_name}, {"driver", d.driver_name},
                        {"driver_info", d.driver_info}, {"api_version", version_string(d.api_version)},
                        {"subgroup_size", d.subgroup_size}, {"subgroup_arithmetic", d.subgroup_arithmetic},
                        {"subgroup_shuffle", d.subgroup_shuffle}, {"shared_memory_bytes", d.shared_memory_bytes},
                        {"max_workgroup_invocations", d.max_workgroup_invocations},
                        {"max_push_constant_bytes", d.max_push_constant_bytes},
                        {"max_storage_buffer_range", d.max_storage_buffer_range},
                        {"shader_float16", d.shader_float16}, {"storage_16bit", d.storage_16bit},
                        {"cooperative_matrix", d.cooperative_matrix},
                        {"timestamp_period_ns", d.timestamp_period_ns}, {"timestamp_valid_bits", d.timestamp_valid_bits},
                        {"compute_queue", d.has_compute_queue}, {"device_local_bytes", d.device_local_bytes},
                        {"unified_memory", d.unified_memory}});
                }
                std::cout << j.dump(2) << "\n";
                return 0;
            }
            for (const auto& d : devices) {
                std::printf("%s device %u: %s\n", d.index == chosen ? "*" : " ", d.index, d.name.c_str());
                std::printf("    type %s, driver %s (%s), Vulkan %s\n", d.type_name.c_str(), d.driver_name.c_str(),
                            d.driver_info.c_str(), version_string(d.api_version).c_str());
                std::printf("    subgroup %u (arithmetic %s, shuffle %s), shared memory %u KiB, workgroup ≤ %u\n",
                            d.subgroup_size, d.subgroup_arithmetic ? "yes" : "no", d.subgroup_shuffle ? "yes" : "no",
                            d.shared_memory_bytes / 1024, d.max_workgroup_invocations);
                std::printf("    fp16 %s, 16-bit storage %s, cooperative matrix %s, timestamps %s (%.3g ns/tick)\n",
                            d.shader_float16 ? "yes" : "no", d.storage_16bit ? "yes" : "no",
                            d.cooperative_matrix ? "yes" : "no", d.timestamp_valid_bits ? "yes" : "no",
                            d.timestamp_period_ns);
                std::printf("    device-local memory %.1f GiB%s\n", double(d.device_local_bytes) / (1 << 30),
                            d.unified_memory ? " (host-visible)" : "");
            }
            std::printf("chosen: device %u (%s): %s\n", chosen, devices[chosen].name.c_str(), why.c_str());
            return 0;
        };
    });
}

}  // namespace diffuscope::cli
