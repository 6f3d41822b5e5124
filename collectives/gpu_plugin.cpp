#include "collectives/gpu_plugin.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "common/error.h"

namespace dojo::collectives {
namespace {

struct Plugin {
  void* handle = nullptr;
  std::string error;  ///< why it did not load
};

/// Loads the plugin once per process; it stays loaded (its code backs live
/// communicators and engines).
const Plugin& plugin() {
  static Plugin loaded;
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string path = gpu_plugin_path();
    loaded.handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (loaded.handle == nullptr) {
      const char* why = ::dlerror();
      loaded.error = "the GPU plugin " + path + " could not be loaded (" +
                     (why != nullptr ? why : "unknown reason") + ")";
    }
  });
  return loaded;
}

}  // namespace

std::string gpu_plugin_path() {
  if (const char* given = std::getenv("DOJO_GPU_PLUGIN"); given != nullptr && *given != '\0')
    return given;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec)
    return kGpuPluginFile;  // the dynamic loader's search path
  return (self.parent_path().parent_path() / "lib" / kGpuPluginFile).string();
}

void* gpu_plugin_symbol(const char* symbol) {
  const Plugin& p = plugin();
  if (p.handle == nullptr)
    throw Error(p.error);
  void* address = ::dlsym(p.handle, symbol);
  if (address == nullptr)
    throw Error("the GPU plugin " + gpu_plugin_path() + " has no " + symbol +
                " (a plugin of another dojo version?)");
  return address;
}

bool gpu_plugin_loads() {
  return plugin().handle != nullptr;
}

}  // namespace dojo::collectives
