#include "onegrid/core/geography.hpp"

namespace onegrid::core {

Geography::Placement Geography::place(spatial::Point p) const {
    Placement out;
    if (base) {
        const auto a = base->index.assign(p);
        out.grid_version = base->version;
        if (a.status == spatial::GridIndex::Status::inside) {
            const auto& u = base->index.unit(a.grid);
            out.outside = false;
            out.grid = u.code;
            out.community = u.community;
            out.town = u.town;
        } else if (a.grid != spatial::GridIndex::outside) {
            out.distance_m = a.distance_m;
            out.nearest_grid = base->index.unit(a.grid).code;
        }
    }
    for (const auto& layer : business) {
        GridAssignment g;
        g.layer = layer->info.id;
        g.version = layer->version;
        const auto i = layer->index.locate(p.x, p.y);
        if (i != spatial::GridIndex::outside) g.code = layer->index.unit(i).code;
        out.business.push_back(std::move(g));
    }
    return out;
}

std::shared_ptr<const IndexedLayer> load_layer(Store& store, const LayerInfo& info, int version) {
    return build_layer(info, version, store.features(info.id, version));
}

std::shared_ptr<const IndexedLayer> build_layer(const LayerInfo& info, int version, std::vector<LayerFeature> features) {
    std::vector<spatial::GridUnit> units;
    std::vector<spatial::MultiPolygon> geoms;
    units.reserve(features.size());
    geoms.reserve(features.size());
    for (auto& f : features) {
        spatial::GridUnit u;
        u.code = f.code;
        u.name = f.name;
        if (info.kind == LayerKind::base) {
            u.community = !f.parent.empty() ? f.parent : (f.code.size() >= 12 ? f.code.substr(0, 12) : "");
            u.town = f.properties.count("town_code") ? f.properties.at("town_code")
                                                     : (f.code.size() >= 9 ? f.code.substr(0, 9) : "");
            u.district = f.code.size() >= 6 ? f.code.substr(0, 6) : "";
            if (auto it = f.properties.find("community"); it != f.properties.end()) u.community_name = it->second;
            if (auto it = f.properties.find("town"); it != f.properties.end()) u.town_name = it->second;
        }
        units.push_back(std::move(u));
        geoms.push_back(std::move(f.geometry));
    }
    auto layer = std::make_shared<IndexedLayer>();
    layer->info = info;
    layer->version = version;
    layer->index = spatial::GridIndex::build(std::move(units), std::move(geoms));
    return layer;
}

void GeographyHolder::load_current(Store& store, Timestamp now) {
    auto g = std::make_shared<Geography>();
    for (const auto& info : store.layers()) {
        if (info.kind != LayerKind::base && info.kind != LayerKind::business) continue;
        const auto version = store.version_at(info.id, now);
        if (!version) continue;
        auto layer = load_layer(store, info, version->version);
        if (info.kind == LayerKind::base) {
            g->base = std::move(layer);
        } else {
            g->business.push_back(std::move(layer));
        }
    }
    set(std::move(g));
}

void GeographyHolder::replace_layer(std::shared_ptr<const IndexedLayer> layer) {
    auto g = std::make_shared<Geography>(*get());
    if (layer->info.kind == LayerKind::base) {
        g->base = std::move(layer);
    } else {
        bool found = false;
        for (auto& b : g->business) {
            if (b->info.id == layer->info.id) {
                b = layer;
                found = true;
            }
        }
        if (!found) g->business.push_back(std::move(layer));
    }
    set(std::move(g));
}

}  // namespace onegrid::core
