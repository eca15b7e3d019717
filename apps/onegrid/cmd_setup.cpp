// onegrid setup: loads reference data (departments, categories, routing rules, calendar) from a
// JSON file into the store. The whole file is checked before anything is written.

#include <fstream>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "onegrid/core/spatialite_store.hpp"

namespace onegrid::cli {
namespace {

using nlohmann::json;

struct Reference {
    std::vector<core::Department> departments;
    std::vector<core::Category> categories;
    std::vector<core::RoutingRule> rules;
    std::vector<std::pair<core::CivilDate, bool>> days;
};

std::string text(const json& o, const char* key, const std::string& where, bool required = true) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) {
        if (required) throw std::runtime_error(where + ": '" + key + "' is missing");
        return "";
    }
    if (!it->is_string()) throw std::runtime_error(where + ": '" + key + "' must be a string");
    return it->get<std::string>();
}

Reference parse_reference(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    json doc;
    try {
        doc = json::parse(in);
    } catch (const json::parse_error& e) {
        throw std::runtime_error(path + ": not valid JSON: " + e.what());
    }
    if (!doc.is_object()) throw std::runtime_error(path + ": the top level must be an object");
    Reference r;
    std::set<std::string> departments;
    for (const auto& d : doc.value("departments", json::array())) {
        const std::string where = path + ": departments[" + std::to_string(r.departments.size()) + "]";
        core::Department dep{text(d, "code", where), text(d, "name", where), ""};
        if (!departments.insert(dep.code).second) throw std::runtime_error(where + ": department '" + dep.code + "' appears twice");
        r.departments.push_back(dep);
    }
    std::set<std::string> codes;
    for (const auto& c : doc.value("categories", json::array())) {
        const std::string where = path + ": categories[" + std::to_string(r.categories.size()) + "]";
        core::Category cat;
        cat.code = text(c, "code", where);
        if (cat.code.size() != 4 || cat.code.find_first_not_of("0123456789") != std::string::npos)
            throw std::runtime_error(where + ": code '" + cat.code + "' must be 4 digits (major + minor class)");
        if (!codes.insert(cat.code).second) throw std::runtime_error(where + ": category '" + cat.code + "' appears twice");
        cat.name = text(c, "name", where);
        cat.major_class = text(c, "major", where);
        cat.kind = text(c, "kind", where);
        if (cat.kind != "event" && cat.kind != "facility" && cat.kind != "social")
            throw std::runtime_error(where + ": kind must be event, facility or social");
        if (!c.contains("limit") || !c["limit"].is_number() || c["limit"].get<double>() <= 0)
            throw std::runtime_error(where + ": 'limit' must be a positive number");
        cat.limit = c["limit"].get<double>();
        const std::string unit = text(c, "unit", where);
        if (unit == "hours")
            cat.limit_unit = core::LimitUnit::hours;
        else if (unit == "workdays")
            cat.limit_unit = core::LimitUnit::workdays;
        else
            throw std::runtime_error(where + ": unit must be hours or workdays");
        r.categories.push_back(cat);
    }
    for (const auto& x : doc.value("routing", json::array())) {
        const std::string where = path + ": routing[" + std::to_string(r.rules.size()) + "]";
        core::RoutingRule rule;
        rule.category = text(x, "category", where, false);
        rule.layer = text(x, "layer", where, false);
        rule.code = text(x, "code", where, false);
        rule.department = text(x, "department", where);
        rule.sub_unit = text(x, "sub_unit", where, false);
        if (x.contains("priority")) {
            if (!x["priority"].is_number_integer()) throw std::runtime_error(where + ": 'priority' must be an integer");
            rule.priority = x["priority"].get<int>();
        }
        if (!rule.category.empty() && rule.category.size() != 2 && rule.category.size() != 4)
            throw std::runtime_error(where + ": category must be a 2-digit major class or a 4-digit code");
        if (!rule.code.empty() && rule.layer.empty()) throw std::runtime_error(where + ": 'code' needs 'layer'");
        r.rules.push_back(rule);
    }
    if (doc.contains("calendar")) {
        const auto& cal = doc["calendar"];
        for (const auto& [key, workday] : {std::pair{"holidays", false}, std::pair{"workdays", true}}) {
            for (const auto& d : cal.value(key, json::array())) {
                if (!d.is_string()) throw std::runtime_error(path + ": calendar." + key + " must list dates as strings");
                const auto date = core::parse_date(d.get<std::string>());
                if (!date) throw std::runtime_error(path + ": calendar." + key + ": '" + d.get<std::string>() + "' is not a date (YYYY-MM-DD)");
                r.days.emplace_back(*date, workday);
            }
        }
    }
    return r;
}

int run_setup(const std::vector<std::string>& args) {
    po::options_description opts("options");
    std::string db, reference;
    opts.add_options()("db", po::value(&db)->required(), "the OneGrid database (created if missing)")(
        "reference", po::value(&reference)->required(), "reference data file (see data/reference/penglai.json)");
    po::variables_map vm;
    if (!parse(args, opts, vm, "setup", "--db FILE --reference FILE")) return 0;
    const Reference r = parse_reference(reference);  // everything checked before anything is written
    core::SpatialiteOptions so;
    so.path = db;
    auto store = core::open_spatialite_store(so);
    std::set<std::string> known;
    for (const auto& d : r.departments) known.insert(d.code);
    for (const auto& d : store->departments()) known.insert(d.code);
    for (const auto& rule : r.rules)
        if (!known.contains(rule.department))
            std::cerr << "note: routing to department '" << rule.department
                      << "', not defined yet (a department plugin registers it when the server starts)\n";
    for (const auto& d : r.departments) store->put_department(d);
    for (const auto& c : r.categories) store->put_category(c);
    store->replace_routing_rules(r.rules);
    for (const auto& [date, workday] : r.days) store->put_calendar_day(date, workday);
    std::cout << "setup: " << r.departments.size() << " departments, " << r.categories.size() << " categories, "
              << r.rules.size() << " routing rules, " << r.days.size() << " calendar days\n";
    return 0;
}

}  // namespace

Command setup_command() {
    return {"setup", "load reference data: departments, categories, routing rules, calendar", run_setup};
}

}  // namespace onegrid::cli
