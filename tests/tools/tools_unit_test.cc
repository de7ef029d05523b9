// Unit tests of the pieces of `srs` that need no daemons: the argument parser and the export
// plan chunking (the e2e export tests use arrays far below one 16 MiB chunk, so the slicing of
// large transfers is tested here).
#include <gtest/gtest.h>
#include <unistd.h>

#include <vector>

#include "common/progress_line.h"
#include "tools/args.h"
#include "tools/completion.h"
#include "tools/export_plan.h"
#include "tools/json_output.h"
#include "tools/progress.h"

namespace srs::tools {
namespace {

std::vector<int64_t> Expand(const std::vector<layout::Hyperslab>& slabs) {
  std::vector<int64_t> out;
  for (const layout::Hyperslab& s : slabs) {
    for (int64_t b = 0; b < s.count; ++b) {
      for (int64_t k = 0; k < s.block; ++k) out.push_back(s.start + b * s.stride + k);
    }
  }
  return out;
}

TEST(SliceSlab, CoversExactlyTheRequestedElements) {
  layout::Hyperslab slab{5, 10, 7, 4};  // 7 blocks of 4, stride 10
  std::vector<int64_t> all = Expand({slab});
  for (int64_t first = 0; first <= 28; ++first) {
    for (int64_t last = first; last <= 28; ++last) {
      std::vector<layout::Hyperslab> part = SliceSlab(slab, first, last);
      EXPECT_LE(part.size(), 3u);
      std::vector<int64_t> want(all.begin() + first, all.begin() + last);
      EXPECT_EQ(Expand(part), want) << first << ".." << last;
    }
  }
}

TEST(ChunkPlan, KeepsTheElementCorrespondence) {
  layout::Transfer t;
  t.src_rank = 2;
  t.src = {{0, 1, 1, 40}, {100, 3, 9, 1}};
  t.dst = {{7, 7, 8, 5}, {1000, 4, 3, 3}};
  t.elements = 49;
  for (int64_t max : {1, 2, 5, 7, 13, 49, 100}) {
    std::vector<int64_t> src, dst;
    for (const ExportChunk& chunk : ChunkPlan({t}, max)) {
      EXPECT_EQ(chunk.src_rank, 2);
      EXPECT_LE(chunk.elements, max);
      std::vector<int64_t> s = Expand(chunk.src), d = Expand(chunk.dst);
      EXPECT_EQ(static_cast<int64_t>(s.size()), chunk.elements);
      EXPECT_EQ(static_cast<int64_t>(d.size()), chunk.elements);
      src.insert(src.end(), s.begin(), s.end());
      dst.insert(dst.end(), d.begin(), d.end());
    }
    std::vector<int64_t> want_src, want_dst;
    for (size_t i = 0; i < t.src.size(); ++i) {
      for (int64_t v : Expand({t.src[i]})) want_src.push_back(v);
      for (int64_t v : Expand({t.dst[i]})) want_dst.push_back(v);
    }
    EXPECT_EQ(src, want_src) << "max " << max;
    EXPECT_EQ(dst, want_dst) << "max " << max;
  }
}

TEST(ArgParser, ParsesOptionsPositionalsAndCommand) {
  ArgParser args("srs run [-n N] -- PROG", "runs");
  args.AddValue("np", 'n', "N", "ranks");
  args.AddFlag("resume", 'r', "resume");
  args.TakeCommandAfterOptions("program");
  ASSERT_TRUE(args.Parse({"-n4", "--resume", "prog", "-n", "x"}).ok());
  EXPECT_EQ(*args.GetInt("np", 1, 1), 4);
  EXPECT_TRUE(args.Has("resume"));
  EXPECT_EQ(args.command(), (std::vector<std::string>{"prog", "-n", "x"}));
}

TEST(ArgParser, RejectsBadInput) {
  ArgParser args("srs ls JOB", "lists");
  args.AddPositional("JOB", "job");
  args.AddValue("epoch", 'e', "E", "epoch");
  EXPECT_TRUE(absl::IsInvalidArgument(args.Parse({})));
  ArgParser extra("srs ls JOB", "lists");
  extra.AddPositional("JOB", "job");
  EXPECT_TRUE(absl::IsInvalidArgument(extra.Parse({"a", "b"})));
  ArgParser unknown("srs ls JOB", "lists");
  unknown.AddPositional("JOB", "job");
  EXPECT_TRUE(absl::IsInvalidArgument(unknown.Parse({"a", "--nope"})));
  ArgParser bad_int("srs ls JOB", "lists");
  bad_int.AddPositional("JOB", "job");
  bad_int.AddValue("epoch", 'e', "E", "epoch");
  ASSERT_TRUE(bad_int.Parse({"a", "--epoch=x"}).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(bad_int.GetInt("epoch", 0, 1).status()));
}

TEST(ArgParser, HelpNeedsNoPositionals) {
  ArgParser args("srs ls JOB", "lists");
  args.AddPositional("JOB", "job");
  ASSERT_TRUE(args.Parse({"--help"}).ok());
  EXPECT_TRUE(args.help());
  EXPECT_NE(args.Help().find("usage: srs ls JOB"), std::string::npos);
}

TEST(ArgParser, KeepsTheOldSpellings) {
  ArgParser args("srs stop JOB [--wait] [--timeout S]", "stops");
  args.AddPositional("JOB", "job");
  args.AddFlag("wait", 'w', "wait");
  args.AddValue("timeout", 't', "S", "seconds");
  ASSERT_TRUE(args.Parse({"-w", "--timeout=5", "job", "-t", "7"}).ok());
  EXPECT_TRUE(args.Has("wait"));
  EXPECT_EQ(*args.GetInt("timeout", 600, 1), 7);  // the last one wins
  EXPECT_EQ(args.Positional("JOB"), "job");
  EXPECT_FALSE(args.quiet());
  ArgParser dashdash("srs ls JOB", "lists");
  dashdash.AddPositional("JOB", "job");
  ASSERT_TRUE(dashdash.Parse({"-q", "--", "-odd-name"}).ok());
  EXPECT_EQ(dashdash.Positional("JOB"), "-odd-name");
  EXPECT_TRUE(dashdash.quiet());
}

TEST(ArgParser, WordsItsErrors) {
  ArgParser args("srs export JOB OUT.h5 [--epoch E]", "exports");
  args.AddPositional("JOB", "job");
  args.AddPositional("OUT.h5", "file");
  args.AddValue("epoch", 'e', "E", "epoch");
  absl::Status missing = args.Parse({"job"});
  EXPECT_NE(missing.message().find("missing OUT.h5; usage: srs export"), std::string::npos)
      << missing;
  ArgParser value("srs export JOB OUT.h5 [--epoch E]", "exports");
  value.AddPositional("JOB", "job");
  value.AddValue("epoch", 'e', "E", "epoch");
  absl::Status no_value = value.Parse({"job", "--epoch"});
  EXPECT_EQ(no_value.message(), "option --epoch needs a value (E)");
  ArgParser unknown("srs run -- PROG", "runs");
  unknown.TakeCommandAfterOptions("program");
  absl::Status bogus = unknown.Parse({"--bogus", "prog"});
  EXPECT_NE(bogus.message().find("unknown option --bogus"), std::string::npos) << bogus;
  ArgParser repeated("srs bench [NAME...]", "benches");
  repeated.AddRepeatedPositional("NAME", "names");
  absl::Status two = repeated.Parse({"a", "b"});
  ASSERT_TRUE(two.ok()) << two;
  EXPECT_EQ(repeated.repeated(), (std::vector<std::string>{"a", "b"}));
}

TEST(ArgParser, SpecSinkCollectsDefinitionsWithoutParsing) {
  std::vector<CommandSpec> specs;
  ArgParser::SetSpecSink(&specs);
  ArgParser args("srs stop JOB", "stops");
  args.AddPositional("JOB", "job");
  args.AddValue("timeout", 't', "S", "seconds");
  absl::Status parsed = args.Parse({"--help"});
  ArgParser::SetSpecSink(nullptr);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(args.help());
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].name, "stop");
  EXPECT_EQ(specs[0].positionals, (std::vector<std::string>{"JOB"}));
  ASSERT_EQ(specs[0].options.size(), 2u);  // --quiet, --timeout
  EXPECT_EQ(specs[0].options[1].name, "timeout");
  EXPECT_TRUE(specs[0].options[1].takes_value);
  std::string script = BashCompletion({"stop", "help"}, specs);
  EXPECT_NE(script.find("--timeout -t"), std::string::npos) << script;
  EXPECT_NE(script.find("complete -o bashdefault -o default -F _srs srs"), std::string::npos);
}

