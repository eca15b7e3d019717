#pragma once
/// @file
/// The crosswalk (一网统筹): how each department's business grid relates to the base grid (the
/// records are in model.hpp).

#include <string>
#include <vector>

#include "onegrid/core/geography.hpp"

namespace onegrid::core {

inline constexpr double crosswalk_aligned_threshold = 0.95;

/// Computes the crosswalk of a business layer against the base grid (GEOS overlay in EPSG:4549).
[[nodiscard]] Crosswalk compute_crosswalk(const IndexedLayer& base, const IndexedLayer& business, Timestamp now);

}  // namespace onegrid::core
