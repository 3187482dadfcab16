// Sample sizes that scale: the range grammar's unions ("{auto} | {0} | [2, inf)"), the SampleKeys
// option type, the configuration check of IRLLRec's translation_keys, SGL's and SimGCL's contrast_keys
// and RLMRec-Gen's seed_keys (0, 2 or more, or auto; 1 refused by the range, not by hand), and the log
// line that says what `auto` became on a run's graph.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "recgrid/option_range.hpp"
#include "recgrid/sample_keys.hpp"
#include "test_support.hpp"

using recgrid::OptionRange;

TEST(OptionRange, AUnionAcceptsAValueAnyOfItsPartsAccepts) {
  const OptionRange keys = OptionRange::parse("{0} | [2, inf)");
  EXPECT_EQ(keys.check("0"), "");
  EXPECT_EQ(keys.check("2"), "");
  EXPECT_EQ(keys.check("4096"), "");
  EXPECT_EQ(keys.check("1"), "must be in {0} | [2, inf)");
  EXPECT_EQ(keys.check("-2"), "must be in {0} | [2, inf)");
  EXPECT_EQ(keys.check("auto"), "must be in {0} | [2, inf)");
  const OptionRange with_word = OptionRange::parse("{auto} | {0} | [2, inf)");
  EXPECT_EQ(with_word.check("auto"), "");
  EXPECT_EQ(with_word.check("1.5"), "must be in {auto} | {0} | [2, inf)");
  EXPECT_TRUE(with_word.lists("auto"));
  EXPECT_FALSE(with_word.lists("0.5"));
  EXPECT_FALSE(OptionRange::parse("[0, 1]").lists("0"));
  // Two intervals: (0, 1] or [5, 10).
  const OptionRange two = OptionRange::parse("(0, 1] | [5, 10)");
  EXPECT_EQ(two.check("1"), "");
  EXPECT_EQ(two.check("5"), "");
  EXPECT_NE(two.check("3"), "");
  EXPECT_NE(two.check("10"), "");
}

TEST(OptionRange, AUnionWithAnEmptyOrMalformedPartIsRefused) {
  for (const char* bad : {"{0} |", "| [2, inf)", "{0} || [2, inf)", "{0} | 2", "{0} | [3, 2]"})
    EXPECT_THROW(OptionRange::parse(bad), std::invalid_argument) << bad;
}

TEST(SampleKeys, AutoIsExactUpToTheNodeCountAndASampleAbove) {
  const recgrid::SampleKeys automatic;
  EXPECT_EQ(automatic.resolve(6000), 0);
  EXPECT_EQ(automatic.resolve(recgrid::kAutoExactNodes), 0);
  EXPECT_EQ(automatic.resolve(recgrid::kAutoExactNodes + 1), recgrid::kAutoSampleKeys);
  EXPECT_EQ(automatic.resolve(203320), 4096);
  EXPECT_EQ(recgrid::SampleKeys(int64_t{0}).resolve(203320), 0);     // exact, as asked
  EXPECT_EQ(recgrid::SampleKeys(int64_t{1024}).resolve(6000), 1024);  // a sample, as asked
  // Read from resolved options as the SDK reads every field.
  EXPECT_TRUE(nlohmann::json("auto").get<recgrid::SampleKeys>().automatic);
  EXPECT_EQ(nlohmann::json(4096).get<recgrid::SampleKeys>().keys, 4096);
  EXPECT_THROW(nlohmann::json(2.5).get<recgrid::SampleKeys>(), std::invalid_argument);
  EXPECT_EQ(nlohmann::json(recgrid::SampleKeys()).dump(), "\"auto\"");
}

namespace {

using recgrid::test::run_cli;

// `recgrid bench` of one step on planted data of USERS x ITEMS with a stack, its output.
recgrid::test::CliResult bench(const std::string& stack, int users, int items, const std::string& extra = "") {
  return run_cli("bench --steps 1 --warmup 0 --set dataset.synthetic.users=" + std::to_string(users) +
                 " --set dataset.synthetic.items=" + std::to_string(items) + " " + stack + " " + extra);
}

}  // namespace

TEST(SampleKeys, TheFourOptionsTakeZeroTwoOrMoreOrAutoAndRefuseOne) {
  const std::string sgl = "--set extends.model=sgl";
  for (const char* value : {"0", "2", "auto"}) EXPECT_EQ(bench(sgl, 300, 200, std::string("--set model.contrast_keys=") + value).code, 0) << value;
  const auto one = bench(sgl, 300, 200, "--set model.contrast_keys=1");
  EXPECT_EQ(one.code, 2) << one.output;
  EXPECT_NE(one.output.find("'model.contrast_keys' must be in {auto} | {0} | [2, inf), found 1"), std::string::npos)
      << one.output;
  for (const std::string key : {"--set extends.model=simgcl --set model.contrast_keys",
                                "--set extends.enhancers=irllrec --set enhancer.irllrec.translation_keys",
                                "--set extends.enhancers=rlmrec_gen --set enhancer.rlmrec_gen.seed_keys"}) {
    const auto refused = bench(key.substr(0, key.rfind(" --set")), 300, 200, key.substr(key.rfind("--set")) + "=1");
    EXPECT_EQ(refused.code, 2) << key << refused.output;
    EXPECT_NE(refused.output.find("must be in {auto} | {0} | [2, inf), found 1"), std::string::npos) << refused.output;
    const auto word = bench(key.substr(0, key.rfind(" --set")), 300, 200, key.substr(key.rfind("--set")) + "=automatic");
    EXPECT_EQ(word.code, 2) << key << word.output;
  }
}

TEST(SampleKeys, TheLogSaysWhatAutoBecameOnTheGraph) {
  const auto small = bench("--set extends.enhancers=irllrec", 300, 200);
  ASSERT_EQ(small.code, 0) << small.output;
  EXPECT_NE(small.output.find("enhancer.irllrec.translation_keys: auto -> exact (the graph has 500 nodes, at most 32768)"),
            std::string::npos)
      << small.output;
  // Above the node count: a sample (RLMRec-Gen: its seeds are 15 % of the nodes).
  const auto large = bench("--set extends.enhancers=rlmrec_gen --set train.batch_size=1024", 20000, 13000);
  ASSERT_EQ(large.code, 0) << large.output;
  EXPECT_NE(large.output.find("enhancer.rlmrec_gen.seed_keys: auto -> a sample of 4096 keys per step (the graph has "
                              "33000 nodes, more than 32768)"),
            std::string::npos)
      << large.output;
  // A value given is used as given, and no line is logged.
  const auto given = bench("--set extends.enhancers=irllrec --set enhancer.irllrec.translation_keys=0", 300, 200);
  EXPECT_EQ(given.output.find("translation_keys: auto"), std::string::npos) << given.output;
}
