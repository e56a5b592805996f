import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/cli.js";

const check = join(repoRoot, "systemd", "check-units.sh");

function hasSystemdAnalyze(): boolean {
  return spawnSync("sh", ["-c", "command -v systemd-analyze"]).status === 0;
}

describe("systemd units", () => {
  it("systemd-analyze is installed (Debian package systemd)", () => {
    expect(hasSystemdAnalyze(), "systemd-analyze is missing: apt-get install systemd").toBe(true);
  });

  it("the units (daemon, per channel, failure alert) pass systemd-analyze verify and score exposure <= 2.0 offline", () => {
    const out = execFileSync("bash", [check], { encoding: "utf8" });
    const scores = [...out.matchAll(/^(onair(?:@|-failure@)?\.service): verify ok, exposure (\d+\.\d+) OK/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    expect(scores.map((s) => s[0])).toEqual(["onair.service", "onair@.service", "onair-failure@.service"]);
    for (const [, s] of scores) expect(s).toBeLessThanOrEqual(2.0);
  });

  it("the check fails on a unit that verify rejects and on a weak score", () => {
    const d = mkdtempSync(join(tmpdir(), "onair-units-"));
    try {
      const sys = join(d, "etc", "systemd", "system");
      execFileSync("mkdir", ["-p", sys]);
      for (const f of ["onair@.service", "onair-failure@.service"]) copyFileSync(join(repoRoot, "systemd", f), join(sys, f));
      const unit = readFileSync(join(repoRoot, "systemd", "onair.service"), "utf8");
      writeFileSync(join(sys, "onair.service"), unit.replace("Restart=always", "Restart=sometimes"));
      const bad = spawnSync("bash", [check, "--root", d], { encoding: "utf8" });
      expect(bad.status).toBe(1);
      expect(bad.stdout).toContain("onair.service: verify FAILED");
      const weak = spawnSync("bash", [check, "--max", "0.5"], { encoding: "utf8" });
      expect(weak.status).toBe(1);
      expect(weak.stdout).toMatch(/exposure \d\.\d is above 0\.5/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("runs as onair with the hardening and credential the issue asks for", () => {
    for (const f of ["onair.service", "onair@.service"]) {
      const u = readFileSync(join(repoRoot, "systemd", f), "utf8");
      for (const line of [
        "User=onair",
        "Restart=always",
        "Type=notify",
        "WatchdogSec=30s",
        "LoadCredentialEncrypted=onair.key:/etc/credstore.encrypted/onair.key",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "CapabilityBoundingSet=\n",
        "SystemCallFilter=@system-service",
        "LockPersonality=yes",
        "RestrictNamespaces=yes",
        "ReadWritePaths=/var/lib/onair /var/log/onair\n",
        // room for FFmpeg pipes and sockets beside the HTTP connection cap (issue #18)
        "LimitNOFILE=65536\n",
        // a crash loop that hits the start limit is reported by the one-shot (issue #23)
        "OnFailure=onair-failure@%n.service\n",
      ]) {
        expect(u, `${f}: ${line}`).toContain(line);
      }
    }
  });

  it("the failure unit runs the one-shot alert as onair, with the Telegram credential and the store", () => {
    const u = readFileSync(join(repoRoot, "systemd", "onair-failure@.service"), "utf8");
    for (const line of [
      "Type=oneshot\n",
      "ExecStart=/opt/onair/current/bin/onair.js alert unit-failed --unit %i\n",
      "User=onair\n",
      "LoadCredentialEncrypted=telegram.token\n",
      "StateDirectory=onair\n",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "CapabilityBoundingSet=\n",
      "SystemCallFilter=@system-service",
    ]) {
      expect(u, line).toContain(line);
    }
    // no OnFailure= of its own: a failing alert must not start another one
    expect(u).not.toMatch(/^OnFailure=/m);
  });
});
