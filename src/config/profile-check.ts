/**
 * What a valid profile still needs from this machine to air, beyond its schema: checked by
 * `profile validate` and by the daemon when it loads profiles (at start and on SIGHUP), with
 * this one function, so a profile that passes validate is one the daemon takes.
 *
 * The slate file (`slate.kind` image or clip) is where media files may be:
 * - an absolute path: a relative one would resolve against the daemon's working directory
 *   (`/` under systemd), not the directory validate ran in; an absolute path also never
 *   reaches FFmpeg as a protocol (`http:`, `pipe:`, `concat:`…);
 * - not under /dev, /proc or /sys: device and kernel files are no pictures (`/dev/zero`
 *   never ends, `/proc/self/…` is the daemon's own state);
 * - a regular file this process can read.
 * A problem is ONAIR_PROFILE_INVALID naming `slate.path` (never its value), as a schema
 * error would.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { isAbsolute, normalize, sep } from "node:path";
import { OnairError } from "../core/errors.js";
import { formatIssue, type ProfileIssue } from "./profile.js";
import type { ChannelProfile } from "./profile-schema.js";

/** Trees no media file may come from. */
export const MEDIA_FORBIDDEN_DIRS: readonly string[] = ["/dev", "/proc", "/sys"];

/** Why `path` cannot be used as a media file here, or undefined when it can. */
export async function mediaFileProblem(path: string): Promise<string | undefined> {
  if (!isAbsolute(path)) return "must be an absolute path";
  const p = normalize(path);
  if (MEDIA_FORBIDDEN_DIRS.some((d) => p === d || p.startsWith(d + sep))) return `must not be under ${MEDIA_FORBIDDEN_DIRS.join(", ")}`;
  try {
    if (!(await stat(p)).isFile()) return "is not a regular file";
    await access(p, constants.R_OK);
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`;
  }
  return undefined;
}

/** Throws ONAIR_PROFILE_INVALID (issues in fields, like a schema error) when the profile cannot air here. */
export async function checkProfileCanAir(p: ChannelProfile, source = "profile"): Promise<void> {
  const issues: ProfileIssue[] = [];
  if (p.slate.kind !== "generated") {
    const problem = await mediaFileProblem(p.slate.path);
    if (problem) issues.push({ path: "slate.path", message: `the slate ${p.slate.kind} ${problem}` });
  }
  if (issues.length === 0) return;
  throw new OnairError("ONAIR_PROFILE_INVALID", `${source}: ${formatIssue(issues[0])}`, { source, issues });
}
