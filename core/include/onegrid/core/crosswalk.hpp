#pragma once
/// @file
/// The crosswalk (一网统筹): how each department's business grid relates to the base grid (the
/// records are in model.hpp).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "onegrid/core/geography.hpp"
#include "onegrid/core/store.hpp"

namespace onegrid::core {

inline constexpr double crosswalk_aligned_threshold = 0.95;

/// Computes the crosswalk of a business layer against the base grid (GEOS overlay in EPSG:4549).
[[nodiscard]] Crosswalk compute_crosswalk(const IndexedLayer& base, const IndexedLayer& business, Timestamp now);

/// The crosswalk of every business layer of `geography`: the stored one when it was computed from
/// the same layer versions, otherwise computed now and stored.
[[nodiscard]] std::map<std::string, std::shared_ptr<const Crosswalk>> current_crosswalks(Store& store, const Geography& geography,
                                                                                        Timestamp now);

}  // namespace onegrid::core
