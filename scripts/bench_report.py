#!/usr/bin/env python3
"""Aggregates the JSON lines of the benchmark programs (bench/support/report.h) into
bench-results/results.json and results.md: per (bench, figure) min/median/max over the repeats,
the limit (median of the limits the runs printed), ratio = median / limit, and the goal with
met / not met. Goals are "ratio >= X", "ratio <= X", or "< X unit" / "<= X" / "> X" / ">= X" /
"== X"
compared with the median. Called by scripts/bench.sh."""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys

GOAL = re.compile(r"^\s*(ratio\s*)?(<=|>=|==|<|>)\s*([0-9.eE+-]+)")


def run(command):
    try:
        return subprocess.run(command, shell=True, capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return ""


def machine():
    lscpu = run("lscpu")
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines()
                  if l.startswith("Model name")), "unknown")
    mem_kb = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": run("uname -r"), "load_average": run("cut -d' ' -f1-3 /proc/loadavg")}


def goal_met(goal, median, ratio):
    match = GOAL.match(goal or "")
    if not match:
        return None
    is_ratio, op, bound = match.group(1), match.group(2), float(match.group(3))
    value = ratio if is_ratio else median
    if value is None:
        return None
    return {"<": value < bound, "<=": value <= bound, ">": value > bound,
            ">=": value >= bound, "==": value == bound}[op]


def aggregate(lines):
    groups = {}
    for line in lines:
        key = (line["bench"], line["figure"])
        groups.setdefault(key, []).append(line)
    figures = []
    for (bench, figure), runs in groups.items():
        values = [r["value"] for r in runs]
        limits = [r["limit"] for r in runs if "limit" in r]
        median = statistics.median(values)
        limit = statistics.median(limits) if limits else None
        ratio = median / limit if limit else None
        goal = next((r["goal"] for r in runs if r.get("goal")), "")
        figures.append({"bench": bench, "figure": figure, "unit": runs[0]["unit"],
                        "runs": len(values), "min": min(values), "median": median,
                        "max": max(values), "limit": limit, "ratio": ratio, "goal": goal,
                        "met": goal_met(goal, median, ratio), "params": runs[-1]["params"]})
    return figures


def fmt(value):
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def markdown(result):
    meta = result["meta"]
    out = [f"# Spinel benchmark results ({meta['mode']} run)", "",
           f"- commit: `{meta['commit']}`", f"- date: {meta['date']}",
           f"- machine: {meta['machine']['cpu']}, {meta['machine']['cores']} cores, "
           f"{meta['machine']['memory_gb']} GB RAM, Linux {meta['machine']['kernel']} "
           f"(load average at the end: {meta['machine']['load_average']})",
           f"- build type: {meta['build_type']}; repeats per program: {meta['repeat']}",
           f"- openssl speed ecdsap256 (one core): {meta['openssl_sign_per_s']:,.0f} sign/s, "
           f"{meta['openssl_verify_per_s']:,.0f} verify/s -> X509-SVID limit "
           f"{meta['x509_limit']:,.0f}/s, JWT-SVID limit {meta['jwt_limit']:,.0f}/s", ""]
    if meta["failed"]:
        out += [f"**Failed runs** (figures missing): {', '.join(meta['failed'])}", ""]
    goals = [f for f in result["figures"] if f["goal"]]
    out += ["## Goals", "", "| bench | figure | median | unit | limit | ratio | goal | met |",
            "| --- | --- | ---: | --- | ---: | ---: | --- | --- |"]
    for f in goals:
        met = {True: "met", False: "**not met**", None: "?"}[f["met"]]
        out.append(f"| {f['bench']} | {f['figure']} | {fmt(f['median'])} | {f['unit']} | "
                   f"{fmt(f['limit'])} | {fmt(f['ratio'])} | {f['goal']} | {met} |")
    out += ["", "## All figures", "",
            "| bench | figure | min | median | max | unit | runs | limit | ratio |",
            "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for f in result["figures"]:
        out.append(f"| {f['bench']} | {f['figure']} | {fmt(f['min'])} | {fmt(f['median'])} | "
                   f"{fmt(f['max'])} | {f['unit']} | {f['runs']} | {fmt(f['limit'])} | "
                   f"{fmt(f['ratio'])} |")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--sign", type=float, required=True)
    parser.add_argument("--verify", type=float, required=True)
    parser.add_argument("--repeat", type=int, required=True)
    parser.add_argument("--repeat-overrides", default="",
                        help="programs run a different number of times, e.g. 'rotation=1'")
    parser.add_argument("--mode", default="full")
    parser.add_argument("--failed", default="")
    parser.add_argument("--build-type", default="")
    args = parser.parse_args()
    lines = []
    if os.path.exists(args.raw):
        with open(args.raw) as raw:
            for number, text in enumerate(raw, 1):
                text = text.strip()
                if not text:
                    continue
                try:
                    lines.append(json.loads(text))
                except json.JSONDecodeError:
                    print(f"bench_report: {args.raw}:{number}: not JSON, skipped", file=sys.stderr)
    meta = {"mode": args.mode,
            "repeat": str(args.repeat) + (f" ({', '.join(args.repeat_overrides.split())})"
                                          if args.repeat_overrides else ""),
            "commit": run("git rev-parse --short HEAD") + (" (dirty)" if run("git status --porcelain --untracked-files=no") else ""),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(), "openssl_sign_per_s": args.sign,
            "openssl_verify_per_s": args.verify,
            "x509_limit": 1 / (1 / args.sign + 1 / args.verify), "jwt_limit": args.sign,
            "failed": args.failed.split(), "build_type": args.build_type}
    result = {"meta": meta, "figures": aggregate(lines)}
    with open(os.path.join(args.out, "results.json"), "w") as out:
        json.dump(result, out, indent=2)
    with open(os.path.join(args.out, "results.md"), "w") as out:
        out.write(markdown(result))


if __name__ == "__main__":
    main()
