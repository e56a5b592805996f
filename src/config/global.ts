/**
 * The global config (`/etc/onair/onair.yaml` by default): where profiles, data and logs
 * live, the HTTP listen address, the default Telegram bot token reference and the key
 * source. Every path can be overridden by a flag and by an ONAIR_* variable:
 *
 *   config file    --config        ONAIR_CONFIG         else /etc/onair/onair.yaml if it exists
 *   profilesDir    --profiles-dir  ONAIR_PROFILES_DIR   else config, else /etc/onair/profiles (root)
 *                                                       or $XDG_CONFIG_HOME/onair/profiles
 *   dataDir        --data-dir      ONAIR_DATA_DIR       (core/paths resolveDataDir)
 *   http.listen    --http          ONAIR_HTTP           else config, else 127.0.0.1:9780
 *                                  (not loopback: only with http.allowPublic: true, checkHttpExposure)
 *   http.maxConnections                                 config, else 256 (observe/http-limits.ts)
 *   alerts.diskLowFree                                  config, else 5% (observe/disk-watch.ts; re-read on SIGHUP)
 *   log.dir        --log-dir       ONAIR_LOG_DIR        else config, else $LOGS_DIRECTORY, else none (stdout)
 *   key            --key-file / --passphrase-file, ONAIR_KEY_FILE / ONAIR_PASSPHRASE_FILE (see keys.ts)
 *   store.writeRetryMs                                  config, else 2000 (retry period of failed store writes)
 *   backup.catchUpDelayMs                               config, else 300000 (catch-up backup after start)
 *   retention.asRunDays / retention.itemDays            config, else 400 / 30 (store/retention.ts)
 *   backup.copyTo[]: { dir, keep, mount }               config, else none (copies of each backup, store/backup-copy.ts)
 *   console.enabled / publicUrl / sessionHours / sessionIdleMinutes / maxStreams / thumbnails
 *                                                       config, else on, none, 12, 60, 32, on (src/console/)
 *   telegram.botToken / telegram.chatIds                config: the box's bot and chats (box-wide alerts,
 *                                                       `onair alert unit-failed`, which needs no daemon)
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import * as z from "zod";
import { OnairError } from "../core/errors.js";
import { resolveDataDir } from "../core/paths.js";
import { formatIssue, profileIssues } from "./profile.js";
import { readYaml } from "./yaml.js";

export const DEFAULT_CONFIG_PATH = "/etc/onair/onair.yaml";
export const DEFAULT_HTTP = "127.0.0.1:9780";
/** Default of `alerts.diskLowFree`: 5 % of the filesystem (observe/disk-watch.ts). */
export const DEFAULT_DISK_LOW_FREE = "5%";
/** Default of `http.maxConnections` (the same as observe/http-limits DEFAULT_MAX_CONNECTIONS). */
export const DEFAULT_HTTP_MAX_CONNECTIONS = 256;
/** `store.writeRetryMs`: retry period of failed store writes (store/write-queue.ts), 50 ms–10 min. */
export const DEFAULT_STORE_WRITE_RETRY_MS = 2000;
const MIN_STORE_WRITE_RETRY_MS = 50;
const MAX_STORE_WRITE_RETRY_MS = 600_000;
/** `backup.catchUpDelayMs`: the catch-up backup after start (store/backup.ts BackupScheduler), 0–1 day. */
export const DEFAULT_BACKUP_CATCH_UP_DELAY_MS = 300_000;
const MAX_BACKUP_CATCH_UP_DELAY_MS = 86_400_000;
/** `retention.*` (store/retention.ts): as-run and cue rows 400 days, items 30 days after they ended. */
export const DEFAULT_RETENTION = { asRunDays: 400, itemDays: 30 } as const;
/** `backup.copyTo[].keep` default (the same as store/backup-layout DEFAULT_BACKUP_KEEP). */
export const DEFAULT_BACKUP_COPY_KEEP = 14;
/** `console.*`: the operator console (src/console/, docs/api.md). */
export const DEFAULT_CONSOLE = { enabled: true, sessionHours: 12, sessionIdleMinutes: 60, maxStreams: 32, thumbnails: true } as const;
/** `backup.copyTo`: at most this many copy targets (each copy is a full backup's size). */
const MAX_BACKUP_COPY_TARGETS = 8;

