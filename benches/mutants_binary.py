#!/usr/bin/env python3
"""Mutation testing judged by the real-binary suites of the root package.

cargo-mutants builds and tests the package it mutates (`--package mpm-core`), but the code
of the running master (restarts, stops) is reached only by the root package's integration
tests, which start the example server as a process and signal it. So this script takes the
mutants cargo-mutants lists (`--list --json --diff`), applies each in a scratch copy of the
committed tree (`git archive`), rebuilds, runs the given suites, and writes cargo-mutants'
outcome files (`caught.txt`, `missed.txt`, `timeout.txt`, `unviable.txt`) to OUT.

    benches/mutants_binary.py OUT --file F [--file F ...] --test T [--test T ...]
        [--timeout SECONDS]

One mutant at a time, in its own copy: the checkout is never touched.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--file", action="append", required=True)
    ap.add_argument("--test", action="append", required=True)
    ap.add_argument("--timeout", type=int, default=300)
    a = ap.parse_args()
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=True).stdout.strip()
    listing = ["cargo", "mutants", "--workspace", "--list", "--json", "--diff"]
    for f in a.file:
        listing += ["--file", f]
    mutants = json.loads(subprocess.run(listing, cwd=root, capture_output=True, text=True,
                                        check=True).stdout)
    os.makedirs(a.out, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="mutants-binary.")
    tree = os.path.join(scratch, "tree")
    os.makedirs(tree)
    subprocess.run(f"git -C {root} archive HEAD | tar -x -C {tree}", shell=True, check=True)
    # Never a shared CARGO_TARGET_DIR: the scratch tree builds into its own.
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(scratch, "target"))
    build = ["cargo", "build", "-q", "--all-features", "--tests", "--example", "httpd"]
    test = ["cargo", "test", "-q", "--all-features"]
    for t in a.test:
        test += ["--test", t]

    def run_tests(timeout):
        try:
            p = subprocess.run(test, cwd=tree, env=env, capture_output=True, text=True,
                               timeout=timeout, start_new_session=True)
            return p.returncode
        except subprocess.TimeoutExpired:
            return None

    started = time.time()
    if subprocess.run(build, cwd=tree, env=env).returncode != 0 or run_tests(1800) != 0:
        sys.exit("the unmutated tree fails its build or tests: nothing measured")
    print(f"baseline passed in {time.time() - started:.0f} s", flush=True)
    outcomes = {"caught": [], "missed": [], "timeout": [], "unviable": []}
    for m in mutants:
        path = os.path.join(tree, m["file"])
        original = open(path).read()
        patched = subprocess.run(["patch", "-s", path], input=m["diff"], text=True,
                                 capture_output=True)
        if patched.returncode != 0:
            sys.exit(f"cannot apply {m['name']}: {patched.stderr}")
        try:
            if subprocess.run(build, cwd=tree, env=env, capture_output=True).returncode != 0:
                outcome = "unviable"
            else:
                rc = run_tests(a.timeout)
                outcome = "timeout" if rc is None else ("caught" if rc != 0 else "missed")
        finally:
            open(path, "w").write(original)
        outcomes[outcome].append(m["name"])
        print(f"{outcome}\t{m['name']}", flush=True)
    for name, lines in outcomes.items():
        with open(os.path.join(a.out, f"{name}.txt"), "w") as f:
            f.writelines(line + "\n" for line in lines)
    subprocess.run(["rm", "-rf", scratch])


if __name__ == "__main__":
    main()
