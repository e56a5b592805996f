/** The actions of `onair inspect` (declared in inspect.ts, loaded when it runs). */
import { createSocket } from "node:dgram";
import { open } from "node:fs/promises";
import { OnairError } from "../core/errors.js";
import { realTimers, type Timers } from "../core/timers.js";
import {
  TsInspector,
  type ErrorRecord,
  type InspectRecord,
  type PidRecord,
  type ProgramRecord,
  type Scte35Record,
  type SummaryRecord,
} from "../inject/inspect.js";
import { out } from "./io.js";
import { PTS_CLOCK_HZ } from "../ts/timestamps.js";

const READ_CHUNK = 1 << 20;

/** Reads a live UDP source for `seconds` through the inspector. */
export async function inspectUdp(url: string, json: boolean, seconds: number, timers: Timers = realTimers): Promise<void> {
  const m = /^udp:\/\/@?(\[[^\]]+\]|[^:/?]*):(\d+)/i.exec(url);
  if (!m || !(seconds > 0)) {
    throw new OnairError("ONAIR_INSPECT_UNSUPPORTED", `expected udp://HOST:PORT and a positive --duration (got ${url}, ${seconds})`, {
      input: url,
    });
  }
  const host = m[1] || "0.0.0.0";
  const port = Number(m[2]);
  const multicast = /^(22[4-9]|23\d)\./.test(host);
  const report = new HumanReport();
  const inspector = new TsInspector({ onRecord: json ? (r) => out(JSON.stringify(r)) : (r) => report.add(r) });
  const sock = createSocket({ type: "udp4", reuseAddr: true });
  sock.on("message", (d) => inspector.push(d));
  await new Promise<void>((resolve, reject) => {
    sock.once("error", (e) =>
      reject(new OnairError("ONAIR_INSPECT_OPEN", `cannot listen on ${url}: ${errorText(e)}`, { input: url }, { cause: e })),
    );
    sock.bind(port, multicast ? "0.0.0.0" : host, () => {
      if (multicast) sock.addMembership(host);
      resolve();
    });
  });
  // on stderr, so --json output stays clean: a script (or a test) can start sending once it reads this
  process.stderr.write(`onair inspect: listening on ${url} for ${seconds} s\n`);
  await new Promise<void>((r) => timers.setTimeout(r, seconds * 1000));
  await new Promise<void>((r) => sock.close(() => r()));
  inspector.end();
  if (!json) out(report.render(url));
}

export async function inspectFile(path: string, json: boolean): Promise<void> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    const scheme = path.split("://")[0];
    const message = `live input other than udp:// (${scheme}://) is not supported; record it to a file first`;
    throw new OnairError("ONAIR_INSPECT_UNSUPPORTED", message, { input: path });
  }
  let handle;
  try {
    handle = await open(path, "r");
    if ((await handle.stat()).isDirectory()) {
      throw new OnairError("ONAIR_INSPECT_OPEN", `cannot open ${path}: it is a directory`, { path });
    }
  } catch (e) {
    await handle?.close();
    if (e instanceof OnairError) throw e;
    throw new OnairError("ONAIR_INSPECT_OPEN", `cannot open ${path}: ${errorText(e)}`, { path }, { cause: e });
  }

  const report = new HumanReport();
  let lines: string[] = [];
  const inspector = new TsInspector({
    onRecord: json ? (r) => lines.push(JSON.stringify(r)) : (r) => report.add(r),
  });
  const flushLines = (): void => {
    if (lines.length === 0) return;
    process.stdout.write(`${lines.join("\n")}\n`);
    lines = [];
  };
  const stream = handle.createReadStream({ highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream) {
      inspector.push(chunk as Buffer);
      flushLines();
    }
  } catch (e) {
    throw new OnairError("ONAIR_INSPECT_READ", `cannot read ${path}: ${errorText(e)}`, { path }, { cause: e });
  } finally {
    stream.destroy();
    await handle.close().catch(() => undefined);
  }
  inspector.end();
  flushLines();
  if (!json) out(report.render(path));
}

