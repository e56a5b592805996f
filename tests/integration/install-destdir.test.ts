import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/cli.js";

const install = join(repoRoot, "scripts", "install.sh");
const uninstall = join(repoRoot, "scripts", "uninstall.sh");
let d: string;

function sh(script: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync("bash", [script, ...args], { encoding: "utf8", env: { ...process.env, DESTDIR: d, ...env }, timeout: 120_000 });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  d = mkdtempSync(join(tmpdir(), "onair-destdir-"));
});
afterAll(() => rmSync(d, { recursive: true, force: true }));

describe("scripts/install.sh into a DESTDIR", () => {
  it("installs a release with production dependencies, the units, dirs, config and a key", () => {
    const r = sh(install, ["--release", "r1"]);
    expect(r.stderr).not.toContain("ONAIR_");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Next steps");
    expect(readlinkSync(join(d, "opt/onair/current"))).toBe("releases/r1");
    const rel = join(d, "opt/onair/releases/r1");
    for (const p of [
      "bin/onair.js",
      "dist/src/cli/main.js",
      "dist/web/index.html",
      "node_modules/better-sqlite3",
      "node_modules/commander",
      "systemd/check-units.sh",
      "prometheus/onair.rules.yml",
      "prometheus/grafana-dashboard.json",
    ]) {
      expect(existsSync(join(rel, p)), p).toBe(true);
    }
    for (const dev of ["vitest", "typescript", "eslint", "mux.js", "preact", "hls.js", "playwright-core"])
      expect(existsSync(join(rel, "node_modules", dev)), dev).toBe(false);
    const v = spawnSync(process.execPath, [join(rel, "bin/onair.js"), "--version"], { encoding: "utf8" });
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readlinkSync(join(d, "usr/local/bin/onair"))).toBe("/opt/onair/current/bin/onair.js");
    for (const u of ["onair.service", "onair@.service", "onair-failure@.service"])
      expect(existsSync(join(d, "etc/systemd/system", u))).toBe(true);
    for (const p of ["etc/onair/profiles", "var/lib/onair/recordings", "var/lib/onair/backups", "var/log/onair"])
      expect(statSync(join(d, p)).isDirectory(), p).toBe(true);
    expect(statSync(join(d, "etc/onair")).mode & 0o777).toBe(0o750);
    const key = join(d, "etc/onair/onair.key");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(key, "utf8").trim(), "base64")).toHaveLength(32);
    expect(readFileSync(join(d, "etc/onair/onair.yaml"), "utf8")).toContain("profilesDir: /etc/onair/profiles");
  });

  it("the installed units pass systemd-analyze verify and the security score (exposure <= 2.0)", () => {
    const r = spawnSync("bash", [join(repoRoot, "systemd/check-units.sh"), "--root", d], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toMatch(/onair\.service: verify ok, exposure \d\.\d OK/);
    expect(r.stdout).toMatch(/onair@\.service: verify ok, exposure \d\.\d OK/);
    expect(r.stdout).toMatch(/onair-failure@\.service: verify ok, exposure \d\.\d OK/);
    expect(r.status).toBe(0);
  });

  it("is idempotent: a second run keeps the key, the config and edits", () => {
    const key = readFileSync(join(d, "etc/onair/onair.key"));
    writeFileSync(join(d, "etc/onair/onair.yaml"), "dataDir: /var/lib/onair\n");
    const r = sh(install, ["--release", "r1"]);
    expect(r.status).toBe(0);
    expect(readFileSync(join(d, "etc/onair/onair.key"))).toEqual(key);
    expect(readFileSync(join(d, "etc/onair/onair.yaml"), "utf8")).toBe("dataDir: /var/lib/onair\n");
    expect(readlinkSync(join(d, "opt/onair/current"))).toBe("releases/r1");
    expect(existsSync(join(d, "opt/onair/previous"))).toBe(false);
  });

  it("installs releases side by side and --rollback returns to the previous one", () => {
    expect(sh(install, ["--release", "r2"]).status).toBe(0);
    expect(readlinkSync(join(d, "opt/onair/current"))).toBe("releases/r2");
    expect(readlinkSync(join(d, "opt/onair/previous"))).toBe("releases/r1");
    const rb = sh(install, ["--rollback"]);
    expect(rb.status).toBe(0);
    expect(readlinkSync(join(d, "opt/onair/current"))).toBe("releases/r1");
    expect(readlinkSync(join(d, "opt/onair/previous"))).toBe("releases/r2");
    expect(existsSync(join(d, "opt/onair/releases/r2/bin/onair.js"))).toBe(true);
  });

  it("installs under --prefix and rewrites the units' paths", () => {
    const d2 = mkdtempSync(join(tmpdir(), "onair-prefix-"));
    try {
      const r = sh(install, ["--prefix", "/srv/onair", "--release", "p1"], { DESTDIR: d2 });
      expect(r.status).toBe(0);
      expect(lstatSync(join(d2, "srv/onair/current")).isSymbolicLink()).toBe(true);
      expect(readFileSync(join(d2, "etc/systemd/system/onair.service"), "utf8")).toContain("ExecStart=/srv/onair/current/bin/onair.js run");
      expect(readFileSync(join(d2, "etc/systemd/system/onair-failure@.service"), "utf8")).toContain(
        "ExecStart=/srv/onair/current/bin/onair.js alert unit-failed --unit %i",
      );
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });

  it("uninstall.sh removes all but the data; --purge removes the data too", () => {
    mkdirSync(join(d, "var/lib/onair"), { recursive: true });
    writeFileSync(join(d, "var/lib/onair/onair.db"), "data");
    const r = sh(uninstall, []);
    expect(r.status).toBe(0);
    expect(existsSync(join(d, "opt/onair"))).toBe(false);
    expect(existsSync(join(d, "etc/systemd/system/onair.service"))).toBe(false);
    expect(existsSync(join(d, "etc/systemd/system/onair-failure@.service"))).toBe(false);
    expect(existsSync(join(d, "usr/local/bin/onair"))).toBe(false);
    expect(readFileSync(join(d, "var/lib/onair/onair.db"), "utf8")).toBe("data");
    expect(existsSync(join(d, "etc/onair/onair.key"))).toBe(true);
    expect(sh(uninstall, ["--purge"]).status).toBe(0);
    expect(existsSync(join(d, "var/lib/onair"))).toBe(false);
    expect(existsSync(join(d, "etc/onair"))).toBe(false);
  });
});
