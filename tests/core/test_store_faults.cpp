// Faults: a process killed mid-burst, a full disk, a read-only directory, and files the store must
// refuse (foreign, corrupt, newer schema) or upgrade (older schema).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "onegrid/core/crypto.hpp"
#include "onegrid/core/spatialite_store.hpp"
#include "store/schema.hpp"
#include "store_fixtures.hpp"

using namespace onegrid;
using namespace onegrid::core;
using onegrid::test::numbered_incident;
using onegrid::test::TempDir;

namespace {

const std::string probe = ONEGRID_STORE_PROBE;

std::string file_hash(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return sha256_hex(ss.str());
}

struct Child {
    pid_t pid = -1;
    FILE* out = nullptr;
};

Child spawn(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(probe.c_str()));
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(probe.c_str(), argv.data());
        _exit(127);
    }
    close(fds[1]);
    return {pid, fdopen(fds[0], "r")};
}

std::string run_probe(const std::vector<std::string>& args) {
    Child c = spawn(args);
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, c.out) != nullptr) out += buf;
    fclose(c.out);
    int status = 0;
    waitpid(c.pid, &status, 0);
    return out;
}

}  // namespace

TEST(StoreFaults, EveryAcknowledgedIncidentSurvivesSigkill) {
    TempDir dir("store_kill");
    const auto db = dir / "onegrid.db";
    std::map<std::int64_t, std::int64_t> acknowledged;  // n → id
    // In odd rounds the child reserves WAL space (zeros after its frames when it is killed, which
    // recovery must stop at); in even rounds the parent reopens with a reserve, appended to the
    // WAL that holds the killed child's frames, which must not touch them.
    const std::string reserve = std::to_string(4 << 20);
    for (int round = 0; round < 5; ++round) {
        std::vector<std::string> args{"ingest", db.string(), std::to_string(round * 1'000'000), "8"};
        if (round % 2 == 1) args.push_back(reserve);
        Child c = spawn(args);
        // Let it run until a varying number of acknowledgements have arrived, then kill it hard:
        // other writes are in flight at that moment.
        const int kill_after = 150 + round * 97;
        long long n = 0;
        long long id = 0;
        int seen = 0;
        while (seen < kill_after && fscanf(c.out, "%lld %lld", &n, &id) == 2) {
            acknowledged[n] = id;
            ++seen;
        }
        kill(c.pid, SIGKILL);
        // Anything acknowledged before the kill landed in the pipe counts too.
        while (fscanf(c.out, "%lld %lld", &n, &id) == 2) acknowledged[n] = id;
        fclose(c.out);
        int status = 0;
        waitpid(c.pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status));
        ASSERT_EQ(seen, kill_after) << "the child stopped early in round " << round;

        SpatialiteOptions o;
        o.path = db;
        if (round % 2 == 0) o.wal_reserve_bytes = std::stoll(reserve);
        auto store = open_spatialite_store(o);
        for (const auto& [num, inc_id] : acknowledged) {
            const auto got = store->incident(inc_id);
            ASSERT_TRUE(got) << "acknowledged incident " << inc_id << " (n=" << num << ") is missing after round " << round;
            const auto want = numbered_incident(num).incident;
            ASSERT_EQ(got->request_id, want.request_id);
            ASSERT_EQ(got->description, want.description);
            ASSERT_EQ(got->location, want.location);
            ASSERT_EQ(got->business.size(), 1u);
            ASSERT_EQ(store->events(inc_id).size(), 1u) << "incident " << inc_id << " lost its first event";
        }
        // Nothing half-written: every stored incident has its event and outbox message.
        const auto st = store->stats();
        EXPECT_EQ(st.events, st.incidents);
        EXPECT_GE(st.incidents, static_cast<std::int64_t>(acknowledged.size()));
    }
    EXPECT_GT(acknowledged.size(), 1000u);
}

TEST(StoreFaults, FullDiskGivesAnErrorAndLeavesNoPartialIncident) {
    TempDir dir("store_full");
    SpatialiteOptions o;
    o.path = dir / "onegrid.db";
    // The database may not grow past 600 pages (600 KB with the 1 KB pages of a new database).
    o.max_page_count = 600;
    auto store = open_spatialite_store(o);
    int stored = 0;
    std::string error;
    for (int n = 0; n < 100000 && error.empty(); ++n) {
        try {
            auto inc = numbered_incident(n);
            inc.incident.description = std::string(400, 'x');
            store->intake(inc);
            ++stored;
        } catch (const store_error& e) {
            error = e.what();
        }
    }
    ASSERT_FALSE(error.empty()) << "the size limit was never reached";
    EXPECT_NE(error.find("full"), std::string::npos) << error;
    const auto st = store->stats();
    EXPECT_EQ(st.incidents, stored);
    EXPECT_EQ(st.events, stored);
    // The store keeps working for reads, and for writes that fit.
    EXPECT_TRUE(store->incident(1));
}

