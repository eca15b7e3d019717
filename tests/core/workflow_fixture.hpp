#pragma once
// A small district for workflow tests: two towns of two grids each, a business layer that cuts
// across them, categories with limits in hours and in working days, departments, routing rules and
// a calendar with a holiday and a make-up working day. The clock is manual.

#include <memory>

#include "onegrid/core/spatialite_store.hpp"
#include "onegrid/core/workflow.hpp"
#include "store_fixtures.hpp"

namespace onegrid::test {

/// A valid 1×1 PNG.
inline std::vector<std::byte> png_bytes() {
    static const unsigned char png[] = {
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00,
        0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D,
        0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82};
    const auto* b = reinterpret_cast<const std::byte*>(png);
    return {b, b + sizeof png};
}

inline core::Photo photo(const std::string& name = "evidence.png") {
    core::Photo p;
    p.bytes = png_bytes();
    // Make each photo distinct so that content addressing does not merge them.
    static int counter = 0;
    const std::string tail = "tEXt" + std::to_string(++counter);
    for (char c : tail) p.bytes.push_back(static_cast<std::byte>(c));
    p.filename = name;
    return p;
}

// 2026-03-02 is a Monday.
inline core::Timestamp at(const char* iso) { return *core::parse_iso8601(iso); }

class WorkflowWorld {
public:
    static constexpr double x0 = 120.70;
    static constexpr double y0 = 37.70;
    static constexpr double d = 0.01;

    explicit WorkflowWorld(const std::string& name)
        : dir(name), clock(at("2026-03-02T09:00:00+08:00")) {
        core::SpatialiteOptions o;
        o.path = dir / "onegrid.db";
        store = core::open_spatialite_store(o);
        // Towns 370614001 (west) and 370614002 (east), each with two grids stacked north–south.
        store->put_layer({"grids", core::LayerKind::base, "基础网格", "", ""});
        std::vector<core::LayerFeature> grids;
        auto square = [](const std::string& code, double x, double y) {
            core::LayerFeature f;
            f.code = code;
            f.name = code;
            f.parent = code.substr(0, 12);
            f.properties["town_code"] = code.substr(0, 9);
            f.geometry = {{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}}, {}}};
            return f;
        };
        grids.push_back(square("370614001001001", x0, y0 + d));
        grids.push_back(square("370614001001002", x0, y0));
        grids.push_back(square("370614002001001", x0 + d, y0 + d));
        grids.push_back(square("370614002001002", x0 + d, y0));
        store->publish_version("grids", grids, at("2026-01-01T00:00:00+08:00"), "test");
        // A police beat layer: one beat for the northern half, one for the southern.
        store->put_layer({"policing.beats", core::LayerKind::business, "警务网格", "police", "policing"});
        core::LayerFeature north;
        north.code = "PB-N";
        north.geometry = {{{{x0, y0 + d}, {x0 + 2 * d, y0 + d}, {x0 + 2 * d, y0 + 2 * d}, {x0, y0 + 2 * d}}, {}}};
        core::LayerFeature south;
        south.code = "PB-S";
        south.geometry = {{{{x0, y0}, {x0 + 2 * d, y0}, {x0 + 2 * d, y0 + d}, {x0, y0 + d}}, {}}};
        store->publish_version("policing.beats", {north, south}, at("2026-01-01T00:00:00+08:00"), "test");

        store->put_department({"cgj", "城市管理局", ""});
        store->put_department({"police", "公安分局", ""});
        store->put_department({"sw", "水务局", ""});
        store->put_category({"0101", "路灯损坏", "公用设施", "facility", 2, core::LimitUnit::workdays, ""});
        store->put_category({"0203", "公交站亭", "道路交通", "facility", 48, core::LimitUnit::hours, ""});
        store->put_category({"1101", "治安隐患", "公共安全", "social", 4, core::LimitUnit::hours, ""});
        store->put_category({"0401", "供水管道", "公用设施", "facility", 10, core::LimitUnit::hours, ""});
        store->replace_routing_rules({
            {0, "01", "", "", "cgj", "", 0},                       // street lights: city management
            {0, "0203", "", "", "cgj", "", 0},
            {0, "11", "policing.beats", "PB-N", "police", "北站派出所", 1},
            {0, "11", "policing.beats", "PB-S", "police", "南站派出所", 1},
            {0, "0401", "town", "370614002", "sw", "", 0},        // water only in the east town
        });
        // Qingming 2026: 4–6 April off (Sat–Mon); no make-up day. A made-up example of 调休:
        // Sunday 2026-03-08 is worked, Friday 2026-03-13 is off.
        store->put_calendar_day({2026, 4, 6}, false);
        store->put_calendar_day({2026, 3, 8}, true);
        store->put_calendar_day({2026, 3, 13}, false);
        geography.load_current(*store, clock.now());
        workflow = std::make_unique<core::Workflow>(*store, clock, geography);
    }

    // Points inside each grid.
    static spatial::Point in_grid(int town, int grid) {  // town 1/2, grid 1 (north) / 2 (south)
        return {x0 + (town - 1) * d + d / 2, y0 + (grid == 1 ? d : 0) + d / 2};
    }
    static std::string grid_code(int town, int grid) {
        return "37061400" + std::to_string(town) + "00100" + std::to_string(grid);
    }

    core::Actor grid_worker(int town, int grid) { return {"gw" + grid_code(town, grid), core::Role::grid_worker, "", "", grid_code(town, grid)}; }
    core::Actor operator_() { return {"op1", core::Role::hotline_operator, "", "", ""}; }
    core::Actor centre() { return {"cc1", core::Role::command_centre, "", "", ""}; }
    core::Actor handler(const std::string& dep) { return {"h-" + dep, core::Role::department_handler, dep, "", ""}; }
    core::Actor town_officer(int town) { return {"t" + std::to_string(town), core::Role::town_officer, "", "37061400" + std::to_string(town), ""}; }
    core::Actor citizen(const std::string& id) { return {id, core::Role::citizen, "", "", ""}; }

    core::IntakeOutcome report(const std::string& category, spatial::Point p, const core::Actor& who,
                               core::Source source = core::Source::grid_worker, const std::string& request = "") {
        core::IntakeRequest r;
        r.request_id = request;
        r.source = source;
        r.category = category;
        r.description = "test report";
        r.point = p;
        r.crs = spatial::InputCrs::cgcs2000;
        r.actor = who;
        r.reporter.id = who.id;
        return workflow->intake(r);
    }

    core::ActionInput with_photo(const std::string& note = "") {
        core::ActionInput in;
        in.note = note;
        in.photos.push_back(photo());
        return in;
    }

    TempDir dir;
    core::ManualClock clock;
    std::unique_ptr<core::Store> store;
    core::GeographyHolder geography;
    std::unique_ptr<core::Workflow> workflow;
};

}  // namespace onegrid::test
