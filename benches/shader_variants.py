#!/usr/bin/env python3
"""Variants of the expanded shaders for timing on a lent GPU (benches/device_variants.sh).

Each variant leaves one part of a kernel out, or changes one size, so that the difference of
its kernel time from the committed shader's sizes that part. Variants compute wrong answers
on purpose: they are for timing, never for results. Each goes to OUT/NAME/SHADER.wgsl, which
`methyl --dev-shader-dir OUT/NAME` loads in place of the built-in SHADER.

    python3 benches/shader_variants.py --out .devrun/variants

Reads the expanded shaders that build.rs wrote for the newest release build. A variant may
instead be a shader as an earlier commit had it, expanded with today's shaders/shared (as
build.rs does), where the host's side of it has not changed since.
"""
import argparse
import glob
import os
import subprocess


def newest_expanded(name):
    paths = glob.glob(f"target/release/build/betagibbs-*/out/{name}.wgsl")
    if not paths:
        raise SystemExit(f"no expanded {name}.wgsl: run `cargo build --release` first")
    return open(max(paths, key=os.path.getmtime)).read()


def expanded_at(commit, name):
    """shaders/NAME.wgsl at COMMIT, its `#import`s expanded from today's shaders/shared."""
    source = subprocess.run(["git", "show", f"{commit}:shaders/{name}.wgsl"], check=True,
                            capture_output=True, text=True).stdout
    out = []
    for line in source.splitlines():
        imported = line.strip().removeprefix("#import ")
        if imported != line.strip():
            out.append(open(f"shaders/shared/{imported.strip()}.wgsl").read())
        else:
            out.append(line + "\n")
    return "".join(out)


def replaced(text, old, new):
    if text.count(old) != 1:
        raise SystemExit(f"variant: {old!r} occurs {text.count(old)} times, not once")
    return text.replace(old, new)


# (variant, shader, [(old, new), ...]): what each leaves out; or (variant, shader, commit):
# the shader as it was at that commit.
VARIANTS = [
    # site_update.wgsl before its one code path for both models (5e9675d), for that change's
    # cost on the device: only site_update.wgsl changed on either side since.
    ("site-before-one-path", "site_update", "5e9675d^"),
    # site_update.wgsl before one walk step a sweep (each differing group walked in turn), for
    # that change's gain on the device: only site_update.wgsl changed since.
    ("site-before-one-walk-step", "site_update", "5718e46"),
    # site_update.wgsl: one part of a sweep each.
    ("site-no-random-walk", "site_update", [
        ("if (params.random_walk != 0u) {", "if (false) {")]),
    ("site-no-walk-likelihoods", "site_update", [
        ("let likelihood = walk_likelihoods(first, last, step, g, lp_here.likelihood);",
         "let likelihood = lp_here.likelihood;")]),
    ("site-no-beta-draws", "site_update", [
        ("logs = log_beta_variate(shapes.x, shapes.y, key, g, site_pos, sweep);",
         "logs = vec2<f32>(-0.6931472, -0.6931472) + 1e-9 * shapes;")]),
    ("site-no-proposal", "site_update", [
        ("let q_there = proposal(first, last, there.z, there.differ, h);", "let q_there = q_here;")]),
    ("site-no-target", "site_update", [
        ("let lp_there = log_target(first, last, there, h);", "let lp_there = lp_here;")]),
    ("site-no-draws", "site_update", [
        ("draws[out + g] = exp(here.log_mu[g]);",
         "if (here.z > 1e30) {\n                    draws[out + g] = 0.0;\n                }")]),
    # site_summaries.wgsl: the two rankings, the most costly parts left (2026-11-27).
    ("summaries-no-ranks", "site_summaries", [
        ("let c = count_block(i0, pooled);",
         "let c = Counts(vec4<f32>(x[i0]), vec4<u32>(0u), vec4<u32>(1u));"),
        ("let c = count_block(i0, n_split);",
         "let c = Counts(vec4<f32>(w[i0]), vec4<u32>(0u), vec4<u32>(1u));")]),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    for name, shader, edits in VARIANTS:
        if isinstance(edits, str):
            text = expanded_at(edits, shader)
        else:
            text = newest_expanded(shader)
            for old, new in edits:
                text = replaced(text, old, new)
        os.makedirs(os.path.join(args.out, name), exist_ok=True)
        with open(os.path.join(args.out, name, f"{shader}.wgsl"), "w") as f:
            f.write(text)
        print(name)


if __name__ == "__main__":
    main()
