// Google's Cloud Pub/Sub emulator for a test (Debian package google-cloud-cli-pubsub-emulator,
// a Java server), on 127.0.0.1 at a free port, in a temp dir. It serves the gRPC API and the
// same REST paths over HTTP/1.1 (e.g. PUT /v1/projects/P/topics/T), without authentication;
// state is in memory and dies with it. Starts in about two seconds. The destructor stops it.
//
//   if (!harness::PubsubEmulator::Installed()) GTEST_SKIP() << harness::PubsubEmulator::Missing();
//   auto emulator = harness::PubsubEmulator::Start();
//   ASSERT_TRUE(emulator.ok()) << emulator.status();
//   std::string base = emulator->url();  // "http://127.0.0.1:PORT"
//
// What it does not do like the real service (worth knowing in tests): project, topic and
// subscription names need at least 3 characters; a publish of more than 1,000 messages is
// rejected, but a request over about 10 MB gets no answer at all, so clients must keep within
// the limits themselves.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace connectors::harness {

class PubsubEmulator {
 public:
  // The launcher: $PUBSUB_EMULATOR_LAUNCHER, else the Debian package's
  // /usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator.
  static absl::StatusOr<std::string> Launcher();
  static bool Installed() { return Launcher().ok(); }
  // A loud explanation for a skipped test.
  static std::string Missing();

  // Starts the emulator and returns once it answers REST requests.
  static absl::StatusOr<PubsubEmulator> Start();

  PubsubEmulator(PubsubEmulator&&) noexcept;
  PubsubEmulator& operator=(PubsubEmulator&&) noexcept;
  ~PubsubEmulator();

  const std::string& host() const;  // "127.0.0.1"
  int port() const;
  std::string host_port() const;  // What PUBSUB_EMULATOR_HOST would hold.
  std::string url() const;        // "http://127.0.0.1:PORT"
  const std::string& dir() const;
  std::string LogTail() const;

  // Stops the emulator now (its state is lost); files stay until destruction. Idempotent.
  absl::Status Stop();

 private:
  struct State;
  explicit PubsubEmulator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace connectors::harness
