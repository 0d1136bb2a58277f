// MakeFigure: a report Figure (bench/support/report.h) in one expression, for the scale
// benchmarks' many figures.
#pragma once

#include <optional>
#include <string>

#include "bench/support/report.h"

namespace spinel::bench {

inline Figure MakeFigure(std::string name, double value, std::string unit,
                         const nlohmann::json& params, std::string goal = "",
                         std::optional<double> limit = std::nullopt) {
  Figure figure;
  figure.name = std::move(name);
  figure.value = value;
  figure.unit = std::move(unit);
  figure.limit = limit;
  figure.goal = std::move(goal);
  figure.params = params;
  return figure;
}

}  // namespace spinel::bench
