#include "collectives/error.h"

namespace dojo::collectives {
namespace {

std::string describe(const CollectiveContext& c, const std::string& reason) {
  std::string text = c.op.empty() ? std::string("collective") : c.op;
  if (c.seq != 0)
    text += " #" + std::to_string(c.seq);
  if (c.bytes != 0)
    text += " (" + std::to_string(c.bytes) + " bytes)";
  text += " failed on rank " + (c.rank >= 0 ? std::to_string(c.rank) : std::string("?"));
  text += " host " + (c.host.empty() ? std::string("?") : c.host);
  if (!c.file.empty())
    text += " at " + c.file + ":" + std::to_string(c.line);
  return text + ": " + reason;
}

}  // namespace

CollectiveError::CollectiveError(CollectiveContext context, const std::string& reason)
    : Error(describe(context, reason)), context_(std::move(context)) {}

}  // namespace dojo::collectives
