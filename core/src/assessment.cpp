#include "onegrid/core/assessment.hpp"

#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace onegrid::core {
namespace {

std::string known_kinds() {
    std::string s;
    for (UnitKind k : all_unit_kinds) s += (s.empty() ? "" : ", ") + std::string(to_string(k));
    return s;
}

std::string known_rates() {
    std::string s;
    for (RateId r : all_rates) s += (s.empty() ? "" : ", ") + std::string(to_string(r));
    return s;
}

std::string number_text(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

double round2(double v) { return std::round(v * 100.0) / 100.0; }

// ---- the report's columns ----------------------------------------------------------------------

struct CountColumn {
    const char* header;
    std::int64_t Counts::*field;
};
constexpr CountColumn count_columns[] = {
    {"上报数", &Counts::reported},
    {"立案数", &Counts::registered},
    {"作废数", &Counts::voided},
    {"派遣数", &Counts::dispatched},
    {"处置数", &Counts::handled},
    {"按期处置数", &Counts::handled_in_time},
    {"返工数", &Counts::reworked},
    {"应结案数", &Counts::due},
    {"结案数", &Counts::closed},
    {"按期结案数", &Counts::closed_in_time},
    {"超期数", &Counts::overdue},
    {"自行处置数", &Counts::self_handled},
    {"评价数", &Counts::rated},
    {"满意数", &Counts::satisfied},
    {"基本满意数", &Counts::basically_satisfied},
    {"不满意数", &Counts::unsatisfied},
};

// One cell of a report row: text, a number (written with two decimals in CSV), or empty.
struct Cell {
    enum class Kind { text, integer, decimal, empty } kind = Kind::empty;
    std::string text;
    double number = 0;
};

std::vector<std::string> headers() {
    std::vector<std::string> h = {"单位类型", "期间", "单位代码", "单位名称"};
    for (const auto& c : count_columns) h.emplace_back(c.header);
    for (RateId r : all_rates) h.push_back(std::string(label_zh(r)) + "(%)");
    h.emplace_back("平均处置时长(小时)");
    for (RateId r : all_rates) h.push_back(std::string(label_zh(r)) + "得分");
    h.insert(h.end(), {"综合得分", "等级", "排名"});
    return h;
}

std::vector<Cell> row_of(const Assessment& a, const AssessedUnit& u) {
    using K = Cell::Kind;
    auto text = [](std::string s) { return Cell{K::text, std::move(s), 0}; };
    auto integer = [](std::int64_t v) { return Cell{K::integer, "", static_cast<double>(v)}; };
    auto decimal = [](std::optional<double> v) { return v ? Cell{K::decimal, "", round2(*v)} : Cell{}; };
    std::vector<Cell> row = {text(std::string(label_zh(a.kind))), text(a.period.label), text(u.unit.code), text(u.unit.name)};
    for (const auto& c : count_columns) row.push_back(integer(u.counts.*c.field));
    for (RateId r : all_rates) {
        const auto v = rate(u.counts, r).value();
        row.push_back(decimal(v ? std::optional<double>(*v * 100.0) : std::nullopt));
    }
    row.push_back(decimal(mean_handling_hours(u.counts)));
    for (std::size_t k = 0; k < all_rates.size(); ++k) row.push_back(decimal(u.rate_scores[k]));
    row.push_back(decimal(u.score));
    row.push_back(u.grade != 0 ? text(std::string(1, u.grade)) : Cell{});
    row.push_back(u.rank > 0 ? integer(u.rank) : Cell{});
    return row;
}

std::string csv_field(const Cell& c) {
    char buf[64];
    switch (c.kind) {
        case Cell::Kind::empty: return {};
        case Cell::Kind::integer: std::snprintf(buf, sizeof buf, "%.0f", c.number); return buf;
        case Cell::Kind::decimal: std::snprintf(buf, sizeof buf, "%.2f", c.number); return buf;
        case Cell::Kind::text: break;
    }
    if (c.text.find_first_of(",\"\r\n") == std::string::npos) return c.text;
    std::string q = "\"";
    for (char ch : c.text) {
        if (ch == '"') q += '"';
        q += ch;
    }
    return q + "\"";
}

// A sheet name Excel accepts: at most 31 characters, none of []:*?/\, unique in the workbook.
std::string sheet_name(const Assessment& a, std::vector<std::string>& used) {
    std::string base = std::string(label_zh(a.kind)) + " " + a.period.label;
    for (char& ch : base)
        if (std::strchr("[]:*?/\\", ch) != nullptr) ch = '~';
    auto chars = [](const std::string& s) {
        std::size_t n = 0;
        for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
        return n;
    };
    auto cut = [&](std::string s, std::size_t max) {
        while (chars(s) > max) {
            s.pop_back();
            while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
            if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0xC0) s.pop_back();
        }
        return s;
    };
    std::string name = cut(base, 31);
    for (int n = 2; std::find(used.begin(), used.end(), name) != used.end(); ++n) {
        const std::string suffix = " (" + std::to_string(n) + ")";
        name = cut(base, 31 - suffix.size()) + suffix;
    }
    used.push_back(name);
    return name;
}

std::atomic<unsigned> temp_counter{0};

}  // namespace

