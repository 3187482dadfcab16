// The LLM side against a local OpenAI-compatible test server (cpp-httplib on 127.0.0.1): normal
// answers, 429 with Retry-After, 500s, answers slower than the timeout, malformed JSON, refusals,
// a `recgrid intents generate` killed half way and resumed, and embeddings; plus the answer cache's
// repair of a torn line and the prompt templates.
#include <gtest/gtest.h>

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "llm/answer_cache.hpp"
#include "llm/chat_client.hpp"
#include "llm/embedding_client.hpp"
#include "llm/prompt_template.hpp"
#include "test_support.hpp"
#include "text/intent_prompts.hpp"
#include "util/hash.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace recgrid;
using Clock = std::chrono::steady_clock;

namespace {

// What the server does for one request, before it falls back to a normal answer.
struct Scripted {
  int status = 200;
  std::string content;           // the assistant's content (status 200); "" = the normal answer
  std::string raw_body;          // sent as is when not empty
  double retry_after = -1;       // Retry-After header
  double delay_s = 0;            // sleep before answering
};

class FakeOpenAi {
 public:
  FakeOpenAi() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { chat(req, res); });
    server_.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) { embeddings(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeOpenAi() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  void script(const Scripted& s) {
    std::lock_guard<std::mutex> lock(m_);
    script_.push_back(s);
  }
  void set_delay(double s) { delay_s_ = s; }
  int requests() const { return requests_; }
  std::map<std::string, int> prompt_counts() const {
    std::lock_guard<std::mutex> lock(m_);
    return per_prompt_;
  }
  json last_request() const {
    std::lock_guard<std::mutex> lock(m_);
    return last_;
  }

 private:
  void chat(const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    const json body = json::parse(req.body);
    const std::string prompt = body["messages"][0]["content"];
    Scripted s;
    {
      std::lock_guard<std::mutex> lock(m_);
      last_ = body;
      ++per_prompt_[prompt];
      if (!script_.empty()) {
        s = script_.front();
        script_.pop_front();
      }
    }
    const double delay = s.delay_s > 0 ? s.delay_s : delay_s_.load();
    if (delay > 0) std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    if (s.retry_after >= 0) res.set_header("Retry-After", std::to_string(static_cast<int>(s.retry_after)));
    res.status = s.status;
    if (!s.raw_body.empty()) {
      res.set_content(s.raw_body, "application/json");
      return;
    }
    if (s.status != 200) {
      res.set_content(R"({"error": {"message": "scripted failure"}})", "application/json");
      return;
    }
    // The normal answer names the prompt's length, so tests can tell answers apart.
    const std::string content = s.content.empty()
                                    ? json{{"intent", "wants things " + std::to_string(prompt.size())},
                                           {"summarization", "likes"}, {"reasoning", "because"}}.dump()
                                    : s.content;
    res.set_content(json{{"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}}}},
                         {"usage", {{"prompt_tokens", 11}, {"completion_tokens", 7}}}}.dump(),
                    "application/json");
  }
  void embeddings(const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    const json body = json::parse(req.body);
    json data = json::array();
    int k = 0;
    for (const auto& text : body["input"]) {
      const float len = static_cast<float>(text.get<std::string>().size());
      data.push_back({{"index", k++}, {"embedding", {len, 1.0f, -len}}});
    }
    res.set_content(json{{"data", data}, {"model", body["model"]}}.dump(), "application/json");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex m_;
  std::deque<Scripted> script_;
  std::map<std::string, int> per_prompt_;
  json last_;
  std::atomic<int> requests_{0};
  std::atomic<double> delay_s_{0};
};

llm::ServerConfig server_config(const FakeOpenAi& s, double timeout = 5) {
  llm::ServerConfig c;
  c.base_url = s.url();
  c.model = "fake-model";
  c.timeout_s = timeout;
  c.retry.base_delay_s = 0.01;  // tests wait on Retry-After, not on backoff
  c.retry.max_attempts = 4;
  return c;
}

std::mt19937_64 rng(1);

}  // namespace

TEST(LlmClient, ANormalAnswerIsParsedWithItsTokens) {
  FakeOpenAi server;
  const llm::ChatClient client(server_config(server), {});
  const auto r = client.ask("hello", {"intent"}, rng);
  EXPECT_EQ(r.answer["intent"], "wants things 5");
  EXPECT_EQ(r.prompt_tokens, 11);
  EXPECT_EQ(r.completion_tokens, 7);
  EXPECT_EQ(r.retries, 0);
  EXPECT_EQ(server.last_request()["model"], "fake-model");
  EXPECT_EQ(server.last_request()["response_format"]["type"], "json_object");
}

TEST(LlmClient, A429WaitsAtLeastRetryAfter) {
  FakeOpenAi server;
  server.script({429, "", "", 1});
  const llm::ChatClient client(server_config(server), {});
  const auto t0 = Clock::now();
  const auto r = client.ask("hello", {"intent"}, rng);
  const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_GE(waited, 1.0);  // the server asked for 1 s; backoff alone would be 0.01 s
  EXPECT_LT(waited, 3.0);
  EXPECT_EQ(r.retries, 1);
  EXPECT_EQ(server.requests(), 2);
}

TEST(LlmClient, ServerErrorsAreRetriedThenGivenUp) {
  FakeOpenAi server;
  server.script({500});
  server.script({503});
  const llm::ChatClient client(server_config(server), {});
  EXPECT_EQ(client.ask("x", {"intent"}, rng).retries, 2);
  for (int k = 0; k < 4; ++k) server.script({502});
  try {
    client.ask("x", {"intent"}, rng);
    FAIL() << "no error";
  } catch (const llm::LlmError& e) {
    EXPECT_NE(std::string(e.what()).find("gave up after 4 attempts (last: HTTP 502)"), std::string::npos) << e.what();
  }
  // A refusal (400) is not retried.
  const int before = server.requests();
  server.script({400});
  EXPECT_THROW(client.ask("x", {"intent"}, rng), llm::LlmError);
  EXPECT_EQ(server.requests(), before + 1);
}

TEST(LlmClient, AnAnswerSlowerThanTheTimeoutIsAskedAgain) {
  FakeOpenAi server;
  Scripted slow;
  slow.delay_s = 2.0;
  server.script(slow);
  const llm::ChatClient client(server_config(server, 0.5), {});
  const auto t0 = Clock::now();
  const auto r = client.ask("hello", {"intent"}, rng);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 1.9);  // did not wait for the slow one
  EXPECT_EQ(r.retries, 1);
  EXPECT_EQ(r.answer["intent"], "wants things 5");
}

TEST(LlmClient, MalformedAnswersAreAskedForAgainAndBrokenBodiesRetried) {
  FakeOpenAi server;
  server.script({200, "The intent is: people who like glue."});  // no JSON
  server.script({200, R"({"intent": ""})"});                        // empty value
  const llm::ChatClient client(server_config(server), {});
  const auto r = client.ask("hello", {"intent"}, rng);
  EXPECT_EQ(r.reasks, 2);
  EXPECT_EQ(r.answer["intent"], "wants things 5");
  // The last request carried the conversation: the bad answers and the corrections.
  const json msgs = server.last_request()["messages"];
  ASSERT_EQ(msgs.size(), 5u);
  EXPECT_EQ(msgs[1]["content"], "The intent is: people who like glue.");
  EXPECT_NE(msgs[2]["content"].get<std::string>().find("Reply with only a JSON object"), std::string::npos);
  // A 200 whose body is not JSON (a broken proxy) is retried like a server error.
  Scripted broken;
  broken.raw_body = "<html>bad gateway</html>";
  server.script(broken);
  EXPECT_EQ(client.ask("x", {"intent"}, rng).retries, 1);
  // Never valid: an error after the re-asks.
  const llm::ChatClient strict(server_config(server), {0, true, 1});
  server.script({200, "nope"});
  server.script({200, "still nope"});
  EXPECT_THROW(strict.ask("x", {"intent"}, rng), llm::LlmError);
}

TEST(LlmClient, ParseAnswerFindsTheObjectInsideFencesAndChecksKeys) {
  json out;
  std::string problem;
  EXPECT_TRUE(llm::parse_answer("```json\n{\"summarization\": \"a\", \"reasoning\": \"b\"}\n```", {"summarization", "reasoning"},
                                out, problem));
  EXPECT_FALSE(llm::parse_answer(R"({"summarization": "a"})", {"summarization", "reasoning"}, out, problem));
  EXPECT_NE(problem.find("\"reasoning\" is missing"), std::string::npos);
  EXPECT_FALSE(llm::parse_answer(R"({"intent": 3})", {"intent"}, out, problem));
}

TEST(AnswerCache, RepairsATornLastLineAndKeepsEveryWholeOne) {
  const std::string path = ::testing::TempDir() + "/torn.jsonl";
  std::ofstream(path) << R"({"key":"a","answer":1})" << "\n" << R"({"key":"b","answer":2})" << "\n" << R"({"key":"c","ans)";
  {
    llm::AnswerCache cache(path);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.repaired_bytes(), std::string(R"({"key":"c","ans)").size());
    EXPECT_EQ((*cache.find("b"))["answer"], 2);
    EXPECT_FALSE(cache.find("c"));
    cache.append("c", {{"answer", 3}});
    cache.append("c", {{"answer", 4}});  // already there: not added twice
  }
  llm::AnswerCache again(path);
  EXPECT_EQ(again.size(), 3u);
  EXPECT_EQ((*again.find("c"))["answer"], 3);
  EXPECT_EQ(again.repaired_bytes(), 0u);
  std::ofstream(path) << R"({"key":"a"})" << "\n" << "garbage\n" << R"({"key":"b"})" << "\n";
  try {
    llm::AnswerCache bad(path);
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("torn.jsonl:2: not a JSON record"), std::string::npos) << e.what();
  }
}

