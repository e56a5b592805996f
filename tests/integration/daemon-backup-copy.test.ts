/**
 * Backups off the box, end to end through `onair run` (issue #23 acceptance): the daemon's
 * catch-up backup (brought forward with `backup.catchUpDelayMs: 0`) is copied to a
 * `backup.copyTo` directory; the copy to a `mount: true` directory without its marker is
 * refused and alerted to a local stand-in for Telegram. Then `onair restore` from the copy
 * fills a new data directory and a daemon runs from it: it starts, /readyz is ok, its
 * channel is listed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listBackups } from "../../src/store/backup.js";
import { openStore } from "../../src/store/db.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { until, untilAsync } from "../helpers/pipeline.js";

const CHANNEL = "copied";
const TOKEN = "tests:backup-copy-api-token-0123456789";
const BOT_TOKEN = "123456:backup-copy-bot-token";

describe.runIf(haveFfmpeg())("onair run: backup.copyTo, and a daemon restored from the copy", () => {
  let dir = "";
  let cap: Capture;
  let tg: FakeTelegram;
  let d: Daemon | undefined;
  const nas = (): string => join(dir, "nas", "onair");
  const unmounted = (): string => join(dir, "mnt", "usb");

  /** A daemon's root: profiles/ (the clear test profile), key, api.token, onair.yaml. */
  const root = async (at: string, config: string): Promise<void> => {
    mkdirSync(join(at, "profiles"), { recursive: true, mode: 0o700 });
    writeFileSync(join(at, "api.token"), `${TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(at, "onair.yaml"), config);
    expect((await runCli(["profile", "keygen", "--out", join(at, "key")])).code).toBe(0);
    const p = testProfileInput({ id: CHANNEL, udpPort: cap.port, epg: { enabled: false } }) as {
      encoding: { video: Record<string, unknown> };
    };
    p.encoding.video = { ...p.encoding.video, width: 320, height: 180 };
    writeFileSync(
      join(at, "profiles", `${CHANNEL}.json`),
      JSON.stringify({ ...p, alerts: { telegram: { chatIds: [81], botToken: BOT_TOKEN, events: [] } } }),
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-backup-copy-daemon-"));
    tg = new FakeTelegram();
    await tg.start();
    cap = await udpCapture();
    mkdirSync(unmounted(), { recursive: true });
    await root(
      dir,
      `telegram:\n  apiRoot: ${tg.url}\nbackup:\n  catchUpDelayMs: 0\n  copyTo:\n` +
        `    - { dir: ${nas()}, keep: 2 }\n    - { dir: ${unmounted()}, mount: true }\n`,
    );
    // something to find again after the restore
    const store = openStore(join(dir, "data", "onair.db"));
    store.insertAsRun({ channel: CHANNEL, kind: "item", scheduledMs: 1, actualMs: 2, eventId: 9, details: { title: "before the backup" } });
    store.close();
  }, 60_000);

  afterAll(async () => {
    await stopDaemon(d);
    await tg?.stop();
    await cap?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("copies the daily backup to copyTo and alerts the copy refused by an unmounted mount: true target", async () => {
    d = await startDaemon(dir);
    await until(() => d!.log().includes('"event":"backup_done"'), 30_000, "the catch-up backup");
    await until(() => tg.count(/backup copy failed/) > 0, 15_000, "the backup_copy_failed alert");
    const [local] = listBackups(join(dir, "data", "backups"));
    const name = local.slice(local.lastIndexOf("/") + 1);
    expect(listBackups(nas())).toEqual([join(nas(), name)]);
    const alert = tg.sent.find((s) => s.text.includes("backup copy failed"))!;
    expect(alert.chatId).toBe("81");
    expect(alert.text).toContain(`<code>${unmounted()}</code>`);
    expect(alert.text).toContain("ONAIR_BACKUP_TARGET_NOT_MOUNTED");
    expect(alert.text).toContain(name);
    expect(d.log()).toMatch(/"event":"backup_copy_failed".*"code":"ONAIR_BACKUP_TARGET_NOT_MOUNTED"/);
    await stopDaemon(d);
    d = undefined;
  }, 60_000);

  it("restores from the copy into a new data directory, and a daemon runs from it", async () => {
    const second = join(dir, "second");
    await root(second, `telegram:\n  apiRoot: ${tg.url}\n`);
    const r = await runCli(["restore", nas(), "--store", join(second, "data", "onair.db")], {
      env: { ONAIR_CONFIG: join(second, "onair.yaml") },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const s = openStore(join(second, "data", "onair.db"));
    expect(s.queryAsRun({ channel: CHANNEL }).map((e) => e.details)).toContainEqual({ title: "before the backup" });
    s.close();

    d = await startDaemon(second);
    const get = (path: string): Promise<Response> => fetch(`${d!.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await untilAsync(async () => (await get("/readyz")).status === 200, 30_000, "/readyz ok");
    const channels = (await (await get("/api/v1/channels")).json()) as { channels: { id: string }[] };
    expect(channels.channels.map((c) => c.id)).toEqual([CHANNEL]);
  }, 60_000);
});