// ---- configuration -----------------------------------------------------------------------------

AssessmentConfig AssessmentConfig::load(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw assessment_config_error("cannot read assessment weights '" + file.string() + "': " + std::strerror(errno));
    }
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), file.string());
}

AssessmentConfig AssessmentConfig::parse(std::string_view json, std::string_view source) {
    const std::string where(source);
    auto fail = [&](const std::string& what) { throw assessment_config_error(where + ": " + what); };
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json);
    } catch (const nlohmann::json::parse_error& e) {
        fail(std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object()) fail("must be a JSON object with 'weights'");
    for (const auto& [key, value] : j.items()) {
        if (key != "weights" && key != "about") fail("unknown key '" + key + "' (expected 'weights' and optionally 'about')");
    }
    const auto w = j.find("weights");
    if (w == j.end() || !w->is_object()) fail("has no 'weights' object (one weight set per unit kind: " + known_kinds() + ")");
    for (const auto& [key, value] : w->items()) {
        if (!parse_unit_kind(key)) fail("unknown unit kind '" + key + "' in 'weights' (known: " + known_kinds() + ")");
    }
    AssessmentConfig config;
    for (UnitKind kind : all_unit_kinds) {
        const std::string name(to_string(kind));
        const auto set = w->find(name);
        if (set == w->end()) fail("no weights for unit kind '" + name + "' (every kind needs a set: " + known_kinds() + ")");
        if (!set->is_object() || set->empty()) fail("weights." + name + " must be an object of rate weights (" + known_rates() + ")");
        RateWeights weights{};
        double sum = 0;
        for (const auto& [rate_name, value] : set->items()) {
            const std::string path = "weights." + name + "." + rate_name;
            const auto r = parse_rate_id(rate_name);
            if (!r) fail("unknown rate '" + rate_name + "' in weights." + name + " (known: " + known_rates() + ")");
            if (!value.is_number()) fail(path + " is not a number");
            const double v = value.get<double>();
            if (!std::isfinite(v)) fail(path + " is not a finite number");
            if (v < 0) fail(path + " is negative (" + number_text(v) + "); weights must be 0 or more");
            weights[static_cast<std::size_t>(*r)] = v;
            sum += v;
        }
        if (std::abs(sum - 1.0) > 1e-6) fail("the weights of '" + name + "' sum to " + number_text(sum) + "; they must sum to 1");
        config.m_weights[static_cast<std::size_t>(kind)] = weights;
    }
    return config;
}

// ---- scores ------------------------------------------------------------------------------------

double rate_score(RateId r, double value) noexcept { return r == RateId::rework ? (1.0 - value) * 100.0 : value * 100.0; }

char grade_of(double score) noexcept {
    if (score >= 90) return 'A';
    if (score >= 75) return 'B';
    if (score >= 60) return 'C';
    if (score >= 40) return 'D';
    return 'E';
}

Assessment assess(const IndicatorTable& table, std::size_t period, const AssessmentConfig& config) {
    if (period >= table.periods.size()) {
        throw indicator_error("period " + std::to_string(period) + " is out of range: the table has " +
                              std::to_string(table.periods.size()) + " periods");
    }
    Assessment a;
    a.kind = table.kind;
    a.period = table.periods[period];
    a.as_of = table.as_of;
    a.weights = config.weights(table.kind);
    a.units.reserve(table.units.size());
    for (std::size_t u = 0; u < table.units.size(); ++u) {
        AssessedUnit x;
        x.unit = table.units[u];
        x.counts = table.at(u, period);
        double weighted = 0;
        double weight = 0;
        for (std::size_t k = 0; k < all_rates.size(); ++k) {
            const auto v = rate(x.counts, all_rates[k]).value();
            if (!v) continue;
            x.rate_scores[k] = rate_score(all_rates[k], *v);
            weighted += a.weights[k] * *x.rate_scores[k];
            weight += a.weights[k];
        }
        if (weight > 0) {
            x.score = round2(weighted / weight);
            x.grade = grade_of(*x.score);
        }
        a.units.push_back(std::move(x));
    }
    std::sort(a.units.begin(), a.units.end(), [](const AssessedUnit& l, const AssessedUnit& r) {
        if (l.score.has_value() != r.score.has_value()) return l.score.has_value();
        if (l.score && *l.score != *r.score) return *l.score > *r.score;
        return l.unit.code < r.unit.code;
    });
    for (std::size_t k = 0; k < a.units.size() && a.units[k].score; ++k) {
        a.units[k].rank = k > 0 && a.units[k].score == a.units[k - 1].score ? a.units[k - 1].rank : static_cast<int>(k + 1);
    }
    return a;
}

// ---- reports -----------------------------------------------------------------------------------

void write_report_csv(std::span<const Assessment> assessments, std::ostream& out) {
    out << "\xEF\xBB\xBF";
    bool first = true;
    for (const auto& h : headers()) {
        out << (first ? "" : ",") << csv_field(Cell{Cell::Kind::text, h, 0});
        first = false;
    }
    out << "\r\n";
    for (const Assessment& a : assessments) {
        for (const AssessedUnit& u : a.units) {
            first = true;
            for (const Cell& c : row_of(a, u)) {
                out << (first ? "" : ",") << csv_field(c);
                first = false;
            }
            out << "\r\n";
        }
    }
}