TEST(Progress, LineShowsBytesPercentRateAndTimeLeft) {
  // 256 MiB of 1 GiB in 2 s: 25%, 128 MiB/s, 768 MiB left = 6 s.
  EXPECT_EQ(Progress::Line("export", 256 << 20, int64_t{1} << 30, absl::Seconds(2)),
            "export: 256.0 MiB of 1.0 GiB  25%  128.0 MiB/s  6 s left");
  EXPECT_EQ(Progress::Line("export", 0, 1000, absl::Seconds(1)), "export: 0 B of 1000 B  0%");
  EXPECT_EQ(Progress::Line("export", 1000, 1000, absl::Seconds(1)),
            "export: 1000 B of 1000 B  100%  1000 B/s");
  EXPECT_EQ(Progress::Line("fetch", 2048, 0, absl::Seconds(1)), "fetch: 2.0 KiB  2.0 KiB/s");
  EXPECT_EQ(Progress::Line("x", 1 << 20, 301 << 20, absl::Seconds(1)),
            "x: 1.0 MiB of 301.0 MiB  0%  1.0 MiB/s  5 min 0 s left");
  // No rate from the first few bytes: under a second and under 1 % of the total.
  EXPECT_EQ(Progress::Line("export", 4, int64_t{1} << 30, absl::Milliseconds(300)),
            "export: 4 B of 1.0 GiB  0%");
  EXPECT_EQ(Progress::Line("export", 16 << 20, int64_t{1} << 30, absl::Milliseconds(300)),
            "export: 16.0 MiB of 1.0 GiB  1%  53.3 MiB/s  19 s left");
  // A transfer first seen part way (a stop checkpoint: 64 MiB done when first seen, 320 MiB
  // 2 s later): the rate is what moved since, 128 MiB/s, not 320 MiB over the 2 s.
  EXPECT_EQ(ProgressLine("stopping heat", 320 << 20, int64_t{1} << 30, absl::Seconds(2), 64 << 20),
            "stopping heat: 320.0 MiB of 1.0 GiB  31%  128.0 MiB/s  6 s left");
  // Nothing moved since: no rate yet.
  EXPECT_EQ(ProgressLine("stopping heat", 64 << 20, int64_t{1} << 30, absl::Seconds(2), 64 << 20),
            "stopping heat: 64.0 MiB of 1.0 GiB  6%");
}