TEST(StoreFaults, AWalReserveTheDiskCannotHoldIsGivenUpAndTheStoreWorks) {
    TempDir dir("store_reserve_full");
    const auto db = dir / "onegrid.db";
    {
        SpatialiteOptions o;
        o.path = db;
        auto store = open_spatialite_store(o);  // the new database, made without a limit
    }
    const auto db_size = std::filesystem::file_size(db);
    // Room for the database and the WAL of a few intakes, not for the 64 MB reserve.
    const auto limit = db_size + (4u << 20);
    const std::string out = run_probe({"reserve-capped", db.string(), std::to_string(limit), std::to_string(64 << 20)});
    std::istringstream lines(out);
    std::string word;
    std::uint64_t wal = 0;
    ASSERT_TRUE(lines >> word >> wal) << out;
    ASSERT_EQ(word, "wal") << out;
    EXPECT_LT(wal, limit) << "the WAL was not cut back after the reserve failed";
    EXPECT_NE(out.find("\nok"), std::string::npos) << out;

    SpatialiteOptions o;
    o.path = db;
    auto store = open_spatialite_store(o);
    EXPECT_EQ(store->count_incidents({}), 20);
}

TEST(StoreFaults, ReadOnlyMediaDirectoryGivesAnErrorAndNoIncident) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run the probe as another user";
    TempDir dir("store_readonly");
    const auto db_dir = dir / "db";
    const auto media = dir / "media";
    std::filesystem::create_directories(db_dir);
    std::filesystem::create_directories(media);
    // The database directory belongs to 'nobody'; the media directory stays root's (read-only to nobody).
    ASSERT_EQ(chown(dir.path().c_str(), 65534, 65534), 0);
    ASSERT_EQ(chown(db_dir.c_str(), 65534, 65534), 0);
    const std::string out = run_probe({"intake-as", "65534", (db_dir / "onegrid.db").string(), media.string()});
    EXPECT_EQ(out.rfind("error ", 0), 0u) << out;
    EXPECT_NE(out.find("Permission denied"), std::string::npos) << out;
    SpatialiteOptions o;
    o.path = db_dir / "onegrid.db";
    o.media_dir = media;
    auto store = open_spatialite_store(o);
    EXPECT_EQ(store->count_incidents({}), 0);
}

TEST(StoreFaults, ReadOnlyDatabaseDirectoryIsAClearError) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run the probe as another user";
    TempDir dir("store_readonly_db");
    ASSERT_EQ(chown(dir.path().c_str(), 0, 0), 0);
    std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                 std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                                 std::filesystem::perms::others_exec);
    const std::string out = run_probe({"intake-as", "65534", (dir / "onegrid.db").string()});
    EXPECT_EQ(out.rfind("error ", 0), 0u) << out;
    EXPECT_NE(out.find("onegrid.db"), std::string::npos) << out;
    EXPECT_FALSE(std::filesystem::exists(dir / "onegrid.db"));
}