std::string report_csv(std::span<const Assessment> assessments) {
    std::ostringstream s;
    write_report_csv(assessments, s);
    return s.str();
}

void write_report_xlsx(std::span<const Assessment> assessments, const std::filesystem::path& file) {
    const std::string path = file.string();
    const auto dir = file.parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
        throw report_error("cannot write the workbook '" + path + "': the directory '" + dir.string() + "' does not exist");
    }
    lxw_workbook* wb = workbook_new(path.c_str());
    if (wb == nullptr) throw report_error("cannot create the workbook '" + path + "'");
    lxw_format* bold = workbook_add_format(wb);
    format_set_bold(bold);
    format_set_text_wrap(bold);
    lxw_format* two = workbook_add_format(wb);
    format_set_num_format(two, "0.00");
    const auto head = headers();
    std::vector<std::string> used;
    for (const Assessment& a : assessments) {
        lxw_worksheet* ws = workbook_add_worksheet(wb, sheet_name(a, used).c_str());
        for (std::size_t c = 0; c < head.size(); ++c) {
            worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), head[c].c_str(), bold);
        }
        worksheet_set_column(ws, 0, 3, 16, nullptr);
        worksheet_set_column(ws, 4, static_cast<lxw_col_t>(head.size() - 1), 11, nullptr);
        worksheet_freeze_panes(ws, 1, 4);
        lxw_row_t r = 1;
        for (const AssessedUnit& u : a.units) {
            const auto row = row_of(a, u);
            for (std::size_t c = 0; c < row.size(); ++c) {
                const auto col = static_cast<lxw_col_t>(c);
                switch (row[c].kind) {
                    case Cell::Kind::text: worksheet_write_string(ws, r, col, row[c].text.c_str(), nullptr); break;
                    case Cell::Kind::integer: worksheet_write_number(ws, r, col, row[c].number, nullptr); break;
                    case Cell::Kind::decimal: worksheet_write_number(ws, r, col, row[c].number, two); break;
                    case Cell::Kind::empty: break;
                }
            }
            ++r;
        }
        if (r > 1) worksheet_autofilter(ws, 0, 0, r - 1, static_cast<lxw_col_t>(head.size() - 1));
    }
    // The rules, so that the workbook explains itself.
    lxw_worksheet* notes = workbook_add_worksheet(wb, "说明");
    worksheet_set_column(notes, 0, 0, 24, nullptr);
    worksheet_set_column(notes, 1, 8, 14, nullptr);
    lxw_row_t r = 0;
    auto line = [&](const std::string& a, const std::string& b = "") {
        worksheet_write_string(notes, r, 0, a.c_str(), nullptr);
        if (!b.empty()) worksheet_write_string(notes, r, 1, b.c_str(), nullptr);
        ++r;
    };
    line("评分规则", "各比率得分 = 比率 × 100（返工率为 (1 − 返工率) × 100）；综合得分 = 有数据比率得分的加权平均（权重按有数据的比率重新归一），保留两位小数");
    line("等级", "A ≥ 90，B ≥ 75，C ≥ 60，D ≥ 40，E < 40；无数据不评等级、不排名");
    line("排名", "综合得分相同者名次相同（1, 2, 2, 4），按单位代码排列");
    line("定义", "docs/indicators.md");
    ++r;
    worksheet_write_string(notes, r, 0, "单位类型 / 期间 / 截至", bold);
    for (std::size_t k = 0; k < all_rates.size(); ++k) {
        worksheet_write_string(notes, r, static_cast<lxw_col_t>(k + 1), (std::string(label_zh(all_rates[k])) + "权重").c_str(), bold);
    }
    ++r;
    for (const Assessment& a : assessments) {
        const std::string what = std::string(label_zh(a.kind)) + " / " + a.period.label + " / " +
                                 (a.as_of ? format_iso8601(*a.as_of) : std::string("全部已知事件"));
        worksheet_write_string(notes, r, 0, what.c_str(), nullptr);
        for (std::size_t k = 0; k < all_rates.size(); ++k) {
            worksheet_write_number(notes, r, static_cast<lxw_col_t>(k + 1), a.weights[k], two);
        }
        ++r;
    }
    const lxw_error err = workbook_close(wb);
    if (err != LXW_NO_ERROR) throw report_error("cannot write the workbook '" + path + "': " + lxw_strerror(err));
}

std::string report_xlsx(std::span<const Assessment> assessments) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("onegrid-report-" + std::to_string(::getpid()) + "-" + std::to_string(temp_counter++) + ".xlsx");
    struct Remove {
        std::filesystem::path p;
        ~Remove() {
            std::error_code ec;
            std::filesystem::remove(p, ec);
        }
    } remove{path};
    write_report_xlsx(assessments, path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw report_error("cannot read back the workbook '" + path.string() + "'");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace onegrid::core
