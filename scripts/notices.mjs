/**
 * THIRD-PARTY-NOTICES: the licence texts of the npm packages bundled into the
 * commands (scripts/build.mjs) and the single executable (scripts/build-exe.mjs).
 * Which packages are in which bundle comes from esbuild's metafiles; names,
 * versions and licences from each package's package.json; the texts from its
 * licence files (LICENSE, LICENCE, COPYING, NOTICE). A licence named in
 * package.json but not in those files is taken from a comment of the
 * package's bundled sources that carries it, else from scripts/licence-texts/;
 * failing both, the build stops: nothing ships without its licence.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TEXTS = join(dirname(fileURLToPath(import.meta.url)), 'licence-texts');
const LICENCE_FILE = /^(licen[cs]e|copying|notice)([.-].*)?$/i;
// A phrase every copy of a licence contains, to tell whether a text carries it.
const PHRASES = {
  MIT: /Permission is hereby granted, free of charge/,
  ISC: /Permission to use, copy, modify, and\/or distribute/,
  'BSD-2-Clause': /Redistribution and use in source and binary forms/,
  'BSD-3-Clause': /Redistribution and use in source and binary forms/,
  'Apache-2.0': /Apache License/,
  Zlib: /This software is provided 'as-is'/,
};

/** The package folder of a bundled input path (…/node_modules/name or …/node_modules/@scope/name), or null. */
function packageDir(input, cwd) {
  const abs = join(cwd, input);
  const parts = abs.split(sep);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return null;
  const n = parts[at + 1]?.startsWith('@') ? 2 : 1;
  return parts.slice(0, at + 1 + n).join(sep);
}

/**
 * The packages in a set of bundles: Map of package folder -> { inputs, bundles }.
 * `builds` is a list of { metafile, cwd, name: (output path) -> bundle label }.
 */
export function bundledPackages(builds) {
  const packages = new Map();
  for (const { metafile, cwd, name } of builds) {
    for (const [out, info] of Object.entries(metafile.outputs)) {
      if (!/\.[cm]?js$/.test(out)) continue;
      for (const [input, { bytesInOutput }] of Object.entries(info.inputs)) {
        if (bytesInOutput === 0) continue;
        const dir = packageDir(input, cwd);
        if (!dir) continue;
        const p = packages.get(dir) ?? { inputs: new Set(), bundles: new Set() };
        p.inputs.add(join(cwd, input));
        p.bundles.add(name(out));
        packages.set(dir, p);
      }
    }
  }
  return packages;
}

/** The comments heading a source file (before its first line of code), each run of comment lines as one text. */
function headingComments(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const runs = [];
  let run = null;
  let inBlock = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (inBlock || line.startsWith('/*')) {
      run ??= [];
      run.push(line.replace(/^\/\*+!?|\*+\/$/g, '').replace(/^\* ?/, ''));
      inBlock = !line.includes('*/');
      if (!inBlock) runs.push(run.join('\n').trim()), (run = null);
    } else if (line.startsWith('//')) {
      (run ??= []).push(line.replace(/^\/\/ ?/, ''));
    } else {
      if (run) runs.push(run.join('\n').trim());
      run = null;
      if (line && !/^(#!|['"]use strict['"];?$)/.test(line)) break;
    }
  }
  if (run) runs.push(run.join('\n').trim());
  return runs;
}

/** The licence texts of one package: [{ source, text }]; throws when a licence has no text. */
function licenceTexts(dir, pkg, inputs) {
  const files = readdirSync(dir)
    .filter((f) => LICENCE_FILE.test(f))
    .sort();
  const texts = files.map((f) => ({ source: f, text: readFileSync(join(dir, f), 'utf8').trim() }));
  const expression = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? '');
  const ids = expression
    .split(/\s+(?:AND|OR|WITH)\s+|[()]/)
    .map((s) => s.trim())
    .filter(Boolean);
  const covered = (id) => (PHRASES[id] ? texts.some((t) => PHRASES[id].test(t.text)) : texts.length > 0);
  const missing = ids.filter((id) => !covered(id));
  // With OR, one licence is enough.
  if (/\sOR\s/.test(expression) && missing.length < ids.length) return texts;
  for (const id of missing) {
    const phrase = PHRASES[id];
    const fromSource =
      phrase &&
      [...inputs]
        .sort()
        .flatMap((f) => headingComments(f).map((c) => ({ f, c })))
        .find(({ c }) => phrase.test(c));
    if (fromSource) texts.push({ source: `${id}, from the comment heading ${relative(dir, fromSource.f)}`, text: fromSource.c });
    else if (existsSync(join(TEXTS, `${id}.txt`)))
      texts.push({
        source: `${id}: the package has no licence text, this is the licence's standard text`,
        text: readFileSync(join(TEXTS, `${id}.txt`), 'utf8').trim(),
      });
    else throw new Error(`${pkg.name}@${pkg.version} (${dir}): no text for its licence ${id}; add scripts/licence-texts/${id}.txt`);
  }
  if (texts.length === 0) throw new Error(`${pkg.name}@${pkg.version} (${dir}): no licence named and no licence file`);
  return texts;
}

