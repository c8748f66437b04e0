#!/usr/bin/env python3
"""Module dependency cycles between the top-level modules of a crate's src/ (a module is
`foo.rs` together with `foo/`); prints the edges that close cycles and the strongly connected
components with more than one module."""
import os, re, sys
from collections import defaultdict

def strip_comments(s):
    s = re.sub(r'/\*.*?\*/', '', s, flags=re.S)
    return re.sub(r'//[^\n]*', '', s)

def top_names_in_use_tree(tree):
    # tree like "{a, b::c, d::{e, f}}" or "a::b"
    tree = tree.strip()
    if tree.startswith('{'):
        depth, cur, out = 0, '', []
        for ch in tree[1:-1]:
            if ch == '{': depth += 1
            if ch == '}': depth -= 1
            if ch == ',' and depth == 0:
                out.append(cur); cur = ''
            else:
                cur += ch
        out.append(cur)
        return [re.match(r'\s*(\w+)', p).group(1) for p in out if re.match(r'\s*(\w+)', p)]
    m = re.match(r'(\w+)', tree)
    return [m.group(1)] if m else []

def deps(src_dir):
    mods = {}
    for f in os.listdir(src_dir):
        if f.endswith('.rs') and f not in ('lib.rs', 'main.rs'):
            mods[f[:-3]] = None
    graph = defaultdict(set)
    for m in mods:
        files = [os.path.join(src_dir, m + '.rs')]
        d = os.path.join(src_dir, m)
        if os.path.isdir(d):
            for root, _, fs in os.walk(d):
                files += [os.path.join(root, x) for x in fs if x.endswith('.rs')]
        for path in files:
            s = strip_comments(open(path).read())
            names = set(re.findall(r'\bcrate::(\w+)', s))
            for tree in re.findall(r'\bcrate::(\{.*?\});', s, flags=re.S):
                names |= set(top_names_in_use_tree(tree))
            for n in names:
                if n in mods and n != m:
                    graph[m].add(n)
    return mods, graph

def sccs(nodes, graph):
    index, low, stack, on, out, i = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            out.append(comp)
    for v in sorted(nodes):
        if v not in index: visit(v)
    return out

for src in sys.argv[1:]:
    mods, graph = deps(src)
    comps = [sorted(c) for c in sccs(mods, graph) if len(c) > 1]
    print(f"{src}: {len(mods)} modules, {sum(len(v) for v in graph.values())} edges, {len(comps)} cycle groups")
    for c in comps:
        inner = [(a, b) for a in c for b in sorted(graph[a]) if b in c]
        print("  group:", ", ".join(c))
        print("    edges:", "; ".join(f"{a}->{b}" for a, b in inner))