/** `file:/path`, `env:NAME` or `credential:NAME` ($CREDENTIALS_DIRECTORY/NAME). Never the secret itself. */
export const secretRefSchema = z
  .string()
  .regex(
    /^(file:\/.+|env:[A-Za-z_][A-Za-z0-9_]*|credential:[A-Za-z0-9_.-]+)$/,
    "expected a reference: file:/path, env:NAME or credential:NAME (never the secret itself)",
  );

const sizeSchema = z
  .union([z.number().int().positive(), z.string().regex(/^\d+[kKmMgG]?$/, "expected a size like 10m or 1g")])
  .describe("Rotate when a log file reaches this size (pino-roll size: 10m, 1g)");

const absPath = z.string().refine((p) => isAbsolute(p), "expected an absolute path");

export const globalConfigSchema = z.strictObject({
  profilesDir: absPath.optional(),
  dataDir: absPath.optional(),
  store: z
    .strictObject({
      writeRetryMs: z
        .number()
        .int()
        .min(MIN_STORE_WRITE_RETRY_MS)
        .max(MAX_STORE_WRITE_RETRY_MS)
        .default(DEFAULT_STORE_WRITE_RETRY_MS)
        .describe("Period (ms) at which held-back as-run/cue rows are retried while store writes fail"),
    })
    .default({ writeRetryMs: DEFAULT_STORE_WRITE_RETRY_MS }),
  backup: z
    .strictObject({
      catchUpDelayMs: z
        .number()
        .int()
        .min(0)
        .max(MAX_BACKUP_CATCH_UP_DELAY_MS)
        .default(DEFAULT_BACKUP_CATCH_UP_DELAY_MS)
        .describe("Delay (ms) after start of the catch-up backup, taken when the newest is over a day old"),
      copyTo: z
        .array(
          z.strictObject({
            dir: absPath.describe("Directory each backup is copied into (off the box: a NAS or USB mount)"),
            keep: z
              .number()
              .int()
              .min(0)
              .max(100_000)
              .default(DEFAULT_BACKUP_COPY_KEEP)
              .describe("Copies kept there, newest first (0 = all)"),
            mount: z
              .boolean()
              .default(false)
              .describe("The directory must be a mount: it holds .onair-backup-target, or is on another device than its parent"),
          }),
        )
        .max(MAX_BACKUP_COPY_TARGETS)
        .default([])
        .describe("Directories every backup is copied to after it is taken; a failed copy is alerted (backup_copy_failed)"),
    })
    .default({ catchUpDelayMs: DEFAULT_BACKUP_CATCH_UP_DELAY_MS, copyTo: [] }),
  retention: z
    .strictObject({
      asRunDays: z
        .number()
        .int()
        .min(1)
        .max(36_500)
        .default(DEFAULT_RETENTION.asRunDays)
        .describe("Days the as-run log, cues and closed cue requests are kept"),
      itemDays: z
        .number()
        .int()
        .min(2)
        .max(36_500)
        .default(DEFAULT_RETENTION.itemDays)
        .describe("Days schedule items and breaks are kept after they ended (at least 2: out of the EIT, event_id free)"),
    })
    .default(DEFAULT_RETENTION),
  http: z
    .strictObject({
      listen: z
        .string()
        .regex(/^(\[[0-9a-fA-F:]+\]|[^\s:]+):\d{1,5}$/, "expected HOST:PORT")
        .default(DEFAULT_HTTP),
      allowPublic: z.boolean().optional().describe("Allow an HTTP address other than loopback (--http 0.0.0.0:PORT); default false"),
      maxConnections: z
        .number()
        .int()
        .min(1)
        .max(65536)
        .default(DEFAULT_HTTP_MAX_CONNECTIONS)
        .describe("HTTP connections open at once; more are closed at once (never over half the open-files limit)"),
    })
    .default({ listen: DEFAULT_HTTP, maxConnections: DEFAULT_HTTP_MAX_CONNECTIONS }),
  log: z
    .strictObject({
      dir: absPath.optional(),
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
      rotation: z
        .strictObject({
          size: sizeSchema.default("10m"),
          files: z
            .number()
            .int()
            .min(1)
            .max(1000)
            .default(5)
            .describe("Log files kept, the active one included (one more until the next rotation at times)"),
          frequency: z.enum(["daily", "hourly"]).optional(),
        })
        .default({ size: "10m", files: 5 }),
    })
    .default({ level: "info", rotation: { size: "10m", files: 5 } }),
  telegram: z
    .strictObject({
      botToken: secretRefSchema.optional().describe("Default bot token for profiles that set none"),
      apiRoot: z.url().optional().describe("Telegram API root (tests point it at a local server)"),
      chatIds: z
        .array(
          z.union([z.string().regex(/^(-?\d+|@[A-Za-z0-9_]{5,})$/, "expected a chat id (123, -100123) or @channelname"), z.number().int()]),
        )
        .optional()
        .describe("Chats of box-wide alerts (disk, store, daemon restarts, unit_failed), via botToken; default: every channel's chats"),
    })
    .default({}),
  alerts: z
    .strictObject({
      diskLowFree: z
        .union([
          z.number().int().nonnegative(),
          z
            .string()
            .regex(/^(\d+(\.\d+)?%|\d+(\.\d+)?[kKmMgGtT]?)$/, "expected a percentage (5%) or a size (2g)")
            .refine((v) => !v.endsWith("%") || parseFloat(v) <= 100, "a percentage is at most 100%"),
        ])
        .default(DEFAULT_DISK_LOW_FREE)
        .describe("disk_low alert when the free space of the data directory or a recording directory falls under this (re-read on SIGHUP)"),
    })
    .default({ diskLowFree: DEFAULT_DISK_LOW_FREE }),
  keySource: z.union([z.strictObject({ keyFile: absPath }), z.strictObject({ passphraseFile: absPath })]).optional(),
  console: z
    .strictObject({
      enabled: z.boolean().default(true).describe("Serve the operator console at / (false: the API only)"),
      publicUrl: z
        .url({ protocol: /^https?$/ })
        .optional()
        .describe(
          "The console's URL as browsers see it (a TLS reverse proxy in front): the Origin actions must carry; https makes the cookie Secure",
        ),
      sessionHours: z
        .number()
        .min(0.1)
        .max(168)
        .default(DEFAULT_CONSOLE.sessionHours)
        .describe("A console session ends this long after sign-in"),
      sessionIdleMinutes: z
        .number()
        .min(1)
        .max(1440)
        .default(DEFAULT_CONSOLE.sessionIdleMinutes)
        .describe("A console session ends after this long without a request"),
      maxStreams: z
        .number()
        .int()
        .min(1)
        .max(1024)
        .default(DEFAULT_CONSOLE.maxStreams)
        .describe("Event streams (open console pages) at once"),
      thumbnails: z.boolean().default(true).describe("Confidence thumbnails, made only while a console is connected"),
    })
    .default(DEFAULT_CONSOLE),
});

