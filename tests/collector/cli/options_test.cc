#include <gtest/gtest.h>

#include "collector/cli/options.h"

namespace vmc {
namespace {

Result<Options> parse(std::vector<std::string> args) { return parse_options("makedumpfile", args); }

TEST(Options, KdumpConfLineParses) {
  auto o = parse({"-l", "--message-level", "7", "-d", "31", "/proc/vmcore", "/var/crash/x/vmcore-incomplete"});
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->codec, compress::CodecKind::kLzo);
  EXPECT_EQ(o->dump_level, 31);
  EXPECT_EQ(o->message_level, 7);
  EXPECT_EQ(o->input, "/proc/vmcore");
  EXPECT_EQ(o->output, "/var/crash/x/vmcore-incomplete");
}

TEST(Options, ClusteredAndAttachedForms) {
  auto o = parse({"-cd31", "--message-level=23", "in", "out"});
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->codec, compress::CodecKind::kZlib);
  EXPECT_EQ(o->dump_level, 31);
  EXPECT_EQ(o->message_level, 23);
}

// getopt_long's rules, which makedumpfile follows and kdump configurations
// in the field rely on.
TEST(Options, LongOptionsMayBeAbbreviated) {
  auto o = parse({"-l", "--num-thr=2", "--message", "7", "--show-stat", "in", "out"});
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->num_threads, 2);
  EXPECT_EQ(o->message_level, 7 | 16);  // --show-stat(s) adds the report
  auto dmesg = parse({"--dump-d", "in", "log"});
  ASSERT_TRUE(dmesg.ok()) << dmesg.error().describe();
  EXPECT_EQ(dmesg->mode, Mode::kDumpDmesg);
  // makedumpfile has one --mem... option; vmcollect's --mem-ranges yields to it.
  auto mem = parse({"--mem", "/proc/kcore"});
  ASSERT_TRUE(mem.ok()) << mem.error().describe();
  EXPECT_EQ(mem->mode, Mode::kMemUsage);
}

TEST(Options, AbbreviationsMustBeUnambiguousAndArgumentsWhereTaken) {
  auto ambiguous = parse({"--non", "in", "out"});  // --non-mmap or --non-cyclic
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.error().message(),
            "option '--non' is ambiguous; possibilities: '--non-mmap' '--non-cyclic'");
  auto unknown = parse({"--nosuch", "in", "out"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message(), "unrecognized option '--nosuch'");
  auto with_value = parse({"--split=3", "in", "a", "b"});
  ASSERT_FALSE(with_value.ok());
  EXPECT_EQ(with_value.error().message(), "option '--split' doesn't allow an argument");
  auto missing = parse({"-l", "--message"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "option '--message-level' requires an argument");
}

TEST(Options, ShowStatsAddsTheReportLevelAfterEveryOption) {
  auto o = parse({"--show-stats", "--message-level", "7", "-d", "31", "in", "out"});
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->message_level, 7 | 16);
  auto dry = parse({"--dry-run", "-l", "in", "out"});
  ASSERT_TRUE(dry.ok()) << dry.error().describe();
  EXPECT_TRUE(dry->dry_run);
  EXPECT_FALSE(parse({"--dry-run", "--reassemble", "a", "b", "c"}).ok());
}

TEST(Options, FlattenTakesOnlyTheInput) {
  auto o = parse({"-F", "-c", "-d", "31", "/proc/vmcore"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->flatten);
  EXPECT_EQ(o->input, "/proc/vmcore");
  EXPECT_FALSE(parse({"-F", "-c", "in", "out"}).ok());
}

TEST(Options, RefusesWhatMakedumpfileRefuses) {
  EXPECT_FALSE(parse({"-E", "-c", "in", "out"}).ok());
  EXPECT_FALSE(parse({"-d", "32", "in", "out"}).ok());
  EXPECT_FALSE(parse({"-d", "x", "in", "out"}).ok());
  EXPECT_FALSE(parse({"--message-level", "99", "in", "out"}).ok());
  EXPECT_FALSE(parse({"in"}).ok());
  EXPECT_FALSE(parse({"--no-such-option", "in", "out"}).ok());
  EXPECT_FALSE(parse({"-E", "--num-threads", "2", "in", "out"}).ok());
}

TEST(Options, RearrangeAndDmesg) {
  auto r = parse({"-R", "out"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mode, Mode::kRearrange);
  EXPECT_EQ(r->output, "out");
  auto d = parse({"--dump-dmesg", "vmcore", "log.txt"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mode, Mode::kDumpDmesg);
  auto s = parse({"--dump-dmesg", "-F", "vmcore"});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->output.empty());
}

TEST(Options, FaultInjectionSpec) {
  auto o = parse({"--inject-fault", "read-eio=0x1000-0x2000,write-enospc=1048576", "in", "out"});
  ASSERT_TRUE(o.ok()) << o.error().describe();
  ASSERT_EQ(o->faults_in.read_eio.size(), 1u);
  EXPECT_EQ(o->faults_in.read_eio[0].begin, 0x1000u);
  EXPECT_EQ(*o->faults_out.write_enospc_at, 1048576u);
  EXPECT_FALSE(parse({"--inject-fault", "bogus=1", "in", "out"}).ok());
}

}  // namespace
}  // namespace vmc
