// axe-core on the current page: fails on any violation of impact serious or critical, and keeps
// the full result in out/axe/<label>.json.

import AxeBuilder from '@axe-core/playwright';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { outDir } from './server.js';

const BLOCKING = new Set(['serious', 'critical']);

/** Runs axe; returns { blocking, all } (violations). Does not throw. */
export async function axeScan(page, label) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  const dir = path.join(outDir, 'axe');
  await mkdir(dir, { recursive: true });
  const name = String(label).replace(/[^A-Za-z0-9._-]+/g, '_');
  await writeFile(
    path.join(dir, `${name}.json`),
    JSON.stringify({ url: results.url, violations: results.violations, incomplete: results.incomplete.map((i) => i.id) }, null, 2),
  );
  const blocking = results.violations.filter((v) => BLOCKING.has(v.impact));
  return { blocking, all: results.violations, url: results.url };
}

export function describeViolations(violations) {
  return violations
    .map((v) => {
      const targets = v.nodes
        .slice(0, 6)
        .map((n) => `      ${JSON.stringify(n.target)}${n.failureSummary ? ` (${n.failureSummary.split('\n').slice(1, 2).join(' ').trim()})` : ''}`)
        .join('\n');
      const more = v.nodes.length > 6 ? `\n      ... and ${v.nodes.length - 6} more` : '';
      return `  ${v.id} [${v.impact}] ${v.help} (${v.nodes.length} nodes)\n${targets}${more}`;
    })
    .join('\n');
}

/** Runs axe and throws when a serious or critical violation is found (rule ids and targets). */
export async function expectAccessible(page, label) {
  const { blocking, all, url } = await axeScan(page, label);
  const minor = all.filter((v) => !BLOCKING.has(v.impact));
  if (minor.length) {
    console.log(`# axe ${label}: ${minor.length} minor/moderate: ${minor.map((v) => v.id).join(', ')}`);
  }
  if (blocking.length) {
    const err = new Error(`axe: ${blocking.length} serious/critical violation(s) on ${url} (${label}):\n${describeViolations(blocking)}`);
    err.violations = blocking;
    throw err;
  }
}
