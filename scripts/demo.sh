#!/usr/bin/env bash
# The Spinel demo: a zoned AI system on one machine, in one command.
#
#   scripts/demo.sh [--keep] [--verbose] [--check] [--build-dir DIR] [--no-setup] [--ttl D]
#
# Installs what is missing (scripts/setup.sh), builds (cmake, into build/), and then in a fresh
# temporary data directory, with the embedded SQLite datastore and the four shipped zones:
#   1. starts spinel-server and one spinel-agent (join token) and waits until both are healthy;
#   2. registers four example AI workloads (trainer, model server, retriever, tool runner; real
#      programs from examples/) told apart by unix:path + unix:sha256 selectors;
#   3. each example gets its X509-SVID from the Workload API and prints its SPIFFE ID, zone and
#      expiry; with a short TTL, a live rotation is shown;
#   4. model server (inference) -> retriever (retrieval) over mTLS succeeds; trainer (training)
#      -> tool runner (an MCP server in tool-execution) is refused in the TLS handshake;
#   5. the model server, acting for user alice (a token from the demo's own user issuer,
#      exchanged at the agent for a delegation token), lists and calls the tool runner's tools
#      over MCP with a WIT-SVID and a Workload Proof Token on every request; a production
#      deploy needs an approval bound to alice: the demo approves it with the CLI (`approval
#      show` displays the user and the chain); the retried call is ALLOW once; a replay is DENY;
#   6. proof of possession: a replayed WPT is refused, a WIT-SVID copied without its key is
#      refused, and a tool call on behalf of nobody is DENY;
#   7. `spinel-server audit verify` passes;
#   8. prints a summary, stops everything it started and exits 0.
#
# Options:
#   --keep           leave spinel-server and spinel-agent running; print how to use the CLI
#   --verbose        also show the server, agent and example logs and command errors
#   --check          assert every step; stop at the first failed one (exit 1, naming the step)
#   --build-dir DIR  the build tree to use (default: build/)
#   --no-setup       do not run setup.sh or build: reuse an already built --build-dir
#   --ttl D          X509-SVID TTL of the example workloads (default 20s: rotation at ~10s)
set -euo pipefail

SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR="$SOURCE_DIR/build"
KEEP=0 VERBOSE=0 CHECK=0 SETUP=1 TTL=20s

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --keep) KEEP=1 ;;
    --verbose) VERBOSE=1 ;;
    --check) CHECK=1 ;;
    --no-setup) SETUP=0 ;;
    --build-dir) BUILD_DIR=$(cd "${2:?--build-dir needs a directory}" 2>/dev/null && pwd) ||
      { echo "demo: --build-dir: no directory $2" >&2; exit 2; }; shift ;;
    --ttl) TTL=${2:?--ttl needs a duration, e.g. 20s}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# ---------------------------------------------------------------- output and bookkeeping
if [ -t 1 ]; then BOLD=$'\e[1m' GREEN=$'\e[32m' RED=$'\e[31m' DIM=$'\e[2m' OFF=$'\e[0m'
else BOLD='' GREEN='' RED='' DIM='' OFF=''; fi
STEP=0 STEP_NAME="" PROBLEMS=0 STARTED_AT=$SECONDS
declare -a PIDS=()       # everything we started, stopped in reverse order
SERVER_PID="" AGENT_PID=
declare -A SUMMARY=()

