import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { OnairError } from "../core/errors.js";

/**
 * Writes a file atomically: a temp file (given mode, O_EXCL) in the same directory,
 * fsync, rename over the target, fsync the directory. Readers see the old or the new
 * file, never a partial one. The temp file is removed on failure.
 */
export async function writeFileAtomic(path: string, data: Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let renamed = false;
  try {
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.chmod(mode); // umask may have cleared bits we asked for; never adds any we did not
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    renamed = true;
    try {
      const d = await open(dir, "r");
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      // some filesystems refuse fsync on a directory; the rename is still atomic
    }
  } catch (e) {
    if (!renamed) await unlink(tmp).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new OnairError("ONAIR_WRITE_FAILED", `cannot write ${path} (${code})`, { path, errno: code }, { cause: e });
  }
}