TEST(Progress, SilentWhenQuietOrNotATerminal) {
  Progress quiet("export", 100, /*quiet=*/true);
  quiet.Add(50);
  EXPECT_FALSE(quiet.shown());
  EXPECT_EQ(quiet.done_bytes(), 50);
  Progress piped("export", 100, /*quiet=*/false);  // ctest's stderr is not a terminal
  EXPECT_EQ(piped.shown(), isatty(STDERR_FILENO) == 1);
  piped.Add(-5);
  EXPECT_EQ(piped.done_bytes(), 0);
}

TEST(JsonOutput, UsesTheDocumentedFieldNamesAndPrintsZeros) {
  rssv1::JobSummary job;
  job.set_job("heat");
  job.set_state("stopped");
  job.set_nprocs(4);
  job.add_hosts("n1");
  job.set_last_epoch(3);
  job.set_last_checkpoint_bytes(int64_t{1} << 40);
  job.set_last_checkpoint_unix_ms(86400000);
  cliv1::StatusOutput out;
  *out.add_jobs() = JobStatusJson(job);
  absl::StatusOr<std::string> json = ToJson(out);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json,
            "{\"jobs\":[{\"job\":\"heat\",\"state\":\"stopped\",\"stop_pending\":false,"
            "\"nprocs\":4,\"hosts\":[\"n1\"],\"last_epoch\":3,"
            "\"last_checkpoint_bytes\":1099511627776,"
            "\"last_checkpoint_time\":\"1970-01-02T00:00:00Z\","
            "\"last_checkpoint_unix_ms\":86400000,\"failure\":\"\"}]}");
}

TEST(JsonOutput, LsKeepsCapabilitiesOutAndFiltersLikeTheTable) {
  rssv1::GetJobResponse info;
  rssv1::CheckpointSummary* live = info.add_checkpoints();
  live->set_epoch(2);
  live->set_state("committed");
  rssv1::PieceRecord* piece = live->add_pieces();
  piece->set_rank(1);
  piece->set_read_cap("secret-read-cap");
  piece->set_xxh3_64(0xabc);
  info.add_checkpoints()->set_state("deleted");
  absl::StatusOr<std::string> json = ToJson(LsJson("heat", info, /*all=*/false));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->find("secret-read-cap"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"checksum\":\"xxh3:0000000000000abc\""), std::string::npos) << *json;
  EXPECT_EQ(LsJson("heat", info, false).checkpoints_size(), 1);
  EXPECT_EQ(LsJson("heat", info, true).checkpoints_size(), 2);
}

TEST(JsonOutput, DepotStateFollowsItsLastRegistration) {
  rssv1::ListDepotsResponse depots;
  absl::Time now = absl::FromUnixSeconds(1000000);
  rssv1::DepotRecord* fresh = depots.add_depots();
  fresh->set_depot_id("d1");
  fresh->set_last_seen_unix_ms(absl::ToUnixMillis(now - absl::Seconds(5)));
  depots.add_depots()->set_last_seen_unix_ms(absl::ToUnixMillis(now - absl::Minutes(5)));
  cliv1::DepotsOutput out = DepotsJson(depots, now);
  ASSERT_EQ(out.depots_size(), 2);
  EXPECT_EQ(out.depots(0).id(), "d1");
  EXPECT_EQ(out.depots(0).state(), "up");
  EXPECT_EQ(out.depots(1).state(), "down");
  EXPECT_EQ(IsoTime(0), "");
}

}  // namespace
}  // namespace srs::tools