export type GlobalConfigFile = z.output<typeof globalConfigSchema>;

export interface GlobalConfigFlags {
  config?: string | undefined;
  profilesDir?: string | undefined;
  dataDir?: string | undefined;
  http?: string | undefined;
  logDir?: string | undefined;
}

export interface ResolvedConfig {
  /** the file read, or null for built-in defaults */
  configPath: string | null;
  file: GlobalConfigFile;
  profilesDir: string;
  dataDir: string;
  http: { host: string; port: number; listen: string; maxConnections: number };
  /** undefined: log to stdout only (journald) */
  logDir: string | undefined;
  logLevel: GlobalConfigFile["log"]["level"];
  logRotation: GlobalConfigFile["log"]["rotation"];
  telegram: GlobalConfigFile["telegram"];
  keySource: { keyFile?: string; passphraseFile?: string } | undefined;
}

/** True for an address only this machine reaches: 127.0.0.0/8, ::1 (also IPv4-mapped), `localhost`; any other name may resolve anywhere. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) !== 6) return false;
  const canonical = new URL(`http://[${h}]/`).hostname;
  return canonical === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/**
 * Refuses a non-loopback HTTP address unless the config has `http.allowPublic: true`
 * (ONAIR_HTTP_PUBLIC_REFUSED); true when the address is public and allowed (warn then).
 */
export function checkHttpExposure(cfg: Pick<ResolvedConfig, "http" | "file">): boolean {
  if (isLoopbackHost(cfg.http.host)) return false;
  if (cfg.file.http.allowPublic === true) return true;
  throw new OnairError(
    "ONAIR_HTTP_PUBLIC_REFUSED",
    `HTTP address ${cfg.http.listen} is reachable from other machines; set http.allowPublic: true in the global config to allow it`,
    { listen: cfg.http.listen, host: cfg.http.host },
  );
}

export function parseListen(listen: string, source = "http"): { host: string; port: number; listen: string } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^\s:]+):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new OnairError("ONAIR_CONFIG_INVALID", `${source}: expected HOST:PORT, got an invalid address`, { source });
  return { host: m[1].replace(/^\[|\]$/g, ""), port, listen };
}

