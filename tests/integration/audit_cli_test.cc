// Integration tests of the audit log and step-up approvals through the real spinel-server
// binary and its CLI: operator mints are audited, `audit list` filters, `audit verify` passes on
// the intact chain and names the row that was edited or deleted in the SQLite file behind the
// server's back (with python3's sqlite3 module, triggers dropped); `approval` commands on a
// request stored in the database; on behalf of a user: an approval and a decision event stored
// for alice through an actor chain (the event hashed by Python's own canonical v2 form) are
// shown with the user and chain, `audit list --user` filters, and the chain verifies.
#include <doctest/doctest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/agent_process_util.h"

using nlohmann::json;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::ParseJsonOutput;
using spinel::testing::RunCommand;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kRunner[] = "spiffe://tools.ai.example.org/runner";

// Runs python3 `script` with the server's database path as argv[1]; REQUIREs success.
std::string Sqlite(const TempDir& dir, const ServerProcess& server, const std::string& script) {
  const std::string path = dir.Write("edit.py",
                                     "import sqlite3, sys\n"
                                     "db = sqlite3.connect(sys.argv[1])\n" +
                                         script + "\ndb.commit()\n");
  CommandResult result = RunCommand("python3 " + ShellQuote(path) + " " +
                                    ShellQuote(server.data_dir() + "/datastore.sqlite3"));
  REQUIRE_MESSAGE(result.exit_code == 0, result.Describe());
  return result.out;
}

}  // namespace

TEST_CASE("audit cli: mints are audited, listed with filters, and the chain verifies") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  CHECK(server.Cli("audit verify").out == "audit log intact: 0 events, head (empty)\n");

  REQUIRE(server.Cli("x509 mint --spiffe-id " + std::string(kModel)).exit_code == 0);
  REQUIRE(server.Cli("jwt mint --spiffe-id " + std::string(kModel) + " --audience retrieval")
              .exit_code == 0);
  REQUIRE(server.Cli("x509 mint --spiffe-id " + std::string(kRunner)).exit_code == 0);

  json all = ParseJsonOutput(server.Cli("audit list --output json"));
  REQUIRE(all["events"].size() == 3);
  CHECK(all["events"][0]["kind"] == "x509_svid.issued");
  CHECK(all["events"][0]["zone"] == "inference");
  CHECK(all["events"][0]["subject"] == kModel);
  // The CLI names the local user; the server records it as the actor.
  CHECK(all["events"][0]["actor"].get<std::string>().rfind("operator:", 0) == 0);
  CHECK(all["events"][0]["actor"] != "operator:unknown");
  CHECK(all["events"][1]["kind"] == "jwt_svid.issued");
  CHECK(all["events"][2]["zone"] == "tool-execution");

  CommandResult table = server.Cli("audit list");
  REQUIRE_MESSAGE(table.exit_code == 0, table.Describe());
  CHECK(table.out.rfind("SEQ  TIME", 0) == 0);
  CHECK(Contains(table.out, "jwt_svid.issued"));
  CHECK(ParseJsonOutput(server.Cli("audit list --zone inference --output json"))["events"].size() ==
        2);
  CHECK(ParseJsonOutput(server.Cli("audit list --kind jwt_svid.issued --output json"))["events"]
            .size() == 1);
  CHECK(ParseJsonOutput(server.Cli("audit list --since 10m --output json"))["events"].size() == 3);
  CHECK(
      ParseJsonOutput(server.Cli("audit list --since 2099-01-01T00:00:00Z --output json"))["events"]
          .empty());
  json newest = ParseJsonOutput(server.Cli("audit list --limit 1 --output json"));
  REQUIRE(newest["events"].size() == 1);
  CHECK(newest["events"][0]["sequence"] == 3);

  CommandResult bad_since = server.Cli("audit list --since yesterday");
  CHECK(bad_since.exit_code == 2);
  CHECK(Contains(bad_since.err, "--since"));

  CommandResult verified = server.Cli("audit verify");
  REQUIRE_MESSAGE(verified.exit_code == 0, verified.Describe());
  CHECK(verified.out ==
        "audit log intact: 3 events, head " + all["events"][2]["hash"].get<std::string>() + "\n");
}

