// The MVT layer encoder, decoded back with protozero: key and value tables (deduplicated, one
// entry per distinct value whatever way it was given), features with ids, tags and geometry, and
// the two ways of giving properties producing the same bytes.

#include <gtest/gtest.h>

#include <protozero/pbf_reader.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "onegrid/spatial/mvt.hpp"

using namespace onegrid::spatial;

namespace {

struct Feature {
    std::uint64_t id = 0;
    std::vector<std::uint32_t> tags;
    int type = 0;
    std::vector<std::uint32_t> geometry;
};

struct Layer {
    std::uint32_t version = 0;
    std::string name;
    std::uint32_t extent = 0;
    std::vector<std::string> keys;
    std::vector<MvtValue> values;
    std::vector<Feature> features;

    // The properties of feature i, by key.
    std::map<std::string, MvtValue> properties(std::size_t i) const {
        std::map<std::string, MvtValue> out;
        const auto& t = features.at(i).tags;
        for (std::size_t k = 0; k + 1 < t.size(); k += 2) out[keys.at(t[k])] = values.at(t[k + 1]);
        return out;
    }
};

MvtValue decode_value(protozero::pbf_reader v) {
    MvtValue out;
    int fields = 0;
    while (v.next()) {
        ++fields;
        switch (v.tag()) {
        case 1: out = v.get_string(); break;
        case 3: out = v.get_double(); break;
        case 5: out = static_cast<std::int64_t>(v.get_uint64()); break;
        case 6: out = v.get_sint64(); break;
        case 7: out = v.get_bool(); break;
        default: ADD_FAILURE() << "unexpected Value field " << v.tag(); v.skip();
        }
    }
    EXPECT_EQ(fields, 1) << "a Value holds exactly one field";
    return out;
}

Layer decode(const std::string& bytes) {
    Layer l;
    protozero::pbf_reader r(bytes);
    while (r.next()) {
        switch (r.tag()) {
        case 15: l.version = r.get_uint32(); break;
        case 1: l.name = r.get_string(); break;
        case 3: l.keys.push_back(r.get_string()); break;
        case 4: l.values.push_back(decode_value(r.get_message())); break;
        case 5: l.extent = r.get_uint32(); break;
        case 2: {
            Feature f;
            protozero::pbf_reader fr = r.get_message();
            while (fr.next()) {
                switch (fr.tag()) {
                case 1: f.id = fr.get_uint64(); break;
                case 2: for (auto v : fr.get_packed_uint32()) f.tags.push_back(v); break;
                case 3: f.type = fr.get_enum(); break;
                case 4: for (auto v : fr.get_packed_uint32()) f.geometry.push_back(v); break;
                default: fr.skip();
                }
            }
            l.features.push_back(f);
            break;
        }
        default: r.skip();
        }
    }
    return l;
}

const TileId tile{14, 13689, 6334};

Point centre_of(TileId t) {
    const Box b = tile_bounds(t);
    return {(b.minx + b.maxx) / 2, (b.miny + b.maxy) / 2};
}

}  // namespace

TEST(Mvt, LayerHeaderAndPointGeometry) {
    MvtLayer layer("incidents", tile);
    ASSERT_TRUE(layer.add_point(7, centre_of(tile), MvtProperties{{"category", std::string("0101")}}));
    const Layer l = decode(layer.finish());
    EXPECT_EQ(l.version, 2u);
    EXPECT_EQ(l.name, "incidents");
    EXPECT_EQ(l.extent, 4096u);
    ASSERT_EQ(l.features.size(), 1u);
    EXPECT_EQ(l.features[0].id, 7u);
    EXPECT_EQ(l.features[0].type, 1);  // POINT
    ASSERT_EQ(l.features[0].geometry.size(), 3u);
    EXPECT_EQ(l.features[0].geometry[0], 9u);  // MoveTo, count 1
    // The centre of the tile is at (2048, 2048) within a pixel; zigzag(2048) = 4096.
    EXPECT_NEAR(l.features[0].geometry[1], 4096u, 2u);
    EXPECT_NEAR(l.features[0].geometry[2], 4096u, 2u);
}

TEST(Mvt, PointsOutsideTheTileAreLeftOut) {
    MvtLayer layer("incidents", tile);
    const Box b = tile_bounds(tile);
    EXPECT_FALSE(layer.add_point(1, {b.maxx + b.width() * 0.01, b.miny + b.height() / 2}, MvtProperties{}));
    EXPECT_FALSE(layer.add_point(2, {b.minx + b.width() / 2, b.maxy + b.height() * 0.01}, MvtProperties{}));
    EXPECT_EQ(layer.size(), 0u);
    EXPECT_TRUE(mvt_tile({layer}).empty()) << "an empty layer is left out of the tile";
}

TEST(Mvt, ValuesAreDeduplicatedAcrossTypesAndFeatures) {
    MvtLayer layer("incidents", tile);
    const Point p = centre_of(tile);
    for (std::int64_t id = 1; id <= 3; ++id) {
        ASSERT_TRUE(layer.add_point(static_cast<std::uint64_t>(id), p,
                                    MvtProperties{{"id", id},
                                                  {"category", std::string("0101")},
                                                  {"overdue", id == 2},
                                                  {"escalation_level", std::int64_t{1}},
                                                  {"offset", std::int64_t{-id}},
                                                  {"share", 0.5}}));
    }
    const Layer l = decode(layer.finish());
    EXPECT_EQ(l.keys, (std::vector<std::string>{"id", "category", "overdue", "escalation_level", "offset", "share"}));
    // ids 1, 2, 3 (the escalation level 1 is the same value as id 1), "0101", false, true,
    // -1, -2, -3 (id 1's negative: a different value), 0.5.
    EXPECT_EQ(l.values.size(), 10u);
    ASSERT_EQ(l.features.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto props = l.properties(i);
        const auto id = static_cast<std::int64_t>(i + 1);
        EXPECT_EQ(std::get<std::int64_t>(props.at("id")), id);
        EXPECT_EQ(std::get<std::string>(props.at("category")), "0101");
        EXPECT_EQ(std::get<bool>(props.at("overdue")), i == 1);
        EXPECT_EQ(std::get<std::int64_t>(props.at("escalation_level")), 1);
        EXPECT_EQ(std::get<std::int64_t>(props.at("offset")), -id);
        EXPECT_EQ(std::get<double>(props.at("share")), 0.5);
    }
}

