#include "onegrid/core/routing.hpp"

#include <tuple>

namespace onegrid::core {
namespace {

// 0 = no match; higher = more specific.
int category_match(const RoutingRule& r, const std::string& category) {
    if (r.category.empty()) return 1;
    if (r.category == category) return 3;
    if (r.category.size() == 2 && category.rfind(r.category, 0) == 0) return 2;
    return 0;
}

int place_match(const RoutingRule& r, const Incident& i) {
    if (r.layer.empty()) return 1;
    if (r.layer == "base" || r.layer == "grids") return r.code == i.grid && !i.grid.empty() ? 6 : 0;
    if (r.layer == "community" || r.layer == "communities") return r.code == i.community && !i.community.empty() ? 4 : 0;
    if (r.layer == "town" || r.layer == "towns") return r.code == i.town && !i.town.empty() ? 3 : 0;
    for (const auto& b : i.business) {
        if (b.layer == r.layer) return b.code == r.code && !b.code.empty() ? 5 : 0;
    }
    return 0;
}

}  // namespace

RoutingTable::RoutingTable(std::vector<RoutingRule> rules) : m_rules(std::move(rules)) {}

std::optional<RouteDecision> RoutingTable::route(const Incident& incident) const {
    const RoutingRule* best = nullptr;
    std::tuple<int, int, int> best_key{-1, -1, -1};
    for (const auto& r : m_rules) {
        const int c = category_match(r, incident.category);
        if (c == 0) continue;
        const int p = place_match(r, incident);
        if (p == 0) continue;
        const std::tuple<int, int, int> key{r.priority, c, p};
        if (best == nullptr || key > best_key) {
            best = &r;
            best_key = key;
        }
    }
    if (best == nullptr) return std::nullopt;
    return RouteDecision{best->department, best->sub_unit, "rule:" + std::to_string(best->id)};
}

}  // namespace onegrid::core
