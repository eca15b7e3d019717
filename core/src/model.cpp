#include "onegrid/core/model.hpp"

#include <array>
#include <utility>

namespace onegrid::core {
namespace {

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view s) {
    for (const auto& [v, name] : table)
        if (name == s) return v;
    return std::nullopt;
}

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
    for (const auto& [e, name] : table)
        if (e == v) return name;
    return "unknown";
}

constexpr std::array<std::pair<Source, std::string_view>, 5> sources{{
    {Source::grid_worker, "grid_worker"},
    {Source::hotline, "hotline"},
    {Source::citizen, "citizen"},
    {Source::department, "department"},
    {Source::sensor, "sensor"},
}};

constexpr std::array<std::pair<Status, std::string_view>, 10> statuses{{
    {Status::reported, "reported"},
    {Status::registered, "registered"},
    {Status::voided, "voided"},
    {Status::dispatched, "dispatched"},
    {Status::accepted, "accepted"},
    {Status::returned, "returned"},
    {Status::handled, "handled"},
    {Status::rework, "rework"},
    {Status::closed, "closed"},
    {Status::rated, "rated"},
}};

constexpr std::array<std::pair<Status, std::string_view>, 10> statuses_zh{{
    {Status::reported, "上报"},
    {Status::registered, "立案"},
    {Status::voided, "作废"},
    {Status::dispatched, "派遣"},
    {Status::accepted, "接收"},
    {Status::returned, "退回"},
    {Status::handled, "处置"},
    {Status::rework, "返工"},
    {Status::closed, "结案"},
    {Status::rated, "已评价"},
}};

constexpr std::array<std::pair<Role, std::string_view>, 9> roles{{
    {Role::grid_worker, "grid_worker"},
    {Role::hotline_operator, "hotline_operator"},
    {Role::department_handler, "department_handler"},
    {Role::town_officer, "town_officer"},
    {Role::command_centre, "command_centre"},
    {Role::citizen, "citizen"},
    {Role::planner, "planner"},
    {Role::admin, "admin"},
    {Role::system, "system"},
}};

constexpr std::array<std::pair<Rating, std::string_view>, 3> ratings{{
    {Rating::satisfied, "satisfied"},
    {Rating::basically_satisfied, "basically_satisfied"},
    {Rating::unsatisfied, "unsatisfied"},
}};

constexpr std::array<std::pair<LayerKind, std::string_view>, 5> layer_kinds{{
    {LayerKind::district, "district"},
    {LayerKind::town, "town"},
    {LayerKind::community, "community"},
    {LayerKind::base, "base"},
    {LayerKind::business, "business"},
}};

}  // namespace

std::string_view to_string(Source v) noexcept { return name_of(sources, v); }
std::string_view to_string(Status v) noexcept { return name_of(statuses, v); }
std::string_view to_string(Role v) noexcept { return name_of(roles, v); }
std::string_view to_string(Rating v) noexcept { return name_of(ratings, v); }
std::string_view to_string(LayerKind v) noexcept { return name_of(layer_kinds, v); }
std::string_view label_zh(Status v) noexcept { return name_of(statuses_zh, v); }
std::optional<Source> parse_source(std::string_view s) noexcept { return lookup(sources, s); }
std::optional<Status> parse_status(std::string_view s) noexcept { return lookup(statuses, s); }
std::optional<Role> parse_role(std::string_view s) noexcept { return lookup(roles, s); }
std::optional<Rating> parse_rating(std::string_view s) noexcept { return lookup(ratings, s); }
std::optional<LayerKind> parse_layer_kind(std::string_view s) noexcept { return lookup(layer_kinds, s); }

bool is_open(Status v) noexcept { return v != Status::voided && v != Status::closed && v != Status::rated; }

}  // namespace onegrid::core
