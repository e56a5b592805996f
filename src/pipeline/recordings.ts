/**
 * The recordings of a file output on disk, from every run, and their pruning to `keep`.
 *
 * Contract: a path is this output's recording when it is a regular file and each of its
 * components below the template's literal root matches the template's component: %Y is 4
 * digits, %m %d %H %M %S are 2 digits, %% is "%", anything else is itself; the file name may
 * also carry the `-N` (1..9999) that FileOutput adds before the extension when a name is
 * taken. Nothing else is ever listed, so nothing else is ever deleted: not another output's
 * files (unless its template produces the same names), not symlinks, not directories.
 * Oldest first means the oldest modification time; equal times are ordered by name, then
 * by `-N`.
 */
import { extname, join, resolve, sep } from "node:path";

/** The part of node:fs/promises the pruning uses. */
export interface RecordingsFs {
  readdir(path: string): Promise<DirEntry[]>;
  stat(path: string): Promise<{ mtimeMs: number }>;
  unlink(path: string): Promise<void>;
}

export interface DirEntry {
  name: string;
  isFile(): boolean;
  isDirectory(): boolean;
}

const FIELDS: Record<string, string> = { Y: "\\d{4}", m: "\\d{2}", d: "\\d{2}", H: "\\d{2}", M: "\\d{2}", S: "\\d{2}", "%": "%" };
const TOKEN = /%[YmdHMS%]/g;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A template component as a regex source; tokens as expandPathTemplate reads them. */
function componentSource(t: string): string {
  let out = "";
  let last = 0;
  for (const m of t.matchAll(TOKEN)) {
    out += escapeRe(t.slice(last, m.index)) + FIELDS[m[0][1]];
    last = m.index + 2;
  }
  return out + escapeRe(t.slice(last));
}

/**
 * The file-name pattern: `stem(-N)?ext`, where ext is what extname() gives for an expanded
 * name. Expansions hold no ".", so the template's last "." is the expanded name's last ".";
 * extname of the template with each token masked by one plain character says whether it
 * counts as an extension.
 */
function fileNamePattern(t: string): RegExp {
  const hasExt = extname(t.replace(TOKEN, "x")) !== "";
  const dot = hasExt ? t.lastIndexOf(".") : t.length;
  return new RegExp(`^(${componentSource(t.slice(0, dot))})(?:-([1-9]\\d{0,3}))?${componentSource(t.slice(dot))}$`);
}

export interface TemplateMatcher {
  /** The deepest directory with no token in its path: the walk starts there. */
  root: string;
  /** One pattern per component below the root; the last is the file name's. */
  parts: RegExp[];
}

export function templateMatcher(template: string): TemplateMatcher {
  const comps = resolve(template).split(sep);
  const name = comps.pop()!;
  let i = 0;
  while (i < comps.length && !/%[YmdHMS%]/.test(comps[i])) i++;
  const root = comps.slice(0, i).join(sep) || sep;
  const parts = comps.slice(i).map((c) => new RegExp(`^${componentSource(c)}$`));
  parts.push(fileNamePattern(name));
  return { root, parts };
}

/** The directories the file outputs among `outputs` record into: each template's root, once. */
export function recordingRoots(outputs: readonly { kind: string; path?: string }[]): string[] {
  const roots = outputs.flatMap((o) => (o.kind === "file" && o.path ? [templateMatcher(o.path).root] : []));
  return [...new Set(roots)];
}

async function entries(fs: RecordingsFs, dir: string): Promise<DirEntry[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return []; // no such directory: no recordings in it
    throw e;
  }
}

/** Every recording of `template` on disk (absolute paths), in no particular order. */
export async function listRecordings(fs: RecordingsFs, template: string): Promise<string[]> {
  const { root, parts } = templateMatcher(template);
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const last = depth === parts.length - 1;
    for (const e of await entries(fs, dir)) {
      if (!parts[depth].test(e.name)) continue;
      if (last && e.isFile()) out.push(join(dir, e.name));
      else if (!last && e.isDirectory()) await walk(join(dir, e.name), depth + 1);
    }
  };
  await walk(root, 0);
  return out;
}

interface Dated {
  path: string;
  mtimeMs: number;
  stem: string;
  n: number;
}

function oldestFirst(a: Dated, b: Dated): number {
  return a.mtimeMs - b.mtimeMs || (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0) || a.n - b.n;
}

/**
 * Deletes the oldest recordings of `template` until `keep` remain, counting `current` (the
 * file being written, never deleted). Returns the paths deleted. A file that vanishes
 * meanwhile is skipped; a failing unlink leaves that file (it is tried at the next rotation).
 */
export async function pruneRecordings(fs: RecordingsFs, template: string, keep: number, current: string): Promise<string[]> {
  const paths = await listRecordings(fs, template);
  if (paths.length <= keep) return [];
  const name = templateMatcher(template).parts.at(-1)!;
  const currentAbs = resolve(current);
  const dated: Dated[] = [];
  for (const path of paths) {
    if (path === currentAbs) continue;
    const st = await fs.stat(path).catch(() => undefined);
    const m = name.exec(path.slice(path.lastIndexOf(sep) + 1))!;
    if (st) dated.push({ path, mtimeMs: st.mtimeMs, stem: path.slice(0, path.length - m[0].length) + m[1], n: Number(m[2] ?? 0) });
  }
  dated.sort(oldestFirst);
  const deleted: string[] = [];
  for (const f of dated.slice(0, Math.max(0, paths.length - keep))) {
    const ok = await fs.unlink(f.path).then(
      () => true,
      () => false,
    );
    if (ok) deleted.push(f.path);
  }
  return deleted;
}