TEST(Embeddings, BatchedAndCached) {
  FakeOpenAi server;
  const std::string path = ::testing::TempDir() + "/embed_cache.jsonl";
  fs::remove(path);
  llm::AnswerCache cache(path);
  const std::vector<std::string> entities = {"item:0", "item:1", "item:2", "item:3", "item:4", "item:5", "item:6"};
  const std::vector<std::string> texts = {"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg"};
  const auto rows = llm::embed_texts(server_config(server), entities, texts, cache, {3});
  EXPECT_EQ(server.requests(), 3);  // 3 + 3 + 1
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[4], (std::vector<float>{5, 1, -5}));
  const auto again = llm::embed_texts(server_config(server), entities, texts, cache, {3});
  EXPECT_EQ(server.requests(), 3);  // all cached
  EXPECT_EQ(again, rows);
}

TEST(PromptTemplates, TheShippedTemplatesRenderAndDeclareTheirKeys) {
  const std::string dir = test::source_dir() + "/configs/prompts/";
  data::Dataset ds = test::tiny_dataset();
  const std::vector<json> items = {{{"text", "glue"}}, {{"text", "gloves"}}, {{"text", "tape"}}, {{"text", "beaker"}}};
  for (const char* name : {"item_intent", "user_intent", "item_profile", "user_profile"}) {
    SCOPED_TRACE(name);
    const auto t = llm::PromptTemplate::load(dir + name + ".txt");
    const bool item = std::string(name).rfind("item", 0) == 0;
    const auto tasks = item ? text::item_prompts(t, items, {"product", {20, 6000}})
                            : text::user_prompts(t, ds, items, {"product", {20, 6000}});
    ASSERT_EQ(tasks.size(), item ? 4u : 3u);
    EXPECT_EQ(tasks[0].prompt.find("{{"), std::string::npos);
    EXPECT_EQ(tasks[0].prompt.find("# "), std::string::npos);  // comments are not sent
    EXPECT_NE(tasks[0].prompt.find("product"), std::string::npos);
    EXPECT_EQ(t.answer_keys().size(), std::string(name).find("intent") != std::string::npos ? 1u : 2u);
    if (!item) {
      // User 0 trained on items 0 and 1; its validation (2) and test (3) items stay out.
      EXPECT_NE(tasks[0].prompt.find("glue"), std::string::npos);
      EXPECT_NE(tasks[0].prompt.find("gloves"), std::string::npos);
      EXPECT_EQ(tasks[0].prompt.find("tape"), std::string::npos);
      EXPECT_EQ(tasks[0].prompt.find("beaker"), std::string::npos);
      // A given user text comes first in {{items}}; a user without one gets the same prompt as before.
      text::PromptInputs given{"product", {20, 6000}, {"", "likes strong tape", ""}};
      const auto with = text::user_prompts(t, ds, items, given);
      const size_t about = with[1].prompt.find(R"({"about the user":"likes strong tape"})");
      ASSERT_NE(about, std::string::npos) << with[1].prompt;
      EXPECT_LT(about, with[1].prompt.find("gloves"));  // user 1 trained on item 1 (gloves)
      EXPECT_EQ(with[0].prompt, tasks[0].prompt);
    }
  }
  const std::string bad = ::testing::TempDir() + "/bad_prompt.txt";
  std::ofstream(bad) << "# answer: intent\nline one\nabout {{domian}}\n";
  try {
    llm::PromptTemplate::load(bad).render({{"domain", "x"}});
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("bad_prompt.txt:3: unknown variable {{domian}} (known: domain)"), std::string::npos)
        << e.what();
  }
}

