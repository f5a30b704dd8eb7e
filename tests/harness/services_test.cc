// Proves each harness service for real, with the clients connectors use: libpq over TCP with the
// password, libcurl against the HTTP server, libssh through sshd (commands and a direct-tcpip
// forward to PostgreSQL, as the network tunnel does). Also proves teardown: after destruction
// (or a crash of the test process) ports refuse connections and temp dirs are gone.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libssh/libssh.h>
#include <postgresql/libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "tests/harness/http_file_server.h"
#include "tests/harness/postgres.h"
#include "tests/harness/service_process.h"
#include "tests/harness/sshd.h"
#include "tests/harness/temp_dir.h"

namespace connectors::harness {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

// Whether `pid` is running: a killed process stays a zombie until its new parent (init) reaps it,
// and kill(pid, 0) still succeeds on zombies.
bool Alive(pid_t pid) {
  auto stat = ReadFile(StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return false;
  const size_t close = stat->rfind(')');
  return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z' &&
         (*stat)[close + 2] != 'X';
}

// Whether `port` stops accepting connections within a few seconds: a killed server's listening
// socket closes when the kernel reaps it, which is not instantaneous.
bool RefusesSoon(int port) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    if (!AcceptsConnections(port)) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

TEST(TempDirTest, UniqueAndRemovedWithContents) {
  auto a = TempDir::Create("unique-");
  auto b = TempDir::Create("unique-");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE(a->path(), b->path());
  EXPECT_THAT(a->path(), StartsWith(DefaultTempBase()));
  const std::string path = a->path();
  ASSERT_TRUE(std::filesystem::create_directories(a->Path("x/y")));
  ASSERT_TRUE(WriteFile(a->Path("x/y/file"), "data").ok());
  { TempDir moved = *std::move(a); }
  EXPECT_FALSE(Exists(path));
}

TEST(FreePortTest, PortCanBeBound) {
  auto port = FreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_GT(*port, 0);
  EXPECT_FALSE(AcceptsConnections(*port));
}

TEST(ServiceProcessTest, StopKillsTheWholeProcessGroup) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  ServiceProcessOptions options;
  // The shell forks a child in its process group that ignores SIGTERM.
  options.argv = {"/bin/sh", "-c", "sh -c 'trap \"\" TERM; echo $$ > child; sleep 60' & wait"};
  options.working_dir = dir->path();
  options.stop_timeout = absl::Milliseconds(200);
  auto process = ServiceProcess::Start(std::move(options));
  ASSERT_TRUE(process.ok()) << process.status();
  std::optional<pid_t> child;
  for (int i = 0; i < 500 && !child; ++i) {
    auto text = ReadFile(dir->Path("child"));
    if (text.ok() && !text->empty()) child = std::atoi(text->c_str());
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(child.has_value());
  EXPECT_TRUE(Alive(*child));
  ASSERT_TRUE(process->Stop().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (Alive(*child) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_FALSE(Alive(*child)) << "the grandchild outlived Stop()";
}

TEST(ServiceProcessTest, ExecFailureIsReported) {
  ServiceProcessOptions options;
  options.argv = {"/nonexistent/program"};
  auto process = ServiceProcess::Start(std::move(options));
  ASSERT_FALSE(process.ok());
  EXPECT_THAT(std::string(MessageOf(process.status())), HasSubstr("exec"));
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

TEST(PostgresTest, ServesSqlOverTcpWithPassword) {
  const absl::Time start = absl::Now();
  auto pg = Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  // Startup has to stay cheap enough for every connector test to start its own server.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(pg->host(), "127.0.0.1");
  EXPECT_EQ(pg->user(), "postgres");
  EXPECT_GE(pg->password().size(), 16u);

  // libpq exactly as a connector uses it: TCP, user and password.
  PgConn conn(PQconnectdb(pg->ConnectionString().c_str()));
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  PgResult created(PQexec(conn.get(),
                          "CREATE TABLE items (id int PRIMARY KEY, name text);"
                          "INSERT INTO items VALUES (1, 'one'), (2, NULL);"));
  ASSERT_EQ(PQresultStatus(created.get()), PGRES_COMMAND_OK) << PQerrorMessage(conn.get());
  PgResult selected(PQexec(conn.get(), "SELECT name FROM items WHERE id = 1"));
  ASSERT_EQ(PQresultStatus(selected.get()), PGRES_TUPLES_OK);
  EXPECT_STREQ(PQgetvalue(selected.get(), 0, 0), "one");

  auto rows = pg->Exec("SELECT id, name FROM items ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(ElementsAre("1", "one"), ElementsAre("2", "\\N")));
  auto wal_level = pg->Exec("SHOW wal_level");
  ASSERT_TRUE(wal_level.ok()) << wal_level.status();
  EXPECT_THAT(*wal_level, ElementsAre(ElementsAre("logical")));
  auto slots = pg->Exec("SHOW max_replication_slots");
  ASSERT_TRUE(slots.ok());
  EXPECT_THAT(*slots, ElementsAre(ElementsAre("10")));

  ASSERT_TRUE(pg->CreateDatabase("Other DB").ok());
  ASSERT_TRUE(pg->Exec("CREATE TABLE t (v text); INSERT INTO t VALUES ('x')", "Other DB").ok());
  auto other = pg->Exec("SELECT v FROM t", "Other DB");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_THAT(*other, ElementsAre(ElementsAre("x")));

  // The Unix socket (in the temp dir, or Linux's abstract namespace when that path is too long
  // for a socket) takes the password too.
  auto socket_dir = pg->Exec("SHOW unix_socket_directories");
  ASSERT_TRUE(socket_dir.ok()) << socket_dir.status();
  const std::string socket = (*socket_dir)[0][0];
  EXPECT_TRUE(socket.starts_with("@") || socket.starts_with(pg->dir())) << socket;
  PgConn local(PQconnectdb(StrCat("host=", socket, " port=", pg->port(),
                                  " user=postgres dbname=postgres password=", pg->password())
                               .c_str()));
  EXPECT_EQ(PQstatus(local.get()), CONNECTION_OK) << PQerrorMessage(local.get());

  auto error = pg->Exec("SELECT * FROM missing_table");
  EXPECT_FALSE(error.ok());
  EXPECT_THAT(std::string(MessageOf(error.status())), HasSubstr("missing_table"));
}

TEST(PostgresTest, RequiresThePasswordAndAllowsReplication) {
  auto pg = Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  PgConn wrong(PQconnectdb(
      StrCat("host=127.0.0.1 port=", pg->port(), " user=postgres password=wrong dbname=postgres")
          .c_str()));
  EXPECT_EQ(PQstatus(wrong.get()), CONNECTION_BAD);
  EXPECT_THAT(PQerrorMessage(wrong.get()), HasSubstr("password authentication failed"));

  // A logical replication connection, as a CDC capture opens one.
  PgConn replication(PQconnectdb(StrCat(pg->ConnectionString(), " replication=database").c_str()));
  ASSERT_EQ(PQstatus(replication.get()), CONNECTION_OK) << PQerrorMessage(replication.get());
  PgResult system(PQexec(replication.get(), "IDENTIFY_SYSTEM"));
  ASSERT_EQ(PQresultStatus(system.get()), PGRES_TUPLES_OK) << PQerrorMessage(replication.get());
  PgResult slot(
      PQexec(replication.get(), "CREATE_REPLICATION_SLOT harness_slot TEMPORARY LOGICAL pgoutput"));
  EXPECT_EQ(PQresultStatus(slot.get()), PGRES_TUPLES_OK) << PQerrorMessage(replication.get());
}

TEST(PostgresTest, TwoServersRunSideBySide) {
  auto a = Postgres::Start();
  auto b = Postgres::Start();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE(a->port(), b->port());
  EXPECT_NE(a->dir(), b->dir());
  EXPECT_NE(a->password(), b->password());
  ASSERT_TRUE(a->Exec("CREATE TABLE only_in_a (id int)").ok());
  EXPECT_FALSE(b->Exec("SELECT * FROM only_in_a").ok());
}

// ---------------------------------------------------------------------------------------------
// HTTP

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // Lowercase names.

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

size_t AppendHeader(char* data, size_t size, size_t count, void* out) {
  std::string_view line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = std::string(value);
  }
  return size * count;
}

HttpResponse Fetch(const std::string& url, const std::vector<std::string>& headers = {},
                   bool head = false) {
  HttpResponse response;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  std::unique_ptr<curl_slist, CurlListDeleter> list;
  for (const std::string& header : headers) {
    list.reset(curl_slist_append(list.release(), header.c_str()));
  }
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(curl.get(), CURLOPT_NOBODY, head ? 1L : 0L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  const CURLcode code = curl_easy_perform(curl.get());
  EXPECT_EQ(code, CURLE_OK) << curl_easy_strerror(code) << " for " << url;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

constexpr char kText[] = "0123456789abcdefghij\n";

TEST(HttpFileServerTest, ServesFilesWithMetadata) {
  auto http = HttpFileServer::Start();
  ASSERT_TRUE(http.ok()) << http.status();
  ASSERT_TRUE(WriteFile(StrCat(http->root(), "/hello.txt"), kText).ok());
  EXPECT_THAT(http->url("/hello.txt"), StartsWith("http://127.0.0.1:"));

  HttpResponse get = Fetch(http->url("hello.txt"));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, kText);
  EXPECT_EQ(get.Header("content-length"), "21");
  EXPECT_THAT(get.Header("content-type"), StartsWith("text/plain"));
  EXPECT_THAT(get.Header("last-modified"), HasSubstr(" GMT"));
  EXPECT_THAT(get.Header("etag"), StartsWith("\""));

  HttpResponse head = Fetch(http->url("hello.txt"), {}, /*head=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.Header("content-length"), "21");
  EXPECT_EQ(head.Header("etag"), get.Header("etag"));

  HttpResponse not_modified =
      Fetch(http->url("hello.txt"), {StrCat("If-None-Match: ", get.Header("etag"))});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.body, "");

  EXPECT_EQ(Fetch(http->url("missing.txt")).status, 404);
  EXPECT_EQ(Fetch(http->url("../etc/passwd")).status, 404);  // curl drops the "..".
  EXPECT_EQ(Fetch(http->url("%2e%2e/etc/passwd")).status, 403);
}

TEST(HttpFileServerTest, ServesRanges) {
  auto http = HttpFileServer::Start();
  ASSERT_TRUE(http.ok()) << http.status();
  ASSERT_TRUE(WriteFile(StrCat(http->root(), "/data.bin"), kText).ok());

  HttpResponse range = Fetch(http->url("data.bin"), {"Range: bytes=2-5"});
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(range.body, "2345");
  EXPECT_EQ(range.Header("content-range"), "bytes 2-5/21");
  EXPECT_EQ(range.Header("content-length"), "4");

  HttpResponse suffix = Fetch(http->url("data.bin"), {"Range: bytes=-3"});
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, "ij\n");

  HttpResponse open_ended = Fetch(http->url("data.bin"), {"Range: bytes=18-"});
  EXPECT_EQ(open_ended.status, 206);
  EXPECT_EQ(open_ended.body, "ij\n");

  HttpResponse unsatisfiable = Fetch(http->url("data.bin"), {"Range: bytes=100-200"});
  EXPECT_EQ(unsatisfiable.status, 416);
  EXPECT_EQ(unsatisfiable.Header("content-range"), "bytes */21");
}

TEST(HttpFileServerTest, ListsDirectories) {
  auto http = HttpFileServer::Start();
  ASSERT_TRUE(http.ok()) << http.status();
  ASSERT_TRUE(std::filesystem::create_directory(StrCat(http->root(), "/sub")));
  ASSERT_TRUE(WriteFile(StrCat(http->root(), "/sub/a.csv"), "a\n").ok());
  ASSERT_TRUE(WriteFile(StrCat(http->root(), "/sub/b.json"), "{}").ok());

  HttpResponse json = Fetch(http->url("sub/?format=json"));
  EXPECT_EQ(json.status, 200);
  EXPECT_THAT(json.Header("content-type"), StartsWith("application/json"));
  EXPECT_THAT(json.body, HasSubstr("\"name\":\"a.csv\",\"type\":\"file\",\"size\":2"));
  EXPECT_THAT(json.body, HasSubstr("\"name\":\"b.json\""));

  HttpResponse html = Fetch(http->url("sub/"));
  EXPECT_EQ(html.status, 200);
  EXPECT_THAT(html.body, HasSubstr("<a href=\"a.csv\">"));

  HttpResponse root = Fetch(http->url(""), {"Accept: application/json"});
  EXPECT_THAT(root.body, HasSubstr("\"name\":\"sub\",\"type\":\"directory\""));

  EXPECT_EQ(Fetch(http->url("sub")).status, 301);
}

TEST(HttpFileServerTest, RequiresCredentialsWhenConfigured) {
  HttpFileServerOptions options;
  options.basic_auth_user = "reader";
  options.basic_auth_password = "s3cret";
  options.bearer_token = "token-123";
  auto http = HttpFileServer::Start(options);
  ASSERT_TRUE(http.ok()) << http.status();
  ASSERT_TRUE(WriteFile(StrCat(http->root(), "/private.txt"), "private").ok());

  HttpResponse anonymous = Fetch(http->url("private.txt"));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_THAT(anonymous.Header("www-authenticate"), StartsWith("Basic"));
  EXPECT_EQ(Fetch(http->url("private.txt"), {"Authorization: Bearer wrong"}).status, 401);
  // base64("reader:s3cret")
  HttpResponse basic =
      Fetch(http->url("private.txt"), {"Authorization: Basic cmVhZGVyOnMzY3JldA=="});
  EXPECT_EQ(basic.status, 200);
  EXPECT_EQ(basic.body, "private");
  HttpResponse bearer = Fetch(http->url("private.txt"), {"Authorization: Bearer token-123"});
  EXPECT_EQ(bearer.status, 200);
}

TEST(HttpFileServerTest, CompressesOnlyWhenEnabled) {
  const std::string text(4096, 'a');
  auto plain = HttpFileServer::Start();
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(WriteFile(StrCat(plain->root(), "/big.txt"), text).ok());
  HttpResponse identity = Fetch(plain->url("big.txt"), {"Accept-Encoding: gzip"});
  EXPECT_EQ(identity.Header("content-encoding"), "");
  EXPECT_EQ(identity.body, text);

  HttpFileServerOptions options;
  options.gzip = true;
  auto gzip = HttpFileServer::Start(options);
  ASSERT_TRUE(gzip.ok()) << gzip.status();
  ASSERT_TRUE(WriteFile(StrCat(gzip->root(), "/big.txt"), text).ok());
  HttpResponse compressed = Fetch(gzip->url("big.txt"), {"Accept-Encoding: gzip"});
  EXPECT_EQ(compressed.status, 200);
  EXPECT_EQ(compressed.Header("content-encoding"), "gzip");
  EXPECT_LT(compressed.body.size(), text.size());
  HttpResponse ranged = Fetch(gzip->url("big.txt"), {"Accept-Encoding: gzip", "Range: bytes=0-9"});
  EXPECT_EQ(ranged.status, 206);
  EXPECT_EQ(ranged.Header("content-encoding"), "");
  EXPECT_EQ(ranged.body, "aaaaaaaaaa");
}

TEST(HttpFileServerTest, ServesAGivenDirectory) {
  auto files = TempDir::Create("served-");
  ASSERT_TRUE(files.ok());
  ASSERT_TRUE(WriteFile(files->Path("given.txt"), "given").ok());
  HttpFileServerOptions options;
  options.root = files->path();
  auto http = HttpFileServer::Start(options);
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->root(), files->path());
  EXPECT_EQ(Fetch(http->url("given.txt")).body, "given");
}

TEST(HttpFileServerTest, ScriptedFaultsApplyToTheNextRequestsInOrder) {
  auto http = HttpFileServer::Start();
  ASSERT_TRUE(http.ok()) << http.status();
  const std::string body(100000, 'x');
  ASSERT_TRUE(WriteFile(StrCat(http->root(), "/f.bin"), body).ok());
  ASSERT_TRUE(std::filesystem::create_directory(StrCat(http->root(), "/.faults")));
  ASSERT_TRUE(WriteFile(StrCat(http->root(), "/.faults/f.bin"),
                        "status 503 2\nredirect /g.bin\ndrop-after 1000\nslow 1\n")
                  .ok());
  HttpResponse unavailable = Fetch(http->url("f.bin"));
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.Header("retry-after"), "2");
  HttpResponse redirect = Fetch(http->url("f.bin"));
  EXPECT_EQ(redirect.status, 302);
  EXPECT_EQ(redirect.Header("location"), "/g.bin");

  // The dropped connection: headers promise the whole file, the body stops after 1000 bytes.
  std::string partial;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  curl_easy_setopt(curl.get(), CURLOPT_URL, http->url("f.bin").c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &partial);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
  const CURLcode code = curl_easy_perform(curl.get());
  EXPECT_NE(code, CURLE_OK);
  EXPECT_EQ(partial.size(), 1000u);

  const absl::Time start = absl::Now();
  EXPECT_EQ(Fetch(http->url("f.bin")).body, body);  // Slow: 7 chunks, 1 ms apart.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(6));
  EXPECT_EQ(Fetch(http->url("f.bin")).status, 200);  // The script is used up.
}

TEST(HttpFileServerTest, IfRangeAndOptionalValidators) {
  HttpFileServerOptions options;
  options.etag = false;
  auto http = HttpFileServer::Start(options);
  ASSERT_TRUE(http.ok()) << http.status();
  ASSERT_TRUE(WriteFile(StrCat(http->root(), "/d.txt"), kText).ok());
  HttpResponse get = Fetch(http->url("d.txt"));
  EXPECT_EQ(get.Header("etag"), "");
  ASSERT_NE(get.Header("last-modified"), "");
  HttpResponse same = Fetch(http->url("d.txt"),
                            {"Range: bytes=2-", StrCat("If-Range: ", get.Header("last-modified"))});
  EXPECT_EQ(same.status, 206);
  EXPECT_EQ(same.body, std::string(kText).substr(2));
  HttpResponse stale =
      Fetch(http->url("d.txt"), {"Range: bytes=2-", "If-Range: Mon, 01 Jan 2001 00:00:00 GMT"});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, kText);
}

// ---------------------------------------------------------------------------------------------
// sshd

struct SshSessionDeleter {
  void operator()(ssh_session session) const {
    if (ssh_is_connected(session)) ssh_disconnect(session);
    ssh_free(session);
  }
};
struct SshKeyDeleter {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
struct SshChannelDeleter {
  void operator()(ssh_channel channel) const {
    if (ssh_channel_is_open(channel)) ssh_channel_close(channel);
    ssh_channel_free(channel);
  }
};
struct SshStringDeleter {
  void operator()(char* text) const { ssh_string_free_char(text); }
};
using SshSession = std::unique_ptr<ssh_session_struct, SshSessionDeleter>;
using SshChannel = std::unique_ptr<ssh_channel_struct, SshChannelDeleter>;
using SshKey = std::unique_ptr<ssh_key_struct, SshKeyDeleter>;

// Connects to `sshd`, checks its host key against host_public_key(), and logs in with
// `private_key` (a PEM or OpenSSH private key).
SshSession Login(const Sshd& sshd, const std::string& private_key) {
  SshSession session(ssh_new());
  const int port = sshd.port();
  const long timeout_seconds = 10;
  const int no = 0;
  ssh_options_set(session.get(), SSH_OPTIONS_HOST, sshd.host().c_str());
  ssh_options_set(session.get(), SSH_OPTIONS_PORT, &port);
  ssh_options_set(session.get(), SSH_OPTIONS_USER, sshd.user().c_str());
  ssh_options_set(session.get(), SSH_OPTIONS_TIMEOUT, &timeout_seconds);
  // Nothing from ~/.ssh: the test must not depend on the machine's configuration.
  ssh_options_set(session.get(), SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(session.get(), SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
  if (ssh_connect(session.get()) != SSH_OK) {
    ADD_FAILURE() << "ssh_connect: " << ssh_get_error(session.get()) << "\n" << sshd.LogTail();
    return nullptr;
  }
  ssh_key server_key_raw = nullptr;
  EXPECT_EQ(ssh_get_server_publickey(session.get(), &server_key_raw), SSH_OK);
  SshKey server_key(server_key_raw);
  char* encoded_raw = nullptr;
  EXPECT_EQ(ssh_pki_export_pubkey_base64(server_key.get(), &encoded_raw), SSH_OK);
  std::unique_ptr<char, SshStringDeleter> encoded(encoded_raw);
  EXPECT_THAT(sshd.host_public_key(), HasSubstr(encoded.get()));

  ssh_key key_raw = nullptr;
  if (ssh_pki_import_privkey_base64(private_key.c_str(), nullptr, nullptr, nullptr, &key_raw) !=
      SSH_OK) {
    ADD_FAILURE() << "cannot import the private key";
    return nullptr;
  }
  SshKey key(key_raw);
  if (ssh_userauth_publickey(session.get(), nullptr, key.get()) != SSH_AUTH_SUCCESS) {
    ADD_FAILURE() << "public key login failed: " << ssh_get_error(session.get()) << "\n"
                  << sshd.LogTail();
    return nullptr;
  }
  return session;
}

std::string ReadToEnd(ssh_channel channel) {
  std::string out;
  char buffer[1024];
  while (true) {
    const int n = ssh_channel_read_timeout(channel, buffer, sizeof(buffer), 0, 10000);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

TEST(SshdTest, RunsCommandsForTheUserWithEitherKey) {
  auto sshd = Sshd::Start();
  ASSERT_TRUE(sshd.ok()) << sshd.status();
  EXPECT_THAT(sshd->private_key_pem(), StartsWith("-----BEGIN RSA PRIVATE KEY-----"));
  EXPECT_THAT(sshd->ed25519_private_key(), StartsWith("-----BEGIN OPENSSH PRIVATE KEY-----"));
  EXPECT_THAT(sshd->host_public_key(), StartsWith("ssh-ed25519 "));

  for (const std::string* key : {&sshd->private_key_pem(), &sshd->ed25519_private_key()}) {
    SshSession session = Login(*sshd, *key);
    ASSERT_NE(session, nullptr);
    SshChannel channel(ssh_channel_new(session.get()));
    ASSERT_EQ(ssh_channel_open_session(channel.get()), SSH_OK) << ssh_get_error(session.get());
    ASSERT_EQ(ssh_channel_request_exec(channel.get(), "echo hello from $(id -un)"), SSH_OK)
        << ssh_get_error(session.get()) << "\n"
        << sshd->LogTail();
    EXPECT_EQ(ReadToEnd(channel.get()), StrCat("hello from ", sshd->user(), "\n"))
        << sshd->LogTail();
    EXPECT_EQ(ssh_channel_get_exit_status(channel.get()), 0);
  }
}

TEST(SshdTest, ForwardsToPostgresThroughTheBastion) {
  auto pg = Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  auto sshd = Sshd::Start();
  ASSERT_TRUE(sshd.ok()) << sshd.status();
  SshSession session = Login(*sshd, sshd->private_key_pem());
  ASSERT_NE(session, nullptr);

  // A direct-tcpip channel, which is what a local port forward opens per connection.
  SshChannel channel(ssh_channel_new(session.get()));
  ASSERT_EQ(ssh_channel_open_forward(channel.get(), "127.0.0.1", pg->port(), "127.0.0.1", 0),
            SSH_OK)
      << ssh_get_error(session.get()) << "\n"
      << sshd->LogTail();
  // PostgreSQL's SSLRequest: length 8, code 80877103. The server answers 'N' (ssl = off).
  const unsigned char ssl_request[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
  ASSERT_EQ(ssh_channel_write(channel.get(), ssl_request, sizeof(ssl_request)),
            static_cast<int>(sizeof(ssl_request)));
  char answer = 0;
  ASSERT_EQ(ssh_channel_read_timeout(channel.get(), &answer, 1, 0, 10000), 1);
  EXPECT_EQ(answer, 'N');

  // Targets off this machine are refused (PermitOpen), so a test can never tunnel outwards.
  SshChannel outside(ssh_channel_new(session.get()));
  EXPECT_NE(ssh_channel_open_forward(outside.get(), "192.0.2.1", 5432, "127.0.0.1", 0), SSH_OK);
}

// ---------------------------------------------------------------------------------------------
// Teardown

TEST(TeardownTest, DestructorsStopServicesAndDeleteTheirFiles) {
  int pg_port, http_port, ssh_port;
  std::string pg_dir, http_dir, ssh_dir;
  // Declared first so they outlive the services: connected clients must not keep a server (or
  // its per-connection processes) alive.
  PgConn pg_client;
  SshSession ssh_client;
  {
    auto pg = Postgres::Start();
    auto http = HttpFileServer::Start();
    auto sshd = Sshd::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    ASSERT_TRUE(http.ok()) << http.status();
    ASSERT_TRUE(sshd.ok()) << sshd.status();
    pg_client.reset(PQconnectdb(pg->ConnectionString().c_str()));
    ASSERT_EQ(PQstatus(pg_client.get()), CONNECTION_OK);
    ssh_client = Login(*sshd, sshd->ed25519_private_key());
    ASSERT_NE(ssh_client, nullptr);
    pg_port = pg->port();
    http_port = http->port();
    ssh_port = sshd->port();
    pg_dir = pg->dir();
    http_dir = http->dir();
    ssh_dir = sshd->dir();
    for (int port : {pg_port, http_port, ssh_port}) EXPECT_TRUE(AcceptsConnections(port));
    for (const std::string& dir : {pg_dir, http_dir, ssh_dir}) EXPECT_TRUE(Exists(dir));
  }
  for (int port : {pg_port, http_port, ssh_port}) EXPECT_FALSE(AcceptsConnections(port)) << port;
  for (const std::string& dir : {pg_dir, http_dir, ssh_dir}) EXPECT_FALSE(Exists(dir)) << dir;
  // The server side of both connections is gone.
  PgResult result(PQexec(pg_client.get(), "SELECT 1"));
  EXPECT_NE(PQresultStatus(result.get()), PGRES_TUPLES_OK);
}

TEST(TeardownTest, SshdStopEndsOpenSessions) {
  auto sshd = Sshd::Start();
  ASSERT_TRUE(sshd.ok()) << sshd.status();
  SshSession session = Login(*sshd, sshd->private_key_pem());
  ASSERT_NE(session, nullptr);
  SshChannel channel(ssh_channel_new(session.get()));
  ASSERT_EQ(ssh_channel_open_session(channel.get()), SSH_OK);
  ASSERT_EQ(ssh_channel_request_exec(channel.get(), "sleep 60"), SSH_OK);
  ASSERT_TRUE(sshd->Stop().ok());
  // sshd serves each connection from a child in its own session; Stop() must end it too, or the
  // command would run on (and this read would wait for its full timeout).
  const absl::Time start = absl::Now();
  char byte;
  EXPECT_LE(ssh_channel_read_timeout(channel.get(), &byte, 1, 0, 8000), 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(TeardownTest, StopKeepsFilesUntilDestruction) {
  auto http = HttpFileServer::Start();
  ASSERT_TRUE(http.ok()) << http.status();
  ASSERT_TRUE(http->Stop().ok());
  EXPECT_TRUE(RefusesSoon(http->port()));
  EXPECT_TRUE(Exists(http->dir()));
  EXPECT_TRUE(http->Stop().ok());  // Idempotent.
}

// A test process that dies without running any destructor must not leave services behind: the
// kernel kills them (PR_SET_PDEATHSIG), and their ports close.
TEST(TeardownTest, ServicesDieWithACrashedTest) {
  auto shared = TempDir::Create("crash-");
  ASSERT_TRUE(shared.ok());
  const std::string report = shared->Path("report");
  EXPECT_EXIT(
      {
        auto pg = Postgres::Start();
        auto http = HttpFileServer::Start();
        auto sshd = Sshd::Start();
        if (!pg.ok() || !http.ok() || !sshd.ok()) std::_Exit(3);
        const std::string text = StrCat(pg->port(), " ", http->port(), " ", sshd->port(), "\n",
                                        pg->dir(), "\n", http->dir(), "\n", sshd->dir(), "\n");
        if (!WriteFile(report, text).ok()) std::_Exit(4);
        std::abort();
      },
      ::testing::KilledBySignal(SIGABRT), "");
  auto text = ReadFile(report);
  ASSERT_TRUE(text.ok()) << "the crashing child did not start its services";
  std::istringstream lines(*text);
  int pg_port = 0, http_port = 0, ssh_port = 0;
  lines >> pg_port >> http_port >> ssh_port;
  EXPECT_TRUE(RefusesSoon(pg_port));
  EXPECT_TRUE(RefusesSoon(http_port));
  EXPECT_TRUE(RefusesSoon(ssh_port));
  // Only the files outlive a crash (under $TEST_TMPDIR, Bazel deletes them); tidy up here.
  std::string dir;
  std::getline(lines, dir);  // The rest of the ports line.
  while (std::getline(lines, dir)) {
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace connectors::harness