TEST_CASE("audit cli: verify names the stored row that was edited, then the one deleted") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  for (int i = 0; i < 4; ++i) {
    REQUIRE(server
                .Cli("jwt mint --spiffe-id " + std::string(kModel) + " --audience a" +
                     std::to_string(i))
                .exit_code == 0);
  }
  REQUIRE(server.Cli("audit verify").exit_code == 0);

  server.Kill(SIGTERM);
  Sqlite(dir, server,
         "db.execute('DROP TRIGGER audit_events_no_update')\n"
         "db.execute(\"UPDATE audit_events SET subject = 'spiffe://inference.ai.example.org/x' "
         "WHERE sequence = 3\")");
  server.Start();
  CommandResult altered = server.Cli("audit verify");
  CHECK(altered.exit_code == 1);
  CHECK(Contains(altered.out, "audit log BROKEN at event 3"));
  CHECK(Contains(altered.out, "altered"));
  json as_json = json::parse(server.Cli("audit verify --output json").out);
  CHECK(as_json["ok"] == false);
  CHECK(as_json["first_bad_sequence"] == 3);

  // Undo the edit, then delete event 2 instead.
  server.Kill(SIGTERM);
  Sqlite(dir, server,
         "db.execute(\"UPDATE audit_events SET subject = ? WHERE sequence = 3\", "
         "('" +
             std::string(kModel) +
             "',))\n"
             "db.execute('DROP TRIGGER audit_events_no_delete')\n"
             "db.execute('DELETE FROM audit_events WHERE sequence = 2')");
  server.Start();
  CommandResult removed = server.Cli("audit verify");
  CHECK(removed.exit_code == 1);
  CHECK(Contains(removed.out, "audit log BROKEN at event 2"));
  CHECK(Contains(removed.out, "removed"));

  // The server keeps appending after the gap; verify still points at the first break.
  REQUIRE(server.Cli("jwt mint --spiffe-id " + std::string(kModel) + " --audience z").exit_code ==
          0);
  CHECK(Contains(server.Cli("audit verify").out, "BROKEN at event 2"));
}

TEST_CASE("approval cli: list, show, approve and deny a stored request; bad usage exits 2") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  CommandResult empty = server.Cli("approval list");
  REQUIRE_MESSAGE(empty.exit_code == 0, empty.Describe());
  CHECK(empty.out.rfind("ID  STATE", 0) == 0);

  // Two pending requests stored as CreateApproval stores them (the agent-side flow is tested
  // with the real agent elsewhere); the digest is the canonical context's SHA-256.
  server.Kill(SIGTERM);
  Sqlite(
      dir, server,
      "import hashlib, json, time\n"
      "ctx = {'environment': 'production'}\n"
      "canon = ''.join('%d:%s=%d:%s\\n' % (len(k), k, len(v), v) for k, v in sorted(ctx.items()))\n"
      "now = int(time.time() * 1000)\n"
      "for i, tool in enumerate(['deploy.prod', 'jira.create_ticket']):\n"
      "  db.execute('INSERT INTO approvals (id, subject, resource, action, context_digest, "
      "context, requesting_agent, zone, rule_id, created_at_ms, expires_at_ms, state, decided_by, "
      "decision_reason, decided_at_ms, used_at_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)', "
      "('apr-%d' % i, '" +
          std::string(kRunner) +
          "', 'tool:' + tool, 'invoke', "
          "hashlib.sha256(canon.encode()).hexdigest(), json.dumps(ctx), "
          "'spiffe://control.spinel.test/spinel/agent/join_token/n1', 'tool-execution', "
          "'tool-execution/production-deploys', now + i, now + 600000, 'pending', '', '', 0, 0))");
  server.Start();

  json pending = ParseJsonOutput(server.Cli("approval list --state pending --output json"));
  REQUIRE(pending["approvals"].size() == 2);
  CHECK(pending["approvals"][0]["id"] == "apr-1");  // newest first
  CommandResult show = server.Cli("approval show apr-0");
  REQUIRE_MESSAGE(show.exit_code == 0, show.Describe());
  CHECK(Contains(show.out, "tool:deploy.prod"));
  CHECK(Contains(show.out, "environment=production"));

  CommandResult approved = server.Cli("approval approve apr-0 --reason 'change CHG-7'");
  REQUIRE_MESSAGE(approved.exit_code == 0, approved.Describe());
  CHECK(Contains(approved.out, "Approved apr-0"));
  json shown = ParseJsonOutput(server.Cli("approval show apr-0 --output json"));
  CHECK(shown["state"] == "approved");
  CHECK(shown["decision_reason"] == "change CHG-7");
  CHECK(shown["decided_by"].get<std::string>().rfind("operator:", 0) == 0);
  CHECK(shown["decided_by"] != "operator:unknown");  // the CLI sent the local user name

  CHECK(server.Cli("approval deny apr-1 --reason 'no change window'").exit_code == 0);
  CommandResult again = server.Cli("approval approve apr-1 --reason late");
  CHECK(again.exit_code == 1);
  CHECK(Contains(again.err, "FAILED_PRECONDITION"));
  CHECK(Contains(again.err, "denied, not pending"));
  CHECK(ParseJsonOutput(server.Cli("approval list --state denied --output json"))["approvals"]
            .size() == 1);

  CHECK(server.Cli("approval deny apr-0").exit_code == 2);  // --reason is required
  CHECK(server.Cli("approval list --state granted").exit_code == 2);
  CommandResult missing = server.Cli("approval show apr-9");
  CHECK(missing.exit_code == 1);
  CHECK(Contains(missing.err, "NOT_FOUND"));

  json events = ParseJsonOutput(server.Cli("audit list --kind approval.approved --output json"));
  REQUIRE(events["events"].size() == 1);
  CHECK(events["events"][0]["actor"] == shown["decided_by"]);
  CHECK(server.Cli("audit verify").exit_code == 0);
}

