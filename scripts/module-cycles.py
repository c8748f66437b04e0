#!/usr/bin/env python3
"""Module dependency cycles between the top-level modules of a crate's src/, or of a folder
inside it such as src/graphql/ (a module is `foo.rs` together with `foo/`; references are
`crate::`, `super::` and `self::` paths); prints the strongly connected components with more
than one module and the edges inside them."""
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

def crate_prefix(src_dir):
    """The module path of `src_dir` inside its crate: [] for a crate's src/, ['graphql'] for
    src/graphql/ (the nearest ancestor holding lib.rs or main.rs is the crate root)."""
    d, parts = os.path.abspath(src_dir), []
    while not any(os.path.exists(os.path.join(d, r)) for r in ('lib.rs', 'main.rs')):
        d, tail = os.path.split(d)
        if not tail:
            return []
        parts.insert(0, tail)
    return parts

def file_module(prefix, src_dir, path):
    rel = os.path.relpath(path, src_dir)[:-3].split(os.sep)
    return prefix + rel

def referenced(s, here):
    """Absolute module paths (lists of names) that the source `s` of module `here` names through
    `crate::`, `super::` or `self::`, including the branches of use trees."""
    out = []
    for m in re.finditer(r'\b((?:crate|self|super)(?:::(?:super|self))*)::(\{[^;]*?\}|[\w:]+)', s, flags=re.S):
        head, rest = m.group(1).split('::'), m.group(2)
        base = []
        if head[0] == 'crate':
            head = head[1:]
        else:
            base = list(here)
        for h in head:
            if h == 'super':
                base = base[:-1]
        if rest.startswith('{'):
            for n in top_names_in_use_tree(rest):
                out.append(base + [n])
        else:
            out.append(base + [x for x in rest.split('::') if x])
    return out

def deps(src_dir):
    mods = {}
    for f in os.listdir(src_dir):
        if f.endswith('.rs') and f not in ('lib.rs', 'main.rs'):
            mods[f[:-3]] = None
    prefix = crate_prefix(src_dir)
    graph = defaultdict(set)
    for m in mods:
        files = [os.path.join(src_dir, m + '.rs')]
        d = os.path.join(src_dir, m)
        if os.path.isdir(d):
            for root, _, fs in os.walk(d):
                files += [os.path.join(root, x) for x in fs if x.endswith('.rs')]
        for path in files:
            s = strip_comments(open(path).read())
            here = file_module(prefix, src_dir, path)
            for target in referenced(s, here):
                if len(target) > len(prefix) and target[:len(prefix)] == prefix:
                    n = target[len(prefix)]
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