TEST(IntentsCli, AKilledRunResumesWithoutAskingTwiceOrLosingAnAnswer) {
  // A small TSV dataset with item text: 40 items, 10 users.
  const std::string data = ::testing::TempDir() + "/intents_data";
  fs::remove_all(data);
  fs::create_directories(data);
  {
    std::ofstream items(data + "/item_text.tsv"), train(data + "/train.tsv"), valid(data + "/valid.tsv"), test(data + "/test.tsv");
    items << "item\ttext\n";
    for (int i = 0; i < 40; ++i) items << i << "\tproduct number " << i << " for testing\n";
    for (int u = 0; u < 10; ++u) {
      for (int k = 0; k < 3; ++k) train << u << "\t" << (u * 3 + k) % 40 << "\n";
      valid << u << "\t" << (u + 30) % 40 << "\n";
      test << u << "\t" << (u + 35) % 40 << "\n";
    }
  }
  FakeOpenAi server;
  server.set_delay(0.05);
  const std::string cache = data + "/answers.jsonl";
  const std::string cmd_args = "intents generate --data " + data + " --cache " + cache + " --base-url " + server.url() +
                               " --model fake --concurrency 3 --prompts " + test::source_dir() + "/configs/prompts";
  auto start = [&](const std::string& log) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string cmd = test::binary_dir() + "/bin/recgrid " + cmd_args + " > " + log + " 2>&1";
      ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  };
  auto lines = [&] {
    std::ifstream f(cache);
    size_t n = 0;
    for (std::string l; std::getline(f, l);) ++n;
    return n;
  };
  const pid_t first = start(data + "/first.log");
  while (lines() < 12) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(first, SIGKILL);
  ::waitpid(first, nullptr, 0);
  // What was recorded before the kill (whole lines only).
  {
    llm::AnswerCache c(cache);
    EXPECT_GE(c.size(), 12u);
    EXPECT_LT(c.size(), 50u);
  }
  std::string answered_before;
  {
    std::ifstream f(cache);
    for (std::string l; std::getline(f, l);)
      if (!l.empty() && l.back() == '}') answered_before += l + "\n";
  }
  const pid_t second = start(data + "/second.log");
  int status = 0;
  ::waitpid(second, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Every entity answered exactly once: 40 item intents + 10 user intents, no duplicate key.
  llm::AnswerCache done(cache);
  EXPECT_EQ(done.size(), 50u);
  std::set<std::string> entities;
  for (const auto& r : done.records()) entities.insert(r["kind"].get<std::string>() + "/" + r["entity"].get<std::string>());
  EXPECT_EQ(entities.size(), 50u);
  std::ifstream f(cache);
  size_t physical = 0;
  for (std::string l; std::getline(f, l);) ++physical;
  EXPECT_EQ(physical, 50u);  // no duplicate line either
  // Answers recorded before the kill were not paid for again: their prompts were asked once in all.
  const auto counts = server.prompt_counts();
  std::istringstream before(answered_before);
  size_t checked = 0;
  for (std::string l; std::getline(before, l);) {
    const json r = json::parse(l);
    for (const auto& [prompt, n] : counts)
      if (fnv1a64_hex(prompt) == r["prompt_hash"]) {
        EXPECT_EQ(n, 1) << r["entity"];
        ++checked;
      }
  }
  EXPECT_GE(checked, 12u);
  // The intents feed `recgrid text build --intents`.
  const std::string out = data + "/tables";
  const std::string build = test::binary_dir() + "/bin/recgrid text build --data " + data + " --out " + out +
                            " --dim 4 --min-df 1 --intents " + cache + " > " + data + "/build.log 2>&1";
  ASSERT_EQ(std::system(build.c_str()), 0) << build;
  const json side = json::parse(std::ifstream(out + "/intent_item.npy.json"));
  EXPECT_EQ(side["source"]["documents"], "LLM item intents");
  EXPECT_EQ(side["rows"], 40);
}

