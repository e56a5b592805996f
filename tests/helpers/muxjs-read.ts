/** Reads a TS with mux.js (an independent parser): PMT PID, video/audio PIDs, PES timestamps. */
import muxjs, { type MuxPesEvent } from "mux.js";

export interface MuxResult {
  videoPid: number | null;
  audioPid: number | null;
  pmtPid: number | undefined;
  pes: MuxPesEvent[];
}

export function readMuxjs(ts: Uint8Array): MuxResult {
  const packets = new muxjs.mp2t.TransportPacketStream();
  const parse = new muxjs.mp2t.TransportParseStream();
  const es = new muxjs.mp2t.ElementaryStream();
  const res: MuxResult = { videoPid: null, audioPid: null, pmtPid: undefined, pes: [] };
  packets.pipe(parse);
  parse.pipe(es);
  parse.on("data", (d) => {
    if (d.type === "pat") res.pmtPid = d.pmtPid;
    if (d.type === "pmt" && d.programMapTable) {
      res.videoPid = d.programMapTable.video;
      res.audioPid = d.programMapTable.audio;
    }
  });
  es.on("data", (d) => {
    if (d.type === "video" || d.type === "audio") res.pes.push(d);
  });
  packets.push(ts);
  packets.flush();
  return res;
}