TEST(StoreFaults, ForeignFilesAreRefusedAndLeftUntouched) {
    TempDir dir("store_foreign");
    // Not SQLite at all.
    const auto text = dir / "notes.db";
    std::ofstream(text) << "these are meeting notes, not a database\n";
    // Another application's SQLite database.
    const auto other = dir / "other.db";
    {
        sqlite3* db = nullptr;
        sqlite3_open(other.c_str(), &db);
        sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
    for (const auto& path : {text, other}) {
        const auto before = file_hash(path);
        SpatialiteOptions o;
        o.path = path;
        try {
            (void)open_spatialite_store(o);
            FAIL() << "opened " << path;
        } catch (const schema_error& e) {
            EXPECT_NE(std::string(e.what()).find("not a OneGrid database"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("untouched"), std::string::npos) << e.what();
        }
        EXPECT_EQ(file_hash(path), before);
        EXPECT_FALSE(std::filesystem::exists(path.string() + "-wal"));
    }
}

TEST(StoreFaults, CorruptFileIsRefusedAndLeftUntouched) {
    // Garbage right after the header (the schema's pages: SQLite itself reports the damage) and
    // in the middle of the file (incidents' pages: found by the integrity check at open).
    for (const double at : {0.0, 0.5}) {
        SCOPED_TRACE(at);
        TempDir dir("store_corrupt");
        const auto db = dir / "onegrid.db";
        {
            SpatialiteOptions o;
            o.path = db;
            auto store = open_spatialite_store(o);
            for (int n = 0; n < 200; ++n) store->intake(numbered_incident(n));
        }
        {
            const auto size = static_cast<std::streamoff>(std::filesystem::file_size(db));
            std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(std::max<std::streamoff>(4096, static_cast<std::streamoff>(static_cast<double>(size) * at)));
            const std::string garbage(8192, '\x5A');
            f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
        }
        const auto before = file_hash(db);
        SpatialiteOptions o;
        o.path = db;
        try {
            (void)open_spatialite_store(o);
            FAIL() << "opened a corrupt file";
        } catch (const schema_error& e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find("corrupt"), std::string::npos) << msg;
            EXPECT_NE(msg.find("untouched"), std::string::npos) << msg;
        }
        EXPECT_EQ(file_hash(db), before);
    }
}

TEST(StoreFaults, NewerSchemaIsRefusedAndLeftUntouched) {
    TempDir dir("store_newer");
    const auto db = dir / "onegrid.db";
    {
        SpatialiteOptions o;
        o.path = db;
        (void)open_spatialite_store(o);
    }
    {
        sqlite3* raw = nullptr;
        sqlite3_open(db.c_str(), &raw);
        sqlite3_exec(raw, ("PRAGMA user_version = " + std::to_string(spatialite_schema_version() + 1)).c_str(), nullptr,
                     nullptr, nullptr);
        sqlite3_close(raw);
    }
    const auto before = file_hash(db);
    SpatialiteOptions o;
    o.path = db;
    try {
        (void)open_spatialite_store(o);
        FAIL() << "opened a newer schema";
    } catch (const schema_error& e) {
        EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    }
    EXPECT_EQ(file_hash(db), before);
}

TEST(StoreFaults, OlderSchemaIsUpgradedInPlace) {
    TempDir dir("store_older");
    const auto db = dir / "onegrid.db";
    {
        // A database as version 1 of the schema wrote it, with an incident in it.
        detail::Db raw(db.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        raw.load_spatialite();
        raw.exec("PRAGMA journal_mode = WAL");
        detail::migrate(raw, 0, 1);
        raw.exec(
            "INSERT INTO incidents(source, category, lon, lat, status, reported_at, updated_at, geom) "
            "VALUES ('hotline', '0101', 120.75, 37.8, 'reported', 1, 1, MakePoint(120.75, 37.8, 4490))");
        EXPECT_EQ(raw.scalar("PRAGMA user_version"), 1);
    }
    SpatialiteOptions o;
    o.path = db;
    auto store = open_spatialite_store(o);
    EXPECT_EQ(store->stats().schema_version, spatialite_schema_version());
    EXPECT_GT(spatialite_schema_version(), 1);
    const auto old = store->incident(1);
    ASSERT_TRUE(old);
    EXPECT_EQ(old->category, "0101");
    // The pre-upgrade copy is kept next to the database.
    EXPECT_TRUE(std::filesystem::exists(db.string() + ".pre-v" + std::to_string(spatialite_schema_version())));
    // New writes work on the upgraded file.
    EXPECT_TRUE(store->intake(numbered_incident(9)).created);
}

TEST(StoreFaults, BackupWhileAnotherProcessWritesIsConsistent) {
    TempDir dir("store_backup_live");
    const auto db = dir / "onegrid.db";
    Child c = spawn({"ingest", db.string(), "0", "4"});
    long long n = 0;
    long long id = 0;
    for (int seen = 0; seen < 300 && fscanf(c.out, "%lld %lld", &n, &id) == 2; ++seen) {
    }
    // The writer keeps writing while the copy is taken.
    backup_spatialite(db, dir / "copy.db");
    kill(c.pid, SIGKILL);
    fclose(c.out);
    int status = 0;
    waitpid(c.pid, &status, 0);
    SpatialiteOptions o;
    o.path = dir / "copy.db";
    o.read_only = true;
    auto copy = open_spatialite_store(o);
    const auto st = copy->stats();
    EXPECT_GE(st.incidents, 300);
    EXPECT_EQ(st.events, st.incidents);
    EXPECT_FALSE(std::filesystem::exists(dir / "copy.db-wal"));  // self-contained
}
