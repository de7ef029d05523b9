// Unit tests of the pieces of `srs` that need no daemons: the argument parser and the export
// plan chunking (the e2e export tests use arrays far below one 16 MiB chunk, so the slicing of
// large transfers is tested here).
#include <gtest/gtest.h>

#include <vector>

#include "tools/args.h"
#include "tools/completion.h"
#include "tools/export_plan.h"

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

}  // namespace
}  // namespace srs::tools
