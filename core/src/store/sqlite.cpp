#include "store/sqlite.hpp"

#include "store/sqlite_setup.hpp"

#include <spatialite.h>

#include <cstring>

namespace onegrid::core::detail {

void throw_sqlite(sqlite3* db, int rc, std::string_view what) {
    const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int primary = rc & 0xFF;
    std::string text = std::string(what) + ": " + msg;
    if (primary == SQLITE_FULL) text += " (the disk or the database size limit is full)";
    if (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM)
        text += " (check that the file and its directory are writable)";
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) throw schema_error(text);
    throw store_error(text);
}

Stmt& Stmt::bind(int i, std::int64_t v) {
    const int rc = sqlite3_bind_int64(m_stmt, i, v);
    if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "bind");
    return *this;
}

Stmt& Stmt::bind(int i, double v) {
    const int rc = sqlite3_bind_double(m_stmt, i, v);
    if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "bind");
    return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
    const int rc = sqlite3_bind_text64(m_stmt, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "bind");
    return *this;
}

Stmt& Stmt::bind(int i, Borrowed v) {
    const int rc = sqlite3_bind_text64(m_stmt, i, v.text.data(), v.text.size(), SQLITE_STATIC, SQLITE_UTF8);
    if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "bind");
    return *this;
}

Stmt& Stmt::bind_blob(int i, const void* data, std::size_t size) {
    const int rc = sqlite3_bind_blob64(m_stmt, i, data, size, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "bind");
    return *this;
}

Stmt& Stmt::bind_null(int i) {
    const int rc = sqlite3_bind_null(m_stmt, i);
    if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "bind");
    return *this;
}

bool Stmt::step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string sql = sqlite3_sql(m_stmt) != nullptr ? sqlite3_sql(m_stmt) : "";
    sqlite3_reset(m_stmt);
    throw_sqlite(m_db, rc, "executing " + sql.substr(0, 80));
}

void Stmt::run() {
    while (step()) {
    }
}

void Stmt::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

std::string Stmt::text(int col) const { return std::string(text_view(col)); }

std::string_view Stmt::text_view(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, col));
    if (p == nullptr) return {};
    return {p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col))};
}

Db::Db(const std::string& path, int flags, const char* vfs) {
    configure_sqlite();
    const int rc = sqlite3_open_v2(path.c_str(), &m_db, flags | SQLITE_OPEN_NOMUTEX, vfs);
    if (rc != SQLITE_OK) {
        std::string msg = m_db != nullptr ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
        sqlite3_close_v2(m_db);
        m_db = nullptr;
        throw store_error("cannot open '" + path + "': " + msg);
    }
    sqlite3_extended_result_codes(m_db, 1);
    sqlite3_busy_timeout(m_db, 10000);
}

Db::~Db() {
    for (auto& [sql, stmt] : m_cache) sqlite3_finalize(stmt);
    if (m_db != nullptr) sqlite3_close_v2(m_db);
    if (m_spatialite != nullptr) spatialite_cleanup_ex(m_spatialite);
}

void Db::exec(std::string_view sql) {
    char* err = nullptr;
    const std::string s(sql);
    const int rc = sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        const int primary = rc & 0xFF;
        std::string text = "executing " + s.substr(0, 80) + ": " + msg;
        if (primary == SQLITE_FULL) text += " (the disk or the database size limit is full)";
        if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) throw schema_error(text);
        throw store_error(text);
    }
}

Stmt Db::prepare(std::string_view sql) {
    if (m_by_address.size() > 1024) m_by_address.clear();  // SQL built at run time, at ever new addresses
    const Cache::value_type*& known = m_by_address[sql.data()];
    if (known == nullptr || known->first != sql) {
        auto it = m_cache.find(sql);
        if (it == m_cache.end()) {
            sqlite3_stmt* stmt = nullptr;
            const int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()),
                                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
            if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "preparing " + std::string(sql.substr(0, 80)));
            it = m_cache.emplace(sql, stmt).first;
        }
        known = &*it;
    }
    Stmt s(m_db, known->second);
    s.reset();
    return s;
}

std::optional<std::int64_t> Db::scalar(std::string_view sql) {
    Stmt s = prepare(sql);
    if (!s.step()) return std::nullopt;
    const auto v = s.opt_int64(0);
    s.reset();
    return v;
}

void Db::load_spatialite() {
    if (m_spatialite != nullptr) return;
    m_spatialite = spatialite_alloc_connection();
    spatialite_init_ex(m_db, m_spatialite, 0);
}

Savepoint::Savepoint(Db& db) : m_db(db) { m_db.exec("SAVEPOINT w"); }

Savepoint::~Savepoint() {
    if (!m_done) {
        sqlite3_exec(m_db.raw(), "ROLLBACK TO w; RELEASE w", nullptr, nullptr, nullptr);
    }
}

void Savepoint::release() {
    m_db.exec("RELEASE w");
    m_done = true;
}

}  // namespace onegrid::core::detail
