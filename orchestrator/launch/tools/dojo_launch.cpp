// dojo-launch: `dojo launch` without the training runtime and GPU libraries,
// so that starting a job loads nothing it does not use. scripts/dojorun runs it.
#include <iostream>
#include <string>
#include <vector>

#include "common/build_info.h"  // generated: version and commit only
#include "orchestrator/config/diagnostics.h"
#include "orchestrator/launch/launcher.h"

int main(int argc, char** argv) {
  try {
    const std::string version =
        std::string("dojo ") + dojo::kDojoVersion + " (git " + dojo::kDojoGitSha + ")";
    return dojo::launch::launch_main(std::vector<std::string>(argv + 1, argv + argc), version,
                                     std::cout, std::cerr);
  } catch (const dojo::config::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const dojo::UsageError& e) {
    std::cerr << "dojo launch: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "dojo launch: error: " << e.what() << "\n";
    return 1;
  }
}