function errorText(e: unknown): string {
  if (e && typeof e === "object" && "code" in e && typeof e.code === "string") {
    const msg = e instanceof Error ? e.message : "";
    return msg.includes(e.code) ? msg : `${e.code}: ${msg}`;
  }
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------- human report

const pidHex = (p: number): string => `0x${p.toString(16).toUpperCase().padStart(4, "0")}`;

function fmtSeconds(s: number | null | undefined): string {
  return s === null || s === undefined ? "-" : `${s.toFixed(6)} s`;
}

const COMMAND_NAMES: Record<number, string> = {
  0x00: "splice_null",
  0x04: "splice_schedule",
  0x05: "splice_insert",
  0x06: "time_signal",
  0x07: "bandwidth_reservation",
  0xff: "private_command",
};

/** One heading line for a cue: packet, PID, arrival, command, event id, pts_time. */
export function cueHeading(r: Scte35Record): string {
  const s = r.section;
  const parts = [`packet ${r.packet}`, `PID ${pidHex(r.pid)}`, `arrival ${fmtSeconds(r.arrivalSeconds)}`];
  if (s.encryptedPacket) {
    parts.push("encrypted");
    return parts.join("  ");
  }
  parts.push(COMMAND_NAMES[s.spliceCommandType] ?? `command 0x${s.spliceCommandType.toString(16)}`);
  let eventId: number | undefined;
  let ptsTime: number | undefined;
  if (s.spliceCommandType === 0x05) {
    eventId = s.spliceCommand.spliceEventId;
    ptsTime = s.spliceCommand.spliceTime?.ptsTime;
    if (s.spliceCommand.spliceEventCancelIndicator) parts.push("cancel");
    else parts.push(s.spliceCommand.outOfNetworkIndicator ? "out" : "in");
  } else if (s.spliceCommandType === 0x06) {
    ptsTime = s.spliceCommand.spliceTime.ptsTime;
    for (const d of s.descriptors) {
      if ("segmentationEventId" in d && typeof d.segmentationEventId === "number") {
        eventId = d.segmentationEventId;
        break;
      }
    }
  }
  if (eventId !== undefined) parts.push(`event ${eventId}`);
  if (ptsTime !== undefined) {
    parts.push(`pts_time ${(ptsTime / PTS_CLOCK_HZ).toFixed(6)} s`);
    if (s.ptsAdjustment !== 0) parts.push(`(+ pts_adjustment ${(s.ptsAdjustment / PTS_CLOCK_HZ).toFixed(6)} s)`);
  }
  return parts.join("  ");
}

class HumanReport {
  private readonly programs: ProgramRecord[] = [];
  private readonly pids: PidRecord[] = [];
  private readonly cues: Scte35Record[] = [];
  private readonly errors: ErrorRecord[] = [];
  private summary: SummaryRecord | undefined;

  add(r: InspectRecord): void {
    switch (r.type) {
      case "program":
        this.programs.push(r);
        break;
      case "pid":
        this.pids.push(r);
        break;
      case "scte35":
        this.cues.push(r);
        break;
      case "error":
        this.errors.push(r);
        break;
      case "summary":
        this.summary = r;
        break;
    }
  }

  render(path: string): string {
    const o: string[] = [`File ${path}`, ""];
    o.push(`Programs (${this.programs.length})`);
    for (const p of this.programs) {
      o.push(`  program ${p.programNumber}  PMT ${pidHex(p.pmtPid)}  PCR ${pidHex(p.pcrPid)}`);
      for (const s of p.streams) {
        o.push(`    ${pidHex(s.pid)}  0x${s.streamType.toString(16).padStart(2, "0")}  ${s.streamTypeName}`);
      }
    }
    o.push("", `PIDs (${this.pids.length})`);
    o.push(`  ${"PID".padEnd(8)}${"type".padEnd(18)}${"packets".padStart(12)}${"CC errors".padStart(11)}`);
    for (const p of this.pids) {
      o.push(
        `  ${pidHex(p.pid).padEnd(8)}${p.streamTypeName.padEnd(18)}${String(p.packets).padStart(12)}${String(p.ccErrors).padStart(11)}`,
      );
    }
    o.push("", `SCTE-35 sections (${this.cues.length})`);
    for (const c of this.cues) {
      o.push(`  ${cueHeading(c)}`);
      o.push(
        ...JSON.stringify(c.section, null, 2)
          .split("\n")
          .map((l) => `    ${l}`),
      );
    }
    o.push(
      "",
      `Errors (${this.errors.length}${this.summary?.errorsNotShown ? ` shown, ${this.summary.errorsNotShown} more counted` : ""})`,
    );
    for (const e of this.errors) {
      const where = [e.packet !== undefined ? `packet ${e.packet}` : "", e.pid !== undefined ? `PID ${pidHex(e.pid)}` : ""]
        .filter(Boolean)
        .join(" ");
      o.push(`  ${e.code}${where ? ` (${where})` : ""}: ${e.message}`);
    }
    const s = this.summary;
    if (s) {
      o.push("", "Summary");
      o.push(`  packets ${s.packets}, duration ${fmtSeconds(s.durationSeconds)}`);
      o.push(`  resyncs ${s.resyncs}, bytes skipped ${s.bytesSkipped}, truncated bytes ${s.truncatedBytes}`);
      o.push(
        `  transport errors ${s.transportErrors}, CC errors ${s.ccErrors}, CRC errors ${s.crcErrors}, section errors ${s.sectionErrors}`,
      );
      o.push(`  SCTE-35 sections ${s.scte35Sections}, SCTE-35 decode errors ${s.scte35Errors}`);
    }
    return o.join("\n");
  }
}
