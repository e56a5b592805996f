/** Minimal types for the parts of mux.js (CommonJS, untyped) that tests use. */
declare module "mux.js" {
  export interface MuxPesEvent {
    type: "video" | "audio" | "timed-metadata";
    trackId: number;
    pts?: number;
    dts?: number;
    packetLength: number;
    dataAlignmentIndicator: boolean;
    data: Uint8Array;
  }
  export interface MuxMetadataEvent {
    type: "metadata";
    tracks: { id: number; codec: string; type: "video" | "audio" }[];
  }
  export interface MuxParsedPacket {
    type: "pat" | "pmt" | "pes";
    pid: number;
    payloadUnitStartIndicator: boolean;
    pmtPid?: number;
    programMapTable?: { video: number | null; audio: number | null; "timed-metadata": Record<number, number> };
    streamType?: number;
  }
  export interface MuxStream<In, Out> {
    on(type: "data", listener: (data: Out) => void): void;
    on(type: "done", listener: () => void): void;
    push(data: In): void;
    flush(): void;
    pipe<T extends MuxStream<Out, unknown>>(destination: T): T;
  }
  export interface Mp2t {
    H264_STREAM_TYPE: number;
    ADTS_STREAM_TYPE: number;
    TransportPacketStream: new () => MuxStream<Uint8Array, Uint8Array>;
    TransportParseStream: new () => MuxStream<Uint8Array, MuxParsedPacket>;
    ElementaryStream: new () => MuxStream<MuxParsedPacket, MuxPesEvent | MuxMetadataEvent>;
  }
  const muxjs: { mp2t: Mp2t };
  export default muxjs;
}
