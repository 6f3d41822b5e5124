#pragma once
// The words of the capacity report, shared by the table and the page.

#include <optional>
#include <string>

#include "orchestrator/capacity/capacity.h"

namespace dojo::capacity::words {

/// "35,004 H100e"
std::string h100e(double value);
/// A ratio as a percentage ("97.2 %"), or "n/a".
std::string percent(std::optional<double> ratio, const char* format = "%.1f %%");
/// "16 days late", "3 days early", "on the day".
std::string slip_text(double days);
/// "85,000 H100e by 2024-12-31: expected 2024-12-22 (9 days early, by committed deliveries)"
std::string next_milestone_text(const Report& r);
/// The H100e a day the next milestone needs, or what is due after the plan.
std::string needed_text(const Report& r);
/// When the final target is (or was) reached.
std::string forecast_text(const Report& r);

}  // namespace dojo::capacity::words
