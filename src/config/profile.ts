/**
 * Profile text → validated ChannelProfile, with error messages that name the path of the
 * problem and never echo a value (values can be secrets).
 */
import { createHash } from "node:crypto";
import type * as z from "zod";
import { OnairError } from "../core/errors.js";
import { REDACTED, redactString } from "./redact.js";
import { checkHlsOutputs } from "./hls-profile.js";
import { profileSchema, type ChannelProfile } from "./profile-schema.js";
import { readYaml } from "./yaml.js";

export interface ProfileIssue {
  /** `outputs[1].port`; empty for the root */
  path: string;
  message: string;
}

/** `["outputs", 1, "port"]` → `outputs[1].port` */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

function issueMessage(i: z.core.$ZodIssue): string {
  // zod's messages carry no input values; drop its generic prefix for a shorter line
  return i.message.replace(/^Invalid input: /, "").replace(/^Invalid string: /, "");
}

export function profileIssues(error: z.ZodError): ProfileIssue[] {
  return error.issues.map((i) => ({ path: formatIssuePath(i.path), message: issueMessage(i) }));
}

export function formatIssue(i: ProfileIssue): string {
  return i.path ? `${i.path}: ${i.message}` : i.message;
}

/**
 * Validates parsed data; throws ONAIR_PROFILE_INVALID naming the first path (all in fields.issues),
 * or ONAIR_PROFILE_HLS_GOP for an `hls` output whose segments cannot be cut on IDRs.
 */
export function validateProfile(data: unknown, source = "profile"): ChannelProfile {
  const r = profileSchema.safeParse(data);
  if (r.success) {
    checkHlsOutputs(r.data, source);
    return r.data;
  }
  const issues = profileIssues(r.error);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  throw new OnairError("ONAIR_PROFILE_INVALID", `${source}: ${formatIssue(issues[0])}${more}`, { source, issues });
}

/**
 * Parses YAML or JSON text (YAML 1.2 reads JSON): syntax errors (line and column only),
 * alias bombs and an empty profile get their own codes (see yaml.ts).
 */
export function parseProfileData(text: string, source = "profile"): unknown {
  const data = readYaml(text, {
    source,
    what: "YAML/JSON",
    codes: { syntax: "ONAIR_PROFILE_SYNTAX", aliases: "ONAIR_PROFILE_YAML_ALIASES" },
  });
  if (data === null || data === undefined) {
    throw new OnairError("ONAIR_PROFILE_INVALID", `${source}: the profile is empty`, { source, issues: [] });
  }
  return data;
}

/** Clear text (YAML or JSON) → validated profile. */
export function parseProfileText(text: string, source = "profile"): ChannelProfile {
  return validateProfile(parseProfileData(text, source), source);
}

// ── secrets ────────────────────────────────────────────────────────────────────

/** Keeps a URL's scheme, host and port; credentials, path and query become ***. */
export function redactUrlField(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^@/?#]*@)?([^/?#]*)(.*)$/i.exec(url);
  if (!m) return REDACTED;
  const hadUser = /^[a-z][a-z0-9+.-]*:\/\/[^@/?#]*@/i.test(url);
  return `${m[1]}${hadUser ? `${REDACTED}@` : ""}${m[2]}${m[3] ? `/${REDACTED}` : ""}`;
}

/** A deep copy safe to print: secret fields masked (URLs keep scheme://host:port). */
export function redactProfile<T extends ChannelProfile>(p: T): T {
  const c = structuredClone(p);
  const input = c.input as Record<string, unknown>;
  if (typeof input.url === "string" && input.kind !== "udp") input.url = redactUrlField(input.url);
  else if (typeof input.url === "string") input.url = redactString(input.url);
  for (const k of ["passphrase", "streamId"]) if (typeof input[k] === "string") input[k] = REDACTED;
  for (const o of c.outputs as Record<string, unknown>[]) {
    for (const k of ["passphrase", "streamId"]) if (typeof o[k] === "string") o[k] = REDACTED;
    if (o.kind === "file" && typeof o.path === "string") o.path = redactString(o.path);
  }
  if (c.alerts.telegram?.botToken) c.alerts.telegram.botToken = REDACTED;
  return c;
}

function urlSecrets(url: string): string[] {
  const out = [url];
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^@/?#]*)@/i.exec(url);
  if (m) {
    const [user, pass] = m[1].split(/:(.*)/s);
    if (pass) out.push(pass, decodeURIComponentSafe(pass));
    else if (user) out.push(user, decodeURIComponentSafe(user)); // rtmp://STREAMKEY@host
  }
  const q = url.indexOf("?");
  if (q >= 0) {
    for (const part of url.slice(q + 1).split(/[&#]/)) {
      const [k, v] = part.split(/=(.*)/s);
      if (v && /pass|token|key|secret|auth|sig|streamid/i.test(k)) out.push(v, decodeURIComponentSafe(v));
    }
  }
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Every secret value in a profile, for a SecretSet that scrubs logs. */
export function profileSecrets(p: ChannelProfile): string[] {
  const out: string[] = [];
  const input = p.input as Record<string, unknown>;
  if (typeof input.url === "string" && input.kind !== "udp") out.push(...urlSecrets(input.url));
  for (const k of ["passphrase", "streamId"]) if (typeof input[k] === "string") out.push(input[k]);
  for (const o of p.outputs as Record<string, unknown>[]) {
    for (const k of ["passphrase", "streamId"]) if (typeof o[k] === "string") out.push(o[k]);
  }
  if (p.alerts.telegram?.botToken) out.push(p.alerts.telegram.botToken);
  return out.filter((s) => s.length >= 4);
}

// ── identity ───────────────────────────────────────────────────────────────────

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/**
 * SHA-256 of the validated profile in canonical JSON: equal for equal meaning (comments,
 * key order, spelled-out defaults and resealing do not change it). Not secret-safe to
 * publish for low-entropy secrets, so it is logged shortened (12 hex digits).
 */
export function profileHash(p: ChannelProfile): string {
  return createHash("sha256")
    .update(JSON.stringify(canonical(p)))
    .digest("hex");
}
