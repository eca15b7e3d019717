#pragma once
// RAII over the SQLite C API for the SpatiaLite store (internal to core).

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "onegrid/core/store.hpp"

namespace onegrid::core::detail {

/// Throws store_error for a failed SQLite call, naming what was being done.
[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view what);

/// Text bound without a copy (see Stmt::bind(int, Borrowed)).
struct Borrowed {
    std::string_view text;
};
/// Marks `text` for binding without a copy: it must stay unchanged until the statement has run.
inline Borrowed borrowed(std::string_view text) { return {text}; }

/// A prepared statement; binds by 1-based index and reads columns by 0-based index.
class Stmt {
public:
    Stmt(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
    /// Resets the statement, ending its read transaction, when the handle goes out of scope.
    ~Stmt() {
        if (m_stmt != nullptr) sqlite3_reset(m_stmt);
    }
    Stmt(Stmt&& o) noexcept : m_db(o.m_db), m_stmt(o.m_stmt) { o.m_stmt = nullptr; }
    Stmt& operator=(Stmt&&) = delete;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(int i, std::int64_t v);
    Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    Stmt& bind(int i, double v);
    Stmt& bind(int i, std::string_view v);
    Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    /// Binds text that outlives the statement's run without copying it: SQLite copies bound text
    /// otherwise, an allocation for every field of every write.
    Stmt& bind(int i, Borrowed v);
    Stmt& bind_blob(int i, const void* data, std::size_t size);
    Stmt& bind_null(int i);
    /// Binds NULL for an empty string.
    Stmt& bind_text_or_null(int i, std::string_view v) { return v.empty() ? bind_null(i) : bind(i, v); }
    Stmt& bind_text_or_null(int i, Borrowed v) { return v.text.empty() ? bind_null(i) : bind(i, v); }
    template <class T>
    Stmt& bind(int i, const std::optional<T>& v) {
        return v ? bind(i, *v) : bind_null(i);
    }

    /// Steps once: true when a row is available.
    bool step();
    /// Steps to completion (for statements without results).
    void run();
    void reset();

    [[nodiscard]] bool is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
    [[nodiscard]] std::int64_t int64(int col) const { return sqlite3_column_int64(m_stmt, col); }
    [[nodiscard]] double real(int col) const { return sqlite3_column_double(m_stmt, col); }
    [[nodiscard]] std::string text(int col) const;
    [[nodiscard]] std::string_view text_view(int col) const;
    [[nodiscard]] std::optional<std::int64_t> opt_int64(int col) const {
        return is_null(col) ? std::nullopt : std::optional<std::int64_t>(int64(col));
    }
    [[nodiscard]] sqlite3_stmt* raw() const { return m_stmt; }

private:
    sqlite3* m_db;
    sqlite3_stmt* m_stmt;
};

/// A connection with a cache of prepared statements. Not thread-safe.
class Db {
public:
    Db(const std::string& path, int flags, const char* vfs = nullptr);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    /// Executes one or more statements without results.
    void exec(std::string_view sql);
    /// A cached prepared statement, reset and with bindings cleared. Looking up a statement asked
    /// for before with the same text at the same address (a literal) allocates and hashes
    /// nothing: the writer prepares several statements for every write.
    Stmt prepare(std::string_view sql);
    /// A single integer result (the first column of the first row), or nullopt without rows.
    std::optional<std::int64_t> scalar(std::string_view sql);
    [[nodiscard]] sqlite3* raw() const { return m_db; }
    /// Loads SpatiaLite into this connection.
    void load_spatialite();

private:
    sqlite3* m_db = nullptr;
    void* m_spatialite = nullptr;
    struct SqlHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view sql) const noexcept { return std::hash<std::string_view>{}(sql); }
    };
    using Cache = std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>>;
    Cache m_cache;
    // The same entries by the address of the SQL text they were last asked for with: the hot
    // statements are string literals, so a look-up compares the text instead of hashing it.
    std::unordered_map<const char*, const Cache::value_type*> m_by_address;
};

/// Executes a statement inside a savepoint; rolls back to it when the body throws.
class Savepoint {
public:
    explicit Savepoint(Db& db);
    ~Savepoint();
    void release();

private:
    Db& m_db;
    bool m_done = false;
};

}  // namespace onegrid::core::detail
