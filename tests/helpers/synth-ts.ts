/**
 * A synthetic CBR transport stream for driving the injector over long stream times without
 * FFmpeg: PAT, PMT (one MPEG-2 video PID, 0x02, which carries the PCR), one video PES packet
 * per frame with its PTS (and the PCR plus random_access_indicator on key frames, the way the
 * injector finds MPEG-2 key frames), and null packets as the room the injector writes into.
 * Only timing matters here: the video payload is stuffing.
 */
import { PatSection, PmtSection, TS_PACKET_SIZE, packetizeSections, writeNullPacket, writePcrField } from "../../src/ts/index.js";
import { ptsAdd, writePts } from "../../src/ts/timestamps.js";

export const SYNTH_PMT_PID = 0x100;
export const SYNTH_VIDEO_PID = 0x101;

export interface SynthOptions {
  fps?: number;
  /** frames per GOP (a key frame every gop frames) */
  gop?: number;
  /** null packets after each frame's video packet */
  nullsPerFrame?: number;
  /** 90 kHz PCR of the first frame */
  startPcr?: number;
}

/**
 * Yields the stream one second at a time (a Buffer of whole packets per second), for ever;
 * the caller stops pulling. The PTS runs 0.7 s ahead of the PCR, as FFmpeg's mux delay.
 */
export function* synthStream(opts: SynthOptions = {}): Generator<Buffer> {
  const fps = opts.fps ?? 25;
  const gop = opts.gop ?? 50;
  const nulls = opts.nullsPerFrame ?? 8;
  const frameTicks = 90_000 / fps;
  const pat = packetizeSections(
    new PatSection({ transportStreamId: 1, programs: [{ programNumber: 1, pid: SYNTH_PMT_PID }] }).encode(),
    0,
  )[0];
  const pmt = packetizeSections(
    new PmtSection({
      programNumber: 1,
      pcrPid: SYNTH_VIDEO_PID,
      streams: [{ streamType: 0x02, elementaryPid: SYNTH_VIDEO_PID, descriptors: [] }],
    }).encode(),
    SYNTH_PMT_PID,
  )[0];
  let frame = 0;
  let cc = 0;
  const start = opts.startPcr ?? 63_000;
  for (;;) {
    const out = Buffer.alloc((fps * (nulls + 1) + 2) * TS_PACKET_SIZE);
    let off = 0;
    out.set(pat, off);
    out.set(pmt, (off += TS_PACKET_SIZE));
    off += TS_PACKET_SIZE;
    for (let i = 0; i < fps; i++, frame++) {
      const pcr = ptsAdd(start, frame * frameTicks);
      videoPacket(out, off, cc++ & 0x0f, pcr, ptsAdd(pcr, 63_000), frame % gop === 0);
      off += TS_PACKET_SIZE;
      for (let k = 0; k < nulls; k++, off += TS_PACKET_SIZE) writeNullPacket(out, off);
    }
    yield out;
  }
}

/** One video packet: AF with the PCR (and RAI on a key frame), then a PES header with a PTS. */
function videoPacket(buf: Buffer, off: number, cc: number, pcr: number, pts: number, key: boolean): void {
  buf[off] = 0x47;
  buf[off + 1] = 0x40 | (SYNTH_VIDEO_PID >> 8);
  buf[off + 2] = SYNTH_VIDEO_PID & 0xff;
  buf[off + 3] = 0x30 | cc;
  buf[off + 4] = 7; // adaptation_field_length: flags + PCR
  buf[off + 5] = 0x10 | (key ? 0x40 : 0); // PCR_flag, random_access_indicator
  writePcrField(buf, off + 6, pcr * 300);
  const pes = off + 12;
  buf.set([0x00, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x80, 0x80, 0x05], pes);
  writePts(buf, pes + 9, pts);
  buf.fill(0xff, pes + 14, off + TS_PACKET_SIZE);
}