function repositoryUrl(pkg) {
  const r = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  if (!r) return pkg.homepage ?? '';
  if (/^[\w.-]+\/[\w.-]+$/.test(r)) return `https://github.com/${r}`;
  return r
    .replace(/^git\+/, '')
    .replace(/^git:\/\//, 'https://')
    .replace(/\.git$/, '');
}

const RULE = '='.repeat(78);

/**
 * The notices document. `intro` says what it covers; `extra` are more sections
 * ({ title, about, text }), e.g. the Node.js runtime of the executable or the
 * licence comments esbuild found in the bundled code.
 */
export function noticesText(packages, { intro, extra = [] }) {
  const entries = [...packages].map(([dir, { inputs, bundles }]) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return { pkg, bundles: [...bundles].sort(), texts: licenceTexts(dir, pkg, inputs) };
  });
  // One entry per name and version (a package may sit in several node_modules folders).
  const seen = new Map();
  for (const e of entries) {
    const key = `${e.pkg.name}@${e.pkg.version}`;
    const prev = seen.get(key);
    if (prev) prev.bundles = [...new Set([...prev.bundles, ...e.bundles])].sort();
    else seen.set(key, e);
  }
  const list = [...seen.values()].sort((a, b) => a.pkg.name.localeCompare(b.pkg.name) || a.pkg.version.localeCompare(b.pkg.version));
  const licence = (pkg) => (typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'see below'));
  const short = (pkg) => licence(pkg).replace(/^\((.*)\)$/, '$1');
  const out = [
    'THIRD-PARTY NOTICES',
    '',
    intro,
    '',
    ...list.map((e) => `  ${e.pkg.name} ${e.pkg.version} (${short(e.pkg)}): ${e.bundles.join(', ')}`),
    ...extra.map((x) => `  ${x.title}`),
    '',
  ];
  for (const e of list) {
    out.push(RULE, `${e.pkg.name} ${e.pkg.version}`, `Licence: ${licence(e.pkg)}`);
    const url = repositoryUrl(e.pkg);
    if (url) out.push(`Source: ${url}`);
    out.push(`In: ${e.bundles.join(', ')}`, '');
    for (const t of e.texts) out.push(`--- ${t.source} ---`, '', t.text, '');
  }
  for (const x of extra) out.push(RULE, x.title, ...(x.about ? [x.about] : []), '', x.text.trim(), '');
  return out.join('\n');
}

/** The licence comments esbuild collected (legalComments: 'external') from each bundle's .LEGAL.txt, as one extra section. */
export function legalCommentsSection(files) {
  const parts = files
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8').trim())
    .filter(Boolean);
  if (parts.length === 0) return [];
  const text = [...new Set(parts.join('\n\n').split(/\n\n(?=\S)/))].join('\n\n');
  return [
    { title: 'Licence comments in the bundled code', about: 'As found by esbuild in the sources above (code those packages include from elsewhere).', text },
  ];
}
