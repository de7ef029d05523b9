// Write grants (common/grant.h): what a valid grant is, and every way a grant can be wrong.
#include "common/grant.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/time/clock.h"
#include "common/secret_file.h"
#include "common/tls.h"

namespace srs {
namespace {

using ::testing::HasSubstr;

class GrantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-grant-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  GrantFields Fields() const { return {"heat", 7, 3, "", absl::Now() + absl::Minutes(5)}; }
  std::string dir_;
  GrantKey key_ = GrantKey::Generate();
};

TEST_F(GrantTest, AFreshGrantVerifiesAndNamesItsPiece) {
  depot::v1::WriteGrant grant = key_.Mint(Fields());
  EXPECT_TRUE(key_.Verify(grant, absl::Now()).ok());
  EXPECT_EQ(grant.job(), "heat");
  EXPECT_EQ(grant.epoch(), 7);
  EXPECT_EQ(grant.rank(), 3);
  EXPECT_EQ(grant.mac().size(), 32u);
}

TEST_F(GrantTest, MissingGrantIsUnauthenticated) {
  EXPECT_EQ(key_.Verify(depot::v1::WriteGrant(), absl::Now()).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(GrantTest, EveryTamperedFieldIsRefused) {
  const depot::v1::WriteGrant good = key_.Mint(Fields());
  std::vector<std::function<void(depot::v1::WriteGrant*)>> tampers = {
      [](depot::v1::WriteGrant* g) { g->set_job("heat2"); },
      [](depot::v1::WriteGrant* g) { g->set_job("hea"); },
      [](depot::v1::WriteGrant* g) { g->set_epoch(8); },
      [](depot::v1::WriteGrant* g) { g->set_rank(4); },
      [](depot::v1::WriteGrant* g) { g->set_depot_id("depot-1"); },
      [](depot::v1::WriteGrant* g) { g->set_expires_unix_ms(g->expires_unix_ms() + 3600000); },
      [](depot::v1::WriteGrant* g) { (*g->mutable_mac())[0] ^= 1; },
      [](depot::v1::WriteGrant* g) { g->mutable_mac()->pop_back(); },
      [](depot::v1::WriteGrant* g) { g->set_mac("garbage"); },
  };
  for (size_t i = 0; i < tampers.size(); ++i) {
    depot::v1::WriteGrant bad = good;
    tampers[i](&bad);
    absl::Status status = key_.Verify(bad, absl::Now());
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << "tamper " << i;
    EXPECT_THAT(std::string(status.message()), HasSubstr("invalid")) << "tamper " << i;
  }
}

TEST_F(GrantTest, ExpiredGrantIsRefusedAndSaysSo) {
  GrantFields fields = Fields();
  fields.expires = absl::Now() - absl::Seconds(1);
  absl::Status status = key_.Verify(key_.Mint(fields), absl::Now());
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(status.message()), HasSubstr("expired"));
  // Valid until its expiry, not after.
  depot::v1::WriteGrant later = key_.Mint(Fields());
  EXPECT_TRUE(key_.Verify(later, absl::Now() + absl::Minutes(4)).ok());
  EXPECT_FALSE(key_.Verify(later, absl::Now() + absl::Minutes(6)).ok());
}

TEST_F(GrantTest, AnotherKeysGrantIsRefused) {
  GrantKey other = GrantKey::Generate();
  ASSERT_NE(other.bytes(), key_.bytes());
  EXPECT_EQ(key_.Verify(other.Mint(Fields()), absl::Now()).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(GrantTest, FieldsAreLengthPrefixedSoNoTwoPiecesShareAMac) {
  // "a" + epoch 12 must not sign the same bytes as "a1" + epoch 2 (or any other split).
  depot::v1::WriteGrant a = key_.Mint({"a", 12, 0, "", absl::FromUnixMillis(1)});
  depot::v1::WriteGrant b = key_.Mint({"a1", 2, 0, "", absl::FromUnixMillis(1)});
  EXPECT_NE(a.mac(), b.mac());
}

TEST_F(GrantTest, KeyFileIsPrivateAndRoundTrips) {
  const std::string path = dir_ + "/grant.key";
  absl::StatusOr<GrantKey> created = GrantKey::LoadOrCreate(path);
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  absl::StatusOr<GrantKey> again = GrantKey::LoadOrCreate(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bytes(), created->bytes());
  // A loosened file is tightened when read.
  chmod(path.c_str(), 0644);
  ASSERT_TRUE(GrantKey::Load(path).ok());
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

// A secret file must be a regular file: ReadSecretFile tightens the mode of what it is given, so
// `--grant-key /dev/null` or `--enroll-secret-file /dev/stdin` run as root used to chmod the
// device to 0600 for everyone (found in review: /dev/null became crw-------). A directory shows
// the same without root: it must be refused and its mode left alone.
TEST_F(GrantTest, ANonRegularSecretFileIsRefusedAndItsModeLeftAlone) {
  const std::string path = dir_ + "/not-a-file";
  ASSERT_EQ(mkdir(path.c_str(), 0755), 0);
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);  // whatever the umask
  absl::StatusOr<std::string> read = ReadSecretFile(path);
  EXPECT_FALSE(read.ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755) << "ReadSecretFile changed the mode of a directory";
}

TEST_F(GrantTest, BadKeyFilesAreClearErrors) {
  EXPECT_EQ(GrantKey::Load(dir_ + "/none").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(WriteSecretFile(dir_ + "/short", "abcd\n").ok());
  absl::Status status = GrantKey::Load(dir_ + "/short").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr(dir_ + "/short"));
  EXPECT_EQ(GrantKey::FromBytes("short").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TlsTest, LoopbackDetectionAndTheListenCheck) {
  EXPECT_TRUE(tls::IsLoopbackListen("127.0.0.1:0"));
  EXPECT_TRUE(tls::IsLoopbackListen("127.3.4.5:7000"));
  EXPECT_TRUE(tls::IsLoopbackListen("[::1]:7000"));
  EXPECT_TRUE(tls::IsLoopbackListen("localhost:7000"));
  EXPECT_FALSE(tls::IsLoopbackListen("0.0.0.0:7000"));
  EXPECT_FALSE(tls::IsLoopbackListen("[::]:7000"));
  EXPECT_FALSE(tls::IsLoopbackListen("10.0.0.1:7000"));
  EXPECT_FALSE(tls::IsLoopbackListen("node12:7000"));
  EXPECT_TRUE(tls::CheckListenSecurity("127.0.0.1:0", false, false).ok());
  EXPECT_TRUE(tls::CheckListenSecurity("0.0.0.0:0", true, false).ok());
  EXPECT_TRUE(tls::CheckListenSecurity("0.0.0.0:0", false, true).ok());
  absl::Status refused = tls::CheckListenSecurity("0.0.0.0:0", false, false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("--insecure"));
}

TEST(TlsTest, IncompleteOrUnreadableFilesAreRefused) {
  EXPECT_EQ(tls::MakeServerCredentials({"", "cert.pem", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tls::MakeServerCredentials({"ca.pem", "", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status missing = tls::MakeChannelCredentials({"/nonexistent/ca.pem", "", ""}).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("/nonexistent/ca.pem"));
  EXPECT_TRUE(tls::MakeChannelCredentials({}).ok());  // plain text
  EXPECT_FALSE(tls::SetClientTls({"/nonexistent/ca.pem", "", ""}).ok());
  EXPECT_FALSE(tls::ClientTlsEnabled());  // a failed setting leaves the previous one
}

}  // namespace
}  // namespace srs
