#pragma once
/// @file
/// Routing: which department must act on an incident. Plugins decide first for the categories
/// they handle (through their routing callback); then the rules table; without a match the
/// incident stays with the district command centre.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "onegrid/core/model.hpp"

namespace onegrid::core {

struct RouteDecision {
    std::string department;
    std::string sub_unit;  ///< e.g. the police station
    std::string decided_by;  ///< `plugin:<id>`, `rule:<id>` or `command_centre`
};

/// A routing callback offered by a plugin. Implementations contain their own failures: they
/// return nullopt to decline and report errors through `error`.
class RoutingHook {
public:
    virtual ~RoutingHook() = default;
    [[nodiscard]] virtual std::string name() const = 0;
    /// Decides for an incident already placed on the map (grid, town, business grids filled).
    [[nodiscard]] virtual std::optional<RouteDecision> route(const Incident& incident, std::string& error) = 0;
};

/// The rules table, evaluated in memory.
class RoutingTable {
public:
    RoutingTable() = default;
    explicit RoutingTable(std::vector<RoutingRule> rules);
    /// The best matching rule: highest priority, then the most specific category (a full code
    /// beats a major class beats any) and place (a grid beats a business unit beats a
    /// community beats a town beats anywhere).
    [[nodiscard]] std::optional<RouteDecision> route(const Incident& incident) const;
    [[nodiscard]] const std::vector<RoutingRule>& rules() const noexcept { return m_rules; }

private:
    std::vector<RoutingRule> m_rules;
};

}  // namespace onegrid::core