TEST(Mvt, ResolvedTagsGiveTheSameBytesAsProperties) {
    MvtLayer a("incidents", tile);
    MvtLayer b("incidents", tile);
    const Box box = tile_bounds(tile);
    for (int i = 0; i < 500; ++i) {
        const Point p{box.minx + box.width() * ((i * 37) % 100 + 0.5) / 100, box.miny + box.height() * ((i * 61) % 100 + 0.5) / 100};
        const std::string category = "010" + std::to_string(i % 7);
        const auto id = static_cast<std::int64_t>(1000 + i);
        a.add_point(static_cast<std::uint64_t>(id), p,
                    MvtProperties{{"id", id}, {"category", category}, {"overdue", i % 3 == 0}, {"weight", i * 0.25}});
        const std::uint32_t tags[] = {b.key("id"),      b.value(id),         b.key("category"), b.value(std::string_view(category)),
                                      b.key("overdue"), b.value(i % 3 == 0), b.key("weight"),   b.value(i * 0.25)};
        b.add_point(static_cast<std::uint64_t>(id), p, tags);
    }
    EXPECT_EQ(a.size(), 500u);
    EXPECT_EQ(a.finish(), b.finish());
}

TEST(Mvt, ThousandsOfDistinctIntegersKeepTheirValues) {
    // Feature ids as a property: every one distinct, well past the value table's first growths.
    MvtLayer layer("incidents", tile);
    const Point p = centre_of(tile);
    const std::uint32_t k = layer.key("id");
    for (std::int64_t id = 0; id < 20000; ++id) {
        const std::int64_t v = (id % 2 == 0 ? id : -id) * 4096;  // multiples of a power of two hash worst
        const std::uint32_t tags[] = {k, layer.value(v)};
        ASSERT_TRUE(layer.add_point(static_cast<std::uint64_t>(id), p, tags));
    }
    EXPECT_EQ(layer.value(std::int64_t{4096 * 2}), layer.value(std::int64_t{4096 * 2})) << "found again, not added";
    const Layer l = decode(layer.finish());
    ASSERT_EQ(l.features.size(), 20000u);
    EXPECT_EQ(l.values.size(), 20000u);
    for (std::size_t i = 0; i < l.features.size(); i += 997) {
        const auto id = static_cast<std::int64_t>(i);
        EXPECT_EQ(std::get<std::int64_t>(l.properties(i).at("id")), (id % 2 == 0 ? id : -id) * 4096);
    }
}

TEST(Mvt, PolygonsAreClippedAndWoundClockwiseOnScreen) {
    // A square larger than the tile, given counter-clockwise on screen (clockwise in lon/lat as
    // the y axes point opposite ways): clipped to the tile plus the buffer, exterior ring positive.
    const Box b = tile_bounds(tile);
    const double mx = b.width(), my = b.height();
    Ring shell = {{b.minx - mx, b.miny - my}, {b.minx - mx, b.maxy + my}, {b.maxx + mx, b.maxy + my}, {b.maxx + mx, b.miny - my},
                  {b.minx - mx, b.miny - my}};
    MultiPolygon mp = {Polygon{shell, {}}};
    MvtLayer layer("grids", tile);
    ASSERT_TRUE(layer.add_polygon(1, mp, MvtProperties{{"code", std::string("370614001001001")}}));
    const Layer l = decode(layer.finish());
    ASSERT_EQ(l.features.size(), 1u);
    EXPECT_EQ(l.features[0].type, 3);
    // Decode the ring: MoveTo 1, LineTo n, ClosePath.
    const auto& g = l.features[0].geometry;
    ASSERT_GE(g.size(), 3u + 1 + 6 + 1);
    auto unzig = [](std::uint32_t v) { return static_cast<std::int32_t>((v >> 1) ^ (~(v & 1) + 1)); };
    std::vector<std::pair<std::int64_t, std::int64_t>> ring;
    std::int64_t x = unzig(g[1]), y = unzig(g[2]);
    ring.emplace_back(x, y);
    const std::uint32_t n = g[3] >> 3;
    for (std::uint32_t i = 0; i < n; ++i) {
        x += unzig(g[4 + 2 * i]);
        y += unzig(g[5 + 2 * i]);
        ring.emplace_back(x, y);
    }
    EXPECT_EQ(g.back(), 15u);  // ClosePath, count 1
    std::int64_t area2 = 0;
    for (std::size_t i = 0; i < ring.size(); ++i) {
        const auto& p = ring[i];
        const auto& q = ring[(i + 1) % ring.size()];
        area2 += p.first * q.second - q.first * p.second;
    }
    EXPECT_GT(area2, 0) << "exterior rings have positive area in tile coordinates";
    for (const auto& [px, py] : ring) {
        EXPECT_GE(px, -80);
        EXPECT_LE(px, 4096 + 80);
        EXPECT_GE(py, -80);
        EXPECT_LE(py, 4096 + 80);
    }
}
