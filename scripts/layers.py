#!/usr/bin/env python3
"""The layering check ./scripts/test.sh runs. Module-level import graph of a Rust crate (src/): cycles between top-level modules, imports between
sibling subsystems, and the longest files (non-test lines).
usage: python3 scripts/layers.py src [--siblings a,b,c] [--max-lines N]
last line: 'layers: C cycle(s) among top-level modules, S sibling import(s), F file(s) over N lines'"""
import re, sys, os, itertools
args = sys.argv[1:]; src = args[0]
sib = args[args.index("--siblings") + 1].split(",") if "--siblings" in args else ["provision", "deploy", "audit"]
maxl = int(args[args.index("--max-lines") + 1]) if "--max-lines" in args else 600
def top(path):  # src/provision/cloudfront/x.rs -> provision ; src/aws.rs -> aws
    rel = os.path.relpath(path, src).replace(os.sep, "/")
    return rel.split("/")[0].removesuffix(".rs")
mods = {}
edges = {}
long = []
for dp, _, fs in os.walk(src):
    for f in fs:
        if not f.endswith(".rs"): continue
        p = os.path.join(dp, f); text = open(p, encoding="utf-8").read()
        body = re.split(r"\n#\[cfg\(test\)\]\s*\nmod tests", text)[0]  # drop the unit-test module
        code = [l for l in body.splitlines() if l.strip() and not l.strip().startswith("//")]
        if len(code) > maxl: long.append((len(code), os.path.relpath(p, src)))
        t = top(p); mods.setdefault(t, set())
        for m in re.finditer(r"\bcrate::(\{[^}]*\}|[a-z_]+)", body):
            g = m.group(1)
            names = re.findall(r"\b([a-z_]+)\b", g) if g.startswith("{") else [g]
            for n in names:
                if n != t and n not in ("self", "super", "crate"):
                    edges.setdefault(t, set()).add(n)
nodes = set(mods) | {n for v in edges.values() for n in v}
edges = {k: {n for n in v if n in mods} for k, v in edges.items()}
# Tarjan SCC
idx, low, st, on, sccs, i = {}, {}, [], set(), [], [0]
def sc(v):
    idx[v] = low[v] = i[0]; i[0] += 1; st.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(sorted(comp))
sys.setrecursionlimit(10000)
for v in sorted(mods):
    if v not in idx: sc(v)
for c in sccs:
    print("cycle: " + " <-> ".join(c))
    for a in c:
        for b in sorted(edges.get(a, ())):
            if b in c: print(f"    {a} -> {b}")
sibs = [(a, b) for a in sib for b in sorted(edges.get(a, ())) if b in sib]
for a, b in sibs: print(f"sibling import: {a} -> {b}")
for n, p in sorted(long, reverse=True): print(f"long file: {p} {n} lines")
print(f"layers: {len(sccs)} cycle(s) among top-level modules, {len(sibs)} sibling import(s), {len(long)} file(s) over {maxl} lines")
sys.exit(0 if not sccs and not sibs and not long else 1)