TEST_CASE("approval and audit cli: on behalf of a user, shown with the chain and listed by user") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  REQUIRE(server.Cli("x509 mint --spiffe-id " + std::string(kModel)).exit_code == 0);
  server.Kill(SIGTERM);
  // An approval for alice via runner <- model-server, and a decision event for her appended to
  // the chain with the v2 canonical form (trust-zones/audit_chain.h), computed here.
  Sqlite(
      dir, server,
      "import hashlib, json, time\n"
      "now = int(time.time() * 1000)\n"
      "chain = ['" +
          std::string(kRunner) + "', '" + std::string(kModel) +
          "']\n"
          "issuer, user = 'https://idp.example.org', 'alice@example.org'\n"
          "db.execute('INSERT INTO approvals (id, subject, resource, action, context_digest, "
          "context, requesting_agent, zone, rule_id, created_at_ms, expires_at_ms, state, "
          "decided_by, decision_reason, decided_at_ms, used_at_ms, user_issuer, user_subject, "
          "actor_chain) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)', ('apr-alice', chain[0], "
          "'tool:deploy.prod', 'invoke', hashlib.sha256(b'').hexdigest(), '{}', "
          "'spiffe://control.spinel.test/spinel/agent/join_token/n1', 'tool-execution', "
          "'tool-execution/production-deploys', now, now + 600000, 'pending', '', '', 0, 0, "
          "issuer, user, json.dumps(chain)))\n"
          "def ns(b): return str(len(b)).encode() + b':' + b + b','\n"
          "seq, prev = db.execute('SELECT sequence, hash FROM audit_events ORDER BY sequence DESC "
          "LIMIT 1').fetchone()\n"
          "ev = ['spinel-audit-v2', str(seq + 1), str(now), "
          "'spiffe://control.spinel.test/spinel/agent/join_token/n1', 'tool-execution', chain[0], "
          "'authorize', 'ALLOW', 'rule tool-execution/invoke-tools', '{}', issuer, user]\n"
          "canon = b''.join(ns(f.encode()) for f in ev) + ns(b''.join(ns(a.encode()) for a in "
          "chain))\n"
          "h = hashlib.sha256(prev.encode() + canon).hexdigest()\n"
          "db.execute('INSERT INTO audit_events (sequence, time_ms, actor, zone, subject, kind, "
          "outcome, reason, details, prev_hash, hash, user_issuer, user_subject, actor_chain) "
          "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)', (seq + 1, now, ev[3], ev[4], ev[5], ev[6], "
          "ev[7], "
          "ev[8], ev[9], prev, h, issuer, user, json.dumps(chain)))");
  server.Start();

  const std::string chain_text = std::string(kRunner) + " <- " + kModel;
  CommandResult show = server.Cli("approval show apr-alice");
  REQUIRE_MESSAGE(show.exit_code == 0, show.Describe());
  CHECK(Contains(show.out, "On behalf of"));
  CHECK(Contains(show.out, "alice@example.org"));
  CHECK(Contains(show.out, "https://idp.example.org"));
  CHECK(Contains(show.out, chain_text));
  json shown = ParseJsonOutput(server.Cli("approval show apr-alice --output json"));
  CHECK(shown["user"] == "alice@example.org");
  CHECK(shown["user_issuer"] == "https://idp.example.org");
  CHECK(shown["actor_chain"] == json::array({kRunner, kModel}));
  CHECK(Contains(server.Cli("approval list").out, "alice@example.org"));

  json alices = ParseJsonOutput(server.Cli("audit list --user alice@example.org --output json"));
  REQUIRE(alices["events"].size() == 1);
  CHECK(alices["events"][0]["kind"] == "authorize");
  CHECK(alices["events"][0]["user"] == "alice@example.org");
  CHECK(alices["events"][0]["actor_chain"] == json::array({kRunner, kModel}));
  CHECK(ParseJsonOutput(server.Cli("audit list --output json"))["events"][0]["user"] == "");
  CHECK(ParseJsonOutput(server.Cli("audit list --user bob@example.org --output json"))["events"]
            .empty());
  CommandResult table = server.Cli("audit list --user alice@example.org");
  REQUIRE_MESSAGE(table.exit_code == 0, table.Describe());
  CHECK(Contains(table.out, "ON BEHALF OF"));
  CHECK(Contains(table.out, chain_text));

  // The Python-hashed v2 event verifies with the server's own chain check.
  CommandResult verified = server.Cli("audit verify");
  CHECK_MESSAGE(verified.exit_code == 0, verified.Describe());

  for (const char* bad : {"--user ''", "--user \"$(printf 'alice\\tx')\"", "--user"}) {
    CAPTURE(bad);
    CommandResult refused = server.Cli(std::string("audit list ") + bad);
    CHECK(refused.exit_code == 2);
    CHECK(Contains(refused.err, "--user"));
  }
}