TEST(IntentsCli, TextBuildWithLlmIsOneCommandFromRawTextToEveryTable) {
  const std::string data = ::testing::TempDir() + "/oneshot_data";
  fs::remove_all(data);
  fs::create_directories(data);
  {
    std::ofstream items(data + "/item_text.tsv"), train(data + "/train.tsv"), valid(data + "/valid.tsv"), test(data + "/test.tsv");
    items << "item\ttext\n";
    for (int i = 0; i < 12; ++i) items << i << "\t" << (i % 2 ? "red glue tube" : "blue nitrile gloves") << " " << i << "\n";
    for (int u = 0; u < 5; ++u) {
      train << u << "\t" << u << "\n" << u << "\t" << u + 7 << "\n";  // items up to 11
      valid << u << "\t" << u + 1 << "\n";
      test << u << "\t" << u + 2 << "\n";
    }
  }
  FakeOpenAi server;
  const std::string out = data + "/tables";
  const std::string cmd = test::binary_dir() + "/bin/recgrid text build --llm --data " + data + " --out " + out +
                          " --base-url " + server.url() + " --model fake --dim 3 --min-df 1 --prompts " +
                          test::source_dir() + "/configs/prompts > " + data + "/build.log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(server.requests(), 12 + 5);  // one intent per item and per user
  for (const char* name : {"profile_user", "profile_item", "intent_user", "intent_item"})
    EXPECT_TRUE(fs::exists(out + "/" + name + ".npy.json")) << name;
  EXPECT_EQ(json::parse(std::ifstream(out + "/intent_user.npy.json"))["source"]["documents"], "LLM user intents");
  // Again: everything is cached, nothing is asked.
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(server.requests(), 17);
}
