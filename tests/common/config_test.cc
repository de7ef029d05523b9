#include "common/config.h"

#include <cstdio>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace srs {
namespace {

using ::testing::HasSubstr;

TEST(ConfigParse, ReadsKeysCommentsAndBlankLines) {
  absl::StatusOr<Config> config = Config::Parse(
      "# a comment\n\nrss = 127.0.0.1:5000   # trailing comment\n app=heat \nkeep = 3\n",
      "srs.config");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetString("rss", ""), "127.0.0.1:5000");
  EXPECT_EQ(config->GetString("app", ""), "heat");
  EXPECT_EQ(*config->GetInt("keep", 1), 3);
  EXPECT_EQ(config->Origin("keep"), "srs.config:5");
  EXPECT_FALSE(config->Has("depot"));
  EXPECT_EQ(config->GetString("depot", "auto"), "auto");
}

TEST(ConfigParse, MalformedLineNamesFileLineAndReason) {
  absl::StatusOr<Config> config = Config::Parse("rss = a:1\nthis line has no equals\n", "x.cfg");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("x.cfg:2"));
  EXPECT_THAT(config.status().message(), HasSubstr("expected 'key = value'"));
}

TEST(ConfigParse, UnknownKeyIsReportedNotIgnored) {
  absl::StatusOr<Config> config = Config::Parse("checkpoint_intervall = 10\n", "srs.config");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("srs.config:1"));
  EXPECT_THAT(config.status().message(), HasSubstr("unknown key 'checkpoint_intervall'"));
  EXPECT_THAT(config.status().message(), HasSubstr("checkpoint_interval"));
}

TEST(ConfigParse, RejectsBadKeyNamesAndDuplicates) {
  EXPECT_THAT(Config::Parse("rs s = 1\n", "f").status().message(), HasSubstr("not a key name"));
  EXPECT_THAT(Config::Parse(" = 1\n", "f").status().message(), HasSubstr("f:1"));
  absl::StatusOr<Config> dup = Config::Parse("keep = 1\nkeep = 2\n", "f");
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup.status().message(), HasSubstr("f:2: key 'keep' set twice (first at f:1)"));
}

TEST(ConfigParse, TypedGettersNameTheOrigin) {
  absl::StatusOr<Config> config =
      Config::Parse("keep = many\ncheckpoint_interval = 2.5\nforce = yes\n", "c");
  ASSERT_TRUE(config.ok());
  absl::StatusOr<int64_t> keep = config->GetInt("keep", 1);
  ASSERT_FALSE(keep.ok());
  EXPECT_THAT(keep.status().message(), HasSubstr("c:1: keep must be an integer, got 'many'"));
  EXPECT_DOUBLE_EQ(*config->GetDouble("checkpoint_interval", 0), 2.5);
  EXPECT_TRUE(*config->GetBool("force", false));
  EXPECT_FALSE(config->GetBool("keep", false).ok());
}

TEST(ConfigEnv, EnvironmentOverridesFileKeys) {
  absl::StatusOr<Config> config = Config::Parse("app = fromfile\nkeep = 2\n", "f");
  ASSERT_TRUE(config.ok());
  config->ApplyEnvironment(MapEnvironment({{"SRS_APP", "fromenv"}, {"SRS_DEPOT", "h:1"}}));
  EXPECT_EQ(config->GetString("app", ""), "fromenv");
  EXPECT_EQ(config->Origin("app"), "env SRS_APP");
  EXPECT_EQ(config->GetString("depot", ""), "h:1");
  EXPECT_EQ(*config->GetInt("keep", 1), 2);
}

TEST(ConfigLoad, ExplicitPathMustExist) {
  absl::StatusOr<Config> config = Config::Load("/nonexistent/srs.config", MapEnvironment({}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(config.status().message(), HasSubstr("/nonexistent/srs.config"));
}

TEST(ConfigLoad, SrsConfigVariableChoosesTheFile) {
  std::string path = testing::TempDir() + "/config_test_srs.config";
  {
    std::ofstream out(path);
    out << "rss = 10.0.0.1:1\n";
  }
  absl::StatusOr<Config> config = Config::Load("", MapEnvironment({{"SRS_CONFIG", path}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetString("rss", ""), "10.0.0.1:1");
  EXPECT_EQ(config->source(), path);
  std::remove(path.c_str());
}

TEST(ConfigSet, RejectsUnknownKeysAndRoundTripsAsText) {
  Config config;
  EXPECT_FALSE(config.Set("nope", "1").ok());
  ASSERT_TRUE(config.Set("app", "heat").ok());
  ASSERT_TRUE(config.Set("keep", "2").ok());
  absl::StatusOr<Config> again = Config::Parse(config.ToText(), "text");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->GetString("app", ""), "heat");
  EXPECT_EQ(*again->GetInt("keep", 0), 2);
}

}  // namespace
}  // namespace srs