step() { STEP=$1 STEP_NAME=$2; printf '\n%s[%d/8] %s%s\n' "$BOLD" "$STEP" "$STEP_NAME" "$OFF"; }
line() { printf '  %-24s %s\n' "$1" "$2"; }
ok() { printf '  %s✓%s %s\n' "$GREEN" "$OFF" "$1"; }
# An outcome that is not what the demo expects: fatal with --check, reported otherwise.
problem() {
  printf '  %s✗ %s%s\n' "$RED" "$1" "$OFF" >&2
  PROBLEMS=$((PROBLEMS + 1))
  if ((CHECK)); then
    echo "demo check FAILED at step $STEP ($STEP_NAME): $1" >&2
    show_logs_tail
    exit 1
  fi
}
# check WHAT CMD...: ok when CMD succeeds, a problem otherwise.
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else problem "$what"; fi; }
# run_example OUT CMD...: runs an example with its output in OUT; sets STATUS to its exit code.
run_example() { local out=$1; shift; STATUS=0; "$@" >"$out" 2>&1 || STATUS=$?; show <"$out"; }
# run_action OUT CMD...: the same, showing only what the example did (not its identity again).
run_action() {
  local out=$1; shift; STATUS=0; "$@" >"$out" 2>&1 || STATUS=$?
  grep -vE '^[a-z-]+ +(SPIFFE ID|zone|expires|trusts) ' "$out" | show || true
}
die() {
  echo "demo FAILED at step $STEP ($STEP_NAME): $1" >&2
  show_logs_tail
  exit 1
}
show_logs_tail() {
  [ -n "${WORK:-}" ] && [ -d "$WORK" ] || return 0
  for log in "$WORK"/*.log; do
    [ -s "$log" ] || continue
    printf '%s--- last lines of %s%s\n' "$DIM" "$(basename "$log")" "$OFF" >&2
    tail -n 15 "$log" | sed 's/^/    /' >&2
  done
}
# Prefixed example output, as the examples print it ("<role>  <label>  <text>").
show() { sed 's/^/    /'; }

start_bg() {  # start_bg LOG CMD...: a background process with its output in LOG
  local log=$1; shift
  "$@" >>"$log" 2>&1 &
  PIDS+=("$!")
  LAST_PID=$!
}
stop_pid() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  local status=$?
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    # --keep leaves the server and the agent running (only after a successful run).
    if ((KEEP && status == 0)) && [[ "${PIDS[$i]}" == "$SERVER_PID" || "${PIDS[$i]}" == "$AGENT_PID" ]]; then
      continue
    fi
    stop_pid "${PIDS[$i]}"
  done
  if ! ((KEEP && status == 0)) && [ -n "${WORK:-}" ]; then rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {  # wait_for SECONDS CMD...: poll until CMD succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# ---------------------------------------------------------------- 0. setup and build
# Only what the demo runs: the two binaries and the example programs (CMake target names), not
# the test suite. A fresh build tree uses Ninja when it is installed; an existing one keeps its
# generator.
DEMO_TARGETS=(spinel-server spinel-agent spinel-example-trainer spinel-example-model-server
  spinel-example-retriever spinel-example-tool-runner spinel-example-user-issuer)
build_demo() {
  local generator=()
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && command -v ninja >/dev/null; then
    generator=(-G Ninja)
  fi
  cmake -S "$SOURCE_DIR" -B "$BUILD_DIR" "${generator[@]}" &&
    cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${DEMO_TARGETS[@]}"
}
if ((SETUP)); then
  echo "${BOLD}Preparing${OFF}: installing missing Debian packages and building (first run: minutes)"
  if ((VERBOSE)); then
    "$SOURCE_DIR/scripts/setup.sh"
    build_demo
  else
    "$SOURCE_DIR/scripts/setup.sh" >/dev/null
    build_log=$(mktemp)
    build_demo >"$build_log" 2>&1 ||
      { tail -n 40 "$build_log"; rm -f "$build_log"; echo "demo: the build failed" >&2; exit 1; }
    rm -f "$build_log"
  fi
fi
SERVER="$BUILD_DIR/server/spinel-server"
AGENT="$BUILD_DIR/agent/spinel-agent"
EXAMPLES="$BUILD_DIR/examples"
for binary in "$SERVER" "$AGENT" "$EXAMPLES"/spinel-example-{trainer,model-server,retriever,tool-runner,user-issuer}; do
  [ -x "$binary" ] || { echo "demo: $binary is missing (build first, or drop --no-setup)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/spinel-demo.XXXXXX)
CONTROL_TD=control.demo.spinel
export SPINEL_ADMIN_SOCKET="$WORK/server/admin.sock"
SOCKET="$WORK/agent/workload.sock"
# A copy of the shipped zones whose inference zone trusts the demo's own user issuer: its
# JWK Set replaces the shipped placeholder (demo-users.jwks.json).
ZONES="$WORK/zones"
cp -r "$SOURCE_DIR/trust-zones/zones" "$ZONES"
ISSUER_DIR="$WORK/user-issuer"
"$EXAMPLES/spinel-example-user-issuer" init "$ISSUER_DIR" >/dev/null ||
  { echo "demo: could not create the demo user issuer" >&2; exit 1; }
cp "$ISSUER_DIR/jwks.json" "$ZONES/demo-users.jwks.json"
cli() { "$SERVER" "$@"; }
if ((VERBOSE)); then
  touch "$WORK"/{server,agent,retriever,tool-runner}.log
  # Follows the logs until this script exits.
  tail --pid=$$ -q -n +1 -F "$WORK"/{server,agent,retriever,tool-runner}.log 2>/dev/null |
    sed -u "s/^/  ${DIM}[log] /; s/\$/${OFF}/" &
fi

# ---------------------------------------------------------------- 1. server and agent
step 1 "Start spinel-server and one spinel-agent"
mkdir -p "$WORK/agent"
cat >"$WORK/server.yaml" <<EOF
trust_domain: $CONTROL_TD
data_dir: $WORK/server
zones_dir: $ZONES
listen:
  agent_api: 127.0.0.1:0
  https: 127.0.0.1:0
EOF
start_bg "$WORK/server.log" "$SERVER" run --config "$WORK/server.yaml"
SERVER_PID=$LAST_PID
wait_for 60 cli healthcheck || die "spinel-server did not become healthy"
wait_for 10 test -s "$WORK/server/agent-api.addr" || die "spinel-server wrote no agent-api.addr"
SERVER_ADDR=$(cat "$WORK/server/agent-api.addr")
line "spinel-server" "healthy (pid $SERVER_PID), agent API on $SERVER_ADDR"
line "datastore" "sqlite:$WORK/server/datastore.sqlite3"
for zone in training inference retrieval tool-execution; do
  line "zone $zone" "$(sed -n 's/^trust_domain: *//p' "$ZONES/$zone.yaml")"
done

cli bundle show --trust-domain "$CONTROL_TD" >"$WORK/agent/bootstrap.pem" ||
  die "could not read the control-plane bundle"
token_json=$(cli token generate --ttl 10m --output json) || die "could not generate a join token"
AGENT_ID=$(json_field agent_spiffe_id <<<"$token_json")
(umask 077; json_field token <<<"$token_json" >"$WORK/agent/join-token")
unset token_json
cat >"$WORK/agent.yaml" <<EOF
trust_domain: $CONTROL_TD
server_address: $SERVER_ADDR
trust_bundle: $WORK/agent/bootstrap.pem
data_dir: $WORK/agent/data
socket_path: $SOCKET
attestation:
  join_token_file: $WORK/agent/join-token
EOF
start_bg "$WORK/agent.log" "$AGENT" run --config "$WORK/agent.yaml"
AGENT_PID=$LAST_PID
# Healthy: attested (the server lists it) and answering on the Workload API socket.
agent_healthy() {
  cli agent list | grep -qF -- "$AGENT_ID" &&
    "$AGENT" healthcheck --socket "$SOCKET" >/dev/null 2>&1
}
wait_for 60 agent_healthy || die "spinel-agent did not become healthy"
line "spinel-agent" "healthy (pid $AGENT_PID), attested with a single-use join token"
line "agent SPIFFE ID" "$AGENT_ID"
line "Workload API" "SPIFFE_ENDPOINT_SOCKET=unix://$SOCKET"
SUMMARY[1]="server + agent healthy; agent attested by join token"

# ---------------------------------------------------------------- 2. register workloads
step 2 "Register the example AI workloads (one per zone)"
declare -A WORKLOAD_TD=([trainer]=training.ai.example.org [model-server]=inference.ai.example.org
  [retriever]=retrieval.ai.example.org [tool-runner]=tools.ai.example.org)
ROLES=(trainer model-server retriever tool-runner)
for role in "${ROLES[@]}"; do
  binary=$(readlink -f "$EXAMPLES/spinel-example-$role")
  digest=$(sha256sum "$binary" | cut -d' ' -f1)
  id="spiffe://${WORKLOAD_TD[$role]}/$role"
  cli entry create --spiffe-id "$id" --parent-id "$AGENT_ID" --x509-ttl "$TTL" \
    --selector "unix:path:$binary" --selector "unix:sha256:$digest" >/dev/null ||
    die "could not register $role"
  line "$role" "$id"
  line "" "${DIM}unix:path:…/$(basename "$binary")  unix:sha256:${digest:0:16}…  TTL $TTL${OFF}"
done
count=$(cli entry count --output json | json_field count)
check "4 entries registered" test "$count" -eq 4
SUMMARY[2]="4 workloads registered by unix:path + unix:sha256, X509-SVID TTL $TTL"

# ---------------------------------------------------------------- 3. identities
step 3 "Each workload fetches its X509-SVID from the Workload API"
export SPIFFE_ENDPOINT_SOCKET="unix://$SOCKET"
for role in retriever tool-runner; do
  start_bg "$WORK/$role.log" "$EXAMPLES/spinel-example-$role" --zones "$ZONES" --watch \
    --timeout 60s --port-file "$WORK/$role.port"
done
wait_for 60 test -s "$WORK/retriever.port" || die "the retriever did not start serving"
wait_for 60 test -s "$WORK/tool-runner.port" || die "the tool runner did not start serving"
RETRIEVER="127.0.0.1:$(cat "$WORK/retriever.port")"
TOOL_RUNNER="127.0.0.1:$(cat "$WORK/tool-runner.port")"
for role in retriever tool-runner; do grep -v listening "$WORK/$role.log" | show; done
run_example "$WORK/trainer.out" "$EXAMPLES/spinel-example-trainer" --zones "$ZONES" --timeout 60s
check "trainer got its SVID" test "$STATUS" -eq 0
echo "  ${DIM}(the model server waits for its SVID to rotate: the agent renews at half the TTL)${OFF}"
run_example "$WORK/model-server.out" "$EXAMPLES/spinel-example-model-server" --zones "$ZONES" \
  --watch --rotations 1 --timeout 90s
rotation_status=$STATUS
check "trainer's SPIFFE ID is in the training trust domain" \
  grep -q "SPIFFE ID  *spiffe://training.ai.example.org/trainer" "$WORK/trainer.out"
for role in retriever tool-runner; do
  check "$role got its SVID" grep -q "SPIFFE ID  *spiffe://${WORKLOAD_TD[$role]}/$role" "$WORK/$role.log"
done
check "trainer trusts only its own zone (training peers with nobody)" \
  grep -qE "trusts +training.ai.example.org$" "$WORK/trainer.out"
check "model-server also trusts its peers retrieval and tool-execution" \
  grep -qE "trusts +.*retrieval.ai.example.org.*tools.ai.example.org|trusts +.*tools.ai.example.org.*retrieval.ai.example.org" \
  "$WORK/model-server.out"
check "model-server saw a live rotation (new serial, new expiry)" \
  test "$rotation_status" -eq 0 -a -n "$(grep rotated "$WORK/model-server.out")"
SUMMARY[3]="every workload got its SVID; live rotation seen at ~half the TTL"

# ---------------------------------------------------------------- 4. mTLS between zones
step 4 "mTLS between zones: peers connect, non-peers are refused in the handshake"
echo "  ${DIM}inference -> retrieval (peers):${OFF}"
run_action "$WORK/step4-model.out" "$EXAMPLES/spinel-example-model-server" --retriever "$RETRIEVER"
check "model-server -> retriever: mTLS handshake and answer" \
  test "$STATUS" -eq 0 -a -n "$(grep 'mTLS ok with spiffe://retrieval.ai.example.org/retriever' "$WORK/step4-model.out")"
echo "  ${DIM}training -> tool-execution (not peers):${OFF}"
run_action "$WORK/step4-trainer.out" "$EXAMPLES/spinel-example-trainer" --tool-runner "$TOOL_RUNNER"
check "trainer -> tool runner: refused at the TLS handshake (exit 5)" \
  test "$STATUS" -eq 5 -a -n "$(grep 'REFUSED.*TLS handshake failed' "$WORK/step4-trainer.out")"
wait_for 5 grep -q refused "$WORK/tool-runner.log" || true
grep refused "$WORK/tool-runner.log" | show || true
SUMMARY[4]="inference -> retrieval mTLS ok; training -> tool-execution refused in the handshake"

# ---------------------------------------------------------------- 5. MCP acting for a user
step 5 "An agent acting for alice calls tools over MCP; a production deploy needs approval"
ALICE_TOKEN="$WORK/alice.jwt"
"$EXAMPLES/spinel-example-user-issuer" issue "$ISSUER_DIR" --sub alice@example.org \
  --aud spinel-inference --claim groups=sre --claim email=alice@example.org --ttl 10m \
  >"$ALICE_TOKEN" 2>"$WORK/issue.err" || die "the demo user issuer could not issue alice's token"
line "user issuer" "$(cat "$ISSUER_DIR/issuer") (trusted by the inference zone)"
line "alice's token" "sub alice@example.org, groups [sre], aud spinel-inference, 10m"
mcp() {  # mcp OUT ARGS...: model server -> tool runner over MCP
  local out=$1; shift
  run_action "$out" "$EXAMPLES/spinel-example-model-server" --tool-runner "$TOOL_RUNNER" "$@"
}
invoke() {  # invoke OUT [--approval-id ID]: deploy.production for alice
  local out=$1; shift
  mcp "$out" --user-token "$ALICE_TOKEN" --invoke deploy.production \
    --context service=checkout --context version=v1.4.2 "$@"
}
echo "  ${DIM}model-server, for alice: MCP initialize, tools/list, tools/call search_docs:${OFF}"
mcp "$WORK/step5-search.out" --user-token "$ALICE_TOKEN" --invoke search_docs \
  --context "query=rollback runbook"
check "tools listed and search_docs ALLOW for alice (exit 0)" \
  test "$STATUS" -eq 0 -a -n "$(grep -E 'tools +.*deploy.production' "$WORK/step5-search.out")"
check "delegation token: alice via the model server, audience the tool runner" \
  grep -qE 'delegation +for alice@example.org .*model-server.*audience spiffe://tools.ai.example.org/tool-runner' \
  "$WORK/step5-search.out"
echo "  ${DIM}model-server, for alice: tools/call deploy.production:${OFF}"
invoke "$WORK/step5-ask.out"
check "first call: APPROVAL_REQUIRED (exit 4)" test "$STATUS" -eq 4
APPROVAL_ID=$(sed -n 's/^model-server *approval *\([^ ]*\).*/\1/p' "$WORK/step5-ask.out")
if [ -n "$APPROVAL_ID" ]; then
  cli approval show "$APPROVAL_ID" >"$WORK/approval-show.out" 2>&1 || true
  grep -E 'On behalf of|User issuer|Actor chain' "$WORK/approval-show.out" | show || true
  check "approval show: bound to alice and the chain" \
    grep -qE 'On behalf of: +alice@example.org' "$WORK/approval-show.out"
  echo "  ${DIM}the operator approves it:${OFF}"
  echo "    \$ spinel-server approval approve $APPROVAL_ID --reason \"demo change window\""
  approved=0
  cli approval approve "$APPROVAL_ID" --reason "demo change window" >"$WORK/approve.out" 2>&1 ||
    approved=$?
  head -n 1 "$WORK/approve.out" | show
  check "approval granted by the operator CLI" test "$approved" -eq 0
  echo "  ${DIM}the model server retries for alice with the approval:${OFF}"
  invoke "$WORK/step5-retry.out" --approval-id "$APPROVAL_ID"
  check "retried call with the approval: ALLOW, the tool ran (exit 0)" \
    test "$STATUS" -eq 0 -a -n "$(grep 'result *ran deploy.production' "$WORK/step5-retry.out")"
  echo "  ${DIM}the same approval replayed:${OFF}"
  invoke "$WORK/step5-replay.out" --approval-id "$APPROVAL_ID"
  check "replayed approval: DENY (exit 3)" test "$STATUS" -eq 3
  echo "  ${DIM}what the tool runner (the guard, asking the agent's Authorization API) saw:${OFF}"
  grep ' invoke ' "$WORK/tool-runner.log" | show || true
else
  problem "no approval id in the model server's answer"
fi
SUMMARY[5]="MCP for alice: tools listed and called; deploy.production approval bound to alice -> ALLOW once -> replay DENY"

# ---------------------------------------------------------------- 6. proof of possession
step 6 "Proof of possession: replayed and keyless proofs are refused; nobody's call is denied"
echo "  ${DIM}the same Workload Proof Token sent twice:${OFF}"
mcp "$WORK/step6-replay.out" --user-token "$ALICE_TOKEN" --replay-wpt
check "replayed WPT: refused with HTTP 400 (exit 6)" \
  test "$STATUS" -eq 6 -a -n "$(grep 'REFUSED.*HTTP 400' "$WORK/step6-replay.out")"
echo "  ${DIM}a WIT-SVID presented without its key (WPT signed by another key):${OFF}"
mcp "$WORK/step6-keyless.out" --wit-without-key
check "WIT-SVID without its key: refused with HTTP 400 (exit 6)" \
  test "$STATUS" -eq 6 -a -n "$(grep 'REFUSED.*HTTP 400' "$WORK/step6-keyless.out")"
echo "  ${DIM}a tool call on behalf of nobody (no user token):${OFF}"
mcp "$WORK/step6-nobody.out" --invoke search_docs --context "query=rollback runbook"
check "call on behalf of nobody: DENY, a user is required (exit 3)" \
  test "$STATUS" -eq 3 -a -n "$(grep -E 'reason .*requires a user' "$WORK/step6-nobody.out")"
SUMMARY[6]="replayed WPT refused; WIT without its key refused; call on behalf of nobody DENY"

# ---------------------------------------------------------------- 7. audit
step 7 "The hash-chained audit log verifies"
audit_status=0
cli audit verify 2>&1 | show || audit_status=$?
check "spinel-server audit verify: intact" test "$audit_status" -eq 0
SUMMARY[7]="audit chain verified (spinel-server audit verify)"

# ---------------------------------------------------------------- 8. summary
step 8 "Summary"
for n in 1 2 3 4 5 6 7; do line "step $n" "${SUMMARY[$n]}"; done
line "time" "$((SECONDS - STARTED_AT))s"
if ((PROBLEMS)); then
  echo "${RED}$PROBLEMS unexpected outcome(s); see above.${OFF}" >&2
  exit 1
fi
if ((KEEP)); then
  cat <<EOF

spinel-server (pid $SERVER_PID) and spinel-agent (pid $AGENT_PID) are still running; data in $WORK.
Try, in this shell:
  export SPINEL_ADMIN_SOCKET=$SPINEL_ADMIN_SOCKET
  export SPIFFE_ENDPOINT_SOCKET=unix://$SOCKET
  $SERVER entry show
  $SERVER agent list
  $SERVER approval list
  $SERVER audit list
  $EXAMPLES/spinel-example-trainer --zones $ZONES --watch --rotations 2
  # give the agent CLI an identity of its own (by its executable path), then fetch it:
  $SERVER entry create --spiffe-id spiffe://inference.ai.example.org/operator \\
      --parent-id $AGENT_ID --selector unix:path:$(readlink -f "$AGENT")
  $AGENT api fetch x509
Stop them with:
  kill $AGENT_PID $SERVER_PID; rm -rf $WORK
EOF
else
  echo "  Stopped everything the demo started and removed $WORK."
fi
