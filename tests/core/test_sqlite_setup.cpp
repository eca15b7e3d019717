// The store's process-wide SQLite settings: the page cache wrapper must never keep a page that a
// transaction's end or a rollback has to drop.

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <random>
#include <string>

#include "store/sqlite.hpp"
#include "store/sqlite_setup.hpp"
#include "store_fixtures.hpp"

using onegrid::core::detail::Db;
using onegrid::test::TempDir;

namespace {

std::int64_t count_rows(Db& db) { return db.scalar("SELECT count(*) FROM t").value_or(-1); }

}  // namespace

// Random keys split pages all over the B-tree (balancing renumbers new pages), and every other
// transaction grows the file and then rolls back: the pages past the end must go from the cache,
// or the next transaction would find the rolled-back content in them.
TEST(SqliteSetup, PageCacheDropsWhatRollbacksAndCommitsLeavePastTheEnd) {
    // The first SQLite use in a test process: the settings apply.
    ASSERT_TRUE(onegrid::core::detail::configure_sqlite());
    const TempDir dir("sqlite_setup");
    const auto path = dir / "pages.db";
    Db db(path.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    db.exec("PRAGMA page_size = 2048");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA cache_size = -65536");
    db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB NOT NULL)");
    std::mt19937_64 rng(7);
    std::int64_t committed = 0;
    for (int tx = 0; tx < 40; ++tx) {
        const bool keep = tx % 2 == 0;
        db.exec("BEGIN");
        auto ins = db.prepare("INSERT INTO t(k, v) VALUES (?, randomblob(?))");
        for (int i = 0; i < 500; ++i) {
            ins.bind(1, std::to_string(rng())).bind(2, static_cast<int>(100 + rng() % 900));
            ins.run();
            ins.reset();
        }
        const auto pages_inside = db.scalar("PRAGMA page_count").value_or(0);
        db.exec(keep ? "COMMIT" : "ROLLBACK");
        if (keep) committed += 500;
        ASSERT_EQ(count_rows(db), committed) << "transaction " << tx;
        if (!keep) {
            EXPECT_LT(db.scalar("PRAGMA page_count").value_or(0), pages_inside) << "the rollback shrank the database";
        }
    }
    auto check = db.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.step());
    EXPECT_EQ(check.text(0), "ok");
    check.reset();
    // A second connection (its own cache) reads the same rows from the file.
    Db other(path.string(), SQLITE_OPEN_READONLY);
    EXPECT_EQ(count_rows(other), committed);
    EXPECT_EQ(other.scalar("SELECT count(*) FROM t WHERE length(v) NOT BETWEEN 100 AND 999"), 0);
    // When the first one changes every row, the second must drop what it cached and see it.
    db.exec("UPDATE t SET v = zeroblob(50)");
    EXPECT_EQ(other.scalar("SELECT count(*) FROM t WHERE length(v) = 50"), committed);
    db.exec("DELETE FROM t WHERE rowid % 2 = 0");
    EXPECT_EQ(count_rows(other), count_rows(db));
}

// Another connection's commits invalidate everything a connection cached: its cache is cleared
// through the same truncation, which must reach SQLite's cache.
TEST(SqliteSetup, AConnectionSeesAnotherConnectionsCommits) {
    const TempDir dir("sqlite_setup");
    const auto path = dir / "two.db";
    Db writer(path.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    writer.exec("PRAGMA journal_mode = WAL");
    writer.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    writer.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
                "INSERT INTO t SELECT i, 'first' FROM n");
    Db reader(path.string(), SQLITE_OPEN_READONLY);
    EXPECT_EQ(reader.scalar("SELECT count(*) FROM t WHERE v = 'first'"), 5000);
    for (int round = 0; round < 5; ++round) {
        const std::string value = "round" + std::to_string(round);
        writer.exec("UPDATE t SET v = '" + value + "'");
        EXPECT_EQ(reader.scalar("SELECT count(*) FROM t WHERE v = '" + value + "'"), 5000) << value;
    }
}