/** Parses and validates global config text. */
export function parseGlobalConfig(text: string, source = "config"): GlobalConfigFile {
  const data = readYaml(text, {
    source,
    what: "YAML",
    codes: { syntax: "ONAIR_CONFIG_SYNTAX", aliases: "ONAIR_CONFIG_YAML_ALIASES" },
  });
  const r = globalConfigSchema.safeParse(data ?? {});
  if (!r.success) {
    const issues = profileIssues(r.error);
    throw new OnairError("ONAIR_CONFIG_INVALID", `${source}: ${formatIssue(issues[0])}`, { source, issues });
  }
  return r.data;
}

export interface ResolveConfigOptions {
  flags?: GlobalConfigFlags;
  env?: NodeJS.ProcessEnv;
  isRoot?: boolean;
  /** for tests: the default path probed when neither --config nor ONAIR_CONFIG is set */
  defaultConfigPath?: string;
}

/** Resolves the global config: file (flag, env, default path, or none) plus overrides. */
export async function resolveGlobalConfig(o: ResolveConfigOptions = {}): Promise<ResolvedConfig> {
  const env = o.env ?? process.env;
  const flags = o.flags ?? {};
  const isRoot = o.isRoot ?? (typeof process.getuid === "function" && process.getuid() === 0);
  let configPath: string | null = flags.config ?? (env.ONAIR_CONFIG || null);
  if (!configPath) {
    const def = o.defaultConfigPath ?? DEFAULT_CONFIG_PATH;
    if (existsSync(def)) configPath = def;
  }
  let file: GlobalConfigFile;
  if (configPath) {
    let text: string;
    try {
      text = await readFile(configPath, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "EIO";
      throw new OnairError("ONAIR_CONFIG_READ", `cannot read the config ${configPath} (${code})`, { path: configPath, errno: code });
    }
    file = parseGlobalConfig(text, configPath);
  } else {
    file = globalConfigSchema.parse({});
  }
  const profilesDir =
    flags.profilesDir ||
    env.ONAIR_PROFILES_DIR ||
    file.profilesDir ||
    (isRoot ? "/etc/onair/profiles" : join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config"), "onair", "profiles"));
  const dataDir = resolveDataDir({ flag: flags.dataDir, configDataDir: file.dataDir, env, isRoot });
  const listen = flags.http || env.ONAIR_HTTP || file.http.listen;
  const http = {
    ...parseListen(listen, flags.http ? "--http" : env.ONAIR_HTTP ? "ONAIR_HTTP" : "http.listen"),
    maxConnections: file.http.maxConnections,
  };
  const logDir = flags.logDir || env.ONAIR_LOG_DIR || file.log.dir || env.LOGS_DIRECTORY?.split(":")[0] || undefined;
  return {
    configPath,
    file,
    profilesDir,
    dataDir,
    http,
    logDir,
    logLevel: file.log.level,
    logRotation: file.log.rotation,
    telegram: file.telegram,
    keySource: file.keySource,
  };
}

/**
 * Reads a secret reference (`file:/path`, `env:NAME`, `credential:NAME`). The value is
 * returned to the caller only; errors name the reference, never a value.
 */
export async function readSecretRef(ref: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const parsed = secretRefSchema.safeParse(ref);
  if (!parsed.success) throw new OnairError("ONAIR_SECRET_REF", "invalid secret reference (expected file:, env: or credential:)");
  const [kind, rest] = [ref.slice(0, ref.indexOf(":")), ref.slice(ref.indexOf(":") + 1)];
  if (kind === "env") {
    const v = env[rest];
    if (!v) throw new OnairError("ONAIR_SECRET_REF", `secret reference ${ref}: the variable is not set`, { ref });
    return v.trim();
  }
  const path = kind === "file" ? rest : env.CREDENTIALS_DIRECTORY ? join(env.CREDENTIALS_DIRECTORY, rest) : undefined;
  if (!path) throw new OnairError("ONAIR_SECRET_REF", `secret reference ${ref}: $CREDENTIALS_DIRECTORY is not set`, { ref });
  try {
    const v = (await readFile(path, "utf8")).trim();
    if (!v) throw new OnairError("ONAIR_SECRET_REF", `secret reference ${ref}: empty`, { ref });
    return v;
  } catch (e) {
    if (e instanceof OnairError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new OnairError("ONAIR_SECRET_REF", `secret reference ${ref}: cannot read (${code})`, { ref, errno: code });
  }
}
