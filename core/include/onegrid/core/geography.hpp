#pragma once
/// @file
/// The grids a report is assigned to: the base grid and every business layer, as immutable
/// indexes built once per published version and swapped atomically when a new version is
/// published.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "onegrid/core/model.hpp"
#include "onegrid/core/store.hpp"
#include "onegrid/spatial/grid_index.hpp"

namespace onegrid::core {

struct IndexedLayer {
    LayerInfo info;
    int version = 0;
    spatial::GridIndex index;
};

/// One consistent set of layer versions.
struct Geography {
    std::shared_ptr<const IndexedLayer> base;  ///< may be null before any grid is imported
    std::vector<std::shared_ptr<const IndexedLayer>> business;

    /// Assignment of one EPSG:4490 point: base grid (with community, town), or outside with the
    /// distance to the nearest grid; the business unit in each business layer.
    struct Placement {
        bool outside = true;
        std::string grid;
        int grid_version = 0;
        std::string community;
        std::string town;
        double distance_m = 0.0;
        std::string nearest_grid;
        std::vector<GridAssignment> business;
    };
    [[nodiscard]] Placement place(spatial::Point p) const;
};

/// Builds an index of one layer version from the store (GridUnits from features: code, name, parent).
[[nodiscard]] std::shared_ptr<const IndexedLayer> load_layer(Store& store, const LayerInfo& info, int version);
/// Builds an index of features held in memory (e.g. a draft, to preview a publish).
[[nodiscard]] std::shared_ptr<const IndexedLayer> build_layer(const LayerInfo& info, int version, std::vector<LayerFeature> features);

/// The current geography, shared by all threads; readers take a snapshot, publishers replace it.
class GeographyHolder {
public:
    [[nodiscard]] std::shared_ptr<const Geography> get() const { return std::atomic_load(&m_current); }
    void set(std::shared_ptr<const Geography> g) { std::atomic_store(&m_current, std::move(g)); }
    /// Loads the version in force at `now` of the base grid and of every business layer.
    void load_current(Store& store, Timestamp now);
    /// Replaces one layer (after a publish) and keeps the rest.
    void replace_layer(std::shared_ptr<const IndexedLayer> layer);

private:
    std::shared_ptr<const Geography> m_current = std::make_shared<Geography>();
};

}  // namespace onegrid::core
