import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkProfileCanAir, mediaFileProblem } from "../../src/config/profile-check.js";
import { testProfile } from "../helpers/channel.js";

const dir = mkdtempSync(join(tmpdir(), "onair-profile-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("media file places", () => {
  it("takes a readable regular file given by an absolute path", async () => {
    const f = join(dir, "slate.png");
    writeFileSync(f, "x");
    expect(await mediaFileProblem(f)).toBeUndefined();
  });

  it("refuses a relative path, device and kernel files, a directory and a missing file", async () => {
    expect(await mediaFileProblem("slates/a.png")).toBe("must be an absolute path");
    expect(await mediaFileProblem("/dev/zero")).toBe("must not be under /dev, /proc, /sys");
    expect(await mediaFileProblem("/proc/self/environ")).toBe("must not be under /dev, /proc, /sys");
    expect(await mediaFileProblem("/tmp/../sys/kernel")).toBe("must not be under /dev, /proc, /sys");
    expect(await mediaFileProblem(dir)).toBe("is not a regular file");
    expect(await mediaFileProblem(join(dir, "missing.png"))).toBe("cannot be read (ENOENT)");
    expect(await mediaFileProblem(join(dir, "slate.png", "below"))).toBe("cannot be read (ENOTDIR)");
  });

  it("names slate.path and not its value when a profile's slate cannot air", async () => {
    const p = { ...testProfile({ udpPort: 5000 }), slate: { kind: "image" as const, path: join(dir, "gone.png") } };
    const err = await checkProfileCanAir(p, "news.onair").catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "ONAIR_PROFILE_INVALID",
      fields: { issues: [{ path: "slate.path", message: "the slate image cannot be read (ENOENT)" }] },
    });
    expect((err as Error).message).toBe("news.onair: slate.path: the slate image cannot be read (ENOENT)");
    await expect(checkProfileCanAir(testProfile({ udpPort: 5000 }))).resolves.toBeUndefined();
  });
});
