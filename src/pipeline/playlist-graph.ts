/**
 * The filter graph of a playlist run (see playlist.ts): each entry normalised to the
 * channel's format and an exact length in frames and samples, then `concat` and real time.
 */
import type { ChannelProfile } from "../config/profile-schema.js";
import type { PlaylistPlan } from "./playlist-plan.js";

/** Escapes a value for a filter option (level 1) inside a filter graph (level 2). */
export function graphValue(s: string): string {
  const l1 = s.replace(/[\\':]/g, "\\$&");
  return l1.replace(/[\\'[\],;]/g, "\\$&");
}

const LAYOUTS: Record<number, string> = { 1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1" };

export interface GraphFormat {
  width: number;
  height: number;
  pixFmt: string;
  fps: string;
  sampleRate: number;
  channels: number;
  slate: ChannelProfile["slate"];
}

function num(x: number): string {
  return (Math.round(x * 1e6) / 1e6).toString();
}

/** The filter graph of a plan: entries normalised to the channel's format, concat, real time. */
export function playlistGraph(plan: PlaylistPlan, f: GraphFormat): string {
  const layout = LAYOUTS[f.channels] ?? `${f.channels}c`;
  const size = `${f.width}x${f.height}`;
  const fit = `scale=${f.width}:${f.height}:force_original_aspect_ratio=decrease,pad=${f.width}:${f.height}:-1:-1,setsar=1`;
  const vTail = (frames: number): string =>
    `fps=${f.fps}:start_time=0,format=${f.pixFmt},tpad=stop=-1:stop_mode=clone,trim=end_frame=${frames},setpts=N/FRAME_RATE/TB`;
  const aTail = (samples: number): string =>
    `aresample=${f.sampleRate}:async=1:first_pts=0,aformat=sample_rates=${f.sampleRate}:channel_layouts=${layout},` +
    `apad,atrim=end_sample=${samples},asetpts=N/SR/TB`;
  const silence = (i: number, samples: number): string =>
    `anullsrc=r=${f.sampleRate}:cl=${layout},atrim=end_sample=${samples},asetpts=N/SR/TB[a${i}]`;
  const lines: string[] = [];
  plan.entries.forEach((e, i) => {
    if (e.kind === "item" && e.media !== undefined && e.info) {
      const start = num(e.info.startS + (e.inpointS ?? 0));
      const sp = e.inpointS ? `:sp=${num(e.inpointS)}` : "";
      const streams = e.info.audio ? "dv+da" : "dv";
      lines.push(`movie=${graphValue(e.media)}:s=${streams}${sp}${e.info.audio ? `[m${i}v][m${i}a]` : `[m${i}v]`}`);
      lines.push(`[m${i}v]trim=start=${start},setpts=PTS-${start}/TB,${fit},${vTail(e.frames)}[v${i}]`);
      if (e.info.audio) lines.push(`[m${i}a]atrim=start=${start},asetpts=PTS-${start}/TB,${aTail(e.samples)}[a${i}]`);
      else lines.push(silence(i, e.samples));
      return;
    }
    if (e.loopMedia && e.loopInfo) {
      const withAudio = e.loopInfo.audio;
      lines.push(`movie=${graphValue(e.loopMedia)}:s=${withAudio ? "dv+da" : "dv"}:loop=0${withAudio ? `[m${i}v][m${i}a]` : `[m${i}v]`}`);
      lines.push(`[m${i}v]setpts=N/FRAME_RATE/TB,${fit},${vTail(e.frames)}[v${i}]`);
      if (withAudio) lines.push(`[m${i}a]asetpts=N/SR/TB,${aTail(e.samples)}[a${i}]`);
      else lines.push(silence(i, e.samples));
      return;
    }
    const s = f.slate;
    if (s.kind === "generated") {
      lines.push(
        `color=c=${s.color}:s=${size}:r=${f.fps},format=${f.pixFmt},setsar=1,trim=end_frame=${e.frames},setpts=N/FRAME_RATE/TB[v${i}]`,
      );
    } else {
      lines.push(`movie=${graphValue(s.path)}:loop=0,setpts=N/FRAME_RATE/TB,${fit},${vTail(e.frames)}[v${i}]`);
    }
    lines.push(silence(i, e.samples));
  });
  const pads = plan.entries.map((_, i) => `[v${i}][a${i}]`).join("");
  lines.push(`${pads}concat=n=${plan.entries.length}:v=1:a=1[pv][pa]`);
  lines.push(`[pv]realtime[vout]`);
  lines.push(`[pa]arealtime[aout]`);
  return `${lines.join(";\n")}\n`;
}
